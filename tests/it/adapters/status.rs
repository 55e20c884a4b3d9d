//! `GET /status?check=true`: live checks against Meta per account, one report per Page, at
//! most once a minute.

use meta_messaging_core::inbox::Tenancy;
use serde_json::{Value, json};

use crate::support::graph_mock::{PAGE_TOKEN, fixture, mount_healthy_page};
use crate::support::inbox::{connect_accounts, harness, tenant};
use crate::support::servers::{Adapter, serve};

#[tokio::test]
async fn status_checks_each_page_once_and_reports_the_fix_of_what_fails() {
    let h = harness(Tenancy::Single(tenant())).await;
    connect_accounts(h.store.as_ref(), &tenant()).await;
    // The token lacks instagram_manage_messages: the Instagram permission check must fail with
    // its fix, while the Page, its link and its webhook subscription pass.
    let scopes: Vec<Value> = fixture("debug_token_page")["data"]["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| *s != "instagram_manage_messages")
        .cloned()
        .collect();
    mount_healthy_page(&h.graph, json!(scopes)).await;
    let base = serve(Adapter::Axum, h.inbox.clone()).await;

    let plain: Value = crate::support::servers::get_json(&base, "/status").await;
    assert!(
        plain["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["checks"].is_null())
    );

    let response = crate::support::servers::client()
        .get(format!("{base}/status?check=true"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let report: Value = response.json().await.unwrap();
    assert!(!report.to_string().contains(PAGE_TOKEN));
    let accounts = report["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 2);
    for account in accounts {
        let checks = account["checks"].as_array().unwrap();
        let status_of = |id: &str| {
            checks
                .iter()
                .find(|c| c["id"] == id)
                .map(|c| c["status"].clone())
        };
        assert_eq!(status_of("token"), Some(json!("pass")), "{account}");
        let instagram = checks
            .iter()
            .find(|c| c["id"] == "instagram_permissions")
            .unwrap();
        assert_eq!(instagram["status"], "fail", "{instagram}");
        assert!(
            instagram["fix"]
                .as_str()
                .unwrap()
                .contains("instagram_manage_messages"),
            "{instagram}"
        );
    }

    // Reloading does not make the server ask Meta again within the interval: the same report,
    // and each of Meta's endpoints was called once (`mount_healthy_page` expects one).
    for _ in 0..3 {
        let again: Value = crate::support::servers::get_json(&base, "/status?check=true").await;
        assert_eq!(
            again["accounts"][0]["checks"],
            report["accounts"][0]["checks"]
        );
    }
    h.graph.server.verify().await;

    let bad = crate::support::servers::client()
        .get(format!("{base}/status?check=maybe"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn status_shows_the_last_delivery_per_event_kind_and_unknown_events_by_reason() {
    use meta_messaging_core::Platform;
    use meta_messaging_core::secret::AppSecret;
    use meta_messaging_core::webhook::DeliveryBuilder;

    use crate::support::graph_mock::{APP_SECRET, PAGE_ID, PSID};

    let h = harness(Tenancy::Single(tenant())).await;
    connect_accounts(h.store.as_ref(), &tenant()).await;
    let base = serve(Adapter::Axum, h.inbox.clone()).await;
    let before: Value = crate::support::servers::get_json(&base, "/status").await;
    let messenger = |report: &Value| {
        report["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["platform"] == "messenger")
            .cloned()
            .unwrap()
    };
    assert_eq!(messenger(&before)["deliveries"], json!([]));

    let now = crate::support::emulator::now_ms();
    let event = |payload: (&str, Value)| {
        let mut event =
            json!({"sender": {"id": PSID}, "recipient": {"id": PAGE_ID}, "timestamp": now});
        event[payload.0] = payload.1;
        event
    };
    let (body, signature) = DeliveryBuilder::new(Platform::Messenger, PAGE_ID)
        .text(PSID, "hi")
        .text(PSID, "still there?")
        .messaging_event(event((
            "reaction",
            json!({"mid": "m_1", "action": "react", "reaction": "love", "emoji": "❤"}),
        )))
        .messaging_event(event(("game_play", json!({"game_id": "g1"}))))
        .signed(&AppSecret::new(APP_SECRET));
    h.inbox.receive(Some(&signature), &body).await.unwrap();

    let after: Value = crate::support::servers::get_json(&base, "/status").await;
    let account = messenger(&after);
    let kinds: Vec<(&str, u64)> = account["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["kind"].as_str().unwrap(), k["count"].as_u64().unwrap()))
        .collect();
    assert!(kinds.contains(&("message", 2)), "{kinds:?}");
    assert!(kinds.contains(&("reaction", 1)), "{kinds:?}");
    assert!(kinds.contains(&("unknown", 1)), "{kinds:?}");
    for kind in account["deliveries"].as_array().unwrap() {
        assert!(kind["last_at_ms"].as_i64().unwrap() >= now, "{kind}");
    }
    let unknown = account["unknown_events"].as_array().unwrap();
    assert_eq!(unknown.len(), 1, "{unknown:?}");
    assert_eq!(unknown[0]["count"], 1);
    assert!(!unknown[0]["reason"].as_str().unwrap().is_empty());
    let instagram = after["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["platform"] == "instagram")
        .unwrap();
    assert_eq!(instagram["deliveries"], json!([]), "per account");
}
