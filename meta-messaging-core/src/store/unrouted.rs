//! Unrouted events: the events of a delivery that no tenant received, kept with why
//! ([`MessageStore::record_unrouted`](super::MessageStore::record_unrouted)), so `GET /status`
//! can say what went wrong and a tenant connecting the account later can replay them.

use std::str::FromStr;

use serde::Serialize;

use super::plan::{RawRow, raw_row};
use crate::ids::TenantId;
use crate::webhook::Event;

/// Why an event was kept unrouted.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum UnroutedReason {
    /// No tenant has connected the account (`no_tenant`). Events kept before reasons were
    /// recorded read as this one too, unless they were of an unhandled object.
    NoTenant,
    /// Every tenant that connected the account has set it
    /// [`Disconnected`](super::AccountStatus::Disconnected) (`disconnected`).
    Disconnected,
    /// The delivery is of a webhook object this version does not handle
    /// (`whatsapp_business_account`, `user`, ...), which no account routes (`unhandled_object`).
    UnhandledObject,
    /// Any other reason, as stored (a newer version's).
    Other(String),
}

impl UnroutedReason {
    /// The name stored in the database and used in JSON.
    pub fn as_str(&self) -> &str {
        match self {
            UnroutedReason::NoTenant => "no_tenant",
            UnroutedReason::Disconnected => "disconnected",
            UnroutedReason::UnhandledObject => "unhandled_object",
            UnroutedReason::Other(other) => other,
        }
    }
}

impl FromStr for UnroutedReason {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "no_tenant" => UnroutedReason::NoTenant,
            "disconnected" => UnroutedReason::Disconnected,
            "unhandled_object" => UnroutedReason::UnhandledObject,
            other => UnroutedReason::Other(other.to_owned()),
        })
    }
}

impl std::fmt::Display for UnroutedReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for UnroutedReason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl utoipa::PartialSchema for UnroutedReason {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        crate::contract::openapi::string_schema(
            "Why events were kept unrouted: no tenant connected the account, every tenant \
             that did disconnected it, or the delivery is of a webhook object this version \
             does not handle; a newer version may add names.",
            &["no_tenant", "disconnected", "unhandled_object"],
        )
    }
}

impl utoipa::ToSchema for UnroutedReason {}

/// An event no tenant received, and why: what
/// [`MessageStore::record_unrouted`](super::MessageStore::record_unrouted) keeps.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct UnroutedEvent {
    /// The event.
    pub event: Event,
    /// Why no tenant received it.
    pub reason: UnroutedReason,
}

impl UnroutedEvent {
    /// Pairs an event with why it was not routed.
    pub fn new(event: Event, reason: UnroutedReason) -> Self {
        Self { event, reason }
    }

    /// The row every backend keeps: a raw row of no tenant, its reason the reason's name.
    pub(crate) fn row(&self) -> RawRow {
        raw_row(
            TenantId::new(""),
            &self.event,
            Some(self.reason.as_str().to_owned()),
        )
    }
}

/// The unrouted events of an account kept for one reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[non_exhaustive]
pub struct UnroutedTally {
    /// Why they were not routed.
    pub reason: UnroutedReason,
    /// How many are kept.
    pub count: u64,
    /// When the last one arrived (ms since the epoch).
    pub last_at_ms: i64,
}

impl UnroutedTally {
    /// `count` events kept for `reason`, the last of which arrived at `last_at_ms`.
    pub fn new(reason: UnroutedReason, count: u64, last_at_ms: i64) -> Self {
        Self {
            reason,
            count,
            last_at_ms,
        }
    }
}
