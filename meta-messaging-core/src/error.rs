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

/// Displays an error with its whole chain of causes, `outer: cause: deeper cause`, for logs:
/// "database error while applying events" alone does not say that the disk is full.
///
/// A cause whose text the error before it already includes (a `thiserror` message with
/// `{source}` in it) is not repeated. It prints only what each error's `Display` says, which in
/// this crate never holds a token or secret (Graph transport errors drop their URL, store URLs
/// are never part of an error).
///
/// ```
/// use meta_messaging_core::error::ErrorChain;
///
/// #[derive(Debug, thiserror::Error)]
/// #[error("database error while applying events")]
/// struct Outer(#[source] std::io::Error);
///
/// let err = Outer(std::io::Error::other("disk full"));
/// assert_eq!(
///     ErrorChain(&err).to_string(),
///     "database error while applying events: disk full"
/// );
/// // In a log line:
/// tracing::warn!(error = %ErrorChain(&err), "delivery not stored");
/// ```
#[derive(Clone, Copy)]
pub struct ErrorChain<'a>(pub &'a (dyn std::error::Error + 'static));

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut shown = self.0.to_string();
        f.write_str(&shown)?;
        let mut next = self.0.source();
        while let Some(cause) = next {
            let text = cause.to_string();
            if !text.is_empty() && !shown.contains(&text) {
                write!(f, ": {text}")?;
                shown = text;
            }
            next = cause.source();
        }
        Ok(())
    }
}

impl std::fmt::Debug for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorChain;

    #[derive(Debug, thiserror::Error)]
    #[error("store failed")]
    struct Top(#[source] Middle);

    #[derive(Debug, thiserror::Error)]
    #[error("database error while applying events: {0}")]
    struct Middle(#[source] std::io::Error);

    #[test]
    fn every_cause_is_shown_once() {
        let err = Top(Middle(std::io::Error::other("disk full")));
        assert_eq!(
            ErrorChain(&err).to_string(),
            "store failed: database error while applying events: disk full"
        );
        let alone = std::io::Error::other("alone");
        assert_eq!(ErrorChain(&alone).to_string(), "alone");
        assert_eq!(format!("{:?}", ErrorChain(&alone)), "alone");
    }
}
