//! Opening a store from its URL: `sqlite://PATH` or `postgres://...`.

use std::sync::Arc;

use meta_messaging_core::store::{
    MessageStore, PostgresOptions, PostgresStore, SqliteOptions, SqliteStore, TokenSealer,
    redacted_url,
};

use crate::error::CliError;

/// Opens the store at `url`, its account tokens sealed by `sealer`. With `must_exist`, a
/// `sqlite://` file that does not exist is an error rather than a new empty store, so a typo
/// in the path fails instead of reporting success on nothing.
pub(super) async fn open(
    url: &str,
    schema: Option<&str>,
    sealer: Arc<dyn TokenSealer>,
    must_exist: bool,
) -> Result<Arc<dyn MessageStore>, CliError> {
    if let Some(path) = url.strip_prefix("sqlite://") {
        if must_exist && !std::path::Path::new(path).is_file() {
            return Err(CliError::NoDatabase { path: path.into() });
        }
        let options = SqliteOptions::new(path).token_sealer(sealer);
        return Ok(Arc::new(
            SqliteStore::open_with(options)
                .await
                .map_err(CliError::Store)?,
        ));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let mut options = PostgresOptions::new(url).token_sealer(sealer).writers(1);
        if let Some(schema) = schema {
            options = options.schema(schema.to_owned());
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
