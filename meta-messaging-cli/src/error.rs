//! The errors a command can end with.

use std::path::PathBuf;

use meta_messaging_core::graph::GraphError;
use meta_messaging_core::inbox::{BuildError, InboxError};
use meta_messaging_core::store::{StoreError, TokenKeyError};
use meta_messaging_core::webhook::WebhookError;

/// Why a command failed. Printed with its sources, one per line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// An input file could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file (`-` for standard input).
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Writing the output failed (a closed pipe, a full disk).
    #[error("cannot write the output")]
    Write(#[source] std::io::Error),
    /// The input is not a delivery this tool can read.
    #[error("the input is not a webhook delivery")]
    Webhook(#[source] WebhookError),
    /// A URL given on the command line is not valid.
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An HTTP request could not be made or answered.
    #[error("request to {url} failed")]
    Http {
        /// The URL without its query (which may hold a token).
        url: String,
        /// The transport error, with its URL stripped.
        #[source]
        source: reqwest::Error,
    },
    /// The HTTP client's TLS could not be set up (no CA certificate found on the system).
    #[error("cannot set up TLS for the HTTP client")]
    HttpTls(#[source] GraphError),
    /// The token keys given are not valid.
    #[error("invalid token keys (--keys or META_TOKEN_KEY)")]
    TokenKey(#[source] TokenKeyError),
    /// The store URL names no store this tool opens.
    #[error("unsupported store {store:?}: use sqlite://PATH or postgres://...")]
    UnsupportedStore {
        /// The URL, its password hidden.
        store: String,
    },
    /// A `sqlite://` store names a file that does not exist (reseal never creates one).
    #[error("no database at {}: check --store / META_STORE", path.display())]
    NoDatabase {
        /// The path as given.
        path: PathBuf,
    },
    /// A profile file is not a profile this tool can apply.
    #[error("{} is not a valid profile file: {reason}", path.display())]
    ProfileFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The store failed.
    #[error("the store failed")]
    Store(#[source] StoreError),
    /// The inbox a command runs could not be set up.
    #[error("cannot set up the inbox")]
    InboxSetup(#[source] BuildError),
    /// The inbox refused or failed what the command asked of it.
    #[error("the inbox failed")]
    Inbox(#[source] InboxError),
}

impl CliError {
    pub(crate) fn http(url: &url::Url, source: reqwest::Error) -> Self {
        let mut shown = url.clone();
        shown.set_query(None);
        Self::Http {
            url: shown.to_string(),
            source: source.without_url(),
        }
    }
}
