//! `meta-messaging trigger`: drive a running emulator through its control API.

use std::io::Write;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use reqwest::Method;
use serde_json::{Value, json};

use crate::cli::{TriggerAction, TriggerArgs};
use crate::error::CliError;
use crate::io::Io;

pub(super) async fn run(args: &TriggerArgs, io: &mut Io) -> Result<ExitCode, CliError> {
    let emulator = super::parse_url(&args.emulator)?;
    let mut url = emulator.clone();
    let (method, path, body) = request(&args.action);
    url.path_segments_mut()
        .map_err(|()| CliError::InvalidUrl {
            url: args.emulator.clone(),
            reason: "it cannot have a path".to_owned(),
        })?
        .pop_if_empty()
        // Each segment is percent-encoded: ids are digits, but tokens may hold `|` or `/`.
        .extend(&path);
    let response = super::http_client()?
        .request(method, url.clone())
        .json(&body)
        .send()
        .await
        // Errors name the emulator, not the path, which may hold a token (`expire-token`).
        .map_err(|source| CliError::http(&emulator, source))?;
    let status = response.status();
    let answer = response
        .text()
        .await
        .map_err(|source| CliError::http(&emulator, source))?;
    if status.is_success() {
        writeln!(io.stdout, "{answer}").map_err(CliError::Write)?;
        return Ok(ExitCode::SUCCESS);
    }
    // The control API explains refusals as {"error": "..."}; anything else is shown as is.
    let reason = serde_json::from_str::<Value>(&answer)
        .ok()
        .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or(answer);
    writeln!(
        io.stderr,
        "error: the emulator refused ({}): {reason}",
        status.as_u16()
    )
    .map_err(CliError::Write)?;
    Ok(ExitCode::FAILURE)
}

/// The control API call for `action`: method, path segments under the emulator's URL, JSON
/// body.
fn request(action: &TriggerAction) -> (Method, Vec<&str>, Value) {
    match action {
        TriggerAction::Message {
            user,
            text,
            attachment,
            reply_to,
            quick_reply,
            hours_ago,
        } => {
            let body = message_body(
                text.as_deref(),
                attachment.as_ref(),
                reply_to.as_deref(),
                quick_reply.as_deref(),
                *hours_ago,
            );
            (Method::POST, user_path(user, "messages"), body)
        }
        TriggerAction::React {
            user,
            mid,
            reaction,
            emoji,
            unreact,
        } => (
            Method::POST,
            user_path(user, "reactions"),
            json!({"mid": mid, "reaction": reaction, "emoji": emoji, "react": !unreact}),
        ),
        TriggerAction::Read { user } => (Method::POST, user_path(user, "reads"), json!({})),
        TriggerAction::Edit { user, mid, text } => (
            Method::POST,
            user_path(user, "edits"),
            json!({"mid": mid, "text": text}),
        ),
        TriggerAction::Unsend { user, mid } => (
            Method::POST,
            user_path(user, "unsends"),
            json!({"mid": mid}),
        ),
        TriggerAction::Comment {
            user,
            text,
            media,
            reply_to,
            days_ago,
        } => {
            let mut body = json!({"text": text});
            if let Some(media) = media {
                body["media"] = json!(media);
            }
            if let Some(comment) = reply_to {
                body["reply_to"] = json!(comment);
            }
            if let Some(days) = days_ago {
                body["days_ago"] = json!(days);
            }
            (Method::POST, user_path(user, "comments"), body)
        }
        TriggerAction::AddUser {
            id,
            platform,
            page,
            name,
        } => (
            Method::POST,
            vec!["_emulator", "users"],
            json!({"id": id, "platform": platform, "page": page, "name": name}),
        ),
        TriggerAction::Permissions { page, permissions } => (
            Method::POST,
            vec!["_emulator", "pages", page, "permissions"],
            json!({"permissions": permissions}),
        ),
        TriggerAction::ExpireToken { token } => (
            Method::POST,
            vec!["_emulator", "tokens", token.expose(), "expire"],
            json!({}),
        ),
        TriggerAction::Callback { url, .. } => (
            Method::PUT,
            vec!["_emulator", "callback"],
            json!({"url": url}),
        ),
    }
}

/// The body of a user's message: only the parts given, dated `hours_ago` in the past when given.
fn message_body(
    text: Option<&str>,
    attachment: Option<&(String, String)>,
    reply_to: Option<&str>,
    quick_reply: Option<&str>,
    hours_ago: Option<u32>,
) -> Value {
    let mut body = json!({});
    if let Some(text) = text {
        body["text"] = json!(text);
    }
    if let Some((kind, url)) = attachment {
        body["attachment"] = json!({"type": kind, "url": url});
    }
    if let Some(mid) = reply_to {
        body["reply_to"] = json!(mid);
    }
    if let Some(payload) = quick_reply {
        body["quick_reply"] = json!(payload);
    }
    if let Some(hours) = hours_ago {
        body["timestamp"] = json!(now_ms() - i64::from(hours) * 3_600_000);
    }
    body
}

fn user_path<'a>(user: &'a str, action: &'a str) -> Vec<&'a str> {
    vec!["_emulator", "users", user, action]
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
