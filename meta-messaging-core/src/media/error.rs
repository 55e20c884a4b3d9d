//! [`MediaError`]: what keeping or reading a media file can fail with.

use std::path::PathBuf;

/// An error of a [`MediaStore`](super::MediaStore) or of downloading an attachment.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    /// A file or directory of the store could not be read, written or deleted.
    #[error("cannot {operation} {}", path.display())]
    Io {
        /// What the store was doing, e.g. `"write a media file"`.
        operation: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A key that is not a lower-case hex SHA-256 (a store never builds a path from one).
    #[error("{0:?} is not a SHA-256 in lower-case hex")]
    InvalidKey(String),
    /// The attachment is larger than the limit: it is not kept.
    #[error("the attachment is larger than the {limit}-byte limit")]
    TooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// Meta's CDN answered with an error status (403 or 404 once the URL expired).
    #[error("the attachment URL answered HTTP {status}")]
    Status {
        /// The HTTP status.
        status: u16,
    },
    /// The download failed in transport (its URL is left out: CDN URLs carry signatures).
    #[error("downloading the attachment failed")]
    Transport(#[source] reqwest::Error),
    /// A background task that did file work ended without an answer (the runtime is
    /// shutting down).
    #[error("a media file task was cancelled")]
    Cancelled,
    /// A media store's settings cannot be used (an S3 location that is not `s3://bucket[/prefix]`,
    /// a plain-HTTP endpoint not allowed); the message says what to change.
    #[error("the media store cannot be set up: {0}")]
    Configuration(String),
    /// A request to the S3 bucket failed (its credentials are never part of the error).
    #[cfg(feature = "s3")]
    #[error("cannot {operation} in the S3 media store")]
    ObjectStore {
        /// What the store was doing, e.g. `"upload a media object"`.
        operation: &'static str,
        /// The `object_store` error.
        #[source]
        source: object_store::Error,
    },
}

impl MediaError {
    /// Whether trying again may succeed: transport failures, 429 and 5xx answers.
    pub fn is_transient(&self) -> bool {
        match self {
            MediaError::Transport(_) => true,
            MediaError::Status { status } => *status == 429 || *status >= 500,
            _ => false,
        }
    }
}
