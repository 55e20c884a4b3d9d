//! Moderating comments with the Page token: `POST /{comment-id}/replies` (Instagram) and
//! `/{comment-id}/comments` (Facebook) answer publicly, `POST /{comment-id}` hides or unhides,
//! `DELETE /{comment-id}` deletes.

use std::collections::HashMap;

use meta_messaging_core::Platform;
use serde_json::{Value, json};

use crate::comments::{StoredComment, deliver};
use crate::error::GraphFailure;
use crate::server::Shared;
use crate::state::{Principal, State, now_ms};

/// The live comment `id` on an account of the token's Page; any other id is Meta's "does not
/// exist" for `method`.
fn own_comment<'a>(
    state: &'a State,
    principal: &Principal,
    id: &str,
    method: &str,
) -> Result<&'a StoredComment, GraphFailure> {
    let Principal::Page(page) = principal else {
        return Err(GraphFailure::object_not_found(id, method));
    };
    state
        .comments
        .get(id)
        .filter(|c| c.page_id == page.id && !c.deleted)
        .ok_or_else(|| GraphFailure::object_not_found(id, method))
}

/// A public reply by the account, under the same post; delivered like a user's comment.
pub(super) async fn reply(
    shared: &Shared,
    principal: &Principal,
    node: &str,
    edge: &str,
    fields: &HashMap<String, String>,
) -> Result<Value, GraphFailure> {
    let reply = {
        let mut state = shared.lock();
        let answered = own_comment(&state, principal, node, "post")?.clone();
        // Each platform names the edge its own way; the other one does not exist there.
        let expected = match answered.platform {
            Platform::Instagram => "replies",
            _ => "comments",
        };
        if edge != expected {
            return Err(GraphFailure::object_not_found(node, "post"));
        }
        let text = fields
            .get("message")
            .filter(|m| !m.trim().is_empty())
            .ok_or_else(|| {
                GraphFailure::invalid_parameter("(#100) The parameter message is required")
            })?;
        let page = state
            .page(&answered.page_id)
            .ok_or_else(|| GraphFailure::object_not_found(node, "post"))?;
        // The account answers as itself: the Page, or its Instagram account.
        let (from_id, from_name) = match (answered.platform, &page.instagram) {
            (Platform::Instagram, Some(ig)) => (ig.id.clone(), ig.username.clone()),
            _ => (page.id.clone(), page.name.clone()),
        };
        let reply = StoredComment {
            id: state.comments.new_id(answered.platform, &answered.post_id),
            post_id: answered.post_id.clone(),
            platform: answered.platform,
            page_id: answered.page_id.clone(),
            account_id: answered.account_id.clone(),
            from_id,
            from_name,
            text: text.clone(),
            created_time: now_ms(),
            parent_id: Some(state.comments.reply_parent(&answered)),
            hidden: false,
            deleted: false,
            private_reply: None,
        };
        state.comments.list.push(reply.clone());
        reply
    };
    deliver(shared, &reply, "add").await;
    Ok(json!({"id": reply.id}))
}

/// `POST /{comment-id}` with `hide` (Instagram) or `is_hidden` (Facebook): Facebook delivers
/// the `hide` / `unhide` change, Instagram nothing.
pub(super) async fn hide(
    shared: &Shared,
    principal: &Principal,
    node: &str,
    fields: &HashMap<String, String>,
) -> Result<Value, GraphFailure> {
    let changed = {
        let mut state = shared.lock();
        let platform = own_comment(&state, principal, node, "post")?.platform;
        let name = match platform {
            Platform::Instagram => "hide",
            _ => "is_hidden",
        };
        let hidden = match fields.get(name).map(String::as_str) {
            Some("true") => true,
            Some("false") => false,
            _ => {
                return Err(GraphFailure::invalid_parameter(format!(
                    "(#100) The parameter {name} is required and must be true or false"
                )));
            }
        };
        let Some(comment) = state.comments.get_mut(node) else {
            return Err(GraphFailure::object_not_found(node, "post"));
        };
        comment.hidden = hidden;
        comment.clone()
    };
    if changed.platform != Platform::Instagram {
        let verb = if changed.hidden { "hide" } else { "unhide" };
        deliver(shared, &changed, verb).await;
    }
    Ok(json!({"success": true}))
}

/// `DELETE /{comment-id}`: the comment is gone from the post; Facebook delivers `remove`.
pub(super) async fn delete(
    shared: &Shared,
    principal: &Principal,
    node: &str,
) -> Result<Value, GraphFailure> {
    let removed = {
        let mut state = shared.lock();
        own_comment(&state, principal, node, "delete")?;
        let Some(comment) = state.comments.get_mut(node) else {
            return Err(GraphFailure::object_not_found(node, "delete"));
        };
        comment.deleted = true;
        comment.clone()
    };
    if removed.platform != Platform::Instagram {
        deliver(shared, &removed, "remove").await;
    }
    Ok(json!({"success": true}))
}
