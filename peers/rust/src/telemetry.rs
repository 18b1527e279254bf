//! Telemetry (contracts/telemetry.md): Prometheus metrics on `GET /metrics`, and traces sent
//! over OTLP/HTTP, with the names every implementation shares.
//!
//! - `metrics`: the registry and the contract's families (the `prometheus` crate), and the
//!   answer to a scrape;
//! - `http`: a tower layer around the HTTP workloads' router that counts each request under its
//!   route's pattern (axum's `MatchedPath`) and makes its SERVER span;
//! - `grpc`: the same around tonic's services, with gRPC's families and spans;
//! - `conn`: the connections accepted and open, counted where the server accepts them;
//! - `trace`: the OpenTelemetry SDK set up for `--otlp-endpoint` and `--trace-ratio`, under
//!   `tracing` (the spans are `tracing` spans, made OpenTelemetry's by tracing-opentelemetry).
//!
//! Spans are written with `tracing`, as a Rust team instruments a service: the crates under
//! us already speak it, and tracing-opentelemetry is how its spans reach an OpenTelemetry
//! exporter. Without `--otlp-endpoint` no subscriber is installed and each `info_span!` is a
//! disabled callsite: a load and a branch, no span, no exporter.

pub mod conn;
pub mod grpc;
pub mod http;
pub mod metrics;
pub mod trace;

pub use metrics::{Metrics, Protocol, SqlMetrics};
