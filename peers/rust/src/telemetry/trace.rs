//! Traces: the OpenTelemetry SDK behind `tracing`, for `--otlp-endpoint URL` and
//! `--trace-ratio R` (contracts/telemetry.md).
//!
//! - Spans are `tracing` spans (`info_span!` in `http`, `grpc` and sql's statements) that
//!   tracing-opentelemetry turns into OpenTelemetry's; a filter lets through only this crate's,
//!   so that the spans and events of hyper, h2 and tonic cost nothing more with tracing on.
//! - Sampling: parent-based, trace-id ratio `R` for the roots; a request with a W3C
//!   `traceparent` follows its sampled flag (`parent_context`, with TraceContextPropagator).
//! - Export: OTLP/HTTP protobuf (opentelemetry-otlp) to `URL/v1/traces`, by the SDK's
//!   BatchSpanProcessor on its own thread, with the contract's sizes: a queue of 2048 spans
//!   (a span that finds it full is dropped), batches of 512, sent at least every second. The
//!   requests are hyper's (opentelemetry-http's `HyperClient`, no TLS), run on the service's
//!   tokio runtime (`OnRuntime`): hyper is in the build already, where reqwest would add a
//!   second HTTP client and its blocking one a runtime of its own.
//! - `Tracing::shutdown` exports what is queued: `main` calls it after the graceful stop.

use std::time::Duration;

use async_trait::async_trait;
use axum::http::{HeaderMap, Uri};
use bytes::Bytes;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TraceContextExt;
use opentelemetry::{Context, KeyValue};
use opentelemetry_http::hyper::HyperClient;
use opentelemetry_http::{HeaderExtractor, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, Sampler, SdkTracerProvider,
};
use tokio::runtime::Handle;
use tracing::Subscriber;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;

/// The root spans sampled when `--trace-ratio` is not given.
pub const DEFAULT_RATIO: f64 = 0.01;

/// Spans queued for export at most; a span that finds the queue full is dropped.
pub const QUEUE: usize = 2048;
/// Spans in one export at most.
pub const BATCH: usize = 512;
/// The longest a span waits in the queue before its batch goes.
pub const EVERY: Duration = Duration::from_secs(1);
/// The longest an export may take: a collector that does not answer costs at most this at a
/// stop, and meanwhile only the spans the full queue drops.
pub const EXPORT_TIMEOUT: Duration = Duration::from_secs(2);

/// `--otlp-endpoint`: `http://HOST:PORT`, maybe with a path; spans go to `URL/v1/traces`.
pub fn parse_endpoint(text: &str) -> Result<String, String> {
    let uri: Uri = text
        .parse()
        .map_err(|e| format!("want http://HOST:PORT, not '{text}': {e}"))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some("https") => {
            return Err(format!(
                "'{text}': https is not built in (send to a local collector over http://)"
            ));
        }
        _ => return Err(format!("want http://HOST:PORT, not '{text}'")),
    }
    if uri.host().is_none_or(str::is_empty) || uri.query().is_some() {
        return Err(format!("want http://HOST:PORT, not '{text}'"));
    }
    Ok(format!("{}/v1/traces", text.trim_end_matches('/')))
}

/// `--trace-ratio`: a number from 0 to 1.
pub fn parse_ratio(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
        _ => Err(format!("want a number from 0 to 1, not '{text}'")),
    }
}

/// The SDK, set up: hand `subscriber()` to tracing, and `shutdown` at the end.
pub struct Tracing {
    provider: SdkTracerProvider,
}

impl Tracing {
    /// Spans of `service` (`stackbench-echo`) sent to `traces_url` (what `parse_endpoint`
    /// gives), `ratio` of the roots sampled. Must run on the tokio runtime that is to send them.
    pub fn start(traces_url: &str, ratio: f64, service: &str) -> Result<Tracing, String> {
        let client = OnRuntime {
            client: HyperClient::with_default_connector(EXPORT_TIMEOUT, None),
            runtime: Handle::current(),
        };
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(traces_url)
            .with_timeout(EXPORT_TIMEOUT)
            .with_http_client(client)
            .build()
            .map_err(|e| format!("--otlp-endpoint: {e}"))?;
        let batches = BatchConfigBuilder::default()
            .with_max_queue_size(QUEUE)
            .with_max_export_batch_size(BATCH)
            .with_scheduled_delay(EVERY)
            .build();
        let processor = BatchSpanProcessor::builder(exporter)
            .with_batch_config(batches)
            .build();
        let resource = Resource::builder()
            .with_service_name(service.to_owned())
            .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
            .build();
        let provider = SdkTracerProvider::builder()
            .with_span_processor(processor)
            .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
                ratio,
            ))))
            .with_resource(resource)
            .build();
        Ok(Tracing { provider })
    }

    /// A subscriber that makes this crate's spans OpenTelemetry's, and ignores the rest.
    pub fn subscriber(&self) -> impl Subscriber + Send + Sync + 'static {
        use opentelemetry::trace::TracerProvider as _;
        let otel = tracing_opentelemetry::layer()
            .with_tracer(self.provider.tracer("stackbench-rust"))
            // No attributes of ours but the contract's: no code location, thread, busy time.
            .with_location(false)
            .with_threads(false)
            .with_tracked_inactivity(false)
            .with_target(false)
            .with_filter(Targets::new().with_target("stackbench_rust", tracing::Level::INFO));
        tracing_subscriber::registry().with(otel)
    }

    /// Sends what is queued, then stops the exporter (for at most `EXPORT_TIMEOUT` and a
    /// second more). The SDK waits on a thread: it is done off the runtime, which sends.
    pub async fn shutdown(self) {
        let provider = self.provider;
        let done = tokio::task::spawn_blocking(move || {
            provider.shutdown_with_timeout(EXPORT_TIMEOUT + Duration::from_secs(1))
        });
        if let Ok(Err(e)) = done.await {
            eprintln!("stackbench-rust: traces: {e}");
        }
    }
}

/// The span context of a request's valid W3C `traceparent`, if it has one (an invalid one is
/// ignored: the request is a root).
pub fn parent_context(headers: &HeaderMap) -> Option<Context> {
    if !headers.contains_key("traceparent") {
        return None;
    }
    let cx = TraceContextPropagator::new()
        .extract_with_context(&Context::new(), &HeaderExtractor(headers));
    cx.span().span_context().is_valid().then_some(cx)
}

/// Makes `span` the child of the request's `traceparent`, if it has a valid one.
pub fn follow_parent(span: &tracing::Span, headers: &HeaderMap) {
    if let Some(cx) = parent_context(headers) {
        // Only fails for a span that is disabled or already started: neither is the case here.
        let _ = span.set_parent(cx);
    }
}

/// An HTTP client whose requests run on a tokio runtime: the batch processor's thread waits
/// for them there.
#[derive(Debug)]
struct OnRuntime {
    client: HyperClient,
    runtime: Handle,
}

#[async_trait]
impl HttpClient for OnRuntime {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let client = self.client.clone();
        let sent = self
            .runtime
            .spawn(async move { client.send_bytes(request).await });
        sent.await.map_err(|e| Box::new(e) as HttpError)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        for (given, want) in [
            ("http://127.0.0.1:4318", "http://127.0.0.1:4318/v1/traces"),
            ("http://127.0.0.1:4318/", "http://127.0.0.1:4318/v1/traces"),
            ("http://[::1]:4318", "http://[::1]:4318/v1/traces"),
            ("http://collector/otlp", "http://collector/otlp/v1/traces"),
        ] {
            assert_eq!(parse_endpoint(given).as_deref(), Ok(want), "{given}");
        }
        for bad in [
            "",
            "127.0.0.1:4318",
            "https://127.0.0.1:4318",
            "ftp://x",
            "http://",
            "http://x?y=1",
            "http:// x",
        ] {
            assert!(parse_endpoint(bad).is_err(), "{bad:?}");
        }
        assert!(parse_endpoint("https://x").unwrap_err().contains("https"));
    }

    #[test]
    fn ratios() {
        for (given, want) in [("0", 0.0), ("1", 1.0), ("0.01", 0.01), ("0.5", 0.5)] {
            assert_eq!(parse_ratio(given), Ok(want), "{given}");
        }
        for bad in ["", "-0.1", "1.01", "x", "NaN", "inf", "1%"] {
            assert!(parse_ratio(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn traceparents() {
        let headers = |value: &str| {
            let mut h = HeaderMap::new();
            h.insert("traceparent", value.parse().unwrap());
            h
        };
        let good = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        let cx = parent_context(&headers(good)).unwrap();
        let sc = cx.span().span_context().clone();
        assert_eq!(
            sc.trace_id().to_string(),
            "0af7651916cd43dd8448eb211c80319c"
        );
        assert_eq!(sc.span_id().to_string(), "b7ad6b7169203331");
        assert!(sc.is_sampled() && sc.is_remote());
        let unsampled = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00";
        assert!(
            !parent_context(&headers(unsampled))
                .unwrap()
                .span()
                .span_context()
                .is_sampled()
        );
        for bad in [
            "00-00000000000000000000000000000000-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331",
            "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",
            "garbage",
        ] {
            assert!(parent_context(&headers(bad)).is_none(), "{bad}");
        }
        assert!(parent_context(&HeaderMap::new()).is_none());
    }
}
