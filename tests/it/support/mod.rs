//! Helpers shared by the integration tests.

pub mod graph_mock;
