//! The inbox service: webhook deliveries in, replies out, a unified inbox of both platforms in
//! between, and live updates. Framework-free: the axum and actix-web adapters only move bytes
//! between HTTP and these methods.
//!
//! An [`Inbox`] ties together a [`SignatureVerifier`], a
//! [`MessageStore`], a [`GraphClient`] and a [`Tenancy`]:
//!
//! - [`receive`](Inbox::receive) verifies, parses, routes and stores a delivery, then notifies
//!   [`subscribe`](Inbox::subscribe)rs and [`EventHandler`]s;
//! - [`verify_subscription`](Inbox::verify_subscription) answers Meta's handshake;
//! - [`send`](Inbox::send) replies through the Graph API and stores the outbound message (the
//!   echo Meta sends afterwards merges with it);
//! - queries list conversations and messages, mark read, archive.
//!
//! ```
//! use std::sync::Arc;
//! use meta_messaging_core::ids::TenantId;
//! use meta_messaging_core::inbox::{Inbox, Tenancy};
//! use meta_messaging_core::platform::Platform;
//! use meta_messaging_core::secret::{AppSecret, VerifyToken};
//! use meta_messaging_core::store::{InMemoryStore, MessageQuery};
//! use meta_messaging_core::webhook::DeliveryBuilder;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let tenant = TenantId::new("shop");
//! let inbox = Inbox::builder()
//!     .app_secret(AppSecret::new("app-secret"))
//!     .verify_token(VerifyToken::new("verify-token"))
//!     .store(Arc::new(InMemoryStore::new()))
//!     .tenancy(Tenancy::Single(tenant.clone()))
//!     .build()?;
//!
//! let (body, signature) = DeliveryBuilder::new(Platform::Instagram, "17841400000000000")
//!     .text("5000000000000001", "Do you ship to Lyon?")
//!     .signed(&AppSecret::new("app-secret"));
//! let receipt = inbox.receive(Some(&signature), &body).await?; // answer Meta 200 now
//! assert_eq!(receipt.applied.inserted, 1);
//!
//! let page = inbox.messages(&tenant, &MessageQuery::new()).await?;
//! assert_eq!(page.data[0].text.as_deref(), Some("Do you ship to Lyon?"));
//! # Ok(()) }
//! ```

mod builder;
mod config;
mod error;
#[cfg(feature = "postgres")]
mod fanout;
mod handler;
mod live;
mod oauth;
mod profiles;
mod receive;
mod send;
mod status;
mod tenancy;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use builder::{
    BuildError, DEFAULT_BODY_TIMEOUT, DEFAULT_LIVE_CAPACITY, DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_EVENT_STREAMS_PER_TENANT, DEFAULT_STATUS_CHECK_INTERVAL, InboxBuilder,
};
pub use config::{
    ConfigError, ConfiguredAccess, DEFAULT_BIND, DEFAULT_OAUTH_CALLBACK_PATH, DEFAULT_STORE,
    DEFAULT_TENANT, InboxConfig,
};
pub use error::InboxError;
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use fanout::{
    DEFAULT_FANOUT_CHANNEL, DEFAULT_FANOUT_QUEUE, FanoutError, FanoutOptions, LiveFanout,
};
pub use handler::{EventHandler, HandlerError};
pub use live::{InboxEvent, Subscription};
pub use oauth::{ConnectStart, Connected, OAuthSettings, STATE_COOKIE};
pub use receive::Receipt;
pub use send::{SendAttachment, SendQuickReply, SendRequest};
pub use status::{AccountStatusReport, StatusReport};
pub use tenancy::Tenancy;

use crate::graph::{AccountClient, GraphClient};
use crate::ids::{InstagramAccountId, PageId, TenantId};
use crate::platform::Platform;
use crate::secret::VerifyToken;
use crate::store::{
    Account, AccountToken, Conversation, ConversationId, ConversationQuery, MessageQuery,
    MessageStore, OutboundMessage, StorePage, StoredAttachment, StoredMessage, StoredReplyTo,
};
use crate::webhook::{AttachmentType, SignatureVerifier};

use self::live::LiveHub;
use self::send::Content;
use self::tenancy::Router;

/// The inbox service. Cheap to clone (one `Arc`); share it between handlers and tasks.
#[derive(Clone)]
pub struct Inbox {
    inner: Arc<InboxInner>,
}

struct InboxInner {
    verifier: SignatureVerifier,
    verify_token: VerifyToken,
    store: Arc<dyn MessageStore>,
    graph: GraphClient,
    router: Router,
    live: Arc<LiveHub>,
    handlers: Vec<Arc<dyn EventHandler>>,
    max_body_bytes: usize,
    body_timeout: Duration,
    max_event_streams: usize,
    /// Answers of the live connection checks, per Page, reused within `status_check_interval`.
    status_checks: status::CheckCache,
    oauth: Option<OAuthSettings>,
    /// Set when participant profiles are looked up ([`InboxBuilder::fetch_profiles`]).
    profiles: Option<profiles::ProfileLookups>,
}

impl std::fmt::Debug for Inbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inbox")
            .field("tenancy", self.inner.router.tenancy())
            .field("store", &self.inner.store)
            .field("max_body_bytes", &self.inner.max_body_bytes)
            .finish_non_exhaustive()
    }
}

impl Inbox {
    /// Starts building an inbox.
    pub fn builder() -> InboxBuilder {
        InboxBuilder::default()
    }

    /// The store, for queries this service does not wrap.
    pub fn store(&self) -> &Arc<dyn MessageStore> {
        &self.inner.store
    }

    /// The Graph client.
    pub fn graph(&self) -> &GraphClient {
        &self.inner.graph
    }

    /// How deliveries are routed.
    pub fn tenancy(&self) -> &Tenancy {
        self.inner.router.tenancy()
    }

    /// The largest request body accepted, on every route; a larger one is refused before it
    /// is read whole.
    pub fn max_body_bytes(&self) -> usize {
        self.inner.max_body_bytes
    }

    /// How long a request body may take to arrive.
    pub fn body_timeout(&self) -> Duration {
        self.inner.body_timeout
    }

    /// Answers Meta's subscription handshake from the raw query string: the challenge to send
    /// back as a `text/plain` 200.
    ///
    /// # Errors
    /// [`InboxError::Webhook`] (status 403) when the mode or verify token is wrong.
    pub fn verify_subscription(&self, query: &str) -> Result<String, InboxError> {
        Ok(crate::webhook::verify_subscription(
            query,
            &self.inner.verify_token,
        )?)
    }

    /// Live inbox events of a tenant. Bounded: a subscriber that falls behind is dropped with
    /// an [`InboxEvent::Lagged`] notice and never slows ingestion.
    pub fn subscribe(&self, tenant: &TenantId) -> Subscription {
        self.inner.live.subscribe(tenant)
    }

    /// [`subscribe`](Self::subscribe), unless the tenant already has
    /// [`InboxBuilder::max_event_streams_per_tenant`] subscriptions open: what `GET /events`
    /// uses, so one tenant cannot hold an unbounded number of streams.
    pub(crate) fn subscribe_within_limit(&self, tenant: &TenantId) -> Option<Subscription> {
        self.inner
            .live
            .subscribe_within(tenant, self.inner.max_event_streams)
    }

    /// Sends a message from a connected account and stores it.
    ///
    /// Finds the account and its token, sends through the Graph API (Instagram through the
    /// linked Page when the account has a Page token), stores the outbound message under the id
    /// Meta answered (the echo webhook that follows merges with it), notifies subscribers and
    /// returns the stored message, without its raw webhook JSON (`raw_event` is `None` even when
    /// an echo merged first: read it through [`messages`](Self::messages) with
    /// [`MessageQuery::include_raw`](crate::store::MessageQuery::include_raw)). When Meta accepted the message but the store write failed,
    /// the error is returned and the echo webhook stores the message later: nothing is lost.
    ///
    /// # Errors
    /// [`InboxError::InvalidRequest`], [`InboxError::AccountNotFound`],
    /// [`InboxError::AccountCannotSend`], [`InboxError::Graph`] (with Meta's error, its kind
    /// and fix), [`InboxError::Store`].
    pub async fn send(
        &self,
        tenant: &TenantId,
        request: &SendRequest,
    ) -> Result<StoredMessage, InboxError> {
        let content = request.content()?;
        let account = self
            .inner
            .store
            .get_account(tenant, request.platform, &request.account_id)
            .await?
            .ok_or_else(|| InboxError::AccountNotFound {
                platform: request.platform,
                account_id: request.account_id.clone(),
            })?;
        let client = self.account_client(&account).await?;
        let recipient = request.recipient_id.clone();
        let mut builder = match content {
            Content::Text(text) => client.text(recipient.clone(), text),
            Content::Attachment(kind, url) => client.attachment_url(recipient.clone(), kind, url),
        }
        .quick_replies(request.graph_quick_replies());
        if let Some(mid) = &request.reply_to {
            builder = builder.reply_to(mid.clone());
        }
        if let Some(tag) = request.graph_tag() {
            builder = builder.tag(tag);
        }
        let sent = builder.send().await?;

        let mut outbound = OutboundMessage::new(
            request.platform,
            request.account_id.clone(),
            recipient,
            sent.message_id,
            now_ms(),
        );
        outbound = match content {
            Content::Text(text) => outbound.with_text(text),
            Content::Attachment(kind, url) => outbound.with_attachment(StoredAttachment::new(
                AttachmentType::from_name(kind.as_str()),
                Some(url.to_owned()),
            )),
        };
        if let Some(mid) = &request.reply_to {
            outbound = outbound.with_reply_to(StoredReplyTo::message(mid.clone()));
        }
        let mut stored = self.inner.store.record_outbound(tenant, &outbound).await?;
        // The answer goes to the host's front end: an echo merged first would bring Meta's raw
        // JSON, which has no place there (the store's read API keeps it).
        stored.raw_event = None;
        self.inner.live.publish(
            tenant,
            InboxEvent::MessageStored {
                message: Box::new(stored.clone()),
            },
        );
        self.publish_conversation(tenant, stored.conversation_id)
            .await;
        Ok(stored)
    }

    /// A Graph client for the account, with its token opened: the one place the inbox opens
    /// a stored token, so a key problem fails only what needs the token.
    async fn account_client(&self, account: &Account) -> Result<AccountClient, InboxError> {
        let cannot_send = |reason| InboxError::AccountCannotSend {
            platform: account.platform,
            account_id: account.account_id.clone(),
            reason,
        };
        let Some(stored) = &account.token else {
            return Err(cannot_send("no access token is stored for it"));
        };
        let token = stored.open().await.map_err(|err| {
            tracing::warn!(
                error = %crate::error::ErrorChain(&err),
                platform = %account.platform,
                account_id = %account.account_id,
                "the account's stored token does not open"
            );
            cannot_send(error::TOKEN_DOES_NOT_OPEN)
        })?;
        let graph = &self.inner.graph;
        match (token, account.platform) {
            (AccountToken::Page(token), Platform::Messenger) => {
                Ok(graph.messenger(PageId::new(account.account_id.as_str()), token))
            }
            (AccountToken::Page(token), Platform::Instagram) => {
                let page = account
                    .linked_page_id
                    .clone()
                    .ok_or_else(|| cannot_send("it has a Page token but no linked Page"))?;
                Ok(graph.instagram_via_page(page, token))
            }
            (AccountToken::Instagram(token), Platform::Instagram) => {
                Ok(graph
                    .instagram_login(InstagramAccountId::new(account.account_id.as_str()), token))
            }
            _ => Err(cannot_send("its token is not one this platform accepts")),
        }
    }

    /// One page of conversations, by last activity.
    ///
    /// # Errors
    /// [`InboxError::Store`] (an invalid cursor answers 400).
    pub async fn conversations(
        &self,
        tenant: &TenantId,
        query: &ConversationQuery,
    ) -> Result<StorePage<Conversation>, InboxError> {
        Ok(self.inner.store.list_conversations(tenant, query).await?)
    }

    /// One page of messages.
    ///
    /// # Errors
    /// [`InboxError::Store`] (an invalid cursor answers 400).
    pub async fn messages(
        &self,
        tenant: &TenantId,
        query: &MessageQuery,
    ) -> Result<StorePage<StoredMessage>, InboxError> {
        Ok(self.inner.store.list_messages(tenant, query).await?)
    }

    /// Marks a conversation read and notifies subscribers.
    ///
    /// # Errors
    /// [`InboxError::Store`] (404 when the conversation is not the tenant's).
    pub async fn mark_read(
        &self,
        tenant: &TenantId,
        id: ConversationId,
    ) -> Result<Conversation, InboxError> {
        let conversation = self.inner.store.mark_conversation_read(tenant, id).await?;
        self.publish_updated_conversation(tenant, &conversation);
        Ok(conversation)
    }

    /// Archives or unarchives a conversation and notifies subscribers.
    ///
    /// # Errors
    /// [`InboxError::Store`] (404 when the conversation is not the tenant's).
    pub async fn set_archived(
        &self,
        tenant: &TenantId,
        id: ConversationId,
        archived: bool,
    ) -> Result<Conversation, InboxError> {
        let conversation = self
            .inner
            .store
            .set_conversation_archived(tenant, id, archived)
            .await?;
        self.publish_updated_conversation(tenant, &conversation);
        Ok(conversation)
    }

    fn publish_updated_conversation(&self, tenant: &TenantId, conversation: &Conversation) {
        self.inner.live.publish(
            tenant,
            InboxEvent::ConversationUpdated {
                conversation: Box::new(conversation.clone()),
            },
        );
    }

    /// The tenant's connected accounts (their tokens are never serialized).
    ///
    /// # Errors
    /// [`InboxError::Store`].
    pub async fn accounts(&self, tenant: &TenantId) -> Result<Vec<Account>, InboxError> {
        Ok(self.inner.store.list_accounts(tenant).await?)
    }

    /// The health of each of the tenant's accounts, from the store: token presence and expiry,
    /// last delivery time, and events received while the account was not connected.
    ///
    /// # Errors
    /// [`InboxError::Store`].
    pub async fn status(&self, tenant: &TenantId) -> Result<StatusReport, InboxError> {
        let store = self.inner.store.as_ref();
        let mut accounts = Vec::new();
        for account in store.list_accounts(tenant).await? {
            let unrouted_events = store
                .unrouted_count(account.platform, &account.account_id)
                .await?;
            accounts.push(AccountStatusReport {
                platform: account.platform,
                account_id: account.account_id.clone(),
                name: account.name.clone().or(account.username.clone()),
                linked_page_id: account.linked_page_id.clone(),
                status: account.status.as_str().to_owned(),
                connected: account.token.is_some(),
                token_expires_at_ms: account.token_expires_at_ms,
                last_event_at_ms: account.last_event_at_ms,
                unrouted_events,
                checks: None,
            });
        }
        Ok(StatusReport { accounts })
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
