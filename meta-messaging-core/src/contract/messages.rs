//! `POST /messages`: a send, idempotent under an `Idempotency-Key`, from a JSON body or (with
//! a file) a `multipart/form-data` one ([`super::upload`]).

use super::ApiResponse;
use super::error::Refusal;
use crate::ids::TenantId;
use crate::inbox::{IdempotentSend, Inbox, InboxError, SendRequest};
use crate::store::IdempotencyKey;

/// The `Retry-After` (seconds) of a 409 `idempotency_key_in_flight`: about the time a send
/// takes.
const IN_FLIGHT_RETRY_AFTER_SECS: &str = "1";

/// Sends the message of `body`: under the `Idempotency-Key` when there is one (a retry is
/// answered the first request's answer, with `Idempotent-Replayed: true`), else once.
///
/// A message Meta accepted is a 201 whether the store recorded it or not (`"stored"` says
/// which), never an error that would invite a second send.
pub(super) async fn post(
    inbox: &Inbox,
    tenant: &TenantId,
    key: Option<&[u8]>,
    body: &[u8],
) -> ApiResponse {
    let send: SendRequest = match serde_json::from_slice(body) {
        Ok(send) => send,
        Err(err) => {
            let err = InboxError::InvalidRequest(format!("send request body: {err}"));
            return ApiResponse::error(&err);
        }
    };
    send_request(inbox, tenant, key, &send).await
}

/// Sends `send`, under the `Idempotency-Key` `key` when there is one: what both forms of
/// `POST /messages` answer.
pub(super) async fn send_request(
    inbox: &Inbox,
    tenant: &TenantId,
    key: Option<&[u8]>,
    send: &SendRequest,
) -> ApiResponse {
    let key = match key.map(IdempotencyKey::from_bytes).transpose() {
        Ok(key) => key,
        Err(invalid) => return ApiResponse::refused(Refusal::InvalidIdempotencyKey(invalid)),
    };
    let Some(key) = key else {
        return match inbox.send_outcome(tenant, send).await {
            Ok(sent) => ApiResponse::json(201, &sent),
            Err(err) => ApiResponse::error(&err),
        };
    };
    match inbox.send_idempotent(tenant, &key, send).await {
        Ok(IdempotentSend::Sent(sent)) => ApiResponse::json(201, &sent),
        Ok(IdempotentSend::Replayed(answer)) => ApiResponse::json(answer.status, &answer.body)
            .with_header("idempotent-replayed", "true".to_owned()),
        Err(err @ InboxError::IdempotencyKeyInFlight { .. }) => ApiResponse::error(&err)
            .with_header("retry-after", IN_FLIGHT_RETRY_AFTER_SECS.to_owned()),
        Err(err) => ApiResponse::error(&err),
    }
}
