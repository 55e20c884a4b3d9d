//! PostgreSQL restarted (`pg_ctlcluster restart`) in the middle of a webhook load, with two
//! instances sharing the database: one takes the webhooks, the other serves an SSE client.
//! Every delivery answered 200 is stored; every other one was answered 5xx and is stored once
//! when Meta delivers it again; the SSE client, reconnecting with `Last-Event-ID` as a browser
//! does, gets every change once, with no gap.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use meta_messaging_core::inbox::{FanoutOptions, Inbox, LiveFanout, Tenancy};
use meta_messaging_core::platform::Platform;
use meta_messaging_core::secret::{AppSecret, VerifyToken};
use meta_messaging_core::store::{MessageQuery, MessageStore, PostgresOptions, PostgresStore};
use meta_messaging_core::webhook::SIGNATURE_HEADER;

use super::cluster::Cluster;
use super::load::{Answer, LiveClient, Load};
use crate::support::graph_mock::APP_SECRET;
use crate::support::inbox::{VERIFY_TOKEN, tenant};
use crate::support::servers::{Adapter, serve};

/// One app instance: its own pool and fan-out connections.
async fn instance(options: &PostgresOptions) -> (Inbox, Arc<dyn MessageStore>) {
    let store: Arc<dyn MessageStore> =
        Arc::new(PostgresStore::connect_with(options.clone()).await.unwrap());
    let fanout = LiveFanout::connect(FanoutOptions::for_store(options))
        .await
        .unwrap();
    let inbox = Inbox::builder()
        .app_secret(AppSecret::new(APP_SECRET))
        .verify_token(VerifyToken::new(VERIFY_TOKEN))
        .store(store.clone())
        .tenancy(Tenancy::Single(tenant()))
        .live_fanout(fanout)
        .build()
        .unwrap();
    (inbox, store)
}

#[tokio::test]
#[ignore = "fault test: creates and restarts a PostgreSQL cluster of its own (root); run by .ci/run"]
async fn postgres_restart_under_load_acknowledges_only_stored_deliveries_and_sse_resumes() {
    let cluster = Arc::new(Cluster::start());
    let options = PostgresOptions::new(cluster.url()).schema("mm_faults");
    let (receiving, store) = instance(&options).await;
    let (streaming, _) = instance(&options).await;
    let hook = format!("{}/webhook", serve(Adapter::Axum, receiving).await);
    let live = LiveClient::follow(&format!(
        "{}/events",
        serve(Adapter::Actix, streaming).await
    ))
    .await;

    let load = Load::start(&hook, 16);
    load.wait_acknowledged(300).await;
    let restarting = cluster.clone();
    tokio::task::spawn_blocking(move || restarting.restart())
        .await
        .unwrap();
    let after_restart = load.acknowledged();
    // The load goes on after the restart until it has stored as much again.
    load.wait_acknowledged(after_restart + 300).await;
    let sent = load.stop().await;

    let mut acknowledged = HashSet::new();
    let mut refused = Vec::new();
    for (mid, (body, signature, answer)) in &sent {
        match answer {
            Answer::Acknowledged => {
                acknowledged.insert(mid.clone());
            }
            Answer::Refused(status) => {
                assert!(
                    (500..600).contains(status),
                    "delivery {mid} was answered {status}: only a 5xx makes Meta deliver it again"
                );
                refused.push((mid.clone(), body.clone(), signature.clone()));
            }
            Answer::Lost(err) => panic!("delivery {mid} got no answer: {err}"),
        }
    }
    eprintln!(
        "restart under load: {} deliveries, {} answered 200, {} answered 5xx",
        sent.len(),
        acknowledged.len(),
        refused.len()
    );
    for mid in &acknowledged {
        let found = store
            .find_message(&tenant(), Platform::Instagram, mid)
            .await
            .unwrap();
        assert!(
            found.is_some(),
            "delivery {mid} was answered 200 but is not stored"
        );
    }

    // Meta delivers the refused ones again: each is stored once.
    let client = crate::support::http::client();
    for (mid, body, signature) in &refused {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let response = client
                .post(&hook)
                .header(SIGNATURE_HEADER, signature)
                .body(body.clone())
                .send()
                .await
                .unwrap();
            if response.status() == 200 {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the redelivery of {mid} is still refused 30 s after the restart"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    let stored = store
        .count_messages(&tenant(), &MessageQuery::new())
        .await
        .unwrap();
    assert_eq!(
        stored,
        sent.len() as u64,
        "every delivery stored exactly once"
    );

    let all: HashSet<_> = sent.into_keys().collect();
    live.expect_messages(&all).await;
    eprintln!("the SSE client reconnected {} times", live.reconnects());
}
