//! OAuth, the user's Pages, webhook subscriptions, debug_token and permissions.

use meta_messaging_core::graph::{
    Credential, ErrorKind, MESSENGER_WEBHOOK_FIELDS, OAuthState, PermissionStatus,
};
use meta_messaging_core::ids::{AppId, PageId};
use meta_messaging_core::secret::{AppSecret, PageAccessToken, UserAccessToken};
use wiremock::Mock;
use wiremock::matchers::{header_exists, method, path, query_param};

use crate::support::graph_mock::*;

#[tokio::test]
async fn authorize_url_carries_client_id_redirect_scopes_and_state() {
    let mock = GraphMock::start().await;
    let oauth = mock
        .client()
        .oauth(AppId::from(APP_ID), AppSecret::new(APP_SECRET));
    let state = OAuthState::generate();
    let url = oauth
        .authorize_url(
            "https://inbox.example.com/oauth/callback?tenant=7",
            &["pages_messaging", "instagram_manage_messages"],
            &state,
        )
        .unwrap();
    let parsed = url::Url::parse(&url).unwrap();
    assert_eq!(parsed.path(), "/v23.0/dialog/oauth");
    let query: std::collections::HashMap<_, _> = parsed.query_pairs().into_owned().collect();
    assert_eq!(query["client_id"], APP_ID);
    assert_eq!(
        query["redirect_uri"],
        "https://inbox.example.com/oauth/callback?tenant=7"
    );
    assert_eq!(query["scope"], "pages_messaging,instagram_manage_messages");
    assert_eq!(query["response_type"], "code");
    assert!(state.verify(&query["state"]));
    assert!(!state.verify("forged"));
    assert!(!url.contains(APP_SECRET));
    assert!(oauth.authorize_url("not a url", &[], &state).is_err());
}

#[tokio::test]
async fn code_exchange_and_long_lived_token() {
    let mock = GraphMock::start().await;
    // POSTs with the secrets in the form body; `oauth_token_call` also checks the URL has no
    // query string, so neither the secret, the code nor a token can reach an access log.
    oauth_token_call(&[
        ("client_id", APP_ID),
        ("client_secret", APP_SECRET),
        ("redirect_uri", "https://inbox.example.com/cb"),
        ("code", "AQD-code"),
    ])
    .respond_with(json(200, fixture("oauth_token")))
    .expect(1)
    .mount(&mock.server)
    .await;
    oauth_token_call(&[
        ("grant_type", "fb_exchange_token"),
        ("client_id", APP_ID),
        ("client_secret", APP_SECRET),
        ("fb_exchange_token", "EAAGuser-token-short-lived"),
    ])
    .respond_with(json(
        200,
        serde_json::json!({"access_token": USER_TOKEN, "token_type": "bearer", "expires_in": 5_183_944}),
    ))
    .expect(1)
    .mount(&mock.server)
    .await;
    let oauth = mock
        .client()
        .oauth(AppId::from(APP_ID), AppSecret::new(APP_SECRET));
    let short = oauth
        .exchange_code("AQD-code", "https://inbox.example.com/cb")
        .await
        .unwrap();
    assert_eq!(short.access_token.expose(), "EAAGuser-token-short-lived");
    assert!(
        !format!("{short:?}").contains("EAAGuser"),
        "tokens are redacted in Debug"
    );
    let long = oauth.long_lived(&short.access_token).await.unwrap();
    assert_eq!(long.access_token.expose(), USER_TOKEN);
    assert_eq!(long.expires_in, Some(5_183_944));
}

#[tokio::test]
async fn a_failed_exchange_does_not_leak_the_app_secret() {
    let mock = GraphMock::start().await;
    Mock::given(method("POST"))
        .and(path("/v23.0/oauth/access_token"))
        .respond_with(meta_error(
            400,
            100,
            Some(36009),
            &format!("Invalid client_secret {APP_SECRET} for code AQD-used"),
        ))
        .expect(1)
        .mount(&mock.server)
        .await;
    let oauth = mock
        .client()
        .oauth(AppId::from(APP_ID), AppSecret::new(APP_SECRET));
    let err = oauth
        .exchange_code("AQD-used", "https://inbox.example.com/cb")
        .await
        .unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(
        !shown.contains(APP_SECRET) && !shown.contains("AQD-used"),
        "{shown}"
    );
    assert_eq!(err.kind(), ErrorKind::ParameterInvalid);
}

#[tokio::test]
async fn me_accounts_lists_pages_with_tokens_and_instagram_accounts() {
    let mock = GraphMock::start().await;
    graph_call("GET", "me/accounts", USER_TOKEN)
        .and(query_param(
            "fields",
            "id,name,access_token,category,tasks,instagram_business_account{id,username,name,profile_picture_url}",
        ))
        .respond_with(json(200, fixture("me_accounts")))
        .expect(1)
        .mount(&mock.server)
        .await;
    let user = mock.client().user(UserAccessToken::new(USER_TOKEN));
    let pages = user.accounts().page().await.unwrap();
    assert_eq!(pages.data.len(), 2);
    let acme = &pages.data[0];
    assert_eq!(acme.id, PAGE_ID);
    assert_eq!(
        acme.access_token.as_ref().unwrap().expose(),
        "EAAGpage-token-from-me-accounts"
    );
    assert_eq!(
        acme.instagram_business_account.as_ref().unwrap().id,
        IG_ACCOUNT_ID
    );
    assert!(acme.tasks.iter().any(|t| t == "MESSAGING"));
    assert!(pages.data[1].instagram_business_account.is_none());
    assert!(!format!("{pages:?}").contains("EAAGpage-token"));
}

#[tokio::test]
async fn permissions_of_the_user() {
    let mock = GraphMock::start().await;
    graph_call("GET", "me/permissions", USER_TOKEN)
        .respond_with(json(200, fixture("permissions")))
        .expect(1)
        .mount(&mock.server)
        .await;
    let grants = mock
        .client()
        .user(UserAccessToken::new(USER_TOKEN))
        .permissions()
        .await
        .unwrap();
    let declined: Vec<_> = grants
        .iter()
        .filter(|g| g.status == PermissionStatus::Declined)
        .map(|g| g.permission.as_str())
        .collect();
    assert_eq!(declined, ["instagram_manage_messages"]);
}

#[tokio::test]
async fn subscribe_the_page_and_read_the_subscription() {
    let mock = GraphMock::start().await;
    graph_call("POST", &format!("{PAGE_ID}/subscribed_apps"), PAGE_TOKEN)
        .and(query_param(
            "subscribed_fields",
            MESSENGER_WEBHOOK_FIELDS.join(",").as_str(),
        ))
        .respond_with(json(200, serde_json::json!({"success": true})))
        .expect(1)
        .mount(&mock.server)
        .await;
    graph_call("GET", &format!("{PAGE_ID}/subscribed_apps"), PAGE_TOKEN)
        .respond_with(json(200, fixture("subscribed_apps")))
        .expect(1)
        .mount(&mock.server)
        .await;
    let page = mock
        .client()
        .messenger(PageId::from(PAGE_ID), PageAccessToken::new(PAGE_TOKEN));
    assert!(page.subscribe_app(MESSENGER_WEBHOOK_FIELDS).await.unwrap());
    let apps = page.subscribed_apps().await.unwrap();
    assert_eq!(apps[0].id, APP_ID);
    assert!(
        apps[0]
            .subscribed_fields
            .iter()
            .any(|f| f == "message_echoes")
    );
}

#[tokio::test]
async fn debug_token_with_the_app_token() {
    let mock = GraphMock::start().await;
    let app_token = format!("{APP_ID}|{APP_SECRET}");
    graph_call("GET", "debug_token", &app_token)
        .and(query_param("input_token", PAGE_TOKEN))
        .respond_with(json(200, fixture("debug_token_page")))
        .expect(1)
        .mount(&mock.server)
        .await;
    let oauth = mock
        .client()
        .oauth(AppId::from(APP_ID), AppSecret::new(APP_SECRET));
    let info = oauth
        .debug_token(&Credential::Page(PageAccessToken::new(PAGE_TOKEN)))
        .await
        .unwrap();
    assert!(info.is_valid);
    assert_eq!(info.token_type.as_deref(), Some("PAGE"));
    assert_eq!(info.expires(), None, "expires_at 0 means never");
    assert!(info.has_scope("instagram_manage_messages"));
    assert_eq!(
        info.granular_scopes[0].target_ids.as_deref(),
        Some(&[PAGE_ID.to_owned()][..])
    );
}

#[tokio::test]
async fn page_info_reads_the_linked_instagram_account() {
    let mock = GraphMock::start().await;
    graph_call("GET", PAGE_ID, PAGE_TOKEN)
        .and(query_param(
            "fields",
            "id,name,instagram_business_account{id,username,name,profile_picture_url}",
        ))
        .and(header_exists("user-agent"))
        .respond_with(json(200, fixture("page_with_instagram")))
        .expect(1)
        .mount(&mock.server)
        .await;
    let page = mock
        .client()
        .messenger(PageId::from(PAGE_ID), PageAccessToken::new(PAGE_TOKEN));
    let info = page.page_info().await.unwrap();
    assert_eq!(
        info.instagram_business_account.unwrap().username.as_deref(),
        Some("acmeshoes")
    );
}
