//! The [`MediaStore`] trait: files kept by the SHA-256 of their bytes.

use std::fmt;

use async_trait::async_trait;

use super::error::MediaError;

/// Where kept attachments live: content-addressed files, the key being the SHA-256 of the
/// bytes in lower-case hex, so the same bytes are kept once.
///
/// Use it as `Arc<dyn MediaStore>`; [`FsMediaStore`](super::FsMediaStore) is the filesystem
/// backend. Which attachment a file is, and which tenant owns it, is the message store's
/// business ([`MediaRecord`](crate::store::MediaRecord)).
///
/// # Errors
/// Every method returns [`MediaError`]: I/O failures, and [`MediaError::InvalidKey`] for a
/// key that is not a SHA-256.
#[async_trait]
pub trait MediaStore: Send + Sync + fmt::Debug {
    /// Keeps `bytes` and returns their SHA-256 (the key). Keeping bytes already kept is
    /// fine; a reader never sees a partly written file.
    async fn put(&self, bytes: &[u8]) -> Result<String, MediaError>;

    /// Keeps `bytes` like [`put`](Self::put), but may leave them to be made durable by the
    /// next [`sync`](Self::sync). The inbox writes downloads this way and syncs once per batch
    /// before recording them: a flush to disk per file would compete for the disk with the
    /// message store's commits.
    ///
    /// Provided: [`put`](Self::put).
    async fn put_unsynced(&self, bytes: &[u8]) -> Result<String, MediaError> {
        self.put(bytes).await
    }

    /// Makes durable everything [`put_unsynced`](Self::put_unsynced) kept before this call.
    ///
    /// Provided: does nothing, as the provided `put_unsynced` is a `put`.
    async fn sync(&self) -> Result<(), MediaError> {
        Ok(())
    }

    /// The bytes kept under `sha256`, or `None` when there are none.
    async fn get(&self, sha256: &str) -> Result<Option<Vec<u8>>, MediaError>;

    /// Deletes the file kept under `sha256`; deleting a missing file does nothing.
    async fn delete(&self, sha256: &str) -> Result<(), MediaError>;
}

/// Whether `key` is a SHA-256 in lower-case hex (64 characters `0-9a-f`).
pub fn is_sha256(key: &str) -> bool {
    key.len() == 64 && key.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}
