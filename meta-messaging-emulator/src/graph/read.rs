//! Reading: `/{page-id}/conversations`, `/{conversation-id}/messages` and `/{message-id}`, with
//! Meta's cursor paging, built from what happened in the emulator.

use std::collections::HashMap;

use meta_messaging_core::Platform;
use serde_json::{Value, json};

use crate::error::GraphFailure;
use crate::server::Shared;
use crate::state::{ConversationMessage, Principal, State};
use crate::world::{FacebookPage, User};

/// Meta's default page size for these edges.
const DEFAULT_LIMIT: usize = 25;
/// Conversation ids are the user id with this prefix (Meta's Messenger ids start with `t_` too).
const CONVERSATION_PREFIX: &str = "t_";

pub(super) fn conversations(
    shared: &Shared,
    principal: &Principal,
    node: &str,
    query: &HashMap<String, String>,
) -> Result<Value, GraphFailure> {
    let state = shared.lock();
    let page = own_page(&state, principal, node)?;
    let platform = match query.get("platform").map(String::as_str) {
        Some("instagram") => Platform::Instagram,
        _ => Platform::Messenger,
    };
    if platform == Platform::Instagram && !super::send::allows_messages(page) {
        return Err(GraphFailure::instagram_messages_off());
    }
    let mut threads: Vec<(&User, Vec<&ConversationMessage>)> = state
        .world
        .users
        .iter()
        .filter(|u| u.page == page.id && u.platform == platform)
        .map(|u| (u, thread(&state, &page.id, &u.id)))
        .filter(|(_, messages)| !messages.is_empty())
        .collect();
    threads.sort_by_key(|(_, messages)| std::cmp::Reverse(last_time(messages)));
    let items: Vec<Value> = threads
        .iter()
        .map(|(user, messages)| {
            json!({
                "id": format!("{CONVERSATION_PREFIX}{}", user.id),
                "updated_time": graph_time(last_time(messages)),
                "message_count": messages.len(),
                "unread_count": unread(messages),
                "participants": {"data": [participant_user(user), participant_account(page, platform)]},
            })
        })
        .collect();
    paged(&state, items, &format!("{}/conversations", page.id), query)
}

pub(super) fn conversation_messages(
    shared: &Shared,
    principal: &Principal,
    node: &str,
    query: &HashMap<String, String>,
) -> Result<Value, GraphFailure> {
    let state = shared.lock();
    let Principal::Page(page) = principal else {
        return Err(GraphFailure::object_not_found(node, "get"));
    };
    let user = node
        .strip_prefix(CONVERSATION_PREFIX)
        .and_then(|id| state.user(id))
        .filter(|u| u.page == page.id)
        .ok_or_else(|| GraphFailure::object_not_found(node, "get"))?;
    let mut messages = thread(&state, &page.id, &user.id);
    // Newest first, as Meta lists them.
    messages.reverse();
    let items = messages
        .iter()
        .map(|m| message_json(page, user, m))
        .collect();
    paged(&state, items, &format!("{node}/messages"), query)
}

/// `GET /{message-id}` for a message of one of the token's conversations.
pub(super) fn message(state: &State, principal: &Principal, id: &str) -> Option<Value> {
    let Principal::Page(page) = principal else {
        return None;
    };
    let stored = state
        .conversation
        .iter()
        .find(|m| m.mid == id && m.page == page.id)?;
    let user = state.user(&stored.user)?;
    Some(message_json(page, user, stored))
}

fn thread<'a>(state: &'a State, page: &str, user: &str) -> Vec<&'a ConversationMessage> {
    state
        .conversation
        .iter()
        .filter(|m| m.page == page && m.user == user)
        .collect()
}

/// The user's messages since the account last wrote: what Meta counts unread for the Page.
fn unread(messages: &[&ConversationMessage]) -> usize {
    messages.iter().rev().take_while(|m| m.from_user).count()
}

fn last_time(messages: &[&ConversationMessage]) -> i64 {
    messages.iter().map(|m| m.timestamp_ms).max().unwrap_or(0)
}

fn own_page<'a>(
    state: &'a State,
    principal: &Principal,
    node: &str,
) -> Result<&'a FacebookPage, GraphFailure> {
    match principal {
        Principal::Page(own)
            if node == "me" || state.page_for_node(node).is_some_and(|p| p.id == own.id) =>
        {
            state
                .page(&own.id)
                .ok_or_else(|| GraphFailure::object_not_found(node, "get"))
        }
        _ => Err(GraphFailure::object_not_found(node, "get")),
    }
}

fn participant_user(user: &User) -> Value {
    let mut out = json!({"id": user.id});
    if let Some(name) = &user.name {
        out[if user.platform == Platform::Instagram {
            "username"
        } else {
            "name"
        }] = json!(name);
    }
    out
}

fn participant_account(page: &FacebookPage, platform: Platform) -> Value {
    match (platform, &page.instagram) {
        (Platform::Instagram, Some(ig)) => json!({"id": ig.id, "username": ig.username}),
        _ => json!({"id": page.id, "name": page.name}),
    }
}

fn message_json(page: &FacebookPage, user: &User, m: &ConversationMessage) -> Value {
    let (from, to) = if m.from_user {
        (
            participant_user(user),
            participant_account(page, user.platform),
        )
    } else {
        (
            participant_account(page, user.platform),
            participant_user(user),
        )
    };
    let attachments: Vec<Value> = m
        .content
        .get("attachments")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .enumerate()
                .map(|(i, a)| {
                    let url = a.pointer("/payload/url").cloned().unwrap_or(Value::Null);
                    let kind = a.get("type").and_then(Value::as_str).unwrap_or("file");
                    let mut out = json!({"id": format!("{}_{i}", m.mid)});
                    if kind == "image" {
                        out["image_data"] = json!({"url": url, "preview_url": url});
                    } else {
                        out["file_url"] = url;
                    }
                    out
                })
                .collect()
        })
        .unwrap_or_default();
    let mut out = json!({
        "id": m.mid,
        "created_time": graph_time(m.timestamp_ms),
        "from": from,
        "to": {"data": [to]},
        "message": m.content.get("text").and_then(Value::as_str).unwrap_or(""),
    });
    if !attachments.is_empty() {
        out["attachments"] = json!({"data": attachments});
    }
    out
}

/// One page of `items` with Meta's `paging` (cursors, and a `next` link while more remain).
fn paged(
    state: &State,
    items: Vec<Value>,
    path: &str,
    query: &HashMap<String, String>,
) -> Result<Value, GraphFailure> {
    let limit = match query.get("limit") {
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| {
                GraphFailure::invalid_parameter("(#100) Param limit must be a positive integer")
            })?,
        None => DEFAULT_LIMIT,
    };
    let start = match query.get("after") {
        Some(cursor) => decode_cursor(cursor).ok_or_else(|| {
            GraphFailure::invalid_parameter("(#100) Invalid cursor for param after")
        })?,
        None => 0,
    };
    let end = items.len().min(start.saturating_add(limit));
    let data: Vec<Value> = items
        .get(start..end)
        .map(<[Value]>::to_vec)
        .unwrap_or_default();
    let mut out = json!({"data": data});
    if !out["data"].as_array().is_some_and(Vec::is_empty) {
        let mut paging =
            json!({"cursors": {"before": encode_cursor(start), "after": encode_cursor(end)}});
        if end < items.len() {
            let mut next = format!(
                "{}/v23.0/{path}?limit={limit}&after={}",
                state.base_url,
                encode_cursor(end)
            );
            if let Some(platform) = query.get("platform") {
                next.push_str(&format!("&platform={platform}"));
            }
            paging["next"] = json!(next);
        }
        out["paging"] = paging;
    }
    Ok(out)
}

fn encode_cursor(index: usize) -> String {
    format!("Q1VSU09S{index:x}")
}

fn decode_cursor(cursor: &str) -> Option<usize> {
    usize::from_str_radix(cursor.strip_prefix("Q1VSU09S")?, 16).ok()
}

/// Meta's time format, `2024-05-01T10:00:00+0000`, in UTC.
pub(crate) fn graph_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil-from-days: the proleptic Gregorian date of a day count.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}+0000",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_time_formats_utc_like_meta() {
        assert_eq!(graph_time(0), "1970-01-01T00:00:00+0000");
        assert_eq!(graph_time(1_714_557_600_000), "2024-05-01T10:00:00+0000");
        assert_eq!(graph_time(951_782_400_000), "2000-02-29T00:00:00+0000");
    }

    #[test]
    fn cursors_round_trip() {
        assert_eq!(decode_cursor(&encode_cursor(300)), Some(300));
        assert_eq!(decode_cursor("garbage"), None);
    }
}
