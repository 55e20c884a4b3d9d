//! Showing errors: each concern has its own error enum ([`WebhookError`](crate::webhook::WebhookError),
//! [`GraphError`](crate::graph::GraphError), [`StoreError`](crate::store::StoreError),
//! [`InboxError`](crate::inbox::InboxError), ...); [`ErrorChain`] prints any of them with its causes.

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
