//! The inbox service: webhook deliveries in, replies out, a unified inbox of both platforms in
//! between, and live updates. Framework-free: the axum and actix-web adapters only move bytes
//! between HTTP and these methods.
//!
//! An [`Inbox`] ties together a [`SignatureVerifier`], a
//! [`MessageStore`], a [`GraphClient`] and a [`Tenancy`]:
//!
//! - [`receive`](Inbox::receive) verifies, parses, routes and stores a delivery, then notifies
//!   [`subscribe`](Inbox::subscribe)rs and [`EventHandler`]s;
//! - [`verify_subscription`](Inbox::verify_subscription) answers Meta's handshake;
//! - [`send`](Inbox::send) replies through the Graph API and stores the outbound message (the
//!   echo Meta sends afterwards merges with it); [`send_idempotent`](Inbox::send_idempotent)
//!   does it under a client's idempotency key, so a retry never sends twice;
//! - queries list conversations and messages, mark read, archive;
//! - [`start_backfill`](Inbox::start_backfill) imports an account's earlier conversations from
//!   the Conversations API (see `docs/backfill.md`).
//!
//! ```
//! use std::sync::Arc;
//! use meta_messaging_core::ids::TenantId;
//! use meta_messaging_core::inbox::{Inbox, Tenancy};
//! use meta_messaging_core::secret::{AppSecret, VerifyToken};
//! use meta_messaging_core::store::{InMemoryStore, MessageQuery};
//! use meta_messaging_core::webhook;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let tenant = TenantId::new("shop");
//! let inbox = Inbox::builder()
//!     .app_secret(AppSecret::new("app-secret"))
//!     .verify_token(VerifyToken::new("verify-token"))
//!     .store(InMemoryStore::new())
//!     .tenancy(Tenancy::Single(tenant.clone()))
//!     .build()?;
//!
//! // An Instagram message, as Meta delivers it with its X-Hub-Signature-256 header.
//! let body = br#"{"object":"instagram","entry":[{"id":"17841400000000000","time":1700000000000,
//!   "messaging":[{"sender":{"id":"5000000000000001"},"recipient":{"id":"17841400000000000"},
//!   "timestamp":1700000000000,"message":{"mid":"aWdfZAG1faXRlbT","text":"Do you ship to Lyon?"}}]}]}"#;
//! let signature = webhook::sign(&AppSecret::new("app-secret"), body);
//! let receipt = inbox.receive(Some(&signature), body).await?; // answer Meta 200 now
//! assert_eq!(receipt.applied.inserted, 1);
//!
//! let page = inbox.messages(&tenant, &MessageQuery::new()).await?;
//! assert_eq!(page.data[0].text.as_deref(), Some("Do you ship to Lyon?"));
//! # Ok(()) }
//! ```

mod backfill;
mod backfill_import;
mod backfill_options;
mod builder;
mod changes;
mod comments;
mod config;
mod connect;
mod conversations;
mod deliveries;
mod error;
#[cfg(feature = "postgres")]
mod fanout;
mod handler;
mod handlers;
mod handover;
mod idempotent;
mod lifecycle;
mod live;
mod media;
mod media_config;
mod outcome;
mod profiles;
mod receive;
mod send;
mod send_file;
mod status;
mod tenancy;
mod unrouted;
mod window;

use std::sync::Arc;
use std::time::Duration;

pub use backfill_options::{
    BackfillOptions, DEFAULT_BACKFILL_HORIZON, DEFAULT_BACKFILL_PAGE_DELAY,
};
pub use builder::{
    BuildError, DEFAULT_BODY_TIMEOUT, DEFAULT_LIVE_CAPACITY, DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_EVENT_STREAMS_PER_TENANT, DEFAULT_MAX_UPLOAD_BYTES, DEFAULT_STATUS_CHECK_INTERVAL,
    InboxBuilder,
};
pub use comments::CommentReplyRequest;
pub use config::{
    ConfigError, ConfiguredAccess, DEFAULT_BIND, DEFAULT_STORE, DEFAULT_TENANT, InboxConfig,
};
pub use connect::{ConnectStart, Connected, OAuthSettings, STATE_COOKIE};
pub use deliveries::{KindDeliveries, UnknownEvents};
pub use error::InboxError;
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use fanout::{
    DEFAULT_FANOUT_CHANNEL, DEFAULT_FANOUT_QUEUE, FanoutError, FanoutOptions, LiveFanout,
};
pub use handler::{EventHandler, HandlerError, HandlerEvent};
pub use handlers::HandlerOptions;
pub use idempotent::{DEFAULT_IDEMPOTENCY_TTL, IdempotentSend};
pub use lifecycle::{
    DEFAULT_SHUTDOWN_TIMEOUT, NotReady, READY_TIMEOUT, ShutdownReport, shutdown_signal,
};
pub use live::{InboxEvent, LiveEvent, Subscription};
pub use media::{
    DEFAULT_MEDIA_CONCURRENCY, DEFAULT_MEDIA_QUEUE, DEFAULT_MEDIA_RETENTION, KeptMedia,
    MediaOptions,
};
pub use media_config::{MediaConfig, MediaLocation};
pub use outcome::{SendOutcome, UnstoredMessage};
pub use receive::Receipt;
pub use send::{SendAttachment, SendQuickReply, SendRequest};
pub use send_file::OutgoingFile;
pub use status::{AccountStatusReport, StatusReport};
pub use tenancy::Tenancy;
pub use window::WindowRefusal;

use crate::graph::GraphClient;
use crate::ids::TenantId;
use crate::secret::VerifyToken;
use crate::store::MessageStore;
use crate::webhook::SignatureVerifier;

use self::live::LiveHub;
use self::tenancy::Router;

/// The inbox service. Cheap to clone (one `Arc`); share it between handlers and tasks.
#[derive(Clone)]
pub struct Inbox {
    inner: Arc<InboxInner>,
}

/// Renders the host's metrics in Prometheus' text format.
type MetricsRender = Arc<dyn Fn() -> String + Send + Sync>;

struct InboxInner {
    verifier: SignatureVerifier,
    verify_token: VerifyToken,
    store: Arc<dyn MessageStore>,
    graph: GraphClient,
    router: Arc<Router>,
    live: Arc<LiveHub>,
    /// Follows the store's change notices for `live`, `router` and the fan-out.
    background: changes::Background,
    change_retention: Duration,
    handlers: Vec<Arc<dyn EventHandler>>,
    /// Drives `handlers` from the store's handler queue.
    runner: handlers::Runner,
    max_body_bytes: usize,
    max_upload_bytes: usize,
    body_timeout: Duration,
    max_event_streams: usize,
    /// Answers of the live connection checks, per Page, reused within `status_check_interval`.
    status_checks: status::CheckCache,
    /// What each account received, per event kind, since the last flush to the store.
    deliveries: Arc<deliveries::DeliveryLog>,
    oauth: Option<OAuthSettings>,
    /// Set when participant profiles are looked up ([`InboxBuilder::fetch_profiles`]).
    profiles: Option<profiles::ProfileLookups>,
    /// The history backfill settings and the runs going in this process.
    backfills: backfill::BackfillRuns,
    /// How long idempotency keys are kept, and when they were last pruned.
    idempotency: idempotent::IdempotencySettings,
    /// Set when attachments are kept ([`InboxBuilder::media`]).
    media: Option<media::MediaKeeping>,
    /// `true` once the inbox drains ([`Inbox::drain`]): live streams end, readiness fails.
    draining: tokio::sync::watch::Sender<bool>,
    /// Whether the PostgreSQL fan-out's `LISTEN` connection is up, when there is a fan-out.
    fanout_connected: Option<Arc<std::sync::atomic::AtomicBool>>,
    /// What `GET /metrics` serves ([`InboxBuilder::metrics_endpoint`]).
    metrics: Option<MetricsRender>,
    /// The webhook counters, registered when the inbox was built.
    counters: crate::telemetry::record::IngestCounters,
}

impl std::fmt::Debug for Inbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inbox")
            .field("tenancy", self.inner.router.tenancy())
            .field("store", &self.inner.store)
            .field("max_body_bytes", &self.inner.max_body_bytes)
            .finish_non_exhaustive()
    }
}

impl Inbox {
    /// Starts building an inbox.
    pub fn builder() -> InboxBuilder {
        InboxBuilder::default()
    }

    /// The host's metrics in Prometheus' text format, as `GET /metrics` serves them; `None`
    /// without [`InboxBuilder::metrics_endpoint`].
    pub fn metrics_text(&self) -> Option<String> {
        self.inner.metrics.as_ref().map(|render| render())
    }

    /// The store, for queries this service does not wrap.
    pub fn store(&self) -> &Arc<dyn MessageStore> {
        &self.inner.store
    }

    /// The Graph client.
    pub fn graph(&self) -> &GraphClient {
        &self.inner.graph
    }

    /// How deliveries are routed.
    pub fn tenancy(&self) -> &Tenancy {
        self.inner.router.tenancy()
    }

    /// The largest request body accepted, on every route; a larger one is refused before it
    /// is read whole.
    pub fn max_body_bytes(&self) -> usize {
        self.inner.max_body_bytes
    }

    /// The largest file a `multipart/form-data` `POST /messages` takes
    /// ([`InboxBuilder::max_upload_bytes`]).
    pub fn max_upload_bytes(&self) -> usize {
        self.inner.max_upload_bytes
    }

    /// How long a request body may take to arrive.
    pub fn body_timeout(&self) -> Duration {
        self.inner.body_timeout
    }

    /// Answers Meta's subscription handshake from the raw query string: the challenge to send
    /// back as a `text/plain` 200.
    ///
    /// # Errors
    /// [`InboxError::Webhook`] (status 403) when the mode or verify token is wrong.
    pub fn verify_subscription(&self, query: &str) -> Result<String, InboxError> {
        Ok(crate::webhook::verify_subscription(
            query,
            &self.inner.verify_token,
        )?)
    }

    /// Live inbox events of a tenant: every change from now on, in order, each once (see
    /// [`subscribe_after`](Self::subscribe_after)).
    ///
    /// # Errors
    /// [`InboxError::Store`] when the change log cannot be read.
    pub async fn subscribe(&self, tenant: &TenantId) -> Result<Subscription, InboxError> {
        self.unlimited_subscription(tenant, None).await
    }

    /// Live inbox events of a tenant after the change numbered `after` (a
    /// [`LiveEvent::seq`] it saw before, the SSE `Last-Event-ID`): every change since, read
    /// from the change log, then the live ones, with no gap and no repeat, on any instance
    /// sharing the store. When the change log no longer holds the changes right after `after`
    /// (older than [`InboxBuilder::change_retention`]), the first event is
    /// [`InboxEvent::Reset`]: reload.
    ///
    /// A subscriber never slows ingestion: one that falls behind the live batches reads the
    /// log to catch up.
    ///
    /// # Errors
    /// [`InboxError::Store`] when the change log cannot be read.
    pub async fn subscribe_after(
        &self,
        tenant: &TenantId,
        after: u64,
    ) -> Result<Subscription, InboxError> {
        self.unlimited_subscription(tenant, Some(after)).await
    }

    async fn unlimited_subscription(
        &self,
        tenant: &TenantId,
        after: Option<u64>,
    ) -> Result<Subscription, InboxError> {
        self.start_background();
        let subscription = live::subscribe(&self.inner.live, tenant, after, None).await?;
        subscription.ok_or(InboxError::Store(crate::store::StoreError::Invariant {
            what: "a subscription without a limit was refused",
        }))
    }

    /// A subscription, unless the tenant already has `max` open in this process: `GET /events`
    /// uses [`InboxBuilder::max_event_streams_per_tenant`], so one tenant cannot hold an
    /// unbounded number of streams.
    pub(crate) async fn subscription_within(
        &self,
        tenant: &TenantId,
        after: Option<u64>,
        max: usize,
    ) -> Result<Option<Subscription>, InboxError> {
        self.start_background();
        Ok(live::subscribe(&self.inner.live, tenant, after, Some(max)).await?)
    }

    /// The most `GET /events` streams one tenant may hold open here.
    pub(crate) fn max_event_streams(&self) -> usize {
        self.inner.max_event_streams
    }

    /// Starts the background tasks if they are not running (they need a Tokio runtime, which
    /// [`InboxBuilder::build`] may not have had).
    pub(crate) fn start_background(&self) {
        let inner = &self.inner;
        inner
            .background
            .ensure_started(&inner.store, inner.change_retention);
        self.start_handlers();
        inner.deliveries.ensure_flushing();
        if let Some(media) = &inner.media {
            media.ensure_started();
        }
        self.resume_backfills_once();
    }
}
