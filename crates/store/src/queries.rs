//! The queries diembao runs. Each takes `&Store` and returns plain models.

use chrono::{DateTime, FixedOffset, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Set,
};
use serde::Serialize;

use diembao_core::{NewDocument, SourceSpec};

use crate::entity::{
    audit_log, crawl_urls, documents, fetch_log, index_queue, raw_captures, sources,
};
use crate::{Store, StoreError};

pub type Source = sources::Model;
pub type Document = documents::Model;
pub type CrawlUrl = crawl_urls::Model;

/// What an upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Upsert {
    New,
    Updated,
    Unchanged,
}

// ---------------------------------------------------------------- sources

impl Store {
    /// Inserts or updates a source by its URL.
    pub async fn upsert_source(&self, spec: &SourceSpec) -> Result<(i64, Upsert), StoreError> {
        let now = Utc::now();
        let existing = sources::Entity::find()
            .filter(sources::Column::Url.eq(&spec.url))
            .one(self.db())
            .await?;
        let every = i64::try_from(spec.every.as_secs()).unwrap_or(i64::MAX);
        match existing {
            Some(row) => {
                let unchanged = row.name == spec.name
                    && row.kind == spec.kind.as_str()
                    && row.every_secs == every
                    && row.link_selector == spec.link_selector;
                if unchanged {
                    return Ok((row.id, Upsert::Unchanged));
                }
                let id = row.id;
                let mut active: sources::ActiveModel = row.into();
                active.name = Set(spec.name.clone());
                active.kind = Set(spec.kind.as_str().to_string());
                active.every_secs = Set(every);
                active.link_selector = Set(spec.link_selector.clone());
                active.updated_at = Set(now);
                active.update(self.db()).await?;
                Ok((id, Upsert::Updated))
            }
            None => {
                let active = sources::ActiveModel {
                    name: Set(spec.name.clone()),
                    kind: Set(spec.kind.as_str().to_string()),
                    url: Set(spec.url.clone()),
                    every_secs: Set(every),
                    link_selector: Set(spec.link_selector.clone()),
                    settings: Set(None),
                    enabled: Set(true),
                    created_at: Set(now),
                    updated_at: Set(now),
                    next_run_at: Set(Some(now)),
                    consecutive_failures: Set(0),
                    documents_total: Set(0),
                    ..Default::default()
                };
                let row = active.insert(self.db()).await?;
                Ok((row.id, Upsert::New))
            }
        }
    }

    pub async fn sources(&self) -> Result<Vec<Source>, StoreError> {
        Ok(sources::Entity::find()
            .order_by_asc(sources::Column::Id)
            .all(self.db())
            .await?)
    }

    pub async fn source_by_name(&self, name: &str) -> Result<Option<Source>, StoreError> {
        Ok(sources::Entity::find()
            .filter(sources::Column::Name.eq(name))
            .one(self.db())
            .await?)
    }

    pub async fn source(&self, id: i64) -> Result<Option<Source>, StoreError> {
        Ok(sources::Entity::find_by_id(id).one(self.db()).await?)
    }

    /// Records a successful visit of a source. Its document count and newest document
    /// come from the documents themselves (no per-document write on the source row).
    pub async fn source_succeeded(&self, id: i64, _new_documents: i64) -> Result<(), StoreError> {
        let now = Utc::now();
        let Some(row) = self.source(id).await? else {
            return Ok(());
        };
        let every = row.every_secs;
        let (total, last) = self.source_document_stats(id).await?;
        let mut active: sources::ActiveModel = row.into();
        active.last_run_at = Set(Some(now));
        active.last_success_at = Set(Some(now));
        active.consecutive_failures = Set(0);
        active.documents_total = Set(total);
        active.last_document_at = Set(last);
        active.next_run_at = Set(Some(now + chrono::Duration::seconds(every)));
        active.update(self.db()).await?;
        Ok(())
    }

    /// How many documents a source has, and when the newest was stored.
    pub async fn source_document_stats(
        &self,
        id: i64,
    ) -> Result<(i64, Option<DateTime<Utc>>), StoreError> {
        let row: Option<(i64, Option<DateTime<Utc>>)> = documents::Entity::find()
            .select_only()
            .column_as(Expr::col(documents::Column::Id).count(), "n")
            .column_as(Expr::col(documents::Column::CreatedAt).max(), "last")
            .filter(documents::Column::SourceId.eq(id))
            .into_tuple()
            .one(self.db())
            .await?;
        Ok(row.unwrap_or((0, None)))
    }

    /// Records a failed visit of a source (its health).
    pub async fn source_failed(&self, id: i64, error: &str) -> Result<(), StoreError> {
        let now = Utc::now();
        let Some(row) = self.source(id).await? else {
            return Ok(());
        };
        let failures = row.consecutive_failures + 1;
        let every = row.every_secs;
        let mut active: sources::ActiveModel = row.into();
        active.last_run_at = Set(Some(now));
        active.last_error_at = Set(Some(now));
        active.last_error = Set(Some(error.chars().take(2000).collect()));
        active.consecutive_failures = Set(failures);
        active.next_run_at = Set(Some(now + retry_after_failure(every, failures)));
        active.update(self.db()).await?;
        Ok(())
    }

    /// Sources whose next visit is due, marking each as scheduled for its next interval.
    pub async fn take_due_sources(&self, now: DateTime<Utc>) -> Result<Vec<Source>, StoreError> {
        let due = sources::Entity::find()
            .filter(sources::Column::Enabled.eq(true))
            .filter(
                sources::Column::NextRunAt
                    .is_null()
                    .or(sources::Column::NextRunAt.lte(now)),
            )
            .all(self.db())
            .await?;
        for source in &due {
            sources::Entity::update_many()
                .col_expr(
                    sources::Column::NextRunAt,
                    Expr::value(now + chrono::Duration::seconds(source.every_secs)),
                )
                .filter(sources::Column::Id.eq(source.id))
                .exec(self.db())
                .await?;
        }
        Ok(due)
    }

    /// Counts the documents per source in the last `days` days.
    pub async fn documents_since(
        &self,
        source_id: i64,
        since: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        Ok(documents::Entity::find()
            .filter(documents::Column::SourceId.eq(source_id))
            .filter(documents::Column::CreatedAt.gte(since))
            .count(self.db())
            .await?)
    }
}

/// When a source that failed `failures` times in a row is visited again: one minute
/// after the first failure, doubling with each further one, never later than its
/// regular interval. A passing outage (a restart, a full connection pool) then costs
/// minutes, not a whole interval, and a dead site is not hammered.
pub fn retry_after_failure(every_secs: i64, failures: i32) -> chrono::Duration {
    let doublings = failures.clamp(1, 20) - 1;
    let backoff = 60_i64.saturating_mul(1_i64 << doublings);
    chrono::Duration::seconds(Ord::min(backoff, Ord::max(every_secs, 1)))
}

/// Failures in a row after which a source raises an alert.
pub const ALERT_AFTER_FAILURES: i32 = 3;

/// A source's health alert: `failing` after [`ALERT_AFTER_FAILURES`] failed visits in a
/// row, `silent` when a source that used to publish brought nothing new for ten of its
/// intervals (at least three days). `None` when healthy.
pub fn health_alert(source: &Source, now: DateTime<Utc>) -> Option<&'static str> {
    if source.consecutive_failures >= ALERT_AFTER_FAILURES {
        return Some("failing");
    }
    let quiet_for = chrono::Duration::seconds(Ord::max(source.every_secs * 10, 3 * 86_400));
    match source.last_document_at {
        Some(last) if source.documents_total > 0 && now - last > quiet_for => Some("silent"),
        _ => None,
    }
}

// ---------------------------------------------------------------- crawl frontier

/// States of a URL in the crawl frontier.
pub mod url_state {
    pub const PENDING: &str = "pending";
    pub const DONE: &str = "done";
    pub const SKIPPED: &str = "skipped";
    pub const FAILED: &str = "failed";
}

impl Store {
    /// Adds a URL to the frontier. Returns its id when it is new (the caller then queues
    /// a fetch job); `None` when it was already known.
    pub async fn discover_url(
        &self,
        url: &str,
        source_id: Option<i64>,
        depth: i32,
    ) -> Result<Option<i64>, StoreError> {
        let new = self
            .discover_urls(&[url.to_string()], source_id, depth)
            .await?;
        Ok(new.first().copied())
    }

    /// Adds many URLs (one listing's entries) to the frontier in one transaction.
    /// Returns the ids of those that were new, in the order given.
    pub async fn discover_urls(
        &self,
        urls: &[String],
        source_id: Option<i64>,
        depth: i32,
    ) -> Result<Vec<i64>, StoreError> {
        if urls.is_empty() {
            return Ok(Vec::new());
        }
        let _turn = self.write_turn().await;
        let txn = self.begin_write().await?;
        let now = Utc::now();
        let mut new = Vec::new();
        // A few hundred URLs a statement (eight values each, under either backend's
        // limit on bound parameters).
        for chunk in urls.chunks(500) {
            let rows = chunk.iter().map(|url| crawl_urls::ActiveModel {
                url: Set(url.clone()),
                source_id: Set(source_id),
                state: Set(url_state::PENDING.to_string()),
                depth: Set(depth),
                attempts: Set(0),
                discovered_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            });
            let insert = crawl_urls::Entity::insert_many(rows)
                .on_conflict(
                    OnConflict::column(crawl_urls::Column::Url)
                        .do_nothing()
                        .to_owned(),
                )
                .into_query();
            let mut inserted: std::collections::HashMap<String, i64> =
                inserted_ids(&txn, insert, "url").await?;
            // In the order given, once each (a URL listed twice is new once).
            new.extend(chunk.iter().filter_map(|url| inserted.remove(url)));
        }
        txn.commit().await?;
        Ok(new)
    }

    /// The frontier rows of `ids` (those that exist), in one query.
    pub async fn crawl_urls(&self, ids: &[i64]) -> Result<Vec<CrawlUrl>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(crawl_urls::Entity::find()
            .filter(crawl_urls::Column::Id.is_in(ids.iter().copied()))
            .order_by_asc(crawl_urls::Column::Id)
            .all(self.db())
            .await?)
    }

    /// Marks a known URL pending again (a revisit); returns its id.
    pub async fn revisit_url(&self, url: &str) -> Result<Option<i64>, StoreError> {
        let Some(row) = crawl_urls::Entity::find()
            .filter(crawl_urls::Column::Url.eq(url))
            .one(self.db())
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(row.id))
    }

    pub async fn crawl_url_by_url(&self, url: &str) -> Result<Option<CrawlUrl>, StoreError> {
        Ok(crawl_urls::Entity::find()
            .filter(crawl_urls::Column::Url.eq(url))
            .one(self.db())
            .await?)
    }

    /// Sets the state of a frontier URL, with its validators for the next conditional GET.
    pub async fn finish_url(&self, id: i64, outcome: UrlOutcome<'_>) -> Result<(), StoreError> {
        finish_url_on(self.db(), id, outcome).await
    }

    /// Frontier URLs still waiting to be fetched (after an interrupted run, for example).
    pub async fn pending_url_ids(&self) -> Result<Vec<i64>, StoreError> {
        Ok(crawl_urls::Entity::find()
            .select_only()
            .column(crawl_urls::Column::Id)
            .filter(crawl_urls::Column::State.eq(url_state::PENDING))
            .filter(crawl_urls::Column::Depth.gt(0))
            .order_by_asc(crawl_urls::Column::Id)
            .into_tuple()
            .all(self.db())
            .await?)
    }

    /// Frontier URLs pending since before `before` (their job was lost): returned, and
    /// touched so that the next pass does not take them again at once.
    pub async fn take_stale_pending(
        &self,
        before: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<i64>, StoreError> {
        let ids: Vec<i64> = crawl_urls::Entity::find()
            .select_only()
            .column(crawl_urls::Column::Id)
            .filter(crawl_urls::Column::State.eq(url_state::PENDING))
            .filter(crawl_urls::Column::Depth.gt(0))
            .filter(crawl_urls::Column::UpdatedAt.lt(before))
            .order_by_asc(crawl_urls::Column::Id)
            .limit(limit)
            .into_tuple()
            .all(self.db())
            .await?;
        if !ids.is_empty() {
            crawl_urls::Entity::update_many()
                .col_expr(crawl_urls::Column::UpdatedAt, Expr::value(Utc::now()))
                .filter(crawl_urls::Column::Id.is_in(ids.clone()))
                .exec(self.db())
                .await?;
        }
        Ok(ids)
    }

    /// Counts frontier URLs per state and reason.
    pub async fn url_states(&self) -> Result<Vec<(String, Option<String>, i64)>, StoreError> {
        let rows: Vec<(String, Option<String>, i64)> = crawl_urls::Entity::find()
            .select_only()
            .column(crawl_urls::Column::State)
            .column(crawl_urls::Column::Reason)
            .column_as(Expr::col(crawl_urls::Column::Id).count(), "n")
            .group_by(crawl_urls::Column::State)
            .group_by(crawl_urls::Column::Reason)
            .into_tuple()
            .all(self.db())
            .await?;
        Ok(rows)
    }
}

/// What [`Store::prune_captures`] left to do on disk.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PrunedCaptures {
    /// Files (own or packs) that no capture uses any more.
    pub files: Vec<String>,
    /// Packs that lost captures but hold others still (kept as evidence, or not yet
    /// expired): the expired bytes stay in them until the others move out.
    pub packs_in_use: Vec<String>,
}

/// The end state of one frontier URL.
#[derive(Debug, Default, Clone, Copy)]
pub struct UrlOutcome<'a> {
    pub state: &'a str,
    pub reason: Option<&'a str>,
    pub document_id: Option<i64>,
    pub etag: Option<&'a str>,
    pub last_modified: Option<&'a str>,
    pub body_sha256: Option<&'a str>,
}

// ---------------------------------------------------------------- captures and fetch log

/// A raw HTTP response kept as captured.
#[derive(Debug, Clone)]
pub struct NewCapture<'a> {
    pub url: &'a str,
    pub status: u16,
    pub content_type: Option<&'a str>,
    pub headers: serde_json::Value,
    pub sha256: &'a str,
    pub size: usize,
    pub path: &'a str,
    /// Where the bytes start in the pack file at `path` (`None`: a file of its own).
    pub pack_offset: Option<u64>,
    pub captured_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewFetch<'a> {
    pub source_id: Option<i64>,
    pub url: &'a str,
    pub host: &'a str,
    pub status: Option<u16>,
    pub bytes: usize,
    pub duration_ms: u64,
    pub outcome: &'a str,
    pub error: Option<&'a str>,
}

impl Store {
    pub async fn insert_capture(&self, capture: NewCapture<'_>) -> Result<i64, StoreError> {
        insert_capture_on(self.db(), capture).await
    }

    /// Captures older than `before` that no candidate's document points at: removes their
    /// rows and the documents' links to them. Returns the files no capture uses any more
    /// (they may be deleted), and the packs that lost captures but still hold others.
    pub async fn prune_captures(
        &self,
        before: DateTime<Utc>,
    ) -> Result<PrunedCaptures, StoreError> {
        use crate::entity::candidates;
        let kept_docs: Vec<i64> = candidates::Entity::find()
            .select_only()
            .column(candidates::Column::DocumentId)
            .into_tuple()
            .all(self.db())
            .await?;
        let mut kept_captures: Vec<i64> = Vec::new();
        for chunk in kept_docs.chunks(500) {
            let ids: Vec<Option<i64>> = documents::Entity::find()
                .select_only()
                .column(documents::Column::RawCaptureId)
                .filter(documents::Column::Id.is_in(chunk.iter().copied()))
                .into_tuple()
                .all(self.db())
                .await?;
            kept_captures.extend(ids.into_iter().flatten());
        }
        let old = raw_captures::Entity::find()
            .filter(raw_captures::Column::CapturedAt.lt(before))
            .all(self.db())
            .await?;
        let doomed: Vec<raw_captures::Model> = old
            .into_iter()
            .filter(|c| !kept_captures.contains(&c.id))
            .collect();
        let mut pruned = PrunedCaptures::default();
        for capture in &doomed {
            documents::Entity::update_many()
                .col_expr(
                    documents::Column::RawCaptureId,
                    Expr::value(Option::<i64>::None),
                )
                .filter(documents::Column::RawCaptureId.eq(capture.id))
                .exec(self.db())
                .await?;
            raw_captures::Entity::delete_by_id(capture.id)
                .exec(self.db())
                .await?;
            // Content-addressed files are shared by captures of the same bytes, packs by
            // the captures of one batch: a file goes when no capture uses it.
            let shared = raw_captures::Entity::find()
                .filter(raw_captures::Column::Path.eq(capture.path.clone()))
                .count(self.db())
                .await?;
            if shared == 0 {
                pruned.packs_in_use.retain(|p| p != &capture.path);
                if !pruned.files.contains(&capture.path) {
                    pruned.files.push(capture.path.clone());
                }
            } else if capture.pack_offset.is_some() && !pruned.packs_in_use.contains(&capture.path)
            {
                pruned.packs_in_use.push(capture.path.clone());
            }
        }
        Ok(pruned)
    }

    /// The captures whose bytes are in the file at `path`.
    pub async fn captures_in_file(
        &self,
        path: &str,
    ) -> Result<Vec<raw_captures::Model>, StoreError> {
        Ok(raw_captures::Entity::find()
            .filter(raw_captures::Column::Path.eq(path))
            .all(self.db())
            .await?)
    }

    /// Points a capture at a file of its own (its bytes moved out of a pack).
    pub async fn move_capture(&self, id: i64, path: &str) -> Result<(), StoreError> {
        raw_captures::Entity::update_many()
            .col_expr(raw_captures::Column::Path, Expr::value(path))
            .col_expr(
                raw_captures::Column::PackOffset,
                Expr::value(Option::<i64>::None),
            )
            .filter(raw_captures::Column::Id.eq(id))
            .exec(self.db())
            .await?;
        Ok(())
    }

    pub async fn log_fetch(&self, fetch: NewFetch<'_>) -> Result<(), StoreError> {
        log_fetch_on(self.db(), fetch).await
    }
}

// ---------------------------------------------------------------- documents

/// The SHA-256 of a document's title and text: what "changed" means for a document.
pub fn content_hash(title: &str, text: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(title.as_bytes());
    hasher.update([0u8]);
    hasher.update(text.as_bytes());
    hex::encode(hasher.finalize())
}

impl Store {
    /// Stores a document under its canonical URL: new, updated (content changed) or unchanged.
    pub async fn upsert_document(
        &self,
        doc: &NewDocument,
        source_id: Option<i64>,
        raw_capture_id: Option<i64>,
    ) -> Result<(i64, Upsert), StoreError> {
        upsert_document_on(self.db(), doc, source_id, raw_capture_id).await
    }

    pub async fn document(&self, id: i64) -> Result<Option<Document>, StoreError> {
        Ok(documents::Entity::find_by_id(id).one(self.db()).await?)
    }

    pub async fn documents_by_ids(&self, ids: &[i64]) -> Result<Vec<Document>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(documents::Entity::find()
            .filter(documents::Column::Id.is_in(ids.iter().copied()))
            .all(self.db())
            .await?)
    }

    /// Documents by id, `after` the given id, in id order: for exports and rebuilds.
    pub async fn documents_page(
        &self,
        after: i64,
        limit: u64,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<Document>, StoreError> {
        let mut query = documents::Entity::find().filter(documents::Column::Id.gt(after));
        if let Some(since) = since {
            query = query.filter(
                documents::Column::PublishedAt
                    .gte(since)
                    .or(documents::Column::PublishedAt
                        .is_null()
                        .and(documents::Column::FetchedAt.gte(since))),
            );
        }
        if let Some(until) = until {
            query = query.filter(
                documents::Column::PublishedAt
                    .lt(until)
                    .or(documents::Column::PublishedAt
                        .is_null()
                        .and(documents::Column::FetchedAt.lt(until))),
            );
        }
        Ok(query
            .order_by_asc(documents::Column::Id)
            .limit(limit)
            .all(self.db())
            .await?)
    }

    pub async fn count_documents(&self) -> Result<u64, StoreError> {
        Ok(documents::Entity::find().count(self.db()).await?)
    }

    /// Ids of documents stored but not (or no longer) in the index.
    pub async fn unindexed_ids(&self, limit: u64) -> Result<Vec<i64>, StoreError> {
        Ok(index_queue::Entity::find()
            .select_only()
            .column(index_queue::Column::DocumentId)
            .order_by_asc(index_queue::Column::DocumentId)
            .limit(limit)
            .into_tuple()
            .all(self.db())
            .await?)
    }

    /// How many stored documents wait for the index.
    /// Documents the rules have run on.
    pub async fn count_tagged(&self) -> Result<u64, StoreError> {
        Ok(documents::Entity::find()
            .filter(documents::Column::TaggedAt.is_not_null())
            .count(self.db())
            .await?)
    }

    /// Records that the rules ran on a document and found nothing.
    pub async fn mark_tagged(&self, id: i64) -> Result<(), StoreError> {
        mark_tagged_on(self.db(), id, Utc::now()).await
    }

    /// How many stored documents wait for the index.
    pub async fn count_unindexed(&self) -> Result<u64, StoreError> {
        Ok(index_queue::Entity::find().count(self.db()).await?)
    }

    /// Marks documents as indexed (after the index commit that holds them).
    pub async fn mark_indexed(&self, ids: &[i64]) -> Result<(), StoreError> {
        // In turn with the crawl's writes: SQLite's busy handler polls with growing
        // sleeps, so a writer outside the turn can wait seconds behind a busy crawl.
        let _turn = self.write_turn().await;
        for chunk in ids.chunks(500) {
            index_queue::Entity::delete_many()
                .filter(index_queue::Column::DocumentId.is_in(chunk.iter().copied()))
                .exec(self.db())
                .await?;
        }
        Ok(())
    }

    /// Has documents indexed again (their tags changed, say).
    pub async fn mark_unindexed(&self, ids: &[i64]) -> Result<(), StoreError> {
        queue_for_index_on(self.db(), ids).await
    }

    /// Queues every document for the index (before a full rebuild).
    pub async fn clear_indexed(&self) -> Result<(), StoreError> {
        // `WHERE true`: SQLite reads `ON CONFLICT` after a bare `SELECT … FROM` as part
        // of a join.
        self.db()
            .execute_unprepared(
                "INSERT INTO index_queue (document_id) SELECT id FROM documents WHERE true \
                 ON CONFLICT (document_id) DO NOTHING",
            )
            .await?;
        Ok(())
    }
}

/// Queues documents for the index (those already queued stay as they are).
pub async fn queue_for_index_on<C: ConnectionTrait>(db: &C, ids: &[i64]) -> Result<(), StoreError> {
    for chunk in ids.chunks(500) {
        let rows = chunk.iter().map(|&id| index_queue::ActiveModel {
            document_id: Set(id),
        });
        index_queue::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::column(index_queue::Column::DocumentId)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// The page's own publication time, with its offset restored.
pub fn published_with_offset(doc: &Document) -> Option<DateTime<FixedOffset>> {
    let at = doc.published_at?;
    let offset = FixedOffset::east_opt(doc.published_offset.unwrap_or(7 * 3600))
        .unwrap_or_else(diembao_core::document::vietnam_offset);
    Some(at.with_timezone(&offset))
}

// ---------------------------------------------------------------- audit log

impl Store {
    /// Appends to the audit log (never updated, never deleted).
    pub async fn audit(
        &self,
        actor: &str,
        action: &str,
        object_type: &str,
        object_id: Option<i64>,
        detail: serde_json::Value,
    ) -> Result<(), StoreError> {
        let active = audit_log::ActiveModel {
            actor: Set(actor.to_string()),
            action: Set(action.to_string()),
            object_type: Set(object_type.to_string()),
            object_id: Set(object_id),
            detail: Set(Some(detail)),
            at: Set(Utc::now()),
            ..Default::default()
        };
        active.insert(self.db()).await?;
        Ok(())
    }
}

// ---------------------------------------------------------------- on a given connection

/// Records when the rules last ran on a document, on a connection or transaction.
pub async fn mark_tagged_on<C: ConnectionTrait>(
    db: &C,
    id: i64,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    documents::Entity::update_many()
        .col_expr(documents::Column::TaggedAt, Expr::value(at))
        .filter(documents::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// [`Store::finish_url`] on a connection or transaction.
pub async fn finish_url_on<C: ConnectionTrait>(
    db: &C,
    id: i64,
    outcome: UrlOutcome<'_>,
) -> Result<(), StoreError> {
    finish_urls_on(db, &[(id, outcome)]).await
}

/// Runs an insert of many rows with `RETURNING id, <key>`: the ids of the rows it
/// inserted, by their `key` column (rows an `ON CONFLICT DO NOTHING` passed over are
/// not there). One statement on SQLite and PostgreSQL alike, whatever order the
/// database returns the rows in.
pub(crate) async fn inserted_ids<K, C>(
    db: &C,
    mut insert: sea_orm::sea_query::InsertStatement,
    key: &'static str,
) -> Result<std::collections::HashMap<K, i64>, StoreError>
where
    K: sea_orm::TryGetable + Eq + std::hash::Hash,
    C: ConnectionTrait,
{
    use sea_orm::sea_query::{Alias, Query};
    insert.returning(Query::returning().columns([Alias::new("id"), Alias::new(key)]));
    let mut ids = std::collections::HashMap::new();
    for row in db.query_all(&insert).await? {
        ids.insert(row.try_get("", key)?, row.try_get("", "id")?);
    }
    Ok(ids)
}

/// [`Store::insert_capture`] on a connection or transaction.
pub async fn insert_capture_on<C: ConnectionTrait>(
    db: &C,
    capture: NewCapture<'_>,
) -> Result<i64, StoreError> {
    Ok(capture_row(capture).insert(db).await?.id)
}

fn capture_row(capture: NewCapture<'_>) -> raw_captures::ActiveModel {
    raw_captures::ActiveModel {
        url: Set(capture.url.to_string()),
        status: Set(i32::from(capture.status)),
        content_type: Set(capture.content_type.map(str::to_string)),
        headers: Set(Some(capture.headers)),
        sha256: Set(capture.sha256.to_string()),
        size: Set(i64::try_from(capture.size).unwrap_or(i64::MAX)),
        path: Set(capture.path.to_string()),
        captured_at: Set(capture.captured_at),
        pack_offset: Set(capture
            .pack_offset
            .map(|o| i64::try_from(o).unwrap_or(i64::MAX))),
        ..Default::default()
    }
}

/// [`Store::log_fetch`] on a connection or transaction.
pub async fn log_fetch_on<C: ConnectionTrait>(
    db: &C,
    fetch: NewFetch<'_>,
) -> Result<(), StoreError> {
    log_fetches_on(db, [fetch]).await
}

/// Several fetch log entries in one statement.
pub async fn log_fetches_on<'a, C: ConnectionTrait>(
    db: &C,
    fetches: impl IntoIterator<Item = NewFetch<'a>>,
) -> Result<(), StoreError> {
    let now = Utc::now();
    let rows: Vec<fetch_log::ActiveModel> = fetches
        .into_iter()
        .map(|fetch| fetch_log::ActiveModel {
            source_id: Set(fetch.source_id),
            url: Set(fetch.url.to_string()),
            host: Set(fetch.host.to_string()),
            status: Set(fetch.status.map(i32::from)),
            bytes: Set(i64::try_from(fetch.bytes).unwrap_or(i64::MAX)),
            duration_ms: Set(i64::try_from(fetch.duration_ms).unwrap_or(i64::MAX)),
            outcome: Set(fetch.outcome.to_string()),
            error: Set(fetch.error.map(|e| e.chars().take(2000).collect())),
            fetched_at: Set(now),
            ..Default::default()
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    fetch_log::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// [`Store::upsert_document`] on a connection or transaction.
pub async fn upsert_document_on<C: ConnectionTrait>(
    db: &C,
    doc: &NewDocument,
    source_id: Option<i64>,
    raw_capture_id: Option<i64>,
) -> Result<(i64, Upsert), StoreError> {
    let now = Utc::now();
    let hash = content_hash(&doc.title, &doc.text);
    let syndicated_from_id = match &doc.syndicated_from {
        Some(url) => documents::Entity::find()
            .filter(documents::Column::CanonicalUrl.eq(url))
            .one(db)
            .await?
            .map(|d| d.id),
        None => None,
    };
    let existing = documents::Entity::find()
        .filter(documents::Column::CanonicalUrl.eq(&doc.canonical_url))
        .one(db)
        .await?;
    let published = doc.published_at.map(|d| d.with_timezone(&Utc));
    let offset = doc.published_at.map(|d| d.offset().local_minus_utc());
    if let Some(row) = existing {
        let metadata_same = row.published_at == published
            && row.author == doc.author
            && row.source_name == doc.source_name
            && row.kind == doc.kind.as_str();
        if row.content_hash == hash && metadata_same {
            return Ok((row.id, Upsert::Unchanged));
        }
        let id = row.id;
        let mut active: documents::ActiveModel = row.into();
        active.url = Set(doc.url.clone());
        active.title = Set(doc.title.clone());
        active.text = Set(doc.text.clone());
        active.author = Set(doc.author.clone());
        active.kind = Set(doc.kind.as_str().to_string());
        active.source_name = Set(doc.source_name.clone());
        if source_id.is_some() {
            active.source_id = Set(source_id);
        }
        active.published_at = Set(published);
        active.published_offset = Set(offset);
        active.modified_at = Set(doc.modified_at.map(|d| d.with_timezone(&Utc)));
        active.fetched_at = Set(doc.fetched_at);
        active.lang = Set(doc.lang.clone());
        active.content_hash = Set(hash);
        if raw_capture_id.is_some() {
            active.raw_capture_id = Set(raw_capture_id);
        }
        active.syndicated_from_url = Set(doc.syndicated_from.clone());
        active.syndicated_from_id = Set(syndicated_from_id);
        active.engagement = Set(doc.engagement.clone());
        active.tagged_at = Set(None);
        active.updated_at = Set(now);
        active.update(db).await?;
        queue_for_index_on(db, &[id]).await?;
        return Ok((id, Upsert::Updated));
    }
    let active = new_document_row(
        doc,
        source_id,
        raw_capture_id,
        syndicated_from_id,
        None,
        now,
    );
    let inserted = documents::Entity::insert(active)
        .on_conflict(
            OnConflict::column(documents::Column::CanonicalUrl)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    let row = documents::Entity::find()
        .filter(documents::Column::CanonicalUrl.eq(&doc.canonical_url))
        .one(db)
        .await?
        .ok_or_else(|| {
            StoreError::Invalid(format!(
                "document {} vanished after insert",
                doc.canonical_url
            ))
        })?;
    if inserted == 0 {
        return Ok((row.id, Upsert::Unchanged));
    }
    queue_for_index_on(db, &[row.id]).await?;
    Ok((row.id, Upsert::New))
}

/// The row of a document stored for the first time. `tagged_at` is set when the rules
/// already ran on it and what they found (if anything) goes in with it.
fn new_document_row(
    doc: &NewDocument,
    source_id: Option<i64>,
    raw_capture_id: Option<i64>,
    syndicated_from_id: Option<i64>,
    tagged_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> documents::ActiveModel {
    let published = doc.published_at.map(|d| d.with_timezone(&Utc));
    let offset = doc.published_at.map(|d| d.offset().local_minus_utc());
    documents::ActiveModel {
        url: Set(doc.url.clone()),
        canonical_url: Set(doc.canonical_url.clone()),
        source_id: Set(source_id),
        source_name: Set(doc.source_name.clone()),
        kind: Set(doc.kind.as_str().to_string()),
        title: Set(doc.title.clone()),
        text: Set(doc.text.clone()),
        author: Set(doc.author.clone()),
        published_at: Set(published),
        published_offset: Set(offset),
        modified_at: Set(doc.modified_at.map(|d| d.with_timezone(&Utc))),
        fetched_at: Set(doc.fetched_at),
        lang: Set(doc.lang.clone()),
        content_hash: Set(content_hash(&doc.title, &doc.text)),
        simhash: Set(None),
        raw_capture_id: Set(raw_capture_id),
        syndicated_from_id: Set(syndicated_from_id),
        syndicated_from_url: Set(doc.syndicated_from.clone()),
        engagement: Set(doc.engagement.clone()),
        index_version: Set(0),
        tagged_at: Set(tagged_at),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

// ---------------------------------------------------------------- one fetched page

/// Everything one fetched article leaves in the database: the fetch log entry, the raw
/// capture, the document, its rule matches and the frontier URL's end state.
#[derive(Debug)]
pub struct PageWrite<'a> {
    pub url_id: i64,
    pub source_id: Option<i64>,
    pub fetch: NewFetch<'a>,
    pub capture: NewCapture<'a>,
    pub document: &'a NewDocument,
    /// The active rule versions and what they found on `document` (evaluated before the
    /// transaction, so the write lock is held only for writing).
    pub active_versions: &'a [i64],
    pub matches: &'a [(i64, crate::NewMatch)],
    /// The frontier outcome; its `document_id` is filled in here.
    pub outcome: UrlOutcome<'a>,
}

/// What [`Store::store_pages`] did with a stored article.
#[derive(Debug, Clone, Copy)]
pub struct PageWritten {
    pub document_id: i64,
    pub upsert: Upsert,
    /// The candidate and whether it was newly opened, when the document is one.
    pub candidate: Option<(i64, bool)>,
}

/// The end of one page of a batch: a stored article, or only its fetch log entry and
/// frontier state (skipped, failed, unchanged).
#[derive(Debug)]
pub enum PageEnd<'a> {
    Stored(PageWrite<'a>),
    Finished {
        fetch: Option<NewFetch<'a>>,
        url_id: i64,
        outcome: UrlOutcome<'a>,
    },
}

impl PageEnd<'_> {
    fn url_id(&self) -> i64 {
        match self {
            Self::Stored(page) => page.url_id,
            Self::Finished { url_id, .. } => *url_id,
        }
    }
}

/// What [`Store::store_pages`] did with one page.
#[derive(Debug)]
pub enum PageEndWritten {
    Stored(PageWritten),
    Finished,
    /// This page could not be written (the others were); the error names it.
    Failed(StoreError),
}

impl Store {
    /// Writes a batch of pages in one transaction (group commit: one commit, one write
    /// turn for the lot). Should the batch fail as a whole, each page is written again
    /// in a transaction of its own, so one page the database refuses fails alone and
    /// the others are kept.
    pub async fn store_pages(&self, pages: &[PageEnd<'_>]) -> Vec<PageEndWritten> {
        match self.store_pages_in_one(pages).await {
            Ok(written) => written,
            Err(err) => {
                tracing::warn!(pages = pages.len(), error = %err, "batch write failed; writing its pages one by one");
                let mut written = Vec::with_capacity(pages.len());
                for page in pages {
                    let result = self.store_pages_in_one(std::slice::from_ref(page)).await;
                    written.push(match result {
                        Ok(mut one) => one.pop().unwrap_or(PageEndWritten::Finished),
                        Err(err) => {
                            tracing::warn!(url_id = page.url_id(), error = %err, "page not written");
                            PageEndWritten::Failed(err)
                        }
                    });
                }
                written
            }
        }
    }

    async fn store_pages_in_one(
        &self,
        pages: &[PageEnd<'_>],
    ) -> Result<Vec<PageEndWritten>, StoreError> {
        let _turn = self.write_turn().await;
        let txn = self.begin_write().await?;
        // A batch costs a handful of statements, not a handful per page: the fetch log,
        // the captures, the new documents and the frontier states go in one each.
        log_fetches_on(
            &txn,
            pages.iter().filter_map(|page| match page {
                PageEnd::Stored(page) => Some(page.fetch.clone()),
                PageEnd::Finished { fetch, .. } => fetch.clone(),
            }),
        )
        .await?;

        let stored: Vec<&PageWrite<'_>> = pages
            .iter()
            .filter_map(|page| match page {
                PageEnd::Stored(page) => Some(page),
                PageEnd::Finished { .. } => None,
            })
            .collect();
        let capture_ids = insert_captures_on(&txn, &stored).await?;
        let documents = upsert_documents_on(&txn, &stored, &capture_ids).await?;
        // The matches of the new documents, together; the others' one by one (they may
        // have matches and a candidate to update).
        let fresh: Vec<(i64, &[(i64, crate::NewMatch)])> = stored
            .iter()
            .zip(&documents)
            .filter(|(_, doc)| doc.fresh)
            .map(|(page, doc)| (doc.id, page.matches))
            .collect();
        let opened = crate::review::record_new_matches_on(&txn, &fresh).await?;
        let mut written = Vec::with_capacity(pages.len());
        let mut outcomes = Vec::with_capacity(pages.len());
        let mut documents = documents.into_iter();
        for page in pages {
            match page {
                PageEnd::Stored(page) => {
                    let doc = documents.next().ok_or_else(|| {
                        StoreError::Invalid("a stored page lost its document".into())
                    })?;
                    let candidate = match doc.upsert {
                        _ if doc.fresh => opened.get(&doc.id).map(|id| (*id, true)),
                        Upsert::Unchanged => None,
                        // Marked tagged: nothing found, nothing to record.
                        Upsert::New if page.matches.is_empty() => None,
                        Upsert::New | Upsert::Updated => {
                            crate::review::record_matches_on(
                                &txn,
                                doc.id,
                                page.active_versions,
                                page.matches,
                            )
                            .await?
                        }
                    };
                    outcomes.push((
                        page.url_id,
                        UrlOutcome {
                            document_id: Some(doc.id),
                            ..page.outcome
                        },
                    ));
                    written.push(PageEndWritten::Stored(PageWritten {
                        document_id: doc.id,
                        upsert: doc.upsert,
                        candidate,
                    }));
                }
                PageEnd::Finished {
                    url_id, outcome, ..
                } => {
                    outcomes.push((*url_id, *outcome));
                    written.push(PageEndWritten::Finished);
                }
            }
        }
        finish_urls_on(&txn, &outcomes).await?;
        txn.commit().await?;
        Ok(written)
    }
}

/// The raw captures of a batch's stored pages in one statement; their ids, in order.
async fn insert_captures_on<C: ConnectionTrait>(
    txn: &C,
    pages: &[&PageWrite<'_>],
) -> Result<Vec<i64>, StoreError> {
    if pages.is_empty() {
        return Ok(Vec::new());
    }
    let rows = pages.iter().map(|page| capture_row(page.capture.clone()));
    let inserted = raw_captures::Entity::insert_many(rows)
        .exec_with_returning(txn)
        .await?;
    // The order RETURNING gives rows in is not promised: match them by address and
    // bytes (two captures alike in both are interchangeable).
    let mut ids: std::collections::HashMap<(&str, &str), Vec<i64>> =
        std::collections::HashMap::new();
    for row in &inserted {
        ids.entry((row.url.as_str(), row.sha256.as_str()))
            .or_default()
            .push(row.id);
    }
    pages
        .iter()
        .map(|page| {
            ids.get_mut(&(page.capture.url, page.capture.sha256))
                .and_then(Vec::pop)
                .ok_or_else(|| {
                    StoreError::Invalid(format!("capture of {} not inserted", page.capture.url))
                })
        })
        .collect()
}

/// What became of one stored page's document in [`upsert_documents_on`].
#[derive(Debug, Clone, Copy)]
struct DocumentWritten {
    id: i64,
    upsert: Upsert,
    /// Inserted by the batch's one statement, `tagged_at` set: its matches (if any) are
    /// to be recorded with [`crate::review::record_new_matches_on`].
    fresh: bool,
}

/// The documents of a batch's stored pages: the new ones inserted in one statement (with
/// `tagged_at` set: their matches go in with them), the others (already stored,
/// syndicated copies, a canonical URL met twice in the batch) one by one, in batch order.
async fn upsert_documents_on<C: ConnectionTrait>(
    txn: &C,
    pages: &[&PageWrite<'_>],
    capture_ids: &[i64],
) -> Result<Vec<DocumentWritten>, StoreError> {
    use std::collections::{HashMap, HashSet};
    // A page is tried in the one statement when it is not a syndicated copy (which looks
    // its original up) and the first of its canonical URL in the batch.
    let mut claimed: HashSet<&str> = HashSet::new();
    let tried: Vec<bool> = pages
        .iter()
        .map(|page| {
            page.document.syndicated_from.is_none()
                && claimed.insert(page.document.canonical_url.as_str())
        })
        .collect();
    let now = Utc::now();
    let rows: Vec<documents::ActiveModel> = pages
        .iter()
        .zip(capture_ids)
        .zip(&tried)
        .filter(|(_, tried)| **tried)
        .map(|((page, capture_id), _)| {
            new_document_row(
                page.document,
                page.source_id,
                Some(*capture_id),
                None,
                Some(now),
                now,
            )
        })
        .collect();
    // Documents already stored (or stored by another process meanwhile) are not
    // inserted, so not returned: they take the one-by-one path below.
    let new_ids: HashMap<String, i64> = if rows.is_empty() {
        HashMap::new()
    } else {
        let insert = documents::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::column(documents::Column::CanonicalUrl)
                    .do_nothing()
                    .to_owned(),
            )
            .into_query();
        inserted_ids(txn, insert, "canonical_url").await?
    };
    let mut queued: Vec<i64> = new_ids.values().copied().collect();
    queued.sort_unstable();
    queue_for_index_on(txn, &queued).await?;
    let mut out = Vec::with_capacity(pages.len());
    for ((page, capture_id), tried) in pages.iter().zip(capture_ids).zip(tried) {
        let url = page.document.canonical_url.as_str();
        match new_ids.get(url) {
            Some(id) if tried => out.push(DocumentWritten {
                id: *id,
                upsert: Upsert::New,
                fresh: true,
            }),
            _ => {
                let (id, upsert) =
                    upsert_document_on(txn, page.document, page.source_id, Some(*capture_id))
                        .await?;
                if upsert == Upsert::New && page.matches.is_empty() {
                    mark_tagged_on(txn, id, now).await?;
                }
                out.push(DocumentWritten {
                    id,
                    upsert,
                    fresh: false,
                });
            }
        }
    }
    Ok(out)
}

/// The end states of frontier URLs, in one statement (a missing row changes nothing).
pub async fn finish_urls_on<C: ConnectionTrait>(
    db: &C,
    outcomes: &[(i64, UrlOutcome<'_>)],
) -> Result<(), StoreError> {
    use sea_orm::{DatabaseBackend, Statement, Value};
    let backend = db.get_database_backend();
    // Seven values a URL, well under either backend's limit on bound parameters.
    for chunk in outcomes.chunks(256) {
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 7 + 1);
        let placeholder = |values: &mut Vec<Value>, value: Value| {
            values.push(value);
            match backend {
                DatabaseBackend::Postgres => format!("${}", values.len()),
                _ => "?".to_string(),
            }
        };
        let mut rows = Vec::with_capacity(chunk.len());
        for (id, outcome) in chunk {
            let row = [
                placeholder(&mut values, Value::from(*id)),
                placeholder(&mut values, Value::from(outcome.state.to_string())),
                placeholder(&mut values, Value::from(outcome.reason.map(str::to_string))),
                placeholder(&mut values, Value::from(outcome.document_id)),
                placeholder(&mut values, Value::from(outcome.etag.map(str::to_string))),
                placeholder(
                    &mut values,
                    Value::from(outcome.last_modified.map(str::to_string)),
                ),
                placeholder(
                    &mut values,
                    Value::from(outcome.body_sha256.map(str::to_string)),
                ),
            ];
            rows.push(format!("({})", row.join(", ")));
        }
        let now = placeholder(&mut values, Value::from(Utc::now()));
        // The attempt is counted in the database; validators and the document are set
        // only when known.
        let sql = format!(
            "WITH v(id, state, reason, document_id, etag, last_modified, body_sha256) AS \
             (VALUES {rows}) \
             UPDATE crawl_urls SET state = v.state, reason = v.reason, \
             attempts = crawl_urls.attempts + 1, updated_at = {now}, \
             document_id = COALESCE(v.document_id, crawl_urls.document_id), \
             etag = COALESCE(v.etag, crawl_urls.etag), \
             last_modified = COALESCE(v.last_modified, crawl_urls.last_modified), \
             body_sha256 = COALESCE(v.body_sha256, crawl_urls.body_sha256) \
             FROM v WHERE crawl_urls.id = v.id",
            rows = rows.join(", ")
        );
        db.execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::retry_after_failure;

    #[test]
    fn a_failed_source_is_retried_soon_then_less_often_never_later_than_its_interval() {
        let hour = 3_600;
        let secs = |failures| retry_after_failure(hour, failures).num_seconds();
        assert_eq!(secs(1), 60);
        assert_eq!(secs(2), 120);
        assert_eq!(secs(3), 240);
        assert_eq!(secs(6), 1_920);
        assert_eq!(secs(7), hour, "capped at the interval");
        assert_eq!(secs(i32::MAX), hour, "no overflow");
        assert_eq!(
            retry_after_failure(30, 1).num_seconds(),
            30,
            "short intervals stay"
        );
    }
}
