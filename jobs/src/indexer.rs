//! The single index writer. The database is the source of truth and the queue of work:
//! a stored document keeps its row in `index_queue` until a commit holding it succeeded,
//! so a crash between store and index is repaired by the next pass.

use chrono::Utc;
use serde::Serialize;

use diembao_index::IndexDoc;
use diembao_store::{Document, published_with_offset};

use crate::JobError;
use crate::env::Env;

/// Documents per index commit at most: a commit writes a segment and syncs its files,
/// and a segment more means more merging later, so a busy crawl commits in large steps.
const BATCH: u64 = 4_000;

/// Documents added to the writer are committed (made searchable, and marked indexed in
/// the database) at most this long after the first of them was added.
const COMMIT_WITHIN: std::time::Duration = std::time::Duration::from_secs(2);

/// Most documents waiting in memory for the indexer; beyond, they wait in the database.
const FRESH_MAX: usize = 4_000;

/// Documents the crawler just stored, handed to the indexer in memory so that it need not
/// read them back. The database stays the truth: a document is marked indexed only after
/// a commit that holds it, so one lost here (a crash, a full hand-off) is indexed from the
/// database by the next pass.
#[derive(Default)]
pub struct FreshDocs {
    docs: std::sync::Mutex<Vec<IndexDoc>>,
    ready: tokio::sync::Notify,
    /// An indexer runs in this process (a crawl worker of a scale-out has none: its
    /// documents are indexed from the database by the indexer's process).
    active: std::sync::atomic::AtomicBool,
}

impl FreshDocs {
    /// Hands documents over; returns false if some were left to the database pass (no
    /// indexer runs in this process, or the hand-off is full: the indexer is behind).
    pub fn offer(&self, docs: Vec<IndexDoc>) -> bool {
        if docs.is_empty() {
            return true;
        }
        if !self.active.load(std::sync::atomic::Ordering::Acquire) {
            return false;
        }
        let all = {
            let mut held = self.docs.lock().unwrap_or_else(|p| p.into_inner());
            let room = FRESH_MAX.saturating_sub(held.len());
            let all = docs.len() <= room;
            held.extend(docs.into_iter().take(room));
            all
        };
        self.ready.notify_one();
        all
    }

    fn take(&self) -> Vec<IndexDoc> {
        std::mem::take(&mut *self.docs.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// Documents added to the index writer and not yet committed.
#[derive(Default)]
struct Uncommitted {
    ids: Vec<i64>,
    /// When the first of them was added.
    since: Option<std::time::Instant>,
}

impl Uncommitted {
    fn due(&self) -> bool {
        self.ids.len() as u64 >= BATCH || self.since.is_some_and(|s| s.elapsed() >= COMMIT_WITHIN)
    }
}

/// The rules that fired on a document and their categories, each once, in the order
/// met: what the index holds of its matches.
#[derive(Default)]
struct Tags {
    rules: Vec<String>,
    categories: Vec<String>,
}

impl Tags {
    fn add(&mut self, rule: String, category: String) {
        if !self.rules.contains(&rule) {
            self.rules.push(rule);
        }
        if !self.categories.contains(&category) {
            self.categories.push(category);
        }
    }
}

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

/// The index view of a document just stored under `id`, with the matches found on it
/// (a new document's open matches are exactly those): what [`index_doc`] gives once it
/// is read back.
pub fn fresh_index_doc(
    id: i64,
    doc: diembao_core::NewDocument,
    matches: &[(i64, diembao_store::NewMatch)],
) -> IndexDoc {
    let mut tags = Tags::default();
    for (_, m) in matches {
        tags.add(m.rule_id.clone(), m.category.clone());
    }
    let Tags { rules, categories } = tags;
    IndexDoc {
        id,
        url: doc.url,
        title: doc.title,
        text: doc.text,
        source: doc.source_name,
        kind: doc.kind.as_str().to_string(),
        published: doc.published_at.map(|p| p.to_rfc3339()),
        date: doc
            .published_at
            .map_or(doc.fetched_at, |p| p.with_timezone(&Utc)),
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

    /// Runs the indexer until `shutdown`. Documents the crawler hands over in memory are
    /// added as they come and committed in large steps ([`BATCH`], or [`COMMIT_WITHIN`]
    /// after the first); the database is searched for the rest (documents stored by
    /// other paths, re-tagged, or left by a crash) when woken for it, and every few
    /// seconds.
    pub async fn run_indexer(&self, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        /// Takes the hand-off while the indexer runs (and gives it up however it ends).
        struct Active<'a>(&'a FreshDocs);
        impl Drop for Active<'_> {
            fn drop(&mut self) {
                self.0
                    .active
                    .store(false, std::sync::atomic::Ordering::Release);
            }
        }
        self.fresh
            .active
            .store(true, std::sync::atomic::Ordering::Release);
        let _active = Active(&self.fresh);
        let mut batch = Uncommitted::default();
        let mut from_database = true;
        loop {
            let fresh = self.fresh.take();
            if !fresh.is_empty()
                && let Err(err) = self.add_to_index(fresh, &mut batch).await
            {
                tracing::error!(error = %err, "indexing failed; the database pass retries");
                from_database = true;
            }
            if from_database {
                from_database = false;
                if let Err(err) = self.index_database_pass(&mut batch).await {
                    tracing::error!(error = %err, "indexing failed; will retry");
                }
            } else if batch.due()
                && let Err(err) = self.commit_index(&mut batch).await
            {
                tracing::error!(error = %err, "index commit failed; will retry");
            }
            let deadline = batch
                .since
                .map_or(std::time::Duration::from_secs(5), |since| {
                    COMMIT_WITHIN.saturating_sub(since.elapsed())
                });
            tokio::select! {
                _ = self.fresh.ready.notified() => {}
                _ = self.stored.notified() => {
                    // Let a burst of stores accumulate into one commit.
                    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                    from_database = true;
                }
                _ = tokio::time::sleep(deadline) => {
                    from_database = batch.ids.is_empty();
                }
                _ = shutdown.changed() => {
                    let fresh = self.fresh.take();
                    let mut result = self.add_to_index(fresh, &mut batch).await;
                    if result.is_ok() {
                        result = self.commit_index(&mut batch).await.map(|_| ());
                    }
                    if let Err(err) = result.and(self.index_pending().await.map(|_| ())) {
                        tracing::error!(error = %err, "final indexing failed");
                    }
                    return;
                }
            }
        }
    }

    /// Commits what was added, then indexes what the database still holds unindexed.
    async fn index_database_pass(&self, batch: &mut Uncommitted) -> Result<(), JobError> {
        self.commit_index(batch).await?;
        self.index_pending().await?;
        Ok(())
    }

    /// Adds documents to the index writer (not yet visible: see [`Self::commit_index`]).
    async fn add_to_index(
        &self,
        docs: Vec<IndexDoc>,
        batch: &mut Uncommitted,
    ) -> Result<(), JobError> {
        if docs.is_empty() {
            return Ok(());
        }
        let ids: Vec<i64> = docs.iter().map(|d| d.id).collect();
        let index = self.index.clone();
        tokio::task::spawn_blocking(move || index.upsert(&docs))
            .await
            .map_err(|err| JobError::Other(err.to_string()))??;
        batch.ids.extend(ids);
        batch.since.get_or_insert_with(std::time::Instant::now);
        Ok(())
    }

    /// Commits the documents added, and marks them indexed. Returns how many.
    async fn commit_index(&self, batch: &mut Uncommitted) -> Result<u64, JobError> {
        if batch.ids.is_empty() {
            return Ok(0);
        }
        let index = self.index.clone();
        tokio::task::spawn_blocking(move || index.commit())
            .await
            .map_err(|err| JobError::Other(err.to_string()))??;
        let batch = std::mem::take(batch);
        self.store.mark_indexed(&batch.ids).await?;
        let n = batch.ids.len() as u64;
        self.counters
            .indexed
            .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
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
        let mut tags: std::collections::HashMap<i64, Tags> = std::collections::HashMap::new();
        for m in self.store.open_matches(&ids).await? {
            tags.entry(m.document_id)
                .or_default()
                .add(m.rule_id, m.category);
        }
        let docs: Vec<IndexDoc> = docs
            .iter()
            .map(|d| {
                let Tags { rules, categories } = tags.remove(&d.id).unwrap_or_default();
                index_doc(d, rules, categories)
            })
            .collect();
        let mut batch = Uncommitted::default();
        self.add_to_index(docs, &mut batch).await?;
        // A document that vanished between the two reads is marked too: nothing is left
        // of it to index.
        batch.ids = ids;
        self.commit_index(&mut batch).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use diembao_core::{DocKind, NewDocument};

    /// The in-memory hand-off must index a new document exactly as the database pass
    /// would once it is read back.
    #[tokio::test]
    async fn a_fresh_document_is_indexed_as_it_reads_back_from_the_database() {
        let dir = std::env::temp_dir().join(format!("diembao-fresh-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let url = format!("sqlite://{}", dir.join("db.sqlite").display());
        let store = diembao_store::Store::connect(&url).await.expect("store");
        let offset = chrono::FixedOffset::east_opt(7 * 3600).expect("offset");
        let document = NewDocument {
            url: "https://baoso.vn/bai-1.html?utm_source=x".into(),
            canonical_url: "https://baoso.vn/bai-1.html".into(),
            kind: DocKind::Article,
            title: "Chuyển đổi số ở Ninh Thuận".into(),
            text: "Nhà cái uy tín, đăng ký ngay.\n\nĐoạn hai.".into(),
            author: Some("Phóng viên".into()),
            source_name: Some("Báo Số".into()),
            published_at: Some(
                offset
                    .with_ymd_and_hms(2023, 3, 13, 8, 15, 0)
                    .single()
                    .expect("date"),
            ),
            modified_at: None,
            fetched_at: Utc::now(),
            lang: Some("vi".into()),
            syndicated_from: None,
            engagement: None,
        };
        let (id, _) = store
            .upsert_document(&document, None, None)
            .await
            .expect("stored");
        let stored = store.documents_by_ids(&[id]).await.expect("read back");
        let back = index_doc(&stored[0], Vec::new(), Vec::new());
        let fresh = fresh_index_doc(id, document.clone(), &[]);
        assert_eq!(fresh.id, back.id);
        assert_eq!(fresh.url, back.url);
        assert_eq!(fresh.title, back.title);
        assert_eq!(fresh.text, back.text);
        assert_eq!(fresh.source, back.source);
        assert_eq!(fresh.kind, back.kind);
        assert_eq!(fresh.published, back.published);
        assert_eq!(fresh.date.timestamp(), back.date.timestamp());
        // Without a publication time, the fetch time dates it.
        let undated = NewDocument {
            published_at: None,
            ..document.clone()
        };
        let fresh = fresh_index_doc(id, undated.clone(), &[]);
        assert_eq!(fresh.published, None);
        assert_eq!(fresh.date, undated.fetched_at);
        // Rules and categories: each once, in the order found.
        let hit = |rule: &str, category: &str| {
            (
                1,
                diembao_store::NewMatch {
                    rule_id: rule.into(),
                    category: category.into(),
                    severity: "high".into(),
                    terms: Vec::new(),
                    offsets: serde_json::Value::Null,
                },
            )
        };
        let matches = [
            hit("gambling-ads", "gambling"),
            hit("gambling-betting", "gambling"),
            hit("gambling-ads", "gambling"),
        ];
        let tagged = fresh_index_doc(id, document.clone(), &matches);
        assert_eq!(tagged.rules, ["gambling-ads", "gambling-betting"]);
        assert_eq!(tagged.categories, ["gambling"]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_hand_off_holds_nothing_without_an_indexer_and_is_bounded() {
        let fresh = FreshDocs::default();
        let doc = |id| IndexDoc {
            id,
            url: String::new(),
            title: String::new(),
            text: String::new(),
            source: None,
            kind: "article".into(),
            published: None,
            date: Utc::now(),
            rules: Vec::new(),
            categories: Vec::new(),
        };
        // No indexer runs in this process: the database pass will find them.
        assert!(!fresh.offer(vec![doc(1)]));
        assert!(fresh.take().is_empty());
        fresh
            .active
            .store(true, std::sync::atomic::Ordering::Release);
        assert!(fresh.offer(vec![doc(1), doc(2)]));
        let too_many: Vec<IndexDoc> = (0..FRESH_MAX as i64).map(doc).collect();
        assert!(
            !fresh.offer(too_many),
            "beyond the bound, left to the database"
        );
        let held = fresh.take();
        assert_eq!(held.len(), FRESH_MAX);
        assert_eq!(held[0].id, 1);
        assert!(fresh.take().is_empty());
    }
}
