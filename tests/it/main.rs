//! The one integration-test binary of the workspace: one module per area.

// Everything here is test code, helpers included: a panic is how a failure is reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod adapters;
mod cli;
mod emulator;
mod faults;
mod graph;
mod inbox;
mod openapi;
mod properties;
mod support;
mod webhook;

mod media_s3;
mod store;
mod store_batch;
mod store_tokens;
mod unified_inbox;
mod unified_inbox_cli;
