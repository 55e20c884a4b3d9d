//! [`InboxBuilder`]: everything an [`Inbox`] is made of.

use std::sync::Arc;
use std::time::Duration;

use super::backfill_options::BackfillOptions;
#[cfg(feature = "postgres")]
use super::changes::Forward;
use super::changes::{Background, Listeners};
use super::connect::OAuthSettings;
use super::handler::EventHandler;
use super::live::LiveHub;
use super::tenancy::{Router, Tenancy};
use super::{Inbox, InboxInner};
use crate::graph::{GraphClient, GraphError};
use crate::secret::{AppSecret, VerifyToken};
use crate::store::{DEFAULT_CHANGE_RETENTION, IntoMessageStore, MessageStore};
use crate::webhook::SignatureVerifier;

/// The default limit on a webhook body: 1 MiB, far above any delivery Meta sends.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// The largest file `POST /messages` takes unless
/// [`InboxBuilder::max_upload_bytes`] says otherwise: 25 MiB, the most Meta takes.
pub const DEFAULT_MAX_UPLOAD_BYTES: usize = crate::graph::MAX_ATTACHMENT_BYTES as usize;

/// The default number of live events a subscriber may fall behind before it is dropped.
pub const DEFAULT_LIVE_CAPACITY: usize = 256;

/// How long a request body may take to arrive unless
/// [`InboxBuilder::body_timeout`] says otherwise: far more than Meta or a browser needs for the
/// largest accepted body, far less than a connection-hogging client would like.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(15);

/// How many `GET /events` streams one tenant may hold open unless
/// [`InboxBuilder::max_event_streams_per_tenant`] says otherwise.
pub const DEFAULT_MAX_EVENT_STREAMS_PER_TENANT: usize = 32;

/// How often `GET /status?check=true` may ask Meta about one Page unless
/// [`InboxBuilder::status_check_interval`] says otherwise; within it, the last answer is reused.
pub const DEFAULT_STATUS_CHECK_INTERVAL: Duration = Duration::from_secs(60);

/// Builds an [`Inbox`]. Required: at least one app secret, the verify token, a store and the
/// tenancy; the Graph client defaults to Meta's production API.
///
/// ```
/// use std::sync::Arc;
/// use meta_messaging_core::ids::TenantId;
/// use meta_messaging_core::inbox::{Inbox, Tenancy};
/// use meta_messaging_core::secret::{AppSecret, VerifyToken};
/// use meta_messaging_core::store::InMemoryStore;
///
/// let inbox = Inbox::builder()
///     .app_secret(AppSecret::new("app-secret"))
///     .verify_token(VerifyToken::new("verify-token"))
///     .store(InMemoryStore::new())
///     .tenancy(Tenancy::Single(TenantId::new("default")))
///     .build()?;
/// # Ok::<(), meta_messaging_core::inbox::BuildError>(())
/// ```
#[derive(Default)]
pub struct InboxBuilder {
    secrets: Vec<AppSecret>,
    verify_token: Option<VerifyToken>,
    store: Option<Arc<dyn MessageStore>>,
    graph: Option<GraphClient>,
    tenancy: Option<Tenancy>,
    handlers: Vec<Arc<dyn EventHandler>>,
    handler_options: Option<super::HandlerOptions>,
    max_body_bytes: Option<usize>,
    max_upload_bytes: Option<usize>,
    body_timeout: Option<Duration>,
    max_event_streams: Option<usize>,
    status_check_interval: Option<Duration>,
    live_capacity: Option<usize>,
    #[cfg(feature = "postgres")]
    fanout: Option<super::LiveFanout>,
    oauth: Option<OAuthSettings>,
    fetch_profiles: bool,
    backfill: Option<BackfillOptions>,
    change_retention: Option<Duration>,
    idempotency_ttl: Option<Duration>,
    media: Option<super::MediaOptions>,
    metrics: Option<super::MetricsRender>,
}

impl std::fmt::Debug for InboxBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InboxBuilder")
            .field("secrets", &self.secrets)
            .field("verify_token", &self.verify_token)
            .field("store", &self.store)
            .field("tenancy", &self.tenancy)
            .field("handlers", &self.handlers.len())
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_upload_bytes", &self.max_upload_bytes)
            .finish_non_exhaustive()
    }
}

/// What is missing or wrong in an [`InboxBuilder`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A required part was not given.
    #[error("an Inbox needs {0}: call InboxBuilder::{0}")]
    Missing(&'static str),
    /// A secret was given empty: an empty HMAC key or verify token is one anyone has.
    #[error(
        "the {0} given to InboxBuilder::{0} is empty: pass the value from the Meta app's settings"
    )]
    EmptySecret(&'static str),
    /// The default Graph client could not be built.
    #[error("the default Graph client could not be built")]
    Graph(#[source] GraphError),
}

impl InboxBuilder {
    /// Adds an app secret that webhook signatures are checked against. Call it twice while
    /// rotating the secret.
    #[must_use]
    pub fn app_secret(mut self, secret: AppSecret) -> Self {
        self.secrets.push(secret);
        self
    }

    /// The verify token of the subscription handshake.
    #[must_use]
    pub fn verify_token(mut self, token: VerifyToken) -> Self {
        self.verify_token = Some(token);
        self
    }

    /// Where messages, conversations and accounts are kept: a store by value, or an `Arc` of
    /// one that other code shares.
    #[must_use]
    pub fn store(mut self, store: impl IntoMessageStore) -> Self {
        self.store = Some(store.into_message_store());
        self
    }

    /// The Graph API client used to send (default: `GraphClient::new()`, Meta's API). Unless it
    /// was given an app secret, it gets the first one here, so its calls carry `appsecret_proof`.
    #[must_use]
    pub fn graph(mut self, graph: GraphClient) -> Self {
        self.graph = Some(graph);
        self
    }

    /// How deliveries are routed to tenants.
    #[must_use]
    pub fn tenancy(mut self, tenancy: Tenancy) -> Self {
        self.tenancy = Some(tenancy);
        self
    }

    /// Adds a hook that runs on every event that changed an inbox (see [`EventHandler`], and
    /// its at-least-once contract): a handler by value, or an `Arc` of one you keep (to read
    /// its state in tests, say). Its [`name`](EventHandler::name) keys its durable cursor.
    #[must_use]
    pub fn handler(mut self, handler: impl EventHandler) -> Self {
        self.handlers.push(Arc::new(handler));
        self
    }

    /// How event handlers are driven: leases, retries, concurrency (see [`HandlerOptions`](super::HandlerOptions)).
    #[must_use]
    pub fn handler_options(mut self, options: super::HandlerOptions) -> Self {
        self.handler_options = Some(options);
        self
    }

    /// The largest request body accepted on any route (default [`DEFAULT_MAX_BODY_BYTES`]);
    /// larger ones are refused with 413 without being read whole.
    #[must_use]
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = Some(limit);
        self
    }

    /// The largest file `POST /messages` takes as `multipart/form-data` (default
    /// [`MAX_ATTACHMENT_BYTES`](crate::graph::MAX_ATTACHMENT_BYTES), the most Meta takes). Only
    /// a multipart send may be this large, plus a little for its form fields; every other body
    /// keeps the [`max_body_bytes`](Self::max_body_bytes) limit.
    #[must_use]
    pub fn max_upload_bytes(mut self, limit: usize) -> Self {
        self.max_upload_bytes = Some(limit);
        self
    }

    /// How long a request body may take to arrive (default [`DEFAULT_BODY_TIMEOUT`]); a slower
    /// one is answered 408, so slow clients cannot hold connections and memory.
    #[must_use]
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.body_timeout = Some(timeout);
        self
    }

    /// How many `GET /events` streams one tenant may hold open at once in this process (default
    /// [`DEFAULT_MAX_EVENT_STREAMS_PER_TENANT`]); one more is answered 429 `too_many_streams`.
    #[must_use]
    pub fn max_event_streams_per_tenant(mut self, max: usize) -> Self {
        self.max_event_streams = Some(max);
        self
    }

    /// Serves the host's metrics at `GET /metrics` of the inbox routes, behind the same
    /// credentials as the other routes (an API token, or the host's own check). `render`
    /// returns them in Prometheus' text format: `move || handle.render()` with the
    /// `PrometheusHandle` of `metrics-exporter-prometheus`, for example. The core records its
    /// metrics through the `metrics` facade and installs no exporter (see
    /// [`crate::telemetry`]); without this, `GET /metrics` answers 404.
    pub fn metrics_endpoint(mut self, render: impl Fn() -> String + Send + Sync + 'static) -> Self {
        self.metrics = Some(Arc::new(render));
        self
    }

    /// How often [`Inbox::status_checked`] may ask Meta about one Page (default
    /// [`DEFAULT_STATUS_CHECK_INTERVAL`]); within the interval the last answer is reused, so
    /// reloading a status page cannot make the server call Meta in a loop.
    #[must_use]
    pub fn status_check_interval(mut self, interval: Duration) -> Self {
        self.status_check_interval = Some(interval);
        self
    }

    /// How many batches of live events a subscriber may fall behind before it reads the
    /// change log itself to catch up (default [`DEFAULT_LIVE_CAPACITY`]).
    #[must_use]
    pub fn live_capacity(mut self, capacity: usize) -> Self {
        self.live_capacity = Some(capacity);
        self
    }

    /// Wakes every other instance on the same PostgreSQL database when this one changes the
    /// inbox (see [`LiveFanout`](super::LiveFanout)): what one instance receives, sends, marks
    /// read or archives reaches the subscribers of all at once, and account changes reach
    /// every instance's routing cache. The store must be that database's `PostgresStore`:
    /// the others read the changes from its change log.
    #[cfg(feature = "postgres")]
    #[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
    #[must_use]
    pub fn live_fanout(mut self, fanout: super::LiveFanout) -> Self {
        self.fanout = Some(fanout);
        self
    }

    /// How long the change log keeps a change (default
    /// [`DEFAULT_CHANGE_RETENTION`], 7 days): a live client that reconnects with a
    /// `Last-Event-ID` older than this is told to reload. Pruned hourly in the background.
    #[must_use]
    pub fn change_retention(mut self, retention: Duration) -> Self {
        self.change_retention = Some(retention);
        self
    }

    /// Enables the connect flow (`GET /oauth/start`, `GET /oauth/callback`).
    #[must_use]
    pub fn oauth(mut self, settings: OAuthSettings) -> Self {
        self.oauth = Some(settings);
        self
    }

    /// Looks up each new participant's profile (name, Instagram username, picture) through the
    /// Graph API after their first message, stores it on the conversation and publishes the
    /// updated conversation to live subscribers. Off by default: it costs one Graph call per
    /// new participant and needs the Page token's profile access (Meta answers an error
    /// otherwise, which is logged at `debug` and leaves the conversation with ids only).
    #[must_use]
    pub fn fetch_profiles(mut self, on: bool) -> Self {
        self.fetch_profiles = on;
        self
    }

    /// How history backfills pace themselves and how far back they read (default
    /// [`BackfillOptions::new`]: 30 days, 250 ms between pages, started when an account is
    /// connected through the OAuth callback).
    #[must_use]
    pub fn backfill(mut self, options: BackfillOptions) -> Self {
        self.backfill = Some(options);
        self
    }

    /// Keeps inbound attachments past Meta's expiring CDN URLs: each one with a media URL is
    /// downloaded in the background after its delivery is stored, kept in the
    /// [`MediaStore`](crate::media::MediaStore) and served at `GET {mount}/media/{id}`. Off by
    /// default. See [`MediaOptions`](super::MediaOptions) and `docs/media.md`.
    #[must_use]
    pub fn media(mut self, options: super::MediaOptions) -> Self {
        self.media = Some(options);
        self
    }

    /// How long an idempotency key of [`Inbox::send_idempotent`] (`POST /messages` with an
    /// `Idempotency-Key`) is kept, from its first use (default
    /// [`DEFAULT_IDEMPOTENCY_TTL`](super::DEFAULT_IDEMPOTENCY_TTL), 24 hours): within it a
    /// retry is answered from the record, after it the key is new again. Expired records are
    /// pruned in the background.
    #[must_use]
    pub fn idempotency_ttl(mut self, ttl: Duration) -> Self {
        self.idempotency_ttl = Some(ttl);
        self
    }

    /// Builds the inbox.
    ///
    /// # Errors
    /// [`BuildError::Missing`] when the app secret, verify token, store or tenancy is missing;
    /// [`BuildError::EmptySecret`] when an app secret or the verify token is empty;
    /// [`BuildError::Graph`] when no Graph client was given and the default cannot be built.
    pub fn build(self) -> Result<Inbox, BuildError> {
        let verifier = signature_verifier(self.secrets)?;
        let verify_token = self
            .verify_token
            .ok_or(BuildError::Missing("verify_token"))?;
        if verify_token.expose().is_empty() {
            return Err(BuildError::EmptySecret("verify_token"));
        }
        let store = self.store.ok_or(BuildError::Missing("store"))?;
        let tenancy = self.tenancy.ok_or(BuildError::Missing("tenancy"))?;
        let graph = match self.graph {
            Some(graph) => graph,
            None => GraphClient::new().map_err(BuildError::Graph)?,
        };
        // The first app secret keys `appsecret_proof`, unless the client was given its own.
        let graph = match verifier.secrets().first() {
            Some(secret) => graph.or_app_secret(secret),
            None => graph,
        };
        let media = self
            .media
            .map(|options| super::media::MediaKeeping::new(options, Arc::clone(&store)))
            .transpose()
            .map_err(BuildError::Graph)?;
        let live = LiveHub::new(
            Arc::clone(&store),
            self.live_capacity.unwrap_or(DEFAULT_LIVE_CAPACITY),
        );
        #[cfg(feature = "postgres")]
        let live = if self.fanout.is_some() {
            live.polling(super::live::SHARED_STORE_POLL)
        } else {
            live
        };
        let live = Arc::new(live);
        let router = Arc::new(Router::new(tenancy, store.change_notices()));
        #[cfg(feature = "postgres")]
        let (forward, fanout_connected) = match self.fanout {
            Some(fanout) => {
                // Weak: the fan-out's listener must not keep a dropped inbox alive.
                let outbox = fanout.attach(Arc::downgrade(&live), Arc::downgrade(&router));
                let connected = outbox.connected();
                (Some(Box::new(outbox) as Box<dyn Forward>), Some(connected))
            }
            None => (None, None),
        };
        #[cfg(not(feature = "postgres"))]
        let (forward, fanout_connected) = (None, None);
        let listeners = Listeners {
            live: Arc::clone(&live),
            router: Arc::clone(&router),
            forward,
        };
        let deliveries = Arc::new(super::deliveries::DeliveryLog::new(Arc::clone(&store)));
        let inbox = Inbox {
            inner: Arc::new(InboxInner {
                verifier,
                verify_token,
                store,
                graph,
                router,
                live,
                background: Background::new(listeners),
                change_retention: self.change_retention.unwrap_or(DEFAULT_CHANGE_RETENTION),
                runner: super::handlers::Runner::new(
                    self.handler_options.unwrap_or_default(),
                    self.handlers.len(),
                ),
                handlers: self.handlers,
                max_body_bytes: self.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY_BYTES),
                max_upload_bytes: self.max_upload_bytes.unwrap_or(DEFAULT_MAX_UPLOAD_BYTES),
                body_timeout: self.body_timeout.unwrap_or(DEFAULT_BODY_TIMEOUT),
                max_event_streams: self
                    .max_event_streams
                    .unwrap_or(DEFAULT_MAX_EVENT_STREAMS_PER_TENANT),
                status_checks: super::status::CheckCache::new(
                    self.status_check_interval
                        .unwrap_or(DEFAULT_STATUS_CHECK_INTERVAL),
                ),
                deliveries,
                profiles: self.fetch_profiles.then(Default::default),
                oauth: self.oauth,
                backfills: super::backfill::BackfillRuns::new(self.backfill.unwrap_or_default()),
                idempotency: super::idempotent::IdempotencySettings::new(
                    self.idempotency_ttl
                        .unwrap_or(super::idempotent::DEFAULT_IDEMPOTENCY_TTL),
                ),
                media,
                draining: tokio::sync::watch::channel(false).0,
                metrics: self.metrics,
                counters: crate::telemetry::record::IngestCounters::new(),
                fanout_connected,
            }),
        };
        // Inside a runtime (the usual case) the background starts now; otherwise with the
        // first call that runs in one.
        if tokio::runtime::Handle::try_current().is_ok() {
            inbox.start_background();
        }
        Ok(inbox)
    }
}

/// The verifier of webhook signatures, accepting each app secret given (more than one while
/// rotating). None may be empty.
fn signature_verifier(secrets: Vec<AppSecret>) -> Result<SignatureVerifier, BuildError> {
    let mut secrets = secrets.into_iter();
    let first = secrets.next().ok_or(BuildError::Missing("app_secret"))?;
    if first.expose().is_empty() || secrets.as_slice().iter().any(|s| s.expose().is_empty()) {
        return Err(BuildError::EmptySecret("app_secret"));
    }
    Ok(secrets.fold(
        SignatureVerifier::new(first),
        SignatureVerifier::with_secret,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::TenantId;
    use crate::store::InMemoryStore;

    fn builder(secret: &str, verify_token: &str) -> InboxBuilder {
        InboxBuilder::default()
            .app_secret(AppSecret::new(secret))
            .verify_token(VerifyToken::new(verify_token))
            .store(InMemoryStore::new())
            .tenancy(Tenancy::Single(TenantId::new("t")))
    }

    #[test]
    fn empty_secrets_are_refused() {
        assert!(matches!(
            builder("", "verify").build(),
            Err(BuildError::EmptySecret("app_secret"))
        ));
        assert!(matches!(
            builder("secret", "verify")
                .app_secret(AppSecret::new(""))
                .build(),
            Err(BuildError::EmptySecret("app_secret"))
        ));
        assert!(matches!(
            builder("secret", "").build(),
            Err(BuildError::EmptySecret("verify_token"))
        ));
        assert!(builder("secret", "verify").build().is_ok());
    }
}
