//! The emulator's live state: the world plus everything that happened since it started.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use meta_messaging_core::Platform;
use meta_messaging_core::graph::MessengerProfile;
use serde::Serialize;
use serde_json::Value;

use crate::comments::Comments;
use crate::control::ControlError;
use rand::Rng as _;

use crate::world::{FacebookPage, User, World};

/// A message a user wrote or the app sent, in one conversation.
#[derive(Debug, Clone)]
pub(crate) struct ConversationMessage {
    pub(crate) mid: String,
    pub(crate) page: String,
    pub(crate) user: String,
    pub(crate) from_user: bool,
    pub(crate) timestamp_ms: i64,
    /// The webhook's `message` object: `mid`, `text`, `attachments`.
    pub(crate) content: Value,
}

/// A message the app sent through the emulated Send API, as recorded for assertions.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct SentMessage {
    /// The message id the Send API answered (and the echo webhook carried).
    pub message_id: String,
    /// The Page whose token sent it.
    pub page_id: String,
    /// The recipient's PSID or IGSID.
    pub recipient_id: String,
    /// Messenger or Instagram.
    pub platform: Platform,
    /// The request's `message` object, as sent.
    pub message: Value,
    /// The request's `messaging_type`, when given.
    pub messaging_type: Option<String>,
    /// The request's `tag`, when given.
    pub tag: Option<String>,
    /// When the emulator accepted it (Unix milliseconds).
    pub timestamp: i64,
}

/// One webhook delivery the emulator made (or tried to make).
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct DeliveryRecord {
    /// The delivery body as sent.
    pub body: Value,
    /// The callback's HTTP status; `None` when no callback is set or the request failed.
    pub status: Option<u16>,
    /// Why the delivery failed, when it did.
    pub error: Option<String>,
    /// 1 for the first try, 2 and up for Meta-style redeliveries after a failure.
    pub attempt: u32,
}

/// An attachment uploaded through `message_attachments`, reusable by its id.
#[derive(Debug, Clone)]
pub(crate) struct StoredAttachment {
    pub(crate) page: String,
    pub(crate) kind: String,
    pub(crate) url: String,
    /// Uploaded bytes and their content type; `None` for an attachment uploaded by URL.
    pub(crate) file: Option<(String, bytes::Bytes)>,
    /// When its emulator URL stops working (ms since the epoch).
    pub(crate) expires_at_ms: i64,
}

/// Who a presented token belongs to.
#[derive(Debug, Clone)]
pub(crate) enum Principal {
    Page(FacebookPage),
    User,
    App,
}

pub(crate) struct State {
    pub(crate) world: World,
    /// The emulator's own URL, for the URLs of uploaded attachments.
    pub(crate) base_url: String,
    pub(crate) attachments: HashMap<String, StoredAttachment>,
    expired: HashSet<String>,
    pub(crate) conversation: Vec<ConversationMessage>,
    pub(crate) sent: Vec<SentMessage>,
    pub(crate) deliveries: Vec<DeliveryRecord>,
    pub(crate) subscriptions: HashMap<String, Vec<String>>,
    recent_sends: HashMap<String, VecDeque<Instant>>,
    /// Authorization codes the Login dialog handed out and not yet redeemed.
    pub(crate) codes: HashMap<String, crate::graph::IssuedCode>,
    /// How often each message was edited, for `num_edit`.
    pub(crate) edits: HashMap<String, u32>,
    /// The Messenger profile of each Page, per platform.
    pub(crate) profiles: HashMap<(String, Platform), MessengerProfile>,
    /// The app holding each (Page, user) thread when it is not the emulated app (the handover
    /// protocol); a thread missing here is the emulated app's.
    pub(crate) thread_owners: HashMap<(String, String), String>,
    /// The accounts' posts and the comments under them.
    pub(crate) comments: Comments,
}

/// The user id Meta shows as the owner of the emulated user token.
pub(crate) const FACEBOOK_USER_ID: &str = "10160000000000000";

impl State {
    pub(crate) fn new(world: World, base_url: String) -> Self {
        let history = world.history.clone();
        let subscriptions = world
            .pages
            .iter()
            .filter_map(|p| Some((p.id.clone(), p.subscribed_fields.clone()?)))
            .collect();
        let mut state = Self {
            world,
            base_url,
            attachments: HashMap::new(),
            expired: HashSet::new(),
            conversation: Vec::new(),
            sent: Vec::new(),
            deliveries: Vec::new(),
            subscriptions,
            recent_sends: HashMap::new(),
            edits: HashMap::new(),
            codes: HashMap::new(),
            profiles: HashMap::new(),
            thread_owners: HashMap::new(),
            comments: Comments::default(),
        };
        for prior in history {
            let Some(user) = state.user(&prior.user).cloned() else {
                continue;
            };
            let mut content = serde_json::json!({"mid": prior.mid, "text": prior.text});
            if let Some((mime, bytes)) = prior.picture {
                let (_, url) = state.host_media(mime, bytes);
                content["attachments"] =
                    serde_json::json!([{"type": "image", "payload": {"url": url}}]);
            }
            state.conversation.push(ConversationMessage {
                mid: prior.mid,
                page: user.page,
                user: user.id,
                from_user: prior.from_user,
                timestamp_ms: prior.timestamp_ms,
                content,
            });
        }
        // Threads are listed in this order (newest last), as live messages are appended.
        state.conversation.sort_by_key(|m| m.timestamp_ms);
        state
    }

    /// Who `token` belongs to, or `None` when no such token was issued.
    pub(crate) fn principal(&self, token: &str) -> Option<Principal> {
        if let Some(page) = self.world.pages.iter().find(|p| p.token == token) {
            return Some(Principal::Page(page.clone()));
        }
        if self.world.user_token.as_deref() == Some(token) {
            return Some(Principal::User);
        }
        let app_token = format!("{}|{}", self.world.app.id, self.world.app.secret);
        (token == app_token).then_some(Principal::App)
    }

    pub(crate) fn is_expired(&self, token: &str) -> bool {
        self.expired.contains(token)
    }

    pub(crate) fn expire(&mut self, token: &str) -> Result<(), ControlError> {
        if self.principal(token).is_none() {
            return Err(ControlError::UnknownToken);
        }
        self.expired.insert(token.to_owned());
        Ok(())
    }

    pub(crate) fn set_permissions(
        &mut self,
        page_id: &str,
        permissions: Vec<String>,
    ) -> Result<(), ControlError> {
        let page = self
            .world
            .pages
            .iter_mut()
            .find(|p| p.id == page_id)
            .ok_or_else(|| ControlError::UnknownPage(page_id.to_owned()))?;
        page.permissions = permissions;
        Ok(())
    }

    /// Points deliveries at `url` (`None`: keep them in the log only).
    pub(crate) fn set_callback(&mut self, url: Option<String>) -> Result<(), ControlError> {
        if let Some(url) = &url {
            let absolute = url.starts_with("http://") || url.starts_with("https://");
            if !absolute {
                return Err(ControlError::InvalidCallback(url.clone()));
            }
        }
        self.world.callback_url = url;
        Ok(())
    }

    pub(crate) fn add_user(&mut self, user: User) -> Result<(), ControlError> {
        if self.page(&user.page).is_none() {
            return Err(ControlError::UnknownPage(user.page));
        }
        self.world.users.retain(|u| u.id != user.id);
        self.world.users.push(user);
        Ok(())
    }

    pub(crate) fn page(&self, id: &str) -> Option<&FacebookPage> {
        self.world.pages.iter().find(|p| p.id == id)
    }

    /// The Page answering to `id`: the Page itself or its linked Instagram account.
    pub(crate) fn page_for_node(&self, id: &str) -> Option<&FacebookPage> {
        self.world
            .pages
            .iter()
            .find(|p| p.id == id || p.instagram.as_ref().is_some_and(|ig| ig.id == id))
    }

    pub(crate) fn user(&self, id: &str) -> Option<&User> {
        self.world.users.iter().find(|u| u.id == id)
    }

    /// Whether `mid` is a message between `user` and their Page.
    pub(crate) fn in_conversation(&self, user: &User, mid: &str) -> bool {
        self.conversation
            .iter()
            .any(|m| m.mid == mid && m.user == user.id && m.page == user.page)
    }

    /// When `user` last wrote to `page`.
    pub(crate) fn last_inbound(&self, page: &str, user: &str) -> Option<i64> {
        self.conversation
            .iter()
            .filter(|m| m.from_user && m.page == page && m.user == user)
            .map(|m| m.timestamp_ms)
            .max()
    }

    /// Counts a send for `page`; `false` when it exceeds the configured per-second limit.
    /// The app that owns the thread of `user` with `page` (the emulated app unless another
    /// app took it).
    pub(crate) fn thread_owner(&self, page: &str, user: &str) -> &str {
        self.thread_owners
            .get(&(page.to_owned(), user.to_owned()))
            .map_or(self.world.app.id.as_str(), String::as_str)
    }

    pub(crate) fn admit_send(&mut self, page: &str) -> bool {
        let Some(limit) = self.world.send_rate_limit else {
            return true;
        };
        let now = Instant::now();
        let recent = self.recent_sends.entry(page.to_owned()).or_default();
        while recent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
        {
            recent.pop_front();
        }
        if recent.len() >= usize::try_from(limit).unwrap_or(usize::MAX) {
            return false;
        }
        recent.push_back(now);
        true
    }
}

/// The emulator's clock: the system time in Unix milliseconds.
impl State {
    /// Keeps an attachment under a new id and returns the id and its URL, which works for the
    /// world's `attachment_url_ttl_ms`. The URL carries its expiry as `oe` (hex seconds), as
    /// Meta's CDN URLs do.
    pub(crate) fn host_attachment(
        &mut self,
        page: String,
        kind: String,
        url: Option<String>,
        file: Option<(String, bytes::Bytes)>,
    ) -> (String, String) {
        let id = attachment_id();
        let ttl = i64::try_from(self.world.attachment_url_ttl_ms).unwrap_or(i64::MAX);
        let expires_at_ms = now_ms().saturating_add(ttl);
        let url = url.unwrap_or_else(|| {
            format!(
                "{}/_emulator/attachments/{id}?oe={:x}",
                self.base_url,
                expires_at_ms / 1000
            )
        });
        self.attachments.insert(
            id.clone(),
            StoredAttachment {
                page,
                kind,
                url: url.clone(),
                file,
                expires_at_ms,
            },
        );
        (id, url)
    }
}

impl State {
    /// Hosts bytes as a CDN file no Page uploaded (what a user's inbound attachment points
    /// at); returns its id and expiring URL.
    pub(crate) fn host_media(&mut self, mime: String, bytes: bytes::Bytes) -> (String, String) {
        let kind = mime.split('/').next().unwrap_or("file").to_owned();
        self.host_attachment(String::new(), kind, None, Some((mime, bytes)))
    }
}

/// A 16-digit id like Meta's attachment ids.
fn attachment_id() -> String {
    let mut rng = rand::rng();
    format!("18{:014}", rng.random_range(0..100_000_000_000_000_u64))
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
