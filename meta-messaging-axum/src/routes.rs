//! The inbox routes as an axum `Router`: each request's head and body go to the framework-free
//! contract ([`InboxRoutes`]), and its answer comes back as an axum response.

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, RawPathParams, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use futures_util::StreamExt;
use meta_messaging_core::contract::{
    self, Access, ApiRequest, ApiResponse, Method, MountedRoutes, RequestHeaders, ResponseBody,
    Route,
};
use meta_messaging_core::ids::TenantId;
use meta_messaging_core::inbox::Inbox;

// The routes with the host's tenant resolver, when there is one.
type AdapterState = MountedRoutes<Parts, TenantRejection>;

/// The host's refusal of a request, sent as is.
///
/// ```
/// use axum::http::StatusCode;
/// use meta_messaging_axum::TenantRejection;
///
/// let refusal = TenantRejection::new((StatusCode::UNAUTHORIZED, "sign in first"));
/// ```
#[derive(Debug)]
pub struct TenantRejection(Box<Response>);

impl TenantRejection {
    /// Refuses with `response`.
    pub fn new(response: impl IntoResponse) -> Self {
        Self(Box::new(response.into_response()))
    }
}

/// The inbox routes, let in by `access`: [`Access::api_tokens`] (bearer tokens and the page's
/// session cookie) or [`Access::trusted_upstream`] (a gateway in front authenticates). To use
/// your app's own authentication, use [`router_with_tenants`].
///
/// The router carries its own state, so it fits any host `Router<S>` through `nest` or `merge`.
/// Serve it with `into_make_service_with_connect_info::<SocketAddr>()` to have refused webhook
/// signatures logged with the peer's address.
pub fn router<S: Clone + Send + Sync + 'static>(inbox: Inbox, access: Access) -> Router<S> {
    build(AdapterState::with_access(inbox, access))
}

/// The inbox routes, with the tenant of each request chosen by your `tenants` resolver, which
/// is then the access decision: a request it refuses gets its refusal.
///
/// `tenants` maps a request to the tenant it acts for, or refuses it with the host's own
/// response (a 401 of your auth layer, say). It runs for every tenant route (not for the
/// webhook, which Meta calls, nor the OAuth callback, which carries its tenant in the signed
/// state).
pub fn router_with_tenants<S: Clone + Send + Sync + 'static>(
    inbox: Inbox,
    tenants: impl Fn(&Parts) -> Result<TenantId, TenantRejection> + Send + Sync + 'static,
) -> Router<S> {
    build(AdapterState::with_resolver(inbox, tenants))
}

fn build<S: Clone + Send + Sync + 'static>(state: AdapterState) -> Router<S> {
    let mut router = Router::new();
    for spec in contract::ROUTES {
        let route = spec.route;
        router = router.route(
            spec.path,
            any(
                move |State(state): State<AdapterState>,
                      params: RawPathParams,
                      request: Request| { serve(state, route, params, request) },
            ),
        );
    }
    router.with_state(state)
}

async fn serve(
    state: AdapterState,
    route: Route,
    params: RawPathParams,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let resolved = match state.resolve(route, &parts) {
        Ok(tenant) => tenant,
        // The host's refusal is its own response, sent as is.
        Err(TenantRejection(refusal)) => return *refusal,
    };
    let id = params
        .iter()
        .find(|(name, _)| *name == "id")
        .map(|(_, value)| value);
    let headers = RequestHeaders::from_raw_lookup(
        |name| parts.headers.get(name).map(|v| v.as_bytes()),
        parts.uri.authority().map(|a| a.as_str()),
    );
    let remote = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0);
    let request = ApiRequest::new(
        Method::from_name(parts.method.as_str()),
        parts.uri.query().unwrap_or(""),
    )
    .with_id(id)
    .with_remote(remote)
    .with_headers(headers);
    let answer = state
        .routes()
        .serve(route, request, resolved, body.into_data_stream())
        .await;
    into_response(answer)
}

pub(crate) fn into_response(response: ApiResponse) -> Response {
    let status = StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut out = match response.body {
        ResponseBody::Bytes(bytes) => (status, Bytes::from(bytes)).into_response(),
        ResponseBody::Events(events) => {
            let stream = contract::sse::stream(events).map(Ok::<_, Infallible>);
            (status, Body::from_stream(stream)).into_response()
        }
    };
    let headers = out.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(response.content_type),
    );
    for (name, value) in response.headers {
        // Core only sets values it built from URLs and its own tokens, which are valid header
        // text; a value that is not is left out rather than sent mangled.
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.append(name, value);
        }
    }
    out
}
