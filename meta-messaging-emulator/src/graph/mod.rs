//! The emulated Graph API: the endpoints `meta-messaging-core`'s `GraphClient` calls.

mod accounts;
mod app;
mod comments;
mod handover;
mod oauth;
mod private_reply;
mod profile;
mod read;
mod send;
mod upload;

use std::collections::HashMap;

use axum::Json;
use axum::Router;
use axum::body::to_bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use crate::error::GraphFailure;
use crate::server::Shared;
use crate::state::{Principal, State as Live};
use crate::world::FacebookPage;

/// The largest file an attachment upload takes, as Meta's: 25 MB.
pub(crate) const FILE_LIMIT: usize = 25 * 1024 * 1024;

/// The largest request body accepted: a largest file and room for the upload's other fields.
pub(crate) const BODY_LIMIT: usize = FILE_LIMIT + 64 * 1024;

pub(crate) use oauth::{IssuedCode, consent};

type Params = Query<HashMap<String, String>>;
type Answer = Result<Json<Value>, GraphFailure>;

/// `/{version}/{node}` and `/{version}/{node}/{edge}`; the handlers dispatch on the node and
/// edge names the way the Graph API does, so any version segment is accepted.
pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route(
            "/{version}/{node}",
            get(get_node).post(post_node).delete(delete_node),
        )
        .route(
            "/{version}/{node}/{edge}",
            get(get_edge).post(post_edge).delete(delete_edge),
        )
        // axum's extractors (the upload's multipart one) stop at 2 MB unless told otherwise.
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
}

async fn get_node(
    State(shared): State<Shared>,
    Path((_version, node)): Path<(String, String)>,
    Query(query): Params,
    headers: HeaderMap,
) -> Answer {
    let principal = authenticate(&shared, &headers, &query)?;
    match node.as_str() {
        "debug_token" => accounts::debug_token(&shared, &query),
        "me" => accounts::me(&principal),
        _ => {
            let found = read::message(&shared.lock(), &principal, &node);
            match found {
                Some(message) => Ok(message),
                None => accounts::node(&shared, &principal, &node),
            }
        }
    }
    .map(Json)
}

async fn get_edge(
    State(shared): State<Shared>,
    Path((_version, node, edge)): Path<(String, String, String)>,
    Query(query): Params,
    headers: HeaderMap,
) -> Response {
    // The Login dialog and the token exchange are the two calls made without a token.
    match (node.as_str(), edge.as_str()) {
        ("dialog", "oauth") => oauth::dialog(&shared, &query),
        ("oauth", "access_token") => oauth::access_token(&shared, &query, &HashMap::new())
            .map(Json)
            .into_response(),
        _ => authenticated_edge(&shared, &node, &edge, &query, &headers).into_response(),
    }
}

fn authenticated_edge(
    shared: &Shared,
    node: &str,
    edge: &str,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Answer {
    let principal = authenticate(shared, headers, query)?;
    match edge {
        "accounts" if node == "me" => accounts::me_accounts(shared, &principal),
        "permissions" if node == "me" => accounts::permissions(&principal),
        "permissions" => app::permissions(shared, &principal, node),
        "subscriptions" => app::subscriptions(shared, &principal, node),
        "subscribed_apps" => accounts::subscribed_apps(shared, &principal, node),
        "conversations" => read::conversations(shared, &principal, node, query),
        "messages" => read::conversation_messages(shared, &principal, node, query),
        "messenger_profile" => profile::get(shared, &principal, node, query),
        "thread_owner" => handover::thread_owner(shared, &principal, node, query),
        _ => Err(GraphFailure::object_not_found(node, "get")),
    }
    .map(Json)
}

async fn post_edge(
    State(shared): State<Shared>,
    Path((_version, node, edge)): Path<(String, String, String)>,
    Query(query): Params,
    headers: HeaderMap,
    request: Request,
) -> Answer {
    if (node.as_str(), edge.as_str()) == ("oauth", "access_token") {
        let form = form_body(&headers, request).await?;
        return oauth::access_token(&shared, &query, &form).map(Json);
    }
    let principal = authenticate(&shared, &headers, &query)?;
    match edge.as_str() {
        "messages" => {
            let body = body_bytes(request).await?;
            send::send(&shared, &principal, &node, &body).await
        }
        "messenger_profile" => {
            let body = body_bytes(request).await?;
            profile::set(&shared, &principal, &node, &query, &body)
        }
        "message_attachments" => {
            upload::upload(&shared, &principal, &node, &headers, request).await
        }
        "subscribed_apps" => accounts::subscribe(&shared, &principal, &node, &query),
        "replies" | "comments" => {
            let fields = fields(&query, &headers, request).await?;
            comments::reply(&shared, &principal, &node, &edge, &fields).await
        }
        "pass_thread_control" | "take_thread_control" | "request_thread_control" => {
            let body = body_bytes(request).await?;
            handover::control(&shared, &principal, &node, &edge, &body)
        }
        _ => Err(GraphFailure::object_not_found(&node, "post")),
    }
    .map(Json)
}

/// `POST /{node}`: on a comment, hides or unhides it; nothing else is written this way.
async fn post_node(
    State(shared): State<Shared>,
    Path((_version, node)): Path<(String, String)>,
    Query(query): Params,
    headers: HeaderMap,
    request: Request,
) -> Answer {
    let principal = authenticate(&shared, &headers, &query)?;
    let fields = fields(&query, &headers, request).await?;
    comments::hide(&shared, &principal, &node, &fields)
        .await
        .map(Json)
}

/// `DELETE /{node}`: deletes a comment; nothing else is deleted this way.
async fn delete_node(
    State(shared): State<Shared>,
    Path((_version, node)): Path<(String, String)>,
    Query(query): Params,
    headers: HeaderMap,
) -> Answer {
    let principal = authenticate(&shared, &headers, &query)?;
    comments::delete(&shared, &principal, &node).await.map(Json)
}

async fn delete_edge(
    State(shared): State<Shared>,
    Path((_version, node, edge)): Path<(String, String, String)>,
    Query(query): Params,
    headers: HeaderMap,
    request: Request,
) -> Answer {
    let principal = authenticate(&shared, &headers, &query)?;
    match edge.as_str() {
        "messenger_profile" => {
            let body = body_bytes(request).await?;
            profile::delete(&shared, &principal, &node, &query, &body)
        }
        _ => Err(GraphFailure::object_not_found(&node, "delete")),
    }
    .map(Json)
}

async fn body_bytes(request: Request) -> Result<axum::body::Bytes, GraphFailure> {
    to_bytes(request.into_body(), BODY_LIMIT)
        .await
        .map_err(|_| GraphFailure::invalid_parameter("(#100) The request body is too large"))
}

/// The Page a write is made as: the token must be a Page token, and the node addressed that
/// Page (by its id, its Instagram account's id, or `me`).
fn sending_page<'p>(
    state: &Live,
    principal: &'p Principal,
    node: &str,
) -> Result<&'p FacebookPage, GraphFailure> {
    let Principal::Page(page) = principal else {
        return Err(GraphFailure::object_not_found(node, "post"));
    };
    let addressed = if node == "me" {
        Some(page)
    } else {
        state.page_for_node(node)
    };
    if addressed.is_none_or(|p| p.id != page.id) {
        return Err(GraphFailure::object_not_found(node, "post"));
    }
    Ok(page)
}

/// The fields of an `application/x-www-form-urlencoded` body (none for any other body).
async fn form_body(
    headers: &HeaderMap,
    request: Request,
) -> Result<HashMap<String, String>, GraphFailure> {
    let is_form = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Ok(HashMap::new());
    }
    let body = body_bytes(request).await?;
    Ok(form_urlencoded::parse(&body).into_owned().collect())
}

/// A write's parameters, wherever the client put them: the query string, then a form or JSON
/// body (Meta takes all three). JSON scalars are read as their text (`true`, `42`).
async fn fields(
    query: &HashMap<String, String>,
    headers: &HeaderMap,
    request: Request,
) -> Result<HashMap<String, String>, GraphFailure> {
    let mut fields = query.clone();
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let body = body_bytes(request).await?;
        fields.extend(form_urlencoded::parse(&body).into_owned());
    } else if content_type.starts_with("application/json") {
        let body = body_bytes(request).await?;
        let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(&body) else {
            return Err(GraphFailure::invalid_parameter(
                "(#100) The request body is not a JSON object",
            ));
        };
        fields.extend(object.into_iter().filter_map(|(key, value)| {
            let text = match value {
                Value::String(text) => text,
                Value::Bool(_) | Value::Number(_) => value.to_string(),
                _ => return None,
            };
            Some((key, text))
        }));
    }
    Ok(fields)
}

/// The principal behind the request's token: `Authorization: Bearer` first, then the
/// `access_token` query parameter (Meta accepts both). Its `appsecret_proof` is checked when
/// present, and required for Page and user tokens when the world requires it.
fn authenticate(
    shared: &Shared,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
) -> Result<Principal, GraphFailure> {
    let bearer = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let token = bearer
        .or_else(|| query.get("access_token").map(String::as_str))
        .ok_or_else(GraphFailure::token_missing)?;
    let state = shared.lock();
    let principal = state
        .principal(token)
        .ok_or_else(GraphFailure::token_invalid)?;
    check_proof(&state, &principal, token, query.get("appsecret_proof"))?;
    if state.is_expired(token) {
        return Err(GraphFailure::token_expired());
    }
    Ok(principal)
}

/// Meta's "Require App Secret": a proof must be `hex(HMAC-SHA256(app secret, token))`. An app
/// token (`{app-id}|{app-secret}`) carries the secret itself, so it needs no proof.
fn check_proof(
    state: &Live,
    principal: &Principal,
    token: &str,
    proof: Option<&String>,
) -> Result<(), GraphFailure> {
    let Some(proof) = proof else {
        let exempt = matches!(principal, Principal::App);
        return if state.world.require_appsecret_proof && !exempt {
            Err(GraphFailure::appsecret_proof_missing())
        } else {
            Ok(())
        };
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(state.world.app.secret.as_bytes()) else {
        return Err(GraphFailure::appsecret_proof_invalid());
    };
    mac.update(token.as_bytes());
    let valid = hex::decode(proof).is_ok_and(|given| mac.verify_slice(&given).is_ok());
    if valid {
        Ok(())
    } else {
        Err(GraphFailure::appsecret_proof_invalid())
    }
}
