//! The error of every Graph API call: Meta's error object kept whole, classified, with a fix.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::catalog::{self, Troubleshooting};
use super::kind::{ErrorKind, classify_by_code};
use super::usage::RateLimitUsage;

/// How much of a non-JSON error body is kept (a proxy's HTML page, say).
pub(crate) const BODY_PREFIX_LEN: usize = 512;

/// Why a Graph API call failed.
///
/// Every variant has a [`kind`](Self::kind); Meta's own errors ([`GraphError::Meta`]) keep every
/// field Meta sent and carry a [`troubleshooting`](Self::troubleshooting) entry whose fix ends
/// the `Display` output. Access tokens never appear in it: transport errors drop their URL and
/// error bodies have the token of the call masked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GraphError {
    /// Meta answered with its JSON error object.
    #[error("{0}")]
    Meta(Box<MetaError>),

    /// An error status whose body is not Meta's JSON error (a proxy's HTML 502, say).
    #[error(
        "Graph API answered HTTP {status} with a body that is not a Graph error ({body_prefix:?}). Fix: {}",
        self.kind().generic_fix()
    )]
    Http {
        /// The HTTP status.
        status: u16,
        /// The start of the body (at most 512 bytes, lossily decoded).
        body_prefix: String,
    },

    /// The call never got a complete answer: connection, TLS, timeout or reading the body.
    #[error(
        "could not complete the Graph API call ({}){}. Fix: {}",
        if source.is_timeout() { "timed out" } else { "network error" },
        if *may_have_been_delivered { "; the request may have reached Meta" } else { "" },
        self.kind().generic_fix()
    )]
    Transport {
        /// The transport error, without its URL (paging URLs can carry tokens).
        #[source]
        source: reqwest::Error,
        /// The request may have reached Meta before the failure: a send may have been delivered.
        may_have_been_delivered: bool,
    },

    /// A success status with a body that is not the expected JSON.
    #[error("unexpected Graph API response (HTTP {status}, body starts {body_prefix:?}): {source}")]
    Decode {
        /// The HTTP status.
        status: u16,
        /// The start of the body (at most 512 bytes).
        body_prefix: String,
        /// What serde_json found wrong.
        #[source]
        source: serde_json::Error,
    },

    /// The request was refused before it was sent.
    #[error("invalid request, nothing was sent: {0}")]
    InvalidRequest(#[from] InvalidRequest),

    /// The client's configuration is wrong.
    #[error("invalid Graph client configuration: {message}")]
    Configuration {
        /// What is wrong.
        message: String,
        /// The underlying error, if any.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

/// Result of a Graph API call.
pub type Result<T, E = GraphError> = std::result::Result<T, E>;

impl GraphError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Meta(api) => api.kind,
            Self::Http { status, .. } if *status >= 500 => ErrorKind::TemporarilyUnavailable,
            Self::Http { status: 429, .. } => ErrorKind::RateLimited,
            Self::Http { .. } | Self::Decode { .. } => ErrorKind::UnexpectedResponse,
            Self::Transport { source, .. } if source.is_timeout() => ErrorKind::Timeout,
            Self::Transport { .. } => ErrorKind::Network,
            Self::InvalidRequest(InvalidRequest::AttachmentTooLarge { .. }) => {
                ErrorKind::AttachmentTooLarge
            }
            Self::InvalidRequest(InvalidRequest::AttachmentTypeNotAllowed { .. }) => {
                ErrorKind::AttachmentTypeNotAllowed
            }
            Self::InvalidRequest(_) => ErrorKind::InvalidRequest,
            Self::Configuration { .. } => ErrorKind::Configuration,
        }
    }

    /// Meta's error object, when Meta sent one.
    pub fn meta_error(&self) -> Option<&MetaError> {
        match self {
            Self::Meta(api) => Some(api),
            _ => None,
        }
    }

    /// The troubleshooting entry for Meta's code and subcode, when the catalog has one.
    pub fn troubleshooting(&self) -> Option<&'static Troubleshooting> {
        self.meta_error().and_then(MetaError::troubleshooting)
    }

    /// The one-line fix: the catalog's when there is an entry, else a generic one for the kind.
    pub fn fix(&self) -> &'static str {
        self.troubleshooting()
            .map(|t| t.fix)
            .unwrap_or_else(|| self.kind().generic_fix())
    }

    /// The HTTP status, when there was an answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Meta(api) => Some(api.status),
            Self::Http { status, .. } | Self::Decode { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Meta's trace id of the failed call, to quote to Meta support.
    pub fn fbtrace_id(&self) -> Option<&str> {
        self.meta_error().and_then(|a| a.fbtrace_id.as_deref())
    }

    /// A rate limit was hit.
    pub fn is_rate_limited(&self) -> bool {
        self.kind() == ErrorKind::RateLimited
    }

    /// The token is dead: reconnect the account.
    pub fn is_auth(&self) -> bool {
        self.kind().is_auth()
    }

    /// The call may succeed if repeated later: Meta said so (`is_transient`), or the kind is
    /// temporary (rate limits, 5xx, network).
    pub fn is_transient(&self) -> bool {
        self.meta_error().and_then(|a| a.is_transient) == Some(true) || self.kind().is_retryable()
    }

    /// Whether the call may have taken effect at Meta although it failed, so that repeating it
    /// (a send, say) may do it twice: the request went out and no answer came back (a timeout
    /// or a connection reset after sending), Meta failed with a 5xx status (its own error
    /// object or a proxy's page), or a success status came with a body that could not be read.
    /// False when Meta answered its error object with a 4xx status (it refused the call), or
    /// the call failed before it was sent (connecting, an invalid request, the configuration).
    pub fn may_have_reached_meta(&self) -> bool {
        match self {
            Self::Transport {
                may_have_been_delivered,
                ..
            } => *may_have_been_delivered,
            Self::Meta(api) => api.status >= 500,
            Self::Http { status, .. } => *status >= 500,
            Self::Decode { .. } => true,
            Self::InvalidRequest(_) | Self::Configuration { .. } => false,
        }
    }

    /// How long Meta says to wait before calling again (from `X-Business-Use-Case-Usage` or
    /// `X-Page-Usage`'s `estimated_time_to_regain_access`).
    pub fn retry_after(&self) -> Option<Duration> {
        self.meta_error().and_then(|a| a.usage.regain_access_in())
    }

    pub(crate) fn transport(source: reqwest::Error, may_have_been_delivered: bool) -> Self {
        Self::Transport {
            source: source.without_url(),
            may_have_been_delivered,
        }
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self::Configuration {
            message: message.into(),
            source: None,
        }
    }
}

/// Meta's error object, every field kept, plus the HTTP status and our classification.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MetaError {
    /// The HTTP status of the answer.
    pub status: u16,
    /// Meta's `message` (English, for developers; the token of the call is masked).
    pub message: String,
    /// Meta's `type` (`OAuthException`, `GraphMethodException`, ...).
    pub error_type: Option<String>,
    /// Meta's numeric `code`.
    pub code: i64,
    /// Meta's `error_subcode`.
    pub error_subcode: Option<i64>,
    /// Meta's `error_user_title`, meant for end users.
    pub error_user_title: Option<String>,
    /// Meta's `error_user_msg`, meant for end users.
    pub error_user_msg: Option<String>,
    /// Meta's `fbtrace_id`, to quote to Meta support.
    pub fbtrace_id: Option<String>,
    /// Meta's `is_transient`.
    pub is_transient: Option<bool>,
    /// Meta's `error_data`, in whatever shape it came.
    pub error_data: Option<Value>,
    /// Any other field of the error object.
    pub other: Map<String, Value>,
    /// Our classification of `code` and `error_subcode`.
    pub kind: ErrorKind,
    /// The rate-limit headers of the failed response.
    pub usage: RateLimitUsage,
}

impl MetaError {
    /// Parses Meta's error body `{"error": {...}}`; `None` when the body is not one.
    pub fn from_body(status: u16, body: &[u8]) -> Option<Self> {
        let envelope: Envelope = serde_json::from_slice(body).ok()?;
        let wire = envelope.error;
        let code = wire.code.as_ref().and_then(number)?;
        let error_subcode = wire.error_subcode.as_ref().and_then(number);
        let mut error = Self {
            status,
            message: wire.message.unwrap_or_default(),
            error_type: wire.error_type,
            code,
            error_subcode,
            error_user_title: wire.error_user_title,
            error_user_msg: wire.error_user_msg,
            fbtrace_id: wire.fbtrace_id,
            is_transient: wire.is_transient,
            error_data: wire.error_data,
            other: wire.other,
            kind: ErrorKind::Unknown,
            usage: RateLimitUsage::default(),
        };
        error.kind = error
            .troubleshooting()
            .map(|t| t.kind)
            .unwrap_or_else(|| classify_by_code(code, error_subcode));
        Some(error)
    }

    /// Meta's texts that the catalog reads when the numbers are ambiguous: `message`, `type`,
    /// `error_user_title` and `error_user_msg`.
    fn texts(&self) -> Vec<&str> {
        [
            Some(self.message.as_str()),
            self.error_type.as_deref(),
            self.error_user_title.as_deref(),
            self.error_user_msg.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// The troubleshooting entry for this error: its code and subcode, and where they are
    /// ambiguous or missing, Meta's text (see [`catalog::lookup_error`]).
    pub fn troubleshooting(&self) -> Option<&'static Troubleshooting> {
        catalog::lookup_error(self.code, self.error_subcode, &self.texts())
    }

    /// The one-line fix.
    pub fn fix(&self) -> &'static str {
        self.troubleshooting()
            .map(|t| t.fix)
            .unwrap_or_else(|| self.kind.generic_fix())
    }
}

impl fmt::Display for MetaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} (code {}", self.kind, self.message, self.code)?;
        if let Some(sub) = self.error_subcode {
            write!(f, ", subcode {sub}")?;
        }
        write!(f, ", HTTP {}", self.status)?;
        if let Some(trace) = &self.fbtrace_id {
            write!(f, ", fbtrace_id {trace}")?;
        }
        write!(f, "). Fix: {}", self.fix())
    }
}

impl From<MetaError> for GraphError {
    fn from(api: MetaError) -> Self {
        Self::Meta(Box::new(api))
    }
}

#[derive(Deserialize)]
struct Envelope {
    error: WireError,
}

#[derive(Deserialize)]
struct WireError {
    message: Option<String>,
    #[serde(rename = "type")]
    error_type: Option<String>,
    code: Option<Value>,
    error_subcode: Option<Value>,
    error_user_title: Option<String>,
    error_user_msg: Option<String>,
    fbtrace_id: Option<String>,
    is_transient: Option<bool>,
    error_data: Option<Value>,
    #[serde(flatten)]
    other: Map<String, Value>,
}

/// Meta sends codes as numbers, but some proxies and old endpoints send them as strings.
fn number(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A request this crate refused to send, because Meta would refuse it too.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidRequest {
    /// The text is longer than the platform allows.
    #[error(
        "text is {length} {unit} long; {platform} allows at most {max} {unit}: split it into several messages"
    )]
    TextTooLong {
        /// The platform whose limit applies.
        platform: crate::Platform,
        /// The length found.
        length: usize,
        /// The limit.
        max: usize,
        /// What is counted (`characters` or `bytes`).
        unit: &'static str,
    },
    /// The text is empty.
    #[error("text is empty: Meta refuses empty messages")]
    EmptyText,
    /// Too many quick replies.
    #[error("{count} quick replies; at most {max} are allowed")]
    TooManyQuickReplies {
        /// The number given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A quick reply is malformed (title or payload too long or empty).
    #[error("quick reply {index}: {reason}")]
    InvalidQuickReply {
        /// Its position (0-based).
        index: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// A feature the platform or route does not support.
    #[error("{what} is not supported {route}")]
    Unsupported {
        /// The feature.
        what: &'static str,
        /// Where it is not supported.
        route: &'static str,
    },
    /// `messaging_type` MESSAGE_TAG without a tag, or a tag with another messaging type.
    #[error("a message tag requires messaging_type MESSAGE_TAG, and MESSAGE_TAG requires a tag")]
    TagMismatch,
    /// An attachment upload with no bytes.
    #[error("attachment {filename:?} is empty")]
    EmptyAttachment {
        /// The file name given.
        filename: String,
    },
    /// An uploaded file is larger than the platform takes for its kind.
    #[error(
        "the {kind} is {size} bytes; {platform} takes {kind} attachments of at most {max} bytes: make it smaller (compress, resize or shorten it), or send a link to it as text"
    )]
    AttachmentTooLarge {
        /// The platform whose limit applies.
        platform: crate::Platform,
        /// The attachment's kind.
        kind: super::AttachmentKind,
        /// The file's size in bytes.
        size: u64,
        /// The limit in bytes.
        max: u64,
    },
    /// An uploaded file's media type is not one the platform takes for its kind.
    #[error(
        "{platform} does not take {mime:?} as {kind}: convert the file to {allowed}, or send a link to it as text"
    )]
    AttachmentTypeNotAllowed {
        /// The platform whose rule applies.
        platform: crate::Platform,
        /// The attachment's kind.
        kind: super::AttachmentKind,
        /// The file's media type.
        mime: String,
        /// The media types the platform takes for the kind.
        allowed: &'static str,
    },
    /// A value breaks one of Meta's documented limits (a length or a count).
    #[error("{at} has {found} {}; {limit}", limit.unit())]
    OutOfLimit {
        /// The limit broken.
        limit: super::limit::Limit,
        /// Where: `greeting[0].text`, `elements[2].buttons`, ...
        at: String,
        /// The length or count found.
        found: usize,
    },
    /// A localized profile field has no entry for the `default` locale, which Meta requires.
    #[error("{field} has no entry with locale \"default\"; Meta requires one as the fallback")]
    MissingDefaultLocale {
        /// The profile field (`greeting`, `ice_breakers`, `persistent_menu`).
        field: &'static str,
    },
    /// A parameter is malformed.
    #[error("{0}")]
    Other(String),
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn keeps_every_field_and_displays_the_fix() {
        let body = br#"{"error":{"message":"(#10) This message is sent outside of allowed window.","type":"OAuthException","code":10,"error_subcode":2018278,"fbtrace_id":"AbCdEf","is_transient":false,"error_user_title":"t","error_user_msg":"m","error_data":{"blame_field_specs":[["recipient"]]},"new_field":1}}"#;
        let api = MetaError::from_body(400, body).unwrap();
        assert_eq!(api.kind, ErrorKind::OutsideMessagingWindow);
        assert_eq!(api.error_subcode, Some(2018278));
        assert_eq!(api.other["new_field"], 1);
        assert!(api.error_data.is_some());
        let text = GraphError::from(api).to_string();
        assert!(
            text.starts_with("outside_messaging_window: (#10)"),
            "{text}"
        );
        assert!(text.contains("fbtrace_id AbCdEf"), "{text}");
        assert!(text.contains("Fix: Reply within 24 hours"), "{text}");
    }

    #[test]
    fn string_codes_and_missing_codes() {
        let api = MetaError::from_body(
            400,
            br#"{"error":{"message":"x","code":"190","error_subcode":"463"}}"#,
        )
        .unwrap();
        assert_eq!(api.kind, ErrorKind::TokenExpired);
        assert!(MetaError::from_body(400, br#"{"error":{"message":"no code"}}"#).is_none());
        assert!(MetaError::from_body(502, b"<html>Bad Gateway</html>").is_none());
    }
}
