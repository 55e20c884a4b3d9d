//! [`StoreError`]: everything a message store can fail with.

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
    /// The store's background writer has stopped (the runtime is shutting down).
    #[error("the store's writer task has stopped")]
    WriterStopped,
    /// A failure injected through a [`FailPoint`](super::FailPoint) (feature `test-util`).
    #[cfg(any(test, feature = "test-util"))]
    #[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
    #[error("injected write failure (test fail point)")]
    InjectedFailure,
}

impl StoreError {
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub(crate) fn db(operation: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
        move |source| StoreError::Database { operation, source }
    }

    pub(crate) fn invalid(reason: impl Into<String>) -> StoreError {
        StoreError::InvalidInput {
            reason: reason.into(),
        }
    }
}
