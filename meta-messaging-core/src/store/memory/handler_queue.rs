//! The in-memory store's handler queue and cursors: under a lock of their own, apart from the
//! message tables, like the SQL tables they mirror.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use crate::ids::TenantId;
use crate::store::api::TenantEvent;
use crate::store::error::StoreError;
use crate::store::handler_queue::{
    HandlerLease, LeaseRequest, QueuedEvent, handler_page_size, queue_rows, queued_event,
};
use crate::store::plan::RawRow;

#[derive(Debug, Default)]
struct Queue {
    head: u64,
    hashes: HashSet<String>,
    events: Vec<(u64, RawRow)>,
}

#[derive(Debug, Clone)]
struct Cursor {
    seq: u64,
    attempts: u32,
    owner: Option<String>,
    until_ms: i64,
}

#[derive(Debug, Default)]
struct Tables {
    queues: HashMap<TenantId, Queue>,
    cursors: HashMap<(String, TenantId), Cursor>,
}

/// The queue of every tenant and the cursors of every handler.
#[derive(Debug, Default)]
pub(super) struct HandlerQueue(Mutex<Tables>);

impl HandlerQueue {
    fn lock(&self) -> MutexGuard<'_, Tables> {
        // Every change below completes under the lock without a call that can panic midway.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(super) fn queue(&self, events: &[TenantEvent]) -> u64 {
        let mut tables = self.lock();
        let mut queued = 0;
        for (tenant, rows) in queue_rows(events) {
            let queue = tables.queues.entry(tenant).or_default();
            for row in rows {
                if queue.hashes.insert(row.event_hash.clone()) {
                    queue.head += 1;
                    queue.events.push((queue.head, row));
                    queued += 1;
                }
            }
        }
        queued
    }

    pub(super) fn register(&self, handler: &str) {
        let mut tables = self.lock();
        let heads: Vec<(TenantId, u64)> = tables
            .queues
            .iter()
            .map(|(t, q)| (t.clone(), q.head))
            .collect();
        for (tenant, head) in heads {
            tables
                .cursors
                .entry((handler.to_owned(), tenant))
                .or_insert(Cursor {
                    seq: head,
                    attempts: 0,
                    owner: None,
                    until_ms: 0,
                });
        }
    }

    pub(super) fn lease(&self, request: &LeaseRequest) -> Option<HandlerLease> {
        let mut tables = self.lock();
        let Tables { queues, cursors } = &mut *tables;
        let mut pick: Option<(i64, TenantId)> = None;
        for (tenant, queue) in queues.iter() {
            let key = (request.handler.clone(), tenant.clone());
            let (seq, until) = cursors.get(&key).map_or((0, 0), |c| (c.seq, c.until_ms));
            if queue.head > seq
                && until <= request.now_ms
                && pick.as_ref().is_none_or(|(u, t)| (until, tenant) < (*u, t))
            {
                pick = Some((until, tenant.clone()));
            }
        }
        let (_, tenant) = pick?;
        let cursor = cursors
            .entry((request.handler.clone(), tenant.clone()))
            .or_insert(Cursor {
                seq: 0,
                attempts: 0,
                owner: None,
                until_ms: 0,
            });
        cursor.owner = Some(request.owner.clone());
        cursor.until_ms = request.until_ms;
        Some(HandlerLease {
            tenant_id: tenant,
            cursor: cursor.seq,
            attempts: cursor.attempts,
        })
    }

    pub(super) fn after(
        &self,
        tenant: &TenantId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<QueuedEvent>, StoreError> {
        let size = handler_page_size(limit)?;
        let tables = self.lock();
        let Some(queue) = tables.queues.get(tenant) else {
            return Ok(Vec::new());
        };
        queue
            .events
            .iter()
            .filter(|(seq, _)| *seq > after)
            .take(size)
            .map(|(seq, row)| queued_event(*seq, row))
            .collect()
    }

    pub(super) fn release(
        &self,
        handler: &str,
        tenant: &TenantId,
        owner: &str,
        seq: u64,
        retry_at_ms: Option<i64>,
    ) -> bool {
        let mut tables = self.lock();
        let Some(cursor) = tables
            .cursors
            .get_mut(&(handler.to_owned(), tenant.clone()))
            .filter(|c| c.owner.as_deref() == Some(owner))
        else {
            return false;
        };
        match retry_at_ms {
            None => {
                cursor.attempts = 0;
                cursor.until_ms = crate::store::now_ms();
            }
            Some(retry_at) => {
                cursor.attempts = if cursor.seq == seq {
                    cursor.attempts.saturating_add(1)
                } else {
                    1
                };
                cursor.until_ms = retry_at;
            }
        }
        cursor.seq = seq;
        cursor.owner = None;
        true
    }

    pub(super) fn extend(
        &self,
        handler: &str,
        tenant: &TenantId,
        owner: &str,
        until_ms: i64,
    ) -> bool {
        let mut tables = self.lock();
        let held = tables
            .cursors
            .get_mut(&(handler.to_owned(), tenant.clone()))
            .filter(|c| c.owner.as_deref() == Some(owner));
        match held {
            Some(cursor) => {
                cursor.until_ms = until_ms;
                true
            }
            None => false,
        }
    }

    pub(super) fn cursor(&self, handler: &str, tenant: &TenantId) -> Option<HandlerLease> {
        let tables = self.lock();
        tables
            .cursors
            .get(&(handler.to_owned(), tenant.clone()))
            .map(|c| HandlerLease {
                tenant_id: tenant.clone(),
                cursor: c.seq,
                attempts: c.attempts,
            })
    }

    /// Drops events received before `before_ms` that every handler has run.
    pub(super) fn prune(&self, before_ms: i64) -> u64 {
        let mut tables = self.lock();
        let Tables { queues, cursors } = &mut *tables;
        let mut pruned = 0;
        for (tenant, queue) in queues.iter_mut() {
            let done = cursors
                .iter()
                .filter(|((_, t), _)| t == tenant)
                .map(|(_, c)| c.seq)
                .min()
                .unwrap_or(u64::MAX);
            let before = queue.events.len();
            queue
                .events
                .retain(|(seq, row)| *seq > done || row.received_at_ms >= before_ms);
            pruned += (before - queue.events.len()) as u64;
            queue.hashes = queue
                .events
                .iter()
                .map(|(_, r)| r.event_hash.clone())
                .collect();
        }
        pruned
    }
}
