//! Crawl jobs: visit a source (read its listing, queue new article URLs), fetch a page
//! (fetch, extract, store). And `crawl --once`: run both until the queue is drained.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use apalis::prelude::{BoxDynError, Data};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use url::Url;

use diembao_core::url_canon::canonicalize;
use diembao_core::{DocKind, NewDocument, SourceKind};
use diembao_crawl::discover::{self, Listing};
use diembao_crawl::extract::{ExtractInput, extract};
use diembao_crawl::fetch::{FetchError, Fetched, Validators};
use diembao_crawl::social;
use diembao_store::{
    NewCapture, NewFetch, PageEnd, PageWrite, PageWritten, Upsert, UrlOutcome, url_state,
};
use futures::StreamExt;

use crate::JobError;
use crate::capture;
use crate::env::Env;

/// Visit one source: read its feed, sitemap or listing and queue the new article URLs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VisitSource {
    pub source_id: i64,
}

/// Fetch a batch of crawl-frontier pages (ids, never bodies), extract them and store
/// their documents. Batches amortise the queue's and the database's cost per page over
/// [`PAGE_BATCH`] pages: one job, one transaction.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(from = "FetchPageWire")]
pub struct FetchPage {
    pub url_ids: Vec<i64>,
}

/// [`FetchPage`] as stored, also in its older one-page form `{"url_id": N}` (jobs queued
/// by an earlier version still run after an upgrade).
#[derive(Deserialize)]
struct FetchPageWire {
    #[serde(default)]
    url_ids: Vec<i64>,
    #[serde(default)]
    url_id: Option<i64>,
}

impl From<FetchPageWire> for FetchPage {
    fn from(wire: FetchPageWire) -> Self {
        let mut url_ids = wire.url_ids;
        url_ids.extend(wire.url_id);
        Self { url_ids }
    }
}

/// Pages per [`FetchPage`] job.
pub const PAGE_BATCH: usize = 32;

/// How often `crawl --once` clears the finished jobs from the queue.
const SWEEP_EVERY: Duration = Duration::from_secs(2);

/// Pages of one batch fetched and extracted at a time (the fetcher's per-host and
/// global limits still apply across all of them).
const PAGES_AT_ONCE: usize = 8;

/// What became of one page of a batch, before it is written.
pub(crate) enum Processed {
    /// An article: its document, capture and matches.
    Kept(Box<Kept>),
    /// Fetched or tried, but nothing to store (skipped, failed, unchanged).
    Ended(Box<Ended>),
    /// A frontier URL that does not parse (`bad_url`), or a page whose analysis panicked
    /// (`analysis_panicked`): failed, with nothing else written.
    Unprocessable { url_id: i64, reason: &'static str },
}

pub(crate) struct Kept {
    url_id: i64,
    source_id: Option<i64>,
    url: Url,
    fetched: Fetched,
    sha: String,
    /// Where the capture is kept (filled in by [`Env::keep_captures`]).
    path: String,
    pack_offset: Option<u64>,
    document: NewDocument,
    matches: Vec<(i64, diembao_store::NewMatch)>,
}

pub(crate) struct Ended {
    url_id: i64,
    source_id: Option<i64>,
    url: Url,
    result: Result<Fetched, FetchError>,
    error: Option<String>,
    state: &'static str,
    reason: String,
}

impl Kept {
    /// The index view of this page's document, stored under `id` (its text moved there).
    pub(crate) fn into_index_doc(self, id: i64) -> diembao_index::IndexDoc {
        crate::indexer::fresh_index_doc(id, self.document, &self.matches)
    }
}

impl Processed {
    /// A page fetched or tried, with nothing to store.
    fn ended(
        url_id: i64,
        source_id: Option<i64>,
        url: Url,
        result: Result<Fetched, FetchError>,
        state: &'static str,
        reason: &str,
    ) -> Self {
        Self::Ended(Box::new(Ended {
            url_id,
            source_id,
            url,
            error: result.as_ref().err().map(ToString::to_string),
            result,
            state,
            reason: reason.to_string(),
        }))
    }

    /// The rows this page leaves, borrowed from it.
    pub(crate) fn end<'a>(&'a self, active_versions: &'a [i64]) -> PageEnd<'a> {
        match self {
            Self::Unprocessable { url_id, reason } => PageEnd::Finished {
                fetch: None,
                url_id: *url_id,
                outcome: UrlOutcome {
                    state: url_state::FAILED,
                    reason: Some(reason),
                    ..Default::default()
                },
            },
            Self::Ended(ended) => PageEnd::Finished {
                fetch: Some(fetch_entry(
                    ended.source_id,
                    &ended.url,
                    ended.result.as_ref(),
                    ended.error.as_deref(),
                )),
                url_id: ended.url_id,
                outcome: UrlOutcome {
                    state: ended.state,
                    reason: Some(&ended.reason),
                    ..Default::default()
                },
            },
            Self::Kept(kept) => PageEnd::Stored(PageWrite {
                url_id: kept.url_id,
                source_id: kept.source_id,
                fetch: fetch_entry(kept.source_id, &kept.url, Ok(&kept.fetched), None),
                capture: capture_row(&kept.fetched, &kept.sha, &kept.path, kept.pack_offset),
                document: &kept.document,
                active_versions,
                matches: &kept.matches,
                outcome: UrlOutcome {
                    state: url_state::DONE,
                    reason: None,
                    document_id: None,
                    etag: kept.fetched.etag(),
                    last_modified: kept.fetched.last_modified(),
                    body_sha256: Some(&kept.sha),
                },
            }),
        }
    }
}

/// Counts of one crawl run.
#[derive(Debug, Default)]
pub struct Counters {
    pub sources: AtomicU64,
    pub sources_failed: AtomicU64,
    pub fetched: AtomicU64,
    pub new: AtomicU64,
    pub updated: AtomicU64,
    pub unchanged: AtomicU64,
    pub skipped_robots: AtomicU64,
    pub indexed: AtomicU64,
    pub skipped: Mutex<BTreeMap<String, u64>>,
    pub failed: Mutex<BTreeMap<String, u64>>,
}

impl Counters {
    pub(crate) fn count_stored(&self, written: PageWritten) {
        let counter = match written.upsert {
            Upsert::New => &self.new,
            Upsert::Updated => &self.updated,
            Upsert::Unchanged => &self.unchanged,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        crate::tagger::log_opened(written.candidate, written.document_id);
    }

    fn skip(&self, reason: &str) {
        if reason == "robots" {
            self.skipped_robots.fetch_add(1, Ordering::Relaxed);
        } else {
            Self::bump(&self.skipped, reason);
        }
    }

    fn bump(map: &Mutex<BTreeMap<String, u64>>, reason: &str) {
        let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
        *map.entry(reason.to_string()).or_default() += 1;
    }

    pub fn summary(&self) -> CrawlSummary {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        CrawlSummary {
            sources: load(&self.sources),
            sources_failed: load(&self.sources_failed),
            fetched: load(&self.fetched),
            new: load(&self.new),
            updated: load(&self.updated),
            unchanged: load(&self.unchanged),
            skipped_robots: load(&self.skipped_robots),
            skipped: self
                .skipped
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
            failed: self
                .failed
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
            indexed: load(&self.indexed),
        }
    }
}

/// What `crawl --once` prints at the end (and `--json`).
#[derive(Debug, Clone, Serialize)]
pub struct CrawlSummary {
    pub sources: u64,
    pub sources_failed: u64,
    pub fetched: u64,
    pub new: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub skipped_robots: u64,
    pub skipped: BTreeMap<String, u64>,
    pub failed: BTreeMap<String, u64>,
    pub indexed: u64,
}

fn boxed(err: JobError) -> BoxDynError {
    Box::new(err)
}

/// The first line of a post, shortened, as its title (posts have none of their own).
fn first_line(text: &str) -> String {
    let line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    if line.chars().count() <= 120 {
        return line.to_string();
    }
    let cut: String = line.chars().take(120).collect();
    let cut = cut
        .rsplit_once(' ')
        .map_or(cut.as_str(), |(head, _)| head)
        .to_string();
    format!("{cut}…")
}

/// Whether `title` stands in the page's body (a headline), not only in its `<title>`.
fn headline_on_page(body: &[u8], content_type: Option<&str>, title: &str) -> bool {
    let title = title.trim();
    if title.is_empty() {
        return false;
    }
    let (html, _) = diembao_crawl::extract::decode_html(body, content_type);
    let start = html
        .find("<body")
        .or_else(|| html.find("<BODY"))
        .unwrap_or(0);
    let visible = &html[start..];
    let squash = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    visible.contains(title) || squash(visible).contains(&squash(title))
}

/// The apalis handler for [`VisitSource`].
pub async fn visit_source(job: VisitSource, env: Data<Env>) -> Result<(), BoxDynError> {
    env.visit_source(job.source_id).await.map_err(boxed)
}

/// The apalis handler for [`FetchPage`].
pub async fn fetch_page(job: FetchPage, env: Data<Env>) -> Result<(), BoxDynError> {
    env.fetch_pages(&job.url_ids).await.map_err(boxed)
}

/// The fetch log entry of one fetch.
fn fetch_entry<'a>(
    source_id: Option<i64>,
    url: &'a Url,
    result: Result<&Fetched, &FetchError>,
    error: Option<&'a str>,
) -> NewFetch<'a> {
    let (status, bytes, duration_ms, outcome) = match result {
        Ok(f) => (
            Some(f.status),
            f.body.len(),
            u64::try_from(f.elapsed.as_millis()).unwrap_or(u64::MAX),
            if f.not_modified { "not_modified" } else { "ok" },
        ),
        Err(e) => (None, 0, 0, e.reason()),
    };
    NewFetch {
        source_id,
        url: url.as_str(),
        host: url.host_str().unwrap_or(""),
        status,
        bytes,
        duration_ms,
        outcome,
        error,
    }
}

/// The `raw_captures` row of a response kept at `path`.
fn capture_row<'a>(
    fetched: &'a Fetched,
    sha: &'a str,
    path: &'a str,
    pack_offset: Option<u64>,
) -> NewCapture<'a> {
    let headers = serde_json::Value::Object(
        fetched
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect(),
    );
    NewCapture {
        url: fetched.final_url.as_str(),
        status: fetched.status,
        content_type: fetched.content_type.as_deref(),
        headers,
        sha256: sha,
        size: fetched.body.len(),
        path,
        pack_offset,
        captured_at: fetched.fetched_at,
    }
}

/// How many nested sitemaps or listing pages one visit follows at most.
const MAX_NESTED_LISTINGS: usize = 50;

impl Env {
    async fn log_fetch(
        &self,
        source_id: Option<i64>,
        url: &Url,
        result: &Result<Fetched, FetchError>,
    ) {
        let error = result.as_ref().err().map(ToString::to_string);
        let entry = fetch_entry(source_id, url, result.as_ref(), error.as_deref());
        if let Err(err) = self.store.log_fetch(entry).await {
            tracing::warn!(error = %err, "could not write the fetch log");
        }
    }

    /// Fetches a listing (feed, sitemap, listing page) with conditional GET; `None` when
    /// unchanged (304). Its validators are saved by [`Env::listing_read`] only after its
    /// entries are queued, so a crash in between reads it again.
    async fn fetch_listing(
        &self,
        source_id: i64,
        url: &Url,
    ) -> Result<Option<(Fetched, Option<i64>)>, JobError> {
        let known = self.store.crawl_url_by_url(url.as_str()).await?;
        let validators = known
            .as_ref()
            .map(|k| Validators {
                etag: k.etag.clone(),
                last_modified: k.last_modified.clone(),
            })
            .unwrap_or_default();
        let result = self.fetcher.fetch(url, &validators).await;
        self.log_fetch(Some(source_id), url, &result).await;
        let fetched = result?;
        self.counters.fetched.fetch_add(1, Ordering::Relaxed);
        if fetched.not_modified {
            self.counters.unchanged.fetch_add(1, Ordering::Relaxed);
            return Ok(None);
        }
        let id = match known {
            Some(k) => Some(k.id),
            None => {
                self.store
                    .discover_url(url.as_str(), Some(source_id), 0)
                    .await?
            }
        };
        Ok(Some((fetched, id)))
    }

    async fn listing_read(&self, id: Option<i64>, fetched: &Fetched) -> Result<(), JobError> {
        let Some(id) = id else { return Ok(()) };
        let sha = capture::sha256_hex(&fetched.body);
        let outcome = UrlOutcome {
            state: "listing",
            etag: fetched.etag(),
            last_modified: fetched.last_modified(),
            body_sha256: Some(&sha),
            ..Default::default()
        };
        self.store.finish_url(id, outcome).await?;
        Ok(())
    }

    /// Visits a source; a failure marks the source's health and never fails the crawl.
    pub async fn visit_source(&self, source_id: i64) -> Result<(), JobError> {
        let Some(source) = self.store.source(source_id).await? else {
            tracing::info!(source_id, "source is gone; nothing to do");
            return Ok(());
        };
        self.counters.sources.fetch_add(1, Ordering::Relaxed);
        let result = self.read_source(&source).await;
        match result {
            Ok(queued) => {
                tracing::info!(source = %source.name, queued, "source visited");
                self.store.source_succeeded(source_id, 0).await?;
            }
            Err(err) => {
                self.counters.sources_failed.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(source = %source.name, error = %err, "source failed");
                self.store
                    .source_failed(source_id, &err.to_string())
                    .await?;
            }
        }
        Ok(())
    }

    async fn read_source(&self, source: &diembao_store::Source) -> Result<usize, JobError> {
        let kind = SourceKind::parse(&source.kind)
            .ok_or_else(|| JobError::Other(format!("unknown kind {}", source.kind)))?;
        let start =
            Url::parse(&source.url).map_err(|e| JobError::Other(format!("bad source url: {e}")))?;
        if matches!(kind, SourceKind::Mastodon | SourceKind::Youtube) {
            return self.read_posts(source, kind, start).await;
        }
        let mut to_read = vec![start.clone()];
        let mut seen = vec![start.to_string()];
        let mut queued = 0;
        let mut first = true;
        while let Some(url) = to_read.pop() {
            let fetched = match self.fetch_listing(source.id, &url).await {
                Ok(fetched) => fetched,
                Err(err) if first => return Err(err),
                Err(err) => {
                    tracing::warn!(url = %url, error = %err, "nested listing failed");
                    continue;
                }
            };
            first = false;
            let Some((fetched, listing_id)) = fetched else {
                continue;
            };
            let listing = self.parse_source_page(kind, source, &fetched)?;
            for more in listing.more {
                if seen.len() < MAX_NESTED_LISTINGS
                    && !seen.contains(&more)
                    && let Ok(more_url) = Url::parse(&more)
                {
                    if kind == SourceKind::Html && seen.len() > self.config.crawl.max_listing_pages
                    {
                        continue;
                    }
                    seen.push(more.clone());
                    to_read.push(more_url);
                }
            }
            let urls: Vec<String> = listing
                .entries
                .iter()
                .filter_map(|entry| Url::parse(&entry.url).ok())
                .map(|url| canonicalize(&url))
                .collect();
            let new = self.store.discover_urls(&urls, Some(source.id), 1).await?;
            self.queue_pages(&new).await?;
            queued += new.len();
            self.listing_read(listing_id, &fetched).await?;
        }
        Ok(queued)
    }

    /// Social sources whose listing holds the posts themselves (Mastodon API pages,
    /// YouTube feeds): every post is stored from the listing, pages followed through
    /// `Link: rel="next"` until a page brings nothing new.
    async fn read_posts(
        &self,
        source: &diembao_store::Source,
        kind: SourceKind,
        start: Url,
    ) -> Result<usize, JobError> {
        let mut next = Some(start);
        let mut seen: Vec<String> = Vec::new();
        let mut stored = 0;
        let mut first = true;
        while let Some(url) = next.take() {
            if seen.len() >= MAX_NESTED_LISTINGS || seen.contains(&url.to_string()) {
                break;
            }
            seen.push(url.to_string());
            let fetched = match self.fetch_listing(source.id, &url).await {
                Ok(Some(fetched)) => fetched,
                Ok(None) => break,
                Err(err) if first => return Err(err),
                Err(err) => {
                    tracing::warn!(url = %url, error = %err, "next page failed");
                    break;
                }
            };
            first = false;
            let (fetched, listing_id) = fetched;
            let posts = match kind {
                SourceKind::Mastodon => {
                    social::parse_mastodon_statuses(&fetched.body, &fetched.final_url)
                }
                _ => social::parse_youtube_feed(&fetched.body, &fetched.final_url),
            }
            .map_err(|err| JobError::Other(format!("{}: {err}", fetched.final_url)))?;
            let capture_id = self
                .keep_capture(&fetched, &capture::sha256_hex(&fetched.body))
                .await?;
            let mut new_here = 0;
            for post in posts {
                if self.store_post(source, post, capture_id).await? == Upsert::New {
                    new_here += 1;
                }
            }
            stored += new_here;
            self.listing_read(listing_id, &fetched).await?;
            if kind == SourceKind::Mastodon && (new_here > 0 || stored == 0) {
                next = fetched
                    .header("link")
                    .and_then(|h| social::link_next(h, &fetched.final_url));
            }
        }
        self.stored.notify_one();
        Ok(stored)
    }

    /// Keeps a response byte for byte (content-addressed file and `raw_captures` row).
    async fn keep_capture(&self, fetched: &Fetched, sha: &str) -> Result<i64, JobError> {
        let path = capture::save_async(&self.data_dir, sha, &fetched.body).await?;
        Ok(self
            .store
            .insert_capture(capture_row(fetched, sha, &path, None))
            .await?)
    }

    async fn store_post(
        &self,
        source: &diembao_store::Source,
        post: social::Post,
        capture_id: i64,
    ) -> Result<Upsert, JobError> {
        let Ok(url) = Url::parse(&post.url) else {
            return Ok(Upsert::Unchanged);
        };
        if post.text.trim().is_empty() && post.title.is_none() {
            self.counters.skip("empty_post");
            return Ok(Upsert::Unchanged);
        }
        let title = post
            .title
            .clone()
            .filter(|t| !t.trim().is_empty())
            .unwrap_or_else(|| first_line(&post.text));
        let published_at = post.published_at.map(|at| {
            if at.offset().local_minus_utc() == 0 {
                at.with_timezone(&diembao_core::document::vietnam_offset())
            } else {
                at
            }
        });
        let document = NewDocument {
            url: url.to_string(),
            canonical_url: canonicalize(&url),
            kind: DocKind::Post,
            title,
            text: post.text,
            author: post.author,
            source_name: Some(source.name.clone()),
            published_at,
            modified_at: None,
            fetched_at: Utc::now(),
            lang: post.lang,
            syndicated_from: None,
            engagement: Some(post.engagement),
        };
        let (document_id, upsert) = self
            .store
            .upsert_document(&document, Some(source.id), Some(capture_id))
            .await?;
        if upsert != Upsert::Unchanged {
            self.tag_document(document_id).await?;
        }
        match upsert {
            Upsert::New => {
                self.counters.new.fetch_add(1, Ordering::Relaxed);
            }
            Upsert::Updated => {
                self.counters.updated.fetch_add(1, Ordering::Relaxed);
            }
            Upsert::Unchanged => {
                self.counters.unchanged.fetch_add(1, Ordering::Relaxed);
            }
        }
        Ok(upsert)
    }

    fn parse_source_page(
        &self,
        kind: SourceKind,
        source: &diembao_store::Source,
        fetched: &Fetched,
    ) -> Result<Listing, JobError> {
        let base = &fetched.final_url;
        let listing = match kind {
            SourceKind::Rss => discover::parse_feed(&fetched.body, base),
            SourceKind::Sitemap => discover::parse_sitemap(&fetched.body, base),
            SourceKind::Html => {
                let (html, _) = diembao_crawl::extract::decode_html(
                    &fetched.body,
                    fetched.content_type.as_deref(),
                );
                discover::parse_listing(&html, base, source.link_selector.as_deref().unwrap_or("a"))
            }
            SourceKind::Mastodon | SourceKind::Youtube => {
                return Err(JobError::Other(format!(
                    "{} sources carry posts, not links",
                    kind.as_str()
                )));
            }
        };
        listing.map_err(|err| JobError::Other(format!("{}: {err}", fetched.final_url)))
    }

    /// Fetches and extracts a batch of frontier URLs, several at a time (the fetcher
    /// keeps each host's politeness), then writes them all in one transaction. Safe to
    /// run twice: a URL no longer pending is passed over, and nothing is written before
    /// the end, so a crash leaves the batch to run again whole. One page that fails
    /// (network, extraction, even its database write) ends alone; the rest are kept.
    pub async fn fetch_pages(&self, url_ids: &[i64]) -> Result<(), JobError> {
        let rows: Vec<_> = self
            .store
            .crawl_urls(url_ids)
            .await?
            .into_iter()
            .filter(|row| row.state == url_state::PENDING)
            .collect();
        if rows.is_empty() {
            return Ok(());
        }
        let mut sources = BTreeMap::new();
        for id in rows.iter().filter_map(|row| row.source_id) {
            if let std::collections::btree_map::Entry::Vacant(slot) = sources.entry(id) {
                slot.insert(self.store.source(id).await?);
            }
        }
        let compiled = self.active_rules().await?;
        let mut processed: Vec<Processed> = futures::stream::iter(rows)
            .map(|row| {
                let source = row
                    .source_id
                    .and_then(|id| sources.get(&id).cloned().flatten());
                let compiled = &compiled;
                async move { self.process_page(row, source, compiled).await }
            })
            .buffer_unordered(PAGES_AT_ONCE)
            .collect()
            .await;
        self.keep_captures(&mut processed).await?;
        // A page that fails to be written leaves its URL pending: the job's retry (or
        // the scheduler's re-queue) tries it again; the pages written are passed over.
        self.write_batch(crate::page_writes::Batch {
            pages: processed,
            active_versions: compiled.version_ids.clone(),
        })
        .await
    }

    /// Keeps the raw bytes of a batch's articles in the open pack file, synced, before their
    /// rows are written (a row never names bytes that are not on disk).
    async fn keep_captures(&self, processed: &mut [Processed]) -> Result<(), JobError> {
        let mut kept: Vec<&mut Kept> = processed
            .iter_mut()
            .filter_map(|page| match page {
                Processed::Kept(kept) => Some(&mut **kept),
                _ => None,
            })
            .collect();
        if kept.is_empty() {
            return Ok(());
        }
        // The bodies travel to the blocking thread and back (not copied).
        let bodies: Vec<(String, Vec<u8>)> = kept
            .iter_mut()
            .map(|kept| (kept.sha.clone(), std::mem::take(&mut kept.fetched.body)))
            .collect();
        let dir = self.data_dir.clone();
        let packs = self.packs.clone();
        let (pack, bodies) = tokio::task::spawn_blocking(move || {
            let borrowed: Vec<(&str, &[u8])> = bodies
                .iter()
                .map(|(sha, body)| (sha.as_str(), body.as_slice()))
                .collect();
            let pack = packs.append(&dir, &borrowed);
            (pack, bodies)
        })
        .await
        .map_err(|err| JobError::Other(err.to_string()))?;
        let pack = pack?;
        for ((kept, (_, body)), offset) in kept.into_iter().zip(bodies).zip(pack.offsets) {
            kept.fetched.body = body;
            kept.path.clone_from(&pack.path);
            kept.pack_offset = Some(offset);
        }
        Ok(())
    }

    /// Fetches and extracts one page; decides what is to be written for it (nothing is
    /// written here).
    async fn process_page(
        &self,
        row: diembao_store::CrawlUrl,
        source: Option<diembao_store::Source>,
        compiled: &std::sync::Arc<crate::tagger::Compiled>,
    ) -> Processed {
        let ended = |url, result, state, reason: &str| {
            Processed::ended(row.id, row.source_id, url, result, state, reason)
        };
        let Ok(url) = Url::parse(&row.url) else {
            return Processed::Unprocessable {
                url_id: row.id,
                reason: "bad_url",
            };
        };
        let validators = Validators {
            etag: row.etag.clone(),
            last_modified: row.last_modified.clone(),
        };
        let fetched = match self.fetcher.fetch(&url, &validators).await {
            Ok(fetched) => fetched,
            Err(err) => {
                let (state, reason) = if matches!(err, FetchError::Robots) {
                    self.counters.skip("robots");
                    (url_state::SKIPPED, "robots".to_string())
                } else {
                    Counters::bump(&self.counters.failed, err.reason());
                    (url_state::FAILED, err.to_string())
                };
                return ended(url, Err(err), state, &reason);
            }
        };
        self.counters.fetched.fetch_add(1, Ordering::Relaxed);
        let (url_id, source_id) = (row.id, row.source_id);
        let counters = self.counters.clone();
        let compiled = compiled.clone();
        let analysed = self
            .cpu
            .run(move || analyse_page(&counters, row, url, fetched, source, &compiled))
            .await;
        match analysed {
            Ok(processed) => processed,
            Err(err) => {
                Counters::bump(&self.counters.failed, "analysis_panicked");
                tracing::error!(url_id, source_id, error = %err, "page analysis failed");
                Processed::Unprocessable {
                    url_id,
                    reason: "analysis_panicked",
                }
            }
        }
    }

    /// Queues fetch jobs for frontier URLs, [`PAGE_BATCH`] to a job.
    pub async fn queue_pages(&self, url_ids: &[i64]) -> Result<(), JobError> {
        for batch in url_ids.chunks(PAGE_BATCH) {
            self.queue
                .push_page(FetchPage {
                    url_ids: batch.to_vec(),
                })
                .await?;
        }
        Ok(())
    }

    /// The scheduler's pass: queue a visit of every source that is due.
    pub async fn schedule_due_sources(&self) -> Result<usize, JobError> {
        let due = self.store.take_due_sources(Utc::now()).await?;
        for source in &due {
            self.queue
                .push_source(VisitSource {
                    source_id: source.id,
                })
                .await?;
        }
        if !due.is_empty() {
            tracing::info!(count = due.len(), "sources queued for a visit");
        }
        // The safety net under the queue's own orphan handling: pages whose job was lost.
        let after = Duration::from_secs(self.config.crawl.requeue_after_secs.max(1));
        let before = Utc::now() - chrono::Duration::from_std(after).unwrap_or_default();
        let stale = self.store.take_stale_pending(before, 10_000).await?;
        self.queue_pages(&stale).await?;
        if !stale.is_empty() {
            tracing::warn!(
                count = stale.len(),
                "pending pages queued again (their jobs were lost)"
            );
        }
        Ok(due.len())
    }

    /// `crawl --once`: queue every source (and every URL left pending by an earlier,
    /// interrupted run), run the workers until the queue is drained, index, summarise.
    pub async fn crawl_once(
        &self,
        concurrency: usize,
        progress: impl Fn(&CrawlSummary, i64),
    ) -> Result<CrawlSummary, JobError> {
        for source in self.store.sources().await? {
            if source.enabled {
                self.queue
                    .push_source(VisitSource {
                        source_id: source.id,
                    })
                    .await?;
            }
        }
        self.queue_pages(&self.store.pending_url_ids().await?)
            .await?;
        let prefix = format!(
            "crawl-{}-{}",
            std::process::id(),
            Utc::now().timestamp_millis()
        );
        let workers = crate::queue::Queue::worker_names(&prefix);
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let runner = {
            let env = self.clone();
            let queue = self.queue.clone();
            let prefix = prefix.clone();
            tokio::spawn(async move {
                queue
                    .run_workers(
                        env,
                        &prefix,
                        concurrency,
                        crate::queue::Serve::ALL,
                        async move {
                            let _ = stop_rx.await;
                        },
                    )
                    .await
            })
        };
        let (index_stop_tx, index_stop_rx) = tokio::sync::watch::channel(false);
        let indexer = {
            let env = self.clone();
            tokio::spawn(async move { env.run_indexer(index_stop_rx).await })
        };
        // Drained once the queue shows no job of ours three times in a row. The queue is
        // looked at often (a count over the jobs of one crawl), and more often still after
        // an empty look: the crawl's end is not waited for (at 100 ms a look, the end was
        // seen 90 ms late on average, 3 % of a 10,000-page crawl).
        let mut idle_rounds = 0;
        let mut swept = std::time::Instant::now();
        loop {
            let pause = if idle_rounds == 0 { 25 } else { 10 };
            tokio::time::sleep(Duration::from_millis(pause)).await;
            if swept.elapsed() >= SWEEP_EVERY {
                swept = std::time::Instant::now();
                if let Err(err) = self.queue.sweep_done().await {
                    tracing::warn!(error = %err, "could not sweep finished jobs");
                }
            }
            let outstanding = self.queue.outstanding(&workers).await?;
            progress(&self.counters.summary(), outstanding);
            if outstanding == 0 {
                idle_rounds += 1;
                if idle_rounds >= 3 {
                    break;
                }
            } else {
                idle_rounds = 0;
            }
            if runner.is_finished() {
                break;
            }
        }
        let _ = stop_tx.send(());
        match runner.await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => tracing::warn!(error = %err, "workers stopped with an error"),
            Err(err) => tracing::warn!(error = %err, "workers panicked"),
        }
        let _ = index_stop_tx.send(true);
        let _ = indexer.await;
        self.index_pending().await?;
        if let Err(err) = self.send_alerts().await {
            tracing::warn!(error = %err, "candidate alerts failed; `run` retries them");
        }
        Ok(self.counters.summary())
    }
}

/// What a fetched page leaves (the CPU-heavy part of a page: hashing, extraction,
/// tagging), run on the [`crate::cpu`] pool. Nothing is written here.
fn analyse_page(
    counters: &Counters,
    row: diembao_store::CrawlUrl,
    url: Url,
    fetched: Fetched,
    source: Option<diembao_store::Source>,
    compiled: &crate::tagger::Compiled,
) -> Processed {
    let ended = |url, result, state, reason: &str| {
        Processed::ended(row.id, row.source_id, url, result, state, reason)
    };
    let sha = capture::sha256_hex(&fetched.body);
    if fetched.not_modified || row.body_sha256.as_deref() == Some(sha.as_str()) {
        counters.unchanged.fetch_add(1, Ordering::Relaxed);
        return ended(url, Ok(fetched), url_state::DONE, "unchanged");
    }
    let content_type = fetched
        .content_type
        .clone()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let is_html =
        content_type.is_empty() || content_type.contains("html") || content_type.contains("xml");
    if !is_html {
        counters.skip("content_type");
        return ended(url, Ok(fetched), url_state::SKIPPED, "content_type");
    }
    let input = ExtractInput {
        body: &fetched.body,
        url: &fetched.final_url,
        content_type: fetched.content_type.as_deref(),
        fetched_at: fetched.fetched_at,
    };
    let mut extracted = match extract(&input) {
        Ok(extracted) => extracted,
        Err(err) => {
            counters.skip("not_extractable");
            let reason = err.to_string();
            return ended(url, Ok(fetched), url_state::SKIPPED, &reason);
        }
    };
    let source_kind = source.as_ref().and_then(|s| SourceKind::parse(&s.kind));
    if source_kind == Some(SourceKind::Html) && extracted.text.trim().is_empty() {
        let (html, _) =
            diembao_crawl::extract::decode_html(&fetched.body, fetched.content_type.as_deref());
        extracted.text = social::short_post_text(&html);
    }
    // A page an `html` source's own link selector points at is content even when it
    // is too short to look like an article (a fan page's post, say). It is a post when
    // its "title" is nowhere on the page but in <title> (no headline of its own).
    let from_listing = source_kind == Some(SourceKind::Html) && !extracted.text.trim().is_empty();
    let mut title = extracted.title.take().unwrap_or_default();
    let headless =
        from_listing && !headline_on_page(&fetched.body, fetched.content_type.as_deref(), &title);
    if headless {
        title = first_line(&extracted.text);
    }
    if !(extracted.is_article || from_listing)
        || title.trim().is_empty()
        || extracted.text.trim().is_empty()
    {
        counters.skip("not_article");
        return ended(url, Ok(fetched), url_state::SKIPPED, "not_article");
    }
    // One document per canonical URL: rel=canonical on the same site names it; one on
    // another site marks a syndicated copy, stored under its own address.
    let own = canonicalize(&fetched.final_url);
    let (canonical_url, syndicated_from) = match extracted
        .canonical_url
        .as_deref()
        .and_then(|c| Url::parse(c).ok())
    {
        Some(c)
            if c.host_str() == fetched.final_url.host_str()
                && c.port_or_known_default() == fetched.final_url.port_or_known_default() =>
        {
            (canonicalize(&c), None)
        }
        Some(c) => (own, Some(canonicalize(&c))),
        None => (own, None),
    };
    let kind = if headless {
        DocKind::Post
    } else {
        source_kind.map_or(DocKind::Article, SourceKind::document_kind)
    };
    // A post without a named author is the page's own post.
    let author = match (extracted.author.take(), kind) {
        (None, DocKind::Post) => source.as_ref().map(|s| s.name.clone()),
        (author, _) => author,
    };
    let document = NewDocument {
        url: fetched.final_url.to_string(),
        canonical_url,
        kind,
        title,
        text: std::mem::take(&mut extracted.text),
        author,
        source_name: source.as_ref().map(|s| s.name.clone()),
        published_at: extracted.published_at,
        modified_at: extracted.modified_at,
        fetched_at: fetched.fetched_at,
        lang: extracted.lang.take(),
        syndicated_from,
        engagement: None,
    };
    // Tagged here, outside the write; the matches go in with the document.
    let matches = crate::tagger::evaluate(compiled, &document);
    Processed::Kept(Box::new(Kept {
        url_id: row.id,
        source_id: row.source_id,
        url,
        fetched,
        path: String::new(),
        pack_offset: None,
        sha,
        document,
        matches,
    }))
}

#[cfg(test)]
mod tests {
    use super::FetchPage;

    #[test]
    fn a_page_job_reads_its_batch_and_the_older_one_page_form() {
        let batch: FetchPage = serde_json::from_str(r#"{"url_ids":[3,4,5]}"#).expect("batch");
        assert_eq!(batch.url_ids, [3, 4, 5]);
        let older: FetchPage = serde_json::from_str(r#"{"url_id":7}"#).expect("older form");
        assert_eq!(older.url_ids, [7]);
        let written = serde_json::to_string(&FetchPage {
            url_ids: vec![1, 2],
        })
        .expect("json");
        assert_eq!(written, r#"{"url_ids":[1,2]}"#);
        assert!(serde_json::from_str::<FetchPage>(r#"{"url_ids":"x"}"#).is_err());
    }
}
