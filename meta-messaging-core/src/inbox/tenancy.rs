//! Which tenant a delivery's events belong to.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use crate::ids::{AccountId, TenantId};
use crate::platform::Platform;
use crate::store::{MessageStore, NewAccount, StoreError, TenantEvent};
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
    /// account. Events for an account no tenant connected are kept as unrouted events, logged
    /// and counted in the status report; so are the entries of deliveries of objects this
    /// version does not handle (`whatsapp_business_account`, `user`, ...), which no account
    /// routes.
    Multi,
}

/// A delivery's events, split by where they go.
#[derive(Debug, Default)]
pub(crate) struct Routed {
    pub(crate) events: Vec<TenantEvent>,
    pub(crate) unrouted: Vec<Event>,
}

/// Routes events, remembering in single-tenant mode which accounts are already recorded so a
/// delivery costs no extra query once its account is known.
#[derive(Debug)]
pub(crate) struct Router {
    tenancy: Tenancy,
    recorded: Mutex<HashSet<(Platform, AccountId)>>,
}

impl Router {
    pub(crate) fn new(tenancy: Tenancy) -> Self {
        Self {
            tenancy,
            recorded: Mutex::new(HashSet::new()),
        }
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
            Tenancy::Multi => route_multi(store, events).await,
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
}

async fn route_multi(store: &dyn MessageStore, events: Vec<Event>) -> Result<Routed, StoreError> {
    let mut tenants_of: HashMap<(Platform, AccountId), Vec<TenantId>> = HashMap::new();
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
            routed.unrouted.push(event);
            continue;
        }
        let key = (event.platform, event.account_id.clone());
        if !tenants_of.contains_key(&key) {
            let tenants = store.tenants_for_account(key.0, &key.1).await?;
            tenants_of.insert(key.clone(), tenants);
        }
        let tenants = tenants_of.get(&key).map_or(&[][..], Vec::as_slice);
        match tenants {
            [] => {
                tracing::warn!(
                    platform = %event.platform,
                    account_id = %event.account_id,
                    kind = %event.kind(),
                    "event for an account no tenant has connected: kept as unrouted"
                );
                routed.unrouted.push(event);
            }
            [only] => routed.events.push(TenantEvent::new(only.clone(), event)),
            several => {
                for tenant in several {
                    routed
                        .events
                        .push(TenantEvent::new(tenant.clone(), event.clone()));
                }
            }
        }
    }
    Ok(routed)
}
