//! Sending: [`SendRequest`], a reply as `POST /messages` takes it, and [`Inbox::send`], which
//! sends it through the account's Graph client and records it.

use serde::{Deserialize, Serialize};
use tracing::Instrument as _;

use super::Inbox;
use super::error::{self, InboxError};
use super::outcome::{SendOutcome, UnstoredMessage};
use super::send_file::OutgoingFile;
use crate::graph::{AccountClient, AttachmentKind, MessageTag, QuickReply};
use crate::ids::{AccountId, InstagramAccountId, MessageId, PageId, TenantId, UserId};
use crate::platform::Platform;
use crate::store::{
    Account, AccountToken, OutboundMessage, RequestFingerprint, StoredAttachment, StoredMessage,
    StoredReplyTo, now_ms,
};
use crate::telemetry::record as telemetry;

/// A message to send from a connected account, in the JSON form of `POST /messages`:
///
/// ```json
/// {"platform": "instagram", "account_id": "17841400000000000", "recipient_id": "5000000000000001",
///  "text": "Which size?", "quick_replies": [{"title": "S", "payload": "SIZE_S"}],
///  "reply_to": "aWdf...", "human_agent": true}
/// ```
///
/// A send the conversation's messaging window does not allow is refused before it reaches
/// Meta ([`InboxError::OutsideMessagingWindow`]).
///
/// Exactly one of `text`, `attachment` (`{"type": "image|video|audio|file", "url": ...}`) and
/// a [`file`](Self::file) (uploaded through `multipart/form-data`).
/// It serializes to the same form, with every field present (absent ones as `null` or `[]`).
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SendRequest {
    /// Messenger or Instagram.
    pub platform: Platform,
    /// The sending Page or Instagram account (connected for the tenant).
    pub account_id: AccountId,
    /// The user to send to (PSID or IGSID).
    pub recipient_id: UserId,
    /// The text.
    #[serde(default)]
    pub text: Option<String>,
    /// An attachment Meta downloads from a URL.
    #[serde(default)]
    pub attachment: Option<SendAttachment>,
    /// Quick replies under the message.
    #[serde(default)]
    pub quick_replies: Vec<SendQuickReply>,
    /// The message this one replies to.
    #[serde(default)]
    pub reply_to: Option<MessageId>,
    /// A message tag (`HUMAN_AGENT`, ...) for sends outside the 24-hour window; a name this
    /// version does not know is passed on to Meta as given. Leave it out for human replies and
    /// set [`human_agent`](Self::human_agent) instead: the inbox adds `HUMAN_AGENT` only when
    /// the window needs it.
    #[serde(default)]
    pub tag: Option<MessageTag>,
    /// A person wrote this message (an agent in an inbox page), not a bot: between 24 hours
    /// and 7 days after the customer last wrote it is sent with the `HUMAN_AGENT` tag; inside
    /// the 24-hour window no tag is added. Meta's policy forbids the tag on automated
    /// messages, so event handlers leave this `false` (the default).
    #[serde(default)]
    pub human_agent: bool,
    /// A file to upload and send ([`OutgoingFile`]): what `POST /messages` takes as
    /// `multipart/form-data`. Never read from JSON (a JSON body naming it is refused); set it
    /// with [`file`](Self::file).
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub file: Option<OutgoingFile>,
}

/// An attachment of a [`SendRequest`].
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SendAttachment {
    /// `image`, `video`, `audio` or `file`; any other name is refused.
    #[serde(rename = "type")]
    pub kind: AttachmentKind,
    /// A public URL Meta downloads the media from.
    pub url: String,
}

/// A quick reply of a [`SendRequest`].
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SendQuickReply {
    /// The button's title.
    pub title: String,
    /// The payload the user's answer carries back.
    pub payload: String,
}

/// A message Meta accepted: stored, or not (with the store's error).
enum Recorded {
    Stored(Box<StoredMessage>),
    NotStored(Box<OutboundMessage>, crate::store::StoreError),
}

/// What to send, checked.
pub(crate) enum Content<'a> {
    Text(&'a str),
    Attachment(AttachmentKind, &'a str),
    File(&'a OutgoingFile),
}

impl SendRequest {
    /// A text message.
    pub fn text(
        platform: Platform,
        account_id: impl Into<AccountId>,
        recipient_id: impl Into<UserId>,
        text: impl Into<String>,
    ) -> Self {
        Self {
            platform,
            account_id: account_id.into(),
            recipient_id: recipient_id.into(),
            text: Some(text.into()),
            attachment: None,
            quick_replies: Vec::new(),
            reply_to: None,
            tag: None,
            human_agent: false,
            file: None,
        }
    }

    /// A file, uploaded to Meta and sent (see [`OutgoingFile`]).
    pub fn file(
        platform: Platform,
        account_id: impl Into<AccountId>,
        recipient_id: impl Into<UserId>,
        file: OutgoingFile,
    ) -> Self {
        let mut request = Self::text(platform, account_id, recipient_id, String::new());
        request.text = None;
        request.file = Some(file);
        request
    }

    /// An attachment by URL.
    pub fn attachment(
        platform: Platform,
        account_id: impl Into<AccountId>,
        recipient_id: impl Into<UserId>,
        kind: AttachmentKind,
        url: impl Into<String>,
    ) -> Self {
        let mut request = Self::text(platform, account_id, recipient_id, String::new());
        request.text = None;
        request.attachment = Some(SendAttachment {
            kind,
            url: url.into(),
        });
        request
    }

    /// Adds a quick reply.
    #[must_use]
    pub fn with_quick_reply(
        mut self,
        title: impl Into<String>,
        payload: impl Into<String>,
    ) -> Self {
        self.quick_replies.push(SendQuickReply {
            title: title.into(),
            payload: payload.into(),
        });
        self
    }

    /// Replies to a message.
    #[must_use]
    pub fn with_reply_to(mut self, mid: impl Into<MessageId>) -> Self {
        self.reply_to = Some(mid.into());
        self
    }

    /// Sets a message tag.
    #[must_use]
    pub fn with_tag(mut self, tag: MessageTag) -> Self {
        self.tag = Some(tag);
        self
    }

    /// Says a person wrote the message (see [`human_agent`](Self::human_agent)).
    #[must_use]
    pub fn by_human_agent(mut self) -> Self {
        self.human_agent = true;
        self
    }

    pub(crate) fn content(&self) -> Result<Content<'_>, InboxError> {
        match (&self.text, &self.attachment, &self.file) {
            (Some(text), None, None) => Ok(Content::Text(text)),
            (None, Some(attachment), None) => {
                Ok(Content::Attachment(attachment.kind, &attachment.url))
            }
            (None, None, Some(file)) => {
                // Meta's limits for the platform, before anything else: a file it would
                // refuse is refused at once, whatever the account and the window.
                crate::graph::check_upload(
                    self.platform,
                    file.kind(),
                    file.filename(),
                    file.mime(),
                    file.bytes().len() as u64,
                )
                .map_err(crate::graph::GraphError::from)?;
                Ok(Content::File(file))
            }
            (None, None, None) => Err(InboxError::InvalidRequest(
                "a message needs text, an attachment or a file".to_owned(),
            )),
            _ => Err(InboxError::InvalidRequest(
                "a message has one of text, an attachment or a file, not several: send one message each"
                    .to_owned(),
            )),
        }
    }

    /// The request's fingerprint for an idempotency key: the SHA-256 of its JSON form, in
    /// which fields have one order and absent ones one spelling, so two bodies that ask for
    /// the same send have the same fingerprint.
    pub(crate) fn fingerprint(&self) -> Result<RequestFingerprint, InboxError> {
        let canonical = serde_json::to_vec(self)
            .map_err(|err| InboxError::InvalidRequest(format!("send request: {err}")))?;
        Ok(RequestFingerprint::of(&canonical))
    }

    pub(crate) fn graph_quick_replies(&self) -> Vec<QuickReply> {
        self.quick_replies
            .iter()
            .map(|q| QuickReply::text(q.title.clone(), q.payload.clone()))
            .collect()
    }
}

impl Inbox {
    /// Sends a message from a connected account and stores it.
    ///
    /// Finds the account and its token, sends through the Graph API (Instagram through the
    /// linked Page when the account has a Page token), stores the outbound message under the id
    /// Meta answered (the echo webhook that follows merges with it), notifies subscribers and
    /// returns the stored message, without its raw webhook JSON (`raw_event` is `None` even when
    /// an echo merged first: read it through [`messages`](Self::messages) with
    /// [`MessageQuery::include_raw`](crate::store::MessageQuery::include_raw)).
    ///
    /// To make a send safe to retry, use [`send_idempotent`](Self::send_idempotent).
    ///
    /// # Errors
    /// [`InboxError::InvalidRequest`], [`InboxError::AccountNotFound`],
    /// [`InboxError::AccountCannotSend`], [`InboxError::OutsideMessagingWindow`] (nothing was
    /// sent), [`InboxError::Graph`] (with Meta's error, its kind
    /// and fix; [`GraphError::may_have_reached_meta`](crate::graph::GraphError::may_have_reached_meta)
    /// says whether the message may have been sent all the same), [`InboxError::Store`] (nothing
    /// was sent), and [`InboxError::SentNotStored`] when Meta accepted the message but the store
    /// could not record it: it must not be sent again, its echo webhook stores it.
    pub async fn send(
        &self,
        tenant: &TenantId,
        request: &SendRequest,
    ) -> Result<StoredMessage, InboxError> {
        match self.send_and_record(tenant, request).await? {
            Recorded::Stored(message) => Ok(*message),
            Recorded::NotStored(sent, source) => Err(InboxError::SentNotStored {
                message_id: sent.message_id,
                source,
            }),
        }
    }

    /// [`send`](Self::send), answering a message Meta accepted and the store could not record
    /// as [`SendOutcome::NotStored`] (the store's error is logged) rather than as an error:
    /// what `POST /messages` answers.
    ///
    /// # Errors
    /// As [`send`](Self::send), except [`InboxError::SentNotStored`].
    pub async fn send_outcome(
        &self,
        tenant: &TenantId,
        request: &SendRequest,
    ) -> Result<SendOutcome, InboxError> {
        match self.send_and_record(tenant, request).await? {
            Recorded::Stored(message) => Ok(SendOutcome::Stored(message)),
            Recorded::NotStored(sent, err) => {
                // Meta has the message: an error answer would invite a second send. Its echo
                // webhook (a message the store does not have) is stored as an outbound message.
                tracing::error!(
                    error = %crate::error::ErrorChain(&err),
                    tenant = %tenant,
                    message_id = %sent.message_id,
                    "Meta accepted the message but the store could not record it; its echo webhook will store it"
                );
                Ok(SendOutcome::NotStored(Box::new(
                    UnstoredMessage::from_outbound(*sent),
                )))
            }
        }
    }

    /// Sends, then records the message (and announces it) or says why it could not, in an
    /// `inbox.send` span (tenant, platform, account, outcome, Meta's `fbtrace_id` on error).
    async fn send_and_record(
        &self,
        tenant: &TenantId,
        request: &SendRequest,
    ) -> Result<Recorded, InboxError> {
        let span = tracing::info_span!(
            "inbox.send",
            tenant_id = %tenant,
            platform = %request.platform,
            account_id = %request.account_id,
            outcome = tracing::field::Empty,
            fbtrace_id = tracing::field::Empty,
        );
        let result = self
            .send_then_record(tenant, request)
            .instrument(span.clone())
            .await;
        let outcome = match &result {
            Ok(Recorded::Stored(_)) => "stored",
            Ok(Recorded::NotStored(..)) => "not_stored",
            Err(InboxError::Graph(error)) => {
                if let Some(trace) = error.fbtrace_id() {
                    span.record("fbtrace_id", trace);
                }
                "graph_error"
            }
            Err(_) => "refused",
        };
        span.record("outcome", outcome);
        telemetry::send(request.platform, outcome);
        result
    }

    async fn send_then_record(
        &self,
        tenant: &TenantId,
        request: &SendRequest,
    ) -> Result<Recorded, InboxError> {
        let content = request.content()?;
        let account = self
            .connected_account(tenant, request.platform, &request.account_id)
            .await?;
        let tag = self.window_tag(tenant, request).await?;
        let client = self.account_client(&account).await?;
        let recipient = request.recipient_id.clone();
        let mut builder = match content {
            Content::Text(text) => client.text(recipient.clone(), text),
            Content::Attachment(kind, url) => client.attachment_url(recipient.clone(), kind, url),
            Content::File(file) => client.attachment_bytes(
                recipient.clone(),
                file.kind(),
                file.bytes().clone(),
                file.filename(),
                file.mime(),
            ),
        }
        .quick_replies(request.graph_quick_replies());
        if let Some(mid) = &request.reply_to {
            builder = builder.reply_to(mid.clone());
        }
        if let Some(tag) = tag {
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
            Content::Attachment(kind, url) => {
                outbound.with_attachment(StoredAttachment::new(kind.into(), Some(url.to_owned())))
            }
            // Meta's CDN URL arrives with the echo; the thread shows the inbox's kept copy.
            Content::File(file) => {
                outbound.with_attachment(StoredAttachment::new(file.kind().into(), None))
            }
        };
        if let Some(mid) = &request.reply_to {
            outbound = outbound.with_reply_to(StoredReplyTo::message(mid.clone()));
        }
        let mut stored = match self.inner.store.record_outbound(tenant, &outbound).await {
            Ok(stored) => stored,
            Err(err) => return Ok(Recorded::NotStored(Box::new(outbound), err)),
        };
        // The answer goes to the host's front end: an echo merged first would bring Meta's raw
        // JSON, which has no place there (the store's read API keeps it).
        stored.raw_event = None;
        if let Content::File(file) = content {
            self.keep_sent_file(tenant, &mut stored, file).await;
        }
        Ok(Recorded::Stored(Box::new(stored)))
    }

    /// The tenant's connected account, or [`InboxError::AccountNotFound`] (404).
    pub(super) async fn connected_account(
        &self,
        tenant: &TenantId,
        platform: Platform,
        account_id: &AccountId,
    ) -> Result<Account, InboxError> {
        self.inner
            .store
            .get_account(tenant, platform, account_id)
            .await?
            .ok_or_else(|| InboxError::AccountNotFound {
                platform,
                account_id: account_id.clone(),
            })
    }

    /// A Graph client for the account, with its token opened: the one place the inbox opens
    /// a stored token, so a key problem fails only what needs the token.
    pub(super) async fn account_client(
        &self,
        account: &Account,
    ) -> Result<AccountClient, InboxError> {
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
}
