//! The initial data model: sources, crawl frontier, captures, documents, rules,
//! candidates and reviews, cases and custody, digests, users and the audit log.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn ts(col: &'static str) -> ColumnDef {
    timestamp_with_time_zone(col)
}

fn ts_null(col: &'static str) -> ColumnDef {
    timestamp_with_time_zone_null(col)
}

fn fk(
    from_table: &'static str,
    col: &'static str,
    to_table: &'static str,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from_table, col)
        .to(to_table, "id")
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn index(
    table: &'static str,
    name: &'static str,
    cols: &[&'static str],
    unique: bool,
) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(name).table(table).if_not_exists();
    for col in cols {
        stmt.col(*col);
    }
    if unique {
        stmt.unique();
    }
    stmt.to_owned()
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables: Vec<TableCreateStatement> = vec![
            Table::create()
                .table("users")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(string_uniq("name"))
                .col(string("role"))
                .col(text("password_hash"))
                .col(boolean("disabled").default(false))
                .col(ts("created_at"))
                .to_owned(),
            Table::create()
                .table("sources")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(string("name"))
                .col(string("kind"))
                .col(text_uniq("url"))
                .col(big_integer("every_secs"))
                .col(text_null("link_selector"))
                .col(json_null("settings"))
                .col(boolean("enabled").default(true))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .col(ts_null("next_run_at"))
                .col(ts_null("last_run_at"))
                .col(ts_null("last_success_at"))
                .col(ts_null("last_error_at"))
                .col(text_null("last_error"))
                .col(integer("consecutive_failures").default(0))
                .col(big_integer("documents_total").default(0))
                .col(ts_null("last_document_at"))
                .to_owned(),
            Table::create()
                .table("raw_captures")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(text("url"))
                .col(integer("status"))
                .col(text_null("content_type"))
                .col(json_null("headers"))
                .col(string("sha256"))
                .col(big_integer("size"))
                .col(text("path"))
                .col(ts("captured_at"))
                .to_owned(),
            Table::create()
                .table("documents")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(text("url"))
                .col(text_uniq("canonical_url"))
                .col(big_integer_null("source_id"))
                .col(string_null("source_name"))
                .col(string("kind"))
                .col(text("title"))
                .col(text("text"))
                .col(text_null("author"))
                .col(ts_null("published_at"))
                .col(integer_null("published_offset"))
                .col(ts_null("modified_at"))
                .col(ts("fetched_at"))
                .col(string_null("lang"))
                .col(string("content_hash"))
                .col(big_integer_null("simhash"))
                .col(big_integer_null("raw_capture_id"))
                .col(big_integer_null("syndicated_from_id"))
                .col(text_null("syndicated_from_url"))
                .col(json_null("engagement"))
                .col(ts_null("indexed_at"))
                .col(big_integer("index_version").default(0))
                .col(ts_null("tagged_at"))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("documents", "source_id")
                        .to("sources", "id")
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .to_owned(),
            Table::create()
                .table("crawl_urls")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(text_uniq("url"))
                .col(big_integer_null("source_id"))
                .col(string("state"))
                .col(text_null("reason"))
                .col(integer("depth").default(0))
                .col(integer("attempts").default(0))
                .col(big_integer_null("document_id"))
                .col(text_null("etag"))
                .col(text_null("last_modified"))
                .col(string_null("body_sha256"))
                .col(ts("discovered_at"))
                .col(ts("updated_at"))
                .to_owned(),
            Table::create()
                .table("fetch_log")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer_null("source_id"))
                .col(text("url"))
                .col(string("host"))
                .col(integer_null("status"))
                .col(big_integer("bytes").default(0))
                .col(big_integer("duration_ms").default(0))
                .col(string("outcome"))
                .col(text_null("error"))
                .col(ts("fetched_at"))
                .to_owned(),
            Table::create()
                .table("rule_sets")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(string_uniq("name"))
                .col(big_integer_null("active_version_id"))
                .col(ts("created_at"))
                .to_owned(),
            Table::create()
                .table("rule_versions")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("rule_set_id"))
                .col(integer("version"))
                .col(text("source_toml"))
                .col(string("sha256"))
                .col(string_null("imported_by"))
                .col(ts("created_at"))
                .foreign_key(&mut fk("rule_versions", "rule_set_id", "rule_sets"))
                .to_owned(),
            Table::create()
                .table("matches")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("document_id"))
                .col(big_integer("rule_version_id"))
                .col(string("rule_id"))
                .col(string("category"))
                .col(string("severity"))
                .col(json("terms"))
                .col(json("offsets"))
                .col(ts("created_at"))
                .col(ts_null("closed_at"))
                .foreign_key(&mut fk("matches", "document_id", "documents"))
                .to_owned(),
            Table::create()
                .table("candidates")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer_uniq("document_id"))
                .col(string("status"))
                .col(string("severity"))
                .col(json("categories"))
                .col(json("rules"))
                .col(json("terms"))
                .col(string_null("assignee"))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .foreign_key(&mut fk("candidates", "document_id", "documents"))
                .to_owned(),
            Table::create()
                .table("reviews")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("candidate_id"))
                .col(string("decision"))
                .col(string("reviewer"))
                .col(text_null("note"))
                .col(json("terms"))
                .col(ts("created_at"))
                .foreign_key(&mut fk("reviews", "candidate_id", "candidates"))
                .to_owned(),
            Table::create()
                .table("cases")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(text("title"))
                .col(text_null("summary"))
                .col(text_null("legal_basis"))
                .col(string("status"))
                .col(string("created_by"))
                .col(string_null("approved_by"))
                .col(text_null("approval_note"))
                .col(string_null("handed_to"))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .to_owned(),
            Table::create()
                .table("case_items")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("case_id"))
                .col(big_integer("candidate_id"))
                .col(big_integer("document_id"))
                .col(ts("added_at"))
                .foreign_key(&mut fk("case_items", "case_id", "cases"))
                .to_owned(),
            Table::create()
                .table("custody_log")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("case_id"))
                .col(integer("seq"))
                .col(string("action"))
                .col(string("actor"))
                .col(big_integer_null("item_id"))
                .col(string_null("item_sha256"))
                .col(text_null("detail"))
                .col(string("prev_hash"))
                .col(string("hash"))
                .col(ts("at"))
                .foreign_key(&mut fk("custody_log", "case_id", "cases"))
                .to_owned(),
            Table::create()
                .table("digests")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(string_uniq("period"))
                .col(date("from_date"))
                .col(date("to_date"))
                .col(json("content"))
                .col(ts("built_at"))
                .to_owned(),
            Table::create()
                .table("digest_deliveries")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("digest_id"))
                .col(string("recipient"))
                .col(string("message_id"))
                .col(string("status"))
                .col(integer("attempts").default(0))
                .col(text_null("last_error"))
                .col(ts_null("sent_at"))
                .col(ts("created_at"))
                .foreign_key(&mut fk("digest_deliveries", "digest_id", "digests"))
                .to_owned(),
            Table::create()
                .table("audit_log")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(string("actor"))
                .col(string("action"))
                .col(string("object_type"))
                .col(big_integer_null("object_id"))
                .col(json_null("detail"))
                .col(ts("at"))
                .to_owned(),
        ];
        for table in tables {
            manager.create_table(table).await?;
        }
        let indexes = [
            index(
                "documents",
                "idx_documents_published",
                &["published_at"],
                false,
            ),
            index("documents", "idx_documents_source", &["source_id"], false),
            index("documents", "idx_documents_hash", &["content_hash"], false),
            index("documents", "idx_documents_indexed", &["indexed_at"], false),
            index("crawl_urls", "idx_crawl_urls_state", &["state"], false),
            index(
                "fetch_log",
                "idx_fetch_log_source",
                &["source_id", "fetched_at"],
                false,
            ),
            index(
                "rule_versions",
                "idx_rule_versions_set",
                &["rule_set_id", "version"],
                true,
            ),
            index(
                "matches",
                "idx_matches_document",
                &["document_id", "rule_version_id", "rule_id"],
                true,
            ),
            index(
                "candidates",
                "idx_candidates_status",
                &["status", "severity"],
                false,
            ),
            index("reviews", "idx_reviews_candidate", &["candidate_id"], false),
            index(
                "case_items",
                "idx_case_items_case",
                &["case_id", "candidate_id"],
                true,
            ),
            index(
                "custody_log",
                "idx_custody_case_seq",
                &["case_id", "seq"],
                true,
            ),
            index(
                "digest_deliveries",
                "idx_deliveries_unique",
                &["digest_id", "recipient"],
                true,
            ),
            index(
                "audit_log",
                "idx_audit_object",
                &["object_type", "object_id"],
                false,
            ),
        ];
        for idx in indexes {
            manager.create_index(idx).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "audit_log",
            "digest_deliveries",
            "digests",
            "custody_log",
            "case_items",
            "cases",
            "reviews",
            "candidates",
            "matches",
            "rule_versions",
            "rule_sets",
            "fetch_log",
            "crawl_urls",
            "documents",
            "raw_captures",
            "sources",
            "users",
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
