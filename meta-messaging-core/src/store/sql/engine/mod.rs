//! The SQL engine: every statement of the SQLite and PostgreSQL stores, written once and generic
//! over the database (`DB`, a [`SqlDialect`]). Both databases accept the same statements here;
//! the constants where they differ and the multi-row writes come from their [`SqlDialect`].
//!
//! | file | holds |
//! |---|---|
//! | `store.rs` | [`SqlStore`], the public store type, and its `MessageStore` implementation |
//! | `write.rs` | group commit: a batch of plans in one transaction, messages first |
//! | `changes.rs` | the change log: appending a transaction's changes, reading, pruning |
//! | `ops.rs` | changes to stored messages: reactions, edits, deletes, receipts |
//! | `pending.rs` | changes whose message has not arrived yet: kept, then applied when it does |
//! | `raw_events.rs` | events kept whole: raw (orphans, unsupported) and unrouted, with why |
//! | `messages.rs` | reading messages: by id, pages, counts |
//! | `conversations.rs` | reading conversations, and marking read, archiving, profiles |
//! | `accounts.rs` | accounts, their sealed tokens, tenant routing |
//! | `handler_queue.rs` | the event handlers' queue: queueing once, leases, cursors |
//! | `backfill.rs` | backfill progress: save and read one account's row |
//! | `deliveries.rs` | the delivery log: tallies added per account, kind and unknown reason |
//! | `idempotency.rs` | idempotency records: claim, finish, release, prune |
//! | `media.rs` | media records of kept attachments: record, read, delete, prune |
//! | `dynamic.rs` | the statement builder of the list queries |
//!
//! sqlx cannot promise that every database binds and decodes every Rust type, so each `impl`
//! states the same list of what the engine binds and reads (`i64: Encode<'q, DB>`, ...), which
//! both databases meet.

mod accounts;
mod backfill;
mod changes;
mod conversations;
mod deliveries;
mod dynamic;
mod handler_queue;
mod idempotency;
mod media;
mod messages;
mod ops;
mod pending;
mod raw_events;
mod store;
mod write;

pub use self::store::SqlStore;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sqlx::{Connection as _, Encode, Executor, IntoArguments, Type};

use crate::store::account::TokenSealer;
use crate::store::changes::ChangeNotices;
use crate::store::error::StoreError;
use crate::store::failpoint::FailPoint;
use crate::store::plan::ConversationKey;
use crate::store::sql::dialect::SqlDialect;
use crate::store::stored_token::TokenWriteBack;

/// A pool and everything the statements need.
#[derive(Debug)]
pub(crate) struct Engine<DB: sqlx::Database> {
    pub pool: sqlx::Pool<DB>,
    /// Where group-commit transactions run, apart from the reads: on SQLite one connection,
    /// so its page cache stays warm between batches; on PostgreSQL one connection per writer,
    /// taken without a test query.
    pub writer: sqlx::Pool<DB>,
    pub fail: FailPoint,
    pub sealer: Arc<dyn TokenSealer>,
    /// Where tokens opened under an older scheme are re-sealed (given to each read account).
    pub token_write_back: Arc<dyn TokenWriteBack>,
    /// Conversation ids by key. Conversations are never deleted and their ids never change,
    /// so an id once committed stays right; only committed ids are added. It spares the two
    /// conversation statements of most deliveries.
    pub conversation_ids: Arc<Mutex<HashMap<ConversationKey, i64>>>,
    /// Told after each group commit (SQLite: wakes the background checkpointer). Full means
    /// a wake-up is already pending, which covers this commit too.
    pub committed: Option<tokio::sync::mpsc::Sender<()>>,
    /// Told after every commit that appended changes.
    pub notices: ChangeNotices,
    /// The newest migration this version ships: [`ready`](crate::store::MessageStore::ready)
    /// checks the database has it.
    pub latest_migration: i64,
}

/// Most conversation ids kept in [`Engine::conversation_ids`] before it starts over.
const CONVERSATION_CACHE: usize = 200_000;

type Tx<DB> = sqlx::Transaction<'static, DB>;

impl<DB: SqlDialect> Engine<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
{
    /// An engine that reads (and makes the small writes) on `pool` and group-commits on
    /// `writer`, with a disarmed fail point.
    pub(crate) fn new(
        pool: sqlx::Pool<DB>,
        writer: sqlx::Pool<DB>,
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
            notices: ChangeNotices::default(),
            latest_migration: 0,
        }
    }
}

impl<DB: SqlDialect> Engine<DB> {
    /// Sends a wake-up on `committed` after every group commit.
    #[cfg_attr(
        not(feature = "sqlite"),
        allow(
            dead_code,
            reason = "only the SQLite backend checkpoints in the background"
        )
    )]
    pub(crate) fn notify_commits(mut self, committed: tokio::sync::mpsc::Sender<()>) -> Self {
        self.committed = Some(committed);
        self
    }

    /// Sets the newest migration of the schema, which the database must have to be ready.
    pub(crate) fn latest_migration(mut self, migrator: &sqlx::migrate::Migrator) -> Self {
        self.latest_migration = migrator.iter().map(|m| m.version).max().unwrap_or(0);
        self
    }

    fn cached_conversations(&self) -> std::sync::MutexGuard<'_, HashMap<ConversationKey, i64>> {
        // The map holds only committed ids; a panic elsewhere cannot leave it wrong.
        self.conversation_ids
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn begin(&self) -> Result<Tx<DB>, StoreError> {
        begin_on(&self.pool).await
    }

    async fn begin_batch(&self) -> Result<Tx<DB>, StoreError> {
        begin_on(&self.writer).await
    }
}

/// Begins a write transaction on a connection of `pool`.
///
/// sqlx keeps counting a transaction that SQLite rolled back by itself (after `SQLITE_FULL`,
/// say, a failed `COMMIT` leaves no transaction, so the `ROLLBACK` sqlx sends fails too), and
/// refuses every later `BEGIN` on that connection: a store would answer 500 for good once its
/// disk had filled. Such a connection is closed instead, and the pool opens a fresh one.
async fn begin_on<DB: SqlDialect>(pool: &sqlx::Pool<DB>) -> Result<Tx<DB>, StoreError> {
    // The refusing connection goes back to the pool's idle queue, behind the others: closing
    // one connection per try reaches it within the pool's size.
    let mut tries = pool.options().get_max_connections();
    loop {
        match pool.begin_with(DB::BEGIN_WRITE).await {
            Err(sqlx::Error::InvalidSavePointStatement) if tries > 0 => {
                tries -= 1;
                tracing::warn!(
                    "store: closing a database connection left in a transaction the database had already ended"
                );
                let connection = pool
                    .acquire()
                    .await
                    .map_err(StoreError::db("beginning a transaction"))?;
                // Closing is best effort: the connection is out of the pool either way.
                let _ = connection.detach().close().await;
            }
            begun => return begun.map_err(StoreError::db("beginning a transaction")),
        }
    }
}

/// A count as the database's signed integer; counts past `i64::MAX` cannot happen in practice,
/// so they saturate rather than fail a write.
fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

async fn commit<DB: sqlx::Database>(tx: Tx<DB>) -> Result<(), StoreError> {
    tx.commit()
        .await
        .map_err(StoreError::db("committing a transaction"))
}
