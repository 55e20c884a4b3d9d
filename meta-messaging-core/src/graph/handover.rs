//! The handover protocol: passing, taking and requesting control of a conversation between
//! the apps of a Page (a bot, a human agents' inbox, Meta's Page Inbox), on Messenger and on
//! Instagram through a Page.
//!
//! Pass, take and request are writes that are **not** repeated after a failure that may have
//! reached Meta: once a pass succeeded, a second one fails ("not the thread owner"), and if
//! another app took the thread in between, a repeated take would snatch it back. Such an error
//! says `may_have_been_delivered`; read [`AccountClient::thread_owner`] to learn where the
//! thread stands. Failures that surely did not reach Meta are retried as usual.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::ids::{AppId, UserId};

use super::account_client::AccountClient;
use super::error::Result;
use super::paging::GraphPage;
use super::request::Call;
use super::success::Success;

/// The app id of Meta's Page Inbox (the Facebook Page Inbox and the Instagram inbox in Meta
/// Business Suite): pass a thread to it to hand the conversation to people working there.
pub const PAGE_INBOX_APP_ID: &str = "263902037430900";

/// An app the Page made a secondary receiver (`/me/secondary_receivers`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SecondaryReceiver {
    /// The app id: the `target_app_id` to pass a thread to.
    pub id: AppId,
    /// The app name.
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Deserialize)]
struct OwnerEntry {
    thread_owner: Owner,
}

#[derive(Deserialize)]
struct Owner {
    app_id: AppId,
}

impl AccountClient {
    /// Passes control of the conversation with `user` to the app `target` (another app of the
    /// Page, or [`PAGE_INBOX_APP_ID`]); `metadata` reaches that app in its
    /// `pass_thread_control` webhook. `POST /{account-id}/pass_thread_control`.
    ///
    /// # Errors
    /// The Graph API's error (this app does not own the thread, `target` is not an app of the
    /// Page, ...), or a transport error that may have reached Meta (see the module docs).
    pub async fn pass_thread_control(
        &self,
        user: impl Into<UserId>,
        target: AppId,
        metadata: Option<&str>,
    ) -> Result<()> {
        let body = json!({ "recipient": { "id": user.into() }, "target_app_id": target });
        let body = with_metadata(body, metadata);
        self.control("pass_thread_control", &body).await
    }

    /// Takes control of the conversation with `user` from the app that owns it (only the
    /// Page's primary receiver may); `metadata` reaches that app in its `take_thread_control`
    /// webhook. `POST /{account-id}/take_thread_control`.
    ///
    /// # Errors
    /// The Graph API's error (this app is not the primary receiver, ...), or a transport
    /// error that may have reached Meta (see the module docs).
    pub async fn take_thread_control(
        &self,
        user: impl Into<UserId>,
        metadata: Option<&str>,
    ) -> Result<()> {
        let body = with_metadata(json!({ "recipient": { "id": user.into() } }), metadata);
        self.control("take_thread_control", &body).await
    }

    /// Asks the app that owns the conversation with `user` to pass it to this one; the owner
    /// gets a `request_thread_control` webhook with `metadata`.
    /// `POST /{account-id}/request_thread_control`.
    ///
    /// # Errors
    /// The Graph API's error, or a transport error that may have reached Meta.
    pub async fn request_thread_control(
        &self,
        user: impl Into<UserId>,
        metadata: Option<&str>,
    ) -> Result<()> {
        let body = with_metadata(json!({ "recipient": { "id": user.into() } }), metadata);
        self.control("request_thread_control", &body).await
    }

    /// The app that owns the conversation with `user` now, or `None` when the thread is idle
    /// (no app has taken it). `GET /{account-id}/thread_owner?recipient={user}`.
    ///
    /// # Errors
    /// The Graph API's error.
    pub async fn thread_owner(&self, user: impl Into<UserId>) -> Result<Option<AppId>> {
        let user: UserId = user.into();
        let call = Call::get(self.edge("thread_owner"))
            .auth(&self.credential)
            .query("recipient", user.as_str());
        let page: GraphPage<OwnerEntry> = self.client.execute(call).await?;
        Ok(page.data.into_iter().next().map(|e| e.thread_owner.app_id))
    }

    /// The apps the Page made secondary receivers: the apps a thread can be passed to.
    /// `GET /{account-id}/secondary_receivers?fields=id,name`.
    ///
    /// # Errors
    /// The Graph API's error (only the primary receiver may read the list).
    pub async fn secondary_receivers(&self) -> Result<Vec<SecondaryReceiver>> {
        let call = Call::get(self.edge("secondary_receivers"))
            .auth(&self.credential)
            .query("fields", "id,name");
        let page: GraphPage<SecondaryReceiver> = self.client.execute(call).await?;
        Ok(page.data)
    }

    async fn control(&self, edge: &str, body: &Value) -> Result<()> {
        let call = Call::post(self.edge(edge))
            .auth(&self.credential)
            .throttle(&self.account_id)
            .json(body)?;
        let answer: Success = self.client.execute(call).await?;
        answer.into_result()
    }
}

fn with_metadata(mut body: Value, metadata: Option<&str>) -> Value {
    if let Some(metadata) = metadata {
        body["metadata"] = metadata.into();
    }
    body
}
