//! Schema migrations for diembao (sea-orm-migration), portable between SQLite and PostgreSQL.
//!
//! Times are stored as `timestamp with time zone` in UTC. A document's own
//! publication offset is kept beside its instant (`published_offset`, seconds east of UTC)
//! so that output can show the page's own offset.

pub use sea_orm_migration::prelude::*;

mod m0001_initial;
mod m0002_sessions;
mod m0003_candidate_alerts;
mod m0004_capture_packs;
mod m0005_index_queue;

pub struct Migrator;

#[sea_orm_migration::async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_initial::Migration),
            Box::new(m0002_sessions::Migration),
            Box::new(m0003_candidate_alerts::Migration),
            Box::new(m0004_capture_packs::Migration),
            Box::new(m0005_index_queue::Migration),
        ]
    }
}
