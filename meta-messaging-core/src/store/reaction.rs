//! Reaction states: one per person and message, with tombstones so that events applied out of
//! order end in the same state.

use super::model::MessageReaction;
use crate::ids::ParticipantId;

/// Applies a reaction to a message's reaction states. States keep removed reactions as
/// tombstones so that a late redelivery of an older event cannot undo a newer one.
/// Returns whether anything changed.
pub(crate) fn apply_reaction(
    states: &mut Vec<ReactionState>,
    actor: &ParticipantId,
    remove: bool,
    reaction: Option<&str>,
    emoji: Option<&str>,
    timestamp_ms: i64,
) -> bool {
    let new = ReactionState {
        actor_id: actor.clone(),
        reaction: reaction.map(str::to_owned),
        emoji: emoji.map(str::to_owned),
        removed: remove,
        timestamp_ms,
    };
    match states.iter_mut().find(|s| s.actor_id == *actor) {
        Some(old) if old.timestamp_ms > timestamp_ms || *old == new => false,
        Some(old) if old.timestamp_ms == timestamp_ms && old.removed && !remove => false,
        Some(old) => {
            *old = new;
            true
        }
        None => {
            states.push(new);
            true
        }
    }
}

/// What the store keeps per actor and message (see [`apply_reaction`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct ReactionState {
    pub actor_id: ParticipantId,
    pub reaction: Option<String>,
    pub emoji: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub removed: bool,
    pub timestamp_ms: i64,
}

/// The reactions of a message as the public model shows them: the ones not removed.
pub(crate) fn visible_reactions(states: &[ReactionState]) -> Vec<MessageReaction> {
    states
        .iter()
        .filter(|s| !s.removed)
        .map(|s| MessageReaction {
            actor_id: s.actor_id.clone(),
            reaction: s.reaction.clone(),
            emoji: s.emoji.clone(),
            timestamp_ms: s.timestamp_ms,
        })
        .collect()
}
