//! Store URLs as they may be shown: in logs, `Debug` output and startup banners.

/// What [`redacted_url`] prints for a string it cannot read as a URL.
const UNPARSEABLE: &str = "[unparseable URL]";

/// What [`redacted_url`] puts in place of a secret.
const REDACTED: &str = "REDACTED";

/// `url` as it may be shown: in logs, `Debug` and what an app prints at startup.
///
/// - the userinfo password is replaced by `REDACTED` (a `postgres://user:password@host/db` URL
///   carries a secret);
/// - so is the value of every query parameter whose name says it is a secret: names containing
///   `password`, `passwd`, `token` or `secret` (`access_token`, `sslpassword`,
///   `client_secret`, ...), and `code`, `state` and `appsecret_proof`;
/// - a string that is not a URL at all is replaced whole by `[unparseable URL]`: a typo such as
///   a bad port in `postgres://app:pw@db:5432x/inbox` (or a URL without its `//`,
///   `app:pw@db`) must not reach a log with its password;
/// - the bare `memory` of the in-memory store, and URLs without anything secret
///   (`sqlite://inbox.db`), come back unchanged.
///
/// ```
/// use meta_messaging_core::store::redacted_url;
/// assert_eq!(
///     redacted_url("postgres://app:s3cret@db.internal/inbox"),
///     "postgres://app:REDACTED@db.internal/inbox"
/// );
/// assert_eq!(
///     redacted_url("postgres://db.internal/inbox?user=app&password=s3cret"),
///     "postgres://db.internal/inbox?user=app&password=REDACTED"
/// );
/// assert_eq!(redacted_url("postgres://app:s3cret@db:5432x/inbox"), "[unparseable URL]");
/// assert_eq!(redacted_url("sqlite://inbox.db"), "sqlite://inbox.db");
/// assert_eq!(redacted_url("memory"), "memory");
/// ```
pub fn redacted_url(url: &str) -> String {
    if url == "memory" {
        return url.to_owned();
    }
    let Ok(mut parsed) = url::Url::parse(url) else {
        return UNPARSEABLE.to_owned();
    };
    // `user:password@host` without `//` parses as a scheme and an opaque path, which would
    // print the password as it is.
    if parsed.cannot_be_a_base() && parsed.path().contains('@') {
        return UNPARSEABLE.to_owned();
    }
    if parsed.password().is_some() {
        // Setting a password only fails for URLs that cannot have one, which this has.
        if parsed.set_password(Some(REDACTED)).is_err() {
            return UNPARSEABLE.to_owned();
        }
    }
    if parsed
        .query_pairs()
        .any(|(key, value)| is_secret_key(&key) && value != REDACTED)
    {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(key, value)| {
                let value = if is_secret_key(&key) {
                    REDACTED.to_owned()
                } else {
                    value.into_owned()
                };
                (key.into_owned(), value)
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

/// Whether a query parameter's value is a secret, by its name.
fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["password", "passwd", "token", "secret"]
        .iter()
        .any(|word| key.contains(word))
        || matches!(key.as_str(), "code" | "state" | "appsecret_proof")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_userinfo_password_is_masked() {
        assert_eq!(
            redacted_url("postgres://app:s3cret@db.internal:5432/inbox"),
            "postgres://app:REDACTED@db.internal:5432/inbox"
        );
        assert_eq!(
            redacted_url("postgres://app@db.internal/inbox"),
            "postgres://app@db.internal/inbox"
        );
    }

    #[test]
    fn secret_query_parameters_are_masked_and_the_others_kept() {
        let shown = redacted_url(
            "postgres://app:pw@db/inbox?sslmode=require&password=p1&sslpassword=p2\
             &access_token=EAAB&TOKEN=t&client_secret=s&application_name=inbox",
        );
        assert_eq!(
            shown,
            "postgres://app:REDACTED@db/inbox?sslmode=require&password=REDACTED\
             &sslpassword=REDACTED&access_token=REDACTED&TOKEN=REDACTED\
             &client_secret=REDACTED&application_name=inbox"
        );
        for secret in ["pw", "p1", "p2", "EAAB", "=t&", "=s&"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert_eq!(
            redacted_url("https://example.com/cb?code=AQD&state=abc&x=1"),
            "https://example.com/cb?code=REDACTED&state=REDACTED&x=1"
        );
        // Percent-encoded secrets are masked too, not only their decoded form.
        let shown = redacted_url("postgres://db/inbox?pass%77ord=s%20cret");
        assert!(!shown.contains("cret"), "{shown}");
    }

    #[test]
    fn what_cannot_be_parsed_is_hidden_whole() {
        for url in [
            "postgres://app:s3cret@db:99999/inbox",
            "postgres://app:s3cret@db:54 32/inbox",
            "postgres://app:s3cret@[db/inbox",
            "app:s3cret@db.internal",
            "inbox.db",
            "",
        ] {
            assert_eq!(redacted_url(url), UNPARSEABLE, "{url}");
        }
    }

    #[test]
    fn urls_without_secrets_are_unchanged() {
        assert_eq!(redacted_url("memory"), "memory");
        assert_eq!(redacted_url("sqlite://inbox.db"), "sqlite://inbox.db");
        assert_eq!(redacted_url("sqlite:inbox.db"), "sqlite:inbox.db");
        assert_eq!(
            redacted_url("sqlite:///var/lib/inbox.db?mode=rwc"),
            "sqlite:///var/lib/inbox.db?mode=rwc"
        );
    }
}
