//! The core `Inbox` service: receive, route, store, broadcast, send.

mod fanout;
mod handlers;
mod handover;
mod idempotent;
mod live;
mod media;
mod order;
mod profiles;
mod receive;
mod send;
mod telemetry;
mod window;
