//! Conformance: the progress of a history backfill, saved and read back per account.

use super::Harness;
use super::fixtures::{Scene, fresh, tick};
use crate::ids::AccountId;
use crate::platform::Platform;
use crate::store::backfill::{BackfillProgress, BackfillState};

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
