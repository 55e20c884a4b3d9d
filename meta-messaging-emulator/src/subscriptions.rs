//! Which events Meta delivers: the webhook field each event belongs to, and the settings that
//! silence it (app mode, the app's and the Page's subscribed fields, the Instagram account's
//! "Allow access to messages").

use meta_messaging_core::Platform;
use serde_json::Value;

use crate::state::State;
use crate::world::AppMode;

/// Instagram fields delivered whatever "Allow access to messages" says: they are not messages.
const NOT_MESSAGES: &[&str] = &["comments", "live_comments", "mentions"];

/// One event about to be delivered, as the rules that may withhold it see it.
pub(crate) struct Outgoing<'a> {
    pub(crate) platform: Platform,
    /// The Page or Instagram account the entry is for.
    pub(crate) account_id: &'a str,
    /// The webhook field it belongs to.
    pub(crate) field: &'a str,
    /// The person on the other side, when the event names one.
    pub(crate) user: Option<&'a str>,
}

/// The webhook field of a `messaging[]` event, as the platform names it.
pub(crate) fn messaging_field(platform: Platform, event: &Value) -> &'static str {
    let instagram = platform == Platform::Instagram;
    let has = |key: &str| event.get(key).is_some();
    if has("message") {
        let echo = event["message"]["is_echo"].as_bool().unwrap_or(false);
        return if echo && !instagram {
            "message_echoes"
        } else {
            "messages"
        };
    }
    let named = [
        ("reaction", "message_reactions", "message_reactions"),
        ("read", "message_reads", "messaging_seen"),
        ("delivery", "message_deliveries", "message_deliveries"),
        ("postback", "messaging_postbacks", "messaging_postbacks"),
        ("referral", "messaging_referrals", "messaging_referral"),
        ("optin", "messaging_optins", "messaging_optins"),
        ("message_edit", "message_edits", "message_edit"),
        (
            "pass_thread_control",
            "messaging_handovers",
            "messaging_handover",
        ),
        (
            "take_thread_control",
            "messaging_handovers",
            "messaging_handover",
        ),
        (
            "request_thread_control",
            "messaging_handovers",
            "messaging_handover",
        ),
        ("app_roles", "messaging_handovers", "messaging_handover"),
    ];
    named
        .iter()
        .find(|(key, _, _)| has(key))
        .map_or(
            "messages",
            |&(_, messenger, ig)| {
                if instagram { ig } else { messenger }
            },
        )
}

/// The person of a `messaging[]` event: whichever of sender and recipient is not the account.
pub(crate) fn messaging_user<'a>(account_id: &str, event: &'a Value) -> Option<&'a str> {
    let sender = event["sender"]["id"].as_str();
    if sender.is_some_and(|s| s != account_id) {
        return sender;
    }
    event["recipient"]["id"].as_str()
}

impl State {
    /// Whether Meta would deliver `event`, and if not, why not.
    pub(crate) fn withheld(&self, event: &Outgoing<'_>) -> Option<&'static str> {
        if self.world.app.mode == AppMode::Development {
            let has_role = event
                .user
                .and_then(|id| self.user(id))
                .is_some_and(|u| u.app_role);
            if !has_role {
                return Some("the app is in development mode and the user has no role on it");
            }
        }
        let object = event.platform.webhook_object();
        if let Some(by_object) = &self.world.app.webhook_fields
            && !by_object
                .get(object)
                .is_some_and(|fields| fields.iter().any(|f| f == event.field))
        {
            return Some("the app is not subscribed to this field");
        }
        let page = self.page_for_node(event.account_id)?;
        match event.platform {
            Platform::Instagram => {
                let off = page
                    .instagram
                    .as_ref()
                    .is_some_and(|ig| !ig.allow_access_to_messages);
                (off && !NOT_MESSAGES.contains(&event.field))
                    .then_some("the Instagram account does not allow access to messages")
            }
            _ => {
                let modelled = page.subscribed_fields.is_some();
                let subscribed = self
                    .subscriptions
                    .get(&page.id)
                    .is_some_and(|fields| fields.iter().any(|f| f == event.field));
                (modelled && !subscribed).then_some("the Page is not subscribed to this field")
            }
        }
    }
}
