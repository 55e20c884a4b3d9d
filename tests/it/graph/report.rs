//! ConnectionReport: one account checked end to end.

use meta_messaging_core::graph::{CheckStatus, ConnectionReport, ErrorKind};
use meta_messaging_core::ids::PageId;
use meta_messaging_core::secret::PageAccessToken;
use serde_json::json;
use wiremock::matchers::query_param;

use crate::support::graph_mock::*;

async fn mount_debug_token(mock: &GraphMock, answer: serde_json::Value) {
    graph_call("GET", "debug_token", PAGE_TOKEN)
        .and(query_param("input_token", PAGE_TOKEN))
        .respond_with(json(200, answer))
        .expect(1)
        .mount(&mock.server)
        .await;
}

async fn mount_page(mock: &GraphMock, answer: serde_json::Value) {
    graph_call("GET", PAGE_ID, PAGE_TOKEN)
        .and(query_param(
            "fields",
            "id,name,instagram_business_account{id,username,name,profile_picture_url}",
        ))
        .respond_with(json(200, answer))
        .expect(1)
        .mount(&mock.server)
        .await;
}

/// The one Instagram conversation read that tells whether its messages are reachable.
async fn mount_instagram_conversations(mock: &GraphMock, status: u16, answer: serde_json::Value) {
    graph_call("GET", &format!("{PAGE_ID}/conversations"), PAGE_TOKEN)
        .and(query_param("platform", "instagram"))
        .and(query_param("limit", "1"))
        .respond_with(json(status, answer))
        .expect(1)
        .mount(&mock.server)
        .await;
}

async fn mount_subscriptions(mock: &GraphMock, answer: serde_json::Value) {
    graph_call("GET", &format!("{PAGE_ID}/subscribed_apps"), PAGE_TOKEN)
        .respond_with(json(200, answer))
        .expect(1)
        .mount(&mock.server)
        .await;
}

fn status(report: &ConnectionReport, id: &str) -> CheckStatus {
    report
        .checks
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no check {id}"))
        .status
}

#[tokio::test]
async fn a_healthy_page_passes_every_check() {
    let mock = GraphMock::start().await;
    mount_debug_token(&mock, fixture("debug_token_page")).await;
    mount_page(&mock, fixture("page_with_instagram")).await;
    mount_subscriptions(&mock, fixture("subscribed_apps")).await;
    mount_instagram_conversations(&mock, 200, json!({"data": []})).await;
    let report = mock
        .client()
        .connection_report(PageAccessToken::new(PAGE_TOKEN), None)
        .await;
    assert!(report.is_healthy(), "{report:#?}");
    assert_eq!(report.checks.len(), 12);
    let app_level = [
        "app_mode",
        "app_webhooks_page",
        "app_webhooks_instagram",
        "callback_url",
    ];
    for check in &report.checks {
        let expected = if app_level.contains(&check.id) {
            // Without the app secret there is no app token to read the app's settings with.
            CheckStatus::Skipped
        } else {
            CheckStatus::Pass
        };
        assert_eq!(check.status, expected, "{check:#?}");
    }
    assert_eq!(report.page_id.as_ref().unwrap(), PAGE_ID);
    assert_eq!(report.instagram_account.as_ref().unwrap().id, IG_ACCOUNT_ID);
    let json = serde_json::to_string(&report).unwrap();
    assert!(!json.contains(PAGE_TOKEN));
}

#[tokio::test]
async fn each_broken_part_fails_with_its_fix() {
    let mock = GraphMock::start().await;
    let mut token = fixture("debug_token_page");
    token["data"]["scopes"] = json!([
        "pages_show_list",
        "pages_messaging",
        "pages_manage_metadata"
    ]);
    token["data"]["expires_at"] = json!(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 3600
    );
    mount_debug_token(&mock, token).await;
    mount_page(&mock, json!({"id": PAGE_ID, "name": "Acme Shoes"})).await;
    mount_subscriptions(
        &mock,
        json!({"data": [{"id": APP_ID, "name": "Acme Inbox", "subscribed_fields": ["messages"]}]}),
    )
    .await;
    let report = mock
        .client()
        .connection_report(
            PageAccessToken::new(PAGE_TOKEN),
            Some(PageId::from(PAGE_ID)),
        )
        .await;
    assert!(!report.is_healthy());
    assert_eq!(
        status(&report, "token"),
        CheckStatus::Warn,
        "expires within the hour"
    );
    assert_eq!(status(&report, "messenger_permissions"), CheckStatus::Pass);
    assert_eq!(status(&report, "instagram_permissions"), CheckStatus::Fail);
    assert_eq!(status(&report, "instagram_linked"), CheckStatus::Fail);
    assert_eq!(status(&report, "webhook_subscription"), CheckStatus::Fail);
    let ig = report
        .checks
        .iter()
        .find(|c| c.id == "instagram_permissions")
        .unwrap();
    assert!(
        ig.detail
            .contains("instagram_basic, instagram_manage_messages"),
        "{}",
        ig.detail
    );
    assert!(ig.fix.as_deref().unwrap().contains("App Review"));
    let sub = report
        .checks
        .iter()
        .find(|c| c.id == "webhook_subscription")
        .unwrap();
    assert!(
        sub.detail.contains("messaging_postbacks, message_echoes"),
        "{}",
        sub.detail
    );
    assert_eq!(report.failures().count(), 3);
}

#[tokio::test]
async fn an_invalid_token_skips_the_rest() {
    let mock = GraphMock::start().await;
    mount_debug_token(&mock, fixture("debug_token_invalid")).await;
    let report = mock
        .client()
        .connection_report(
            PageAccessToken::new(PAGE_TOKEN),
            Some(PageId::from(PAGE_ID)),
        )
        .await;
    assert_eq!(status(&report, "token"), CheckStatus::Fail);
    assert!(
        report.checks[0].detail.contains("changed their password"),
        "{}",
        report.checks[0].detail
    );
    assert!(
        report.checks[1..]
            .iter()
            .all(|c| c.status == CheckStatus::Skipped)
    );
}

#[tokio::test]
async fn a_graph_error_becomes_a_failed_check_with_the_catalog_fix() {
    let mock = GraphMock::start().await;
    graph_call("GET", "debug_token", PAGE_TOKEN)
        .respond_with(meta_error(
            400,
            190,
            Some(463),
            "Error validating access token: Session has expired",
        ))
        .expect(1)
        .mount(&mock.server)
        .await;
    let report = mock
        .client()
        .connection_report(PageAccessToken::new(PAGE_TOKEN), None)
        .await;
    let token = &report.checks[0];
    assert_eq!(token.status, CheckStatus::Fail);
    assert_eq!(token.error_kind, Some(ErrorKind::TokenExpired));
    assert!(
        token
            .fix
            .as_deref()
            .unwrap()
            .starts_with("Reconnect through OAuth")
    );
    assert_eq!(token.fbtrace_id.as_deref(), Some("AzFbTrace01"));
    assert_eq!(report.checks.len(), 12);
}

#[tokio::test]
async fn expired_data_access_fails_and_instagram_messages_refused_fail_with_the_setting() {
    let mock = GraphMock::start().await;
    let mut token = fixture("debug_token_page");
    token["data"]["data_access_expires_at"] = json!(1_750_000_000);
    mount_debug_token(&mock, token).await;
    mount_page(&mock, fixture("page_with_instagram")).await;
    mount_subscriptions(&mock, fixture("subscribed_apps")).await;
    mount_instagram_conversations(
        &mock,
        403,
        json!({"error": {"message": "(#10) Not allowed", "type": "OAuthException", "code": 10, "fbtrace_id": "AzFbTrace02"}}),
    )
    .await;
    let report = mock
        .client()
        .connection_report(PageAccessToken::new(PAGE_TOKEN), None)
        .await;
    assert_eq!(status(&report, "data_access"), CheckStatus::Fail);
    let data_access = report
        .checks
        .iter()
        .find(|c| c.id == "data_access")
        .unwrap();
    assert!(
        data_access.detail.contains("expired"),
        "{}",
        data_access.detail
    );
    assert!(data_access.fix.as_deref().unwrap().contains("reconnect"));
    assert_eq!(status(&report, "instagram_messaging"), CheckStatus::Fail);
    let ig = report
        .checks
        .iter()
        .find(|c| c.id == "instagram_messaging")
        .unwrap();
    assert!(
        ig.fix
            .as_deref()
            .unwrap()
            .contains("Allow access to messages")
    );
    assert_eq!(ig.fbtrace_id.as_deref(), Some("AzFbTrace02"));
    assert_eq!(report.failures().count(), 2);
}
