//! The job queue: apalis on SQLite (default) or PostgreSQL, with explicit queue names.
//!
//! Queue names are fixed strings, never Rust type names, so moving a job type does not
//! orphan queued jobs. On SQLite the queue has a file of its own next to the data
//! (`diembao.sqlite` → `diembao-queue.sqlite`): SQLite has one writer per file, and the
//! queue's small, frequent writes (push, fetch, ack, heartbeat) would otherwise wait for
//! the crawler's page writes and make them wait in turn. Nothing is lost by the split:
//! jobs and data were never written in one transaction, a job carries only ids, and the
//! crawl frontier in the data file is the truth of what is left to fetch (a URL still
//! `pending` whose job is gone is queued again, see `Env::schedule_due_sources`).
//! apalis' own setup (which turns `synchronous` off on its connection) runs on a
//! throw-away connection; the queue's pool keeps WAL and `synchronous = NORMAL`.

use std::str::FromStr;
use std::time::Duration;

use std::sync::Arc;

use apalis::prelude::*;
use apalis_postgres::PostgresStorage;
use apalis_sqlite::SqliteStorage;
use diembao_store::{Pool, Store};
use tokio::sync::Notify;

use crate::JobError;
use crate::crawl::{FetchPage, VisitSource, fetch_page, visit_source};
use crate::env::Env;

pub const QUEUE_SOURCES: &str = "diembao.visit-source";
pub const QUEUE_FETCH: &str = "diembao.fetch-page";

/// Source visits a worker runs at once. A visit is mostly waiting (a feed or sitemap
/// fetch, the listing's URLs written to the frontier), and a crawl's page jobs come only
/// from visits: with 4 at once, a 50-source crawl spent its first 0.4 s of 3 getting
/// its page jobs queued. The fetcher's per-host limits apply as ever.
const SOURCE_VISITS_AT_ONCE: usize = 16;

/// How often an idle worker looks for new jobs.
const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// Workers report alive this often; the jobs of one silent for `MISSED_HEARTBEATS` beats
/// (a process killed with -9, a machine gone) go back to the queue for the others.
const HEARTBEAT: Duration = Duration::from_secs(10);
const MISSED_HEARTBEATS: usize = 3;
/// How many times a job is tried before it is left as failed.
const MAX_ATTEMPTS: usize = 3;

/// Which queues a process works on. Fetching, extraction and tagging of a page are one
/// job (`pages`): the page's bytes never travel between processes, only ids do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Serve {
    /// `diembao.visit-source`: read feeds, sitemaps and listings; queue new URLs.
    pub sources: bool,
    /// `diembao.fetch-page`: fetch, extract, tag and store one page.
    pub pages: bool,
}

impl Serve {
    pub const ALL: Self = Self {
        sources: true,
        pages: true,
    };
}

#[derive(Clone)]
pub enum Queue {
    Sqlite {
        sources: SqliteStorage<VisitSource>,
        pages: SqliteStorage<FetchPage>,
        pool: sqlx::SqlitePool,
        wake: Arc<Wake>,
    },
    Postgres {
        sources: PostgresStorage<VisitSource>,
        pages: PostgresStorage<FetchPage>,
        pool: sqlx::PgPool,
        wake: Arc<Wake>,
    },
}

/// Wakes this process's idle workers of a queue when the process itself queues a job
/// there, instead of leaving the job to the next poll: a crawl's page jobs come from its
/// source visits, and at 100 ms a poll the first pages waited for one. Jobs queued by
/// other processes are still found by polling.
#[derive(Default)]
pub struct Wake {
    sources: Arc<Notify>,
    pages: Arc<Notify>,
}

/// When a worker looks for jobs: as soon as its queue is woken, and every
/// [`POLL_INTERVAL`] besides.
fn polling(wake: &Arc<Notify>) -> Strategy {
    let woken = futures::stream::unfold(wake.clone(), |wake| async move {
        wake.notified().await;
        Some(((), wake))
    });
    Strategy::new()
        .stream(Box::pin(woken))
        .interval(POLL_INTERVAL)
}

fn queue_err(err: impl std::fmt::Display) -> JobError {
    JobError::Queue(err.to_string())
}

/// The connection options of the queue's own SQLite file, next to the data file of
/// `database_url` (`…/diembao.sqlite` → `…/diembao-queue.sqlite`); `None` for an
/// in-memory database, whose queue stays in it.
fn queue_file_options(
    database_url: &str,
) -> Result<Option<sqlx::sqlite::SqliteConnectOptions>, JobError> {
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
    let data = SqliteConnectOptions::from_str(database_url).map_err(queue_err)?;
    let file = data.get_filename();
    let name = file.to_string_lossy();
    if name.is_empty() || name == ":memory:" || database_url.contains("mode=memory") {
        return Ok(None);
    }
    let stem = file
        .file_stem()
        .map_or_else(|| "diembao".into(), |s| s.to_string_lossy());
    let queue_file = file.with_file_name(format!("{stem}-queue.sqlite"));
    Ok(Some(
        SqliteConnectOptions::new()
            .filename(queue_file)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(30))
            .pragma("temp_store", "MEMORY"),
    ))
}

impl Queue {
    /// Prepares the queue tables (once) and the storages for each queue.
    pub async fn open(store: &Store, database_url: &str) -> Result<Self, JobError> {
        match store.pool() {
            Pool::Sqlite(pool) => {
                // apalis' setup turns `synchronous` off on its connection: it runs on a
                // throw-away one, and the queue's own pool (or the store's) sets it back.
                let own_file = queue_file_options(database_url)?;
                let setup_options = match &own_file {
                    Some(options) => options.clone(),
                    None => sqlx::sqlite::SqliteConnectOptions::from_str(database_url)
                        .map_err(queue_err)?,
                };
                let setup_pool = sqlx::sqlite::SqlitePoolOptions::new()
                    .max_connections(1)
                    .connect_with(setup_options)
                    .await
                    .map_err(queue_err)?;
                SqliteStorage::setup(&setup_pool).await.map_err(queue_err)?;
                setup_pool.close().await;
                let pool = match own_file {
                    Some(options) => sqlx::sqlite::SqlitePoolOptions::new()
                        .max_connections(4)
                        .connect_with(options)
                        .await
                        .map_err(queue_err)?,
                    None => pool.clone(),
                };
                let pool = &pool;
                let config = |name: &str| {
                    apalis_sqlite::Config::default()
                        .queue(name)
                        .batch_size(32)
                        .heartbeat_interval(HEARTBEAT)
                        .missed_heartbeats(MISSED_HEARTBEATS)
                };
                Ok(Self::Sqlite {
                    sources: SqliteStorage::new(pool).with_config(config(QUEUE_SOURCES)),
                    pages: SqliteStorage::new(pool).with_config(config(QUEUE_FETCH)),
                    pool: pool.clone(),
                    wake: Arc::default(),
                })
            }
            Pool::Postgres(pool) => {
                PostgresStorage::setup(pool).await.map_err(queue_err)?;
                let config = |name: &str| {
                    apalis_postgres::Config::default()
                        .queue(name)
                        .batch_size(32)
                        .heartbeat_interval(HEARTBEAT)
                        .missed_heartbeats(MISSED_HEARTBEATS)
                };
                Ok(Self::Postgres {
                    sources: PostgresStorage::new(pool).with_config(config(QUEUE_SOURCES)),
                    pages: PostgresStorage::new(pool).with_config(config(QUEUE_FETCH)),
                    pool: pool.clone(),
                    wake: Arc::default(),
                })
            }
        }
    }

    fn wake(&self) -> &Wake {
        match self {
            Self::Sqlite { wake, .. } | Self::Postgres { wake, .. } => wake,
        }
    }

    pub async fn push_source(&self, job: VisitSource) -> Result<(), JobError> {
        let task = TaskBuilder::new(job).max_attempts(MAX_ATTEMPTS).build();
        match self {
            Self::Sqlite { sources, .. } => {
                sources.clone().push_task(task).await.map_err(queue_err)
            }
            Self::Postgres { sources, .. } => {
                sources.clone().push_task(task).await.map_err(queue_err)
            }
        }?;
        self.wake().sources.notify_one();
        Ok(())
    }

    pub async fn push_page(&self, job: FetchPage) -> Result<(), JobError> {
        let task = TaskBuilder::new(job).max_attempts(MAX_ATTEMPTS).build();
        match self {
            Self::Sqlite { pages, .. } => pages.clone().push_task(task).await.map_err(queue_err),
            Self::Postgres { pages, .. } => pages.clone().push_task(task).await.map_err(queue_err),
        }?;
        self.wake().pages.notify_one();
        Ok(())
    }

    /// Jobs of our queues still to run: pending and unlocked, retrying, or taken by a live
    /// worker of this process (`workers`). Jobs taken by a dead process are not counted:
    /// their URLs are still pending in the frontier and are queued again (the handlers
    /// are idempotent, so the orphans apalis later re-runs do nothing).
    pub async fn outstanding(&self, workers: &[String]) -> Result<i64, JobError> {
        let names = serde_json::to_string(workers).map_err(queue_err)?;
        match self {
            Self::Sqlite { pool, .. } => {
                let sql = "SELECT COUNT(*) FROM Jobs WHERE job_type IN (?1, ?2) AND (
                    (status = 'Pending' AND lock_by IS NULL)
                    OR (status = 'Failed' AND attempts < max_attempts)
                    OR (status IN ('Pending', 'Queued', 'Running') AND lock_by IN (SELECT value FROM json_each(?3))))";
                let (n,): (i64,) = sqlx::query_as(sql)
                    .bind(QUEUE_SOURCES)
                    .bind(QUEUE_FETCH)
                    .bind(names)
                    .fetch_one(pool)
                    .await
                    .map_err(queue_err)?;
                Ok(n)
            }
            Self::Postgres { pool, .. } => {
                let sql = "SELECT COUNT(*) FROM apalis.jobs WHERE job_type IN ($1, $2) AND (
                    (status = 'Pending' AND lock_by IS NULL)
                    OR (status = 'Failed' AND attempts < max_attempts)
                    OR (status IN ('Pending', 'Queued', 'Running') AND lock_by = ANY($3)))";
                let (n,): (i64,) = sqlx::query_as(sql)
                    .bind(QUEUE_SOURCES)
                    .bind(QUEUE_FETCH)
                    .bind(workers)
                    .fetch_one(pool)
                    .await
                    .map_err(queue_err)?;
                Ok(n)
            }
        }
    }

    /// Deletes the finished jobs of our queues (their effects are in the database; the
    /// frontier and the fetch log keep the history). apalis' SQLite acknowledgement scans
    /// the job table, so a table that only grows makes every job slower than the last.
    pub async fn sweep_done(&self) -> Result<u64, JobError> {
        match self {
            Self::Sqlite { pool, .. } => {
                let done =
                    sqlx::query("DELETE FROM Jobs WHERE job_type IN (?1, ?2) AND status = 'Done'")
                        .bind(QUEUE_SOURCES)
                        .bind(QUEUE_FETCH)
                        .execute(pool)
                        .await
                        .map_err(queue_err)?;
                Ok(done.rows_affected())
            }
            Self::Postgres { pool, .. } => {
                let done = sqlx::query(
                    "DELETE FROM apalis.jobs WHERE job_type IN ($1, $2) AND status = 'Done'",
                )
                .bind(QUEUE_SOURCES)
                .bind(QUEUE_FETCH)
                .execute(pool)
                .await
                .map_err(queue_err)?;
                Ok(done.rows_affected())
            }
        }
    }

    /// The names the workers of a process take (`prefix` is unique per process).
    pub fn worker_names(prefix: &str) -> Vec<String> {
        vec![
            format!("{prefix}.visit-source"),
            format!("{prefix}.fetch-page"),
        ]
    }

    /// Runs the workers of the chosen queues until `shutdown` resolves: `concurrency`
    /// pages at a time, and up to [`SOURCE_VISITS_AT_ONCE`] source visits.
    pub async fn run_workers<F>(
        &self,
        env: Env,
        prefix: &str,
        concurrency: usize,
        serve: Serve,
        shutdown: F,
    ) -> Result<(), JobError>
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let names = Self::worker_names(prefix);
        if !serve.sources && !serve.pages {
            shutdown.await;
            return Ok(());
        }
        let signal = async move {
            shutdown.await;
            Ok(())
        };
        macro_rules! monitor {
            ($sources:expr, $pages:expr) => {{
                let wake = self.wake();
                let mut monitor = Monitor::new();
                if serve.sources {
                    let (sources, env, name) = ($sources.clone(), env.clone(), names[0].clone());
                    let wake = wake.sources.clone();
                    monitor = monitor.register(move |_| {
                        WorkerBuilder::new(name.clone())
                            .backend(sources.clone().poll_with_strategy(polling(&wake)))
                            .concurrency(SOURCE_VISITS_AT_ONCE)
                            .data(env.clone())
                            .build(visit_source)
                    });
                }
                if serve.pages {
                    let (pages, env, name) = ($pages.clone(), env.clone(), names[1].clone());
                    let wake = wake.pages.clone();
                    monitor = monitor.register(move |_| {
                        WorkerBuilder::new(name.clone())
                            .backend(pages.clone().poll_with_strategy(polling(&wake)))
                            .concurrency(concurrency.max(1))
                            .data(env.clone())
                            .build(fetch_page)
                    });
                }
                monitor
                    .shutdown_timeout(Duration::from_secs(30))
                    .run_with_signal(signal)
                    .await
                    .map_err(queue_err)
            }};
        }
        match self {
            Self::Sqlite { sources, pages, .. } => monitor!(sources, pages),
            Self::Postgres { sources, pages, .. } => monitor!(sources, pages),
        }
    }
}

/// A job that does nothing: what the queue itself costs per job.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Noop {
    pub n: u64,
}

/// The queue's cost per job on one backend: push, then take, run and acknowledge.
#[derive(Debug, Clone, serde::Serialize)]
pub struct QueueCost {
    pub backend: &'static str,
    pub jobs: usize,
    pub push_us_per_job: f64,
    pub run_us_per_job: f64,
    pub jobs_per_sec: f64,
}

const QUEUE_BENCH: &str = "diembao.bench-noop";

async fn noop(
    _job: Noop,
    done: Data<std::sync::Arc<std::sync::atomic::AtomicUsize>>,
) -> Result<(), BoxDynError> {
    done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Ok(())
}

/// Measures [`QueueCost`] on the queue's backend with `jobs` no-op jobs on a queue of
/// their own, worked by one worker of concurrency 8 (as a worker process would).
pub async fn queue_cost(queue: &Queue, jobs: usize) -> Result<QueueCost, JobError> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let done = Arc::new(AtomicUsize::new(0));
    let waiter = {
        let done = done.clone();
        async move {
            while done.load(Ordering::Relaxed) < jobs {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            Ok(())
        }
    };
    macro_rules! measure {
        ($storage:expr, $backend:expr) => {{
            let storage = $storage;
            let started = std::time::Instant::now();
            for n in 0..jobs {
                let task = TaskBuilder::new(Noop { n: n as u64 }).build();
                storage.clone().push_task(task).await.map_err(queue_err)?;
            }
            let pushed = started.elapsed();
            let started = std::time::Instant::now();
            let worker_done = done.clone();
            Monitor::new()
                .register(move |_| {
                    WorkerBuilder::new("bench-noop")
                        .backend(storage.clone().poll_with_interval(POLL_INTERVAL))
                        .concurrency(8)
                        .data(worker_done.clone())
                        .build(noop)
                })
                .shutdown_timeout(Duration::from_secs(10))
                .run_with_signal(waiter)
                .await
                .map_err(queue_err)?;
            let ran = started.elapsed();
            let per = |d: Duration| d.as_secs_f64() * 1e6 / jobs.max(1) as f64;
            Ok(QueueCost {
                backend: $backend,
                jobs,
                push_us_per_job: per(pushed),
                run_us_per_job: per(ran),
                jobs_per_sec: jobs as f64 / (pushed + ran).as_secs_f64(),
            })
        }};
    }
    match queue {
        Queue::Sqlite { pool, .. } => measure!(
            SqliteStorage::<Noop>::new(pool).with_config(
                apalis_sqlite::Config::default()
                    .queue(QUEUE_BENCH)
                    .batch_size(32)
            ),
            "sqlite"
        ),
        Queue::Postgres { pool, .. } => measure!(
            PostgresStorage::<Noop>::new(pool).with_config(
                apalis_postgres::Config::default()
                    .queue(QUEUE_BENCH)
                    .batch_size(32)
            ),
            "postgres"
        ),
    }
}
