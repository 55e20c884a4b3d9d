//! How the in-memory store executes a [`Plan`]: the reference semantics of every event kind.

use super::state::{MessageEntry, Tx};
use crate::ids::ConversationId;
use crate::store::api::ApplyReport;
use crate::store::conversation::{Conversation, ParticipantProfile};
use crate::store::error::StoreError;
use crate::store::model::{Direction, StoredMessage};
use crate::store::owner::ThreadOwner;
use crate::store::plan::{
    ConversationKey, MessageRow, Op, Plan, ReceiptScope, Target, WindowOpening, apply_reaction,
    now_ms, preview,
};

/// What happened to one planned message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Upsert {
    Inserted(i64),
    Merged(i64),
    Unchanged(i64),
}

/// The outbound messages one receipt covers in a conversation.
struct ReceiptRange {
    conversation_id: i64,
    /// Every message up to this time (`i64::MIN`: none by time).
    up_to_ms: i64,
    /// And this message (by row id), whatever its time.
    exact: Option<i64>,
}

impl Tx<'_> {
    pub fn apply(&mut self, plan: &Plan) -> Result<ApplyReport, StoreError> {
        let mut report = ApplyReport::default();
        let mut arrived = Vec::new();
        for row in &plan.messages {
            match self.upsert_message(row)? {
                Upsert::Inserted(_) => {
                    report.inserted += 1;
                    arrived.push(message_key(row));
                }
                Upsert::Merged(_) => report.updated += 1,
                Upsert::Unchanged(_) => report.duplicates += 1,
            }
        }
        for op in &plan.ops {
            self.apply_op(op, &mut report)?;
        }
        for raw in &plan.raw {
            if self.insert_raw(raw)? {
                report.raw_kept += 1;
            } else {
                report.duplicates += 1;
            }
        }
        report.updated += self.settle(&arrived)?;
        for opening in &plan.openings {
            self.open_window(opening)?;
        }
        for touch in &plan.touches {
            let key = (
                touch.tenant_id.clone(),
                touch.platform,
                touch.account_id.clone(),
            );
            if let Some(account) = self.state().accounts.get(&key)
                && account
                    .last_event_at_ms
                    .is_none_or(|last| last < touch.at_ms)
            {
                let mut account = account.clone();
                account.last_event_at_ms = Some(touch.at_ms);
                self.touch_account(account)?;
            }
        }
        Ok(report)
    }

    pub fn upsert_message(&mut self, row: &MessageRow) -> Result<Upsert, StoreError> {
        match self.state().message_id_of(&message_key(row)) {
            Some(id) => self.merge_outbound(id, row),
            None => self.insert_message(row),
        }
    }

    /// A copy of a stored message: an outbound one fills in what the first copy lacked.
    fn merge_outbound(&mut self, id: i64, row: &MessageRow) -> Result<Upsert, StoreError> {
        let Some(old) = self.state().messages.get(&id) else {
            return Ok(Upsert::Unchanged(id));
        };
        if row.direction != Direction::Outbound || old.message.direction != Direction::Outbound {
            return Ok(Upsert::Unchanged(id));
        }
        let mut entry = old.clone();
        let m = &mut entry.message;
        fill(&mut m.app_id, &row.app_id.as_deref().map(Into::into));
        fill(&mut m.metadata, &row.metadata);
        fill(&mut m.reply_to, &row.reply_to);
        // What an unsend erased stays erased.
        if !m.deleted {
            fill(&mut entry.raw, &row.raw_event);
            fill(&mut m.text, &row.text);
            if m.attachments.is_empty() {
                m.attachments.clone_from(&row.attachments);
            }
        }
        if entry.raw == old.raw && entry.message == old.message {
            return Ok(Upsert::Unchanged(id));
        }
        self.put_message(id, entry)?;
        Ok(Upsert::Merged(id))
    }

    /// A new message, and its conversation moved to it.
    fn insert_message(&mut self, row: &MessageRow) -> Result<Upsert, StoreError> {
        let conversation = self.ensure_conversation(row)?;
        let id = self.next_row_id();
        let entry = MessageEntry {
            message: row.stored(id, conversation.id, now_ms()),
            reactions: Vec::new(),
            raw: row.raw_event.clone(),
        };
        self.put_message(id, entry)?;
        let mut c = conversation;
        if row.timestamp_ms >= c.last_message_at_ms {
            c.last_message_at_ms = row.timestamp_ms;
            c.last_message_id = Some(row.message_id.clone());
            c.last_message_preview.clone_from(&row.preview);
            c.last_message_direction = Some(row.direction);
        }
        if row.is_unread() {
            c.unread_count = c.unread_count.saturating_add(1);
            c.archived = false;
        }
        if row.opens_window() {
            c.last_inbound_at_ms = Some(later(c.last_inbound_at_ms, row.timestamp_ms));
        }
        self.put_conversation(c)?;
        Ok(Upsert::Inserted(id))
    }

    /// Moves the conversation's last inbound time to a window-opening event's, when it is later.
    fn open_window(&mut self, opening: &WindowOpening) -> Result<(), StoreError> {
        let Some(c) = self
            .state()
            .conversation_of(&opening.key)
            .and_then(|id| self.state().conversations.get(&id))
        else {
            return Ok(());
        };
        if c.last_inbound_at_ms
            .is_some_and(|last| last >= opening.at_ms)
        {
            return Ok(());
        }
        let mut c = c.clone();
        c.last_inbound_at_ms = Some(opening.at_ms);
        self.put_conversation(c)
    }

    fn ensure_conversation(&mut self, row: &MessageRow) -> Result<Conversation, StoreError> {
        let key = ConversationKey::of(row);
        if let Some(c) = self
            .state()
            .conversation_of(&key)
            .and_then(|id| self.state().conversations.get(&id))
        {
            return Ok(c.clone());
        }
        let c = Conversation {
            id: ConversationId::new(self.next_row_id()),
            tenant_id: row.tenant_id.clone(),
            kind: row.kind,
            post_id: Conversation::post_id_of(row.kind, &row.participant_id),
            platform: row.platform,
            account_id: row.account_id.clone(),
            participant_id: row.participant_id.clone(),
            participant: ParticipantProfile::default(),
            last_message_at_ms: row.timestamp_ms,
            last_message_id: None,
            last_message_preview: None,
            last_message_direction: None,
            unread_count: 0,
            archived: false,
            created_at_ms: now_ms(),
            owner: ThreadOwner::Bot,
            last_inbound_at_ms: None,
        };
        self.put_conversation(c.clone())?;
        Ok(c)
    }

    pub(super) fn apply_op(&mut self, op: &Op, report: &mut ApplyReport) -> Result<(), StoreError> {
        let (target, orphan) = match op {
            Op::React { target, orphan, .. }
            | Op::Edit { target, orphan, .. }
            | Op::Delete { target, orphan }
            | Op::Hide { target, orphan, .. } => (target, orphan),
            Op::Receipt {
                scope,
                read,
                timestamp_ms,
            } => {
                let changed = self.receipt(scope, *read, *timestamp_ms)?;
                let kept = self.keep_missing_receipts(scope, *read, *timestamp_ms, report)?;
                if changed == 0 && !kept {
                    report.duplicates += 1;
                }
                report.updated += changed;
                return Ok(());
            }
        };
        let Some(id) = self.state().message_id_of(target) else {
            return self.keep_pending(op, target, orphan, report);
        };
        let Some(old) = self.state().messages.get(&id) else {
            return Ok(());
        };
        let mut entry = old.clone();
        let (changed, preview) = change(&mut entry, op);
        if !changed {
            report.duplicates += 1;
            return Ok(());
        }
        report.updated += 1;
        let m = entry.message.clone();
        self.put_message(id, entry)?;
        if let Some(preview) = preview {
            self.after_change(&m, preview, matches!(op, Op::Delete { .. }))?;
        }
        Ok(())
    }

    /// Keeps the conversation in step with an edited or deleted message.
    fn after_change(
        &mut self,
        m: &StoredMessage,
        preview: Option<String>,
        deleted: bool,
    ) -> Result<(), StoreError> {
        let Some(old) = self.state().conversations.get(&m.conversation_id.get()) else {
            return Ok(());
        };
        let mut c = old.clone();
        if c.last_message_id.as_ref() == Some(&m.message_id) {
            c.last_message_preview = preview;
        }
        if deleted && m.direction == Direction::Inbound && m.read_at_ms.is_none() {
            c.unread_count = c.unread_count.saturating_sub(1);
        }
        if c != *old {
            self.put_conversation(c)?;
        }
        Ok(())
    }

    /// The messages a receipt covers, per conversation.
    fn receipt_ranges(&self, scope: &ReceiptScope, read: bool) -> Vec<ReceiptRange> {
        let mut ranges = Vec::new();
        match scope {
            ReceiptScope::UpTo {
                tenant_id,
                platform,
                account_id,
                participant_id,
                watermark_ms,
            } => {
                let key = ConversationKey {
                    tenant_id: tenant_id.clone(),
                    platform: *platform,
                    account_id: account_id.clone(),
                    participant_id: participant_id.clone(),
                };
                if let Some(conversation_id) = self.state().conversation_of(&key) {
                    ranges.push(ReceiptRange {
                        conversation_id,
                        up_to_ms: *watermark_ms,
                        exact: None,
                    });
                }
            }
            ReceiptScope::Messages { targets, .. } => {
                for target in targets {
                    let Some(id) = self.state().message_id_of(target) else {
                        continue;
                    };
                    if let Some(e) = self.state().messages.get(&id) {
                        let m = &e.message;
                        let upto = read.then_some(m.timestamp_ms);
                        ranges.push(ReceiptRange {
                            conversation_id: m.conversation_id.get(),
                            up_to_ms: upto.unwrap_or(i64::MIN),
                            exact: Some(id),
                        });
                    }
                }
            }
        }
        ranges
    }

    fn receipt(&mut self, scope: &ReceiptScope, read: bool, at: i64) -> Result<u64, StoreError> {
        let ranges = self.receipt_ranges(scope, read);
        let mut changed = Vec::new();
        for (id, entry) in &self.state().messages {
            let m = &entry.message;
            let covered = ranges.iter().any(|r| {
                m.conversation_id.get() == r.conversation_id
                    && (m.timestamp_ms <= r.up_to_ms || r.exact == Some(*id))
            });
            if !covered || m.direction != Direction::Outbound {
                continue;
            }
            let mut entry = entry.clone();
            let m = &mut entry.message;
            let before = (m.read_at_ms, m.delivered_at_ms);
            m.delivered_at_ms = m.delivered_at_ms.or(Some(at));
            if read {
                m.read_at_ms = m.read_at_ms.or(Some(at));
            }
            if (m.read_at_ms, m.delivered_at_ms) != before {
                changed.push((*id, entry));
            }
        }
        let count = changed.len() as u64;
        for (id, entry) in changed {
            self.put_message(id, entry)?;
        }
        Ok(count)
    }
}

/// Applies a reaction, edit or delete to a stored message: whether it changed, and for an edit
/// or delete that did, the preview its conversation shows if it is the newest message.
fn change(entry: &mut MessageEntry, op: &Op) -> (bool, Option<Option<String>>) {
    match op {
        Op::React {
            actor,
            remove,
            reaction,
            emoji,
            timestamp_ms,
            ..
        } => {
            let (reaction, emoji) = (reaction.as_deref(), emoji.as_deref());
            let reactions = &mut entry.reactions;
            let changed = apply_reaction(reactions, actor, *remove, reaction, emoji, *timestamp_ms);
            (changed, None)
        }
        Op::Edit {
            text,
            num_edit,
            timestamp_ms,
            ..
        } => {
            let m = &mut entry.message;
            let newer = match *num_edit {
                0 => m.text != *text,
                n => n > m.edit_count,
            };
            if m.deleted || !newer {
                return (false, None);
            }
            m.text.clone_from(text);
            m.edit_count = match *num_edit {
                0 => m.edit_count + 1,
                n => n,
            };
            m.edited_at_ms = Some(*timestamp_ms);
            (true, Some(preview(text.as_deref(), &m.attachments)))
        }
        Op::Delete { .. } => {
            let m = &mut entry.message;
            if m.deleted {
                return (false, None);
            }
            m.deleted = true;
            m.text = None;
            m.attachments.clear();
            m.edit_count = 0;
            m.edited_at_ms = None;
            entry.raw = None;
            (true, Some(None))
        }
        Op::Hide { hidden, .. } => {
            let m = &mut entry.message;
            let changed = m.hidden != *hidden;
            m.hidden = *hidden;
            (changed, None)
        }
        Op::Receipt { .. } => (false, None),
    }
}

/// The key a message is found by.
fn message_key(row: &MessageRow) -> Target {
    Target {
        tenant_id: row.tenant_id.clone(),
        platform: row.platform,
        message_id: row.message_id.clone(),
    }
}

/// The later of a stored time and a new one.
fn later(stored: Option<i64>, new: i64) -> i64 {
    stored.map_or(new, |stored| stored.max(new))
}

fn fill<T: Clone>(slot: &mut Option<T>, value: &Option<T>) {
    if slot.is_none() {
        slot.clone_from(value);
    }
}
