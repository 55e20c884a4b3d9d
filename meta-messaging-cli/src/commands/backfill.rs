//! `meta-messaging backfill`: import an account's earlier conversations into a store.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use meta_messaging_core::Platform;
use meta_messaging_core::ids::TenantId;
use meta_messaging_core::inbox::{BackfillOptions, Inbox, Tenancy};
use meta_messaging_core::secret::VerifyToken;
use meta_messaging_core::store::{
    AccountToken, BackfillState, NewAccount, PlaintextTokens, TokenKeyring, TokenSealer,
};

use super::send::{graph_client, print_graph_error};
use super::store_url;
use crate::cli::BackfillArgs;
use crate::error::CliError;
use crate::io::Io;

pub(super) async fn run(args: &BackfillArgs, io: &mut Io) -> Result<ExitCode, CliError> {
    let sealer: Arc<dyn TokenSealer> = match &args.keys {
        Some(keys) => Arc::new(keys.parse::<TokenKeyring>().map_err(CliError::TokenKey)?),
        None => Arc::new(PlaintextTokens),
    };
    let store = store_url::open(&args.store, args.schema.as_deref(), sealer, false).await?;
    let graph = match graph_client(&args.graph_url, Some(&args.app_secret)) {
        Ok(graph) => graph,
        Err(err) => return print_graph_error(io, &err),
    };
    let tenant = TenantId::new(args.tenant.as_str());
    let token = AccountToken::Page(args.token.clone());
    let account = match (args.platform, &args.instagram_account_id) {
        (Platform::Instagram, Some(id)) => NewAccount::new(Platform::Instagram, id.as_str())
            .with_linked_page(args.page_id.as_str()),
        _ => NewAccount::new(Platform::Messenger, args.page_id.as_str()),
    }
    .with_token(token, None);
    let (platform, account_id) = (account.platform, account.account_id.clone());
    store
        .upsert_account(&tenant, &account)
        .await
        .map_err(CliError::Store)?;
    let horizon = Duration::from_secs(args.days.saturating_mul(24 * 3600));
    let inbox = Inbox::builder()
        .app_secret(args.app_secret.clone())
        // This inbox serves no webhook: its verify token is never asked for.
        .verify_token(VerifyToken::new("meta-messaging-backfill"))
        .store(store)
        .tenancy(Tenancy::Single(tenant.clone()))
        .graph(graph)
        .backfill(BackfillOptions::new().horizon(horizon).on_connect(false))
        .build()
        .map_err(CliError::InboxSetup)?;
    let progress = inbox
        .backfill(&tenant, platform, &account_id)
        .await
        .map_err(CliError::Inbox)?;
    let json = serde_json::to_string(&progress).unwrap_or_default();
    writeln!(io.stdout, "{json}").map_err(CliError::Write)?;
    Ok(if progress.state == BackfillState::Failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
