//! The conformance suite every [`MessageStore`] backend passes (feature `test-util`).
//!
//! Run it against your own backend, or against a configured store of this crate:
//!
//! ```
//! use std::sync::Arc;
//! use meta_messaging_core::store::InMemoryStore;
//! use meta_messaging_core::store::conformance::{self, Harness};
//!
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() {
//! let store = Arc::new(InMemoryStore::new());
//! let fail_point = store.fail_point().clone();
//! conformance::run_all(&Harness::new(store, fail_point)).await;
//! # }
//! ```
//!
//! Every case uses fresh random tenant and account ids, so the cases can share one store (and
//! a database that already holds data). A case panics with a message naming what failed.

mod cases;
mod fixtures;
mod lists;
mod tenancy;

use std::sync::Arc;

pub use self::cases::{
    deletes, echoes_merge_with_outbound, edits, idempotent_messages, reactions, receipts,
    unknown_and_orphan_events_are_kept,
};
pub use self::lists::{
    conversation_filters_and_sort, invalid_cursors_are_refused, message_filters_and_sort,
    pagination_under_concurrent_inserts,
};
pub use self::tenancy::{
    accounts_and_routing, concurrent_writers, failed_writes_leave_nothing, tenant_isolation,
};
use super::api::MessageStore;
use super::failpoint::FailPoint;

/// The store under test and its [`FailPoint`].
#[derive(Debug, Clone)]
pub struct Harness {
    /// The store.
    pub store: Arc<dyn MessageStore>,
    /// The store's fail point (see [`failed_writes_leave_nothing`]).
    pub fail_point: FailPoint,
}

impl Harness {
    /// A harness for a store and its fail point.
    pub fn new(store: Arc<dyn MessageStore>, fail_point: FailPoint) -> Self {
        Self { store, fail_point }
    }
}

/// Runs every case in turn, printing each name. Needs a multi-threaded Tokio runtime.
///
/// # Panics
/// On the first expectation the store does not meet.
pub async fn run_all(h: &Harness) {
    macro_rules! run {
        ($($case:ident),* $(,)?) => {$(
            println!("store conformance: {}", stringify!($case));
            $case(h).await;
        )*};
    }
    run!(
        idempotent_messages,
        echoes_merge_with_outbound,
        reactions,
        receipts,
        edits,
        deletes,
        unknown_and_orphan_events_are_kept,
        message_filters_and_sort,
        conversation_filters_and_sort,
        pagination_under_concurrent_inserts,
        invalid_cursors_are_refused,
        tenant_isolation,
        concurrent_writers,
        failed_writes_leave_nothing,
        accounts_and_routing,
    );
}
