//! The OAuth flow against the emulator: dialog, redirect with a code, exchange, long-lived token,
//! then the user's Pages.

use meta_messaging_core::graph::{ErrorKind, GraphClient, MESSAGING_SCOPES, OAuthState};
use meta_messaging_core::ids::AppId;
use meta_messaging_core::secret::AppSecret;

use super::*;

const REDIRECT: &str = "https://inbox.example.com/oauth/callback?tenant=7";

/// Follows the Login dialog like a browser would and returns the callback URL it redirects to.
async fn consent(authorize_url: &str) -> url::Url {
    let browser = crate::support::http::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let answer = browser.get(authorize_url).send().await.unwrap();
    assert_eq!(answer.status(), 303, "{}", answer.text().await.unwrap());
    url::Url::parse(answer.headers()["location"].to_str().unwrap()).unwrap()
}

fn param(url: &url::Url, key: &str) -> String {
    url.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no {key} in {url}"))
}

/// The demo world, a client whose Graph API and Login dialog are the emulator, a fresh state
/// and the Login dialog URL for it.
async fn login_started() -> (RunningEmulator, GraphClient, OAuthState, String) {
    let emulator = Emulator::start(World::demo()).await.unwrap();
    let client = GraphClient::builder()
        .graph_url(emulator.url())
        .dialog_url(emulator.url())
        .build()
        .unwrap();
    let state = OAuthState::generate();
    let url = client
        .oauth(AppId::from(APP_ID), AppSecret::new(APP_SECRET))
        .authorize_url(REDIRECT, MESSAGING_SCOPES, &state)
        .unwrap();
    (emulator, client, state, url)
}

#[tokio::test]
async fn login_exchange_and_list_the_pages() {
    let (_emulator, client, state, url) = login_started().await;
    let oauth = client.oauth(AppId::from(APP_ID), AppSecret::new(APP_SECRET));

    let callback = consent(&url).await;
    assert_eq!(callback.path(), "/oauth/callback");
    assert_eq!(param(&callback, "tenant"), "7");
    assert!(state.verify(&param(&callback, "state")));
    let code = param(&callback, "code");

    let short = oauth.exchange_code(&code, REDIRECT).await.unwrap();
    let long = oauth.long_lived(&short.access_token).await.unwrap();
    assert_eq!(long.expires_in, Some(5_183_944));
    let pages = client
        .user(long.access_token)
        .accounts()
        .page()
        .await
        .unwrap();
    assert_eq!(pages.data[0].id, PAGE_ID);

    // A code is good once.
    let err = oauth.exchange_code(&code, REDIRECT).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ParameterInvalid);
}

#[tokio::test]
async fn the_exchange_checks_the_secret_and_the_redirect_uri() {
    let emulator = Emulator::start(World::demo()).await.unwrap();
    let client = GraphClient::builder()
        .graph_url(emulator.url())
        .dialog_url(emulator.url())
        .retry(meta_messaging_core::graph::RetryPolicy::none())
        .build()
        .unwrap();
    let oauth = client.oauth(AppId::from(APP_ID), AppSecret::new(APP_SECRET));
    let url = oauth
        .authorize_url(REDIRECT, MESSAGING_SCOPES, &OAuthState::generate())
        .unwrap();
    let code = param(&consent(&url).await, "code");

    let wrong_secret = client.oauth(AppId::from(APP_ID), AppSecret::new("not-the-secret"));
    let err = wrong_secret
        .exchange_code(&code, REDIRECT)
        .await
        .unwrap_err();
    assert_eq!(err.meta_error().unwrap().code, 1);

    let err = oauth
        .exchange_code(&code, "https://elsewhere.example.com/cb")
        .await
        .unwrap_err();
    assert_eq!(err.meta_error().unwrap().error_subcode, Some(36_008));
}

#[tokio::test]
async fn consent_without_a_browser_gives_a_redeemable_code() {
    let (emulator, client, state, authorize) = login_started().await;
    let oauth = client.oauth(AppId::from(APP_ID), AppSecret::new(APP_SECRET));
    let callback = url::Url::parse(&emulator.consent(&authorize).unwrap()).unwrap();
    assert_eq!(
        param(&callback, "tenant"),
        "7",
        "the redirect URI's own query is kept"
    );
    assert_eq!(param(&callback, "state"), state.as_str());
    let token = oauth
        .exchange_code(&param(&callback, "code"), REDIRECT)
        .await
        .unwrap();
    assert_eq!(token.access_token.expose(), USER_TOKEN);

    // The dialog checks the app id, like Meta's.
    let foreign = authorize.replace(&format!("client_id={APP_ID}"), "client_id=999");
    assert!(matches!(
        emulator.consent(&foreign),
        Err(meta_messaging_emulator::ControlError::LoginRefused(_))
    ));
}
