//! Conformance: media records of kept attachments.

use serde_json::json;
use sha2::{Digest, Sha256};

use super::Harness;
use super::fixtures::{Scene, fresh, tick};
use crate::ids::{MessageId, TenantId};
use crate::platform::Platform;
use crate::store::api::MessageStore;
use crate::store::changes::{ChangeNotice, ChangeSubject};
use crate::store::error::StoreError;
use crate::store::media::{NewMedia, StoredMediaId};
use crate::store::model::StoredMessage;
use crate::store::plan::now_ms;

async fn message(store: &dyn MessageStore, s: &Scene, mid: &str) -> StoredMessage {
    store
        .find_message(&s.tenant, s.platform, &MessageId::new(mid))
        .await
        .expect("find_message failed")
        .unwrap_or_else(|| panic!("no message {mid}"))
}

fn fresh_sha256() -> String {
    hex::encode(Sha256::digest(fresh("bytes-").as_bytes()))
}

/// Recording a download marks the attachment kept (`media_url`, `mime`, `size`, `sha256`,
/// `stored`, Meta's URL kept) in one write with a `message_updated` change; the record is
/// the owner's only, replaced by a second download, refused for a missing attachment, another
/// tenant or an unsent message; deleting a message's media and pruning old media return the
/// records they deleted, and `media_in_use` follows them.
pub async fn media_records(h: &Harness) {
    let store = &*h.store;
    let s = Scene::new(Platform::Instagram);
    let other = Scene::new(Platform::Instagram);
    let (user, mid, old_mid) = (fresh("u"), fresh("m_"), fresh("m_"));
    let url = format!("https://cdn.example/{}.jpg", fresh("i"));
    s.apply(
        store,
        vec![
            s.image(&user, &mid, &url, tick()),
            s.image(&user, &old_mid, &url, tick()),
        ],
    )
    .await
    .expect("apply images");
    let m = message(store, &s, &mid).await;
    assert!(!m.attachments[0].stored, "{:?}", m.attachments);
    let head = store.change_head(&s.tenant).await.expect("change_head");

    let (sha, now) = (fresh_sha256(), now_ms());
    let id = StoredMediaId::of_attachment(&s.tenant, m.id, 0);
    let media_url = format!("/api/meta/media/{id}");
    let media = NewMedia::new(m.id, 0, &sha, "image/jpeg", 5, &media_url, now);
    let updated = store
        .record_media(&s.tenant, &media)
        .await
        .expect("record_media failed")
        .expect("the message has the attachment");
    let a = &updated.attachments[0];
    assert!(a.stored);
    assert_eq!(a.url.as_deref(), Some(url.as_str()), "Meta's URL is kept");
    assert_eq!(a.media_url.as_deref(), Some(media_url.as_str()));
    assert_eq!(
        (a.mime.as_deref(), a.size, a.sha256.as_deref()),
        (Some("image/jpeg"), Some(5), Some(sha.as_str()))
    );
    let read = message(store, &s, &mid).await;
    assert_eq!(read.attachments, updated.attachments, "the write is kept");
    let json = serde_json::to_value(&read.attachments[0]).expect("JSON");
    assert_eq!(json["stored"], true);
    assert_eq!(json["media_url"], media_url.as_str());

    let page = store
        .changes_after(&s.tenant, head, 10)
        .await
        .expect("changes_after");
    assert_eq!(page.changes.len(), 1, "{page:?}");
    match &page.changes[0].subject {
        ChangeSubject::MessageUpdated(changed) => {
            assert_eq!(changed.id, m.id);
            assert!(changed.attachments[0].stored);
        }
        other => panic!("expected message_updated, got {other:?}"),
    }

    let record = store
        .get_media(&s.tenant, &id)
        .await
        .expect("get_media failed")
        .expect("the record");
    assert_eq!(
        (
            record.id.clone(),
            record.tenant_id.clone(),
            record.message_id
        ),
        (id.clone(), s.tenant.clone(), m.id)
    );
    assert_eq!(
        (
            record.attachment_index,
            record.sha256.as_str(),
            record.mime.as_str()
        ),
        (0, sha.as_str(), "image/jpeg")
    );
    assert_eq!((record.size, record.created_at_ms), (5, now));
    assert!(store.media_in_use(&sha).await.expect("media_in_use"));

    assert_eq!(
        store.get_media(&other.tenant, &id).await.expect("get"),
        None
    );
    assert!(
        store
            .record_media(&other.tenant, &media)
            .await
            .expect("record_media")
            .is_none(),
        "another tenant's message is not found"
    );
    let beyond = NewMedia::new(m.id, 1, &sha, "image/jpeg", 5, &media_url, now);
    assert!(
        store
            .record_media(&s.tenant, &beyond)
            .await
            .expect("record_media")
            .is_none(),
        "no second attachment"
    );

    let second = fresh_sha256();
    let again = NewMedia::new(m.id, 0, &second, "image/png", 7, &media_url, now);
    store
        .record_media(&s.tenant, &again)
        .await
        .expect("record again")
        .expect("recorded again");
    let replaced = store
        .get_media(&s.tenant, &id)
        .await
        .expect("get")
        .expect("record");
    assert_eq!(
        (replaced.sha256.as_str(), replaced.size),
        (second.as_str(), 7)
    );
    assert!(!store.media_in_use(&sha).await.expect("media_in_use"));

    let gone = store
        .delete_message_media(&s.tenant, m.id)
        .await
        .expect("delete_message_media");
    assert_eq!(gone, vec![replaced]);
    assert_eq!(store.get_media(&s.tenant, &id).await.expect("get"), None);
    assert!(!store.media_in_use(&second).await.expect("media_in_use"));

    s.apply(store, vec![s.delete(&user, &mid, tick())])
        .await
        .expect("unsend");
    assert!(
        store
            .record_media(&s.tenant, &media)
            .await
            .expect("record_media")
            .is_none(),
        "an unsent message keeps no media"
    );
    assert_eq!(store.get_media(&s.tenant, &id).await.expect("get"), None);

    let old = message(store, &s, &old_mid).await;
    let old_sha = fresh_sha256();
    let aged = NewMedia::new(old.id, 0, &old_sha, "image/jpeg", 3, "media/x", 1_000);
    store
        .record_media(&s.tenant, &aged)
        .await
        .expect("record old")
        .expect("recorded old");
    let pruned = store.prune_media(2_000).await.expect("prune_media");
    let ours: Vec<_> = pruned.iter().filter(|r| r.tenant_id == s.tenant).collect();
    assert_eq!(ours.len(), 1, "{pruned:?}");
    assert_eq!(ours[0].message_id, old.id);
    assert!(!store.media_in_use(&old_sha).await.expect("media_in_use"));
}

/// The kept attachments of a message, in its tenant, as a download would record them.
fn kept(s: &Scene, m: &StoredMessage, index: u32) -> (TenantId, NewMedia) {
    let id = StoredMediaId::of_attachment(&s.tenant, m.id, index);
    let media = NewMedia::new(
        m.id,
        index,
        fresh_sha256(),
        "image/jpeg",
        5,
        format!("media/{id}"),
        now_ms(),
    );
    (s.tenant.clone(), media)
}

/// The notices received so far, one per tenant's commit.
fn received(notices: &mut tokio::sync::broadcast::Receiver<ChangeNotice>) -> Vec<ChangeNotice> {
    std::iter::from_fn(|| notices.try_recv().ok()).collect()
}

/// `record_media_batch` records several downloads, of several tenants and of two attachments
/// of one message, in one write: each item as `record_media` would (`None` for a message unsent
/// meanwhile, an error for an empty tenant id, the others recorded all the same), with one
/// `message_updated` change per message recorded and one notice per tenant. When the write of
/// all of them fails, each item is recorded alone.
pub async fn media_recorded_together(h: &Harness) {
    let store = &*h.store;
    let s = Scene::new(Platform::Instagram);
    let other = Scene::new(Platform::Messenger);
    let user = fresh("u");
    let (two, unsent, one, theirs) = (fresh("m_"), fresh("m_"), fresh("m_"), fresh("m_"));
    let (later, last) = (fresh("m_"), fresh("m_"));
    let url = |i: u32| format!("https://cdn.example/{}-{i}.jpg", fresh("i"));
    let image = |i| json!({"type": "image", "payload": {"url": url(i)}});
    s.apply(
        store,
        vec![
            json!({"sender": {"id": user}, "recipient": {"id": s.account}, "timestamp": tick(),
                   "message": {"mid": two, "attachments": [image(0), image(1)]}}),
            s.image(&user, &unsent, &url(0), tick()),
            s.image(&user, &one, &url(0), tick()),
            s.image(&user, &later, &url(0), tick()),
            s.image(&user, &last, &url(0), tick()),
        ],
    )
    .await
    .expect("apply images");
    other
        .apply(store, vec![other.image(&user, &theirs, &url(0), tick())])
        .await
        .expect("apply the other tenant's image");
    let m_two = message(store, &s, &two).await;
    let m_unsent = message(store, &s, &unsent).await;
    let m_one = message(store, &s, &one).await;
    let m_theirs = message(store, &other, &theirs).await;
    s.apply(store, vec![s.delete(&user, &unsent, tick())])
        .await
        .expect("unsend");
    let heads = (
        store.change_head(&s.tenant).await.expect("change_head"),
        store.change_head(&other.tenant).await.expect("change_head"),
    );
    let mut notices = store.change_notices();

    let (_, nobody) = kept(&s, &m_one, 0);
    let items = vec![
        kept(&s, &m_two, 0),
        kept(&s, &m_unsent, 0),
        kept(&other, &m_theirs, 0),
        (TenantId::new(""), nobody),
        kept(&s, &m_two, 1),
        kept(&s, &m_one, 0),
    ];
    let outcomes = store.record_media_batch(&items).await;
    assert_eq!(outcomes.len(), items.len(), "{outcomes:?}");
    assert!(
        matches!(outcomes[1], Ok(None)),
        "an unsent message keeps no media: {:?}",
        outcomes[1]
    );
    assert!(
        matches!(outcomes[3], Err(StoreError::InvalidInput { .. })),
        "an empty tenant id is refused alone: {:?}",
        outcomes[3]
    );
    for i in [0, 2, 4, 5] {
        let (tenant, media) = &items[i];
        let recorded = match &outcomes[i] {
            Ok(Some(m)) => m,
            other => panic!("item {i} was not recorded: {other:?}"),
        };
        assert_eq!(recorded.id, media.message_id);
        let index = usize::try_from(media.attachment_index).expect("index");
        assert!(recorded.attachments[index].stored, "{recorded:?}");
        let id = StoredMediaId::of_attachment(tenant, media.message_id, media.attachment_index);
        let record = store
            .get_media(tenant, &id)
            .await
            .expect("get_media")
            .unwrap_or_else(|| panic!("no record of item {i}"));
        assert_eq!(record.sha256, media.sha256);
    }
    let read = message(store, &s, &two).await;
    assert!(
        read.attachments.iter().all(|a| a.stored),
        "both attachments of one message: {:?}",
        read.attachments
    );
    let id = StoredMediaId::of_attachment(&s.tenant, m_unsent.id, 0);
    assert_eq!(store.get_media(&s.tenant, &id).await.expect("get"), None);

    let page = store
        .changes_after(&s.tenant, heads.0, 10)
        .await
        .expect("changes_after");
    let mut updated: Vec<_> = page
        .changes
        .iter()
        .map(|c| match &c.subject {
            ChangeSubject::MessageUpdated(m) => m.id,
            other => panic!("expected message_updated, got {other:?}"),
        })
        .collect();
    updated.sort_unstable();
    let mut expected = vec![m_two.id, m_one.id];
    expected.sort_unstable();
    assert_eq!(updated, expected, "one change per message recorded");
    let page = store
        .changes_after(&other.tenant, heads.1, 10)
        .await
        .expect("changes_after");
    assert_eq!(page.changes.len(), 1, "{page:?}");
    assert!(
        matches!(&page.changes[0].subject, ChangeSubject::MessageUpdated(m) if m.id == m_theirs.id),
        "{page:?}"
    );
    let mut told: Vec<_> = received(&mut notices)
        .into_iter()
        .map(|n| (n.tenant_id, n.head))
        .collect();
    told.sort();
    let mut expected = vec![
        (s.tenant.clone(), heads.0 + 2),
        (other.tenant.clone(), heads.1 + 1),
    ];
    expected.sort();
    assert_eq!(told, expected, "one commit: one notice per tenant");

    // The write of both fails once: each is then recorded alone.
    let m_later = message(store, &s, &later).await;
    let m_last = message(store, &s, &last).await;
    h.fail_point.fail_after(0);
    let outcomes = store
        .record_media_batch(&[kept(&s, &m_later, 0), kept(&s, &m_last, 0)])
        .await;
    let armed = h.fail_point.is_armed();
    h.fail_point.disarm();
    assert!(!armed, "the write of both must have failed");
    assert!(
        outcomes.iter().all(|o| matches!(o, Ok(Some(_)))),
        "recorded alone: {outcomes:?}"
    );
    let told = received(&mut notices);
    assert_eq!(told.len(), 2, "two commits: {told:?}");
    assert_eq!(
        store.change_head(&s.tenant).await.expect("change_head"),
        heads.0 + 4
    );
}
