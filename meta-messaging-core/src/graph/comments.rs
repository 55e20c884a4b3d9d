//! Moderating the comments on the account's posts: a public reply in the comment's thread,
//! hiding and unhiding, deleting. The private reply (a message to the comment's author) is a
//! send: [`AccountClient::private_reply`].
//!
//! Each call goes to the comment's own node, on the host of the account's token:
//!
//! | route | reply | hide / unhide | delete |
//! |---|---|---|---|
//! | [`Messenger`](AccountRoute::Messenger) (a Page's posts) | `POST /{comment-id}/comments` | `POST /{comment-id}` `is_hidden` | `DELETE /{comment-id}` |
//! | [`InstagramViaPage`](AccountRoute::InstagramViaPage), [`InstagramLogin`](AccountRoute::InstagramLogin) | `POST /{comment-id}/replies` | `POST /{comment-id}` `hide` | `DELETE /{comment-id}` |
//!
//! The reply text and the hide flag travel as an `application/x-www-form-urlencoded` body,
//! which Meta reads like the query string: a comment's text stays out of URLs that proxies and
//! access logs keep, and a long one does not run into URL length limits.
//!
//! A public reply is **not** repeated after a failure that may have reached Meta: it would post
//! the reply twice. Such an error says
//! [`may_have_reached_meta`](super::GraphError::may_have_reached_meta); read the comment's
//! replies before trying again. Hiding, unhiding and deleting are repeated like reads, since
//! doing them twice leaves the comment as once would; a repeated delete whose first attempt
//! went through may answer that the comment does not exist
//! ([`ObjectNotFound`](super::ErrorKind::ObjectNotFound)), which means it is gone.

use reqwest::Method;
use serde::Deserialize;

use crate::ids::CommentId;

use super::account_client::{AccountClient, AccountRoute};
use super::error::{InvalidRequest, Result};
use super::request::Call;
use super::success::Success;

#[derive(Deserialize)]
struct Created {
    id: CommentId,
}

impl AccountClient {
    /// Replies in public, in the thread of `comment`, as the Page or Instagram account.
    /// Returns the id of the new comment. `POST /{comment-id}/comments` (Messenger) or
    /// `POST /{comment-id}/replies` (Instagram), with `message`.
    ///
    /// On Instagram a reply to a reply lands in the thread of the top-level comment, and
    /// hidden comments and comments on a live video take no reply.
    ///
    /// # Errors
    /// [`InvalidRequest::EmptyText`] before anything is sent; the Graph API's error (the
    /// comment was deleted, the token lacks `pages_manage_engagement` or
    /// `instagram_manage_comments`, ...); or a failure that may have posted the reply (see the
    /// module docs).
    pub async fn reply_to_comment(&self, comment: &CommentId, text: &str) -> Result<CommentId> {
        if text.is_empty() {
            return Err(InvalidRequest::EmptyText.into());
        }
        let edge = match self.route {
            AccountRoute::Messenger => "comments",
            AccountRoute::InstagramViaPage | AccountRoute::InstagramLogin => "replies",
        };
        let call = Call::post(format!("{comment}/{edge}"))
            .auth(&self.credential)
            .throttle(&self.account_id)
            .form("message", text);
        let created: Created = self.client.execute(call).await?;
        Ok(created.id)
    }

    /// Hides `comment` from the public, its author still sees it (`true`), or shows it again
    /// (`false`). `POST /{comment-id}` with `is_hidden` (Messenger) or
    /// `hide` (Instagram).
    ///
    /// # Errors
    /// The Graph API's error (the comment was deleted, the account may not hide it, the token
    /// lacks the permission, ...), or `{"success": false}` as
    /// [`GraphError::Http`](super::GraphError::Http) with status 200.
    pub async fn set_comment_hidden(&self, comment: &CommentId, hidden: bool) -> Result<()> {
        let field = match self.route {
            AccountRoute::Messenger => "is_hidden",
            AccountRoute::InstagramViaPage | AccountRoute::InstagramLogin => "hide",
        };
        let call = Call::post(comment.as_str())
            .auth(&self.credential)
            .throttle(&self.account_id)
            .idempotent()
            .form(field, hidden.to_string());
        let answer: Success = self.client.execute(call).await?;
        answer.into_result()
    }

    /// Deletes `comment` (the account's own comments, and others' comments on its posts).
    /// `DELETE /{comment-id}`.
    ///
    /// # Errors
    /// The Graph API's error (the comment does not exist any more, the token lacks the
    /// permission, ...), or `{"success": false}` as
    /// [`GraphError::Http`](super::GraphError::Http) with status 200.
    pub async fn delete_comment(&self, comment: &CommentId) -> Result<()> {
        let call = Call::new(Method::DELETE, comment.as_str())
            .auth(&self.credential)
            .throttle(&self.account_id)
            .idempotent();
        let answer: Success = self.client.execute(call).await?;
        answer.into_result()
    }
}
