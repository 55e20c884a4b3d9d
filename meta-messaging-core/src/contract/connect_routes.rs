//! `GET /oauth/start` and `GET /oauth/callback`: redirects and the state cookie.

use super::{ApiRequest, ApiResponse, ResponseBody};
use crate::ids::TenantId;
use crate::inbox::{Inbox, InboxError, STATE_COOKIE};

/// Redirects to Meta's Login dialog and sets the state cookie the callback checks.
pub(super) fn start(inbox: &Inbox, tenant: &TenantId) -> Result<ApiResponse, InboxError> {
    let start = inbox.start_connect(tenant)?;
    let cookie = state_cookie(inbox, &start.state, 600);
    Ok(redirect(start.authorize_url, cookie))
}

/// Finishes the flow; clears the state cookie either way, so a callback cannot be replayed.
pub(super) async fn callback(inbox: &Inbox, request: ApiRequest<'_>) -> ApiResponse {
    let cookie_state = request
        .headers
        .cookie
        .and_then(|header| cookie_value(header, STATE_COOKIE));
    let clear = state_cookie(inbox, "", 0);
    let mut response = match inbox.finish_connect(request.query, cookie_state).await {
        Ok(connected) => match inbox.oauth().and_then(|s| s.success_redirect.clone()) {
            Some(url) => {
                let separator = if url.contains('?') { '&' } else { '?' };
                let location = format!("{url}{separator}connected={}", connected.data.len());
                redirect(location, clear.clone())
            }
            None => ApiResponse::json(200, &connected),
        },
        Err(err) => ApiResponse::error(&err),
    };
    if !response
        .headers
        .iter()
        .any(|(name, _)| *name == "set-cookie")
    {
        response.headers.push(("set-cookie", clear));
    }
    response
}

fn redirect(location: String, cookie: String) -> ApiResponse {
    ApiResponse {
        status: 302,
        content_type: "text/plain; charset=utf-8",
        headers: vec![("location", location), ("set-cookie", cookie)],
        body: ResponseBody::Bytes(Vec::new()),
    }
}

/// `HttpOnly` keeps scripts from reading it; `SameSite=Lax` still sends it on the top-level
/// redirect back from facebook.com; `Path=/` because the mount prefix is the host's choice.
fn state_cookie(inbox: &Inbox, value: &str, max_age: u32) -> String {
    let secure = inbox
        .oauth()
        .is_some_and(|s| s.redirect_uri.starts_with("https://"));
    format!(
        "{STATE_COOKIE}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{}",
        if secure { "; Secure" } else { "" }
    )
}

pub(super) fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::cookie_value;

    #[test]
    fn finds_the_state_cookie_among_others() {
        let header = "session=abc; mm_oauth_state=6163.1.2.ff; theme=dark";
        assert_eq!(cookie_value(header, "mm_oauth_state"), Some("6163.1.2.ff"));
        assert_eq!(cookie_value("mm_oauth_state=", "mm_oauth_state"), None);
        assert_eq!(cookie_value("other=1", "mm_oauth_state"), None);
    }
}
