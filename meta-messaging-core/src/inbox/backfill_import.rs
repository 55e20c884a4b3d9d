//! One message of the Conversations API as the webhook event it would have been: an inbound
//! message, or an echo when the account sent it. Stored through the same `apply` as deliveries,
//! keyed by Meta's message id, so a message imported and delivered is stored once.

use serde_json::{Value, json};

use crate::graph::{GraphMessage, MessageAttachment};
use crate::ids::{AccountId, UserId};
use crate::platform::Platform;
use crate::webhook::{self, Event, WebhookError};

/// The event of `message`, in the conversation of `account` with `user`, at `timestamp_ms`.
///
/// # Errors
/// [`WebhookError`] when the message does not make an event (an id Meta would never send).
pub(super) fn history_event(
    platform: Platform,
    account: &AccountId,
    user: &UserId,
    message: &GraphMessage,
    timestamp_ms: i64,
) -> Result<Vec<Event>, WebhookError> {
    let sent_by_account = message
        .from
        .as_ref()
        .is_some_and(|from| from.id.as_str() == account.as_str());
    let (sender, recipient) = if sent_by_account {
        (account.as_str(), user.as_str())
    } else {
        (user.as_str(), account.as_str())
    };
    let mut content = json!({"mid": message.id});
    if let Some(text) = message.message.as_deref().filter(|t| !t.is_empty()) {
        content["text"] = json!(text);
    }
    let attachments: Vec<Value> = message
        .attachments
        .data
        .iter()
        .filter_map(attachment)
        .collect();
    if !attachments.is_empty() {
        content["attachments"] = Value::Array(attachments);
    }
    if sent_by_account {
        content["is_echo"] = json!(true);
    }
    let delivery = json!({
        "object": platform.webhook_object(),
        "entry": [{
            "id": account,
            "time": timestamp_ms,
            "messaging": [{
                "sender": {"id": sender},
                "recipient": {"id": recipient},
                "timestamp": timestamp_ms,
                "message": content,
            }],
        }],
    });
    webhook::parse(delivery.to_string().as_bytes())
}

/// A Conversations API attachment in the webhook's shape: the URL of its image, video or file
/// (the other kinds Meta lists carry nothing the store keeps).
fn attachment(a: &MessageAttachment) -> Option<Value> {
    let url_of = |key: &str| a.other.get(key)?.get("url")?.as_str().map(str::to_owned);
    let (kind, url) = if let Some(url) = url_of("image_data") {
        ("image", url)
    } else if let Some(url) = url_of("video_data") {
        ("video", url)
    } else {
        let url = a.file_url.clone()?;
        let audio = a
            .mime_type
            .as_deref()
            .is_some_and(|m| m.starts_with("audio/"));
        (if audio { "audio" } else { "file" }, url)
    };
    Some(json!({"type": kind, "payload": {"url": url}}))
}

/// Meta's Graph time (`2024-05-01T10:00:00+0000`; an offset `+02:00` or `Z` is read too) in ms
/// since the epoch.
pub(super) fn graph_time_ms(text: &str) -> Option<i64> {
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    if text.get(4..5)? != "-" || text.get(7..8)? != "-" || text.get(10..11)? != "T" {
        return None;
    }
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let offset_secs = match text.get(19..)? {
        "Z" => 0,
        zone => {
            let sign = match zone.get(..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            let digits = zone.get(1..)?.replace(':', "");
            if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let hours: i64 = digits.get(..2)?.parse().ok()?;
            let minutes: i64 = digits.get(2..)?.parse().ok()?;
            sign * (hours * 3600 + minutes * 60)
        }
    };
    // Howard Hinnant's days-from-civil: the day count of a proleptic Gregorian date.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_secs;
    Some(secs * 1000)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::webhook::EventKind;

    #[test]
    fn graph_times_parse() {
        assert_eq!(graph_time_ms("1970-01-01T00:00:00+0000"), Some(0));
        assert_eq!(
            graph_time_ms("2024-05-01T10:00:00+0000"),
            Some(1_714_557_600_000)
        );
        assert_eq!(
            graph_time_ms("2024-05-01T12:00:00+02:00"),
            Some(1_714_557_600_000)
        );
        assert_eq!(
            graph_time_ms("2024-02-29T00:00:00Z"),
            Some(1_709_164_800_000)
        );
        for bad in [
            "",
            "2024-05-01",
            "2024-13-01T00:00:00+0000",
            "2024-05-01T10:00:00+00",
            "2024-05-01 10:00:00+0000",
        ] {
            assert_eq!(graph_time_ms(bad), None, "{bad}");
        }
    }

    fn graph_message(value: Value) -> GraphMessage {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn messages_from_the_account_become_echoes() {
        let account = AccountId::new("104417552380421");
        let user = UserId::new("6758492015643287");
        let inbound = graph_message(
            json!({"id": "m_in", "created_time": "2024-05-01T10:00:00+0000",
            "from": {"id": "6758492015643287", "name": "Ana"}, "to": {"data": [{"id": "104417552380421"}]},
            "message": "Hi", "attachments": {"data": [{"id": "a1", "image_data": {"url": "https://cdn.example/a.jpg"}}]}}),
        );
        let events = history_event(
            Platform::Messenger,
            &account,
            &user,
            &inbound,
            1_714_557_600_000,
        )
        .unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind(), EventKind::Message);
        assert_eq!(
            events[0].sender_id.as_ref().unwrap().as_str(),
            "6758492015643287"
        );
        assert_eq!(events[0].timestamp_ms, 1_714_557_600_000);

        let sent = graph_message(
            json!({"id": "m_out", "created_time": "2024-05-01T10:00:00+0000",
            "from": {"id": "104417552380421"}, "to": {"data": [{"id": "6758492015643287"}]}, "message": "Hello"}),
        );
        let events = history_event(Platform::Messenger, &account, &user, &sent, 6).unwrap();
        assert_eq!(events[0].kind(), EventKind::Echo);
        assert_eq!(
            events[0].sender_id.as_ref().unwrap().as_str(),
            "104417552380421"
        );
    }
}
