//! The in-memory store's tables and how a [`Plan`] changes them, with an undo log so that a
//! failed write leaves nothing behind.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use crate::ids::{AccountId, TenantId};
use crate::platform::Platform;
use crate::store::account::Account;
use crate::store::api::RawEvent;
use crate::store::changes::{ChangeNotice, ChangeSet, PendingChange};
use crate::store::conversation::Conversation;
use crate::store::error::StoreError;
use crate::store::failpoint::FailPoint;
use crate::store::media::{MediaRecord, StoredMediaId};
use crate::store::model::StoredMessage;
use crate::store::pending::{PendingOp, Waiting};
use crate::store::plan::{ConversationKey, RawRow, ReactionState, Target, visible_reactions};

#[derive(Debug, Clone)]
pub(super) struct MessageEntry {
    pub message: StoredMessage,
    pub reactions: Vec<ReactionState>,
    pub raw: Option<String>,
}

impl MessageEntry {
    pub fn view(&self, include_raw: bool) -> Result<StoredMessage, StoreError> {
        let mut message = self.message.clone();
        message.reactions = visible_reactions(&self.reactions);
        if include_raw {
            message.raw_event = self
                .raw
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .map_err(|source| StoreError::Corrupt {
                    what: "messages.raw_event",
                    source,
                })?;
        }
        Ok(message)
    }
}

pub(super) type AccountKey = (TenantId, Platform, AccountId);

#[derive(Debug, Default)]
pub(super) struct State {
    next_id: i64,
    pub messages: BTreeMap<i64, MessageEntry>,
    message_keys: HashMap<Target, i64>,
    pub conversations: BTreeMap<i64, Conversation>,
    conversation_keys: HashMap<ConversationKey, i64>,
    pub raw: BTreeMap<i64, RawEvent>,
    raw_keys: HashSet<(TenantId, String)>,
    /// Unrouted events by id, and their hashes (each kept once).
    pub unrouted: BTreeMap<i64, RawEvent>,
    unrouted_keys: HashSet<String>,
    pub accounts: BTreeMap<AccountKey, Account>,
    /// Ops waiting for their message, by message (see `pending.rs`).
    waiting: HashMap<Target, Vec<Waiting>>,
    /// Every pending op ever kept, applied or not: (raw event hash, message).
    pending_keys: HashSet<(String, Target)>,
    pub logs: HashMap<TenantId, TenantLog>,
    /// Kept attachments, by id.
    pub media: BTreeMap<StoredMediaId, MediaRecord>,
}

/// One tenant's change log.
#[derive(Debug, Default)]
pub(super) struct TenantLog {
    pub head: u64,
    /// `(seq, written at, change)`, oldest first.
    pub entries: VecDeque<(u64, i64, PendingChange)>,
}

enum Undo {
    Message(i64, Option<Box<MessageEntry>>),
    Conversation(i64, Option<Box<Conversation>>),
    Raw(i64, TenantId, String),
    Account(AccountKey, Option<Box<Account>>),
    Media(StoredMediaId, Option<Box<MediaRecord>>),
    Pending(String, Target),
    Applied(Target, Vec<Waiting>),
}

/// A write in progress: every change is recorded so [`Tx::rollback`] can undo it.
pub(super) struct Tx<'a> {
    state: &'a mut State,
    undo: Vec<Undo>,
    fail: &'a FailPoint,
    changes: ChangeSet,
}

impl State {
    pub fn message_id_of(&self, target: &Target) -> Option<i64> {
        self.message_keys.get(target).copied()
    }

    pub fn conversation_of(&self, key: &ConversationKey) -> Option<i64> {
        self.conversation_keys.get(key).copied()
    }

    pub fn begin<'a>(&'a mut self, fail: &'a FailPoint) -> Tx<'a> {
        Tx {
            state: self,
            undo: Vec::new(),
            fail,
            changes: ChangeSet::default(),
        }
    }
}

impl Tx<'_> {
    pub fn state(&self) -> &State {
        self.state
    }

    /// Ends the write: appends its changes to the tenants' logs, and returns what to tell
    /// listeners once the lock is released.
    pub fn commit(self, now_ms: i64) -> Vec<ChangeNotice> {
        let mut notices = Vec::new();
        // The followers' reads of the in-memory log are as cheap as what a notice could carry.
        let (tenants, _known) = self.changes.into_sorted();
        for (tenant, changes) in tenants {
            let accounts = changes
                .iter()
                .any(|c| matches!(c, PendingChange::Account(..)));
            let log = self.state.logs.entry(tenant.clone()).or_default();
            for change in changes {
                log.head += 1;
                log.entries.push_back((log.head, now_ms, change));
            }
            notices.push(ChangeNotice {
                tenant_id: tenant,
                head: log.head,
                accounts,
                changes: None,
            });
        }
        notices
    }

    pub fn rollback(mut self) {
        while let Some(undo) = self.undo.pop() {
            let s = &mut *self.state;
            match undo {
                Undo::Message(id, Some(old)) => {
                    s.messages.insert(id, *old);
                }
                Undo::Message(id, None) => {
                    if let Some(gone) = s.messages.remove(&id) {
                        let m = gone.message;
                        s.message_keys.remove(&Target {
                            tenant_id: m.tenant_id,
                            platform: m.platform,
                            message_id: m.message_id,
                        });
                    }
                }
                Undo::Conversation(id, Some(old)) => {
                    s.conversations.insert(id, *old);
                }
                Undo::Conversation(id, None) => {
                    if let Some(c) = s.conversations.remove(&id) {
                        s.conversation_keys
                            .remove(&ConversationKey::of_conversation(&c));
                    }
                }
                Undo::Raw(id, tenant, hash) => {
                    s.raw.remove(&id);
                    s.raw_keys.remove(&(tenant, hash));
                }
                Undo::Pending(hash, target) => {
                    if let Some(waiting) = s.waiting.get_mut(&target) {
                        waiting.retain(|w| w.orphan.event_hash != hash);
                        if waiting.is_empty() {
                            s.waiting.remove(&target);
                        }
                    }
                    s.pending_keys.remove(&(hash, target));
                }
                Undo::Applied(target, waiting) => {
                    s.waiting.insert(target, waiting);
                }
                Undo::Media(id, old) => match old {
                    Some(old) => {
                        s.media.insert(id, *old);
                    }
                    None => {
                        s.media.remove(&id);
                    }
                },
                Undo::Account(key, old) => match old {
                    Some(old) => {
                        s.accounts.insert(key, *old);
                    }
                    None => {
                        s.accounts.remove(&key);
                    }
                },
            }
        }
    }

    pub fn next_row_id(&mut self) -> i64 {
        self.next_id()
    }

    fn next_id(&mut self) -> i64 {
        self.state.next_id += 1;
        self.state.next_id
    }

    pub fn put_message(&mut self, id: i64, entry: MessageEntry) -> Result<(), StoreError> {
        self.fail.hit()?;
        let m = &entry.message;
        let key = Target {
            tenant_id: m.tenant_id.clone(),
            platform: m.platform,
            message_id: m.message_id.clone(),
        };
        if self.state.messages.contains_key(&id) {
            self.changes
                .message_updated(&m.tenant_id, id, m.conversation_id.get());
        } else {
            self.changes
                .message_stored(&m.tenant_id, id, m.conversation_id.get());
        }
        self.state.message_keys.insert(key, id);
        let old = self.state.messages.insert(id, entry);
        self.undo.push(Undo::Message(id, old.map(Box::new)));
        Ok(())
    }

    pub fn put_conversation(&mut self, c: Conversation) -> Result<(), StoreError> {
        self.fail.hit()?;
        let id = c.id.get();
        let key = ConversationKey::of_conversation(&c);
        self.changes.conversation_updated(&c.tenant_id, id);
        self.state.conversation_keys.insert(key, id);
        let old = self.state.conversations.insert(id, c);
        self.undo.push(Undo::Conversation(id, old.map(Box::new)));
        Ok(())
    }

    pub fn put_account(&mut self, account: Account) -> Result<(), StoreError> {
        self.changes
            .account_changed(&account.tenant_id, account.platform, &account.account_id);
        self.touch_account(account)
    }

    /// Writes a media record (no change of its own: its message's says it).
    pub fn put_media(&mut self, record: MediaRecord) -> Result<(), StoreError> {
        self.fail.hit()?;
        let id = record.id.clone();
        let old = self.state.media.insert(id.clone(), record);
        self.undo.push(Undo::Media(id, old.map(Box::new)));
        Ok(())
    }

    /// Writes an account without a change: its last-event time moves with every delivery, and
    /// no reader of the log cares.
    pub fn touch_account(&mut self, account: Account) -> Result<(), StoreError> {
        self.fail.hit()?;
        let key = (
            account.tenant_id.clone(),
            account.platform,
            account.account_id.clone(),
        );
        let old = self.state.accounts.insert(key.clone(), account);
        self.undo.push(Undo::Account(key, old.map(Box::new)));
        Ok(())
    }

    /// Keeps an op until `target` is stored, unless it is kept already.
    pub fn put_pending(
        &mut self,
        target: &Target,
        op: PendingOp,
        orphan: &RawRow,
    ) -> Result<(), StoreError> {
        let key = (orphan.event_hash.clone(), target.clone());
        if self.state.pending_keys.contains(&key) {
            return Ok(());
        }
        self.fail.hit()?;
        let waiting = Waiting {
            id: self.next_id(),
            target: target.clone(),
            op,
            orphan: orphan.clone(),
        };
        self.state
            .waiting
            .entry(target.clone())
            .or_default()
            .push(waiting);
        self.state.pending_keys.insert(key.clone());
        self.undo.push(Undo::Pending(key.0, key.1));
        Ok(())
    }

    /// The ops that waited for `target`, now applied: they no longer wait.
    pub fn take_waiting(&mut self, target: &Target) -> Vec<Waiting> {
        let Some(waiting) = self.state.waiting.remove(target) else {
            return Vec::new();
        };
        self.undo
            .push(Undo::Applied(target.clone(), waiting.clone()));
        waiting
    }

    pub fn insert_unrouted(&mut self, row: &RawRow) -> Result<bool, StoreError> {
        if self.state.unrouted_keys.contains(&row.event_hash) {
            return Ok(false);
        }
        let raw = serde_json::from_str(&row.raw).map_err(|source| StoreError::Corrupt {
            what: "unrouted_events.raw",
            source,
        })?;
        let id = self.next_id();
        self.state.unrouted_keys.insert(row.event_hash.clone());
        self.state.unrouted.insert(
            id,
            RawEvent {
                id,
                tenant_id: TenantId::new(""),
                platform: row.platform,
                account_id: row.account_id.clone(),
                kind: row.kind.clone(),
                reason: row.reason.clone(),
                timestamp_ms: row.timestamp_ms,
                received_at_ms: row.received_at_ms,
                raw,
            },
        );
        Ok(true)
    }

    /// Keeps a raw event unless the tenant already has it; returns whether it was new.
    pub fn insert_raw(&mut self, row: &RawRow) -> Result<bool, StoreError> {
        if self
            .state
            .raw_keys
            .contains(&(row.tenant_id.clone(), row.event_hash.clone()))
        {
            return Ok(false);
        }
        self.fail.hit()?;
        let id = self.next_id();
        let raw = serde_json::from_str(&row.raw).map_err(|source| StoreError::Corrupt {
            what: "raw_events.raw",
            source,
        })?;
        self.state
            .raw_keys
            .insert((row.tenant_id.clone(), row.event_hash.clone()));
        self.state.raw.insert(
            id,
            RawEvent {
                id,
                tenant_id: row.tenant_id.clone(),
                platform: row.platform,
                account_id: row.account_id.clone(),
                kind: row.kind.clone(),
                reason: row.reason.clone(),
                timestamp_ms: row.timestamp_ms,
                received_at_ms: row.received_at_ms,
                raw,
            },
        );
        self.undo
            .push(Undo::Raw(id, row.tenant_id.clone(), row.event_hash.clone()));
        Ok(true)
    }
}
