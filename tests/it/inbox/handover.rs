//! The handover between a bot and a human through the inbox: Meta's handover webhooks set the
//! owner, taking over from another app calls `take_thread_control`, a hand back returns the
//! conversation to the bot.

use meta_messaging_core::inbox::Tenancy;
use meta_messaging_core::platform::Platform;
use meta_messaging_core::secret::AppSecret;
use meta_messaging_core::store::{Conversation, MessageStore, ThreadOwner};
use meta_messaging_core::webhook::DeliveryBuilder;
use serde_json::{Value, json};
use wiremock::matchers::body_json;

use crate::support::graph_mock::{APP_SECRET, PAGE_ID, PAGE_TOKEN, PSID, graph_call, json};
use crate::support::inbox::{Harness, connect_accounts, harness, tenant};

async fn receive(h: &Harness, item: Value) {
    let mut event = json!({"sender": {"id": PSID}, "recipient": {"id": PAGE_ID}, "timestamp": 1_733_412_620_500i64});
    for (k, v) in item.as_object().unwrap() {
        event[k] = v.clone();
    }
    let (body, signature) = DeliveryBuilder::new(Platform::Messenger, PAGE_ID)
        .messaging_event(event)
        .signed(&AppSecret::new(APP_SECRET));
    h.inbox.receive(Some(&signature), &body).await.unwrap();
}

async fn conversation(h: &Harness) -> Conversation {
    h.store
        .find_conversation(
            &tenant(),
            Platform::Messenger,
            &PAGE_ID.into(),
            &PSID.into(),
        )
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn a_take_pass_cycle_with_another_app_and_a_person() {
    let h = harness(Tenancy::Single(tenant())).await;
    connect_accounts(h.store.as_ref(), &tenant()).await;
    receive(
        &h,
        json!({"message": {"mid": "m_handover_1", "text": "I want a refund"}}),
    )
    .await;
    assert_eq!(conversation(&h).await.owner, ThreadOwner::Bot);

    // Another app (the Page Inbox) took the thread: Meta tells the app that lost it.
    receive(
        &h,
        json!({"take_thread_control": {"previous_owner_app_id": "1234567890",
            "new_owner_app_id": "263902037430900", "metadata": "agent took over"}}),
    )
    .await;
    let c = conversation(&h).await;
    assert_eq!(c.owner, ThreadOwner::OtherApp);

    // A person takes it over in this inbox: the thread is taken back from that app first.
    graph_call(
        "POST",
        &format!("{PAGE_ID}/take_thread_control"),
        PAGE_TOKEN,
    )
    .and(body_json(json!({"recipient": {"id": PSID},
            "metadata": "taken over by a person in the inbox"})))
    .respond_with(json(200, json!({"success": true})))
    .expect(1)
    .mount(&h.graph.server)
    .await;
    let taken = h.inbox.take_over(&tenant(), c.id).await.unwrap();
    assert_eq!(taken.owner, ThreadOwner::Human);
    assert_eq!(serde_json::to_value(&taken).unwrap()["owner"], "human");
    // Taking over a conversation this app already owns sends nothing (the strict mock's
    // catch-all would fail the test).
    h.inbox.take_over(&tenant(), c.id).await.unwrap();

    let back = h.inbox.hand_back(&tenant(), c.id).await.unwrap();
    assert_eq!(back.owner, ThreadOwner::Bot);

    // Another app takes it, then passes it back: the bot's again.
    receive(
        &h,
        json!({"take_thread_control": {"previous_owner_app_id": "1234567890"}}),
    )
    .await;
    assert_eq!(conversation(&h).await.owner, ThreadOwner::OtherApp);
    receive(
        &h,
        json!({"pass_thread_control": {"previous_owner_app_id": "263902037430900",
            "new_owner_app_id": "1234567890", "metadata": "back to the bot"}}),
    )
    .await;
    assert_eq!(conversation(&h).await.owner, ThreadOwner::Bot);
}

#[tokio::test]
async fn a_refused_take_leaves_the_owner_as_it_was() {
    let h = harness(Tenancy::Single(tenant())).await;
    connect_accounts(h.store.as_ref(), &tenant()).await;
    receive(
        &h,
        json!({"message": {"mid": "m_handover_2", "text": "Hello"}}),
    )
    .await;
    receive(
        &h,
        json!({"take_thread_control": {"previous_owner_app_id": "1234567890"}}),
    )
    .await;
    graph_call(
        "POST",
        &format!("{PAGE_ID}/take_thread_control"),
        PAGE_TOKEN,
    )
    .respond_with(crate::support::graph_mock::meta_error(
        400,
        10,
        None,
        "(#10) This app is not the primary receiver of the Page",
    ))
    .expect(1)
    .mount(&h.graph.server)
    .await;
    let id = conversation(&h).await.id;
    let err = h.inbox.take_over(&tenant(), id).await.unwrap_err();
    assert_eq!(err.kind(), "permission_missing", "{err}");
    assert_eq!(conversation(&h).await.owner, ThreadOwner::OtherApp);
}
