//! Documents waiting for the search index are rows of `index_queue` instead of a NULL
//! `documents.indexed_at`. Setting that column after each index commit rewrote every
//! document row (its text included) a second time, in the write-ahead log and again at
//! the checkpoint, and kept an index on it besides: about a third of the SQLite work of
//! storing a crawled page. A queue row is a few bytes, added with the document and
//! deleted once an index commit holds it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("index_queue")
                    .col(big_integer("document_id").primary_key())
                    .foreign_key(
                        ForeignKey::create()
                            .from("index_queue", "document_id")
                            .to("documents", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(
            "INSERT INTO index_queue (document_id) \
             SELECT id FROM documents WHERE indexed_at IS NULL",
        )
        .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_documents_indexed")
                    .table("documents")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("documents")
                    .drop_column("indexed_at")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("documents")
                    .add_column(timestamp_with_time_zone_null("indexed_at"))
                    .to_owned(),
            )
            .await?;
        // Every document is marked indexed but those still queued.
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE documents SET indexed_at = CURRENT_TIMESTAMP \
                 WHERE id NOT IN (SELECT document_id FROM index_queue)",
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_documents_indexed")
                    .table("documents")
                    .col("indexed_at")
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table("index_queue").to_owned())
            .await
    }
}
