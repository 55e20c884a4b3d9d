//! Comments under the accounts' posts: what simulated users (and the accounts themselves) write,
//! kept with the flags the Graph API changes, and the `comments` / `feed` changes Meta delivers
//! for them.

use meta_messaging_core::Platform;
use meta_messaging_core::ids::CommentId;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::activity::target;
use crate::control::ControlError;
use crate::server::Shared;
use crate::state::{State, now_ms};

/// Where Instagram media ids start; Meta's are 17- or 18-digit numbers.
const MEDIA_BASE: u64 = 18_000_000_000_000_000;
/// Where Instagram comment ids start.
const INSTAGRAM_COMMENT_BASE: u64 = 17_900_000_000_000_000;
/// Where the object part of Facebook post ids (`{page-id}_{n}`) starts.
const POST_BASE: u64 = 122_000_000_000_000_000;
/// Where the comment part of Facebook comment ids (`{post-object}_{n}`) starts.
const FACEBOOK_COMMENT_BASE: u64 = 1_000_000_000_000_000;

/// A comment a simulated user writes under a post of their Page or Instagram account.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct InboundComment {
    /// The comment's text.
    pub text: String,
    /// The post (Facebook) or media (Instagram) commented on; default: the account's first
    /// post, created when first needed.
    #[serde(default)]
    pub media: Option<String>,
    /// The comment this one answers; the reply goes under the same post.
    #[serde(default)]
    pub reply_to: Option<String>,
    /// Dates the comment this many minutes in the past (added to `days_ago`).
    #[serde(default)]
    pub minutes_ago: Option<u32>,
    /// Dates the comment this many days in the past: 8 puts it beyond the 7 days in which Meta
    /// accepts a private reply.
    #[serde(default)]
    pub days_ago: Option<u32>,
    /// The account commented on (the Page id, or its Instagram account's id); when given it
    /// must be the user's.
    #[serde(default)]
    pub account: Option<String>,
}

impl InboundComment {
    /// A comment with this text, written now on the account's first post.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            ..Self::default()
        }
    }

    /// Writes it under the post or media `id` instead.
    #[must_use]
    pub fn on(mut self, id: impl Into<String>) -> Self {
        self.media = Some(id.into());
        self
    }

    /// Makes it a reply to the comment `id`.
    #[must_use]
    pub fn reply_to(mut self, id: impl Into<String>) -> Self {
        self.reply_to = Some(id.into());
        self
    }

    /// Dates it `days` days in the past.
    #[must_use]
    pub fn days_ago(mut self, days: u32) -> Self {
        self.days_ago = Some(days);
        self
    }

    /// Dates it `minutes` minutes in the past.
    #[must_use]
    pub fn minutes_ago(mut self, minutes: u32) -> Self {
        self.minutes_ago = Some(minutes);
        self
    }
}

/// A comment the emulator accepted: its id, and the post or media it is under.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CommentPosted {
    /// The new comment's id (Instagram: a number; Facebook: `{post-object}_{n}`).
    pub comment_id: CommentId,
    /// The post (Facebook: `{page-id}_{n}`) or media (Instagram) it is under.
    pub post_id: String,
}

/// A post or media of an account.
#[derive(Debug, Clone)]
struct Post {
    id: String,
    account: String,
}

/// One comment, as the emulator keeps it (and `GET /_emulator/comments` shows it).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct StoredComment {
    pub(crate) id: String,
    pub(crate) post_id: String,
    pub(crate) platform: Platform,
    /// The Page whose token manages the comment.
    pub(crate) page_id: String,
    /// The account commented on: the Page, or its Instagram account.
    pub(crate) account_id: String,
    /// The author: a user's PSID/IGSID, or the account's own id.
    pub(crate) from_id: String,
    /// The author's name (Facebook) or username (Instagram).
    pub(crate) from_name: String,
    pub(crate) text: String,
    /// Unix milliseconds.
    pub(crate) created_time: i64,
    pub(crate) parent_id: Option<String>,
    pub(crate) hidden: bool,
    pub(crate) deleted: bool,
    /// The mid of the private reply sent to the author, once sent.
    pub(crate) private_reply: Option<String>,
}

/// The posts and comments of every account.
#[derive(Debug, Default)]
pub(crate) struct Comments {
    posts: Vec<Post>,
    pub(crate) list: Vec<StoredComment>,
    issued: u64,
}

impl Comments {
    fn next(&mut self) -> u64 {
        self.issued += 1;
        self.issued
    }

    /// The account's first post, made when it has none yet.
    fn first_post(&mut self, platform: Platform, account: &str) -> String {
        if let Some(post) = self.posts.iter().find(|p| p.account == account) {
            return post.id.clone();
        }
        let n = self.next();
        let id = match platform {
            Platform::Instagram => (MEDIA_BASE + n).to_string(),
            _ => format!("{account}_{}", POST_BASE + n),
        };
        self.posts.push(Post {
            id: id.clone(),
            account: account.to_owned(),
        });
        id
    }

    fn has_post(&self, account: &str, id: &str) -> bool {
        self.posts
            .iter()
            .any(|p| p.account == account && p.id == id)
    }

    /// A fresh comment id under `post`.
    pub(crate) fn new_id(&mut self, platform: Platform, post: &str) -> String {
        let n = self.next();
        match platform {
            Platform::Instagram => (INSTAGRAM_COMMENT_BASE + n).to_string(),
            _ => {
                let object = post.rsplit_once('_').map_or(post, |(_, object)| object);
                format!("{object}_{}", FACEBOOK_COMMENT_BASE + n)
            }
        }
    }

    /// The comment `id`, deleted or not.
    pub(crate) fn get(&self, id: &str) -> Option<&StoredComment> {
        self.list.iter().find(|c| c.id == id)
    }

    pub(crate) fn get_mut(&mut self, id: &str) -> Option<&mut StoredComment> {
        self.list.iter_mut().find(|c| c.id == id)
    }

    /// The comment a reply to `id` hangs under: Instagram threads are one level deep, so a
    /// reply to a reply joins its top-level comment; Facebook keeps the comment answered.
    pub(crate) fn reply_parent(&self, answered: &StoredComment) -> String {
        match answered.platform {
            Platform::Instagram => answered
                .parent_id
                .clone()
                .unwrap_or_else(|| answered.id.clone()),
            _ => answered.id.clone(),
        }
    }
}

/// The webhook change for `comment`: Instagram's `comments` field, or the Page's `feed` field
/// with `verb` (`add`, `hide`, `unhide`, `remove`).
pub(crate) fn change(comment: &StoredComment, verb: &str) -> (&'static str, Value) {
    match comment.platform {
        Platform::Instagram => {
            let mut value = json!({
                "from": {"id": comment.from_id, "username": comment.from_name},
                "media": {"id": comment.post_id, "media_product_type": "FEED"},
                "id": comment.id,
                "text": comment.text,
            });
            if let Some(parent) = &comment.parent_id {
                value["parent_id"] = json!(parent);
            }
            ("comments", value)
        }
        _ => (
            "feed",
            json!({
                "item": "comment",
                "verb": verb,
                "comment_id": comment.id,
                "post_id": comment.post_id,
                // Meta names the post as the parent of a top-level comment.
                "parent_id": comment.parent_id.as_deref().unwrap_or(&comment.post_id),
                "message": comment.text,
                "from": {"id": comment.from_id, "name": comment.from_name},
                "created_time": comment.created_time / 1000,
                "post": {"id": comment.post_id, "status_type": "added_photos", "is_published": true},
            }),
        ),
    }
}

/// Makes user `id` comment under a post of their account: stored, and the `comments` (Instagram)
/// or `feed` (Facebook) change is queued.
pub(crate) async fn write(
    shared: &Shared,
    id: &str,
    inbound: InboundComment,
) -> Result<CommentPosted, ControlError> {
    let comment = {
        let mut state = shared.lock();
        let (user, account) = target(&state, id)?;
        if let Some(asked) = &inbound.account
            && *asked != account
        {
            return Err(ControlError::NotTheUsersAccount {
                user: user.id,
                account: asked.clone(),
            });
        }
        let (post_id, parent_id) = placement(&mut state, user.platform, &account, &inbound)?;
        let back_ms = i64::from(inbound.days_ago.unwrap_or(0)) * 86_400_000
            + i64::from(inbound.minutes_ago.unwrap_or(0)) * 60_000;
        let comment = StoredComment {
            id: state.comments.new_id(user.platform, &post_id),
            post_id,
            platform: user.platform,
            page_id: user.page.clone(),
            account_id: account,
            from_id: user.id.clone(),
            from_name: match user.platform {
                Platform::Instagram => user.username(),
                _ => user.display_name(),
            },
            text: inbound.text,
            created_time: now_ms() - back_ms,
            parent_id,
            hidden: false,
            deleted: false,
            private_reply: None,
        };
        state.comments.list.push(comment.clone());
        comment
    };
    deliver(shared, &comment, "add").await;
    Ok(CommentPosted {
        comment_id: CommentId::from(comment.id.as_str()),
        post_id: comment.post_id,
    })
}

/// The post and parent comment of a new comment on `account`.
fn placement(
    state: &mut State,
    platform: Platform,
    account: &str,
    inbound: &InboundComment,
) -> Result<(String, Option<String>), ControlError> {
    if let Some(answered) = &inbound.reply_to {
        let answered = state
            .comments
            .get(answered)
            .filter(|c| c.account_id == account && !c.deleted)
            .ok_or_else(|| ControlError::UnknownComment(answered.clone()))?;
        if let Some(media) = inbound.media.as_ref().filter(|m| **m != answered.post_id) {
            return Err(ControlError::UnknownPost(media.clone()));
        }
        return Ok((
            answered.post_id.clone(),
            Some(state.comments.reply_parent(answered)),
        ));
    }
    match &inbound.media {
        Some(media) if state.comments.has_post(account, media) => Ok((media.clone(), None)),
        Some(media) => Err(ControlError::UnknownPost(media.clone())),
        None => Ok((state.comments.first_post(platform, account), None)),
    }
}

/// Queues the change Meta delivers for `comment` (see [`change`]).
pub(crate) async fn deliver(shared: &Shared, comment: &StoredComment, verb: &str) {
    let (field, value) = change(comment, verb);
    shared
        .outbox
        .send_change(comment.platform, &comment.account_id, field, value)
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_look_like_meta_s() {
        let mut comments = Comments::default();
        let media = comments.first_post(Platform::Instagram, "17841400000000000");
        assert_eq!(media, "18000000000000001");
        assert_eq!(
            comments.first_post(Platform::Instagram, "17841400000000000"),
            media,
            "one first post per account"
        );
        assert_eq!(
            comments.new_id(Platform::Instagram, &media),
            "17900000000000002"
        );
        let post = comments.first_post(Platform::Messenger, "104417552380421");
        assert_eq!(post, "104417552380421_122000000000000003");
        assert_eq!(
            comments.new_id(Platform::Messenger, &post),
            "122000000000000003_1000000000000004"
        );
    }
}
