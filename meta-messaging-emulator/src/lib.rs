#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod activity;
mod comments;
mod control;
mod error;
mod graph;
mod server;
mod state;
mod subscriptions;
mod webhook;
mod world;

pub use activity::{Inbound, InboundAttachment, InboundReaction};
pub use comments::{CommentPosted, InboundComment};
pub use control::ControlError;
pub use error::EmulatorError;
pub use server::{Emulator, RunningEmulator};
pub use state::{DeliveryRecord, SentMessage};
pub use world::{App, AppMode, FacebookPage, InstagramAccount, PriorMessage, User, World};

// The guide's code blocks compile and run as doctests, so it cannot drift from the code. Under
// `cfg(doctest)` only, so the path outside the package never matters to `cargo package`.
#[cfg(doctest)]
#[doc = include_str!("../../docs/emulator.md")]
struct GuideDoctests;
