//! Helpers shared by the integration tests.

pub mod cli;
pub mod graph_mock;
pub mod postgres;
