//! Accounts: a user's Pages and their tokens, linked Instagram accounts, webhook
//! subscriptions, token inspection and granted permissions.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::ids::{AppId, InstagramAccountId, PageId};
use crate::secret::{PageAccessToken, UserAccessToken};

use super::account_client::AccountClient;
use super::client::GraphClient;
use super::error::Result;
use super::paging::ListRequest;
use super::read::Edge;
use super::request::Call;
use super::token::Credential;

const MANAGED_PAGE_FIELDS: &str = "id,name,access_token,category,tasks,instagram_business_account{id,username,name,profile_picture_url}";

pub(crate) fn user_token<'de, D: Deserializer<'de>>(d: D) -> Result<UserAccessToken, D::Error> {
    String::deserialize(d).map(UserAccessToken::new)
}

fn page_token<'de, D: Deserializer<'de>>(d: D) -> Result<Option<PageAccessToken>, D::Error> {
    Option::<String>::deserialize(d).map(|t| t.map(PageAccessToken::new))
}

/// An Instagram professional account linked to a Page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InstagramBusinessAccount {
    /// Its id (the `entry[].id` of Instagram webhooks).
    pub id: InstagramAccountId,
    /// Its username.
    #[serde(default)]
    pub username: Option<String>,
    /// Its display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Its profile picture URL.
    #[serde(default)]
    pub profile_picture_url: Option<String>,
}

/// A Page the user manages, from `/me/accounts`, with its Page token.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct ManagedPage {
    /// The Page id.
    pub id: PageId,
    /// The Page name.
    #[serde(default)]
    pub name: Option<String>,
    /// The Page token (does not expire when read with a long-lived user token).
    #[serde(default, deserialize_with = "page_token")]
    pub access_token: Option<PageAccessToken>,
    /// The Page category.
    #[serde(default)]
    pub category: Option<String>,
    /// What the user may do on the Page (`MESSAGING`, `MANAGE`, ...).
    #[serde(default)]
    pub tasks: Vec<String>,
    /// The Instagram account linked to the Page, if any.
    #[serde(default)]
    pub instagram_business_account: Option<InstagramBusinessAccount>,
}

/// A Page's basic fields and its linked Instagram account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PageInfo {
    /// The Page id.
    pub id: PageId,
    /// The Page name.
    #[serde(default)]
    pub name: Option<String>,
    /// The linked Instagram professional account.
    #[serde(default)]
    pub instagram_business_account: Option<InstagramBusinessAccount>,
}

/// An app subscribed to a Page's webhooks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SubscribedApp {
    /// The app id.
    pub id: AppId,
    /// The app name.
    #[serde(default)]
    pub name: Option<String>,
    /// The fields the app receives.
    #[serde(default)]
    pub subscribed_fields: Vec<String>,
}

/// A permission and whether it is granted (`/me/permissions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PermissionGrant {
    /// The permission (`pages_messaging`, ...).
    pub permission: String,
    /// Whether the user granted it.
    pub status: PermissionStatus,
}

impl PermissionGrant {
    /// Whether the permission is granted now.
    pub fn is_granted(&self) -> bool {
        self.status == PermissionStatus::Granted
    }
}

/// Where a permission stands for the user (`status` of `/me/permissions`).
///
/// A status this version does not know is kept as [`PermissionStatus::Other`], so a status
/// Meta adds does not fail the whole list.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum PermissionStatus {
    /// The user granted it.
    Granted,
    /// The user declined it (or removed it later).
    Declined,
    /// It was granted, but the grant expired (data access expiry).
    Expired,
    /// Any other status, as Meta spelled it.
    #[serde(untagged)]
    Other(String),
}

/// A permission limited to some objects (`granular_scopes` of `debug_token`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GranularScope {
    /// The permission.
    pub scope: String,
    /// The Page or account ids it applies to (absent: all).
    #[serde(default)]
    pub target_ids: Option<Vec<String>>,
}

/// What `debug_token` says about a token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TokenInfo {
    /// The app the token was issued to.
    #[serde(default)]
    pub app_id: Option<AppId>,
    /// `USER`, `PAGE`, `APP`...
    #[serde(default, rename = "type")]
    pub token_type: Option<String>,
    /// The app's name.
    #[serde(default)]
    pub application: Option<String>,
    /// Whether the token can be used now.
    #[serde(default)]
    pub is_valid: bool,
    /// Expiry as a Unix time; 0 or absent means it never expires.
    #[serde(default)]
    pub expires_at: Option<i64>,
    /// When access to the user's data expires (Unix time; 0: never).
    #[serde(default)]
    pub data_access_expires_at: Option<i64>,
    /// The granted permissions.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Permissions limited to some Pages or accounts.
    #[serde(default)]
    pub granular_scopes: Vec<GranularScope>,
    /// The user the token belongs to.
    #[serde(default)]
    pub user_id: Option<String>,
    /// For Page tokens: the Page id.
    #[serde(default)]
    pub profile_id: Option<String>,
    /// Why the token is invalid, as Meta says.
    #[serde(default)]
    pub error: Option<Value>,
    /// Any other field.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl TokenInfo {
    /// The expiry as a Unix time, `None` when the token does not expire.
    pub fn expires(&self) -> Option<i64> {
        self.expires_at.filter(|t| *t > 0)
    }

    /// Whether `permission` was granted.
    pub fn has_scope(&self, permission: &str) -> bool {
        self.scopes.iter().any(|s| s == permission)
    }
}

#[derive(Deserialize)]
struct Data<T> {
    data: T,
}

#[derive(Deserialize)]
struct Success {
    #[serde(default)]
    success: bool,
}

impl GraphClient {
    /// Inspects `token` (`GET /debug_token?input_token=`), authenticated with `auth` (the
    /// token itself, or the app token).
    ///
    /// # Errors
    /// The Graph API's error.
    pub async fn debug_token(&self, token: &Credential, auth: &Credential) -> Result<TokenInfo> {
        let call = Call::get("debug_token")
            .auth(auth)
            .secret_query("input_token", token.expose());
        let data: Data<TokenInfo> = self.execute(call).await?;
        Ok(data.data)
    }

    /// The Facebook user behind a user token: their Pages and permissions.
    pub fn user(&self, token: UserAccessToken) -> UserClient {
        UserClient {
            client: self.clone(),
            credential: Credential::User(token),
        }
    }
}

/// A [`GraphClient`] bound to a Facebook user token.
#[derive(Debug, Clone)]
pub struct UserClient {
    client: GraphClient,
    credential: Credential,
}

impl UserClient {
    /// The Pages the user manages, with Page tokens and linked Instagram accounts.
    pub fn accounts(&self) -> ListRequest<ManagedPage> {
        ListRequest::new(
            self.client.clone(),
            self.credential.clone(),
            "me/accounts".into(),
        )
        .query("fields", MANAGED_PAGE_FIELDS)
    }

    /// The permissions the user granted or declined.
    ///
    /// # Errors
    /// The Graph API's error.
    pub async fn permissions(&self) -> Result<Vec<PermissionGrant>> {
        let call = Call::get("me/permissions").auth(&self.credential);
        let data: Data<Vec<PermissionGrant>> = self.client.execute(call).await?;
        Ok(data.data)
    }
}

impl AccountClient {
    /// Subscribes the app to this Page's webhooks with `fields` (e.g.
    /// [`MESSENGER_WEBHOOK_FIELDS`](super::MESSENGER_WEBHOOK_FIELDS)). Subscribing again replaces the fields.
    ///
    /// # Errors
    /// The Graph API's error (`pages_manage_metadata` is needed).
    pub async fn subscribe_app(&self, fields: &[&str]) -> Result<bool> {
        let call = Call::post(self.edge("subscribed_apps"))
            .auth(&self.credential)
            .query("subscribed_fields", fields.join(","))
            .idempotent();
        let answer: Success = self.client.execute(call).await?;
        Ok(answer.success)
    }

    /// The apps subscribed to this Page's webhooks, with their fields.
    ///
    /// # Errors
    /// The Graph API's error.
    pub async fn subscribed_apps(&self) -> Result<Vec<SubscribedApp>> {
        let call = Call::get(self.edge("subscribed_apps")).auth(&self.credential);
        let data: Edge<SubscribedApp> = self.client.execute(call).await?;
        Ok(data.data)
    }

    /// The Page's name and the Instagram professional account linked to it.
    ///
    /// # Errors
    /// The Graph API's error.
    pub async fn page_info(&self) -> Result<PageInfo> {
        let call = Call::get(self.account_id.clone())
            .auth(&self.credential)
            .query(
                "fields",
                "id,name,instagram_business_account{id,username,name,profile_picture_url}",
            );
        self.client.execute(call).await
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{PermissionGrant, PermissionStatus};

    #[test]
    fn permission_statuses_read_back_as_written() {
        let grant = |status: &str| -> PermissionGrant {
            serde_json::from_value(json!({"permission": "pages_messaging", "status": status}))
                .expect("grant")
        };
        for (name, status) in [
            ("granted", PermissionStatus::Granted),
            ("declined", PermissionStatus::Declined),
            ("expired", PermissionStatus::Expired),
            ("pending", PermissionStatus::Other("pending".to_owned())),
        ] {
            let read = grant(name);
            assert_eq!(read.status, status);
            assert_eq!(read.is_granted(), name == "granted");
            assert_eq!(
                serde_json::to_value(&read.status).expect("json"),
                json!(name)
            );
        }
    }
}
