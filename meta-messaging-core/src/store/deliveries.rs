//! The delivery log the store keeps: per account, how many events of each kind arrived and
//! when the last one did, and the events this version could not understand, by reason. Every
//! instance adds its tallies
//! ([`MessageStore::record_deliveries`](super::MessageStore::record_deliveries)), so the log
//! covers them all and outlives restarts.

use std::collections::BTreeMap;

use crate::ids::AccountId;
use crate::platform::Platform;
use crate::webhook::{Event, EventDetails};

/// The most distinct reasons of unknown events kept per account: a reason can quote what Meta
/// sent, so an account sending ever-new shapes must not grow the log without bound. Once an
/// account has this many, events of a new reason are counted in their kind (`unknown`) only.
pub const MAX_UNKNOWN_REASONS: usize = 32;

/// What a [`DeliveryTally`] counts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Tallied {
    /// Events of one kind (`message`, `reaction`, `read`, `echo`, `unknown`, ...).
    Kind(String),
    /// Events this version could not understand, for this reason (the parser's).
    UnknownReason(String),
}

/// Events of one account counted together: how many, and when the last one arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeliveryTally {
    /// Messenger or Instagram.
    pub platform: Platform,
    /// The Page or Instagram account the events were for.
    pub account_id: AccountId,
    /// What was counted.
    pub tallied: Tallied,
    /// How many arrived.
    pub count: u64,
    /// When the last one arrived (ms since the epoch).
    pub last_at_ms: i64,
}

impl DeliveryTally {
    /// A tally of `count` events, the last of which arrived at `last_at_ms`.
    pub fn new(
        platform: Platform,
        account_id: impl Into<AccountId>,
        tallied: Tallied,
        count: u64,
        last_at_ms: i64,
    ) -> Self {
        Self {
            platform,
            account_id: account_id.into(),
            tallied,
            count,
            last_at_ms,
        }
    }
}

/// A count and the newest time: what two tallies of the same thing add up to.
#[derive(Debug, Clone, Copy)]
struct Tally {
    count: u64,
    last_at_ms: i64,
}

impl Tally {
    fn add(&mut self, count: u64, last_at_ms: i64) {
        self.count = self.count.saturating_add(count);
        self.last_at_ms = self.last_at_ms.max(last_at_ms);
    }
}

#[derive(Debug, Default, Clone)]
struct AccountTallies {
    kinds: BTreeMap<String, Tally>,
    unknown: BTreeMap<String, Tally>,
}

impl AccountTallies {
    fn add_kind(&mut self, kind: &str, count: u64, at: i64) {
        add_to(&mut self.kinds, kind, count, at);
    }

    /// Adds to a reason's tally, unless it would be a reason beyond [`MAX_UNKNOWN_REASONS`].
    fn add_unknown(&mut self, reason: &str, count: u64, at: i64) {
        if self.unknown.contains_key(reason) || self.unknown.len() < MAX_UNKNOWN_REASONS {
            add_to(&mut self.unknown, reason, count, at);
        }
    }
}

/// Tallies added up per account, with the bound on unknown reasons: the in-memory store's log,
/// the inbox's buffer of what it has not flushed yet, and the sum of both that `/status` shows.
#[derive(Debug, Default, Clone)]
pub(crate) struct DeliveryTallies {
    accounts: BTreeMap<(Platform, AccountId), AccountTallies>,
}

impl DeliveryTallies {
    /// Adds a tally: counts add up, the newest time stays; a reason beyond the account's
    /// [`MAX_UNKNOWN_REASONS`] is left out.
    pub(crate) fn add(&mut self, tally: &DeliveryTally) {
        let (count, at) = (tally.count, tally.last_at_ms);
        let account = self
            .accounts
            .entry((tally.platform, tally.account_id.clone()))
            .or_default();
        match &tally.tallied {
            Tallied::Kind(kind) => account.add_kind(kind, count, at),
            Tallied::UnknownReason(reason) => account.add_unknown(reason, count, at),
        }
    }

    /// Counts the events of a delivery, arrived at `at_ms`: each in its kind, and the ones
    /// not understood in their reason too.
    pub(crate) fn count_events(&mut self, events: &[Event], at_ms: i64) {
        for event in events {
            let account = self
                .accounts
                .entry((event.platform, event.account_id.clone()))
                .or_default();
            account.add_kind(event.kind().as_str(), 1, at_ms);
            if let EventDetails::Unknown(unknown) = &event.details {
                account.add_unknown(&unknown.reason, 1, at_ms);
            }
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }

    /// Every tally, by account, kinds (by name) before unknown reasons (by reason).
    pub(crate) fn to_vec(&self) -> Vec<DeliveryTally> {
        self.accounts
            .iter()
            .flat_map(|((platform, account_id), tallies)| {
                account_tallies(*platform, account_id, tallies)
            })
            .collect()
    }

    /// One account's tallies, kinds (by name) before unknown reasons (by reason).
    pub(crate) fn of(&self, platform: Platform, account_id: &AccountId) -> Vec<DeliveryTally> {
        self.accounts
            .get(&(platform, account_id.clone()))
            .map(|tallies| account_tallies(platform, account_id, tallies).collect())
            .unwrap_or_default()
    }
}

fn add_to(tallies: &mut BTreeMap<String, Tally>, key: &str, count: u64, at: i64) {
    match tallies.get_mut(key) {
        Some(tally) => tally.add(count, at),
        None => {
            tallies.insert(
                key.to_owned(),
                Tally {
                    count,
                    last_at_ms: at,
                },
            );
        }
    }
}

fn account_tallies<'a>(
    platform: Platform,
    account_id: &'a AccountId,
    tallies: &'a AccountTallies,
) -> impl Iterator<Item = DeliveryTally> + 'a {
    let tally = move |tallied: Tallied, t: &Tally| {
        DeliveryTally::new(platform, account_id.clone(), tallied, t.count, t.last_at_ms)
    };
    let kinds = tallies
        .kinds
        .iter()
        .map(move |(kind, t)| tally(Tallied::Kind(kind.clone()), t));
    let unknown = tallies
        .unknown
        .iter()
        .map(move |(reason, t)| tally(Tallied::UnknownReason(reason.clone()), t));
    kinds.chain(unknown)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(account: &str, reason: &str, count: u64, at: i64) -> DeliveryTally {
        DeliveryTally::new(
            Platform::Messenger,
            account,
            Tallied::UnknownReason(reason.to_owned()),
            count,
            at,
        )
    }

    #[test]
    fn tallies_add_up_keep_the_newest_time_and_bound_the_reasons() {
        let mut all = DeliveryTallies::default();
        let kind = |count, at| {
            DeliveryTally::new(
                Platform::Messenger,
                "p1",
                Tallied::Kind("message".into()),
                count,
                at,
            )
        };
        all.add(&kind(2, 200));
        all.add(&kind(3, 100));
        for n in 0..40 {
            all.add(&reason("p1", &format!("r{n:02}"), 1, 10));
        }
        all.add(&reason("p1", "r00", 4, 50));
        all.add(&reason("p2", "elsewhere", 1, 10));
        let p1 = all.of(Platform::Messenger, &AccountId::new("p1"));
        assert_eq!(p1[0], kind(5, 200));
        assert_eq!(p1.len(), 1 + MAX_UNKNOWN_REASONS, "{p1:?}");
        assert_eq!(p1[1], reason("p1", "r00", 5, 50));
        assert_eq!(all.to_vec().len(), p1.len() + 1);
    }
}
