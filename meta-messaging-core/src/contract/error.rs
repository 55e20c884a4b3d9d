//! Every `{"error": {...}}` the inbox routes answer, and its status: errors of the inbox
//! service ([`InboxError`]) and the contract's own refusals (credentials, origin, media type,
//! method, limits).

use serde::Serialize;

use crate::graph::ErrorKind;
use crate::inbox::InboxError;
use crate::store::{InvalidIdempotencyKey, StoreError};

/// The JSON body of an error response: `{"error": {...}}`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// The fields of an [`ErrorBody`].
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[non_exhaustive]
pub struct ErrorDetail {
    /// A stable snake_case name: `invalid_signature`, `outside_messaging_window`, ...
    pub kind: &'static str,
    /// What went wrong.
    pub message: String,
    /// What to do about it.
    pub fix: String,
    /// Meta's error code, for Graph errors.
    pub code: Option<i64>,
    /// Meta's error subcode, for Graph errors.
    pub subcode: Option<i64>,
    /// Meta's trace id, for Graph errors: quote it to Meta's support.
    pub fbtrace_id: Option<String>,
}

/// The HTTP status of an inbox error.
///
/// | error | status |
/// |---|---|
/// | missing, malformed or wrong signature | 401 |
/// | refused handshake | 403 |
/// | signed but unreadable body, invalid request, invalid cursor, OAuth state or denial | 400 |
/// | account, conversation or OAuth set-up not found | 404 |
/// | body too large; an uploaded file larger than the platform takes | 413 |
/// | an uploaded file of a type the platform does not take | 415 |
/// | body slower than the timeout | 408 |
/// | body cut short (the client hung up) | 400 |
/// | a request with the same idempotency key still in flight | 409 |
/// | account cannot send; outside the messaging window (refused before calling Meta); Meta refused the call (permission, token, window, user, ...) | 422 |
/// | an idempotency key reused with another request body | 422 |
/// | rate limited by Meta | 429 |
/// | store or media store failure (so Meta redelivers); a message sent but not stored (`Inbox::send` only: `POST /messages` answers it 201) | 500 |
/// | Meta unavailable, network failure, unexpected answer | 502 |
/// | timeout talking to Meta | 504 |
pub fn status(err: &InboxError) -> u16 {
    match err {
        InboxError::Webhook(e) if e.is_signature() => 401,
        InboxError::Webhook(e) if e.is_handshake() => 403,
        InboxError::Webhook(_) | InboxError::InvalidRequest(_) => 400,
        InboxError::PayloadTooLarge { .. } | InboxError::UploadTooLarge { .. } => 413,
        InboxError::BodyTimeout { .. } => 408,
        InboxError::BodyIncomplete => 400,
        InboxError::AccountNotFound { .. } | InboxError::OAuthNotConfigured => 404,
        InboxError::AccountCannotSend { .. } | InboxError::OutsideMessagingWindow(_) => 422,
        InboxError::OAuthState(_) | InboxError::OAuthDenied { .. } => 400,
        InboxError::IdempotencyKeyInFlight { .. } => 409,
        InboxError::IdempotencyKeyReused => 422,
        InboxError::SentNotStored { .. } => 500,
        InboxError::Store(StoreError::NotFound { .. }) => 404,
        InboxError::Store(StoreError::InvalidCursor { .. } | StoreError::InvalidInput { .. }) => {
            400
        }
        InboxError::Store(_) | InboxError::Media(_) => 500,
        InboxError::Graph(e) => match e.kind() {
            ErrorKind::InvalidRequest => 400,
            ErrorKind::AttachmentTooLarge => 413,
            ErrorKind::AttachmentTypeNotAllowed => 415,
            ErrorKind::RateLimited => 429,
            ErrorKind::Timeout => 504,
            ErrorKind::TemporarilyUnavailable
            | ErrorKind::Network
            | ErrorKind::UnexpectedResponse
            | ErrorKind::Configuration => 502,
            _ => 422,
        },
    }
}

/// The JSON body of an inbox error. Never contains a secret or `Debug` output.
pub fn body(err: &InboxError) -> ErrorBody {
    let api = match err {
        InboxError::Graph(e) => e.meta_error(),
        _ => None,
    };
    // A Graph error's code, subcode, trace id and fix have fields of their own; repeating them
    // in `message` (as `Display` does for logs) would make a UI show them twice.
    let message = match (err, api) {
        (InboxError::Graph(e), Some(api)) => match e.troubleshooting() {
            Some(entry) => format!("{}: {}", entry.title, api.message),
            None => api.message.clone(),
        },
        _ => err.to_string(),
    };
    ErrorBody {
        error: ErrorDetail {
            kind: err.kind(),
            message,
            fix: err.fix(),
            code: api.map(|a| a.code),
            subcode: api.and_then(|a| a.error_subcode),
            fbtrace_id: api.and_then(|a| a.fbtrace_id.clone()),
        },
    }
}

/// A request the contract refuses before it reaches the inbox service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// No credentials, or wrong ones.
    Unauthorized,
    /// A multi-tenant inbox mounted without a tenant for this request.
    TenantRequired,
    /// A cookie-authenticated state change from another site.
    CrossSite,
    /// A `Host` this server does not answer to.
    HostNotAllowed,
    /// A JSON route called with another media type.
    UnsupportedMediaType,
    /// The route does not take the method.
    MethodNotAllowed,
    /// The tenant has as many live event streams open as allowed.
    TooManyStreams,
    /// The answer could not be serialized.
    Unserializable,
    /// `/session` on routes whose access is not [`Access::api_tokens`](super::Access::api_tokens).
    SessionsUnavailable,
    /// An `Idempotency-Key` that is not 1 to 255 visible ASCII characters.
    InvalidIdempotencyKey(InvalidIdempotencyKey),
    /// A live stream asked for while the inbox drains ([`Inbox::drain`](crate::inbox::Inbox::drain)).
    ShuttingDown,
    /// `GET /metrics` on an inbox built without
    /// [`InboxBuilder::metrics_endpoint`](crate::inbox::InboxBuilder::metrics_endpoint).
    MetricsUnavailable,
}

impl Refusal {
    pub(crate) fn status(self) -> u16 {
        match self {
            Refusal::InvalidIdempotencyKey(_) => 400,
            Refusal::Unauthorized | Refusal::TenantRequired => 401,
            Refusal::CrossSite => 403,
            Refusal::MethodNotAllowed => 405,
            Refusal::UnsupportedMediaType => 415,
            Refusal::HostNotAllowed => 421,
            Refusal::TooManyStreams => 429,
            Refusal::Unserializable => 500,
            Refusal::SessionsUnavailable | Refusal::MetricsUnavailable => 404,
            Refusal::ShuttingDown => 503,
        }
    }

    pub(crate) fn body(self) -> ErrorBody {
        let invalid_key;
        let (kind, message, fix) = match self {
            Refusal::InvalidIdempotencyKey(reason) => {
                invalid_key = reason.to_string();
                (
                    "invalid_idempotency_key",
                    invalid_key.as_str(),
                    "send 1 to 255 visible ASCII characters (a UUID per message), or no Idempotency-Key header",
                )
            }
            Refusal::Unauthorized => (
                "unauthorized",
                "this route needs credentials: an API token or a signed-in session",
                "send `Authorization: Bearer <API token>` (META_API_TOKEN in the examples), or sign in on the page",
            ),
            Refusal::TenantRequired => (
                "tenant_required",
                "no tenant for this request",
                "in multi-tenant mode, pass a tenant resolver to the adapter that maps your authenticated user to a tenant",
            ),
            Refusal::CrossSite => (
                "cross_site_request",
                "a state-changing request signed in by cookie came from another site",
                "call the inbox from its own pages, or authenticate with `Authorization: Bearer <API token>`",
            ),
            Refusal::HostNotAllowed => (
                "host_not_allowed",
                "this server does not answer to the request's Host",
                "open the inbox under its configured name, or add the name with Access::allowed_hosts",
            ),
            Refusal::UnsupportedMediaType => (
                "unsupported_media_type",
                "this route reads a JSON body",
                "send the body with `Content-Type: application/json` (`POST /messages` also takes `multipart/form-data` with a file)",
            ),
            Refusal::MethodNotAllowed => (
                "method_not_allowed",
                "this route does not take that method",
                "see ADAPTERS.md for the methods of each route",
            ),
            Refusal::TooManyStreams => (
                "too_many_streams",
                "this tenant has as many live event streams open as allowed",
                "close other tabs of the inbox, or raise InboxBuilder::max_event_streams_per_tenant",
            ),
            Refusal::Unserializable => (
                "internal_error",
                "the answer could not be written",
                "report this as a bug, with the request that caused it",
            ),
            Refusal::ShuttingDown => (
                "shutting_down",
                "this server is shutting down",
                "reconnect after the Retry-After delay: another instance, or this one restarted, answers",
            ),
            Refusal::SessionsUnavailable => (
                "sessions_unavailable",
                "signing in is handled by the host application, not by the inbox routes",
                "sign in the way the application in front of the inbox asks you to",
            ),
            Refusal::MetricsUnavailable => (
                "metrics_unavailable",
                "this server serves no metrics here",
                "install a metrics recorder and pass its render to InboxBuilder::metrics_endpoint \
                 (the examples do unless META_METRICS_BIND serves them on their own address)",
            ),
        };
        ErrorBody {
            error: ErrorDetail {
                kind,
                message: message.to_owned(),
                fix: fix.to_owned(),
                code: None,
                subcode: None,
                fbtrace_id: None,
            },
        }
    }
}
