//! `/session`: the page signs in with an API token or a one-time code and gets a session
//! cookie; it asks who is signed in; it signs out.

use bytes::Bytes;

use super::access::AccessKind;
use super::answers::{SessionTenant, SignIn};
use super::error::Refusal;
use super::{
    ApiRequest, ApiResponse, InboxRoutes, Method, RequestHeaders, SESSION_COOKIE, from_another_site,
};

/// Serves `/session`; `body` was read by the caller (JSON, checked media type).
pub(super) fn serve(routes: &InboxRoutes, request: ApiRequest<'_>, body: &Bytes) -> ApiResponse {
    let AccessKind::Tokens(tokens) = &routes.access.kind else {
        return ApiResponse::refused(Refusal::SessionsUnavailable);
    };
    let headers = &request.headers;
    // Signing in or out from another site (login CSRF, forced sign-out) is refused like any
    // other cross-site state change.
    let from_elsewhere = from_another_site(headers);
    match request.method {
        Method::Get => match cookie(headers.cookie).and_then(|v| tokens.session_tenant(v)) {
            Some(tenant) => ApiResponse::json(
                200,
                &SessionTenant {
                    tenant_id: tenant.clone(),
                },
            ),
            None => ApiResponse::refused(Refusal::Unauthorized),
        },
        Method::Post if from_elsewhere => ApiResponse::refused(Refusal::CrossSite),
        Method::Post => {
            let Ok(SignIn { token }) = serde_json::from_slice(body) else {
                return ApiResponse::refused(Refusal::Unauthorized);
            };
            match tokens.sign_in(token.trim()) {
                Some((tenant, value)) => {
                    ApiResponse::json(200, &SessionTenant { tenant_id: tenant }).with_header(
                        "set-cookie",
                        set_cookie(headers, &value, tokens.session_max_age()),
                    )
                }
                None => ApiResponse::refused(Refusal::Unauthorized),
            }
        }
        Method::Delete if from_elsewhere => ApiResponse::refused(Refusal::CrossSite),
        Method::Delete => ApiResponse {
            status: 204,
            content_type: "text/plain; charset=utf-8",
            headers: vec![("set-cookie", set_cookie(headers, "", 0))],
            body: super::ResponseBody::Bytes(Vec::new()),
        },
        Method::Other => ApiResponse::refused(Refusal::MethodNotAllowed),
    }
}

/// `HttpOnly` keeps scripts (and so injected ones) from reading it; `SameSite=Strict` keeps
/// browsers from sending it with any request another site starts; `Secure` when the page was
/// loaded over https (its `Origin` says so); `Path=/` because the mount prefix is the host's
/// choice and the page may live outside it.
fn set_cookie(headers: &RequestHeaders<'_>, value: &str, max_age: u64) -> String {
    let secure = headers
        .origin
        .is_some_and(|origin| origin.to_ascii_lowercase().starts_with("https://"));
    format!(
        "{SESSION_COOKIE}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The session cookie's value in a `Cookie` header.
pub(super) fn cookie(header: Option<&str>) -> Option<&str> {
    super::connect_routes::cookie_value(header?, SESSION_COOKIE)
}
