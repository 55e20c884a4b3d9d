//! The handover protocol: `pass_thread_control`, `take_thread_control`,
//! `request_thread_control` and `thread_owner` for the emulated app (the Page's primary
//! receiver). Webhooks go to the other app of each change, as Meta sends them, so these calls
//! deliver none to the emulated app; `/_emulator/users/{id}/thread_control` plays the other app.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::sending_page;
use crate::error::GraphFailure;
use crate::server::Shared;
use crate::state::{Principal, State};
use crate::world::FacebookPage;

/// `POST /{page-id}/{pass,take,request}_thread_control`.
pub(super) fn control(
    shared: &Shared,
    principal: &Principal,
    node: &str,
    edge: &str,
    body: &[u8],
) -> Result<Value, GraphFailure> {
    let mut state = shared.lock();
    let page = sending_page(&state, principal, node)?.clone();
    let request: Value = serde_json::from_slice(body).map_err(|_| {
        GraphFailure::invalid_parameter("(#100) The request body is not valid JSON")
    })?;
    let user = page_user(&state, &page, request.pointer("/recipient/id"))?;
    let key = (page.id.clone(), user);
    let ours = state.world.app.id.clone();
    match edge {
        "pass_thread_control" => {
            let target = request
                .get("target_app_id")
                .and_then(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .or_else(|| v.as_u64().map(|n| n.to_string()))
                })
                .ok_or_else(|| {
                    GraphFailure::invalid_parameter("(#100) param target_app_id is required")
                })?;
            if state.thread_owner(&key.0, &key.1) != ours {
                return Err(GraphFailure::not_thread_owner());
            }
            if target != ours {
                state.thread_owners.insert(key, target);
            }
        }
        "take_thread_control" => {
            state.thread_owners.remove(&key);
        }
        // The owner is told; when that is the emulated app itself there is nothing to do.
        _ => {}
    }
    Ok(json!({"success": true}))
}

/// `GET /{page-id}/thread_owner?recipient=`.
pub(super) fn thread_owner(
    shared: &Shared,
    principal: &Principal,
    node: &str,
    query: &HashMap<String, String>,
) -> Result<Value, GraphFailure> {
    let state = shared.lock();
    let page = sending_page(&state, principal, node)?.clone();
    let recipient = query.get("recipient").map(|r| Value::String(r.clone()));
    let user = page_user(&state, &page, recipient.as_ref())?;
    let owner = state.thread_owner(&page.id, &user);
    Ok(json!({"data": [{"thread_owner": {"app_id": owner}}]}))
}

/// The user a handover call names: one of this Page's.
fn page_user(
    state: &State,
    page: &FacebookPage,
    recipient: Option<&Value>,
) -> Result<String, GraphFailure> {
    let id = recipient.and_then(Value::as_str).ok_or_else(|| {
        GraphFailure::invalid_parameter(
            "(#100) Param recipient[id] must be a valid ID string (e.g., \"123\")",
        )
    })?;
    state
        .user(id)
        .filter(|u| u.page == page.id)
        .map(|u| u.id.clone())
        .ok_or_else(GraphFailure::no_matching_user)
}
