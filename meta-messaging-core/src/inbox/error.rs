//! [`InboxError`] and the HTTP status and JSON body every adapter answers it with.

use serde::Serialize;

use crate::graph::{ErrorKind, GraphError};
use crate::ids::AccountId;
use crate::platform::Platform;
use crate::store::StoreError;
use crate::webhook::WebhookError;

/// Why an inbox operation failed.
///
/// [`status`](Self::status) and [`body`](Self::body) give the HTTP answer both web adapters
/// send, so the mapping lives in one place.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InboxError {
    /// A webhook request failed verification or parsing.
    #[error(transparent)]
    Webhook(#[from] WebhookError),
    /// A webhook body is larger than the configured limit.
    #[error("webhook body is over the {limit}-byte limit")]
    PayloadTooLarge {
        /// The limit ([`InboxBuilder::max_body_bytes`](super::InboxBuilder::max_body_bytes)).
        limit: usize,
    },
    /// The store failed; nothing was half-written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The Graph API refused or failed a call.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// A request to the inbox is invalid (a send with neither text nor attachment, ...).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The tenant has not connected this account.
    #[error("{platform} account {account_id} is not connected for this tenant")]
    AccountNotFound {
        /// The platform asked for.
        platform: Platform,
        /// The account asked for.
        account_id: AccountId,
    },
    /// The account is connected but cannot send (no token, or an Instagram account whose
    /// Page is unknown).
    #[error("{platform} account {account_id} cannot send: {reason}")]
    AccountCannotSend {
        /// The platform.
        platform: Platform,
        /// The account.
        account_id: AccountId,
        /// What is missing.
        reason: &'static str,
    },
    /// The connect flow is not configured ([`InboxBuilder::oauth`](super::InboxBuilder::oauth)).
    #[error("connecting accounts is not configured on this inbox")]
    OAuthNotConfigured,
    /// The connect flow's callback could not be trusted.
    #[error("cannot finish connecting: {0}")]
    OAuthState(&'static str),
    /// The person declined the permissions in Meta's dialog.
    #[error("the connection was declined in Meta's dialog ({reason})")]
    OAuthDenied {
        /// Meta's `error_reason` (`user_denied`, ...).
        reason: String,
    },
}

/// The JSON body of an error response: `{"error": {...}}`.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// The fields of an [`ErrorBody`].
#[derive(Debug, Clone, Serialize)]
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

impl InboxError {
    /// The HTTP status an adapter answers with.
    ///
    /// | error | status |
    /// |---|---|
    /// | missing, malformed or wrong signature | 401 |
    /// | refused handshake | 403 |
    /// | signed but unreadable body, invalid request, invalid cursor | 400 |
    /// | account or conversation not found | 404 |
    /// | body too large | 413 |
    /// | account cannot send; Meta refused the call (permission, token, window, user, ...) | 422 |
    /// | rate limited by Meta | 429 |
    /// | store failure (so Meta redelivers) | 500 |
    /// | Meta unavailable, network failure, unexpected answer | 502 |
    /// | timeout talking to Meta | 504 |
    pub fn status(&self) -> u16 {
        match self {
            Self::Webhook(e) if e.is_signature() => 401,
            Self::Webhook(e) if e.is_handshake() => 403,
            Self::Webhook(_) | Self::InvalidRequest(_) => 400,
            Self::PayloadTooLarge { .. } => 413,
            Self::AccountNotFound { .. } => 404,
            Self::AccountCannotSend { .. } => 422,
            Self::OAuthNotConfigured => 404,
            Self::OAuthState(_) | Self::OAuthDenied { .. } => 400,
            Self::Store(StoreError::NotFound { .. }) => 404,
            Self::Store(StoreError::InvalidCursor { .. } | StoreError::InvalidInput { .. }) => 400,
            Self::Store(_) => 500,
            Self::Graph(e) => match e.kind() {
                ErrorKind::InvalidRequest => 400,
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

    /// A stable snake_case name for the error (a Graph error's [`ErrorKind`] name for Graph
    /// errors).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Webhook(WebhookError::MissingSignature) => "missing_signature",
            Self::Webhook(e) if e.is_signature() => "invalid_signature",
            Self::Webhook(e) if e.is_handshake() => "handshake_refused",
            Self::Webhook(_) => "malformed_delivery",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::Store(StoreError::NotFound { .. }) => "not_found",
            Self::Store(StoreError::InvalidCursor { .. }) => "invalid_cursor",
            Self::Store(StoreError::InvalidInput { .. }) | Self::InvalidRequest(_) => {
                "invalid_request"
            }
            Self::Store(_) => "store_unavailable",
            Self::Graph(e) => e.kind().as_str(),
            Self::AccountNotFound { .. } => "account_not_found",
            Self::AccountCannotSend { .. } => "account_cannot_send",
            Self::OAuthNotConfigured => "oauth_not_configured",
            Self::OAuthState(_) => "oauth_state_invalid",
            Self::OAuthDenied { .. } => "oauth_denied",
        }
    }

    /// What the user should do about it.
    pub fn fix(&self) -> String {
        match self {
            Self::Webhook(e) if e.is_signature() => "Check that META_APP_SECRET is the app secret of the Meta app that sends \
                 these webhooks (App settings > Basic), and that nothing re-encodes the body before it reaches the inbox."
                .to_owned(),
            Self::Webhook(e) if e.is_handshake() => {
                "Use the same verify token in the inbox and in the app's Webhooks settings.".to_owned()
            }
            Self::Webhook(_) => "The body was signed by Meta but is not a Messenger or Instagram delivery; \
                 check which objects the app's Webhooks settings subscribe to."
                .to_owned(),
            Self::PayloadTooLarge { .. } => {
                "Raise the inbox's body limit (InboxBuilder::max_body_bytes) if Meta sends deliveries this large.".to_owned()
            }
            Self::Store(StoreError::NotFound { .. }) => "Check the id: it must belong to this tenant.".to_owned(),
            Self::Store(StoreError::InvalidCursor { .. }) => {
                "Pass back the next_cursor of the previous page unchanged, with the same filters.".to_owned()
            }
            Self::Store(StoreError::InvalidInput { .. }) | Self::InvalidRequest(_) => {
                "Correct the request as the message says.".to_owned()
            }
            Self::Store(_) => "The database failed; Meta redelivers webhooks answered with an error, so nothing is lost. \
                 Check the database's logs and connectivity."
                .to_owned(),
            Self::Graph(e) => e.fix().to_owned(),
            Self::AccountNotFound { .. } => {
                "Connect the account first (GET /oauth/start), or check the platform and account_id.".to_owned()
            }
            Self::AccountCannotSend { .. } => {
                "Reconnect the account through the OAuth flow so the inbox stores its Page token.".to_owned()
            }
            Self::OAuthNotConfigured => {
                "Give the inbox the app id and callback URL with InboxBuilder::oauth(OAuthSettings::new(..)).".to_owned()
            }
            Self::OAuthState(_) => "Start again from /oauth/start in the same browser and finish within 10 minutes.".to_owned(),
            Self::OAuthDenied { .. } => {
                "Start again and accept every permission asked for: messaging needs all of them.".to_owned()
            }
        }
    }

    /// The JSON body an adapter answers with. Never contains a secret or `Debug` output.
    pub fn body(&self) -> ErrorBody {
        let api = match self {
            Self::Graph(e) => e.api(),
            _ => None,
        };
        // A Graph error's code, subcode, trace id and fix have fields of their own; repeating
        // them in `message` (as `Display` does for logs) would make a UI show them twice.
        let message = match (self, api) {
            (Self::Graph(e), Some(api)) => match e.troubleshooting() {
                Some(entry) => format!("{}: {}", entry.title, api.message),
                None => api.message.clone(),
            },
            _ => self.to_string(),
        };
        ErrorBody {
            error: ErrorDetail {
                kind: self.kind(),
                message,
                fix: self.fix(),
                code: api.map(|a| a.code),
                subcode: api.and_then(|a| a.error_subcode),
                fbtrace_id: api.and_then(|a| a.fbtrace_id.clone()),
            },
        }
    }
}
