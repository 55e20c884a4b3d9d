//! Kept media: attachments outlive Meta's CDN URLs, which expire.
//!
//! A [`MediaStore`] keeps files by the SHA-256 of their bytes; [`FsMediaStore`] is the
//! filesystem one (files `0600`, written to a temporary file and renamed into place);
//! `S3MediaStore` (feature `s3`) keeps them in an S3-compatible bucket.
//! With [`InboxBuilder::media`](crate::inbox::InboxBuilder::media) the inbox downloads every
//! inbound attachment that has a media URL after the webhook's write is durable, in the
//! background, records it in the message store (the attachment's JSON gains `media_url`,
//! `mime`, `size`, `sha256` and `stored: true`) and serves it at `GET {mount}/media/{id}`.
//! See `docs/media.md`.

mod download;
mod error;
mod fs;
mod low_priority;
#[cfg(feature = "s3")]
mod s3;
mod store;

pub use download::{DEFAULT_MAX_MEDIA_BYTES, Downloaded, MediaDownloader};
pub use error::MediaError;
pub use fs::FsMediaStore;
pub(crate) use low_priority::LowPriority;
#[cfg(feature = "s3")]
#[cfg_attr(docsrs, doc(cfg(feature = "s3")))]
pub use s3::{S3MediaStore, S3MediaStoreBuilder};
pub use store::{MediaStore, is_sha256};
