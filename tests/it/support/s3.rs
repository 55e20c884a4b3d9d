//! An S3-compatible server for the tests: the one named by `META_MESSAGING_TEST_S3_URL`
//! (CI starts `moto_server` at `http://127.0.0.1:9077`), one bucket, a fresh key prefix per
//! store so tests never see each other's objects.
//!
//! Without the variable, S3 tests print "skipped" and pass, so developers without a server can
//! run the rest; with `META_MESSAGING_REQUIRE_S3=1` (as in CI) they fail.

use std::sync::atomic::{AtomicU32, Ordering};

use meta_messaging_core::media::S3MediaStore;

const S3_URL: &str = "META_MESSAGING_TEST_S3_URL";
const S3_REQUIRED: &str = "META_MESSAGING_REQUIRE_S3";
/// The bucket the tests use, created on first use.
pub(crate) const BUCKET: &str = "meta-messaging-test";

/// The server's endpoint, or `None` (after saying so) when S3 tests are not enabled.
pub(crate) fn url() -> Option<String> {
    match std::env::var(S3_URL) {
        Ok(url) if !url.is_empty() => Some(url.trim_end_matches('/').to_owned()),
        _ => {
            assert!(
                std::env::var(S3_REQUIRED).as_deref() != Ok("1"),
                "{S3_REQUIRED}=1 but {S3_URL} is not set: S3 tests cannot be skipped"
            );
            eprintln!(
                "skipped: set {S3_URL} (e.g. http://127.0.0.1:9077 with `moto_server -p 9077` running) to run the S3 tests"
            );
            None
        }
    }
}

/// A key prefix no other store of this test run, nor of an earlier run, uses.
pub(crate) fn fresh_prefix(name: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{name}-{}-{nanos}-{n}", std::process::id())
}

/// Creates the test bucket on the server at `endpoint` (a bucket already there is fine).
async fn create_bucket(endpoint: &str) {
    // A local test server takes the unsigned request; a real one would not be used here.
    let answer = crate::support::http::client()
        .put(format!("{endpoint}/{BUCKET}"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("the S3 server at {endpoint} does not answer: {e}"));
    let status = answer.status().as_u16();
    assert!(
        status == 200 || status == 409,
        "creating the bucket {BUCKET} answered {status}: {}",
        answer.text().await.unwrap_or_default()
    );
}

/// A store at `s3://meta-messaging-test/{prefix}` on the server at `endpoint`.
pub(crate) async fn store_at(endpoint: &str, prefix: &str) -> S3MediaStore {
    create_bucket(endpoint).await;
    S3MediaStore::builder(&format!("s3://{BUCKET}/{prefix}"))
        .unwrap()
        .endpoint(endpoint)
        .region("us-east-1")
        .credentials("test-key-id", "test-secret-key")
        .allow_http(true)
        .build()
        .unwrap()
}

/// A store under a fresh prefix, or `None` (after saying so) when S3 tests are not enabled.
pub(crate) async fn fresh_store(name: &str) -> Option<S3MediaStore> {
    let endpoint = url()?;
    Some(store_at(&endpoint, &fresh_prefix(name)).await)
}
