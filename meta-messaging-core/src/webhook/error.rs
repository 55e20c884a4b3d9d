//! The error of everything webhook-related: signatures, the subscription handshake, parsing.

use std::fmt;

/// Why a webhook request was refused.
///
/// The variants fall in three groups, which a web adapter maps to different statuses:
/// signature problems ([`is_signature`](Self::is_signature), answer 401), handshake problems
/// ([`is_handshake`](Self::is_handshake), answer 403) and body problems
/// ([`is_body`](Self::is_body), answer 400: signed by Meta but unreadable).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The request carried no `X-Hub-Signature-256` header.
    #[error(
        "missing X-Hub-Signature-256 header: Meta signs every delivery, so this request did not come from Meta \
         (or a proxy stripped the header)"
    )]
    MissingSignature,

    /// The signature header is present but not of the form `sha256=<64 hex digits>`.
    #[error("malformed X-Hub-Signature-256 header: {0}")]
    MalformedSignature(MalformedSignature),

    /// The signature is well formed but matches none of the configured app secrets.
    #[error(
        "X-Hub-Signature-256 does not match the body under any configured app secret: check that the app \
         secret is the one of the app that sends these webhooks, and that the body reaches the check byte \
         for byte (no JSON re-serialization, no charset conversion)"
    )]
    SignatureMismatch,

    /// A handshake query lacked a required parameter.
    #[error("subscription handshake is missing the `{0}` query parameter")]
    MissingParameter(&'static str),

    /// A handshake query had a `hub.mode` other than `subscribe`.
    #[error("subscription handshake has hub.mode={0:?}, expected \"subscribe\"")]
    UnexpectedMode(String),

    /// The handshake's `hub.verify_token` differs from the configured verify token.
    #[error(
        "subscription handshake's hub.verify_token does not match: use the same verify token here and in \
         the app's Webhooks settings"
    )]
    VerifyTokenMismatch,

    /// The body is not JSON, or not a webhook envelope (`{"object": ..., "entry": [...]}`).
    #[error("malformed webhook body at line {line}, column {column}: {source}")]
    MalformedBody {
        /// 1-based line where reading stopped.
        line: usize,
        /// 1-based column where reading stopped.
        column: usize,
        /// What serde_json found there.
        #[source]
        source: serde_json::Error,
    },
}

impl WebhookError {
    /// A missing, malformed or wrong signature: the request is not proven to come from Meta.
    pub fn is_signature(&self) -> bool {
        matches!(
            self,
            Self::MissingSignature | Self::MalformedSignature(_) | Self::SignatureMismatch
        )
    }

    /// A refused subscription handshake.
    pub fn is_handshake(&self) -> bool {
        matches!(
            self,
            Self::MissingParameter(_) | Self::UnexpectedMode(_) | Self::VerifyTokenMismatch
        )
    }

    /// A body that was signed but cannot be read as a delivery (not JSON, or not
    /// `{"object": ..., "entry": [...]}`). A delivery of an object this version does not handle
    /// is not an error: [`parse`](super::parse) keeps it as unknown events.
    pub fn is_body(&self) -> bool {
        matches!(self, Self::MalformedBody { .. })
    }

    pub(crate) fn malformed_body(source: serde_json::Error) -> Self {
        Self::MalformedBody {
            line: source.line(),
            column: source.column(),
            source,
        }
    }
}

/// How a signature header failed to be `sha256=<64 hex digits>`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MalformedSignature {
    /// The value does not start with `sha256=` (an `X-Hub-Signature: sha1=...` value, say).
    BadPrefix,
    /// The part after `sha256=` is not hexadecimal.
    BadHex,
    /// The hex digest has the wrong length (64 hex digits expected).
    WrongLength {
        /// The number of hex digits found.
        digits: usize,
    },
}

impl fmt::Display for MalformedSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadPrefix => f.write_str("expected it to start with \"sha256=\""),
            Self::BadHex => f.write_str("the digest after \"sha256=\" is not hexadecimal"),
            Self::WrongLength { digits } => {
                write!(f, "the digest has {digits} hex digits, expected 64")
            }
        }
    }
}
