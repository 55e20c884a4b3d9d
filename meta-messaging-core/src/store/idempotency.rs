//! Idempotency records: what a store keeps per (tenant, `Idempotency-Key`) so that a request
//! retried with the same key is answered once and its effect (a message sent to Meta) happens
//! once.
//!
//! The lifecycle of one key, driven by [`Inbox::send_idempotent`](crate::inbox::Inbox::send_idempotent):
//!
//! 1. [`claim_idempotency_key`](super::MessageStore::claim_idempotency_key) atomically creates
//!    the record *in flight*, with the request's [`RequestFingerprint`], or reports the record
//!    that exists: in flight, finished (with its answer), or made by another request.
//! 2. The request runs. Then either
//!    [`finish_idempotency_key`](super::MessageStore::finish_idempotency_key) stores its answer
//!    (every later claim gets it back), or, when the request certainly had no effect,
//!    [`release_idempotency_key`](super::MessageStore::release_idempotency_key) deletes the
//!    record so the client may retry with the same key.
//! 3. The record expires at the time given when it was claimed; a claim after that starts over,
//!    and [`prune_idempotency_keys`](super::MessageStore::prune_idempotency_keys) deletes expired
//!    records.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The most characters an [`IdempotencyKey`] may have.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

/// A client's `Idempotency-Key`: 1 to 255 visible ASCII characters (`!` to `~`), compared
/// exactly. A UUID per request is the usual choice.
///
/// ```
/// use meta_messaging_core::store::IdempotencyKey;
///
/// let key = IdempotencyKey::parse("0b6f2c9e-6a36-4c1e-9d0a-6f1f7f1f0c11")?;
/// assert_eq!(key.as_str(), "0b6f2c9e-6a36-4c1e-9d0a-6f1f7f1f0c11");
/// assert!(IdempotencyKey::parse("").is_err());
/// assert!(IdempotencyKey::parse("two words").is_err());
/// # Ok::<(), meta_messaging_core::store::InvalidIdempotencyKey>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct IdempotencyKey(String);

/// Why a value is not an [`IdempotencyKey`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidIdempotencyKey {
    /// The value is empty.
    #[error("the idempotency key is empty")]
    Empty,
    /// The value has more than [`MAX_IDEMPOTENCY_KEY_LEN`] characters.
    #[error("the idempotency key is longer than {MAX_IDEMPOTENCY_KEY_LEN} characters")]
    TooLong,
    /// The value has a character that is not visible ASCII (a space, a control character,
    /// a non-ASCII letter).
    #[error("the idempotency key has a character that is not visible ASCII (! to ~)")]
    NotVisibleAscii,
}

impl IdempotencyKey {
    /// Checks a key as a client sent it.
    ///
    /// # Errors
    /// [`InvalidIdempotencyKey`] when it is empty, longer than [`MAX_IDEMPOTENCY_KEY_LEN`], or
    /// has a character outside `!`..=`~`.
    pub fn parse(value: &str) -> Result<Self, InvalidIdempotencyKey> {
        Self::from_bytes(value.as_bytes())
    }

    /// A key made of a visible-ASCII prefix and a digest's hex digits: valid by construction.
    pub(crate) fn from_digest(prefix: &'static str, digest: &[u8]) -> Self {
        Self(format!("{prefix}{}", hex::encode(digest)))
    }

    /// [`parse`](Self::parse) for a header value's raw bytes.
    ///
    /// # Errors
    /// As [`parse`](Self::parse).
    pub fn from_bytes(value: &[u8]) -> Result<Self, InvalidIdempotencyKey> {
        if value.is_empty() {
            return Err(InvalidIdempotencyKey::Empty);
        }
        if value.len() > MAX_IDEMPOTENCY_KEY_LEN {
            return Err(InvalidIdempotencyKey::TooLong);
        }
        if !value.iter().all(u8::is_ascii_graphic) {
            return Err(InvalidIdempotencyKey::NotVisibleAscii);
        }
        // Only ASCII bytes remain, which are UTF-8.
        String::from_utf8(value.to_vec())
            .map(Self)
            .map_err(|_| InvalidIdempotencyKey::NotVisibleAscii)
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdempotencyKey({:?})", self.0)
    }
}

impl std::str::FromStr for IdempotencyKey {
    type Err = InvalidIdempotencyKey;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::parse(value)
    }
}

/// The SHA-256 (hex) of a request's canonical form: a key reused with another request is told
/// apart from a retry of the same one.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RequestFingerprint(String);

impl RequestFingerprint {
    /// The fingerprint of a request's canonical bytes. Callers make the bytes canonical (the
    /// inbox serializes the parsed request, so spacing and field order do not count).
    pub fn of(canonical: &[u8]) -> Self {
        Self(hex::encode(Sha256::digest(canonical)))
    }

    /// The 64 lower-case hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for RequestFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RequestFingerprint({})", self.0)
    }
}

/// The answer a finished request gave, replayed to every retry with its key: an HTTP status and
/// a JSON body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IdempotentAnswer {
    /// The HTTP status.
    pub status: u16,
    /// The JSON body.
    pub body: serde_json::Value,
}

impl IdempotentAnswer {
    /// An answer.
    pub fn new(status: u16, body: serde_json::Value) -> Self {
        Self { status, body }
    }
}

/// A claim of an idempotency key: the key and request, and when the record would expire.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct IdempotencyClaimRequest {
    /// The client's key.
    pub key: IdempotencyKey,
    /// The request's fingerprint.
    pub fingerprint: RequestFingerprint,
    /// Now, in ms since the epoch: a record that expired at or before it counts as absent.
    pub now_ms: i64,
    /// When a record created by this claim expires, in ms since the epoch.
    pub expires_at_ms: i64,
}

impl IdempotencyClaimRequest {
    /// A claim made at `now_ms` for a record kept until `expires_at_ms`.
    pub fn new(
        key: IdempotencyKey,
        fingerprint: RequestFingerprint,
        now_ms: i64,
        expires_at_ms: i64,
    ) -> Self {
        Self {
            key,
            fingerprint,
            now_ms,
            expires_at_ms,
        }
    }
}

/// What [`claim_idempotency_key`](super::MessageStore::claim_idempotency_key) found.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum IdempotencyClaim {
    /// The key was free (or its record had expired): it is now in flight for this request,
    /// which must be run and then finished or released.
    Claimed,
    /// The same request holds the key and has not finished.
    InFlight {
        /// When it claimed the key, in ms since the epoch.
        claimed_at_ms: i64,
    },
    /// The same request finished with this answer.
    Finished(IdempotentAnswer),
    /// Another request (another fingerprint) holds the key, in flight or finished.
    OtherRequest,
}

/// A live record as a backend reads it, turned into the claim's outcome.
pub(crate) fn existing_claim(
    mine: &RequestFingerprint,
    fingerprint: &str,
    claimed_at_ms: i64,
    answer: Option<IdempotentAnswer>,
) -> IdempotencyClaim {
    if fingerprint != mine.as_str() {
        return IdempotencyClaim::OtherRequest;
    }
    match answer {
        Some(answer) => IdempotencyClaim::Finished(answer),
        None => IdempotencyClaim::InFlight { claimed_at_ms },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_one_to_255_visible_ascii_characters() {
        assert!(IdempotencyKey::parse("a").is_ok());
        assert!(IdempotencyKey::parse(&"k".repeat(255)).is_ok());
        assert!(IdempotencyKey::parse("!~{}\"'").is_ok());
        assert_eq!(IdempotencyKey::parse(""), Err(InvalidIdempotencyKey::Empty));
        assert_eq!(
            IdempotencyKey::parse(&"k".repeat(256)),
            Err(InvalidIdempotencyKey::TooLong)
        );
        for bad in ["a b", "tab\t", "é", "nl\n", "\u{7f}"] {
            assert_eq!(
                IdempotencyKey::parse(bad),
                Err(InvalidIdempotencyKey::NotVisibleAscii),
                "{bad:?}"
            );
        }
        assert_eq!(
            IdempotencyKey::from_bytes(b"caf\xe9"),
            Err(InvalidIdempotencyKey::NotVisibleAscii)
        );
    }

    #[test]
    fn fingerprints_are_sha256_hex() {
        // printf %s abc | sha256sum
        assert_eq!(
            RequestFingerprint::of(b"abc").as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
