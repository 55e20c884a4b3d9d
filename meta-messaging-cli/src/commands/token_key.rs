//! `meta-messaging token-key`: generate a key; re-seal a store's account tokens.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use meta_messaging_core::store::TokenKeyring;

use super::store_url;
use crate::cli::{ResealArgs, TokenKeyCommand};
use crate::error::CliError;
use crate::io::Io;

pub(super) async fn run(command: &TokenKeyCommand, io: &mut Io) -> Result<ExitCode, CliError> {
    match command {
        TokenKeyCommand::Generate => {
            writeln!(io.stdout, "{}", TokenKeyring::generate_key()).map_err(CliError::Write)?;
            Ok(ExitCode::SUCCESS)
        }
        TokenKeyCommand::Reseal(args) => reseal(args, io).await,
    }
}

async fn reseal(args: &ResealArgs, io: &mut Io) -> Result<ExitCode, CliError> {
    let keys: TokenKeyring = args.keys.parse().map_err(CliError::TokenKey)?;
    let current = keys.current_key_id().to_owned();
    let store = store_url::open(&args.store, args.schema.as_deref(), Arc::new(keys), true).await?;
    let resealed = store.reseal_tokens().await.map_err(CliError::Store)?;
    writeln!(
        io.stdout,
        "re-sealed {resealed} account token{} under key {current}",
        if resealed == 1 { "" } else { "s" }
    )
    .map_err(CliError::Write)?;
    Ok(ExitCode::SUCCESS)
}
