//! `GET /oauth/start` and `GET /oauth/callback` through both adapters: the redirect, the state
//! cookie, and a connection that subscribes each Page and stores its accounts.

use meta_messaging_core::graph::MESSENGER_WEBHOOK_FIELDS;
use meta_messaging_core::inbox::{OAuthSettings, Tenancy};
use meta_messaging_core::platform::Platform;
use meta_messaging_core::store::MessageStore;
use serde_json::{Value, json};
use wiremock::Mock;
use wiremock::matchers::{method, path, query_param};

use super::servers::{Adapter, serve};
use crate::inbox::setup::{harness_with, tenant};
use crate::support::graph_mock::{APP_ID, APP_SECRET, USER_TOKEN, fixture, graph_call, json};

const CALLBACK: &str = "https://inbox.example.com/api/meta/oauth/callback";

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn connect(adapter: Adapter) {
    let h = harness_with(Tenancy::Single(tenant()), |b| {
        b.oauth(OAuthSettings::new(APP_ID, CALLBACK))
    })
    .await;
    let base = serve(adapter, h.inbox.clone()).await;
    let client = client();

    // Start: a redirect to Meta's dialog, and the state in an HttpOnly cookie.
    let start = client
        .get(format!("{base}/oauth/start"))
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), 302);
    let location = url::Url::parse(start.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(location.path(), "/v23.0/dialog/oauth");
    let query: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(query["client_id"], APP_ID);
    assert_eq!(query["redirect_uri"], CALLBACK);
    assert_eq!(query["response_type"], "code");
    assert!(
        query["scope"].contains("pages_messaging")
            && query["scope"].contains("instagram_manage_messages")
    );
    let cookie = start.headers()["set-cookie"].to_str().unwrap().to_owned();
    let state = &query["state"];
    assert!(
        cookie.starts_with(&format!("mm_oauth_state={state}; ")),
        "{cookie}"
    );
    for attribute in [
        "HttpOnly",
        "SameSite=Lax",
        "Secure",
        "Path=/",
        "Max-Age=600",
    ] {
        assert!(cookie.contains(attribute), "{attribute} missing: {cookie}");
    }

    // Refusals: no cookie, another browser's cookie, a cancelled dialog.
    let callback = format!("{base}/oauth/callback?code=AQD-code&state={state}");
    let no_cookie = client.get(&callback).send().await.unwrap();
    assert_eq!(no_cookie.status(), 400);
    let body: Value = no_cookie.json().await.unwrap();
    assert_eq!(body["error"]["kind"], "oauth_state_invalid");
    let other = client
        .get(&callback)
        .header("cookie", "mm_oauth_state=someone-else")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 400);
    let denied = client
        .get(format!(
            "{base}/oauth/callback?error=access_denied&error_reason=user_denied&state={state}"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), 400);
    let body: Value = denied.json().await.unwrap();
    assert_eq!(body["error"]["kind"], "oauth_denied");

    // The real callback: code -> user token -> long-lived token -> Pages -> subscribe each.
    Mock::given(method("GET"))
        .and(path("/v23.0/oauth/access_token"))
        .and(query_param("client_id", APP_ID))
        .and(query_param("client_secret", APP_SECRET))
        .and(query_param("redirect_uri", CALLBACK))
        .and(query_param("code", "AQD-code"))
        .respond_with(json(200, fixture("oauth_token")))
        .expect(1)
        .mount(&h.graph.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v23.0/oauth/access_token"))
        .and(query_param("grant_type", "fb_exchange_token"))
        .and(query_param(
            "fb_exchange_token",
            "EAAGuser-token-short-lived",
        ))
        .respond_with(json(
            200,
            json!({"access_token": USER_TOKEN, "token_type": "bearer", "expires_in": 5_183_944}),
        ))
        .expect(1)
        .mount(&h.graph.server)
        .await;
    graph_call("GET", "me/accounts", USER_TOKEN)
        .respond_with(json(200, fixture("me_accounts")))
        .expect(1)
        .mount(&h.graph.server)
        .await;
    for (page, token) in [
        ("104417552380421", "EAAGpage-token-from-me-accounts"),
        ("104417552380422", "EAAGsecond-page-token"),
    ] {
        graph_call("POST", &format!("{page}/subscribed_apps"), token)
            .and(query_param(
                "subscribed_fields",
                MESSENGER_WEBHOOK_FIELDS.join(",").as_str(),
            ))
            .respond_with(json(200, json!({"success": true})))
            .expect(1)
            .mount(&h.graph.server)
            .await;
    }
    let done = client
        .get(&callback)
        .header("cookie", format!("session=1; mm_oauth_state={state}"))
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    let cleared = done.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cleared.starts_with("mm_oauth_state=; ") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    let connected: Value = done.json().await.unwrap();
    assert_eq!(connected["tenant_id"], tenant().as_str());
    let accounts = connected["data"].as_array().unwrap();
    assert_eq!(
        accounts.len(),
        3,
        "two Pages and the Instagram account of the first: {connected}"
    );
    assert!(
        !connected.to_string().contains("EAAGpage-token"),
        "tokens are never serialized"
    );

    let stored = h.store.list_accounts(&tenant()).await.unwrap();
    assert_eq!(stored.len(), 3);
    let instagram = stored
        .iter()
        .find(|a| a.platform == Platform::Instagram)
        .unwrap();
    assert_eq!(instagram.account_id, "17841400000000000");
    assert_eq!(
        instagram.linked_page_id.as_ref().map(|p| p.as_str()),
        Some("104417552380421")
    );
    assert_eq!(instagram.username.as_deref(), Some("acmeshoes"));
    assert!(stored.iter().all(|a| a.token.is_some()));
}

#[tokio::test]
async fn axum_connects_pages_and_instagram_accounts() {
    connect(Adapter::Axum).await;
}

#[tokio::test]
async fn actix_connects_pages_and_instagram_accounts() {
    connect(Adapter::Actix).await;
}

#[tokio::test]
async fn without_oauth_settings_the_routes_say_so() {
    let h = harness_with(Tenancy::Single(tenant()), |b| b).await;
    let base = serve(Adapter::Axum, h.inbox.clone()).await;
    let response = client()
        .get(format!("{base}/oauth/start"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["kind"], "oauth_not_configured");
}
