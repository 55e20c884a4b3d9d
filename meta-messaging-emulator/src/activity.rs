//! What simulated users do: write, react, read and edit. Each is recorded and delivered as the
//! webhook Meta would send.

use meta_messaging_core::Platform;
use meta_messaging_core::ids::MessageId;
use meta_messaging_core::webhook::DeliveryBuilder;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::control::ControlError;
use crate::server::Shared;
use crate::state::{ConversationMessage, State, now_ms};
use crate::world::User;

/// What a simulated user writes: a text, an attachment, or both.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Inbound {
    /// The text.
    #[serde(default)]
    pub text: Option<String>,
    /// One attachment.
    #[serde(default)]
    pub attachment: Option<InboundAttachment>,
    /// When the user wrote (Unix milliseconds); default: now. Set it in the past to put the
    /// conversation outside the messaging window.
    #[serde(default)]
    pub timestamp: Option<i64>,
    /// The mid of an earlier message of the conversation this one replies to (`reply_to`).
    #[serde(default)]
    pub reply_to: Option<String>,
    /// The payload of the quick reply the user tapped (`quick_reply.payload`); the text is the
    /// quick reply's title.
    #[serde(default)]
    pub quick_reply: Option<String>,
}

/// An attachment a simulated user sends.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct InboundAttachment {
    /// Meta's attachment type: `image`, `video`, `audio`, `file`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// The attachment's URL.
    pub url: String,
}

impl Inbound {
    /// A text message written now.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: Some(text.into()),
            ..Self::default()
        }
    }

    /// An attachment of Meta's type `kind` (`image`, `video`, ...) at `url`, sent now.
    pub fn attachment(kind: impl Into<String>, url: impl Into<String>) -> Self {
        Self {
            attachment: Some(InboundAttachment {
                kind: kind.into(),
                url: url.into(),
            }),
            ..Self::default()
        }
    }

    /// Makes the message a reply to the earlier message `mid`.
    #[must_use]
    pub fn reply_to(mut self, mid: impl Into<String>) -> Self {
        self.reply_to = Some(mid.into());
        self
    }

    /// Makes the message the tap of a quick reply with this payload.
    #[must_use]
    pub fn quick_reply(mut self, payload: impl Into<String>) -> Self {
        self.quick_reply = Some(payload.into());
        self
    }

    /// Dates the message at `timestamp_ms` (Unix milliseconds) instead of now.
    #[must_use]
    pub fn at(mut self, timestamp_ms: i64) -> Self {
        self.timestamp = Some(timestamp_ms);
        self
    }
}

/// A reaction a simulated user puts on (or takes off) a message.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct InboundReaction {
    /// The message reacted to.
    pub mid: String,
    /// Meta's reaction name (`love`, `like`, `smile`, ...); default `love`.
    #[serde(default = "default_reaction")]
    pub reaction: String,
    /// The emoji; default ❤.
    #[serde(default = "default_emoji")]
    pub emoji: String,
    /// `false` takes the reaction off (`action: unreact`).
    #[serde(default = "default_true")]
    pub react: bool,
}

fn default_reaction() -> String {
    "love".to_owned()
}

fn default_emoji() -> String {
    "\u{2764}".to_owned()
}

fn default_true() -> bool {
    true
}

impl InboundReaction {
    /// A `love` (❤) reaction on `mid`.
    pub fn love(mid: impl Into<String>) -> Self {
        Self {
            mid: mid.into(),
            reaction: default_reaction(),
            emoji: default_emoji(),
            react: true,
        }
    }

    /// Takes the reaction off instead.
    #[must_use]
    pub fn unreact(mut self) -> Self {
        self.react = false;
        self
    }
}

/// The user, and the account id their events are addressed to: the Page, or on Instagram the
/// Page's linked Instagram account.
pub(crate) fn target(state: &State, id: &str) -> Result<(User, String), ControlError> {
    let user = state
        .user(id)
        .cloned()
        .ok_or_else(|| ControlError::UnknownUser(id.to_owned()))?;
    let page = state
        .page(&user.page)
        .ok_or_else(|| ControlError::UnknownPage(user.page.clone()))?;
    let account = match (user.platform, &page.instagram) {
        (Platform::Instagram, Some(ig)) => ig.id.clone(),
        _ => page.id.clone(),
    };
    Ok((user, account))
}

fn event(user: &User, account: &str, timestamp: i64, key: &str, payload: Value) -> Value {
    let mut event = json!({
        "sender": {"id": user.id},
        "recipient": {"id": account},
        "timestamp": timestamp,
    });
    event[key] = payload;
    event
}

/// Makes user `id` write `inbound` to their Page: records it (opening the messaging window) and
/// queues the webhook.
pub(crate) async fn write(
    shared: &Shared,
    id: &str,
    inbound: Inbound,
) -> Result<MessageId, ControlError> {
    if inbound.text.is_none() && inbound.attachment.is_none() {
        return Err(ControlError::EmptyMessage);
    }
    let (platform, account, event, mid, standby) = {
        let mut state = shared.lock();
        let (user, account) = target(&state, id)?;
        let mid = DeliveryBuilder::new(user.platform, account.as_str()).new_message_id();
        let mut message = json!({"mid": mid.as_str()});
        if let Some(text) = &inbound.text {
            message["text"] = json!(text);
        }
        if let Some(attachment) = &inbound.attachment {
            message["attachments"] =
                json!([{"type": attachment.kind, "payload": {"url": attachment.url}}]);
        }
        if let Some(mid) = &inbound.reply_to {
            if !state.in_conversation(&user, mid) {
                return Err(ControlError::UnknownMessage(mid.clone()));
            }
            message["reply_to"] = json!({"mid": mid});
        }
        if let Some(payload) = &inbound.quick_reply {
            message["quick_reply"] = json!({"payload": payload});
        }
        let timestamp = inbound.timestamp.unwrap_or_else(now_ms);
        state.conversation.push(ConversationMessage {
            mid: mid.as_str().to_owned(),
            page: user.page.clone(),
            user: user.id.clone(),
            from_user: true,
            timestamp_ms: timestamp,
            content: message.clone(),
        });
        let event = event(&user, &account, timestamp, "message", message);
        let standby = state.thread_owner(&user.page, &user.id) != state.world.app.id;
        (user.platform, account, event, mid, standby)
    };
    if standby {
        shared.outbox.send_standby(platform, &account, event).await;
    } else {
        shared.outbox.send(platform, &account, event).await;
    }
    Ok(mid)
}

/// Makes user `id` react to a message of their conversation.
pub(crate) async fn react(
    shared: &Shared,
    id: &str,
    reaction: InboundReaction,
) -> Result<(), ControlError> {
    let (platform, account, event) = {
        let state = shared.lock();
        let (user, account) = target(&state, id)?;
        if !state.in_conversation(&user, &reaction.mid) {
            return Err(ControlError::UnknownMessage(reaction.mid));
        }
        let mut payload = json!({
            "mid": reaction.mid,
            "action": if reaction.react { "react" } else { "unreact" },
        });
        if reaction.react {
            payload["reaction"] = json!(reaction.reaction);
            payload["emoji"] = json!(reaction.emoji);
        }
        let event = event(&user, &account, now_ms(), "reaction", payload);
        (user.platform, account, event)
    };
    shared.outbox.send(platform, &account, event).await;
    Ok(())
}

/// Makes user `id` read the conversation: on Messenger a `watermark` (now), on Instagram the
/// `mid` of the last message the app sent them.
pub(crate) async fn read(shared: &Shared, id: &str) -> Result<(), ControlError> {
    let (platform, account, event) = {
        let state = shared.lock();
        let (user, account) = target(&state, id)?;
        let now = now_ms();
        let payload = match user.platform {
            Platform::Instagram => {
                let last = state
                    .conversation
                    .iter()
                    .rev()
                    .find(|m| !m.from_user && m.user == user.id && m.page == user.page)
                    .ok_or_else(|| ControlError::UnknownMessage("(nothing sent yet)".to_owned()))?;
                json!({"mid": last.mid})
            }
            _ => json!({"watermark": now}),
        };
        let event = event(&user, &account, now, "read", payload);
        (user.platform, account, event)
    };
    shared.outbox.send(platform, &account, event).await;
    Ok(())
}

/// Makes user `id` edit a message they wrote.
pub(crate) async fn edit(
    shared: &Shared,
    id: &str,
    mid: &str,
    text: &str,
) -> Result<(), ControlError> {
    let (platform, account, event) = {
        let mut state = shared.lock();
        let (user, account) = target(&state, id)?;
        let Some(original) = state
            .conversation
            .iter_mut()
            .find(|m| m.from_user && m.mid == mid && m.user == user.id)
        else {
            return Err(ControlError::UnknownMessage(mid.to_owned()));
        };
        original.content["text"] = json!(text);
        let edits = state.edits.entry(mid.to_owned()).or_insert(0);
        *edits += 1;
        let payload = json!({"mid": mid, "text": text, "num_edit": *edits});
        let event = event(&user, &account, now_ms(), "message_edit", payload);
        (user.platform, account, event)
    };
    shared.outbox.send(platform, &account, event).await;
    Ok(())
}

/// Makes Instagram user `id` unsend a message they wrote: Meta then delivers the message again
/// with `is_deleted: true`. Messenger sends no webhook for an unsent message, so this refuses
/// Messenger users.
pub(crate) async fn unsend(shared: &Shared, id: &str, mid: &str) -> Result<(), ControlError> {
    let (platform, account, event) = {
        let mut state = shared.lock();
        let (user, account) = target(&state, id)?;
        if user.platform != Platform::Instagram {
            return Err(ControlError::NotOnMessenger("unsend"));
        }
        let before = state.conversation.len();
        state
            .conversation
            .retain(|m| !(m.from_user && m.mid == mid && m.user == user.id));
        if state.conversation.len() == before {
            return Err(ControlError::UnknownMessage(mid.to_owned()));
        }
        let payload = json!({"mid": mid, "is_deleted": true});
        let event = event(&user, &account, now_ms(), "message", payload);
        (user.platform, account, event)
    };
    shared.outbox.send(platform, &account, event).await;
    Ok(())
}

/// What another app of the Page does with a user's thread (the handover protocol).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum OtherAppAction {
    /// Takes the thread from the emulated app: Meta tells the app that lost it.
    Take,
    /// Passes the thread back to the emulated app: Meta tells the app that receives it.
    Pass,
}

/// Another app (`app_id`) takes user `id`'s thread or passes it back to the emulated app, and
/// the emulated app gets the `take_thread_control` / `pass_thread_control` webhook. While
/// another app holds the thread, the user's messages reach the emulated app in `standby`.
pub(crate) async fn other_app(
    shared: &Shared,
    id: &str,
    action: OtherAppAction,
    app_id: &str,
    metadata: Option<&str>,
) -> Result<(), ControlError> {
    let (platform, account, event) = {
        let mut state = shared.lock();
        let (user, account) = target(&state, id)?;
        let ours = state.world.app.id.clone();
        let key = (user.page.clone(), user.id.clone());
        let (name, previous, new) = match action {
            OtherAppAction::Take => {
                state.thread_owners.insert(key, app_id.to_owned());
                ("take_thread_control", ours.as_str(), app_id)
            }
            OtherAppAction::Pass => {
                state.thread_owners.remove(&key);
                ("pass_thread_control", app_id, ours.as_str())
            }
        };
        let payload = json!({"previous_owner_app_id": previous, "new_owner_app_id": new, "metadata": metadata});
        let event = event(&user, &account, now_ms(), name, payload);
        (user.platform, account, event)
    };
    shared.outbox.send(platform, &account, event).await;
    Ok(())
}
