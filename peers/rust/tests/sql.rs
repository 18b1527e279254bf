//! The sql contract's rows through the whole router (the workload and what `server` adds),
//! without a socket, for both `--db-strategy`s: against connections whose database refuses
//! them, or accepts them and never answers, and against PostgreSQL, killing its backends
//! between requests and in the middle of a load. Parsing and JSON are the unit tests of `sql`.
//!
//! The tests that need PostgreSQL are `#[ignore]`d, and fail when run without it: they want
//! STACKBENCH_PG_URL to name a database loaded with contracts/sql/schema.sql (they write orders
//! for accounts 9991..10000 only), as `stackbench pg` gives one:
//!
//! ```text
//! stackbench pg -- cargo test --test sql -- --include-ignored --skip real_restart
//! ```
//!
//! `real_restart` also wants STACKBENCH_PG_STOP and STACKBENCH_PG_START, shell commands that
//! stop and start that PostgreSQL, which `stackbench pg` does not give.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::header::ALLOW;
use deadpool_postgres::Pool;
use serde::Deserialize;
use stackbench_rust::sql::{self, DB_TIMEOUT, Database, DbStrategy, Pipelined};
use tokio::net::TcpListener;
use tokio::sync::{RwLock, RwLockReadGuard};
use tokio_postgres::NoTls;

const LIMIT: usize = 1 << 20;

struct Row {
    method: &'static str,
    path: &'static str,
    body: &'static str,
    status: u16,
    want: &'static str,
    allow: &'static str,
}

const fn row(
    method: &'static str,
    path: &'static str,
    body: &'static str,
    status: u16,
    want: &'static str,
    allow: &'static str,
) -> Row {
    Row {
        method,
        path,
        body,
        status,
        want,
        allow,
    }
}

const BAD_REQUEST: &str = r#"{"error":"bad_request"}"#;
const NOT_FOUND: &str = r#"{"error":"not_found"}"#;
const INVALID_JSON: &str = r#"{"error":"invalid_json"}"#;
const OUT_OF_RANGE: &str = r#"{"error":"amount_out_of_range"}"#;
const NOT_ALLOWED: &str = r#"{"error":"method_not_allowed"}"#;
const UNAVAILABLE: &str = r#"{"error":"database_unavailable"}"#;

/// The rows answered without the database: those of Go's peer (sql_test.go).
#[rustfmt::skip]
const VALIDATION_ROWS: &[Row] = &[
    row("GET", "/health", "", 200, r#"{"status":"ok"}"#, ""),
    row("HEAD", "/health", "", 200, "", ""),
    row("GET", "/nope", "", 404, NOT_FOUND, ""),
    row("GET", "/accounts/1/x", "", 404, NOT_FOUND, ""),
    row("GET", "/orders/1", "", 404, NOT_FOUND, ""),
    row("GET", "/", "", 404, NOT_FOUND, ""),
    // ids
    row("GET", "/accounts/0", "", 400, BAD_REQUEST, ""),
    row("GET", "/accounts/-1", "", 400, BAD_REQUEST, ""),
    row("GET", "/accounts/+1", "", 400, BAD_REQUEST, ""),
    row("GET", "/accounts/1a", "", 400, BAD_REQUEST, ""),
    row("GET", "/accounts/1.0", "", 400, BAD_REQUEST, ""),
    row("GET", "/accounts/0x1", "", 400, BAD_REQUEST, ""),
    row("GET", "/accounts/%201", "", 400, BAD_REQUEST, ""),
    row("GET", "/accounts/2147483648", "", 400, BAD_REQUEST, ""),
    row("GET", "/accounts/99999999999999999999", "", 400, BAD_REQUEST, ""),
    row("GET", "/accounts/", "", 400, BAD_REQUEST, ""),
    row("GET", "/accounts", "", 400, BAD_REQUEST, ""),
    row("GET", "/accounts?id=1", "", 400, BAD_REQUEST, ""),
    row("GET", "/accounts?ids", "", 400, BAD_REQUEST, ""),
    row("GET", "/accounts?ids=", "", 400, BAD_REQUEST, ""),
    row("GET", "/accounts?ids=,", "", 400, BAD_REQUEST, ""),
    row("GET", "/accounts?ids=1,", "", 400, BAD_REQUEST, ""),
    row("GET", "/accounts?ids=1,,2", "", 400, BAD_REQUEST, ""),
    row("GET", "/accounts?ids=1,%202", "", 400, BAD_REQUEST, ""),
    row("GET", "/accounts?ids=0", "", 400, BAD_REQUEST, ""),
    row("GET", "/accounts?ids=1,x", "", 400, BAD_REQUEST, ""),
    row("GET", "/accounts?ids=2147483648", "", 400, BAD_REQUEST, ""),
    row("GET", "/accounts?ids=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21", "", 400, BAD_REQUEST, ""),
    // order bodies
    row("POST", "/orders", "", 400, INVALID_JSON, ""),
    row("POST", "/orders", r#"{"account_id":1,"amount":1"#, 400, INVALID_JSON, ""),
    row("POST", "/orders", "[1,2]", 400, INVALID_JSON, ""),
    row("POST", "/orders", "null", 400, INVALID_JSON, ""),
    row("POST", "/orders", r#"{"account_id":9991}"#, 400, INVALID_JSON, ""),
    row("POST", "/orders", r#"{"amount":1}"#, 400, INVALID_JSON, ""),
    row("POST", "/orders", r#"{"account_id":"9991","amount":1}"#, 400, INVALID_JSON, ""),
    row("POST", "/orders", r#"{"account_id":9991,"amount":1.0}"#, 400, INVALID_JSON, ""),
    row("POST", "/orders", r#"{"account_id":9991,"amount":1e2}"#, 400, INVALID_JSON, ""),
    row("POST", "/orders", r#"{"account_id":9991,"amount":null}"#, 400, INVALID_JSON, ""),
    row("POST", "/orders", r#"{"account_id":9991,"amount":0}"#, 422, OUT_OF_RANGE, ""),
    row("POST", "/orders", r#"{"account_id":9991,"amount":-1}"#, 422, OUT_OF_RANGE, ""),
    row("POST", "/orders", r#"{"account_id":9991,"amount":1000001}"#, 422, OUT_OF_RANGE, ""),
    row("POST", "/orders", r#"{"account_id":9991,"amount":100000000000000000000}"#, 422, OUT_OF_RANGE, ""),
    row("POST", "/orders", r#"{"account_id":0,"amount":1}"#, 404, NOT_FOUND, ""),
    row("POST", "/orders", r#"{"account_id":2147483648,"amount":1}"#, 404, NOT_FOUND, ""),
    row("POST", "/orders", r#"{"account_id":-9991,"amount":1}"#, 404, NOT_FOUND, ""),
    // methods
    row("DELETE", "/accounts/1", "", 405, NOT_ALLOWED, "GET"),
    row("POST", "/accounts/1", "{}", 405, NOT_ALLOWED, "GET"),
    row("PUT", "/accounts/x", "", 405, NOT_ALLOWED, "GET"),
    row("POST", "/accounts", "{}", 405, NOT_ALLOWED, "GET"),
    row("POST", "/accounts?ids=1", "{}", 405, NOT_ALLOWED, "GET"),
    row("GET", "/orders", "", 405, NOT_ALLOWED, "POST"),
    row("PUT", "/orders", r#"{"account_id":9991,"amount":1}"#, 405, NOT_ALLOWED, "POST"),
    row("POST", "/health", "", 405, NOT_ALLOWED, "GET, HEAD"),
];

/// An answer as the rows compare it.
struct Answer {
    status: u16,
    allow: String,
    body: String,
    took: Duration,
}

async fn send(app: &Router, method: &str, path: &str, body: impl Into<Body>) -> Answer {
    let got = common::send(app, method, path, body).await;
    Answer {
        status: got.status.as_u16(),
        allow: got.header(ALLOW).unwrap_or("").to_owned(),
        body: got.body,
        took: got.took,
    }
}

async fn check_rows(app: &Router, rows: &[Row]) {
    let mut wrong = Vec::new();
    for r in rows {
        let got = send(app, r.method, r.path, r.body).await;
        if (got.status, got.body.as_str(), got.allow.as_str()) != (r.status, r.want, r.allow) {
            wrong.push(format!(
                "{} {} {}: {} {} (Allow {:?}); want {} {} (Allow {:?})",
                r.method,
                r.path,
                r.body,
                got.status,
                got.body,
                got.allow,
                r.status,
                r.want,
                r.allow
            ));
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

const STRATEGIES: [DbStrategy; 2] = [DbStrategy::Exclusive, DbStrategy::Pipelined];

/// The service over `db`, with what `server` adds to every workload.
fn app(db: impl Into<Database>) -> Router {
    common::app(sql::routes(db, LIMIT))
}

/// `size` connections to a "database" at 127.0.0.1:`port`, opened on demand (exclusive) or
/// in the background (pipelined).
fn lazy_db(strategy: DbStrategy, port: u16, size: usize) -> Database {
    let url = format!("postgresql://bench@127.0.0.1:{port}/stackbench");
    let pg = sql::pg_config(&url).unwrap();
    match strategy {
        DbStrategy::Exclusive => sql::pool(pg, size).into(),
        DbStrategy::Pipelined => Pipelined::lazy(pg, size).into(),
    }
}

/// A loopback port with nothing listening on it (for now).
async fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn validation_without_a_database() {
    for strategy in STRATEGIES {
        // Nothing listens on the pool's port: any row that reached the database would be 503.
        let app = app(lazy_db(strategy, free_port().await, 2));
        check_rows(&app, VALIDATION_ROWS).await;

        let body = format!(
            r#"{{"account_id":9991,"amount":1,"pad":"{}"}}"#,
            "x".repeat(LIMIT)
        );
        let got = send(&app, "POST", "/orders", body).await;
        assert_eq!(
            (got.status, got.body.as_str()),
            (413, r#"{"error":"body_too_large","limit":1048576}"#)
        );
    }
}

/// The database port closed: 503 at once, again and again; /health still answers.
#[tokio::test]
async fn unavailable_when_refused() {
    for strategy in STRATEGIES {
        let app = app(lazy_db(strategy, free_port().await, 4));
        for _ in 0..3 {
            for (method, path, body) in [
                ("GET", "/accounts/1", ""),
                ("GET", "/accounts?ids=1,2", ""),
                ("POST", "/orders", r#"{"account_id":9991,"amount":1}"#),
            ] {
                let got = send(&app, method, path, body).await;
                assert_eq!(
                    (got.status, got.body.as_str()),
                    (503, UNAVAILABLE),
                    "{strategy}"
                );
                assert!(
                    got.took < Duration::from_secs(1),
                    "{strategy} {method} {path}: {:?}",
                    got.took
                );
            }
        }
        check_rows(&app, &VALIDATION_ROWS[..3]).await;
    }
}

/// A "database" that accepts connections and never answers: every request, concurrent ones
/// too, is answered 503 after DB_TIMEOUT, and never later.
#[tokio::test(flavor = "multi_thread")]
async fn unavailable_when_silent() {
    for strategy in STRATEGIES {
        unavailable_when_silent_with(strategy).await;
    }
}

async fn unavailable_when_silent_with(strategy: DbStrategy) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((conn, _)) = listener.accept().await {
            held.push(conn);
        }
    });
    let app = app(lazy_db(strategy, port, 2));
    let requests = (0..6).map(|i| {
        let app = app.clone();
        tokio::spawn(async move {
            let (method, path, body) = if i % 2 == 0 {
                ("GET", format!("/accounts/{}", i + 1), "")
            } else {
                (
                    "POST",
                    "/orders".into(),
                    r#"{"account_id":9991,"amount":1}"#,
                )
            };
            let got = send(&app, method, &path, body).await;
            assert_eq!((got.status, got.body.as_str()), (503, UNAVAILABLE));
            let window =
                DB_TIMEOUT - Duration::from_millis(50)..DB_TIMEOUT + Duration::from_millis(500);
            assert!(
                window.contains(&got.took),
                "{strategy} {method} {path}: {:?}",
                got.took
            );
        })
    });
    for request in requests.collect::<Vec<_>>() {
        request.await.unwrap();
    }
    silent.abort();
}

// --- against PostgreSQL --------------------------------------------------------------

/// Held by every test that uses the database; the restart test holds it alone.
static DATABASE: RwLock<()> = RwLock::const_new(());

/// The database of STACKBENCH_PG_URL, with `DATABASE` held for reading. The tests that call
/// this are `#[ignore]`d for it; run without it, they fail saying why.
async fn database() -> (tokio_postgres::Config, RwLockReadGuard<'static, ()>) {
    let url = required_env(
        "STACKBENCH_PG_URL",
        "a PostgreSQL (`stackbench pg` gives one)",
    );
    let guard = DATABASE.read().await;
    (sql::pg_config(&url).unwrap(), guard)
}

/// The value of the environment variable `name`, which a test needs for `what`.
fn required_env(name: &str, what: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: this test needs {what}"))
}

async fn open(pg: tokio_postgres::Config, size: usize) -> Pool {
    let pool = sql::open_pool(pg, size).await.unwrap();
    let status = pool.status();
    assert_eq!((status.size, status.available), (size, size), "a warm pool");
    pool
}

/// `size` connections used the `strategy` way, all open.
async fn open_db(strategy: DbStrategy, pg: tokio_postgres::Config, size: usize) -> Database {
    match strategy {
        DbStrategy::Exclusive => open(pg, size).await.into(),
        DbStrategy::Pipelined => {
            let p = Pipelined::open(pg, size).await.unwrap();
            assert_eq!(p.up(), size, "every connection open");
            p.into()
        }
    }
}

async fn balance_of(pool: &Pool, id: i32) -> i64 {
    let c = pool.get().await.unwrap();
    let row = c
        .query_one("SELECT balance FROM accounts WHERE id = $1", &[&id])
        .await
        .unwrap();
    row.get(0)
}

/// The orders of account `id` (tests running at the same time write to other accounts).
async fn count_orders(pool: &Pool, id: i32) -> i64 {
    let c = pool.get().await.unwrap();
    c.query_one("SELECT count(*) FROM orders WHERE account_id = $1", &[&id])
        .await
        .unwrap()
        .get(0)
}

fn account(id: i32, balance: i64) -> String {
    format!(r#"{{"id":{id},"balance":{balance},"name":"account-{id}"}}"#)
}

/// Rows hold `&'static str`; the few built at run time are leaked.
fn leak(s: String) -> &'static str {
    s.leak()
}

#[tokio::test]
#[ignore = "needs a PostgreSQL: STACKBENCH_PG_URL (stackbench pg -- cargo test -- --include-ignored --skip real_restart)"]
async fn contract() {
    let (pg, _db) = database().await;
    let pool = open(pg.clone(), 1).await; // to look at the database
    for strategy in STRATEGIES {
        let app = app(open_db(strategy, pg.clone(), 4).await);
        contract_rows(&app, &pool).await;
    }
}

async fn contract_rows(app: &Router, pool: &Pool) {
    let app = app.clone();
    check_rows(&app, VALIDATION_ROWS).await;

    // Accounts 1..9990 are never written to; 9991..10000 may have been by earlier runs.
    let acc = |id| leak(account(id, 1_000_000));
    let list = |ids: &[i32]| {
        let accounts: Vec<String> = ids.iter().map(|&id| account(id, 1_000_000)).collect();
        leak(format!(r#"{{"accounts":[{}]}}"#, accounts.join(",")))
    };
    let twenty: Vec<i32> = (1..=20).rev().map(|i| i * 100).collect();
    let twenty_ids: Vec<String> = twenty.iter().map(i32::to_string).collect();
    let twenty_ids = twenty_ids.join(",");
    let mut sorted = twenty.clone();
    sorted.sort();
    let b10000 = balance_of(pool, 10000).await;
    #[rustfmt::skip]
    let rows = [
        row("GET", "/accounts/1", "", 200, acc(1), ""),
        row("GET", "/accounts/007", "", 200, acc(7), ""),
        row("GET", "/accounts/%31", "", 200, acc(1), ""),
        row("GET", "/accounts/10000", "", 200, leak(account(10000, b10000)), ""),
        row("HEAD", "/accounts/1", "", 200, "", ""),
        row("GET", "/accounts/1?ids=2", "", 200, acc(1), ""),
        row("GET", "/accounts/10001", "", 404, NOT_FOUND, ""),
        row("GET", "/accounts/2147483647", "", 404, NOT_FOUND, ""),
        row("GET", "/accounts?ids=3,1,2,1,10001", "", 200, list(&[1, 2, 3]), ""),
        row("GET", "/accounts?ids=5", "", 200, list(&[5]), ""),
        row("GET", "/accounts?ids=5%2C4", "", 200, list(&[4, 5]), ""),
        row("GET", "/accounts?ids=10001,2147483647", "", 200, list(&[]), ""),
        row("GET", leak(format!("/accounts?ids={twenty_ids}")), "", 200, list(&sorted), ""),
        row("GET", "/accounts?ids=1&ids=x", "", 200, list(&[1]), ""), // the first ids counts
    ];
    check_rows(&app, &rows).await;
}

#[derive(Deserialize)]
struct Placed {
    id: i64,
    balance: i64,
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a PostgreSQL: STACKBENCH_PG_URL (stackbench pg -- cargo test -- --include-ignored --skip real_restart)"]
async fn orders() {
    let (pg, _db) = database().await;
    let pool = open(pg.clone(), 1).await; // to look at the database
    for strategy in STRATEGIES {
        let app = app(open_db(strategy, pg.clone(), 4).await);
        orders_with(&app, &pool).await;
    }
}

async fn orders_with(app: &Router, pool: &Pool) {
    let (app, pool) = (app.clone(), pool.clone());

    // 201 with the order and the balance after it; both are in the database.
    let before = balance_of(&pool, 9991).await;
    let got = send(
        &app,
        "POST",
        "/orders",
        r#"{"account_id":9991,"amount":250}"#,
    )
    .await;
    assert_eq!(got.status, 201, "{}", got.body);
    let placed: Placed = serde_json::from_str(&got.body).unwrap();
    let want = format!(
        r#"{{"id":{},"account_id":9991,"amount":250,"balance":{}}}"#,
        placed.id,
        before - 250
    );
    assert_eq!(got.body, want);
    assert_eq!(balance_of(&pool, 9991).await, before - 250);
    let c = pool.get().await.unwrap();
    let stored = c
        .query_one(
            "SELECT account_id, amount FROM orders WHERE id = $1",
            &[&placed.id],
        )
        .await
        .unwrap();
    assert_eq!(
        (stored.get::<_, i32>(0), stored.get::<_, i64>(1)),
        (9991, 250)
    );
    drop(c);

    // The bounds; nothing is written for the refused ones.
    let n = count_orders(&pool, 9992).await;
    let mut b9992 = balance_of(&pool, 9992).await;
    #[rustfmt::skip]
    let refused = [
        row("POST", "/orders", r#"{"account_id":10001,"amount":1}"#, 404, NOT_FOUND, ""),
        row("POST", "/orders", r#"{"account_id":2147483647,"amount":1}"#, 404, NOT_FOUND, ""),
        row("POST", "/orders", r#"{"account_id":9992,"amount":0}"#, 422, OUT_OF_RANGE, ""),
        row("POST", "/orders", r#"{"account_id":9992,"amount":1000001}"#, 422, OUT_OF_RANGE, ""),
        row("POST", "/orders", r#"{"account_id":9992,"amount":1.5}"#, 400, INVALID_JSON, ""),
    ];
    check_rows(&app, &refused).await;
    assert_eq!(
        count_orders(&pool, 9992).await,
        n,
        "refused orders wrote rows"
    );
    assert_eq!(
        balance_of(&pool, 9992).await,
        b9992,
        "refused orders changed the balance"
    );
    for amount in [1, 1_000_000] {
        let body = format!(r#"{{"amount":{amount},"account_id":9992,"x":[]}}"#);
        let got = send(&app, "POST", "/orders", body).await;
        b9992 -= amount;
        let tail = format!(r#","account_id":9992,"amount":{amount},"balance":{b9992}}}"#);
        assert!(
            got.status == 201 && got.body.ends_with(&tail),
            "{}",
            got.body
        );
    }

    // Concurrent orders on one account: each sees its own balance, none is lost.
    const K: i64 = 40;
    let b9993 = balance_of(&pool, 9993).await;
    let orders = (0..K).map(|_| {
        let app = app.clone();
        tokio::spawn(async move {
            let got = send(&app, "POST", "/orders", r#"{"account_id":9993,"amount":1}"#).await;
            assert_eq!(got.status, 201, "{}", got.body);
            serde_json::from_str::<Placed>(&got.body).unwrap().balance
        })
    });
    let mut balances = Vec::new();
    for order in orders.collect::<Vec<_>>() {
        balances.push(order.await.unwrap());
    }
    balances.sort();
    assert_eq!(balances, (b9993 - K..b9993).collect::<Vec<_>>());
    assert_eq!(balance_of(&pool, 9993).await, b9993 - K);
}

/// No connection free within DB_TIMEOUT: 503 after DB_TIMEOUT.
#[tokio::test]
#[ignore = "needs a PostgreSQL: STACKBENCH_PG_URL (stackbench pg -- cargo test -- --include-ignored --skip real_restart)"]
async fn pool_exhausted() {
    let (pg, _db) = database().await;
    let pool = open(pg, 2).await;
    let app = app(pool.clone());
    let held = [pool.get().await.unwrap(), pool.get().await.unwrap()];
    let got = send(&app, "GET", "/accounts/1", "").await;
    assert_eq!((got.status, got.body.as_str()), (503, UNAVAILABLE));
    let window = DB_TIMEOUT - Duration::from_millis(50)..DB_TIMEOUT + Duration::from_millis(500);
    assert!(window.contains(&got.took), "{:?}", got.took);
    drop(held);
    assert_eq!(send(&app, "GET", "/accounts/1", "").await.status, 200);
}

/// Terminates the backends of the connections named `name` (but the killer's own), waiting
/// for each to be gone; how many there were.
async fn kill_backends(killer: &tokio_postgres::Client, name: &str) -> u64 {
    killer
        .execute(
            "SELECT pg_terminate_backend(pid, 1000) FROM pg_stat_activity \
             WHERE application_name = $1 AND pid <> pg_backend_pid()",
            &[&name],
        )
        .await
        .unwrap()
}

/// A connection for terminating the backends of the connections of `pg`, now named `name`.
async fn killer(pg: &mut tokio_postgres::Config, name: &str) -> tokio_postgres::Client {
    pg.application_name(name);
    let (killer, connection) = pg.connect(NoTls).await.unwrap();
    tokio::spawn(connection);
    killer
}

/// Every connection killed between two requests (as a restart does): not one request fails.
#[tokio::test]
#[ignore = "needs a PostgreSQL: STACKBENCH_PG_URL (stackbench pg -- cargo test -- --include-ignored --skip real_restart)"]
async fn connections_killed_between_requests() {
    let (pg, _db) = database().await;
    for strategy in STRATEGIES {
        let mut pg = pg.clone();
        let name = format!("stackbench-rust-test-{}-{strategy}", std::process::id());
        let killer = killer(&mut pg, &name).await;
        let app = app(open_db(strategy, pg, 4).await);
        connections_killed_between_requests_with(&app, &killer, &name).await;
    }
}

async fn connections_killed_between_requests_with(
    app: &Router,
    killer: &tokio_postgres::Client,
    name: &str,
) {
    let app = app.clone();
    for round in 0..3 {
        let killed = kill_backends(killer, name).await;
        assert!(killed > 0, "round {round}: no connection to kill");
        for id in 1..=6 {
            let got = send(&app, "GET", &format!("/accounts/{id}"), "").await;
            assert_eq!(got.status, 200, "round {round}: {}", got.body);
        }
        let got = send(&app, "POST", "/orders", r#"{"account_id":9994,"amount":1}"#).await;
        assert_eq!(got.status, 201, "round {round}: {}", got.body);
    }
}

/// Backends terminated again and again in the middle of a load of orders and reads (as a
/// crash does): every order answered 201 is in the database, once, as answered; the account's
/// balance is its opening balance minus its orders (those whose answer was lost included: an
/// order may have committed unanswered, never half); every answer is 200, 201 or 503; and once
/// the killing stops, every request succeeds again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a PostgreSQL: STACKBENCH_PG_URL (stackbench pg -- cargo test -- --include-ignored --skip real_restart)"]
async fn backends_killed_mid_run_lose_no_order() {
    let (pg, _db) = database().await;
    let pool = open(pg.clone(), 1).await; // to look at the database
    for (strategy, account) in [(DbStrategy::Exclusive, 9995), (DbStrategy::Pipelined, 9996)] {
        let mut pg = pg.clone();
        let name = format!("stackbench-rust-midrun-{}-{strategy}", std::process::id());
        let killer = killer(&mut pg, &name).await;
        let app = app(open_db(strategy, pg, 4).await);
        killed_mid_run(&app, &pool, &killer, &name, account).await;
    }
}

async fn killed_mid_run(
    app: &Router,
    pool: &Pool,
    killer: &tokio_postgres::Client,
    name: &str,
    account: i32,
) {
    let orders_since = async |after: i64| -> HashMap<i64, i64> {
        let c = pool.get().await.unwrap();
        c.query(
            "SELECT id, amount FROM orders WHERE account_id = $1 AND id > $2",
            &[&account, &after],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect()
    };
    let last: i64 = pool
        .get()
        .await
        .unwrap()
        .query_one("SELECT coalesce(max(id), 0) FROM orders", &[])
        .await
        .unwrap()
        .get(0);
    let opening = balance_of(pool, account).await;

    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..16)
        .map(|k| {
            let (app, stop) = (app.clone(), Arc::clone(&stop));
            tokio::spawn(async move {
                let mut placed = Vec::new(); // (id, amount) of every 201
                let mut statuses = HashMap::<u16, u32>::new();
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let got = if k % 4 == 0 {
                        send(&app, "GET", &format!("/accounts/{}", 1 + i % 100), "").await
                    } else {
                        let amount = 1 + (k * 7 + i) % 50;
                        let body = format!(r#"{{"account_id":{account},"amount":{amount}}}"#);
                        let got = send(&app, "POST", "/orders", body).await;
                        if got.status == 201 {
                            let order: Placed = serde_json::from_str(&got.body).unwrap();
                            placed.push((order.id, i64::from(amount)));
                        }
                        got
                    };
                    *statuses.entry(got.status).or_default() += 1;
                }
                (placed, statuses)
            })
        })
        .collect();
    let mut killed = 0;
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        killed += kill_backends(killer, name).await;
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    stop.store(true, Ordering::Relaxed);
    let mut placed = Vec::new();
    let mut statuses = HashMap::<u16, u32>::new();
    for client in clients {
        let (p, s) = client.await.unwrap();
        placed.extend(p);
        for (status, n) in s {
            *statuses.entry(status).or_default() += n;
        }
    }
    assert!(killed >= 5, "{killed} backends killed");
    assert!(
        statuses.keys().all(|s| [200, 201, 503].contains(s)),
        "{statuses:?}"
    );
    assert!(
        statuses.get(&201).copied().unwrap_or(0) > 50,
        "{statuses:?}"
    );

    let stored = orders_since(last).await;
    for (id, amount) in &placed {
        assert_eq!(stored.get(id), Some(amount), "order {id} answered 201");
    }
    let debited: i64 = stored.values().sum();
    assert_eq!(
        balance_of(pool, account).await,
        opening - debited,
        "{statuses:?}"
    );
    eprintln!(
        "{name}: {killed} backends killed; answers {statuses:?}; {} orders answered 201, {} stored",
        placed.len(),
        stored.len()
    );

    for _ in 0..5 {
        let got = send(app, "GET", "/accounts/1", "").await;
        assert_eq!(got.status, 200, "{}", got.body);
        let body = format!(r#"{{"account_id":{account},"amount":1}}"#);
        let got = send(app, "POST", "/orders", body).await;
        assert_eq!(got.status, 201, "{}", got.body);
    }
}

/// Stops and starts the real PostgreSQL with the commands in STACKBENCH_PG_STOP and
/// STACKBENCH_PG_START.
#[tokio::test]
#[ignore = "needs STACKBENCH_PG_URL, and STACKBENCH_PG_STOP and STACKBENCH_PG_START: commands that stop and start that PostgreSQL (cargo test -- --ignored real_restart)"]
async fn real_restart() {
    let what = "commands that stop and start the PostgreSQL of STACKBENCH_PG_URL";
    let stop = required_env("STACKBENCH_PG_STOP", what);
    let start = required_env("STACKBENCH_PG_START", what);
    let (pg, read) = database().await;
    drop(read);
    let _alone = DATABASE.write().await;
    let sh = |command: &str| {
        let status = std::process::Command::new("sh")
            .args(["-c", command])
            .status();
        assert!(status.is_ok_and(|s| s.success()), "{command}");
    };
    for strategy in STRATEGIES {
        let app = app(open_db(strategy, pg.clone(), 4).await);
        restarts(&app, &|| sh(&stop), &|| sh(&start)).await;
    }
}

/// The database stopped (503, fast) and started again (201 again), then restarted between
/// two requests (not one fails).
async fn restarts(app: &Router, stop: &dyn Fn(), start: &dyn Fn()) {
    let all = async |want: u16| {
        for (method, path, body) in [
            ("GET", "/accounts/1", ""),
            ("GET", "/accounts?ids=2,1", ""),
            ("POST", "/orders", r#"{"account_id":9994,"amount":1}"#),
        ] {
            let got = send(app, method, path, body).await;
            let want = if want == 200 && method == "POST" {
                201
            } else {
                want
            };
            assert_eq!(got.status, want, "{method} {path}: {}", got.body);
            if want == 503 {
                assert!(got.took < Duration::from_secs(1), "{:?}", got.took);
            }
        }
    };
    all(200).await;
    stop();
    let restarted = scopeguard(start); // left running, whatever happens
    for _ in 0..3 {
        all(503).await;
    }
    drop(restarted);
    all(200).await;
    // A restart between two requests: not one request may fail.
    stop();
    start();
    for _ in 0..3 {
        all(200).await;
    }
}

/// Runs `f` when dropped.
fn scopeguard(f: impl FnOnce()) -> impl Drop {
    struct Guard<F: FnOnce()>(Option<F>);
    impl<F: FnOnce()> Drop for Guard<F> {
        fn drop(&mut self) {
            if let Some(f) = self.0.take() {
                f();
            }
        }
    }
    Guard(Some(f))
}
