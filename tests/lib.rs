//! Cross-crate and adapter conformance tests of meta-messaging; see `it/`.
