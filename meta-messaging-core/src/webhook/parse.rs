//! From a delivery body to [`Event`]s.

use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use super::details::{
    Comment, CommentAction, CommentAuthor, CommentMedia, Delete, DeliveryReceipt, Edit, Handover,
    Mention, Optin, Postback, Reaction, ReactionAction, ReadReceipt, Referral, Unknown,
};
use super::error::WebhookError;
use super::event::{Event, EventDetails};
use super::message::{Attachment, AttachmentType, Coordinates, Message, ReplyTo};
use super::signature::SignatureVerifier;
use super::timestamp::WireTime;
use super::wire;
use crate::ids::{AccountId, CommentId, PostId};
use crate::platform::Platform;

/// Parses a webhook delivery body into events, in the order Meta listed them.
///
/// Handles `object` = `page` (Messenger) and `instagram`, and every shape of `entry[]`:
/// `messaging[]`, `standby[]` and `changes[]`. Anything well-formed that this version does not
/// understand (a new event kind, a `changes` field we do not handle, an item of an odd shape)
/// becomes an [`EventDetails::Unknown`] event with its raw JSON; nothing is dropped.
///
/// A delivery of another object (`whatsapp_business_account`, `user`, `permissions`, ...) is
/// not an error either: an app subscribed to it in its Webhooks settings gets such deliveries
/// signed like the others, and Meta disables subscriptions whose deliveries keep failing. Each of
/// its entries becomes one [`EventDetails::Unknown`] event whose [`Unknown::object`] names the
/// object, whose `account_id` is the entry's `id`, whose platform is
/// [`Platform::Messenger`] (the `platform` field has no value for other objects: read
/// [`Event::unknown_object`] before the platform) and whose raw JSON is a one-entry delivery,
/// `{"object": ..., "entry": [<the entry>]}`, so the object is kept with it.
///
/// Verify the signature first ([`SignatureVerifier`](super::SignatureVerifier)): parsing does not.
///
/// # Errors
/// [`WebhookError::MalformedBody`] when the body is not JSON or not an envelope
/// (`{"object": string, "entry": [...]}`), with the line and column where reading stopped.
pub fn parse(body: &[u8]) -> Result<Vec<Event>, WebhookError> {
    let envelope: wire::Envelope<'_> =
        serde_json::from_slice(body).map_err(WebhookError::malformed_body)?;
    let Some(platform) = Platform::from_webhook_object(&envelope.object) else {
        return Ok(envelope
            .entry
            .into_iter()
            .map(|entry| unknown_object_event(&envelope.object, entry))
            .collect());
    };
    let mut events = Vec::with_capacity(envelope.entry.len());
    for entry in envelope.entry {
        parse_entry(platform, entry, &mut events);
    }
    Ok(events)
}

/// Checks a delivery's `X-Hub-Signature-256` header (`None` when absent) against the raw body
/// and, when it is right, parses the body: [`SignatureVerifier::verify`] then [`parse`] in one
/// call, for hosts that use the webhook part alone.
///
/// ```
/// use meta_messaging_core::secret::AppSecret;
/// use meta_messaging_core::webhook::{self, SignatureVerifier};
///
/// let secret = AppSecret::new("app-secret");
/// let body = br#"{"object":"page","entry":[{"id":"104417552380421","time":1700000000000,
///   "messaging":[{"sender":{"id":"6758492015643287"},"recipient":{"id":"104417552380421"},
///   "timestamp":1700000000000,"message":{"mid":"m_abc","text":"Hello"}}]}]}"#;
/// let header = webhook::sign(&secret, body);
///
/// let secrets = SignatureVerifier::new(secret);
/// let events = webhook::verify_and_parse(&secrets, Some(&header), body)?;
/// assert_eq!(events[0].text(), Some("Hello"));
/// assert!(webhook::verify_and_parse(&secrets, None, body).is_err());
/// # Ok::<(), webhook::WebhookError>(())
/// ```
///
/// # Errors
/// The errors of [`SignatureVerifier::verify`] (the body is then not read), then those of
/// [`parse`].
pub fn verify_and_parse(
    secrets: &SignatureVerifier,
    header: Option<&str>,
    body: &[u8],
) -> Result<Vec<Event>, WebhookError> {
    secrets.verify(header, body)?;
    parse(body)
}

/// One entry of a delivery whose `object` this version does not handle, kept whole.
fn unknown_object_event(object: &str, entry: &RawValue) -> Event {
    let header = serde_json::from_str::<wire::EntryHeader>(entry.get()).ok();
    let (id, time_ms) = header.map_or((None, None), |h| (h.id, h.time.and_then(WireTime::millis)));
    let account_id = id.map_or_else(|| AccountId::new(String::new()), wire::WireId::into_id);
    // A one-entry delivery: the entry alone would lose which object it belongs to.
    let delivery = format!(
        "{{\"object\":{},\"entry\":[{}]}}",
        serde_json::Value::String(object.to_owned()),
        entry.get()
    );
    let raw = RawValue::from_string(delivery).unwrap_or_else(|_| entry.to_owned());
    let value = serde_json::from_str(raw.get()).unwrap_or(serde_json::Value::Null);
    let unknown = Unknown::new(
        None,
        format!("webhook object {object:?} is not handled by this version"),
        value,
    )
    .with_object(object);
    Event::new(
        Platform::Messenger,
        account_id,
        time_ms.unwrap_or(0),
        EventDetails::Unknown(Box::new(unknown)),
    )
    .with_raw(raw)
}

/// What every event of one entry shares.
struct EntryContext {
    platform: Platform,
    account_id: AccountId,
    time_ms: Option<i64>,
}

impl EntryContext {
    fn event(&self, timestamp_ms: Option<i64>, details: EventDetails, raw: &RawValue) -> Event {
        Event::new(
            self.platform,
            self.account_id.clone(),
            timestamp_ms.or(self.time_ms).unwrap_or(0),
            details,
        )
        .with_raw(raw.to_owned())
    }

    fn unknown_details(
        &self,
        field: Option<String>,
        reason: String,
        raw: &RawValue,
    ) -> EventDetails {
        let value = serde_json::from_str(raw.get()).unwrap_or(serde_json::Value::Null);
        EventDetails::Unknown(Box::new(Unknown::new(field, reason, value)))
    }

    fn unknown(&self, field: Option<String>, reason: String, raw: &RawValue) -> Event {
        self.event(None, self.unknown_details(field, reason, raw), raw)
    }
}

fn parse_entry(platform: Platform, raw: &RawValue, events: &mut Vec<Event>) {
    let entry: wire::Entry<'_> = match serde_json::from_str(raw.get()) {
        Ok(entry) => entry,
        Err(err) => {
            let ctx = EntryContext {
                platform,
                account_id: AccountId::new(String::new()),
                time_ms: None,
            };
            events.push(ctx.unknown(None, format!("unreadable entry: {err}"), raw));
            return;
        }
    };
    let ctx = EntryContext {
        platform,
        account_id: entry
            .id
            .map_or_else(|| AccountId::new(String::new()), wire::WireId::into_id),
        time_ms: entry.time.and_then(WireTime::millis),
    };
    if entry.messaging.is_none() && entry.standby.is_none() && entry.changes.is_none() {
        events.push(ctx.unknown(
            None,
            "entry has no messaging, standby or changes".to_owned(),
            raw,
        ));
        return;
    }
    for item in entry.messaging.into_iter().flatten() {
        events.push(messaging_event(&ctx, item, item, false));
    }
    for item in entry.standby.into_iter().flatten() {
        events.push(messaging_event(&ctx, item, item, true));
    }
    for item in entry.changes.into_iter().flatten() {
        events.push(change_event(&ctx, item));
    }
}

/// Parses a messaging event from `item`; `raw` is what the event keeps as its raw JSON (the
/// whole `changes[]` item when the event came inside one). An event that cannot be understood
/// still keeps its sender, recipient and time when those are readable.
fn messaging_event(ctx: &EntryContext, item: &RawValue, raw: &RawValue, standby: bool) -> Event {
    let (details, sender, recipient, timestamp) =
        match serde_json::from_str::<wire::Messaging>(item.get()) {
            Ok(wire) => {
                let timestamp = wire.timestamp.and_then(WireTime::millis);
                let sender = wire.sender.as_ref().and_then(|p| p.id.clone());
                let recipient = wire.recipient.as_ref().and_then(|p| p.id.clone());
                let user_ref = wire.sender.as_ref().and_then(|p| p.user_ref.clone());
                let details = messaging_details(wire, user_ref)
                    .unwrap_or_else(|reason| ctx.unknown_details(None, reason, raw));
                (details, sender, recipient, timestamp)
            }
            Err(err) => {
                let header = serde_json::from_str::<wire::MessagingHeader>(item.get()).ok();
                let id_of = |party: Option<&serde_json::Value>| {
                    party
                        .and_then(|p| p.get("id"))
                        .and_then(json_text)
                        .map(wire::WireId)
                };
                let details =
                    ctx.unknown_details(None, format!("unreadable messaging event: {err}"), raw);
                match header {
                    Some(h) => (
                        details,
                        id_of(h.sender.as_ref()),
                        id_of(h.recipient.as_ref()),
                        h.timestamp.and_then(WireTime::millis),
                    ),
                    None => (details, None, None, None),
                }
            }
        };
    let mut event = ctx.event(timestamp, details, raw).with_standby(standby);
    event.sender_id = sender.map(wire::WireId::into_id);
    event.recipient_id = recipient.map(wire::WireId::into_id);
    event
}

fn require_mid(mid: Option<wire::WireId>, what: &str) -> Result<crate::ids::MessageId, String> {
    mid.map(wire::WireId::into_id)
        .ok_or_else(|| format!("{what} without a mid"))
}

fn messaging_details(
    wire: wire::Messaging,
    user_ref: Option<String>,
) -> Result<EventDetails, String> {
    if let Some(message) = wire.message {
        return message_details(message);
    }
    if let Some(edit) = wire.message_edit {
        return edit_details(edit);
    }
    if let Some(reaction) = wire.reaction {
        return reaction_details(reaction);
    }
    if let Some(read) = wire.read {
        return Ok(EventDetails::Read(ReadReceipt {
            watermark_ms: read.watermark.and_then(WireTime::millis),
            mid: read.mid.map(wire::WireId::into_id),
        }));
    }
    if let Some(delivery) = wire.delivery {
        return Ok(EventDetails::Delivery(delivery_receipt(delivery)));
    }
    if let Some(postback) = wire.postback {
        return Ok(EventDetails::Postback(Box::new(postback_details(postback))));
    }
    if let Some(fields) = wire.referral {
        return Ok(EventDetails::Referral(Box::new(referral(fields))));
    }
    if let Some(fields) = wire.optin {
        return Ok(EventDetails::Optin(Box::new(optin(fields, user_ref))));
    }
    if let Some(h) = wire.pass_thread_control {
        return Ok(EventDetails::Handover(Handover::PassThreadControl {
            new_owner_app_id: h.new_owner_app_id.map(wire::WireId::into_id),
            previous_owner_app_id: h.previous_owner_app_id.map(wire::WireId::into_id),
            metadata: h.metadata,
        }));
    }
    if let Some(h) = wire.take_thread_control {
        return Ok(EventDetails::Handover(Handover::TakeThreadControl {
            previous_owner_app_id: h.previous_owner_app_id.map(wire::WireId::into_id),
            new_owner_app_id: h.new_owner_app_id.map(wire::WireId::into_id),
            metadata: h.metadata,
        }));
    }
    if let Some(h) = wire.request_thread_control {
        return Ok(EventDetails::Handover(Handover::RequestThreadControl {
            requested_owner_app_id: h.requested_owner_app_id.map(wire::WireId::into_id),
            metadata: h.metadata,
        }));
    }
    if let Some(roles) = wire.app_roles {
        return Ok(EventDetails::Handover(Handover::AppRoles { roles }));
    }
    Err("messaging event with no payload this version knows".to_owned())
}

fn edit_details(edit: wire::Edit) -> Result<EventDetails, String> {
    Ok(EventDetails::Edit(Edit {
        mid: require_mid(edit.mid, "message_edit")?,
        text: edit.text,
        num_edit: edit
            .num_edit
            .and_then(|n| n.0)
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0),
    }))
}

fn reaction_details(reaction: wire::Reaction) -> Result<EventDetails, String> {
    Ok(EventDetails::Reaction(Reaction {
        mid: require_mid(reaction.mid, "reaction")?,
        action: ReactionAction::from_name(reaction.action.as_deref().unwrap_or("react")),
        reaction: reaction.reaction,
        emoji: reaction.emoji,
    }))
}

fn delivery_receipt(delivery: wire::Delivery) -> DeliveryReceipt {
    DeliveryReceipt {
        mids: delivery
            .mids
            .unwrap_or_default()
            .into_iter()
            .map(wire::WireId::into_id)
            .collect(),
        watermark_ms: delivery.watermark.and_then(WireTime::millis),
    }
}

fn postback_details(postback: wire::Postback) -> Postback {
    Postback {
        mid: postback.mid.map(wire::WireId::into_id),
        title: postback.title,
        payload: postback.payload,
        referral: postback.referral.map(referral),
    }
}

fn message_details(wire: wire::Message) -> Result<EventDetails, String> {
    let mid = require_mid(wire.mid, "message")?;
    if wire.is_deleted {
        return Ok(EventDetails::Delete(Delete { mid }));
    }
    let reply_to = wire.reply_to.and_then(|r| match (r.mid, r.story) {
        (_, Some(story)) => Some(ReplyTo::Story {
            id: story.id.map(wire::WireId::into_id),
            url: story.url,
        }),
        (Some(mid), None) => Some(ReplyTo::Message { mid: mid.into_id() }),
        (None, None) => None,
    });
    let mut message = Message::empty(mid);
    message.text = wire.text;
    message.attachments = wire
        .attachments
        .unwrap_or_default()
        .into_iter()
        .map(attachment)
        .collect();
    message.quick_reply = wire.quick_reply.and_then(|q| q.payload);
    message.reply_to = reply_to;
    message.is_unsupported = wire.is_unsupported;
    message.referral = wire.referral.map(referral);
    message.commands = wire
        .commands
        .unwrap_or_default()
        .into_iter()
        .map(|c| c.name)
        .collect();
    message.app_id = wire.app_id.map(wire::WireId::into_id);
    message.metadata = wire.metadata;
    Ok(if wire.is_echo {
        EventDetails::Echo(Box::new(message))
    } else {
        EventDetails::Message(Box::new(message))
    })
}

fn attachment(wire: wire::Attachment) -> Attachment {
    let payload = wire.payload.unwrap_or(serde_json::Value::Null);
    let text = |key: &str| payload.get(key).and_then(json_text);
    let (url, title) = (
        wire.url.or_else(|| text("url")),
        wire.title.or_else(|| text("title")),
    );
    let coordinates = payload.get("coordinates").and_then(|c| {
        Some(Coordinates {
            lat: c.get("lat")?.as_f64()?,
            long: c.get("long")?.as_f64()?,
        })
    });
    let mut attachment = Attachment::new(
        AttachmentType::from_name(wire.kind.as_deref().unwrap_or("unknown")),
        url,
    );
    attachment.title = title;
    attachment.sticker_id = text("sticker_id");
    attachment.coordinates = coordinates;
    attachment.payload = payload;
    attachment
}

/// A JSON scalar as text: strings as they are, numbers in their decimal form.
fn json_text(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn take_text(fields: &mut wire::FieldMap, key: &str) -> Option<String> {
    let value = fields.remove(key)?;
    match json_text(&value) {
        Some(text) => Some(text),
        None => {
            // Not a scalar: leave it with the other fields rather than lose it.
            fields.insert(key.to_owned(), value);
            None
        }
    }
}

fn referral(mut fields: wire::FieldMap) -> Referral {
    Referral {
        ref_: take_text(&mut fields, "ref"),
        source: take_text(&mut fields, "source"),
        kind: take_text(&mut fields, "type"),
        ad_id: take_text(&mut fields, "ad_id"),
        referer_uri: take_text(&mut fields, "referer_uri"),
        other: fields,
    }
}

fn optin(mut fields: wire::FieldMap, sender_user_ref: Option<String>) -> Optin {
    Optin {
        ref_: take_text(&mut fields, "ref"),
        user_ref: take_text(&mut fields, "user_ref").or(sender_user_ref),
        kind: take_text(&mut fields, "type"),
        payload: take_text(&mut fields, "payload"),
        notification_messages_token: take_text(&mut fields, "notification_messages_token"),
        other: fields,
    }
}

fn change_event(ctx: &EntryContext, raw: &RawValue) -> Event {
    let change: wire::Change<'_> = match serde_json::from_str(raw.get()) {
        Ok(change) => change,
        Err(err) => return ctx.unknown(None, format!("unreadable changes item: {err}"), raw),
    };
    let field = change.field.unwrap_or_default();
    let Some(value) = change.value else {
        return ctx.unknown(Some(field), "changes item without a value".to_owned(), raw);
    };
    match field.as_str() {
        "comments" | "live_comments" => {
            let live = field == "live_comments";
            from_value(ctx, &field, value, raw, |c: wire::CommentValue| {
                comment_event(ctx, c, live, raw)
            })
        }
        "feed" => from_value(ctx, &field, value, raw, |f: wire::FeedValue| {
            feed_comment_event(ctx, f, raw)
        }),
        "mentions" => from_value(ctx, &field, value, raw, |m: wire::MentionValue| {
            let details = EventDetails::Mention(Mention {
                media_id: m.media_id.map(wire::WireId::into_id),
                comment_id: m.comment_id.map(wire::WireId::into_id),
            });
            Ok(ctx.event(None, details, raw))
        }),
        // `messages`, `messaging_postbacks`, `message_reactions`, `messaging_seen`, ...: the
        // value is one messaging event (the dashboard's Test button, and Instagram postbacks in
        // production, arrive this way).
        f if f.starts_with("messag") || f == "standby" => {
            messaging_event(ctx, value, raw, f == "standby")
        }
        _ => ctx.unknown(
            Some(field.clone()),
            format!("changes field {field:?} is not handled by this version"),
            raw,
        ),
    }
}

/// Reads a change's `value` as `T` and builds the event, or keeps it as unknown.
fn from_value<T: DeserializeOwned>(
    ctx: &EntryContext,
    field: &str,
    value: &RawValue,
    raw: &RawValue,
    build: impl FnOnce(T) -> Result<Event, String>,
) -> Event {
    let result = serde_json::from_str::<T>(value.get())
        .map_err(|err| format!("unreadable {field} value: {err}"))
        .and_then(build);
    result.unwrap_or_else(|reason| ctx.unknown(Some(field.to_owned()), reason, raw))
}

fn comment_event(
    ctx: &EntryContext,
    c: wire::CommentValue,
    live: bool,
    raw: &RawValue,
) -> Result<Event, String> {
    let comment_id =
        c.id.map(wire::WireId::into_id)
            .ok_or_else(|| "comment without an id".to_owned())?;
    let media = c.media.and_then(|m| {
        Some(CommentMedia {
            id: m.id?.into_id(),
            media_product_type: m.media_product_type,
        })
    });
    let comment = Comment {
        comment_id,
        action: CommentAction::Add,
        text: c.text,
        from: c.from.and_then(author),
        post_id: media.as_ref().map(|m| m.id.clone().into()),
        media,
        parent_id: c.parent_id.map(wire::WireId::into_id),
        live,
    };
    Ok(comment_as_event(ctx, comment, c.timestamp, raw))
}

/// A `feed` change about a comment; any other item (a post, a reaction, a share, ...) or verb
/// is not handled by this version and is kept as unknown.
fn feed_comment_event(
    ctx: &EntryContext,
    f: wire::FeedValue,
    raw: &RawValue,
) -> Result<Event, String> {
    let item = f.item.as_deref().unwrap_or_default();
    if item != "comment" {
        return Err(format!("feed item {item:?} is not handled by this version"));
    }
    let verb = f.verb.as_deref().unwrap_or_default();
    let action = match verb {
        "add" => CommentAction::Add,
        "edit" | "edited" => CommentAction::Edit,
        "remove" | "delete" => CommentAction::Remove,
        "hide" => CommentAction::Hide,
        "unhide" => CommentAction::Unhide,
        _ => {
            return Err(format!(
                "feed comment verb {verb:?} is not handled by this version"
            ));
        }
    };
    let comment_id: CommentId = f
        .comment_id
        .map(wire::WireId::into_id)
        .ok_or_else(|| "feed comment without a comment_id".to_owned())?;
    let post_id: Option<PostId> = f.post_id.map(wire::WireId::into_id);
    // Meta names the post as the parent of a comment on the post itself.
    let parent_id = f
        .parent_id
        .filter(|parent| {
            post_id
                .as_ref()
                .is_none_or(|post| post.as_str() != parent.0)
        })
        .map(wire::WireId::into_id);
    let comment = Comment {
        comment_id,
        action,
        text: f.message,
        from: f.from.and_then(author),
        media: None,
        post_id,
        parent_id,
        live: false,
    };
    Ok(comment_as_event(ctx, comment, f.created_time, raw))
}

fn author(from: wire::CommentFrom) -> Option<CommentAuthor> {
    Some(CommentAuthor {
        id: from.id?.into_id(),
        username: from.username,
        name: from.name,
    })
}

fn comment_as_event(
    ctx: &EntryContext,
    comment: Comment,
    time: Option<WireTime>,
    raw: &RawValue,
) -> Event {
    let sender = comment.from.as_ref().map(|f| f.id.clone());
    let details = EventDetails::Comment(Box::new(comment));
    let mut event = ctx.event(time.and_then(WireTime::millis), details, raw);
    event.sender_id = sender;
    event.recipient_id = Some(ctx.account_id.clone().into());
    event
}
