//! The core `Inbox` service: receive, route, store, broadcast, send.

mod live;
mod receive;
mod send;
pub(crate) mod setup;
