//! [`SendOutcome`]: what a send did, as `POST /messages` answers it: the stored message, or,
//! when Meta accepted the message but the store could not record it, what was sent.

use serde::{Serialize, Serializer};

use crate::ids::{AccountId, MessageId, ParticipantId};
use crate::platform::Platform;
use crate::store::{Direction, OutboundMessage, StoredAttachment, StoredMessage, StoredReplyTo};

/// What a send did: the body of `POST /messages`' 201 answer.
///
/// # JSON form
/// [`Stored`](Self::Stored): the stored message (see [`StoredMessage`]) with `"stored": true`.
/// [`NotStored`](Self::NotStored): `"stored": false` and the fields of the message that are
/// known without the store (see [`UnstoredMessage`]): no `id` or `conversation_id` yet. Either
/// way Meta has the message; do not send it again.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SendOutcome {
    /// Sent and stored.
    Stored(Box<StoredMessage>),
    /// Sent (Meta answered its id) but the store could not record it: the echo webhook Meta
    /// sends for it stores it when it arrives, and the inbox's live events announce it then.
    NotStored(Box<UnstoredMessage>),
}

/// A message Meta accepted and the store has not recorded yet (see [`SendOutcome::NotStored`]).
///
/// # JSON form
/// `stored` (`false`), `platform`, `account_id`, `direction` (`outbound`), `sender_id` (the
/// account), `recipient_id`, `message_id` (Meta's: the stored message will have it),
/// `text`, `attachments`, `reply_to`, `timestamp_ms`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[non_exhaustive]
pub struct UnstoredMessage {
    /// Messenger or Instagram.
    pub platform: Platform,
    /// The sending account.
    pub account_id: AccountId,
    /// Always [`Direction::Outbound`].
    pub direction: Direction,
    /// The sending account, as a participant.
    pub sender_id: ParticipantId,
    /// The user it was sent to.
    pub recipient_id: ParticipantId,
    /// The id Meta answered.
    pub message_id: MessageId,
    /// The text.
    pub text: Option<String>,
    /// Attachments.
    pub attachments: Vec<StoredAttachment>,
    /// What it replies to.
    pub reply_to: Option<StoredReplyTo>,
    /// When it was sent, in ms since the epoch.
    pub timestamp_ms: i64,
}

impl UnstoredMessage {
    pub(crate) fn from_outbound(sent: OutboundMessage) -> Self {
        Self {
            platform: sent.platform,
            sender_id: sent.account_id.clone().into(),
            account_id: sent.account_id,
            direction: Direction::Outbound,
            recipient_id: sent.recipient_id.into(),
            message_id: sent.message_id,
            text: sent.text,
            attachments: sent.attachments,
            reply_to: sent.reply_to,
            timestamp_ms: sent.timestamp_ms,
        }
    }
}

/// A value's JSON object with `"stored"` added.
#[derive(Serialize)]
struct Flagged<'a, T> {
    #[serde(flatten)]
    value: &'a T,
    stored: bool,
}

/// The two JSON forms of a send outcome: the message's schema with `stored` set to `true` or `false`.
impl utoipa::PartialSchema for SendOutcome {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::ToSchema;
        use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, OneOfBuilder, Type};
        use utoipa::openapi::{Ref, RefOr};
        let flagged = |name: std::borrow::Cow<'static, str>, stored: bool| {
            let flag = ObjectBuilder::new()
                .property(
                    "stored",
                    ObjectBuilder::new()
                        .schema_type(Type::Boolean)
                        .enum_values(Some([stored])),
                )
                .required("stored");
            AllOfBuilder::new()
                .item(Ref::from_schema_name(name))
                .item(flag)
        };
        RefOr::T(
            OneOfBuilder::new()
                .description(Some(
                    "What a send did: the stored message (`stored: true`), or, when Meta \
                     accepted it and the store could not record it, what was sent \
                     (`stored: false`). Either way Meta has the message: do not send it again.",
                ))
                .item(flagged(StoredMessage::name(), true))
                .item(flagged(UnstoredMessage::name(), false))
                .into(),
        )
    }
}

impl utoipa::ToSchema for SendOutcome {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        use utoipa::{PartialSchema, ToSchema};
        schemas.push((StoredMessage::name().into(), StoredMessage::schema()));
        <StoredMessage as ToSchema>::schemas(schemas);
        schemas.push((UnstoredMessage::name().into(), UnstoredMessage::schema()));
        <UnstoredMessage as ToSchema>::schemas(schemas);
    }
}

impl Serialize for SendOutcome {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Stored(message) => Flagged {
                value: message,
                stored: true,
            }
            .serialize(serializer),
            Self::NotStored(message) => Flagged {
                value: message,
                stored: false,
            }
            .serialize(serializer),
        }
    }
}
