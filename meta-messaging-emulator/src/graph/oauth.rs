//! OAuth: the Login dialog (which consents at once and redirects back with a code) and the
//! token endpoint (`/oauth/access_token`: code exchange and long-lived tokens).

use std::collections::HashMap;

use axum::response::{IntoResponse, Redirect, Response};
use rand::Rng;
use serde_json::{Value, json};

use crate::error::GraphFailure;
use crate::server::Shared;

/// The user token issued when the world names none.
const ISSUED_USER_TOKEN: &str = "EAAG-emulator-user-token";
/// Lifetimes Meta gives: short-lived tokens about 2 hours, long-lived about 60 days.
const SHORT_LIVED_SECS: u64 = 7200;
const LONG_LIVED_SECS: u64 = 5_183_944;

/// A code handed out by the dialog, redeemable once with the same redirect URI.
#[derive(Debug, Clone)]
pub(crate) struct IssuedCode {
    redirect_uri: String,
}

/// `GET /{version}/dialog/oauth`: the person "logs in and consents" at once; the browser is sent
/// to `redirect_uri` with `code` and the `state` it came with.
pub(super) fn dialog(shared: &Shared, query: &HashMap<String, String>) -> Response {
    match consent(shared, query) {
        Ok(target) => Redirect::to(&target).into_response(),
        Err(failure) => failure.into_response(),
    }
}

/// What the Login dialog does when the person accepts: a fresh code for `redirect_uri`, and the
/// URL to send them back to.
pub(crate) fn consent(
    shared: &Shared,
    query: &HashMap<String, String>,
) -> Result<String, GraphFailure> {
    let mut state = shared.lock();
    if query.get("client_id") != Some(&state.world.app.id) {
        return Err(GraphFailure::invalid_parameter(
            "Invalid App ID: the client_id is not this app's id",
        ));
    }
    let Some(redirect_uri) = query.get("redirect_uri").filter(|u| u.starts_with("http")) else {
        return Err(GraphFailure::invalid_parameter(
            "(#100) Invalid redirect_uri",
        ));
    };
    let code = format!("AQD{}", random_token(60));
    state.codes.insert(
        code.clone(),
        IssuedCode {
            redirect_uri: redirect_uri.clone(),
        },
    );
    let mut pairs = form_urlencoded::Serializer::new(String::new());
    pairs.append_pair("code", &code);
    if let Some(s) = query.get("state") {
        pairs.append_pair("state", s);
    }
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    Ok(format!("{redirect_uri}{separator}{}", pairs.finish()))
}

/// The fields that are secrets: accepted only in a `POST` form body, never in the URL.
const SECRET_FIELDS: [&str; 3] = ["client_secret", "code", "fb_exchange_token"];

/// `POST /{version}/oauth/access_token` with an `application/x-www-form-urlencoded` body: a
/// code for a user token, or (`grant_type=fb_exchange_token`) a user token for a long-lived
/// one. Meta also takes these in the query string; the emulator refuses that, so a client
/// that puts the app secret or a token in a URL (which proxies and access logs keep) fails
/// its tests.
pub(super) fn access_token(
    shared: &Shared,
    url_query: &HashMap<String, String>,
    form: &HashMap<String, String>,
) -> Result<Value, GraphFailure> {
    if let Some(field) = SECRET_FIELDS.iter().find(|f| url_query.contains_key(**f)) {
        return Err(GraphFailure::invalid_parameter(format!(
            "(#100) {field} was sent in the URL: send client_secret, code and fb_exchange_token \
             in a POST application/x-www-form-urlencoded body"
        )));
    }
    let mut query = url_query.clone();
    query.extend(form.iter().map(|(k, v)| (k.clone(), v.clone())));
    let mut state = shared.lock();
    let app = &state.world.app;
    if query.get("client_id") != Some(&app.id) {
        return Err(GraphFailure::invalid_parameter(
            "Error validating application. Invalid application ID.",
        ));
    }
    if query.get("client_secret") != Some(&app.secret) {
        return Err(GraphFailure::invalid_client_secret());
    }
    if query.get("grant_type").map(String::as_str) == Some("fb_exchange_token") {
        let presented = query.get("fb_exchange_token").map(String::as_str);
        if presented.is_none() || presented != state.world.user_token.as_deref() {
            return Err(GraphFailure::token_invalid());
        }
        return Ok(json!({
            "access_token": presented,
            "token_type": "bearer",
            "expires_in": LONG_LIVED_SECS,
        }));
    }
    let code = query
        .get("code")
        .ok_or_else(|| GraphFailure::invalid_parameter("Missing authorization code"))?;
    let issued = state
        .codes
        .remove(code)
        .ok_or_else(GraphFailure::code_used_or_invalid)?;
    if query.get("redirect_uri") != Some(&issued.redirect_uri) {
        return Err(GraphFailure::redirect_uri_mismatch());
    }
    let token = state
        .world
        .user_token
        .get_or_insert_with(|| ISSUED_USER_TOKEN.to_owned())
        .clone();
    Ok(json!({
        "access_token": token,
        "token_type": "bearer",
        "expires_in": SHORT_LIVED_SECS,
    }))
}

fn random_token(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}
