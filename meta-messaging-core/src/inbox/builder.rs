//! [`InboxBuilder`]: everything an [`Inbox`] is made of.

use std::sync::Arc;

use super::error::InboxError;
use super::handler::EventHandler;
use super::live::LiveHub;
use super::oauth::OAuthSettings;
use super::tenancy::{Router, Tenancy};
use super::{Inbox, InboxInner};
use crate::graph::GraphClient;
use crate::secret::{AppSecret, VerifyToken};
use crate::store::MessageStore;
use crate::webhook::SignatureVerifier;

/// The default limit on a webhook body: 1 MiB, far above any delivery Meta sends.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// The default number of live events a subscriber may fall behind before it is dropped.
pub const DEFAULT_LIVE_CAPACITY: usize = 256;

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
///     .store(Arc::new(InMemoryStore::new()))
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
    max_body_bytes: Option<usize>,
    live_capacity: Option<usize>,
    #[cfg(feature = "postgres")]
    fanout: Option<super::LiveFanout>,
    oauth: Option<OAuthSettings>,
    fetch_profiles: bool,
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
    /// The default Graph client could not be built.
    #[error("the default Graph client could not be built")]
    Graph(#[source] InboxError),
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

    /// Where messages, conversations and accounts are kept.
    #[must_use]
    pub fn store(mut self, store: Arc<dyn MessageStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// The Graph API client used to send (default: `GraphClient::new()`, Meta's API).
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

    /// Adds a hook that runs on every stored event (see [`EventHandler`]).
    #[must_use]
    pub fn handler(mut self, handler: Arc<dyn EventHandler>) -> Self {
        self.handlers.push(handler);
        self
    }

    /// The largest webhook body accepted (default [`DEFAULT_MAX_BODY_BYTES`]); larger ones are
    /// refused with 413.
    #[must_use]
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = Some(limit);
        self
    }

    /// How many live events a subscriber may fall behind before it is dropped with a lag notice
    /// (default [`DEFAULT_LIVE_CAPACITY`]).
    #[must_use]
    pub fn live_capacity(mut self, capacity: usize) -> Self {
        self.live_capacity = Some(capacity);
        self
    }

    /// Shares live events with every other instance on the same PostgreSQL database (see
    /// [`LiveFanout`](super::LiveFanout)): what one instance receives, sends, marks read or
    /// archives reaches the subscribers of all. The store must be that database's
    /// `PostgresStore`: other instances' events are looked up in it.
    #[cfg(feature = "postgres")]
    #[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
    #[must_use]
    pub fn live_fanout(mut self, fanout: super::LiveFanout) -> Self {
        self.fanout = Some(fanout);
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

    /// Builds the inbox.
    ///
    /// # Errors
    /// [`BuildError::Missing`] when the app secret, verify token, store or tenancy is missing;
    /// [`BuildError::Graph`] when no Graph client was given and the default cannot be built.
    pub fn build(self) -> Result<Inbox, BuildError> {
        let mut secrets = self.secrets.into_iter();
        let first = secrets.next().ok_or(BuildError::Missing("app_secret"))?;
        let verifier = secrets.fold(
            SignatureVerifier::new(first),
            SignatureVerifier::with_secret,
        );
        let verify_token = self
            .verify_token
            .ok_or(BuildError::Missing("verify_token"))?;
        let store = self.store.ok_or(BuildError::Missing("store"))?;
        let tenancy = self.tenancy.ok_or(BuildError::Missing("tenancy"))?;
        let graph = match self.graph {
            Some(graph) => graph,
            None => GraphClient::new().map_err(|e| BuildError::Graph(e.into()))?,
        };
        let live = LiveHub::new(self.live_capacity.unwrap_or(DEFAULT_LIVE_CAPACITY));
        #[cfg(feature = "postgres")]
        let live = match self.fanout {
            // Cyclic: the fan-out's listener holds the hub weakly, so dropping the inbox stops it.
            Some(fanout) => Arc::new_cyclic(|hub| {
                live.forwarding(Box::new(fanout.attach(Arc::clone(&store), hub.clone())))
            }),
            None => Arc::new(live),
        };
        #[cfg(not(feature = "postgres"))]
        let live = Arc::new(live);
        Ok(Inbox {
            inner: Arc::new(InboxInner {
                verifier,
                verify_token,
                store,
                graph,
                router: Router::new(tenancy),
                live,
                handlers: self.handlers,
                max_body_bytes: self.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY_BYTES),
                profiles: self.fetch_profiles.then(Default::default),
                oauth: self.oauth,
            }),
        })
    }
}
