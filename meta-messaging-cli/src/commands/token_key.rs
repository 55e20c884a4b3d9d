//! `meta-messaging token-key`: generate a key; re-seal a store's account tokens.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use meta_messaging_core::store::{
    MessageStore, PostgresOptions, PostgresStore, SqliteOptions, SqliteStore, TokenKeyring,
    redacted_url,
};

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
    let store = open(args, Arc::new(keys)).await?;
    let resealed = store.reseal_tokens().await.map_err(CliError::Store)?;
    writeln!(
        io.stdout,
        "re-sealed {resealed} account token{} under key {current}",
        if resealed == 1 { "" } else { "s" }
    )
    .map_err(CliError::Write)?;
    Ok(ExitCode::SUCCESS)
}

async fn open(
    args: &ResealArgs,
    keys: Arc<TokenKeyring>,
) -> Result<Arc<dyn MessageStore>, CliError> {
    let url = args.store.as_str();
    if let Some(path) = url.strip_prefix("sqlite://") {
        // Opening a missing file would create an empty store and "re-seal" nothing: a typo in
        // the path must fail instead of reporting success.
        if !std::path::Path::new(path).is_file() {
            return Err(CliError::NoDatabase { path: path.into() });
        }
        let options = SqliteOptions::new(path).token_sealer(keys);
        return Ok(Arc::new(
            SqliteStore::open_with(options)
                .await
                .map_err(CliError::Store)?,
        ));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let mut options = PostgresOptions::new(url).token_sealer(keys).writers(1);
        if let Some(schema) = &args.schema {
            options = options.schema(schema.clone());
        }
        return Ok(Arc::new(
            PostgresStore::connect_with(options)
                .await
                .map_err(CliError::Store)?,
        ));
    }
    Err(CliError::UnsupportedStore {
        store: redacted_url(url),
    })
}
