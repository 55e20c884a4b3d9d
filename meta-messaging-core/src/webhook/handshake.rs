//! The subscription handshake (`GET` with `hub.mode`, `hub.verify_token`, `hub.challenge`).

use super::error::WebhookError;
use crate::secret::VerifyToken;

/// Answers Meta's subscription handshake.
///
/// `query` is the raw, percent-encoded query string of the `GET` request (without the `?`).
/// On success it returns the `hub.challenge` value, which the endpoint must send back as the
/// plain-text body of a 200 response; on failure the endpoint answers 403.
///
/// The token is compared in constant time.
///
/// ```
/// use meta_messaging_core::secret::VerifyToken;
/// use meta_messaging_core::webhook::verify_subscription;
///
/// let token = VerifyToken::new("my token");
/// let query = "hub.mode=subscribe&hub.verify_token=my+token&hub.challenge=1158201444";
/// assert_eq!(verify_subscription(query, &token).unwrap(), "1158201444");
/// assert!(verify_subscription("hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1", &token).is_err());
/// ```
///
/// # Errors
/// [`WebhookError::MissingParameter`], [`WebhookError::UnexpectedMode`] or
/// [`WebhookError::VerifyTokenMismatch`].
pub fn verify_subscription(query: &str, token: &VerifyToken) -> Result<String, WebhookError> {
    let query = query.strip_prefix('?').unwrap_or(query);
    let mut mode = None;
    let mut presented = None;
    let mut challenge = None;
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        // The first occurrence wins, so a value appended later cannot override it.
        let slot = match key.as_ref() {
            "hub.mode" => &mut mode,
            "hub.verify_token" => &mut presented,
            "hub.challenge" => &mut challenge,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(value.into_owned());
        }
    }
    let mode = mode.ok_or(WebhookError::MissingParameter("hub.mode"))?;
    if mode != "subscribe" {
        return Err(WebhookError::UnexpectedMode(mode));
    }
    let presented = presented.ok_or(WebhookError::MissingParameter("hub.verify_token"))?;
    let challenge = challenge.ok_or(WebhookError::MissingParameter("hub.challenge"))?;
    if !token.matches(&presented) {
        return Err(WebhookError::VerifyTokenMismatch);
    }
    Ok(challenge)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> VerifyToken {
        VerifyToken::new("tok en/é")
    }

    #[test]
    fn decodes_percent_and_plus() {
        let q = "hub.mode=subscribe&hub.verify_token=tok%20en%2F%C3%A9&hub.challenge=abc%3D1";
        assert_eq!(verify_subscription(q, &token()).unwrap(), "abc=1");
        let q = "?hub.verify_token=tok+en/%C3%A9&hub.challenge=42&hub.mode=subscribe";
        assert_eq!(verify_subscription(q, &token()).unwrap(), "42");
    }

    #[test]
    fn each_failure_is_named() {
        let t = token();
        assert!(matches!(
            verify_subscription("hub.verify_token=x&hub.challenge=1", &t),
            Err(WebhookError::MissingParameter("hub.mode"))
        ));
        assert!(matches!(
            verify_subscription("hub.mode=unsubscribe&hub.verify_token=x&hub.challenge=1", &t),
            Err(WebhookError::UnexpectedMode(m)) if m == "unsubscribe"
        ));
        assert!(matches!(
            verify_subscription("hub.mode=subscribe&hub.challenge=1", &t),
            Err(WebhookError::MissingParameter("hub.verify_token"))
        ));
        assert!(matches!(
            verify_subscription("hub.mode=subscribe&hub.verify_token=tok+en/%C3%A9", &t),
            Err(WebhookError::MissingParameter("hub.challenge"))
        ));
        assert!(matches!(
            verify_subscription(
                "hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1",
                &t
            ),
            Err(WebhookError::VerifyTokenMismatch)
        ));
        assert!(matches!(
            verify_subscription("", &t),
            Err(WebhookError::MissingParameter("hub.mode"))
        ));
    }

    #[test]
    fn first_value_wins() {
        let q = "hub.mode=subscribe&hub.verify_token=wrong&hub.verify_token=tok+en/%C3%A9&hub.challenge=1";
        assert!(matches!(
            verify_subscription(q, &token()),
            Err(WebhookError::VerifyTokenMismatch)
        ));
    }
}
