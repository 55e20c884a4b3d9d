//! Live events across instances through PostgreSQL `LISTEN`/`NOTIFY` (feature `postgres`).
//!
//! A wake-up only: every instance `NOTIFY`s, after each commit that grew a tenant's change
//! log, the tenant and its new head, and `LISTEN`s for the others'. On a notice it wakes its
//! follower of that tenant, which reads the log from where it is; it ignores its own notices.
//! A lost notice delays an event (the followers also poll the log every few seconds), it never
//! loses one.

use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Weak};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions};
use tokio::sync::mpsc;

use super::live::LiveHub;
use super::tenancy::Router;
use crate::ids::TenantId;
use crate::store::PostgresOptions;

/// The default `LISTEN`/`NOTIFY` channel of [`FanoutOptions::new`].
pub const DEFAULT_FANOUT_CHANNEL: &str = "meta_messaging_inbox";

/// The default number of notices waiting to be `NOTIFY`d before new ones are dropped.
pub const DEFAULT_FANOUT_QUEUE: usize = 1024;

// PostgreSQL refuses payloads of 8000 bytes or more, and channel names longer than an identifier.
const MAX_PAYLOAD_BYTES: usize = 7999;
const MAX_CHANNEL_BYTES: usize = 63;
const MAX_NOTIFY_BATCH: usize = 256;
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// How to connect a [`LiveFanout`].
///
/// The URL is kept as a secret (it may hold a password): it is redacted in `Debug` and never
/// part of a log line or an error.
#[derive(Clone)]
#[non_exhaustive]
pub struct FanoutOptions {
    url: SecretString,
    channel: String,
    queue_capacity: usize,
}

impl fmt::Debug for FanoutOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FanoutOptions")
            .field("url", &"[REDACTED]")
            .field("channel", &self.channel)
            .field("queue_capacity", &self.queue_capacity)
            .finish()
    }
}

impl FanoutOptions {
    /// Defaults for a `postgres://` URL: channel [`DEFAULT_FANOUT_CHANNEL`], queue
    /// [`DEFAULT_FANOUT_QUEUE`].
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: SecretString::from(url.into()),
            channel: DEFAULT_FANOUT_CHANNEL.to_owned(),
            queue_capacity: DEFAULT_FANOUT_QUEUE,
        }
    }

    /// The options matching a store's: its URL and, when the store keeps its tables in their
    /// own schema, the channel `meta_messaging_inbox_<schema>`, so inboxes on different schemas
    /// of one database never see each other's events.
    pub fn for_store(store: &PostgresOptions) -> Self {
        let options = Self::new(store.url.clone());
        match &store.schema {
            Some(schema) => options.channel(format!("{DEFAULT_FANOUT_CHANNEL}_{schema}")),
            None => options,
        }
    }

    /// The channel every instance of one inbox `LISTEN`s and `NOTIFY`s on: letters, digits and
    /// `_`, at most 63 bytes.
    #[must_use]
    pub fn channel(mut self, channel: impl Into<String>) -> Self {
        self.channel = channel.into();
        self
    }

    /// The channel set by [`channel`](Self::channel) or derived from the store's schema.
    pub fn channel_name(&self) -> &str {
        &self.channel
    }

    /// How many notices may wait to be sent before new ones are dropped (and logged), so a
    /// slow database never slows `receive`.
    #[must_use]
    pub fn queue_capacity(mut self, capacity: usize) -> Self {
        self.queue_capacity = capacity.max(1);
        self
    }
}

/// Why a [`LiveFanout`] could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FanoutError {
    /// The URL is not a `postgres://` URL (the URL itself is not repeated: it may hold a
    /// password).
    #[error("the live fan-out URL is not a postgres:// URL")]
    InvalidUrl,
    /// The channel name is empty, too long or has characters other than letters, digits and `_`.
    #[error("the live fan-out channel must be 1 to 63 letters, digits or _")]
    InvalidChannel,
    /// PostgreSQL could not be reached or refused the login.
    #[error("the live fan-out could not connect to PostgreSQL")]
    Connect(#[source] sqlx::Error),
    /// The `LISTEN` statement failed.
    #[error("the live fan-out could not LISTEN on its channel")]
    Listen(#[source] sqlx::Error),
}

/// Live events shared by every instance of an app on one PostgreSQL database: give it to
/// [`InboxBuilder::live_fanout`](super::InboxBuilder::live_fanout) on each instance.
///
/// ```no_run
/// use std::sync::Arc;
/// use meta_messaging_core::inbox::{FanoutOptions, Inbox, LiveFanout, Tenancy};
/// use meta_messaging_core::secret::{AppSecret, VerifyToken};
/// use meta_messaging_core::store::{PostgresOptions, PostgresStore};
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let options = PostgresOptions::new(std::env::var("DATABASE_URL")?).schema("inbox");
/// let inbox = Inbox::builder()
///     .app_secret(AppSecret::new(std::env::var("META_APP_SECRET")?))
///     .verify_token(VerifyToken::new(std::env::var("META_VERIFY_TOKEN")?))
///     .store(PostgresStore::connect_with(options.clone()).await?)
///     .live_fanout(LiveFanout::connect(FanoutOptions::for_store(&options)).await?)
///     .tenancy(Tenancy::Multi)
///     .build()?;
/// # Ok(()) }
/// ```
///
/// It holds two connections of its own (one `LISTEN`s, one `NOTIFY`s), outside the store's
/// pool. Notices only say that a tenant's change log grew; every instance reads the changes
/// from the log in the shared store, so every instance must use the same database (and
/// schema) for its store.
///
/// What it guarantees:
/// - a failed or slow `NOTIFY` never fails or slows [`Inbox::receive`](super::Inbox::receive):
///   notices wait in a bounded queue, and are dropped (with a warning) when it is full or when
///   the `NOTIFY` fails; the write itself is already durable, and the other instances find
///   the change on their next poll of the log (every 2 seconds while they have subscribers);
/// - when the listening connection drops it is re-established with backoff (logged); on
///   reconnecting, every follower reads the log, so this instance's subscribers get every
///   change made meanwhile, in order, and the account routes are looked up again;
/// - account changes (connect, disconnect) reach every instance's routing cache at once.
pub struct LiveFanout {
    instance_id: String,
    channel: String,
    queue_capacity: usize,
    listen_pool: PgPool,
    notify_pool: PgPool,
    listener: PgListener,
    runtime: tokio::runtime::Handle,
}

impl fmt::Debug for LiveFanout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveFanout")
            .field("instance_id", &self.instance_id)
            .field("channel", &self.channel)
            .field("queue_capacity", &self.queue_capacity)
            .finish_non_exhaustive()
    }
}

impl LiveFanout {
    /// Connects and starts `LISTEN`ing, so every event another instance publishes from now on
    /// reaches the inbox this is given to. Call it inside the Tokio runtime that will run the
    /// inbox: the fan-out's tasks run there.
    ///
    /// # Errors
    /// [`FanoutError::InvalidUrl`], [`FanoutError::InvalidChannel`], [`FanoutError::Connect`]
    /// when the server cannot be reached or refuses the login, [`FanoutError::Listen`].
    pub async fn connect(options: FanoutOptions) -> Result<Self, FanoutError> {
        let channel = options.channel;
        if channel.is_empty()
            || channel.len() > MAX_CHANNEL_BYTES
            || !channel
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(FanoutError::InvalidChannel);
        }
        let connect = PgConnectOptions::from_str(options.url.expose_secret())
            .map_err(|_| FanoutError::InvalidUrl)?;
        // A listening connection is meant to live forever: no lifetime or idle limit.
        let listen_pool = PgPoolOptions::new()
            .max_connections(1)
            .max_lifetime(None)
            .idle_timeout(None)
            .connect_with(connect.clone())
            .await
            .map_err(FanoutError::Connect)?;
        let notify_pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(connect)
            .await
            .map_err(FanoutError::Connect)?;
        let listener = start_listening(&listen_pool, &channel).await?;
        Ok(Self {
            instance_id: format!("{:016x}", rand::random::<u64>()),
            channel,
            queue_capacity: options.queue_capacity,
            listen_pool,
            notify_pool,
            listener,
            runtime: tokio::runtime::Handle::current(),
        })
    }

    /// This instance's random id: the `origin` of its notifications, by which it skips its own.
    pub fn instance_id(&self) -> &str {
        &self.instance_id
    }

    /// The `LISTEN`/`NOTIFY` channel.
    pub fn channel(&self) -> &str {
        &self.channel
    }

    /// Starts the tasks: one sends this instance's notices, one wakes this instance's
    /// followers on the others'. Both end when the inbox is dropped.
    pub(super) fn attach(self, hub: Weak<LiveHub>, router: Weak<Router>) -> Outbox {
        let (tx, rx) = mpsc::channel(self.queue_capacity);
        let origin: Arc<str> = self.instance_id.into();
        self.runtime
            .spawn(notify_loop(self.notify_pool, self.channel.clone(), rx));
        let connected = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let listening = self.runtime.spawn(listen_loop(Listening {
            listener: Some(self.listener),
            pool: self.listen_pool,
            channel: self.channel,
            origin: origin.clone(),
            hub,
            router,
            connected: Arc::clone(&connected),
        }));
        Outbox {
            origin,
            tx,
            listening: listening.abort_handle(),
            connected,
        }
    }
}

/// What one instance tells the others: a tenant's change log grew to `head`.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Notice {
    origin: String,
    tenant: TenantId,
    head: u64,
    #[serde(default)]
    accounts: bool,
}

mod tasks;

pub(in crate::inbox) use tasks::Outbox;
use tasks::{Listening, listen_loop, notify_loop, start_listening};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_are_small_json_and_read_back() {
        let notice = Notice {
            origin: "00ff".into(),
            tenant: TenantId::new("shop"),
            head: 42,
            accounts: true,
        };
        let json = serde_json::to_string(&notice).expect("serializable");
        assert_eq!(
            json,
            r#"{"origin":"00ff","tenant":"shop","head":42,"accounts":true}"#
        );
        assert_eq!(
            serde_json::from_str::<Notice>(&json).expect("readable"),
            notice
        );
        let older = r#"{"origin":"1","tenant":"t","head":7}"#;
        assert!(
            !serde_json::from_str::<Notice>(older)
                .expect("readable")
                .accounts
        );
        assert!(serde_json::from_str::<Notice>(r#"{"origin":"1","tenant":"t"}"#).is_err());
    }

    #[test]
    fn options_never_show_the_url() {
        let options = FanoutOptions::new("postgres://app:hunter2@db/inbox");
        assert!(!format!("{options:?}").contains("hunter2"));
        let store = PostgresOptions::new("postgres://db/inbox").schema("tenant_a");
        assert_eq!(
            FanoutOptions::for_store(&store).channel,
            "meta_messaging_inbox_tenant_a"
        );
    }
}
