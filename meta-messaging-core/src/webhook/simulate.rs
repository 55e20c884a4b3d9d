//! Realistic deliveries for tests and local development.

use std::time::{SystemTime, UNIX_EPOCH};

use rand::Rng;
use serde_json::{Value, json};

use super::message::AttachmentType;
use crate::ids::{AccountId, MessageId, UserId};
use crate::platform::Platform;
use crate::secret::AppSecret;

/// Builds delivery bodies shaped like Meta's, for your tests and for
/// `meta-messaging simulate`.
///
/// Message ids and timestamps are generated like Meta's unless you set them: Messenger ids look
/// like `m_...`, Instagram ids are long base64-like strings.
///
/// ```
/// use meta_messaging_core::platform::Platform;
/// use meta_messaging_core::secret::AppSecret;
/// use meta_messaging_core::webhook::{self, DeliveryBuilder, SignatureVerifier};
///
/// let secret = AppSecret::new("app-secret");
/// let (body, signature) = DeliveryBuilder::new(Platform::Instagram, "17841400000000000")
///     .text("5000000000000001", "Is this in stock?")
///     .signed(&secret);
/// SignatureVerifier::new(secret).verify(Some(&signature), &body).unwrap();
/// let events = webhook::parse(&body).unwrap();
/// assert_eq!(events[0].text(), Some("Is this in stock?"));
/// ```
#[derive(Debug, Clone)]
pub struct DeliveryBuilder {
    platform: Platform,
    account_id: AccountId,
    events: Vec<Value>,
}

impl DeliveryBuilder {
    /// A delivery to the Page (Messenger) or Instagram account `account_id`.
    pub fn new(platform: Platform, account_id: impl Into<AccountId>) -> Self {
        Self {
            platform,
            account_id: account_id.into(),
            events: Vec::new(),
        }
    }

    /// Adds a text message from `user` with a generated id and the current time.
    #[must_use]
    pub fn text(self, user: impl Into<UserId>, text: &str) -> Self {
        let mid = self.new_message_id();
        self.message(user, json!({ "mid": mid, "text": text }))
    }

    /// Adds a message from `user` carrying one attachment of `kind` at `url`.
    #[must_use]
    pub fn attachment(self, user: impl Into<UserId>, kind: &AttachmentType, url: &str) -> Self {
        let mid = self.new_message_id();
        self.message(
            user,
            json!({ "mid": mid, "attachments": [{ "type": kind.as_str(), "payload": { "url": url } }] }),
        )
    }

    /// Adds a message from `user` whose `message` object is exactly `message`.
    #[must_use]
    pub fn message(self, user: impl Into<UserId>, message: Value) -> Self {
        let event = json!({
            "sender": { "id": user.into() },
            "recipient": { "id": self.account_id },
            "timestamp": now_ms(),
            "message": message,
        });
        self.messaging_event(event)
    }

    /// Adds any `messaging[]` item as given.
    #[must_use]
    pub fn messaging_event(mut self, event: Value) -> Self {
        self.events.push(event);
        self
    }

    /// A fresh message id in the platform's style.
    pub fn new_message_id(&self) -> MessageId {
        let mut rng = rand::rng();
        let id = match self.platform {
            Platform::Messenger => {
                let tail: String = (0..43)
                    .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
                    .collect();
                format!("m_{tail}")
            }
            _ => {
                let tail: String = (0..120)
                    .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
                    .collect();
                format!("aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlE{tail}")
            }
        };
        MessageId::new(id)
    }

    /// The JSON body.
    pub fn build(&self) -> Vec<u8> {
        let body = json!({
            "object": self.platform.webhook_object(),
            "entry": [{
                "id": self.account_id,
                "time": now_ms(),
                "messaging": self.events,
            }],
        });
        body.to_string().into_bytes()
    }

    /// The JSON body and the `X-Hub-Signature-256` value for it.
    pub fn signed(&self, secret: &AppSecret) -> (Vec<u8>, String) {
        let body = self.build();
        let signature = super::sign(secret, &body);
        (body, signature)
    }
}

const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
