//! `InboxBuilder::fetch_profiles`: a new participant's name is looked up once, after the
//! delivery is stored, and a refusal from Meta leaves the conversation as it was.

use std::time::Duration;

use meta_messaging_core::inbox::{InboxEvent, Tenancy};
use meta_messaging_core::platform::Platform;
use meta_messaging_core::store::{Conversation, ConversationQuery, MessageStore};
use serde_json::json;
use wiremock::matchers::query_param;

use crate::support::graph_mock::{
    IG_ACCOUNT_ID, IGSID, PAGE_ID, PAGE_TOKEN, PSID, graph_call, json, meta_error,
};
use crate::support::inbox::{connect_accounts, delivery, harness_with, tenant};

async fn conversation_when(
    store: &dyn MessageStore,
    ready: impl Fn(&Conversation) -> bool,
) -> Conversation {
    for _ in 0..200 {
        let page = store
            .list_conversations(&tenant(), &ConversationQuery::new())
            .await
            .unwrap();
        if let Some(found) = page.data.into_iter().find(|c| ready(c)) {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("no conversation reached the expected state");
}

#[tokio::test]
async fn a_new_participant_s_profile_is_looked_up_once_and_published() {
    let h = harness_with(Tenancy::Single(tenant()), |b| b.fetch_profiles(true)).await;
    connect_accounts(h.store.as_ref(), &tenant()).await;
    graph_call("GET", PSID, PAGE_TOKEN)
        .and(query_param("fields", "id,first_name,last_name,name,profile_pic"))
        .respond_with(json(
            200,
            json!({"id": PSID, "first_name": "Ada", "last_name": "Lovelace", "profile_pic": "https://scontent.example/ada.jpg"}),
        ))
        .expect(1)
        .mount(&h.graph.server)
        .await;
    let mut live = h.inbox.subscribe(&tenant()).await.unwrap();

    for text in ["Hi", "Are you there?"] {
        let (body, signature) = delivery(Platform::Messenger, PAGE_ID, PSID, text);
        h.inbox.receive(Some(&signature), &body).await.unwrap();
    }
    let named = conversation_when(h.store.as_ref(), |c| c.participant.name.is_some()).await;
    assert_eq!(named.participant.name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(
        named.participant.profile_pic_url.as_deref(),
        Some("https://scontent.example/ada.jpg")
    );

    // Subscribers see the conversation with the name.
    let mut published = false;
    while let Ok(Some(event)) = tokio::time::timeout(Duration::from_secs(2), live.next()).await {
        if let InboxEvent::ConversationUpdated { conversation } = &event.event
            && conversation.participant.name.as_deref() == Some("Ada Lovelace")
        {
            published = true;
            break;
        }
    }
    assert!(published, "no conversation_updated with the profile");
    // The second message did not cost a second look-up (`expect(1)`, checked on drop).
    tokio::time::sleep(Duration::from_millis(50)).await;
}

#[tokio::test]
async fn a_refused_look_up_leaves_the_ids_and_the_delivery_stored() {
    let h = harness_with(Tenancy::Single(tenant()), |b| b.fetch_profiles(true)).await;
    connect_accounts(h.store.as_ref(), &tenant()).await;
    graph_call("GET", IGSID, PAGE_TOKEN)
        .respond_with(meta_error(
            400,
            230,
            None,
            "(#230) Requires pages_messaging permission",
        ))
        .expect(1)
        .mount(&h.graph.server)
        .await;
    let (body, signature) = delivery(Platform::Instagram, IG_ACCOUNT_ID, IGSID, "hello");
    let receipt = h.inbox.receive(Some(&signature), &body).await.unwrap();
    assert_eq!(receipt.applied.inserted, 1);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let conversation = conversation_when(h.store.as_ref(), |_| true).await;
    assert_eq!(conversation.participant_id.as_str(), IGSID);
    assert_eq!(conversation.participant.name, None);
}

#[tokio::test]
async fn without_the_option_nothing_is_looked_up() {
    let h = harness_with(Tenancy::Single(tenant()), |b| b).await;
    connect_accounts(h.store.as_ref(), &tenant()).await;
    graph_call("GET", PSID, PAGE_TOKEN)
        .respond_with(json(200, json!({"id": PSID, "name": "Ada Lovelace"})))
        .expect(0)
        .mount(&h.graph.server)
        .await;
    let (body, signature) = delivery(Platform::Messenger, PAGE_ID, PSID, "Hi");
    h.inbox.receive(Some(&signature), &body).await.unwrap();
    // With the option on, the look-up starts as soon as the delivery is stored (the test above
    // sees it well within this time); give a wrongly started one the same chance to show.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let requests = h.graph.server.received_requests().await.unwrap_or_default();
    assert!(requests.is_empty(), "Graph was called: {requests:?}");
    let conversation = conversation_when(h.store.as_ref(), |_| true).await;
    assert_eq!(conversation.participant.name, None);
}
