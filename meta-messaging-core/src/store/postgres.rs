//! [`PostgresStore`]: several application instances sharing one PostgreSQL database.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, Executor};

use super::account::{PlaintextTokens, TokenSealer};
use super::batch::BatchConfig;
use super::error::StoreError;
use super::sql::engine::{Engine, SqlStore};

/// A [`MessageStore`](crate::store::MessageStore) in PostgreSQL (feature `postgres`).
///
/// Several instances of an application can share one database: deduplication is a unique key, so a
/// delivery retried to another instance is stored once. The schema is migrated on connect
/// (optionally into its own schema, see
/// [`PostgresOptions::schema`](crate::store::PostgresOptions::schema)). Concurrent `apply` and
/// `record_outbound` calls are group-committed: many webhooks share one transaction and one WAL
/// flush.
///
/// Connect inside the Tokio runtime that will use it (the writer tasks run there).
///
/// ```no_run
/// # async fn demo() -> Result<(), meta_messaging_core::store::StoreError> {
/// use meta_messaging_core::store::PostgresStore;
/// let store = PostgresStore::connect("postgres://app@db.internal/inbox").await?;
/// # Ok(()) }
/// ```
pub type PostgresStore = SqlStore<sqlx::Postgres>;

/// How to connect a [`PostgresStore`]. Its `Debug` output hides the URL's password.
#[derive(Clone)]
#[non_exhaustive]
pub struct PostgresOptions {
    /// A `postgres://` URL.
    pub url: String,
    /// A schema to create (if missing) and keep every table in; `None`: the connection's
    /// default `search_path`. Letters, digits and `_` only.
    pub schema: Option<String>,
    /// Connections in the pool for reads and the small writes (default 8); the group-commit
    /// writers have connections of their own besides these.
    pub max_connections: u32,
    /// Most `apply` / `record_outbound` calls committed in one transaction (default 256).
    pub max_batch: usize,
    /// Group-commit transactions in flight at once, each on a connection of its own
    /// (default 2).
    pub writers: usize,
    /// Seals account tokens before they are written (default [`PlaintextTokens`]; a
    /// [`TokenKeyring`](crate::store::TokenKeyring) encrypts them).
    pub token_sealer: Arc<dyn TokenSealer>,
    /// How long [`connect_with`](PostgresStore::connect_with)'s first connection may take
    /// (default 5 s). It is made alone, before the pools, so an unreachable database fails
    /// fast with its own error as the cause (connection refused, unknown host, password
    /// refused) rather than a pool's timeout.
    pub connect_timeout: Duration,
}

impl std::fmt::Debug for PostgresOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresOptions")
            .field("url", &super::redacted_url(&self.url))
            .field("schema", &self.schema)
            .field("max_connections", &self.max_connections)
            .field("max_batch", &self.max_batch)
            .field("writers", &self.writers)
            .field("token_sealer", &self.token_sealer)
            .field("connect_timeout", &self.connect_timeout)
            .finish()
    }
}

impl PostgresOptions {
    /// Defaults for a database URL.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            schema: None,
            max_connections: 8,
            max_batch: 256,
            writers: 2,
            token_sealer: Arc::new(PlaintextTokens),
            connect_timeout: Duration::from_secs(5),
        }
    }

    /// Sets how long connecting may take.
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Keeps the tables in this schema.
    #[must_use]
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
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

    /// Sets how many group-commit transactions may run at once.
    #[must_use]
    pub fn writers(mut self, n: usize) -> Self {
        self.writers = n.max(1);
        self
    }

    /// Sets the token sealer.
    #[must_use]
    pub fn token_sealer(mut self, sealer: impl TokenSealer + 'static) -> Self {
        self.token_sealer = Arc::new(sealer);
        self
    }
}

impl PostgresStore {
    /// Connects with default [`PostgresOptions`] and brings the schema up to date.
    ///
    /// # Errors
    /// [`StoreError::Database`] when the server cannot be reached or refuses the login;
    /// [`StoreError::Migration`] when the schema cannot be migrated.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(PostgresOptions::new(url)).await
    }

    /// Connects with explicit options.
    ///
    /// # Errors
    /// As [`connect`](Self::connect); [`StoreError::InvalidInput`] for a bad URL or schema name.
    pub async fn connect_with(options: PostgresOptions) -> Result<Self, StoreError> {
        let mut connect: PgConnectOptions = options
            .url
            .parse()
            .map_err(|_| StoreError::invalid("not a postgres:// URL"))?;
        if let Some(schema) = &options.schema
            && (schema.is_empty()
                || !schema
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_'))
        {
            return Err(StoreError::invalid(
                "schema names are letters, digits and _",
            ));
        }
        // One connection first, with the driver's error kept: a pool would retry until its
        // timeout and then say only that it timed out, hiding "connection refused".
        let mut conn = first_connection(&connect, options.connect_timeout).await?;
        if let Some(schema) = &options.schema {
            conn.execute(format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\"").as_str())
                .await
                .map_err(StoreError::db("creating the schema"))?;
            connect = connect.options([("search_path", schema.as_str())]);
        }
        // Closing is a courtesy to the server; the connection is dropped either way.
        let _ = conn.close().await;
        // List queries have a text per combination of filters and cursor; keeping them all
        // prepared saves a parse round trip each time one comes back. (Group commits need
        // few: their statements take arrays, one text for every batch size.)
        let connect = connect.statement_cache_capacity(1024);
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(2))
            .connect_with(connect.clone())
            .await
            .map_err(StoreError::db("connecting to PostgreSQL"))?;
        let migrator = sqlx::migrate!("migrations/postgres");
        migrator.run(&pool).await.map_err(StoreError::Migration)?;
        // Group commits get connections of their own, taken without the pool's test query:
        // that is a round trip per batch, and a connection that died while idle fails one
        // batch (its webhooks answer 500 and are redelivered) and is then replaced, since the
        // pool tests every connection when it is released.
        let writer = PgPoolOptions::new()
            .max_connections(u32::try_from(options.writers.max(1)).unwrap_or(u32::MAX))
            .test_before_acquire(false)
            .connect_with(connect.clone())
            .await
            .map_err(StoreError::db("connecting to PostgreSQL"))?;
        let engine = Engine::new(pool, writer, options.token_sealer).latest_migration(&migrator);
        let batch = BatchConfig {
            max_batch: options.max_batch,
            writers: options.writers,
        };
        Ok(Self::start(engine, batch))
    }
}

/// A connection to the database within `timeout`, failing with the driver's error (or a
/// timed-out I/O error naming the timeout).
async fn first_connection(
    connect: &PgConnectOptions,
    timeout: Duration,
) -> Result<sqlx::PgConnection, StoreError> {
    let connecting = StoreError::db("connecting to PostgreSQL");
    match tokio::time::timeout(timeout, sqlx::PgConnection::connect_with(connect)).await {
        Ok(connected) => connected.map_err(connecting),
        Err(_elapsed) => Err(connecting(sqlx::Error::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("PostgreSQL did not answer within {timeout:?}"),
        )))),
    }
}

#[cfg(test)]
mod debug_tests {
    use std::time::{Duration, Instant};

    use super::{PostgresOptions, PostgresStore};
    use crate::error::ErrorChain;

    #[tokio::test]
    async fn an_unreachable_server_fails_fast_with_its_cause() {
        let started = Instant::now();
        let err = PostgresStore::connect("postgres://postgres@127.0.0.1:1/test")
            .await
            .expect_err("nothing listens on port 1");
        assert!(started.elapsed() < Duration::from_secs(5));
        let chain = ErrorChain(&err).to_string();
        assert!(chain.to_lowercase().contains("refused"), "{chain}");
    }

    #[tokio::test]
    async fn a_server_that_never_answers_fails_at_the_connect_timeout() {
        // Accepts the connection (the kernel does) and never speaks.
        let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!(
            "postgres://postgres@{}/test?sslmode=disable",
            silent.local_addr().expect("addr")
        );
        let started = Instant::now();
        let options = PostgresOptions::new(url).connect_timeout(Duration::from_millis(300));
        let err = PostgresStore::connect_with(options)
            .await
            .expect_err("the server never answers");
        assert!(started.elapsed() < Duration::from_secs(3));
        let chain = ErrorChain(&err).to_string();
        assert!(chain.contains("did not answer within 300ms"), "{chain}");
    }

    #[test]
    fn debug_hides_the_password() {
        let options = PostgresOptions::new("postgres://app:hunter2@db.internal:5432/inbox");
        let shown = format!("{options:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(
            shown.contains("postgres://app:REDACTED@db.internal:5432/inbox"),
            "{shown}"
        );
    }
}
