//! [`SqliteStore`]: the embedded default, one file on disk.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use tokio::sync::mpsc;

use super::account::{PlaintextTokens, TokenSealer};
use super::batch::BatchConfig;
use super::error::StoreError;
use super::keyring::{create_private, restrict_to_owner};
use super::sql::engine::{Engine, SqlStore};

/// WAL pages a commit may find before it checkpoints in its own write path (the background
/// checkpointer normally keeps the WAL far shorter).
const WAL_AUTOCHECKPOINT_PAGES: u32 = 16_384;

/// A WAL that grew past this is cut back to it once checkpointed.
const WAL_SIZE_LIMIT_BYTES: u64 = 64 * 1024 * 1024;

/// The writer connection's page cache, in KiB (negative: SQLite's unit for a size in KiB).
const WRITER_CACHE_KIB: i64 = -65_536;

/// Creates the database file readable and writable by its owner only (0600 on Unix), and takes
/// every permission of group and others away from an existing one and from its WAL and
/// shared-memory files: they hold messages and account tokens. (SQLite gives the WAL and
/// shared-memory files it creates the database file's permissions.)
fn restrict_files(path: &Path) -> Result<(), StoreError> {
    if path.as_os_str().is_empty() || path == Path::new(":memory:") {
        return Ok(());
    }
    let file_error = |operation, path: &Path| {
        let path = path.to_owned();
        move |source| StoreError::File {
            operation,
            path,
            source,
        }
    };
    match create_private(path) {
        Ok(_) => {}
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(err) => return Err(file_error("create the database file", path)(err)),
    }
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        let file = PathBuf::from(file);
        match restrict_to_owner(&file) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(file_error("make private to its owner", &file)(err)),
        }
    }
    Ok(())
}

/// Copies committed WAL pages into the database file after each group commit, on a pool
/// connection, so the writer does not pay for checkpoints between two commits. PASSIVE never
/// waits for readers or the writer; once it has caught up, the next commit starts the WAL
/// over from its beginning. Ends when the store (the sender) is dropped.
async fn checkpoint(pool: sqlx::SqlitePool, mut commits: mpsc::Receiver<()>) {
    while commits.recv().await.is_some() {
        // A failed checkpoint loses nothing (the pages stay in the WAL); the next one retries.
        let _ = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await;
    }
}

/// A [`MessageStore`](crate::store::MessageStore) in one SQLite file (feature `sqlite`).
///
/// The file is created readable by its owner only (mode 0600 on Unix; an existing file and its WAL
/// and shared-memory files are tightened to that when opened). It is opened in WAL mode with
/// `synchronous = FULL` (a write is durable when the call returns), a busy timeout and foreign keys
/// on; the schema is migrated on open. Concurrent `apply` and `record_outbound` calls are
/// group-committed by one writer task: many webhooks share one transaction and one disk flush.
/// Other processes may open the same file; they wait for the write lock up to the busy timeout.
///
/// Open it inside the Tokio runtime that will use it (the writer task runs there).
///
/// ```no_run
/// # async fn demo() -> Result<(), meta_messaging_core::store::StoreError> {
/// use meta_messaging_core::store::SqliteStore;
/// let store = SqliteStore::open("inbox.db").await?;
/// # Ok(()) }
/// ```
pub type SqliteStore = SqlStore<sqlx::Sqlite>;

/// How to open a [`SqliteStore`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SqliteOptions {
    /// The database file (created when missing).
    pub path: PathBuf,
    /// How long a connection waits for another writer's lock before failing (default 10 s).
    pub busy_timeout: Duration,
    /// Connections in the pool, for reads and the small writes (default 4).
    pub max_connections: u32,
    /// Most `apply` / `record_outbound` calls committed in one transaction (default 256).
    pub max_batch: usize,
    /// Seals account tokens before they are written (default [`PlaintextTokens`]; a
    /// [`TokenKeyring`](crate::store::TokenKeyring) encrypts them).
    pub token_sealer: Arc<dyn TokenSealer>,
}

impl SqliteOptions {
    /// Defaults for a database file at `path`.
    pub fn new(path: impl AsRef<Path>) -> Self {
        Self {
            path: path.as_ref().to_path_buf(),
            busy_timeout: Duration::from_secs(10),
            max_connections: 4,
            max_batch: 256,
            token_sealer: Arc::new(PlaintextTokens),
        }
    }

    /// Sets the busy timeout.
    #[must_use]
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// Sets the pool size.
    #[must_use]
    pub fn max_connections(mut self, n: u32) -> Self {
        self.max_connections = n.max(1);
        self
    }

    /// Sets the largest group-commit batch.
    #[must_use]
    pub fn max_batch(mut self, n: usize) -> Self {
        self.max_batch = n.max(1);
        self
    }

    /// Sets the token sealer.
    #[must_use]
    pub fn token_sealer(mut self, sealer: impl TokenSealer + 'static) -> Self {
        self.token_sealer = Arc::new(sealer);
        self
    }
}

impl SqliteStore {
    /// Opens (or creates) the database file at `path` with default [`SqliteOptions`] and brings
    /// its schema up to date.
    ///
    /// # Errors
    /// [`StoreError::Database`] when the file cannot be opened; [`StoreError::Migration`] when
    /// the schema cannot be migrated (e.g. the file was written by a newer version).
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with(SqliteOptions::new(path)).await
    }

    /// Opens a database with explicit options.
    ///
    /// # Errors
    /// As [`open`](Self::open).
    pub async fn open_with(options: SqliteOptions) -> Result<Self, StoreError> {
        restrict_files(&options.path)?;
        let connect = SqliteConnectOptions::new()
            .filename(&options.path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(options.busy_timeout)
            .foreign_keys(true)
            // Multi-row statements keep a statement journal; on disk it costs a write per page.
            .pragma("temp_store", "memory")
            // The background checkpointer keeps the WAL short; a commit checkpoints by itself
            // only if it falls this far (pages) behind.
            .pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES.to_string())
            .pragma("journal_size_limit", WAL_SIZE_LIMIT_BYTES.to_string())
            // Group commit builds multi-row statements of every batch size up to the largest;
            // keeping them all prepared saves re-parsing them per batch.
            .statement_cache_capacity(1024);
        let pool = SqlitePoolOptions::new()
            .max_connections(options.max_connections.max(2))
            .connect_with(connect.clone())
            .await
            .map_err(StoreError::db("opening the SQLite database"))?;
        let migrator = sqlx::migrate!("migrations/sqlite");
        migrator.run(&pool).await.map_err(StoreError::Migration)?;
        // One connection for every group commit: its page cache (made large enough for the
        // indexes' hot pages) stays valid from batch to batch, as no other connection writes
        // in between.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(connect.pragma("cache_size", WRITER_CACHE_KIB.to_string()))
            .await
            .map_err(StoreError::db("opening the SQLite database"))?;
        // Files of a database last opened by an older version may still be readable by others.
        restrict_files(&options.path)?;
        let (committed, commits) = mpsc::channel(1);
        tokio::spawn(checkpoint(pool.clone(), commits));
        let engine = Engine::new(pool, writer, options.token_sealer)
            .notify_commits(committed)
            .latest_migration(&migrator);
        let batch = BatchConfig {
            max_batch: options.max_batch,
            writers: 1,
        };
        Ok(Self::start(engine, batch))
    }
}
