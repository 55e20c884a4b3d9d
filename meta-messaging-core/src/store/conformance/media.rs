//! Conformance: media records of kept attachments.

use sha2::{Digest, Sha256};

use super::Harness;
use super::fixtures::{Scene, fresh, tick};
use crate::ids::MessageId;
use crate::platform::Platform;
use crate::store::api::MessageStore;
use crate::store::changes::ChangeSubject;
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
