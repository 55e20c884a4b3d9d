//! The change log: every write that changes a tenant's inbox appends, in the same transaction,
//! one entry per thing it changed, numbered by a per-tenant sequence that only grows.
//!
//! Live events, their resumption after a reconnect, the other instances of an app and the
//! account routing cache all read it, so none of them can miss a change or see one twice.

use std::collections::HashMap;
use std::sync::Arc;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Serialize;
use tokio::sync::broadcast;

use super::conversation::Conversation;
use super::model::StoredMessage;
use crate::ids::{AccountId, TenantId};
use crate::platform::Platform;

/// How long changes are kept unless the inbox is told otherwise: 7 days.
pub const DEFAULT_CHANGE_RETENTION: std::time::Duration =
    std::time::Duration::from_secs(7 * 24 * 3600);

/// Most changes one [`MessageStore::changes_after`](super::MessageStore::changes_after) call returns.
pub const MAX_CHANGES_PAGE: u32 = 1000;

/// The page size a `changes_after` limit asks for.
pub(crate) fn change_page_size(limit: u32) -> Result<usize, super::StoreError> {
    if limit == 0 {
        return Err(super::StoreError::invalid("a page size of 0"));
    }
    Ok(limit.min(MAX_CHANGES_PAGE) as usize)
}

/// What one change log entry says changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChangeKind {
    /// A message was stored for the first time.
    MessageStored,
    /// A stored message changed: an echo merged, a reaction, an edit, a deletion, a receipt.
    MessageUpdated,
    /// A conversation's preview, unread count, state or participant changed.
    ConversationUpdated,
    /// An account was connected, updated, or its status changed.
    AccountChanged,
}

impl ChangeKind {
    /// The name kept in the log: `message_stored`, `message_updated`, `conversation_updated`,
    /// `account_changed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MessageStored => "message_stored",
            Self::MessageUpdated => "message_updated",
            Self::ConversationUpdated => "conversation_updated",
            Self::AccountChanged => "account_changed",
        }
    }

    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub(crate) fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "message_stored" => Self::MessageStored,
            "message_updated" => Self::MessageUpdated,
            "conversation_updated" => Self::ConversationUpdated,
            "account_changed" => Self::AccountChanged,
            _ => return None,
        })
    }
}

/// One entry of a tenant's change log, with what it names as it is now.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Change {
    /// The tenant's sequence number: 1 for its first change, then one more for each.
    pub seq: u64,
    /// When the change was written, in ms since the epoch.
    pub at_ms: i64,
    /// What changed.
    pub subject: ChangeSubject,
}

/// What a [`Change`] changed, read back when the log is read (so two changes of one message
/// both show it as it is now). Messages never carry their raw webhook JSON here.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ChangeSubject {
    /// [`ChangeKind::MessageStored`].
    MessageStored(Box<StoredMessage>),
    /// [`ChangeKind::MessageUpdated`].
    MessageUpdated(Box<StoredMessage>),
    /// [`ChangeKind::ConversationUpdated`].
    ConversationUpdated(Box<Conversation>),
    /// [`ChangeKind::AccountChanged`]: the account's key (read the account itself with
    /// [`MessageStore::get_account`](super::MessageStore::get_account): it holds its token).
    AccountChanged {
        /// Messenger or Instagram.
        platform: Platform,
        /// The Page or Instagram account.
        account_id: AccountId,
    },
}

impl ChangeSubject {
    /// The kind of change.
    pub fn kind(&self) -> ChangeKind {
        match self {
            Self::MessageStored(_) => ChangeKind::MessageStored,
            Self::MessageUpdated(_) => ChangeKind::MessageUpdated,
            Self::ConversationUpdated(_) => ChangeKind::ConversationUpdated,
            Self::AccountChanged { .. } => ChangeKind::AccountChanged,
        }
    }
}

/// One page of a tenant's changes, from [`MessageStore::changes_after`](super::MessageStore::changes_after).
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct ChangePage {
    /// The changes after the sequence number asked for, oldest first, at most the limit.
    pub changes: Vec<Change>,
    /// The tenant's newest sequence number when the page was read (0: no change yet).
    pub head: u64,
    /// Some changes right after the sequence number asked for are gone (pruned after the
    /// retention), or the number is beyond the head (the log was started over): a reader
    /// cannot continue without a gap and must reload.
    pub gap: bool,
}

impl ChangePage {
    /// Whether more changes wait after this page.
    pub fn has_more(&self) -> bool {
        self.changes.last().is_some_and(|c| c.seq < self.head)
    }
}

/// Told by a store, in this process, after each commit that appended changes: which tenant's
/// log grew and to what, and, when the write knew them, the changes themselves. The log is
/// the record: a listener that misses a notice, or gets one without its changes, reads it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ChangeNotice {
    /// The tenant.
    pub tenant_id: TenantId,
    /// Its newest sequence number after the commit.
    pub head: u64,
    /// Whether the commit changed an account (connected, updated, status).
    pub accounts: bool,
    /// The commit's changes of this tenant, up to `head`, as they were committed, when the
    /// write knew every one of them (a group commit of new messages does): live events then
    /// need no read of the log. `None`: read the log for them.
    pub changes: Option<Arc<[Change]>>,
}

/// How many notices wait for a slow listener before it misses some (and must read every log
/// it follows).
const NOTICE_CAPACITY: usize = 4096;

/// The sender side of [`ChangeNotice`]s every backend keeps, and how many live followers of
/// this process listen to them.
#[derive(Debug, Clone)]
pub(crate) struct ChangeNotices {
    tx: broadcast::Sender<ChangeNotice>,
    /// Only the SQL stores carry changes in their notices.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    followers: Arc<AtomicUsize>,
}

impl Default for ChangeNotices {
    fn default() -> Self {
        Self {
            tx: broadcast::channel(NOTICE_CAPACITY).0,
            #[cfg(any(feature = "sqlite", feature = "postgres"))]
            followers: Arc::default(),
        }
    }
}

impl ChangeNotices {
    /// A follower started (`true`) or stopped (`false`).
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub(crate) fn follow(&self, following: bool) {
        if following {
            self.followers.fetch_add(1, Ordering::Relaxed);
        } else {
            // Never below zero, whatever a caller does.
            let _ = self
                .followers
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
        }
    }

    /// Whether a follower listens: only then are a commit's changes worth carrying.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub(crate) fn followed(&self) -> bool {
        self.followers.load(Ordering::Relaxed) > 0
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<ChangeNotice> {
        self.tx.subscribe()
    }

    pub(crate) fn send(&self, notices: Vec<ChangeNotice>) {
        for notice in notices {
            // No listener is fine: nobody is waiting for live events.
            let _ = self.tx.send(notice);
        }
    }
}

/// A change about to be appended, naming what it changed by row id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PendingChange {
    /// A message (and its conversation).
    Message {
        kind: ChangeKind,
        message: i64,
        conversation: i64,
    },
    Conversation(i64),
    Account(Platform, AccountId),
}

impl PendingChange {
    /// The message's row id, if a message changed.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub(crate) fn message_id(&self) -> Option<i64> {
        match self {
            Self::Message { message, .. } => Some(*message),
            _ => None,
        }
    }

    /// The conversation's row id, if a message or a conversation changed.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub(crate) fn conversation_id(&self) -> Option<i64> {
        match self {
            Self::Message { conversation, .. } | Self::Conversation(conversation) => {
                Some(*conversation)
            }
            Self::Account(..) => None,
        }
    }

    /// The account, if an account changed.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub(crate) fn account(&self) -> Option<(Platform, &AccountId)> {
        match self {
            Self::Account(platform, account_id) => Some((*platform, account_id)),
            _ => None,
        }
    }

    pub(crate) fn kind(&self) -> ChangeKind {
        match self {
            Self::Message { kind, .. } => *kind,
            Self::Conversation(_) => ChangeKind::ConversationUpdated,
            Self::Account(..) => ChangeKind::AccountChanged,
        }
    }

    fn same_subject(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Message { message: a, .. }, Self::Message { message: b, .. }) => a == b,
            (Self::Conversation(a), Self::Conversation(b)) => a == b,
            (Self::Account(p, a), Self::Account(q, b)) => p == q && a == b,
            _ => false,
        }
    }
}

/// The changes of one transaction, per tenant, in order, each thing once: a message stored
/// and then updated in one transaction is one `message_stored`.
#[derive(Debug, Default)]
pub(crate) struct ChangeSet {
    tenants: Vec<(TenantId, Vec<PendingChange>)>,
    index: HashMap<TenantId, usize>,
    known: Known,
}

/// What a transaction knows of the things it changed, as they will be committed: the state
/// a write read back or wrote whole, forgotten when anything changes the thing again.
#[derive(Debug, Default)]
pub(crate) struct Known {
    /// Whether the writer learns what it changes at all.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    knowing: bool,
    messages: HashMap<i64, StoredMessage>,
    conversations: HashMap<i64, Conversation>,
}

impl Known {
    fn forget(&mut self, change: &PendingChange) {
        match change {
            PendingChange::Message { message, .. } => {
                self.messages.remove(message);
            }
            PendingChange::Conversation(id) => {
                self.conversations.remove(id);
            }
            PendingChange::Account(..) => {}
        }
    }

    /// A tenant's changes numbered from `first`, if every one is known (an account change
    /// never is: its subject is read from the accounts). What it returns is taken out: a
    /// transaction names each thing once.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub(crate) fn resolve(
        &mut self,
        changes: &[PendingChange],
        first: u64,
        at_ms: i64,
    ) -> Option<Arc<[Change]>> {
        if !self.knowing {
            return None;
        }
        (first..)
            .zip(changes)
            .map(|(seq, change)| {
                let subject = match change {
                    PendingChange::Message { kind, message, .. } => {
                        let message = Box::new(self.messages.remove(message)?);
                        match kind {
                            ChangeKind::MessageStored => ChangeSubject::MessageStored(message),
                            _ => ChangeSubject::MessageUpdated(message),
                        }
                    }
                    PendingChange::Conversation(id) => {
                        ChangeSubject::ConversationUpdated(Box::new(self.conversations.remove(id)?))
                    }
                    PendingChange::Account(..) => return None,
                };
                Some(Change {
                    seq,
                    at_ms,
                    subject,
                })
            })
            .collect()
    }
}

impl ChangeSet {
    /// A change set that learns (`true`) or not what its writer changes.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub(crate) fn knowing(mut self, knowing: bool) -> Self {
        self.known.knowing = knowing;
        self
    }

    /// Whether the writer should tell it what it changes
    /// ([`message_stored_as`](Self::message_stored_as), [`conversation_as`](Self::conversation_as)).
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub(crate) fn is_knowing(&self) -> bool {
        self.known.knowing
    }

    fn push(&mut self, tenant: &TenantId, change: PendingChange) {
        self.known.forget(&change);
        let slot = *self.index.entry(tenant.clone()).or_insert_with(|| {
            self.tenants.push((tenant.clone(), Vec::new()));
            self.tenants.len() - 1
        });
        let changes = &mut self.tenants[slot].1;
        match changes.iter_mut().find(|c| c.same_subject(&change)) {
            // A message stored in this transaction is new to every reader, whatever else
            // happened to it since.
            Some(PendingChange::Message { kind, .. })
                if change.kind() == ChangeKind::MessageStored =>
            {
                *kind = ChangeKind::MessageStored;
            }
            Some(_) => {}
            None => changes.push(change),
        }
    }

    pub(crate) fn message_stored(&mut self, tenant: &TenantId, message: i64, conversation: i64) {
        let kind = ChangeKind::MessageStored;
        self.push(
            tenant,
            PendingChange::Message {
                kind,
                message,
                conversation,
            },
        );
    }

    /// [`message_stored`](Self::message_stored), for a message written whole: `message` is
    /// what the transaction commits, unless something changes it again.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub(crate) fn message_stored_as(&mut self, message: StoredMessage, conversation: i64) {
        let id = message.id.get();
        self.message_stored(&message.tenant_id, id, conversation);
        self.known.messages.insert(id, message);
    }

    /// A conversation, as the transaction commits it unless something changes it again (its
    /// change was already added).
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub(crate) fn conversation_as(&mut self, conversation: Conversation) {
        self.known
            .conversations
            .insert(conversation.id.get(), conversation);
    }

    pub(crate) fn message_updated(&mut self, tenant: &TenantId, message: i64, conversation: i64) {
        let kind = ChangeKind::MessageUpdated;
        self.push(
            tenant,
            PendingChange::Message {
                kind,
                message,
                conversation,
            },
        );
    }

    pub(crate) fn conversation_updated(&mut self, tenant: &TenantId, conversation: i64) {
        self.push(tenant, PendingChange::Conversation(conversation));
    }

    pub(crate) fn account_changed(
        &mut self,
        tenant: &TenantId,
        platform: Platform,
        account_id: &AccountId,
    ) {
        self.push(tenant, PendingChange::Account(platform, account_id.clone()));
    }

    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub(crate) fn is_empty(&self) -> bool {
        self.tenants.is_empty()
    }

    /// The tenants and their changes, tenants sorted: every writer takes the tenants' sequence
    /// rows in one order, so concurrent transactions cannot deadlock on them. Within a tenant,
    /// messages come before conversations and accounts (each in the order they changed), so
    /// every backend logs one transaction alike whatever order it wrote its rows in.
    pub(crate) fn into_sorted(mut self) -> (Vec<(TenantId, Vec<PendingChange>)>, Known) {
        self.tenants.sort_by(|a, b| a.0.cmp(&b.0));
        for (_, changes) in &mut self.tenants {
            changes.sort_by_key(|c| match c {
                PendingChange::Message { .. } => 0,
                PendingChange::Conversation(_) => 1,
                PendingChange::Account(..) => 2,
            });
        }
        (self.tenants, self.known)
    }
}
