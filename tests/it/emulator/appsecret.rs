//! The emulator with "Require App Secret" on: clients that send `appsecret_proof` work end to
//! end (sends, reads, connecting accounts); clients without it, or with another app's secret,
//! get Meta's error, classified with its fix. The OAuth exchanges take their secrets only in a
//! POST form body.

use std::sync::Arc;

use meta_messaging_core::graph::{ErrorKind, GraphClient, GraphClientBuilder, RetryPolicy};
use meta_messaging_core::ids::{AppId, Psid};
use meta_messaging_core::inbox::{Inbox, InboxError, OAuthSettings, Tenancy};
use meta_messaging_core::platform::Platform;
use meta_messaging_core::secret::{AppSecret, VerifyToken};
use meta_messaging_core::store::{InMemoryStore, MessageStore};
use meta_messaging_emulator::Inbound;
use serde_json::Value;

use super::*;

/// `printf %s EAAG-emulator-page-token | openssl dgst -sha256 -hmac emulator-app-secret`
const PAGE_TOKEN_PROOF: &str = "9f5c9497e6f93149abe29eda5300e60120229ef6a524e96a96e7b12e1aad27ff";

const CALLBACK: &str = "https://inbox.example.com/api/meta/oauth/callback";

async fn strict() -> RunningEmulator {
    Emulator::start(World::demo().require_appsecret_proof(true))
        .await
        .unwrap()
}

fn client(emulator: &RunningEmulator, secret: Option<&str>) -> GraphClient {
    let mut builder: GraphClientBuilder = GraphClient::builder()
        .graph_url(emulator.url())
        .dialog_url(emulator.url())
        .retry(RetryPolicy::none());
    if let Some(secret) = secret {
        builder = builder.app_secret(AppSecret::new(secret));
    }
    builder.build().unwrap()
}

#[tokio::test]
async fn with_the_app_secret_sends_reads_and_the_login_work() {
    let emulator = strict().await;
    let client = client(&emulator, Some(APP_SECRET));
    emulator
        .user_writes(PSID, Inbound::text("hello"))
        .await
        .unwrap();
    messenger(&client)
        .text(Psid::from(PSID), "hi")
        .send()
        .await
        .unwrap();
    assert_eq!(emulator.sent_messages().len(), 1);
    let conversations = messenger(&client).conversations().page().await.unwrap();
    assert_eq!(conversations.data.len(), 1);

    let oauth = client.oauth(AppId::from(APP_ID), AppSecret::new(APP_SECRET));
    let authorize = oauth
        .authorize_url(
            CALLBACK,
            &["pages_messaging"],
            &meta_messaging_core::graph::OAuthState::generate(),
        )
        .unwrap();
    let callback = url::Url::parse(&emulator.consent(&authorize).unwrap()).unwrap();
    let code = callback
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let short = oauth.exchange_code(&code, CALLBACK).await.unwrap();
    let long = oauth.long_lived(&short.access_token).await.unwrap();
    let pages = client
        .user(long.access_token)
        .accounts()
        .page()
        .await
        .unwrap();
    assert_eq!(pages.data[0].id.as_str(), PAGE_ID);
}

#[tokio::test]
async fn without_the_secret_or_with_another_meta_s_error_says_what_to_do() {
    let emulator = strict().await;
    emulator
        .user_writes(PSID, Inbound::text("hello"))
        .await
        .unwrap();
    for (secret, message) in [
        (
            None,
            "API calls from the server require an appsecret_proof argument",
        ),
        (
            Some("another-app-s-secret"),
            "Invalid appsecret_proof provided in the API argument",
        ),
    ] {
        let err = messenger(&client(&emulator, secret))
            .text(Psid::from(PSID), "hi")
            .send()
            .await
            .unwrap_err();
        let api = err.meta_error().unwrap();
        assert_eq!((api.status, api.code, api.error_subcode), (400, 100, None));
        assert_eq!(api.message, message);
        assert_eq!(api.error_type.as_deref(), Some("GraphMethodException"));
        assert_eq!(err.kind(), ErrorKind::AppSecretProofInvalid, "{err}");
        assert!(
            err.fix().contains("GraphClientBuilder::app_secret"),
            "{err}"
        );
        assert!(err.fix().contains("Require App Secret"), "{err}");
    }
    assert!(emulator.sent_messages().is_empty());
}

#[tokio::test]
async fn a_proof_is_checked_even_when_not_required() {
    let (emulator, _) = start(None).await;
    let err = messenger(&client(&emulator, Some("another-app-s-secret")))
        .page_info()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AppSecretProofInvalid);
    messenger(&client(&emulator, None))
        .page_info()
        .await
        .unwrap();
}

#[tokio::test]
async fn raw_requests_show_the_wire_rules() {
    let emulator = strict().await;
    let http = crate::support::http::client();
    let me = format!("{}/v23.0/me", emulator.url());
    let without = http.get(&me).bearer_auth(PAGE_TOKEN).send().await.unwrap();
    assert_eq!(without.status(), 400);
    let with = http
        .get(&me)
        .bearer_auth(PAGE_TOKEN)
        .query(&[("appsecret_proof", PAGE_TOKEN_PROOF)])
        .send()
        .await
        .unwrap();
    assert_eq!(with.status(), 200, "{}", with.text().await.unwrap());
    // An app token carries the secret itself: no proof needed, as on Meta.
    let app_token = format!("{APP_ID}|{APP_SECRET}");
    let debug = http
        .get(format!("{}/v23.0/debug_token", emulator.url()))
        .bearer_auth(&app_token)
        .query(&[("input_token", PAGE_TOKEN)])
        .send()
        .await
        .unwrap();
    assert_eq!(debug.status(), 200, "{}", debug.text().await.unwrap());

    // The token endpoint refuses secrets in the URL, whatever the method.
    let token_url = format!("{}/v23.0/oauth/access_token", emulator.url());
    let in_query = [
        ("client_id", APP_ID),
        ("client_secret", APP_SECRET),
        ("grant_type", "fb_exchange_token"),
        ("fb_exchange_token", USER_TOKEN),
    ];
    for request in [
        http.get(&token_url).query(&in_query),
        http.post(&token_url).query(&in_query),
    ] {
        let refused = request.send().await.unwrap();
        assert_eq!(refused.status(), 400);
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["error"]["code"], 100, "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("POST application/x-www-form-urlencoded body"),
            "{body}"
        );
    }
    let in_body = http.post(&token_url).form(&in_query).send().await.unwrap();
    assert_eq!(in_body.status(), 200, "{}", in_body.text().await.unwrap());
}

/// An inbox handed a client without any secret gives it its first app secret: connecting
/// through the OAuth flow works against the strict emulator. An inbox whose client was given
/// another app's secret gets Meta's refusal with the fix.
#[tokio::test]
async fn the_inbox_gives_its_app_secret_to_the_client() {
    let emulator = strict().await;
    for (graph, connects) in [
        (client(&emulator, None), true),
        (client(&emulator, Some("another-app-s-secret")), false),
    ] {
        let store = Arc::new(InMemoryStore::new());
        let inbox = Inbox::builder()
            .app_secret(AppSecret::new(APP_SECRET))
            .verify_token(VerifyToken::new("v"))
            .store(store.clone())
            .graph(graph)
            .tenancy(Tenancy::Single("default".into()))
            .oauth(OAuthSettings::new(APP_ID, CALLBACK))
            .build()
            .unwrap();
        assert!(inbox.graph().sends_appsecret_proof());
        let start = inbox.start_connect(&"default".into()).unwrap();
        let callback = emulator.consent(&start.authorize_url).unwrap();
        let query = callback.split_once('?').unwrap().1;
        let outcome = inbox.finish_connect(query, Some(&start.state)).await;
        if connects {
            let connected = outcome.unwrap();
            assert_eq!(
                connected.data.len(),
                2,
                "the Page and its Instagram account"
            );
            let accounts = store.list_accounts(&"default".into()).await.unwrap();
            assert!(accounts.iter().any(|a| a.platform == Platform::Instagram));
        } else {
            let err = outcome.unwrap_err();
            assert!(matches!(err, InboxError::Graph(_)), "{err:?}");
            assert_eq!(err.kind(), "app_secret_proof_invalid");
            assert!(err.fix().contains("app secret"), "{}", err.fix());
        }
    }
}

/// `InboxConfig` (the examples' environment variables) builds an inbox whose client signs with
/// `META_APP_SECRET`: the strict emulator accepts its calls.
#[tokio::test]
async fn an_inbox_from_the_environment_sends_the_proof() {
    let emulator = strict().await;
    let url = emulator.url();
    let vars = [
        ("META_APP_SECRET", APP_SECRET),
        ("META_VERIFY_TOKEN", "v"),
        ("META_STORE", "memory"),
        ("META_GRAPH_URL", url.as_str()),
        ("META_DIALOG_URL", url.as_str()),
        ("META_APP_ID", APP_ID),
        ("META_OAUTH_REDIRECT_URI", CALLBACK),
    ];
    let config = meta_messaging_core::inbox::InboxConfig::from_lookup(|name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    })
    .unwrap();
    let inbox = config.build().await.unwrap();
    assert!(inbox.graph().sends_appsecret_proof());
    let start = inbox.start_connect(&"default".into()).unwrap();
    let callback = emulator.consent(&start.authorize_url).unwrap();
    let connected = inbox
        .finish_connect(callback.split_once('?').unwrap().1, Some(&start.state))
        .await
        .unwrap();
    assert_eq!(connected.data.len(), 2);
}
