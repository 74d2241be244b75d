//! The single index writer. The database is the source of truth and the queue of work:
//! a stored document has `indexed_at = NULL` until a commit holding it succeeded, so a
//! crash between store and index is repaired by the next pass.

use chrono::Utc;
use serde::Serialize;

use diembao_index::IndexDoc;
use diembao_store::{Document, published_with_offset};

use crate::JobError;
use crate::env::Env;

/// Documents per index commit at most: a commit writes a segment and syncs its files,
/// and a segment more means more merging later, so a busy crawl commits in large steps.
const BATCH: u64 = 2_000;

/// The index view of a stored document.
pub fn index_doc(doc: &Document, rules: Vec<String>, categories: Vec<String>) -> IndexDoc {
    let published = published_with_offset(doc);
    IndexDoc {
        id: doc.id,
        url: doc.url.clone(),
        title: doc.title.clone(),
        text: doc.text.clone(),
        source: doc.source_name.clone(),
        kind: doc.kind.clone(),
        published: published.map(|p| p.to_rfc3339()),
        date: doc.published_at.unwrap_or(doc.fetched_at),
        rules,
        categories,
    }
}

/// Counts in the database and in the index.
#[derive(Debug, Clone, Serialize)]
pub struct IndexStatus {
    /// Documents in the database.
    pub stored: u64,
    /// Documents in the search index.
    pub indexed: u64,
    /// Stored documents not yet in the index.
    pub pending: u64,
    /// Stored documents the rules have run on.
    pub tagged: u64,
}

impl Env {
    /// Indexes every document not yet indexed, committing every batch. Returns how many.
    pub async fn index_pending(&self) -> Result<u64, JobError> {
        let mut total = 0;
        loop {
            let n = self.index_pending_once().await?;
            if n == 0 {
                return Ok(total);
            }
            total += n;
        }
    }

    /// Runs the indexer until `shutdown`: wakes on new documents, and every few seconds.
    pub async fn run_indexer(&self, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        loop {
            if let Err(err) = self.index_pending().await {
                tracing::error!(error = %err, "indexing failed; will retry");
            }
            tokio::select! {
                _ = self.stored.notified() => {
                    // Let a burst of stores accumulate into one commit.
                    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                }
                _ = tokio::time::sleep(std::time::Duration::from_secs(5)) => {}
                _ = shutdown.changed() => {
                    if let Err(err) = self.index_pending().await {
                        tracing::error!(error = %err, "final indexing failed");
                    }
                    return;
                }
            }
        }
    }

    pub async fn index_status(&self) -> Result<IndexStatus, JobError> {
        self.index.reload()?;
        let stored = self.store.count_documents().await?;
        let indexed = self.index.num_docs();
        let pending = self.store.count_unindexed().await?;
        let tagged = self.store.count_tagged().await?;
        Ok(IndexStatus {
            stored,
            indexed,
            pending,
            tagged,
        })
    }

    /// Rebuilds the index from the database.
    pub async fn reindex(&self, progress: impl Fn(u64, u64)) -> Result<u64, JobError> {
        let total = self.store.count_documents().await?;
        let index = self.index.clone();
        tokio::task::spawn_blocking(move || -> Result<(), JobError> {
            index.clear()?;
            index.commit()?;
            Ok(())
        })
        .await
        .map_err(|err| JobError::Other(err.to_string()))??;
        self.store.clear_indexed().await?;
        let mut done = 0;
        loop {
            let n = self.index_pending_once().await?;
            if n == 0 {
                break;
            }
            done += n;
            progress(done, total);
        }
        self.merge_after_bulk(done).await?;
        Ok(done)
    }

    /// After a bulk load (`indexed` documents make at least half the index: a reindex, a
    /// first large import) the index is merged into one segment, as searches pay per
    /// segment. A small addition to a large index leaves the merge policy to it.
    pub async fn merge_after_bulk(&self, indexed: u64) -> Result<(), JobError> {
        let index = self.index.clone();
        if indexed == 0 || indexed.saturating_mul(2) < index.num_docs() {
            return Ok(());
        }
        tokio::task::spawn_blocking(move || index.merge_all())
            .await
            .map_err(|err| JobError::Other(err.to_string()))??;
        Ok(())
    }

    async fn index_pending_once(&self) -> Result<u64, JobError> {
        let ids = self.store.unindexed_ids(BATCH).await?;
        if ids.is_empty() {
            return Ok(0);
        }
        let docs = self.store.documents_by_ids(&ids).await?;
        let mut tags: std::collections::HashMap<i64, (Vec<String>, Vec<String>)> =
            std::collections::HashMap::new();
        for m in self.store.open_matches(&ids).await? {
            let entry = tags.entry(m.document_id).or_default();
            if !entry.0.contains(&m.rule_id) {
                entry.0.push(m.rule_id);
            }
            if !entry.1.contains(&m.category) {
                entry.1.push(m.category);
            }
        }
        let batch: Vec<IndexDoc> = docs
            .iter()
            .map(|d| {
                let (rules, categories) = tags.remove(&d.id).unwrap_or_default();
                index_doc(d, rules, categories)
            })
            .collect();
        let index = self.index.clone();
        let started = Utc::now();
        tokio::task::spawn_blocking(move || -> Result<(), JobError> {
            index.upsert(&batch)?;
            index.commit()?;
            Ok(())
        })
        .await
        .map_err(|err| JobError::Other(err.to_string()))??;
        self.store.mark_indexed(&ids, started).await?;
        self.counters
            .indexed
            .fetch_add(ids.len() as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(ids.len() as u64)
    }
}
