//! Who answers a conversation: the bot, a person in the inbox, or another app of the Page
//! (the handover protocol; see `docs/comments-and-handover.md`).

use serde::{Deserialize, Serialize};

/// Who owns a conversation's thread now. JSON: `"bot"`, `"human"`, `"other_app"`.
///
/// A conversation starts with the bot: this app owns the thread and its
/// [`EventHandler`](crate::inbox::EventHandler)s answer. A person taking it over in the inbox
/// makes it `human` (handlers see the owner and a bot stays quiet); another app taking thread
/// control (a `take_thread_control` webhook) makes it `other_app`, and a thread passed back
/// (a `pass_thread_control` webhook) is the bot's again.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ThreadOwner {
    /// This app owns the thread, and its bot answers.
    #[default]
    Bot,
    /// A person took the conversation over in the inbox: the bot does not answer.
    Human,
    /// Another app of the Page owns the thread: its messages reach this app in `standby`.
    OtherApp,
}

impl ThreadOwner {
    /// `"bot"`, `"human"` or `"other_app"`, as in JSON and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bot => "bot",
            Self::Human => "human",
            Self::OtherApp => "other_app",
        }
    }

    /// The owner a database value names; an unknown value reads as the default, the bot.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub(crate) fn from_db(value: &str) -> Self {
        match value {
            "human" => Self::Human,
            "other_app" => Self::OtherApp,
            _ => Self::Bot,
        }
    }
}
