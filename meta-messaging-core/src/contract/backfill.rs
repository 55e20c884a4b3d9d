//! `POST /accounts/{id}/backfill`: starts an account's history backfill. Account ids are per
//! platform; a Page and an Instagram account never share an id in practice, so the platform is
//! needed only when the tenant has both under one id.

use super::{ApiRequest, ApiResponse};
use crate::ids::{AccountId, TenantId};
use crate::inbox::{Inbox, InboxError};
use crate::platform::Platform;

/// Answers 202 with the backfill's progress as it starts (or as it is, when already running).
pub(super) async fn post(
    inbox: &Inbox,
    tenant: &TenantId,
    request: ApiRequest<'_>,
) -> Result<ApiResponse, InboxError> {
    let named = super::query::backfill_platform(request.query)?;
    let id = request
        .id
        .filter(|id| !id.is_empty())
        .ok_or_else(|| InboxError::InvalidRequest("an account id is required".to_owned()))?;
    let account_id = AccountId::new(id);
    let platform = match named {
        Some(platform) => platform,
        None => {
            let mut found = Vec::new();
            for platform in [Platform::Messenger, Platform::Instagram] {
                if inbox
                    .store()
                    .get_account(tenant, platform, &account_id)
                    .await?
                    .is_some()
                {
                    found.push(platform);
                }
            }
            match found.as_slice() {
                [one] => *one,
                [] => {
                    return Err(InboxError::AccountNotFound {
                        platform: Platform::Messenger,
                        account_id,
                    });
                }
                _ => {
                    return Err(InboxError::InvalidRequest(
                        "the id names a Messenger and an Instagram account: add ?platform=messenger or ?platform=instagram".to_owned(),
                    ));
                }
            }
        }
    };
    let progress = inbox.start_backfill(tenant, platform, &account_id).await?;
    Ok(ApiResponse::json(202, &progress))
}
