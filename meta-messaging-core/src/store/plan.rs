//! From events to backend-neutral writes: every backend executes the same [`Plan`], so the
//! meaning of each event kind is decided once, here.

use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use super::api::{OutboundMessage, TenantEvent};
use super::conversation::{Conversation, ConversationKind};
use super::model::{Direction, StoredAttachment, StoredMessage, StoredReplyTo};
use super::nul::Clean;
pub(crate) use super::reaction::{ReactionState, apply_reaction, visible_reactions};
use crate::ids::{
    AccountId, ConversationId, MessageId, ParticipantId, StoredMessageId, TenantId, UserId,
};
use crate::platform::Platform;
use crate::webhook::{
    Comment, CommentAction, DeliveryReceipt, Event, EventDetails, Message, Reaction,
    ReactionAction, ReadReceipt,
};

/// Longest conversation preview, in characters.
const PREVIEW_CHARS: usize = 100;

/// A message to insert (or, for outbound ones, to merge with an existing outbound row).
#[derive(Debug, Clone)]
pub(crate) struct MessageRow {
    pub tenant_id: TenantId,
    pub platform: Platform,
    pub account_id: AccountId,
    /// The conversation's kind; for comment threads `participant_id` is the post id.
    pub kind: ConversationKind,
    pub participant_id: UserId,
    pub direction: Direction,
    pub sender_id: ParticipantId,
    pub recipient_id: ParticipantId,
    pub message_id: MessageId,
    pub text: Option<String>,
    pub attachments: Vec<StoredAttachment>,
    pub reply_to: Option<StoredReplyTo>,
    pub quick_reply: Option<String>,
    pub app_id: Option<String>,
    pub metadata: Option<String>,
    pub timestamp_ms: i64,
    pub unsupported: bool,
    pub raw_event: Option<String>,
    pub preview: Option<String>,
    /// Comments: the author's username or name.
    pub sender_name: Option<String>,
    /// When it was read, for a message that arrives read (history a backfill imported).
    pub read_at_ms: Option<i64>,
}

impl MessageRow {
    /// A user's message that opens the messaging window (a comment opens none).
    pub(crate) fn opens_window(&self) -> bool {
        self.direction == Direction::Inbound && self.kind == ConversationKind::Direct
    }

    /// A message that came in and counts as unread: not one of the account's, nor history
    /// imported read.
    pub(crate) fn is_unread(&self) -> bool {
        self.direction == Direction::Inbound && self.read_at_ms.is_none()
    }

    /// The message as first stored, with its row id, conversation and time of storing (its
    /// raw event left out, as in the change log).
    pub(crate) fn stored(
        &self,
        id: i64,
        conversation_id: ConversationId,
        created_at_ms: i64,
    ) -> StoredMessage {
        StoredMessage {
            id: StoredMessageId::new(id),
            tenant_id: self.tenant_id.clone(),
            platform: self.platform,
            account_id: self.account_id.clone(),
            conversation_id,
            direction: self.direction,
            sender_id: self.sender_id.clone(),
            recipient_id: self.recipient_id.clone(),
            message_id: self.message_id.clone(),
            text: self.text.clone(),
            attachments: self.attachments.clone(),
            reply_to: self.reply_to.clone(),
            quick_reply: self.quick_reply.clone(),
            app_id: self.app_id.as_deref().map(Into::into),
            metadata: self.metadata.clone(),
            timestamp_ms: self.timestamp_ms,
            created_at_ms,
            delivered_at_ms: None,
            read_at_ms: self.read_at_ms,
            reactions: Vec::new(),
            edit_count: 0,
            edited_at_ms: None,
            deleted: false,
            hidden: false,
            unsupported: self.unsupported,
            sender_name: self.sender_name.clone(),
            raw_event: None,
        }
    }
}

/// A change to messages that already exist. `orphan` is the event, kept raw (and pending,
/// see `pending.rs`) while the message is missing.
#[derive(Debug, Clone)]
pub(crate) enum Op {
    React {
        target: Target,
        actor: ParticipantId,
        remove: bool,
        reaction: Option<String>,
        emoji: Option<String>,
        timestamp_ms: i64,
        orphan: RawRow,
    },
    /// A new text. `num_edit` is Meta's count of edits (applied when higher than the stored
    /// one); 0 for a comment edit, which Meta does not number: applied when the text differs.
    Edit {
        target: Target,
        text: Option<String>,
        num_edit: u32,
        timestamp_ms: i64,
        orphan: RawRow,
    },
    Delete {
        target: Target,
        orphan: RawRow,
    },
    /// A comment hidden or unhidden.
    Hide {
        target: Target,
        hidden: bool,
        orphan: RawRow,
    },
    /// Outbound messages up to a time (or up to a named message) were read or delivered.
    Receipt {
        scope: ReceiptScope,
        read: bool,
        timestamp_ms: i64,
    },
}

/// A conversation's natural key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct ConversationKey {
    /// The tenant it belongs to.
    pub(crate) tenant_id: TenantId,
    /// Messenger or Instagram.
    pub(crate) platform: Platform,
    /// The Page or Instagram account.
    pub(crate) account_id: AccountId,
    /// The user the account talks with.
    pub(crate) participant_id: UserId,
}

impl ConversationKey {
    /// The key of the conversation a message belongs to.
    pub(crate) fn of(row: &MessageRow) -> Self {
        Self {
            tenant_id: row.tenant_id.clone(),
            platform: row.platform,
            account_id: row.account_id.clone(),
            participant_id: row.participant_id.clone(),
        }
    }

    /// The key of a stored conversation.
    pub(crate) fn of_conversation(c: &Conversation) -> Self {
        Self {
            tenant_id: c.tenant_id.clone(),
            platform: c.platform,
            account_id: c.account_id.clone(),
            participant_id: c.participant_id.clone(),
        }
    }
}

/// A message named by Meta's id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Target {
    pub tenant_id: TenantId,
    pub platform: Platform,
    pub message_id: MessageId,
}

#[derive(Debug, Clone)]
pub(crate) enum ReceiptScope {
    /// Every outbound message of the conversation with this user up to the watermark.
    UpTo {
        tenant_id: TenantId,
        platform: Platform,
        account_id: AccountId,
        participant_id: UserId,
        watermark_ms: i64,
    },
    /// These messages, and (for reads) every outbound message of their conversation before them.
    /// `orphan` is the event, kept while one of them is missing.
    Messages {
        targets: Vec<Target>,
        orphan: RawRow,
    },
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
impl ReceiptScope {
    /// The tenant whose messages the receipt covers (`None`: it names no message).
    pub(crate) fn tenant_id(&self) -> Option<&TenantId> {
        match self {
            Self::UpTo { tenant_id, .. } => Some(tenant_id),
            Self::Messages { targets, .. } => targets.first().map(|t| &t.tenant_id),
        }
    }
}

/// An event kept whole.
#[derive(Debug, Clone)]
pub(crate) struct RawRow {
    pub tenant_id: TenantId,
    pub platform: Platform,
    pub account_id: AccountId,
    pub kind: String,
    pub reason: Option<String>,
    pub timestamp_ms: i64,
    pub received_at_ms: i64,
    pub event_hash: String,
    pub raw: String,
}

/// Everything one call writes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Plan {
    pub messages: Vec<MessageRow>,
    pub ops: Vec<Op>,
    pub raw: Vec<RawRow>,
    /// The accounts' last-event times.
    pub touches: Vec<AccountTouch>,
    /// Events that open the messaging window without being messages.
    pub openings: Vec<WindowOpening>,
}

/// A user's event that opens the messaging window as a message does (a postback, a referral,
/// a reaction: what Meta lists among the actions that open the standard window). It moves the
/// conversation's `last_inbound_at_ms` when the conversation exists; it creates none (the
/// event itself is kept raw).
#[derive(Debug, Clone)]
pub(crate) struct WindowOpening {
    pub key: ConversationKey,
    pub at_ms: i64,
}

/// An account that got events, and the newest one's time.
#[derive(Debug, Clone)]
pub(crate) struct AccountTouch {
    pub tenant_id: TenantId,
    pub platform: Platform,
    pub account_id: AccountId,
    pub at_ms: i64,
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The conversation-list preview of a message.
pub(crate) fn preview(text: Option<&str>, attachments: &[StoredAttachment]) -> Option<String> {
    match text {
        Some(text) if !text.is_empty() => Some(text.chars().take(PREVIEW_CHARS).collect()),
        _ => attachments.first().map(|a| format!("[{}]", a.kind)),
    }
}

/// The raw JSON of an event: Meta's bytes when parsed, its own JSON form when built in code.
/// (Left to [`Plan`]'s constructors to clean.)
fn raw_json(event: &Event) -> String {
    match event.raw() {
        Some(raw) => raw.get().to_owned(),
        None => serde_json::to_string(event).unwrap_or_else(|_| "null".to_owned()),
    }
}

/// An event to keep whole, cleaned (see [`nul`](super::nul)), with the hash of what is kept.
pub(crate) fn raw_row(tenant_id: TenantId, event: &Event, reason: Option<String>) -> RawRow {
    let mut row = RawRow {
        tenant_id,
        platform: event.platform,
        account_id: event.account_id.clone(),
        kind: event.kind().as_str().to_owned(),
        reason,
        timestamp_ms: event.timestamp_ms,
        received_at_ms: now_ms(),
        event_hash: String::new(),
        raw: raw_json(event),
    };
    row.clean();
    let mut hash = Sha256::new();
    for part in [
        row.platform.as_str(),
        row.account_id.as_str(),
        &row.kind,
        &row.raw,
    ] {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    row.event_hash = hex::encode(hash.finalize());
    row
}

fn message_row(
    tenant: &TenantId,
    event: &Event,
    message: &Message,
    echo: bool,
) -> Option<MessageRow> {
    let (direction, participant) = if echo {
        (Direction::Outbound, event.recipient_id.as_ref()?)
    } else {
        (Direction::Inbound, event.sender_id.as_ref()?)
    };
    let account: ParticipantId = event.account_id.clone().into();
    let participant_id = UserId::new(participant.as_str());
    let (sender_id, recipient_id) = match direction {
        Direction::Inbound => (participant.clone(), account),
        Direction::Outbound => (account, participant.clone()),
    };
    let attachments: Vec<StoredAttachment> = message
        .attachments
        .iter()
        .map(StoredAttachment::from)
        .collect();
    let text = message.text.clone();
    Some(MessageRow {
        tenant_id: tenant.clone(),
        platform: event.platform,
        account_id: event.account_id.clone(),
        kind: ConversationKind::Direct,
        participant_id,
        direction,
        sender_id,
        recipient_id,
        message_id: message.mid.clone(),
        preview: preview(text.as_deref(), &attachments),
        text,
        attachments,
        reply_to: message
            .reply_to
            .as_ref()
            .and_then(StoredReplyTo::from_webhook),
        quick_reply: message.quick_reply.clone(),
        app_id: message.app_id.as_ref().map(|id| id.as_str().to_owned()),
        metadata: message.metadata.clone(),
        timestamp_ms: event.timestamp_ms,
        unsupported: message.is_unsupported,
        raw_event: Some(raw_json(event)),
        sender_name: None,
        read_at_ms: None,
    })
}

/// A new comment as a message of its post's thread: outbound when the account wrote it (a
/// public reply), inbound otherwise.
fn comment_row(
    tenant: &TenantId,
    event: &Event,
    comment: &Comment,
) -> Result<MessageRow, &'static str> {
    let post = comment
        .post_id
        .as_ref()
        .ok_or("comment without a post id")?;
    let author = comment.from.as_ref().ok_or("comment without an author")?;
    let account: ParticipantId = event.account_id.clone().into();
    let thread: ParticipantId = ParticipantId::new(post.as_str());
    let (direction, recipient_id) = if author.id == account {
        (Direction::Outbound, thread)
    } else {
        (Direction::Inbound, account)
    };
    let text = comment.text.clone();
    Ok(MessageRow {
        tenant_id: tenant.clone(),
        platform: event.platform,
        account_id: event.account_id.clone(),
        kind: ConversationKind::Comments,
        participant_id: UserId::new(post.as_str()),
        direction,
        sender_id: author.id.clone(),
        recipient_id,
        message_id: MessageId::new(comment.comment_id.as_str()),
        preview: preview(text.as_deref(), &[]),
        text,
        attachments: Vec::new(),
        reply_to: comment
            .parent_id
            .as_ref()
            .map(|parent| StoredReplyTo::message(parent.as_str())),
        quick_reply: None,
        app_id: None,
        metadata: None,
        timestamp_ms: event.timestamp_ms,
        unsupported: false,
        raw_event: Some(raw_json(event)),
        sender_name: author.username.clone().or_else(|| author.name.clone()),
        read_at_ms: None,
    })
}

fn target(tenant: &TenantId, event: &Event, mid: &MessageId) -> Target {
    Target {
        tenant_id: tenant.clone(),
        platform: event.platform,
        message_id: mid.clone(),
    }
}

const ORPHAN: &str = super::pending::WAITING;

impl Plan {
    /// Plans a batch of routed events, in order, cleaned (see [`nul`](super::nul)).
    pub(crate) fn from_events(events: &[TenantEvent]) -> Plan {
        let mut plan = Plan::default();
        let now = now_ms();
        for TenantEvent {
            tenant_id,
            event,
            already_read,
        } in events
        {
            plan.touch(tenant_id, event);
            let planned = plan.messages.len();
            plan.add_event(tenant_id, event);
            if *already_read {
                for row in &mut plan.messages[planned..] {
                    if row.direction == Direction::Inbound {
                        row.read_at_ms = Some(now);
                    }
                }
            }
        }
        plan.clean();
        plan
    }

    /// Plans one outbound message, cleaned (see [`nul`](super::nul)).
    pub(crate) fn from_outbound(tenant: &TenantId, message: &OutboundMessage) -> Plan {
        let text = message.text.clone();
        let row = MessageRow {
            tenant_id: tenant.clone(),
            platform: message.platform,
            account_id: message.account_id.clone(),
            kind: ConversationKind::Direct,
            participant_id: message.recipient_id.clone(),
            direction: Direction::Outbound,
            sender_id: message.account_id.clone().into(),
            recipient_id: message.recipient_id.clone().into(),
            message_id: message.message_id.clone(),
            preview: preview(text.as_deref(), &message.attachments),
            text,
            attachments: message.attachments.clone(),
            reply_to: message.reply_to.clone(),
            quick_reply: None,
            app_id: None,
            metadata: message.metadata.clone(),
            timestamp_ms: message.timestamp_ms,
            unsupported: false,
            raw_event: None,
            sender_name: None,
            read_at_ms: None,
        };
        let mut plan = Plan {
            messages: vec![row],
            ..Plan::default()
        };
        plan.clean();
        plan
    }

    fn touch(&mut self, tenant: &TenantId, event: &Event) {
        let found = self.touches.iter_mut().find(|t| {
            t.tenant_id == *tenant
                && t.platform == event.platform
                && t.account_id == event.account_id
        });
        match found {
            Some(touch) => touch.at_ms = touch.at_ms.max(event.timestamp_ms),
            None => self.touches.push(AccountTouch {
                tenant_id: tenant.clone(),
                platform: event.platform,
                account_id: event.account_id.clone(),
                at_ms: event.timestamp_ms,
            }),
        }
    }

    fn keep_raw(&mut self, tenant: &TenantId, event: &Event, reason: Option<&str>) {
        self.raw
            .push(raw_row(tenant.clone(), event, reason.map(str::to_owned)));
    }

    fn add_event(&mut self, tenant: &TenantId, event: &Event) {
        match &event.details {
            EventDetails::Message(m) => self.add_message(tenant, event, m, false),
            EventDetails::Echo(m) => self.add_message(tenant, event, m, true),
            EventDetails::Reaction(r) => {
                self.open_window(tenant, event);
                self.add_reaction(tenant, event, r);
            }
            EventDetails::Postback(_) | EventDetails::Referral(_) => {
                self.open_window(tenant, event);
                self.keep_raw(tenant, event, None);
            }
            EventDetails::Edit(e) => self.ops.push(Op::Edit {
                target: target(tenant, event, &e.mid),
                text: e.text.clone(),
                num_edit: e.num_edit.max(1),
                timestamp_ms: event.timestamp_ms,
                orphan: raw_row(tenant.clone(), event, Some(ORPHAN.to_owned())),
            }),
            EventDetails::Delete(d) => self.ops.push(Op::Delete {
                target: target(tenant, event, &d.mid),
                orphan: raw_row(tenant.clone(), event, Some(ORPHAN.to_owned())),
            }),
            EventDetails::Read(r) => self.add_read(tenant, event, r),
            EventDetails::Delivery(d) => self.add_delivery(tenant, event, d),
            EventDetails::Comment(c) => self.add_comment(tenant, event, c),
            _ => self.keep_raw(tenant, event, None),
        }
    }

    fn add_comment(&mut self, tenant: &TenantId, event: &Event, comment: &Comment) {
        let mid = MessageId::new(comment.comment_id.as_str());
        let orphan = || raw_row(tenant.clone(), event, Some(ORPHAN.to_owned()));
        let op = match comment.action {
            CommentAction::Add => {
                return match comment_row(tenant, event, comment) {
                    Ok(row) => self.messages.push(row),
                    Err(reason) => self.keep_raw(tenant, event, Some(reason)),
                };
            }
            CommentAction::Edit => Op::Edit {
                target: target(tenant, event, &mid),
                text: comment.text.clone(),
                num_edit: 0,
                timestamp_ms: event.timestamp_ms,
                orphan: orphan(),
            },
            CommentAction::Remove => Op::Delete {
                target: target(tenant, event, &mid),
                orphan: orphan(),
            },
            CommentAction::Hide | CommentAction::Unhide => Op::Hide {
                target: target(tenant, event, &mid),
                hidden: comment.action == CommentAction::Hide,
                orphan: orphan(),
            },
            // A newer action this version does not know: kept, not guessed.
            #[allow(unreachable_patterns)]
            _ => return self.keep_raw(tenant, event, Some("unknown comment action")),
        };
        self.ops.push(op);
    }

    /// A user's postback, referral or reaction (not the account's own: its id is the sender).
    fn open_window(&mut self, tenant: &TenantId, event: &Event) {
        let Some(sender) = &event.sender_id else {
            return;
        };
        if sender.as_str() == event.account_id.as_str() {
            return;
        }
        self.openings.push(WindowOpening {
            key: ConversationKey {
                tenant_id: tenant.clone(),
                platform: event.platform,
                account_id: event.account_id.clone(),
                participant_id: UserId::new(sender.as_str()),
            },
            at_ms: event.timestamp_ms,
        });
    }

    fn add_message(&mut self, tenant: &TenantId, event: &Event, message: &Message, echo: bool) {
        match message_row(tenant, event, message, echo) {
            Some(row) => self.messages.push(row),
            None => self.keep_raw(tenant, event, Some("message without a user id")),
        }
    }

    fn add_reaction(&mut self, tenant: &TenantId, event: &Event, reaction: &Reaction) {
        let remove = match reaction.action {
            ReactionAction::React => false,
            ReactionAction::Unreact => true,
            _ => return self.keep_raw(tenant, event, Some("unknown reaction action")),
        };
        let Some(actor) = event.sender_id.clone() else {
            return self.keep_raw(tenant, event, Some("reaction without a sender"));
        };
        self.ops.push(Op::React {
            target: target(tenant, event, &reaction.mid),
            actor,
            remove,
            reaction: reaction.reaction.clone(),
            emoji: reaction.emoji.clone(),
            timestamp_ms: event.timestamp_ms,
            orphan: raw_row(tenant.clone(), event, Some(ORPHAN.to_owned())),
        });
    }

    /// A read receipt names one message (Instagram) or a watermark (Messenger).
    fn add_read(&mut self, tenant: &TenantId, event: &Event, read: &ReadReceipt) {
        match (&read.mid, read.watermark_ms) {
            (Some(mid), _) => self.receipt(
                ReceiptScope::Messages {
                    targets: vec![target(tenant, event, mid)],
                    orphan: raw_row(tenant.clone(), event, Some(ORPHAN.to_owned())),
                },
                true,
                event.timestamp_ms,
            ),
            (None, Some(watermark_ms)) => self.watermark(tenant, event, watermark_ms, true),
            (None, None) => self.keep_raw(tenant, event, Some("read receipt names nothing")),
        }
    }

    /// A delivery receipt may name messages, a watermark, or both.
    fn add_delivery(&mut self, tenant: &TenantId, event: &Event, delivery: &DeliveryReceipt) {
        if !delivery.mids.is_empty() {
            let targets = delivery
                .mids
                .iter()
                .map(|mid| target(tenant, event, mid))
                .collect();
            let orphan = raw_row(tenant.clone(), event, Some(ORPHAN.to_owned()));
            let scope = ReceiptScope::Messages { targets, orphan };
            self.receipt(scope, false, event.timestamp_ms);
        }
        if let Some(watermark_ms) = delivery.watermark_ms {
            self.watermark(tenant, event, watermark_ms, false);
        }
    }

    fn receipt(&mut self, scope: ReceiptScope, read: bool, timestamp_ms: i64) {
        self.ops.push(Op::Receipt {
            scope,
            read,
            timestamp_ms,
        });
    }

    fn watermark(&mut self, tenant: &TenantId, event: &Event, watermark_ms: i64, read: bool) {
        let Some(user) = event.user_id() else {
            return self.keep_raw(tenant, event, Some("receipt without a user id"));
        };
        let scope = ReceiptScope::UpTo {
            tenant_id: tenant.clone(),
            platform: event.platform,
            account_id: event.account_id.clone(),
            participant_id: user,
            watermark_ms,
        };
        self.receipt(scope, read, event.timestamp_ms);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PAGE: &str = "104417552380421";
    const USER: &str = "6758492015643287";
    const AT: i64 = 1_700_000_000_000;

    fn plan(item: serde_json::Value) -> Plan {
        let body =
            json!({"object": "page", "entry": [{"id": PAGE, "time": 1, "messaging": [item]}]});
        let events = crate::webhook::parse(body.to_string().as_bytes()).unwrap();
        let routed: Vec<TenantEvent> = events
            .into_iter()
            .map(|e| TenantEvent::new(TenantId::new("t"), e))
            .collect();
        Plan::from_events(&routed)
    }

    fn from(sender: &str, details: serde_json::Value) -> serde_json::Value {
        let mut item =
            json!({"sender": {"id": sender}, "recipient": {"id": PAGE}, "timestamp": AT});
        for (k, v) in details.as_object().unwrap() {
            item[k] = v.clone();
        }
        item
    }

    fn opened(plan: &Plan) -> Vec<(&str, i64)> {
        plan.openings
            .iter()
            .map(|o| (o.key.participant_id.as_str(), o.at_ms))
            .collect()
    }

    #[test]
    fn postbacks_referrals_and_reactions_open_the_window() {
        let postback = plan(from(
            USER,
            json!({"postback": {"title": "Start", "payload": "GO"}}),
        ));
        assert_eq!(opened(&postback), [(USER, AT)]);
        assert_eq!(postback.raw.len(), 1, "a postback is still kept raw");
        let referral = plan(from(
            USER,
            json!({"referral": {"ref": "ad", "source": "ADS", "type": "OPEN_THREAD"}}),
        ));
        assert_eq!(opened(&referral), [(USER, AT)]);
        let reaction = plan(from(
            USER,
            json!({"reaction": {"mid": "m_1", "action": "react", "reaction": "love"}}),
        ));
        assert_eq!(opened(&reaction), [(USER, AT)]);
    }

    #[test]
    fn a_story_mention_is_an_inbound_message() {
        let mention = plan(from(
            USER,
            json!({"message": {"mid": "m_2", "attachments": [
            {"type": "story_mention", "payload": {"url": "https://cdn.example/s.mp4"}}]}}),
        ));
        assert_eq!(mention.messages.len(), 1);
        assert_eq!(mention.messages[0].direction, Direction::Inbound);
    }

    #[test]
    fn the_account_s_own_events_open_nothing() {
        let echo = plan(
            json!({"sender": {"id": PAGE}, "recipient": {"id": USER}, "timestamp": AT,
            "message": {"mid": "m_3", "text": "hi", "is_echo": true}}),
        );
        assert!(echo.openings.is_empty());
        assert_eq!(echo.messages[0].direction, Direction::Outbound);
        let own_reaction = plan(from(
            PAGE,
            json!({"reaction": {"mid": "m_1", "action": "react", "reaction": "love"}}),
        ));
        assert!(own_reaction.openings.is_empty());
        let read = plan(from(USER, json!({"read": {"watermark": 41}})));
        assert!(read.openings.is_empty(), "a read receipt opens nothing");
    }
}
