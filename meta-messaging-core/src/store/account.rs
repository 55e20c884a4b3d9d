//! Connected accounts: [`Account`], [`NewAccount`], their tokens and the [`TokenSealer`] seam.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use super::stored_token::StoredToken;
use crate::ids::{AccountId, PageId, TenantId};
use crate::platform::Platform;
use crate::secret::{InstagramAccessToken, PageAccessToken};

/// The access token an account sends with. Redacted in `Debug`, never serialized.
#[derive(Clone)]
#[non_exhaustive]
pub enum AccountToken {
    /// A Page access token (Messenger, and Instagram through the linked Page).
    Page(PageAccessToken),
    /// An Instagram user token (Instagram API with Instagram Login).
    Instagram(InstagramAccessToken),
}

// How the SQL backends store a token; the in-memory store keeps the value itself.
#[cfg_attr(
    not(any(feature = "sqlite", feature = "postgres")),
    allow(dead_code, reason = "only the SQL backends seal tokens")
)]
impl AccountToken {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            AccountToken::Page(_) => "page",
            AccountToken::Instagram(_) => "instagram",
        }
    }

    pub(crate) fn expose(&self) -> &str {
        match self {
            AccountToken::Page(t) => t.expose(),
            AccountToken::Instagram(t) => t.expose(),
        }
    }

    pub(crate) fn from_kind(kind: &str, value: String) -> Self {
        if kind == "instagram" {
            AccountToken::Instagram(InstagramAccessToken::new(value))
        } else {
            AccountToken::Page(PageAccessToken::new(value))
        }
    }
}

impl fmt::Debug for AccountToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AccountToken::Page(t) => f.debug_tuple("Page").field(t).finish(),
            AccountToken::Instagram(t) => f.debug_tuple("Instagram").field(t).finish(),
        }
    }
}

/// The health of a connected account.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AccountStatus {
    /// Connected and working.
    Active,
    /// The token expired or was invalidated: reconnect through OAuth.
    TokenExpired,
    /// A permission the app needs is missing.
    PermissionMissing,
    /// Disconnected by an operator: events for it are no longer routed to this tenant.
    Disconnected,
    /// Any other status, as stored.
    Other(String),
}

impl AccountStatus {
    /// The name stored in the database and used in JSON.
    pub fn as_str(&self) -> &str {
        match self {
            AccountStatus::Active => "active",
            AccountStatus::TokenExpired => "token_expired",
            AccountStatus::PermissionMissing => "permission_missing",
            AccountStatus::Disconnected => "disconnected",
            AccountStatus::Other(other) => other,
        }
    }
}

impl FromStr for AccountStatus {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "active" => AccountStatus::Active,
            "token_expired" => AccountStatus::TokenExpired,
            "permission_missing" => AccountStatus::PermissionMissing,
            "disconnected" => AccountStatus::Disconnected,
            other => AccountStatus::Other(other.to_owned()),
        })
    }
}

impl Serialize for AccountStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl utoipa::PartialSchema for AccountStatus {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        crate::contract::openapi::string_schema(
            "The health of a connected account; a newer version may add names.",
            &[
                "active",
                "token_expired",
                "permission_missing",
                "disconnected",
            ],
        )
    }
}

impl utoipa::ToSchema for AccountStatus {}

/// A connected Facebook Page or Instagram professional account of one tenant.
///
/// Serializes without its token.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[non_exhaustive]
pub struct Account {
    /// The tenant that connected it.
    pub tenant_id: TenantId,
    /// Messenger (a Page) or Instagram (a professional account).
    pub platform: Platform,
    /// The Page id or Instagram account id: webhook entries name it.
    pub account_id: AccountId,
    /// The Page name or Instagram display name.
    pub name: Option<String>,
    /// The Instagram username.
    pub username: Option<String>,
    /// Instagram: the Page the account is linked to (messages are sent through it).
    pub linked_page_id: Option<PageId>,
    /// The token to send with, still sealed when the store seals tokens: it is opened (and
    /// may fail to, with the wrong keys) only by [`StoredToken::open`], when it is used.
    #[serde(skip)]
    pub token: Option<StoredToken>,
    /// When the token expires, in ms since the epoch (`None`: never, or unknown).
    pub token_expires_at_ms: Option<i64>,
    /// Health of the connection.
    pub status: AccountStatus,
    /// The newest event time the store applied for this account and tenant.
    pub last_event_at_ms: Option<i64>,
    /// When the account was first connected.
    pub created_at_ms: i64,
    /// When it was last changed by [`MessageStore::upsert_account`](super::MessageStore::upsert_account)
    /// or a status change.
    pub updated_at_ms: i64,
}

/// An account to connect or update with
/// [`MessageStore::upsert_account`](super::MessageStore::upsert_account).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct NewAccount {
    /// Messenger or Instagram.
    pub platform: Platform,
    /// The Page id or Instagram account id.
    pub account_id: AccountId,
    /// The Page name or Instagram display name.
    pub name: Option<String>,
    /// The Instagram username.
    pub username: Option<String>,
    /// Instagram: the linked Page.
    pub linked_page_id: Option<PageId>,
    /// The token.
    pub token: Option<AccountToken>,
    /// When the token expires.
    pub token_expires_at_ms: Option<i64>,
    /// The status to store.
    pub status: AccountStatus,
}

impl NewAccount {
    /// An active account with no name and no token; set the rest with the `with_*` methods.
    pub fn new(platform: Platform, account_id: impl Into<AccountId>) -> Self {
        Self {
            platform,
            account_id: account_id.into(),
            name: None,
            username: None,
            linked_page_id: None,
            token: None,
            token_expires_at_ms: None,
            status: AccountStatus::Active,
        }
    }

    /// Sets the display name.
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets the Instagram username.
    #[must_use]
    pub fn with_username(mut self, username: impl Into<String>) -> Self {
        self.username = Some(username.into());
        self
    }

    /// Sets the Page an Instagram account is linked to.
    #[must_use]
    pub fn with_linked_page(mut self, page: impl Into<PageId>) -> Self {
        self.linked_page_id = Some(page.into());
        self
    }

    /// Sets the token and its expiry.
    #[must_use]
    pub fn with_token(mut self, token: AccountToken, expires_at_ms: Option<i64>) -> Self {
        self.token = Some(token);
        self.token_expires_at_ms = expires_at_ms;
        self
    }

    /// Sets the status.
    #[must_use]
    pub fn with_status(mut self, status: AccountStatus) -> Self {
        self.status = status;
        self
    }
}

/// The scheme of tokens stored as they are, by [`PlaintextTokens`].
pub const PLAIN_SCHEME: &str = "plain";

/// Turns account tokens into what the database keeps, and back: the seam for encryption at
/// rest.
///
/// The SQL backends call [`seal`](Self::seal) before writing a token and [`open`](Self::open)
/// when the token is used (see [`StoredToken`]), and store [`scheme`](Self::scheme) next to
/// each sealed value so that a later sealer can still open (or re-seal) tokens written by an
/// earlier one. A token whose stored scheme differs from the sealer's current one is re-sealed
/// when it is opened, and by [`MessageStore::reseal_tokens`](super::MessageStore::reseal_tokens).
///
/// `associated_data` names the account the token belongs to (tenant, platform, account id): an
/// authenticating sealer binds the value to it, so a sealed token copied into another
/// account's row does not open. [`TokenKeyring`](super::TokenKeyring) is the encrypting sealer
/// of this crate; the default, [`PlaintextTokens`], keeps tokens as they are.
pub trait TokenSealer: Send + Sync + fmt::Debug {
    /// A short name stored with every sealed token (`"plain"` for [`PlaintextTokens`]). A
    /// sealer with several keys names the sealing key in it, so that rows sealed under another
    /// key can be found and re-sealed.
    fn scheme(&self) -> &str;

    /// Seals a token for storage, bound to `associated_data`.
    ///
    /// # Errors
    /// When the token cannot be sealed (a key is unavailable, ...).
    fn seal(
        &self,
        token: &str,
        associated_data: &[u8],
    ) -> Result<String, Box<dyn std::error::Error + Send + Sync>>;

    /// Opens a token sealed under `scheme` with the same `associated_data`.
    ///
    /// # Errors
    /// When the scheme or key is unknown, or the value does not open (altered, or sealed for
    /// another account).
    fn open(
        &self,
        scheme: &str,
        sealed: &str,
        associated_data: &[u8],
    ) -> Result<String, Box<dyn std::error::Error + Send + Sync>>;
}

/// A shared sealer is a sealer, so one can be given to a store and also kept (a key manager's
/// client used elsewhere, say).
impl<S: TokenSealer + ?Sized> TokenSealer for std::sync::Arc<S> {
    fn scheme(&self) -> &str {
        (**self).scheme()
    }

    fn seal(
        &self,
        token: &str,
        associated_data: &[u8],
    ) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
        (**self).seal(token, associated_data)
    }

    fn open(
        &self,
        scheme: &str,
        sealed: &str,
        associated_data: &[u8],
    ) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
        (**self).open(scheme, sealed, associated_data)
    }
}

/// A [`TokenSealer`] that stores tokens as they are (scheme `"plain"`): the default of
/// `SqliteOptions` and `PostgresOptions` when no keys are given. Protect the database file or
/// server accordingly, or use a [`TokenKeyring`](super::TokenKeyring).
#[derive(Debug, Clone, Copy, Default)]
pub struct PlaintextTokens;

/// A token was stored under a scheme the configured [`TokenSealer`] does not know.
#[derive(Debug, thiserror::Error)]
#[error(
    "token sealed under unknown scheme {0:?}: open the store with the TokenKeyring (META_TOKEN_KEY) that holds the key this scheme names"
)]
pub struct UnknownTokenScheme(pub String);

impl TokenSealer for PlaintextTokens {
    fn scheme(&self) -> &str {
        PLAIN_SCHEME
    }

    fn seal(
        &self,
        token: &str,
        _associated_data: &[u8],
    ) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
        Ok(token.to_owned())
    }

    fn open(
        &self,
        scheme: &str,
        sealed: &str,
        _associated_data: &[u8],
    ) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
        if scheme == PLAIN_SCHEME {
            Ok(sealed.to_owned())
        } else {
            Err(Box::new(UnknownTokenScheme(scheme.to_owned())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_never_show_in_debug_or_json() {
        let account = NewAccount::new(Platform::Messenger, "104417552380421").with_token(
            AccountToken::Page(PageAccessToken::new("EAAB-secret-token")),
            None,
        );
        let debug = format!("{account:?}");
        assert!(!debug.contains("EAAB-secret-token"), "{debug}");
        assert!(debug.contains("REDACTED"));
    }
}
