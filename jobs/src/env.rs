//! The one context every job handler gets: store, index, fetcher, settings, counters.

use std::path::PathBuf;
use std::sync::Arc;

use diembao_core::config::Config;
use diembao_crawl::fetch::Fetcher;
use diembao_index::SearchIndex;
use diembao_store::Store;
use tokio::sync::Notify;

use crate::JobError;
use crate::crawl::Counters;
use crate::queue::Queue;

#[derive(Debug, Clone)]
pub struct EnvOptions {
    pub data_dir: PathBuf,
    pub database_url: String,
    pub config: Config,
}

/// Shared context of handlers. Cheap to clone.
#[derive(Clone)]
pub struct Env {
    pub store: Store,
    pub queue: Queue,
    pub index: Arc<SearchIndex>,
    pub fetcher: Arc<Fetcher>,
    pub config: Arc<Config>,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub counters: Arc<Counters>,
    /// Woken when documents were stored, so the indexer looks for work.
    pub stored: Arc<Notify>,
    pub(crate) rules: Arc<crate::tagger::RuleCache>,
    /// Documents just stored, on their way to the indexer in memory.
    pub(crate) fresh: Arc<crate::indexer::FreshDocs>,
    /// Threads for the crawler's CPU-heavy steps (see [`crate::cpu`]).
    pub(crate) cpu: Arc<crate::cpu::CpuPool>,
    /// The way to the task that writes the crawler's pages.
    pub(crate) page_writes: Arc<crate::page_writes::PageWrites>,
    /// The pack file this process appends crawled pages' bytes to.
    pub(crate) packs: Arc<crate::capture::PackWriter>,
}

impl Env {
    pub async fn open(options: EnvOptions) -> Result<Self, JobError> {
        std::fs::create_dir_all(&options.data_dir)?;
        let store = Store::connect_with(
            &options.database_url,
            options.config.database.max_connections,
        )
        .await?;
        let queue = Queue::open(&store, &options.database_url).await?;
        let index = SearchIndex::open(&options.data_dir.join("index"))?;
        if index.was_reset() {
            // The index was built by another schema version and started empty: rebuild it
            // from the database (the indexer picks up every queued document).
            tracing::warn!(
                "search index rebuilt for a new schema version; re-indexing every document"
            );
            store.clear_indexed().await?;
        }
        let fetcher = Fetcher::new(options.config.crawl.clone())?;
        Ok(Self {
            store,
            queue,
            index: Arc::new(index),
            fetcher: Arc::new(fetcher),
            config: Arc::new(options.config),
            data_dir: options.data_dir,
            database_url: options.database_url,
            counters: Arc::new(Counters::default()),
            stored: Arc::new(Notify::new()),
            rules: Arc::new(crate::tagger::RuleCache::default()),
            fresh: Arc::new(crate::indexer::FreshDocs::default()),
            cpu: Arc::new(crate::cpu::CpuPool::all_cores_but_one()?),
            page_writes: Arc::new(crate::page_writes::PageWrites::default()),
            packs: Arc::new(crate::capture::PackWriter::default()),
        })
    }
}
