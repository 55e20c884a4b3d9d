//! Cross-crate and adapter conformance tests of meta-messaging: the test binary is `it/`.
//!
//! This library part only compiles the Markdown guides' code blocks as doctests, so the docs
//! cannot drift from the code.

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

#[cfg(doctest)]
#[doc = include_str!("../docs/webhooks.md")]
struct WebhooksGuideDoctests;

#[cfg(doctest)]
#[doc = include_str!("../docs/graph-client.md")]
struct GraphClientGuideDoctests;

#[cfg(doctest)]
#[doc = include_str!("../docs/store.md")]
struct StoreGuideDoctests;

#[cfg(doctest)]
#[doc = include_str!("../docs/scaling.md")]
struct ScalingGuideDoctests;

#[cfg(doctest)]
#[doc = include_str!("../docs/getting-started.md")]
struct GettingStartedGuideDoctests;

#[cfg(doctest)]
#[doc = include_str!("../docs/meta-setup.md")]
struct MetaSetupGuideDoctests;

#[cfg(doctest)]
#[doc = include_str!("../docs/multi-tenancy.md")]
struct MultiTenancyGuideDoctests;

#[cfg(doctest)]
#[doc = include_str!("../docs/security.md")]
struct SecurityGuideDoctests;

#[cfg(doctest)]
#[doc = include_str!("../docs/comments-and-handover.md")]
struct CommentsAndHandoverGuideDoctests;

#[cfg(doctest)]
#[doc = include_str!("../docs/media.md")]
struct MediaGuideDoctests;

#[cfg(doctest)]
#[doc = include_str!("../docs/operations.md")]
struct OperationsGuideDoctests;
