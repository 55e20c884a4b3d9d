//! The one integration-test binary of the workspace: one module per area.

mod cli;
mod properties;
