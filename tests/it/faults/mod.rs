//! Faults of real servers, under load: PostgreSQL restarted, SQLite on a full disk.
//!
//! They need root (they create a PostgreSQL cluster of their own and mount a small tmpfs), so
//! they are ignored in the README's test command and run on their own by `.ci/run`:
//! `cargo test --workspace --all-features --test it -- --ignored --test-threads=1 faults::`.

mod cluster;
mod disk_full;
mod load;
mod postgres_restart;
