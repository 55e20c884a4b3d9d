//! The handover protocol: pass, take and request thread control, the thread owner and the
//! secondary receivers, on Messenger and on Instagram through a Page.

use meta_messaging_core::graph::{ErrorKind, GraphError, PAGE_INBOX_APP_ID};
use meta_messaging_core::ids::{AppId, Igsid, PageId, Psid};
use meta_messaging_core::secret::{AppSecret, PageAccessToken};
use serde_json::json;
use wiremock::matchers::{body_json, header, query_param};

use crate::support::graph_mock::*;

fn messenger(mock: &GraphMock) -> meta_messaging_core::graph::AccountClient {
    mock.client()
        .messenger(PageId::from(PAGE_ID), PageAccessToken::new(PAGE_TOKEN))
}

async fn expect_control(mock: &GraphMock, edge: &str, body: serde_json::Value) {
    graph_call("POST", &format!("{PAGE_ID}/{edge}"), PAGE_TOKEN)
        .and(header("content-type", "application/json"))
        .and(body_json(body))
        .respond_with(json(200, fixture("success")))
        .expect(1)
        .mount(&mock.server)
        .await;
}

#[tokio::test]
async fn pass_take_and_request_post_meta_s_bodies() {
    let mock = GraphMock::start().await;
    expect_control(
        &mock,
        "pass_thread_control",
        json!({"recipient": {"id": PSID}, "target_app_id": PAGE_INBOX_APP_ID, "metadata": "refund request"}),
    )
    .await;
    expect_control(
        &mock,
        "take_thread_control",
        json!({"recipient": {"id": PSID}, "metadata": "agent took over"}),
    )
    .await;
    expect_control(
        &mock,
        "request_thread_control",
        json!({"recipient": {"id": PSID}}),
    )
    .await;
    let page = messenger(&mock);
    page.pass_thread_control(
        Psid::from(PSID),
        AppId::from(PAGE_INBOX_APP_ID),
        Some("refund request"),
    )
    .await
    .unwrap();
    page.take_thread_control(Psid::from(PSID), Some("agent took over"))
        .await
        .unwrap();
    page.request_thread_control(Psid::from(PSID), None)
        .await
        .unwrap();
}

#[tokio::test]
async fn instagram_through_a_page_uses_the_page_node_and_the_igsid() {
    let mock = GraphMock::start().await;
    expect_control(
        &mock,
        "pass_thread_control",
        json!({"recipient": {"id": IGSID}, "target_app_id": "873412659012345"}),
    )
    .await;
    mock.client()
        .instagram_via_page(PageId::from(PAGE_ID), PageAccessToken::new(PAGE_TOKEN))
        .pass_thread_control(Igsid::from(IGSID), AppId::from("873412659012345"), None)
        .await
        .unwrap();
}

#[tokio::test]
async fn thread_owner_reads_the_app_id_and_an_idle_thread_has_none() {
    let mock = GraphMock::start().await;
    graph_call("GET", &format!("{PAGE_ID}/thread_owner"), PAGE_TOKEN)
        .and(query_param("recipient", PSID))
        .respond_with(json(200, fixture("thread_owner")))
        .expect(1)
        .mount(&mock.server)
        .await;
    graph_call("GET", &format!("{PAGE_ID}/thread_owner"), PAGE_TOKEN)
        .and(query_param("recipient", "24817365029481736"))
        .respond_with(json(200, json!({"data": []})))
        .expect(1)
        .mount(&mock.server)
        .await;
    let page = messenger(&mock);
    let owner = page.thread_owner(Psid::from(PSID)).await.unwrap();
    assert_eq!(owner, Some(AppId::from(PAGE_INBOX_APP_ID)));
    let idle = page
        .thread_owner(Psid::from("24817365029481736"))
        .await
        .unwrap();
    assert_eq!(idle, None);
}

#[tokio::test]
async fn secondary_receivers_lists_ids_and_names_with_the_proof() {
    let mock = GraphMock::start().await;
    graph_call("GET", &format!("{PAGE_ID}/secondary_receivers"), PAGE_TOKEN)
        .and(query_param("fields", "id,name"))
        .and(query_param("appsecret_proof", PAGE_TOKEN_PROOF))
        .respond_with(json(200, fixture("secondary_receivers")))
        .expect(1)
        .mount(&mock.server)
        .await;
    let receivers = mock
        .builder()
        .app_secret(AppSecret::new(APP_SECRET))
        .build()
        .unwrap()
        .messenger(PageId::from(PAGE_ID), PageAccessToken::new(PAGE_TOKEN))
        .secondary_receivers()
        .await
        .unwrap();
    let ids: Vec<_> = receivers.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, [PAGE_INBOX_APP_ID, "873412659012345"]);
    assert_eq!(receivers[1].name.as_deref(), Some("Acme Support Desk"));
}

#[tokio::test]
async fn meta_s_error_is_kept_and_a_pass_is_not_repeated_after_a_5xx() {
    let mock = GraphMock::start().await;
    graph_call(
        "POST",
        &format!("{PAGE_ID}/take_thread_control"),
        PAGE_TOKEN,
    )
    .respond_with(meta_error(
        400,
        10,
        Some(2018300),
        "(#10) This app is not the primary receiver of the Page",
    ))
    .expect(1)
    .mount(&mock.server)
    .await;
    // A gateway error after the request was sent: Meta may have passed the thread already.
    graph_call(
        "POST",
        &format!("{PAGE_ID}/pass_thread_control"),
        PAGE_TOKEN,
    )
    .respond_with(wiremock::ResponseTemplate::new(502).set_body_string("<html>Bad Gateway</html>"))
    .expect(1)
    .mount(&mock.server)
    .await;
    let page = messenger(&mock);
    let err = page
        .take_thread_control(Psid::from(PSID), None)
        .await
        .unwrap_err();
    let GraphError::Meta(meta) = &err else {
        panic!("expected Meta's error, got {err:?}");
    };
    assert_eq!(meta.code, 10);
    assert_eq!(meta.error_subcode, Some(2018300));
    assert_eq!(err.kind(), ErrorKind::PermissionMissing, "{err}");
    let err = page
        .pass_thread_control(Psid::from(PSID), AppId::from(PAGE_INBOX_APP_ID), None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, GraphError::Http { status: 502, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_success_false_answer_is_an_error() {
    let mock = GraphMock::start().await;
    graph_call(
        "POST",
        &format!("{PAGE_ID}/request_thread_control"),
        PAGE_TOKEN,
    )
    .respond_with(json(200, json!({"success": false})))
    .expect(1)
    .mount(&mock.server)
    .await;
    let err = messenger(&mock)
        .request_thread_control(Psid::from(PSID), None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, GraphError::Http { status: 200, .. }),
        "{err:?}"
    );
}
