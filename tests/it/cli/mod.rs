//! The `meta-messaging` CLI, driven in-process through its library entry point.

mod emulate;
mod endpoints;
mod local;
mod token_key;
