//! Meta's webhook JSON, as it arrives. Only [`parse`](super::parse) reads these types; they are
//! lenient where Meta is inconsistent (ids as numbers or strings, timestamps in any unit) and
//! turn into the public event types there.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use serde_json::value::RawValue;

use super::timestamp::WireTime;

/// An id that Meta sends as a string in most places and as a number in some (`app_id` of echoes,
/// handover app ids). Kept as the exact digits; never converted through a float.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WireId(pub(crate) String);

impl<'de> Deserialize<'de> for WireId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IdVisitor;
        impl Visitor<'_> for IdVisitor {
            type Value = WireId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an id (string or integer)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<WireId, E> {
                Ok(WireId(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<WireId, E> {
                Ok(WireId(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<WireId, E> {
                Ok(WireId(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<WireId, E> {
                Ok(WireId(v.to_string()))
            }
        }
        deserializer.deserialize_any(IdVisitor)
    }
}

impl WireId {
    pub(crate) fn into_id<T: From<String>>(self) -> T {
        T::from(self.0)
    }
}

/// `{"object": ..., "entry": [...]}`; entries stay raw so one odd entry cannot fail the others.
#[derive(Deserialize)]
pub(crate) struct Envelope<'a> {
    pub(crate) object: String,
    #[serde(borrow)]
    pub(crate) entry: Vec<&'a RawValue>,
}

/// One `entry[]` item; its events stay raw so one odd event cannot fail the others.
#[derive(Deserialize)]
pub(crate) struct Entry<'a> {
    pub(crate) id: Option<WireId>,
    pub(crate) time: Option<WireTime>,
    #[serde(borrow)]
    pub(crate) messaging: Option<Vec<&'a RawValue>>,
    #[serde(borrow)]
    pub(crate) standby: Option<Vec<&'a RawValue>>,
    #[serde(borrow)]
    pub(crate) changes: Option<Vec<&'a RawValue>>,
}

/// What parsing reads of an entry of an object it does not handle: the rest stays raw.
#[derive(Deserialize)]
pub(crate) struct EntryHeader {
    pub(crate) id: Option<WireId>,
    pub(crate) time: Option<WireTime>,
}

/// One `changes[]` item.
#[derive(Deserialize)]
pub(crate) struct Change<'a> {
    pub(crate) field: Option<String>,
    #[serde(borrow)]
    pub(crate) value: Option<&'a RawValue>,
}

/// One `messaging[]` / `standby[]` item (or the `value` of a messaging-like change).
#[derive(Deserialize)]
pub(crate) struct Messaging {
    pub(crate) sender: Option<Party>,
    pub(crate) recipient: Option<Party>,
    pub(crate) timestamp: Option<WireTime>,
    pub(crate) message: Option<Message>,
    pub(crate) message_edit: Option<Edit>,
    pub(crate) reaction: Option<Reaction>,
    pub(crate) read: Option<Read>,
    pub(crate) delivery: Option<Delivery>,
    pub(crate) postback: Option<Postback>,
    pub(crate) referral: Option<FieldMap>,
    pub(crate) optin: Option<FieldMap>,
    pub(crate) pass_thread_control: Option<HandoverFields>,
    pub(crate) take_thread_control: Option<HandoverFields>,
    pub(crate) request_thread_control: Option<HandoverFields>,
    pub(crate) app_roles: Option<BTreeMap<String, Vec<String>>>,
}

/// Objects whose every field is kept (referrals, opt-ins): Meta keeps adding to them.
pub(crate) type FieldMap = BTreeMap<String, serde_json::Value>;

#[derive(Deserialize)]
pub(crate) struct Party {
    pub(crate) id: Option<WireId>,
    pub(crate) user_ref: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct Message {
    pub(crate) mid: Option<WireId>,
    pub(crate) text: Option<String>,
    pub(crate) attachments: Option<Vec<Attachment>>,
    pub(crate) quick_reply: Option<QuickReply>,
    pub(crate) reply_to: Option<ReplyTo>,
    #[serde(default)]
    pub(crate) is_echo: bool,
    #[serde(default)]
    pub(crate) is_deleted: bool,
    #[serde(default)]
    pub(crate) is_unsupported: bool,
    pub(crate) referral: Option<FieldMap>,
    pub(crate) commands: Option<Vec<Command>>,
    pub(crate) app_id: Option<WireId>,
    pub(crate) metadata: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct Attachment {
    #[serde(rename = "type")]
    pub(crate) kind: Option<String>,
    pub(crate) payload: Option<serde_json::Value>,
    // Fallback and template attachments carry these beside the payload, not in it.
    pub(crate) title: Option<String>,
    pub(crate) url: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct QuickReply {
    pub(crate) payload: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct ReplyTo {
    pub(crate) mid: Option<WireId>,
    pub(crate) story: Option<Story>,
}

#[derive(Deserialize)]
pub(crate) struct Story {
    pub(crate) id: Option<WireId>,
    pub(crate) url: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct Command {
    pub(crate) name: String,
}

#[derive(Deserialize)]
pub(crate) struct Edit {
    pub(crate) mid: Option<WireId>,
    pub(crate) text: Option<String>,
    // Meta's reference shows it quoted ("<INT>"); read either form.
    pub(crate) num_edit: Option<WireTime>,
}

/// Just the participants and time of a messaging event, read when the full event is not
/// readable so that the unknown event still says who and when.
#[derive(Deserialize)]
pub(crate) struct MessagingHeader {
    pub(crate) sender: Option<serde_json::Value>,
    pub(crate) recipient: Option<serde_json::Value>,
    pub(crate) timestamp: Option<WireTime>,
}

#[derive(Deserialize)]
pub(crate) struct Reaction {
    pub(crate) mid: Option<WireId>,
    pub(crate) action: Option<String>,
    pub(crate) reaction: Option<String>,
    pub(crate) emoji: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct Read {
    pub(crate) watermark: Option<WireTime>,
    pub(crate) mid: Option<WireId>,
}

#[derive(Deserialize)]
pub(crate) struct Delivery {
    pub(crate) mids: Option<Vec<WireId>>,
    pub(crate) watermark: Option<WireTime>,
}

#[derive(Deserialize)]
pub(crate) struct Postback {
    pub(crate) mid: Option<WireId>,
    pub(crate) title: Option<String>,
    pub(crate) payload: Option<String>,
    pub(crate) referral: Option<FieldMap>,
}

#[derive(Deserialize)]
pub(crate) struct HandoverFields {
    pub(crate) new_owner_app_id: Option<WireId>,
    pub(crate) previous_owner_app_id: Option<WireId>,
    pub(crate) requested_owner_app_id: Option<WireId>,
    pub(crate) metadata: Option<String>,
}

/// The `value` of a `comments` / `live_comments` change.
#[derive(Deserialize)]
pub(crate) struct CommentValue {
    pub(crate) id: Option<WireId>,
    pub(crate) text: Option<String>,
    pub(crate) from: Option<CommentFrom>,
    pub(crate) media: Option<CommentMedia>,
    pub(crate) parent_id: Option<WireId>,
    pub(crate) timestamp: Option<WireTime>,
}

#[derive(Deserialize)]
pub(crate) struct CommentFrom {
    pub(crate) id: Option<WireId>,
    pub(crate) username: Option<String>,
    pub(crate) name: Option<String>,
}

/// The `value` of a Facebook Page `feed` change: a post, comment, reaction, ... on the Page.
#[derive(Deserialize)]
pub(crate) struct FeedValue {
    pub(crate) item: Option<String>,
    pub(crate) verb: Option<String>,
    pub(crate) comment_id: Option<WireId>,
    pub(crate) post_id: Option<WireId>,
    pub(crate) parent_id: Option<WireId>,
    pub(crate) message: Option<String>,
    pub(crate) from: Option<CommentFrom>,
    pub(crate) created_time: Option<WireTime>,
}

#[derive(Deserialize)]
pub(crate) struct CommentMedia {
    pub(crate) id: Option<WireId>,
    pub(crate) media_product_type: Option<String>,
}

/// The `value` of a `mentions` change.
#[derive(Deserialize)]
pub(crate) struct MentionValue {
    pub(crate) media_id: Option<WireId>,
    pub(crate) comment_id: Option<WireId>,
}
