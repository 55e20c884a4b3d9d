//! [`AccountClient`]: one business account (a Page, or an Instagram account) and its token.

use crate::Platform;
use crate::ids::{InstagramAccountId, PageId};
use crate::secret::{InstagramAccessToken, PageAccessToken};

use super::client::GraphClient;
use super::token::Credential;

/// How an account's calls reach Meta.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AccountRoute {
    /// Messenger with a Page token: `graph.facebook.com/{page-id}/...`.
    Messenger,
    /// Instagram through the Facebook Page it is linked to, with the Page token:
    /// `graph.facebook.com/{page-id}/...`, recipients are IGSIDs.
    InstagramViaPage,
    /// Instagram API with Instagram Login, with an Instagram user token:
    /// `graph.instagram.com/{ig-user-id}/...`.
    InstagramLogin,
}

impl AccountRoute {
    /// The platform messages on this route belong to.
    pub fn platform(self) -> Platform {
        match self {
            Self::Messenger => Platform::Messenger,
            Self::InstagramViaPage | Self::InstagramLogin => Platform::Instagram,
        }
    }
}

/// A [`GraphClient`] bound to one business account and its token: sends, reads and manages
/// that account. Cheap to clone.
///
/// ```no_run
/// use meta_messaging_core::graph::GraphClient;
/// use meta_messaging_core::ids::{PageId, Psid};
/// use meta_messaging_core::secret::PageAccessToken;
///
/// # async fn run() -> Result<(), meta_messaging_core::graph::GraphError> {
/// let client = GraphClient::new()?;
/// let page = client.messenger(PageId::from("104417552380421"), PageAccessToken::new("EAAG..."));
/// let sent = page.text(Psid::from("6758492015643287"), "Your order shipped").send().await?;
/// println!("sent {}", sent.message_id);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct AccountClient {
    pub(crate) client: GraphClient,
    pub(crate) account_id: String,
    pub(crate) route: AccountRoute,
    pub(crate) credential: Credential,
}

impl GraphClient {
    /// The Messenger side of a Facebook Page, with its Page token.
    pub fn messenger(&self, page_id: PageId, token: PageAccessToken) -> AccountClient {
        self.account(
            page_id.into_inner(),
            AccountRoute::Messenger,
            Credential::Page(token),
        )
    }

    /// The Instagram account linked to a Facebook Page, reached with the Page's token (the
    /// Instagram API with Facebook Login). Calls go to `graph.facebook.com/{page-id}/...`.
    pub fn instagram_via_page(&self, page_id: PageId, token: PageAccessToken) -> AccountClient {
        self.account(
            page_id.into_inner(),
            AccountRoute::InstagramViaPage,
            Credential::Page(token),
        )
    }

    /// An Instagram professional account reached with an Instagram Login token. Calls go to
    /// `graph.instagram.com/{ig-user-id}/...`.
    pub fn instagram_login(
        &self,
        account_id: InstagramAccountId,
        token: InstagramAccessToken,
    ) -> AccountClient {
        self.account(
            account_id.into_inner(),
            AccountRoute::InstagramLogin,
            Credential::Instagram(token),
        )
    }

    fn account(
        &self,
        account_id: String,
        route: AccountRoute,
        credential: Credential,
    ) -> AccountClient {
        AccountClient {
            client: self.clone(),
            account_id,
            route,
            credential,
        }
    }
}

impl AccountClient {
    /// The Page id (Messenger and Instagram through a Page) or Instagram account id.
    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    /// How calls reach Meta.
    pub fn route(&self) -> AccountRoute {
        self.route
    }

    /// The platform of this account's messages.
    pub fn platform(&self) -> Platform {
        self.route.platform()
    }

    /// The client underneath.
    pub fn graph(&self) -> &GraphClient {
        &self.client
    }

    /// `{account-id}/{edge}`.
    pub(crate) fn edge(&self, edge: &str) -> String {
        format!("{}/{}", self.account_id, edge)
    }
}
