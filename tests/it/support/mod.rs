//! Helpers shared by the integration tests.

pub mod browser;
pub mod cli;
pub mod graph_mock;
pub mod postgres;
