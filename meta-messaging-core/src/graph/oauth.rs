//! Facebook Login for business accounts: authorize URL, code exchange, long-lived tokens.

use std::fmt;

use rand::RngCore;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::ids::AppId;
use crate::secret::{AppAccessToken, AppSecret, UserAccessToken};

use super::client::GraphClient;
use super::error::{GraphError, InvalidRequest, Result};
use super::request::Call;
use super::token::{Credential, Host};

/// The OAuth flow of one Meta app: from the login dialog to long-lived tokens.
///
/// ```
/// use meta_messaging_core::graph::{GraphClient, OAuthState, MESSAGING_SCOPES};
/// use meta_messaging_core::ids::AppId;
/// use meta_messaging_core::secret::AppSecret;
///
/// let client = GraphClient::new()?;
/// let oauth = client.oauth(AppId::from("1234567890"), AppSecret::new("app-secret"));
/// let state = OAuthState::generate(); // keep it in the user's session
/// let url = oauth.authorize_url("https://example.com/oauth/callback", MESSAGING_SCOPES, &state)?;
/// assert!(url.starts_with("https://www.facebook.com/v23.0/dialog/oauth?client_id=1234567890"));
/// // On the callback: check the returned state first.
/// assert!(state.verify(state.as_str()));
/// # Ok::<(), meta_messaging_core::graph::GraphError>(())
/// ```
#[derive(Debug, Clone)]
pub struct OAuth {
    client: GraphClient,
    app_id: AppId,
    app_secret: AppSecret,
}

impl GraphClient {
    /// The OAuth flow of the app `app_id`.
    pub fn oauth(&self, app_id: AppId, app_secret: AppSecret) -> OAuth {
        OAuth {
            client: self.clone(),
            app_id,
            app_secret,
        }
    }
}

/// A random `state` for the login dialog: store it with the user's session and
/// [`verify`](Self::verify) the one the callback returns, to refuse forged callbacks (CSRF).
#[derive(Clone, PartialEq, Eq)]
pub struct OAuthState(String);

impl OAuthState {
    /// 32 random bytes, hex-encoded.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(hex::encode(bytes))
    }

    /// A state you stored yourself.
    pub fn from_stored(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value to store and to put in the authorize URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Compares the callback's `state` with this one, in constant time.
    pub fn verify(&self, returned: &str) -> bool {
        !self.0.is_empty() && bool::from(self.0.as_bytes().ct_eq(returned.as_bytes()))
    }
}

impl fmt::Debug for OAuthState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OAuthState([REDACTED])")
    }
}

/// A user token from the OAuth endpoint.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct UserToken {
    /// The token.
    #[serde(deserialize_with = "super::account_admin::user_token")]
    pub access_token: UserAccessToken,
    /// `bearer`.
    #[serde(default)]
    pub token_type: Option<String>,
    /// Seconds until it expires (about 60 days for long-lived tokens), when Meta says.
    #[serde(default)]
    pub expires_in: Option<u64>,
}

impl OAuth {
    /// The app id.
    pub fn app_id(&self) -> &AppId {
        &self.app_id
    }

    /// The Login dialog URL to send the user to (`response_type=code`).
    ///
    /// # Errors
    /// [`GraphError::InvalidRequest`] when `redirect_uri` is not an absolute URL.
    pub fn authorize_url(
        &self,
        redirect_uri: &str,
        scopes: &[&str],
        state: &OAuthState,
    ) -> Result<String> {
        url::Url::parse(redirect_uri).map_err(|e| {
            InvalidRequest::Other(format!(
                "redirect URI {redirect_uri:?} is not an absolute URL: {e}"
            ))
        })?;
        let inner = &self.client.inner;
        let mut url = url::Url::parse(&format!(
            "{}/{}/dialog/oauth",
            inner.dialog_url, inner.version
        ))
        .map_err(|e| GraphError::config(format!("dialog URL does not parse: {e}")))?;
        url.query_pairs_mut()
            .append_pair("client_id", self.app_id.as_str())
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("state", state.as_str())
            .append_pair("response_type", "code")
            .append_pair("scope", &scopes.join(","));
        Ok(url.into())
    }

    /// Exchanges the callback's `code` for a (short-lived) user token. `redirect_uri` must be
    /// the one of the authorize URL.
    ///
    /// A `POST` with the app secret and the code in an `application/x-www-form-urlencoded`
    /// body, never in the URL (which proxies and access logs keep). A code is good once, so a
    /// failure that may have reached Meta is not retried.
    ///
    /// # Errors
    /// The Graph API's error (an expired or reused code is [`ErrorKind::ParameterInvalid`](super::ErrorKind::ParameterInvalid)).
    pub async fn exchange_code(&self, code: &str, redirect_uri: &str) -> Result<UserToken> {
        let call = Call::post("oauth/access_token")
            .host(Host::Facebook)
            .form("client_id", self.app_id.as_str())
            .form("redirect_uri", redirect_uri)
            .secret_form("client_secret", self.app_secret.expose())
            .secret_form("code", code);
        self.client.execute(call).await
    }

    /// Exchanges a short-lived user token for a long-lived one (about 60 days). Page tokens
    /// read with a long-lived user token do not expire.
    ///
    /// A `POST` with the app secret and the token in a form body, like
    /// [`exchange_code`](Self::exchange_code); repeating it is harmless, so it is retried.
    ///
    /// # Errors
    /// The Graph API's error.
    pub async fn long_lived(&self, token: &UserAccessToken) -> Result<UserToken> {
        let call = Call::post("oauth/access_token")
            .host(Host::Facebook)
            .idempotent()
            .form("grant_type", "fb_exchange_token")
            .form("client_id", self.app_id.as_str())
            .secret_form("client_secret", self.app_secret.expose())
            .secret_form("fb_exchange_token", token.expose());
        self.client.execute(call).await
    }

    /// The app access token `{app-id}|{app-secret}`, for `debug_token`.
    pub fn app_access_token(&self) -> AppAccessToken {
        AppAccessToken::new(format!("{}|{}", self.app_id, self.app_secret.expose()))
    }

    /// Inspects any token with the app's token (validity, expiry, scopes).
    ///
    /// # Errors
    /// The Graph API's error.
    pub async fn debug_token(&self, token: &Credential) -> Result<super::account_admin::TokenInfo> {
        self.client
            .debug_token(token, &Credential::App(self.app_access_token()))
            .await
    }
}
