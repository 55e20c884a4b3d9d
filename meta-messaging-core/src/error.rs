//! The crate's umbrella error.

use crate::webhook::WebhookError;

/// Any error of this crate. Each concern has its own enum, wrapped here with its source kept.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Webhook verification or parsing failed.
    #[error(transparent)]
    Webhook(#[from] WebhookError),
    /// A Graph API call failed; the error names the cause and the fix.
    #[error(transparent)]
    Graph(#[from] crate::graph::GraphError),
    /// A message store operation failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// An inbox operation failed.
    #[error(transparent)]
    Inbox(#[from] crate::inbox::InboxError),
    /// Reading the inbox's configuration, or opening what it names, failed.
    #[error(transparent)]
    Config(#[from] crate::inbox::ConfigError),
    /// The live-event fan-out between instances failed to start.
    #[cfg(feature = "postgres")]
    #[error(transparent)]
    Fanout(#[from] crate::inbox::FanoutError),
}

/// `Result` with this crate's [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
