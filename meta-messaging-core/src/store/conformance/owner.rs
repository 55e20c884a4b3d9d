//! Conformance: who answers a conversation (the handover between a bot and a human).

use serde_json::json;

use super::Harness;
use super::fixtures::{Scene, fresh, tick};
use crate::ids::{AccountId, ConversationId, TenantId, UserId};
use crate::platform::Platform;
use crate::store::api::MessageStore;
use crate::store::error::StoreError;
use crate::store::owner::ThreadOwner;
use crate::store::query::ConversationQuery;

/// A conversation starts with the bot; its owner is set, read back by id, by account and user
/// and in lists, survives a new message, shows in the JSON, and is the tenant's alone.
pub async fn conversation_owner(h: &Harness) {
    let store = &*h.store;
    let s = Scene::new(Platform::Messenger);
    let user = fresh("u");
    s.apply(store, vec![s.text(&user, &fresh("m_"), "Hi", tick())])
        .await
        .expect("apply text");
    let found = store
        .find_conversation(
            &s.tenant,
            s.platform,
            &AccountId::new(s.account.as_str()),
            &UserId::new(user.as_str()),
        )
        .await
        .expect("find_conversation")
        .expect("the conversation exists");
    assert_eq!(
        found.owner,
        ThreadOwner::Bot,
        "a new conversation is the bot's"
    );
    let id = found.id;

    let human = store
        .set_conversation_owner(&s.tenant, id, ThreadOwner::Human)
        .await
        .expect("set owner");
    assert_eq!(human.owner, ThreadOwner::Human);
    let json = serde_json::to_value(&human).expect("conversation JSON");
    assert_eq!(json["owner"], json!("human"));

    s.apply(
        store,
        vec![s.text(&user, &fresh("m_"), "Still there?", tick())],
    )
    .await
    .expect("apply second text");
    assert_eq!(owner(store, &s.tenant, id).await, ThreadOwner::Human);
    let listed = store
        .list_conversations(&s.tenant, &ConversationQuery::new())
        .await
        .expect("list");
    let row = listed.data.iter().find(|c| c.id == id).expect("listed");
    assert_eq!(row.owner, ThreadOwner::Human);

    store
        .set_conversation_owner(&s.tenant, id, ThreadOwner::OtherApp)
        .await
        .expect("set other app");
    assert_eq!(owner(store, &s.tenant, id).await, ThreadOwner::OtherApp);
    store
        .set_conversation_owner(&s.tenant, id, ThreadOwner::Bot)
        .await
        .expect("hand back");
    assert_eq!(owner(store, &s.tenant, id).await, ThreadOwner::Bot);

    let other = TenantId::new(fresh("tenant-"));
    let err = store
        .set_conversation_owner(&other, id, ThreadOwner::Human)
        .await
        .expect_err("another tenant's conversation");
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
    assert_eq!(owner(store, &s.tenant, id).await, ThreadOwner::Bot);
}

async fn owner(store: &dyn MessageStore, tenant: &TenantId, id: ConversationId) -> ThreadOwner {
    store
        .get_conversation(tenant, id)
        .await
        .expect("get_conversation")
        .expect("the conversation exists")
        .owner
}
