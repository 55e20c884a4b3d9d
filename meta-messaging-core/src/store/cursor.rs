//! Opaque keyset-pagination cursors.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::error::StoreError;
use super::query::Order;

/// Where the next page of a list starts: hand back the `next_cursor` of one page to get the next.
///
/// Cursors are opaque strings: they name the last row of a page (its sort key and id), so a
/// page never repeats or skips rows because rows were inserted before it. A cursor is only valid
/// for the same kind of list in the same order.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Cursor {
    pub(crate) list: ListKind,
    pub(crate) order: Order,
    pub(crate) key: i64,
    pub(crate) id: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum ListKind {
    Messages,
    Conversations,
}

impl Cursor {
    pub(crate) fn new(list: ListKind, order: Order, key: i64, id: i64) -> Self {
        Self {
            list,
            order,
            key,
            id,
        }
    }

    /// Checks that the cursor belongs to a list of this kind and order.
    pub(crate) fn check(&self, list: ListKind, order: Order) -> Result<(i64, i64), StoreError> {
        if self.list != list {
            return Err(StoreError::InvalidCursor {
                reason: "the cursor belongs to another kind of list",
            });
        }
        if self.order != order {
            return Err(StoreError::InvalidCursor {
                reason: "the cursor was made for the other sort order",
            });
        }
        Ok((self.key, self.id))
    }

    fn plain(&self) -> String {
        let list = match self.list {
            ListKind::Messages => 'm',
            ListKind::Conversations => 'c',
        };
        let order = match self.order {
            Order::NewestFirst => 'd',
            Order::OldestFirst => 'a',
        };
        format!("1.{list}.{order}.{}.{}", self.key, self.id)
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.plain()))
    }
}

impl fmt::Debug for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cursor({})", self.plain())
    }
}

impl FromStr for Cursor {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const BAD: StoreError = StoreError::InvalidCursor {
            reason: "not a cursor of this store",
        };
        let bytes = hex::decode(s).map_err(|_| BAD)?;
        let text = String::from_utf8(bytes).map_err(|_| BAD)?;
        let mut parts = text.split('.');
        let (Some("1"), Some(list), Some(order), Some(key), Some(id), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(BAD);
        };
        let list = match list {
            "m" => ListKind::Messages,
            "c" => ListKind::Conversations,
            _ => return Err(BAD),
        };
        let order = match order {
            "d" => Order::NewestFirst,
            "a" => Order::OldestFirst,
            _ => return Err(BAD),
        };
        Ok(Cursor {
            list,
            order,
            key: key.parse().map_err(|_| BAD)?,
            id: id.parse().map_err(|_| BAD)?,
        })
    }
}

impl Serialize for Cursor {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl utoipa::PartialSchema for Cursor {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        crate::contract::openapi::string_schema(
            "An opaque cursor: pass a page's `next_cursor` as `cursor` to get the next page of the same list.",
            &[],
        )
    }
}

impl utoipa::ToSchema for Cursor {}

impl<'de> Deserialize<'de> for Cursor {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_garbage() {
        let cursor = Cursor::new(ListKind::Messages, Order::NewestFirst, -5, 42);
        let text = cursor.to_string();
        let back: Cursor = text.parse().expect("valid");
        assert_eq!(back, cursor);
        assert_eq!(
            back.check(ListKind::Messages, Order::NewestFirst)
                .expect("valid"),
            (-5, 42)
        );
        assert!(
            back.check(ListKind::Conversations, Order::NewestFirst)
                .is_err()
        );
        assert!(back.check(ListKind::Messages, Order::OldestFirst).is_err());
        for bad in [
            "",
            "zz",
            "312e6d",
            &hex::encode("1.m.d.1.2.3"),
            &hex::encode("1.x.d.1.2"),
        ] {
            assert!(bad.parse::<Cursor>().is_err(), "{bad}");
        }
    }
}
