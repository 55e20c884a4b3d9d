//! The progress of a history backfill of one account, kept so a restart resumes it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ids::AccountId;
use crate::platform::Platform;

/// Where a backfill is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BackfillState {
    /// Importing (or stopped by a crash while importing: the next run resumes it).
    Running,
    /// Stopped after the most pages one run may read; the next run resumes it.
    Paused,
    /// Every conversation within the horizon was imported.
    Done,
    /// Stopped on an error; the next run resumes it.
    Failed,
    /// A state written by a newer version.
    Other(String),
}

impl BackfillState {
    /// The stored name (`running`, `paused`, `done`, `failed`).
    pub fn as_str(&self) -> &str {
        match self {
            Self::Running => "running",
            Self::Paused => "paused",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Other(other) => other,
        }
    }
}

impl fmt::Display for BackfillState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for BackfillState {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "running" => Self::Running,
            "paused" => Self::Paused,
            "done" => Self::Done,
            "failed" => Self::Failed,
            other => Self::Other(other.to_owned()),
        })
    }
}

impl Serialize for BackfillState {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl utoipa::PartialSchema for BackfillState {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        crate::contract::openapi::string_schema(
            "Where a backfill is; a newer version may add names.",
            &["running", "paused", "done", "failed"],
        )
    }
}

impl utoipa::ToSchema for BackfillState {}

impl<'de> Deserialize<'de> for BackfillState {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Ok(name.parse().unwrap_or_else(|never| match never {}))
    }
}

/// The progress of one account's backfill, as [`MessageStore::save_backfill`](super::MessageStore::save_backfill)
/// keeps it (one row per tenant, platform and account) and `GET /status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[non_exhaustive]
pub struct BackfillProgress {
    /// Messenger or Instagram.
    pub platform: Platform,
    /// The Page or Instagram account.
    pub account_id: AccountId,
    /// Where it is.
    pub state: BackfillState,
    /// The paging cursor of the next page of conversations to read; `None` at the start (and
    /// when done).
    #[serde(skip_serializing)]
    pub cursor: Option<String>,
    /// Conversations read so far.
    pub conversations: u64,
    /// Messages stored for the first time so far (one a webhook stored already is not counted).
    pub messages: u64,
    /// The time of the oldest message reached, in ms since the epoch.
    pub oldest_reached_ms: Option<i64>,
    /// Messages older than this (ms since the epoch) are not imported.
    pub horizon_ms: i64,
    /// Why it failed, when it did.
    pub error: Option<String>,
    /// When the run began, in ms since the epoch.
    pub started_at_ms: i64,
    /// When this progress was saved, in ms since the epoch.
    pub updated_at_ms: i64,
}

impl BackfillProgress {
    /// The progress of a backfill that starts now, at `now_ms`, back to `horizon_ms`.
    pub fn start(
        platform: Platform,
        account_id: impl Into<AccountId>,
        horizon_ms: i64,
        now_ms: i64,
    ) -> Self {
        Self {
            platform,
            account_id: account_id.into(),
            state: BackfillState::Running,
            cursor: None,
            conversations: 0,
            messages: 0,
            oldest_reached_ms: None,
            horizon_ms,
            error: None,
            started_at_ms: now_ms,
            updated_at_ms: now_ms,
        }
    }

    /// Whether a new run continues this one (from its cursor) rather than starting over.
    pub fn is_resumable(&self) -> bool {
        matches!(
            self.state,
            BackfillState::Running | BackfillState::Paused | BackfillState::Failed
        )
    }
}
