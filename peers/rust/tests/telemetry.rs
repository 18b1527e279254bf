//! contracts/telemetry.md against the Rust peer.
//!
//! Metrics: known requests through the whole router (the workload and what `server` adds),
//! without a socket, then the exact counts of a scrape; and the binary's `/metrics`, on the
//! workload's port or grpc's `--metrics-port`. Traces: the binary (`CARGO_BIN_EXE`) sends its
//! spans to an OTLP/HTTP receiver in this test, which decodes them with opentelemetry-proto's
//! types; the binary is stopped with SIGTERM before the spans are looked at, so every span it
//! made has been sent (the stop flushes) and nothing waits on a timer.
//!
//! The sql tests that need PostgreSQL are `#[ignore]`d and fail without STACKBENCH_PG_URL, as
//! in tests/sql.rs (`stackbench pg -- cargo test --test telemetry -- --include-ignored`).

mod common;

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::routing::post;
use http_body_util::BodyExt;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode as SpanStatus;
use prost::Message;
use stackbench_rust::grpc::pb::ticks_client::TicksClient;
use stackbench_rust::grpc::pb::{QuoteRequest, StreamRequest};
use stackbench_rust::server;
use stackbench_rust::sql::{self, Database, DbStrategy, Pipelined};
use stackbench_rust::telemetry::http::HttpLayer;
use stackbench_rust::telemetry::{Metrics, Protocol};
use stackbench_rust::tier::Tier;
use stackbench_rust::{csv, echo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tonic::transport::Channel;
use tower::ServiceExt;

// --- metrics through the router -------------------------------------------------------

/// `workload` as `server::serve` serves it, counted in the `Metrics` returned.
fn observed(workload: Router) -> (Router, Arc<Metrics>) {
    let metrics = Arc::new(Metrics::new(Protocol::Http));
    let layer = HttpLayer::new(Arc::clone(&metrics), 0);
    let app = server::with_common(workload, Arc::new(AtomicU64::new(0)), layer);
    (app, metrics)
}

/// The samples of a scrape in the text format, by name and labels (sorted by name).
#[derive(Debug)]
struct Samples(HashMap<String, f64>);

impl Samples {
    fn parse(text: &str) -> Samples {
        let mut samples = HashMap::new();
        for line in text
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            let (series, value) = line.rsplit_once(' ').expect("a sample line");
            let (name, labels) = match series.split_once('{') {
                Some((name, labels)) => (name, labels.trim_end_matches('}')),
                None => (series, ""),
            };
            let mut labels: Vec<&str> = labels.split(',').filter(|l| !l.is_empty()).collect();
            labels.sort();
            let key = format!("{name}{{{}}}", labels.join(","));
            let old = samples.insert(key, value.parse().expect("a number"));
            assert!(old.is_none(), "{line} twice");
        }
        Samples(samples)
    }

    /// The sample of `name` with exactly these labels.
    fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let mut labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
        labels.sort();
        self.0
            .get(&format!("{name}{{{}}}", labels.join(",")))
            .copied()
    }

    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.get(name, labels)
            .unwrap_or_else(|| panic!("no {name} {labels:?} in {:#?}", self.0))
    }

    /// Whether any sample has this label.
    fn any_with(&self, label: &str) -> bool {
        self.0.keys().any(|k| k.contains(label))
    }
}

/// `GET /metrics` through `app`: its Content-Type and text.
async fn scrape(app: &Router) -> (String, Samples) {
    let request = Request::get("/metrics").body(Body::empty()).unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_owned();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8(body.to_vec()).unwrap();
    check_families(&text);
    (content_type, Samples::parse(&text))
}

/// Every family has its HELP and TYPE, once each, before its samples.
fn check_families(text: &str) {
    let mut typed: HashMap<&str, &str> = HashMap::new();
    let mut helped = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap();
            assert!(!help.is_empty() && !helped.contains(&name), "{line}");
            helped.push(name);
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(helped.contains(&name), "TYPE before HELP: {line}");
            assert!(typed.insert(name, kind).is_none(), "{line}");
        } else if !line.is_empty() {
            let name = line.split(['{', ' ']).next().unwrap();
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| {
                    name.strip_suffix(s)
                        .filter(|f| typed.get(f) == Some(&"histogram"))
                })
                .unwrap_or(name);
            assert!(typed.contains_key(family), "a sample without TYPE: {line}");
        }
    }
}

#[tokio::test]
async fn http_requests_are_counted_under_their_route() {
    for tier in [Tier::Idiomatic, Tier::Tuned] {
        let (app, _) = observed(echo::router(echo::Config {
            body_limit: 64,
            tier,
        }));
        let doc = r#"{ "a" : [1, 2] }"#;
        let mut answered = 0;
        for _ in 0..3 {
            let a = common::send(&app, "POST", "/echo", doc).await;
            assert_eq!(
                (a.status, a.body.as_str()),
                (StatusCode::OK, r#"{"a":[1,2]}"#)
            );
            answered += a.body.len();
        }
        let bad = common::send(&app, "POST", "/echo", "{").await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        let too_large = common::send(&app, "POST", "/echo", "1".repeat(65)).await;
        assert_eq!(too_large.status, StatusCode::PAYLOAD_TOO_LARGE);
        let not_allowed = common::send(&app, "GET", "/echo", "").await;
        assert_eq!(not_allowed.status, StatusCode::METHOD_NOT_ALLOWED);
        answered += bad.body.len() + too_large.body.len() + not_allowed.body.len();
        assert_eq!(
            common::send(&app, "GET", "/nope", "").await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            common::send(&app, "GET", "/health", "").await.status,
            StatusCode::OK
        );
        assert_eq!(
            common::send(&app, "HEAD", "/health", "").await.status,
            StatusCode::OK
        );
        let (content_type, m) = scrape(&app).await;
        scrape(&app).await; // a scrape is not counted either

        assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
        let requests = |method, route, code| {
            m.value(
                "http_requests_total",
                &[("method", method), ("route", route), ("code", code)],
            )
        };
        assert_eq!(requests("POST", "/echo", "200"), 3.0, "{tier}");
        assert_eq!(requests("POST", "/echo", "400"), 1.0);
        assert_eq!(requests("POST", "/echo", "413"), 1.0);
        assert_eq!(requests("GET", "/echo", "405"), 1.0);
        assert_eq!(requests("GET", "other", "404"), 1.0);
        assert!(
            !m.any_with("route=\"/health\"") && !m.any_with("route=\"/metrics\""),
            "{m:?}"
        );
        let route = |r| [("route", r)];
        assert_eq!(
            m.value("http_request_duration_seconds_count", &route("/echo")),
            6.0
        );
        assert_eq!(
            m.value("http_request_duration_seconds_count", &route("other")),
            1.0
        );
        assert_eq!(
            m.value(
                "http_request_duration_seconds_bucket",
                &[("route", "/echo"), ("le", "+Inf")]
            ),
            6.0
        );
        // The 413's body is refused by its length, unread.
        let read = 3 * doc.len() + 1;
        assert_eq!(
            m.value("http_request_body_bytes_total", &route("/echo")),
            read as f64
        );
        assert_eq!(
            m.value("http_response_body_bytes_total", &route("/echo")),
            answered as f64
        );
        assert_eq!(m.value("http_requests_in_flight", &[]), 0.0);
    }
}

#[tokio::test]
async fn chunked_bodies_count_their_bytes_after_de_chunking() {
    let (app, _) = observed(csv::router(csv::Config {
        body_limit: 1 << 20,
        tier: Tier::Idiomatic,
    }));
    let chunks = [
        "timestamp,symbol,price,quantity\n",
        "1,AAPL,1.5,2\n",
        "2,AAPL,2.5,2\n",
    ];
    let answer = common::send(&app, "POST", "/csv", common::chunked(&chunks)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let (_, m) = scrape(&app).await;
    let route = [("route", "/csv")];
    let sent: usize = chunks.iter().map(|c| c.len()).sum();
    assert_eq!(
        m.value("http_request_body_bytes_total", &route),
        sent as f64
    );
    assert_eq!(
        m.value("http_response_body_bytes_total", &route),
        answer.body.len() as f64
    );
}

/// `size` connections to 127.0.0.1:`port`, where nothing listens.
fn refused_db(strategy: DbStrategy, port: u16, size: usize) -> Database {
    let url = format!("postgresql://bench@127.0.0.1:{port}/stackbench");
    let pg = sql::pg_config(&url).unwrap();
    match strategy {
        DbStrategy::Exclusive => sql::pool(pg, size).into(),
        DbStrategy::Pipelined => Pipelined::lazy(pg, size).into(),
    }
}

async fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn sql_routes_are_patterns_and_a_database_down_is_counted() {
    for strategy in [DbStrategy::Exclusive, DbStrategy::Pipelined] {
        let metrics = Arc::new(Metrics::new(Protocol::Http));
        let db = refused_db(strategy, free_port().await, 2);
        let workload = sql::observed_routes(db, 1 << 20, &metrics);
        let layer = HttpLayer::new(Arc::clone(&metrics), 0);
        let app = server::with_common(workload, Arc::new(AtomicU64::new(0)), layer);
        for (method, path, body, status) in [
            ("GET", "/accounts/5", "", 503),
            ("GET", "/accounts/6", "", 503),
            ("GET", "/accounts/x", "", 400),
            ("GET", "/accounts?ids=1,2", "", 503),
            ("POST", "/orders", r#"{"account_id":1,"amount":1}"#, 503),
            ("POST", "/orders", "{", 400),
        ] {
            let got = common::send(&app, method, path, body).await;
            assert_eq!(got.status.as_u16(), status, "{strategy} {method} {path}");
        }
        let (_, m) = scrape(&app).await;
        let requests = |method, route, code| {
            m.value(
                "http_requests_total",
                &[("method", method), ("route", route), ("code", code)],
            )
        };
        assert_eq!(requests("GET", "/accounts/{id}", "503"), 2.0, "{strategy}");
        assert_eq!(requests("GET", "/accounts/{id}", "400"), 1.0);
        assert_eq!(requests("GET", "/accounts", "503"), 1.0);
        assert_eq!(requests("POST", "/orders", "503"), 1.0);
        assert_eq!(requests("POST", "/orders", "400"), 1.0);
        assert_eq!(m.value("sql_unavailable_total", &[]), 4.0);
        assert_eq!(
            m.value("sql_errors_total", &[]),
            4.0,
            "{strategy}: one per request"
        );
        assert_eq!(m.value("sql_pool_size", &[]), 2.0);
        assert_eq!(m.value("sql_pool_connections", &[]), 0.0);
    }
}

// --- the binary -----------------------------------------------------------------------

/// stackbench-rust, started with `args` on a free port of 127.0.0.1.
struct Service {
    child: Child,
    addr: SocketAddr,
    /// `--metrics-port`'s address, when it said one.
    metrics: Option<SocketAddr>,
    lines: mpsc::Receiver<String>,
}

impl Service {
    fn start(args: &[&str]) -> Service {
        let child = Command::new(env!("CARGO_BIN_EXE_stackbench-rust"))
            .args(args)
            .args(["--host", "127.0.0.1", "--port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, lines) = mpsc::channel();
        let mut service = Service {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            metrics: None,
            lines,
        };
        let stderr = BufReader::new(service.child.stderr.take().unwrap());
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        loop {
            let line = service
                .lines
                .recv_timeout(Duration::from_secs(20))
                .unwrap_or_else(|e| panic!("{args:?}: no 'listening on' line: {e}"));
            if let Some(at) = line.strip_prefix("metrics on http://") {
                service.metrics = Some(at.trim_end_matches("/metrics").parse().unwrap());
            }
            if let Some(at) = line.strip_prefix("listening on http://") {
                service.addr = at.parse().unwrap();
                return service;
            }
        }
    }

    /// SIGTERM, then its exit (at most 20 s) and what it wrote on stderr since it listened.
    async fn stop(mut self) -> (ExitStatus, String) {
        let pid = self.child.id().to_string();
        let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(killed.success());
        tokio::task::spawn_blocking(move || {
            for _ in 0..200 {
                if let Some(status) = self.child.try_wait().unwrap() {
                    // Until the end of its stderr: the reader then hangs up.
                    let mut log = Vec::new();
                    while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
                        log.push(line);
                    }
                    return (status, log.join("\n"));
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            panic!("still running 20 s after SIGTERM");
        })
        .await
        .unwrap()
    }
}

/// A test that fails leaves no service behind.
impl Drop for Service {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// An answer read from a socket.
struct Answer {
    status: u16,
    head: String,
    body: String,
}

/// One request on its own connection (`Connection: close`), its answer read to the end.
async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Answer {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tcp.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8(answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    Answer {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

fn header<'a>(answer: &'a Answer, name: &str) -> Option<&'a str> {
    answer.head.lines().skip(1).find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.eq_ignore_ascii_case(name).then_some(v.trim())
    })
}

async fn scrape_at(addr: SocketAddr) -> Samples {
    let answer = http(addr, "GET", "/metrics", &[], "").await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        header(&answer, "content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    check_families(&answer.body);
    Samples::parse(&answer.body)
}

#[test]
fn help_lists_the_telemetry_flags() {
    let out = Command::new(env!("CARGO_BIN_EXE_stackbench-rust"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--metrics-port <N>",
        "--otlp-endpoint <URL>",
        "--trace-ratio <R>",
        "[default: 0.01]",
    ] {
        assert!(help.contains(flag), "{flag}: {help}");
    }
}

#[test]
fn bad_telemetry_flags_are_usage_errors() {
    for args in [
        &["echo", "--trace-ratio", "1.5"][..],
        &["echo", "--trace-ratio", "x"],
        &["echo", "--otlp-endpoint", "https://127.0.0.1:4318"],
        &["echo", "--otlp-endpoint", "127.0.0.1:4318"],
        &["echo", "--metrics-port", "9464"],
        &["csv", "--metrics-port", "9464"],
        &["grpc", "--metrics-port", "x"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_stackbench-rust"))
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_on_the_workload_port_and_its_connections() {
    for tier in ["idiomatic", "tuned"] {
        let service = Service::start(&["echo", "--tier", tier]);
        for _ in 0..4 {
            let a = http(service.addr, "POST", "/echo", &[], "[1, 2]").await;
            assert_eq!((a.status, a.body.as_str()), (200, "[1,2]"));
        }
        assert_eq!(
            http(service.addr, "POST", "/metrics", &[], "").await.status,
            405
        );
        let m = scrape_at(service.addr).await;
        let ok = [("method", "POST"), ("route", "/echo"), ("code", "200")];
        assert_eq!(m.value("http_requests_total", &ok), 4.0, "{tier}");
        // Each request and scrape had its connection; the scrape's is still open.
        assert_eq!(m.value("http_connections_total", &[]), 6.0);
        assert!(m.value("http_connections_open", &[]) >= 1.0);
        assert!(m.value("process_resident_memory_bytes", &[]) > 0.0);
        assert!(m.value("process_open_fds", &[]) > 0.0);
        assert!(m.value("process_max_fds", &[]) > 0.0);
        assert!(m.value("process_start_time_seconds", &[]) > 1.7e9);
        m.value("process_cpu_seconds_total", &[]);
        m.value("process_virtual_memory_bytes", &[]);
        let (status, log) = service.stop().await;
        assert!(status.success(), "{log}");
        assert!(log.contains("served 4 requests"), "{log}");
    }
}

/// The grpc workload with `--metrics-port` (and more `args`).
async fn grpc_service(args: &[&str]) -> Service {
    let port = free_port().await.to_string();
    let mut all = vec!["grpc", "--metrics-port", &port];
    all.extend_from_slice(args);
    let service = Service::start(&all);
    assert_eq!(service.metrics.map(|a| a.port().to_string()), Some(port));
    service
}

async fn ticks_client(addr: SocketAddr) -> TicksClient<Channel> {
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    TicksClient::new(channel)
}

fn quote(symbol: &str) -> QuoteRequest {
    QuoteRequest {
        symbol: symbol.into(),
    }
}

/// A Stream call read to its end: the ticks it sent.
async fn stream(
    client: &mut TicksClient<Channel>,
    request: tonic::Request<StreamRequest>,
) -> usize {
    let mut ticks = client.stream(request).await.unwrap().into_inner();
    let mut n = 0;
    while ticks.message().await.unwrap().is_some() {
        n += 1;
    }
    n
}

fn stream_request(count: u32) -> tonic::Request<StreamRequest> {
    tonic::Request::new(StreamRequest {
        symbol: "AAPL".into(),
        count,
        payload_bytes: 10,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_metrics_on_the_metrics_port() {
    let service = grpc_service(&[]).await;
    let mut client = ticks_client(service.addr).await;
    for _ in 0..2 {
        client.quote(quote("AAPL")).await.unwrap();
    }
    let bad = client.quote(quote("aapl")).await.unwrap_err();
    assert_eq!(bad.code(), tonic::Code::InvalidArgument);
    assert_eq!(stream(&mut client, stream_request(100)).await, 100);
    assert_eq!(stream(&mut client, stream_request(3)).await, 3);
    let mut health = tonic_health::pb::health_client::HealthClient::new(
        Channel::from_shared(format!("http://{}", service.addr))
            .unwrap()
            .connect()
            .await
            .unwrap(),
    );
    health
        .check(tonic_health::pb::HealthCheckRequest::default())
        .await
        .unwrap();

    let metrics = service.metrics.unwrap();
    assert_eq!(http(metrics, "GET", "/other", &[], "").await.status, 404);
    let m = scrape_at(metrics).await;
    // go-grpc-middleware's labels: the method's type, service and name (then the code).
    let labels = |name| match name {
        "Stream" => ("server_stream", "stackbench.v1.Ticks"),
        "Quote" => ("unary", "stackbench.v1.Ticks"),
        _ => ("unary", "grpc.health.v1.Health"),
    };
    let method = |name| {
        let (kind, service) = labels(name);
        [
            ("grpc_type", kind),
            ("grpc_service", service),
            ("grpc_method", name),
        ]
    };
    let handled = |name, code| {
        let (kind, service) = labels(name);
        m.value(
            "grpc_server_handled_total",
            &[
                ("grpc_type", kind),
                ("grpc_service", service),
                ("grpc_method", name),
                ("grpc_code", code),
            ],
        )
    };
    assert_eq!(m.value("grpc_server_started_total", &method("Quote")), 3.0);
    assert_eq!(handled("Quote", "OK"), 2.0);
    assert_eq!(handled("Quote", "InvalidArgument"), 1.0);
    assert_eq!(
        m.value("grpc_server_msg_received_total", &method("Quote")),
        3.0
    );
    assert_eq!(m.value("grpc_server_msg_sent_total", &method("Quote")), 2.0);
    assert_eq!(m.value("grpc_server_started_total", &method("Stream")), 2.0);
    assert_eq!(handled("Stream", "OK"), 2.0);
    assert_eq!(
        m.value("grpc_server_msg_sent_total", &method("Stream")),
        103.0
    );
    assert_eq!(
        m.value("grpc_server_handling_seconds_count", &method("Stream")),
        2.0
    );
    assert_eq!(handled("Check", "OK"), 1.0);
    assert!(!m.any_with("http_requests_total"), "{m:?}");
    // Two client connections to the grpc port (the scrapes' are not counted).
    assert_eq!(m.value("http_connections_total", &[]), 2.0);
    let (status, log) = service.stop().await;
    assert!(status.success(), "{log}");
}

// --- traces ---------------------------------------------------------------------------

/// An OTLP/HTTP receiver: what it was sent, one entry per span with its resource.
struct Collector {
    addr: SocketAddr,
    spans: Arc<Mutex<Vec<Received>>>,
}

#[derive(Clone, Debug)]
struct Received {
    resource: BTreeMap<String, String>,
    span: Span,
}

impl Collector {
    async fn start() -> Collector {
        let spans: Arc<Mutex<Vec<Received>>> = Arc::default();
        let got = Arc::clone(&spans);
        let app = Router::new().route(
            "/v1/traces",
            post(move |headers: HeaderMap, body: Bytes| async move {
                assert_eq!(headers[CONTENT_TYPE], "application/x-protobuf");
                let request = ExportTraceServiceRequest::decode(body).unwrap();
                let mut got = got.lock().unwrap();
                for resource_spans in request.resource_spans {
                    let resource = resource_spans
                        .resource
                        .map(|r| {
                            r.attributes
                                .iter()
                                .map(|kv| (kv.key.clone(), text(kv)))
                                .collect()
                        })
                        .unwrap_or_default();
                    for scope in resource_spans.scope_spans {
                        for span in scope.spans {
                            got.push(Received {
                                resource: BTreeMap::clone(&resource),
                                span,
                            });
                        }
                    }
                }
                let answer = ExportTraceServiceResponse::default().encode_to_vec();
                ([(CONTENT_TYPE, "application/x-protobuf")], answer)
            }),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Collector { addr, spans }
    }

    fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn spans(&self) -> Vec<Received> {
        self.spans.lock().unwrap().clone()
    }
}

/// An attribute's value as text (numbers in decimal).
fn text(kv: &KeyValue) -> String {
    match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
        Some(Value::StringValue(s)) => s.clone(),
        Some(Value::IntValue(i)) => i.to_string(),
        Some(Value::BoolValue(b)) => b.to_string(),
        Some(Value::DoubleValue(d)) => d.to_string(),
        other => format!("{other:?}"),
    }
}

fn attributes(span: &Span) -> BTreeMap<String, String> {
    span.attributes
        .iter()
        .map(|kv| (kv.key.clone(), text(kv)))
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

const TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
const PARENT: &str = "b7ad6b7169203331";

fn traceparent(trace: &str, flags: &str) -> String {
    format!("00-{trace}-{PARENT}-{flags}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_server_spans_follow_the_contract() {
    let collector = Collector::start().await;
    let endpoint = collector.endpoint();
    let service = Service::start(&["echo", "--otlp-endpoint", &endpoint, "--trace-ratio", "1"]);
    let port = service.addr.port().to_string();
    let sampled = traceparent(TRACE, "01");
    let a = http(
        service.addr,
        "POST",
        "/echo",
        &[("traceparent", &sampled)],
        "[1]",
    )
    .await;
    assert_eq!(a.status, 200);
    assert!(header(&a, "traceparent").is_none() && header(&a, "tracestate").is_none());
    let unsampled = traceparent("1af7651916cd43dd8448eb211c80319c", "00");
    assert_eq!(
        http(
            service.addr,
            "POST",
            "/echo",
            &[("traceparent", &unsampled)],
            "[1]"
        )
        .await
        .status,
        200
    );
    let invalid = traceparent("00000000000000000000000000000000", "01");
    assert_eq!(
        http(
            service.addr,
            "POST",
            "/echo",
            &[("traceparent", &invalid)],
            "["
        )
        .await
        .status,
        400
    );
    assert_eq!(
        http(service.addr, "GET", "/nope", &[], "").await.status,
        404
    );
    let (status, log) = service.stop().await;
    assert!(status.success(), "{log}");

    let spans = collector.spans();
    assert_eq!(spans.len(), 3, "{spans:#?}");
    for r in &spans {
        assert_eq!(r.resource["service.name"], "stackbench-echo");
        assert_eq!(r.resource["telemetry.sdk.language"], "rust");
        assert!(!r.resource["service.version"].is_empty());
        assert_eq!(r.span.kind, SpanKind::Server as i32);
    }
    let child = &spans
        .iter()
        .find(|r| hex(&r.span.trace_id) == TRACE)
        .unwrap()
        .span;
    assert_eq!(child.name, "POST /echo");
    assert_eq!(hex(&child.parent_span_id), PARENT);
    assert_eq!(
        attributes(child),
        map(&[
            ("http.request.method", "POST"),
            ("url.path", "/echo"),
            ("http.route", "/echo"),
            ("http.response.status_code", "200"),
            ("network.protocol.version", "1.1"),
            ("server.port", &port),
        ])
    );
    let root = &spans
        .iter()
        .find(|r| attributes(&r.span)["http.response.status_code"] == "400")
        .unwrap()
        .span;
    assert_eq!(root.name, "POST /echo");
    assert!(
        root.parent_span_id.is_empty(),
        "an invalid traceparent is ignored"
    );
    assert_ne!(hex(&root.trace_id), "00000000000000000000000000000000");
    let unknown = &spans
        .iter()
        .find(|r| attributes(&r.span)["url.path"] == "/nope")
        .unwrap()
        .span;
    assert_eq!(unknown.name, "GET");
    assert!(!attributes(unknown).contains_key("http.route"));
    assert_ne!(
        unknown.status.as_ref().map_or(0, |s| s.code),
        SpanStatus::Error as i32
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ratio_0_sends_only_what_a_sampled_parent_asks_for() {
    let collector = Collector::start().await;
    let endpoint = collector.endpoint();
    let service = Service::start(&[
        "csv",
        "--tier",
        "tuned",
        "--otlp-endpoint",
        &endpoint,
        "--trace-ratio",
        "0",
    ]);
    for _ in 0..20 {
        assert_eq!(
            http(service.addr, "POST", "/csv", &[], "1,AAPL,1.5,2\n")
                .await
                .status,
            200
        );
    }
    let sampled = traceparent(TRACE, "01");
    let a = http(
        service.addr,
        "POST",
        "/csv",
        &[("traceparent", &sampled)],
        "timestamp,symbol,price,quantity\n",
    )
    .await;
    assert_eq!(a.status, 200);
    let (status, log) = service.stop().await;
    assert!(status.success(), "{log}");
    let spans = collector.spans();
    assert_eq!(spans.len(), 1, "{spans:#?}");
    assert_eq!(hex(&spans[0].span.trace_id), TRACE);
    assert_eq!(spans[0].span.name, "POST /csv");
    assert_eq!(spans[0].resource["service.name"], "stackbench-csv");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_or_silent_collector_fails_no_request() {
    // Nothing listens on one; the other accepts connections and never answers.
    let dead = format!("http://127.0.0.1:{}", free_port().await);
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_url = format!("http://{}", silent.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((tcp, _)) = silent.accept().await {
            open.push(tcp);
        }
    });
    for endpoint in [dead, silent_url] {
        let service = Service::start(&["echo", "--otlp-endpoint", &endpoint, "--trace-ratio", "1"]);
        // More spans than the queue holds: the rest are dropped, the answers are not.
        for _ in 0..30 {
            let requests = (0..100).map(|_| http(service.addr, "POST", "/echo", &[], "{}"));
            for a in futures_join_all(requests).await {
                assert_eq!((a.status, a.body.as_str()), (200, "{}"), "{endpoint}");
            }
        }
        let (status, log) = service.stop().await;
        assert!(status.success(), "{endpoint}: {log}");
        assert!(log.contains("served 3000 requests"), "{endpoint}: {log}");
    }
    held.abort();
}

/// Runs the futures at once; their outputs in order.
async fn futures_join_all<F: std::future::Future + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send,
{
    let tasks: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(tasks.len());
    for task in tasks {
        out.push(task.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_span_per_grpc_call() {
    let collector = Collector::start().await;
    let endpoint = collector.endpoint();
    let service = grpc_service(&["--otlp-endpoint", &endpoint, "--trace-ratio", "1"]).await;
    let mut client = ticks_client(service.addr).await;
    let mut request = tonic::Request::new(quote("AAPL"));
    let sampled = traceparent(TRACE, "01");
    request
        .metadata_mut()
        .insert("traceparent", sampled.parse().unwrap());
    client.quote(request).await.unwrap();
    assert_eq!(stream(&mut client, stream_request(50)).await, 50);
    client.quote(quote("")).await.unwrap_err();
    let (status, log) = service.stop().await;
    assert!(status.success(), "{log}");

    let spans = collector.spans();
    assert_eq!(spans.len(), 3, "{spans:#?}");
    for r in &spans {
        assert_eq!(r.resource["service.name"], "stackbench-grpc");
        assert_eq!(r.span.kind, SpanKind::Server as i32);
    }
    let by_name = |name: &str| {
        spans
            .iter()
            .filter(|r| r.span.name == name)
            .map(|r| &r.span)
            .collect::<Vec<_>>()
    };
    let quotes = by_name("stackbench.v1.Ticks/Quote");
    assert_eq!(quotes.len(), 2);
    let child = quotes.iter().find(|s| hex(&s.trace_id) == TRACE).unwrap();
    assert_eq!(hex(&child.parent_span_id), PARENT);
    let rpc = |method: &str, code: &str| {
        map(&[
            ("rpc.system", "grpc"),
            ("rpc.service", "stackbench.v1.Ticks"),
            ("rpc.method", method),
            ("rpc.grpc.status_code", code),
        ])
    };
    assert_eq!(attributes(child), rpc("Quote", "0"));
    let invalid = quotes.iter().find(|s| hex(&s.trace_id) != TRACE).unwrap();
    assert_eq!(attributes(invalid), rpc("Quote", "3"));
    let streams = by_name("stackbench.v1.Ticks/Stream");
    assert_eq!(streams.len(), 1);
    assert_eq!(attributes(streams[0]), rpc("Stream", "0"));
    assert!(streams[0].end_time_unix_nano > streams[0].start_time_unix_nano);
}

// --- sql, against PostgreSQL ----------------------------------------------------------

fn pg_url() -> String {
    std::env::var("STACKBENCH_PG_URL").unwrap_or_else(|_| {
        panic!(
            "STACKBENCH_PG_URL is not set: this test needs a PostgreSQL (`stackbench pg` gives one)"
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a PostgreSQL: STACKBENCH_PG_URL (stackbench pg -- cargo test -- --include-ignored --skip real_restart)"]
async fn sql_statements_are_client_spans_of_their_request() {
    let url = pg_url();
    for strategy in ["exclusive", "pipelined"] {
        let collector = Collector::start().await;
        let endpoint = collector.endpoint();
        let service = Service::start(&[
            "sql",
            "--pg-url",
            &url,
            "--pool",
            "2",
            "--db-strategy",
            strategy,
            "--otlp-endpoint",
            &endpoint,
            "--trace-ratio",
            "1",
        ]);
        assert_eq!(
            http(service.addr, "GET", "/accounts/1", &[], "")
                .await
                .status,
            200
        );
        assert_eq!(
            http(service.addr, "GET", "/accounts?ids=1,2", &[], "")
                .await
                .status,
            200
        );
        let order = r#"{"account_id":10000,"amount":1}"#;
        assert_eq!(
            http(service.addr, "POST", "/orders", &[], order)
                .await
                .status,
            201
        );
        assert_eq!(
            http(service.addr, "GET", "/accounts/x", &[], "")
                .await
                .status,
            400
        );
        let m = scrape_at(service.addr).await;
        assert_eq!(m.value("sql_pool_size", &[]), 2.0);
        assert_eq!(m.value("sql_pool_connections", &[]), 2.0, "{strategy}");
        assert_eq!(m.value("sql_errors_total", &[]), 0.0);
        assert_eq!(m.value("sql_unavailable_total", &[]), 0.0);
        assert_eq!(
            m.value("sql_pool_waits_total", &[]),
            0.0,
            "one request at a time"
        );
        let (status, log) = service.stop().await;
        assert!(status.success(), "{log}");

        let spans = collector.spans();
        assert_eq!(spans.len(), 7, "{strategy}: {spans:#?}");
        let servers: Vec<&Span> = spans
            .iter()
            .map(|r| &r.span)
            .filter(|s| s.kind == SpanKind::Server as i32)
            .collect();
        let names: Vec<&str> = servers.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names.len(), 4);
        for name in ["GET /accounts/{id}", "GET /accounts", "POST /orders"] {
            assert!(names.contains(&name), "{name}: {names:?}");
        }
        for (server, statement) in [
            (
                "GET /accounts/{id}",
                ("SELECT accounts", "SELECT", "accounts"),
            ),
            ("GET /accounts", ("SELECT accounts", "SELECT", "accounts")),
            ("POST /orders", ("INSERT orders", "INSERT", "orders")),
        ] {
            let parent = servers
                .iter()
                .find(|s| s.name == server && attributes(s)["http.response.status_code"] != "400")
                .unwrap();
            let children: Vec<&Span> = spans
                .iter()
                .map(|r| &r.span)
                .filter(|s| s.parent_span_id == parent.span_id)
                .collect();
            assert_eq!(children.len(), 1, "{server}");
            let child = children[0];
            assert_eq!(child.trace_id, parent.trace_id);
            assert_eq!(child.kind, SpanKind::Client as i32);
            assert_eq!(child.name, statement.0);
            assert_eq!(
                attributes(child),
                map(&[
                    ("db.system.name", "postgresql"),
                    ("db.operation.name", statement.1),
                    ("db.collection.name", statement.2),
                ])
            );
        }
    }
}

#[tokio::test]
#[ignore = "needs a PostgreSQL: STACKBENCH_PG_URL (stackbench pg -- cargo test -- --include-ignored --skip real_restart)"]
async fn sql_waits_for_a_connection_are_counted() {
    let pg = sql::pg_config(&pg_url()).unwrap();
    // Three requests at once on one connection: exclusive lends it to one, the two others wait
    // for it; pipelined gives each a place on it at once.
    for (strategy, waits) in [(DbStrategy::Exclusive, 2.0), (DbStrategy::Pipelined, 0.0)] {
        let db: Database = match strategy {
            DbStrategy::Exclusive => sql::open_pool(pg.clone(), 1).await.unwrap().into(),
            DbStrategy::Pipelined => Pipelined::open(pg.clone(), 1).await.unwrap().into(),
        };
        let metrics = Arc::new(Metrics::new(Protocol::Http));
        let workload = sql::observed_routes(db, 1 << 20, &metrics);
        let layer = HttpLayer::new(Arc::clone(&metrics), 0);
        let app = server::with_common(workload, Arc::new(AtomicU64::new(0)), layer);
        let (a, b, c) = tokio::join!(
            common::send(&app, "GET", "/accounts/1", ""),
            common::send(&app, "GET", "/accounts/2", ""),
            common::send(&app, "GET", "/accounts?ids=3", ""),
        );
        for answer in [a, b, c] {
            assert_eq!(answer.status, StatusCode::OK, "{strategy}: {}", answer.body);
        }
        let (_, m) = scrape(&app).await;
        assert_eq!(m.value("sql_pool_waits_total", &[]), waits, "{strategy}");
        assert_eq!(m.value("sql_pool_connections", &[]), 1.0, "{strategy}");
        assert_eq!(m.value("sql_pool_size", &[]), 1.0, "{strategy}");
        assert_eq!(m.value("sql_errors_total", &[]), 0.0, "{strategy}");
    }
}
