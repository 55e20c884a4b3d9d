//! Typed identifiers: Meta's ids, the tenant id, and the store's own row ids.
//!
//! Meta's ids are opaque strings of any length: Page-scoped and Instagram-scoped user ids are
//! numbers too large for a 53-bit float, and Instagram message ids are long base64-like strings.
//! Every Meta id here is therefore a string newtype that is never parsed, trimmed or length-checked,
//! and each kind of id has its own type so that a Page id cannot be passed where a user id is
//! expected.
//!
//! The store numbers its conversations and messages itself: [`ConversationId`] and
//! [`StoredMessageId`] are integers, serialized as strings too.
//!
//! All ids serialize as plain JSON strings; Meta's convert from `&str` and `String`:
//!
//! ```
//! use meta_messaging_core::ids::{AccountId, PageId};
//!
//! let page = PageId::from("104417552380421");
//! let account: AccountId = page.clone().into();
//! assert_eq!(account.as_str(), page.as_str());
//! assert_eq!(serde_json::to_string(&page).unwrap(), r#""104417552380421""#);
//! ```

use std::borrow::Borrow;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! string_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps an id exactly as Meta (or the caller) spelled it.
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            /// The id as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Unwraps the id into its `String`.
            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({:?})"), self.0)
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_owned())
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

macro_rules! widen_id {
    ($from:ident => $to:ident) => {
        impl From<$from> for $to {
            fn from(id: $from) -> Self {
                Self(id.0)
            }
        }
    };
}

string_id! {
    /// A Facebook Page id: the business side of a Messenger conversation.
    PageId
}

string_id! {
    /// An Instagram professional (Business or Creator) account id: the business side of an
    /// Instagram conversation.
    InstagramAccountId
}

string_id! {
    /// The business account a webhook entry or conversation belongs to: a [`PageId`] on
    /// Messenger, an [`InstagramAccountId`] on Instagram. It is the `entry[].id` of a delivery.
    AccountId
}

string_id! {
    /// A Page-scoped user id (PSID): a person as one Facebook Page sees them.
    Psid
}

string_id! {
    /// An Instagram-scoped user id (IGSID): a person as one Instagram account sees them.
    Igsid
}

string_id! {
    /// A platform-scoped user id: a [`Psid`] on Messenger or an [`Igsid`] on Instagram.
    UserId
}

string_id! {
    /// Either side of a conversation as Meta names it in a webhook's `sender` / `recipient`:
    /// a user's scoped id, or the Page / Instagram account itself (in echoes).
    ParticipantId
}

string_id! {
    /// A message id (`mid`). Instagram's are long base64-like strings; never assume a length.
    MessageId
}

string_id! {
    /// A comment id on a Facebook or Instagram post, usable for a private reply.
    CommentId
}

string_id! {
    /// An Instagram media id (a post, reel or story).
    MediaId
}

string_id! {
    /// What a comment thread is about: an Instagram media id (a post, reel or live video), or
    /// a Facebook Page post id (`{page-id}_{post-id}`).
    PostId
}

string_id! {
    /// A Meta app id.
    AppId
}

string_id! {
    /// The id of an uploaded, reusable attachment (Send API `attachment_id`).
    AttachmentId
}

string_id! {
    /// A conversation (thread) id as Meta's Conversations API returns it (`t_...`); the store
    /// numbers its conversations with its own [`ConversationId`].
    GraphConversationId
}

string_id! {
    /// A tenant of a multi-tenant host application: every stored account, conversation and
    /// message belongs to exactly one.
    TenantId
}

widen_id!(PageId => AccountId);
widen_id!(InstagramAccountId => AccountId);
widen_id!(Psid => UserId);
widen_id!(Igsid => UserId);
widen_id!(UserId => ParticipantId);
widen_id!(AccountId => ParticipantId);
widen_id!(MediaId => PostId);

// The store's own row ids: integers it assigns, serialized as JSON strings so that a browser's
// 53-bit numbers never round them, and parsed back from strings (path segments, query strings).
macro_rules! row_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(i64);

        impl $name {
            /// Wraps a raw row id.
            pub const fn new(id: i64) -> Self {
                Self(id)
            }

            /// The raw row id.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0)
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map(Self)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(&self.0)
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                crate::contract::openapi::string_schema(
                    "A row id the store issued: an integer written as a string, so that \
                     JavaScript's numbers never round it.",
                    &[],
                )
            }
        }

        impl utoipa::ToSchema for $name {}

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
                text.parse().map(Self).map_err(serde::de::Error::custom)
            }
        }
    };
}

row_id! {
    /// A conversation of one tenant: one business account and one user on one platform.
    ConversationId
}

row_id! {
    /// A stored message (the store's row id; Meta's id is the message's
    /// [`message_id`](crate::store::StoredMessage::message_id)).
    StoredMessageId
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_keep_any_length_and_serialize_as_strings() {
        let long = "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAyMjQ5NjA0NjA1OjM0MDI4MjM2Njg0MTcxMDMwMTI0NDI1OTgxNzE0OTk3NDc1MTg4NzozMTQ5NTY0NTM1Mjc1NjA3NjQ4MjE4ODM2MDY3MjE2Mjk0NAZDZD";
        let id = MessageId::from(long);
        assert_eq!(id.as_str(), long);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{long}\""));
        let back: MessageId = serde_json::from_str(&json).unwrap();
        assert_eq!(back, id);
    }

    #[test]
    fn big_numeric_ids_are_not_rounded() {
        let psid: Psid = serde_json::from_str("\"9007199254740993\"").unwrap();
        assert_eq!(psid, "9007199254740993");
    }

    #[test]
    fn widening_keeps_the_value() {
        let user: UserId = Igsid::from("17841400000000001").into();
        let participant: ParticipantId = user.into();
        assert_eq!(participant.as_str(), "17841400000000001");
        assert_eq!(
            format!("{participant:?}"),
            "ParticipantId(\"17841400000000001\")"
        );
    }

    #[test]
    fn ids_serialize_as_strings_and_parse_back() {
        let id = ConversationId::new(9_007_199_254_740_993);
        let json = serde_json::to_string(&id).expect("valid");
        assert_eq!(json, "\"9007199254740993\"");
        assert_eq!(
            serde_json::from_str::<ConversationId>(&json).expect("valid"),
            id
        );
        assert_eq!("42".parse::<StoredMessageId>().expect("valid").get(), 42);
        assert!("x".parse::<StoredMessageId>().is_err());
    }
}
