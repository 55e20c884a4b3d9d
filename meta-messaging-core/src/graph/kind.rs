//! What kind of failure an error is, decided from Meta's numbers and, where they are
//! ambiguous, its text (see [`catalog::lookup_error`](super::catalog::lookup_error)).

use std::fmt;

use serde::Serialize;

/// The kind of a Graph API failure: what went wrong, in terms a caller can act on.
///
/// Meta's errors are classified by their numeric `code` and `error_subcode` first; where Meta
/// gives no subcode, or one with no entry of its own, phrases of its English text decide
/// (a message sent outside the window under code 10, a blocked recipient under code 200, most
/// token errors under code 190): the order is the catalog's, documented at
/// [`catalog::lookup_error`](super::catalog::lookup_error). Failures that never reached Meta
/// have their own kinds ([`Network`](Self::Network), [`InvalidRequest`](Self::InvalidRequest),
/// ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// The token lacks a permission the call needs (codes 10, 200-299).
    PermissionMissing,
    /// The app lacks the capability (product or Advanced Access) for this call (code 3).
    AppCapabilityMissing,
    /// The access token is malformed or not valid (code 190).
    TokenInvalid,
    /// The access token has expired (190 / 463).
    TokenExpired,
    /// The token was revoked: the app was removed or the user logged out (190 / 458, 467, 492).
    TokenRevoked,
    /// The token was invalidated because the user changed their password (190 / 460).
    PasswordChanged,
    /// The user behind the token must sign in to Facebook and clear a checkpoint (190 / 459, 464).
    AccountRestricted,
    /// The recipient cannot be found from this account (100 / 2018001, Instagram 100 / 2534014).
    UserNotFound,
    /// The recipient exists but cannot receive messages from you right now (551).
    UserUnavailable,
    /// The message falls outside the allowed messaging window (10 / 2018278, 2534022, ...).
    OutsideMessagingWindow,
    /// The comment or post already got its one private reply (10900): Meta allows one.
    AlreadyReplied,
    /// The comment's author cannot get a private reply (10903): the comment is more than
    /// 7 days old, or its author blocked the account or cannot be messaged.
    ReplyNotAllowed,
    /// A rate limit was hit (codes 4, 17, 32, 341, 613, 80006 and similar).
    RateLimited,
    /// A parameter of the request is invalid (code 100 and its subcodes).
    ParameterInvalid,
    /// The app has "Require App Secret" on and the call carried no `appsecret_proof`, or one
    /// made with another secret (code 100 naming `appsecret_proof`): give the client the app
    /// secret of the app that issued the token.
    AppSecretProofInvalid,
    /// The object does not exist, or this token cannot see it (100 / 33, 803).
    ObjectNotFound,
    /// Meta could not fetch, read or accept an attachment (100 / 2018047, 2018109).
    AttachmentRejected,
    /// The account or the content is blocked for policy reasons (368).
    PolicyBlocked,
    /// A one-time setup step on the Page or account is not done (2 / 2018344: terms not accepted).
    AccountSetupIncomplete,
    /// Meta failed temporarily (codes 1, 2, 1200 and HTTP 5xx): retry later.
    TemporarilyUnavailable,
    /// Meta answered with an error this crate does not classify.
    Unknown,
    /// The request never got an answer from Meta (connection refused, DNS, TLS, reset).
    Network,
    /// The request timed out.
    Timeout,
    /// The request was refused by this crate before it was sent (a text too long, ...).
    InvalidRequest,
    /// An uploaded file is larger than the platform takes for its kind (checked before the
    /// upload, so nothing was sent).
    AttachmentTooLarge,
    /// An uploaded file's media type is not one the platform takes for its kind (checked
    /// before the upload, so nothing was sent).
    AttachmentTypeNotAllowed,
    /// Meta (or a proxy in between) answered with something that is not the expected JSON.
    UnexpectedResponse,
    /// The client was configured wrongly (a base URL that does not parse, ...).
    Configuration,
}

impl ErrorKind {
    /// A stable snake_case name, as used in JSON output and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PermissionMissing => "permission_missing",
            Self::AppCapabilityMissing => "app_capability_missing",
            Self::TokenInvalid => "token_invalid",
            Self::TokenExpired => "token_expired",
            Self::TokenRevoked => "token_revoked",
            Self::PasswordChanged => "password_changed",
            Self::AccountRestricted => "account_restricted",
            Self::UserNotFound => "user_not_found",
            Self::UserUnavailable => "user_unavailable",
            Self::OutsideMessagingWindow => "outside_messaging_window",
            Self::AlreadyReplied => "already_replied",
            Self::ReplyNotAllowed => "reply_not_allowed",
            Self::RateLimited => "rate_limited",
            Self::ParameterInvalid => "parameter_invalid",
            Self::AppSecretProofInvalid => "app_secret_proof_invalid",
            Self::ObjectNotFound => "object_not_found",
            Self::AttachmentRejected => "attachment_rejected",
            Self::PolicyBlocked => "policy_blocked",
            Self::AccountSetupIncomplete => "account_setup_incomplete",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::Unknown => "unknown",
            Self::Network => "network",
            Self::Timeout => "timeout",
            Self::InvalidRequest => "invalid_request",
            Self::AttachmentTooLarge => "attachment_too_large",
            Self::AttachmentTypeNotAllowed => "attachment_type_not_allowed",
            Self::UnexpectedResponse => "unexpected_response",
            Self::Configuration => "configuration",
        }
    }

    /// The token cannot be used any more: the account must be reconnected (new OAuth).
    pub fn is_auth(self) -> bool {
        matches!(
            self,
            Self::TokenInvalid
                | Self::TokenExpired
                | Self::TokenRevoked
                | Self::PasswordChanged
                | Self::AccountRestricted
        )
    }

    /// The same request may succeed later without any change.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            Self::RateLimited | Self::TemporarilyUnavailable | Self::Network | Self::Timeout
        )
    }

    /// A generic fix for errors of this kind that have no troubleshooting entry of their own.
    pub fn generic_fix(self) -> &'static str {
        match self {
            Self::PermissionMissing => {
                "grant the missing permission: run the OAuth flow again with the scope added, and get it approved in App Review for users without a role on the app"
            }
            Self::AppCapabilityMissing => {
                "add the product and permission to the app and request Advanced Access in App Review; until then only people with a role on the app can be served"
            }
            Self::TokenInvalid
            | Self::TokenExpired
            | Self::TokenRevoked
            | Self::PasswordChanged
            | Self::AccountRestricted => {
                "reconnect the account: run the OAuth flow again and store the new Page token"
            }
            Self::UserNotFound => {
                "check the recipient id belongs to this Page / Instagram account; message only people who wrote to the account first"
            }
            Self::UserUnavailable => {
                "the person blocked the account or cannot receive messages: do not retry, mark the conversation unreachable"
            }
            Self::OutsideMessagingWindow => {
                "reply within 24 hours of the person's last message, or send with messaging_type MESSAGE_TAG and the HUMAN_AGENT tag (7 days, needs approval)"
            }
            Self::AlreadyReplied => {
                "do not retry: the comment's author already got the one private reply Meta allows; continue in the conversation once they answer"
            }
            Self::ReplyNotAllowed => {
                "do not retry: answer the comment in public instead, or wait for the person to message the account"
            }
            Self::RateLimited => {
                "slow down: back off and spread sends over time; watch the X-App-Usage / X-Page-Usage / X-Business-Use-Case-Usage headers"
            }
            Self::ParameterInvalid => {
                "correct the parameter Meta's message names and send again; nothing was sent"
            }
            Self::AppSecretProofInvalid => {
                "give the Graph client the secret of the app that issued the token (GraphClientBuilder::app_secret; an Inbox uses its first app secret)"
            }
            Self::ObjectNotFound => {
                "check the id, and that the token belongs to the Page that owns the object"
            }
            Self::AttachmentRejected => {
                "serve the file over public HTTPS with the right Content-Type and within Meta's size limits, or upload it with message_attachments and send the attachment_id"
            }
            Self::PolicyBlocked => {
                "review Meta's messaging policies in the Page's Support Inbox; the block lifts after a while"
            }
            Self::AccountSetupIncomplete => {
                "a Page admin must complete the setup step named in Meta's message"
            }
            Self::TemporarilyUnavailable | Self::Unknown => {
                "retry later with backoff; if it persists, check https://metastatus.com and quote the fbtrace_id to Meta support"
            }
            Self::Network => {
                "check the network path to graph.facebook.com (DNS, proxy, firewall, TLS)"
            }
            Self::Timeout => {
                "raise the client's timeout or retry later; a timed-out send may have been delivered"
            }
            Self::InvalidRequest => "fix the request as the message says; nothing was sent",
            Self::AttachmentTooLarge => {
                "make the file smaller than the limit in the message (compress, resize or shorten it), or send a link to it as text; nothing was sent"
            }
            Self::AttachmentTypeNotAllowed => {
                "convert the file to one of the types the message lists, or send a link to it as text; nothing was sent"
            }
            Self::UnexpectedResponse => {
                "a proxy or Meta answered with something unexpected; retry later, and check the base URL"
            }
            Self::Configuration => "fix the client's configuration as the message says",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Classifies a Meta error by numeric code and subcode when no catalog entry matches exactly.
pub(crate) fn classify_by_code(code: i64, subcode: Option<i64>) -> ErrorKind {
    match (code, subcode) {
        (190, Some(463)) => ErrorKind::TokenExpired,
        (190, Some(460)) => ErrorKind::PasswordChanged,
        (190, Some(458 | 467 | 492)) => ErrorKind::TokenRevoked,
        (190, Some(459 | 464)) => ErrorKind::AccountRestricted,
        (102 | 190, _) => ErrorKind::TokenInvalid,
        (10, Some(2018278 | 2018065 | 2018108 | 2534022)) => ErrorKind::OutsideMessagingWindow,
        (100, Some(2018001 | 2534014)) => ErrorKind::UserNotFound,
        (100, Some(2018047 | 2018109)) => ErrorKind::AttachmentRejected,
        (100, Some(33)) | (803, _) => ErrorKind::ObjectNotFound,
        (1, Some(99)) | (3, _) => ErrorKind::AppCapabilityMissing,
        (2, Some(2018344)) => ErrorKind::AccountSetupIncomplete,
        (1 | 2 | 1200, _) => ErrorKind::TemporarilyUnavailable,
        (4 | 17 | 32 | 341 | 613 | 80001..=80009, _) => ErrorKind::RateLimited,
        (551, _) => ErrorKind::UserUnavailable,
        (10900, _) => ErrorKind::AlreadyReplied,
        (10903, _) => ErrorKind::ReplyNotAllowed,
        (368, _) => ErrorKind::PolicyBlocked,
        (10 | 200..=299, _) => ErrorKind::PermissionMissing,
        (100 | 105 | 194, _) => ErrorKind::ParameterInvalid,
        _ => ErrorKind::Unknown,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn classification_prefers_the_subcode() {
        assert_eq!(classify_by_code(190, Some(463)), ErrorKind::TokenExpired);
        assert_eq!(classify_by_code(190, None), ErrorKind::TokenInvalid);
        assert_eq!(
            classify_by_code(10, Some(2018278)),
            ErrorKind::OutsideMessagingWindow
        );
        assert_eq!(classify_by_code(10, None), ErrorKind::PermissionMissing);
        assert_eq!(classify_by_code(230, None), ErrorKind::PermissionMissing);
        assert_eq!(classify_by_code(80006, None), ErrorKind::RateLimited);
        assert_eq!(classify_by_code(10900, None), ErrorKind::AlreadyReplied);
        assert_eq!(classify_by_code(10903, None), ErrorKind::ReplyNotAllowed);
        assert_eq!(classify_by_code(987654, None), ErrorKind::Unknown);
    }

    #[test]
    fn names_are_snake_case_and_match_serde() {
        for kind in [
            ErrorKind::OutsideMessagingWindow,
            ErrorKind::TokenExpired,
            ErrorKind::Network,
        ] {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
    }
}
