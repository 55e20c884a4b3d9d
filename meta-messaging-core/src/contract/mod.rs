//! The HTTP contract of the inbox routes, framework-free: the route table, the access decision,
//! the checks every request passes, request parsing, status codes and JSON bodies.
//!
//! The axum and actix-web adapters register [`ROUTES`], hand each request's head and body
//! stream to [`InboxRoutes::serve`] and write back the [`ApiResponse`]; every decision (who may
//! call, from which site and host, which media type, how large and how slow a body may be, what
//! each error answers) is taken here, so both adapters behave alike by construction and
//! `ADAPTERS.md` documents this one implementation.
//!
//! ```
//! use std::sync::Arc;
//! use meta_messaging_core::contract::{Access, ApiToken, ApiTokens, InboxRoutes};
//! use meta_messaging_core::ids::TenantId;
//! use meta_messaging_core::inbox::{Inbox, Tenancy};
//! use meta_messaging_core::secret::{AppSecret, VerifyToken};
//! use meta_messaging_core::store::InMemoryStore;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let tenant = TenantId::new("default");
//! let inbox = Inbox::builder()
//!     .app_secret(AppSecret::new("app-secret"))
//!     .verify_token(VerifyToken::new("verify-token"))
//!     .store(InMemoryStore::new())
//!     .tenancy(Tenancy::Single(tenant.clone()))
//!     .build()?;
//! let tokens = ApiTokens::new().token(ApiToken::new("a-long-random-api-token"), tenant);
//! let routes = InboxRoutes::new(inbox, Access::api_tokens(tokens));
//! # let _ = routes;
//! # Ok(()) }
//! ```

mod access;
mod adapter;
mod answers;
mod backfill;
mod body;
mod comments;
mod connect_routes;
mod error;
mod events;
mod health;
mod media;
mod messages;
pub(crate) mod openapi;
mod query;
mod session;
pub mod sse;
mod upload;

use std::fmt;
use std::net::SocketAddr;

use bytes::Bytes;
use futures_util::Stream;
use serde::Serialize;

pub use crate::secret::ApiToken;
pub use access::{Access, ApiTokens, DEFAULT_SESSION_TTL, SESSION_COOKIE};
pub use adapter::{MountedRoutes, read_body, read_verified_delivery};
pub use error::{ErrorBody, ErrorDetail, body, status};
pub use events::EventStream;
pub use openapi::{openapi, openapi_json};

use self::access::AccessKind;
use self::error::Refusal;
use crate::ids::{CommentId, TenantId};
use crate::inbox::{Inbox, InboxError, Tenancy};
use crate::store::ConversationId;

/// A route of the inbox, relative to where the host mounts it (e.g. `/api/meta`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Route {
    /// `GET /webhook` (handshake) and `POST /webhook` (deliveries). No tenant: Meta calls it.
    Webhook,
    /// `GET /conversations`.
    Conversations,
    /// `POST /conversations/{id}/read`.
    ConversationRead,
    /// `POST /conversations/{id}/archive`.
    ConversationArchive,
    /// `POST /conversations/{id}/unarchive`.
    ConversationUnarchive,
    /// `POST /conversations/{id}/take_over`: a person answers it, the bot stays quiet.
    ConversationTakeOver,
    /// `POST /conversations/{id}/hand_back`: the bot answers it again.
    ConversationHandBack,
    /// `GET /messages` (list) and `POST /messages` (send).
    Messages,
    /// `POST /comments/{id}/replies`: a public or private reply to a comment (`{id}` is
    /// Meta's comment id).
    CommentReplies,
    /// `POST /comments/{id}/hide`.
    CommentHide,
    /// `POST /comments/{id}/unhide`.
    CommentUnhide,
    /// `DELETE /comments/{id}`.
    Comment,
    /// `GET /media/{id}`: a kept attachment's bytes (`{id}` is the id in its `media_url`).
    Media,
    /// `GET /accounts`.
    Accounts,
    /// `POST /accounts/{id}/backfill[?platform=messenger|instagram]`: starts (or resumes) the
    /// account's history backfill; 202 with its progress.
    AccountBackfill,
    /// `GET /status`.
    Status,
    /// `GET /events`: Server-Sent Events.
    Events,
    /// `GET /oauth/start`: redirects to Meta's Login dialog to connect accounts.
    OAuthStart,
    /// `GET /oauth/callback`: Meta redirects back here; the accounts are stored.
    OAuthCallback,
    /// `GET /session` (who is signed in), `POST /session` (sign in with an API token or a
    /// one-time code: sets the session cookie), `DELETE /session` (sign out).
    Session,
    /// `GET /openapi.json`: the OpenAPI document of these routes ([`openapi`]).
    OpenApiDocument,
    /// `GET /metrics`: the host's metrics in Prometheus' text format
    /// ([`InboxBuilder::metrics_endpoint`](crate::inbox::InboxBuilder::metrics_endpoint)); 404
    /// when the host serves none.
    Metrics,
    /// `GET /health/live`: 200 `{"status":"ok"}` while the process serves. No credentials.
    HealthLive,
    /// `GET /health/ready`: 200 `{"status":"ok"}` when [`Inbox::ready`], else 503
    /// `{"status":"unavailable"}` (the cause is logged, not sent). No credentials.
    HealthReady,
}

/// A route and its path pattern (`{id}` marks the conversation, comment or media id, in the syntax both axum
/// and actix-web use).
#[derive(Debug, Clone, Copy)]
pub struct RouteSpec {
    /// The route.
    pub route: Route,
    /// Its path, relative to the mount point.
    pub path: &'static str,
}

/// Every route the adapters mount.
pub const ROUTES: &[RouteSpec] = &[
    RouteSpec {
        route: Route::Webhook,
        path: "/webhook",
    },
    RouteSpec {
        route: Route::Conversations,
        path: "/conversations",
    },
    RouteSpec {
        route: Route::ConversationRead,
        path: "/conversations/{id}/read",
    },
    RouteSpec {
        route: Route::ConversationArchive,
        path: "/conversations/{id}/archive",
    },
    RouteSpec {
        route: Route::ConversationUnarchive,
        path: "/conversations/{id}/unarchive",
    },
    RouteSpec {
        route: Route::ConversationTakeOver,
        path: "/conversations/{id}/take_over",
    },
    RouteSpec {
        route: Route::ConversationHandBack,
        path: "/conversations/{id}/hand_back",
    },
    RouteSpec {
        route: Route::Messages,
        path: "/messages",
    },
    RouteSpec {
        route: Route::CommentReplies,
        path: "/comments/{id}/replies",
    },
    RouteSpec {
        route: Route::CommentHide,
        path: "/comments/{id}/hide",
    },
    RouteSpec {
        route: Route::CommentUnhide,
        path: "/comments/{id}/unhide",
    },
    RouteSpec {
        route: Route::Comment,
        path: "/comments/{id}",
    },
    RouteSpec {
        route: Route::Media,
        path: "/media/{id}",
    },
    RouteSpec {
        route: Route::Accounts,
        path: "/accounts",
    },
    RouteSpec {
        route: Route::AccountBackfill,
        path: "/accounts/{id}/backfill",
    },
    RouteSpec {
        route: Route::Status,
        path: "/status",
    },
    RouteSpec {
        route: Route::Events,
        path: "/events",
    },
    RouteSpec {
        route: Route::OAuthStart,
        path: "/oauth/start",
    },
    RouteSpec {
        route: Route::OAuthCallback,
        path: "/oauth/callback",
    },
    RouteSpec {
        route: Route::Session,
        path: "/session",
    },
    RouteSpec {
        route: Route::OpenApiDocument,
        path: "/openapi.json",
    },
    RouteSpec {
        route: Route::Metrics,
        path: "/metrics",
    },
    RouteSpec {
        route: Route::HealthLive,
        path: "/health/live",
    },
    RouteSpec {
        route: Route::HealthReady,
        path: "/health/ready",
    },
];

impl Route {
    /// Whether the route acts for a tenant the host names: everything but the webhook (Meta
    /// calls it), the OAuth callback (the tenant travels in its signed state), the session
    /// route (it checks the credentials it is given itself) and the health probes (an
    /// orchestrator calls them, and they say nothing about any tenant).
    pub fn needs_tenant(self) -> bool {
        !matches!(
            self,
            Route::Webhook
                | Route::OAuthCallback
                | Route::Session
                | Route::HealthLive
                | Route::HealthReady
        )
    }
}

/// The HTTP method, as far as the inbox routes care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Method {
    /// `GET`
    Get,
    /// `POST`
    Post,
    /// `DELETE`
    Delete,
    /// Anything else (answered 405).
    Other,
}

impl Method {
    /// From a method name.
    pub fn from_name(name: &str) -> Self {
        match name {
            "GET" => Method::Get,
            "POST" => Method::Post,
            "DELETE" => Method::Delete,
            _ => Method::Other,
        }
    }

    /// Whether a request with this method may change state (everything but `GET`).
    fn changes_state(self) -> bool {
        self != Method::Get
    }
}

/// The request headers the contract reads.
#[derive(Clone, Copy, Default)]
#[non_exhaustive]
pub struct RequestHeaders<'a> {
    /// `X-Hub-Signature-256`.
    pub signature: Option<&'a str>,
    /// `X-Hub-Signature` (the legacy SHA-1 signature): never verified, only told in the
    /// diagnosis of a refused delivery (a proxy that forwards it alone).
    pub legacy_signature: Option<&'a str>,
    /// `Cookie` (the OAuth state and the session cookie).
    pub cookie: Option<&'a str>,
    /// `Authorization` (`Bearer <API token>`).
    pub authorization: Option<&'a str>,
    /// `Origin`.
    pub origin: Option<&'a str>,
    /// `Sec-Fetch-Site`.
    pub sec_fetch_site: Option<&'a str>,
    /// `Host` (for HTTP/2, the `:authority`).
    pub host: Option<&'a str>,
    /// `Content-Type`.
    pub content_type: Option<&'a str>,
    /// `Last-Event-ID` (a live event stream resuming after a reconnect).
    pub last_event_id: Option<&'a str>,
    /// `Range` (`GET /media/{id}` of a video or audio).
    pub range: Option<&'a str>,
    /// `Idempotency-Key` (of `POST /messages`), as the raw bytes of its value: the contract
    /// checks it (1 to 255 visible ASCII characters, else 400), so a key that is not valid
    /// text is refused rather than ignored.
    pub idempotency_key: Option<&'a [u8]>,
}

impl<'a> RequestHeaders<'a> {
    /// The headers, looked up by lower-case name through the framework's header map
    /// (`None` for a missing header or one that is not visible ASCII), with the request URI's
    /// authority standing in for a missing `Host`: HTTP/2 carries the host in the `:authority`
    /// pseudo-header, which frameworks put in the URI.
    pub fn from_lookup(
        lookup: impl Fn(&'static str) -> Option<&'a str>,
        authority: Option<&'a str>,
    ) -> Self {
        Self::from_raw_lookup(|name| lookup(name).map(str::as_bytes), authority)
    }

    /// [`from_lookup`](Self::from_lookup) over the headers' raw bytes (what both adapters
    /// use): a value that is not visible ASCII (tab and space allowed) counts as absent, as
    /// frameworks' text views of headers have it, except for `Idempotency-Key`, which is kept
    /// raw so that an invalid key is refused, not ignored.
    pub fn from_raw_lookup(
        lookup: impl Fn(&'static str) -> Option<&'a [u8]>,
        authority: Option<&'a str>,
    ) -> Self {
        let text = |name| lookup(name).and_then(header_text);
        Self {
            signature: text("x-hub-signature-256"),
            legacy_signature: text("x-hub-signature"),
            cookie: text("cookie"),
            authorization: text("authorization"),
            origin: text("origin"),
            sec_fetch_site: text("sec-fetch-site"),
            host: text("host").or(authority),
            content_type: text("content-type"),
            last_event_id: text("last-event-id"),
            range: text("range"),
            idempotency_key: lookup("idempotency-key"),
        }
    }
}

/// A header value as text when it is visible ASCII, tab or space (what `http`'s
/// `HeaderValue::to_str` accepts).
fn header_text(value: &[u8]) -> Option<&str> {
    value
        .iter()
        .all(|b| *b == b'\t' || (b' '..=b'~').contains(b))
        .then(|| std::str::from_utf8(value).ok())
        .flatten()
}

/// What an adapter extracts from a request's head; the body follows as a stream.
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct ApiRequest<'a> {
    /// The method.
    pub method: Method,
    /// The `{id}` path parameter, for the conversation and comment routes.
    pub id: Option<&'a str>,
    /// The raw query string (without `?`).
    pub query: &'a str,
    /// The peer's address, for the log of refused webhook signatures.
    pub remote: Option<SocketAddr>,
    /// The headers the contract reads.
    pub headers: RequestHeaders<'a>,
}

impl<'a> ApiRequest<'a> {
    /// A request with this method and query string and no headers; set the rest with the
    /// `with_*` methods.
    pub fn new(method: Method, query: &'a str) -> Self {
        Self {
            method,
            id: None,
            query,
            remote: None,
            headers: RequestHeaders::default(),
        }
    }

    /// Sets the `{id}` path parameter.
    #[must_use]
    pub fn with_id(mut self, id: Option<&'a str>) -> Self {
        self.id = id;
        self
    }

    /// Sets the peer's address.
    #[must_use]
    pub fn with_remote(mut self, remote: Option<SocketAddr>) -> Self {
        self.remote = remote;
        self
    }

    /// Sets the headers.
    #[must_use]
    pub fn with_headers(mut self, headers: RequestHeaders<'a>) -> Self {
        self.headers = headers;
        self
    }
}

/// The body of an [`ApiResponse`]. Matched exhaustively by the adapters, so a new kind of
/// body is a compile error there rather than a runtime 500.
#[derive(Debug)]
pub enum ResponseBody {
    /// A complete body.
    Bytes(Vec<u8>),
    /// A live event stream: write [`sse::stream`] of it as `text/event-stream`.
    Events(EventStream),
}

/// What an adapter answers.
pub struct ApiResponse {
    /// The status code.
    pub status: u16,
    /// The `Content-Type`.
    pub content_type: &'static str,
    /// Other headers to set (`Location`, `Set-Cookie`, `Cache-Control`).
    pub headers: Vec<(&'static str, String)>,
    /// The body.
    pub body: ResponseBody,
}

/// Shown as present or absent: the cookie and the `Authorization` header carry the caller's
/// credentials.
fn presence(value: Option<&str>) -> &'static str {
    if value.is_some() {
        "[REDACTED]"
    } else {
        "None"
    }
}

impl fmt::Debug for RequestHeaders<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestHeaders")
            .field("signature", &self.signature.is_some())
            .field("legacy_signature", &self.legacy_signature.is_some())
            .field("cookie", &presence(self.cookie))
            .field("authorization", &presence(self.authorization))
            .field("origin", &self.origin)
            .field("sec_fetch_site", &self.sec_fetch_site)
            .field("host", &self.host)
            .field("content_type", &self.content_type)
            .field("range", &self.range)
            .field(
                "idempotency_key",
                &self.idempotency_key.map(String::from_utf8_lossy),
            )
            .finish()
    }
}

impl fmt::Debug for ApiRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The query can hold the verify token (handshake) or an OAuth code and state.
        f.debug_struct("ApiRequest")
            .field("method", &self.method)
            .field("id", &self.id)
            .field("query_bytes", &self.query.len())
            .field("remote", &self.remote)
            .field("headers", &self.headers)
            .finish()
    }
}

impl fmt::Debug for ApiResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `Set-Cookie` carries a session, `Location` the OAuth state: names only.
        let headers: Vec<&str> = self.headers.iter().map(|(name, _)| *name).collect();
        f.debug_struct("ApiResponse")
            .field("status", &self.status)
            .field("content_type", &self.content_type)
            .field("headers", &headers)
            .field("body", &self.body)
            .finish()
    }
}

const JSON: &str = "application/json";
/// The Prometheus text exposition format, version 0.0.4 (what every scraper reads).
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

impl ApiResponse {
    /// A JSON answer; a value that cannot be serialized is a 500, never a client error.
    pub(crate) fn json(status: u16, value: &impl Serialize) -> Self {
        match serde_json::to_vec(value) {
            Ok(bytes) => Self {
                status,
                content_type: JSON,
                headers: Vec::new(),
                body: ResponseBody::Bytes(bytes),
            },
            Err(err) => {
                tracing::error!(error = %crate::error::ErrorChain(&err), "an inbox answer could not be serialized");
                Self::refused(Refusal::Unserializable)
            }
        }
    }

    /// The response for an inbox error: its [`status`] and `{"error": {...}}` [`body`].
    pub fn error(err: &InboxError) -> Self {
        Self::error_body(status(err), &body(err))
    }

    pub(crate) fn refused(refusal: Refusal) -> Self {
        Self::error_body(refusal.status(), &refusal.body())
    }

    fn error_body(status: u16, body: &ErrorBody) -> Self {
        // Every field is a string, a number or null: serializing cannot fail.
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        Self {
            status,
            content_type: JSON,
            headers: Vec::new(),
            body: ResponseBody::Bytes(bytes),
        }
    }

    fn with_header(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }
}

/// The inbox routes with their access decision: what an adapter serves.
///
/// Cheap to clone. Built by the adapters' `router`/`configure` functions; build one yourself
/// only to write an adapter for another framework.
#[derive(Debug, Clone)]
pub struct InboxRoutes {
    inbox: Inbox,
    access: Access,
}

impl InboxRoutes {
    /// The routes of `inbox`, let in by `access`. [`Access::trusted_upstream`] is logged as a
    /// warning here, once per mount, so an open inbox never goes unnoticed.
    pub fn new(inbox: Inbox, access: Access) -> Self {
        if access.is_trusted_upstream() {
            tracing::warn!(
                "the inbox routes are mounted with Access::trusted_upstream(): every request that \
                 reaches them can read messages and send as your accounts; only a gateway that \
                 authenticates every request may stand in front of them"
            );
        }
        Self { inbox, access }
    }

    /// The inbox behind the routes.
    pub fn inbox(&self) -> &Inbox {
        &self.inbox
    }

    /// The access decision.
    pub fn access(&self) -> &Access {
        &self.access
    }

    /// Serves one request of `route`.
    ///
    /// `resolved` is the tenant the host's resolver mapped the request to (with
    /// routes mounted by [`MountedRoutes::with_resolver`]; `None` otherwise), and `body` the request's
    /// body as it arrives: it is read only when the route takes one, and only after the request
    /// passed every check, up to [`Inbox::max_body_bytes`] (a `multipart/form-data`
    /// `POST /messages`: [`Inbox::max_upload_bytes`] and room for its fields) and within
    /// [`Inbox::body_timeout`].
    pub async fn serve<S, E>(
        &self,
        route: Route,
        request: ApiRequest<'_>,
        resolved: Option<TenantId>,
        body: S,
    ) -> ApiResponse
    where
        S: Stream<Item = Result<Bytes, E>>,
    {
        match route {
            Route::Webhook => return self.webhook(request, body).await,
            Route::OAuthCallback if request.method == Method::Get => {
                return connect_routes::callback(&self.inbox, request).await;
            }
            Route::OAuthCallback => return ApiResponse::refused(Refusal::MethodNotAllowed),
            // Before the host check: a probe names the pod's address, not the inbox's host.
            Route::HealthLive => return health::live(request.method),
            Route::HealthReady => return health::ready(&self.inbox, request.method).await,
            _ => {}
        }
        if !self.access.host_allowed(request.headers.host) {
            return ApiResponse::refused(Refusal::HostNotAllowed);
        }
        if route == Route::Session {
            // Only a sign-in has a body, and it is read only once the request passed the
            // cross-site check (which `session::serve` then answers for the others).
            let signs_in = request.method == Method::Post && !from_another_site(&request.headers);
            let bytes = if signs_in {
                match self.read_json_body(request, body).await {
                    Ok(bytes) => bytes,
                    Err(refused) => return refused,
                }
            } else {
                Bytes::new()
            };
            return session::serve(self, request, &bytes);
        }
        let caller = match self.caller(request, resolved) {
            Ok(caller) => caller,
            Err(refusal) => return ApiResponse::refused(refusal),
        };
        if request.method.changes_state() && !caller.proof.may_change_state(&request.headers) {
            return ApiResponse::refused(Refusal::CrossSite);
        }
        if route == Route::Messages
            && request.method == Method::Post
            && upload::is_multipart(request.headers.content_type)
        {
            return upload::post(&self.inbox, &caller.tenant, request, body).await;
        }
        let body = if reads_body(route, request.method) {
            match self.read_json_body(request, body).await {
                Ok(bytes) => bytes,
                Err(refused) => return refused,
            }
        } else {
            Bytes::new()
        };
        match self
            .tenant_route(route, &caller.tenant, request, &body)
            .await
        {
            Ok(Some(response)) => response,
            Ok(None) => ApiResponse::refused(Refusal::MethodNotAllowed),
            Err(err) => ApiResponse::error(&err),
        }
    }

    /// Who calls: the tenant, and how the request proved it.
    fn caller(
        &self,
        request: ApiRequest<'_>,
        resolved: Option<TenantId>,
    ) -> Result<Caller, Refusal> {
        match &self.access.kind {
            AccessKind::Tokens(tokens) => tokens
                .credentials(&request.headers)
                .map(|(tenant, proof)| Caller {
                    tenant: tenant.clone(),
                    proof,
                })
                .ok_or(Refusal::Unauthorized),
            AccessKind::HostResolver => resolved
                .map(|tenant| Caller {
                    tenant,
                    proof: Proof::HostCredentials,
                })
                .ok_or(Refusal::TenantRequired),
            AccessKind::TrustedUpstream => {
                let tenant = match (resolved, self.inbox.tenancy()) {
                    (Some(tenant), _) => tenant,
                    (None, Tenancy::Single(tenant)) => tenant.clone(),
                    _ => return Err(Refusal::TenantRequired),
                };
                Ok(Caller {
                    tenant,
                    proof: Proof::HostCredentials,
                })
            }
        }
    }

    /// The body of a JSON route: the media type is checked first, so an HTML form (which can
    /// only send form and text types) never reaches the handler.
    async fn read_json_body<S, E>(
        &self,
        request: ApiRequest<'_>,
        body: S,
    ) -> Result<Bytes, ApiResponse>
    where
        S: Stream<Item = Result<Bytes, E>>,
    {
        if request.method == Method::Post && !is_json(request.headers.content_type) {
            return Err(ApiResponse::refused(Refusal::UnsupportedMediaType));
        }
        self.read_body(body).await
    }

    async fn read_body<S, E>(&self, body: S) -> Result<Bytes, ApiResponse>
    where
        S: Stream<Item = Result<Bytes, E>>,
    {
        read_body(&self.inbox, body)
            .await
            .map_err(|err| ApiResponse::error(&err))
    }

    /// Serves a tenant route; `None` when the route does not take the method.
    async fn tenant_route(
        &self,
        route: Route,
        tenant: &TenantId,
        request: ApiRequest<'_>,
        body: &[u8],
    ) -> Result<Option<ApiResponse>, InboxError> {
        let inbox = &self.inbox;
        let response = match (route, request.method) {
            (Route::Conversations, Method::Get) => {
                let query = query::conversation_query(request.query)?;
                ApiResponse::json(200, &inbox.conversations(tenant, &query).await?)
            }
            (Route::Messages, Method::Get) => {
                let query = query::message_query(request.query)?;
                ApiResponse::json(200, &inbox.messages(tenant, &query).await?)
            }
            (Route::Messages, Method::Post) => {
                messages::post(inbox, tenant, request.headers.idempotency_key, body).await
            }
            (Route::ConversationRead, Method::Post) => {
                let id = conversation_id(request.id)?;
                ApiResponse::json(200, &inbox.mark_read(tenant, id).await?)
            }
            (Route::ConversationArchive | Route::ConversationUnarchive, Method::Post) => {
                let id = conversation_id(request.id)?;
                let archive = route == Route::ConversationArchive;
                ApiResponse::json(200, &inbox.set_archived(tenant, id, archive).await?)
            }
            (Route::ConversationTakeOver, Method::Post) => {
                let id = conversation_id(request.id)?;
                ApiResponse::json(200, &inbox.take_over(tenant, id).await?)
            }
            (Route::ConversationHandBack, Method::Post) => {
                let id = conversation_id(request.id)?;
                ApiResponse::json(200, &inbox.hand_back(tenant, id).await?)
            }
            (Route::CommentReplies, Method::Post) => {
                comments::reply(inbox, tenant, comment_id(request.id)?, body).await?
            }
            (Route::CommentHide | Route::CommentUnhide, Method::Post) => {
                let id = comment_id(request.id)?;
                let hidden = route == Route::CommentHide;
                ApiResponse::json(200, &inbox.set_comment_hidden(tenant, &id, hidden).await?)
            }
            (Route::Comment, Method::Delete) => {
                let id = comment_id(request.id)?;
                ApiResponse::json(200, &inbox.delete_comment(tenant, &id).await?)
            }
            (Route::Media, Method::Get) => {
                media::get(inbox, tenant, request.id, request.headers.range).await?
            }
            (Route::Accounts, Method::Get) => {
                let data = inbox.accounts(tenant).await?;
                ApiResponse::json(200, &answers::AccountList { data })
            }
            (Route::AccountBackfill, Method::Post) => {
                backfill::post(inbox, tenant, request).await?
            }
            (Route::Status, Method::Get) => {
                let report = if query::status_check(request.query)? {
                    inbox.status_checked(tenant).await?
                } else {
                    inbox.status(tenant).await?
                };
                ApiResponse::json(200, &report)
            }
            (Route::Events, Method::Get) if inbox.is_draining() => {
                ApiResponse::refused(Refusal::ShuttingDown)
                    .with_header("retry-after", "1".to_owned())
            }
            (Route::Events, Method::Get) => {
                let after = query::last_event_id(request.query, request.headers.last_event_id)?;
                match EventStream::open(inbox, tenant, after).await? {
                    Some(stream) => ApiResponse {
                        status: 200,
                        content_type: "text/event-stream",
                        headers: vec![("cache-control", "no-cache".to_owned())],
                        body: ResponseBody::Events(stream),
                    },
                    None => ApiResponse::refused(Refusal::TooManyStreams),
                }
            }
            (Route::OAuthStart, Method::Get) => connect_routes::start(inbox, tenant)?,
            (Route::OpenApiDocument, Method::Get) => ApiResponse {
                status: 200,
                content_type: JSON,
                headers: Vec::new(),
                body: ResponseBody::Bytes(openapi_json().as_bytes().to_vec()),
            },
            (Route::Metrics, Method::Get) => match inbox.metrics_text() {
                Some(text) => ApiResponse {
                    status: 200,
                    content_type: PROMETHEUS_TEXT,
                    headers: vec![("cache-control", "no-store".to_owned())],
                    body: ResponseBody::Bytes(text.into_bytes()),
                },
                None => ApiResponse::refused(Refusal::MetricsUnavailable),
            },
            _ => return Ok(None),
        };
        Ok(Some(response))
    }

    async fn webhook<S, E>(&self, request: ApiRequest<'_>, body: S) -> ApiResponse
    where
        S: Stream<Item = Result<Bytes, E>>,
    {
        let inbox = &self.inbox;
        match request.method {
            Method::Get => match inbox.verify_subscription(request.query) {
                Ok(challenge) => ApiResponse {
                    status: 200,
                    content_type: "text/plain; charset=utf-8",
                    headers: Vec::new(),
                    body: ResponseBody::Bytes(challenge.into_bytes()),
                },
                Err(e) => ApiResponse::error(&e),
            },
            Method::Post => {
                let body = match self.read_body(body).await {
                    Ok(body) => body,
                    Err(refused) => return refused,
                };
                match inbox
                    .receive_checked(
                        request.remote,
                        request.headers.signature,
                        request.headers.legacy_signature.is_some(),
                        &body,
                    )
                    .await
                {
                    Ok(receipt) => ApiResponse::json(200, &receipt),
                    Err(e) => {
                        if status(&e) >= 500 {
                            tracing::error!(error = %crate::error::ErrorChain(&e), "webhook delivery not stored; Meta will redeliver it");
                        }
                        ApiResponse::error(&e)
                    }
                }
            }
            Method::Delete | Method::Other => ApiResponse::refused(Refusal::MethodNotAllowed),
        }
    }
}

/// The tenant a request acts for, and how it proved it.
struct Caller {
    tenant: TenantId,
    proof: Proof,
}

/// How a request proved its tenant, which decides what a state change must show about the site
/// it comes from.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Proof {
    /// A bearer token: no other site can make a browser attach it.
    Bearer,
    /// The inbox's own session cookie, which only browsers hold: a state change must show that
    /// it comes from the server's own pages.
    SessionCookie,
    /// The host's credentials (its resolver, or a gateway in front): perhaps a browser's
    /// cookie, perhaps a server-to-server call that sends no browser headers. Refused when the
    /// browser headers say another site made the request.
    HostCredentials,
}

impl Proof {
    fn may_change_state(self, headers: &RequestHeaders<'_>) -> bool {
        match self {
            Proof::Bearer => true,
            Proof::SessionCookie => same_origin(headers),
            Proof::HostCredentials => !from_another_site(headers),
        }
    }
}

/// Whether the browser headers (`Sec-Fetch-Site`, `Origin`) say another site made the request.
/// Every browser sends at least one of them with a cross-site state change; a client that sends
/// neither is not a browser, so no other site can have made it send anything.
fn from_another_site(headers: &RequestHeaders<'_>) -> bool {
    (headers.origin.is_some() || headers.sec_fetch_site.is_some()) && !same_origin(headers)
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer(authorization: &str) -> Option<&str> {
    let (scheme, token) = authorization.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty())
}

/// Whether the request comes from a page of the server's own origin: `Sec-Fetch-Site` when the
/// browser sends it, otherwise `Origin` against `Host`. A request with neither is refused: every
/// browser sends one of them with a cross-site state change.
fn same_origin(headers: &RequestHeaders<'_>) -> bool {
    if let Some(site) = headers.sec_fetch_site {
        return site.eq_ignore_ascii_case("same-origin") || site.eq_ignore_ascii_case("none");
    }
    match (headers.origin, headers.host) {
        (Some(origin), Some(host)) => url::Url::parse(origin).is_ok_and(|origin| {
            let authority = match (origin.host_str(), origin.port()) {
                (Some(name), Some(port)) => format!("{name}:{port}"),
                (Some(name), None) => name.to_owned(),
                (None, _) => return false,
            };
            authority.eq_ignore_ascii_case(host)
        }),
        _ => false,
    }
}

/// `application/json`, with or without parameters (`; charset=utf-8`).
fn is_json(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case(JSON))
}

/// Whether the route reads a request body with this method.
fn reads_body(route: Route, method: Method) -> bool {
    matches!(
        (route, method),
        (Route::Messages | Route::CommentReplies, Method::Post)
    )
}

fn comment_id(id: Option<&str>) -> Result<CommentId, InboxError> {
    match id {
        Some(id) if !id.is_empty() => Ok(CommentId::new(id)),
        _ => Err(InboxError::InvalidRequest(
            "a comment id is missing".to_owned(),
        )),
    }
}

fn conversation_id(id: Option<&str>) -> Result<ConversationId, InboxError> {
    let id = id.unwrap_or_default();
    id.parse().map_err(|_| {
        InboxError::InvalidRequest(format!(
            "conversation id {id:?} is not an id this inbox issued"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers<'a>(
        origin: Option<&'a str>,
        site: Option<&'a str>,
        host: &'a str,
    ) -> RequestHeaders<'a> {
        RequestHeaders {
            origin,
            sec_fetch_site: site,
            host: Some(host),
            ..RequestHeaders::default()
        }
    }

    #[test]
    fn same_origin_prefers_fetch_metadata_then_origin() {
        let host = "127.0.0.1:3000";
        assert!(same_origin(&headers(None, Some("same-origin"), host)));
        assert!(!same_origin(&headers(
            Some("http://127.0.0.1:3000"),
            Some("cross-site"),
            host
        )));
        assert!(!same_origin(&headers(None, Some("same-site"), host)));
        assert!(same_origin(&headers(
            Some("http://127.0.0.1:3000"),
            None,
            host
        )));
        assert!(!same_origin(&headers(
            Some("http://evil.example"),
            None,
            host
        )));
        assert!(!same_origin(&headers(Some("null"), None, host)));
        assert!(!same_origin(&headers(None, None, host)));
        assert!(same_origin(&headers(
            Some("https://Inbox.Example.com"),
            None,
            "inbox.example.com"
        )));
    }

    #[test]
    fn what_each_proof_needs_to_change_state() {
        let host = "127.0.0.1:3000";
        let none = headers(None, None, host);
        let same = headers(Some("http://127.0.0.1:3000"), None, host);
        let other = headers(Some("http://evil.example"), None, host);
        let other_site = headers(None, Some("cross-site"), host);
        for h in [&none, &same, &other, &other_site] {
            assert!(Proof::Bearer.may_change_state(h));
        }
        // The inbox's own cookie is a browser's: it must show it is same-origin.
        assert!(Proof::SessionCookie.may_change_state(&same));
        assert!(!Proof::SessionCookie.may_change_state(&none));
        assert!(!Proof::SessionCookie.may_change_state(&other));
        // The host's credentials may be a server's call, which sends no browser headers.
        assert!(Proof::HostCredentials.may_change_state(&none));
        assert!(Proof::HostCredentials.may_change_state(&same));
        assert!(!Proof::HostCredentials.may_change_state(&other));
        assert!(!Proof::HostCredentials.may_change_state(&other_site));
    }

    #[test]
    fn json_media_types() {
        assert!(is_json(Some("application/json")));
        assert!(is_json(Some("Application/JSON; charset=utf-8")));
        assert!(!is_json(Some("text/plain")));
        assert!(!is_json(Some("application/x-www-form-urlencoded")));
        assert!(!is_json(None));
    }

    #[test]
    fn bearer_tokens() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer("abc"), None);
    }
}
