//! What an adapter for a web framework needs besides [`InboxRoutes`]: the routes as mounted
//! (with the host's tenant resolver, when there is one), and reading a body or a verified
//! webhook delivery the way the routes do, for extractors.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::Stream;

use super::body::{self, BodyError};
use super::{Access, InboxRoutes, Route};
use crate::ids::TenantId;
use crate::inbox::{Inbox, InboxError};
use crate::webhook::Event;

/// The inbox routes as an adapter mounts them: let in by an [`Access`] decision, or by the
/// host's tenant resolver, a `Fn(&Req) -> Result<TenantId, Rej>` over the framework's request
/// (`Req`) that may refuse with the framework's response (`Rej`), and is then the access
/// decision. Cheap to clone.
pub struct MountedRoutes<Req, Rej> {
    routes: InboxRoutes,
    resolver: Option<Arc<Resolver<Req, Rej>>>,
}

type Resolver<Req, Rej> = dyn Fn(&Req) -> Result<TenantId, Rej> + Send + Sync;

impl<Req, Rej> Clone for MountedRoutes<Req, Rej> {
    fn clone(&self) -> Self {
        Self {
            routes: self.routes.clone(),
            resolver: self.resolver.clone(),
        }
    }
}

impl<Req, Rej> fmt::Debug for MountedRoutes<Req, Rej> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MountedRoutes")
            .field("routes", &self.routes)
            .field(
                "resolver",
                &self.resolver.as_ref().map(|_| "host's resolver"),
            )
            .finish()
    }
}

impl<Req, Rej> MountedRoutes<Req, Rej> {
    /// The routes of `inbox`, let in by `access`.
    pub fn with_access(inbox: Inbox, access: Access) -> Self {
        Self {
            routes: InboxRoutes::new(inbox, access),
            resolver: None,
        }
    }

    /// The routes of `inbox`, each request's tenant chosen (or the request refused) by the
    /// host's `resolver`.
    pub fn with_resolver(
        inbox: Inbox,
        resolver: impl Fn(&Req) -> Result<TenantId, Rej> + Send + Sync + 'static,
    ) -> Self {
        Self {
            routes: InboxRoutes::new(inbox, Access::tenant_resolver()),
            resolver: Some(Arc::new(resolver)),
        }
    }

    /// The routes, to [`serve`](InboxRoutes::serve) each request.
    pub fn routes(&self) -> &InboxRoutes {
        &self.routes
    }

    /// The tenant the host's resolver names for `request`, a request of `route`: `Ok(None)`
    /// when there is no resolver or the route acts for no tenant (the webhook, the OAuth
    /// callback), so the resolver runs only where its answer counts.
    ///
    /// # Errors
    /// The resolver's refusal, which the adapter sends as the host made it.
    pub fn resolve(&self, route: Route, request: &Req) -> Result<Option<TenantId>, Rej> {
        match &self.resolver {
            Some(resolver) if route.needs_tenant() => resolver(request).map(Some),
            _ => Ok(None),
        }
    }
}

/// Reads a request body the way every inbox route does: up to [`Inbox::max_body_bytes`] (a
/// body of exactly the limit is accepted, one byte more is refused without reading the rest)
/// and within [`Inbox::body_timeout`]. For extractors and handlers of the host's own.
///
/// # Errors
/// [`InboxError::PayloadTooLarge`], [`InboxError::BodyTimeout`], or
/// [`InboxError::BodyIncomplete`] when the client hung up mid-body.
pub async fn read_body<S, E>(inbox: &Inbox, body: S) -> Result<Bytes, InboxError>
where
    S: Stream<Item = Result<Bytes, E>>,
{
    let (limit, timeout) = (inbox.max_body_bytes(), inbox.body_timeout());
    body::read(body, limit, timeout)
        .await
        .map_err(|err| match err {
            BodyError::TooLarge => InboxError::PayloadTooLarge { limit },
            BodyError::TimedOut => InboxError::BodyTimeout { timeout },
            BodyError::Incomplete => InboxError::BodyIncomplete,
        })
}

/// Reads a webhook delivery's body as [`read_body`] does, checks its `X-Hub-Signature-256`
/// (`signature`, `None` when absent) and parses it, without storing anything: what the
/// adapters' `VerifiedDelivery` extractors return. A refused signature is logged with `remote`.
///
/// # Errors
/// The errors of [`read_body`], then those of [`Inbox::verify_delivery_from`].
pub async fn read_verified_delivery<S, E>(
    inbox: &Inbox,
    remote: Option<SocketAddr>,
    signature: Option<&str>,
    body: S,
) -> Result<Vec<Event>, InboxError>
where
    S: Stream<Item = Result<Bytes, E>>,
{
    let body = read_body(inbox, body).await?;
    inbox.verify_delivery_from(remote, signature, &body)
}
