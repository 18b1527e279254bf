//! `--db-strategy exclusive`: a deadpool-postgres pool, a connection serving one request at a
//! time.
//!
//! deadpool keeps at most `--pool` connections and opens them on demand; `open_pool` opens all
//! of them, with the three statements prepared on each, before the service says it is
//! listening, so that the first requests find the pool as warm as the other languages'
//! services do. A connection opened later prepares a statement the first time it runs it and
//! keeps it (deadpool's `prepare_cached`).
//!
//! Broken connections are not handed out again. When PostgreSQL goes away, the connection's
//! task (tokio-postgres) sees its socket close, and deadpool's recycling
//! (`RecyclingMethod::Fast`: `Client::is_closed`) drops the closed connection the next time it
//! comes out of the pool and opens a new one in its place, so the service recovers by itself
//! once the database is back. (deadpool has no background task: after a restart, connections
//! are reopened as requests need them, not all at once.) `Fast` rather than `Verified`, which
//! would cost a round trip on every request: the one case `is_closed` misses, a connection
//! whose server went away so recently that its task has not seen it yet, is handled by `run`,
//! which runs a read that failed only because its connection was dead again on another
//! connection.

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use tokio::time::{Instant, timeout, timeout_at};
use tokio_postgres::{Client, NoTls, Statement};

use super::queries::Query;
use super::{DB_TIMEOUT, Failure, Job, START_TIMEOUT, StartError, counting_wait, failed, traced};
use crate::telemetry::SqlMetrics;

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

/// A pool of `size` connections to the database `pg` describes, all of them open with every
/// statement prepared: they are taken at once, which opens them, and given back.
pub async fn open_pool(pg: tokio_postgres::Config, size: usize) -> Result<Pool, StartError> {
    let pool = pool(pg, size);
    let warm_up = async {
        let mut held = Vec::with_capacity(size);
        for _ in 0..size {
            let client = pool.get().await.map_err(Failure::Pool)?;
            for query in Query::ALL {
                client
                    .prepare_cached(query.text())
                    .await
                    .map_err(Failure::Statement)?;
            }
            held.push(client);
        }
        Ok::<_, Failure>(())
    };
    match timeout(START_TIMEOUT, warm_up).await {
        Ok(Ok(())) => Ok(pool),
        Ok(Err(e)) => Err(StartError::Pool(e.to_string())),
        Err(_) => Err(StartError::Pool(format!(
            "not open within {}s",
            START_TIMEOUT.as_secs()
        ))),
    }
}

/// Runs `query` through `f` on a pooled connection, all within `DB_TIMEOUT`.
///
/// When the statement fails because its connection is dead, it runs again on another
/// connection while time allows, unless it is an order that was sent (`Failure::retryable`).
/// Each retry throws away one dead connection: after a restart every pooled connection may be
/// dead, hence up to the pool's size + 1 tries, the last one on a new connection.
pub(super) async fn run<T, F>(
    pool: &Pool,
    stats: &SqlMetrics,
    query: Query,
    mut f: F,
) -> Result<T, Failure>
where
    F: for<'c> FnMut(&'c Client, &'c Statement) -> Job<'c, T> + Send,
{
    let deadline = Instant::now() + DB_TIMEOUT;
    let attempts = pool.status().max_size + 1;
    let mut attempt = 1;
    loop {
        let client = timeout_at(deadline, counting_wait(pool.get(), &stats.waits))
            .await
            .map_err(|_| Failure::Timeout)?
            .map_err(|e| failed(stats, Failure::Pool(e)))?;
        let once = async {
            let statement = client
                .prepare_cached(query.text())
                .await
                .map_err(Failure::Statement)?;
            if client.is_closed() {
                return Err(Failure::Closed); // nothing sent: safe to run elsewhere
            }
            traced(query, f(&client, &statement))
                .await
                .map_err(|e| Failure::of(query, e))
        };
        let Ok(result) = timeout_at(deadline, once).await else {
            drop(Object::take(client)); // closes it: see the module's doc
            return Err(failed(stats, Failure::Timeout));
        };
        match result.map_err(|e| failed(stats, e)) {
            Err(e) if e.lost(&client) => {
                drop(Object::take(client)); // a dead connection goes now
                let retry = e.retryable() && attempt < attempts && Instant::now() < deadline;
                if !retry {
                    return Err(e);
                }
                attempt += 1;
            }
            result => return result,
        }
    }
}

#[cfg(test)]
mod tests {
    //! The retries of `run`. They need PostgreSQL: they are `#[ignore]`d, and fail when run
    //! without STACKBENCH_PG_URL (see tests/sql.rs).

    use super::super::tests::{KILL_SELF, database};
    use super::*;

    /// A read whose connection dies under it runs again on another connection.
    #[tokio::test]
    #[ignore = "needs a PostgreSQL: STACKBENCH_PG_URL (stackbench pg -- cargo test -- --include-ignored --skip real_restart)"]
    async fn a_dead_connection_is_retried_on_another() {
        let pool = open_pool(database(), 2).await.unwrap();
        let mut tries = 0;
        let got = run(
            &pool,
            &SqlMetrics::unregistered(),
            Query::Account,
            |c, _| {
                tries += 1;
                let first = tries == 1;
                Box::pin(async move {
                    if first {
                        c.simple_query(KILL_SELF).await?;
                    }
                    Ok(c.query_one("SELECT 1", &[]).await?.get::<_, i32>(0))
                })
            },
        )
        .await;
        assert_eq!((got.ok(), tries), (Some(1), 2));
        assert_eq!(pool.status().size, 1, "the dead connection was thrown away");
    }

    /// ...but not an order: whether it committed is unknown.
    #[tokio::test]
    #[ignore = "needs a PostgreSQL: STACKBENCH_PG_URL (stackbench pg -- cargo test -- --include-ignored --skip real_restart)"]
    async fn an_order_on_a_dying_connection_is_not_retried() {
        let pool = open_pool(database(), 2).await.unwrap();
        let mut tries = 0;
        let got = run(&pool, &SqlMetrics::unregistered(), Query::Order, |c, _| {
            tries += 1;
            Box::pin(async move {
                c.simple_query(KILL_SELF).await?;
                Ok(())
            })
        })
        .await;
        assert!(matches!(got, Err(Failure::Order(_))), "{got:?}");
        assert_eq!(tries, 1);
    }
}
