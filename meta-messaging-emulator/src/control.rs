//! The control API under `/_emulator/`: script the world while it runs.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::activity::{self, Inbound, InboundReaction};
use crate::comments::{self, InboundComment};
use crate::server::Shared;
use crate::state::now_ms;
use crate::world::User;

/// Why a control request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ControlError {
    /// No user with this PSID/IGSID is in the world.
    #[error("no user {0:?} in the world")]
    UnknownUser(String),
    /// No Page with this id is in the world.
    #[error("no Page {0:?} in the world")]
    UnknownPage(String),
    /// The token was never issued by the emulator.
    #[error("the emulator never issued this token")]
    UnknownToken,
    /// The inbound message has neither a text nor an attachment.
    #[error("a message needs a text or an attachment")]
    EmptyMessage,
    /// The message is not in this user's conversation (or, for an edit, not written by them).
    #[error("no message {0:?} in this user's conversation")]
    UnknownMessage(String),
    /// Messenger has no webhook for this action (Meta sends it for Instagram only).
    #[error("Messenger sends no webhook when a user does this ({0}); use an Instagram user")]
    NotOnMessenger(&'static str),
    /// The Login dialog refused the authorize URL (a wrong `client_id` or `redirect_uri`).
    #[error("the Login dialog refused: {0}")]
    LoginRefused(String),
    /// No comment with this id is on the user's account (or it was deleted).
    #[error("no comment {0:?} on this user's account")]
    UnknownComment(String),
    /// No post or media with this id is on the user's account.
    #[error("no post {0:?} on this user's account (leave it out to use the account's first post)")]
    UnknownPost(String),
    /// The account named is not the one the user writes to.
    #[error("user {user:?} comments on their own account, not on {account:?}")]
    NotTheUsersAccount {
        /// The user.
        user: String,
        /// The account asked for.
        account: String,
    },
    /// The callback URL is not an absolute http(s) URL.
    #[error("the callback URL must be an absolute http:// or https:// URL, not {0:?}")]
    InvalidCallback(String),
}

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        let status = match self {
            Self::EmptyMessage
            | Self::UnknownMessage(_)
            | Self::NotOnMessenger(_)
            | Self::UnknownComment(_)
            | Self::UnknownPost(_)
            | Self::NotTheUsersAccount { .. }
            | Self::LoginRefused(_)
            | Self::InvalidCallback(_) => StatusCode::BAD_REQUEST,
            _ => StatusCode::NOT_FOUND,
        };
        (status, Json(json!({"error": self.to_string()}))).into_response()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Permissions {
    permissions: Vec<String>,
}

pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route("/_emulator/users", post(add_user))
        .route("/_emulator/users/{id}/messages", post(user_writes))
        .route("/_emulator/users/{id}/reactions", post(user_reacts))
        .route("/_emulator/users/{id}/reads", post(user_reads))
        .route("/_emulator/users/{id}/edits", post(user_edits))
        .route("/_emulator/users/{id}/unsends", post(user_unsends))
        .route("/_emulator/users/{id}/comments", post(user_comments))
        .route("/_emulator/users/{id}/thread_control", post(thread_control))
        .route("/_emulator/callback", put(set_callback))
        .route("/_emulator/tokens/{token}/expire", post(expire))
        .route("/_emulator/pages/{id}/permissions", post(permissions))
        .route("/_emulator/messages", get(sent))
        .route("/_emulator/webhooks", get(deliveries))
        .route("/_emulator/comments", get(comment_list))
        .route("/_emulator/attachments/{id}", get(attachment))
        .route("/_emulator/media", post(host_media))
}

/// Hosts the body (with its `Content-Type`) as a CDN file a simulated user can attach:
/// answers its `url`, which expires after the world's `attachment_url_ttl_ms`.
async fn host_media(
    State(shared): State<Shared>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> (StatusCode, Json<Value>) {
    let mime = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_owned();
    let (id, url) = shared.lock().host_media(mime, body);
    (StatusCode::CREATED, Json(json!({"id": id, "url": url})))
}

async fn add_user(
    State(shared): State<Shared>,
    Json(user): Json<User>,
) -> Result<Response, ControlError> {
    shared.lock().add_user(user)?;
    Ok((StatusCode::CREATED, Json(json!({"success": true}))).into_response())
}

async fn user_writes(
    State(shared): State<Shared>,
    Path(id): Path<String>,
    Json(inbound): Json<Inbound>,
) -> Result<Json<Value>, ControlError> {
    let mid = activity::write(&shared, &id, inbound).await?;
    Ok(Json(json!({"mid": mid.as_str()})))
}

async fn user_reacts(
    State(shared): State<Shared>,
    Path(id): Path<String>,
    Json(reaction): Json<InboundReaction>,
) -> Result<Json<Value>, ControlError> {
    activity::react(&shared, &id, reaction).await?;
    Ok(Json(json!({"success": true})))
}

async fn user_reads(
    State(shared): State<Shared>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ControlError> {
    activity::read(&shared, &id).await?;
    Ok(Json(json!({"success": true})))
}

async fn user_comments(
    State(shared): State<Shared>,
    Path(id): Path<String>,
    Json(inbound): Json<InboundComment>,
) -> Result<Json<Value>, ControlError> {
    let posted = comments::write(&shared, &id, inbound).await?;
    Ok(Json(
        json!({"comment_id": posted.comment_id.as_str(), "post_id": posted.post_id}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Edit {
    mid: String,
    text: String,
}

async fn user_edits(
    State(shared): State<Shared>,
    Path(id): Path<String>,
    Json(edit): Json<Edit>,
) -> Result<Json<Value>, ControlError> {
    activity::edit(&shared, &id, &edit.mid, &edit.text).await?;
    Ok(Json(json!({"success": true})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Unsend {
    mid: String,
}

async fn user_unsends(
    State(shared): State<Shared>,
    Path(id): Path<String>,
    Json(unsend): Json<Unsend>,
) -> Result<Json<Value>, ControlError> {
    activity::unsend(&shared, &id, &unsend.mid).await?;
    Ok(Json(json!({"success": true})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThreadControl {
    action: activity::OtherAppAction,
    app_id: String,
    #[serde(default)]
    metadata: Option<String>,
}

/// Another app of the Page takes the user's thread or passes it back (`{"action": "take" |
/// "pass", "app_id", "metadata"}`); the emulated app gets the handover webhook.
async fn thread_control(
    State(shared): State<Shared>,
    Path(id): Path<String>,
    Json(body): Json<ThreadControl>,
) -> Result<Json<Value>, ControlError> {
    activity::other_app(
        &shared,
        &id,
        body.action,
        &body.app_id,
        body.metadata.as_deref(),
    )
    .await?;
    Ok(Json(json!({"success": true})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Callback {
    url: Option<String>,
}

async fn set_callback(
    State(shared): State<Shared>,
    Json(callback): Json<Callback>,
) -> Result<Json<Value>, ControlError> {
    shared.lock().set_callback(callback.url)?;
    Ok(Json(json!({"success": true})))
}

async fn expire(
    State(shared): State<Shared>,
    Path(token): Path<String>,
) -> Result<Json<Value>, ControlError> {
    shared.lock().expire(&token)?;
    Ok(Json(json!({"success": true})))
}

async fn permissions(
    State(shared): State<Shared>,
    Path(id): Path<String>,
    Json(body): Json<Permissions>,
) -> Result<Json<Value>, ControlError> {
    shared.lock().set_permissions(&id, body.permissions)?;
    Ok(Json(json!({"success": true})))
}

async fn sent(State(shared): State<Shared>) -> Json<Value> {
    Json(json!({"data": shared.lock().sent}))
}

async fn deliveries(State(shared): State<Shared>) -> Json<Value> {
    Json(json!({"data": shared.lock().deliveries}))
}

async fn comment_list(State(shared): State<Shared>) -> Json<Value> {
    Json(json!({"data": shared.lock().comments.list}))
}

/// The bytes of an attachment uploaded with `filedata` (at the URL its echo carries) or hosted
/// with `POST /_emulator/media`: 403 once its URL expired, as Meta's CDN answers.
async fn attachment(State(shared): State<Shared>, Path(id): Path<String>) -> Response {
    let file = shared
        .lock()
        .attachments
        .get(&id)
        .and_then(|a| Some((a.file.clone()?, a.expires_at_ms)));
    match file {
        Some((_, expires_at_ms)) if now_ms() >= expires_at_ms => {
            (StatusCode::FORBIDDEN, "URL signature expired").into_response()
        }
        Some(((mime, bytes), _)) => ([(CONTENT_TYPE, mime)], bytes).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": format!("no uploaded file {id:?}")})),
        )
            .into_response(),
    }
}
