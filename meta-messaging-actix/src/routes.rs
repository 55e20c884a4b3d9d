//! The inbox routes for `App::configure`: each request's head and body go to the
//! framework-free contract ([`InboxRoutes`]), and its answer comes back as an actix-web
//! response.

use actix_web::http::StatusCode;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::web::{self, Bytes, ServiceConfig};
use actix_web::{HttpRequest, HttpResponse};
use futures_util::StreamExt;
use meta_messaging_core::contract::{
    self, Access, ApiRequest, ApiResponse, Method, MountedRoutes, RequestHeaders, ResponseBody,
    Route,
};
use meta_messaging_core::ids::TenantId;
use meta_messaging_core::inbox::Inbox;

// The routes with the host's tenant resolver, when there is one.
type AdapterState = MountedRoutes<HttpRequest, TenantRejection>;

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

/// The inbox routes, let in by `access`: [`Access::api_tokens`] (bearer tokens and the page's
/// session cookie) or [`Access::trusted_upstream`] (a gateway in front authenticates). To use
/// your app's own authentication, use [`configure_with_tenants`].
pub fn configure(inbox: Inbox, access: Access) -> impl FnOnce(&mut ServiceConfig) {
    build(AdapterState::with_access(inbox, access))
}

/// The inbox routes, with the tenant of each request chosen by your `tenants` resolver, which
/// is then the access decision: a request it refuses gets its refusal.
///
/// `tenants` maps a request to the tenant it acts for, or refuses it with the host's own
/// response (a 401 of your auth layer, say). It runs for every tenant route (not for the
/// webhook, which Meta calls, nor the OAuth callback, which carries its tenant in the signed
/// state).
pub fn configure_with_tenants(
    inbox: Inbox,
    tenants: impl Fn(&HttpRequest) -> Result<TenantId, TenantRejection> + Send + Sync + 'static,
) -> impl FnOnce(&mut ServiceConfig) {
    build(AdapterState::with_resolver(inbox, tenants))
}

fn build(state: AdapterState) -> impl FnOnce(&mut ServiceConfig) {
    move |config: &mut ServiceConfig| {
        for spec in contract::ROUTES {
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
    let resolved = match state.resolve(route, &request) {
        Ok(tenant) => tenant,
        // The host's refusal is its own response, sent as is.
        Err(TenantRejection(refusal)) => return *refusal,
    };
    let headers = RequestHeaders::from_raw_lookup(
        |name| request.headers().get(name).map(|v| v.as_bytes()),
        request.uri().authority().map(|a| a.as_str()),
    );
    let api_request = ApiRequest::new(
        Method::from_name(request.method().as_str()),
        request.query_string(),
    )
    .with_id(request.match_info().get("id"))
    .with_remote(request.peer_addr())
    .with_headers(headers);
    let answer = state
        .routes()
        .serve(route, api_request, resolved, payload)
        .await;
    into_response(answer)
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
        ResponseBody::Events(events) => {
            let stream = contract::sse::stream(events)
                .map(|frame| Ok::<_, actix_web::Error>(Bytes::from(frame)));
            builder.streaming(stream)
        }
    }
}
