//! Private replies: a Send API call whose recipient is `{"comment_id": ...}` messages the
//! comment's author, under Meta's rules for them.

use serde_json::Value;

use crate::error::GraphFailure;
use crate::state::State;
use crate::world::{FacebookPage, User};

/// How long after a comment Meta accepts a private reply to it.
const PRIVATE_REPLY_WINDOW_MS: i64 = 7 * 24 * 3600 * 1000;

/// The comment a send answers privately, when its recipient is one.
pub(super) fn comment_recipient(request: &Value) -> Option<&str> {
    request
        .pointer("/recipient/comment_id")
        .and_then(Value::as_str)
}

/// The author of comment `id` on an account of `page`, who may get a private reply now: once
/// per comment, within 7 days of it, and not once it is deleted. A comment the token cannot see
/// is Meta's "does not exist".
pub(super) fn author(
    state: &State,
    page: &FacebookPage,
    id: &str,
    now: i64,
) -> Result<User, GraphFailure> {
    let comment = state
        .comments
        .get(id)
        .filter(|c| c.page_id == page.id)
        .ok_or_else(|| GraphFailure::object_not_found(id, "post"))?;
    if comment.private_reply.is_some() {
        return Err(GraphFailure::already_replied());
    }
    if comment.deleted || now - comment.created_time >= PRIVATE_REPLY_WINDOW_MS {
        return Err(GraphFailure::not_repliable());
    }
    // The account's own comments have no author to message.
    state
        .user(&comment.from_id)
        .filter(|u| u.page == page.id)
        .cloned()
        .ok_or_else(GraphFailure::not_repliable)
}

/// Records that comment `id` got its private reply, message `mid`.
pub(super) fn mark_replied(state: &mut State, id: &str, mid: &str) {
    if let Some(comment) = state.comments.get_mut(id) {
        comment.private_reply = Some(mid.to_owned());
    }
}
