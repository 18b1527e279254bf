//! grpc-check (src/bin/grpc-check.rs) as a user runs it: against `stackbench-rust grpc` (every
//! check ok, then SIGTERM and the count of the calls it answered), against a server that is
//! not gRPC and against no server (FAIL lines, exit 1), and with a bad command line (exit 2).

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const CHECKER: &str = env!("CARGO_BIN_EXE_grpc-check");
const SERVER: &str = env!("CARGO_BIN_EXE_stackbench-rust");

/// The checks, in the order grpc-check runs them.
const CHECKS: [&str; 13] = [
    "quote",
    "stream",
    "stream-64k",
    "invalid-symbol",
    "invalid-count",
    "invalid-payload",
    "invalid-order",
    "unimplemented",
    "deadline",
    "cancel",
    "health",
    "health-unknown",
    "concurrent",
];

/// The calls the checks make that end with a status (the cancelled stream does not): what the
/// server must count.
const CHECKS_CALLS: u64 = 28;

fn check(args: &[&str]) -> (Output, Duration) {
    let start = Instant::now();
    let output = Command::new(CHECKER).args(args).output().unwrap();
    (output, start.elapsed())
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// `stackbench-rust ARGS` and the address of its listening line.
fn start_server(args: &[&str]) -> (Child, String) {
    let mut child = Command::new(SERVER)
        .args(args)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let addr = line
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("{line:?}"))
        .trim()
        .to_owned();
    child.stderr = Some(stderr.into_inner());
    (child, addr)
}

/// SIGTERM, then what the server printed after its listening line and its exit status.
fn stop_server(mut child: Child) -> (String, bool) {
    let pid = child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let mut rest = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut rest)
        .unwrap();
    (rest, child.wait().unwrap().success())
}

#[test]
fn every_check_passes_against_stackbench_rust_grpc_and_each_call_is_counted() {
    let (server, addr) = start_server(&["grpc", "--port", "0"]);
    let (output, took) = check(&[&addr]);
    let out = stdout(&output);
    let lines: Vec<&str> = out.lines().collect();
    let want: Vec<String> = CHECKS.iter().map(|name| format!("ok   {name}")).collect();
    assert_eq!(lines[..lines.len() - 1], want, "{out}");
    assert_eq!(lines.last(), Some(&"13 passed, 0 failed"));
    assert_eq!(output.status.code(), Some(0));
    assert!(took < Duration::from_secs(10), "{took:?}");

    let (rest, exited_0) = stop_server(server);
    assert_eq!(rest, format!("served {CHECKS_CALLS} requests\n"));
    assert!(exited_0);
}

#[test]
fn a_server_that_is_not_grpc_fails_every_check_in_time() {
    let (server, addr) = start_server(&["echo", "--port", "0"]);
    let (output, took) = check(&["--timeout", "1", &addr]);
    let out = stdout(&output);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), CHECKS.len() + 1, "{out}");
    for (line, name) in lines.iter().zip(CHECKS) {
        assert!(line.starts_with(&format!("FAIL {name}: ")), "{line}");
    }
    assert_eq!(lines.last(), Some(&"0 passed, 13 failed"));
    assert_eq!(output.status.code(), Some(1));
    assert!(took < Duration::from_secs(20), "{took:?}");
    stop_server(server);
}

#[test]
fn no_server_is_one_failed_connect() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port(); // nothing listens there once the listener is dropped
    let (output, _) = check(&[&format!("127.0.0.1:{port}")]);
    let out = stdout(&output);
    assert!(out.starts_with("FAIL connect: "), "{out}");
    assert!(out.ends_with("\n0 passed, 1 failed\n"), "{out}");
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn a_bad_command_line_is_exit_2() {
    for args in [
        &[][..],
        &["localhost"],
        &["127.0.0.1:80/x"],
        &["127.0.0.1:80", "extra"],
        &["--timeout", "0", "127.0.0.1:80"],
        &["--timeout", "x", "127.0.0.1:80"],
        &["--bogus", "127.0.0.1:80"],
    ] {
        let (output, _) = check(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(output.stdout.is_empty(), "{args:?}");
        let err = String::from_utf8(output.stderr).unwrap();
        assert!(
            err.starts_with("grpc-check: ") && err.lines().count() == 1,
            "{args:?}: {err}"
        );
    }
    let (help, _) = check(&["--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(stdout(&help).contains("Usage: grpc-check [OPTIONS] <HOST:PORT>"));
}
