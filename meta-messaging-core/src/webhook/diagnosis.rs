//! Why a delivery's signature failed, as far as the request itself tells: which header came,
//! how long the body is, and whether the body looks re-serialized on the way. Never the body's
//! text, the header's value or a secret, so that it can be logged and printed.

use std::fmt;

use super::error::MalformedSignature;
use super::signature::parse_header;

/// What the request's signature headers looked like.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureHeaderState {
    /// Neither `X-Hub-Signature-256` nor `X-Hub-Signature`.
    Missing,
    /// Only the legacy SHA-1 signature: an `X-Hub-Signature` header without
    /// `X-Hub-Signature-256`, or a `sha1=` value given where the SHA-256 one belongs.
    Sha1Only,
    /// An `X-Hub-Signature-256` header that is not `sha256=<64 hex digits>`.
    Malformed(MalformedSignature),
    /// A well-formed `X-Hub-Signature-256` header.
    WellFormed,
}

/// A sign that the body is not the bytes Meta signed but a re-encoding of them.
///
/// Meta sends compact JSON with every non-ASCII character escaped as `\uXXXX` and every `/`
/// escaped as `\/`; a framework or proxy that parses the JSON and writes it again produces
/// other bytes for the same value, and the signature over them no longer matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReserializationSign {
    /// Raw non-ASCII characters (UTF-8 bytes) where Meta sends `\uXXXX` escapes.
    RawNonAscii,
    /// An unescaped `/` where Meta sends `\/`.
    UnescapedSlash,
    /// Line breaks or tabs between tokens: pretty-printed, where Meta sends compact JSON.
    PrettyPrinted,
}

impl ReserializationSign {
    /// A short description, for logs and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RawNonAscii => "raw non-ASCII characters where Meta sends \\uXXXX escapes",
            Self::UnescapedSlash => "an unescaped '/' where Meta sends '\\/'",
            Self::PrettyPrinted => "line breaks between tokens where Meta sends compact JSON",
        }
    }
}

/// The diagnosis of a webhook delivery whose signature did not verify.
///
/// Built from the headers and the body by [`SignatureDiagnosis::of`]; it holds no secret, no
/// header value and no body text, so it can be logged (the 401 path does, rate-limited) and
/// printed (`meta-messaging verify`).
///
/// ```
/// use meta_messaging_core::webhook::{ReserializationSign, SignatureDiagnosis};
///
/// // A body a framework parsed and wrote again: the "é" Meta sent as \u00e9 is now raw.
/// let body = "{\"object\":\"page\",\"entry\":[{\"text\":\"caf\u{e9}\"}]}";
/// let diagnosis = SignatureDiagnosis::of(Some(&format!("sha256={}", "0".repeat(64))), false, body.as_bytes());
/// assert_eq!(diagnosis.reserialized(), &[ReserializationSign::RawNonAscii]);
/// assert!(diagnosis.looks_reserialized());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignatureDiagnosis {
    header: SignatureHeaderState,
    body_len: usize,
    reserialized: Vec<ReserializationSign>,
}

impl SignatureDiagnosis {
    /// Diagnoses a delivery from its `X-Hub-Signature-256` value (`None` when absent), whether
    /// an `X-Hub-Signature` (SHA-1) header came too, and the raw body.
    pub fn of(signature: Option<&str>, sha1_header_present: bool, body: &[u8]) -> Self {
        let header = match signature {
            Some(value) if is_sha1(value) => SignatureHeaderState::Sha1Only,
            Some(value) => match parse_header(value) {
                Ok(_) => SignatureHeaderState::WellFormed,
                Err(how) => SignatureHeaderState::Malformed(how),
            },
            None if sha1_header_present => SignatureHeaderState::Sha1Only,
            None => SignatureHeaderState::Missing,
        };
        Self {
            header,
            body_len: body.len(),
            reserialized: reserialization_signs(body),
        }
    }

    /// What the signature headers looked like.
    pub fn header(&self) -> &SignatureHeaderState {
        &self.header
    }

    /// The body's length in bytes.
    pub fn body_len(&self) -> usize {
        self.body_len
    }

    /// The signs that the body was re-serialized, in a fixed order; empty when none.
    pub fn reserialized(&self) -> &[ReserializationSign] {
        &self.reserialized
    }

    /// Whether the body looks re-serialized (at least one sign).
    pub fn looks_reserialized(&self) -> bool {
        !self.reserialized.is_empty()
    }

    /// The most likely cause and what to do, in one sentence.
    pub fn advice(&self) -> &'static str {
        match (&self.header, self.looks_reserialized()) {
            (SignatureHeaderState::Missing, _) => {
                "the request did not come from Meta, or a proxy dropped the X-Hub-Signature-256 header: forward it unchanged"
            }
            (SignatureHeaderState::Sha1Only, _) => {
                "only the legacy SHA-1 signature arrived: forward X-Hub-Signature-256 through every proxy and read that header, not X-Hub-Signature"
            }
            (SignatureHeaderState::Malformed(_), _) => {
                "the header was altered on the way (cut, quoted or re-encoded): forward it unchanged"
            }
            (SignatureHeaderState::WellFormed, true) => {
                "the body was re-encoded before the check: verify the raw request bytes, before any JSON parsing, and make proxies pass the body through untouched"
            }
            (SignatureHeaderState::WellFormed, false) => {
                "check that the app secret is the one of the app subscribed to the Page (App settings > Basic; add the new one after a reset), and that nothing cut or re-encoded the body"
            }
        }
    }
}

impl fmt::Display for SignatureDiagnosis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.header {
            SignatureHeaderState::Missing => f.write_str("no signature header")?,
            SignatureHeaderState::Sha1Only => {
                f.write_str("only the SHA-1 X-Hub-Signature header, no X-Hub-Signature-256")?;
            }
            SignatureHeaderState::Malformed(how) => {
                write!(f, "X-Hub-Signature-256 present but malformed ({how})")?;
            }
            SignatureHeaderState::WellFormed => f.write_str("X-Hub-Signature-256 present")?,
        }
        write!(f, "; body {} bytes", self.body_len)?;
        if self.reserialized.is_empty() {
            f.write_str("; body does not look re-serialized")?;
        } else {
            f.write_str("; body looks re-serialized: ")?;
            for (i, sign) in self.reserialized.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                f.write_str(sign.as_str())?;
            }
        }
        write!(f, "; {}", self.advice())
    }
}

fn is_sha1(value: &str) -> bool {
    value
        .trim()
        .get(..5)
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case("sha1="))
}

/// The signs of re-serialization in `body`, each at most once, in the enum's order.
fn reserialization_signs(body: &[u8]) -> Vec<ReserializationSign> {
    let mut signs = Vec::new();
    if !body.is_ascii() {
        signs.push(ReserializationSign::RawNonAscii);
    }
    let unescaped_slash = body
        .iter()
        .enumerate()
        .any(|(i, &b)| b == b'/' && (i == 0 || body[i - 1] != b'\\'));
    if unescaped_slash {
        signs.push(ReserializationSign::UnescapedSlash);
    }
    // JSON strings cannot hold a raw line break or tab, so any is whitespace between tokens.
    // A single trailing newline is left out: some tools add one when saving a capture.
    let inner = body.strip_suffix(b"\n").unwrap_or(body);
    if inner.iter().any(|&b| matches!(b, b'\n' | b'\r' | b'\t')) {
        signs.push(ReserializationSign::PrettyPrinted);
    }
    signs
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::secret::AppSecret;
    use crate::webhook::{SignatureVerifier, sign};

    /// As Meta sends it: compact, `\uXXXX` for non-ASCII, `\/` for slashes.
    const META_BODY: &[u8] = br#"{"object":"page","entry":[{"id":"1","time":1,"messaging":[{"sender":{"id":"2"},"recipient":{"id":"1"},"timestamp":1,"message":{"mid":"m_1","text":"Caf\u00e9 \ud83d\ude00 https:\/\/example.com\/a"}}]}]}"#;

    fn well_formed() -> String {
        format!("sha256={}", "ab".repeat(32))
    }

    #[test]
    fn meta_s_own_bytes_do_not_look_reserialized() {
        let d = SignatureDiagnosis::of(Some(&well_formed()), true, META_BODY);
        assert_eq!(d.header(), &SignatureHeaderState::WellFormed);
        assert_eq!(d.body_len(), META_BODY.len());
        assert!(!d.looks_reserialized(), "{d}");
        assert!(d.advice().contains("app secret"), "{d}");
    }

    #[test]
    fn a_parsed_and_rewritten_body_is_diagnosed_as_reserialized() {
        let secret = AppSecret::new("app-secret");
        let signature = sign(&secret, META_BODY);
        // What a framework's JSON extractor hands on: the same value, other bytes.
        let value: serde_json::Value = serde_json::from_slice(META_BODY).unwrap();
        let rewritten = serde_json::to_vec(&value).unwrap();
        let verifier = SignatureVerifier::new(secret);
        assert!(verifier.verify(Some(&signature), META_BODY).is_ok());
        assert!(verifier.verify(Some(&signature), &rewritten).is_err());

        let d = SignatureDiagnosis::of(Some(&signature), false, &rewritten);
        assert_eq!(
            d.reserialized(),
            &[
                ReserializationSign::RawNonAscii,
                ReserializationSign::UnescapedSlash
            ]
        );
        assert!(d.advice().contains("raw request bytes"), "{d}");

        let pretty = serde_json::to_vec_pretty(&value).unwrap();
        let d = SignatureDiagnosis::of(Some(&signature), false, &pretty);
        assert!(
            d.reserialized()
                .contains(&ReserializationSign::PrettyPrinted)
        );
    }

    #[test]
    fn each_header_state_is_told_apart() {
        let of = |sig: Option<&str>, sha1: bool| SignatureDiagnosis::of(sig, sha1, b"{}").header;
        assert_eq!(of(None, false), SignatureHeaderState::Missing);
        assert_eq!(of(None, true), SignatureHeaderState::Sha1Only);
        let sha1 = format!("sha1={}", "0".repeat(40));
        assert_eq!(of(Some(&sha1), false), SignatureHeaderState::Sha1Only);
        assert_eq!(
            of(Some("sha256=abc"), false),
            SignatureHeaderState::Malformed(MalformedSignature::WrongLength { digits: 3 })
        );
        assert_eq!(
            of(Some(&well_formed()), false),
            SignatureHeaderState::WellFormed
        );
    }

    #[test]
    fn the_diagnosis_shows_no_secret_header_value_or_body_text() {
        let body = "{\"object\":\"page\",\"entry\":[{\"name\":\"Jos\u{e9} Doe\"}]}";
        let header = well_formed();
        let shown = SignatureDiagnosis::of(Some(&header), false, body.as_bytes()).to_string();
        for leaked in ["Jos", "Doe", "object", &header, "abab"] {
            assert!(!shown.contains(leaked), "{leaked} in {shown}");
        }
        assert!(
            shown.contains(&format!("body {} bytes", body.len())),
            "{shown}"
        );
        assert!(shown.contains("re-serialized"), "{shown}");
    }

    #[test]
    fn a_trailing_newline_alone_is_not_pretty_printing() {
        let mut saved = META_BODY.to_vec();
        saved.push(b'\n');
        assert!(!SignatureDiagnosis::of(None, false, &saved).looks_reserialized());
    }
}
