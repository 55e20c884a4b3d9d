//! `appsecret_proof`: on every call with a token to graph.facebook.com once the client has the
//! app secret, never on Instagram Login calls or token exchanges, masked in errors, and Meta's
//! refusal classified with its fix.

use meta_messaging_core::graph::{ErrorKind, GraphClient, RetryPolicy};
use meta_messaging_core::ids::{AppId, Igsid, InstagramAccountId, PageId, Psid};
use meta_messaging_core::secret::{
    AppSecret, InstagramAccessToken, PageAccessToken, UserAccessToken,
};
use serde_json::json;
use wiremock::matchers::{body_json, query_param, query_param_is_missing};

use crate::support::graph_mock::*;

fn with_secret(mock: &GraphMock) -> GraphClient {
    mock.builder()
        .app_secret(AppSecret::new(APP_SECRET))
        .build()
        .unwrap()
}

#[tokio::test]
async fn every_call_with_a_token_carries_the_proof_of_that_token() {
    let mock = GraphMock::start().await;
    graph_call("POST", &format!("{PAGE_ID}/messages"), PAGE_TOKEN)
        .and(query_param("appsecret_proof", PAGE_TOKEN_PROOF))
        .and(body_json(json!({"recipient": {"id": PSID}, "messaging_type": "RESPONSE", "message": {"text": "hi"}})))
        .respond_with(json(200, fixture("send_response")))
        .expect(1)
        .mount(&mock.server)
        .await;
    graph_call("GET", "me/accounts", USER_TOKEN)
        .and(query_param("appsecret_proof", USER_TOKEN_PROOF))
        .respond_with(json(200, fixture("me_accounts")))
        .expect(1)
        .mount(&mock.server)
        .await;
    let client = with_secret(&mock);
    assert!(client.sends_appsecret_proof());
    client
        .messenger(PageId::from(PAGE_ID), PageAccessToken::new(PAGE_TOKEN))
        .text(Psid::from(PSID), "hi")
        .send()
        .await
        .unwrap();
    let pages = client
        .user(UserAccessToken::new(USER_TOKEN))
        .accounts()
        .page()
        .await
        .unwrap();
    assert!(!pages.data.is_empty());
}

#[tokio::test]
async fn without_the_secret_no_proof_is_sent() {
    let mock = GraphMock::start().await;
    graph_call("POST", &format!("{PAGE_ID}/messages"), PAGE_TOKEN)
        .and(query_param_is_missing("appsecret_proof"))
        .respond_with(json(200, fixture("send_response")))
        .expect(1)
        .mount(&mock.server)
        .await;
    let client = mock.client();
    assert!(!client.sends_appsecret_proof());
    client
        .messenger(PageId::from(PAGE_ID), PageAccessToken::new(PAGE_TOKEN))
        .text(Psid::from(PSID), "hi")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn instagram_login_calls_and_token_exchanges_carry_none() {
    let facebook = GraphMock::start().await;
    let instagram = GraphMock::start().await;
    graph_call("POST", &format!("{IG_ACCOUNT_ID}/messages"), IG_TOKEN)
        .and(query_param_is_missing("appsecret_proof"))
        .respond_with(json(200, fixture("send_response_instagram")))
        .expect(1)
        .mount(&instagram.server)
        .await;
    // No token, so nothing to prove: the exchange's URL stays without any query string.
    oauth_token_call(&[
        ("client_id", APP_ID),
        ("client_secret", APP_SECRET),
        ("redirect_uri", "https://inbox.example.com/cb"),
        ("code", "AQD-code"),
    ])
    .respond_with(json(200, fixture("oauth_token")))
    .expect(1)
    .mount(&facebook.server)
    .await;
    let client = facebook
        .builder()
        .instagram_url(instagram.uri())
        .app_secret(AppSecret::new(APP_SECRET))
        .build()
        .unwrap();
    client
        .instagram_login(
            InstagramAccountId::from(IG_ACCOUNT_ID),
            InstagramAccessToken::new(IG_TOKEN),
        )
        .text(Igsid::from(IGSID), "Hi!")
        .send()
        .await
        .unwrap();
    client
        .oauth(AppId::from(APP_ID), AppSecret::new(APP_SECRET))
        .exchange_code("AQD-code", "https://inbox.example.com/cb")
        .await
        .unwrap();
}

#[tokio::test]
async fn meta_s_refusal_names_the_fix_and_never_shows_the_proof() {
    let mock = GraphMock::start().await;
    graph_call("POST", &format!("{PAGE_ID}/messages"), PAGE_TOKEN)
        .respond_with(json(
            400,
            json!({"error": {
                "message": format!("Invalid appsecret_proof provided in the API argument: {PAGE_TOKEN_PROOF}"),
                "type": "GraphMethodException", "code": 100, "fbtrace_id": "AProofTrace"}}),
        ))
        .expect(1)
        .mount(&mock.server)
        .await;
    graph_call("GET", PAGE_ID, PAGE_TOKEN)
        .respond_with(json(
            400,
            json!({"error": {
                "message": "API calls from the server require an appsecret_proof argument",
                "type": "GraphMethodException", "code": 100, "fbtrace_id": "AProofTrace2"}}),
        ))
        .expect(1)
        .mount(&mock.server)
        .await;
    let client = mock
        .builder()
        .app_secret(AppSecret::new(APP_SECRET))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let page = client.messenger(PageId::from(PAGE_ID), PageAccessToken::new(PAGE_TOKEN));
    let err = page.text(Psid::from(PSID), "hi").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AppSecretProofInvalid);
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(PAGE_TOKEN_PROOF), "{shown}");
    assert!(shown.contains("[REDACTED]"), "{shown}");
    assert!(shown.contains("GraphClientBuilder::app_secret"), "{shown}");

    let err = page.page_info().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AppSecretProofInvalid);
    assert!(!err.kind().is_retryable() && !err.kind().is_auth());
    assert_eq!(
        err.troubleshooting().map(|t| t.text),
        Some(&["appsecret_proof"][..])
    );
}
