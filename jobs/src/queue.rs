//! The job queue: apalis on SQLite (default) or PostgreSQL, with explicit queue names.
//!
//! Queue names are fixed strings, never Rust type names, so moving a job type does not
//! orphan queued jobs. On SQLite the queue lives in the same file as the data: apalis'
//! own setup (which turns `synchronous` off on its connection) runs on a throw-away
//! connection, and the shared pool keeps `synchronous = FULL` (see `diembao-store`).

use std::str::FromStr;
use std::time::Duration;

use apalis::prelude::*;
use apalis_postgres::PostgresStorage;
use apalis_sqlite::SqliteStorage;
use diembao_store::{Pool, Store};

use crate::JobError;
use crate::crawl::{FetchPage, VisitSource, fetch_page, visit_source};
use crate::env::Env;

pub const QUEUE_SOURCES: &str = "diembao.visit-source";
pub const QUEUE_FETCH: &str = "diembao.fetch-page";

/// How often an idle worker looks for new jobs.
const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// How many times a job is tried before it is left as failed.
const MAX_ATTEMPTS: usize = 3;

#[derive(Clone)]
pub enum Queue {
    Sqlite {
        sources: SqliteStorage<VisitSource>,
        pages: SqliteStorage<FetchPage>,
        pool: sqlx::SqlitePool,
    },
    Postgres {
        sources: PostgresStorage<VisitSource>,
        pages: PostgresStorage<FetchPage>,
        pool: sqlx::PgPool,
    },
}

fn queue_err(err: impl std::fmt::Display) -> JobError {
    JobError::Queue(err.to_string())
}

impl Queue {
    /// Prepares the queue tables (once) and the storages for each queue.
    pub async fn open(store: &Store, database_url: &str) -> Result<Self, JobError> {
        match store.pool() {
            Pool::Sqlite(pool) => {
                let options = sqlx::sqlite::SqliteConnectOptions::from_str(database_url)
                    .map_err(queue_err)?;
                let setup_pool = sqlx::sqlite::SqlitePoolOptions::new()
                    .max_connections(1)
                    .connect_with(options)
                    .await
                    .map_err(queue_err)?;
                SqliteStorage::setup(&setup_pool).await.map_err(queue_err)?;
                setup_pool.close().await;
                let config =
                    |name: &str| apalis_sqlite::Config::default().queue(name).batch_size(32);
                Ok(Self::Sqlite {
                    sources: SqliteStorage::new(pool).with_config(config(QUEUE_SOURCES)),
                    pages: SqliteStorage::new(pool).with_config(config(QUEUE_FETCH)),
                    pool: pool.clone(),
                })
            }
            Pool::Postgres(pool) => {
                PostgresStorage::setup(pool).await.map_err(queue_err)?;
                let config = |name: &str| {
                    apalis_postgres::Config::default()
                        .queue(name)
                        .batch_size(32)
                };
                Ok(Self::Postgres {
                    sources: PostgresStorage::new(pool).with_config(config(QUEUE_SOURCES)),
                    pages: PostgresStorage::new(pool).with_config(config(QUEUE_FETCH)),
                    pool: pool.clone(),
                })
            }
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
        }
    }

    pub async fn push_page(&self, job: FetchPage) -> Result<(), JobError> {
        let task = TaskBuilder::new(job).max_attempts(MAX_ATTEMPTS).build();
        match self {
            Self::Sqlite { pages, .. } => pages.clone().push_task(task).await.map_err(queue_err),
            Self::Postgres { pages, .. } => pages.clone().push_task(task).await.map_err(queue_err),
        }
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

    /// Runs the workers of both queues until `shutdown` resolves. Returns the worker names.
    pub fn worker_names(prefix: &str) -> Vec<String> {
        vec![
            format!("{prefix}.visit-source"),
            format!("{prefix}.fetch-page"),
        ]
    }

    pub async fn run_workers<F>(
        &self,
        env: Env,
        prefix: &str,
        concurrency: usize,
        shutdown: F,
    ) -> Result<(), JobError>
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let names = Self::worker_names(prefix);
        let signal = async move {
            shutdown.await;
            Ok(())
        };
        macro_rules! monitor {
            ($sources:expr, $pages:expr) => {{
                let (sources, pages) = ($sources.clone(), $pages.clone());
                let (env_a, env_b) = (env.clone(), env.clone());
                let (name_a, name_b) = (names[0].clone(), names[1].clone());
                Monitor::new()
                    .register(move |_| {
                        WorkerBuilder::new(name_a.clone())
                            .backend(sources.clone().poll_with_interval(POLL_INTERVAL))
                            .concurrency(4)
                            .data(env_a.clone())
                            .build(visit_source)
                    })
                    .register(move |_| {
                        WorkerBuilder::new(name_b.clone())
                            .backend(pages.clone().poll_with_interval(POLL_INTERVAL))
                            .concurrency(concurrency.max(1))
                            .data(env_b.clone())
                            .build(fetch_page)
                    })
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
