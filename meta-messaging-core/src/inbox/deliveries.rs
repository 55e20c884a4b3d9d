//! What each account received, per event kind, as this instance saw it: the last time and how
//! often, and the events it could not understand, by reason. `GET /status` shows it so a
//! silence ("reactions stopped on Tuesday") can be seen next to the checks that explain it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::ids::AccountId;
use crate::platform::Platform;
use crate::webhook::{Event, EventDetails};

/// Distinct reasons of unknown events kept per account: a reason can quote what Meta sent, so
/// an account sending ever-new shapes must not grow the log without bound.
const MAX_REASONS: usize = 32;

/// The deliveries of one kind of event to an account since this instance started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[non_exhaustive]
pub struct KindDeliveries {
    /// The event kind (`message`, `reaction`, `read`, `echo`, ...).
    pub kind: &'static str,
    /// When the last one arrived (ms since the epoch).
    pub last_at_ms: i64,
    /// How many arrived.
    pub count: u64,
}

/// Events of an account that this version could not understand, grouped by why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[non_exhaustive]
pub struct UnknownEvents {
    /// Why they were not understood (the parser's reason).
    pub reason: String,
    /// How many arrived.
    pub count: u64,
    /// When the last one arrived (ms since the epoch).
    pub last_at_ms: i64,
}

#[derive(Debug, Default)]
struct Seen {
    kinds: BTreeMap<&'static str, (i64, u64)>,
    unknown: BTreeMap<String, (i64, u64)>,
}

/// The per-account delivery log of this instance. It lives in memory: it starts empty when
/// the process starts, and each instance behind a load balancer sees its own share.
#[derive(Debug, Default)]
pub(super) struct DeliveryLog {
    accounts: Mutex<HashMap<(Platform, AccountId), Seen>>,
}

impl DeliveryLog {
    /// Notes the events of one verified delivery.
    pub(super) fn record(&self, events: &[Event]) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        let mut accounts = self.accounts.lock().unwrap_or_else(|e| e.into_inner());
        for event in events {
            let seen = accounts
                .entry((event.platform, event.account_id.clone()))
                .or_default();
            let kind = seen.kinds.entry(event.kind().as_str()).or_insert((now, 0));
            *kind = (now, kind.1.saturating_add(1));
            if let EventDetails::Unknown(unknown) = &event.details {
                let known = seen.unknown.contains_key(&unknown.reason);
                if known || seen.unknown.len() < MAX_REASONS {
                    let entry = seen
                        .unknown
                        .entry(unknown.reason.clone())
                        .or_insert((now, 0));
                    *entry = (now, entry.1.saturating_add(1));
                }
            }
        }
    }

    /// What the account received, per kind (sorted by kind), and its unknown events by reason.
    pub(super) fn of(
        &self,
        platform: Platform,
        account_id: &AccountId,
    ) -> (Vec<KindDeliveries>, Vec<UnknownEvents>) {
        let accounts = self.accounts.lock().unwrap_or_else(|e| e.into_inner());
        let Some(seen) = accounts.get(&(platform, account_id.clone())) else {
            return (Vec::new(), Vec::new());
        };
        let kinds = seen
            .kinds
            .iter()
            .map(|(kind, (last_at_ms, count))| KindDeliveries {
                kind,
                last_at_ms: *last_at_ms,
                count: *count,
            })
            .collect();
        let unknown = seen
            .unknown
            .iter()
            .map(|(reason, (last_at_ms, count))| UnknownEvents {
                reason: reason.clone(),
                count: *count,
                last_at_ms: *last_at_ms,
            })
            .collect();
        (kinds, unknown)
    }
}
