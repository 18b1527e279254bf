//! `--db-strategy pipelined`: `--pool` tokio-postgres clients shared by every request, many
//! requests in flight on each at once, as the C service's pool does with libpq's pipeline mode
//! (src/serve/pgpool.c).
//!
//! A tokio-postgres `Client` pipelines by itself: each query is handed to the connection's
//! task, which writes it at once, without waiting for the answers to the ones before it, and
//! hands the answers back in order. So a request takes the connection with the fewest requests
//! in flight (ties go round robin), waits for one of its `MAX_IN_FLIGHT` places (a semaphore per
//! connection) and runs its prepared statement there.
//!
//! # Connections
//!
//! Each connection has a task of its own (`keep_open`) that drives it, and opens it again when
//! it is lost: at once after a connection that was up (most often the server is back already,
//! or never left), then with a backoff from 10 ms doubling to 250 ms while opening fails, each
//! attempt bounded by `DB_TIMEOUT`. A request that finds no connection up or being opened cuts
//! the backoffs short (no more than one attempt per connection every 10 ms) and waits for the
//! outcome, so that a database back from a restart is used at once, as the exclusive pool
//! does by opening a connection on demand. A connection is prepared (the three statements)
//! before requests are given to it.
//!
//! # Failures
//!
//! The rules of the module `sql`: `DB_TIMEOUT` per request, waiting for a connection
//! included; a read whose connection was lost runs again on another, an order that was sent
//! does not (503: its outcome is unknown); a connection whose statement got no answer in time
//! is closed, which fails the requests in flight on it the same way. When no connection is up
//! or being opened, even after the backoffs were cut short, requests are answered 503 at once
//! rather than after the timeout.

use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{Notify, Semaphore, watch};
use tokio::time::{Instant, sleep, sleep_until, timeout, timeout_at};
use tokio_postgres::tls::NoTlsStream;
use tokio_postgres::{Client, Connection, NoTls, Socket, Statement};

use super::queries::Query;
use super::{
    DB_TIMEOUT, Failure, Job, Log, START_TIMEOUT, StartError, counting_wait, failed, one_line,
    traced,
};
use crate::telemetry::SqlMetrics;

/// Requests in flight on one connection at most, as in the C service (PGPOOL_MAX_INFLIGHT).
pub const MAX_IN_FLIGHT: usize = 32;

/// The wait before opening a connection again after a failed attempt, doubled after each
/// further one up to `MAX_BACKOFF` (the C service's figures).
const FIRST_BACKOFF: Duration = Duration::from_millis(10);
const MAX_BACKOFF: Duration = Duration::from_millis(250);

/// The connections of the `pipelined` strategy.
pub struct Pipelined {
    shared: Arc<Shared>,
    /// Dropped with the service: the connections' tasks then close them and end.
    _stop: watch::Sender<()>,
}

/// What the requests and the connections' tasks share.
struct Shared {
    links: Vec<Mutex<Link>>,
    /// Per link: cuts its backoff short.
    kicks: Vec<Notify>,
    /// Told whenever a link changes state, or a connection is lost.
    changed: Notify,
    /// Where the next search for the least loaded connection starts (round robin of ties).
    next: AtomicUsize,
    /// Why a connection last went down, for the 503 log line.
    last_error: Mutex<String>,
    log: Arc<Log>,
}

/// One of the `--pool` connections, as its task last left it.
enum Link {
    /// Being opened: requests wait for it.
    Connecting,
    /// Opening failed; another attempt comes after the backoff.
    Down,
    Up(Arc<Conn>),
}

/// An open connection.
struct Conn {
    client: Client,
    /// The statements of `Query::ALL`, in its order, prepared on this connection.
    statements: [Statement; 3],
    /// The places for requests in flight; closed when the connection is lost.
    permits: Semaphore,
    lost: AtomicBool,
    /// Asks the connection's task to close it (a statement got no answer in time).
    close: Notify,
}

impl Conn {
    fn is_lost(&self) -> bool {
        self.lost.load(Ordering::Relaxed) || self.client.is_closed()
    }

    /// Takes no more requests, and lets those waiting for a place go elsewhere.
    fn retire(&self) {
        self.lost.store(true, Ordering::Relaxed);
        self.permits.close();
    }
}

type PgConnection = Connection<Socket, NoTlsStream>;

/// Opens a connection and prepares the statements on it (in one round trip: the three
/// prepares are pipelined too).
async fn connect(pg: &tokio_postgres::Config) -> Result<(Arc<Conn>, PgConnection), String> {
    let (client, mut connection) = pg.connect(NoTls).await.map_err(|e| one_line(&e))?;
    let prepared = {
        let [account, accounts, order] = Query::ALL.map(|q| client.prepare(q.text()));
        let prepare = async { tokio::try_join!(account, accounts, order) };
        // The connection's future must run for the prepares to be answered.
        tokio::select! {
            prepared = prepare => prepared,
            end = &mut connection => return Err(ended(end)),
        }
    };
    let (account, accounts, order) =
        prepared.map_err(|e| format!("cannot prepare the statements: {}", one_line(&e)))?;
    let conn = Conn {
        client,
        statements: [account, accounts, order],
        permits: Semaphore::new(MAX_IN_FLIGHT),
        lost: AtomicBool::new(false),
        close: Notify::new(),
    };
    Ok((Arc::new(conn), connection))
}

/// Why a connection's future ended.
fn ended(end: Result<(), tokio_postgres::Error>) -> String {
    match end {
        Ok(()) => "the connection was closed".into(),
        Err(e) => one_line(&e),
    }
}

/// Drives the connection of link `index` and opens it again whenever it is lost, until `stop`
/// is dropped. `opened`: a connection already open to start with.
async fn keep_open(
    shared: Arc<Shared>,
    index: usize,
    pg: tokio_postgres::Config,
    mut opened: Option<(Arc<Conn>, PgConnection)>,
    mut stop: watch::Receiver<()>,
) {
    let mut backoff = Duration::ZERO;
    loop {
        let (conn, connection) = match opened.take() {
            Some(open) => open,
            None => {
                shared.set(index, Link::Connecting);
                let attempt = async {
                    timeout(DB_TIMEOUT, connect(&pg)).await.unwrap_or_else(|_| {
                        Err(format!(
                            "the database did not accept the connection within {}s",
                            DB_TIMEOUT.as_secs()
                        ))
                    })
                };
                let result = tokio::select! {
                    result = attempt => result,
                    _ = stop.changed() => return,
                };
                match result {
                    Ok(open) => open,
                    Err(why) => {
                        let failed_at = Instant::now();
                        shared
                            .log
                            .line(format_args!("database connection failed: {why}"));
                        shared.went_down(index, why);
                        backoff = (backoff * 2).clamp(FIRST_BACKOFF, MAX_BACKOFF);
                        let waited = async {
                            tokio::select! {
                                () = sleep(backoff) => {}
                                () = shared.kicks[index].notified() => {
                                    sleep_until(failed_at + FIRST_BACKOFF).await;
                                }
                            }
                        };
                        tokio::select! {
                            () = waited => {}
                            _ = stop.changed() => return,
                        }
                        continue;
                    }
                }
            }
        };
        backoff = Duration::ZERO;
        shared.set(index, Link::Up(Arc::clone(&conn)));
        let why = tokio::select! {
            end = connection => ended(end),
            () = conn.close.notified() => format!(
                "closed: a statement got no answer within {}s",
                DB_TIMEOUT.as_secs()
            ),
            _ = stop.changed() => return,
        };
        // The requests in flight on it fail (their answers will not come); they retry or not
        // by the module's rules.
        conn.retire();
        shared
            .log
            .line(format_args!("database connection lost: {why}"));
        *shared.last_error() = why;
    }
}

/// What a search for a connection found.
enum Choice {
    Conn(Arc<Conn>),
    /// None is up, but one is being opened.
    Wait,
    /// None is up or being opened.
    Nothing,
}

impl Shared {
    fn link(&self, index: usize) -> MutexGuard<'_, Link> {
        self.links[index].lock().unwrap_or_else(|e| e.into_inner())
    }

    fn last_error(&self) -> MutexGuard<'_, String> {
        self.last_error.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set(&self, index: usize, link: Link) {
        *self.link(index) = link;
        self.changed.notify_waiters();
    }

    fn went_down(&self, index: usize, why: String) {
        *self.last_error() = why;
        self.set(index, Link::Down);
    }

    /// `conn` is lost or unanswering: no request goes to it any more, and its task closes it.
    fn lose(&self, conn: &Conn) {
        conn.retire();
        conn.close.notify_one();
        self.changed.notify_waiters();
    }

    /// The up connection with the fewest requests in flight.
    fn choose(&self) -> Choice {
        let n = self.links.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed) % n;
        let mut best: Option<(usize, Arc<Conn>)> = None;
        let mut hope = false;
        for k in 0..n {
            match &*self.link((start + k) % n) {
                Link::Up(conn) if !conn.is_lost() => {
                    let load = MAX_IN_FLIGHT - conn.permits.available_permits();
                    if best.as_ref().is_none_or(|(least, _)| load < *least) {
                        best = Some((load, Arc::clone(conn)));
                    }
                    if load == 0 {
                        break; // none can have fewer
                    }
                }
                // A lost connection's task is about to open it again.
                Link::Up(_) | Link::Connecting => hope = true,
                Link::Down => {}
            }
        }
        match best {
            Some((_, conn)) => Choice::Conn(conn),
            None if hope => Choice::Wait,
            None => Choice::Nothing,
        }
    }

    /// A connection for a request, before `deadline`.
    async fn pick(&self, deadline: Instant) -> Result<Arc<Conn>, Failure> {
        let mut kicked = false;
        loop {
            // Registered before looking, so that no change between the two is missed.
            let mut changed = pin!(self.changed.notified());
            changed.as_mut().enable();
            match self.choose() {
                Choice::Conn(conn) => return Ok(conn),
                Choice::Nothing if kicked => {
                    return Err(Failure::Down(self.last_error().clone()));
                }
                Choice::Nothing => {
                    // Every link waits out a backoff: one attempt now, then the answer.
                    kicked = true;
                    self.kicks.iter().for_each(Notify::notify_one);
                }
                Choice::Wait => {}
            }
            timeout_at(deadline, changed)
                .await
                .map_err(|_| Failure::Timeout)?;
        }
    }
}

impl Pipelined {
    /// `size` connections to the database `pg` describes, all open with their statements
    /// prepared, or the reason why not.
    pub async fn open(pg: tokio_postgres::Config, size: usize) -> Result<Pipelined, StartError> {
        let open_all = async {
            let mut opened = Vec::with_capacity(size);
            for _ in 0..size {
                opened.push(Some(connect(&pg).await?));
            }
            Ok::<_, String>(opened)
        };
        match timeout(START_TIMEOUT, open_all).await {
            Ok(Ok(opened)) => Ok(Pipelined::start(pg, opened)),
            Ok(Err(why)) => Err(StartError::Pool(why)),
            Err(_) => Err(StartError::Pool(format!(
                "not open within {}s",
                START_TIMEOUT.as_secs()
            ))),
        }
    }

    /// `size` connections to the database `pg` describes, opened in the background.
    pub fn lazy(pg: tokio_postgres::Config, size: usize) -> Pipelined {
        Pipelined::start(pg, (0..size).map(|_| None).collect())
    }

    fn start(pg: tokio_postgres::Config, opened: Vec<Option<(Arc<Conn>, PgConnection)>>) -> Self {
        assert!(!opened.is_empty(), "at least one connection");
        let (stop, stopped) = watch::channel(());
        let links = opened
            .iter()
            .map(|open| {
                Mutex::new(match open {
                    Some((conn, _)) => Link::Up(Arc::clone(conn)),
                    None => Link::Connecting,
                })
            })
            .collect();
        let shared = Arc::new(Shared {
            kicks: opened.iter().map(|_| Notify::new()).collect(),
            links,
            changed: Notify::new(),
            next: AtomicUsize::new(0),
            last_error: Mutex::new(String::new()),
            log: Arc::default(),
        });
        for (index, open) in opened.into_iter().enumerate() {
            let task = keep_open(
                Arc::clone(&shared),
                index,
                pg.clone(),
                open,
                stopped.clone(),
            );
            tokio::spawn(task);
        }
        Pipelined {
            shared,
            _stop: stop,
        }
    }

    /// The log the connections write to (at most a line a second).
    pub fn log(&self) -> Arc<Log> {
        Arc::clone(&self.shared.log)
    }

    /// How many connections it keeps (`--pool`).
    pub fn size(&self) -> usize {
        self.shared.links.len()
    }

    /// How many connections are up now.
    pub fn up(&self) -> usize {
        (0..self.shared.links.len())
            .filter(|&i| matches!(&*self.shared.link(i), Link::Up(c) if !c.is_lost()))
            .count()
    }

    /// Runs `query` through `f` on the least loaded connection, all within `DB_TIMEOUT`,
    /// retrying a read whose connection was lost on another, up to the number of connections
    /// + 1 times.
    pub(super) async fn run<T, F>(
        &self,
        stats: &SqlMetrics,
        query: Query,
        mut f: F,
    ) -> Result<T, Failure>
    where
        F: for<'c> FnMut(&'c Client, &'c Statement) -> Job<'c, T> + Send,
    {
        let deadline = Instant::now() + DB_TIMEOUT;
        let attempts = self.shared.links.len() + 1;
        let mut attempt = 1;
        loop {
            let conn = counting_wait(self.shared.pick(deadline), &stats.waits)
                .await
                .map_err(|e| match e {
                    Failure::Timeout => e, // waited for a connection, none came
                    e => failed(stats, e),
                })?;
            let permit = timeout_at(
                deadline,
                counting_wait(conn.permits.acquire(), &stats.waits),
            )
            .await
            .map_err(|_| Failure::Timeout)?;
            let Ok(_permit) = permit else {
                continue; // lost while waiting for a place: look again
            };
            if conn.is_lost() {
                self.shared.lose(&conn); // nothing sent: look again
                continue;
            }
            let statement = &conn.statements[query as usize];
            let job = traced(query, f(&conn.client, statement));
            let Ok(result) = timeout_at(deadline, job).await else {
                self.shared.lose(&conn); // an unanswering connection is closed
                return Err(failed(stats, Failure::Timeout));
            };
            let failure = match result {
                Ok(value) => return Ok(value),
                Err(e) => failed(stats, Failure::of(query, e)),
            };
            if !failure.lost(&conn.client) {
                return Err(failure);
            }
            self.shared.lose(&conn);
            if !failure.retryable() || attempt >= attempts || Instant::now() >= deadline {
                return Err(failure);
            }
            attempt += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    //! The retries of `run`. They need PostgreSQL: they are `#[ignore]`d, and fail when run
    //! without STACKBENCH_PG_URL (see tests/sql.rs).

    use super::super::tests::{KILL_SELF, database};
    use super::*;

    async fn all_up(p: &Pipelined, size: usize) {
        for _ in 0..200 {
            if p.up() == size {
                return;
            }
            sleep(Duration::from_millis(10)).await;
        }
        panic!("{} of {size} connections up", p.up());
    }

    /// A read whose connection dies under it runs again on another connection, and the lost
    /// connection is opened again.
    #[tokio::test]
    #[ignore = "needs a PostgreSQL: STACKBENCH_PG_URL (stackbench pg -- cargo test -- --include-ignored --skip real_restart)"]
    async fn a_dead_connection_is_retried_on_another_and_reopened() {
        let p = Pipelined::open(database(), 2).await.unwrap();
        let mut tries = 0;
        let got = p
            .run(&SqlMetrics::unregistered(), Query::Account, |c, _| {
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
        all_up(&p, 2).await;
    }

    /// ...but not an order: whether it committed is unknown.
    #[tokio::test]
    #[ignore = "needs a PostgreSQL: STACKBENCH_PG_URL (stackbench pg -- cargo test -- --include-ignored --skip real_restart)"]
    async fn an_order_on_a_dying_connection_is_not_retried() {
        let p = Pipelined::open(database(), 2).await.unwrap();
        let mut tries = 0;
        let got = p
            .run(&SqlMetrics::unregistered(), Query::Order, |c, _| {
                tries += 1;
                Box::pin(async move {
                    c.simple_query(KILL_SELF).await?;
                    Ok(())
                })
            })
            .await;
        assert!(matches!(got, Err(Failure::Order(_))), "{got:?}");
        assert_eq!(tries, 1);
        all_up(&p, 2).await;
    }

    /// Many requests share one connection: more than `MAX_IN_FLIGHT` at once all succeed,
    /// several in flight together, never more than `MAX_IN_FLIGHT`.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "needs a PostgreSQL: STACKBENCH_PG_URL (stackbench pg -- cargo test -- --include-ignored --skip real_restart)"]
    async fn requests_share_a_connection() {
        let p = Arc::new(Pipelined::open(database(), 1).await.unwrap());
        let in_flight = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (1..=3 * MAX_IN_FLIGHT as i32)
            .map(|id| {
                let (p, in_flight, peak) =
                    (Arc::clone(&p), Arc::clone(&in_flight), Arc::clone(&peak));
                tokio::spawn(async move {
                    p.run(&SqlMetrics::unregistered(), Query::Account, |c, st| {
                        let (in_flight, peak) = (Arc::clone(&in_flight), Arc::clone(&peak));
                        Box::pin(async move {
                            let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                            peak.fetch_max(now, Ordering::SeqCst);
                            let row = c.query_one(st, &[&id]).await;
                            in_flight.fetch_sub(1, Ordering::SeqCst);
                            Ok(row?.get::<_, i64>(0))
                        })
                    })
                    .await
                })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap().ok(), Some(1_000_000));
        }
        let peak = peak.load(Ordering::SeqCst);
        assert!((2..=MAX_IN_FLIGHT).contains(&peak), "peak {peak}");
    }
}
