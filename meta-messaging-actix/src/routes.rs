//! The inbox routes for `App::configure`.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, COOKIE};
use actix_web::web::{self, Bytes, BytesMut, ServiceConfig};
use actix_web::{HttpRequest, HttpResponse};
use futures_util::StreamExt;
use meta_messaging_core::http::{self, ApiRequest, ApiResponse, Method, ResponseBody, Route};
use meta_messaging_core::ids::TenantId;
use meta_messaging_core::inbox::{Inbox, InboxError, Tenancy};
use meta_messaging_core::webhook::SIGNATURE_HEADER;

/// Maps a request to the tenant it acts for, or refuses it with the host's own response (a
/// 401 of your auth layer, say). It runs for every route but the webhook and the OAuth callback
/// (Meta calls the first; the second carries its tenant in the signed state).
pub type TenantResolver =
    Arc<dyn Fn(&HttpRequest) -> Result<TenantId, TenantRejection> + Send + Sync>;

/// The host's refusal of a request, sent as is.
///
/// ```
/// use actix_web::HttpResponse;
/// use meta_messaging_actix::TenantRejection;
///
/// let refusal = TenantRejection::new(HttpResponse::Unauthorized().body("sign in first"));
/// ```
#[derive(Debug)]
pub struct TenantRejection(Box<HttpResponse>);

impl TenantRejection {
    /// Refuses with `response`.
    pub fn new(response: HttpResponse) -> Self {
        Self(Box::new(response))
    }
}

#[derive(Clone)]
struct AdapterState {
    inbox: Inbox,
    tenants: Option<TenantResolver>,
}

/// The inbox routes, with the tenant taken from the inbox's [`Tenancy::Single`] tenant. In
/// multi-tenant mode every tenant route answers 401 `tenant_required`: use
/// [`configure_with_tenants`].
pub fn configure(inbox: Inbox) -> impl FnOnce(&mut ServiceConfig) {
    build(AdapterState {
        inbox,
        tenants: None,
    })
}

/// The inbox routes, with the tenant of each request chosen by `tenants`.
pub fn configure_with_tenants(
    inbox: Inbox,
    tenants: TenantResolver,
) -> impl FnOnce(&mut ServiceConfig) {
    build(AdapterState {
        inbox,
        tenants: Some(tenants),
    })
}

fn build(state: AdapterState) -> impl FnOnce(&mut ServiceConfig) {
    move |config: &mut ServiceConfig| {
        for spec in http::ROUTES {
            let route = spec.route;
            let state = state.clone();
            config.service(web::resource(spec.path).default_service(web::to(
                move |request: HttpRequest, payload: web::Payload| {
                    serve(state.clone(), route, request, payload)
                },
            )));
        }
    }
}

async fn serve(
    state: AdapterState,
    route: Route,
    request: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    // The host's refusal is its own response, sent as is.
    let tenant = match (route.needs_tenant(), &state.tenants, state.inbox.tenancy()) {
        (false, _, _) => None,
        (true, Some(resolve), _) => match resolve(&request) {
            Ok(tenant) => Some(tenant),
            Err(TenantRejection(refusal)) => return *refusal,
        },
        (true, None, Tenancy::Single(tenant)) => Some(tenant.clone()),
        (true, None, _) => None,
    };
    let limit = state.inbox.max_body_bytes();
    let Some(body) = read_limited(payload, limit).await else {
        return into_response(ApiResponse::error(&InboxError::PayloadTooLarge { limit }));
    };
    let api_request = ApiRequest {
        method: Method::from_name(request.method().as_str()),
        id: request.match_info().get("id"),
        query: request.query_string(),
        signature: request
            .headers()
            .get(SIGNATURE_HEADER)
            .and_then(|v| v.to_str().ok()),
        cookie: request.headers().get(COOKIE).and_then(|v| v.to_str().ok()),
        body: &body,
    };
    into_response(http::handle(&state.inbox, route, tenant.as_ref(), api_request).await)
}

/// The whole body, or `None` once it grows past `limit` (or the connection fails mid-body).
pub(crate) async fn read_limited<E>(
    mut payload: impl futures_util::Stream<Item = Result<Bytes, E>> + Unpin,
    limit: usize,
) -> Option<Bytes> {
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.ok()?;
        if body.len() + chunk.len() > limit {
            return None;
        }
        body.extend_from_slice(&chunk);
    }
    Some(body.freeze())
}

pub(crate) fn into_response(response: ApiResponse) -> HttpResponse {
    let status = StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut builder = HttpResponse::build(status);
    builder.insert_header((CONTENT_TYPE, response.content_type));
    for header in response.headers {
        builder.append_header(header);
    }
    match response.body {
        ResponseBody::Bytes(bytes) => builder.body(bytes),
        ResponseBody::Events(subscription) => {
            let stream = http::sse::stream(subscription)
                .map(|frame| Ok::<_, actix_web::Error>(Bytes::from(frame)));
            builder.streaming(stream)
        }
        _ => HttpResponse::InternalServerError().finish(),
    }
}
