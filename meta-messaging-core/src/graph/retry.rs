//! Which failures are retried, how often, and how long to wait in between.

use std::time::Duration;

use rand::Rng;

use super::error::GraphError;

/// Whether repeating a request can cause a second effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Idempotency {
    /// Reads, and writes whose repetition is harmless (subscribing a Page twice, ...).
    Idempotent,
    /// Sends: a repeated send delivers a second message.
    NotIdempotent,
}

/// Retries of transient failures, with exponential backoff and jitter.
///
/// # What is retried
/// - Meta's error answers that are transient: `is_transient: true`, and the codes of temporary
///   failures and rate limits (1, 2, 4, 17, 32, 341, 613, 1200, 80001-80009). Meta refused the
///   call, so nothing was done and repeating it is safe, sends included.
/// - Rate limits are not retried when Meta says access returns only after minutes
///   (`estimated_time_to_regain_access`): [`GraphError::retry_after`] tells the caller when.
/// - HTTP 5xx without Meta's JSON error, and transport failures (timeouts, resets), are retried
///   for reads only. For a **send** they are ambiguous: Meta may have delivered the message
///   before the connection broke, and a retry would send it twice. A send is repeated after a
///   transport failure only when the connection was never made (nothing reached Meta), unless
///   [`retry_ambiguous_sends`](Self::retry_ambiguous_sends) opts in to at-least-once delivery.
///   Otherwise the error says `may_have_been_delivered`, so the caller can check the
///   conversation (or wait for the echo webhook) before trying again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    max_retries: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    retry_ambiguous_sends: bool,
}

impl Default for RetryPolicy {
    /// Three retries, starting at 250 ms, doubling up to 8 s.
    fn default() -> Self {
        Self {
            max_retries: 3,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(8),
            retry_ambiguous_sends: false,
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// Retries at most `n` times after the first attempt.
    #[must_use]
    pub fn max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }

    /// The wait before the first retry; it doubles on each further retry.
    #[must_use]
    pub fn initial_backoff(mut self, delay: Duration) -> Self {
        self.initial_backoff = delay;
        self
    }

    /// The longest wait between two attempts.
    #[must_use]
    pub fn max_backoff(mut self, delay: Duration) -> Self {
        self.max_backoff = delay;
        self
    }

    /// Also repeat sends after failures that may have delivered them (at-least-once delivery:
    /// the person may get the message twice). Off by default.
    #[must_use]
    pub fn retry_ambiguous_sends(mut self, yes: bool) -> Self {
        self.retry_ambiguous_sends = yes;
        self
    }

    /// The configured number of retries.
    pub fn retries(&self) -> u32 {
        self.max_retries
    }

    /// Whether `error`, on attempt number `attempt` (0 for the first), is worth another try.
    pub(crate) fn should_retry(
        &self,
        error: &GraphError,
        attempt: u32,
        idempotency: Idempotency,
    ) -> bool {
        if attempt >= self.max_retries {
            return false;
        }
        let idempotent = idempotency == Idempotency::Idempotent;
        match error {
            GraphError::Meta(api) => {
                let long_block = api.usage.regain_access_in().is_some();
                (api.is_transient == Some(true) || api.kind.is_retryable()) && !long_block
            }
            GraphError::Http { status, .. } => {
                *status == 429 || (*status >= 500 && (idempotent || self.retry_ambiguous_sends))
            }
            GraphError::Transport {
                may_have_been_delivered,
                ..
            } => idempotent || !may_have_been_delivered || self.retry_ambiguous_sends,
            _ => false,
        }
    }

    /// The wait before retry number `attempt + 1`: exponential, capped, with "equal jitter"
    /// (half fixed, half random) so that concurrent clients do not retry in lockstep.
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .initial_backoff
            .saturating_mul(2u32.saturating_pow(attempt.min(16)))
            .min(self.max_backoff);
        let half = exp / 2;
        let jitter_ns = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
        half + Duration::from_nanos(rand::rng().random_range(0..=jitter_ns))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::graph::error::MetaError;

    fn api(body: &str) -> GraphError {
        MetaError::from_body(400, body.as_bytes()).unwrap().into()
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let policy = RetryPolicy::default()
            .initial_backoff(Duration::from_millis(100))
            .max_backoff(Duration::from_millis(350));
        for _ in 0..50 {
            let first = policy.backoff(0);
            assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
            let third = policy.backoff(2);
            assert!(third >= Duration::from_millis(175) && third <= Duration::from_millis(350));
        }
        assert!(policy.backoff(40) <= Duration::from_millis(350));
    }

    #[test]
    fn sends_are_not_retried_when_they_may_have_been_delivered() {
        let policy = RetryPolicy::default();
        let gateway = GraphError::Http {
            status: 502,
            body_prefix: String::new(),
        };
        assert!(policy.should_retry(&gateway, 0, Idempotency::Idempotent));
        assert!(!policy.should_retry(&gateway, 0, Idempotency::NotIdempotent));
        let opted_in = policy.clone().retry_ambiguous_sends(true);
        assert!(opted_in.should_retry(&gateway, 0, Idempotency::NotIdempotent));
    }

    #[test]
    fn transient_meta_errors_are_retried_within_the_budget() {
        let policy = RetryPolicy::default().max_retries(2);
        let throttled = api(r#"{"error":{"message":"(#613) Calls exceed","code":613}}"#);
        assert!(policy.should_retry(&throttled, 0, Idempotency::NotIdempotent));
        assert!(policy.should_retry(&throttled, 1, Idempotency::NotIdempotent));
        assert!(!policy.should_retry(&throttled, 2, Idempotency::NotIdempotent));
        let flagged = api(r#"{"error":{"message":"odd","code":12345,"is_transient":true}}"#);
        assert!(policy.should_retry(&flagged, 0, Idempotency::Idempotent));
        let window = api(r#"{"error":{"message":"window","code":10,"error_subcode":2018278}}"#);
        assert!(!policy.should_retry(&window, 0, Idempotency::Idempotent));
        assert!(!RetryPolicy::none().should_retry(&throttled, 0, Idempotency::Idempotent));
    }
}
