//! [`VerifiedDelivery`]: a webhook delivery whose signature was checked, for hosts that write
//! their own handler; and [`ErrorResponse`], the response of any inbox error.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRef, FromRequest, Request};
use axum::response::{IntoResponse, Response};
use meta_messaging_core::contract::{self, ApiResponse};
use meta_messaging_core::inbox::{Inbox, InboxError};
use meta_messaging_core::webhook::{Event, SIGNATURE_HEADER};

use crate::routes::into_response;

/// An [`InboxError`] as an axum response: the status and JSON body of `ADAPTERS.md`.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct ErrorResponse(#[from] pub InboxError);

impl IntoResponse for ErrorResponse {
    fn into_response(self) -> Response {
        into_response(ApiResponse::error(&self.0))
    }
}

/// Extracts a webhook delivery whose size and `X-Hub-Signature-256` were checked and whose body
/// was parsed, using the [`Inbox`] in your state (`Inbox: FromRef<S>`). The body is read as the
/// inbox routes read theirs ([`contract::read_body`]). Nothing is stored: pass it to
/// [`Inbox::receive`] yourself, or handle the events your way.
///
/// ```
/// use axum::{Router, routing::post};
/// use meta_messaging_axum::VerifiedDelivery;
/// use meta_messaging_core::inbox::Inbox;
///
/// async fn webhook(delivery: VerifiedDelivery) -> &'static str {
///     for event in &delivery.events {
///         println!("{} {}", event.platform, event.kind());
///     }
///     "EVENT_RECEIVED"
/// }
///
/// fn routes(inbox: Inbox) -> Router {
///     Router::new().route("/webhook", post(webhook)).with_state(inbox)
/// }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct VerifiedDelivery {
    /// The delivery's events.
    pub events: Vec<Event>,
}

impl<S> FromRequest<S> for VerifiedDelivery
where
    Inbox: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ErrorResponse;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let inbox = Inbox::from_ref(state);
        let remote = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0);
        let signature = request
            .headers()
            .get(SIGNATURE_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = request.into_body().into_data_stream();
        let events =
            contract::read_verified_delivery(&inbox, remote, signature.as_deref(), body).await?;
        Ok(Self { events })
    }
}
