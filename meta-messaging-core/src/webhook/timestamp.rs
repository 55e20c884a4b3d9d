//! Timestamps as Meta sends them: milliseconds or seconds, as a number or a string.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};

/// Below this a timestamp is taken to be in seconds: as milliseconds it would fall before
/// March 1973, and as seconds it would be past the year 5000, so no real value is ambiguous.
const SECONDS_BELOW: u64 = 100_000_000_000;

/// Normalizes a Unix timestamp in seconds or milliseconds to milliseconds.
pub(crate) fn to_millis(value: i64) -> i64 {
    if value.unsigned_abs() < SECONDS_BELOW {
        value.saturating_mul(1000)
    } else {
        value
    }
}

/// A timestamp read leniently: integer, float or numeric string, in seconds or milliseconds.
/// Anything else reads as "no timestamp" rather than failing the whole event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WireTime(pub(crate) Option<i64>);

impl WireTime {
    pub(crate) fn millis(self) -> Option<i64> {
        self.0.map(to_millis)
    }
}

impl<'de> de::Deserialize<'de> for WireTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(WireTimeVisitor)
    }
}

struct WireTimeVisitor;

impl<'de> Visitor<'de> for WireTimeVisitor {
    type Value = WireTime;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Unix timestamp")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<WireTime, E> {
        Ok(WireTime(Some(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<WireTime, E> {
        Ok(WireTime(i64::try_from(v).ok()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<WireTime, E> {
        // Truncation of the fractional part is intended; out-of-range floats saturate.
        #[allow(clippy::cast_possible_truncation)]
        Ok(WireTime(v.is_finite().then_some(v as i64)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<WireTime, E> {
        let v = v.trim();
        let parsed = v.parse::<i64>().ok().or_else(|| {
            v.parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(|f| f as i64)
        });
        Ok(WireTime(parsed))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<WireTime, E> {
        Ok(WireTime(None))
    }

    fn visit_unit<E: de::Error>(self) -> Result<WireTime, E> {
        Ok(WireTime(None))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<WireTime, A::Error> {
        while seq.next_element::<de::IgnoredAny>()?.is_some() {}
        Ok(WireTime(None))
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<WireTime, A::Error> {
        while map
            .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
            .is_some()
        {}
        Ok(WireTime(None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str) -> Option<i64> {
        serde_json::from_str::<WireTime>(json).unwrap().millis()
    }

    #[test]
    fn every_shape_normalizes_to_millis() {
        assert_eq!(read("1700000000123"), Some(1_700_000_000_123));
        assert_eq!(read("1700000000"), Some(1_700_000_000_000));
        assert_eq!(read("\"1527459824\""), Some(1_527_459_824_000));
        assert_eq!(read("\"1700000000123\""), Some(1_700_000_000_123));
        assert_eq!(read("1700000000.5"), Some(1_700_000_000_000));
        assert_eq!(read("\"not a time\""), None);
        assert_eq!(read("null"), None);
        assert_eq!(read("{\"a\":1}"), None);
        assert_eq!(read("18446744073709551615"), None);
        assert_eq!(read("-9223372036854775808"), Some(i64::MIN));
    }
}
