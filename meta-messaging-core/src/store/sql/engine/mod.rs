//! The SQL engine, compiled once per database: the backend module that includes this file
//! (`#[path]`) defines `Db` (the sqlx database) and `DIALECT`. Both databases accept the same
//! statements here, so they run the same code; the multi-row writes go through
//! [`BulkWrites`](crate::store::sql::bulk::BulkWrites), which each database implements.

mod accounts;
mod ops;
mod read;
mod store;
mod write;

pub use self::store::Store;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::{DIALECT, Db};
use crate::store::account::TokenSealer;
use crate::store::error::StoreError;
use crate::store::failpoint::FailPoint;
use crate::store::sql::bulk::ConvKey;
use crate::store::stored_token::TokenWriteBack;

/// A pool and everything the statements need.
#[derive(Debug, Clone)]
pub(crate) struct Engine {
    pub pool: sqlx::Pool<Db>,
    /// Where group-commit transactions run, apart from the reads: on SQLite one connection,
    /// so its page cache stays warm between batches; on PostgreSQL one connection per writer,
    /// taken without a test query.
    pub writer: sqlx::Pool<Db>,
    pub fail: FailPoint,
    pub sealer: Arc<dyn TokenSealer>,
    /// Where tokens opened under an older scheme are re-sealed (given to each read account).
    pub token_write_back: Arc<dyn TokenWriteBack>,
    /// Conversation ids by (tenant, platform, account, user). Conversations are never deleted
    /// and their ids never change, so an id once committed stays right; only committed ids are
    /// added. It spares the two conversation statements of most deliveries.
    pub conversation_ids: Arc<Mutex<HashMap<ConvKey, i64>>>,
    /// Told after each group commit (SQLite: wakes the background checkpointer). Full means
    /// a wake-up is already pending, which covers this commit too.
    pub committed: Option<tokio::sync::mpsc::Sender<()>>,
}

/// Most conversation ids kept in [`Engine::conversation_ids`] before it starts over.
const CONVERSATION_CACHE: usize = 200_000;

type Tx = sqlx::Transaction<'static, Db>;

impl Engine {
    /// An engine that reads (and makes the small writes) on `pool` and group-commits on
    /// `writer`, with a disarmed fail point.
    pub(crate) fn new(
        pool: sqlx::Pool<Db>,
        writer: sqlx::Pool<Db>,
        sealer: Arc<dyn TokenSealer>,
    ) -> Self {
        let token_write_back = Arc::new(accounts::RowWriteBack::new(pool.clone()));
        Self {
            writer,
            pool,
            fail: FailPoint::default(),
            sealer,
            token_write_back,
            conversation_ids: Arc::default(),
            committed: None,
        }
    }

    /// Sends a wake-up on `committed` after every group commit.
    #[allow(
        dead_code,
        reason = "only the SQLite backend checkpoints in the background"
    )]
    pub(crate) fn notify_commits(mut self, committed: tokio::sync::mpsc::Sender<()>) -> Self {
        self.committed = Some(committed);
        self
    }

    fn cached_conversations(&self) -> std::sync::MutexGuard<'_, HashMap<ConvKey, i64>> {
        // The map holds only committed ids; a panic elsewhere cannot leave it wrong.
        self.conversation_ids
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn begin(&self) -> Result<Tx, StoreError> {
        self.pool
            .begin_with(DIALECT.begin_write)
            .await
            .map_err(StoreError::db("beginning a transaction"))
    }

    async fn begin_batch(&self) -> Result<Tx, StoreError> {
        self.writer
            .begin_with(DIALECT.begin_write)
            .await
            .map_err(StoreError::db("beginning a transaction"))
    }
}

async fn commit(tx: Tx) -> Result<(), StoreError> {
    tx.commit()
        .await
        .map_err(StoreError::db("committing a transaction"))
}
