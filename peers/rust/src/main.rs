//! stackbench-rust: the Rust peer of stackbench, serving one workload of the library crate
//! (lib.rs) from the command line.
//!
//! ```text
//! stackbench-rust WORKLOAD [--tier idiomatic|tuned] [--host ADDR] [--port N] [--body-limit BYTES]
//! stackbench-rust sql --pg-url URL [--pool N] [--db-strategy exclusive|pipelined] [...]
//! stackbench-rust grpc [--host ADDR] [--port N] [--body-limit BYTES] [--metrics-port N]
//! every workload: [--otlp-endpoint URL] [--trace-ratio R]
//! ```
//!
//! This file parses the command line, builds the app of the workload it names (an axum router,
//! or for grpc tonic's services) and hands it to `server::run`. Building may take a while and
//! may fail: sql opens its connection pool first. With `--otlp-endpoint`, tracing is set up
//! before, and its queue sent after the graceful stop.

use std::future::{Future, ready};
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;

use clap::error::ErrorKind;
use clap::{CommandFactory, FromArgMatches, Parser};
use stackbench_rust::server::App;
use stackbench_rust::sql::DbStrategy;
use stackbench_rust::telemetry::trace::{self, Tracing};
use stackbench_rust::telemetry::{Metrics, Protocol};
use stackbench_rust::tier::Tier;
use stackbench_rust::{csv, echo, grpc, server, sql};

/// A workload: its name on the command line, a one-line summary for `--help`, what it speaks
/// (which metrics it has), its largest request body (for grpc: request message) unless
/// `--body-limit` says otherwise, and the constructor of its app (given the command line, the
/// body limit in force and the metrics), which first refuses the flags that do not apply to it.
struct Workload {
    name: &'static str,
    summary: &'static str,
    protocol: Protocol,
    body_limit: usize,
    app: fn(&Cli, usize, &Arc<Metrics>) -> Result<Building, StartError>,
}

/// An app being built: ready at once for most workloads; sql first opens its connection pool.
type Building = Pin<Box<dyn Future<Output = Result<App, StartError>>>>;

/// Why a workload did not start.
enum StartError {
    /// A command-line mistake: exit status 2.
    Usage(String),
    /// A failure to get ready, such as a database that cannot be reached: exit status 1.
    Failed(String),
}

/// An app that needs nothing more to be ready.
fn built(app: App) -> Building {
    Box::pin(ready(Ok(app)))
}

/// `--db-strategy` is how the sql workload uses its connections: elsewhere it is a mistake.
fn only_sql_has_db_strategy(cli: &Cli) -> Result<(), StartError> {
    match cli.db_strategy {
        Some(_) => Err(StartError::Usage(
            "--db-strategy is for the sql workload only".into(),
        )),
        None => Ok(()),
    }
}

/// The workloads `main` dispatches on. A new workload adds a module and an entry here.
const WORKLOADS: &[Workload] = &[
    Workload {
        name: "echo",
        summary: "POST /echo: the posted JSON minified; GET /health",
        protocol: Protocol::Http,
        body_limit: 1 << 20,
        app: |cli, body_limit, _| {
            let tier = cli.tier;
            only_sql_has_db_strategy(cli)?;
            Ok(built(App::Http(echo::router(echo::Config {
                body_limit,
                tier,
            }))))
        },
    },
    Workload {
        name: "csv",
        summary: "POST /csv: CSV trades aggregated per symbol; GET /health",
        protocol: Protocol::Http,
        body_limit: csv::DEFAULT_BODY_LIMIT,
        app: |cli, body_limit, _| {
            let tier = cli.tier;
            only_sql_has_db_strategy(cli)?;
            Ok(built(App::Http(csv::router(csv::Config {
                body_limit,
                tier,
            }))))
        },
    },
    Workload {
        name: "sql",
        summary: "GET /accounts/{id}, GET /accounts?ids=, POST /orders over PostgreSQL",
        protocol: Protocol::Http,
        body_limit: 1 << 20,
        app: |cli, body_limit, metrics| {
            if cli.tier == Tier::Tuned {
                // The database's work is PostgreSQL's, and the driver's pipelining is the
                // `--db-strategy pipelined` choice: there is no hand-written tier to compare.
                return Err(StartError::Usage(
                    "sql has no tuned tier (--tier idiomatic; --db-strategy chooses how the pool is used)".into(),
                ));
            }
            let (pg_url, pool) = (cli.pg_url.clone(), cli.pool);
            let strategy = cli.db_strategy.unwrap_or_default();
            let metrics = Arc::clone(metrics);
            Ok(Box::pin(async move {
                let pg_url =
                    pg_url.ok_or_else(|| StartError::Usage("--pg-url is required".into()))?;
                let config = sql::Config {
                    body_limit,
                    pg_url,
                    pool,
                    strategy,
                };
                sql::router(config, &metrics)
                    .await
                    .map(App::Http)
                    .map_err(|e| StartError::Failed(e.to_string()))
            }))
        },
    },
    Workload {
        name: "grpc",
        summary: "gRPC over h2c: stackbench.v1.Ticks Stream and Quote, grpc.health.v1 Check",
        protocol: Protocol::Grpc,
        body_limit: grpc::DEFAULT_MAX_MESSAGE,
        app: |cli, body_limit, _| {
            if cli.tier == Tier::Tuned {
                // The work is tonic's framing and HTTP/2: there is no hand-written tier.
                return Err(StartError::Usage("grpc has no tuned tier".into()));
            }
            only_sql_has_db_strategy(cli)?;
            let config = grpc::Config {
                max_message: body_limit,
            };
            Ok(Box::pin(async move {
                Ok(App::Grpc(grpc::routes(config).await))
            }))
        },
    },
];

/// Serves a workload over HTTP/1.1 (grpc: gRPC over cleartext HTTP/2) until SIGTERM or SIGINT,
/// then stops accepting, finishes the requests in flight and prints "served N requests".
#[derive(Parser, Debug)]
#[command(name = "stackbench-rust")]
struct Cli {
    /// The workload to serve
    workload: Option<String>,

    /// Address to listen on
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    host: String,

    /// Port (0 picks a free one, printed on start)
    #[arg(long, value_name = "N", default_value_t = 8080)]
    port: u16,

    /// Largest request body in bytes: 413 above (grpc: largest request message, status 11
    /// OUT_OF_RANGE above) [default: the workload's, echo and sql 1 MiB, csv 16 MiB, grpc 4 MiB]
    #[arg(long, value_name = "BYTES", value_parser = parse_body_limit)]
    body_limit: Option<usize>,

    /// sql: the database, a libpq-style URL or keyword/value string (required)
    #[arg(long, value_name = "URL")]
    pg_url: Option<String>,

    /// sql: database connections to keep open
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = parse_pool)]
    pool: usize,

    /// The implementation: idiomatic (the crates a Rust team reaches for first; grpc: tonic) or
    /// tuned (the C service's algorithm by hand; echo and csv)
    #[arg(long, value_name = "TIER", default_value_t = Tier::Idiomatic)]
    tier: Tier,

    /// sql: exclusive (a pooled connection serves one request at a time) or pipelined (up to
    /// 32 requests in flight on each connection) [default: exclusive]
    #[arg(long, value_name = "STRATEGY")]
    db_strategy: Option<DbStrategy>,

    /// grpc: answer GET /metrics over HTTP/1.1 on this port (0: nowhere); the HTTP workloads
    /// answer /metrics on --port
    #[arg(long, value_name = "N")]
    metrics_port: Option<u16>,

    /// Send spans over OTLP/HTTP protobuf to URL/v1/traces (http://HOST:PORT); without it,
    /// nothing is traced
    #[arg(long, value_name = "URL", value_parser = trace::parse_endpoint)]
    otlp_endpoint: Option<String>,

    /// The share of requests traced, 0 to 1, by trace id; a request with a W3C traceparent
    /// follows its sampled flag
    #[arg(long, value_name = "R", default_value_t = trace::DEFAULT_RATIO, value_parser = trace::parse_ratio)]
    trace_ratio: f64,
}

fn parse_body_limit(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("want a positive number of bytes".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

fn parse_pool(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("want at least 1 connection".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

/// A command-line mistake: one line on stderr, exit status 2.
fn usage_error(msg: &str) -> ExitCode {
    eprintln!("stackbench-rust: {msg} (see stackbench-rust --help)");
    ExitCode::from(2)
}

// Worker threads: tokio's default, one per CPU that `std::thread::available_parallelism`
// reports. On Linux that follows the CPU affinity mask the process starts with (and any cgroup
// CPU quota), so the runtime sizes itself to the CPUs the lab pins the service to.
#[tokio::main]
async fn main() -> ExitCode {
    let workloads: String = WORKLOADS
        .iter()
        .map(|w| format!("\n  {:<8}  {}", w.name, w.summary))
        .collect();
    let command = Cli::command().after_help(format!("workloads:{workloads}"));
    let cli = match command
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m))
    {
        Ok(cli) => cli,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // clap's message spans several lines (tip, usage); its first line says it all.
            let text = e.render().to_string();
            let first = text.lines().next().unwrap_or("bad command line");
            return usage_error(first.trim_start_matches("error: "));
        }
    };
    let Some(name) = cli.workload.as_deref() else {
        return usage_error("missing WORKLOAD");
    };
    let Some(workload) = WORKLOADS.iter().find(|w| w.name == name) else {
        return usage_error(&format!("unknown workload '{name}'"));
    };
    if let Err(msg) = check_metrics_port(&cli, workload) {
        return usage_error(&msg);
    }
    // Before the app: sql's statements are traced from the first.
    let tracing = match &cli.otlp_endpoint {
        Some(url) => match start_tracing(url, cli.trace_ratio, name) {
            Ok(tracing) => Some(tracing),
            Err(msg) => {
                eprintln!("stackbench-rust {name}: {msg}");
                return ExitCode::FAILURE;
            }
        },
        None => None,
    };
    let metrics = Arc::new(Metrics::new(workload.protocol));
    let body_limit = cli.body_limit.unwrap_or(workload.body_limit);
    let building = (workload.app)(&cli, body_limit, &metrics);
    let app = match building {
        Ok(building) => building.await,
        Err(e) => Err(e),
    };
    let app = match app {
        Ok(app) => app,
        Err(StartError::Usage(msg)) => return usage_error(&msg),
        Err(StartError::Failed(msg)) => {
            eprintln!("stackbench-rust {name}: {msg}");
            return ExitCode::FAILURE;
        }
    };

    let served = server::run(&cli.host, cli.port, cli.metrics_port, app, metrics).await;
    if let Some(tracing) = tracing {
        tracing.shutdown().await;
    }
    match served {
        Ok(served) => {
            eprintln!("served {served} requests");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("stackbench-rust {name}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `--metrics-port` is grpc's: the HTTP workloads answer /metrics on their own port.
fn check_metrics_port(cli: &Cli, workload: &Workload) -> Result<(), String> {
    match cli.metrics_port {
        Some(port) if port != 0 && workload.protocol != Protocol::Grpc => Err(format!(
            "--metrics-port is for grpc only ({} answers /metrics on --port)",
            workload.name
        )),
        _ => Ok(()),
    }
}

/// The SDK set up for `workload`'s spans, and made tracing's subscriber.
fn start_tracing(url: &str, ratio: f64, workload: &str) -> Result<Tracing, String> {
    let tracing = Tracing::start(url, ratio, &format!("stackbench-{workload}"))?;
    ::tracing::subscriber::set_global_default(tracing.subscriber())
        .map_err(|e| format!("traces: {e}"))?;
    Ok(tracing)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("stackbench-rust").chain(args.iter().copied()))
    }

    #[test]
    fn defaults_and_flags_before_or_after_the_workload() {
        let cli = parse(&["echo"]).unwrap();
        assert_eq!(
            (
                cli.workload.as_deref(),
                cli.host.as_str(),
                cli.port,
                cli.body_limit
            ),
            (Some("echo"), "127.0.0.1", 8080, None)
        );
        let cli = parse(&["--port", "0", "echo", "--host", "::1", "--body-limit", "10"]).unwrap();
        assert_eq!(
            (cli.host.as_str(), cli.port, cli.body_limit),
            ("::1", 0, Some(10))
        );
    }

    #[test]
    fn each_workload_has_its_default_body_limit() {
        let limit = |name: &str| {
            WORKLOADS
                .iter()
                .find(|w| w.name == name)
                .unwrap()
                .body_limit
        };
        assert_eq!(limit("echo"), 1 << 20);
        assert_eq!(limit("csv"), 16 << 20);
        assert_eq!(limit("sql"), 1 << 20);
        assert_eq!(limit("grpc"), 4 << 20);
    }

    #[test]
    fn sql_flags() {
        let cli = parse(&["sql", "--pg-url", "host=/tmp dbname=x"]).unwrap();
        assert_eq!(
            (cli.pg_url.as_deref(), cli.pool),
            (Some("host=/tmp dbname=x"), 8)
        );
        let cli = parse(&["--pool", "1", "sql", "--pg-url", "postgresql://u@h/d"]).unwrap();
        assert_eq!(cli.pool, 1);
        for args in [
            &["sql", "--pool", "0"][..],
            &["sql", "--pool", "-1"],
            &["sql", "--pool", "x"],
            &["sql", "--pg-url"],
        ] {
            assert!(parse(args).is_err(), "{args:?}");
        }
    }

    async fn start(args: &[&str]) -> Result<App, StartError> {
        let cli = parse(args).unwrap();
        let workload = WORKLOADS.iter().find(|w| w.name == args[0]).unwrap();
        let metrics = Arc::new(Metrics::new(workload.protocol));
        (workload.app)(&cli, workload.body_limit, &metrics)?.await
    }

    #[test]
    fn telemetry_flags() {
        let cli = parse(&["echo"]).unwrap();
        assert_eq!(
            (
                cli.metrics_port,
                cli.otlp_endpoint.as_deref(),
                cli.trace_ratio
            ),
            (None, None, 0.01)
        );
        let cli = parse(&[
            "grpc",
            "--metrics-port",
            "9464",
            "--otlp-endpoint",
            "http://127.0.0.1:4318",
            "--trace-ratio",
            "0.5",
        ])
        .unwrap();
        assert_eq!(
            (
                cli.metrics_port,
                cli.otlp_endpoint.as_deref(),
                cli.trace_ratio
            ),
            (Some(9464), Some("http://127.0.0.1:4318/v1/traces"), 0.5)
        );
        let workload = |name| WORKLOADS.iter().find(|w| w.name == name).unwrap();
        assert!(check_metrics_port(&cli, workload("grpc")).is_ok());
        for name in ["echo", "csv", "sql"] {
            assert!(check_metrics_port(&cli, workload(name)).is_err(), "{name}");
            let zero = parse(&[name, "--metrics-port", "0"]).unwrap();
            assert!(check_metrics_port(&zero, workload(name)).is_ok(), "{name}");
        }
        for args in [
            &["echo", "--trace-ratio", "2"][..],
            &["echo", "--trace-ratio", "-1"],
            &["echo", "--otlp-endpoint", "https://x:4318"],
            &["grpc", "--metrics-port", "65536"],
        ] {
            assert!(parse(args).is_err(), "{args:?}");
        }
    }

    #[test]
    fn tier_and_db_strategy_flags() {
        let cli = parse(&["echo"]).unwrap();
        assert_eq!((cli.tier, cli.db_strategy), (Tier::Idiomatic, None));
        let cli = parse(&["csv", "--tier", "tuned"]).unwrap();
        assert_eq!(cli.tier, Tier::Tuned);
        let cli = parse(&["sql", "--db-strategy", "pipelined", "--tier", "idiomatic"]).unwrap();
        assert_eq!(
            (cli.tier, cli.db_strategy),
            (Tier::Idiomatic, Some(DbStrategy::Pipelined))
        );
        let cli = parse(&["sql", "--db-strategy", "exclusive"]).unwrap();
        assert_eq!(cli.db_strategy, Some(DbStrategy::Exclusive));
        for args in [
            &["echo", "--tier", "fast"][..],
            &["echo", "--tier"],
            &["sql", "--db-strategy", "shared"],
        ] {
            assert!(parse(args).is_err(), "{args:?}");
        }
    }

    #[tokio::test]
    async fn flags_that_do_not_apply_are_usage_errors() {
        for args in [
            &["echo", "--db-strategy", "exclusive"][..],
            &["csv", "--db-strategy", "pipelined"],
            &["grpc", "--db-strategy", "pipelined"],
            &["grpc", "--tier", "tuned"],
            &[
                "sql",
                "--tier",
                "tuned",
                "--pg-url",
                "postgresql://u@127.0.0.1:1/x",
            ],
        ] {
            assert!(
                matches!(start(args).await, Err(StartError::Usage(_))),
                "{args:?}"
            );
        }
        assert!(start(&["echo", "--tier", "tuned"]).await.is_ok());
        assert!(start(&["csv", "--tier", "tuned"]).await.is_ok());
        assert!(matches!(
            start(&["grpc", "--tier", "idiomatic", "--body-limit", "100"]).await,
            Ok(App::Grpc(_))
        ));
    }

    #[tokio::test]
    async fn sql_start_up_errors() {
        assert!(matches!(start(&["sql"]).await, Err(StartError::Usage(_))));
        let bad = start(&["sql", "--pg-url", "postgresql://u@127.0.0.1:notaport/x"]).await;
        assert!(matches!(bad, Err(StartError::Failed(msg)) if msg.starts_with("--pg-url: ")));
        assert!(start(&["echo"]).await.is_ok());

        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port(); // nothing listens there once the listener is dropped
        let url = format!("postgresql://bench@127.0.0.1:{port}/x");
        let unreachable = start(&["sql", "--pg-url", &url]).await;
        assert!(
            matches!(unreachable, Err(StartError::Failed(msg)) if msg.starts_with("cannot open the connection pool: ")),
        );
    }

    #[test]
    fn bad_flags_are_errors() {
        for args in [
            &["echo", "--port", "x"][..],
            &["echo", "--port", "65536"],
            &["echo", "--body-limit", "0"],
            &["echo", "--bogus"],
            &["echo", "extra"],
        ] {
            assert!(parse(args).is_err(), "{args:?}");
        }
    }
}
