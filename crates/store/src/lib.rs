//! Storage: sea-orm entities and the queries diembao runs, on SQLite (default) or PostgreSQL.
//!
//! Durability on SQLite: the file runs in WAL mode with `synchronous = NORMAL`. A process
//! that dies (kill -9, a panic, OOM) loses nothing committed: the WAL is in the OS page
//! cache. A power cut may lose the last commits, but only as a whole suffix of them; the
//! crawl frontier is the truth of what is left to do (a URL whose write was lost is still
//! `pending` and is queued again), so the crawl is consistent after any crash whatever
//! the job queue (a file of its own, see `diembao-jobs`) kept. What FULL would add (an
//! fsync per commit) costs most of the crawler's throughput. [`Store::connect`] sets the
//! pragma on every new connection of this pool.

mod digest;
pub mod entity;
mod queries;
mod review;
mod users;

use std::str::FromStr;
use std::time::Duration;

use sea_orm::{DatabaseConnection, SqlxPostgresConnector, SqlxSqliteConnector};
use sea_orm_migration::MigratorTrait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

pub use digest::*;
pub use queries::*;
pub use review::*;
pub use sea_orm::DbErr;
pub use users::*;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("database connection: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("unsupported database url `{0}` (use sqlite://… or postgres://…)")]
    Url(String),
    #[error("{0}")]
    Invalid(String),
}

/// Which kind of database is behind the store.
#[derive(Clone, Debug)]
pub enum Pool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

/// The database: a sea-orm connection and the raw pool it wraps (shared with the queue).
#[derive(Clone, Debug)]
pub struct Store {
    db: DatabaseConnection,
    pool: Pool,
    /// SQLite has one writer at a time. The crawler's page writes queue here, in order,
    /// instead of in SQLite's busy handler (which sleeps and retries, and lets a
    /// transaction that lost the race wait for a whole back-off step).
    write_gate: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl Store {
    /// Connects with the default pool size and applies pending migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, 10).await
    }

    /// Connects with at most `max_connections` connections (PostgreSQL; SQLite keeps
    /// eight, its writes are serialised anyway) and applies pending migrations.
    pub async fn connect_with(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let store = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(30))
                // Statement journals and sorts in memory: as files, SQLite creates and
                // deletes one for most multi-row writes, and file creation is costly on
                // some filesystems (a third of the crawler's file creations were these).
                .pragma("temp_store", "MEMORY");
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        // Re-assert durability on every connection (see the module docs).
                        sqlx::query("PRAGMA synchronous = NORMAL")
                            .execute(&mut *conn)
                            .await?;
                        Ok(())
                    })
                })
                .connect_with(options)
                .await?;
            let db = SqlxSqliteConnector::from_sqlx_sqlite_pool(pool.clone());
            Self {
                db,
                pool: Pool::Sqlite(pool),
                write_gate: Default::default(),
            }
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(max_connections.max(2))
                .acquire_timeout(Duration::from_secs(30))
                .connect(url)
                .await?;
            let db = SqlxPostgresConnector::from_sqlx_postgres_pool(pool.clone());
            Self {
                db,
                pool: Pool::Postgres(pool),
                write_gate: Default::default(),
            }
        } else {
            return Err(StoreError::Url(url.to_string()));
        };
        // Several processes may start together (`run` and workers): a migration applied
        // by one while another was checking fails in the other, which then finds it
        // recorded on a retry.
        let mut attempt = 0;
        loop {
            match diembao_migrations::Migrator::up(&store.db, None).await {
                Ok(()) => break,
                Err(err) if attempt < 10 => {
                    attempt += 1;
                    tracing::warn!(attempt, error = %err, "migration failed; retrying (another process may be migrating)");
                    tokio::time::sleep(Duration::from_millis(300 * attempt)).await;
                }
                Err(err) => return Err(err.into()),
            }
        }
        Ok(store)
    }

    /// Starts a transaction that will write. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`): a deferred transaction that reads and then writes fails with
    /// "database is locked" when another writer got in between, instead of waiting.
    pub async fn begin_write(&self) -> Result<sea_orm::DatabaseTransaction, sea_orm::DbErr> {
        use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
        self.db
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await
    }

    /// Waits for this process's turn to write (SQLite only; PostgreSQL writers run in
    /// parallel). Hold the guard until the transaction is committed.
    pub async fn write_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match self.pool {
            Pool::Sqlite(_) => Some(self.write_gate.lock().await),
            Pool::Postgres(_) => None,
        }
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.pool, Pool::Postgres(_))
    }

    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Postgres(pool) => pool.close().await,
        }
    }
}

mod cases;
pub use cases::*;
