//! The checks behind deliveries that never come: data access expiry, webhook fields not
//! subscribed (per Page and for the app), the app serving only its own roles, Instagram
//! messages not reachable, and a callback URL Meta has on file that is not this app's.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::app::{APP_MODE, CALLBACK_URL};
use super::{Check, CheckStatus};
use crate::graph::account_admin::TokenInfo;
use crate::graph::app_admin::{AppPermission, AppSubscription};
use crate::graph::error::GraphError;

const DATA_ACCESS_DOCS: &str =
    "https://developers.facebook.com/docs/facebook-login/auth-vs-data#data-access-expiration";
const APP_MODE_DOCS: &str =
    "https://developers.facebook.com/docs/development/build-and-test/app-modes";
const APP_WEBHOOK_DOCS: &str =
    "https://developers.facebook.com/docs/graph-api/webhooks/getting-started";
const IG_MESSAGING_DOCS: &str =
    "https://developers.facebook.com/docs/messenger-platform/instagram/get-started";

/// `data_access`: when the people behind the token must log in again for the app to keep
/// reading their data.
pub(super) fn data_access_check(info: &TokenInfo, margin: Duration) -> Check {
    const ID: &str = "data_access";
    const TITLE: &str = "Data access has not expired";
    let Some(at) = info.data_access_expires_at.filter(|t| *t > 0) else {
        return Check::pass(ID, TITLE, "no data access expiry".into());
    };
    let now = unix_now();
    let fix = "reconnect the account through OAuth: a new login renews data access for 90 days";
    if at <= now {
        return Check::problem(
            ID,
            TITLE,
            CheckStatus::Fail,
            format!("data access expired {} days ago", (now - at) / 86_400),
            fix,
            DATA_ACCESS_DOCS,
        );
    }
    let margin = i64::try_from(margin.as_secs()).unwrap_or(i64::MAX);
    if at <= now.saturating_add(margin) {
        return Check::problem(
            ID,
            TITLE,
            CheckStatus::Warn,
            format!("data access expires in {} hours", (at - now) / 3600),
            fix,
            DATA_ACCESS_DOCS,
        );
    }
    Check::pass(
        ID,
        TITLE,
        format!("data access expires in {} days", (at - now) / 86_400),
    )
}

/// What a list of subscribed fields lacks: the required fields (a failure) and the other
/// fields the inbox handles (a warning: those events never arrive).
pub(super) fn missing_fields<'a>(
    subscribed: impl Fn(&str) -> bool,
    required: &[&'a str],
    handled: &[&'a str],
) -> (Vec<&'a str>, Vec<&'a str>) {
    let absent = |fields: &[&'a str]| -> Vec<&'a str> {
        fields.iter().copied().filter(|f| !subscribed(f)).collect()
    };
    let missing_required = absent(required);
    let missing_other = absent(handled)
        .into_iter()
        .filter(|f| !required.contains(f))
        .collect();
    (missing_required, missing_other)
}

/// A subscription check's outcome from what it lacks: `fix` is completed with the fields.
pub(super) fn fields_outcome(
    id: &'static str,
    title: &'static str,
    subscribed: String,
    (required, other): (Vec<&str>, Vec<&str>),
    fix: &str,
    docs: &'static str,
) -> Check {
    if required.is_empty() && other.is_empty() {
        return Check::pass(id, title, subscribed);
    }
    let mut missing = required.clone();
    missing.extend(&other);
    let status = if required.is_empty() {
        CheckStatus::Warn
    } else {
        CheckStatus::Fail
    };
    let detail = if required.is_empty() {
        format!(
            "not subscribed to {}: those events never arrive",
            other.join(", ")
        )
    } else {
        format!("not subscribed to {}", missing.join(", "))
    };
    Check::problem(
        id,
        title,
        status,
        detail,
        &format!("{fix} {}", missing.join(",")),
        docs,
    )
}

/// `app_webhooks_page` / `app_webhooks_instagram`: the app's subscription for `object`.
pub(super) fn app_subscription_check(
    id: &'static str,
    title: &'static str,
    object: &str,
    subscriptions: &[AppSubscription],
    (required, handled): (&[&str], &[&str]),
) -> Check {
    let fix = format!(
        "in the App Dashboard, Webhooks, product {object}: subscribe to the fields (or POST /{{app-id}}/subscriptions?object={object}&callback_url=...&verify_token=...&fields=...):"
    );
    let Some(found) = subscriptions.iter().find(|s| s.object == object) else {
        return Check::problem(
            id,
            title,
            CheckStatus::Fail,
            format!("the app has no {object} webhook subscription: no {object} event arrives"),
            &format!("{fix} {}", handled.join(",")),
            APP_WEBHOOK_DOCS,
        );
    };
    if !found.active {
        return Check::problem(
            id,
            title,
            CheckStatus::Fail,
            format!(
                "the {object} subscription is inactive: Meta stopped delivering (it does after deliveries keep failing)"
            ),
            "make the callback answer 200 quickly, then turn the subscription back on in the App Dashboard (Webhooks) or subscribe again with POST /{app-id}/subscriptions",
            APP_WEBHOOK_DOCS,
        );
    }
    let names: Vec<&str> = found.fields.iter().map(|f| f.name.as_str()).collect();
    fields_outcome(
        id,
        title,
        names.join(", "),
        missing_fields(|f| found.has_field(f), required, handled),
        &fix,
        APP_WEBHOOK_DOCS,
    )
}

/// `app_mode`: whether the app may serve people without a role on it. The Graph API does not
/// expose the App Dashboard's Development/Live switch as a field, so this reads what it does
/// expose with the same effect: the messaging permissions approved for the app
/// (`/{app-id}/permissions`). Without them, Meta delivers webhooks and accepts sends only for
/// people with a role on the app (and test users).
pub(super) fn app_mode_check(approved: &[AppPermission], messaging: &[&str]) -> Check {
    let (id, title) = APP_MODE;
    let missing: Vec<&str> = messaging
        .iter()
        .copied()
        .filter(|p| {
            !approved
                .iter()
                .any(|a| a.permission == *p && a.is_approved())
        })
        .collect();
    if missing.is_empty() {
        return Check::pass(id, title, format!("approved: {}", messaging.join(", ")));
    }
    let detail = if missing.len() == messaging.len() {
        "no messaging permission is approved for the public: the app is in development mode (or has Standard Access only), so only people with a role on the app are delivered and can be answered".to_owned()
    } else {
        format!(
            "not approved for the public: {}; for those, only people with a role on the app are delivered and can be answered",
            missing.join(", ")
        )
    };
    Check::problem(
        id,
        title,
        CheckStatus::Warn,
        detail,
        &format!(
            "get Advanced Access for {} in App Review and switch the app to Live in the App Dashboard; until then add the people who test as app roles (App roles > Roles) or test users",
            missing.join(", ")
        ),
        APP_MODE_DOCS,
    )
}

/// `callback_url`: the URL Meta delivers each object's webhooks to, against the one this app
/// serves (when known).
pub(super) fn callback_check(subscriptions: &[AppSubscription], expected: Option<&str>) -> Check {
    let (id, title) = CALLBACK_URL;
    let on_file: Vec<(&str, &str)> = subscriptions
        .iter()
        .filter(|s| matches!(s.object.as_str(), "page" | "instagram"))
        .filter_map(|s| Some((s.object.as_str(), s.callback_url.as_deref()?)))
        .collect();
    let listed = on_file
        .iter()
        .map(|(object, url)| format!("{object}: {url}"))
        .collect::<Vec<_>>()
        .join("; ");
    let Some(expected) = expected else {
        return Check {
            status: CheckStatus::Skipped,
            ..Check::pass(
                id,
                title,
                format!("not compared (no expected URL given); Meta has {listed}"),
            )
        };
    };
    let same = |url: &str| url.trim_end_matches('/') == expected.trim_end_matches('/');
    let wrong: Vec<String> = on_file
        .iter()
        .filter(|(_, url)| !same(url))
        .map(|(object, url)| format!("{object}: {url}"))
        .collect();
    if on_file.is_empty() {
        return Check::problem(
            id,
            title,
            CheckStatus::Fail,
            "Meta has no callback URL on file for page or instagram".into(),
            &format!("set the callback URL to {expected} in the App Dashboard (Webhooks)"),
            APP_WEBHOOK_DOCS,
        );
    }
    if wrong.is_empty() {
        return Check::pass(id, title, listed);
    }
    Check::problem(
        id,
        title,
        CheckStatus::Fail,
        format!(
            "Meta delivers elsewhere ({}), not to {expected}",
            wrong.join("; ")
        ),
        &format!(
            "set the callback URL to {expected} in the App Dashboard (Webhooks > Edit subscription), or subscribe again with POST /{{app-id}}/subscriptions?callback_url={expected}"
        ),
        APP_WEBHOOK_DOCS,
    )
}

/// `instagram_messaging`: the Instagram account's conversations could not be read, the mark
/// of "Allow access to messages" being off or a Page link that does not carry messaging.
pub(super) fn instagram_messaging_failed(error: &GraphError) -> Check {
    Check {
        fix: Some(format!(
            "in the Instagram app, Settings > Messages and story replies > Message controls > Connected tools: turn on 'Allow access to messages'; check the account is linked to this Page in Meta Business Suite. Meta's own advice: {}",
            error.fix()
        )),
        docs: Some(IG_MESSAGING_DOCS),
        ..Check::error(INSTAGRAM_MESSAGING.0, INSTAGRAM_MESSAGING.1, error)
    }
}

/// The id and title of the `instagram_messaging` check.
pub(super) const INSTAGRAM_MESSAGING: (&str, &str) = (
    "instagram_messaging",
    "Instagram messages reachable (Allow access to messages)",
);

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
