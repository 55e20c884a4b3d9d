//! Deliveries in any order and any number of repeats end in the same store state.
//!
//! Covered: inbound messages and echoes (which also stand for replies sent through the inbox,
//! merged with their echo). Not yet: a reaction, edit, delete or Messenger read receipt that
//! arrives before its message is kept in the raw-events table and not replayed when the message
//! arrives, so for those the order still matters.

use meta_messaging_core::ids::TenantId;
use meta_messaging_core::inbox::{Inbox, Tenancy};
use meta_messaging_core::platform::Platform;
use meta_messaging_core::secret::{AppSecret, VerifyToken};
use meta_messaging_core::store::{ConversationQuery, InMemoryStore, MessageQuery, MessageStore};
use meta_messaging_core::webhook::DeliveryBuilder;
use proptest::prelude::*;
use serde_json::{Value, json};
use std::sync::Arc;

const SECRET: &str = "order-secret";
const PAGE: &str = "104417552380421";

/// One delivery of a small conversation history: messages from two users, the page's echoes
/// of its replies.
fn history() -> Vec<(Vec<u8>, String)> {
    let mut deliveries = Vec::new();
    for i in 0..6_i64 {
        let user = if i % 2 == 0 {
            "6758492015643287"
        } else {
            "6758492015643288"
        };
        let ts = 1_700_000_000_000 + i * 1_000;
        let inbound = json!({"sender": {"id": user}, "recipient": {"id": PAGE}, "timestamp": ts,
            "message": {"mid": format!("m_in_{i}"), "text": format!("question {i}")}});
        let echo = json!({"sender": {"id": PAGE}, "recipient": {"id": user}, "timestamp": ts + 500,
            "message": {"mid": format!("m_out_{i}"), "is_echo": true, "app_id": 1, "text": format!("answer {i}")}});
        for event in [inbound, echo] {
            deliveries.push(
                DeliveryBuilder::new(Platform::Messenger, PAGE)
                    .messaging_event(event)
                    .signed(&AppSecret::new(SECRET)),
            );
        }
    }
    deliveries
}

/// The store's content without ids and arrival times, which legitimately differ between runs.
async fn snapshot(store: &dyn MessageStore, tenant: &TenantId) -> Value {
    let messages = store
        .list_messages(tenant, &MessageQuery::new().limit(500))
        .await
        .unwrap();
    let conversations = store
        .list_conversations(tenant, &ConversationQuery::new().limit(500))
        .await
        .unwrap();
    let messages: Vec<Value> = messages
        .data
        .iter()
        .map(|m| {
            json!([
                m.message_id,
                m.direction,
                m.sender_id,
                m.recipient_id,
                m.text,
                m.timestamp_ms,
                m.edit_count,
                m.deleted
            ])
        })
        .collect();
    let mut conversations: Vec<Value> = conversations
        .data
        .iter()
        .map(|c| {
            json!([
                c.participant_id,
                c.last_message_at_ms,
                c.last_message_id,
                c.last_message_preview,
                c.unread_count
            ])
        })
        .collect();
    conversations.sort_by_key(Value::to_string);
    json!({"messages": messages, "conversations": conversations})
}

async fn apply_in_order(order: &[usize], deliveries: &[(Vec<u8>, String)]) -> Value {
    let store = Arc::new(InMemoryStore::new());
    let tenant = TenantId::new("order");
    let inbox = Inbox::builder()
        .app_secret(AppSecret::new(SECRET))
        .verify_token(VerifyToken::new("unused"))
        .store(store.clone())
        .tenancy(Tenancy::Single(tenant.clone()))
        .build()
        .unwrap();
    for &i in order {
        let (body, signature) = &deliveries[i];
        inbox.receive(Some(signature), body).await.unwrap();
    }
    snapshot(store.as_ref(), &tenant).await
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_order_and_repeats_end_in_the_same_state(
        shuffled in Just((0..12).collect::<Vec<usize>>()).prop_shuffle(),
        repeats in proptest::collection::vec(0..12_usize, 0..12),
    ) {
        let deliveries = history();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let in_order: Vec<usize> = (0..deliveries.len()).collect();
        let expected = runtime.block_on(apply_in_order(&in_order, &deliveries));
        let mut order = shuffled;
        order.extend(repeats);
        let actual = runtime.block_on(apply_in_order(&order, &deliveries));
        prop_assert_eq!(actual, expected);
    }
}
