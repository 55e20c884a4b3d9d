//! `X-Hub-Signature-256`: HMAC-SHA256 of the raw body, keyed with the app secret.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::error::{MalformedSignature, WebhookError};
use crate::secret::AppSecret;

type HmacSha256 = Hmac<Sha256>;

/// The name of the header that carries the signature of a webhook delivery.
pub const SIGNATURE_HEADER: &str = "X-Hub-Signature-256";

const PREFIX: &str = "sha256=";
const DIGEST_LEN: usize = 32;

/// Checks `X-Hub-Signature-256` headers against one or more app secrets.
///
/// Several secrets let you rotate the app secret without dropping deliveries: add the new one,
/// reset it in the Meta dashboard, then remove the old one. Every comparison runs in constant
/// time.
///
/// ```
/// use meta_messaging_core::secret::AppSecret;
/// use meta_messaging_core::webhook::{SignatureVerifier, sign};
///
/// let body = br#"{"object":"page","entry":[]}"#;
/// let old = AppSecret::new("old-secret");
/// let new = AppSecret::new("new-secret");
/// let verifier = SignatureVerifier::new(new.clone()).with_secret(old.clone());
///
/// assert!(verifier.verify(Some(&sign(&old, body)), body).is_ok());
/// assert!(verifier.verify(Some(&sign(&new, body)), body).is_ok());
/// assert!(verifier.verify(None, body).is_err());
/// ```
#[derive(Clone)]
pub struct SignatureVerifier {
    secrets: Vec<AppSecret>,
    // One MAC state per secret, already keyed: cloning it per request skips the two hash blocks
    // of HMAC key setup, a quarter of the cost of verifying a typical delivery.
    keyed: Vec<HmacSha256>,
}

impl std::fmt::Debug for SignatureVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignatureVerifier")
            .field("secrets", &self.secrets)
            .finish_non_exhaustive()
    }
}

impl SignatureVerifier {
    /// A verifier that accepts signatures made with `secret`.
    pub fn new(secret: AppSecret) -> Self {
        Self {
            keyed: vec![new_mac(&secret)],
            secrets: vec![secret],
        }
    }

    /// Also accepts signatures made with `secret` (for rotation).
    #[must_use]
    pub fn with_secret(mut self, secret: AppSecret) -> Self {
        self.keyed.push(new_mac(&secret));
        self.secrets.push(secret);
        self
    }

    /// The secrets accepted, in the order they are tried.
    pub fn secrets(&self) -> &[AppSecret] {
        &self.secrets
    }

    /// Verifies the value of the `X-Hub-Signature-256` header (`None` when the header is absent)
    /// against the raw request body.
    ///
    /// # Errors
    /// [`WebhookError::MissingSignature`], [`WebhookError::MalformedSignature`] or
    /// [`WebhookError::SignatureMismatch`].
    pub fn verify(&self, header: Option<&str>, body: &[u8]) -> Result<(), WebhookError> {
        let header = header.ok_or(WebhookError::MissingSignature)?;
        let digest = parse_header(header).map_err(WebhookError::MalformedSignature)?;
        // Try every secret even after a match so the time taken does not tell which one matched.
        let mut matched = false;
        for keyed in &self.keyed {
            let mut mac = keyed.clone();
            mac.update(body);
            matched |= mac.verify_slice(&digest).is_ok();
        }
        if matched {
            Ok(())
        } else {
            Err(WebhookError::SignatureMismatch)
        }
    }
}

/// Signs a body as Meta does: the full header value `sha256=<hex>`.
///
/// Use it in your tests to build deliveries your endpoint accepts.
pub fn sign(secret: &AppSecret, body: &[u8]) -> String {
    let mut mac = new_mac(secret);
    mac.update(body);
    format!("{PREFIX}{}", hex::encode(mac.finalize().into_bytes()))
}

fn new_mac(secret: &AppSecret) -> HmacSha256 {
    // HMAC hashes long keys and pads short ones, so every key length is valid.
    HmacSha256::new_from_slice(secret.expose().as_bytes()).expect("HMAC accepts keys of any length")
}

/// Parses `sha256=<64 hex digits>` (prefix case-insensitive, surrounding spaces ignored) into
/// the 32-byte digest.
pub(super) fn parse_header(value: &str) -> Result<[u8; DIGEST_LEN], MalformedSignature> {
    let value = value.trim();
    let hex_digits = value
        .get(..PREFIX.len())
        .filter(|prefix| prefix.eq_ignore_ascii_case(PREFIX))
        .map(|_| &value[PREFIX.len()..])
        .ok_or(MalformedSignature::BadPrefix)?;
    if !hex_digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(MalformedSignature::BadHex);
    }
    if hex_digits.len() != DIGEST_LEN * 2 {
        return Err(MalformedSignature::WrongLength {
            digits: hex_digits.len(),
        });
    }
    let mut digest = [0u8; DIGEST_LEN];
    hex::decode_to_slice(hex_digits, &mut digest).map_err(|_| MalformedSignature::BadHex)?;
    Ok(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"object":"page","entry":[{"id":"1","time":1,"messaging":[]}]}"#;

    #[test]
    fn header_parser_accepts_canonical_and_tolerant_forms() {
        let hex = "a".repeat(64);
        assert!(parse_header(&format!("sha256={hex}")).is_ok());
        assert!(parse_header(&format!("SHA256={hex}")).is_ok());
        assert!(parse_header(&format!("  sha256={}  ", hex.to_uppercase())).is_ok());
    }

    #[test]
    fn header_parser_names_each_malformation() {
        let hex = "0".repeat(64);
        assert_eq!(
            parse_header(&format!("sha1={}", "0".repeat(40))),
            Err(MalformedSignature::BadPrefix)
        );
        assert_eq!(parse_header(""), Err(MalformedSignature::BadPrefix));
        assert_eq!(parse_header("sha25"), Err(MalformedSignature::BadPrefix));
        assert_eq!(parse_header(&hex), Err(MalformedSignature::BadPrefix));
        assert_eq!(
            parse_header(&format!("sha256={}zz", &hex[2..])),
            Err(MalformedSignature::BadHex)
        );
        assert_eq!(
            parse_header(&format!("sha256={}", &hex[..62])),
            Err(MalformedSignature::WrongLength { digits: 62 })
        );
        assert_eq!(
            parse_header("sha256="),
            Err(MalformedSignature::WrongLength { digits: 0 })
        );
        // A multi-byte character where the prefix should end must not panic on slicing.
        assert_eq!(parse_header("sha25é"), Err(MalformedSignature::BadPrefix));
    }

    #[test]
    fn known_vector() {
        // HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog"), RFC 4231 style vector.
        let sig = sign(
            &AppSecret::new("key"),
            b"The quick brown fox jumps over the lazy dog",
        );
        assert_eq!(
            sig,
            "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }

    #[test]
    fn distinct_errors() {
        let verifier = SignatureVerifier::new(AppSecret::new("right"));
        let wrong = sign(&AppSecret::new("wrong"), BODY);
        assert!(matches!(
            verifier.verify(None, BODY),
            Err(WebhookError::MissingSignature)
        ));
        assert!(matches!(
            verifier.verify(Some("sha1=abc"), BODY),
            Err(WebhookError::MalformedSignature(
                MalformedSignature::BadPrefix
            ))
        ));
        assert!(matches!(
            verifier.verify(Some(&wrong), BODY),
            Err(WebhookError::SignatureMismatch)
        ));
        let right = sign(&AppSecret::new("right"), BODY);
        assert!(verifier.verify(Some(&right), BODY).is_ok());
        // One changed byte of the body breaks it.
        let mut tampered = BODY.to_vec();
        tampered[3] ^= 1;
        assert!(matches!(
            verifier.verify(Some(&right), &tampered),
            Err(WebhookError::SignatureMismatch)
        ));
    }

    #[test]
    fn errors_never_contain_the_secret() {
        let verifier = SignatureVerifier::new(AppSecret::new("super-secret-value"));
        let err = verifier
            .verify(Some(&"sha256=".repeat(2)), BODY)
            .unwrap_err();
        assert!(!format!("{err} {err:?} {verifier:?}").contains("super-secret-value"));
    }
}
