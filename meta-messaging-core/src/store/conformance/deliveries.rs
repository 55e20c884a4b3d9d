//! Conformance cases: the delivery log (tallies per kind and unknown reason) and the unrouted
//! events' reasons.

use super::Harness;
use super::fixtures::{Scene, tick};
use crate::ids::AccountId;
use crate::platform::Platform;
use crate::store::account::{AccountStatus, NewAccount};
use crate::store::deliveries::{DeliveryTally, MAX_UNKNOWN_REASONS, Tallied};
use crate::store::now_ms;
use crate::store::unrouted::{UnroutedReason, UnroutedTally};

fn kind(s: &Scene, name: &str, count: u64, at: i64) -> DeliveryTally {
    DeliveryTally::new(
        s.platform,
        s.account.as_str(),
        Tallied::Kind(name.into()),
        count,
        at,
    )
}

fn reason(s: &Scene, name: &str, count: u64, at: i64) -> DeliveryTally {
    DeliveryTally::new(
        s.platform,
        s.account.as_str(),
        Tallied::UnknownReason(name.into()),
        count,
        at,
    )
}

/// Tallies of two flushes (two instances, or one instance twice) add up per account, kind and
/// reason, keeping the newest time; a flush that fails adds nothing.
pub async fn delivery_tallies_add_up(h: &Harness) {
    let store = &*h.store;
    let s = Scene::new(Platform::Instagram);
    let account = AccountId::new(s.account.as_str());
    let other = Scene {
        platform: Platform::Messenger,
        ..s.clone()
    };
    let (t1, t2, t3) = (tick(), tick(), tick());
    store
        .record_deliveries(&[
            kind(&s, "message", 2, t2),
            kind(&s, "reaction", 1, t1),
            reason(&s, "unknown field", 1, t2),
        ])
        .await
        .expect("first flush");
    store
        .record_deliveries(&[
            kind(&s, "message", 3, t1),
            kind(&s, "read", 1, t3),
            reason(&s, "unknown field", 2, t3),
            kind(&other, "message", 7, t3),
        ])
        .await
        .expect("second flush");
    let expected = vec![
        kind(&s, "message", 5, t2),
        kind(&s, "reaction", 1, t1),
        kind(&s, "read", 1, t3),
        reason(&s, "unknown field", 3, t3),
    ];
    let log = store
        .delivery_tallies(s.platform, &account)
        .await
        .expect("log");
    assert_eq!(log, expected, "added up, the newest time kept, kinds first");
    assert_eq!(
        store
            .delivery_tallies(other.platform, &account)
            .await
            .expect("other platform"),
        [kind(&other, "message", 7, t3)]
    );

    h.fail_point.fail_after(1);
    let failed = store
        .record_deliveries(&[
            kind(&s, "message", 100, tick()),
            kind(&s, "postback", 1, tick()),
            reason(&s, "another", 1, tick()),
        ])
        .await;
    h.fail_point.disarm();
    assert!(failed.is_err(), "the fail point was hit");
    assert_eq!(
        store
            .delivery_tallies(s.platform, &account)
            .await
            .expect("log"),
        expected,
        "a failed flush added nothing"
    );
}

/// An account keeps at most [`MAX_UNKNOWN_REASONS`] reasons: a new one beyond them is left out,
/// the ones it has still add up, and other accounts are not affected.
pub async fn delivery_unknown_reasons_bounded(h: &Harness) {
    let store = &*h.store;
    let s = Scene::new(Platform::Messenger);
    let account = AccountId::new(s.account.as_str());
    let at = tick();
    let many = |from: usize, to: usize| -> Vec<DeliveryTally> {
        (from..to)
            .map(|n| reason(&s, &format!("reason {n:02}"), 1, at))
            .collect()
    };
    store
        .record_deliveries(&many(0, MAX_UNKNOWN_REASONS - 2))
        .await
        .expect("first flush");
    let mut second = many(MAX_UNKNOWN_REASONS - 2, MAX_UNKNOWN_REASONS + 8);
    second.push(reason(&s, "reason 00", 4, at));
    second.push(kind(&s, "unknown", 40, at));
    store
        .record_deliveries(&second)
        .await
        .expect("second flush");
    let log = store
        .delivery_tallies(s.platform, &account)
        .await
        .expect("log");
    let reasons: Vec<&DeliveryTally> = log
        .iter()
        .filter(|t| matches!(t.tallied, Tallied::UnknownReason(_)))
        .collect();
    assert_eq!(reasons.len(), MAX_UNKNOWN_REASONS, "{log:?}");
    assert_eq!(*reasons[0], reason(&s, "reason 00", 5, at));
    assert_eq!(log[0], kind(&s, "unknown", 40, at), "kinds are not bounded");

    let other = Scene::new(Platform::Messenger);
    store
        .record_deliveries(&[reason(&other, "reason 99", 1, at)])
        .await
        .expect("other account");
    let theirs = store
        .delivery_tallies(other.platform, &AccountId::new(other.account.as_str()))
        .await
        .expect("log");
    assert_eq!(theirs, [reason(&other, "reason 99", 1, at)]);
}

/// Unrouted events are counted per account by reason, with the last arrival; a redelivery
/// keeps its first reason; the listing says each event's reason. `account_registered` tells an
/// account every tenant disconnected from one none connected.
pub async fn unrouted_reasons_grouped(h: &Harness) {
    let store = &*h.store;
    let s = Scene::new(Platform::Instagram);
    let account = AccountId::new(s.account.as_str());
    let before = now_ms();
    let stray = s.unrouted(
        vec![
            s.text("u20", "why-1", "first", tick()),
            s.text("u20", "why-2", "second", tick()),
        ],
        &UnroutedReason::NoTenant,
    );
    store.record_unrouted(&stray).await.expect("no tenant");
    let gone = s.unrouted(
        vec![s.text("u20", "why-3", "third", tick())],
        &UnroutedReason::Disconnected,
    );
    store.record_unrouted(&gone).await.expect("disconnected");
    let mut again = stray[..1].to_vec();
    again[0].reason = UnroutedReason::Disconnected;
    assert_eq!(store.record_unrouted(&again).await.expect("again"), 0);
    let other = Scene::new(s.platform);
    store
        .record_unrouted(&other.unrouted(
            vec![other.text("u21", "elsewhere", "no", tick())],
            &UnroutedReason::NoTenant,
        ))
        .await
        .expect("another account");
    let after = now_ms();

    let tallies = store
        .unrouted_tallies(s.platform, &account)
        .await
        .expect("tallies");
    let shape: Vec<(&UnroutedReason, u64)> = tallies.iter().map(|t| (&t.reason, t.count)).collect();
    assert_eq!(
        shape,
        [
            (&UnroutedReason::Disconnected, 1),
            (&UnroutedReason::NoTenant, 2)
        ],
        "grouped, by reason"
    );
    assert!(
        tallies
            .iter()
            .all(|t: &UnroutedTally| (before..=after).contains(&t.last_at_ms)),
        "{tallies:?}"
    );
    assert_eq!(
        store
            .unrouted_count(s.platform, &account)
            .await
            .expect("count"),
        3
    );
    let listed = store
        .unrouted_events(s.platform, &account, 0, 10)
        .await
        .expect("list");
    let reasons: Vec<Option<&str>> = listed.iter().map(|e| e.reason.as_deref()).collect();
    assert_eq!(
        reasons,
        [Some("no_tenant"), Some("no_tenant"), Some("disconnected")]
    );

    assert!(
        !store
            .account_registered(s.platform, &account)
            .await
            .expect("registered"),
        "no tenant has it"
    );
    store
        .upsert_account(&s.tenant, &NewAccount::new(s.platform, s.account.as_str()))
        .await
        .expect("connect");
    store
        .set_account_status(
            &s.tenant,
            s.platform,
            &account,
            &AccountStatus::Disconnected,
        )
        .await
        .expect("disconnect");
    assert!(
        store
            .tenants_for_account(s.platform, &account)
            .await
            .expect("route")
            .is_empty()
    );
    assert!(
        store
            .account_registered(s.platform, &account)
            .await
            .expect("registered"),
        "a disconnected account is still registered"
    );
    assert!(
        !store
            .account_registered(Platform::Messenger, &account)
            .await
            .expect("other platform")
    );
}
