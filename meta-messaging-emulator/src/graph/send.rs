//! `POST /{page-id}/messages`: the Send API, with Meta's rules on who may be messaged and when.

use meta_messaging_core::Platform;
use meta_messaging_core::webhook::DeliveryBuilder;
use serde_json::{Value, json};

use super::{private_reply, sending_page};
use crate::error::GraphFailure;
use crate::server::Shared;
use crate::state::{ConversationMessage, Principal, SentMessage, State, now_ms};
use crate::world::{FacebookPage, User};

/// The standard messaging window after the user's last message.
const WINDOW_MS: i64 = 24 * 3600 * 1000;
/// The window of the `HUMAN_AGENT` tag.
const HUMAN_AGENT_WINDOW_MS: i64 = 7 * 24 * 3600 * 1000;
/// Meta's limit on a Messenger text, in characters.
const TEXT_MAX_CHARS: usize = 2000;

/// What a successful send produced, kept until the lock is released to queue the echo.
struct Accepted {
    answer: Value,
    platform: Platform,
    account: String,
    echo: Option<Value>,
}

pub(super) async fn send(
    shared: &Shared,
    principal: &Principal,
    node: &str,
    body: &[u8],
) -> Result<Value, GraphFailure> {
    let accepted = accept(shared, principal, node, body)?;
    if let Some(echo) = accepted.echo {
        shared
            .outbox
            .send(accepted.platform, &accepted.account, echo)
            .await;
    }
    Ok(accepted.answer)
}

fn accept(
    shared: &Shared,
    principal: &Principal,
    node: &str,
    body: &[u8],
) -> Result<Accepted, GraphFailure> {
    let mut state = shared.lock();
    let page = sending_page(&state, principal, node)?;
    let request: Value = serde_json::from_slice(body).map_err(|_| {
        GraphFailure::invalid_parameter("(#100) The request body is not valid JSON")
    })?;
    let target = match private_reply::comment_recipient(&request) {
        Some(comment) => Target::Comment(comment),
        None => Target::User(recipient_id(&request)?),
    };
    if !state.admit_send(&page.id) {
        return Err(GraphFailure::rate_limited());
    }
    let now = now_ms();
    let user = match target {
        Target::Comment(comment) => private_reply::author(&state, page, comment, now)?,
        Target::User(id) => page_user(&state, page, id)?,
    };
    ensure_permitted(page, user.platform)?;
    // A private reply opens the conversation: the author need not have written first.
    if let Target::User(_) = target {
        ensure_within_window(&state, page, &user, &request, now)?;
    }
    let outgoing = Outgoing {
        account: sending_account(page, user.platform),
        page,
        user,
        now,
    };
    if request.get("sender_action").is_some() {
        return Ok(Accepted {
            answer: json!({"recipient_id": outgoing.user.id}),
            platform: outgoing.user.platform,
            account: outgoing.account,
            echo: None,
        });
    }
    let message = message_to_send(&request)?;
    let shown = with_stored_attachment(&state, page, &message)?;
    let accepted = record_sent(&mut state, outgoing, &request, message, &shown);
    if let (Target::Comment(comment), Some(mid)) = (target, accepted.answer["message_id"].as_str())
    {
        private_reply::mark_replied(&mut state, comment, mid);
    }
    Ok(accepted)
}

/// Whom a send is addressed to.
#[derive(Clone, Copy)]
enum Target<'a> {
    /// `recipient.id`: a PSID or IGSID.
    User(&'a str),
    /// `recipient.comment_id`: a private reply to the comment's author.
    Comment(&'a str),
}

/// A send that passed the checks on who may be messaged and when.
struct Outgoing<'a> {
    page: &'a FacebookPage,
    user: User,
    /// The id the message is sent from: the Page, or its Instagram account on Instagram.
    account: String,
    now: i64,
}

fn recipient_id(request: &Value) -> Result<&str, GraphFailure> {
    request
        .pointer("/recipient/id")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            GraphFailure::invalid_parameter(
                "(#100) Param recipient[id] must be a valid ID string (e.g., \"123\")",
            )
        })
}

/// The recipient, who must be a user of this Page: Meta does not reveal other Pages' users.
fn page_user(state: &State, page: &FacebookPage, id: &str) -> Result<User, GraphFailure> {
    state
        .user(id)
        .filter(|u| u.page == page.id)
        .cloned()
        .ok_or_else(GraphFailure::no_matching_user)
}

/// Each platform needs its own messaging permission on the Page token.
fn ensure_permitted(page: &FacebookPage, platform: Platform) -> Result<(), GraphFailure> {
    match platform {
        Platform::Messenger if !has(page, "pages_messaging") => {
            Err(GraphFailure::pages_messaging_missing())
        }
        Platform::Instagram if !has(page, "instagram_manage_messages") => {
            Err(GraphFailure::capability_missing())
        }
        Platform::Instagram if !allows_messages(page) => {
            Err(GraphFailure::instagram_messages_off())
        }
        _ => Ok(()),
    }
}

/// The linked Instagram account's "Allow access to messages" (on when no account is linked:
/// the send fails for that reason elsewhere).
pub(super) fn allows_messages(page: &FacebookPage) -> bool {
    page.instagram
        .as_ref()
        .is_none_or(|ig| ig.allow_access_to_messages)
}

/// A Page may only answer a user who wrote first, within the window (longer with `HUMAN_AGENT`).
fn ensure_within_window(
    state: &State,
    page: &FacebookPage,
    user: &User,
    request: &Value,
    now: i64,
) -> Result<(), GraphFailure> {
    let last = state
        .last_inbound(&page.id, &user.id)
        .ok_or_else(GraphFailure::no_matching_user)?;
    let window = if str_field(request, "tag") == Some("HUMAN_AGENT") {
        HUMAN_AGENT_WINDOW_MS
    } else {
        WINDOW_MS
    };
    // The window ends at `last + window` exactly, as the inbox's `MessagingWindow` counts it.
    if now - last >= window {
        return Err(GraphFailure::outside_window());
    }
    Ok(())
}

fn sending_account(page: &FacebookPage, platform: Platform) -> String {
    match platform {
        Platform::Instagram => page
            .instagram
            .as_ref()
            .map_or_else(|| page.id.clone(), |ig| ig.id.clone()),
        _ => page.id.clone(),
    }
}

/// The request's `message`, which must carry a text (within Meta's limit) or an attachment.
fn message_to_send(request: &Value) -> Result<Value, GraphFailure> {
    let message = request
        .get("message")
        .filter(|m| m.get("text").is_some() || m.get("attachment").is_some())
        .cloned()
        .ok_or_else(|| {
            GraphFailure::invalid_parameter("(#100) Must send either message or state")
        })?;
    if message
        .get("text")
        .and_then(Value::as_str)
        .is_some_and(|t| t.chars().count() > TEXT_MAX_CHARS)
    {
        return Err(GraphFailure::invalid_parameter(
            "(#100) Length of param message[text] must be less than or equal to 2000",
        ));
    }
    Ok(message)
}

/// The message as the conversation shows it: an `attachment_id` becomes the uploaded attachment,
/// which must belong to the sending Page.
fn with_stored_attachment(
    state: &State,
    page: &FacebookPage,
    message: &Value,
) -> Result<Value, GraphFailure> {
    let mut shown = message.clone();
    if let Some(id) = message
        .pointer("/attachment/payload/attachment_id")
        .and_then(Value::as_str)
    {
        let stored = state
            .attachments
            .get(id)
            .filter(|a| a.page == page.id)
            .ok_or_else(|| {
                GraphFailure::invalid_parameter(format!("(#100) Invalid attachment_id {id}"))
            })?;
        shown["attachment"] = json!({"type": stored.kind, "payload": {"url": stored.url}});
    }
    Ok(shown)
}

/// Records the sent message in the conversation and the sent log, and builds its echo.
fn record_sent(
    state: &mut State,
    to: Outgoing<'_>,
    request: &Value,
    message: Value,
    shown: &Value,
) -> Accepted {
    let mid = DeliveryBuilder::new(to.user.platform, to.account.as_str()).new_message_id();
    let echoed = echo_message(shown, mid.as_str(), &state.world.app.id);
    let echo = json!({
        "sender": {"id": to.account},
        "recipient": {"id": to.user.id},
        "timestamp": to.now,
        "message": echoed,
    });
    state.conversation.push(ConversationMessage {
        mid: mid.as_str().to_owned(),
        page: to.page.id.clone(),
        user: to.user.id.clone(),
        from_user: false,
        timestamp_ms: to.now,
        content: echoed,
    });
    state.sent.push(SentMessage {
        message_id: mid.as_str().to_owned(),
        page_id: to.page.id.clone(),
        recipient_id: to.user.id.clone(),
        platform: to.user.platform,
        message,
        messaging_type: str_field(request, "messaging_type").map(str::to_owned),
        tag: str_field(request, "tag").map(str::to_owned),
        timestamp: to.now,
    });
    Accepted {
        answer: json!({"recipient_id": to.user.id, "message_id": mid.as_str()}),
        platform: to.user.platform,
        account: to.account,
        echo: Some(echo),
    }
}

fn str_field<'a>(request: &'a Value, key: &str) -> Option<&'a str> {
    request.get(key).and_then(Value::as_str)
}

fn has(page: &FacebookPage, permission: &str) -> bool {
    page.permissions.iter().any(|p| p == permission)
}

/// The `message` object of the echo: the sent text or attachment, marked as an echo of this app.
fn echo_message(sent: &Value, mid: &str, app_id: &str) -> Value {
    let mut echo = json!({
        "mid": mid,
        "is_echo": true,
        // Meta sends the app id as a number; keep it a string when it is not one.
        "app_id": app_id.parse::<u64>().map_or_else(|_| json!(app_id), |n| json!(n)),
    });
    if let Some(text) = sent.get("text") {
        echo["text"] = text.clone();
    }
    if let Some(attachment) = sent.get("attachment") {
        echo["attachments"] = json!([attachment]);
    }
    if let Some(quick_replies) = sent.get("quick_replies") {
        echo["quick_replies"] = quick_replies.clone();
    }
    echo
}
