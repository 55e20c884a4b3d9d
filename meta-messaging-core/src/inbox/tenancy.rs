//! Which tenant a delivery's events belong to.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::ids::{AccountId, TenantId};
use crate::platform::Platform;
use tokio::sync::broadcast;

use crate::store::{
    ChangeNotice, MessageStore, NewAccount, StoreError, TenantEvent, UnroutedEvent, UnroutedReason,
};
use crate::webhook::Event;

/// How deliveries are routed to tenants.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Tenancy {
    /// One tenant owns everything: every delivery is stored under it, whatever account it is
    /// for, and an account seen for the first time is recorded in the store. For apps that serve
    /// one business. Entries of objects this version does not handle (`whatsapp_business_account`,
    /// `user`, ...) are kept in the tenant's raw events, and record no account.
    Single(TenantId),
    /// Accounts are registered to tenants (through the OAuth flow or
    /// [`MessageStore::upsert_account`]); a delivery goes to every tenant that connected its
    /// account and has not disconnected it. Events for an account no tenant connected, or
    /// that every tenant disconnected, are kept as unrouted events, logged and counted by
    /// reason in the status report; so are the entries of deliveries of objects this version
    /// does not handle (`whatsapp_business_account`, `user`, ...), which no account routes
    /// (see [`UnroutedReason`]).
    Multi,
}

/// A delivery's events, split by where they go.
#[derive(Debug, Default)]
pub(crate) struct Routed {
    pub(crate) events: Vec<TenantEvent>,
    pub(crate) unrouted: Vec<UnroutedEvent>,
}

/// Where an account's deliveries go, as last read from the store.
#[derive(Debug, Clone)]
enum AccountRoute {
    /// To these tenants (one or more).
    Tenants(Vec<TenantId>),
    /// To none, for this reason.
    Unrouted(UnroutedReason),
}

/// How long a cached account route is trusted without a change notice: the bound on how
/// stale a route can be when instances share a database without a live fan-out (with one, or
/// on one instance, every connect and disconnect clears the cache at once).
const ROUTE_TTL: Duration = Duration::from_secs(30);

/// Most account routes cached before the cache starts over.
const MAX_ROUTES: usize = 100_000;

/// Routes events. A delivery costs no store query once its account is known: in single-tenant
/// mode the accounts already recorded are remembered, in multi-tenant mode the route of each
/// account (its tenants, or why it has none), forgotten whenever the change log says an account
/// changed.
#[derive(Debug)]
pub(crate) struct Router {
    tenancy: Tenancy,
    recorded: Mutex<HashSet<(Platform, AccountId)>>,
    routes: Mutex<Routes>,
    /// This process's commits, read before each multi-tenant routing: an account changed by a
    /// write that finished before the delivery is routed afresh, with no race against the
    /// background relay. The relay drains it too, so notices (which can carry a commit's
    /// changes) are not kept waiting for the next delivery. None in single-tenant mode.
    notices: Option<Mutex<broadcast::Receiver<ChangeNotice>>>,
}

/// The route of each account, as last read from the store.
#[derive(Debug, Default)]
struct Routes {
    /// Bumped by every forget, so a lookup that raced one is not cached.
    epoch: u64,
    by_account: HashMap<(Platform, AccountId), (AccountRoute, Instant)>,
}

impl Router {
    pub(crate) fn new(tenancy: Tenancy, notices: broadcast::Receiver<ChangeNotice>) -> Self {
        Self {
            notices: matches!(tenancy, Tenancy::Multi).then(|| Mutex::new(notices)),
            tenancy,
            recorded: Mutex::new(HashSet::new()),
            routes: Mutex::new(Routes::default()),
        }
    }

    /// Forgets the cached routes if a commit of this process changed an account since the
    /// last look.
    pub(crate) fn read_notices(&self) {
        let Some(notices) = &self.notices else {
            return;
        };
        let mut notices = notices.lock().unwrap_or_else(|e| e.into_inner());
        let mut accounts_changed = false;
        loop {
            match notices.try_recv() {
                Ok(notice) => accounts_changed |= notice.accounts,
                Err(broadcast::error::TryRecvError::Lagged(_)) => accounts_changed = true,
                Err(_) => break,
            }
        }
        if accounts_changed {
            self.forget_routes();
        }
    }

    /// Forgets every cached route: an account was connected, changed or disconnected.
    pub(crate) fn forget_routes(&self) {
        let mut routes = self.lock_routes();
        routes.epoch += 1;
        routes.by_account.clear();
    }

    fn lock_routes(&self) -> std::sync::MutexGuard<'_, Routes> {
        // Every change to the map is one clear or insert: a panic cannot leave it inconsistent.
        self.routes.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The route of an account: cached, or read from the store and cached. An account with no
    /// tenant costs a second query, to tell one that every tenant disconnected.
    async fn route_of(
        &self,
        store: &dyn MessageStore,
        key: &(Platform, AccountId),
    ) -> Result<AccountRoute, StoreError> {
        let epoch = {
            let routes = self.lock_routes();
            if let Some((route, at)) = routes.by_account.get(key)
                && at.elapsed() < ROUTE_TTL
            {
                return Ok(route.clone());
            }
            routes.epoch
        };
        let tenants = store.tenants_for_account(key.0, &key.1).await?;
        let route = if !tenants.is_empty() {
            AccountRoute::Tenants(tenants)
        } else if store.account_registered(key.0, &key.1).await? {
            AccountRoute::Unrouted(UnroutedReason::Disconnected)
        } else {
            AccountRoute::Unrouted(UnroutedReason::NoTenant)
        };
        let mut routes = self.lock_routes();
        if routes.epoch == epoch {
            if routes.by_account.len() >= MAX_ROUTES {
                routes.by_account.clear();
            }
            routes
                .by_account
                .insert(key.clone(), (route.clone(), Instant::now()));
        }
        Ok(route)
    }

    pub(crate) fn tenancy(&self) -> &Tenancy {
        &self.tenancy
    }

    pub(crate) async fn route(
        &self,
        store: &dyn MessageStore,
        events: Vec<Event>,
    ) -> Result<Routed, StoreError> {
        match &self.tenancy {
            Tenancy::Single(tenant) => {
                self.record_new_accounts(store, tenant, &events).await?;
                Ok(Routed {
                    events: events
                        .into_iter()
                        .map(|event| TenantEvent::new(tenant.clone(), event))
                        .collect(),
                    unrouted: Vec::new(),
                })
            }
            Tenancy::Multi => {
                self.read_notices();
                self.route_multi(store, events).await
            }
        }
    }

    async fn record_new_accounts(
        &self,
        store: &dyn MessageStore,
        tenant: &TenantId,
        events: &[Event],
    ) -> Result<(), StoreError> {
        let unseen: HashSet<(Platform, AccountId)> = {
            let recorded = self.recorded.lock().unwrap_or_else(|e| e.into_inner());
            events
                .iter()
                // An entry without an id names no account to record, and the entry of an object
                // this version does not handle (a WhatsApp account, a user) names no Page or
                // Instagram account.
                .filter(|e| !e.account_id.as_str().is_empty() && e.unknown_object().is_none())
                .map(|e| (e.platform, e.account_id.clone()))
                .filter(|key| !recorded.contains(key))
                .collect()
        };
        for (platform, account_id) in unseen {
            if store
                .get_account(tenant, platform, &account_id)
                .await?
                .is_none()
            {
                tracing::info!(%platform, account_id = %account_id, "recording an account seen for the first time");
                store
                    .upsert_account(tenant, &NewAccount::new(platform, account_id.clone()))
                    .await?;
            }
            self.recorded
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert((platform, account_id));
        }
        Ok(())
    }

    async fn route_multi(
        &self,
        store: &dyn MessageStore,
        events: Vec<Event>,
    ) -> Result<Routed, StoreError> {
        let mut routes_of: HashMap<(Platform, AccountId), AccountRoute> = HashMap::new();
        let mut routed = Routed::default();
        for event in events {
            if let Some(object) = event.unknown_object() {
                // Tenants connect Pages and Instagram accounts only, so no account can route an
                // entry of another object: it is kept with the unrouted events.
                tracing::info!(
                    object,
                    entry_id = %event.account_id,
                    "delivery of a webhook object this version does not handle: kept as unrouted"
                );
                routed
                    .unrouted
                    .push(UnroutedEvent::new(event, UnroutedReason::UnhandledObject));
                continue;
            }
            let key = (event.platform, event.account_id.clone());
            let route = match routes_of.entry(key) {
                Entry::Occupied(known) => known.into_mut(),
                Entry::Vacant(new) => {
                    let route = self.route_of(store, new.key()).await?;
                    new.insert(route)
                }
            };
            match route {
                AccountRoute::Unrouted(reason) => {
                    tracing::warn!(
                        platform = %event.platform,
                        account_id = %event.account_id,
                        kind = %event.kind(),
                        %reason,
                        "event for an account no tenant has connected: kept as unrouted"
                    );
                    routed
                        .unrouted
                        .push(UnroutedEvent::new(event, reason.clone()));
                }
                AccountRoute::Tenants(tenants) => match tenants.as_slice() {
                    [only] => routed.events.push(TenantEvent::new(only.clone(), event)),
                    several => {
                        for tenant in several {
                            routed
                                .events
                                .push(TenantEvent::new(tenant.clone(), event.clone()));
                        }
                    }
                },
            }
        }
        Ok(routed)
    }
}
