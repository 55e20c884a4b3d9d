//! History backfill: a newly connected account's earlier conversations, read from the
//! Conversations API newest first back to a horizon, stored like the webhook deliveries they
//! would have been, with the progress saved after every page so a restart resumes.

use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use super::Inbox;
use super::backfill_import::{graph_time_ms, history_event};
use super::backfill_options::BackfillOptions;
use super::error::InboxError;
use crate::graph::{AccountClient, GraphConversation};
use crate::ids::{AccountId, TenantId, UserId};
use crate::platform::Platform;
use crate::store::{
    Account, BackfillProgress, BackfillState, ParticipantProfile, TenantEvent, now_ms,
};
use crate::webhook::EventKind;

type RunKey = (TenantId, Platform, AccountId);

/// How far before a run's start the catch-up pass looks, for the clocks' difference.
const CLOCK_MARGIN_MS: i64 = 60_000;

/// The Conversations API's times are whole seconds.
const GRAPH_TIME_PRECISION_MS: i64 = 1_000;

/// The backfill settings and the runs of this process, so one account has at most one run here.
#[derive(Debug, Default)]
pub(super) struct BackfillRuns {
    pub(super) options: BackfillOptions,
    running: Mutex<HashSet<RunKey>>,
    /// Set once the interrupted runs were resumed (or were not to be).
    resumed: AtomicBool,
}

impl BackfillRuns {
    pub(super) fn new(options: BackfillOptions) -> Self {
        Self {
            resumed: AtomicBool::new(!options.resume_on_start),
            options,
            running: Mutex::default(),
        }
    }

    /// `true` the first time only: whether the interrupted runs are to be resumed now.
    pub(super) fn take_resume(&self) -> bool {
        !self.resumed.swap(true, Ordering::AcqRel)
    }

    /// `true` when `key` was not running and now is.
    fn claim(&self, key: &RunKey) -> bool {
        self.lock().insert(key.clone())
    }

    fn release(&self, key: &RunKey) {
        self.lock().remove(key);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<RunKey>> {
        // A set of keys: a panic cannot leave it half-changed.
        self.running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Where one run stopped.
enum Stop {
    /// Reached the horizon or the last page.
    Done,
    /// Read [`BackfillOptions::max_pages`].
    Paused,
}

impl Inbox {
    /// Starts the history backfill of an account in the background and returns its progress as
    /// it starts: resumed from the saved cursor when a run was interrupted, paused or failed,
    /// from the newest conversation otherwise. When a run for the account is already going in
    /// this process, nothing new starts and its saved progress is returned.
    ///
    /// # Errors
    /// [`InboxError::AccountNotFound`] when the tenant has not connected the account;
    /// [`InboxError::Store`].
    pub async fn start_backfill(
        &self,
        tenant: &TenantId,
        platform: Platform,
        account_id: &AccountId,
    ) -> Result<BackfillProgress, InboxError> {
        let account = self.connected_account(tenant, platform, account_id).await?;
        let key = (tenant.clone(), platform, account_id.clone());
        let runs = &self.inner.backfills;
        if !runs.claim(&key) {
            return self.saved_progress(tenant, &account).await;
        }
        let progress = match self.begin_progress(tenant, &account).await {
            Ok(progress) => progress,
            Err(err) => {
                runs.release(&key);
                return Err(err);
            }
        };
        let inbox = self.clone();
        let started = progress.clone();
        let tenant = tenant.clone();
        tokio::spawn(async move {
            let finished = inbox.run_backfill(&tenant, &account, progress).await;
            inbox.inner.backfills.release(&key);
            if let Err(err) = finished {
                tracing::warn!(error = %crate::error::ErrorChain(&err), %tenant, platform = %account.platform, account_id = %account.account_id, "history backfill stopped");
            }
        });
        Ok(started)
    }

    /// Runs the history backfill of an account to its end here (what
    /// [`start_backfill`](Self::start_backfill) runs in the background; the CLI calls it
    /// directly), and returns the final progress. A Graph error ends the run with the state
    /// [`BackfillState::Failed`] and the error saved, so the next run resumes. When a run for
    /// the account is already going in this process, nothing new runs and its saved progress
    /// is returned.
    ///
    /// # Errors
    /// [`InboxError::AccountNotFound`]; [`InboxError::Store`] when the progress or a message
    /// cannot be stored.
    pub async fn backfill(
        &self,
        tenant: &TenantId,
        platform: Platform,
        account_id: &AccountId,
    ) -> Result<BackfillProgress, InboxError> {
        let account = self.connected_account(tenant, platform, account_id).await?;
        let key = (tenant.clone(), platform, account_id.clone());
        let runs = &self.inner.backfills;
        if !runs.claim(&key) {
            return self.saved_progress(tenant, &account).await;
        }
        let finished = match self.begin_progress(tenant, &account).await {
            Ok(progress) => self.run_backfill(tenant, &account, progress).await,
            Err(err) => Err(err),
        };
        runs.release(&key);
        finished
    }

    /// Resumes, in the background, every backfill that a stop of the process interrupted (saved
    /// as running, in any tenant), from its saved cursor, and returns how many it started. The
    /// inbox calls it once by itself when its background tasks start (unless
    /// [`BackfillOptions::resume_on_start`] is off); calling it again starts only runs that are
    /// not going in this process. A run whose account is no longer connected is saved as
    /// failed, with the reason.
    ///
    /// # Errors
    /// [`InboxError::Store`] when the saved backfills cannot be read.
    pub async fn resume_backfills(&self) -> Result<usize, InboxError> {
        let mut started = 0;
        for (tenant, mut progress) in self.store().interrupted_backfills().await? {
            let (platform, account_id) = (progress.platform, progress.account_id.clone());
            match self.start_backfill(&tenant, platform, &account_id).await {
                Ok(_) => started += 1,
                Err(InboxError::AccountNotFound { .. }) => {
                    progress.state = BackfillState::Failed;
                    progress.error = Some("the account is no longer connected".to_owned());
                    progress.updated_at_ms = now_ms();
                    self.store().save_backfill(&tenant, &progress).await?;
                }
                Err(err) => {
                    tracing::warn!(error = %crate::error::ErrorChain(&err), %tenant, %platform, %account_id, "history backfill not resumed");
                }
            }
        }
        if started > 0 {
            tracing::info!(backfills = started, "interrupted history backfills resumed");
        }
        Ok(started)
    }

    /// Resumes the interrupted backfills in the background, once per inbox.
    pub(super) fn resume_backfills_once(&self) {
        if !self.inner.backfills.take_resume() {
            return;
        }
        let inbox = self.clone();
        tokio::spawn(async move {
            if let Err(err) = inbox.resume_backfills().await {
                tracing::warn!(error = %crate::error::ErrorChain(&err), "interrupted history backfills not resumed");
            }
        });
    }

    /// The backfill of each account just connected, started when the options say so.
    pub(super) async fn backfill_connected(&self, tenant: &TenantId, accounts: &[Account]) {
        if !self.inner.backfills.options.on_connect {
            return;
        }
        for account in accounts {
            if let Err(err) = self
                .start_backfill(tenant, account.platform, &account.account_id)
                .await
            {
                tracing::warn!(error = %crate::error::ErrorChain(&err), platform = %account.platform, account_id = %account.account_id, "history backfill not started");
            }
        }
    }

    /// The saved progress of the account's backfill (a fresh one when none was saved).
    async fn saved_progress(
        &self,
        tenant: &TenantId,
        account: &Account,
    ) -> Result<BackfillProgress, InboxError> {
        let saved = self
            .store()
            .backfill_progress(tenant, account.platform, &account.account_id)
            .await?;
        Ok(saved.unwrap_or_else(|| self.fresh_progress(account)))
    }

    fn fresh_progress(&self, account: &Account) -> BackfillProgress {
        let now = now_ms();
        let horizon =
            i64::try_from(self.inner.backfills.options.horizon.as_millis()).unwrap_or(i64::MAX);
        BackfillProgress::start(
            account.platform,
            account.account_id.clone(),
            now.saturating_sub(horizon),
            now,
        )
    }

    /// The progress a run starts from, saved as running: the saved one when it can be resumed.
    async fn begin_progress(
        &self,
        tenant: &TenantId,
        account: &Account,
    ) -> Result<BackfillProgress, InboxError> {
        let saved = self
            .store()
            .backfill_progress(tenant, account.platform, &account.account_id)
            .await?;
        let mut progress = match saved {
            Some(saved) if saved.is_resumable() => saved,
            _ => self.fresh_progress(account),
        };
        progress.state = BackfillState::Running;
        progress.error = None;
        progress.updated_at_ms = now_ms();
        self.store().save_backfill(tenant, &progress).await?;
        Ok(progress)
    }

    async fn run_backfill(
        &self,
        tenant: &TenantId,
        account: &Account,
        mut progress: BackfillProgress,
    ) -> Result<BackfillProgress, InboxError> {
        let outcome = match self.account_client(account).await {
            Ok(client) => {
                self.read_pages(tenant, account, &client, &mut progress)
                    .await
            }
            Err(err) => Err(err),
        };
        match outcome {
            Ok(Stop::Done) => {
                progress.state = BackfillState::Done;
                progress.cursor = None;
            }
            Ok(Stop::Paused) => progress.state = BackfillState::Paused,
            Err(InboxError::Store(err)) => return Err(InboxError::Store(err)),
            Err(err) => {
                progress.state = BackfillState::Failed;
                progress.error = Some(crate::error::ErrorChain(&err).to_string());
            }
        }
        progress.updated_at_ms = now_ms();
        self.store().save_backfill(tenant, &progress).await?;
        tracing::info!(%tenant, platform = %account.platform, account_id = %account.account_id, state = %progress.state, conversations = progress.conversations, messages = progress.messages, "history backfill ended");
        Ok(progress)
    }

    /// Reads pages of conversations from the progress's cursor, saving after each.
    async fn read_pages(
        &self,
        tenant: &TenantId,
        account: &Account,
        client: &AccountClient,
        progress: &mut BackfillProgress,
    ) -> Result<Stop, InboxError> {
        let options = &self.inner.backfills.options;
        let mut pages = 0_u32;
        loop {
            let mut request = client.conversations();
            if let Some(size) = options.page_size {
                request = request.limit(size);
            }
            if let Some(cursor) = &progress.cursor {
                request = request.after(cursor.clone());
            }
            let page = request.page().await?;
            let mut reached_horizon = false;
            for conversation in &page.data {
                let updated = conversation.updated_time.as_deref().and_then(graph_time_ms);
                if updated.is_some_and(|at| at < progress.horizon_ms) {
                    reached_horizon = true;
                    break;
                }
                self.import_conversation(tenant, account, client, conversation, progress)
                    .await?;
                progress.conversations += 1;
            }
            pages += 1;
            progress.cursor = page.next_cursor().map(str::to_owned);
            if reached_horizon || progress.cursor.is_none() {
                self.catch_up(tenant, account, client, progress).await?;
                return Ok(Stop::Done);
            }
            progress.updated_at_ms = now_ms();
            self.store().save_backfill(tenant, progress).await?;
            if options.max_pages.is_some_and(|max| pages >= max) {
                return Ok(Stop::Paused);
            }
            tokio::time::sleep(options.page_delay).await;
        }
    }

    /// Reads again, from the top, the conversations active since the run began: one that got a
    /// message while the run paged moved to the front of the list, past the cursor, and its
    /// earlier messages would otherwise be missed. Importing is idempotent, so the ones already
    /// read cost only their Graph calls.
    async fn catch_up(
        &self,
        tenant: &TenantId,
        account: &Account,
        client: &AccountClient,
        progress: &mut BackfillProgress,
    ) -> Result<(), InboxError> {
        // Clocks of Meta and this host differ by seconds at most.
        let since = progress.started_at_ms.saturating_sub(CLOCK_MARGIN_MS);
        let mut cursor: Option<String> = None;
        loop {
            let mut request = client.conversations();
            if let Some(size) = self.inner.backfills.options.page_size {
                request = request.limit(size);
            }
            if let Some(after) = &cursor {
                request = request.after(after.clone());
            }
            let page = request.page().await?;
            for conversation in &page.data {
                let updated = conversation.updated_time.as_deref().and_then(graph_time_ms);
                if updated.is_none_or(|at| at < since) {
                    return Ok(());
                }
                self.import_conversation(tenant, account, client, conversation, progress)
                    .await?;
            }
            cursor = page.next_cursor().map(str::to_owned);
            if cursor.is_none() {
                return Ok(());
            }
            tokio::time::sleep(self.inner.backfills.options.page_delay).await;
        }
    }

    /// Stores a conversation's messages newest first down to the horizon, then its
    /// participant's profile.
    async fn import_conversation(
        &self,
        tenant: &TenantId,
        account: &Account,
        client: &AccountClient,
        conversation: &GraphConversation,
        progress: &mut BackfillProgress,
    ) -> Result<(), InboxError> {
        let options = &self.inner.backfills.options;
        let Some(user) = conversation
            .participants
            .data
            .iter()
            .find(|p| p.id.as_str() != account.account_id.as_str())
        else {
            return Ok(());
        };
        let user_id = UserId::new(user.id.as_str());
        // Meta counts the conversation's unread messages: the newest that many of the user's
        // stay unread here; older history arrives read, so an import does not bury the
        // conversations waiting for an answer under a month of read ones.
        let mut unread_left = conversation.unread_count.unwrap_or(0);
        let mut cursor: Option<String> = None;
        let mut newest = None;
        loop {
            let mut request = client.conversation_messages(&conversation.id);
            if let Some(size) = options.page_size {
                request = request.limit(size);
            }
            if let Some(after) = &cursor {
                request = request.after(after.clone());
            }
            let page = request.page().await?;
            let mut events = Vec::new();
            let mut reached_horizon = false;
            for message in &page.data {
                let Some(at) = message.created_time.as_deref().and_then(graph_time_ms) else {
                    tracing::debug!(message_id = %message.id, "history message without a readable time: skipped");
                    continue;
                };
                if at < progress.horizon_ms {
                    reached_horizon = true;
                    break;
                }
                // Written since the run began: the account was subscribed first, so its webhook
                // brings it whole (the Conversations API drops what a story mention, a share or
                // a quick reply was, and its times are whole seconds). Importing it too could
                // store the poorer copy first. A time in the run's first second may be either.
                if at.saturating_add(GRAPH_TIME_PRECISION_MS) > progress.started_at_ms {
                    continue;
                }
                let event =
                    history_event(account.platform, &account.account_id, &user_id, message, at)?;
                for event in event {
                    let routed = TenantEvent::new(tenant.clone(), event);
                    let from_user = routed.event.kind() == EventKind::Message;
                    events.push(if from_user && unread_left > 0 {
                        unread_left -= 1;
                        routed
                    } else {
                        routed.read()
                    });
                }
                progress.oldest_reached_ms =
                    Some(progress.oldest_reached_ms.map_or(at, |o| o.min(at)));
                newest.get_or_insert_with(|| message.id.clone());
            }
            if !events.is_empty() {
                let report = self.store().apply(&events).await?;
                progress.messages += report.inserted;
                self.queue_history_media(&events).await;
            }
            cursor = page.next_cursor().map(str::to_owned);
            if reached_horizon || cursor.is_none() {
                break;
            }
            tokio::time::sleep(options.page_delay).await;
        }
        if let Some(mid) = newest {
            self.backfill_profile(tenant, account, &user_id, &mid, user)
                .await?;
        }
        Ok(())
    }

    /// Fills the conversation's participant profile when it has none: from the Graph profile
    /// when the inbox looks profiles up, else (or when Meta refuses) from the name or username
    /// the Conversations API lists.
    async fn backfill_profile(
        &self,
        tenant: &TenantId,
        account: &Account,
        user: &UserId,
        mid: &crate::ids::MessageId,
        listed: &crate::graph::Participant,
    ) -> Result<(), InboxError> {
        let store = self.store();
        let Some(conversation) = store
            .find_conversation(tenant, account.platform, &account.account_id, user)
            .await?
        else {
            return Ok(());
        };
        if conversation.participant != ParticipantProfile::default() {
            return Ok(());
        }
        if self.inner.profiles.is_some() {
            match self.fill_profile(tenant, account.platform, user, mid).await {
                Ok(()) => return Ok(()),
                Err(err) => {
                    tracing::debug!(error = %crate::error::ErrorChain(&err), "participant profile not looked up; keeping the listed name")
                }
            }
        }
        if listed.name.is_none() && listed.username.is_none() {
            return Ok(());
        }
        let profile = ParticipantProfile {
            name: listed.name.clone(),
            username: listed.username.clone(),
            profile_pic_url: None,
        };
        store
            .set_participant_profile(tenant, conversation.id, &profile)
            .await?;
        Ok(())
    }
}
