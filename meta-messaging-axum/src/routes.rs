//! The inbox routes as an axum `Router`.

use std::convert::Infallible;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{RawPathParams, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use futures_util::StreamExt;
use meta_messaging_core::http::{self, ApiRequest, ApiResponse, Method, ResponseBody, Route};
use meta_messaging_core::ids::TenantId;
use meta_messaging_core::inbox::{Inbox, InboxError, Tenancy};
use meta_messaging_core::webhook::SIGNATURE_HEADER;

/// Maps a request to the tenant it acts for, or refuses it with the host's own response (a
/// 401 of your auth layer, say). It runs for every route but the webhook and the OAuth callback
/// (Meta calls the first; the second carries its tenant in the signed state).
pub type TenantResolver = Arc<dyn Fn(&Parts) -> Result<TenantId, TenantRejection> + Send + Sync>;

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

#[derive(Clone)]
struct AdapterState {
    inbox: Inbox,
    tenants: Option<TenantResolver>,
}

/// The inbox routes, with the tenant taken from the inbox's [`Tenancy::Single`] tenant. In
/// multi-tenant mode every tenant route answers 401 `tenant_required`: use
/// [`router_with_tenants`].
///
/// The router carries its own state, so it fits any host `Router<S>` through `nest` or `merge`.
pub fn router<S: Clone + Send + Sync + 'static>(inbox: Inbox) -> Router<S> {
    build(AdapterState {
        inbox,
        tenants: None,
    })
}

/// The inbox routes, with the tenant of each request chosen by `tenants`.
pub fn router_with_tenants<S: Clone + Send + Sync + 'static>(
    inbox: Inbox,
    tenants: TenantResolver,
) -> Router<S> {
    build(AdapterState {
        inbox,
        tenants: Some(tenants),
    })
}

fn build<S: Clone + Send + Sync + 'static>(state: AdapterState) -> Router<S> {
    let mut router = Router::new();
    for spec in http::ROUTES {
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
    // The host's refusal is its own response, sent as is.
    let tenant = match (route.needs_tenant(), &state.tenants, state.inbox.tenancy()) {
        (false, _, _) => None,
        (true, Some(resolve), _) => match resolve(&parts) {
            Ok(tenant) => Some(tenant),
            Err(TenantRejection(refusal)) => return *refusal,
        },
        (true, None, Tenancy::Single(tenant)) => Some(tenant.clone()),
        (true, None, _) => None,
    };
    let limit = state.inbox.max_body_bytes();
    // Reading one byte past the limit tells an oversized body from one exactly at the limit.
    let Ok(body) = axum::body::to_bytes(body, limit.saturating_add(1)).await else {
        return into_response(ApiResponse::error(&InboxError::PayloadTooLarge { limit }));
    };
    let id = params
        .iter()
        .find(|(name, _)| *name == "id")
        .map(|(_, value)| value);
    let request = ApiRequest {
        method: Method::from_name(parts.method.as_str()),
        id,
        query: parts.uri.query().unwrap_or(""),
        signature: parts
            .headers
            .get(SIGNATURE_HEADER)
            .and_then(|v| v.to_str().ok()),
        cookie: parts
            .headers
            .get(header::COOKIE)
            .and_then(|v| v.to_str().ok()),
        body: &body,
    };
    into_response(http::handle(&state.inbox, route, tenant.as_ref(), request).await)
}

pub(crate) fn into_response(response: ApiResponse) -> Response {
    let status = StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut out = match response.body {
        ResponseBody::Bytes(bytes) => (status, Bytes::from(bytes)).into_response(),
        ResponseBody::Events(subscription) => {
            let stream = http::sse::stream(subscription).map(Ok::<_, Infallible>);
            (status, Body::from_stream(stream)).into_response()
        }
        _ => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
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
