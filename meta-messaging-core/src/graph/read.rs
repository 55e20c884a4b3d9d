//! Reading: conversations, messages, one message, user profiles.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Platform;
use crate::ids::{GraphConversationId, MessageId, ParticipantId, UserId};

use super::account_client::AccountClient;
use super::error::Result;
use super::paging::ListRequest;
use super::request::Call;

const CONVERSATION_FIELDS: &str = "id,updated_time,message_count,unread_count,participants";
const MESSAGE_FIELDS: &str = "id,created_time,from,to,message,attachments";
const MESSENGER_PROFILE_FIELDS: &str = "id,first_name,last_name,name,profile_pic";
const INSTAGRAM_PROFILE_FIELDS: &str = "id,name,username,profile_pic,follower_count,is_verified_user,is_user_follow_business,is_business_follow_user";

/// A `{"data": [...]}` wrapper, as nested edges come.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
#[non_exhaustive]
pub struct Edge<T> {
    /// The items.
    #[serde(default = "Vec::new")]
    pub data: Vec<T>,
}

impl<T> Default for Edge<T> {
    fn default() -> Self {
        Self { data: Vec::new() }
    }
}

/// One side of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Participant {
    /// The scoped user id, or the Page / Instagram account id.
    pub id: ParticipantId,
    /// The display name (Messenger).
    #[serde(default)]
    pub name: Option<String>,
    /// The Instagram username.
    #[serde(default)]
    pub username: Option<String>,
    /// The email Meta shows for Pages (`<page-id>@facebook.com`).
    #[serde(default)]
    pub email: Option<String>,
}

/// A conversation of the account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GraphConversation {
    /// The conversation id.
    pub id: GraphConversationId,
    /// When the last message was sent (`2024-05-01T10:00:00+0000`).
    #[serde(default)]
    pub updated_time: Option<String>,
    /// The number of messages.
    #[serde(default)]
    pub message_count: Option<u64>,
    /// The number of unread messages.
    #[serde(default)]
    pub unread_count: Option<u64>,
    /// The people in it, the account included.
    #[serde(default)]
    pub participants: Edge<Participant>,
    /// Any other field asked for.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// An attachment of a message read back from the Conversations API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MessageAttachment {
    /// The attachment id.
    #[serde(default)]
    pub id: Option<String>,
    /// The MIME type.
    #[serde(default)]
    pub mime_type: Option<String>,
    /// The file name.
    #[serde(default)]
    pub name: Option<String>,
    /// The size in bytes.
    #[serde(default)]
    pub size: Option<u64>,
    /// The download URL of a file (it expires).
    #[serde(default)]
    pub file_url: Option<String>,
    /// Everything else (`image_data`, `video_data`, ...).
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// A message read back from the Conversations API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GraphMessage {
    /// The message id.
    pub id: MessageId,
    /// When it was sent.
    #[serde(default)]
    pub created_time: Option<String>,
    /// The sender.
    #[serde(default)]
    pub from: Option<Participant>,
    /// The recipients.
    #[serde(default)]
    pub to: Edge<Participant>,
    /// The text (empty for attachments only).
    #[serde(default)]
    pub message: Option<String>,
    /// The attachments.
    #[serde(default)]
    pub attachments: Edge<MessageAttachment>,
    /// Any other field asked for.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// A person's profile as one account sees them (available once they messaged it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UserProfile {
    /// The scoped user id.
    pub id: UserId,
    /// First name (Messenger).
    #[serde(default)]
    pub first_name: Option<String>,
    /// Last name (Messenger).
    #[serde(default)]
    pub last_name: Option<String>,
    /// Full name.
    #[serde(default)]
    pub name: Option<String>,
    /// Instagram username.
    #[serde(default)]
    pub username: Option<String>,
    /// Profile picture URL (it expires).
    #[serde(default)]
    pub profile_pic: Option<String>,
    /// Instagram follower count.
    #[serde(default)]
    pub follower_count: Option<u64>,
    /// Instagram: the person's account is verified.
    #[serde(default)]
    pub is_verified_user: Option<bool>,
    /// Instagram: the person follows the business.
    #[serde(default)]
    pub is_user_follow_business: Option<bool>,
    /// Instagram: the business follows the person.
    #[serde(default)]
    pub is_business_follow_user: Option<bool>,
    /// Any other field.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl AccountClient {
    /// The account's conversations on its platform, most recent first.
    pub fn conversations(&self) -> ListRequest<GraphConversation> {
        ListRequest::new(
            self.client.clone(),
            self.credential.clone(),
            self.edge("conversations"),
        )
        .query("platform", self.platform().as_str())
        .query("fields", CONVERSATION_FIELDS)
    }

    /// The messages of a conversation, most recent first.
    pub fn conversation_messages(
        &self,
        conversation: &GraphConversationId,
    ) -> ListRequest<GraphMessage> {
        ListRequest::new(
            self.client.clone(),
            self.credential.clone(),
            format!("{conversation}/messages"),
        )
        .query("fields", MESSAGE_FIELDS)
    }

    /// One message by id.
    ///
    /// # Errors
    /// The Graph API's error ([`ErrorKind::ObjectNotFound`](super::ErrorKind::ObjectNotFound)
    /// for an id this token cannot see).
    pub async fn message(&self, id: &MessageId) -> Result<GraphMessage> {
        let call = Call::get(id.as_str())
            .auth(&self.credential)
            .query("fields", MESSAGE_FIELDS);
        self.client.execute(call).await
    }

    /// A person's profile: name and picture on Messenger; name, username, picture, follower
    /// count and follow relations on Instagram.
    ///
    /// # Errors
    /// The Graph API's error.
    pub async fn user_profile(&self, user: &UserId) -> Result<UserProfile> {
        let fields = match self.platform() {
            Platform::Instagram => INSTAGRAM_PROFILE_FIELDS,
            _ => MESSENGER_PROFILE_FIELDS,
        };
        let call = Call::get(user.as_str())
            .auth(&self.credential)
            .query("fields", fields);
        self.client.execute(call).await
    }
}
