//! [`VerifiedDelivery`]: a webhook delivery whose signature was checked, for hosts that write
//! their own handler; and [`ErrorResponse`], the `ResponseError` of any inbox error.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use meta_messaging_core::contract::{self, ApiResponse};
use meta_messaging_core::inbox::{Inbox, InboxError};
use meta_messaging_core::webhook::{Event, SIGNATURE_HEADER};

use crate::routes::into_response;

/// An [`InboxError`] as an actix-web error: the status and JSON body of `ADAPTERS.md`.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct ErrorResponse(#[from] pub InboxError);

impl ResponseError for ErrorResponse {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(contract::status(&self.0)).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        into_response(ApiResponse::error(&self.0))
    }
}

/// Extracts a webhook delivery whose size and `X-Hub-Signature-256` were checked and whose body
/// was parsed, using the [`Inbox`] registered as `web::Data<Inbox>`. The body is read as the
/// inbox routes read theirs ([`contract::read_body`]). Nothing is stored: pass it
/// to [`Inbox::receive`] yourself, or handle the events your way.
///
/// ```
/// use actix_web::{App, web};
/// use meta_messaging_actix::VerifiedDelivery;
///
/// async fn webhook(delivery: VerifiedDelivery) -> &'static str {
///     for event in &delivery.events {
///         println!("{} {}", event.platform, event.kind());
///     }
///     "EVENT_RECEIVED"
/// }
///
/// # fn app(inbox: meta_messaging_core::inbox::Inbox) {
/// let app = App::new()
///     .app_data(web::Data::new(inbox))
///     .route("/webhook", web::post().to(webhook));
/// # }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct VerifiedDelivery {
    /// The delivery's events.
    pub events: Vec<Event>,
}

impl FromRequest for VerifiedDelivery {
    type Error = ErrorResponse;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ErrorResponse>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let inbox = request
            .app_data::<web::Data<Inbox>>()
            .map(|data| Inbox::clone(data));
        let signature = request
            .headers()
            .get(SIGNATURE_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let remote = request.peer_addr();
        let payload = payload.take();
        Box::pin(async move {
            let inbox = inbox.ok_or_else(|| {
                ErrorResponse(InboxError::InvalidRequest(
                    "VerifiedDelivery needs the Inbox registered with App::app_data(web::Data::new(inbox))".to_owned(),
                ))
            })?;
            let events =
                contract::read_verified_delivery(&inbox, remote, signature.as_deref(), payload)
                    .await?;
            Ok(Self { events })
        })
    }
}
