//! Raw captures kept in packs: a crawl batch's bodies go into one file, one after the
//! other, instead of a file each (a file per page costs an inode, a directory entry and
//! a sync; a national office keeps millions a day). `pack_offset` is where a capture's
//! `size` bytes start in the file at `path`; NULL for a capture that has a file of its own.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("raw_captures")
                    .add_column(big_integer_null("pack_offset"))
                    .to_owned(),
            )
            .await?;
        // Retention asks which captures share a file.
        manager
            .create_index(
                Index::create()
                    .name("raw_captures_path")
                    .table("raw_captures")
                    .col("path")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("raw_captures_path")
                    .table("raw_captures")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("raw_captures")
                    .drop_column("pack_offset")
                    .to_owned(),
            )
            .await
    }
}
