//! Secrets: the app secret, the webhook verify token and access tokens.
//!
//! Each wraps [`secrecy::SecretString`], so its `Debug` prints `[REDACTED]` and the value is only
//! reachable through an explicit `expose()` call, which makes every use visible in review.
//! Access tokens have one type per kind, so a user token cannot be sent where Meta wants a Page
//! token.

use std::fmt;

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use subtle::ConstantTimeEq;

macro_rules! secret_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone)]
        pub struct $name(SecretString);

        impl $name {
            /// Wraps a secret value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(SecretString::from(value.into()))
            }

            /// The secret value. Call it only where the value must leave the process
            /// (a MAC key, a request header), never to log or display it.
            pub fn expose(&self) -> &str {
                self.0.expose_secret()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([REDACTED])"))
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self::new(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::new(value)
            }
        }
    };
}

secret_type! {
    /// An API token of the inbox routes: a bearer credential of one tenant (see
    /// [`contract::ApiTokens`](crate::contract::ApiTokens)). Make one with
    /// [`ApiToken::generate`].
    ApiToken
}

secret_type! {
    /// A Meta app secret: the HMAC key of webhook signatures and the `client_secret` of OAuth.
    AppSecret
}

secret_type! {
    /// The verify token you typed into the webhook settings of your Meta app; Meta echoes it in
    /// the subscription handshake.
    VerifyToken
}

secret_type! {
    /// A Page access token: sends and reads messages of one Facebook Page, and of the Instagram
    /// account linked to it. Page tokens obtained from a long-lived user token do not expire.
    PageAccessToken
}

secret_type! {
    /// A Facebook user access token, from the OAuth flow: lists the user's Pages and their tokens.
    UserAccessToken
}

secret_type! {
    /// An Instagram user access token (Instagram API with Instagram Login): messages of one
    /// Instagram professional account, through `graph.instagram.com`.
    InstagramAccessToken
}

secret_type! {
    /// An app access token (`{app-id}|{app-secret}` or one issued by Meta): for `debug_token`.
    AppAccessToken
}

impl VerifyToken {
    /// Compares a presented token with this one in constant time (for equal lengths), so the
    /// handshake endpoint does not leak the token byte by byte through response timing.
    pub fn matches(&self, presented: &str) -> bool {
        self.expose().as_bytes().ct_eq(presented.as_bytes()).into()
    }
}

/// HMAC-SHA256 of `message` under `key`: the one MAC behind `appsecret_proof`, the OAuth state
/// and the page's session cookie.
pub(crate) fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        // HMAC hashes long keys and pads short ones: no key length is refused.
        unreachable!("HMAC accepts keys of any length")
    };
    mac.update(message);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let secret = AppSecret::new("s3cr3t-app-secret");
        let token = VerifyToken::new("my-verify-token");
        assert_eq!(format!("{secret:?}"), "AppSecret([REDACTED])");
        assert!(!format!("{token:?}{secret:?}").contains("s3cr3t"));
    }

    #[test]
    fn verify_token_matching() {
        let token = VerifyToken::new("abc");
        assert!(token.matches("abc"));
        assert!(!token.matches("abd"));
        assert!(!token.matches("ab"));
        assert!(!token.matches(""));
    }
}
