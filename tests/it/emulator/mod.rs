//! The local Meta emulator, driven by the real `GraphClient`, the CLI and plain HTTP.

mod accounts;
mod activity;
mod appsecret;
mod backfill;
mod bot;
mod comments;
mod control;
mod inbox;
mod oauth;
mod profile;
mod read;
mod send;
mod silences;
mod upload;

use crate::support::graph_mock::fast_retries;
use meta_messaging_core::graph::GraphClient;
use meta_messaging_core::webhook::{self, Event, SIGNATURE_HEADER};
use meta_messaging_emulator::{Emulator, RunningEmulator, World};
use std::time::Duration;

use crate::support::emulator::*;
