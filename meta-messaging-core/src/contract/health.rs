//! `GET /health/live` and `GET /health/ready`: what an orchestrator (Kubernetes, a load
//! balancer) probes. No credentials, and nothing in the answer but `ok` or `unavailable`: the
//! cause of an unready inbox goes to the log, never to whoever can reach the port.

use super::answers::ProbeAnswer;
use super::error::Refusal;
use super::{ApiResponse, Method};
use crate::error::ErrorChain;
use crate::inbox::{Inbox, NotReady};

/// The answer of a probe: its status and `{"status": ...}`, never cached.
fn probe(status: u16, word: &'static str) -> ApiResponse {
    ApiResponse::json(status, &ProbeAnswer { status: word })
        .with_header("cache-control", "no-store".to_owned())
}

/// `GET /health/live`: the process serves requests.
pub(super) fn live(method: Method) -> ApiResponse {
    match method {
        Method::Get => probe(200, "ok"),
        _ => ApiResponse::refused(Refusal::MethodNotAllowed),
    }
}

/// `GET /health/ready`: [`Inbox::ready`]; 503 with the cause logged when it is not.
pub(super) async fn ready(inbox: &Inbox, method: Method) -> ApiResponse {
    if method != Method::Get {
        return ApiResponse::refused(Refusal::MethodNotAllowed);
    }
    match inbox.ready().await {
        Ok(()) => probe(200, "ok"),
        Err(NotReady::Draining) => {
            tracing::debug!("readiness probe: draining");
            probe(503, "unavailable")
        }
        Err(err) => {
            tracing::warn!(error = %ErrorChain(&err), "readiness probe failed: answering 503");
            probe(503, "unavailable")
        }
    }
}
