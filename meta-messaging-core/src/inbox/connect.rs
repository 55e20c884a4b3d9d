//! Connecting Pages and Instagram accounts: Meta's OAuth flow, ending with each Page subscribed
//! to the app's webhooks and stored with its token.

use std::time::{SystemTime, UNIX_EPOCH};

use futures_util::TryStreamExt;
use rand::Rng;
use serde::Serialize;
use subtle::ConstantTimeEq;

use super::Inbox;
use super::error::InboxError;
use crate::graph::{
    InstagramBusinessAccount, MESSAGING_SCOPES, MESSENGER_WEBHOOK_FIELDS, ManagedPage, OAuthState,
};
use crate::ids::{AppId, TenantId};
use crate::platform::Platform;
use crate::secret::{AppSecret, PageAccessToken, hmac_sha256};
use crate::store::{Account, AccountToken, NewAccount};

/// The cookie that carries the OAuth `state` between `/oauth/start` and `/oauth/callback`.
pub const STATE_COOKIE: &str = "mm_oauth_state";

/// How long a connect attempt may take between start and callback.
const STATE_TTL_SECS: u64 = 600;

/// The settings of the connect flow (`GET /oauth/start`, `GET /oauth/callback`).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct OAuthSettings {
    /// The Meta app id.
    pub app_id: AppId,
    /// The absolute URL of the callback route, exactly as registered in the app's "Valid OAuth
    /// Redirect URIs" (e.g. `https://example.com/api/meta/oauth/callback`).
    pub redirect_uri: String,
    /// The permissions asked for (default: [`MESSAGING_SCOPES`]).
    pub scopes: Vec<String>,
    /// Where to send the browser after a successful connection (with `?connected=N`); without
    /// it the callback answers the connected accounts as JSON.
    pub success_redirect: Option<String>,
}

impl OAuthSettings {
    /// Settings with the default scopes and a JSON answer on success.
    pub fn new(app_id: impl Into<AppId>, redirect_uri: impl Into<String>) -> Self {
        Self {
            app_id: app_id.into(),
            redirect_uri: redirect_uri.into(),
            scopes: MESSAGING_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
            success_redirect: None,
        }
    }

    /// Sends the browser to `url` after a successful connection.
    #[must_use]
    pub fn success_redirect(mut self, url: impl Into<String>) -> Self {
        self.success_redirect = Some(url.into());
        self
    }
}

/// Where to send the browser to start connecting, and the `state` to keep in [`STATE_COOKIE`].
///
/// Its `Debug` hides the state, in the field and in the URL: whoever holds it can finish a
/// connect flow in this browser's name.
#[derive(Clone)]
#[non_exhaustive]
pub struct ConnectStart {
    /// Meta's Login dialog URL.
    pub authorize_url: String,
    /// The signed state: set it as the value of [`STATE_COOKIE`].
    pub state: String,
}

impl std::fmt::Debug for ConnectStart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectStart")
            .field(
                "authorize_url",
                &crate::store::redacted_url(&self.authorize_url),
            )
            .field("state", &"[REDACTED]")
            .finish()
    }
}

/// The accounts a finished connect flow stored.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[non_exhaustive]
pub struct Connected {
    /// The tenant they were connected for.
    pub tenant_id: TenantId,
    /// Each Page and each Instagram account linked to one, as stored (tokens are never
    /// serialized).
    pub data: Vec<Account>,
}

impl Inbox {
    /// Starts connecting accounts for `tenant`: the Login dialog URL and the signed state that
    /// the callback checks (against the same value in a cookie, so that a callback can only
    /// finish a flow this browser started).
    ///
    /// # Errors
    /// [`InboxError::OAuthNotConfigured`]; [`InboxError::Graph`] when the redirect URI is not an
    /// absolute URL.
    pub fn start_connect(&self, tenant: &TenantId) -> Result<ConnectStart, InboxError> {
        let settings = self.oauth_settings()?;
        let state = sign_state(self.state_secret(), tenant, now_secs() + STATE_TTL_SECS);
        let scopes: Vec<&str> = settings.scopes.iter().map(String::as_str).collect();
        let authorize_url = self
            .graph()
            .oauth(settings.app_id.clone(), self.state_secret().clone())
            .authorize_url(
                &settings.redirect_uri,
                &scopes,
                &OAuthState::from_stored(state.clone()),
            )?;
        Ok(ConnectStart {
            authorize_url,
            state,
        })
    }

    /// Finishes connecting from the callback's raw query string and the state cookie's value:
    /// checks the state (before anything else, a reported refusal included), exchanges the code for a long-lived user token, reads the user's Pages
    /// with their tokens and linked Instagram accounts, subscribes each Page to the app's
    /// webhooks, and stores every account for the tenant named in the state.
    ///
    /// # Errors
    /// [`InboxError::OAuthNotConfigured`], [`InboxError::OAuthState`] (missing, forged, expired
    /// or not this browser's), [`InboxError::OAuthDenied`] (the person cancelled),
    /// [`InboxError::Graph`] with Meta's error and its fix, [`InboxError::Store`].
    pub async fn finish_connect(
        &self,
        query: &str,
        cookie_state: Option<&str>,
    ) -> Result<Connected, InboxError> {
        let settings = self.oauth_settings()?;
        let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let (tenant, code) = self.verify_callback(&params, cookie_state)?;
        let pages = self.managed_pages(settings, code).await?;
        let mut data = Vec::new();
        for page in pages {
            self.connect_page(&tenant, page, &mut data).await?;
        }
        Ok(Connected {
            tenant_id: tenant,
            data,
        })
    }

    /// The tenant named in the callback's state and the authorization code, once the state is
    /// known to be ours and this browser's.
    fn verify_callback<'q>(
        &self,
        params: &'q [(String, String)],
        cookie_state: Option<&str>,
    ) -> Result<(TenantId, &'q str), InboxError> {
        let param = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        // The state first, even when Meta reports a refusal: a forged callback carrying
        // `error=` must be refused as forged, not reported as the person's decision.
        let state = param("state").ok_or(InboxError::OAuthState("the callback has no state"))?;
        let cookie = cookie_state.ok_or(InboxError::OAuthState(
            "the state cookie is missing: finish the flow in the browser that started it, within 10 minutes",
        ))?;
        if !bool::from(state.as_bytes().ct_eq(cookie.as_bytes())) {
            return Err(InboxError::OAuthState(
                "the state does not match this browser's cookie",
            ));
        }
        let tenant = verify_state(self.state_secret(), state, now_secs())?;
        if let Some(error) = param("error") {
            return Err(InboxError::OAuthDenied {
                reason: param("error_reason").unwrap_or(error).to_owned(),
            });
        }
        let code = param("code").ok_or(InboxError::OAuthState("the callback has no code"))?;
        Ok((tenant, code))
    }

    /// The person's Pages with their tokens, read with the long-lived user token `code` buys.
    async fn managed_pages(
        &self,
        settings: &OAuthSettings,
        code: &str,
    ) -> Result<Vec<ManagedPage>, InboxError> {
        let oauth = self
            .graph()
            .oauth(settings.app_id.clone(), self.state_secret().clone());
        let short = oauth.exchange_code(code, &settings.redirect_uri).await?;
        let long = oauth.long_lived(&short.access_token).await?;
        let pages = self
            .graph()
            .user(long.access_token)
            .accounts()
            .stream()
            .try_collect()
            .await?;
        Ok(pages)
    }

    /// Subscribes `page` to the app's webhooks, then stores it and its linked Instagram account
    /// for `tenant`, adding them to `connected`. A Page listed without a token is skipped.
    async fn connect_page(
        &self,
        tenant: &TenantId,
        page: ManagedPage,
        connected: &mut Vec<Account>,
    ) -> Result<(), InboxError> {
        let Some(token) = page.access_token.clone() else {
            tracing::warn!(page_id = %page.id, "page listed without a token: the person lacks a task on it");
            return Ok(());
        };
        self.graph()
            .messenger(page.id.clone(), token.clone())
            .subscribe_app(MESSENGER_WEBHOOK_FIELDS)
            .await?;
        let store = self.store();
        let messenger = messenger_account(&page, token.clone());
        let mut accounts = vec![store.upsert_account(tenant, &messenger).await?];
        if let Some(ig) = &page.instagram_business_account {
            let instagram = instagram_account(&page, ig, token);
            accounts.push(store.upsert_account(tenant, &instagram).await?);
        }
        for account in &accounts {
            let replayed = self
                .replay_unrouted(tenant, account.platform, &account.account_id)
                .await?;
            if replayed.inserted + replayed.updated + replayed.raw_kept > 0 {
                tracing::info!(%tenant, platform = %account.platform, account_id = %account.account_id, inserted = replayed.inserted, "replayed the events the account received before it was connected");
            }
        }
        self.backfill_connected(tenant, &accounts).await;
        connected.extend(accounts);
        Ok(())
    }

    /// The connect flow's settings, when configured.
    pub fn oauth(&self) -> Option<&OAuthSettings> {
        self.inner.oauth.as_ref()
    }

    fn oauth_settings(&self) -> Result<&OAuthSettings, InboxError> {
        self.oauth().ok_or(InboxError::OAuthNotConfigured)
    }

    fn state_secret(&self) -> &AppSecret {
        &self.inner.verifier.secrets()[0]
    }
}

/// The Messenger account of a connected Page.
fn messenger_account(page: &ManagedPage, token: PageAccessToken) -> NewAccount {
    let account = NewAccount::new(Platform::Messenger, page.id.clone())
        .with_token(AccountToken::Page(token), None);
    match &page.name {
        Some(name) => account.with_name(name.clone()),
        None => account,
    }
}

/// The Instagram account linked to a connected Page, which messages with the Page's token.
fn instagram_account(
    page: &ManagedPage,
    ig: &InstagramBusinessAccount,
    token: PageAccessToken,
) -> NewAccount {
    let mut account = NewAccount::new(Platform::Instagram, ig.id.clone())
        .with_linked_page(page.id.clone())
        .with_token(AccountToken::Page(token), None);
    if let Some(username) = &ig.username {
        account = account.with_username(username.clone());
    }
    if let Some(name) = &ig.name {
        account = account.with_name(name.clone());
    }
    account
}

/// `<hex tenant>.<nonce>.<expiry>.<hex mac>`: the tenant travels inside the state, so the
/// callback (a redirect from Meta, which may arrive without the host's session) knows it, and
/// the MAC stops anyone from choosing it.
fn sign_state(secret: &AppSecret, tenant: &TenantId, expires: u64) -> String {
    let nonce: u64 = rand::rng().random();
    let payload = format!("{}.{nonce:016x}.{expires}", hex::encode(tenant.as_str()));
    format!("{payload}.{}", hex::encode(state_mac(secret, &payload)))
}

fn verify_state(secret: &AppSecret, state: &str, now: u64) -> Result<TenantId, InboxError> {
    let forged = InboxError::OAuthState("the state was not issued by this inbox");
    let (payload, mac) = state
        .rsplit_once('.')
        .ok_or(InboxError::OAuthState("the state is malformed"))?;
    let mac = hex::decode(mac).map_err(|_| InboxError::OAuthState("the state is malformed"))?;
    if !bool::from(state_mac(secret, payload).as_slice().ct_eq(&mac)) {
        return Err(forged);
    }
    let mut parts = payload.split('.');
    let (Some(tenant), Some(_nonce), Some(expires), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(forged);
    };
    let expires: u64 = expires
        .parse()
        .map_err(|_| InboxError::OAuthState("the state is malformed"))?;
    if now > expires {
        return Err(InboxError::OAuthState(
            "the connect attempt expired: start again",
        ));
    }
    let tenant = hex::decode(tenant)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or(InboxError::OAuthState("the state is malformed"))?;
    Ok(TenantId::new(tenant))
}

fn state_mac(secret: &AppSecret, payload: &str) -> Vec<u8> {
    // A key of its own, derived from the app secret, so a state MAC can never double as a
    // webhook signature.
    let key = hmac_sha256(secret.expose().as_bytes(), b"meta-messaging oauth state v1");
    hmac_sha256(&key, payload.as_bytes()).to_vec()
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_start_debug_hides_the_state() {
        let state = sign_state(&AppSecret::new("app-secret"), &TenantId::new("shop"), 1);
        let start = ConnectStart {
            authorize_url: format!(
                "https://www.facebook.com/v23.0/dialog/oauth?client_id=1&state={state}"
            ),
            state: state.clone(),
        };
        let shown = format!("{start:?}");
        assert!(!shown.contains(&state), "{shown}");
        assert!(shown.contains("client_id=1&state=REDACTED"), "{shown}");
        assert!(shown.contains("state: \"[REDACTED]\""), "{shown}");
    }

    #[test]
    fn state_round_trips_and_refuses_tampering() {
        let secret = AppSecret::new("s");
        let tenant = TenantId::new("acme.eu/1");
        let state = sign_state(&secret, &tenant, 1_000);
        assert_eq!(verify_state(&secret, &state, 999).unwrap(), tenant);
        assert!(
            verify_state(&secret, &state, 1_001)
                .unwrap_err()
                .to_string()
                .contains("expired")
        );
        assert!(verify_state(&AppSecret::new("other"), &state, 999).is_err());
        let other_tenant = format!(
            "{}{}",
            hex::encode("evil"),
            &state[state.find('.').unwrap()..]
        );
        assert!(verify_state(&secret, &other_tenant, 999).is_err());
        assert!(verify_state(&secret, "garbage", 0).is_err());
        assert_ne!(
            sign_state(&secret, &tenant, 1_000),
            state,
            "each state has its own nonce"
        );
    }
}
