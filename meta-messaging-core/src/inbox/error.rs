//! [`InboxError`]: why an inbox operation failed, its stable kind and its fix.

use super::window::WindowRefusal;
use crate::graph::GraphError;
use crate::ids::{AccountId, MessageId};
use crate::media::MediaError;
use crate::platform::Platform;
use crate::store::StoreError;
use crate::webhook::WebhookError;

/// Why an inbox operation failed.
///
/// [`kind`](Self::kind) names it and [`fix`](Self::fix) says what to do; the HTTP contract
/// gives its status and JSON body ([`contract::status`](crate::contract::status),
/// [`contract::body`](crate::contract::body)).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InboxError {
    /// A webhook request failed verification or parsing.
    #[error(transparent)]
    Webhook(#[from] WebhookError),
    /// A request body is larger than the configured limit.
    #[error("request body is over the {limit}-byte limit")]
    PayloadTooLarge {
        /// The limit ([`InboxBuilder::max_body_bytes`](super::InboxBuilder::max_body_bytes)).
        limit: usize,
    },
    /// A file sent to `POST /messages` is larger than the inbox takes.
    #[error("the file is over the inbox's {limit}-byte upload limit")]
    UploadTooLarge {
        /// The limit ([`InboxBuilder::max_upload_bytes`](super::InboxBuilder::max_upload_bytes)).
        limit: usize,
    },
    /// A request body did not arrive within
    /// [`InboxBuilder::body_timeout`](super::InboxBuilder::body_timeout).
    #[error("the request body did not arrive within {timeout:?}")]
    BodyTimeout {
        /// The time allowed.
        timeout: std::time::Duration,
    },
    /// A request body ended before it was complete: the client hung up or the connection broke.
    #[error("the request body ended before it was complete")]
    BodyIncomplete,
    /// The store failed; nothing was half-written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The Graph API refused or failed a call.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// The media store failed to read a kept attachment.
    #[error(transparent)]
    Media(#[from] MediaError),
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
    /// The conversation's messaging window does not allow this send, so it was not sent: more
    /// than 24 hours since the customer last wrote and the request does not say a human wrote
    /// it (`human_agent`), or more than 7 days. Refused before calling Meta, which would
    /// refuse it too (code 10, subcode 2018278).
    #[error("{}", .0.message())]
    OutsideMessagingWindow(WindowRefusal),
    /// Meta accepted the message (it has this id) but the store could not record it. Do not
    /// send it again: the echo webhook Meta sends for it stores it when it arrives.
    /// ([`Inbox::send`](super::Inbox::send) answers this; `POST /messages` answers 201 with
    /// `"stored": false` instead.)
    #[error("the message was sent (Meta's id {message_id}) but the store could not record it yet")]
    SentNotStored {
        /// The id Meta answered.
        message_id: MessageId,
        /// Why the store failed.
        #[source]
        source: StoreError,
    },
    /// A request with this idempotency key is still running (or stopped before it finished:
    /// see [`Inbox::send_idempotent`](super::Inbox::send_idempotent)).
    #[error("a request with this idempotency key is still in flight")]
    IdempotencyKeyInFlight {
        /// When the first request claimed the key, in ms since the epoch.
        claimed_at_ms: i64,
    },
    /// This idempotency key was used with another request body.
    #[error("this idempotency key was already used with another request")]
    IdempotencyKeyReused,
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

/// The reason of an [`InboxError::AccountCannotSend`] whose stored token does not open (the log
/// has the cause: a key missing from `META_TOKEN_KEY`, or a value sealed for another account).
pub(crate) const TOKEN_DOES_NOT_OPEN: &str =
    "its stored token does not open with the configured token keys (META_TOKEN_KEY)";

/// What to do about a stored token that does not open.
const TOKEN_KEY_FIX: &str = "Set META_TOKEN_KEY to the key the token was sealed with (the current key first, older ones after it; the log names the key id), or reconnect the account through the OAuth flow.";

impl InboxError {
    /// A stable snake_case name for the error (a Graph error's [`ErrorKind`](crate::graph::ErrorKind) name for Graph
    /// errors).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Webhook(WebhookError::MissingSignature) => "missing_signature",
            Self::Webhook(e) if e.is_signature() => "invalid_signature",
            Self::Webhook(e) if e.is_handshake() => "handshake_refused",
            Self::Webhook(_) => "malformed_delivery",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::UploadTooLarge { .. } => "upload_too_large",
            Self::BodyTimeout { .. } => "body_timeout",
            Self::BodyIncomplete => "body_incomplete",
            Self::Store(StoreError::NotFound { .. }) => "not_found",
            Self::Store(StoreError::InvalidCursor { .. }) => "invalid_cursor",
            Self::Store(StoreError::InvalidInput { .. }) | Self::InvalidRequest(_) => {
                "invalid_request"
            }
            Self::Store(StoreError::Token(_)) => "token_unreadable",
            Self::Store(_) => "store_unavailable",
            Self::Graph(e) => e.kind().as_str(),
            Self::Media(_) => "media_unavailable",
            Self::AccountNotFound { .. } => "account_not_found",
            Self::AccountCannotSend { .. } => "account_cannot_send",
            Self::OutsideMessagingWindow(_) => "outside_messaging_window",
            Self::SentNotStored { .. } => "sent_not_stored",
            Self::IdempotencyKeyInFlight { .. } => "idempotency_key_in_flight",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
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
            Self::UploadTooLarge { limit } => format!(
                "Send a file of at most {limit} bytes (compress, resize or shorten it), or a link to it as text; \
                 the server's operator can raise InboxBuilder::max_upload_bytes up to Meta's 25 MB."
            ),
            Self::BodyTimeout { .. } => {
                "Send the whole body promptly; raise InboxBuilder::body_timeout for slow clients.".to_owned()
            }
            Self::BodyIncomplete => "Send the request again; Meta redelivers webhooks by itself.".to_owned(),
            Self::Store(StoreError::NotFound { .. }) => "Check the id: it must belong to this tenant.".to_owned(),
            Self::Store(StoreError::InvalidCursor { .. }) => {
                "Pass back the next_cursor of the previous page unchanged, with the same filters.".to_owned()
            }
            Self::Store(StoreError::InvalidInput { .. }) | Self::InvalidRequest(_) => {
                "Correct the request as the message says.".to_owned()
            }
            Self::Store(StoreError::Token(_)) => TOKEN_KEY_FIX.to_owned(),
            Self::Store(_) => "The database failed; Meta redelivers webhooks answered with an error, so nothing is lost. \
                 Check the database's logs and connectivity."
                .to_owned(),
            Self::Graph(e) => e.fix().to_owned(),
            Self::Media(_) => "The media store failed; check that its directory exists and is readable by this process.".to_owned(),
            Self::AccountNotFound { .. } => {
                "Connect the account first (GET /oauth/start), or check the platform and account_id.".to_owned()
            }
            Self::AccountCannotSend { reason, .. } if *reason == TOKEN_DOES_NOT_OPEN => {
                TOKEN_KEY_FIX.to_owned()
            }
            Self::AccountCannotSend { .. } => {
                "Reconnect the account through the OAuth flow so the inbox stores its Page token.".to_owned()
            }
            Self::OutsideMessagingWindow(refusal) => refusal.fix(),
            Self::SentNotStored { .. } => "Do not send the message again: Meta has it, and its echo webhook stores it. \
                 Check the database's logs and connectivity."
                .to_owned(),
            Self::IdempotencyKeyInFlight { .. } => "Retry with the same key after the Retry-After delay: the first request's answer \
                 is replayed once it is known. If it stays in flight (the server stopped mid-send), check the conversation \
                 before sending again with a new key."
                .to_owned(),
            Self::IdempotencyKeyReused => "Use a new Idempotency-Key for each new message; send the same body to retry one."
                .to_owned(),
            Self::OAuthNotConfigured => {
                "Give the inbox the app id and callback URL with InboxBuilder::oauth(OAuthSettings::new(..)).".to_owned()
            }
            Self::OAuthState(_) => "Start again from /oauth/start in the same browser and finish within 10 minutes.".to_owned(),
            Self::OAuthDenied { .. } => {
                "Start again and accept every permission asked for: messaging needs all of them.".to_owned()
            }
        }
    }
}
