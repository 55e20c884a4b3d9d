//! `GET /oauth/start` and `GET /oauth/callback` through both adapters: the redirect, the state
//! cookie, and a connection that subscribes each Page and stores its accounts.

use meta_messaging_core::graph::MESSENGER_WEBHOOK_FIELDS;
use meta_messaging_core::inbox::{BackfillOptions, OAuthSettings, Tenancy};
use meta_messaging_core::platform::Platform;
use meta_messaging_core::store::MessageStore;
use serde_json::{Value, json};
use wiremock::matchers::query_param;

use crate::support::graph_mock::{
    APP_ID, APP_SECRET, USER_TOKEN, USER_TOKEN_PROOF, fixture, graph_call, json, oauth_token_call,
};
use crate::support::inbox::{harness_with, tenant};
use crate::support::servers::{Adapter, serve};

const CALLBACK: &str = "https://inbox.example.com/api/meta/oauth/callback";

/// A client that follows no redirect and sends the routes' API token (the callback needs none,
/// but a browser sends whatever it has).
fn client() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {}", crate::support::servers::API_TOKEN)
            .parse()
            .unwrap(),
    );
    crate::support::http::builder()
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn connect(adapter: Adapter) {
    let h = harness_with(Tenancy::Single(tenant()), |b| {
        // The mock expects the connect requests only; the backfill has its own tests.
        b.oauth(OAuthSettings::new(APP_ID, CALLBACK))
            .backfill(BackfillOptions::new().on_connect(false))
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
    // A refusal reported on a callback without this browser's state is refused as forged,
    // before the `error` is even read: a forged callback cannot pass for the person's choice.
    let denial =
        format!("{base}/oauth/callback?error=access_denied&error_reason=user_denied&state={state}");
    for forged in [
        client.get(&denial),
        client
            .get(&denial)
            .header("cookie", "mm_oauth_state=someone-else"),
        client
            .get(format!(
                "{base}/oauth/callback?error=access_denied&error_reason=user_denied"
            ))
            .header("cookie", format!("mm_oauth_state={state}")),
    ] {
        let answer = forged.send().await.unwrap();
        assert_eq!(answer.status(), 400);
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["error"]["kind"], "oauth_state_invalid", "{body}");
    }
    // With the state of this browser, the refusal is the person's: declined.
    let denied = client
        .get(&denial)
        .header("cookie", format!("mm_oauth_state={state}"))
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), 400);
    let body: Value = denied.json().await.unwrap();
    assert_eq!(body["error"]["kind"], "oauth_denied");

    // The real callback: code -> user token -> long-lived token -> Pages -> subscribe each.
    // The exchanges POST their secrets in a form body; the Graph calls with a token carry its
    // appsecret_proof, keyed with the inbox's app secret without any setting of the client.
    oauth_token_call(&[
        ("client_id", APP_ID),
        ("client_secret", APP_SECRET),
        ("redirect_uri", CALLBACK),
        ("code", "AQD-code"),
    ])
    .respond_with(json(200, fixture("oauth_token")))
    .expect(1)
    .mount(&h.graph.server)
    .await;
    oauth_token_call(&[
        ("grant_type", "fb_exchange_token"),
        ("client_id", APP_ID),
        ("client_secret", APP_SECRET),
        ("fb_exchange_token", "EAAGuser-token-short-lived"),
    ])
    .respond_with(json(
        200,
        json!({"access_token": USER_TOKEN, "token_type": "bearer", "expires_in": 5_183_944}),
    ))
    .expect(1)
    .mount(&h.graph.server)
    .await;
    graph_call("GET", "me/accounts", USER_TOKEN)
        .and(query_param("appsecret_proof", USER_TOKEN_PROOF))
        .respond_with(json(200, fixture("me_accounts")))
        .expect(1)
        .mount(&h.graph.server)
        .await;
    // `printf %s TOKEN | openssl dgst -sha256 -hmac APP_SECRET`
    for (page, token, proof) in [
        (
            "104417552380421",
            "EAAGpage-token-from-me-accounts",
            "56ad8ae3bc85158809902b0e2d46b64e709100e306d1e0214a5cbe638f1d8f99",
        ),
        (
            "104417552380422",
            "EAAGsecond-page-token",
            "f3e7f4f6d9b2fd2b53467e8220871628c54bab3c4b95c802999a29fd63034fba",
        ),
    ] {
        graph_call("POST", &format!("{page}/subscribed_apps"), token)
            .and(query_param("appsecret_proof", proof))
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

#[tokio::test]
async fn a_forged_refusal_is_a_state_error_even_when_cookie_and_state_agree() {
    let h = harness_with(Tenancy::Single(tenant()), |b| {
        // The mock expects the connect requests only; the backfill has its own tests.
        b.oauth(OAuthSettings::new(APP_ID, CALLBACK))
            .backfill(BackfillOptions::new().on_connect(false))
    })
    .await;
    // Same value in the query and the cookie, but not signed by this inbox.
    let forged = "73686f70.0000000000000001.99999999999.00";
    let err = h
        .inbox
        .finish_connect(
            &format!("error=access_denied&error_reason=user_denied&state={forged}"),
            Some(forged),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, meta_messaging_core::inbox::InboxError::OAuthState(_)),
        "{err:?}"
    );
    assert_eq!(err.kind(), "oauth_state_invalid");

    // Signed by this inbox, the same refusal is the person's.
    let start = h.inbox.start_connect(&tenant()).unwrap();
    let err = h
        .inbox
        .finish_connect(
            &format!(
                "error=access_denied&error_reason=user_denied&state={}",
                start.state
            ),
            Some(&start.state),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "oauth_denied", "{err:?}");
    assert!(err.to_string().contains("user_denied"), "{err}");
}
