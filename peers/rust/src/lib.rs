//! The Rust peer of stackbench: the same workloads as the C services (contracts/*.md), written
//! the way a Rust team would write them (the `idiomatic` tier: axum on tokio's multi-thread
//! runtime, serde_json for JSON) and, for echo and csv, with the C services' algorithms by hand
//! (the `tuned` tier; see `tier`).
//!
//! Each workload lives in its own module and builds an axum `Router`; `server` adds what every
//! workload shares and serves the result (listening line, request counter, request timeout,
//! graceful stop). The binary (main.rs) picks the workload and its tier from the command line;
//! the tests under tests/ drive the same routers without a socket.

pub mod csv;
pub mod echo;
pub mod server;
pub mod sql;
pub mod tier;
