//! The store's own row ids: [`ConversationId`] and [`StoredMessageId`].
//!
//! Both are integers assigned by the store, serialized as JSON strings so that a browser's
//! 53-bit numbers never round them, and parsed back from strings (path segments, query strings).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

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
    /// [`message_id`](super::StoredMessage::message_id)).
    StoredMessageId
}

#[cfg(test)]
mod tests {
    use super::*;

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
