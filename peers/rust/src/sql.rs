//! The `sql` workload (contracts/sql.md): an API over PostgreSQL through a pool of tokio-postgres
//! connections (deadpool-postgres).
//!
//! ```text
//! GET  /accounts/{id}        one account
//! GET  /accounts?ids=1,2,3   the accounts that exist among 1 to 20 ids, sorted by id
//! POST /orders               {"account_id":N,"amount":N}: debit the account and record the
//!                            order in one transaction, answer 201 once committed
//! GET  /health               {"status":"ok"}, without touching the database
//! ```
//!
//! # The pool
//!
//! deadpool keeps at most `--pool` connections and opens them on demand; `router` opens all of
//! them before the service says it is listening, so that the first requests find the pool as
//! warm as the other languages' services do. Each connection prepares a statement the first
//! time it runs it and keeps it (deadpool's `prepare_cached`).
//!
//! # Failures
//!
//! Every request that uses the database has `DB_TIMEOUT` in total to get a connection and run
//! its statements; past that, or when the database cannot be reached, it is answered 503. A
//! connection whose request ran out of time is closed rather than handed out again: it may be
//! stuck on a hung server, or still busy with the statements given up on.
//!
//! Broken connections are not handed out again either. When PostgreSQL goes away, the
//! connection's task (tokio-postgres) sees its socket close, and deadpool's recycling
//! (`RecyclingMethod::Fast`: `Client::is_closed`) drops the closed connection the next time it
//! comes out of the pool and opens a new one in its place, so the service recovers by itself
//! once the database is back. (deadpool has no background task: after a restart, connections
//! are reopened as requests need them, not all at once.) `Fast` rather than `Verified`, which would cost a round trip on
//! every request: the one case `is_closed` misses, a connection whose server went away so
//! recently that its task has not seen it yet, is handled by `Service::with_client`, which runs
//! a request that failed only because its connection was dead again on another connection,
//! unless a COMMIT had been sent.
//!
//! # Answers
//!
//! Accounts and orders are serialized by serde_json (no white space, members in declaration
//! order, strings escaped as the contract wants). Order bodies are read by serde_json too, with
//! a visitor of our own rather than a derived struct, to keep the contract's rules: exact member
//! names, the last of a repeated name counts, and numbers judged on their JSON text (`1.0` and
//! `1e2` are not integers, `100000000000000000000` is one, out of range).

use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use deadpool_postgres::{
    ClientWrapper, Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod,
};
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tokio::time::{Instant, timeout, timeout_at};
use tokio_postgres::NoTls;
use tokio_postgres::error::Severity;

use crate::server;

/// The database part of a request: getting a connection (which may mean opening one) and
/// running the statements. The contract's 2 s.
pub const DB_TIMEOUT: Duration = Duration::from_secs(2);

/// Opening the whole pool at start.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// The most ids `GET /accounts?ids=` takes.
const MAX_IDS: usize = 20;

/// The largest amount of an order; the smallest is 1.
const MAX_AMOUNT: i64 = 1_000_000;

/// The statements, each prepared once per connection.
const SQL_ACCOUNT: &str = "SELECT balance, name FROM accounts WHERE id = $1";
const SQL_ACCOUNTS: &str = "SELECT id, balance, name FROM accounts WHERE id = ANY($1) ORDER BY id";
const SQL_DEBIT: &str =
    "UPDATE accounts SET balance = balance - $2 WHERE id = $1 RETURNING balance";
const SQL_ORDER: &str = "INSERT INTO orders (account_id, amount) VALUES ($1, $2) RETURNING id";

pub struct Config {
    /// Largest request body, in bytes.
    pub body_limit: usize,
    /// The database: a URL or a keyword/value string, as tokio-postgres reads them.
    pub pg_url: String,
    /// The number of connections the pool keeps.
    pub pool: usize,
}

/// Why the service cannot start.
#[derive(Debug)]
pub enum StartError {
    /// `--pg-url` is not a connection string.
    PgUrl(tokio_postgres::Error),
    /// The pool's connections could not all be opened.
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

/// Opens the pool (every connection of it) and builds the router over it.
pub async fn router(config: Config) -> Result<Router, StartError> {
    let pool = open_pool(pg_config(&config.pg_url)?, config.pool).await?;
    Ok(routes(pool, config.body_limit))
}

/// The contract's routes over `pool`, whether its connections are open yet or not.
pub fn routes(pool: Pool, body_limit: usize) -> Router {
    Service::new(pool, body_limit).routes()
}

/// The connection settings `pg_url` gives.
pub fn pg_config(pg_url: &str) -> Result<tokio_postgres::Config, StartError> {
    pg_url.parse().map_err(StartError::PgUrl)
}

/// A pool of at most `size` connections to the database `pg` describes, none opened yet.
pub fn pool(pg: tokio_postgres::Config, size: usize) -> Pool {
    let manager = Manager::from_config(
        pg,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(size)
        .build()
        .expect("a pool without deadpool timeouts needs no runtime")
}

/// A pool of `size` connections to the database `pg` describes, all of them open: they are
/// taken at once, which opens them, and given back.
pub async fn open_pool(pg: tokio_postgres::Config, size: usize) -> Result<Pool, StartError> {
    let pool = pool(pg, size);
    let warm_up = async {
        let mut held = Vec::with_capacity(size);
        for _ in 0..size {
            held.push(pool.get().await?);
        }
        Ok::<_, PoolError>(())
    };
    match timeout(START_TIMEOUT, warm_up).await {
        Ok(Ok(())) => Ok(pool),
        Ok(Err(e)) => Err(StartError::Pool(Failure::Pool(e).to_string())),
        Err(_) => Err(StartError::Pool(format!(
            "not open within {}s",
            START_TIMEOUT.as_secs()
        ))),
    }
}

/// The service: the pool and what the handlers share.
struct Service {
    pool: Pool,
    body_limit: usize,
    /// How many connections `with_client` tries: the pool's size + 1.
    attempts: usize,
    /// When a database failure was last logged: at most one line a second.
    last_log: Mutex<Option<Instant>>,
}

impl Service {
    fn new(pool: Pool, body_limit: usize) -> Self {
        Service {
            attempts: pool.status().max_size + 1,
            pool,
            body_limit,
            last_log: Mutex::new(None),
        }
    }

    /// The contract's routes. `get` answers HEAD too (same head, no body); `server::only` turns
    /// the other methods of a route into a JSON 405, and `server` turns every other path into a
    /// JSON 404.
    fn routes(self) -> Router {
        Router::new()
            .route("/accounts/{id}", server::only("GET", get(account)))
            .route(
                "/accounts/",
                server::only("GET", get(|| async { bad_request() })),
            ) // an empty {id}
            .route("/accounts", server::only("GET", get(accounts)))
            .route("/orders", server::only("POST", post(order)))
            .route("/health", server::health_route())
            .layer(DefaultBodyLimit::max(self.body_limit))
            .with_state(Arc::new(self))
    }

    /// Runs `f` on a pooled connection, all within `DB_TIMEOUT`.
    ///
    /// When `f` fails because its connection is dead, `f` runs again on another connection
    /// while time allows: the connection was dead before `f` used it (the database restarted
    /// since it was last used), or died under it, and either way no COMMIT of `f`'s reached the
    /// database (`Failure::Commit` is never retried), so running `f` again is safe. Each retry
    /// throws away one dead connection: after a restart every pooled connection may be dead,
    /// hence up to the pool's size + 1 tries, the last one on a new connection.
    async fn with_client<T>(
        &self,
        mut f: impl for<'c> FnMut(&'c mut ClientWrapper) -> Job<'c, T>,
    ) -> Result<T, Failure> {
        let deadline = Instant::now() + DB_TIMEOUT;
        let mut attempt = 1;
        loop {
            let mut client = timeout_at(deadline, self.pool.get())
                .await
                .map_err(|_| Failure::Timeout)?
                .map_err(Failure::Pool)?;
            let Ok(result) = timeout_at(deadline, f(&mut client)).await else {
                drop(Object::take(client)); // closes it: see the module's doc
                return Err(Failure::Timeout);
            };
            match result {
                Err(e) if e.lost(&client) => {
                    drop(Object::take(client)); // a dead connection goes now
                    let retry = !matches!(e, Failure::Commit(_))
                        && attempt < self.attempts
                        && Instant::now() < deadline;
                    if !retry {
                        return Err(e);
                    }
                    attempt += 1;
                }
                result => return result,
            }
        }
    }

    /// 503 for a database failure. At most one line a second goes to stderr, so that a
    /// database down under load does not flood it.
    fn unavailable(&self, failure: &Failure) -> Response {
        let now = Instant::now();
        let mut last = self.last_log.lock().unwrap_or_else(|e| e.into_inner());
        if last.is_none_or(|at| now.duration_since(at) >= Duration::from_secs(1)) {
            *last = Some(now);
            eprintln!("stackbench-rust sql: answering 503: {failure}");
        }
        server::error(StatusCode::SERVICE_UNAVAILABLE, "database_unavailable")
    }
}

/// What `with_client` runs on a connection. Boxed: a closure cannot name the future of the async
/// fn it calls. (An async closure, `AsyncFnMut`, would need no box, but rustc then fails to
/// prove the handlers' futures `Send` for every lifetime of the borrowed connection.)
type Job<'c, T> = Pin<Box<dyn Future<Output = Result<T, Failure>> + Send + 'c>>;

/// Why a request could not use the database.
#[derive(Debug)]
enum Failure {
    /// `DB_TIMEOUT` passed: no connection free (or opened) in time, or statements too slow.
    Timeout,
    /// No connection: the database could not be reached.
    Pool(PoolError),
    /// A statement failed.
    Statement(tokio_postgres::Error),
    /// COMMIT failed: whether the transaction was committed is unknown.
    Commit(tokio_postgres::Error),
}

impl From<tokio_postgres::Error> for Failure {
    fn from(e: tokio_postgres::Error) -> Self {
        Failure::Statement(e)
    }
}

impl Failure {
    /// Whether the failure came from `client`'s connection being dead: closed, or told by the
    /// server that it is being closed (a FATAL error, as in a shutdown), which may come before
    /// the connection's task has seen the socket close.
    fn lost(&self, client: &ClientWrapper) -> bool {
        let (Failure::Statement(e) | Failure::Commit(e)) = self else {
            return false;
        };
        client.is_closed()
            || e.is_closed()
            || e.as_db_error().is_some_and(|db| {
                matches!(
                    db.parsed_severity(),
                    Some(Severity::Fatal | Severity::Panic)
                )
            })
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Timeout => write!(f, "timed out after {}s", DB_TIMEOUT.as_secs()),
            Failure::Pool(PoolError::Backend(e)) => f.write_str(&one_line(e)),
            Failure::Pool(e) => write!(f, "{e}"),
            Failure::Statement(e) => f.write_str(&one_line(e)),
            Failure::Commit(e) => write!(f, "commit: {}", one_line(e)),
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
    match s.with_client(|c| Box::pin(find_account(c, id))).await {
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
    match s
        .with_client(|c| Box::pin(find_accounts(c, ids.clone())))
        .await
    {
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
    match s.with_client(|c| Box::pin(place_order(c, req))).await {
        Ok(Some(order)) => (StatusCode::CREATED, Json(order)).into_response(),
        Ok(None) => not_found(),
        Err(e) => s.unavailable(&e),
    }
}

/// The account `id`, if there is one.
async fn find_account(c: &mut ClientWrapper, id: i32) -> Result<Option<Account>, Failure> {
    let statement = c.prepare_cached(SQL_ACCOUNT).await?;
    let Some(row) = c.query_opt(&statement, &[&id]).await? else {
        return Ok(None);
    };
    Ok(Some(Account {
        id,
        balance: row.try_get(0)?,
        name: row.try_get(1)?,
    }))
}

/// The accounts among `ids` that exist, sorted by id, each once.
async fn find_accounts(c: &mut ClientWrapper, ids: Vec<i32>) -> Result<Vec<Account>, Failure> {
    let statement = c.prepare_cached(SQL_ACCOUNTS).await?;
    let rows = c.query(&statement, &[&ids]).await?;
    let accounts = rows
        .iter()
        .map(|row| {
            Ok(Account {
                id: row.try_get(0)?,
                balance: row.try_get(1)?,
                name: row.try_get(2)?,
            })
        })
        .collect::<Result<_, tokio_postgres::Error>>()?;
    Ok(accounts)
}

/// Debits the account and records the order in one transaction; `None` when there is no such
/// account (nothing is written then).
async fn place_order(c: &mut ClientWrapper, req: OrderRequest) -> Result<Option<Order>, Failure> {
    let tx = c.transaction().await?;
    // The UPDATE first: it finds out whether the account exists (no row: the transaction is
    // rolled back as it is dropped) and locks it, so the INSERT's foreign key check cannot fail.
    let debit = tx.prepare_cached(SQL_DEBIT).await?;
    let Some(row) = tx
        .query_opt(&debit, &[&req.account_id, &req.amount])
        .await?
    else {
        return Ok(None);
    };
    let balance: i64 = row.try_get(0)?;
    let insert = tx.prepare_cached(SQL_ORDER).await?;
    let row = tx
        .query_one(&insert, &[&req.account_id, &req.amount])
        .await?;
    let id: i64 = row.try_get(0)?;
    tx.commit().await.map_err(Failure::Commit)?;
    Ok(Some(Order {
        id,
        account_id: req.account_id,
        amount: req.amount,
        balance,
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
mod tests {
    //! Parsing, JSON, and the retries of `Service::with_client`. The routes are tested through
    //! the router in tests/sql.rs. The retry tests need PostgreSQL: they are `#[ignore]`d, and
    //! fail when run without STACKBENCH_PG_URL (see tests/sql.rs).

    use super::*;

    const MAX_ID: i32 = i32::MAX;
    const LIMIT: usize = 1 << 20;

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
    fn database() -> tokio_postgres::Config {
        let url = std::env::var("STACKBENCH_PG_URL").unwrap_or_else(|_| {
            panic!("STACKBENCH_PG_URL is not set: this test needs a PostgreSQL (`stackbench pg` gives one)")
        });
        pg_config(&url).unwrap()
    }

    const KILL_SELF: &str = "SELECT pg_terminate_backend(pg_backend_pid())";

    /// A request whose connection dies under it runs again on another connection.
    #[tokio::test]
    #[ignore = "needs a PostgreSQL: STACKBENCH_PG_URL (stackbench pg -- cargo test -- --include-ignored --skip real_restart)"]
    async fn a_dead_connection_is_retried_on_another() {
        let pg = database();
        let service = Service::new(open_pool(pg, 2).await.unwrap(), LIMIT);
        let mut tries = 0;
        let got = service
            .with_client(|c| {
                tries += 1;
                let first = tries == 1;
                Box::pin(async move {
                    if first {
                        c.simple_query(KILL_SELF).await?;
                    }
                    Ok(c.query_one("SELECT 1", &[]).await?.get::<_, i32>(0))
                })
            })
            .await;
        assert_eq!((got.ok(), tries), (Some(1), 2));
        assert_eq!(
            service.pool.status().size,
            1,
            "the dead connection was thrown away"
        );
    }

    /// ...unless its COMMIT had been sent: whether it committed is unknown.
    #[tokio::test]
    #[ignore = "needs a PostgreSQL: STACKBENCH_PG_URL (stackbench pg -- cargo test -- --include-ignored --skip real_restart)"]
    async fn a_failed_commit_is_not_retried() {
        let pg = database();
        let service = Service::new(open_pool(pg, 2).await.unwrap(), LIMIT);
        let mut tries = 0;
        let got = service
            .with_client(|c| {
                tries += 1;
                Box::pin(async move {
                    let e = c.simple_query(KILL_SELF).await.unwrap_err();
                    Err::<(), _>(Failure::Commit(e))
                })
            })
            .await;
        assert!(matches!(got, Err(Failure::Commit(_))), "{got:?}");
        assert_eq!(tries, 1);
    }
}
