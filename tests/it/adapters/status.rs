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

/// The delivery log and the unrouted events' reasons: a new inbox on the same store (a
/// restarted process, or another instance) shows what the first one received, once flushed.
async fn deliveries_and_reasons(adapter: Adapter) {
    use std::time::Duration;

    use meta_messaging_core::Platform;
    use meta_messaging_core::secret::AppSecret;
    use meta_messaging_core::store::{AccountStatus, MessageStore};
    use meta_messaging_core::webhook::DeliveryBuilder;

    use crate::support::graph_mock::{APP_SECRET, IG_ACCOUNT_ID, PAGE_ID, PSID};
    use crate::support::inbox::builder_on;

    let h = harness(Tenancy::Multi).await;
    connect_accounts(h.store.as_ref(), &tenant()).await;
    // The tenant disconnected its Instagram account: its events are kept unrouted, saying so.
    h.store
        .set_account_status(
            &tenant(),
            Platform::Instagram,
            &IG_ACCOUNT_ID.into(),
            &AccountStatus::Disconnected,
        )
        .await
        .unwrap();
    let base = serve(adapter, h.inbox.clone()).await;
    let before: Value = crate::support::servers::get_json(&base, "/status").await;
    let account = |report: &Value, platform: &str| {
        report["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["platform"] == platform)
            .cloned()
            .unwrap()
    };
    assert_eq!(account(&before, "messenger")["deliveries"], json!([]));
    assert_eq!(account(&before, "instagram")["unrouted"], json!([]));

    let now = crate::support::emulator::now_ms();
    let event = |payload: (&str, Value)| {
        let mut event =
            json!({"sender": {"id": PSID}, "recipient": {"id": PAGE_ID}, "timestamp": now});
        event[payload.0] = payload.1;
        event
    };
    let secret = AppSecret::new(APP_SECRET);
    let (body, signature) = DeliveryBuilder::new(Platform::Messenger, PAGE_ID)
        .text(PSID, "hi")
        .text(PSID, "still there?")
        .messaging_event(event((
            "reaction",
            json!({"mid": "m_1", "action": "react", "reaction": "love", "emoji": "❤"}),
        )))
        .messaging_event(event(("game_play", json!({"game_id": "g1"}))))
        .signed(&secret);
    h.inbox.receive(Some(&signature), &body).await.unwrap();
    let (body, signature) = DeliveryBuilder::new(Platform::Instagram, IG_ACCOUNT_ID)
        .text(PSID, "anyone?")
        .signed(&secret);
    let receipt = h.inbox.receive(Some(&signature), &body).await.unwrap();
    assert_eq!(receipt.unrouted, 1);

    let after: Value = crate::support::servers::get_json(&base, "/status").await;
    let messenger = account(&after, "messenger");
    let kinds: Vec<(&str, u64)> = messenger["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["kind"].as_str().unwrap(), k["count"].as_u64().unwrap()))
        .collect();
    assert!(kinds.contains(&("message", 2)), "{kinds:?}");
    assert!(kinds.contains(&("reaction", 1)), "{kinds:?}");
    assert!(kinds.contains(&("unknown", 1)), "{kinds:?}");
    for kind in messenger["deliveries"].as_array().unwrap() {
        assert!(kind["last_at_ms"].as_i64().unwrap() >= now, "{kind}");
    }
    let unknown = messenger["unknown_events"].as_array().unwrap();
    assert_eq!(unknown.len(), 1, "{unknown:?}");
    assert_eq!(unknown[0]["count"], 1);
    assert!(!unknown[0]["reason"].as_str().unwrap().is_empty());
    assert_eq!(messenger["unrouted"], json!([]));
    let instagram = account(&after, "instagram");
    assert_eq!(
        instagram["deliveries"][0]["count"], 1,
        "per account: {instagram}"
    );
    assert_eq!(instagram["unrouted_events"], 1);
    let unrouted = instagram["unrouted"].as_array().unwrap();
    assert_eq!(unrouted.len(), 1, "{unrouted:?}");
    assert_eq!(unrouted[0]["reason"], "disconnected");
    assert_eq!(unrouted[0]["count"], 1);
    assert!(unrouted[0]["last_at_ms"].as_i64().unwrap() >= now);

    // A graceful shutdown adds the log to the store: the next inbox on it starts from there.
    assert!(h.inbox.shutdown(Duration::from_secs(5)).await.is_clean());
    let next = builder_on(&h.store, &h.graph, Tenancy::Multi)
        .build()
        .unwrap();
    let base = serve(adapter, next).await;
    let restarted: Value = crate::support::servers::get_json(&base, "/status").await;
    for platform in ["messenger", "instagram"] {
        let (was, is) = (account(&after, platform), account(&restarted, platform));
        for field in [
            "deliveries",
            "unknown_events",
            "unrouted",
            "unrouted_events",
        ] {
            assert_eq!(is[field], was[field], "{platform} {field} after a restart");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_status_shows_deliveries_and_reasons_across_restarts() {
    deliveries_and_reasons(Adapter::Axum).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actix_status_shows_deliveries_and_reasons_across_restarts() {
    deliveries_and_reasons(Adapter::Actix).await;
}
