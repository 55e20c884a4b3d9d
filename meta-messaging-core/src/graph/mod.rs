//! The Graph API client: send and read Messenger and Instagram messages, connect accounts, and
//! get errors that say what went wrong and how to fix it.
//!
//! - [`GraphClient`] (built with [`GraphClient::builder`]) holds the HTTP client, the API
//!   version, the [`RetryPolicy`] and an optional per-account [`Throttle`].
//! - [`AccountClient`] binds it to one account and its token:
//!   [`messenger`](GraphClient::messenger), [`instagram_via_page`](GraphClient::instagram_via_page)
//!   or [`instagram_login`](GraphClient::instagram_login). It sends ([`SendBuilder`]), reads
//! - [`MessengerProfile`] (ice breakers, persistent menu, Get Started, greeting) is read and
//!   written with [`AccountClient::messenger_profile`] and
//!   [`AccountClient::set_messenger_profile`]; [`Template`]s are sent with
//!   [`AccountClient::template`]. Both check Meta's [`Limit`]s before the call.
//!   ([`ListRequest`], [`GraphPage`]), manages webhook subscriptions and passes or takes
//!   control of a conversation with other apps ([`AccountClient::pass_thread_control`]).
//! - Comments on the account's posts get a public reply
//!   ([`AccountClient::reply_to_comment`]), are hidden ([`AccountClient::set_comment_hidden`])
//!   or deleted ([`AccountClient::delete_comment`]); [`AccountClient::private_reply`] messages
//!   a comment's author.
//! - [`OAuth`] runs the login flow; [`UserClient`] lists a user's Pages and their tokens;
//!   [`GraphClient::connection_report`] checks an account end to end.
//! - [`http_client_builder`] starts a `reqwest::Client` of your own with the TLS backend the
//!   crate's features choose.
//! - Every failure is a [`GraphError`] with an [`ErrorKind`]; Meta's errors keep every field
//!   ([`MetaError`]) and carry a [`Troubleshooting`] entry from the [`catalog`].
//!
//! ```no_run
//! use meta_messaging_core::graph::{ErrorKind, GraphClient, MessageTag, QuickReply};
//! use meta_messaging_core::ids::{Igsid, PageId};
//! use meta_messaging_core::secret::PageAccessToken;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = GraphClient::new()?;
//! let instagram = client.instagram_via_page(PageId::from("104417552380421"), PageAccessToken::new("EAAG..."));
//! let to = Igsid::from("5000000000000001");
//! match instagram
//!     .text(to.clone(), "Which size?")
//!     .quick_reply(QuickReply::text("S", "SIZE_S"))
//!     .quick_reply(QuickReply::text("M", "SIZE_M"))
//!     .send()
//!     .await
//! {
//!     Ok(sent) => println!("sent {}", sent.message_id),
//!     Err(e) if e.kind() == ErrorKind::OutsideMessagingWindow => {
//!         instagram.text(to, "A human will follow up").tag(MessageTag::HumanAgent).send().await?;
//!     }
//!     Err(e) => eprintln!("{e}"), // ends with "Fix: ..."
//! }
//! # Ok(()) }
//! ```
//!
//! See `docs/graph-client.md` for a guide and `docs/troubleshooting.md` for the catalog.

mod account_admin;
mod account_client;
mod action;
mod app_admin;
mod button;
pub mod catalog;
mod client;
mod comments;
mod error;
mod file_limits;
mod handover;
mod http_client;
mod kind;
mod limit;
mod oauth;
mod outgoing;
mod paging;
mod profile;
mod profile_client;
mod read;
mod report;
mod request;
mod requirements;
mod retry;
mod send;
mod success;
mod template;
mod throttle;
mod token;
mod usage;

pub use account_admin::{
    GranularScope, InstagramBusinessAccount, ManagedPage, PageInfo, PermissionGrant,
    PermissionStatus, SubscribedApp, TokenInfo, UserClient,
};
pub use account_client::{AccountClient, AccountRoute};
pub use action::{ActionBuilder, UploadBuilder};
pub use app_admin::{AppPermission, AppSubscription, SubscriptionField};
pub use button::Button;
pub use catalog::Troubleshooting;
pub use client::{
    DEFAULT_DIALOG_URL, DEFAULT_GRAPH_URL, DEFAULT_INSTAGRAM_URL, DEFAULT_VERSION, GraphClient,
    GraphClientBuilder,
};
pub use error::{GraphError, InvalidRequest, MetaError, Result};
pub use file_limits::{
    INSTAGRAM_MAX_IMAGE_BYTES, MAX_ATTACHMENT_BYTES, attachment_kind_of, check_upload,
};
pub use handover::{PAGE_INBOX_APP_ID, SecondaryReceiver};
pub use http_client::http_client_builder;
pub use kind::ErrorKind;
pub use limit::Limit;
pub use oauth::{OAuth, OAuthState, UserToken};
pub use outgoing::{
    ActionResponse, AttachmentKind, INSTAGRAM_TEXT_MAX_BYTES, MESSENGER_TEXT_MAX_CHARS, MessageTag,
    MessagingType, QUICK_REPLIES_MAX, QUICK_REPLY_PAYLOAD_MAX_CHARS, QUICK_REPLY_TITLE_MAX_CHARS,
    QuickReply, Recipient, SendResponse, SenderAction,
};
pub use paging::{Cursors, GraphPage, ListRequest, Paging};
pub use profile::{
    DEFAULT_LOCALE, GetStarted, Greeting, IceBreaker, IceBreakers, MessengerProfile,
    PersistentMenu, ProfileField,
};
pub use read::{
    Edge, GraphConversation, GraphMessage, MessageAttachment, Participant, UserProfile,
};
pub use report::{Check, CheckStatus, ConnectionReport, ReportOptions};
pub use requirements::{
    INSTAGRAM_PERMISSIONS, INSTAGRAM_WEBHOOK_FIELDS, MESSAGING_SCOPES, MESSENGER_PERMISSIONS,
    MESSENGER_WEBHOOK_FIELDS, REQUIRED_INSTAGRAM_WEBHOOK_FIELDS, REQUIRED_WEBHOOK_FIELDS,
};
pub use retry::RetryPolicy;
pub use send::SendBuilder;
pub use template::{DefaultAction, GenericElement, MediaElement, MediaType, Template};
pub use throttle::Throttle;
pub use token::{Credential, Host};
pub use usage::{
    APP_USAGE_HEADER, BUSINESS_USE_CASE_USAGE_HEADER, BusinessUseCaseUsage, PAGE_USAGE_HEADER,
    RateLimitUsage, Usage,
};
