//! `POST /comments/{id}/replies`: a public or private reply to a comment.

use super::ApiResponse;
use crate::ids::{CommentId, TenantId};
use crate::inbox::{CommentReplyRequest, Inbox, InboxError};

/// Replies to the comment as `body` asks: 201 with the stored reply (see
/// [`SendOutcome`](crate::inbox::SendOutcome)), which Meta has whether or not the store
/// recorded it.
pub(super) async fn reply(
    inbox: &Inbox,
    tenant: &TenantId,
    comment: CommentId,
    body: &[u8],
) -> Result<ApiResponse, InboxError> {
    let request: CommentReplyRequest = serde_json::from_slice(body)
        .map_err(|err| InboxError::InvalidRequest(format!("comment reply body: {err}")))?;
    let outcome = inbox.reply_to_comment(tenant, &comment, &request).await?;
    Ok(ApiResponse::json(201, &outcome))
}
