//! Tokens, Pages and webhook subscriptions: `debug_token`, `/me`, `/me/accounts`,
//! `/me/permissions`, `/{page-id}` and `/{page-id}/subscribed_apps`.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::error::GraphFailure;
use crate::server::Shared;
use crate::state::{FACEBOOK_USER_ID, Principal, State, now_ms};
use crate::world::FacebookPage;

type Answer = Result<Value, GraphFailure>;

/// How long Meta keeps data access open after a login: 90 days.
const DATA_ACCESS_SECS: i64 = 90 * 24 * 3600;

/// The fields `subscribed_apps` lists when the app subscribed without naming any.
const DEFAULT_FIELDS: &[&str] = &["messages"];

pub(super) fn debug_token(shared: &Shared, query: &HashMap<String, String>) -> Answer {
    let input = query.get("input_token").ok_or_else(|| {
        GraphFailure::invalid_parameter("(#100) The parameter input_token is required")
    })?;
    let state = shared.lock();
    let app = &state.world.app;
    let now = now_ms() / 1000;
    let Some(principal) = state.principal(input) else {
        return Ok(json!({"data": {
            "error": {"code": 190, "message": "Invalid OAuth access token - Cannot parse access token"},
            "is_valid": false,
            "scopes": [],
        }}));
    };
    let (kind, scopes, profile) = match &principal {
        Principal::Page(page) => ("PAGE", page.permissions.clone(), Some(page.id.clone())),
        Principal::User => ("USER", union_of_permissions(&state), None),
        Principal::App => ("APP", Vec::new(), None),
    };
    let mut data = json!({
        "app_id": app.id,
        "type": kind,
        "application": app.name,
        "is_valid": true,
        "issued_at": now - 3600,
        "data_access_expires_at": now + DATA_ACCESS_SECS,
        "expires_at": 0,
        "scopes": scopes,
        "user_id": FACEBOOK_USER_ID,
    });
    if let Some(page) = profile {
        data["profile_id"] = json!(page);
        data["granular_scopes"] = Value::Array(
            scopes
                .iter()
                .map(|scope| json!({"scope": scope, "target_ids": [page]}))
                .collect(),
        );
    }
    if state.is_expired(input) {
        data["is_valid"] = json!(false);
        data["expires_at"] = json!(now - 60);
        data["error"] = json!({
            "code": 190,
            "message": "Error validating access token: Session has expired.",
            "subcode": 463,
        });
    }
    Ok(json!({ "data": data }))
}

fn union_of_permissions(state: &State) -> Vec<String> {
    let mut all: Vec<String> = state
        .world
        .pages
        .iter()
        .flat_map(|p| p.permissions.iter().cloned())
        .collect();
    all.sort();
    all.dedup();
    all
}

pub(super) fn me(principal: &Principal) -> Answer {
    match principal {
        Principal::Page(page) => Ok(json!({"id": page.id, "name": page.name})),
        Principal::User => Ok(json!({"id": FACEBOOK_USER_ID, "name": "Emulated User"})),
        Principal::App => Err(GraphFailure::invalid_parameter(
            "An active access token must be used to query information about the current user.",
        )),
    }
}

/// `GET /{id}`: a Page (with its linked Instagram account) or, for the Page's token, the profile
/// of a user who wrote to it.
pub(super) fn node(shared: &Shared, principal: &Principal, id: &str) -> Answer {
    let state = shared.lock();
    if let Some(page) = state.page(id)
        && visible(principal, page)
    {
        return Ok(page_json(page, false));
    }
    if let (Principal::Page(page), Some(user)) = (principal, state.user(id))
        && user.page == page.id
        && state.last_inbound(&page.id, &user.id).is_some()
    {
        let name = user.display_name();
        let (first, last) = name.split_once(' ').unwrap_or((name.as_str(), ""));
        return Ok(match user.platform {
            meta_messaging_core::Platform::Messenger => json!({
                "id": user.id, "first_name": first, "last_name": last, "name": name,
            }),
            _ => json!({
                "id": user.id, "name": name, "username": user.username(),
            }),
        });
    }
    Err(GraphFailure::object_not_found(id, "get"))
}

fn visible(principal: &Principal, page: &FacebookPage) -> bool {
    match principal {
        Principal::Page(own) => own.id == page.id,
        Principal::User | Principal::App => true,
    }
}

fn page_json(page: &FacebookPage, with_token: bool) -> Value {
    let mut out = json!({"id": page.id, "name": page.name});
    if let Some(ig) = &page.instagram {
        out["instagram_business_account"] = json!({
            "id": ig.id,
            "username": ig.username,
            "name": ig.name.clone().unwrap_or_else(|| page.name.clone()),
        });
    }
    if with_token {
        out["access_token"] = json!(page.token);
        out["category"] = json!("Business");
        out["tasks"] = json!(["MESSAGING", "MODERATE", "MANAGE"]);
    }
    out
}

pub(super) fn me_accounts(shared: &Shared, principal: &Principal) -> Answer {
    if !matches!(principal, Principal::User) {
        return Err(GraphFailure::object_not_found("me", "get"));
    }
    let state = shared.lock();
    let data: Vec<Value> = state
        .world
        .pages
        .iter()
        .map(|p| page_json(p, true))
        .collect();
    Ok(json!({ "data": data }))
}

pub(super) fn permissions(principal: &Principal) -> Answer {
    let granted: Vec<Value> = match principal {
        Principal::Page(page) => page
            .permissions
            .iter()
            .map(|p| json!({"permission": p, "status": "granted"}))
            .collect(),
        Principal::User | Principal::App => Vec::new(),
    };
    Ok(json!({ "data": granted }))
}

pub(super) fn subscribed_apps(shared: &Shared, principal: &Principal, node: &str) -> Answer {
    let state = shared.lock();
    let page = own_page(&state, principal, node, "get")?;
    let data: Vec<Value> = state
        .subscriptions
        .get(&page)
        .map(|fields| {
            vec![json!({
                "id": state.world.app.id,
                "name": state.world.app.name,
                "category": "Business",
                "subscribed_fields": fields,
            })]
        })
        .unwrap_or_default();
    Ok(json!({ "data": data }))
}

pub(super) fn subscribe(
    shared: &Shared,
    principal: &Principal,
    node: &str,
    query: &HashMap<String, String>,
) -> Answer {
    let mut state = shared.lock();
    let page = own_page(&state, principal, node, "post")?;
    let fields: Vec<String> = match query.get("subscribed_fields") {
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
            .collect(),
        None => DEFAULT_FIELDS.iter().map(|f| (*f).to_owned()).collect(),
    };
    state.subscriptions.insert(page, fields);
    Ok(json!({"success": true}))
}

/// The Page `node` names (`me` or its id), which must be the token's own Page.
fn own_page(
    state: &State,
    principal: &Principal,
    node: &str,
    method: &str,
) -> Result<String, GraphFailure> {
    match principal {
        Principal::Page(page) if node == "me" || node == page.id => state
            .page(&page.id)
            .map(|p| p.id.clone())
            .ok_or_else(|| GraphFailure::object_not_found(node, method)),
        _ => Err(GraphFailure::object_not_found(node, method)),
    }
}
