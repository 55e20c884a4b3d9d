//! Conformance cases of the change log: what each write appends, in what order, for whom.

use std::collections::HashSet;
use std::sync::Arc;

use super::Harness;
use super::fixtures::{Scene, tick};
use crate::ids::TenantId;
use crate::platform::Platform;
use crate::store::account::{AccountStatus, NewAccount};
use crate::store::api::{MessageStore, OutboundMessage};
use crate::store::changes::{ChangeKind, ChangePage, ChangeSubject};
use crate::store::error::StoreError;
use crate::store::plan::now_ms;

async fn page(store: &dyn MessageStore, tenant: &TenantId, after: u64) -> ChangePage {
    store
        .changes_after(tenant, after, 1000)
        .await
        .expect("changes_after")
}

fn kinds(page: &ChangePage) -> Vec<ChangeKind> {
    page.changes.iter().map(|c| c.subject.kind()).collect()
}

fn seqs(page: &ChangePage) -> Vec<u64> {
    page.changes.iter().map(|c| c.seq).collect()
}

/// Each write appends what it changed, numbered 1, 2, 3... for the tenant; a redelivery
/// appends nothing; the subjects are read as they are now.
pub async fn change_log_records_each_write(h: &Harness) {
    let store = &*h.store;
    let s = Scene::new(Platform::Instagram);
    assert_eq!(store.change_head(&s.tenant).await.expect("head"), 0);
    let first = page(store, &s.tenant, 0).await;
    assert!(
        first.changes.is_empty() && first.head == 0 && !first.gap,
        "{first:?}"
    );

    let message = s.text("u1", "cl-1", "hello", tick());
    s.apply(store, vec![message.clone()]).await.expect("apply");
    let after_one = page(store, &s.tenant, 0).await;
    assert_eq!(
        kinds(&after_one),
        [ChangeKind::MessageStored, ChangeKind::ConversationUpdated]
    );
    assert_eq!(seqs(&after_one), [1, 2]);
    assert_eq!(after_one.head, 2);
    match &after_one.changes[0].subject {
        ChangeSubject::MessageStored(m) => {
            assert_eq!(m.message_id.as_str(), "cl-1");
            assert!(m.raw_event.is_none(), "changes never carry raw JSON");
        }
        other => panic!("expected the stored message, got {other:?}"),
    }
    assert!(after_one.changes[0].at_ms > 0);

    s.apply(store, vec![message]).await.expect("redelivery");
    assert_eq!(
        store.change_head(&s.tenant).await.expect("head"),
        2,
        "a redelivery changes nothing"
    );

    s.apply(store, vec![s.reaction("u1", "cl-1", "react", "❤", tick())])
        .await
        .expect("reaction");
    let reacted = page(store, &s.tenant, 2).await;
    // The user's reaction opens the messaging window again: the conversation changed too.
    assert_eq!(
        kinds(&reacted),
        [ChangeKind::MessageUpdated, ChangeKind::ConversationUpdated]
    );
    match &reacted.changes[0].subject {
        ChangeSubject::MessageUpdated(m) => assert_eq!(m.reactions.len(), 1),
        other => panic!("expected the reacted message, got {other:?}"),
    }

    s.apply(store, vec![s.edit("u1", "cl-1", "hello again", 1, tick())])
        .await
        .expect("edit");
    let edited = page(store, &s.tenant, 4).await;
    assert_eq!(
        kinds(&edited),
        [ChangeKind::MessageUpdated, ChangeKind::ConversationUpdated]
    );

    let conversation = match &after_one.changes[1].subject {
        ChangeSubject::ConversationUpdated(c) => c.id,
        other => panic!("expected the conversation, got {other:?}"),
    };
    store
        .mark_conversation_read(&s.tenant, conversation)
        .await
        .expect("read");
    let read = page(store, &s.tenant, 6).await;
    assert_eq!(
        kinds(&read),
        [ChangeKind::MessageUpdated, ChangeKind::ConversationUpdated]
    );
    store
        .set_conversation_archived(&s.tenant, conversation, true)
        .await
        .expect("archive");
    let archived = page(store, &s.tenant, 8).await;
    match &archived.changes[..] {
        [change] => match &change.subject {
            ChangeSubject::ConversationUpdated(c) => assert!(c.archived),
            other => panic!("expected the conversation, got {other:?}"),
        },
        other => panic!("expected one change, got {other:?}"),
    }

    store
        .upsert_account(&s.tenant, &NewAccount::new(s.platform, s.account.as_str()))
        .await
        .expect("account");
    store
        .set_account_status(
            &s.tenant,
            s.platform,
            &s.account.as_str().into(),
            &AccountStatus::Disconnected,
        )
        .await
        .expect("status");
    let accounts = page(store, &s.tenant, 9).await;
    assert_eq!(
        kinds(&accounts),
        [ChangeKind::AccountChanged, ChangeKind::AccountChanged]
    );
    assert!(matches!(
        &accounts.changes[0].subject,
        ChangeSubject::AccountChanged { account_id, .. } if account_id.as_str() == s.account
    ));

    // Keyset pages: two at a time, no gap, no repeat.
    let mut after = 0;
    let mut seen = Vec::new();
    loop {
        let page = store
            .changes_after(&s.tenant, after, 2)
            .await
            .expect("page");
        assert!(!page.gap);
        if page.changes.is_empty() {
            break;
        }
        assert!(page.changes.len() <= 2);
        seen.extend(seqs(&page));
        after = page.changes.last().map_or(after, |c| c.seq);
        if !page.has_more() {
            break;
        }
    }
    assert_eq!(seen, (1..=11).collect::<Vec<_>>());
    assert!(matches!(
        store.changes_after(&s.tenant, 0, 0).await,
        Err(StoreError::InvalidInput { .. })
    ));
}

/// A reply sent through the inbox and its echo are one message: one `message_stored`, and the
/// echo, which fills in what the send did not know, one `message_updated`.
pub async fn change_log_one_stored_per_message(h: &Harness) {
    let store = &*h.store;
    let s = Scene::new(Platform::Messenger);
    let at = tick();
    let sent = OutboundMessage::new(s.platform, s.account.as_str(), "u2", "cl-out", at)
        .with_text("on its way");
    store
        .record_outbound(&s.tenant, &sent)
        .await
        .expect("outbound");
    s.apply(store, vec![s.echo("u2", "cl-out", "on its way", at)])
        .await
        .expect("echo");
    s.apply(store, vec![s.echo("u2", "cl-out", "on its way", at)])
        .await
        .expect("echo again");
    let all = page(store, &s.tenant, 0).await;
    let stored = all
        .changes
        .iter()
        .filter(|c| c.subject.kind() == ChangeKind::MessageStored)
        .count();
    assert_eq!(stored, 1, "{:?}", kinds(&all));
    assert_eq!(
        kinds(&all),
        [
            ChangeKind::MessageStored,
            ChangeKind::ConversationUpdated,
            ChangeKind::MessageUpdated
        ]
    );

    // An echo of a message the inbox never recorded is that message's first copy.
    s.apply(
        store,
        vec![s.echo("u2", "cl-out-2", "from the Page inbox", tick())],
    )
    .await
    .expect("echo only");
    let echoed = page(store, &s.tenant, all.head).await;
    assert_eq!(
        kinds(&echoed),
        [ChangeKind::MessageStored, ChangeKind::ConversationUpdated]
    );
}

/// A notice that carries its commit's changes carries exactly what the log then reads: the
/// SQL stores' group commits of new messages carry theirs while a live follower runs
/// (`follow_changes`), and only then; a commit that changed a message again after storing it
/// (an edit that waited for it) carries none, or the edited message.
pub async fn change_log_notices_carry_what_the_log_reads(h: &Harness) {
    let store = &*h.store;
    let s = Scene::new(Platform::Instagram);
    let mut notices = store.change_notices();
    let mut check = async |items: Vec<serde_json::Value>, label: &str| {
        let before = store.change_head(&s.tenant).await.expect("head");
        s.apply(store, items).await.expect(label);
        if store.change_head(&s.tenant).await.expect("head") == before {
            // Nothing changed, nothing announced (an edit waiting for its message).
            return false;
        }
        let notice = loop {
            let notice = notices.recv().await.expect("a notice");
            if notice.tenant_id == s.tenant {
                break notice;
            }
        };
        let logged = page(store, &s.tenant, before).await;
        assert_eq!(notice.head, logged.head, "{label}");
        if let Some(carried) = &notice.changes {
            assert_eq!(carried.as_ref(), logged.changes.as_slice(), "{label}");
        }
        notice.changes.is_some()
    };
    let unfollowed = check(vec![s.text("u1", "cn-0", "before", tick())], "unfollowed").await;
    assert!(!unfollowed, "nothing is carried while no follower runs");
    store.follow_changes(true);
    let carried = check(
        vec![
            s.text("u1", "cn-1", "hello", tick()),
            s.text("u2", "cn-2", "hi", tick()),
        ],
        "new messages",
    )
    .await;
    let sql = !format!("{:?}", h.store).starts_with("InMemoryStore");
    assert_eq!(
        carried, sql,
        "SQL stores carry a group commit of new messages"
    );
    check(
        vec![s.edit("u1", "cn-3", "edited", 1, tick())],
        "an early edit",
    )
    .await;
    check(vec![s.text("u1", "cn-3", "first", tick())], "its message").await;
    store.follow_changes(false);
    let stopped = check(vec![s.text("u1", "cn-4", "after", tick())], "stopped").await;
    assert!(!stopped, "nothing is carried once the follower stopped");
    let now = page(store, &s.tenant, 0).await;
    let edited = now.changes.iter().any(|c| {
        matches!(&c.subject, ChangeSubject::MessageStored(m)
            if m.message_id.as_str() == "cn-3" && m.text.as_deref() == Some("edited"))
    });
    assert!(edited, "the log reads the message as edited: {now:?}");
}

/// Concurrent writers of one tenant: a reader following the log sees every change once, in
/// order, with no number skipped, while they write.
pub async fn change_log_concurrent_writers_no_gaps(h: &Harness) {
    let s = Scene::new(Platform::Instagram);
    let writers = 8;
    let per_writer = 12;
    let mut tasks = Vec::new();
    for w in 0..writers {
        let store = Arc::clone(&h.store);
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..per_writer {
                let user = format!("u{w}");
                let item = s.text(&user, &format!("cc-{w}-{i}"), "hi", tick());
                s.apply(store.as_ref(), vec![item]).await.expect("apply");
            }
        }));
    }
    let mut after = 0;
    let mut stored = HashSet::new();
    let mut done = false;
    while !done {
        done = tasks.iter().all(|t| t.is_finished());
        let page = h
            .store
            .changes_after(&s.tenant, after, 7)
            .await
            .expect("page");
        assert!(!page.gap, "a reader must never see a gap");
        for change in &page.changes {
            assert_eq!(change.seq, after + 1, "changes skipped or repeated");
            after = change.seq;
            if let ChangeSubject::MessageStored(m) = &change.subject {
                assert!(stored.insert(m.message_id.clone()), "stored twice: {m:?}");
            }
        }
        if page.has_more() {
            done = false;
        }
        tokio::task::yield_now().await;
    }
    for task in tasks {
        task.await.expect("writer");
    }
    loop {
        let page = page(h.store.as_ref(), &s.tenant, after).await;
        for change in &page.changes {
            assert_eq!(change.seq, after + 1);
            after = change.seq;
            if let ChangeSubject::MessageStored(m) = &change.subject {
                assert!(stored.insert(m.message_id.clone()));
            }
        }
        if !page.has_more() {
            break;
        }
    }
    assert_eq!(stored.len(), writers * per_writer);
    assert_eq!(after, h.store.change_head(&s.tenant).await.expect("head"));
}

/// A write that fails appends nothing and tells nobody.
pub async fn change_log_failed_write_appends_nothing(h: &Harness) {
    let store = &*h.store;
    let s = Scene::new(Platform::Messenger);
    s.apply(store, vec![s.text("u3", "cf-1", "one", tick())])
        .await
        .expect("setup");
    let head = store.change_head(&s.tenant).await.expect("head");
    let mut notices = store.change_notices();
    for after_writes in 0..16 {
        h.fail_point.fail_after(after_writes);
        let result = s
            .apply(
                store,
                vec![
                    s.text("u3", "cf-2", "two", tick()),
                    s.reaction("u3", "cf-1", "react", "👍", tick()),
                ],
            )
            .await;
        let armed = h.fail_point.is_armed();
        h.fail_point.disarm();
        if armed {
            break;
        }
        assert!(
            matches!(result, Err(StoreError::InjectedFailure)),
            "{result:?}"
        );
        assert_eq!(store.change_head(&s.tenant).await.expect("head"), head);
        assert!(page(store, &s.tenant, head).await.changes.is_empty());
        assert!(
            notices.try_recv().is_err(),
            "a failed write must not announce changes"
        );
    }
    let grown = store.change_head(&s.tenant).await.expect("head");
    assert_eq!(
        grown,
        head + 3,
        "the write that went through appends its three changes"
    );
    let notice = notices.try_recv().expect("the commit is announced");
    assert_eq!((notice.tenant_id, notice.head), (s.tenant.clone(), grown));
}

/// Each tenant has its own sequence and sees only its own changes.
pub async fn change_log_tenant_isolation(h: &Harness) {
    let store = &*h.store;
    let a = Scene::new(Platform::Messenger);
    let b = Scene::new(Platform::Messenger);
    a.apply(store, vec![a.text("u4", "ci-a", "for a", tick())])
        .await
        .expect("a");
    b.apply(store, vec![b.text("u4", "ci-b", "for b", tick())])
        .await
        .expect("b");
    for (tenant, mid) in [(&a.tenant, "ci-a"), (&b.tenant, "ci-b")] {
        let page = page(store, tenant, 0).await;
        assert_eq!(seqs(&page), [1, 2]);
        for change in &page.changes {
            match &change.subject {
                ChangeSubject::MessageStored(m) => {
                    assert_eq!((&m.tenant_id, m.message_id.as_str()), (tenant, mid));
                }
                ChangeSubject::ConversationUpdated(c) => assert_eq!(&c.tenant_id, tenant),
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    assert!(
        page(store, &TenantId::new("cl-nobody"), 0)
            .await
            .changes
            .is_empty()
    );
}

/// Pruned changes are gone, a reader behind them is told of the gap, and the sequence goes on.
/// Prunes every tenant's changes written so far: run it last on a shared store.
pub async fn change_log_pruning(h: &Harness) {
    let store = &*h.store;
    let s = Scene::new(Platform::Instagram);
    s.apply(store, vec![s.text("u5", "cp-1", "old", tick())])
        .await
        .expect("apply");
    let head = store.change_head(&s.tenant).await.expect("head");
    assert_eq!(head, 2);
    let pruned = store.prune_changes(now_ms() + 1_000).await.expect("prune");
    assert!(pruned >= 2, "pruned {pruned}");
    let behind = page(store, &s.tenant, 0).await;
    assert!(
        behind.gap && behind.changes.is_empty() && behind.head == 2,
        "{behind:?}"
    );
    let current = page(store, &s.tenant, 2).await;
    assert!(!current.gap && current.changes.is_empty());
    let future = page(store, &s.tenant, 99).await;
    assert!(
        future.gap,
        "an id beyond the head means the log started over"
    );
    s.apply(store, vec![s.text("u5", "cp-2", "new", tick())])
        .await
        .expect("apply");
    let next = page(store, &s.tenant, 2).await;
    assert_eq!(seqs(&next), [3, 4]);
    assert!(!next.gap);
    assert!(page(store, &s.tenant, 0).await.gap);
    assert_eq!(store.prune_changes(0).await.expect("prune nothing"), 0);
}
