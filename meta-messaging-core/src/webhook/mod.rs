//! Webhook deliveries: signature verification, the subscription handshake, and parsing into
//! typed [`Event`]s.
//!
//! A delivery is handled in two steps, always in this order:
//!
//! 1. [`SignatureVerifier::verify`] checks `X-Hub-Signature-256` over the **raw** body bytes;
//! 2. [`parse`] turns the same bytes into [`Event`]s.
//!
//! [`verify_and_parse`] does both in one call.
//!
//! ```
//! use meta_messaging_core::secret::AppSecret;
//! use meta_messaging_core::webhook::{self, EventKind, SignatureVerifier};
//!
//! let secret = AppSecret::new("app-secret");
//! let body = br#"{"object":"page","entry":[{"id":"104417552380421","time":1700000000000,
//!   "messaging":[{"sender":{"id":"6758492015643287"},"recipient":{"id":"104417552380421"},
//!   "timestamp":1700000000000,"message":{"mid":"m_abc","text":"Hello"}}]}]}"#;
//! let signature = webhook::sign(&secret, body); // what Meta puts in the header
//!
//! let verifier = SignatureVerifier::new(secret);
//! verifier.verify(Some(&signature), body)?;
//! for event in webhook::parse(body)? {
//!     assert_eq!(event.kind(), EventKind::Message);
//!     assert_eq!(event.text(), Some("Hello"));
//! }
//! # Ok::<(), webhook::WebhookError>(())
//! ```
//!
//! The subscription handshake is [`verify_subscription`]; `DeliveryBuilder` (feature
//! `test-util`) makes realistic deliveries for tests.

mod details;
mod diagnosis;
mod error;
mod event;
mod handshake;
mod message;
mod parse;
mod rejections;
mod signature;
#[cfg(feature = "test-util")]
mod simulate;
mod timestamp;
mod wire;

pub use details::{
    Comment, CommentAction, CommentAuthor, CommentMedia, Delete, DeliveryReceipt, Edit, Handover,
    Mention, Optin, Postback, Reaction, ReactionAction, ReadReceipt, Referral, Unknown,
};
pub use diagnosis::{ReserializationSign, SignatureDiagnosis, SignatureHeaderState};
pub use error::{MalformedSignature, WebhookError};
pub use event::{Event, EventDetails, EventKind};
pub use handshake::verify_subscription;
pub use message::{Attachment, AttachmentType, Coordinates, Message, ReplyTo};
pub use parse::{parse, verify_and_parse};
pub(crate) use rejections::warn_refused;
pub use signature::{SIGNATURE_HEADER, SignatureVerifier, sign};
#[cfg(feature = "test-util")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
pub use simulate::DeliveryBuilder;
