//! Warnings about refused webhook signatures, at most one line per interval.
//!
//! A refused signature is worth a warning (a wrong app secret after a rotation, a proxy that
//! rewrites bodies, someone probing the endpoint), but a flood of forged requests must not
//! flood the log: the first refusal is logged at once, the ones within the next
//! [`WARNING_INTERVAL`] are counted, and the next warning after it says how many were
//! suppressed. A warning names the remote address and the check that failed, never the body,
//! the header's value or a secret.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::diagnosis::SignatureDiagnosis;
use super::error::{MalformedSignature, WebhookError};

/// The shortest time between two signature warnings of one process.
pub(crate) const WARNING_INTERVAL: Duration = Duration::from_secs(10);

/// The process's signature warnings: a log line is a process-wide resource, so one limit
/// holds for every inbox of the process.
static SIGNATURE_WARNINGS: SignatureWarnings = SignatureWarnings::new(WARNING_INTERVAL);

/// Logs a refused signature (rate-limited) with its [`SignatureDiagnosis`] (computed only for
/// the lines logged); other errors are not signature refusals and are ignored.
pub(crate) fn warn_refused(
    remote: Option<SocketAddr>,
    error: &WebhookError,
    signature: Option<&str>,
    sha1_header_present: bool,
    body: &[u8],
) {
    if let Some(warning) = SIGNATURE_WARNINGS.refused(Instant::now(), remote, error) {
        let diagnosis = SignatureDiagnosis::of(signature, sha1_header_present, body);
        tracing::warn!(
            remote = %warning.remote_text(),
            check = warning.check.as_str(),
            suppressed = warning.suppressed,
            body_len = diagnosis.body_len(),
            reserialized = diagnosis.looks_reserialized(),
            "{}",
            logged_line(&warning, &diagnosis)
        );
    }
}

/// The text of a warning line: the refusal, then its diagnosis.
fn logged_line(warning: &SignatureWarning, diagnosis: &SignatureDiagnosis) -> String {
    format!("{warning}; {diagnosis}")
}

/// Which signature check failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SignatureCheck {
    /// No `X-Hub-Signature-256` header.
    MissingHeader,
    /// A header that is not `sha256=<64 hex digits>`.
    Malformed(MalformedSignature),
    /// A well-formed signature that no configured app secret produces.
    Mismatch,
}

impl SignatureCheck {
    fn of(error: &WebhookError) -> Option<Self> {
        match error {
            WebhookError::MissingSignature => Some(Self::MissingHeader),
            WebhookError::MalformedSignature(how) => Some(Self::Malformed(how.clone())),
            WebhookError::SignatureMismatch => Some(Self::Mismatch),
            _ => None,
        }
    }

    /// The check's name, as the `check` field of the log line.
    pub(crate) fn as_str(&self) -> &'static str {
        match self {
            Self::MissingHeader => "missing_header",
            Self::Malformed(_) => "malformed",
            Self::Mismatch => "mismatch",
        }
    }
}

/// One warning line about refused signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SignatureWarning {
    /// Where the refused request came from, when the HTTP layer knows.
    pub(crate) remote: Option<SocketAddr>,
    /// The check it failed.
    pub(crate) check: SignatureCheck,
    /// Refusals since the previous warning that were not logged.
    pub(crate) suppressed: u64,
}

impl SignatureWarning {
    fn remote_text(&self) -> String {
        self.remote
            .map_or_else(|| "unknown".to_owned(), |addr| addr.to_string())
    }
}

impl fmt::Display for SignatureWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("webhook delivery refused: ")?;
        match &self.check {
            SignatureCheck::MissingHeader => f.write_str("missing X-Hub-Signature-256 header")?,
            SignatureCheck::Malformed(how) => {
                write!(f, "malformed X-Hub-Signature-256 header ({how})")?;
            }
            SignatureCheck::Mismatch => {
                f.write_str("X-Hub-Signature-256 matches no configured app secret")?;
            }
        }
        write!(f, "; from {}", self.remote_text())?;
        if self.suppressed > 0 {
            write!(
                f,
                "; {} more refused signature(s) not logged since the previous warning",
                self.suppressed
            )?;
        }
        Ok(())
    }
}

/// The rate limit: when the last warning was logged, and how many refusals were counted since.
#[derive(Debug)]
pub(crate) struct SignatureWarnings {
    interval: Duration,
    state: Mutex<WarnState>,
}

#[derive(Debug)]
struct WarnState {
    last: Option<Instant>,
    suppressed: u64,
}

impl SignatureWarnings {
    pub(crate) const fn new(interval: Duration) -> Self {
        Self {
            interval,
            state: Mutex::new(WarnState {
                last: None,
                suppressed: 0,
            }),
        }
    }

    /// Records a refusal at `now`: the warning to log, or `None` when one was logged less than
    /// the interval ago (the refusal is then counted) or `error` is not a signature refusal.
    pub(crate) fn refused(
        &self,
        now: Instant,
        remote: Option<SocketAddr>,
        error: &WebhookError,
    ) -> Option<SignatureWarning> {
        let check = SignatureCheck::of(error)?;
        // The state is two numbers updated together; a panic elsewhere cannot break them.
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let due = state
            .last
            .is_none_or(|last| now.saturating_duration_since(last) >= self.interval);
        if !due {
            state.suppressed += 1;
            return None;
        }
        state.last = Some(now);
        let suppressed = std::mem::take(&mut state.suppressed);
        Some(SignatureWarning {
            remote,
            check,
            suppressed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr() -> Option<SocketAddr> {
        Some(SocketAddr::from(([203, 0, 113, 7], 51234)))
    }

    #[test]
    fn at_most_one_warning_per_interval_with_the_suppressed_count() {
        let log = SignatureWarnings::new(Duration::from_secs(10));
        let start = Instant::now();
        let at = |secs: u64| start + Duration::from_secs(secs);
        let mismatch = WebhookError::SignatureMismatch;

        let first = log
            .refused(at(0), addr(), &mismatch)
            .expect("the first is logged");
        assert_eq!(
            (first.check, first.suppressed),
            (SignatureCheck::Mismatch, 0)
        );
        for secs in [1, 5, 9] {
            assert_eq!(log.refused(at(secs), addr(), &mismatch), None);
        }
        assert_eq!(
            log.refused(at(9), None, &WebhookError::MissingSignature),
            None
        );
        let next = log
            .refused(at(10), None, &WebhookError::MissingSignature)
            .expect("logged once the interval has passed");
        assert_eq!(
            (next.check, next.suppressed),
            (SignatureCheck::MissingHeader, 4)
        );
        assert_eq!(log.refused(at(15), addr(), &mismatch), None);
        let again = log.refused(at(21), addr(), &mismatch).expect("logged");
        assert_eq!(again.suppressed, 1);
        // Not a signature refusal: neither logged nor counted.
        let body_error = WebhookError::MissingParameter("hub.mode");
        assert_eq!(log.refused(at(40), addr(), &body_error), None);
        assert_eq!(
            log.refused(at(40), addr(), &mismatch).map(|w| w.suppressed),
            Some(0)
        );
    }

    #[test]
    fn the_logged_line_carries_the_diagnosis_of_a_reserialized_body() {
        let secret = crate::secret::AppSecret::new("app-secret-value");
        let meta_bytes = br#"{"object":"page","entry":[{"id":"1","time":1,"messaging":[{"message":{"text":"Jos\u00e9 \ud83d\ude00"}}]}]}"#;
        let header = super::super::sign(&secret, meta_bytes);
        let value: serde_json::Value = serde_json::from_slice(meta_bytes).unwrap_or_default();
        let rewritten = serde_json::to_vec(&value).unwrap_or_default();
        let error =
            match super::super::SignatureVerifier::new(secret).verify(Some(&header), &rewritten) {
                Err(err) => err,
                Ok(()) => panic!("re-encoded bytes cannot verify"),
            };
        let log = SignatureWarnings::new(Duration::from_secs(10));
        let warning = log.refused(Instant::now(), addr(), &error).expect("logged");
        let line = logged_line(
            &warning,
            &SignatureDiagnosis::of(Some(&header), true, &rewritten),
        );
        assert!(
            line.starts_with("webhook delivery refused: X-Hub-Signature-256 matches no"),
            "{line}"
        );
        assert!(
            line.contains(&format!("body {} bytes", rewritten.len())),
            "{line}"
        );
        assert!(
            line.contains("body looks re-serialized: raw non-ASCII"),
            "{line}"
        );
        for leaked in ["Jos", "app-secret-value", &header[7..]] {
            assert!(!line.contains(leaked), "{leaked} in {line}");
        }
    }

    #[test]
    fn the_warning_names_the_address_and_the_check_only() {
        let log = SignatureWarnings::new(Duration::from_secs(10));
        let start = Instant::now();
        let body = br#"{"object":"page","entry":[{"secret-customer-data":"Jane Doe"}]}"#;
        let header = "sha256=abc";
        // What the caller has at hand; none of it may reach the line.
        let error = match super::super::SignatureVerifier::new(crate::secret::AppSecret::new(
            "app-secret-value",
        ))
        .verify(Some(header), body)
        {
            Err(err) => err,
            Ok(()) => panic!("a 3-digit signature cannot verify"),
        };
        let line = log
            .refused(start, addr(), &error)
            .expect("logged")
            .to_string();
        assert!(line.contains("203.0.113.7:51234"), "{line}");
        assert!(
            line.contains("malformed X-Hub-Signature-256 header"),
            "{line}"
        );
        for leaked in [
            "Jane Doe",
            "secret-customer-data",
            "app-secret-value",
            "sha256=abc",
        ] {
            assert!(!line.contains(leaked), "{leaked} in {line}");
        }

        for _ in 0..3 {
            log.refused(
                start + Duration::from_secs(1),
                None,
                &WebhookError::SignatureMismatch,
            );
        }
        let line = log
            .refused(
                start + Duration::from_secs(11),
                None,
                &WebhookError::MissingSignature,
            )
            .expect("logged")
            .to_string();
        assert_eq!(
            line,
            "webhook delivery refused: missing X-Hub-Signature-256 header; from unknown; \
             3 more refused signature(s) not logged since the previous warning"
        );
        let mismatch = SignatureWarning {
            remote: addr(),
            check: SignatureCheck::Mismatch,
            suppressed: 0,
        };
        assert_eq!(
            mismatch.to_string(),
            "webhook delivery refused: X-Hub-Signature-256 matches no configured app secret; \
             from 203.0.113.7:51234"
        );
    }
}
