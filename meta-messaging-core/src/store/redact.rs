//! Store URLs as they may be shown: in logs, `Debug` output and startup banners.

/// `url` with its password replaced by `REDACTED`, for logs, `Debug` and what an app prints
/// at startup (a `postgres://user:password@host/db` URL carries a secret). URLs without a
/// password (`sqlite://inbox.db`, `memory`) come back unchanged.
///
/// ```
/// use meta_messaging_core::store::redacted_url;
/// assert_eq!(
///     redacted_url("postgres://app:s3cret@db.internal/inbox"),
///     "postgres://app:REDACTED@db.internal/inbox"
/// );
/// assert_eq!(redacted_url("sqlite://inbox.db"), "sqlite://inbox.db");
/// assert_eq!(redacted_url("memory"), "memory");
/// ```
pub fn redacted_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            // Setting a password only fails for URLs that cannot have one, which this has.
            let _ = parsed.set_password(Some("REDACTED"));
            parsed.to_string()
        }
        // Not a URL with a password (`memory`, a path): nothing secret to hide.
        _ => url.to_owned(),
    }
}
