//! The grpc contract (contracts/grpc.md) against the workload served as the binary serves it
//! (`server::serve` on a 127.0.0.1 listener), through tonic's client for what a gRPC client
//! sends, and through a raw HTTP/2 client (the h2 crate) for what a gRPC client would not:
//! requests without a message, compressed messages, other content types, a window never
//! opened.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::HeaderMap;
use prost::Message;
use stackbench_rust::grpc::pb::ticks_client::TicksClient;
use stackbench_rust::grpc::pb::{QuoteRequest, StreamRequest, Tick};
use stackbench_rust::grpc::{self, BAD_COUNT, BAD_PAYLOAD, BAD_SYMBOL};
use stackbench_rust::server::{self, App};
use stackbench_rust::telemetry::{Metrics, Protocol};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::codec::Streaming;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// The grpc workload on a port of 127.0.0.1, until `stop`.
struct Server {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<u64>>,
}

impl Server {
    async fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let routes = grpc::routes(grpc::Config::default()).await;
        let (stop, stopped) = oneshot::channel::<()>();
        let metrics = Arc::new(Metrics::new(Protocol::Grpc));
        let task = tokio::spawn(server::serve(
            listener,
            App::Grpc(routes),
            metrics,
            async move {
                let _ = stopped.await;
            },
        ));
        Server { addr, stop, task }
    }

    async fn channel(&self) -> Channel {
        Channel::from_shared(format!("http://{}", self.addr))
            .unwrap()
            .connect()
            .await
            .unwrap()
    }

    async fn client(&self) -> TicksClient<Channel> {
        TicksClient::new(self.channel().await)
    }

    /// Stops the server as SIGTERM does; the calls it answered with a status.
    async fn stop(self) -> u64 {
        let _ = self.stop.send(());
        self.task.await.unwrap().unwrap()
    }
}

fn stream_request(symbol: &str, count: u32, payload_bytes: u32) -> StreamRequest {
    StreamRequest {
        symbol: symbol.into(),
        count,
        payload_bytes,
    }
}

fn quote_request(symbol: &str) -> QuoteRequest {
    QuoteRequest {
        symbol: symbol.into(),
    }
}

/// Tick `seq` of `symbol` as the contract writes it, but for its clock.
fn assert_tick(tick: &Tick, symbol: &str, seq: u64, payload_bytes: usize) {
    assert_eq!(
        (tick.symbol.as_str(), tick.seq, tick.price_micros),
        (symbol, seq, grpc::price(symbol, seq)),
        "tick {seq}"
    );
    assert_ne!(tick.ts_ns, 0, "tick {seq}");
    assert_eq!(tick.payload.len(), payload_bytes, "tick {seq}");
    for (i, &b) in tick.payload.iter().enumerate() {
        assert_eq!(b, ((seq + i as u64) % 256) as u8, "tick {seq} byte {i}");
    }
}

/// Every tick of a Stream call, and the status it ends with (None: status 0).
async fn collect(
    client: &mut TicksClient<Channel>,
    request: impl tonic::IntoRequest<StreamRequest>,
) -> (Vec<Tick>, Option<Status>) {
    let mut ticks = Vec::new();
    let mut stream: Streaming<Tick> = match client.stream(request).await {
        Ok(response) => response.into_inner(),
        Err(status) => return (ticks, Some(status)),
    };
    loop {
        match stream.message().await {
            Ok(Some(tick)) => ticks.push(tick),
            Ok(None) => return (ticks, None),
            Err(status) => return (ticks, Some(status)),
        }
    }
}

#[tokio::test]
async fn the_price_examples_of_the_contract() {
    let server = Server::start().await;
    let mut client = server.client().await;
    let quote = client
        .quote(quote_request("AAPL"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(quote.price_micros, 45_295_362);
    let price = async |symbol: &str, seq: u32| {
        let (ticks, status) =
            collect(&mut server.client().await, stream_request(symbol, seq, 0)).await;
        assert!(status.is_none(), "{status:?}");
        ticks[seq as usize - 1].price_micros
    };
    assert_eq!(price("AAPL", 1).await, 46_135_581);
    assert_eq!(price("AAPL", 2).await, 46_784_881);
    assert_eq!(price("MSFT", 1).await, 431_584_221);
    assert_eq!(price("BRK.B", 3).await, 704_101_619);
    server.stop().await;
}

#[tokio::test]
async fn stream_1000_ticks_of_100_bytes_every_one_as_the_contract_says() {
    let server = Server::start().await;
    let before = grpc_now_ns();
    let (ticks, status) = collect(
        &mut server.client().await,
        stream_request("AAPL", 1000, 100),
    )
    .await;
    let after = grpc_now_ns();
    assert!(status.is_none(), "{status:?}");
    assert_eq!(ticks.len(), 1000);
    for (k, tick) in ticks.iter().enumerate() {
        assert_tick(tick, "AAPL", k as u64 + 1, 100);
        assert!(
            (before..=after).contains(&tick.ts_ns),
            "tick {}: ts_ns {}",
            k + 1,
            tick.ts_ns
        );
    }
    assert!(ticks.windows(2).all(|w| w[0].ts_ns <= w[1].ts_ns));
    server.stop().await;
}

fn grpc_now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

#[tokio::test]
async fn the_largest_payload_and_the_longest_symbol() {
    let server = Server::start().await;
    let mut client = server.client().await;
    let (ticks, status) = collect(&mut client, stream_request("0123456789.Z", 50, 65_536)).await;
    assert!(status.is_none(), "{status:?}");
    assert_eq!(ticks.len(), 50);
    for (k, tick) in ticks.iter().enumerate() {
        assert_tick(tick, "0123456789.Z", k as u64 + 1, 65_536);
    }
    server.stop().await;
}

#[tokio::test]
async fn quote_is_tick_0_without_payload() {
    let server = Server::start().await;
    let tick = server
        .client()
        .await
        .quote(quote_request("BRK.B"))
        .await
        .unwrap()
        .into_inner();
    assert_tick(&tick, "BRK.B", 0, 0);
    server.stop().await;
}

#[tokio::test]
async fn invalid_fields_are_invalid_argument_naming_the_first_that_fails() {
    let server = Server::start().await;
    let mut client = server.client().await;
    let cases = [
        (stream_request("", 10, 0), BAD_SYMBOL),
        (stream_request("aapl", 10, 0), BAD_SYMBOL),
        (stream_request("ABCDEFGHIJKLM", 10, 0), BAD_SYMBOL),
        (stream_request("AA PL", 10, 0), BAD_SYMBOL),
        (stream_request("AAPL", 0, 0), BAD_COUNT),
        (stream_request("AAPL", 1_000_001, 0), BAD_COUNT),
        (stream_request("AAPL", 10, 65_537), BAD_PAYLOAD),
        // in order: symbol, count, payload_bytes
        (stream_request("", 0, 65_537), BAD_SYMBOL),
        (stream_request("AAPL", 0, 65_537), BAD_COUNT),
    ];
    for (request, message) in cases {
        let what = format!("{request:?}");
        let (ticks, status) = collect(&mut client, request).await;
        assert!(ticks.is_empty(), "{what}");
        let status = status.unwrap();
        assert_eq!(
            (status.code(), status.message()),
            (Code::InvalidArgument, message),
            "{what}"
        );
    }
    for symbol in ["", "aapl", "ABCDEFGHIJKLM"] {
        let status = client.quote(quote_request(symbol)).await.unwrap_err();
        assert_eq!(
            (status.code(), status.message()),
            (Code::InvalidArgument, BAD_SYMBOL)
        );
    }
    // The largest valid values pass.
    let (ticks, status) = collect(&mut client, stream_request("AAPL", 1, 65_536)).await;
    assert!(status.is_none() && ticks.len() == 1, "{status:?}");
    server.stop().await;
}

#[tokio::test]
async fn a_deadline_that_passes_is_deadline_exceeded_and_nothing_after_it() {
    let server = Server::start().await;
    let mut client = server.client().await;
    let mut request = Request::new(stream_request("AAPL", 1_000_000, 65_536));
    request.set_timeout(Duration::from_millis(200)); // tonic writes it 200000u
    let start = Instant::now();
    let (ticks, status) = collect(&mut client, request).await;
    let took = start.elapsed();
    let status = status.unwrap();
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    assert!(
        took >= Duration::from_millis(200) && took < Duration::from_secs(2),
        "{took:?}"
    );
    assert!(!ticks.is_empty() && ticks.len() < 1_000_000);
    for (k, tick) in ticks.iter().enumerate() {
        assert_eq!(tick.seq, k as u64 + 1);
    }

    // Other units as the spec writes them, sent raw: tonic's client would also time out the
    // wait for the head itself (CANCELLED on its side), which races the server's answer. A
    // deadline already passed: no tick at all.
    for (timeout, count, want) in [
        ("1n", 1_000_000, "4"),
        ("150m", 1_000_000, "4"),
        ("1H", 3000, "0"),
    ] {
        let request = frame(false, &stream_request("AAPL", count, 10).encode_to_vec());
        let start = Instant::now();
        let answer = raw_call(
            server.addr,
            STREAM,
            GRPC,
            &[("grpc-timeout", timeout)],
            Some(request),
        )
        .await;
        assert_eq!(
            answer.grpc().0,
            Some(want),
            "grpc-timeout {timeout}: {answer:?}"
        );
        match timeout {
            "1n" => assert!(answer.data.is_empty()),
            "150m" => assert!(start.elapsed() >= Duration::from_millis(150)),
            _ => assert_eq!(take_ticks(&mut answer.data.clone()).len(), 3000),
        }
    }
    // The channel goes on.
    client.quote(quote_request("AAPL")).await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn an_unknown_method_or_service_is_unimplemented() {
    let server = Server::start().await;
    let channel = server.channel().await;
    for path in [
        "/stackbench.v1.Ticks/Nope",
        "/stackbench.v1.Nope/Quote",
        "/x",
    ] {
        let mut grpc = tonic::client::Grpc::new(channel.clone());
        grpc.ready().await.unwrap();
        let codec: tonic_prost::ProstCodec<QuoteRequest, Tick> = Default::default();
        let path = http::uri::PathAndQuery::from_static(path);
        let status = grpc
            .unary(Request::new(quote_request("AAPL")), path.clone(), codec)
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::Unimplemented, "{path}");
    }
    server.stop().await;
}

#[tokio::test]
async fn health_serves_the_server_and_ticks_and_knows_no_other() {
    let server = Server::start().await;
    let mut health = HealthClient::new(server.channel().await);
    let check = |service: &str| HealthCheckRequest {
        service: service.into(),
    };
    for service in ["", "stackbench.v1.Ticks"] {
        let answer = health.check(check(service)).await.unwrap().into_inner();
        assert_eq!(answer.status, ServingStatus::Serving as i32, "{service:?}");
    }
    for service in ["nope", "stackbench.v1.ticks", "grpc.health.v1.Health"] {
        let status = health.check(check(service)).await.unwrap_err();
        assert_eq!(status.code(), Code::NotFound, "{service:?}");
    }
    server.stop().await;
}

#[tokio::test]
async fn streams_on_one_connection_go_on_together() {
    let server = Server::start().await;
    let client = server.client().await;
    let mut streams = tokio::task::JoinSet::new();
    for i in 0..8u32 {
        let mut client = client.clone();
        streams.spawn(async move {
            let (ticks, status) = collect(&mut client, stream_request("MSFT", 2000 + i, 300)).await;
            assert!(status.is_none(), "{status:?}");
            assert_eq!(ticks.len(), 2000 + i as usize);
            for (k, tick) in ticks.iter().enumerate() {
                assert_tick(tick, "MSFT", k as u64 + 1, 300);
            }
        });
    }
    while let Some(done) = streams.join_next().await {
        done.unwrap();
    }
    server.stop().await;
}

/// Counts what `served N requests` prints: every call answered with a status, errors and
/// health included; a stream the client cancelled is not.
#[tokio::test]
async fn served_counts_the_calls_answered_with_a_status() {
    let server = Server::start().await;
    let channel = server.channel().await;
    let mut client = TicksClient::new(channel.clone());
    let mut health = HealthClient::new(channel.clone());
    client.quote(quote_request("AAPL")).await.unwrap(); // 1
    collect(&mut client, stream_request("AAPL", 100, 10)).await; // 2
    client.quote(quote_request("")).await.unwrap_err(); // 3
    collect(&mut client, stream_request("AAPL", 0, 0)).await; // 4
    // Raw: tonic's client would give up on a head that is late under load, and reset the call.
    let deadline = frame(false, &stream_request("AAPL", 1_000_000, 0).encode_to_vec());
    let answer = raw_call(
        server.addr,
        STREAM,
        GRPC,
        &[("grpc-timeout", "20m")],
        Some(deadline),
    )
    .await;
    assert_eq!(answer.grpc().0, Some("4")); // 5
    health.check(HealthCheckRequest::default()).await.unwrap(); // 6
    health
        .check(HealthCheckRequest {
            service: "nope".into(),
        })
        .await
        .unwrap_err(); // 7
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready().await.unwrap();
    let codec: tonic_prost::ProstCodec<QuoteRequest, Tick> = Default::default();
    let path = http::uri::PathAndQuery::from_static("/stackbench.v1.Ticks/Nope");
    grpc.unary(Request::new(quote_request("AAPL")), path, codec)
        .await
        .unwrap_err(); // 8
    // Cancelled after one tick: no status, not counted.
    let mut cancelled = client
        .stream(stream_request("AAPL", 1_000_000, 0))
        .await
        .unwrap()
        .into_inner();
    cancelled.message().await.unwrap().unwrap();
    drop(cancelled);
    client.quote(quote_request("MSFT")).await.unwrap(); // 9
    assert_eq!(server.stop().await, 9);
}

/// SIGTERM's stop: no new calls, but the stream in flight gets every tick and its status.
#[tokio::test]
async fn a_stop_lets_the_calls_in_flight_finish() {
    let server = Server::start().await;
    let addr = server.addr;
    let mut client = server.client().await;
    let mut stream = client
        .stream(stream_request("AAPL", 200_000, 0))
        .await
        .unwrap()
        .into_inner();
    let first = stream.message().await.unwrap().unwrap();
    assert_eq!(first.seq, 1);
    let _ = server.stop.send(());
    let mut last = 1;
    while let Some(tick) = stream.message().await.unwrap() {
        assert_eq!(tick.seq, last + 1);
        last = tick.seq;
    }
    assert_eq!(last, 200_000);
    assert_eq!(server.task.await.unwrap().unwrap(), 1);
    // The listener is closed.
    assert!(TcpStream::connect(addr).await.is_err());
}

// What a gRPC client would not send, through a raw HTTP/2 client.

/// The answer to one raw request: HTTP status, head, the DATA bytes and the trailers.
#[derive(Debug)]
struct RawAnswer {
    status: u16,
    head: HeaderMap,
    data: Vec<u8>,
    trailers: Option<HeaderMap>,
}

impl RawAnswer {
    /// One line for the test's output (`--nocapture`): what tonic answered.
    fn show(&self, what: &str) {
        let (status, message) = self.grpc();
        eprintln!(
            "{what}: HTTP {}, grpc-status {status:?}, grpc-message {message:?}, {}, {} data bytes, content-type {:?}",
            self.status,
            if self.trailers.is_some() {
                "in trailers"
            } else {
                "trailers-only"
            },
            self.data.len(),
            self.head.get("content-type"),
        );
    }

    /// grpc-status and grpc-message, from the trailers, or from the head of a trailers-only
    /// answer.
    fn grpc(&self) -> (Option<&str>, Option<&str>) {
        let from = self.trailers.as_ref().unwrap_or(&self.head);
        let get = |name| from.get(name).map(|v| v.to_str().unwrap());
        (get("grpc-status"), get("grpc-message"))
    }
}

/// A gRPC message: the compressed flag, the length, the bytes.
fn frame(compressed: bool, message: &[u8]) -> Vec<u8> {
    let mut out = vec![u8::from(compressed)];
    out.extend_from_slice(&(message.len() as u32).to_be_bytes());
    out.extend_from_slice(message);
    out
}

/// POSTs `body` (None: the request ends with its head) to `path` with gRPC's headers, but
/// `content-type` replaced and `extra` added.
async fn raw_call(
    addr: SocketAddr,
    path: &str,
    content_type: &str,
    extra: &[(&str, &str)],
    body: Option<Vec<u8>>,
) -> RawAnswer {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (h2, connection) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(connection);
    let mut h2 = h2.ready().await.unwrap();
    let mut request = http::Request::builder()
        .method("POST")
        .uri(format!("http://{addr}{path}"))
        .header("content-type", content_type)
        .header("te", "trailers");
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    let (answer, mut send) = h2
        .send_request(request.body(()).unwrap(), body.is_none())
        .unwrap();
    if let Some(body) = body {
        send.send_data(Bytes::from(body), true).unwrap();
    }
    let (head, mut recv) = answer.await.unwrap().into_parts();
    let mut data = Vec::new();
    while let Some(chunk) = recv.data().await {
        let chunk = chunk.unwrap();
        recv.flow_control().release_capacity(chunk.len()).unwrap();
        data.extend_from_slice(&chunk);
    }
    let trailers = recv.trailers().await.unwrap();
    RawAnswer {
        status: head.status.as_u16(),
        head: head.headers,
        data,
        trailers,
    }
}

const GRPC: &str = "application/grpc";
const QUOTE: &str = "/stackbench.v1.Ticks/Quote";
const STREAM: &str = "/stackbench.v1.Ticks/Stream";

/// tonic's answers to the contract's error rows (contracts/grpc.md, Errors), as observed.
#[tokio::test]
async fn raw_requests_get_the_error_table_answers() {
    let server = Server::start().await;
    let addr = server.addr;
    let quote = quote_request("AAPL").encode_to_vec();

    // A well-formed call, to compare with: one message, then status 0 in the trailers.
    let ok = raw_call(addr, QUOTE, GRPC, &[], Some(frame(false, &quote))).await;
    ok.show("ok");
    assert_eq!((ok.status, ok.grpc().0), (200, Some("0")), "{ok:?}");
    let tick = Tick::decode(&ok.data[5..]).unwrap();
    assert_eq!((tick.seq, tick.price_micros), (0, 45_295_362));

    // An unknown method: 12, trailers-only.
    let nope = raw_call(
        addr,
        "/stackbench.v1.Ticks/Nope",
        GRPC,
        &[],
        Some(frame(false, &quote)),
    )
    .await;
    nope.show("nope");
    assert_eq!(
        (nope.status, nope.grpc().0, nope.trailers.is_none()),
        (200, Some("12"), true),
        "{nope:?}"
    );

    // A request stream that ends without a message: 13 for unary (Quote) and server
    // streaming (Stream) alike.
    for path in [QUOTE, STREAM] {
        let empty = raw_call(addr, path, GRPC, &[], None).await;
        empty.show("empty");
        assert_eq!(
            (empty.status, empty.grpc().0),
            (200, Some("13")),
            "{path}: {empty:?}"
        );
        assert!(empty.data.is_empty(), "{path}");
    }

    // Not protobuf for its type: 13.
    let garbage = raw_call(
        addr,
        QUOTE,
        GRPC,
        &[],
        Some(frame(false, &[0xff, 0xff, 0xff])),
    )
    .await;
    garbage.show("garbage");
    assert_eq!(
        (garbage.status, garbage.grpc().0),
        (200, Some("13")),
        "{garbage:?}"
    );

    // The compressed flag with grpc-encoding gzip, which this server does not offer: 12.
    let gzip = raw_call(
        addr,
        QUOTE,
        GRPC,
        &[("grpc-encoding", "gzip")],
        Some(frame(true, &quote)),
    )
    .await;
    gzip.show("gzip");
    assert_eq!((gzip.status, gzip.grpc().0), (200, Some("12")), "{gzip:?}");
    // The compressed flag without grpc-encoding: 13.
    let flag = raw_call(addr, QUOTE, GRPC, &[], Some(frame(true, &quote))).await;
    flag.show("flag");
    assert_eq!((flag.status, flag.grpc().0), (200, Some("13")), "{flag:?}");
    // ... or with grpc-encoding identity: 13.
    let identity = raw_call(
        addr,
        QUOTE,
        GRPC,
        &[("grpc-encoding", "identity")],
        Some(frame(true, &quote)),
    )
    .await;
    identity.show("identity");
    assert_eq!(
        (identity.status, identity.grpc().0),
        (200, Some("13")),
        "{identity:?}"
    );

    // Over 4 MiB: the contract says 8 RESOURCE_EXHAUSTED (grpc-go's answer); tonic answers
    // 11 OUT_OF_RANGE ("decoded message length too large").
    let big = QuoteRequest {
        symbol: "A".repeat((4 << 20) + 1),
    };
    let large = raw_call(
        addr,
        QUOTE,
        GRPC,
        &[],
        Some(frame(false, &big.encode_to_vec())),
    )
    .await;
    large.show("large");
    assert_eq!(
        (large.status, large.grpc().0),
        (200, Some("11")),
        "{large:?}"
    );

    // content-type text/plain: tonic does not look at it (the gRPC spec would have HTTP 415):
    // the call is answered as any other.
    let plain = raw_call(addr, QUOTE, "text/plain", &[], Some(frame(false, &quote))).await;
    plain.show("plain");
    assert_eq!(
        (plain.status, plain.grpc().0),
        (200, Some("0")),
        "{plain:?}"
    );
    assert_eq!(
        tick_without_clock(&plain.data),
        tick_without_clock(&ok.data)
    );
    server.stop().await;
}

/// The tick of a raw answer's first message, its clock set to 0.
fn tick_without_clock(data: &[u8]) -> Tick {
    let mut tick = Tick::decode(&data[5..]).unwrap();
    tick.ts_ns = 0;
    tick
}

/// The resident memory of this process (the server and its clients), in bytes.
fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

/// The whole gRPC messages at the front of `buf`, taken out of it.
fn take_ticks(buf: &mut Vec<u8>) -> Vec<Tick> {
    let mut ticks = Vec::new();
    while buf.len() >= 5 {
        let len = u32::from_be_bytes(buf[1..5].try_into().unwrap()) as usize;
        if buf.len() < 5 + len {
            break;
        }
        ticks.push(Tick::decode(&buf[5..5 + len]).unwrap());
        buf.drain(..5 + len);
    }
    ticks
}

/// Flow control holds: streams whose client never opens their window hold the server there
/// (it makes no ticks ahead of the window, so its memory stays flat), while another call on
/// the same connection is answered; a held stream goes on where it stopped once read.
#[tokio::test]
async fn streams_the_client_does_not_read_are_held_and_the_others_go_on() {
    let server = Server::start().await;
    let addr = server.addr;
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (h2, connection) = h2::client::Builder::new()
        .initial_window_size(65_535) // each stream: one 64 KiB tick at most
        .initial_connection_window_size(16 << 20) // room for the Quote after them
        .handshake::<_, Bytes>(tcp)
        .await
        .unwrap();
    tokio::spawn(connection);
    let call = |path: &str| {
        http::Request::builder()
            .method("POST")
            .uri(format!("http://{addr}{path}"))
            .header("content-type", GRPC)
            .header("te", "trailers")
            .body(())
            .unwrap()
    };
    let stream = frame(
        false,
        &stream_request("AAPL", 1_000_000, 65_536).encode_to_vec(),
    );

    let before = resident_bytes();
    let mut held = Vec::new();
    for _ in 0..8 {
        let mut h2 = h2.clone().ready().await.unwrap();
        let (answer, mut send) = h2.send_request(call(STREAM), false).unwrap();
        send.send_data(Bytes::from(stream.clone()), true).unwrap();
        held.push(answer.await.unwrap().into_body());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let grown = resident_bytes().saturating_sub(before);
    // Made up front, 8 streams of 10^6 ticks of 64 KiB would be 500 GiB; made as fast as a
    // core can, 300 ms of them a few GiB. Held, they are 8 windows and a few ticks.
    assert!(
        grown < 256 << 20,
        "resident memory grew by {} MiB",
        grown >> 20
    );

    let mut h2 = h2.clone().ready().await.unwrap();
    let (answer, mut send) = h2.send_request(call(QUOTE), false).unwrap();
    send.send_data(
        Bytes::from(frame(false, &quote_request("AAPL").encode_to_vec())),
        true,
    )
    .unwrap();
    let mut quote = answer.await.unwrap().into_body();
    let mut data = Vec::new();
    while let Some(chunk) = quote.data().await {
        data.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(tick_without_clock(&data).price_micros, 45_295_362);
    assert_eq!(quote.trailers().await.unwrap().unwrap()["grpc-status"], "0");

    // Read again, a held stream goes on in order.
    let first = &mut held[0];
    let (mut buf, mut ticks) = (Vec::new(), Vec::new());
    while ticks.len() < 20 {
        let chunk = first.data().await.unwrap().unwrap();
        first.flow_control().release_capacity(chunk.len()).unwrap();
        buf.extend_from_slice(&chunk);
        ticks.extend(take_ticks(&mut buf));
    }
    for (k, tick) in ticks.iter().enumerate() {
        assert_tick(tick, "AAPL", k as u64 + 1, 65_536);
    }
    drop(held); // RST_STREAM: not answered with a status, not counted
    drop(h2);
    assert_eq!(server.stop().await, 1);
}
