//! The `sql` workload (contracts/sql.md): an API over PostgreSQL through tokio-postgres
//! connections.
//!
//! ```text
//! GET  /accounts/{id}        one account
//! GET  /accounts?ids=1,2,3   the accounts that exist among 1 to 20 ids, sorted by id
//! POST /orders               {"account_id":N,"amount":N}: debit the account and record the
//!                            order in one statement, answer 201 once committed
//! GET  /health               {"status":"ok"}, without touching the database
//! ```
//!
//! # One statement per request
//!
//! Every request that uses the database runs one of the three statements of
//! contracts/sql/queries.sql (`queries`), prepared once per connection: one round trip, and
//! for an order one implicit transaction (its debit and its insert are one data-modifying
//! WITH; no row means no such account, and nothing was written).
//!
//! # Two ways to use the connections (`--db-strategy`)
//!
//! - `exclusive` (`exclusive`, the default): a deadpool-postgres pool; a connection serves one
//!   request at a time, as a team would write it first.
//! - `pipelined` (`pipelined`): `--pool` tokio-postgres clients shared by every request, up to
//!   32 requests in flight on each (tokio-postgres pipelines the queries of a shared client), as
//!   the C service's pool does with libpq's pipeline mode.
//!
//! # Failures (both strategies)
//!
//! Every request that uses the database has `DB_TIMEOUT` in total to get a connection and run
//! its statement; past that, or when the database cannot be reached, it is answered 503. A
//! connection whose statement ran out of time is closed: it may be stuck on a hung server.
//!
//! A read whose connection turns out to be dead (the database restarted since it was last used,
//! or died under it) runs again on another connection while time allows. An order does not,
//! once its statement may have reached the database: whether it committed is unknown, and
//! running it again could debit twice. It is answered 503 (the C service does the same).
//!
//! # Telemetry
//!
//! Each statement run is a CLIENT span (`traced`), child of its request's, named as
//! contracts/telemetry.md says (`SELECT accounts`, `INSERT orders`: `Query::span`). The pool's
//! figures (`SqlMetrics`): its size, the connections open (read at each scrape), the requests
//! that waited for a connection or a place on one (`counting_wait`), the failed database calls
//! (a statement that failed or got no answer in time, no connection to be had), and the 503s.
//!
//! # Answers
//!
//! Accounts and orders are serialized by serde_json (no white space, members in declaration
//! order, strings escaped as the contract wants). Order bodies are read by serde_json too, with
//! a visitor of our own rather than a derived struct, to keep the contract's rules: exact member
//! names, the last of a repeated name counts, and numbers judged on their JSON text (`1.0` and
//! `1e2` are not integers, `100000000000000000000` is one, out of range).

mod exclusive;
pub mod pipelined;
pub mod queries;

use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use deadpool_postgres::PoolError;
use prometheus::IntCounter;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tokio::time::Instant;
use tokio_postgres::error::Severity;
use tokio_postgres::{Client, Statement};
use tracing::Instrument;

pub use exclusive::{open_pool, pool};
pub use pipelined::Pipelined;
use queries::Query;

use crate::server;
use crate::telemetry::{Metrics, SqlMetrics};

/// The database part of a request: getting a connection (which may mean opening one) and
/// running the statement. The contract's 2 s.
pub const DB_TIMEOUT: Duration = Duration::from_secs(2);

/// Opening every connection at start.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// The most ids `GET /accounts?ids=` takes.
const MAX_IDS: usize = 20;

/// The largest amount of an order; the smallest is 1.
const MAX_AMOUNT: i64 = 1_000_000;

/// How the service uses its connections.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DbStrategy {
    /// A connection serves one request at a time (deadpool-postgres).
    #[default]
    Exclusive,
    /// Up to `pipelined::MAX_IN_FLIGHT` requests in flight on each connection.
    Pipelined,
}

impl FromStr for DbStrategy {
    type Err = String;

    fn from_str(s: &str) -> Result<DbStrategy, String> {
        match s {
            "exclusive" => Ok(DbStrategy::Exclusive),
            "pipelined" => Ok(DbStrategy::Pipelined),
            _ => Err(format!("want exclusive or pipelined, not '{s}'")),
        }
    }
}

impl fmt::Display for DbStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DbStrategy::Exclusive => "exclusive",
            DbStrategy::Pipelined => "pipelined",
        })
    }
}

pub struct Config {
    /// Largest request body, in bytes.
    pub body_limit: usize,
    /// The database: a URL or a keyword/value string, as tokio-postgres reads them.
    pub pg_url: String,
    /// The number of connections the service keeps.
    pub pool: usize,
    pub strategy: DbStrategy,
}

/// Why the service cannot start.
#[derive(Debug)]
pub enum StartError {
    /// `--pg-url` is not a connection string.
    PgUrl(tokio_postgres::Error),
    /// The connections could not all be opened.
    Pool(String),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::PgUrl(e) => write!(f, "--pg-url: {}", one_line(e)),
            StartError::Pool(why) => write!(f, "cannot open the connection pool: {why}"),
        }
    }
}

impl StdError for StartError {}

/// Opens every connection (statements prepared) and builds the router over them, its figures
/// in `metrics`.
pub async fn router(config: Config, metrics: &Metrics) -> Result<Router, StartError> {
    let pg = pg_config(&config.pg_url)?;
    let db = match config.strategy {
        DbStrategy::Exclusive => Database::Exclusive(open_pool(pg, config.pool).await?),
        DbStrategy::Pipelined => Database::Pipelined(Pipelined::open(pg, config.pool).await?),
    };
    Ok(observed_routes(db, config.body_limit, metrics))
}

/// The contract's routes over `db`, whether its connections are open yet or not.
pub fn routes(db: impl Into<Database>, body_limit: usize) -> Router {
    Service::new(db.into(), body_limit, SqlMetrics::unregistered()).routes()
}

/// `routes`, with the pool's figures in `metrics` (`sql_*`).
pub fn observed_routes(db: impl Into<Database>, body_limit: usize, metrics: &Metrics) -> Router {
    let db = db.into();
    let stats = metrics.sql(db.size());
    let service = Arc::new(Service::new(db, body_limit, Arc::clone(&stats)));
    let weak = Arc::downgrade(&service);
    metrics.before_scrape(move || {
        if let Some(service) = weak.upgrade() {
            stats.connections.set(service.db.open() as i64);
        }
    });
    Service::routes_of(service)
}

/// The connection settings `pg_url` gives.
pub fn pg_config(pg_url: &str) -> Result<tokio_postgres::Config, StartError> {
    pg_url.parse().map_err(StartError::PgUrl)
}

/// The connections, used one way or the other.
pub enum Database {
    Exclusive(deadpool_postgres::Pool),
    Pipelined(Pipelined),
}

impl From<deadpool_postgres::Pool> for Database {
    fn from(pool: deadpool_postgres::Pool) -> Self {
        Database::Exclusive(pool)
    }
}

impl From<Pipelined> for Database {
    fn from(pipelined: Pipelined) -> Self {
        Database::Pipelined(pipelined)
    }
}

impl Database {
    /// Runs `query`'s statement through `f` on a connection, all within `DB_TIMEOUT`, with the
    /// retry rules of the module's doc; waits and failures counted in `stats`.
    async fn run<T, F>(&self, stats: &SqlMetrics, query: Query, f: F) -> Result<T, Failure>
    where
        F: for<'c> FnMut(&'c Client, &'c Statement) -> Job<'c, T> + Send,
        T: Send,
    {
        match self {
            Database::Exclusive(pool) => exclusive::run(pool, stats, query, f).await,
            Database::Pipelined(p) => p.run(stats, query, f).await,
        }
    }

    /// The connections it keeps at most (`--pool`).
    fn size(&self) -> usize {
        match self {
            Database::Exclusive(pool) => pool.status().max_size,
            Database::Pipelined(p) => p.size(),
        }
    }

    /// The connections open now.
    fn open(&self) -> usize {
        match self {
            Database::Exclusive(pool) => pool.status().size,
            Database::Pipelined(p) => p.up(),
        }
    }
}

/// `job`, a statement run, in its CLIENT span: marked ERROR when the statement fails or is
/// cut off (its deadline passed).
async fn traced<T>(
    query: Query,
    job: impl Future<Output = Result<T, tokio_postgres::Error>>,
) -> Result<T, tokio_postgres::Error> {
    struct Outcome {
        span: tracing::Span,
        ok: bool,
    }
    impl Drop for Outcome {
        fn drop(&mut self) {
            if !self.ok {
                self.span.record("otel.status_code", "ERROR");
            }
        }
    }
    let span = query.span();
    let mut outcome = Outcome {
        span: span.clone(),
        ok: false,
    };
    let result = job.instrument(span).await;
    outcome.ok = result.is_ok();
    result
}

/// `future`, counted in `waits` if it was not ready when first polled: a wait for a connection
/// (or a place on one).
async fn counting_wait<F: Future>(future: F, waits: &IntCounter) -> F::Output {
    let mut future = pin!(future);
    let mut first = true;
    poll_fn(|cx| {
        let poll = future.as_mut().poll(cx);
        if std::mem::take(&mut first) && poll.is_pending() {
            waits.inc();
        }
        poll
    })
    .await
}

/// `failure`, counted in `sql_errors_total`.
fn failed(stats: &SqlMetrics, failure: Failure) -> Failure {
    stats.errors.inc();
    failure
}

/// What `Database::run` runs: a statement on a connection. Boxed: a closure cannot name the
/// future of the async fn it calls. (An async closure, `AsyncFnMut`, would need no box, but
/// rustc then fails to prove the handlers' futures `Send` for every lifetime of the borrowed
/// connection.)
type Job<'c, T> = Pin<Box<dyn Future<Output = Result<T, tokio_postgres::Error>> + Send + 'c>>;

/// At most one line a second to stderr, so that a database down under load does not flood it.
#[derive(Default)]
pub struct Log {
    last: Mutex<Option<Instant>>,
}

impl Log {
    pub fn line(&self, text: fmt::Arguments<'_>) {
        let now = Instant::now();
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if last.is_none_or(|at| now.duration_since(at) >= Duration::from_secs(1)) {
            *last = Some(now);
            eprintln!("stackbench-rust sql: {text}");
        }
    }
}

/// The service: the connections and what the handlers share.
struct Service {
    db: Database,
    body_limit: usize,
    log: Arc<Log>,
    stats: Arc<SqlMetrics>,
}

impl Service {
    fn new(db: Database, body_limit: usize, stats: Arc<SqlMetrics>) -> Self {
        let log = match &db {
            Database::Pipelined(p) => p.log(),
            Database::Exclusive(_) => Arc::default(),
        };
        Service {
            db,
            body_limit,
            log,
            stats,
        }
    }

    fn routes(self) -> Router {
        Service::routes_of(Arc::new(self))
    }

    /// The contract's routes. `get` answers HEAD too (same head, no body); `server::only` turns
    /// the other methods of a route into a JSON 405, and `server` turns every other path into a
    /// JSON 404.
    fn routes_of(service: Arc<Service>) -> Router {
        let body_limit = service.body_limit;
        Router::new()
            .route("/accounts/{id}", server::only("GET", get(account)))
            .route(
                "/accounts/",
                server::only("GET", get(|| async { bad_request() })),
            ) // an empty {id}
            .route("/accounts", server::only("GET", get(accounts)))
            .route("/orders", server::only("POST", post(order)))
            .route("/health", server::health_route())
            .layer(DefaultBodyLimit::max(body_limit))
            .with_state(service)
    }

    /// 503 for a database failure, logged (rate-limited) and counted.
    fn unavailable(&self, failure: &Failure) -> Response {
        self.stats.unavailable.inc();
        self.log.line(format_args!("answering 503: {failure}"));
        server::error(StatusCode::SERVICE_UNAVAILABLE, "database_unavailable")
    }
}

/// Why a request could not use the database.
#[derive(Debug)]
enum Failure {
    /// `DB_TIMEOUT` passed: no connection free (or opened) in time, or a statement too slow.
    Timeout,
    /// exclusive: no connection, the database could not be reached.
    Pool(PoolError),
    /// pipelined: no connection is up or being opened; the last reason one went down.
    Down(String),
    /// The connection was found closed before the statement was sent to it.
    Closed,
    /// A statement that writes nothing (a read, or a prepare) failed.
    Statement(tokio_postgres::Error),
    /// The order's statement failed. When its connection was lost, whether it committed is
    /// unknown.
    Order(tokio_postgres::Error),
}

impl Failure {
    /// The failure of `query`'s statement.
    fn of(query: Query, e: tokio_postgres::Error) -> Failure {
        if query.writes() {
            Failure::Order(e)
        } else {
            Failure::Statement(e)
        }
    }

    /// Whether the failure came from `client`'s connection being dead: closed, or told by the
    /// server that it is being closed (a FATAL error, as in a shutdown), which may come before
    /// the connection's task has seen the socket close.
    fn lost(&self, client: &Client) -> bool {
        let (Failure::Statement(e) | Failure::Order(e)) = self else {
            return matches!(self, Failure::Closed);
        };
        client.is_closed() || connection_error(e)
    }

    /// Whether the request may run again on another connection after `lost`: nothing it sent
    /// can have written anything.
    fn retryable(&self) -> bool {
        !matches!(self, Failure::Order(_))
    }
}

/// Whether `e` says that its connection is gone.
fn connection_error(e: &tokio_postgres::Error) -> bool {
    e.is_closed()
        || e.as_db_error().is_some_and(|db| {
            matches!(
                db.parsed_severity(),
                Some(Severity::Fatal | Severity::Panic)
            )
        })
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Timeout => write!(f, "timed out after {}s", DB_TIMEOUT.as_secs()),
            Failure::Pool(PoolError::Backend(e)) => f.write_str(&one_line(e)),
            Failure::Pool(e) => write!(f, "{e}"),
            Failure::Down(why) => write!(f, "no database connection: {why}"),
            Failure::Closed => f.write_str("the connection was closed"),
            Failure::Statement(e) => f.write_str(&one_line(e)),
            Failure::Order(e) => write!(f, "order, outcome unknown if lost: {}", one_line(e)),
        }
    }
}

/// An error and its causes on one line, "error: cause: cause" (tokio-postgres keeps the cause
/// apart, and PostgreSQL's messages may span lines).
fn one_line(e: &(dyn StdError + 'static)) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text.replace('\n', " ")
}

type Shared = State<Arc<Service>>;

fn bad_request() -> Response {
    server::error(StatusCode::BAD_REQUEST, "bad_request")
}

fn not_found() -> Response {
    server::error(StatusCode::NOT_FOUND, "not_found")
}

/// An account as answered.
#[derive(Serialize)]
struct Account {
    id: i32,
    balance: i64,
    name: String,
}

#[derive(Serialize)]
struct Accounts {
    accounts: Vec<Account>,
}

/// A committed order as answered.
#[derive(Serialize)]
struct Order {
    id: i64,
    account_id: i32,
    amount: i64,
    balance: i64,
}

/// `GET /accounts/{id}`. The id comes percent-decoded (`/accounts/%31` is account 1).
async fn account(State(s): Shared, id: Result<Path<String>, PathRejection>) -> Response {
    let Some(id) = id.ok().and_then(|Path(id)| parse_id(&id)) else {
        return bad_request();
    };
    let found =
        s.db.run(&s.stats, Query::Account, |c, st| {
            Box::pin(find_account(c, st, id))
        })
        .await;
    match found {
        Ok(Some(account)) => Json(account).into_response(),
        Ok(None) => not_found(),
        Err(e) => s.unavailable(&e),
    }
}

/// `GET /accounts?ids=1,2,3`.
async fn accounts(State(s): Shared, RawQuery(query): RawQuery) -> Response {
    let Some(ids) = query
        .as_deref()
        .and_then(first_ids)
        .and_then(|v| parse_ids(&v))
    else {
        return bad_request();
    };
    let found =
        s.db.run(&s.stats, Query::Accounts, |c, st| {
            Box::pin(find_accounts(c, st, ids.clone()))
        })
        .await;
    match found {
        Ok(accounts) => Json(Accounts { accounts }).into_response(),
        Err(e) => s.unavailable(&e),
    }
}

/// `POST /orders`.
async fn order(State(s): Shared, request: Request) -> Response {
    let body = match server::read_body(request, s.body_limit).await {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let req = match parse_order(&body) {
        Ok(req) => req,
        Err(refusal) => return refusal.into_response(),
    };
    let placed =
        s.db.run(&s.stats, Query::Order, |c, st| {
            Box::pin(place_order(c, st, req))
        })
        .await;
    match placed {
        Ok(Some(order)) => (StatusCode::CREATED, Json(order)).into_response(),
        Ok(None) => not_found(),
        Err(e) => s.unavailable(&e),
    }
}

/// The account `id`, if there is one (`Query::Account`).
async fn find_account(
    c: &Client,
    statement: &Statement,
    id: i32,
) -> Result<Option<Account>, tokio_postgres::Error> {
    let Some(row) = c.query_opt(statement, &[&id]).await? else {
        return Ok(None);
    };
    Ok(Some(Account {
        id,
        balance: row.try_get(0)?,
        name: row.try_get(1)?,
    }))
}

/// The accounts among `ids` that exist, sorted by id, each once (`Query::Accounts`).
async fn find_accounts(
    c: &Client,
    statement: &Statement,
    ids: Vec<i32>,
) -> Result<Vec<Account>, tokio_postgres::Error> {
    let rows = c.query(statement, &[&ids]).await?;
    rows.iter()
        .map(|row| {
            Ok(Account {
                id: row.try_get(0)?,
                balance: row.try_get(1)?,
                name: row.try_get(2)?,
            })
        })
        .collect()
}

/// Debits the account and records the order, one statement (`Query::Order`) and so one
/// implicit transaction, committed when the statement's answer is complete (tokio-postgres
/// ends a query at the server's ReadyForQuery, which comes after the commit). `None` when
/// there is no such account: nothing was written.
async fn place_order(
    c: &Client,
    statement: &Statement,
    req: OrderRequest,
) -> Result<Option<Order>, tokio_postgres::Error> {
    let Some(row) = c
        .query_opt(statement, &[&req.account_id, &req.amount])
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(Order {
        id: row.try_get(0)?,
        account_id: req.account_id,
        amount: req.amount,
        balance: row.try_get(1)?,
    }))
}

/// An account id: decimal digits only (no sign, no white space), value in 1..2147483647.
/// Leading zeros are allowed: "007" is 7.
fn parse_id(s: &str) -> Option<i32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<i32>().ok().filter(|&id| id >= 1) // Err: more than i32::MAX
}

/// The ids of `GET /accounts?ids=`: 1 to `MAX_IDS` ids, each as `parse_id` reads it, separated
/// by commas. Duplicates are allowed (each account is answered once).
fn parse_ids(s: &str) -> Option<Vec<i32>> {
    if s.bytes().filter(|&b| b == b',').count() >= MAX_IDS {
        return None;
    }
    s.split(',').map(parse_id).collect()
}

/// The value of the first `ids` parameter of a query string, decoded as a form's (`%2C` is a
/// comma, `+` a space).
fn first_ids(query: &str) -> Option<Cow<'_, str>> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == "ids")
        .map(|(_, value)| value)
}

/// A valid `POST /orders` body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct OrderRequest {
    account_id: i32,
    amount: i64,
}

/// Why a `POST /orders` body is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Refusal {
    /// 400: not JSON, not an object, `account_id` or `amount` missing or not an integer.
    InvalidJson,
    /// 422: `amount` outside 1..MAX_AMOUNT.
    AmountOutOfRange,
    /// 404: `account_id` outside 1..2147483647, where no account can be.
    NoAccount,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::InvalidJson => server::error(StatusCode::BAD_REQUEST, "invalid_json"),
            Refusal::AmountOutOfRange => {
                server::error(StatusCode::UNPROCESSABLE_ENTITY, "amount_out_of_range")
            }
            Refusal::NoAccount => not_found(),
        }
    }
}

/// Reads a `POST /orders` body, or says why it is refused, checked in the contract's order:
/// JSON (UTF-8 included) and integers first, then the amount's range, then the account's.
/// Integers are JSON numbers with no fraction and no exponent: `1.0` and `1e3` are refused, as
/// are strings and null; an integer too large for 64 bits is out of range, not invalid.
fn parse_order(body: &[u8]) -> Result<OrderRequest, Refusal> {
    // serde_json would check the UTF-8 of the strings it reads, but not of those it skips.
    let text = std::str::from_utf8(body).map_err(|_| Refusal::InvalidJson)?;
    let members: OrderMembers = serde_json::from_str(text).map_err(|_| Refusal::InvalidJson)?;
    let (Some(account_id), Some(amount)) = (members.account_id, members.amount) else {
        return Err(Refusal::InvalidJson);
    };
    let (account_id, amount) = (account_id.get(), amount.get());
    if !is_json_integer(account_id) || !is_json_integer(amount) {
        return Err(Refusal::InvalidJson);
    }
    let amount = amount
        .parse::<i64>() // Err: beyond 64 bits, so out of range too
        .ok()
        .filter(|a| (1..=MAX_AMOUNT).contains(a))
        .ok_or(Refusal::AmountOutOfRange)?;
    let account_id = account_id
        .parse::<i32>()
        .ok()
        .filter(|&id| id >= 1)
        .ok_or(Refusal::NoAccount)?;
    Ok(OrderRequest { account_id, amount })
}

/// Whether `raw`, a JSON value as written (no white space around it), is a number without
/// fraction or exponent: `-?(0|[1-9][0-9]*)`.
fn is_json_integer(raw: &str) -> bool {
    let digits = raw.strip_prefix('-').unwrap_or(raw);
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
}

/// The members of an order body that count, as their JSON text. A derived `Deserialize` would
/// refuse a repeated name, where the last one counts here.
#[derive(Default)]
struct OrderMembers<'a> {
    account_id: Option<&'a RawValue>,
    amount: Option<&'a RawValue>,
}

impl<'de> Deserialize<'de> for OrderMembers<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(OrderMembersVisitor)
    }
}

struct OrderMembersVisitor;

impl<'de> Visitor<'de> for OrderMembersVisitor {
    type Value = OrderMembers<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members = OrderMembers::default();
        while let Some(name) = map.next_key::<MemberName>()? {
            match name {
                MemberName::AccountId => members.account_id = Some(map.next_value()?),
                MemberName::Amount => members.amount = Some(map.next_value()?),
                MemberName::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(members)
    }
}

/// A member name of an order body, matched exactly after its escapes are decoded
/// (`"account\u005fid"` is `account_id`).
enum MemberName {
    AccountId,
    Amount,
    Other,
}

impl<'de> Deserialize<'de> for MemberName {
    /// Read as bytes: serde_json then decodes escapes without refusing a lone surrogate
    /// (`"\ud800"`), which is valid JSON, in the names of the members that do not count.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_bytes(MemberNameVisitor)
    }
}

struct MemberNameVisitor;

impl Visitor<'_> for MemberNameVisitor {
    type Value = MemberName;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_bytes<E: de::Error>(self, name: &[u8]) -> Result<MemberName, E> {
        Ok(match name {
            b"account_id" => MemberName::AccountId,
            b"amount" => MemberName::Amount,
            _ => MemberName::Other,
        })
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<MemberName, E> {
        self.visit_bytes(name.as_bytes())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    //! Parsing and JSON; what the tests of both strategies share. The routes are tested through
    //! the router in tests/sql.rs, each strategy's retries in its own module.

    use super::*;

    const MAX_ID: i32 = i32::MAX;

    #[test]
    fn ids() {
        for (text, id) in [
            ("1", 1),
            ("42", 42),
            ("007", 7),
            ("2147483647", MAX_ID),
            ("10000", 10000),
        ] {
            assert_eq!(parse_id(text), Some(id), "{text:?}");
        }
        for text in [
            "",
            "0",
            "00",
            "-1",
            "+1",
            "2147483648",
            "99999999999999999999",
            "1a",
            "a",
            " 1",
            "1 ",
            "1.0",
            "1e3",
            "0x10",
            "١",
        ] {
            assert_eq!(parse_id(text), None, "{text:?}");
        }
    }

    #[test]
    fn id_lists() {
        let twenty = vec!["7"; MAX_IDS].join(",");
        assert_eq!(parse_ids("1"), Some(vec![1]));
        assert_eq!(parse_ids("3,1,2,1"), Some(vec![3, 1, 2, 1]));
        assert_eq!(parse_ids(&twenty), Some(vec![7; MAX_IDS]));
        assert_eq!(parse_ids("2147483647"), Some(vec![MAX_ID]));
        for text in [
            "",
            ",",
            "1,",
            ",1",
            "1,,2",
            "1, 2",
            "1;2",
            "0",
            "1,0",
            "x",
            "2147483648",
            &format!("{twenty},7"),
        ] {
            assert_eq!(parse_ids(text), None, "{text:?}");
        }
    }

    #[test]
    fn the_first_ids_parameter_counts() {
        let first = |query: &str| first_ids(query).map(Cow::into_owned);
        assert_eq!(first("ids=1,2"), Some("1,2".into()));
        assert_eq!(first("ids=5%2C4"), Some("5,4".into()));
        assert_eq!(first("x=1&ids=2&ids=3"), Some("2".into()));
        assert_eq!(first("ids"), Some("".into()));
        assert_eq!(first("ids=1+2"), Some("1 2".into()));
        assert_eq!(first("id=1&IDS=2"), None);
    }

    #[test]
    fn valid_orders() {
        for (body, account_id, amount) in [
            (r#"{"account_id":1,"amount":1}"#, 1, 1),
            (
                r#" { "amount" : 1000000 , "account_id" : 2147483647 } "#,
                MAX_ID,
                1000000,
            ),
            (r#"{"account_id":5,"amount":7,"note":[1,{"x":null}]}"#, 5, 7),
            (r#"{"account_id":1,"account_id":9,"amount":2}"#, 9, 2), // the last one counts
            (r#"{"account_id":"x","account_id":9,"amount":2}"#, 9, 2),
            (r#"{"account\u005fid":3,"amount":4}"#, 3, 4), // escapes in names
            (r#"{"account_id":3,"amount":4,"\ud800":"\udc00"}"#, 3, 4), // lone surrogates
        ] {
            let want = OrderRequest { account_id, amount };
            assert_eq!(parse_order(body.as_bytes()), Ok(want), "{body}");
        }
    }

    #[test]
    fn refused_orders() {
        let invalid: &[&[u8]] = &[
            b"",
            b" ",
            b"{",
            br#"{"account_id":1,"amount":1"#,
            br#"{"account_id":1,"amount":1}x"#,
            b"[]",
            b"null",
            b"1",
            br#""x""#,
            b"true",
            b"{}",
            br#"{"account_id":1}"#,
            br#"{"amount":1}"#,
            br#"{"account_id":"1","amount":1}"#,
            br#"{"account_id":1,"amount":"1"}"#,
            br#"{"account_id":1,"amount":1.0}"#,
            br#"{"account_id":1.0,"amount":1}"#,
            br#"{"account_id":1,"amount":1e2}"#,
            br#"{"account_id":1,"amount":1E2}"#,
            br#"{"account_id":1,"amount":-0.5}"#,
            br#"{"account_id":null,"amount":1}"#,
            br#"{"account_id":1,"amount":null}"#,
            br#"{"account_id":[1],"amount":1}"#,
            br#"{"account_id":1,"amount":{}}"#,
            br#"{"account_id":1,"amount":true}"#,
            br#"{"Account_ID":1,"amount":1}"#, // names are exact
            br#"{"account_id":1,"AMOUNT":1}"#,
            br#"{"account_id":01,"amount":1}"#,
            br#"{"account_id":1,"amount":+1}"#,
            b"{\"account_id\":1,\"amount\":1,\"n\":\"\xff\"}", // invalid UTF-8
            b"{\"account_id\":1,\"amount\":1,\"n\":\"\x01\"}",
            b"\xef\xbb\xbf{\"account_id\":1,\"amount\":1}", // a byte order mark is not JSON
        ];
        let out_of_range: &[&[u8]] = &[
            br#"{"account_id":1,"amount":0}"#,
            br#"{"account_id":1,"amount":-0}"#,
            br#"{"account_id":1,"amount":-5}"#,
            br#"{"account_id":1,"amount":1000001}"#,
            br#"{"account_id":1,"amount":99999999999999999999999}"#,
            br#"{"account_id":1,"amount":-99999999999999999999999}"#,
            br#"{"account_id":0,"amount":0}"#, // the amount is checked before the account
        ];
        let no_account: &[&[u8]] = &[
            br#"{"account_id":0,"amount":1}"#,
            br#"{"account_id":-0,"amount":1}"#,
            br#"{"account_id":-1,"amount":1}"#,
            br#"{"account_id":2147483648,"amount":1}"#,
            br#"{"account_id":99999999999999999999999,"amount":1}"#,
        ];
        for (bodies, refusal) in [
            (invalid, Refusal::InvalidJson),
            (out_of_range, Refusal::AmountOutOfRange),
            (no_account, Refusal::NoAccount),
        ] {
            for body in bodies {
                let got = parse_order(body);
                assert_eq!(got, Err(refusal), "{}", String::from_utf8_lossy(body));
            }
        }
    }

    #[test]
    fn json_integers() {
        for text in ["0", "-0", "1", "-1", "10", "123456789012345678901234567890"] {
            assert!(is_json_integer(text), "{text:?}");
        }
        for text in [
            "", "-", "01", "-01", "1.0", "1e2", "+1", "1 ", "\"1\"", "null", "--1",
        ] {
            assert!(!is_json_integer(text), "{text:?}");
        }
    }

    fn account_json(id: i32, balance: i64, name: &str) -> String {
        let account = Account {
            id,
            balance,
            name: name.into(),
        };
        serde_json::to_string(&account).unwrap()
    }

    #[test]
    fn accounts_as_json() {
        assert_eq!(
            account_json(12, -3, "account-12"),
            r#"{"id":12,"balance":-3,"name":"account-12"}"#
        );
        assert_eq!(
            account_json(MAX_ID, i64::MAX, ""),
            r#"{"id":2147483647,"balance":9223372036854775807,"name":""}"#
        );
        let order = Order {
            id: 5,
            account_id: 9991,
            amount: 250,
            balance: 999_750,
        };
        assert_eq!(
            serde_json::to_string(&order).unwrap(),
            r#"{"id":5,"account_id":9991,"amount":250,"balance":999750}"#
        );
    }

    /// Names are escaped as Go's peer escapes them: `"`, `\` and the control characters only,
    /// with the short forms where JSON has them; everything else as it is.
    #[test]
    fn names_are_json_escaped() {
        let name = |s: &str| {
            let json = account_json(1, 0, s);
            json[r#"{"id":1,"balance":0,"name":"#.len()..json.len() - 1].to_owned()
        };
        for (text, want) in [
            ("", r#""""#),
            ("a\"b\\c/d", r#""a\"b\\c/d""#),
            ("\n\r\t\u{8}\u{c}", r#""\n\r\t\b\f""#),
            ("\u{0}\u{1f}\u{7f}", "\"\\u0000\\u001f\u{7f}\""),
            ("é€😀<>&\u{2028}", "\"é€😀<>&\u{2028}\""),
        ] {
            assert_eq!(name(text), want, "{text:?}");
        }
        // Every character below 128 and a few above, alone and among others: valid JSON that
        // decodes to the name.
        for c in (0..128u8)
            .map(char::from)
            .chain(['é', '\u{2028}', '\u{fffd}', '😀'])
        {
            let text = format!("x{c}y");
            let back: String = serde_json::from_str(&name(&text)).unwrap();
            assert_eq!(back, text);
        }
    }

    // --- against PostgreSQL (the routes' tests are in tests/sql.rs) ----------------------

    /// The database of STACKBENCH_PG_URL. The tests that call this are `#[ignore]`d for it;
    /// run without it, they fail saying why.
    pub(super) fn database() -> tokio_postgres::Config {
        let url = std::env::var("STACKBENCH_PG_URL").unwrap_or_else(|_| {
            panic!("STACKBENCH_PG_URL is not set: this test needs a PostgreSQL (`stackbench pg` gives one)")
        });
        pg_config(&url).unwrap()
    }

    pub(super) const KILL_SELF: &str = "SELECT pg_terminate_backend(pg_backend_pid())";

    #[tokio::test]
    async fn a_wait_is_a_future_not_ready_at_once() {
        let waits = IntCounter::new("waits", "-").unwrap();
        assert_eq!(counting_wait(async { 1 }, &waits).await, 1);
        assert_eq!(waits.get(), 0);
        let (tx, rx) = tokio::sync::oneshot::channel();
        let waited = tokio::spawn({
            let waits = waits.clone();
            async move { counting_wait(rx, &waits).await.unwrap() }
        });
        tokio::task::yield_now().await;
        tx.send(7).unwrap();
        assert_eq!(waited.await.unwrap(), 7);
        assert_eq!(waits.get(), 1);
    }
}
