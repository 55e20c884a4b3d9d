//! Kept media through the inbox service: downloads after the write, retries, refusals, live
//! announcements, tenant isolation and retention.

use std::time::Duration;

use meta_messaging_core::inbox::{InboxError, InboxEvent, MediaOptions, Tenancy};
use meta_messaging_core::media::{FsMediaStore, MediaDownloader, MediaError, MediaStore};
use meta_messaging_core::platform::Platform;
use meta_messaging_core::secret::AppSecret;
use meta_messaging_core::store::{MessageStore as _, StoreError, StoredMediaId, StoredMessage};
use meta_messaging_core::webhook::{self, DeliveryBuilder};
use serde_json::json;
use sha2::Digest as _;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::graph_mock::{APP_SECRET, IG_ACCOUNT_ID, IGSID};
use crate::support::inbox::{connect_accounts, harness_with, tenant};

fn bytes(n: usize, seed: u8) -> Vec<u8> {
    (0..n).map(|i| (i as u8).wrapping_mul(13) ^ seed).collect()
}

#[tokio::test]
async fn kept_media_is_announced_served_to_its_tenant_only_and_pruned() {
    let cdn = MockServer::start().await;
    let (photo, clip) = (bytes(2_000, 7), bytes(3_000, 9));
    Mock::given(method("GET"))
        .and(path("/x/photo.jpg"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(photo.clone(), "image/jpeg"))
        .expect(1)
        .mount(&cdn)
        .await;
    // A CDN hiccup: the first try answers 503, the second the file.
    Mock::given(method("GET"))
        .and(path("/x/clip.mp4"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .expect(1)
        .mount(&cdn)
        .await;
    Mock::given(method("GET"))
        .and(path("/x/clip.mp4"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(clip.clone(), "video/mp4"))
        .expect(1)
        .mount(&cdn)
        .await;
    // An expired URL: refused once, never retried.
    Mock::given(method("GET"))
        .and(path("/x/gone.jpg"))
        .respond_with(ResponseTemplate::new(403).set_body_string("URL signature expired"))
        .expect(1)
        .mount(&cdn)
        .await;

    let dir = tempfile::tempdir().unwrap();
    let http = meta_messaging_core::graph::http_client_builder()
        .unwrap()
        .build()
        .unwrap();
    let media = MediaOptions::new(FsMediaStore::new(dir.path()).unwrap())
        .retention(Duration::ZERO)
        .downloader(MediaDownloader::new(http).retry_delay(Duration::from_millis(10)));
    let h = harness_with(Tenancy::Single(tenant()), |b| b.media(media)).await;
    connect_accounts(h.store.as_ref(), &tenant()).await;
    let mut live = h.inbox.subscribe(&tenant()).await.unwrap();

    let url = |p: &str| format!("{}{p}", cdn.uri());
    let body = DeliveryBuilder::new(Platform::Instagram, IG_ACCOUNT_ID)
        .messaging_event(json!({
            "sender": {"id": IGSID}, "recipient": {"id": IG_ACCOUNT_ID}, "timestamp": 1_733_412_999_000_i64,
            "message": {"mid": "aWdfZAG1faXRlbTptZWRpYQ", "attachments": [
                {"type": "image", "payload": {"url": url("/x/photo.jpg")}},
                {"type": "video", "payload": {"url": url("/x/clip.mp4")}},
                {"type": "image", "payload": {"url": url("/x/gone.jpg")}},
            ]}
        }))
        .build();
    let signature = webhook::sign(&AppSecret::new(APP_SECRET), &body);
    h.inbox.receive(Some(&signature), &body).await.unwrap();

    // Live events announce each kept attachment as a message update.
    let mut last: Option<StoredMessage> = None;
    while last
        .as_ref()
        .is_none_or(|m| m.attachments.iter().filter(|a| a.stored).count() < 2)
    {
        let event = tokio::time::timeout(Duration::from_secs(5), live.next())
            .await
            .expect("an event within 5 s")
            .expect("open");
        if let InboxEvent::MessageUpdated { message } = &event.event {
            last = Some((**message).clone());
        }
    }
    let message = last.unwrap();
    let attachments = &message.attachments;
    assert!(!attachments[2].stored, "an expired URL is not kept");
    for (i, (bytes, mime)) in [(&photo, "image/jpeg"), (&clip, "video/mp4")]
        .into_iter()
        .enumerate()
    {
        let a = &attachments[i];
        let sha256 = hex::encode(sha2::Sha256::digest(bytes));
        assert_eq!(a.sha256.as_deref(), Some(sha256.as_str()));
        assert_eq!(
            (a.mime.as_deref(), a.size),
            (Some(mime), Some(bytes.len() as u64))
        );
        let id = StoredMediaId::of_attachment(&tenant(), message.id, i as u32);
        assert_eq!(
            a.media_url.as_deref(),
            Some(format!("media/{id}").as_str()),
            "relative without a mount"
        );
        let kept = h.inbox.media(&tenant(), &id).await.unwrap();
        assert_eq!(&kept.bytes, bytes);
        assert_eq!(kept.record.mime, mime);
        let theirs = h.inbox.media(&"someone-else".into(), &id).await;
        assert!(
            matches!(theirs, Err(InboxError::Store(StoreError::NotFound { .. }))),
            "another tenant gets nothing: {theirs:?}"
        );
    }

    // Retention 0: everything kept before now goes, records and files (a record of this very
    // millisecond is not yet older than the retention: wait past it).
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert_eq!(h.inbox.prune_media().await.unwrap(), 2);
    let id = StoredMediaId::of_attachment(&tenant(), message.id, 0);
    assert!(matches!(
        h.inbox.media(&tenant(), &id).await,
        Err(InboxError::Store(StoreError::NotFound { .. }))
    ));
    let left: Vec<_> = walk(dir.path());
    assert!(left.is_empty(), "files left: {left:?}");
    assert_eq!(h.inbox.prune_media().await.unwrap(), 0);
}

/// A media store that says which files it deleted.
#[derive(Debug)]
struct Watched {
    files: FsMediaStore,
    deleted: tokio::sync::mpsc::UnboundedSender<String>,
}

#[async_trait::async_trait]
impl MediaStore for Watched {
    async fn put(&self, bytes: &[u8]) -> Result<String, MediaError> {
        self.files.put(bytes).await
    }

    async fn get(&self, sha256: &str) -> Result<Option<Vec<u8>>, MediaError> {
        self.files.get(sha256).await
    }

    async fn delete(&self, sha256: &str) -> Result<(), MediaError> {
        self.files.delete(sha256).await?;
        let _ = self.deleted.send(sha256.to_owned());
        Ok(())
    }
}

/// A message unsent while its picture downloads: the recorder finds it gone, records nothing,
/// and the file the download wrote is deleted.
#[tokio::test]
async fn a_picture_unsent_during_its_download_leaves_no_file() {
    let cdn = MockServer::start().await;
    let picture = bytes(1_000, 3);
    Mock::given(method("GET"))
        .and(path("/x/late.jpg"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(picture.clone(), "image/jpeg")
                .set_delay(Duration::from_millis(300)),
        )
        .expect(1)
        .mount(&cdn)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let (deleted, mut deletions) = tokio::sync::mpsc::unbounded_channel();
    let files = Watched {
        files: FsMediaStore::new(dir.path()).unwrap(),
        deleted,
    };
    let h = harness_with(Tenancy::Single(tenant()), |b| {
        b.media(MediaOptions::new(files))
    })
    .await;
    connect_accounts(h.store.as_ref(), &tenant()).await;
    let signature = |body: &[u8]| webhook::sign(&AppSecret::new(APP_SECRET), body);
    let mid = "aWdfZAG1faXRlbTpsYXRl";
    let body = DeliveryBuilder::new(Platform::Instagram, IG_ACCOUNT_ID)
        .messaging_event(json!({
            "sender": {"id": IGSID}, "recipient": {"id": IG_ACCOUNT_ID}, "timestamp": 1_733_412_999_000_i64,
            "message": {"mid": mid, "attachments": [
                {"type": "image", "payload": {"url": format!("{}/x/late.jpg", cdn.uri())}},
            ]}
        }))
        .build();
    h.inbox
        .receive(Some(&signature(&body)), &body)
        .await
        .unwrap();
    // The download has started (the message was there when it did) before the unsend lands.
    tokio::time::timeout(Duration::from_secs(5), async {
        while cdn.received_requests().await.unwrap_or_default().is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the download starts within 5 s");
    let unsend = DeliveryBuilder::new(Platform::Instagram, IG_ACCOUNT_ID)
        .messaging_event(json!({
            "sender": {"id": IGSID}, "recipient": {"id": IG_ACCOUNT_ID}, "timestamp": 1_733_413_000_000_i64,
            "message": {"mid": mid, "is_deleted": true}
        }))
        .build();
    h.inbox
        .receive(Some(&signature(&unsend)), &unsend)
        .await
        .unwrap();

    let gone = tokio::time::timeout(Duration::from_secs(10), deletions.recv())
        .await
        .expect("the file is deleted within 10 s")
        .expect("open");
    assert_eq!(gone, hex::encode(sha2::Sha256::digest(&picture)));
    let message = h
        .store
        .find_message(&tenant(), Platform::Instagram, &mid.into())
        .await
        .unwrap()
        .expect("the message");
    assert!(message.deleted);
    assert!(message.attachments.iter().all(|a| !a.stored), "{message:?}");
    let left = walk(dir.path());
    assert!(left.is_empty(), "files left: {left:?}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .flat_map(|e| {
            let p = e.unwrap().path();
            if p.is_dir() { walk(&p) } else { vec![p] }
        })
        .collect()
}
