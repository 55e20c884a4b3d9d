//! The Graph API client against a strict wiremock stand-in for Meta.

#![allow(clippy::unwrap_used)]

mod accounts;
mod appsecret_proof;
mod comments;
mod errors;
mod field;
mod handover;
mod profile;
mod read;
mod report;
mod retry;
mod send;
mod templates;
mod troubleshooting_doc;
