//! Tokens, Pages and webhook subscriptions, through the real client (`meta-messaging doctor`
//! against the emulator is in `cli/doctor_emulator.rs`).

use meta_messaging_core::graph::{Credential, ErrorKind, MESSENGER_WEBHOOK_FIELDS};
use meta_messaging_core::ids::AppId;
use meta_messaging_core::secret::{AppSecret, PageAccessToken, UserAccessToken};

use super::*;

#[tokio::test]
async fn debug_token_describes_page_tokens_and_expiry() {
    let (emulator, client) = start(None).await;
    let oauth = client.oauth(AppId::from(APP_ID), AppSecret::new(APP_SECRET));
    let page_token = Credential::Page(PageAccessToken::new(PAGE_TOKEN));
    let info = oauth.debug_token(&page_token).await.unwrap();
    assert!(info.is_valid);
    assert_eq!(info.token_type.as_deref(), Some("PAGE"));
    assert_eq!(info.profile_id.as_deref(), Some(PAGE_ID));
    assert_eq!(info.expires(), None);
    assert!(info.has_scope("instagram_manage_messages"));

    emulator.expire_token(PAGE_TOKEN).unwrap();
    let info = oauth.debug_token(&page_token).await.unwrap();
    assert!(!info.is_valid);
    assert_eq!(info.error.as_ref().unwrap()["subcode"], 463);

    let unknown = Credential::Page(PageAccessToken::new("EAAG-not-issued"));
    assert!(!oauth.debug_token(&unknown).await.unwrap().is_valid);
}

#[tokio::test]
async fn me_accounts_lists_the_pages_with_tokens_and_instagram_accounts() {
    let (_emulator, client) = start(None).await;
    let pages = client
        .user(UserAccessToken::new(USER_TOKEN))
        .accounts()
        .page()
        .await
        .unwrap();
    assert_eq!(pages.data.len(), 1);
    assert_eq!(pages.data[0].id, PAGE_ID);
    assert_eq!(
        pages.data[0].access_token.as_ref().unwrap().expose(),
        PAGE_TOKEN
    );
    assert_eq!(
        pages.data[0]
            .instagram_business_account
            .as_ref()
            .unwrap()
            .id,
        IG_ACCOUNT_ID
    );
}

#[tokio::test]
async fn page_info_and_webhook_subscription() {
    let (_emulator, client) = start(None).await;
    let page = messenger(&client);
    let info = page.page_info().await.unwrap();
    assert_eq!(info.name.as_deref(), Some("Acme Shoes"));
    assert_eq!(
        info.instagram_business_account.unwrap().username.as_deref(),
        Some("acmeshoes")
    );

    assert!(page.subscribed_apps().await.unwrap().is_empty());
    assert!(page.subscribe_app(MESSENGER_WEBHOOK_FIELDS).await.unwrap());
    let apps = page.subscribed_apps().await.unwrap();
    assert_eq!(apps[0].id, APP_ID);
    assert_eq!(apps[0].subscribed_fields, MESSENGER_WEBHOOK_FIELDS);
}

#[tokio::test]
async fn another_page_s_objects_are_not_visible() {
    let (_emulator, client) = start(None).await;
    let err = client
        .messenger("104417552380999".into(), PageAccessToken::new(PAGE_TOKEN))
        .page_info()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ObjectNotFound);
}
