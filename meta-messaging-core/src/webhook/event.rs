//! [`Event`]: one normalized webhook event, and its [`EventKind`].

use serde::Serialize;
use serde_json::value::RawValue;

use super::details::{
    Comment, Delete, DeliveryReceipt, Edit, Handover, Mention, Optin, Postback, Reaction,
    ReadReceipt, Referral, Unknown,
};
use super::message::Message;
use crate::ids::{AccountId, MessageId, ParticipantId, UserId};
use crate::platform::Platform;

/// One webhook event, normalized across Messenger and Instagram and across Meta's `messaging`,
/// `standby` and `changes` formats.
///
/// # JSON form
///
/// `Event` serializes to a stable JSON object (what `meta-messaging inspect` prints):
///
/// | field | type | meaning |
/// |---|---|---|
/// | `platform` | `"messenger"` \| `"instagram"` | from the delivery's `object` |
/// | `kind` | string | [`EventKind`]: `message`, `echo`, `reaction`, `read`, `delivery`, `postback`, `referral`, `optin`, `edit`, `delete`, `handover`, `comment`, `mention`, `unknown` |
/// | `account_id` | string | the receiving Page or Instagram account (the entry id) |
/// | `sender_id`, `recipient_id` | string \| null | as Meta sent them |
/// | `timestamp_ms` | integer | milliseconds since the epoch, whether Meta sent ms, seconds or a string |
/// | `message_id` | string \| null | the message the event is, or refers to |
/// | `text` | string \| null | the text (message, edit, comment; a postback's button title) |
/// | `standby` | bool | true for events from `standby[]` (this app does not own the thread) |
/// | *kind* | object | the kind's own fields, under a key named like the kind |
///
/// ```
/// use meta_messaging_core::webhook;
///
/// let body = br#"{"object":"instagram","entry":[{"id":"17841400000000000","time":1700000000000,
///   "messaging":[{"sender":{"id":"5000000000000001"},"recipient":{"id":"17841400000000000"},
///   "timestamp":1700000000123,"message":{"mid":"aWdfZAG1faXRlbT","text":"hi"}}]}]}"#;
/// let events = webhook::parse(body).unwrap();
/// let json = serde_json::to_value(&events[0]).unwrap();
/// assert_eq!(json["kind"], "message");
/// assert_eq!(json["platform"], "instagram");
/// assert_eq!(json["timestamp_ms"], 1700000000123i64);
/// assert_eq!(json["message_id"], "aWdfZAG1faXRlbT");
/// assert_eq!(json["text"], "hi");
/// assert_eq!(json["message"]["attachments"], serde_json::json!([]));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Event {
    /// Messenger or Instagram.
    pub platform: Platform,
    /// The receiving Page or Instagram professional account: the delivery entry's `id`.
    /// Empty only for an [`Unknown`] event made from an entry that had no id.
    pub account_id: AccountId,
    /// `sender.id` as Meta sent it: the user for inbound events, the account for echoes.
    pub sender_id: Option<ParticipantId>,
    /// `recipient.id` as Meta sent it.
    pub recipient_id: Option<ParticipantId>,
    /// When the event happened, in milliseconds since the Unix epoch. Falls back to the entry's
    /// `time` when the event has none, and is 0 when neither is present.
    pub timestamp_ms: i64,
    /// True for events delivered in `standby[]`: another app owns the thread (handover protocol).
    pub standby: bool,
    /// What happened.
    pub details: EventDetails,
    raw: Option<Box<RawValue>>,
}

/// What an [`Event`] is about; one variant per [`EventKind`].
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EventDetails {
    /// A message from a user.
    Message(Box<Message>),
    /// The echo of a message the account sent (from this app, another app or a person in the
    /// Page inbox).
    Echo(Box<Message>),
    /// A reaction added or removed.
    Reaction(Reaction),
    /// Messages read by the user.
    Read(ReadReceipt),
    /// Messages delivered to the user (Messenger).
    Delivery(DeliveryReceipt),
    /// A button or quick-reply click that posts back a payload.
    Postback(Box<Postback>),
    /// The user arrived through a link, ad or other referral.
    Referral(Box<Referral>),
    /// The user opted in (plugin, recurring notifications, ...).
    Optin(Box<Optin>),
    /// A message was edited.
    Edit(Edit),
    /// A message was deleted (unsent) by the user.
    Delete(Delete),
    /// Thread control changed hands (handover protocol).
    Handover(Handover),
    /// A comment on a post or live video.
    Comment(Box<Comment>),
    /// The account was mentioned in a comment or caption.
    Mention(Mention),
    /// Something this version does not know yet, kept whole.
    Unknown(Box<Unknown>),
}

/// The kind of an [`Event`], as in its JSON form's `kind` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EventKind {
    /// [`EventDetails::Message`]
    Message,
    /// [`EventDetails::Echo`]
    Echo,
    /// [`EventDetails::Reaction`]
    Reaction,
    /// [`EventDetails::Read`]
    Read,
    /// [`EventDetails::Delivery`]
    Delivery,
    /// [`EventDetails::Postback`]
    Postback,
    /// [`EventDetails::Referral`]
    Referral,
    /// [`EventDetails::Optin`]
    Optin,
    /// [`EventDetails::Edit`]
    Edit,
    /// [`EventDetails::Delete`]
    Delete,
    /// [`EventDetails::Handover`]
    Handover,
    /// [`EventDetails::Comment`]
    Comment,
    /// [`EventDetails::Mention`]
    Mention,
    /// [`EventDetails::Unknown`]
    Unknown,
}

impl EventKind {
    /// The name used in the JSON form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Message => "message",
            Self::Echo => "echo",
            Self::Reaction => "reaction",
            Self::Read => "read",
            Self::Delivery => "delivery",
            Self::Postback => "postback",
            Self::Referral => "referral",
            Self::Optin => "optin",
            Self::Edit => "edit",
            Self::Delete => "delete",
            Self::Handover => "handover",
            Self::Comment => "comment",
            Self::Mention => "mention",
            Self::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl EventDetails {
    /// The kind of these details.
    pub fn kind(&self) -> EventKind {
        match self {
            Self::Message(_) => EventKind::Message,
            Self::Echo(_) => EventKind::Echo,
            Self::Reaction(_) => EventKind::Reaction,
            Self::Read(_) => EventKind::Read,
            Self::Delivery(_) => EventKind::Delivery,
            Self::Postback(_) => EventKind::Postback,
            Self::Referral(_) => EventKind::Referral,
            Self::Optin(_) => EventKind::Optin,
            Self::Edit(_) => EventKind::Edit,
            Self::Delete(_) => EventKind::Delete,
            Self::Handover(_) => EventKind::Handover,
            Self::Comment(_) => EventKind::Comment,
            Self::Mention(_) => EventKind::Mention,
            Self::Unknown(_) => EventKind::Unknown,
        }
    }
}

impl Event {
    /// An event with no sender, recipient or raw JSON; add them with the `with_*` methods.
    ///
    /// Parsing builds events for you; this is for tests and for synthesizing events.
    pub fn new(
        platform: Platform,
        account_id: impl Into<AccountId>,
        timestamp_ms: i64,
        details: EventDetails,
    ) -> Self {
        Self {
            platform,
            account_id: account_id.into(),
            sender_id: None,
            recipient_id: None,
            timestamp_ms,
            standby: false,
            details,
            raw: None,
        }
    }

    /// Sets the sender.
    #[must_use]
    pub fn with_sender(mut self, sender: impl Into<ParticipantId>) -> Self {
        self.sender_id = Some(sender.into());
        self
    }

    /// Sets the recipient.
    #[must_use]
    pub fn with_recipient(mut self, recipient: impl Into<ParticipantId>) -> Self {
        self.recipient_id = Some(recipient.into());
        self
    }

    /// Marks the event as coming from `standby[]`.
    #[must_use]
    pub fn with_standby(mut self, standby: bool) -> Self {
        self.standby = standby;
        self
    }

    pub(crate) fn with_raw(mut self, raw: Box<RawValue>) -> Self {
        self.raw = Some(raw);
        self
    }

    /// The delivery's `object` when this version does not handle it
    /// (`whatsapp_business_account`, `user`, ...): such an event is a whole entry kept as
    /// [`EventDetails::Unknown`], its `platform` means nothing and its `account_id` is the
    /// entry's `id`, which names no Page or Instagram account. `None` for Messenger and Instagram
    /// events.
    pub fn unknown_object(&self) -> Option<&str> {
        match &self.details {
            EventDetails::Unknown(unknown) => unknown.object.as_deref(),
            _ => None,
        }
    }

    /// The kind of event.
    pub fn kind(&self) -> EventKind {
        self.details.kind()
    }

    /// The JSON of this one event exactly as Meta sent it (the `messaging[]` / `standby[]` item
    /// or the `changes[]` item); `None` for events built in code.
    pub fn raw(&self) -> Option<&RawValue> {
        self.raw.as_deref()
    }

    /// The message this event is, or refers to.
    ///
    /// A delivery receipt names a message only when it lists exactly one; a Messenger read
    /// receipt names none (it carries a watermark).
    pub fn message_id(&self) -> Option<&MessageId> {
        match &self.details {
            EventDetails::Message(m) | EventDetails::Echo(m) => Some(&m.mid),
            EventDetails::Reaction(r) => Some(&r.mid),
            EventDetails::Read(r) => r.mid.as_ref(),
            EventDetails::Delivery(d) => match d.mids.as_slice() {
                [only] => Some(only),
                _ => None,
            },
            EventDetails::Postback(p) => p.mid.as_ref(),
            EventDetails::Edit(e) => Some(&e.mid),
            EventDetails::Delete(d) => Some(&d.mid),
            _ => None,
        }
    }

    /// The event's text: a message's or edit's text, a comment's text, or the title of the
    /// button a postback came from.
    pub fn text(&self) -> Option<&str> {
        match &self.details {
            EventDetails::Message(m) | EventDetails::Echo(m) => m.text.as_deref(),
            EventDetails::Edit(e) => e.text.as_deref(),
            EventDetails::Postback(p) => p.title.as_deref(),
            EventDetails::Comment(c) => c.text.as_deref(),
            _ => None,
        }
    }

    /// The customer's side of the conversation: the recipient of an echo, the sender of
    /// anything else. `None` when Meta named no such participant.
    pub fn user_id(&self) -> Option<UserId> {
        let user = match self.details {
            EventDetails::Echo(_) => self.recipient_id.as_ref(),
            _ => self.sender_id.as_ref(),
        };
        user.map(|id| UserId::new(id.as_str()))
    }
}

#[derive(Serialize)]
struct EventJson<'a> {
    platform: Platform,
    kind: EventKind,
    account_id: &'a AccountId,
    sender_id: Option<&'a ParticipantId>,
    recipient_id: Option<&'a ParticipantId>,
    timestamp_ms: i64,
    message_id: Option<&'a MessageId>,
    text: Option<&'a str>,
    standby: bool,
    #[serde(flatten)]
    details: &'a EventDetails,
}

impl Serialize for Event {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        EventJson {
            platform: self.platform,
            kind: self.kind(),
            account_id: &self.account_id,
            sender_id: self.sender_id.as_ref(),
            recipient_id: self.recipient_id.as_ref(),
            timestamp_ms: self.timestamp_ms,
            message_id: self.message_id(),
            text: self.text(),
            standby: self.standby,
            details: &self.details,
        }
        .serialize(serializer)
    }
}
