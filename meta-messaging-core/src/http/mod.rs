//! The HTTP contract of the inbox routes, framework-free: the route table, request parsing,
//! status codes and JSON bodies. The axum and actix-web adapters register [`ROUTES`], hand each
//! request to [`handle`] and write back the [`ApiResponse`]; so both answer identically, and
//! `ADAPTERS.md` documents this one implementation.

mod oauth;
mod query;
pub mod sse;

use serde::Serialize;

use crate::ids::TenantId;
use crate::inbox::{Inbox, InboxError, SendRequest, Subscription};
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
    /// `GET /messages` (list) and `POST /messages` (send).
    Messages,
    /// `GET /accounts`.
    Accounts,
    /// `GET /status`.
    Status,
    /// `GET /events`: Server-Sent Events.
    Events,
    /// `GET /oauth/start`: redirects to Meta's Login dialog to connect accounts.
    OAuthStart,
    /// `GET /oauth/callback`: Meta redirects back here; the accounts are stored.
    OAuthCallback,
}

/// A route and its path pattern (`{id}` marks the conversation id, in the syntax both axum
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
        route: Route::Messages,
        path: "/messages",
    },
    RouteSpec {
        route: Route::Accounts,
        path: "/accounts",
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
];

impl Route {
    /// Whether the route acts for a tenant the host names: everything but the webhook (Meta
    /// calls it) and the OAuth callback (the tenant travels in its signed state).
    pub fn needs_tenant(self) -> bool {
        !matches!(self, Route::Webhook | Route::OAuthCallback)
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
    /// Anything else (answered 405).
    Other,
}

impl Method {
    /// From a method name.
    pub fn from_name(name: &str) -> Self {
        match name {
            "GET" => Method::Get,
            "POST" => Method::Post,
            _ => Method::Other,
        }
    }
}

/// What an adapter extracts from a request.
#[derive(Debug, Clone, Copy)]
pub struct ApiRequest<'a> {
    /// The method.
    pub method: Method,
    /// The `{id}` path parameter, for the conversation routes.
    pub id: Option<&'a str>,
    /// The raw query string (without `?`).
    pub query: &'a str,
    /// The `X-Hub-Signature-256` header value.
    pub signature: Option<&'a str>,
    /// The raw `Cookie` header (the OAuth callback reads its state cookie from it).
    pub cookie: Option<&'a str>,
    /// The body, read up to [`Inbox::max_body_bytes`] + 1 bytes (so an oversized body is seen
    /// as oversized without being read whole).
    pub body: &'a [u8],
}

/// The body of an [`ApiResponse`].
#[derive(Debug)]
#[non_exhaustive]
pub enum ResponseBody {
    /// A complete body.
    Bytes(Vec<u8>),
    /// A live event stream: write [`sse::stream`] of it as `text/event-stream`.
    Events(Subscription),
}

/// What an adapter answers.
#[derive(Debug)]
pub struct ApiResponse {
    /// The status code.
    pub status: u16,
    /// The `Content-Type`.
    pub content_type: &'static str,
    /// Other headers to set (`Location`, `Set-Cookie`).
    pub headers: Vec<(&'static str, String)>,
    /// The body.
    pub body: ResponseBody,
}

const JSON: &str = "application/json";

impl ApiResponse {
    pub(crate) fn json(status: u16, value: &impl Serialize) -> Self {
        match serde_json::to_vec(value) {
            Ok(bytes) => Self {
                status,
                content_type: JSON,
                headers: Vec::new(),
                body: ResponseBody::Bytes(bytes),
            },
            Err(err) => Self::error(&InboxError::InvalidRequest(format!(
                "response not serializable: {err}"
            ))),
        }
    }

    /// The response for an error: its status and `{"error": {...}}` body.
    pub fn error(err: &InboxError) -> Self {
        let body = serde_json::to_vec(&err.body()).unwrap_or_default();
        Self {
            status: err.status(),
            content_type: JSON,
            headers: Vec::new(),
            body: ResponseBody::Bytes(body),
        }
    }

    /// The `405 Method Not Allowed` answer.
    pub fn method_not_allowed() -> Self {
        Self::json(
            405,
            &serde_json::json!({"error": {"kind": "method_not_allowed", "message": "this route does not take that method",
                "fix": "see ADAPTERS.md for the methods of each route", "code": null, "subcode": null, "fbtrace_id": null}}),
        )
    }

    /// The `401` answer when a tenant route is called and no tenant could be determined.
    pub fn tenant_required() -> Self {
        Self::json(
            401,
            &serde_json::json!({"error": {"kind": "tenant_required", "message": "no tenant for this request",
                "fix": "in multi-tenant mode, pass a tenant resolver to the adapter that maps your authenticated user to a tenant",
                "code": null, "subcode": null, "fbtrace_id": null}}),
        )
    }
}

/// Serves one request of `route` for `tenant` (ignored by the webhook route).
///
/// Adapters call it with the tenant their resolver found; for tenant routes without one it
/// answers 401 `tenant_required`.
pub async fn handle(
    inbox: &Inbox,
    route: Route,
    tenant: Option<&TenantId>,
    request: ApiRequest<'_>,
) -> ApiResponse {
    match route {
        Route::Webhook => return webhook(inbox, request).await,
        Route::OAuthCallback if request.method == Method::Get => {
            return oauth::callback(inbox, request).await;
        }
        Route::OAuthCallback => return ApiResponse::method_not_allowed(),
        _ => {}
    }
    let Some(tenant) = tenant else {
        return ApiResponse::tenant_required();
    };
    match tenant_route(inbox, route, tenant, request).await {
        Ok(Some(response)) => response,
        Ok(None) => ApiResponse::method_not_allowed(),
        Err(err) => ApiResponse::error(&err),
    }
}

/// Serves a tenant route; `None` when the route does not take the method.
async fn tenant_route(
    inbox: &Inbox,
    route: Route,
    tenant: &TenantId,
    request: ApiRequest<'_>,
) -> Result<Option<ApiResponse>, InboxError> {
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
            let send: SendRequest = serde_json::from_slice(request.body)
                .map_err(|err| InboxError::InvalidRequest(format!("send request body: {err}")))?;
            ApiResponse::json(201, &inbox.send(tenant, &send).await?)
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
        (Route::Accounts, Method::Get) => {
            let accounts = inbox.accounts(tenant).await?;
            ApiResponse::json(200, &serde_json::json!({ "data": accounts }))
        }
        (Route::Status, Method::Get) => {
            let report = if query::status_check(request.query)? {
                inbox.status_checked(tenant).await?
            } else {
                inbox.status(tenant).await?
            };
            ApiResponse::json(200, &report)
        }
        (Route::Events, Method::Get) => ApiResponse {
            status: 200,
            content_type: "text/event-stream",
            headers: vec![("cache-control", "no-cache".to_owned())],
            body: ResponseBody::Events(inbox.subscribe(tenant)),
        },
        (Route::OAuthStart, Method::Get) => oauth::start(inbox, tenant)?,
        _ => return Ok(None),
    };
    Ok(Some(response))
}

async fn webhook(inbox: &Inbox, request: ApiRequest<'_>) -> ApiResponse {
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
        Method::Post => match inbox.receive(request.signature, request.body).await {
            Ok(receipt) => ApiResponse::json(200, &receipt),
            Err(e) => {
                if e.status() >= 500 {
                    tracing::error!(error = %e, "webhook delivery not stored; Meta will redeliver it");
                }
                ApiResponse::error(&e)
            }
        },
        Method::Other => ApiResponse::method_not_allowed(),
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
