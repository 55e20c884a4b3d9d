//! The two messaging platforms.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A messaging platform of Meta's.
///
/// Serializes as `"messenger"` or `"instagram"`. A webhook delivery's `object` decides it:
/// `"page"` is Messenger, `"instagram"` is Instagram.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Platform {
    /// Facebook Messenger, through a Facebook Page.
    Messenger,
    /// Instagram Direct, through an Instagram professional account.
    Instagram,
}

impl Platform {
    /// Both platforms, in a stable order.
    pub const ALL: [Platform; 2] = [Platform::Messenger, Platform::Instagram];

    /// The lowercase name used in JSON, query strings and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Messenger => "messenger",
            Platform::Instagram => "instagram",
        }
    }

    /// The platform of a webhook delivery's `object` field, if it is one we handle.
    pub fn from_webhook_object(object: &str) -> Option<Self> {
        match object {
            "page" => Some(Platform::Messenger),
            "instagram" => Some(Platform::Instagram),
            _ => None,
        }
    }

    /// The webhook `object` value Meta uses for this platform.
    pub fn webhook_object(self) -> &'static str {
        match self {
            Platform::Messenger => "page",
            Platform::Instagram => "instagram",
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing a [`Platform`] from a string other than `messenger` or `instagram`
/// (`facebook` is accepted as Messenger).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown platform {0:?}: expected \"messenger\" or \"instagram\"")]
pub struct UnknownPlatform(pub String);

impl FromStr for Platform {
    type Err = UnknownPlatform;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "messenger" | "facebook" => Ok(Platform::Messenger),
            "instagram" => Ok(Platform::Instagram),
            _ => Err(UnknownPlatform(s.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for p in Platform::ALL {
            assert_eq!(p.as_str().parse::<Platform>().unwrap(), p);
            assert_eq!(Platform::from_webhook_object(p.webhook_object()), Some(p));
        }
        assert!("whatsapp".parse::<Platform>().is_err());
        assert_eq!(Platform::from_webhook_object("user"), None);
    }
}
