//! The S3 media store against a real S3-compatible server (`moto_server` in CI; see
//! `support::s3`): content addressing, idempotent puts, missing keys, refused keys, prefix
//! isolation and errors that keep their cause but not the credentials.

use meta_messaging_core::media::{MediaError, MediaStore, S3MediaStore};
use sha2::Digest as _;

use crate::support::s3::{self, BUCKET};

fn sha256(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The server's listing of the objects under `prefix`, read without the store (the test server
/// lists for unsigned requests): the XML of `ListObjectsV2`.
async fn listing(endpoint: &str, prefix: &str) -> String {
    let answer =
        crate::support::http::get(format!("{endpoint}/{BUCKET}?list-type=2&prefix={prefix}/"))
            .await
            .unwrap();
    assert_eq!(answer.status(), 200);
    answer.text().await.unwrap()
}

#[tokio::test]
async fn files_are_kept_by_sha256_under_the_prefix_and_deleted() {
    let Some(endpoint) = s3::url() else { return };
    let prefix = s3::fresh_prefix("store");
    let store = s3::store_at(&endpoint, &prefix).await;
    let photo: Vec<u8> = (0..70_000_u32).map(|i| (i * 31 % 253) as u8).collect();
    let key = store.put(&photo).await.unwrap();
    assert_eq!(key, sha256(&photo));

    // The layout is the filesystem store's: {prefix}/{first two hex}/{sha256}.
    let object = format!("{prefix}/{}/{key}", &key[..2]);
    assert_eq!(store.key_of(&key).unwrap(), object);
    let listed = listing(&endpoint, &prefix).await;
    assert!(
        listed.contains(&format!("<Key>{object}</Key>"))
            && listed.contains(&format!("<Size>{}</Size>", photo.len()))
            && listed.contains("<KeyCount>1</KeyCount>"),
        "{listed}"
    );
    assert_eq!(store.get(&key).await.unwrap(), Some(photo.clone()));

    // The same bytes again: the same key, the object unchanged.
    assert_eq!(store.put(&photo).await.unwrap(), key);
    assert_eq!(store.get(&key).await.unwrap(), Some(photo.clone()));

    store.delete(&key).await.unwrap();
    assert_eq!(store.get(&key).await.unwrap(), None);
    let listed = listing(&endpoint, &prefix).await;
    assert!(listed.contains("<KeyCount>0</KeyCount>"), "{listed}");
    store
        .delete(&key)
        .await
        .expect("deleting a missing file is fine");

    let empty = store.put(b"").await.unwrap();
    assert_eq!(store.get(&empty).await.unwrap(), Some(Vec::new()));
}

#[tokio::test]
async fn a_missing_key_is_none_and_a_key_that_is_not_a_sha256_is_refused() {
    let Some(store) = s3::fresh_store("keys").await else {
        return;
    };
    assert_eq!(store.get(&sha256(b"never kept")).await.unwrap(), None);
    for key in ["../../etc/passwd", "", &"A".repeat(64), &"a".repeat(63)] {
        assert!(
            matches!(store.get(key).await, Err(MediaError::InvalidKey(_))),
            "{key}"
        );
        assert!(
            matches!(store.delete(key).await, Err(MediaError::InvalidKey(_))),
            "{key}"
        );
    }
}

#[tokio::test]
async fn stores_with_different_prefixes_do_not_see_each_other() {
    let Some(endpoint) = s3::url() else { return };
    let a = s3::store_at(&endpoint, &s3::fresh_prefix("tenant-a")).await;
    let b = s3::store_at(&endpoint, &s3::fresh_prefix("tenant-b")).await;
    let key = a.put(b"only in a").await.unwrap();
    assert_eq!(b.get(&key).await.unwrap(), None);
    b.delete(&key).await.unwrap();
    assert_eq!(
        a.get(&key).await.unwrap().as_deref(),
        Some(&b"only in a"[..]),
        "a delete through another prefix leaves the object alone"
    );
}

#[tokio::test]
async fn a_failing_request_keeps_its_cause_and_hides_the_credentials() {
    let Some(endpoint) = s3::url() else { return };
    let store = S3MediaStore::builder("s3://meta-messaging-no-such-bucket/x")
        .unwrap()
        .endpoint(&endpoint)
        .credentials("test-key-id", "s3cr3t-access-key")
        .allow_http(true)
        .build()
        .unwrap();
    let err = store.put(b"nowhere to go").await.expect_err("no bucket");
    assert!(matches!(err, MediaError::ObjectStore { .. }), "{err:?}");
    assert!(
        std::error::Error::source(&err).is_some(),
        "the object_store error is chained"
    );
    let shown = format!("{err} {err:?} {store:?}");
    assert!(!shown.contains("s3cr3t-access-key"), "{shown}");
}
