//! A unified inbox of Facebook Messenger and Instagram Direct: an axum app that mounts the
//! meta-messaging inbox routes under `/api/meta` and serves a web page at `/` where an operator
//! filters by platform, reads threads, replies, and sees new messages arrive live (Server-Sent
//! Events).
//!
//! `--demo` runs it offline: the local Meta emulator starts in-process, a demo Page and its
//! Instagram account are connected through the OAuth flow, and simulated customers write on
//! both platforms every few seconds. See `src/main.rs` for how to run it.
//!
//! The binary is a thin wrapper over [`cli::run`], itself over [`start`], which tests use to
//! run the app in-process.

pub mod cli;
pub mod demo;
mod page;
mod server;

pub use server::{API_PREFIX, AppError, Mode, Running, check_config, start, start_with};
