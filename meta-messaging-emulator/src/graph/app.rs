//! The app's own settings, read with the app token: `/{app-id}/subscriptions` and
//! `/{app-id}/permissions`.

use serde_json::{Value, json};

use crate::error::GraphFailure;
use crate::server::Shared;
use crate::state::Principal;
use crate::world::{AppMode, strings};
use meta_messaging_core::graph::{INSTAGRAM_WEBHOOK_FIELDS, MESSENGER_WEBHOOK_FIELDS};

type Answer = Result<Value, GraphFailure>;

/// The permissions a Live app lists as approved (App Review); a development app lists none.
const APPROVED_WHEN_LIVE: &[&str] = &[
    "pages_messaging",
    "pages_manage_metadata",
    "pages_show_list",
    "instagram_basic",
    "instagram_manage_messages",
];

/// The Graph version the subscribed fields' payloads follow.
const FIELD_VERSION: &str = "v23.0";

/// `GET /{app-id}/subscriptions`: the `page` and `instagram` subscriptions with their fields
/// and the callback URL; only the app's own token may read them.
pub(super) fn subscriptions(shared: &Shared, principal: &Principal, node: &str) -> Answer {
    let state = shared.lock();
    own_app(principal, node, &state.world.app.id)?;
    let fields = |object: &str, all: &[&str]| -> Option<Vec<String>> {
        match &state.world.app.webhook_fields {
            Some(by_object) => by_object.get(object).cloned(),
            None => Some(strings(all)),
        }
    };
    let data: Vec<Value> = [
        ("page", fields("page", MESSENGER_WEBHOOK_FIELDS)),
        ("instagram", fields("instagram", INSTAGRAM_WEBHOOK_FIELDS)),
    ]
    .into_iter()
    .filter_map(|(object, fields)| {
        let fields: Vec<Value> = fields?
            .iter()
            .map(|name| json!({"name": name, "version": FIELD_VERSION}))
            .collect();
        Some(json!({
            "object": object,
            "callback_url": state.world.callback_url,
            "active": true,
            "fields": fields,
        }))
    })
    .collect();
    Ok(json!({ "data": data }))
}

/// `GET /{app-id}/permissions`: the permissions approved in App Review, none in development.
pub(super) fn permissions(shared: &Shared, principal: &Principal, node: &str) -> Answer {
    let state = shared.lock();
    own_app(principal, node, &state.world.app.id)?;
    let approved: &[&str] = match state.world.app.mode {
        AppMode::Live => APPROVED_WHEN_LIVE,
        _ => &[],
    };
    let data: Vec<Value> = approved
        .iter()
        .map(|p| json!({"permission": p, "status": "live"}))
        .collect();
    Ok(json!({ "data": data }))
}

/// Meta answers the app's edges only to its app token.
fn own_app(principal: &Principal, node: &str, app_id: &str) -> Result<(), GraphFailure> {
    match principal {
        Principal::App if node == app_id => Ok(()),
        _ => Err(GraphFailure::object_not_found(node, "get")),
    }
}
