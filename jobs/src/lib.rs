//! Background jobs: payloads (ids, never documents), their handlers, the queue on
//! SQLite or PostgreSQL (apalis), the single index writer, and ingest/export.
//!
//! Every handler is safe to run twice: it reloads its row by id and does nothing when
//! the work is already done (the crawl frontier's state says so).

mod alerts;
mod capture;
mod cpu;
mod crawl;
mod digest;
mod discovery;
mod env;
mod indexer;
mod ingest;
pub mod mail;
mod page_writes;
mod queue;
mod retention;
mod tagger;

pub use crawl::{CrawlSummary, FetchPage, VisitSource};
pub use digest::{DeliveryReport, period_label};
pub use discovery::Discovery;
pub use env::{Env, EnvOptions};
pub use indexer::{IndexStatus, index_doc};
pub use ingest::{IngestReport, export_jsonl, ingest_jsonl};
pub use queue::{QUEUE_FETCH, QUEUE_SOURCES, Queue, QueueCost, Serve, queue_cost};
pub use tagger::evaluate;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JobError {
    #[error(transparent)]
    Store(#[from] diembao_store::StoreError),
    #[error(transparent)]
    Index(#[from] diembao_index::IndexError),
    #[error(transparent)]
    Fetch(#[from] diembao_crawl::fetch::FetchError),
    #[error("queue: {0}")]
    Queue(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Other(String),
}

mod cases;
pub mod warc;
pub use cases::{CASE_FILE_FORMAT, CaseFile, CaseFileCheck, verify_case_file};
