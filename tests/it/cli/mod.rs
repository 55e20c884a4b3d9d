//! The `meta-messaging` CLI, driven in-process through its library entry point.

mod endpoints;
mod local;
mod token_key;
