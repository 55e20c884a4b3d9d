//! A strict stand-in for the Graph API: wiremock servers, Meta's fixtures, a catch-all that
//! names any unexpected request.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use meta_messaging_core::graph::{GraphClient, RetryPolicy};
use serde_json::Value;
use wiremock::matchers::{header, method, path, query_param_is_missing};
use wiremock::{Match, Mock, MockBuilder, MockServer, Request, ResponseTemplate};

pub const VERSION: &str = "v23.0";
pub const PAGE_ID: &str = "104417552380421";
pub const IG_ACCOUNT_ID: &str = "17841400000000000";
pub const PSID: &str = "6758492015643287";
pub const IGSID: &str = "5000000000000001";
pub const PAGE_TOKEN: &str = "EAAGtest-page-token-0123456789";
pub const IG_TOKEN: &str = "IGQWtest-instagram-login-token";
pub const USER_TOKEN: &str = "EAAGtest-user-token-abcdef";
pub const APP_ID: &str = "1234567890";
pub const APP_SECRET: &str = "test-app-secret-5f4dcc3b";
/// `printf %s PAGE_TOKEN | openssl dgst -sha256 -hmac APP_SECRET`: the Page token's
/// `appsecret_proof`, computed outside the client.
pub const PAGE_TOKEN_PROOF: &str =
    "f694feb3be562628b65655167e4987c28f0c7e04b4b7d0df2bb3a3248390ebbc";
/// The same for `USER_TOKEN`.
pub const USER_TOKEN_PROOF: &str =
    "f3cb9c969ac9fe3978647a19281dc0ae1fb2186a208fad605c0ec15d7e7b261b";

/// A Meta response fixture from `tests/fixtures/graph/`.
pub fn fixture(name: &str) -> Value {
    let file = format!("{}/fixtures/graph/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// The real error bodies of `fixtures/graph/field/`, by file name, sorted.
pub fn field_fixtures() -> Vec<(String, Value)> {
    let dir = format!("{}/fixtures/graph/field", env!("CARGO_MANIFEST_DIR"));
    let mut cases: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            (name, value)
        })
        .collect();
    cases.sort_by(|a, b| a.0.cmp(&b.0));
    cases
}

/// A mock Graph server whose catch-all fails any test that sends an unexpected request.
pub struct GraphMock {
    pub server: MockServer,
}

impl GraphMock {
    pub async fn start() -> Self {
        let server = MockServer::start().await;
        // Lowest priority, so it answers only what no expected mock matched. `expect(0)` fails
        // the test on drop; the answer names the request so the client's error shows it too.
        Mock::given(wiremock::matchers::any())
            .respond_with(|request: &Request| {
                ResponseTemplate::new(418).set_body_string(format!(
                    "unexpected request: {} {} body={}",
                    request.method,
                    request.url,
                    String::from_utf8_lossy(&request.body)
                ))
            })
            .with_priority(u8::MAX)
            .expect(0)
            .named("catch-all: unexpected request")
            .mount(&server)
            .await;
        Self { server }
    }

    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// A client against this server for both hosts, retrying fast.
    pub fn client(&self) -> GraphClient {
        self.builder().build().unwrap()
    }

    pub fn builder(&self) -> meta_messaging_core::graph::GraphClientBuilder {
        GraphClient::builder()
            .graph_url(self.uri())
            .instagram_url(self.uri())
            .dialog_url("https://www.facebook.com")
            .retry(fast_retries())
    }
}

pub fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .initial_backoff(Duration::from_millis(2))
        .max_backoff(Duration::from_millis(10))
}

/// `METHOD /v23.0/{rest}` with `Authorization: Bearer {token}` and no token in the query.
pub fn graph_call(verb: &str, rest: &str, token: &str) -> MockBuilder {
    Mock::given(method(verb))
        .and(path(format!("/{VERSION}/{rest}")))
        .and(header("authorization", format!("Bearer {token}").as_str()))
        .and(query_param_is_missing("access_token"))
}

/// `POST /v23.0/oauth/access_token` with exactly `fields` as its form body and nothing in the
/// query string (the app secret, the code and tokens never travel in a URL).
pub fn oauth_token_call(fields: &[(&str, &str)]) -> MockBuilder {
    Mock::given(method("POST"))
        .and(path(format!("/{VERSION}/oauth/access_token")))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(NoQuery)
        .and(FormBody::exactly(fields))
}

/// Matches a request whose URL has no query string at all.
pub struct NoQuery;

impl Match for NoQuery {
    fn matches(&self, request: &Request) -> bool {
        request.url.query().is_none()
    }
}

/// Matches a request whose query string holds exactly these parameters, in any order.
pub struct QueryIs(Vec<(String, String)>);

impl QueryIs {
    pub fn exactly(params: &[(&str, &str)]) -> Self {
        let mut params: Vec<_> = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        params.sort();
        Self(params)
    }
}

impl Match for QueryIs {
    fn matches(&self, request: &Request) -> bool {
        let mut sent: Vec<(String, String)> = request.url.query_pairs().into_owned().collect();
        sent.sort();
        sent == self.0
    }
}

/// Matches an `application/x-www-form-urlencoded` body holding exactly these fields, in any
/// order.
pub struct FormBody(Vec<(String, String)>);

impl FormBody {
    pub fn exactly(fields: &[(&str, &str)]) -> Self {
        let mut fields: Vec<_> = fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        fields.sort();
        Self(fields)
    }
}

impl Match for FormBody {
    fn matches(&self, request: &Request) -> bool {
        let mut sent: Vec<(String, String)> = url::form_urlencoded::parse(&request.body)
            .into_owned()
            .collect();
        sent.sort();
        sent == self.0
    }
}

/// Meta's JSON answer.
pub fn json(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(body)
}

/// Meta's error answer with the given code and subcode.
pub fn meta_error(status: u16, code: i64, subcode: Option<i64>, message: &str) -> ResponseTemplate {
    let mut error = serde_json::json!({
        "message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AzFbTrace01"
    });
    if let Some(sub) = subcode {
        error["error_subcode"] = sub.into();
    }
    json(status, serde_json::json!({ "error": error }))
}

/// The calls of a connection report on a healthy Page whose token has `scopes`:
/// `debug_token`, the Page with its Instagram account, one Instagram conversation, and the
/// app's webhook subscription on the Page; and, with the app token (`APP_ID|APP_SECRET`), the
/// app's approved permissions and its webhook subscriptions.
pub async fn mount_healthy_page(mock: &GraphMock, scopes: Value) {
    let app_token = format!("{APP_ID}|{APP_SECRET}");
    graph_call("GET", &format!("{PAGE_ID}/conversations"), PAGE_TOKEN)
        .and(wiremock::matchers::query_param("platform", "instagram"))
        .respond_with(json(200, serde_json::json!({"data": []})))
        .expect(1)
        .mount(&mock.server)
        .await;
    graph_call("GET", &format!("{APP_ID}/permissions"), &app_token)
        .respond_with(json(
            200,
            serde_json::json!({"data": [
                {"permission": "pages_messaging", "status": "live"},
                {"permission": "instagram_manage_messages", "status": "live"},
            ]}),
        ))
        .expect(1)
        .mount(&mock.server)
        .await;
    let fields = |names: &[&str]| -> Vec<Value> {
        names
            .iter()
            .map(|n| serde_json::json!({"name": n, "version": VERSION}))
            .collect()
    };
    graph_call("GET", &format!("{APP_ID}/subscriptions"), &app_token)
        .respond_with(json(
            200,
            serde_json::json!({"data": [
                {"object": "page", "callback_url": "https://inbox.example/webhook", "active": true,
                 "fields": fields(meta_messaging_core::graph::MESSENGER_WEBHOOK_FIELDS)},
                {"object": "instagram", "callback_url": "https://inbox.example/webhook", "active": true,
                 "fields": fields(meta_messaging_core::graph::INSTAGRAM_WEBHOOK_FIELDS)},
            ]}),
        ))
        .expect(1)
        .mount(&mock.server)
        .await;
    let mut token = fixture("debug_token_page");
    token["data"]["scopes"] = scopes;
    graph_call("GET", "debug_token", PAGE_TOKEN)
        .and(wiremock::matchers::query_param("input_token", PAGE_TOKEN))
        .respond_with(json(200, token))
        .expect(1)
        .mount(&mock.server)
        .await;
    graph_call("GET", PAGE_ID, PAGE_TOKEN)
        .respond_with(json(200, fixture("page_with_instagram")))
        .expect(1)
        .mount(&mock.server)
        .await;
    graph_call("GET", &format!("{PAGE_ID}/subscribed_apps"), PAGE_TOKEN)
        .respond_with(json(200, fixture("subscribed_apps")))
        .expect(1)
        .mount(&mock.server)
        .await;
}
