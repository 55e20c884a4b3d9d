//! Helpers shared by the integration tests.

pub mod browser;
pub mod cli;
pub mod emulator;
pub mod graph_mock;
pub mod http;
pub mod inbox;
pub mod openapi;
pub mod postgres;
pub mod s3;
pub mod servers;
