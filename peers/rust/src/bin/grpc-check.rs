//! grpc-check: checks any server of the grpc workload (the C service, the Go peer, this one)
//! against contracts/grpc.md, as tonic's client sees it.
//!
//! ```text
//! grpc-check [--timeout SECONDS] HOST:PORT
//! ```
//!
//! One line per check (`ok   NAME` or `FAIL NAME: why`), then `N passed, M failed`. Exit
//! status 0 when every check passed, 1 when one failed (or the server cannot be reached), 2 for
//! a command-line mistake. Each check is bounded by `--timeout` (the deadline check by that
//! and its 200 ms deadline), so that a server that never answers fails every check in time
//! rather than hanging the run.
//!
//! Every tick is checked in full: symbol, seq, price (computed here, with the contract's
//! examples as literals where the checks meet them), ts_ns (not 0, and this machine's clock
//! within an hour: the checker and the server run side by side) and every payload byte.

use std::future::Future;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;
use clap::error::ErrorKind;
use http::uri::{PathAndQuery, Uri};
use stackbench_rust::grpc::pb::ticks_client::TicksClient;
use stackbench_rust::grpc::pb::{QuoteRequest, StreamRequest, Tick};
use stackbench_rust::grpc::price;
use tokio::task::JoinSet;
use tonic::codec::Streaming;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Request, Response, Status};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_prost::ProstCodec;

/// Checks a server of the grpc workload against contracts/grpc.md with tonic's client.
#[derive(Parser, Debug)]
#[command(name = "grpc-check")]
struct Cli {
    /// The longest one check may take
    #[arg(long, value_name = "SECONDS", default_value = "2", value_parser = parse_seconds)]
    timeout: Duration,

    /// The server (h2c, no TLS), as 127.0.0.1:8080 or [::1]:8080
    #[arg(value_name = "HOST:PORT")]
    server: String,
}

fn parse_seconds(s: &str) -> Result<Duration, String> {
    match s.parse::<f64>() {
        Ok(n) if n > 0.0 && n <= 3600.0 => Ok(Duration::from_secs_f64(n)),
        Ok(_) => Err("want more than 0 and at most 3600 seconds".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// `http://HOST:PORT`, or why HOST:PORT is not one.
fn server_uri(server: &str) -> Result<Uri, String> {
    let uri: Uri = format!("http://{server}")
        .parse()
        .map_err(|e| format!("'{server}' is not HOST:PORT ({e})"))?;
    match (
        uri.port_u16(),
        uri.path_and_query().map(PathAndQuery::as_str),
    ) {
        (Some(_), None | Some("/")) if !server.contains('/') => Ok(uri),
        _ => Err(format!("'{server}' is not HOST:PORT")),
    }
}

/// A check's outcome: why it failed.
type Verdict = Result<(), String>;

/// The checks' lines and their tally.
#[derive(Default)]
struct Report {
    passed: usize,
    failed: usize,
}

impl Report {
    /// Runs `check` for at most `limit` and prints its line.
    async fn run(&mut self, name: &str, limit: Duration, check: impl Future<Output = Verdict>) {
        let verdict = match tokio::time::timeout(limit, check).await {
            Ok(verdict) => verdict,
            Err(_) => Err(format!("not done within {:.1} s", limit.as_secs_f64())),
        };
        match verdict {
            Ok(()) => {
                self.passed += 1;
                println!("ok   {name}");
            }
            Err(why) => {
                self.failed += 1;
                println!("FAIL {name}: {why}");
            }
        }
    }

    fn summary(&self) -> ExitCode {
        println!("{} passed, {} failed", self.passed, self.failed);
        if self.failed == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }
}

/// A status as the lines show it: `status 3 (InvalidArgument) "symbol: ..."`.
fn describe(status: &Status) -> String {
    format!(
        "status {} ({:?}) {:?}",
        status.code() as i32,
        status.code(),
        status.message()
    )
}

/// `status` is `code`, and its message starts with `prefix`.
fn expect_status(status: &Status, code: Code, prefix: &str) -> Verdict {
    if status.code() != code {
        return Err(format!(
            "{}, want status {} ({code:?})",
            describe(status),
            code as i32
        ));
    }
    if !status.message().starts_with(prefix) {
        return Err(format!(
            "{}, want a message that starts with {prefix:?}",
            describe(status)
        ));
    }
    Ok(())
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

const HOUR_NS: u64 = 3_600_000_000_000;

/// Byte j = j mod 256: the payload of tick seq is the window at seq mod 256.
fn pattern() -> Vec<u8> {
    (0..65_536 + 256).map(|j| j as u8).collect()
}

/// What every tick of a call must be, and the pattern its payloads are compared with.
struct Want<'a> {
    symbol: &'a str,
    payload_bytes: usize,
    pattern: &'a [u8],
}

impl Want<'_> {
    /// Tick `seq` is the contract's, field by field.
    fn check(&self, tick: &Tick, seq: u64) -> Verdict {
        let at = format!("tick {seq}");
        if tick.symbol != self.symbol {
            return Err(format!(
                "{at}: symbol {:?}, want {:?}",
                tick.symbol, self.symbol
            ));
        }
        if tick.seq != seq {
            return Err(format!("{at}: seq {}, want {seq}", tick.seq));
        }
        let want = price(self.symbol, seq);
        if tick.price_micros != want {
            return Err(format!(
                "{at}: price_micros {}, want {want}",
                tick.price_micros
            ));
        }
        if tick.ts_ns == 0 || tick.ts_ns.abs_diff(now_ns()) > HOUR_NS {
            return Err(format!(
                "{at}: ts_ns {}, want this machine's Unix time in ns (now {})",
                tick.ts_ns,
                now_ns()
            ));
        }
        if tick.payload.len() != self.payload_bytes {
            return Err(format!(
                "{at}: {} payload bytes, want {}",
                tick.payload.len(),
                self.payload_bytes
            ));
        }
        let start = (seq % 256) as usize;
        let expected = &self.pattern[start..start + self.payload_bytes];
        if let Some(i) = (0..expected.len()).find(|&i| tick.payload[i] != expected[i]) {
            return Err(format!(
                "{at}: payload byte {i} is {}, want {}",
                tick.payload[i], expected[i]
            ));
        }
        Ok(())
    }
}

fn stream_request(symbol: &str, count: u32, payload_bytes: u32) -> StreamRequest {
    StreamRequest {
        symbol: symbol.into(),
        count,
        payload_bytes,
    }
}

/// A Stream call answers `count` ticks, each the contract's, then status 0.
async fn full_stream(
    mut client: TicksClient<Channel>,
    symbol: &str,
    count: u32,
    payload_bytes: u32,
) -> Verdict {
    let pattern = pattern();
    let want = Want {
        symbol,
        payload_bytes: payload_bytes as usize,
        pattern: &pattern,
    };
    let mut ticks = client
        .stream(stream_request(symbol, count, payload_bytes))
        .await
        .map_err(|s| format!("answered {}", describe(&s)))?
        .into_inner();
    let mut seq = 0u64;
    loop {
        match ticks.message().await {
            Ok(Some(tick)) => {
                seq += 1;
                if seq > u64::from(count) {
                    return Err(format!("more than {count} ticks"));
                }
                want.check(&tick, seq)?;
            }
            Ok(None) if seq == u64::from(count) => return Ok(()),
            Ok(None) => return Err(format!("status 0 after {seq} ticks, want {count}")),
            Err(s) => return Err(format!("after {seq} ticks: {}", describe(&s))),
        }
    }
}

async fn quote(mut client: TicksClient<Channel>) -> Verdict {
    let tick = client
        .quote(QuoteRequest {
            symbol: "AAPL".into(),
        })
        .await
        .map_err(|s| format!("answered {}", describe(&s)))?
        .into_inner();
    // The contract's example, as a literal: price("AAPL", 0) = 45295362.
    if tick.price_micros != 45_295_362 {
        return Err(format!("price_micros {}, want 45295362", tick.price_micros));
    }
    let pattern = pattern();
    let want = Want {
        symbol: "AAPL",
        payload_bytes: 0,
        pattern: &pattern,
    };
    want.check(&tick, 0)
}

/// Stream AAPL, 1000 ticks of 64 bytes; the first two prices are the contract's examples.
async fn stream(client: TicksClient<Channel>) -> Verdict {
    if (price("AAPL", 1), price("AAPL", 2)) != (46_135_581, 46_784_881) {
        return Err("this checker's price() is not the contract's".into());
    }
    full_stream(client, "AAPL", 1000, 64).await
}

/// Stream MSFT, 50 ticks of the largest payload.
async fn stream_64k(client: TicksClient<Channel>) -> Verdict {
    if price("MSFT", 1) != 431_584_221 {
        return Err("this checker's price() is not the contract's".into());
    }
    full_stream(client, "MSFT", 50, 65_536).await
}

/// A call that must fail with INVALID_ARGUMENT naming `field`, before any tick.
async fn expect_invalid<T>(
    what: &str,
    answer: Result<Response<T>, Status>,
    first_message: impl AsyncFnOnce(T) -> Result<Option<Tick>, Status>,
    field: &str,
) -> Verdict {
    let status = match answer {
        Err(status) => status,
        Ok(response) => match first_message(response.into_inner()).await {
            Err(status) => status,
            Ok(Some(tick)) => {
                return Err(format!(
                    "{what}: a tick (seq {}), want status 3 (InvalidArgument)",
                    tick.seq
                ));
            }
            Ok(None) => return Err(format!("{what}: status 0, want 3 (InvalidArgument)")),
        },
    };
    expect_status(&status, Code::InvalidArgument, field).map_err(|why| format!("{what}: {why}"))
}

async fn invalid_stream(
    client: &mut TicksClient<Channel>,
    request: StreamRequest,
    field: &str,
) -> Verdict {
    let what = format!(
        "Stream {{symbol {:?}, count {}, payload_bytes {}}}",
        request.symbol, request.count, request.payload_bytes
    );
    let answer = client.stream(request).await;
    expect_invalid(
        &what,
        answer,
        async |mut ticks: Streaming<Tick>| ticks.message().await,
        field,
    )
    .await
}

async fn invalid_quote(client: &mut TicksClient<Channel>, symbol: &str) -> Verdict {
    let what = format!("Quote {{symbol {symbol:?}}}");
    let answer = client
        .quote(QuoteRequest {
            symbol: symbol.into(),
        })
        .await;
    expect_invalid(&what, answer, async |tick: Tick| Ok(Some(tick)), "symbol").await
}

async fn invalid_symbol(mut client: TicksClient<Channel>) -> Verdict {
    for symbol in ["", "aapl", "ABCDEFGHIJKLM"] {
        invalid_stream(&mut client, stream_request(symbol, 10, 0), "symbol").await?;
        invalid_quote(&mut client, symbol).await?;
    }
    Ok(())
}

async fn invalid_count(mut client: TicksClient<Channel>) -> Verdict {
    for count in [0, 1_000_001] {
        invalid_stream(&mut client, stream_request("AAPL", count, 0), "count").await?;
    }
    Ok(())
}

async fn invalid_payload(mut client: TicksClient<Channel>) -> Verdict {
    invalid_stream(
        &mut client,
        stream_request("AAPL", 10, 65_537),
        "payload_bytes",
    )
    .await
}

/// The fields are checked in the contract's order: the first that fails answers.
async fn invalid_order(mut client: TicksClient<Channel>) -> Verdict {
    invalid_stream(&mut client, stream_request("aapl", 0, 65_537), "symbol").await?;
    invalid_stream(&mut client, stream_request("AAPL", 0, 65_537), "count").await
}

/// A path that is no method: UNIMPLEMENTED.
async fn unimplemented(channel: Channel) -> Verdict {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready()
        .await
        .map_err(|e| format!("channel not ready: {e}"))?;
    let codec: ProstCodec<QuoteRequest, Tick> = ProstCodec::default();
    let request = Request::new(QuoteRequest {
        symbol: "AAPL".into(),
    });
    let path = PathAndQuery::from_static("/stackbench.v1.Ticks/Nope");
    match grpc.unary(request, path, codec).await {
        Ok(_) => Err("answered a tick, want status 12 (Unimplemented)".into()),
        Err(status) => expect_status(&status, Code::Unimplemented, ""),
    }
}

const DEADLINE: Duration = Duration::from_millis(200);

/// A stream far longer than its 200 ms deadline: the ticks sent before it are the contract's,
/// then DEADLINE_EXCEEDED, soon after the deadline, and nothing after it.
async fn deadline(mut client: TicksClient<Channel>, limit: Duration) -> Verdict {
    let mut request = Request::new(stream_request("AAPL", 1_000_000, 65_536));
    request.set_timeout(DEADLINE); // grpc-timeout: 200000u
    let start = Instant::now();
    let status = match client.stream(request).await {
        Err(status) => status, // a trailers-only answer
        Ok(response) => {
            let pattern = pattern();
            let want = Want {
                symbol: "AAPL",
                payload_bytes: 65_536,
                pattern: &pattern,
            };
            let mut ticks = response.into_inner();
            let mut seq = 0;
            let status = loop {
                match tokio::time::timeout(limit, ticks.message()).await {
                    Err(_) => {
                        return Err(format!(
                            "no message or status for {:.1} s after tick {seq}",
                            limit.as_secs_f64()
                        ));
                    }
                    Ok(Ok(Some(tick))) => {
                        seq += 1;
                        want.check(&tick, seq)?;
                    }
                    Ok(Ok(None)) => {
                        return Err(format!(
                            "status 0 after {seq} ticks, want 4 (DeadlineExceeded)"
                        ));
                    }
                    Ok(Err(status)) => break status,
                }
            };
            match tokio::time::timeout(limit, ticks.message()).await {
                Ok(Ok(Some(_))) => return Err("a tick after the status".into()),
                Ok(Ok(None) | Err(_)) => {}
                Err(_) => return Err("the stream did not end after its status".into()),
            }
            status
        }
    };
    let took = start.elapsed();
    if status.code() == Code::Cancelled && status.message().contains("Timeout expired") {
        return Err(format!(
            "no answer head within the deadline (tonic's client gave up: {})",
            describe(&status)
        ));
    }
    if status.code() == Code::Cancelled && status.message().starts_with("h2 protocol error") {
        return Err(format!(
            "the server reset the stream (RST_STREAM) {} ms after the call began, want status 4 \
             (DeadlineExceeded) in its trailers ({})",
            took.as_millis(),
            describe(&status)
        ));
    }
    expect_status(&status, Code::DeadlineExceeded, "")?;
    // A status long after the deadline is a deadline not kept: 1 s is far more than a tick takes.
    if took > DEADLINE + Duration::from_secs(1) {
        return Err(format!(
            "DEADLINE_EXCEEDED {} ms after the call began, want about {} ms",
            took.as_millis(),
            DEADLINE.as_millis()
        ));
    }
    if took + Duration::from_millis(10) < DEADLINE {
        return Err(format!(
            "DEADLINE_EXCEEDED {} ms after the call began, before its {} ms deadline",
            took.as_millis(),
            DEADLINE.as_millis()
        ));
    }
    Ok(())
}

/// A stream dropped after 10 ticks (tonic resets it) leaves the channel usable.
async fn cancel(mut client: TicksClient<Channel>) -> Verdict {
    let pattern = pattern();
    let want = Want {
        symbol: "AAPL",
        payload_bytes: 64,
        pattern: &pattern,
    };
    let mut ticks = client
        .stream(stream_request("AAPL", 1_000_000, 64))
        .await
        .map_err(|s| format!("answered {}", describe(&s)))?
        .into_inner();
    for seq in 1..=10 {
        match ticks.message().await {
            Ok(Some(tick)) => want.check(&tick, seq)?,
            Ok(None) => return Err(format!("status 0 after {} ticks", seq - 1)),
            Err(s) => return Err(format!("after {} ticks: {}", seq - 1, describe(&s))),
        }
    }
    drop(ticks); // RST_STREAM (CANCEL)
    quote(client)
        .await
        .map_err(|why| format!("Quote after the cancel: {why}"))
}

async fn health(channel: Channel) -> Verdict {
    let mut health = HealthClient::new(channel);
    for service in ["", "stackbench.v1.Ticks"] {
        let answer = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .map_err(|s| format!("Check {service:?}: {}", describe(&s)))?
            .into_inner();
        if answer.status != ServingStatus::Serving as i32 {
            return Err(format!(
                "Check {service:?}: status {}, want 1 (SERVING)",
                answer.status
            ));
        }
    }
    Ok(())
}

async fn health_unknown(channel: Channel) -> Verdict {
    let mut health = HealthClient::new(channel);
    let request = HealthCheckRequest {
        service: "nope".into(),
    };
    match health.check(request).await {
        Ok(answer) => Err(format!(
            "Check \"nope\": status {} (ServingStatus), want status 5 (NotFound)",
            answer.into_inner().status
        )),
        Err(status) => expect_status(&status, Code::NotFound, ""),
    }
}

/// 8 streams at once on one channel (one HTTP/2 connection), each complete and in order.
async fn concurrent(client: TicksClient<Channel>) -> Verdict {
    const SYMBOLS: [&str; 8] = [
        "AAPL", "MSFT", "BRK.B", "GOOG", "AMZN", "NVDA", "META", "0.9",
    ];
    let mut streams = JoinSet::new(); // dropped on a timeout: every stream is cancelled
    for (i, symbol) in SYMBOLS.into_iter().enumerate() {
        let client = client.clone();
        streams.spawn(async move {
            full_stream(client, symbol, 2000, 512)
                .await
                .map_err(|why| format!("stream {i} ({symbol}): {why}"))
        });
    }
    while let Some(done) = streams.join_next().await {
        done.map_err(|e| format!("a stream's task failed: {e}"))??;
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            let text = e.render().to_string();
            let first = text.lines().next().unwrap_or("bad command line");
            return usage_error(first.trim_start_matches("error: "));
        }
    };
    let uri = match server_uri(&cli.server) {
        Ok(uri) => uri,
        Err(msg) => return usage_error(&msg),
    };
    let limit = cli.timeout;
    let mut report = Report::default();

    let endpoint = Endpoint::from(uri).connect_timeout(limit);
    let channel = match tokio::time::timeout(limit, endpoint.connect()).await {
        Ok(Ok(channel)) => channel,
        Ok(Err(e)) => {
            report
                .run("connect", limit, async {
                    Err(format!("{}: {e}", cli.server))
                })
                .await;
            return report.summary();
        }
        Err(_) => {
            report
                .run("connect", limit, async {
                    Err(format!(
                        "{}: no connection within {:.1} s",
                        cli.server,
                        limit.as_secs_f64()
                    ))
                })
                .await;
            return report.summary();
        }
    };
    let client = TicksClient::new(channel.clone());

    report.run("quote", limit, quote(client.clone())).await;
    report.run("stream", limit, stream(client.clone())).await;
    report
        .run("stream-64k", limit, stream_64k(client.clone()))
        .await;
    report
        .run("invalid-symbol", limit, invalid_symbol(client.clone()))
        .await;
    report
        .run("invalid-count", limit, invalid_count(client.clone()))
        .await;
    report
        .run("invalid-payload", limit, invalid_payload(client.clone()))
        .await;
    report
        .run("invalid-order", limit, invalid_order(client.clone()))
        .await;
    report
        .run("unimplemented", limit, unimplemented(channel.clone()))
        .await;
    report
        .run(
            "deadline",
            limit + DEADLINE,
            deadline(client.clone(), limit),
        )
        .await;
    report.run("cancel", limit, cancel(client.clone())).await;
    report.run("health", limit, health(channel.clone())).await;
    report
        .run("health-unknown", limit, health_unknown(channel.clone()))
        .await;
    report.run("concurrent", limit, concurrent(client)).await;
    report.summary()
}

/// A command-line mistake: one line on stderr, exit status 2.
fn usage_error(msg: &str) -> ExitCode {
    eprintln!("grpc-check: {msg} (see grpc-check --help)");
    ExitCode::from(2)
}
