//! The checks of a connection report that only read what Meta answered.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::silences::{fields_outcome, missing_fields};
use super::{Check, CheckStatus};
use crate::graph::account_admin::{PageInfo, SubscribedApp, TokenInfo};
use crate::graph::requirements::{MESSENGER_WEBHOOK_FIELDS, REQUIRED_WEBHOOK_FIELDS};
use crate::ids::AppId;

const TOKENS_DOCS: &str =
    "https://developers.facebook.com/docs/facebook-login/guides/access-tokens/";
const PERMISSIONS_DOCS: &str = "https://developers.facebook.com/docs/permissions";
const WEBHOOK_DOCS: &str = "https://developers.facebook.com/docs/messenger-platform/webhooks";
const IG_DOCS: &str = "https://developers.facebook.com/docs/messenger-platform/instagram";

pub(super) fn token_check(info: &TokenInfo, margin: Duration) -> Check {
    const ID: &str = "token";
    const TITLE: &str = "Access token is valid";
    if !info.is_valid {
        let why = info
            .error
            .as_ref()
            .and_then(|e| e.get("message"))
            .and_then(|m| m.as_str())
            .unwrap_or("no reason given");
        return Check::problem(
            ID,
            TITLE,
            CheckStatus::Fail,
            format!("Meta says the token is not valid: {why}"),
            "reconnect the account through OAuth and store the new Page token",
            TOKENS_DOCS,
        );
    }
    let kind = info.token_type.as_deref().unwrap_or("unknown");
    if kind != "PAGE" {
        return Check::problem(
            ID,
            TITLE,
            CheckStatus::Warn,
            format!("valid, but a {kind} token, not a Page token"),
            "use the Page token from GET /me/accounts (read with a long-lived user token)",
            TOKENS_DOCS,
        );
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    match info.expires() {
        Some(at) if at <= now + margin.as_secs() as i64 => Check::problem(
            ID,
            TITLE,
            CheckStatus::Warn,
            format!("valid, but expires in {} hours", (at - now).max(0) / 3600),
            "exchange for a long-lived user token and read the Page token again: such Page tokens do not expire",
            TOKENS_DOCS,
        ),
        Some(at) => Check::pass(
            ID,
            TITLE,
            format!("valid Page token, expires in {} days", (at - now) / 86_400),
        ),
        None => Check::pass(ID, TITLE, "valid Page token that does not expire".into()),
    }
}

pub(super) fn permission_check(
    id: &'static str,
    title: &'static str,
    info: &TokenInfo,
    needed: &[&str],
) -> Check {
    let missing: Vec<&str> = needed
        .iter()
        .copied()
        .filter(|p| !info.has_scope(p))
        .collect();
    if missing.is_empty() {
        return Check::pass(id, title, needed.join(", "));
    }
    let fix = format!(
        "run the OAuth flow again with {} in the scope; for users without a role on the app, get {} approved in App Review (Advanced Access)",
        missing.join(", "),
        if missing.len() == 1 { "it" } else { "them" }
    );
    Check::problem(
        id,
        title,
        CheckStatus::Fail,
        format!("missing: {}", missing.join(", ")),
        &fix,
        PERMISSIONS_DOCS,
    )
}

pub(super) fn subscription_check(apps: &[SubscribedApp], app_id: Option<&AppId>) -> Check {
    const ID: &str = "webhook_subscription";
    const TITLE: &str = "App subscribed to the Page's webhooks";
    let ours = apps.iter().find(|a| app_id.is_none_or(|id| &a.id == id));
    let Some(app) = ours else {
        return Check::problem(
            ID,
            TITLE,
            CheckStatus::Fail,
            "the app is not subscribed to this Page".into(),
            "subscribe the Page: POST /{page-id}/subscribed_apps?subscribed_fields=messages,messaging_postbacks,message_echoes,... (AccountClient::subscribe_app)",
            WEBHOOK_DOCS,
        );
    };
    fields_outcome(
        ID,
        TITLE,
        app.subscribed_fields.join(", "),
        missing_fields(
            |f| app.subscribed_fields.iter().any(|s| s == f),
            REQUIRED_WEBHOOK_FIELDS,
            MESSENGER_WEBHOOK_FIELDS,
        ),
        "subscribe the Page again with every field the inbox handles (AccountClient::subscribe_app with MESSENGER_WEBHOOK_FIELDS, or POST /{page-id}/subscribed_apps?subscribed_fields=...); missing:",
        WEBHOOK_DOCS,
    )
}

/// The `page` check and the `instagram_linked` check, from what the Page's node answered.
pub(super) fn page_checks(found: &PageInfo) -> [Check; 2] {
    const ID: &str = "instagram_linked";
    const TITLE: &str = "Instagram account linked to the Page";
    let page = Check::pass(
        "page",
        "Page is reachable with this token",
        format!(
            "{} ({})",
            found.name.as_deref().unwrap_or("unnamed Page"),
            found.id
        ),
    );
    let instagram = match &found.instagram_business_account {
        Some(ig) => Check::pass(
            ID,
            TITLE,
            format!("@{} ({})", ig.username.as_deref().unwrap_or("?"), ig.id),
        ),
        None => Check::problem(
            ID,
            TITLE,
            CheckStatus::Fail,
            "the Page has no instagram_business_account".into(),
            "switch the Instagram account to a professional (Business or Creator) account and link it to this Page in Meta Business Suite (Settings > Linked accounts); turn on 'Allow access to messages' in the Instagram app",
            IG_DOCS,
        ),
    };
    [page, instagram]
}
