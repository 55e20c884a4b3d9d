//! Reading, setting and deleting the Messenger profile: `/{account-id}/messenger_profile`.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::Platform;

use super::account_client::AccountClient;
use super::error::Result;
use super::profile::{MessengerProfile, ProfileField};
use super::request::Call;

/// Meta's answer to a read: the profile as the one element of `data` (none when nothing is
/// set).
#[derive(Deserialize)]
struct ProfileAnswer {
    #[serde(default)]
    data: Vec<MessengerProfile>,
}

/// Meta's answer to a write: `{"result": "success"}`.
#[derive(Deserialize)]
struct WriteAnswer {
    #[serde(rename = "result")]
    _result: String,
}

#[derive(Serialize)]
struct SetBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    platform: Option<&'static str>,
    #[serde(flatten)]
    profile: &'a MessengerProfile,
}

#[derive(Serialize)]
struct DeleteBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    platform: Option<&'static str>,
    fields: &'a [ProfileField],
}

impl AccountClient {
    /// The account's Messenger profile: `GET /{account-id}/messenger_profile` with the
    /// typed fields, and `platform=instagram` for an Instagram account.
    ///
    /// # Errors
    /// The Graph API's error.
    pub async fn messenger_profile(&self) -> Result<MessengerProfile> {
        let fields: Vec<&str> = ProfileField::ALL
            .into_iter()
            .filter(|f| f.supported_on(self.platform()))
            .map(ProfileField::as_str)
            .collect();
        let call = self.with_platform(
            self.profile_call(Method::GET)
                .query("fields", fields.join(",")),
        );
        let answer: ProfileAnswer = self.client.execute(call).await?;
        Ok(answer.data.into_iter().next().unwrap_or_default())
    }

    /// Sets the fields of `profile` that are `Some`, leaving the others as they are
    /// (`POST /{account-id}/messenger_profile`).
    ///
    /// The profile is checked against Meta's limits first. Setting a value twice leaves the
    /// same profile, so a failed call is retried like a read. Meta allows 10 calls per 10
    /// minutes per Page.
    ///
    /// # Errors
    /// [`GraphError::InvalidRequest`](super::GraphError::InvalidRequest) naming the limit,
    /// before anything is sent, or the Graph API's error.
    pub async fn set_messenger_profile(&self, profile: &MessengerProfile) -> Result<()> {
        profile.validate(self.platform())?;
        let body = SetBody {
            platform: self.profile_platform(),
            profile,
        };
        let call = self.with_platform(self.profile_call(Method::POST).json(&body)?);
        let _: WriteAnswer = self.client.execute(call).await?;
        Ok(())
    }

    /// Deletes profile fields (`DELETE /{account-id}/messenger_profile` with
    /// `{"fields": [...]}`); deleting a field that is not set succeeds.
    ///
    /// # Errors
    /// The Graph API's error.
    pub async fn delete_messenger_profile_fields(&self, fields: &[ProfileField]) -> Result<()> {
        let body = DeleteBody {
            platform: self.profile_platform(),
            fields,
        };
        let call = self.with_platform(self.profile_call(Method::DELETE).json(&body)?);
        let _: WriteAnswer = self.client.execute(call).await?;
        Ok(())
    }

    fn profile_call(&self, method: Method) -> Call<'_> {
        Call::new(method, self.edge("messenger_profile"))
            .auth(&self.credential)
            .idempotent()
    }

    /// Meta's docs put `platform=instagram` in the query, and in the body of writes too.
    fn with_platform<'a>(&self, call: Call<'a>) -> Call<'a> {
        match self.profile_platform() {
            Some(platform) => call.query("platform", platform),
            None => call,
        }
    }

    fn profile_platform(&self) -> Option<&'static str> {
        (self.platform() == Platform::Instagram).then_some("instagram")
    }
}
