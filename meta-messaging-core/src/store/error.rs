//! [`StoreError`]: everything a message store can fail with, and which failures are the
//! database's rather than a write's.

#[cfg(any(feature = "sqlite", feature = "postgres"))]
use std::sync::Arc;

/// An error of a [`MessageStore`](super::MessageStore) backend.
///
/// Writes that fail leave nothing behind: the whole delivery (or the whole call) was rolled back.
/// Messages never contain access tokens: tokens are bound as query parameters, which database
/// errors do not repeat.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database refused or failed an operation.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    #[error("database error while {operation}")]
    Database {
        /// What the store was doing, e.g. `"applying events"`.
        operation: &'static str,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// The schema could not be brought up to date.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    #[error("running the store's migrations failed")]
    Migration(#[source] sqlx::migrate::MigrateError),
    /// A cursor was not produced by this store for this kind of query and order.
    #[error("invalid pagination cursor: {reason}")]
    InvalidCursor {
        /// Why it was refused.
        reason: &'static str,
    },
    /// A query or write named something invalid (an empty tenant id, a page size of 0, ...).
    #[error("invalid store request: {reason}")]
    InvalidInput {
        /// What is wrong with it.
        reason: String,
    },
    /// The row asked for does not exist for this tenant.
    #[error("{what} {id} not found")]
    NotFound {
        /// `"conversation"`, `"account"`, ...
        what: &'static str,
        /// The id that was asked for.
        id: String,
    },
    /// A stored JSON value could not be read back (the database was edited by hand?).
    #[error("stored {what} is not valid JSON")]
    Corrupt {
        /// What was read, and where: `"messages.reactions"`, `"raw_events.raw"`, ...
        what: &'static str,
        /// The decoding error.
        #[source]
        source: serde_json::Error,
    },
    /// The store broke one of its own rules (a bug, or a database edited by hand).
    #[error("store invariant broken: {what}")]
    Invariant {
        /// The rule, e.g. `"a message's conversation was neither found nor created"`.
        what: &'static str,
    },
    /// A stored token could not be sealed or opened by the configured
    /// [`TokenSealer`](super::TokenSealer). With a [`TokenKeyring`](super::TokenKeyring) the
    /// source is a [`TokenSealError`](super::TokenSealError) (a key that is not configured, a
    /// value that does not authenticate) or an [`UnknownTokenScheme`](super::UnknownTokenScheme).
    #[error("sealing or opening an account token failed")]
    Token(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A database file could not be created or made private to its owner.
    #[error("cannot {operation} {}", path.display())]
    File {
        /// What the store was doing, e.g. `"create the database file"`.
        operation: &'static str,
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The schema is behind this version of the crate: another instance (or an older
    /// version) opened the database, and the migrations this one needs are not applied.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    #[error(
        "the database schema is at migration {applied}, this version needs {expected}: restart \
         this instance so it migrates the database on open"
    )]
    MigrationsPending {
        /// The newest migration applied (0: none).
        applied: i64,
        /// The newest migration this version ships.
        expected: i64,
    },
    /// The store's background writer has stopped (the runtime is shutting down).
    #[error("the store's writer task has stopped")]
    WriterStopped,
    /// The database failed while it committed a batch of concurrent writes, for a reason that
    /// is not any one write's (the connection was lost, the server is shutting down or out of
    /// space): every write of the batch that was not yet committed gets this error, sharing
    /// the database's as `source`. Nothing of these writes was stored.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    #[error("the database is unavailable")]
    Unavailable(#[source] Arc<StoreError>),
    /// A failure injected through a [`FailPoint`](super::FailPoint) (feature `test-util`).
    #[cfg(any(test, feature = "test-util"))]
    #[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
    #[error("injected write failure (test fail point)")]
    InjectedFailure,
}

impl StoreError {
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub(crate) fn db(operation: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
        move |source| {
            crate::telemetry::record::store_error(operation);
            StoreError::Database { operation, source }
        }
    }

    pub(crate) fn invalid(reason: impl Into<String>) -> StoreError {
        StoreError::InvalidInput {
            reason: reason.into(),
        }
    }

    /// Whether the database itself failed (unreachable, connection lost, shutting down, out of
    /// space, locked by another process past the busy timeout), not the write: the same write,
    /// or any other, would fail the same way now.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub(crate) fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Database { source, .. } => database_unavailable(source),
            StoreError::WriterStopped | StoreError::Unavailable(_) => true,
            _ => false,
        }
    }
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn database_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            #[cfg(feature = "postgres")]
            if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
                return postgres_unavailable(pg.code());
            }
            #[cfg(feature = "sqlite")]
            if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                // SQLite's code is its extended result code, in decimal.
                return db
                    .code()
                    .and_then(|code| code.parse::<i32>().ok())
                    .is_some_and(sqlite_unavailable);
            }
            false
        }
        _ => false,
    }
}

/// SQLSTATE classes and codes that say the server cannot take writes at all: connection
/// exceptions (`08`), insufficient resources (`53`: disk full, out of memory, too many
/// connections), and the server shutting down or starting (`57P01`-`57P03`).
#[cfg(feature = "postgres")]
fn postgres_unavailable(code: &str) -> bool {
    code.starts_with("08") || code.starts_with("53") || matches!(code, "57P01" | "57P02" | "57P03")
}

/// SQLite result codes (the primary code of an extended one) that say the file cannot take
/// writes at all: busy past the busy timeout, read-only, an I/O error, full, cannot be opened.
#[cfg(feature = "sqlite")]
fn sqlite_unavailable(extended: i32) -> bool {
    const BUSY: i32 = 5;
    const READONLY: i32 = 8;
    const IOERR: i32 = 10;
    const FULL: i32 = 13;
    const CANTOPEN: i32 = 14;
    matches!(extended & 0xff, BUSY | READONLY | IOERR | FULL | CANTOPEN)
}

#[cfg(all(test, any(feature = "sqlite", feature = "postgres")))]
mod tests {
    use super::*;

    fn database(source: sqlx::Error) -> StoreError {
        StoreError::Database {
            operation: "applying events",
            source,
        }
    }

    #[test]
    fn lost_connections_are_the_database_s_failure() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(database(sqlx::Error::Io(refused)).is_unavailable());
        assert!(database(sqlx::Error::PoolTimedOut).is_unavailable());
        assert!(database(sqlx::Error::PoolClosed).is_unavailable());
        assert!(StoreError::WriterStopped.is_unavailable());
        let shared = Arc::new(database(sqlx::Error::PoolClosed));
        assert!(StoreError::Unavailable(shared).is_unavailable());
    }

    #[test]
    fn a_write_s_own_failures_are_not() {
        assert!(!database(sqlx::Error::RowNotFound).is_unavailable());
        assert!(!StoreError::InjectedFailure.is_unavailable());
        assert!(!StoreError::invalid("an empty tenant id").is_unavailable());
        assert!(
            !StoreError::Invariant {
                what: "a message's conversation was neither found nor created"
            }
            .is_unavailable()
        );
    }

    #[cfg(feature = "postgres")]
    #[test]
    fn postgres_codes() {
        for down in ["08006", "08001", "53100", "53300", "57P01", "57P03"] {
            assert!(postgres_unavailable(down), "{down}");
        }
        // Unique and foreign-key violations, a deadlock, a statement timeout: retried halves
        // can succeed.
        for own in ["23505", "23503", "40P01", "57014", "22021"] {
            assert!(!postgres_unavailable(own), "{own}");
        }
    }

    #[cfg(feature = "sqlite")]
    #[test]
    fn sqlite_codes() {
        // SQLITE_BUSY, SQLITE_IOERR_WRITE (778), SQLITE_FULL, SQLITE_READONLY_DBMOVED (1032).
        for down in [5, 778, 13, 1032] {
            assert!(sqlite_unavailable(down), "{down}");
        }
        // SQLITE_CONSTRAINT_UNIQUE (2067), SQLITE_ERROR, SQLITE_TOOBIG.
        for own in [2067, 1, 18] {
            assert!(!sqlite_unavailable(own), "{own}");
        }
    }
}
