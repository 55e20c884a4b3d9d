//! Meta's error answers, and the emulator's own errors.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rand::Rng;
use serde_json::{Value, json};

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address asked for.
        addr: std::net::SocketAddr,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The HTTP client that delivers webhooks could not be built.
    #[error("cannot build the webhook HTTP client")]
    HttpClient(#[source] reqwest::Error),
    /// The TLS of the HTTP client that delivers webhooks could not be set up (no CA certificate
    /// found on the system).
    #[error("cannot set up TLS for the webhook HTTP client")]
    HttpTls(#[source] meta_messaging_core::graph::GraphError),
}

/// A Graph API error as Meta answers it: an HTTP status and the `{"error": {...}}` body.
#[derive(Debug, Clone)]
pub(crate) struct GraphFailure {
    status: StatusCode,
    message: String,
    kind: &'static str,
    code: u32,
    subcode: Option<u32>,
    transient: bool,
}

impl GraphFailure {
    fn new(
        status: StatusCode,
        code: u32,
        subcode: Option<u32>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            message: message.into(),
            kind: "OAuthException",
            code,
            subcode,
            transient: false,
        }
    }

    /// 190, no subcode: a token Meta cannot parse or does not know.
    pub(crate) fn token_invalid() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            190,
            None,
            "Invalid OAuth access token - Cannot parse access token",
        )
    }

    /// 190 / 463: an expired token.
    pub(crate) fn token_expired() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            190,
            Some(463),
            "Error validating access token: Session has expired.",
        )
    }

    /// 104: the request carries no token at all.
    pub(crate) fn token_missing() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            104,
            None,
            "An access token is required to request this resource.",
        )
    }

    /// 3: the app lacks the capability (on Instagram: `instagram_manage_messages`).
    pub(crate) fn capability_missing() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            3,
            None,
            "(#3) Application does not have the capability to make this API call.",
        )
    }

    /// 10: the Instagram account's "Allow access to messages" is off. Meta documents the
    /// setting as required but not the exact error; the emulator answers a permission error.
    pub(crate) fn instagram_messages_off() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            10,
            None,
            "(#10) The Instagram account does not allow access to its messages (Allow access to messages is off)",
        )
    }

    /// 230: the Page token lacks `pages_messaging`.
    pub(crate) fn pages_messaging_missing() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            230,
            None,
            "(#230) Requires pages_messaging permission to manage the object",
        )
    }

    /// 100 / 2018001: the recipient is unknown to this Page or never wrote to it.
    pub(crate) fn no_matching_user() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            100,
            Some(2_018_001),
            "(#100) No matching user found",
        )
    }

    /// 10 / 2018278: outside the messaging window.
    pub(crate) fn outside_window() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            10,
            Some(2_018_278),
            "(#10) This message is sent outside of allowed window. Learn more about the new policy here: https://developers.facebook.com/docs/messenger-platform/policy-overview",
        )
    }

    /// 10900: a second private reply to the same comment (the Send API's answer on both
    /// platforms).
    pub(crate) fn already_replied() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            10_900,
            None,
            "(#10900) Activity already replied to",
        )
    }

    /// 10903: a private reply to a comment that cannot take one (older than 7 days, deleted,
    /// or written by the account itself).
    pub(crate) fn not_repliable() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            10_903,
            None,
            "(#10903) This activity can't be replied to",
        )
    }

    /// 10: a pass by an app that does not own the thread.
    pub(crate) fn not_thread_owner() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            10,
            None,
            "(#10) This app is not the thread owner and cannot pass thread control",
        )
    }

    /// 613: too many calls.
    pub(crate) fn rate_limited() -> Self {
        let mut failure = Self::new(
            StatusCode::BAD_REQUEST,
            613,
            None,
            "(#613) Calls to this api have exceeded the rate limit.",
        );
        failure.transient = true;
        failure
    }

    /// 1: a wrong app secret in the OAuth token exchange (Meta answers code 1 here).
    pub(crate) fn invalid_client_secret() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            1,
            None,
            "Error validating client secret.",
        )
    }

    /// 100 / 36009: an authorization code that was used already or never issued.
    pub(crate) fn code_used_or_invalid() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            100,
            Some(36_009),
            "This authorization code has been used.",
        )
    }

    /// 100 / 36008: the redirect URI differs from the dialog's.
    pub(crate) fn redirect_uri_mismatch() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            100,
            Some(36_008),
            "Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request",
        )
    }

    /// 100, no subcode: "Require App Secret" is on and the call carries no `appsecret_proof`.
    pub(crate) fn appsecret_proof_missing() -> Self {
        let mut failure = Self::new(
            StatusCode::BAD_REQUEST,
            100,
            None,
            "API calls from the server require an appsecret_proof argument",
        );
        failure.kind = "GraphMethodException";
        failure
    }

    /// 100, no subcode: the `appsecret_proof` is not the HMAC of the token with the app secret.
    pub(crate) fn appsecret_proof_invalid() -> Self {
        let mut failure = Self::new(
            StatusCode::BAD_REQUEST,
            100,
            None,
            "Invalid appsecret_proof provided in the API argument",
        );
        failure.kind = "GraphMethodException";
        failure
    }

    /// 100: an invalid or missing parameter.
    pub(crate) fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, 100, None, message)
    }

    /// 100 / 33: the object does not exist or this token cannot see it.
    pub(crate) fn object_not_found(id: &str, method: &str) -> Self {
        let mut failure = Self::new(
            StatusCode::BAD_REQUEST,
            100,
            Some(33),
            format!(
                "Unsupported {method} request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api"
            ),
        );
        failure.kind = "GraphMethodException";
        failure
    }

    /// Meta's `message`.
    pub(crate) fn message(&self) -> &str {
        &self.message
    }

    /// The `{"error": {...}}` body.
    pub(crate) fn body(&self) -> Value {
        let mut error = json!({
            "message": self.message,
            "type": self.kind,
            "code": self.code,
            "fbtrace_id": fbtrace_id(),
        });
        if let Some(subcode) = self.subcode {
            error["error_subcode"] = json!(subcode);
        }
        if self.transient {
            error["is_transient"] = json!(true);
        }
        json!({ "error": error })
    }
}

impl IntoResponse for GraphFailure {
    fn into_response(self) -> Response {
        (self.status, Json(self.body())).into_response()
    }
}

/// A random trace id in Meta's style (`A` followed by 22 base64-like characters).
fn fbtrace_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    let tail: String = (0..22)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    format!("A{tail}")
}
