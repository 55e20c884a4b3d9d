//! Events that arrive before their message: a reaction, edit, unsend or receipt that Meta
//! delivered before the message it names. Each is kept (whole among the raw events, and as a
//! pending op keyed by the message it names) and applied when the message is stored, in the
//! same transaction, so the result is the one of the events in order.
//!
//! The backends keep and replay them; what waits, and in which order waiting ops apply, is
//! decided here, once.

use serde::{Deserialize, Serialize};

use super::plan::{Op, RawRow, ReceiptScope, Target};
use crate::ids::ParticipantId;

/// Why the raw event of an op that waits for its message was kept.
pub(crate) const WAITING: &str =
    "refers to a message the store does not have yet (applied when it arrives)";

/// What an op that waits for its message does, without the message: the JSON form the SQL
/// stores keep in `pending_ops.op`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub(crate) enum PendingOp {
    /// A reaction or its removal.
    React {
        actor: ParticipantId,
        remove: bool,
        reaction: Option<String>,
        emoji: Option<String>,
        timestamp_ms: i64,
    },
    /// An edit.
    Edit {
        text: Option<String>,
        num_edit: u32,
        timestamp_ms: i64,
    },
    /// An unsend, or a comment's removal.
    Delete,
    /// A comment hidden or unhidden.
    Hide { hidden: bool },
    /// A read or delivery receipt naming the message.
    Receipt { read: bool, timestamp_ms: i64 },
}

impl PendingOp {
    /// The waiting form of an op on one message. `None` for receipts, which may name several
    /// messages: see [`PendingOp::Receipt`].
    pub(crate) fn of(op: &Op) -> Option<Self> {
        match op {
            Op::React {
                actor,
                remove,
                reaction,
                emoji,
                timestamp_ms,
                ..
            } => Some(Self::React {
                actor: actor.clone(),
                remove: *remove,
                reaction: reaction.clone(),
                emoji: emoji.clone(),
                timestamp_ms: *timestamp_ms,
            }),
            Op::Edit {
                text,
                num_edit,
                timestamp_ms,
                ..
            } => Some(Self::Edit {
                text: text.clone(),
                num_edit: *num_edit,
                timestamp_ms: *timestamp_ms,
            }),
            Op::Delete { .. } => Some(Self::Delete),
            Op::Hide { hidden, .. } => Some(Self::Hide { hidden: *hidden }),
            Op::Receipt { .. } => None,
        }
    }

    /// The op to apply now that `target` is stored; `orphan` is its raw event.
    pub(crate) fn into_op(self, target: Target, orphan: RawRow) -> Op {
        match self {
            Self::React {
                actor,
                remove,
                reaction,
                emoji,
                timestamp_ms,
            } => Op::React {
                target,
                actor,
                remove,
                reaction,
                emoji,
                timestamp_ms,
                orphan,
            },
            Self::Edit {
                text,
                num_edit,
                timestamp_ms,
            } => Op::Edit {
                target,
                text,
                num_edit,
                timestamp_ms,
                orphan,
            },
            Self::Delete => Op::Delete { target, orphan },
            Self::Hide { hidden } => Op::Hide {
                target,
                hidden,
                orphan,
            },
            Self::Receipt { read, timestamp_ms } => Op::Receipt {
                scope: ReceiptScope::Messages {
                    targets: vec![target],
                    orphan,
                },
                read,
                timestamp_ms,
            },
        }
    }

    /// Its place in the replay: receipts, reactions by time, edits by count (comment edits,
    /// which Meta does not number, and hides by arrival), and the unsend last, so that it
    /// erases what the others wrote, as it would have in order.
    fn rank(&self) -> (u8, i64) {
        match self {
            Self::Receipt { timestamp_ms, .. } => (0, *timestamp_ms),
            Self::React { timestamp_ms, .. } => (1, *timestamp_ms),
            Self::Edit { num_edit, .. } => (2, i64::from(*num_edit)),
            Self::Hide { .. } => (2, 0),
            Self::Delete => (3, 0),
        }
    }
}

/// A pending op read back to be applied.
#[derive(Debug, Clone)]
pub(crate) struct Waiting {
    /// Its row id: ascending in arrival order.
    pub id: i64,
    /// The message it waited for.
    pub target: Target,
    /// What it does.
    pub op: PendingOp,
    /// Its raw event.
    pub orphan: RawRow,
}

impl Waiting {
    /// The op to apply.
    pub(crate) fn into_op(self) -> Op {
        self.op.into_op(self.target, self.orphan)
    }
}

/// Sorts the pending ops of messages just stored into the order they apply in: by meaning
/// (see [`PendingOp::rank`]), then by arrival. Ops on different messages do not interact, so
/// one order serves them all.
pub(crate) fn replay_order(waiting: &mut [Waiting]) {
    waiting.sort_by_key(|w| (w.op.rank(), w.id));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{AccountId, MessageId, TenantId};
    use crate::platform::Platform;

    fn waiting(id: i64, op: PendingOp) -> Waiting {
        Waiting {
            id,
            target: Target {
                tenant_id: TenantId::new("t"),
                platform: Platform::Messenger,
                message_id: MessageId::new("m"),
            },
            op,
            orphan: RawRow {
                tenant_id: TenantId::new("t"),
                platform: Platform::Messenger,
                account_id: AccountId::new("a"),
                kind: "edit".to_owned(),
                reason: Some(WAITING.to_owned()),
                timestamp_ms: 0,
                received_at_ms: 0,
                event_hash: format!("h{id}"),
                raw: "{}".to_owned(),
            },
        }
    }

    fn edit(num_edit: u32) -> PendingOp {
        PendingOp::Edit {
            text: Some(format!("edit {num_edit}")),
            num_edit,
            timestamp_ms: 5,
        }
    }

    #[test]
    fn the_unsend_applies_last_and_edits_by_count() {
        let react = PendingOp::React {
            actor: "u".into(),
            remove: false,
            reaction: None,
            emoji: Some("❤".to_owned()),
            timestamp_ms: 9,
        };
        let read = PendingOp::Receipt {
            read: true,
            timestamp_ms: 1,
        };
        let mut ops = vec![
            waiting(1, PendingOp::Delete),
            waiting(2, edit(3)),
            waiting(3, react),
            waiting(4, edit(1)),
            waiting(5, read),
        ];
        replay_order(&mut ops);
        let ids: Vec<i64> = ops.iter().map(|w| w.id).collect();
        assert_eq!(ids, [5, 3, 4, 2, 1]);
    }

    #[test]
    fn the_stored_form_round_trips() {
        for op in [edit(2), PendingOp::Delete] {
            let json = serde_json::to_string(&op).unwrap();
            assert_eq!(serde_json::from_str::<PendingOp>(&json).unwrap(), op);
        }
        assert_eq!(
            serde_json::to_string(&PendingOp::Delete).unwrap(),
            r#"{"op":"delete"}"#
        );
    }
}
