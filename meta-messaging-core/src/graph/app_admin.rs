//! The app's own settings, read with an app token: its webhook subscriptions
//! (`/{app-id}/subscriptions`) and the permissions approved for it in App Review
//! (`/{app-id}/permissions`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ids::AppId;
use crate::secret::AppAccessToken;

use super::client::GraphClient;
use super::error::Result;
use super::read::Edge;
use super::request::Call;
use super::token::Credential;

/// The app's webhook subscription for one kind of object (`page`, `instagram`, ...), as
/// `GET /{app-id}/subscriptions` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AppSubscription {
    /// The object: `page` (Messenger and Page feed), `instagram`, `user`, ...
    pub object: String,
    /// Where Meta delivers this object's webhooks.
    #[serde(default)]
    pub callback_url: Option<String>,
    /// Whether deliveries are on (Meta turns a subscription off after repeated failures).
    #[serde(default)]
    pub active: bool,
    /// The fields subscribed to.
    #[serde(default)]
    pub fields: Vec<SubscriptionField>,
}

impl AppSubscription {
    /// Whether `field` is among the subscribed fields.
    pub fn has_field(&self, field: &str) -> bool {
        self.fields.iter().any(|f| f.name == field)
    }
}

/// One subscribed webhook field and the Graph version its payloads follow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SubscriptionField {
    /// The field (`messages`, `message_reactions`, ...).
    pub name: String,
    /// The version of its payloads (`v23.0`).
    #[serde(default)]
    pub version: Option<String>,
}

/// A permission's App Review state, from `GET /{app-id}/permissions` (permissions approved
/// through Login Review).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AppPermission {
    /// The permission (`pages_messaging`, ...).
    pub permission: String,
    /// Its review status as Meta spells it (`live`, `approved`, ...).
    #[serde(default)]
    pub status: Option<String>,
    /// Any other field.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl AppPermission {
    /// Whether the permission may be used with people who have no role on the app.
    pub fn is_approved(&self) -> bool {
        matches!(
            self.status.as_deref(),
            Some("live" | "approved" | "granted")
        )
    }
}

impl GraphClient {
    /// The app's webhook subscriptions, one per object (`GET /{app-id}/subscriptions`).
    ///
    /// # Errors
    /// The Graph API's error (an app token is required).
    pub async fn app_subscriptions(
        &self,
        app_id: &AppId,
        token: &AppAccessToken,
    ) -> Result<Vec<AppSubscription>> {
        let credential = Credential::App(token.clone());
        let call = Call::get(format!("{app_id}/subscriptions")).auth(&credential);
        let data: Edge<AppSubscription> = self.execute(call).await?;
        Ok(data.data)
    }

    /// The permissions approved for the app in App Review (`GET /{app-id}/permissions`).
    ///
    /// # Errors
    /// The Graph API's error (an app token is required).
    pub async fn app_permissions(
        &self,
        app_id: &AppId,
        token: &AppAccessToken,
    ) -> Result<Vec<AppPermission>> {
        let credential = Credential::App(token.clone());
        let call = Call::get(format!("{app_id}/permissions")).auth(&credential);
        let data: Edge<AppPermission> = self.execute(call).await?;
        Ok(data.data)
    }

    /// The app token (`{app-id}|{app-secret}`) of `app_id`, when this client was given the
    /// app secret.
    pub(crate) fn app_token(&self, app_id: &AppId) -> Option<AppAccessToken> {
        self.app_secret
            .as_ref()
            .map(|secret| AppAccessToken::new(format!("{app_id}|{}", secret.expose())))
    }
}
