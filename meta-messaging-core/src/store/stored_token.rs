//! [`StoredToken`]: an account's token as the store returns it, opened only when used.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

use super::account::{AccountToken, TokenSealer};
use super::error::StoreError;
use crate::error::ErrorChain;
use crate::ids::{AccountId, TenantId};
use crate::platform::Platform;

/// An account's token as [`Account::token`](super::Account::token) holds it.
///
/// The SQL stores hand it out still sealed, with what is needed to open it: listing accounts
/// and routing webhooks never open a token, so a missing or wrong key fails only the send or
/// check that needs one. The in-memory store keeps tokens open.
///
/// `Debug` shows the token's kind and scheme, never its value.
#[derive(Clone)]
pub struct StoredToken(Repr);

#[derive(Clone)]
enum Repr {
    Open(AccountToken),
    #[cfg_attr(
        not(any(feature = "sqlite", feature = "postgres")),
        allow(dead_code, reason = "only the SQL backends seal tokens")
    )]
    Sealed(Arc<Sealed>),
}

/// A sealed token and its row.
struct Sealed {
    /// `page` or `instagram`.
    kind: String,
    scheme: String,
    value: String,
    owner: TokenOwner,
    sealer: Arc<dyn TokenSealer>,
    /// Where a token sealed under an older scheme is re-sealed once opened.
    write_back: Arc<dyn TokenWriteBack>,
}

/// The account a stored token belongs to: its row's key, and the associated data of its seal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TokenOwner {
    pub tenant_id: TenantId,
    pub platform: Platform,
    pub account_id: AccountId,
}

impl TokenOwner {
    /// The bytes a sealer binds the token to: a version tag, then each key part prefixed with
    /// its length, so no two accounts give the same bytes.
    pub(crate) fn associated_data(&self) -> Vec<u8> {
        let mut aad = b"meta-messaging account token v1".to_vec();
        for part in [
            self.tenant_id.as_str(),
            self.platform.as_str(),
            self.account_id.as_str(),
        ] {
            let len = u32::try_from(part.len()).unwrap_or(u32::MAX);
            aad.extend_from_slice(&len.to_be_bytes());
            aad.extend_from_slice(part.as_bytes());
        }
        aad
    }
}

/// A sealed token value and the scheme it was sealed under. No `Debug`: under the plain
/// scheme the value is the access token itself.
#[derive(Clone, Copy)]
#[cfg_attr(
    not(any(feature = "sqlite", feature = "postgres")),
    allow(dead_code, reason = "only the SQL stores write re-sealed tokens back")
)]
pub(crate) struct SealedValue<'a> {
    pub scheme: &'a str,
    pub value: &'a str,
}

/// Replaces a row's sealed token with one sealed under the current scheme, unless the row
/// changed since it was read.
#[async_trait]
pub(crate) trait TokenWriteBack: Send + Sync + fmt::Debug {
    async fn replace_sealed(
        &self,
        owner: &TokenOwner,
        old: SealedValue<'_>,
        new: SealedValue<'_>,
    ) -> Result<(), StoreError>;
}

impl StoredToken {
    /// A sealed token read from a row.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub(crate) fn sealed(
        kind: String,
        scheme: String,
        value: String,
        owner: TokenOwner,
        sealer: Arc<dyn TokenSealer>,
        write_back: Arc<dyn TokenWriteBack>,
    ) -> Self {
        Self(Repr::Sealed(Arc::new(Sealed {
            kind,
            scheme,
            value,
            owner,
            sealer,
            write_back,
        })))
    }

    /// The token, opened with the store's [`TokenSealer`].
    ///
    /// A token stored under an older scheme (another key, or `plain`) is re-sealed under the
    /// current one and written back; a failed write-back is logged and does not fail the call.
    ///
    /// # Errors
    /// [`StoreError::Token`] when the token does not open: its key is not configured (the
    /// source is a [`TokenSealError`](super::TokenSealError) naming it), or the value was
    /// altered or copied from another account's row.
    pub async fn open(&self) -> Result<AccountToken, StoreError> {
        let sealed = match &self.0 {
            Repr::Open(token) => return Ok(token.clone()),
            Repr::Sealed(sealed) => sealed,
        };
        let aad = sealed.owner.associated_data();
        let value = sealed
            .sealer
            .open(&sealed.scheme, &sealed.value, &aad)
            .map_err(StoreError::Token)?;
        let current = sealed.sealer.scheme();
        if sealed.scheme != current {
            sealed.reseal(&value, &aad, current).await;
        }
        Ok(AccountToken::from_kind(&sealed.kind, value))
    }

    /// Whether the token is still sealed (it came from a SQL store).
    pub fn is_sealed(&self) -> bool {
        matches!(self.0, Repr::Sealed(_))
    }

    /// The scheme the token is stored under (`plain`, `xchacha20poly1305:<key id>`, ...);
    /// `None` for a token held open.
    pub fn scheme(&self) -> Option<&str> {
        match &self.0 {
            Repr::Open(_) => None,
            Repr::Sealed(sealed) => Some(&sealed.scheme),
        }
    }
}

impl Sealed {
    /// Best effort: the token stays usable when re-sealing fails, and the next open (or
    /// `reseal_tokens`) tries again.
    async fn reseal(&self, value: &str, aad: &[u8], current: &str) {
        let resealed = match self.sealer.seal(value, aad) {
            Ok(resealed) => resealed,
            Err(err) => {
                tracing::warn!(
                    error = %ErrorChain(err.as_ref()),
                    account_id = %self.owner.account_id,
                    "cannot re-seal an account token"
                );
                return;
            }
        };
        if let Err(err) = self
            .write_back
            .replace_sealed(
                &self.owner,
                SealedValue {
                    scheme: &self.scheme,
                    value: &self.value,
                },
                SealedValue {
                    scheme: current,
                    value: &resealed,
                },
            )
            .await
        {
            tracing::warn!(
                error = %ErrorChain(&err),
                account_id = %self.owner.account_id,
                "cannot write back a re-sealed account token"
            );
        }
    }
}

impl From<AccountToken> for StoredToken {
    fn from(token: AccountToken) -> Self {
        Self(Repr::Open(token))
    }
}

impl fmt::Debug for StoredToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Open(token) => f.debug_tuple("StoredToken").field(token).finish(),
            Repr::Sealed(sealed) => f
                .debug_struct("StoredToken")
                .field("kind", &sealed.kind)
                .field("scheme", &sealed.scheme)
                .finish_non_exhaustive(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(tenant: &str, account: &str) -> TokenOwner {
        TokenOwner {
            tenant_id: TenantId::new(tenant),
            platform: Platform::Messenger,
            account_id: AccountId::new(account),
        }
    }

    #[test]
    fn associated_data_tells_accounts_apart() {
        // The length prefixes keep different splits of the same characters apart.
        assert_ne!(
            owner("ab", "c").associated_data(),
            owner("a", "bc").associated_data()
        );
        assert_eq!(
            owner("a", "1").associated_data(),
            owner("a", "1").associated_data()
        );
    }
}
