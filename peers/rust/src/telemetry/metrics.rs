//! The registry of a process, the families of contracts/telemetry.md in it, and the answer to
//! `GET /metrics` (Prometheus text format 0.0.4).
//!
//! The `prometheus` crate rather than `metrics` + `metrics-exporter-prometheus`: a family is
//! declared here with the contract's exact name, help, label names and buckets, and one of its
//! series is a handle (`IntCounter`, `Histogram`) that is looked up once and kept, so that the
//! request path is an atomic add on a series already found (see `RouteSeries`, `MethodSeries`).
//! Its `process` feature gives the process_* families the Prometheus client libraries share,
//! and it brings no HTTP server or exporter of its own. The `metrics` facade would take its
//! names and buckets from the exporter's configuration, apart from the code that records, and
//! writes a histogram as a summary unless told each one's buckets.
//!
//! What the prometheus crate gives differently from the contract (contracts/telemetry.md, Rust):
//! `process_cpu_seconds_total` and `process_start_time_seconds` in whole seconds, and one
//! family more, `process_threads`.

use std::sync::{Arc, Mutex, OnceLock, RwLock};

use axum::Router;
use axum::body::Body;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts,
    Registry, TextEncoder,
};

use crate::server;

/// The contract's buckets, in seconds: 10 µs to 10 s in 1-2.5-5 steps.
pub const BUCKETS: [f64; 19] = [
    0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The Content-Type of a scrape's answer.
pub const CONTENT_TYPE_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The label of a request whose path matched no route.
pub const OTHER: &str = "other";

/// Which request families a workload has: `http_*` (echo, csv, sql) or `grpc_server_*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    Http,
    Grpc,
}

/// The figures of one process: what `/metrics` answers.
pub struct Metrics {
    registry: Registry,
    http: Option<HttpFamilies>,
    grpc: Option<GrpcFamilies>,
    connections: Connections,
    /// Run before each scrape: figures read from elsewhere (the sql pool's connections).
    before_scrape: Mutex<Vec<Box<dyn Fn() + Send + Sync>>>,
}

fn counter(registry: &Registry, name: &str, help: &str) -> IntCounter {
    let c = IntCounter::new(name, help).expect("a valid counter");
    registry
        .register(Box::new(c.clone()))
        .expect("one family per name");
    c
}

fn gauge(registry: &Registry, name: &str, help: &str) -> IntGauge {
    let g = IntGauge::new(name, help).expect("a valid gauge");
    registry
        .register(Box::new(g.clone()))
        .expect("one family per name");
    g
}

fn counter_vec(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let c = IntCounterVec::new(Opts::new(name, help), labels).expect("a valid counter");
    registry
        .register(Box::new(c.clone()))
        .expect("one family per name");
    c
}

fn histogram_vec(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> HistogramVec {
    let opts = HistogramOpts::new(name, help).buckets(BUCKETS.to_vec());
    let h = HistogramVec::new(opts, labels).expect("a valid histogram");
    registry
        .register(Box::new(h.clone()))
        .expect("one family per name");
    h
}

impl Metrics {
    /// The families of a workload that speaks `protocol`, with the connections' and the
    /// process's.
    pub fn new(protocol: Protocol) -> Metrics {
        let registry = Registry::new();
        #[cfg(target_os = "linux")]
        registry
            .register(Box::new(
                prometheus::process_collector::ProcessCollector::for_self(),
            ))
            .expect("one family per name");
        let connections = Connections {
            open: gauge(
                &registry,
                "http_connections_open",
                "Open client connections.",
            ),
            total: counter(&registry, "http_connections_total", "Accepted connections."),
        };
        let (http, grpc) = match protocol {
            Protocol::Http => (Some(HttpFamilies::new(&registry)), None),
            Protocol::Grpc => (None, Some(GrpcFamilies::new(&registry))),
        };
        Metrics {
            registry,
            http,
            grpc,
            connections,
            before_scrape: Mutex::default(),
        }
    }

    pub fn http(&self) -> &HttpFamilies {
        self.http.as_ref().expect("the metrics of an HTTP workload")
    }

    pub fn grpc(&self) -> &GrpcFamilies {
        self.grpc
            .as_ref()
            .expect("the metrics of the grpc workload")
    }

    pub fn connections(&self) -> &Connections {
        &self.connections
    }

    /// `hook` runs before each scrape, to set figures that are read rather than counted.
    pub fn before_scrape(&self, hook: impl Fn() + Send + Sync + 'static) {
        self.hooks().push(Box::new(hook));
    }

    fn hooks(&self) -> std::sync::MutexGuard<'_, Vec<Box<dyn Fn() + Send + Sync>>> {
        self.before_scrape.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every family, in the text format.
    pub fn encode(&self) -> Vec<u8> {
        for hook in self.hooks().iter() {
            hook();
        }
        let mut text = Vec::with_capacity(8 << 10);
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut text)
            .expect("writing to a Vec does not fail");
        text
    }

    /// The sql workload's families, registered here, for a pool of `size` connections.
    pub fn sql(&self, size: usize) -> Arc<SqlMetrics> {
        let r = &self.registry;
        let sql = SqlMetrics {
            connections: gauge(
                r,
                "sql_pool_connections",
                "Database connections open in the pool.",
            ),
            size: gauge(r, "sql_pool_size", "The pool's configured size."),
            waits: counter(
                r,
                "sql_pool_waits_total",
                "Requests that had to wait for a database connection.",
            ),
            errors: counter(r, "sql_errors_total", "Database calls that failed."),
            unavailable: counter(
                r,
                "sql_unavailable_total",
                "Requests answered 503 because the database could not be used.",
            ),
        };
        sql.size.set(size as i64);
        Arc::new(sql)
    }
}

/// The answer to `GET /metrics` (and HEAD).
pub fn scrape(metrics: &Metrics) -> Response {
    let content_type = HeaderValue::from_static(CONTENT_TYPE_TEXT);
    ([(CONTENT_TYPE, content_type)], Body::from(metrics.encode())).into_response()
}

/// The `/metrics` route: GET and HEAD, 405 for the other methods.
pub fn scrape_route<S>(metrics: Arc<Metrics>) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    server::only("GET, HEAD", get(move || async move { scrape(&metrics) }))
}

/// What `--metrics-port` serves: `/metrics` and `/health` (as the C service's), 404 elsewhere.
pub fn scrape_router(metrics: Arc<Metrics>) -> Router {
    Router::new()
        .route("/metrics", scrape_route(metrics))
        .route("/health", server::health_route())
        .fallback(|| async { server::error(StatusCode::NOT_FOUND, "not_found") })
}

/// `http_connections_open` and `http_connections_total`.
pub struct Connections {
    open: IntGauge,
    total: IntCounter,
}

impl Connections {
    /// A connection accepted: counted, and open until the guard is dropped.
    pub fn accepted(&self) -> OpenConnection {
        self.total.inc();
        self.open.inc();
        OpenConnection(self.open.clone())
    }
}

/// An open connection, counted in `http_connections_open` until dropped.
#[derive(Debug)]
pub struct OpenConnection(IntGauge);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// The `http_*` request families.
pub struct HttpFamilies {
    requests: IntCounterVec,
    duration: HistogramVec,
    in_flight: IntGauge,
    request_bytes: IntCounterVec,
    response_bytes: IntCounterVec,
    /// Each route's series, found once.
    routes: RwLock<Vec<Arc<RouteSeries>>>,
}

impl HttpFamilies {
    fn new(r: &Registry) -> HttpFamilies {
        HttpFamilies {
            requests: counter_vec(
                r,
                "http_requests_total",
                "Answered requests.",
                &["method", "route", "code"],
            ),
            duration: histogram_vec(
                r,
                "http_request_duration_seconds",
                "From the request's arrival to its answer queued.",
                &["route"],
            ),
            in_flight: gauge(
                r,
                "http_requests_in_flight",
                "Requests read and not yet answered.",
            ),
            request_bytes: counter_vec(
                r,
                "http_request_body_bytes_total",
                "Request body bytes.",
                &["route"],
            ),
            response_bytes: counter_vec(
                r,
                "http_response_body_bytes_total",
                "Response body bytes.",
                &["route"],
            ),
            routes: RwLock::default(),
        }
    }

    pub fn in_flight(&self) -> &IntGauge {
        &self.in_flight
    }

    /// The series of `route` (a route's pattern, or `OTHER`).
    pub fn route(&self, route: &str) -> Arc<RouteSeries> {
        let found =
            |routes: &[Arc<RouteSeries>]| routes.iter().find(|s| &*s.route == route).cloned();
        if let Some(series) = found(&self.routes.read().unwrap_or_else(|e| e.into_inner())) {
            return series;
        }
        let mut routes = self.routes.write().unwrap_or_else(|e| e.into_inner());
        if let Some(series) = found(&routes) {
            return series;
        }
        let series = Arc::new(RouteSeries {
            route: route.into(),
            duration: self.duration.with_label_values(&[route]),
            request_bytes: self.request_bytes.with_label_values(&[route]),
            response_bytes: self.response_bytes.with_label_values(&[route]),
            requests: self.requests.clone(),
            answered: RwLock::default(),
        });
        routes.push(Arc::clone(&series));
        series
    }
}

/// One route's series. `http_requests_total`'s are found the first time a method and a status
/// are answered on the route, and kept.
pub struct RouteSeries {
    route: Box<str>,
    pub duration: Histogram,
    pub request_bytes: IntCounter,
    pub response_bytes: IntCounter,
    requests: IntCounterVec,
    answered: RwLock<Vec<(Method, u16, IntCounter)>>,
}

impl RouteSeries {
    pub fn route(&self) -> &str {
        &self.route
    }

    /// Counts a request to this route answered with `status`.
    pub fn answered(&self, method: &Method, status: StatusCode) {
        let code = status.as_u16();
        let find = |answered: &[(Method, u16, IntCounter)]| {
            answered
                .iter()
                .find(|(m, c, _)| *c == code && m == method)
                .map(|(_, _, counter)| counter.inc())
                .is_some()
        };
        if find(&self.answered.read().unwrap_or_else(|e| e.into_inner())) {
            return;
        }
        let mut answered = self.answered.write().unwrap_or_else(|e| e.into_inner());
        if find(&answered) {
            return;
        }
        let counter =
            self.requests
                .with_label_values(&[method.as_str(), &self.route, status.as_str()]);
        counter.inc();
        answered.push((method.clone(), code, counter));
    }
}

/// The methods of the grpc workload: path, then the `grpc_type`, `grpc_service` and
/// `grpc_method` labels as go-grpc-middleware writes them; any other path is `OTHER`.
pub const GRPC_METHODS: [(&str, &str, &str, &str); 4] = [
    (
        "/stackbench.v1.Ticks/Stream",
        "server_stream",
        "stackbench.v1.Ticks",
        "Stream",
    ),
    (
        "/stackbench.v1.Ticks/Quote",
        "unary",
        "stackbench.v1.Ticks",
        "Quote",
    ),
    (
        "/grpc.health.v1.Health/Check",
        "unary",
        "grpc.health.v1.Health",
        "Check",
    ),
    (
        "/grpc.health.v1.Health/Watch",
        "server_stream",
        "grpc.health.v1.Health",
        "Watch",
    ),
];

/// The names of the gRPC status codes, by number, as `grpc_code` writes them: grpc-go's
/// (`InvalidArgument`, `Canceled`), which go-grpc-middleware's dashboards expect.
pub const GRPC_CODES: [&str; 17] = [
    "OK",
    "Canceled",
    "Unknown",
    "InvalidArgument",
    "DeadlineExceeded",
    "NotFound",
    "AlreadyExists",
    "PermissionDenied",
    "ResourceExhausted",
    "FailedPrecondition",
    "Aborted",
    "OutOfRange",
    "Unimplemented",
    "Internal",
    "Unavailable",
    "DataLoss",
    "Unauthenticated",
];

/// A method's labels: `grpc_type`, `grpc_service`, `grpc_method`.
const METHOD_LABELS: [&str; 3] = ["grpc_type", "grpc_service", "grpc_method"];

/// The `grpc_server_*` families.
pub struct GrpcFamilies {
    started: IntCounterVec,
    handled: IntCounterVec,
    msg_received: IntCounterVec,
    msg_sent: IntCounterVec,
    handling: HistogramVec,
    /// Per entry of `GRPC_METHODS`, then `OTHER`: its series, found at its first call.
    methods: [OnceLock<Arc<MethodSeries>>; GRPC_METHODS.len() + 1],
}

impl GrpcFamilies {
    fn new(r: &Registry) -> GrpcFamilies {
        GrpcFamilies {
            started: counter_vec(
                r,
                "grpc_server_started_total",
                "Calls started.",
                &METHOD_LABELS,
            ),
            handled: counter_vec(
                r,
                "grpc_server_handled_total",
                "Calls ended, by status.",
                &["grpc_type", "grpc_service", "grpc_method", "grpc_code"],
            ),
            msg_received: counter_vec(
                r,
                "grpc_server_msg_received_total",
                "Request messages received.",
                &METHOD_LABELS,
            ),
            msg_sent: counter_vec(
                r,
                "grpc_server_msg_sent_total",
                "Messages sent.",
                &METHOD_LABELS,
            ),
            handling: histogram_vec(
                r,
                "grpc_server_handling_seconds",
                "From a call's start to its trailers queued.",
                &METHOD_LABELS,
            ),
            methods: Default::default(),
        }
    }

    /// The series of the method at `path` (`/stackbench.v1.Ticks/Stream`).
    pub fn method(&self, path: &str) -> Arc<MethodSeries> {
        let index = GRPC_METHODS
            .iter()
            .position(|(p, ..)| *p == path)
            .unwrap_or(GRPC_METHODS.len());
        let series = self.methods[index].get_or_init(|| {
            let (kind, service, name) = GRPC_METHODS
                .get(index)
                .map_or(("unknown", OTHER, OTHER), |&(_, k, s, m)| (k, s, m));
            let labels = [kind, service, name];
            Arc::new(MethodSeries {
                name,
                labels,
                started: self.started.with_label_values(&labels),
                msg_received: self.msg_received.with_label_values(&labels),
                msg_sent: self.msg_sent.with_label_values(&labels),
                handling: self.handling.with_label_values(&labels),
                handled_family: self.handled.clone(),
                handled: Default::default(),
            })
        });
        Arc::clone(series)
    }
}

/// One gRPC method's series.
pub struct MethodSeries {
    name: &'static str,
    labels: [&'static str; 3],
    pub started: IntCounter,
    pub msg_received: IntCounter,
    pub msg_sent: IntCounter,
    pub handling: Histogram,
    handled_family: IntCounterVec,
    handled: [OnceLock<IntCounter>; GRPC_CODES.len()],
}

impl MethodSeries {
    /// Its `grpc_method` label.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Counts a call of this method ended with status `code` (0 to 16).
    pub fn handled(&self, code: usize) {
        let code = code.min(GRPC_CODES.len() - 1);
        self.handled[code]
            .get_or_init(|| {
                let [kind, service, method] = self.labels;
                self.handled_family
                    .with_label_values(&[kind, service, method, GRPC_CODES[code]])
            })
            .inc();
    }
}

/// The sql workload's families.
pub struct SqlMetrics {
    /// Set before each scrape from the pool.
    pub connections: IntGauge,
    pub size: IntGauge,
    pub waits: IntCounter,
    pub errors: IntCounter,
    pub unavailable: IntCounter,
}

impl SqlMetrics {
    /// Figures kept in no registry: for a router built without a `Metrics`.
    pub fn unregistered() -> Arc<SqlMetrics> {
        let gauge = |name| IntGauge::new(name, "-").expect("a valid gauge");
        let counter = |name| IntCounter::new(name, "-").expect("a valid counter");
        Arc::new(SqlMetrics {
            connections: gauge("sql_pool_connections"),
            size: gauge("sql_pool_size"),
            waits: counter("sql_pool_waits_total"),
            errors: counter("sql_errors_total"),
            unavailable: counter("sql_unavailable_total"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(metrics: &Metrics) -> String {
        String::from_utf8(metrics.encode()).unwrap()
    }

    #[test]
    fn families_of_each_protocol() {
        let http = text(&Metrics::new(Protocol::Http));
        for family in [
            "http_requests_in_flight",
            "http_connections_open",
            "http_connections_total",
            "process_cpu_seconds_total",
            "process_resident_memory_bytes",
            "process_virtual_memory_bytes",
            "process_start_time_seconds",
            "process_open_fds",
            "process_max_fds",
        ] {
            assert!(
                http.contains(&format!("\n# TYPE {family} ")),
                "{family}: {http}"
            );
        }
        assert!(!http.contains("grpc_"), "{http}");
        let grpc = text(&Metrics::new(Protocol::Grpc));
        assert!(!grpc.contains("http_requests"), "{grpc}");
        assert!(
            grpc.contains("# TYPE http_connections_open gauge"),
            "{grpc}"
        );
    }

    #[test]
    fn a_route_series_counts_each_method_and_status() {
        let metrics = Metrics::new(Protocol::Http);
        let route = metrics.http().route("/echo");
        assert!(Arc::ptr_eq(&route, &metrics.http().route("/echo")));
        route.answered(&Method::POST, StatusCode::OK);
        route.answered(&Method::POST, StatusCode::OK);
        route.answered(&Method::POST, StatusCode::BAD_REQUEST);
        metrics
            .http()
            .route(OTHER)
            .answered(&Method::GET, StatusCode::NOT_FOUND);
        let text = text(&metrics);
        for line in [
            r#"http_requests_total{code="200",method="POST",route="/echo"} 2"#,
            r#"http_requests_total{code="400",method="POST",route="/echo"} 1"#,
            r#"http_requests_total{code="404",method="GET",route="other"} 1"#,
        ] {
            assert!(text.lines().any(|l| l == line), "{line}: {text}");
        }
    }

    #[test]
    fn the_histograms_have_the_contract_buckets() {
        let metrics = Metrics::new(Protocol::Http);
        metrics.http().route("/echo").duration.observe(0.003);
        let text = text(&metrics);
        let les: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("http_request_duration_seconds_bucket{"))
            .map(|l| l.split("le=\"").nth(1).unwrap().split('"').next().unwrap())
            .collect();
        let want: Vec<String> = BUCKETS
            .iter()
            .map(f64::to_string)
            .chain(["+Inf".to_owned()])
            .collect();
        assert_eq!(les, want);
        assert!(
            text.contains(r#"http_request_duration_seconds_bucket{route="/echo",le="0.0025"} 0"#)
        );
        assert!(
            text.contains(r#"http_request_duration_seconds_bucket{route="/echo",le="0.005"} 1"#)
        );
    }

    #[test]
    fn grpc_methods_and_codes() {
        let metrics = Metrics::new(Protocol::Grpc);
        let grpc = metrics.grpc();
        assert_eq!(grpc.method("/stackbench.v1.Ticks/Quote").name(), "Quote");
        assert_eq!(grpc.method("/x.Y/Z").name(), OTHER);
        let stream = grpc.method("/stackbench.v1.Ticks/Stream");
        stream.started.inc();
        stream.handled(0);
        stream.handled(3);
        stream.handled(99);
        let text = text(&metrics);
        for line in [
            r#"grpc_server_started_total{grpc_method="Stream",grpc_service="stackbench.v1.Ticks",grpc_type="server_stream"} 1"#,
            r#"grpc_server_handled_total{grpc_code="OK",grpc_method="Stream",grpc_service="stackbench.v1.Ticks",grpc_type="server_stream"} 1"#,
            r#"grpc_server_handled_total{grpc_code="InvalidArgument",grpc_method="Stream",grpc_service="stackbench.v1.Ticks",grpc_type="server_stream"} 1"#,
            r#"grpc_server_handled_total{grpc_code="Unauthenticated",grpc_method="Stream",grpc_service="stackbench.v1.Ticks",grpc_type="server_stream"} 1"#,
        ] {
            assert!(text.lines().any(|l| l == line), "{line}: {text}");
        }
    }

    #[test]
    fn hooks_run_before_a_scrape() {
        let metrics = Metrics::new(Protocol::Http);
        let sql = metrics.sql(8);
        let gauge = sql.connections.clone();
        metrics.before_scrape(move || gauge.set(5));
        let text = text(&metrics);
        assert!(
            text.lines().any(|l| l == "sql_pool_connections 5"),
            "{text}"
        );
        assert!(text.lines().any(|l| l == "sql_pool_size 8"), "{text}");
        assert!(
            text.lines().any(|l| l == "sql_unavailable_total 0"),
            "{text}"
        );
    }
}
