//! Which token a call carries, and so which host it goes to.

use crate::secret::{AppAccessToken, InstagramAccessToken, PageAccessToken, UserAccessToken};

/// The Graph API host a call goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Host {
    /// `graph.facebook.com`: Page, user and app tokens (Messenger, and Instagram through a Page).
    Facebook,
    /// `graph.instagram.com`: Instagram user tokens from Instagram Login.
    Instagram,
}

/// An access token of any kind, kept typed so the host and the redaction follow from it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Credential {
    /// A Page access token.
    Page(PageAccessToken),
    /// A Facebook user access token.
    User(UserAccessToken),
    /// An Instagram user access token (Instagram Login).
    Instagram(InstagramAccessToken),
    /// An app access token.
    App(AppAccessToken),
}

impl Credential {
    /// The host calls with this token go to.
    pub fn host(&self) -> Host {
        match self {
            Self::Instagram(_) => Host::Instagram,
            _ => Host::Facebook,
        }
    }

    /// The token value, for the `Authorization` header only.
    pub(crate) fn expose(&self) -> &str {
        match self {
            Self::Page(t) => t.expose(),
            Self::User(t) => t.expose(),
            Self::Instagram(t) => t.expose(),
            Self::App(t) => t.expose(),
        }
    }
}

impl From<PageAccessToken> for Credential {
    fn from(token: PageAccessToken) -> Self {
        Self::Page(token)
    }
}

impl From<UserAccessToken> for Credential {
    fn from(token: UserAccessToken) -> Self {
        Self::User(token)
    }
}

impl From<InstagramAccessToken> for Credential {
    fn from(token: InstagramAccessToken) -> Self {
        Self::Instagram(token)
    }
}

impl From<AppAccessToken> for Credential {
    fn from(token: AppAccessToken) -> Self {
        Self::App(token)
    }
}
