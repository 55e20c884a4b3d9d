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

mod backfill;
mod cases;
mod changes;
mod comments;
mod deliveries;
mod early;
pub(crate) mod fixtures;
mod handlers;
mod idempotency;
mod lifecycle;
mod lists;
mod media;
mod nul;
mod owner;
mod tenancy;
mod window;

use std::sync::Arc;

pub use self::backfill::{backfill_progress, history_arrives_read, interrupted_backfills};
pub use self::cases::{
    deletes, echo_after_outbound_merges, edits, idempotent_messages, inbound_message_fields,
    outbound_after_echo_merges, reactions, receipts, unknown_and_orphan_events_are_kept,
};
pub use self::changes::{
    change_log_concurrent_writers_no_gaps, change_log_failed_write_appends_nothing,
    change_log_notices_carry_what_the_log_reads, change_log_one_stored_per_message,
    change_log_pruning, change_log_records_each_write, change_log_tenant_isolation,
};
pub use self::comments::comment_threads;
pub use self::deliveries::{
    delivery_tallies_add_up, delivery_unknown_reasons_bounded, unrouted_reasons_grouped,
};
pub use self::early::{
    delete_before_message, delete_before_outbound, early_edits_apply_on_arrival,
    early_ops_fail_cleanly, early_ops_race_their_message, early_reactions_apply_on_arrival,
    early_receipts_apply_on_arrival,
};
pub use self::handlers::{
    handler_concurrent_leases_one_wins, handler_lease_extension, handler_leases_and_retries,
    handler_queue_each_event_once, handler_registration_starts_at_head,
};
pub use self::idempotency::{
    idempotency_claim_finish_replay, idempotency_concurrent_claims_one_wins,
    idempotency_keys_are_per_tenant, idempotency_keys_expire_and_are_pruned,
    idempotency_release_frees_the_key,
};
pub use self::lifecycle::{flush_commits_abandoned_writes, ready_when_open};
pub use self::lists::{
    conversation_archive_and_read, conversation_moves_on_new_message,
    conversation_participant_profile, conversation_sort_and_filters, invalid_cursors_are_refused,
    message_filters, message_filters_combined, message_raw_json_opt_in, message_sort,
    pagination_under_concurrent_inserts,
};
pub use self::media::{media_recorded_together, media_records};
pub use self::nul::nul_characters_are_replaced;
pub use self::owner::conversation_owner;
pub use self::tenancy::{
    account_last_event_time, account_routing_and_status, account_token_kept_and_redacted,
    account_upsert_updates_in_place, concurrent_writers, failed_writes_leave_nothing,
    tenant_isolation_accounts, tenant_isolation_reads, tenant_isolation_writes,
    unrouted_events_kept_once, unrouted_events_listed_for_replay,
};
pub use self::window::last_inbound_time;
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
        ready_when_open,
        flush_commits_abandoned_writes,
        idempotent_messages,
        inbound_message_fields,
        echo_after_outbound_merges,
        outbound_after_echo_merges,
        reactions,
        receipts,
        edits,
        deletes,
        unknown_and_orphan_events_are_kept,
        early_edits_apply_on_arrival,
        early_reactions_apply_on_arrival,
        delete_before_message,
        delete_before_outbound,
        early_receipts_apply_on_arrival,
        early_ops_fail_cleanly,
        early_ops_race_their_message,
        message_sort,
        message_filters,
        message_filters_combined,
        message_raw_json_opt_in,
        conversation_sort_and_filters,
        conversation_archive_and_read,
        conversation_moves_on_new_message,
        conversation_participant_profile,
        last_inbound_time,
        conversation_owner,
        comment_threads,
        backfill_progress,
        interrupted_backfills,
        history_arrives_read,
        media_records,
        media_recorded_together,
        pagination_under_concurrent_inserts,
        invalid_cursors_are_refused,
        tenant_isolation_reads,
        tenant_isolation_writes,
        tenant_isolation_accounts,
        concurrent_writers,
        failed_writes_leave_nothing,
        account_token_kept_and_redacted,
        account_upsert_updates_in_place,
        account_routing_and_status,
        account_last_event_time,
        unrouted_events_kept_once,
        unrouted_events_listed_for_replay,
        unrouted_reasons_grouped,
        delivery_tallies_add_up,
        delivery_unknown_reasons_bounded,
        idempotency_claim_finish_replay,
        idempotency_release_frees_the_key,
        idempotency_keys_expire_and_are_pruned,
        idempotency_keys_are_per_tenant,
        idempotency_concurrent_claims_one_wins,
        nul_characters_are_replaced,
        handler_queue_each_event_once,
        handler_registration_starts_at_head,
        handler_leases_and_retries,
        handler_lease_extension,
        handler_concurrent_leases_one_wins,
        change_log_records_each_write,
        change_log_one_stored_per_message,
        change_log_notices_carry_what_the_log_reads,
        change_log_concurrent_writers_no_gaps,
        change_log_failed_write_appends_nothing,
        change_log_tenant_isolation,
        // Last: it prunes every tenant's changes.
        change_log_pruning,
    );
}
