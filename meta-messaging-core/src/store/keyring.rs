//! [`TokenKeyring`]: the keys that seal account tokens at rest (XChaCha20-Poly1305).

use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::account::{PLAIN_SCHEME, TokenSealer, UnknownTokenScheme};

/// The environment variable the keys are read from: the base64 of 32 bytes, or several such
/// keys separated by commas (the first seals, all open).
pub const TOKEN_KEY_VAR: &str = "META_TOKEN_KEY";

/// The scheme of tokens sealed by a [`TokenKeyring`], before `:` and the key id.
pub const SEALED_SCHEME: &str = "xchacha20poly1305";

/// Bytes of a key.
const KEY_LEN: usize = 32;
/// Bytes of an XChaCha20 nonce: long enough that random nonces never repeat in practice.
const NONCE_LEN: usize = 24;

/// What to run to get a key; part of every error message about keys.
const GENERATE_HINT: &str =
    "generate one with `meta-messaging token-key generate` (or `openssl rand -base64 32`)";

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The keys that seal account tokens in the SQLite and PostgreSQL stores: a [`TokenSealer`]
/// using XChaCha20-Poly1305 with a random nonce per value.
///
/// Holds one or more 32-byte keys. The first seals; every one of them opens, so keys can be
/// rotated: put the new key first and keep the old one after it until
/// [`MessageStore::reseal_tokens`](super::MessageStore::reseal_tokens) (or
/// `meta-messaging token-key reseal`) has rewritten every row. Each sealed value is stored with
/// the scheme `xchacha20poly1305:<key id>`, the key id being the first 8 hex digits of the
/// SHA-256 of the key, so the right key is picked when opening. The account a token belongs to
/// (tenant, platform, account id) is authenticated with it: a sealed token copied into another
/// account's row does not open.
///
/// Tokens stored by [`PlaintextTokens`](super::PlaintextTokens) (scheme `plain`) still open, so
/// an existing database can move to sealed tokens; they are sealed when next opened or
/// re-sealed.
///
/// `Debug` shows the key ids only.
///
/// ```
/// use meta_messaging_core::store::{TokenKeyring, TokenSealer};
///
/// // What `META_TOKEN_KEY` holds: the base64 of a 32-byte key.
/// let keys: TokenKeyring = TokenKeyring::generate_key().parse()?;
/// let sealed = keys.seal("EAAB-page-token", b"the account")?;
/// assert_eq!(keys.open(keys.scheme(), &sealed, b"the account")?, "EAAB-page-token");
/// assert!(keys.open(keys.scheme(), &sealed, b"another account").is_err());
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// ```
#[derive(Clone)]
pub struct TokenKeyring {
    /// Never empty; the first seals.
    keys: Vec<TokenKey>,
    /// `xchacha20poly1305:<id of the first key>`.
    scheme: String,
}

#[derive(Clone)]
struct TokenKey {
    id: String,
    cipher: XChaCha20Poly1305,
}

impl TokenKeyring {
    /// A keyring of raw keys; the first one seals.
    ///
    /// # Errors
    /// [`TokenKeyError::Empty`] when no key is given.
    pub fn new(keys: impl IntoIterator<Item = [u8; KEY_LEN]>) -> Result<Self, TokenKeyError> {
        let mut keys = keys.into_iter();
        let first = keys.next().ok_or(TokenKeyError::Empty)?;
        Ok(Self::with_keys(first, keys))
    }

    fn with_keys(first: [u8; KEY_LEN], rest: impl Iterator<Item = [u8; KEY_LEN]>) -> Self {
        let keys: Vec<TokenKey> = std::iter::once(first)
            .chain(rest)
            .map(|key| TokenKey {
                id: key_id(&key),
                cipher: XChaCha20Poly1305::new(&key.into()),
            })
            .collect();
        let scheme = format!("{SEALED_SCHEME}:{}", key_id(&first));
        Self { keys, scheme }
    }

    /// Parses keys as `META_TOKEN_KEY` holds them: base64 of 32 bytes, several separated by
    /// commas (spaces around them are ignored).
    ///
    /// # Errors
    /// [`TokenKeyError::Empty`], [`TokenKeyError::NotBase64`] or
    /// [`TokenKeyError::WrongLength`], each naming the key by position.
    pub fn parse(value: &str) -> Result<Self, TokenKeyError> {
        let mut keys = Vec::new();
        for (index, text) in value
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .enumerate()
        {
            let position = index + 1;
            let bytes = STANDARD
                .decode(text)
                .map_err(|source| TokenKeyError::NotBase64 { position, source })?;
            let key: [u8; KEY_LEN] =
                bytes
                    .as_slice()
                    .try_into()
                    .map_err(|_| TokenKeyError::WrongLength {
                        position,
                        len: bytes.len(),
                    })?;
            keys.push(key);
        }
        Self::new(keys)
    }

    /// The keys in `META_TOKEN_KEY`, or `None` when it is unset or blank.
    ///
    /// # Errors
    /// As [`parse`](Self::parse).
    pub fn from_env() -> Result<Option<Self>, TokenKeyError> {
        std::env::var(TOKEN_KEY_VAR)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .map(|v| Self::parse(&v))
            .transpose()
    }

    /// The key kept in `path`, created (32 random bytes, base64, mode 0600 on Unix) when the
    /// file does not exist. For a single machine that has no other place for a key; a file that
    /// is readable by others is tightened to 0600.
    ///
    /// # Errors
    /// [`TokenKeyError::KeyFile`] when the file cannot be created, read or tightened;
    /// [`TokenKeyError::InKeyFile`] when it does not hold a key.
    pub fn from_key_file(path: &Path) -> Result<Self, TokenKeyError> {
        let file_error = |source| TokenKeyError::KeyFile {
            path: path.to_owned(),
            source,
        };
        match create_private(path) {
            Ok(mut file) => {
                let key = Self::generate_key();
                file.write_all(format!("{key}\n").as_bytes())
                    .and_then(|()| file.sync_all())
                    .map_err(file_error)?;
            }
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {
                restrict_to_owner(path).map_err(file_error)?;
            }
            Err(err) => return Err(file_error(err)),
        }
        let text = fs::read_to_string(path).map_err(file_error)?;
        Self::parse(&text).map_err(|source| TokenKeyError::InKeyFile {
            path: path.to_owned(),
            source: Box::new(source),
        })
    }

    /// A keyring of one fresh random key, for throwaway data (a demo, a test).
    pub fn generate() -> Self {
        let mut key = [0_u8; KEY_LEN];
        rand::rng().fill_bytes(&mut key);
        Self::with_keys(key, std::iter::empty())
    }

    /// A fresh random key as `META_TOKEN_KEY` holds it: the base64 of 32 random bytes.
    pub fn generate_key() -> String {
        let mut key = [0_u8; KEY_LEN];
        rand::rng().fill_bytes(&mut key);
        STANDARD.encode(key)
    }

    /// The id of the key that seals (the first).
    pub fn current_key_id(&self) -> &str {
        // The scheme ends with it; `with_keys` always has a first key.
        self.keys.first().map_or("", |k| k.id.as_str())
    }

    /// The ids of every key, the sealing one first.
    pub fn key_ids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|k| k.id.as_str())
    }

    fn key(&self, id: &str) -> Option<&TokenKey> {
        self.keys.iter().find(|k| k.id == id)
    }
}

/// The first 8 hex digits of the key's SHA-256: names the key in stored values without
/// revealing it.
fn key_id(key: &[u8; KEY_LEN]) -> String {
    hex::encode(&Sha256::digest(key)[..4])
}

impl fmt::Debug for TokenKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenKeyring")
            .field("key_ids", &self.key_ids().collect::<Vec<_>>())
            .finish()
    }
}

impl FromStr for TokenKeyring {
    type Err = TokenKeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TokenSealer for TokenKeyring {
    fn scheme(&self) -> &str {
        &self.scheme
    }

    fn seal(&self, token: &str, associated_data: &[u8]) -> Result<String, BoxError> {
        let key = self.keys.first().ok_or(TokenKeyError::Empty)?;
        let mut nonce = [0_u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = key
            .cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: token.as_bytes(),
                    aad: associated_data,
                },
            )
            .map_err(|_| TokenSealError::Seal)?;
        let mut value = nonce.to_vec();
        value.extend_from_slice(&sealed);
        Ok(STANDARD.encode(value))
    }

    fn open(&self, scheme: &str, sealed: &str, associated_data: &[u8]) -> Result<String, BoxError> {
        if scheme == PLAIN_SCHEME {
            return Ok(sealed.to_owned());
        }
        let Some(key_id) = scheme
            .strip_prefix(SEALED_SCHEME)
            .and_then(|rest| rest.strip_prefix(':'))
        else {
            return Err(Box::new(UnknownTokenScheme(scheme.to_owned())));
        };
        let key = self.key(key_id).ok_or_else(|| TokenSealError::UnknownKey {
            key_id: key_id.to_owned(),
            configured: self.key_ids().collect::<Vec<_>>().join(", "),
        })?;
        let bytes = STANDARD
            .decode(sealed)
            .ok()
            .filter(|b| b.len() > NONCE_LEN)
            .ok_or(TokenSealError::Malformed)?;
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| TokenSealError::Malformed)?;
        let plain = key
            .cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: associated_data,
                },
            )
            .map_err(|_| TokenSealError::Rejected {
                key_id: key_id.to_owned(),
            })?;
        Ok(String::from_utf8(plain).map_err(|_| TokenSealError::Malformed)?)
    }
}

/// Creates `path` for writing, readable by its owner only; fails with `AlreadyExists` when it
/// exists.
pub(crate) fn create_private(path: &Path) -> io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Removes every permission of group and others from an existing file (Unix; a no-op
/// elsewhere).
pub(crate) fn restrict_to_owner(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(path)?.permissions().mode();
        if mode & 0o077 != 0 {
            fs::set_permissions(path, fs::Permissions::from_mode(mode & 0o700))?;
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Why token keys could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenKeyError {
    /// No key was given.
    #[error(
        "META_TOKEN_KEY holds no key: set it to the base64 of 32 random bytes; {GENERATE_HINT}"
    )]
    Empty,
    /// A key is not base64.
    #[error("key {position} of META_TOKEN_KEY is not base64: {GENERATE_HINT}")]
    NotBase64 {
        /// The key's position in the comma-separated list, from 1.
        position: usize,
        /// The decoding error.
        #[source]
        source: base64::DecodeError,
    },
    /// A key does not decode to 32 bytes.
    #[error("key {position} of META_TOKEN_KEY is {len} bytes, not 32: {GENERATE_HINT}")]
    WrongLength {
        /// The key's position in the comma-separated list, from 1.
        position: usize,
        /// How many bytes it decodes to.
        len: usize,
    },
    /// A key file could not be created, read or made private.
    #[error("cannot use the token key file {}", path.display())]
    KeyFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// A key file does not hold a valid key.
    #[error("the token key file {} does not hold a valid key", path.display())]
    InKeyFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with its content.
        #[source]
        source: Box<TokenKeyError>,
    },
}

/// Why a [`TokenKeyring`] could not seal or open a token: the source of a
/// [`StoreError::Token`](super::StoreError::Token).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenSealError {
    /// The token was sealed with a key the keyring does not hold.
    #[error(
        "the token was sealed with key {key_id}, which is not among the configured token keys \
         ({configured}): add that key to META_TOKEN_KEY after the current one, or reconnect the account"
    )]
    UnknownKey {
        /// The id of the key it was sealed with.
        key_id: String,
        /// The ids of the keys configured, comma-separated.
        configured: String,
    },
    /// The key is right but the value does not authenticate: it was altered, or copied from
    /// another account's row.
    #[error(
        "the sealed token does not open with key {key_id}: it was altered or belongs to another \
         account; reconnect the account"
    )]
    Rejected {
        /// The id of the key named by the stored value.
        key_id: String,
    },
    /// The stored value is not what the keyring writes.
    #[error("the sealed token is not valid base64 of a nonce and ciphertext")]
    Malformed,
    /// Encryption failed (a token too long for the cipher).
    #[error("the token could not be sealed")]
    Seal,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(key: [u8; 32]) -> String {
        STANDARD.encode(key)
    }

    #[test]
    fn seals_and_opens_with_the_associated_data() {
        let keys = TokenKeyring::generate();
        let sealed = keys.seal("EAAB-token", b"acme/messenger/1").expect("seal");
        assert!(!sealed.contains("EAAB-token"));
        assert_ne!(
            sealed,
            keys.seal("EAAB-token", b"acme/messenger/1").expect("seal"),
            "a random nonce per value"
        );
        assert_eq!(
            keys.open(keys.scheme(), &sealed, b"acme/messenger/1")
                .expect("open"),
            "EAAB-token"
        );
        let moved = keys
            .open(keys.scheme(), &sealed, b"acme/messenger/2")
            .expect_err("another account");
        assert!(matches!(
            moved.downcast_ref::<TokenSealError>(),
            Some(TokenSealError::Rejected { .. })
        ));
    }

    #[test]
    fn the_first_key_seals_and_every_key_opens() {
        let (new, old) = ([1_u8; 32], [2_u8; 32]);
        let before = TokenKeyring::parse(&b64(old)).expect("old");
        let sealed = before.seal("tok", b"a").expect("seal");
        let after = TokenKeyring::parse(&format!("{}, {}", b64(new), b64(old))).expect("both");
        assert_ne!(after.scheme(), before.scheme());
        assert_eq!(
            after.open(before.scheme(), &sealed, b"a").expect("open"),
            "tok"
        );
        assert_eq!(after.key_ids().count(), 2);
        assert!(after.scheme().ends_with(after.current_key_id()));

        let only_new = TokenKeyring::new([new]).expect("new");
        let err = only_new
            .open(before.scheme(), &sealed, b"a")
            .expect_err("old key gone");
        assert!(err.to_string().contains(before.current_key_id()), "{err}");
        assert!(err.to_string().contains("META_TOKEN_KEY"), "{err}");
    }

    #[test]
    fn plain_tokens_open_and_unknown_schemes_do_not() {
        let keys = TokenKeyring::generate();
        assert_eq!(keys.open("plain", "tok", b"a").expect("plain"), "tok");
        assert!(keys.open("kms-v1", "x", b"a").is_err());
        assert!(
            keys.open(keys.scheme(), "not base64!", b"a")
                .expect_err("malformed")
                .downcast_ref::<TokenSealError>()
                .is_some()
        );
    }

    #[test]
    fn bad_keys_are_refused_naming_the_variable_and_the_fix() {
        for (value, position) in [("not-base64!", 1), (&format!("{},AAAA", b64([0; 32])), 2)] {
            let err = TokenKeyring::parse(value).expect_err("invalid");
            let text = err.to_string();
            assert!(text.contains("META_TOKEN_KEY"), "{text}");
            assert!(text.contains("token-key generate"), "{text}");
            assert!(text.contains(&format!("key {position}")), "{text}");
        }
        assert!(matches!(
            TokenKeyring::parse(" , "),
            Err(TokenKeyError::Empty)
        ));
        assert_eq!(
            TokenKeyring::parse(&TokenKeyring::generate_key())
                .expect("generated keys parse")
                .key_ids()
                .count(),
            1
        );
    }

    #[test]
    fn debug_shows_key_ids_only() {
        let key = [7_u8; 32];
        let keys = TokenKeyring::new([key]).expect("key");
        let shown = format!("{keys:?}");
        assert!(shown.contains(keys.current_key_id()), "{shown}");
        assert!(!shown.contains(&b64(key)), "{shown}");
        assert!(!shown.contains("7, 7"), "{shown}");
        assert_eq!(keys.current_key_id().len(), 8);
    }

    #[test]
    fn a_key_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("inbox.db.key");
        let first = TokenKeyring::from_key_file(&path).expect("create");
        let again = TokenKeyring::from_key_file(&path).expect("reuse");
        assert_eq!(first.current_key_id(), again.current_key_id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| fs::metadata(p).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod");
            TokenKeyring::from_key_file(&path).expect("reuse");
            assert_eq!(mode(&path), 0o600, "tightened");
        }
        fs::write(&path, "garbage").expect("write");
        assert!(matches!(
            TokenKeyring::from_key_file(&path),
            Err(TokenKeyError::InKeyFile { .. })
        ));
    }
}
