//! The `meta-messaging` CLI, driven in-process through its library entry point.

mod backfill;
mod doctor_and_send;
mod doctor_emulator;
mod doctor_silences;
mod emulate;
mod endpoints;
mod local;
mod profile;
mod token_key;
