//! When a candidate's alert mail went out (high-severity candidates are mailed to the
//! reviewers, batched, within a minute).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("candidates")
                    .add_column(timestamp_with_time_zone_null("alerted_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("candidates")
                    .drop_column("alerted_at")
                    .to_owned(),
            )
            .await
    }
}
