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
const DB_TIMEOUT: Duration = Duration::from_secs(2);

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
    Ok(Service::new(pool, config.body_limit).routes())
}

/// The connection settings `pg_url` gives.
fn pg_config(pg_url: &str) -> Result<tokio_postgres::Config, StartError> {
    pg_url.parse().map_err(StartError::PgUrl)
}

/// A pool of at most `size` connections to the database `pg` describes, none opened yet.
fn pool(pg: tokio_postgres::Config, size: usize) -> Pool {
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
async fn open_pool(pg: tokio_postgres::Config, size: usize) -> Result<Pool, StartError> {
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
    //! Parsing and JSON need nothing; the routes are checked against a pool whose database
    //! refuses connections, or accepts them and never answers. The tests that need PostgreSQL run
    //! only when STACKBENCH_PG_URL names a database loaded with contracts/sql/schema.sql (they
    //! write orders for accounts 9991..10000 only):
    //!
    //! ```text
    //! STACKBENCH_PG_URL=postgresql://bench@127.0.0.1:54321/stackbench cargo test sql
    //! ```
    //!
    //! With STACKBENCH_PG_STOP and STACKBENCH_PG_START also set (shell commands that stop and
    //! start that PostgreSQL), a test restarts the real server too.

    use super::*;
    use axum::http::header::CONTENT_TYPE;

    use std::sync::atomic::AtomicU64;

    use axum::body::Body;
    use axum::http::header::{ALLOW, CONTENT_LENGTH};
    use http_body_util::BodyExt;
    use tokio::net::TcpListener;
    use tokio::sync::{RwLock, RwLockReadGuard};
    use tower::ServiceExt;

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

    // --- routes --------------------------------------------------------------------------

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
        row("DELETE", "/accounts/1", "", 405, NOT_ALLOWED, "GET"),
        // methods
        row("POST", "/accounts/1", "{}", 405, NOT_ALLOWED, "GET"),
        row("PUT", "/accounts/x", "", 405, NOT_ALLOWED, "GET"),
        row("POST", "/accounts", "{}", 405, NOT_ALLOWED, "GET"),
        row("POST", "/accounts?ids=1", "{}", 405, NOT_ALLOWED, "GET"),
        row("GET", "/orders", "", 405, NOT_ALLOWED, "POST"),
        row("PUT", "/orders", r#"{"account_id":9991,"amount":1}"#, 405, NOT_ALLOWED, "POST"),
        row("POST", "/health", "", 405, NOT_ALLOWED, "GET, HEAD"),
    ];

    struct Answer {
        status: u16,
        allow: String,
        body: String,
        took: Duration,
    }

    /// Sends one request to `app` and checks what every answer has: a JSON Content-Type and a
    /// Content-Length that is the body's.
    async fn send(app: &Router, method: &str, path: &str, body: impl Into<Body>) -> Answer {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .body(body.into())
            .unwrap();
        let start = Instant::now();
        let response = app.clone().oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        let took = start.elapsed();
        let header = |name| {
            parts
                .headers
                .get(name)
                .map_or("", |v| v.to_str().unwrap())
                .to_owned()
        };
        assert_eq!(header(CONTENT_TYPE), "application/json", "{method} {path}");
        if method != "HEAD" {
            assert_eq!(
                header(CONTENT_LENGTH),
                body.len().to_string(),
                "{method} {path}"
            );
        }
        Answer {
            status: parts.status.as_u16(),
            allow: header(ALLOW),
            body: String::from_utf8(body.to_vec()).unwrap(),
            took,
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

    /// The service over `pool`, with what `server` adds to every workload.
    fn app(pool: Pool) -> Router {
        server::with_common(
            Service::new(pool, LIMIT).routes(),
            Arc::new(AtomicU64::new(0)),
        )
    }

    /// A pool of `size` connections to a "database" at 127.0.0.1:`port`, opened on demand.
    fn lazy_pool(port: u16, size: usize) -> Pool {
        let url = format!("postgresql://bench@127.0.0.1:{port}/stackbench");
        pool(pg_config(&url).unwrap(), size)
    }

    /// A loopback port with nothing listening on it (for now).
    async fn free_port() -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap().port()
    }

    #[tokio::test]
    async fn validation_without_a_database() {
        // Nothing listens on the pool's port: any row that reached the database would be 503.
        let app = app(lazy_pool(free_port().await, 2));
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

    /// The database port closed: 503 at once, again and again; /health still answers.
    #[tokio::test]
    async fn unavailable_when_refused() {
        let app = app(lazy_pool(free_port().await, 4));
        for _ in 0..3 {
            for (method, path, body) in [
                ("GET", "/accounts/1", ""),
                ("GET", "/accounts?ids=1,2", ""),
                ("POST", "/orders", r#"{"account_id":9991,"amount":1}"#),
            ] {
                let got = send(&app, method, path, body).await;
                assert_eq!((got.status, got.body.as_str()), (503, UNAVAILABLE));
                assert!(
                    got.took < Duration::from_secs(1),
                    "{method} {path}: {:?}",
                    got.took
                );
            }
        }
        check_rows(&app, &VALIDATION_ROWS[..3]).await;
    }

    /// A "database" that accepts connections and never answers: every request, concurrent ones
    /// too, is answered 503 after DB_TIMEOUT, and never later.
    #[tokio::test(flavor = "multi_thread")]
    async fn unavailable_when_silent() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let silent = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((conn, _)) = listener.accept().await {
                held.push(conn);
            }
        });
        let app = app(lazy_pool(port, 2));
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
                    "{method} {path}: {:?}",
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

    /// The database of STACKBENCH_PG_URL, with `DATABASE` held for reading, or `None` (the test
    /// is then skipped).
    async fn database() -> Option<(tokio_postgres::Config, RwLockReadGuard<'static, ()>)> {
        let Ok(url) = std::env::var("STACKBENCH_PG_URL") else {
            eprintln!("skipped: STACKBENCH_PG_URL is not set");
            return None;
        };
        let guard = DATABASE.read().await;
        Some((pg_config(&url).unwrap(), guard))
    }

    async fn open(pg: tokio_postgres::Config, size: usize) -> Pool {
        let pool = open_pool(pg, size).await.unwrap();
        let status = pool.status();
        assert_eq!((status.size, status.available), (size, size), "a warm pool");
        pool
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
        account_json(id, balance, &format!("account-{id}"))
    }

    /// Rows hold `&'static str`; the few built at run time are leaked.
    fn leak(s: String) -> &'static str {
        s.leak()
    }

    #[tokio::test]
    async fn contract() {
        let Some((pg, _db)) = database().await else {
            return;
        };
        let pool = open(pg, 4).await;
        let app = app(pool.clone());
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
        let b10000 = balance_of(&pool, 10000).await;
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
    async fn orders() {
        let Some((pg, _db)) = database().await else {
            return;
        };
        let pool = open(pg, 4).await;
        let app = app(pool.clone());

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
    async fn pool_exhausted() {
        let Some((pg, _db)) = database().await else {
            return;
        };
        let pool = open(pg, 2).await;
        let app = app(pool.clone());
        let held = [pool.get().await.unwrap(), pool.get().await.unwrap()];
        let got = send(&app, "GET", "/accounts/1", "").await;
        assert_eq!((got.status, got.body.as_str()), (503, UNAVAILABLE));
        let window =
            DB_TIMEOUT - Duration::from_millis(50)..DB_TIMEOUT + Duration::from_millis(500);
        assert!(window.contains(&got.took), "{:?}", got.took);
        drop(held);
        assert_eq!(send(&app, "GET", "/accounts/1", "").await.status, 200);
    }

    const KILL_SELF: &str = "SELECT pg_terminate_backend(pg_backend_pid())";

    /// A request whose connection dies under it runs again on another connection.
    #[tokio::test]
    async fn a_dead_connection_is_retried_on_another() {
        let Some((pg, _db)) = database().await else {
            return;
        };
        let service = Service::new(open(pg, 2).await, LIMIT);
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
    async fn a_failed_commit_is_not_retried() {
        let Some((pg, _db)) = database().await else {
            return;
        };
        let service = Service::new(open(pg, 2).await, LIMIT);
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

    /// Every pooled connection killed between two requests (as a restart does): not one
    /// request fails.
    #[tokio::test]
    async fn connections_killed_between_requests() {
        let Some((mut pg, _db)) = database().await else {
            return;
        };
        let name = format!("stackbench-rust-test-{}", std::process::id());
        pg.application_name(&name);
        let pool = open(pg.clone(), 4).await;
        let app = app(pool.clone());
        let (killer, connection) = pg.connect(NoTls).await.unwrap();
        tokio::spawn(connection);
        for round in 0..3 {
            let killed = killer
                .execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE application_name = $1 AND pid <> pg_backend_pid()",
                    &[&name],
                )
                .await
                .unwrap();
            assert!(killed > 0, "round {round}: no connection to kill");
            for id in 1..=6 {
                let got = send(&app, "GET", &format!("/accounts/{id}"), "").await;
                assert_eq!(got.status, 200, "round {round}: {}", got.body);
            }
            let got = send(&app, "POST", "/orders", r#"{"account_id":9994,"amount":1}"#).await;
            assert_eq!(got.status, 201, "round {round}: {}", got.body);
        }
    }

    /// Stops and starts the real PostgreSQL with the commands in STACKBENCH_PG_STOP and
    /// STACKBENCH_PG_START.
    #[tokio::test]
    async fn real_restart() {
        let (Ok(stop), Ok(start)) = (
            std::env::var("STACKBENCH_PG_STOP"),
            std::env::var("STACKBENCH_PG_START"),
        ) else {
            eprintln!("skipped: STACKBENCH_PG_STOP and STACKBENCH_PG_START are not set");
            return;
        };
        let Some((pg, read)) = database().await else {
            return;
        };
        drop(read);
        let _alone = DATABASE.write().await;
        let sh = |command: &str| {
            let status = std::process::Command::new("sh")
                .args(["-c", command])
                .status();
            assert!(status.is_ok_and(|s| s.success()), "{command}");
        };
        let pool = open(pg, 4).await;
        let app = app(pool);
        let all = async |want: u16| {
            for (method, path, body) in [
                ("GET", "/accounts/1", ""),
                ("GET", "/accounts?ids=2,1", ""),
                ("POST", "/orders", r#"{"account_id":9994,"amount":1}"#),
            ] {
                let got = send(&app, method, path, body).await;
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
        sh(&stop);
        let restarted = scopeguard(|| sh(&start)); // left running, whatever happens
        for _ in 0..3 {
            all(503).await;
        }
        drop(restarted);
        all(200).await;
        // A restart between two requests: not one request may fail.
        sh(&stop);
        sh(&start);
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
}
