//! `GET`, `POST` and `DELETE /{page-id}/messenger_profile`: the Page's Messenger profile, and
//! its Instagram account's with `platform=instagram`, checked against Meta's limits.

use std::collections::HashMap;

use meta_messaging_core::Platform;
use meta_messaging_core::graph::{MessengerProfile, ProfileField};
use serde::Deserialize;
use serde_json::{Value, json};

use super::sending_page;
use crate::error::GraphFailure;
use crate::server::Shared;
use crate::state::Principal;

type Answer = Result<Value, GraphFailure>;

/// The profile fields named in `fields`, as `{"data": [profile]}`, or `{"data": []}` when none
/// is set.
pub(super) fn get(
    shared: &Shared,
    principal: &Principal,
    node: &str,
    query: &HashMap<String, String>,
) -> Answer {
    let state = shared.lock();
    let page = sending_page(&state, principal, node)?;
    let platform = platform(query, None)?;
    let wanted: Vec<ProfileField> = match query.get("fields") {
        Some(fields) => fields
            .split(',')
            .map(|name| field(name.trim()))
            .collect::<Result<_, _>>()?,
        None => ProfileField::ALL.to_vec(),
    };
    let profile = state
        .profiles
        .get(&(page.id.clone(), platform))
        .map(|p| p.only(&wanted))
        .unwrap_or_default();
    if profile.fields().is_empty() {
        return Ok(json!({ "data": [] }));
    }
    Ok(json!({ "data": [profile] }))
}

/// Sets the fields of the body that are present, after Meta's checks.
pub(super) fn set(
    shared: &Shared,
    principal: &Principal,
    node: &str,
    query: &HashMap<String, String>,
    body: &[u8],
) -> Answer {
    let mut state = shared.lock();
    let page_id = sending_page(&state, principal, node)?.id.clone();
    let request: Value = json_body(body)?;
    let platform = platform(query, request.get("platform"))?;
    let profile: MessengerProfile = serde_json::from_value(request)
        .map_err(|e| GraphFailure::invalid_parameter(format!("(#100) {e}")))?;
    if profile.fields().is_empty() {
        return Err(GraphFailure::invalid_parameter(
            "(#100) You must specify at least one Messenger profile field",
        ));
    }
    profile
        .validate(platform)
        .map_err(|e| GraphFailure::invalid_parameter(format!("(#100) {e}")))?;
    let stored = state.profiles.entry((page_id, platform)).or_default();
    for field in profile.fields() {
        match field {
            ProfileField::GetStarted => stored.get_started = profile.get_started.clone(),
            ProfileField::Greeting => stored.greeting = profile.greeting.clone(),
            ProfileField::IceBreakers => stored.ice_breakers = profile.ice_breakers.clone(),
            ProfileField::PersistentMenu => {
                stored.persistent_menu = profile.persistent_menu.clone();
            }
            _ => {}
        }
    }
    Ok(json!({ "result": "success" }))
}

/// Deletes the fields the body's `fields` lists.
pub(super) fn delete(
    shared: &Shared,
    principal: &Principal,
    node: &str,
    query: &HashMap<String, String>,
    body: &[u8],
) -> Answer {
    #[derive(Deserialize)]
    struct Request {
        #[serde(default)]
        fields: Vec<String>,
    }
    let mut state = shared.lock();
    let page_id = sending_page(&state, principal, node)?.id.clone();
    let request: Value = json_body(body)?;
    let platform = platform(query, request.get("platform"))?;
    let request: Request = serde_json::from_value(request)
        .map_err(|e| GraphFailure::invalid_parameter(format!("(#100) {e}")))?;
    if request.fields.is_empty() {
        return Err(GraphFailure::invalid_parameter(
            "(#100) The parameter fields is required",
        ));
    }
    let fields: Vec<ProfileField> = request
        .fields
        .iter()
        .map(|name| field(name))
        .collect::<Result<_, _>>()?;
    if let Some(stored) = state.profiles.get_mut(&(page_id, platform)) {
        let kept: Vec<ProfileField> = stored
            .fields()
            .into_iter()
            .filter(|f| !fields.contains(f))
            .collect();
        *stored = stored.only(&kept);
    }
    Ok(json!({ "result": "success" }))
}

fn json_body(body: &[u8]) -> Result<Value, GraphFailure> {
    if body.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(body)
        .map_err(|_| GraphFailure::invalid_parameter("(#100) The request body is not valid JSON"))
}

fn field(name: &str) -> Result<ProfileField, GraphFailure> {
    serde_json::from_value(Value::String(name.to_owned())).map_err(|_| {
        GraphFailure::invalid_parameter(format!(
            "(#100) Requires one of the params: get_started, greeting, ice_breakers, persistent_menu (got {name:?})"
        ))
    })
}

/// `platform=instagram` (in the query or the body) selects the Instagram account's profile.
fn platform(
    query: &HashMap<String, String>,
    body: Option<&Value>,
) -> Result<Platform, GraphFailure> {
    let name = query
        .get("platform")
        .map(String::as_str)
        .or_else(|| body.and_then(Value::as_str));
    match name {
        None | Some("messenger") => Ok(Platform::Messenger),
        Some("instagram") => Ok(Platform::Instagram),
        Some(other) => Err(GraphFailure::invalid_parameter(format!(
            "(#100) platform must be one of the following values: messenger, instagram (got {other:?})"
        ))),
    }
}
