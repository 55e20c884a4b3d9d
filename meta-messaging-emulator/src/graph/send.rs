//! `POST /{page-id}/messages`: the Send API, with Meta's rules on who may be messaged and when.

use meta_messaging_core::Platform;
use meta_messaging_core::webhook::DeliveryBuilder;
use serde_json::{Value, json};

use crate::error::GraphFailure;
use crate::server::Shared;
use crate::state::{ConversationMessage, Principal, SentMessage, now_ms};

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
    let Principal::Page(page) = principal else {
        return Err(GraphFailure::object_not_found(node, "post"));
    };
    let mut state = shared.lock();
    let addressed = if node == "me" {
        Some(page)
    } else {
        state.page_for_node(node)
    };
    if addressed.is_none_or(|p| p.id != page.id) {
        return Err(GraphFailure::object_not_found(node, "post"));
    }
    let request: Value = serde_json::from_slice(body).map_err(|_| {
        GraphFailure::invalid_parameter("(#100) The request body is not valid JSON")
    })?;
    let recipient = request
        .pointer("/recipient/id")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            GraphFailure::invalid_parameter(
                "(#100) Param recipient[id] must be a valid ID string (e.g., \"123\")",
            )
        })?
        .to_owned();
    if !state.admit_send(&page.id) {
        return Err(GraphFailure::rate_limited());
    }
    let user = state
        .user(&recipient)
        .filter(|u| u.page == page.id)
        .cloned()
        .ok_or_else(GraphFailure::no_matching_user)?;
    match user.platform {
        Platform::Messenger if !has(page, "pages_messaging") => {
            return Err(GraphFailure::pages_messaging_missing());
        }
        Platform::Instagram if !has(page, "instagram_manage_messages") => {
            return Err(GraphFailure::capability_missing());
        }
        _ => {}
    }
    let last = state
        .last_inbound(&page.id, &user.id)
        .ok_or_else(GraphFailure::no_matching_user)?;
    let now = now_ms();
    let human_agent = request.get("tag").and_then(Value::as_str) == Some("HUMAN_AGENT");
    let window = if human_agent {
        HUMAN_AGENT_WINDOW_MS
    } else {
        WINDOW_MS
    };
    if now - last > window {
        return Err(GraphFailure::outside_window());
    }
    let account = match user.platform {
        Platform::Instagram => page
            .instagram
            .as_ref()
            .map_or_else(|| page.id.clone(), |ig| ig.id.clone()),
        _ => page.id.clone(),
    };
    if request.get("sender_action").is_some() {
        return Ok(Accepted {
            answer: json!({"recipient_id": user.id}),
            platform: user.platform,
            account,
            echo: None,
        });
    }
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
    let mut echoed = message.clone();
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
        echoed["attachment"] = json!({"type": stored.kind, "payload": {"url": stored.url}});
    }
    let mid = DeliveryBuilder::new(user.platform, account.as_str()).new_message_id();
    let echoed = echo_message(&echoed, mid.as_str(), &state.world.app.id);
    let echo = json!({
        "sender": {"id": account},
        "recipient": {"id": user.id},
        "timestamp": now,
        "message": echoed,
    });
    state.conversation.push(ConversationMessage {
        mid: mid.as_str().to_owned(),
        page: page.id.clone(),
        user: user.id.clone(),
        from_user: false,
        timestamp_ms: now,
        content: echoed,
    });
    state.sent.push(SentMessage {
        message_id: mid.as_str().to_owned(),
        page_id: page.id.clone(),
        recipient_id: user.id.clone(),
        platform: user.platform,
        message,
        messaging_type: request
            .get("messaging_type")
            .and_then(Value::as_str)
            .map(str::to_owned),
        tag: request
            .get("tag")
            .and_then(Value::as_str)
            .map(str::to_owned),
        timestamp: now,
    });
    Ok(Accepted {
        answer: json!({"recipient_id": user.id, "message_id": mid.as_str()}),
        platform: user.platform,
        account,
        echo: Some(echo),
    })
}

fn has(page: &crate::world::FacebookPage, permission: &str) -> bool {
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
