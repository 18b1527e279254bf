//! The Rust peer of stackbench: the same workloads as the C services (contracts/*.md), written
//! the way a Rust team would write them (the `idiomatic` tier: axum on tokio's multi-thread
//! runtime, serde_json for JSON) and, for echo and csv, with the C services' algorithms by hand
//! (the `tuned` tier; see `tier`).
//!
//! Each workload lives in its own module and builds an axum `Router`, or for grpc tonic's
//! `Routes` (tonic + prost, the only tier there); `server` adds what every workload shares and
//! serves the result (listening line, request counter, request timeout, graceful stop), with
//! the metrics and traces of contracts/telemetry.md (`telemetry`). The binary (main.rs) picks the workload and its tier from the command line; the tests under
//! tests/ drive the same routers without a socket, and the grpc services over 127.0.0.1.

pub mod csv;
pub mod echo;
pub mod grpc;
pub mod server;
pub mod sql;
pub mod telemetry;
pub mod tier;
