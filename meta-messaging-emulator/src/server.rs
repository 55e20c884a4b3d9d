//! Starting, driving and stopping the emulator.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};

use meta_messaging_core::ids::MessageId;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::activity::{self, Inbound, InboundReaction};
use crate::comments::{self, CommentPosted, InboundComment};
use crate::control::{self, ControlError};
use crate::error::EmulatorError;
use crate::state::{DeliveryRecord, SentMessage, State};
use crate::webhook::Outbox;
use crate::world::{User, World};

/// What every handler shares: the live state and the webhook queue.
#[derive(Clone)]
pub(crate) struct Shared {
    state: Arc<Mutex<State>>,
    pub(crate) outbox: Outbox,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A handler that panicked mid-update leaves state that is still worth serving: the
        // emulator is a test tool, and refusing every later request would hide the real failure.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The emulator: a local HTTP server that answers like Meta's Graph API and delivers webhooks
/// like Meta does.
#[derive(Debug)]
#[non_exhaustive]
pub struct Emulator;

impl Emulator {
    /// Starts the emulator for `world` on `127.0.0.1` on a free port.
    ///
    /// # Errors
    /// [`EmulatorError`] when the socket cannot be bound or the webhook client cannot be built.
    pub async fn start(world: World) -> Result<RunningEmulator, EmulatorError> {
        Self::start_on(world, SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await
    }

    /// Starts the emulator for `world` on `addr` (port 0 picks a free port).
    ///
    /// # Errors
    /// [`EmulatorError`] when the socket cannot be bound or the webhook client cannot be built.
    pub async fn start_on(
        world: World,
        addr: SocketAddr,
    ) -> Result<RunningEmulator, EmulatorError> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| EmulatorError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| EmulatorError::Bind { addr, source })?;
        let http = meta_messaging_core::graph::http_client_builder()
            .map_err(EmulatorError::HttpTls)?
            .timeout(std::time::Duration::from_secs(20))
            .build()
            .map_err(EmulatorError::HttpClient)?;
        let state = Arc::new(Mutex::new(State::new(world, format!("http://{addr}"))));
        let shared = Shared {
            outbox: Outbox::start(Arc::clone(&state), http),
            state,
        };
        let app = crate::graph::routes()
            .merge(control::routes())
            .with_state(shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let shutdown = async {
                // A dropped sender stops the server just like an explicit shutdown.
                let _ = stopped.await;
            };
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
        });
        Ok(RunningEmulator {
            addr,
            shared,
            stop: Some(stop),
            server,
        })
    }
}

/// A running emulator. Dropping it stops the server.
pub struct RunningEmulator {
    addr: SocketAddr,
    shared: Shared,
    stop: Option<oneshot::Sender<()>>,
    server: JoinHandle<std::io::Result<()>>,
}

impl std::fmt::Debug for RunningEmulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningEmulator")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl RunningEmulator {
    /// The base URL, e.g. `http://127.0.0.1:41234`: give it to
    /// `GraphClient::builder().graph_url(..)`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address the emulator listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Makes user `user_id` write `inbound` to their Page or Instagram account: the message is
    /// recorded (opening the messaging window) and its webhook is queued for the callback URL.
    ///
    /// # Errors
    /// [`ControlError`] when the user is unknown or the message is empty.
    pub async fn user_writes(
        &self,
        user_id: &str,
        inbound: Inbound,
    ) -> Result<MessageId, ControlError> {
        activity::write(&self.shared, user_id, inbound).await
    }

    /// Another app of the Page (`app_id`) takes user `user_id`'s thread: the emulated app gets
    /// the `take_thread_control` webhook, and the user's messages reach it in `standby` until
    /// the thread comes back (its own `take_thread_control` call, or
    /// [`another_app_passes_back`](Self::another_app_passes_back)).
    ///
    /// # Errors
    /// [`ControlError`] when the user is unknown.
    pub async fn another_app_takes(&self, user_id: &str, app_id: &str) -> Result<(), ControlError> {
        activity::other_app(
            &self.shared,
            user_id,
            activity::OtherAppAction::Take,
            app_id,
            None,
        )
        .await
    }

    /// Another app of the Page (`app_id`) passes user `user_id`'s thread back to the emulated
    /// app, which gets the `pass_thread_control` webhook.
    ///
    /// # Errors
    /// [`ControlError`] when the user is unknown.
    pub async fn another_app_passes_back(
        &self,
        user_id: &str,
        app_id: &str,
    ) -> Result<(), ControlError> {
        activity::other_app(
            &self.shared,
            user_id,
            activity::OtherAppAction::Pass,
            app_id,
            None,
        )
        .await
    }

    /// Makes user `user_id` react to (or unreact from) a message of their conversation; the
    /// `reaction` webhook is queued.
    ///
    /// # Errors
    /// [`ControlError`] when the user is unknown or the message is not in their conversation.
    pub async fn user_reacts(
        &self,
        user_id: &str,
        reaction: InboundReaction,
    ) -> Result<(), ControlError> {
        activity::react(&self.shared, user_id, reaction).await
    }

    /// Makes user `user_id` read the conversation; the `read` webhook is queued (Messenger: a
    /// watermark; Instagram: the mid of the last message sent to them).
    ///
    /// # Errors
    /// [`ControlError`] when the user is unknown, or on Instagram when nothing was sent to them.
    pub async fn user_reads(&self, user_id: &str) -> Result<(), ControlError> {
        activity::read(&self.shared, user_id).await
    }

    /// Makes user `user_id` edit their message `mid` to `text`; the `message_edit` webhook is
    /// queued with the edit count.
    ///
    /// # Errors
    /// [`ControlError`] when the user is unknown or did not write `mid`.
    pub async fn user_edits(
        &self,
        user_id: &str,
        mid: &str,
        text: &str,
    ) -> Result<(), ControlError> {
        activity::edit(&self.shared, user_id, mid, text).await
    }

    /// Makes Instagram user `user_id` unsend their message `mid`; the `is_deleted` webhook is
    /// queued.
    ///
    /// # Errors
    /// [`ControlError`] when the user is unknown or on Messenger, or did not write `mid`.
    pub async fn user_unsends(&self, user_id: &str, mid: &str) -> Result<(), ControlError> {
        activity::unsend(&self.shared, user_id, mid).await
    }

    /// Makes user `user_id` comment under a post of their Page (Facebook) or Instagram account:
    /// the comment is stored and the `feed` (Facebook) or `comments` (Instagram) change is
    /// queued for the callback URL. The app can then answer it publicly, hide or delete it, or
    /// reply privately (once, within 7 days) through the Graph API.
    ///
    /// # Errors
    /// [`ControlError`] when the user is unknown, or the post, the comment answered or the
    /// account named is not theirs.
    pub async fn user_comments(
        &self,
        user_id: &str,
        comment: InboundComment,
    ) -> Result<CommentPosted, ControlError> {
        comments::write(&self.shared, user_id, comment).await
    }

    /// Adds (or replaces) a user of the world.
    ///
    /// # Errors
    /// [`ControlError::UnknownPage`] when the user's Page is not in the world.
    pub fn add_user(&self, user: User) -> Result<(), ControlError> {
        self.shared.lock().add_user(user)
    }

    /// Hosts `bytes` as a CDN file of media type `mime` and returns its URL, for a user's
    /// inbound attachment ([`Inbound::attachment`](crate::Inbound::attachment)). The URL
    /// answers 403 after the world's
    /// [`attachment_url_ttl_ms`](crate::World::attachment_url_ttl_ms), as Meta's CDN does.
    pub fn host_media(&self, mime: &str, bytes: impl Into<bytes::Bytes>) -> String {
        self.shared
            .lock()
            .host_media(mime.to_owned(), bytes.into())
            .1
    }

    /// Points webhook deliveries at `url` from now on (`None` keeps them in the log only).
    ///
    /// # Errors
    /// [`ControlError::InvalidCallback`] when `url` is not an absolute http(s) URL.
    pub fn set_callback_url(&self, url: Option<String>) -> Result<(), ControlError> {
        self.shared.lock().set_callback(url)
    }

    /// What the Login dialog at `authorize_url` does when the person accepts, without a
    /// browser: the URL of your callback with a fresh `code` and the `state`. Finish the flow
    /// by handing its query to your callback (e.g. `Inbox::finish_connect`).
    ///
    /// # Errors
    /// [`ControlError::LoginRefused`] for a wrong `client_id` or `redirect_uri`.
    pub fn consent(&self, authorize_url: &str) -> Result<String, ControlError> {
        let query = authorize_url.split_once('?').map_or("", |(_, q)| q);
        let params = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        crate::graph::consent(&self.shared, &params)
            .map_err(|failure| ControlError::LoginRefused(failure.message().to_owned()))
    }

    /// Expires `token`: from now on the Graph API answers 190 / 463 to it.
    ///
    /// # Errors
    /// [`ControlError::UnknownToken`] when the emulator never issued it.
    pub fn expire_token(&self, token: &str) -> Result<(), ControlError> {
        self.shared.lock().expire(token)
    }

    /// Replaces the permissions granted to the token of Page `page_id`.
    ///
    /// # Errors
    /// [`ControlError::UnknownPage`] when the Page is not in the world.
    pub fn set_permissions<I, S>(&self, page_id: &str, permissions: I) -> Result<(), ControlError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let permissions = permissions.into_iter().map(Into::into).collect();
        self.shared.lock().set_permissions(page_id, permissions)
    }

    /// Every message sent through the Send API so far, oldest first.
    pub fn sent_messages(&self) -> Vec<SentMessage> {
        self.shared.lock().sent.clone()
    }

    /// Every webhook delivery made so far, oldest first, with the callback's answer.
    pub fn deliveries(&self) -> Vec<DeliveryRecord> {
        self.shared.lock().deliveries.clone()
    }

    /// Runs until the server stops (for the command line: until the process is interrupted).
    ///
    /// # Errors
    /// The server's I/O error.
    pub async fn wait(mut self) -> std::io::Result<()> {
        let server = &mut self.server;
        match server.await {
            Ok(result) => result,
            Err(join) => Err(std::io::Error::other(join)),
        }
    }

    /// Stops the server and waits for in-flight requests to finish.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.server).await;
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
