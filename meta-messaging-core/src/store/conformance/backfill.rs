//! Conformance: the progress of a history backfill, saved and read back per account.

use super::Harness;
use super::fixtures::{Scene, fresh, tick};
use crate::ids::{AccountId, MessageId};
use crate::platform::Platform;
use crate::store::api::TenantEvent;
use crate::store::backfill::{BackfillProgress, BackfillState};
use crate::store::query::ConversationQuery;

/// A saved progress reads back field for field (the cursor too, though JSON never shows it);
/// saving again replaces it; it is kept per tenant, platform and account; a state the version
/// does not know reads back as itself; NUL characters are replaced.
pub async fn backfill_progress(h: &Harness) {
    let store = &*h.store;
    let s = Scene::new(Platform::Messenger);
    let account = AccountId::new(s.account.as_str());
    let absent = store
        .backfill_progress(&s.tenant, Platform::Messenger, &account)
        .await
        .expect("backfill_progress failed");
    assert_eq!(absent, None, "no progress before the first save");

    let (started, horizon) = (tick(), tick() - 86_400_000);
    let mut progress =
        BackfillProgress::start(Platform::Messenger, account.clone(), horizon, started);
    progress.cursor = Some("QVFIUk1hbmV4dA".to_owned());
    progress.conversations = 3;
    progress.messages = 41;
    progress.oldest_reached_ms = Some(horizon + 5);
    store
        .save_backfill(&s.tenant, &progress)
        .await
        .expect("save_backfill failed");
    let read = store
        .backfill_progress(&s.tenant, Platform::Messenger, &account)
        .await
        .expect("backfill_progress failed");
    assert_eq!(read.as_ref(), Some(&progress), "saved progress reads back");

    progress.state = BackfillState::Failed;
    progress.error = Some("rate\0limited".to_owned());
    progress.cursor = None;
    progress.updated_at_ms = tick();
    store
        .save_backfill(&s.tenant, &progress)
        .await
        .expect("save_backfill (replace) failed");
    let read = store
        .backfill_progress(&s.tenant, Platform::Messenger, &account)
        .await
        .expect("backfill_progress failed")
        .expect("progress saved");
    assert_eq!(read.state, BackfillState::Failed);
    assert_eq!(read.cursor, None, "a save replaces the cursor");
    assert_eq!(read.error.as_deref(), Some("rate\u{FFFD}limited"));
    assert_eq!(read.messages, 41);

    // Same account id on the other platform, and in another tenant: nothing.
    let other = s.same_tenant(Platform::Instagram);
    let on_instagram = store
        .backfill_progress(&other.tenant, Platform::Instagram, &account)
        .await
        .expect("backfill_progress failed");
    assert_eq!(on_instagram, None, "progress is per platform");
    let elsewhere = Scene::new(Platform::Messenger);
    let other_tenant = store
        .backfill_progress(&elsewhere.tenant, Platform::Messenger, &account)
        .await
        .expect("backfill_progress failed");
    assert_eq!(other_tenant, None, "progress is per tenant");

    let mut newer = BackfillProgress::start(
        Platform::Instagram,
        AccountId::new(fresh("1784")),
        horizon,
        started,
    );
    newer.state = BackfillState::Other("throttled".to_owned());
    store
        .save_backfill(&s.tenant, &newer)
        .await
        .expect("save_backfill failed");
    let read = store
        .backfill_progress(&s.tenant, Platform::Instagram, &newer.account_id)
        .await
        .expect("backfill_progress failed")
        .expect("progress saved");
    assert_eq!(read.state, BackfillState::Other("throttled".to_owned()));
}

/// `interrupted_backfills` lists the running backfills of every tenant, with their tenant and
/// cursor, and none that is paused, done or failed.
pub async fn interrupted_backfills(h: &Harness) {
    let store = &*h.store;
    let s = Scene::new(Platform::Messenger);
    let other = Scene::new(Platform::Instagram);
    let (started, horizon) = (tick(), tick() - 86_400_000);
    let progress = |platform, state: BackfillState| {
        let mut p =
            BackfillProgress::start(platform, AccountId::new(fresh("1044")), horizon, started);
        p.state = state;
        p.cursor = Some(fresh("QVFIU"));
        p
    };
    let running = progress(Platform::Messenger, BackfillState::Running);
    let paused = progress(Platform::Instagram, BackfillState::Paused);
    let done = progress(Platform::Messenger, BackfillState::Done);
    let failed = progress(Platform::Messenger, BackfillState::Failed);
    let elsewhere = progress(Platform::Instagram, BackfillState::Running);
    for p in [&running, &paused, &done, &failed] {
        store
            .save_backfill(&s.tenant, p)
            .await
            .expect("save_backfill failed");
    }
    store
        .save_backfill(&other.tenant, &elsewhere)
        .await
        .expect("save_backfill failed");

    let listed = store
        .interrupted_backfills()
        .await
        .expect("interrupted_backfills failed");
    let of = |tenant: &crate::ids::TenantId| {
        let mut mine: Vec<BackfillProgress> = listed
            .iter()
            .filter(|(t, _)| t == tenant)
            .map(|(_, p)| p.clone())
            .collect();
        mine.sort_by(|a, b| a.account_id.as_str().cmp(b.account_id.as_str()));
        mine
    };
    assert_eq!(
        of(&s.tenant),
        vec![running.clone()],
        "the running one is listed, field for field; paused, done and failed are not"
    );
    assert_eq!(
        of(&other.tenant),
        vec![elsewhere],
        "every tenant's are listed"
    );

    let mut finished = running;
    finished.state = BackfillState::Done;
    store
        .save_backfill(&s.tenant, &finished)
        .await
        .expect("save_backfill failed");
    let listed = store
        .interrupted_backfills()
        .await
        .expect("interrupted_backfills failed");
    assert!(
        !listed
            .iter()
            .any(|(t, p)| t == &s.tenant && p.account_id == finished.account_id),
        "a backfill saved as done leaves the list"
    );
}

/// A message applied as already read (imported history) is stored read, neither counts as
/// unread nor unarchives its conversation, yet moves it to its newest message; a delivery
/// after it counts as usual. The account's own messages in the same batch are untouched.
pub async fn history_arrives_read(h: &Harness) {
    let store = &*h.store;
    let s = Scene::new(Platform::Messenger);
    let t = &s.tenant;
    let (old, answer, new) = (fresh("m_old"), fresh("m_ans"), fresh("m_new"));
    let first = s.routed(vec![s.text("u1", &fresh("m_first"), "first", tick())]);
    store.apply(&first).await.expect("apply");
    let conversation = store
        .list_conversations(t, &ConversationQuery::new())
        .await
        .expect("conversations")
        .data
        .remove(0);
    store
        .mark_conversation_read(t, conversation.id)
        .await
        .expect("mark read");
    store
        .set_conversation_archived(t, conversation.id, true)
        .await
        .expect("archive");

    let imported: Vec<TenantEvent> = s
        .routed(vec![
            s.text("u1", &old, "from history", tick()),
            s.echo("u1", &answer, "answered", tick()),
        ])
        .into_iter()
        .map(TenantEvent::read)
        .collect();
    let report = store.apply(&imported).await.expect("apply history");
    assert_eq!(report.inserted, 2);
    let after = store
        .get_conversation(t, conversation.id)
        .await
        .expect("conversation")
        .expect("exists");
    assert_eq!(after.unread_count, 0, "history is not unread");
    assert!(after.archived, "history does not unarchive");
    assert_eq!(
        after.last_message_id.as_ref().map(|m| m.as_str()),
        Some(answer.as_str())
    );
    let stored = store
        .find_message(t, Platform::Messenger, &MessageId::new(old.as_str()))
        .await
        .expect("find")
        .expect("stored");
    assert!(stored.is_read(), "stored read: {stored:?}");

    store
        .apply(&s.routed(vec![s.text("u1", &new, "live", tick())]))
        .await
        .expect("apply delivery");
    let after = store
        .get_conversation(t, conversation.id)
        .await
        .expect("conversation")
        .expect("exists");
    assert_eq!(after.unread_count, 1, "a delivery counts");
    assert!(!after.archived, "a delivery unarchives");
}
