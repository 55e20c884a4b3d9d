//! The crate's umbrella error.

use crate::webhook::WebhookError;

/// Any error of this crate. Each concern has its own enum, wrapped here with its source kept.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Webhook verification or parsing failed.
    #[error(transparent)]
    Webhook(#[from] WebhookError),
}

/// `Result` with this crate's [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
