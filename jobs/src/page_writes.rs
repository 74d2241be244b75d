//! The crawler's page writes, combined. SQLite takes one writer at a time, and each
//! transaction costs a round trip to the database thread per statement whatever its
//! size, so the fetch jobs do not each write their batch: they hand it to one writer
//! task, which writes every batch that is waiting in one transaction (up to
//! [`MAX_PAGES_PER_WRITE`] pages). While a write is under way the next batches gather;
//! a quiet crawl writes each batch alone, as soon as it is done. Each job still hears
//! what became of its own pages.

use std::sync::{Arc, OnceLock};

use diembao_store::{PageEnd, PageEndWritten, Store, StoreError, Upsert};
use tokio::sync::{Notify, mpsc, oneshot};

use crate::JobError;
use crate::crawl::{Counters, Processed};
use crate::env::Env;
use crate::indexer::FreshDocs;

/// Most pages in one transaction, two fetch jobs' worth. Larger writes cost fewer round
/// trips, but each page waiting for one holds its body and document: measured on the
/// bench (10,000 pages, 32 jobs), 64 kept the peak at about 235 MB, 128 at 250–310 MB,
/// 256 at 310–345 MB, for no clear gain in speed.
const MAX_PAGES_PER_WRITE: usize = 64;

/// One fetch job's pages, fetched and analysed, with the rule versions they were
/// tagged with.
pub(crate) struct Batch {
    pub pages: Vec<Processed>,
    pub active_versions: Vec<i64>,
}

struct Request {
    batch: Batch,
    /// The first failure among the batch's pages, if any.
    done: oneshot::Sender<Option<StoreError>>,
}

/// The way to the writer task (started on first use, ended with the last [`Env`]).
#[derive(Default)]
pub(crate) struct PageWrites {
    requests: OnceLock<mpsc::UnboundedSender<Request>>,
}

/// What the writer needs of the environment (not the environment itself, which owns the
/// way to the writer: the task ends when the environment goes).
#[derive(Clone)]
struct Sink {
    store: Store,
    counters: Arc<Counters>,
    fresh: Arc<FreshDocs>,
    stored: Arc<Notify>,
}

impl Env {
    fn sink(&self) -> Sink {
        Sink {
            store: self.store.clone(),
            counters: self.counters.clone(),
            fresh: self.fresh.clone(),
            stored: self.stored.clone(),
        }
    }

    /// Writes a fetch job's pages (with other jobs' waiting batches). An error is the
    /// first page that could not be written; the others are kept.
    pub(crate) async fn write_batch(&self, batch: Batch) -> Result<(), JobError> {
        let requests = self.page_writes.requests.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(run(self.sink(), rx));
            tx
        });
        let (done, result) = oneshot::channel();
        let batch = match requests.send(Request { batch, done }) {
            Ok(()) => {
                return match result.await {
                    Ok(None) => Ok(()),
                    Ok(Some(err)) => Err(err.into()),
                    Err(_) => Err(JobError::Other("the page writer stopped".into())),
                };
            }
            // The writer is gone (its runtime ended): write here.
            Err(mpsc::error::SendError(request)) => request.batch,
        };
        match write_batches(&self.sink(), vec![batch])
            .await
            .pop()
            .flatten()
        {
            Some(err) => Err(err.into()),
            None => Ok(()),
        }
    }
}

async fn run(sink: Sink, mut requests: mpsc::UnboundedReceiver<Request>) {
    while let Some(first) = requests.recv().await {
        let mut pages = first.batch.pages.len();
        let mut taken = vec![first];
        while pages < MAX_PAGES_PER_WRITE {
            match requests.try_recv() {
                Ok(request) => {
                    pages += request.batch.pages.len();
                    taken.push(request);
                }
                Err(_) => break,
            }
        }
        let (batches, dones): (Vec<Batch>, Vec<_>) =
            taken.into_iter().map(|r| (r.batch, r.done)).unzip();
        let failures = write_batches(&sink, batches).await;
        for (done, failure) in dones.into_iter().zip(failures) {
            // A job that gave up waiting has nothing to hear.
            let _ = done.send(failure);
        }
    }
}

/// Writes batches in one transaction ([`Store::store_pages`]: should it fail, page by
/// page); counts what was stored and hands new documents to the indexer (their text
/// moved, not copied: the batches end here). Returns each batch's first failure.
async fn write_batches(sink: &Sink, batches: Vec<Batch>) -> Vec<Option<StoreError>> {
    let ends: Vec<PageEnd<'_>> = batches
        .iter()
        .flat_map(|batch| {
            batch
                .pages
                .iter()
                .map(|page| page.end(&batch.active_versions))
        })
        .collect();
    let mut written = sink.store.store_pages(&ends).await.into_iter();
    drop(ends);
    let mut stored = false;
    let mut fresh = Vec::new();
    let mut failures = Vec::with_capacity(batches.len());
    for batch in batches {
        let mut failed = None;
        for page in batch.pages {
            match written.next() {
                Some(PageEndWritten::Stored(written)) => {
                    sink.counters.count_stored(written);
                    match page {
                        // A new document goes to the indexer in memory; an updated one
                        // (its older matches may still be open) is read back.
                        Processed::Kept(kept) if written.upsert == Upsert::New => {
                            fresh.push(kept.into_index_doc(written.document_id));
                        }
                        _ => stored = true,
                    }
                }
                Some(PageEndWritten::Finished) => {}
                Some(PageEndWritten::Failed(err)) => failed = Some(err),
                None => {
                    failed = Some(StoreError::Invalid("a page's write went unreported".into()));
                }
            }
        }
        failures.push(failed);
    }
    if !sink.fresh.offer(fresh) {
        stored = true;
    }
    if stored {
        sink.stored.notify_one();
    }
    failures
}
