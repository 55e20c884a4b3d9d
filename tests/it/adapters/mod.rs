//! The adapter contract (`ADAPTERS.md`): one table of HTTP scenarios, run against the axum and
//! the actix-web adapter, each served in-process on a loopback port.

mod crash;
mod health;
mod oauth;
mod outage;
mod security;
mod shutdown;
mod status;
mod table;
mod telemetry;
mod tenants;
