//! The inbox's lifecycle for orchestrators and hosts: readiness (what `GET /health/ready`
//! answers), draining (live streams closed with a reconnect hint, readiness down) and the
//! graceful shutdown that ends with every accepted write committed.

use std::time::{Duration, Instant};

use super::Inbox;
use crate::error::ErrorChain;
use crate::store::StoreError;

/// How long [`Inbox::ready`] waits for the store: an orchestrator's probe times out after a
/// second or a few, and an unreachable database may not answer at all.
pub const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// The timeout of a graceful shutdown when the host does not choose one
/// (`META_SHUTDOWN_TIMEOUT_SECS`): under Kubernetes' default grace period of 30 s, which ends
/// with a SIGKILL.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(25);

/// Why an inbox is not ready to serve ([`Inbox::ready`]). Logged by `GET /health/ready`,
/// never sent: the probe's answer says only `unavailable`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NotReady {
    /// The inbox is shutting down ([`Inbox::drain`]): the load balancer should send new
    /// requests elsewhere.
    #[error("the inbox is shutting down")]
    Draining,
    /// The store did not answer within [`READY_TIMEOUT`].
    #[error("the store did not answer within {0:?}")]
    StoreTimeout(Duration),
    /// The store answered with an error (unreachable, schema behind).
    #[error("the store is not ready")]
    Store(#[source] StoreError),
    /// The PostgreSQL live-event fan-out lost its `LISTEN` connection and has not got it back:
    /// live events of other instances reach this one only through the log's polling.
    #[error("the live-event fan-out is not connected to PostgreSQL")]
    FanoutDisconnected,
}

/// What [`Inbox::shutdown`] managed within its timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShutdownReport {
    /// Every event handler stopped after the events it was running.
    pub handlers_stopped: bool,
    /// Every write the store had accepted was committed (the group commit's queue is empty).
    pub writes_flushed: bool,
}

impl ShutdownReport {
    /// Whether everything finished in time.
    pub fn is_clean(&self) -> bool {
        self.handlers_stopped && self.writes_flushed
    }
}

/// Resolves when the process is asked to stop: SIGTERM (what orchestrators and `kill` send;
/// Unix only) or Ctrl-C. Give it to the host's server as its shutdown signal, then call
/// [`Inbox::drain`] (see [`Inbox::serve_gracefully`] and `docs/operations.md`).
///
/// A signal whose handler cannot be installed is logged and left out; the other still works.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %ErrorChain(&err), "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
            }
            Err(err) => {
                tracing::warn!(error = %ErrorChain(&err), "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("Ctrl-C: shutting down"),
        () = terminate => tracing::info!("SIGTERM: shutting down"),
    }
}

impl Inbox {
    /// Whether the inbox can serve: not draining, the store answers within [`READY_TIMEOUT`]
    /// with every migration applied, and, with the PostgreSQL fan-out, its `LISTEN`
    /// connection is up. `GET /health/ready` answers 200 or 503 from it.
    ///
    /// # Errors
    /// [`NotReady`], saying what is missing.
    pub async fn ready(&self) -> Result<(), NotReady> {
        if self.is_draining() {
            return Err(NotReady::Draining);
        }
        match tokio::time::timeout(READY_TIMEOUT, self.inner.store.ready()).await {
            Err(_elapsed) => return Err(NotReady::StoreTimeout(READY_TIMEOUT)),
            Ok(Err(err)) => return Err(NotReady::Store(err)),
            Ok(Ok(())) => {}
        }
        let fanout_down = |up: &std::sync::Arc<std::sync::atomic::AtomicBool>| {
            !up.load(std::sync::atomic::Ordering::Relaxed)
        };
        if self
            .inner
            .fanout_connected
            .as_ref()
            .is_some_and(fanout_down)
        {
            return Err(NotReady::FanoutDisconnected);
        }
        Ok(())
    }

    /// Starts draining, at once and for good: every open live event stream (`GET /events`)
    /// ends with a `retry:` hint (a second or so, spread so that clients do not all come
    /// back together), a new one is refused with 503, and [`ready`](Self::ready) fails so
    /// the load balancer stops sending requests here. Webhooks, sends and queries are still
    /// served: call it when the host stops accepting connections, and let the requests in
    /// flight finish.
    ///
    /// [`shutdown`](Self::shutdown) drains too; call this one first when the host's server
    /// waits for its open connections (axum's `with_graceful_shutdown`, actix-web's graceful
    /// stop), which a live stream would otherwise hold until the timeout.
    pub fn drain(&self) {
        let was = self.inner.draining.send_replace(true);
        if !was {
            tracing::info!("inbox draining: live streams told to reconnect, readiness down");
        }
    }

    /// Whether [`drain`](Self::drain) (or [`shutdown`](Self::shutdown)) was called.
    pub fn is_draining(&self) -> bool {
        *self.inner.draining.borrow()
    }

    /// A receiver that sees `true` once the inbox drains, for the live streams.
    pub(crate) fn draining(&self) -> tokio::sync::watch::Receiver<bool> {
        self.inner.draining.subscribe()
    }

    /// Resolves once the inbox drains ([`drain`](Self::drain), or
    /// [`serve_gracefully`](Self::serve_gracefully) on a signal): the shutdown signal to give
    /// the host's server (axum's `with_graceful_shutdown`; with actix-web, stop the server's
    /// handle when it resolves), so the server stops accepting at the moment the inbox drains.
    pub fn drained(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut draining = self.draining();
        async move {
            // An error means the inbox is gone: nothing is left to serve either.
            let _ = draining.wait_for(|draining| *draining).await;
        }
    }

    /// Runs the host's `server` until `signal` (e.g. [`shutdown_signal`]), then stops
    /// gracefully within `timeout` of it: [drains](Self::drain) (so the server, stopping on
    /// [`drained`](Self::drained), stops accepting and the live streams end), waits for the
    /// server to finish its requests in flight (webhook writes, sends), then
    /// [shuts the inbox down](Self::shutdown) (event handlers, queued writes) with the time
    /// left. A server still busy when the time is up is dropped, closing its connections.
    ///
    /// ```no_run
    /// # async fn demo(inbox: meta_messaging_core::inbox::Inbox) -> std::io::Result<()> {
    /// use std::time::Duration;
    /// use meta_messaging_core::inbox::shutdown_signal;
    ///
    /// // The host's server, stopping gracefully once the inbox drains: with axum,
    /// // `axum::serve(listener, app).with_graceful_shutdown(inbox.drained())`.
    /// # let drained = inbox.drained();
    /// # let server = async move { drained.await; Ok::<(), std::io::Error>(()) };
    /// let report = inbox
    ///     .serve_gracefully(server, shutdown_signal(), Duration::from_secs(25))
    ///     .await?;
    /// assert!(report.is_clean());
    /// # Ok(()) }
    /// ```
    ///
    /// When the server stops by itself (an error, or a signal handling of its own), the inbox
    /// is shut down all the same, within `timeout` of that moment.
    ///
    /// # Errors
    /// The server's own error (after the inbox was shut down).
    pub async fn serve_gracefully<S, E>(
        &self,
        server: S,
        signal: impl Future<Output = ()>,
        timeout: Duration,
    ) -> Result<ShutdownReport, E>
    where
        S: IntoFuture<Output = Result<(), E>>,
    {
        let server = server.into_future();
        tokio::pin!(server);
        let (served, deadline) = tokio::select! {
            served = &mut server => (served, Instant::now() + timeout),
            () = signal => {
                let deadline = Instant::now() + timeout;
                self.drain();
                match tokio::time::timeout(timeout, &mut server).await {
                    Ok(served) => (served, deadline),
                    Err(_elapsed) => {
                        tracing::warn!(
                            ?timeout,
                            "requests still in flight when the shutdown timeout ran out: their connections are closed"
                        );
                        (Ok(()), deadline)
                    }
                }
            }
        };
        let report = self
            .shutdown(deadline.saturating_duration_since(Instant::now()))
            .await;
        served.map(|()| report)
    }

    /// Shuts the inbox down gracefully, within `timeout`: [drains](Self::drain), stops the
    /// event handlers after the events they are running (see the handler contract: what
    /// does not finish runs again later), adds the delivery tallies not flushed yet to the
    /// store's delivery log, then waits until every write the store accepted is committed
    /// ([`MessageStore::flush`](crate::store::MessageStore::flush)). Call it
    /// after the host's server stopped accepting and finished its requests in flight (so
    /// every delivery answered 200 was already durable, and nothing new arrives), just
    /// before the process exits. Handlers do not start again on this inbox.
    ///
    /// Never fails: what did not finish in time is reported (and logged).
    pub async fn shutdown(&self, timeout: Duration) -> ShutdownReport {
        self.drain();
        let deadline = Instant::now() + timeout;
        let handlers_stopped = self.stop_handlers(timeout).await;
        self.flush_deliveries(deadline).await;
        let left = deadline.saturating_duration_since(Instant::now());
        let writes_flushed = match tokio::time::timeout(left, self.inner.store.flush()).await {
            Ok(Ok(())) => true,
            Ok(Err(err)) => {
                tracing::warn!(error = %ErrorChain(&err), "shutdown: the store could not flush its writes");
                false
            }
            Err(_elapsed) => false,
        };
        let report = ShutdownReport {
            handlers_stopped,
            writes_flushed,
        };
        if report.is_clean() {
            tracing::info!("inbox shut down: handlers stopped, writes committed");
        } else {
            tracing::warn!(
                ?timeout,
                handlers_stopped,
                writes_flushed,
                "inbox shutdown timed out: unfinished handler events run again later; an unflushed write was never acknowledged, so Meta redelivers it"
            );
        }
        report
    }
}
