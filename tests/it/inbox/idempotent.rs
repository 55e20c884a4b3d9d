//! `Inbox::send_idempotent`: a retry with the same key is answered once and never sends twice;
//! a message Meta accepted is never answered as a failure.

use std::sync::Arc;
use std::time::Duration;

use meta_messaging_core::contract;
use meta_messaging_core::inbox::{
    IdempotentSend, Inbox, InboxError, SendOutcome, SendRequest, Tenancy,
};
use meta_messaging_core::platform::Platform;
use meta_messaging_core::secret::{AppSecret, VerifyToken};
use meta_messaging_core::store::{
    Direction, IdempotencyClaim, IdempotencyClaimRequest, IdempotencyKey, InMemoryStore,
    MessageQuery, MessageStore, RequestFingerprint, StoreError,
};
use meta_messaging_core::webhook::DeliveryBuilder;
use serde_json::{Value, json};
use wiremock::ResponseTemplate;
use wiremock::matchers::body_json;

use crate::support::graph_mock::{
    APP_SECRET, GraphMock, PAGE_ID, PAGE_TOKEN, PSID, fixture, graph_call, json, meta_error,
};
use crate::support::inbox::{VERIFY_TOKEN, connect_accounts, harness, harness_with, tenant};

fn key(name: &str) -> IdempotencyKey {
    IdempotencyKey::parse(name).unwrap()
}

fn reply(text: &str) -> SendRequest {
    SendRequest::text(Platform::Messenger, PAGE_ID, PSID, text)
}

/// The Send API call of `reply(text)`, exactly.
fn send_call(text: &str) -> wiremock::MockBuilder {
    graph_call("POST", &format!("{PAGE_ID}/messages"), PAGE_TOKEN).and(body_json(json!({
        "recipient": {"id": PSID}, "messaging_type": "RESPONSE", "message": {"text": text}
    })))
}

async fn message_count(store: &dyn MessageStore) -> usize {
    store
        .list_messages(&tenant(), &MessageQuery::new())
        .await
        .unwrap()
        .data
        .len()
}

fn sent(outcome: IdempotentSend) -> SendOutcome {
    match outcome {
        IdempotentSend::Sent(outcome) => outcome,
        other => panic!("expected a send, got {other:?}"),
    }
}

fn replayed(outcome: IdempotentSend) -> (u16, Value) {
    match outcome {
        IdempotentSend::Replayed(answer) => (answer.status, answer.body),
        other => panic!("expected a replay, got {other:?}"),
    }
}

/// The echo Meta sends for a message the Page sent.
fn echo(mid: &str, text: &str) -> (Vec<u8>, String) {
    let event = json!({
        "sender": {"id": PAGE_ID}, "recipient": {"id": PSID}, "timestamp": 1_700_000_000_000_i64,
        "message": {"mid": mid, "is_echo": true, "app_id": 1_234_567_890_u64, "text": text}
    });
    DeliveryBuilder::new(Platform::Messenger, PAGE_ID)
        .messaging_event(event)
        .signed(&AppSecret::new(APP_SECRET))
}

#[tokio::test]
async fn a_retry_with_the_same_key_replays_the_first_answer_and_sends_nothing() {
    let h = harness(Tenancy::Single(tenant())).await;
    connect_accounts(h.store.as_ref(), &tenant()).await;
    let answer = fixture("send_response");
    send_call("Your order shipped")
        .respond_with(json(200, answer.clone()))
        .expect(1)
        .mount(&h.graph.server)
        .await;

    let request = reply("Your order shipped");
    let first = sent(
        h.inbox
            .send_idempotent(&tenant(), &key("order-42-reply"), &request)
            .await
            .unwrap(),
    );
    let SendOutcome::Stored(message) = &first else {
        panic!("not stored: {first:?}")
    };
    assert_eq!(message.message_id, answer["message_id"].as_str().unwrap());
    let first_json = serde_json::to_value(&first).unwrap();
    assert_eq!(first_json["stored"], true, "{first_json}");
    assert_eq!(first_json["id"], message.id.to_string());

    for _ in 0..3 {
        let (status, body) = replayed(
            h.inbox
                .send_idempotent(&tenant(), &key("order-42-reply"), &request)
                .await
                .unwrap(),
        );
        assert_eq!((status, &body), (201, &first_json));
    }
    // A body spelled otherwise but asking for the same send is the same request.
    let same: SendRequest = serde_json::from_value(json!({
        "text": "Your order shipped", "recipient_id": PSID, "quick_replies": [],
        "account_id": PAGE_ID, "platform": "messenger", "tag": null
    }))
    .unwrap();
    let (status, _) = replayed(
        h.inbox
            .send_idempotent(&tenant(), &key("order-42-reply"), &same)
            .await
            .unwrap(),
    );
    assert_eq!(status, 201);
    assert_eq!(message_count(h.store.as_ref()).await, 1);
}

#[tokio::test]
async fn the_same_key_with_another_body_is_refused_and_sends_nothing() {
    let h = harness(Tenancy::Single(tenant())).await;
    connect_accounts(h.store.as_ref(), &tenant()).await;
    send_call("First")
        .respond_with(json(200, fixture("send_response")))
        .expect(1)
        .mount(&h.graph.server)
        .await;
    let k = key("reused");
    h.inbox
        .send_idempotent(&tenant(), &k, &reply("First"))
        .await
        .unwrap();
    let err = h
        .inbox
        .send_idempotent(&tenant(), &k, &reply("Second"))
        .await
        .unwrap_err();
    assert!(matches!(err, InboxError::IdempotencyKeyReused), "{err:?}");
    assert_eq!(
        (contract::status(&err), err.kind()),
        (422, "idempotency_key_reused")
    );
    // Another tenant's key of the same name is another key (no account: refused before Meta).
    let other = meta_messaging_core::ids::TenantId::new("other-shop");
    let err = h
        .inbox
        .send_idempotent(&other, &k, &reply("Second"))
        .await
        .unwrap_err();
    assert!(matches!(err, InboxError::AccountNotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn a_retry_while_the_first_is_in_flight_answers_409_then_the_answer() {
    let h = harness(Tenancy::Single(tenant())).await;
    connect_accounts(h.store.as_ref(), &tenant()).await;
    send_call("Slow")
        .respond_with(json(200, fixture("send_response")).set_delay(Duration::from_millis(800)))
        .expect(1)
        .mount(&h.graph.server)
        .await;
    let k = key("slow-one");
    let first = {
        let (inbox, k) = (h.inbox.clone(), k.clone());
        tokio::spawn(async move { inbox.send_idempotent(&tenant(), &k, &reply("Slow")).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let err = h
        .inbox
        .send_idempotent(&tenant(), &k, &reply("Slow"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, InboxError::IdempotencyKeyInFlight { .. }),
        "{err:?}"
    );
    assert_eq!(
        (contract::status(&err), err.kind()),
        (409, "idempotency_key_in_flight")
    );
    let first = sent(first.await.unwrap().unwrap());
    let (status, body) = replayed(
        h.inbox
            .send_idempotent(&tenant(), &k, &reply("Slow"))
            .await
            .unwrap(),
    );
    assert_eq!((status, body), (201, serde_json::to_value(&first).unwrap()));
}

/// A caller that stops waiting (a client that hung up) does not stop the send: the key gets
/// its answer, and the retry is answered from it.
#[tokio::test]
async fn a_send_whose_caller_went_away_still_finishes_its_key() {
    let h = harness(Tenancy::Single(tenant())).await;
    connect_accounts(h.store.as_ref(), &tenant()).await;
    send_call("Hung up")
        .respond_with(json(200, fixture("send_response")).set_delay(Duration::from_millis(500)))
        .expect(1)
        .mount(&h.graph.server)
        .await;
    let k = key("hung-up");
    let gave_up = tokio::time::timeout(
        Duration::from_millis(100),
        h.inbox.send_idempotent(&tenant(), &k, &reply("Hung up")),
    )
    .await;
    assert!(gave_up.is_err(), "the caller was meant to give up first");
    let mut retries = 0;
    let (status, body) = loop {
        match h
            .inbox
            .send_idempotent(&tenant(), &k, &reply("Hung up"))
            .await
        {
            Ok(outcome) => break replayed(outcome),
            Err(InboxError::IdempotencyKeyInFlight { .. }) if retries < 50 => {
                retries += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(err) => panic!("{err:?}"),
        }
    };
    assert_eq!((status, body["stored"].clone()), (201, json!(true)));
    assert_eq!(message_count(h.store.as_ref()).await, 1);
}

/// Errors that prove nothing reached Meta free the key: the same key works once the cause is
/// fixed.
#[tokio::test]
async fn errors_that_prove_nothing_was_sent_release_the_key() {
    let h = harness(Tenancy::Single(tenant())).await;
    let k = key("fix-and-retry");
    // No account yet: refused before any call.
    let err = h
        .inbox
        .send_idempotent(&tenant(), &k, &reply("Hello"))
        .await
        .unwrap_err();
    assert!(matches!(err, InboxError::AccountNotFound { .. }), "{err:?}");
    connect_accounts(h.store.as_ref(), &tenant()).await;
    // Meta refuses it first (outside the window): Meta's own error says it was not sent.
    send_call("Hello")
        .respond_with(meta_error(
            400,
            10,
            Some(2_018_278),
            "(#10) This message is sent outside of allowed window.",
        ))
        .up_to_n_times(1)
        .expect(1)
        .mount(&h.graph.server)
        .await;
    let err = h
        .inbox
        .send_idempotent(&tenant(), &k, &reply("Hello"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "outside_messaging_window");
    send_call("Hello")
        .respond_with(json(200, fixture("send_response")))
        .expect(1)
        .mount(&h.graph.server)
        .await;
    let outcome = sent(
        h.inbox
            .send_idempotent(&tenant(), &k, &reply("Hello"))
            .await
            .unwrap(),
    );
    assert!(matches!(outcome, SendOutcome::Stored(_)), "{outcome:?}");
    // An invalid request never takes a key.
    let mut both = reply("x");
    both.attachment = SendRequest::attachment(
        Platform::Messenger,
        PAGE_ID,
        PSID,
        meta_messaging_core::graph::AttachmentKind::Image,
        "https://cdn.example.com/x.png",
    )
    .attachment;
    let fresh = key("never-taken");
    let err = h
        .inbox
        .send_idempotent(&tenant(), &fresh, &both)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "invalid_request");
    let claim = IdempotencyClaimRequest::new(
        fresh,
        RequestFingerprint::of(b"another request"),
        1_700_000_000_000,
        i64::MAX,
    );
    assert_eq!(
        h.store
            .claim_idempotency_key(&tenant(), &claim)
            .await
            .unwrap(),
        IdempotencyClaim::Claimed,
        "the invalid request took the key"
    );
}

/// A 5xx from a proxy in front of Meta may come after Meta sent the message: the error is the
/// key's answer, replayed, and the message is never sent again with it.
#[tokio::test]
async fn a_send_that_may_have_reached_meta_is_never_repeated_with_its_key() {
    let h = harness(Tenancy::Single(tenant())).await;
    connect_accounts(h.store.as_ref(), &tenant()).await;
    send_call("Maybe sent")
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>Bad Gateway</html>"))
        .expect(1)
        .mount(&h.graph.server)
        .await;
    let k = key("maybe-sent");
    let err = h
        .inbox
        .send_idempotent(&tenant(), &k, &reply("Maybe sent"))
        .await
        .unwrap_err();
    let InboxError::Graph(graph) = &err else {
        panic!("{err:?}")
    };
    assert!(graph.may_have_reached_meta());
    let first = serde_json::to_value(contract::body(&err)).unwrap();
    for _ in 0..2 {
        let (status, body) = replayed(
            h.inbox
                .send_idempotent(&tenant(), &k, &reply("Maybe sent"))
                .await
                .unwrap(),
        );
        assert_eq!((status, &body), (502, &first));
    }
    assert_eq!(first["error"]["kind"], "temporarily_unavailable", "{first}");
}

/// No answer within the timeout after the request went out: the same.
#[tokio::test]
async fn a_send_that_timed_out_is_never_repeated_with_its_key() {
    let store = Arc::new(InMemoryStore::new());
    let graph = GraphMock::start().await;
    let inbox = Inbox::builder()
        .app_secret(AppSecret::new(APP_SECRET))
        .verify_token(VerifyToken::new(VERIFY_TOKEN))
        .store(store.clone())
        .graph(
            graph
                .builder()
                .timeout(Duration::from_millis(300))
                .build()
                .unwrap(),
        )
        .tenancy(Tenancy::Single(tenant()))
        .build()
        .unwrap();
    connect_accounts(store.as_ref(), &tenant()).await;
    send_call("Too slow")
        .respond_with(json(200, fixture("send_response")).set_delay(Duration::from_secs(2)))
        .expect(1)
        .mount(&graph.server)
        .await;
    let k = key("timed-out");
    let err = inbox
        .send_idempotent(&tenant(), &k, &reply("Too slow"))
        .await
        .unwrap_err();
    assert_eq!((contract::status(&err), err.kind()), (504, "timeout"));
    let (status, body) = replayed(
        inbox
            .send_idempotent(&tenant(), &k, &reply("Too slow"))
            .await
            .unwrap(),
    );
    assert_eq!((status, &body["error"]["kind"]), (504, &json!("timeout")));
}

/// Meta accepted the message, the store failed to record it: 201 with Meta's id and
/// `"stored": false` (replayed as such), and the echo webhook stores it later.
#[tokio::test]
async fn meta_accepted_but_the_store_failed_answers_not_stored_and_the_echo_stores_it() {
    let h = harness(Tenancy::Single(tenant())).await;
    connect_accounts(h.store.as_ref(), &tenant()).await;
    let mid = fixture("send_response")["message_id"]
        .as_str()
        .unwrap()
        .to_owned();
    send_call("Stored later")
        .respond_with(json(200, fixture("send_response")))
        .expect(1)
        .mount(&h.graph.server)
        .await;
    let mut live = h.inbox.subscribe(&tenant()).await.unwrap();
    h.store.fail_point().fail_after(0);
    let k = key("store-down");
    let outcome = sent(
        h.inbox
            .send_idempotent(&tenant(), &k, &reply("Stored later"))
            .await
            .unwrap(),
    );
    assert!(
        !h.store.fail_point().is_armed(),
        "record_outbound never wrote"
    );
    let SendOutcome::NotStored(unstored) = &outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(unstored.message_id, mid.as_str());
    let answer = serde_json::to_value(&outcome).unwrap();
    assert_eq!(answer["stored"], false, "{answer}");
    assert_eq!(answer["message_id"], mid.as_str());
    assert_eq!(answer["direction"], "outbound");
    assert_eq!(answer["text"], "Stored later");
    assert_eq!(answer["recipient_id"], PSID);
    assert!(answer.get("id").is_none(), "no store id yet: {answer}");
    assert_eq!(message_count(h.store.as_ref()).await, 0);
    let (status, body) = replayed(
        h.inbox
            .send_idempotent(&tenant(), &k, &reply("Stored later"))
            .await
            .unwrap(),
    );
    assert_eq!((status, &body), (201, &answer));

    let (body, signature) = echo(&mid, "Stored later");
    let receipt = h.inbox.receive(Some(&signature), &body).await.unwrap();
    assert_eq!(receipt.applied.inserted, 1, "{receipt:?}");
    let stored = h
        .store
        .find_message(&tenant(), Platform::Messenger, &mid.as_str().into())
        .await
        .unwrap()
        .expect("the echo stored the message");
    assert_eq!(stored.direction, Direction::Outbound);
    assert_eq!(stored.text.as_deref(), Some("Stored later"));
    assert_eq!(stored.recipient_id, PSID);
    let event = tokio::time::timeout(Duration::from_secs(5), live.next())
        .await
        .unwrap()
        .unwrap();
    let event = serde_json::to_value(&event.event).unwrap();
    assert_eq!(event["type"], "message_stored", "{event}");
    assert_eq!(event["message"]["message_id"], mid.as_str());
}

/// `Inbox::send` tells a message Meta accepted and the store could not record from a store
/// failure before sending, so its callers do not send it again.
#[tokio::test]
async fn send_reports_a_message_sent_but_not_stored_with_meta_s_id() {
    let h = harness(Tenancy::Single(tenant())).await;
    connect_accounts(h.store.as_ref(), &tenant()).await;
    send_call("Not stored")
        .respond_with(json(200, fixture("send_response")))
        .expect(1)
        .mount(&h.graph.server)
        .await;
    h.store.fail_point().fail_after(0);
    let err = h
        .inbox
        .send(&tenant(), &reply("Not stored"))
        .await
        .unwrap_err();
    let InboxError::SentNotStored { message_id, source } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        message_id.as_str(),
        fixture("send_response")["message_id"].as_str().unwrap()
    );
    assert!(matches!(source, StoreError::InjectedFailure), "{source:?}");
    assert_eq!(err.kind(), "sent_not_stored");
    assert!(err.fix().contains("Do not send"), "{}", err.fix());
}

/// Without any send before it, an echo is stored as an outbound message: what the
/// "not stored" answer relies on.
#[tokio::test]
async fn an_echo_of_a_message_the_store_never_recorded_is_inserted() {
    let h = harness(Tenancy::Single(tenant())).await;
    connect_accounts(h.store.as_ref(), &tenant()).await;
    let (body, signature) = echo("m_only_the_echo", "Sent from another tool");
    let receipt = h.inbox.receive(Some(&signature), &body).await.unwrap();
    assert_eq!(receipt.applied.inserted, 1);
    let page = h
        .inbox
        .messages(&tenant(), &MessageQuery::new())
        .await
        .unwrap();
    assert_eq!(page.data.len(), 1);
    assert_eq!(page.data[0].direction, Direction::Outbound);
    assert_eq!(page.data[0].message_id, "m_only_the_echo");
}

/// Keys are kept for the configured time: after it, the key is new again.
#[tokio::test]
async fn keys_expire_after_the_configured_ttl() {
    let h = harness_with(Tenancy::Single(tenant()), |b| {
        b.idempotency_ttl(Duration::from_millis(300))
    })
    .await;
    connect_accounts(h.store.as_ref(), &tenant()).await;
    send_call("Twice on purpose")
        .respond_with(json(200, fixture("send_response")))
        .expect(2)
        .mount(&h.graph.server)
        .await;
    let k = key("short-lived");
    let request = reply("Twice on purpose");
    sent(
        h.inbox
            .send_idempotent(&tenant(), &k, &request)
            .await
            .unwrap(),
    );
    replayed(
        h.inbox
            .send_idempotent(&tenant(), &k, &request)
            .await
            .unwrap(),
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    sent(
        h.inbox
            .send_idempotent(&tenant(), &k, &request)
            .await
            .unwrap(),
    );
}

/// The same on SQLite, through its group commit: the failed write is the batch's, the key's
/// records are the store's own table.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite_a_message_not_stored_is_answered_once_and_stored_by_its_echo() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        meta_messaging_core::store::SqliteStore::open(dir.path().join("inbox.db"))
            .await
            .unwrap(),
    );
    let graph = GraphMock::start().await;
    let inbox = Inbox::builder()
        .app_secret(AppSecret::new(APP_SECRET))
        .verify_token(VerifyToken::new(VERIFY_TOKEN))
        .store(store.clone())
        .graph(graph.client())
        .tenancy(Tenancy::Single(tenant()))
        .build()
        .unwrap();
    connect_accounts(store.as_ref(), &tenant()).await;
    let mid = fixture("send_response")["message_id"]
        .as_str()
        .unwrap()
        .to_owned();
    send_call("Stored by the echo")
        .respond_with(json(200, fixture("send_response")))
        .expect(1)
        .mount(&graph.server)
        .await;
    store.fail_point().fail_after(0);
    let k = key("sqlite-store-down");
    let request = reply("Stored by the echo");
    let outcome = sent(
        inbox
            .send_idempotent(&tenant(), &k, &request)
            .await
            .unwrap(),
    );
    assert!(
        matches!(&outcome, SendOutcome::NotStored(u) if u.message_id == mid.as_str()),
        "{outcome:?}"
    );
    let (status, body) = replayed(
        inbox
            .send_idempotent(&tenant(), &k, &request)
            .await
            .unwrap(),
    );
    assert_eq!(
        (status, body),
        (201, serde_json::to_value(&outcome).unwrap())
    );
    assert_eq!(message_count(store.as_ref()).await, 0);
    let (body, signature) = echo(&mid, "Stored by the echo");
    assert_eq!(
        inbox
            .receive(Some(&signature), &body)
            .await
            .unwrap()
            .applied
            .inserted,
        1
    );
    assert_eq!(message_count(store.as_ref()).await, 1);
}
