//! The JSON answers the contract builds itself around the inbox's values: typed, so that the
//! OpenAPI document derives their schemas from the very types that are serialized.

use serde::{Deserialize, Serialize};

use crate::ids::TenantId;
use crate::store::Account;

/// `GET /accounts`: `{"data": [...]}`.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct AccountList {
    /// The tenant's connected accounts (their tokens are never serialized).
    pub(crate) data: Vec<Account>,
}

/// `GET /session` and a sign-in: the signed-in tenant.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct SessionTenant {
    /// The tenant the session acts for.
    pub(crate) tenant_id: TenantId,
}

/// A health probe's answer: `{"status": "ok"}` or `{"status": "unavailable"}`, nothing else.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ProbeAnswer {
    /// `ok`, or `unavailable` (the cause is logged, not answered).
    pub(crate) status: &'static str,
}

/// `POST /session`'s body.
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct SignIn {
    /// An API token, or a one-time sign-in code (the `?token=` of a printed sign-in link).
    pub(crate) token: String,
}
