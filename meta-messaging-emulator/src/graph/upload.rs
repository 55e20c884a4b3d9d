//! `POST /{page-id}/message_attachments`: reusable attachments, by URL or uploaded bytes.

use axum::body::to_bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::HeaderMap;
use axum::http::header::CONTENT_TYPE;
use serde_json::{Value, json};

use super::{BODY_LIMIT, FILE_LIMIT, sending_page};
use crate::error::GraphFailure;
use crate::server::Shared;
use crate::state::Principal;

const KINDS: &[&str] = &["image", "video", "audio", "file"];

pub(super) async fn upload(
    shared: &Shared,
    principal: &Principal,
    node: &str,
    headers: &HeaderMap,
    request: Request,
) -> Result<Value, GraphFailure> {
    let page = sending_page(&shared.lock(), principal, node)?;
    let (message, file) = read_upload(headers, request).await?;
    let kind = attachment_kind(&message)?;
    let url = message
        .pointer("/attachment/payload/url")
        .and_then(Value::as_str)
        .map(str::to_owned);
    if url.is_none() && file.is_none() {
        return Err(GraphFailure::invalid_parameter(
            "(#100) Upload attachment failure: no url or filedata",
        ));
    }
    let (id, _) = shared
        .lock()
        .host_attachment(page.id.clone(), kind, url, file);
    Ok(json!({ "attachment_id": id }))
}

/// The upload's `message` object and its file, from a multipart body or a JSON one (by URL).
async fn read_upload(
    headers: &HeaderMap,
    request: Request,
) -> Result<(Value, Option<(String, axum::body::Bytes)>), GraphFailure> {
    let multipart = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if multipart {
        return read_multipart(request).await;
    }
    let body = to_bytes(request.into_body(), BODY_LIMIT)
        .await
        .map_err(|_| GraphFailure::invalid_parameter("(#100) The request body is too large"))?;
    let request: Value = serde_json::from_slice(&body).map_err(|_| {
        GraphFailure::invalid_parameter("(#100) The request body is not valid JSON")
    })?;
    Ok((request.get("message").cloned().unwrap_or(Value::Null), None))
}

/// The attachment's type, one of the four the Send API takes.
fn attachment_kind(message: &Value) -> Result<String, GraphFailure> {
    message
        .pointer("/attachment/type")
        .and_then(Value::as_str)
        .filter(|k| KINDS.contains(k))
        .map(str::to_owned)
        .ok_or_else(|| {
            GraphFailure::invalid_parameter(
                "(#100) param message[attachment][type] must be one of {image, audio, video, file}",
            )
        })
}

/// The `message` JSON part and the `filedata` bytes (with their content type) of an upload.
async fn read_multipart(
    request: Request,
) -> Result<(Value, Option<(String, axum::body::Bytes)>), GraphFailure> {
    let invalid = |_| GraphFailure::invalid_parameter("(#100) The multipart body is invalid");
    let mut parts = Multipart::from_request(request, &())
        .await
        .map_err(|_| GraphFailure::invalid_parameter("(#100) The multipart body is invalid"))?;
    let mut message = Value::Null;
    let mut file = None;
    while let Some(part) = parts.next_field().await.map_err(invalid)? {
        match part.name() {
            Some("message") => {
                let text = part.text().await.map_err(invalid)?;
                message = serde_json::from_str(&text).map_err(|_| {
                    GraphFailure::invalid_parameter("(#100) param message must be JSON")
                })?;
            }
            Some("filedata") => {
                let mime = part
                    .content_type()
                    .unwrap_or("application/octet-stream")
                    .to_owned();
                let bytes = part.bytes().await.map_err(invalid)?;
                if bytes.len() > FILE_LIMIT {
                    return Err(GraphFailure::invalid_parameter(
                        "(#100) Upload attachment failure: the file is larger than 25 MB",
                    ));
                }
                if !bytes.is_empty() {
                    file = Some((mime, bytes));
                }
            }
            _ => {}
        }
    }
    Ok((message, file))
}
