//! Deliveries shaped like Meta's, for the conformance cases.

use std::sync::atomic::{AtomicI64, Ordering};

use rand::Rng;
use serde_json::{Value, json};

use crate::ids::TenantId;
use crate::platform::Platform;
use crate::store::api::ApplyReport;
use crate::store::api::{MessageStore, TenantEvent};
use crate::store::error::StoreError;
use crate::store::unrouted::{UnroutedEvent, UnroutedReason};
use crate::webhook::{self, Event};

static CLOCK: AtomicI64 = AtomicI64::new(1_700_000_000_000);

/// A fresh, strictly increasing event time.
pub(crate) fn tick() -> i64 {
    CLOCK.fetch_add(1_000, Ordering::SeqCst)
}

/// A random id with a prefix: every case works in its own tenants and accounts.
pub(super) fn fresh(prefix: &str) -> String {
    let n: u64 = rand::rng().random();
    format!("{prefix}{n}")
}

/// A long Instagram-style message id (the seed system's 100-character column broke on these).
pub(super) fn long_mid() -> String {
    format!("aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlE{}", fresh("x").repeat(8))
}

/// One account of one tenant, with helpers to make its events.
#[derive(Debug, Clone)]
pub(crate) struct Scene {
    pub tenant: TenantId,
    pub platform: Platform,
    pub account: String,
}

impl Scene {
    pub fn new(platform: Platform) -> Self {
        Self {
            tenant: TenantId::new(fresh("tenant-")),
            platform,
            account: fresh("17841"),
        }
    }

    pub fn same_tenant(&self, platform: Platform) -> Self {
        Self {
            tenant: self.tenant.clone(),
            platform,
            account: fresh("17841"),
        }
    }

    /// Parses a delivery of these `messaging[]` items.
    pub fn events(&self, items: Vec<Value>) -> Vec<Event> {
        let body = json!({
            "object": self.platform.webhook_object(),
            "entry": [{ "id": self.account, "time": tick(), "messaging": items }],
        });
        webhook::parse(body.to_string().as_bytes()).unwrap_or_default()
    }

    /// Parses a delivery of these `messaging[]` items, as events no tenant received, for
    /// `reason`.
    pub fn unrouted(&self, items: Vec<Value>, reason: &UnroutedReason) -> Vec<UnroutedEvent> {
        self.events(items)
            .into_iter()
            .map(|e| UnroutedEvent::new(e, reason.clone()))
            .collect()
    }

    /// Parses a delivery of these `changes[]` items (comments, feed changes).
    pub fn change_events(&self, changes: Vec<Value>) -> Vec<TenantEvent> {
        let body = json!({
            "object": self.platform.webhook_object(),
            "entry": [{ "id": self.account, "time": tick(), "changes": changes }],
        });
        webhook::parse(body.to_string().as_bytes())
            .unwrap_or_default()
            .into_iter()
            .map(|e| TenantEvent::new(self.tenant.clone(), e))
            .collect()
    }

    /// A Facebook Page `feed` change about a comment on `post`; `from` is a user or the Page.
    pub fn feed_comment(&self, verb: &str, from: &str, post: &str, comment: &str) -> Value {
        json!({"field": "feed", "value": {
            "item": "comment", "verb": verb, "comment_id": comment, "post_id": post,
            "parent_id": post, "message": format!("{verb} {comment}"),
            "from": {"id": from, "name": format!("Name of {from}")},
            "created_time": tick() / 1000}})
    }

    pub fn routed(&self, items: Vec<Value>) -> Vec<TenantEvent> {
        self.events(items)
            .into_iter()
            .map(|e| TenantEvent::new(self.tenant.clone(), e))
            .collect()
    }

    pub async fn apply(
        &self,
        store: &dyn MessageStore,
        items: Vec<Value>,
    ) -> Result<ApplyReport, StoreError> {
        store.apply(&self.routed(items)).await
    }

    /// An inbound text message.
    pub fn text(&self, user: &str, mid: &str, text: &str, at: i64) -> Value {
        json!({"sender": {"id": user}, "recipient": {"id": self.account}, "timestamp": at,
               "message": {"mid": mid, "text": text}})
    }

    /// An inbound message with an image.
    pub fn image(&self, user: &str, mid: &str, url: &str, at: i64) -> Value {
        json!({"sender": {"id": user}, "recipient": {"id": self.account}, "timestamp": at,
               "message": {"mid": mid, "attachments": [{"type": "image", "payload": {"url": url}}]}})
    }

    /// The echo of a message the account sent.
    pub fn echo(&self, user: &str, mid: &str, text: &str, at: i64) -> Value {
        json!({"sender": {"id": self.account}, "recipient": {"id": user}, "timestamp": at,
               "message": {"mid": mid, "text": text, "is_echo": true, "app_id": 1_517_776_481_860_111_u64}})
    }

    pub fn reaction(&self, user: &str, mid: &str, action: &str, emoji: &str, at: i64) -> Value {
        json!({"sender": {"id": user}, "recipient": {"id": self.account}, "timestamp": at,
               "reaction": {"mid": mid, "action": action, "reaction": "love", "emoji": emoji}})
    }

    pub fn read_watermark(&self, user: &str, watermark: i64, at: i64) -> Value {
        json!({"sender": {"id": user}, "recipient": {"id": self.account}, "timestamp": at,
               "read": {"watermark": watermark}})
    }

    pub fn read_mid(&self, user: &str, mid: &str, at: i64) -> Value {
        json!({"sender": {"id": user}, "recipient": {"id": self.account}, "timestamp": at,
               "read": {"mid": mid}})
    }

    pub fn delivery(&self, user: &str, mids: &[&str], watermark: Option<i64>, at: i64) -> Value {
        let mut delivery = json!({"mids": mids});
        if let Some(w) = watermark {
            delivery["watermark"] = json!(w);
        }
        json!({"sender": {"id": user}, "recipient": {"id": self.account}, "timestamp": at,
               "delivery": delivery})
    }

    pub fn edit(&self, user: &str, mid: &str, text: &str, num_edit: u32, at: i64) -> Value {
        json!({"sender": {"id": user}, "recipient": {"id": self.account}, "timestamp": at,
               "message_edit": {"mid": mid, "text": text, "num_edit": num_edit}})
    }

    pub fn delete(&self, user: &str, mid: &str, at: i64) -> Value {
        json!({"sender": {"id": user}, "recipient": {"id": self.account}, "timestamp": at,
               "message": {"mid": mid, "is_deleted": true}})
    }

    pub fn postback(&self, user: &str, payload: &str, at: i64) -> Value {
        json!({"sender": {"id": user}, "recipient": {"id": self.account}, "timestamp": at,
               "postback": {"title": "Get started", "payload": payload}})
    }
}
