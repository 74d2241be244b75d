//! A small pool of threads for the crawler's CPU-heavy steps (extraction, tagging,
//! hashing), apart from the async runtime's workers.
//!
//! Why not on the runtime: a page's extraction takes a tenth of a millisecond or more, and
//! a busy crawl has dozens ready at once. On the runtime's workers they queue ahead of
//! everything else, among them the batch write that holds SQLite's one write turn: each of
//! its statements is a round trip to the database thread, and each return waited behind
//! that queue (measured on two cores: the turn held 8 ms a batch, the writes serialised
//! for most of the run). Here the runtime's workers stay free for I/O and the writes, and
//! the operating system shares the cores between the two.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

type Job = Box<dyn FnOnce() + Send + 'static>;

/// The pool; its threads end when it is dropped.
pub struct CpuPool {
    jobs: mpsc::Sender<Job>,
}

/// A job that panicked (its result is lost; the thread goes on with the next).
#[derive(Debug, thiserror::Error)]
#[error("a CPU job panicked: {0}")]
pub struct Panicked(String);

impl CpuPool {
    /// A pool of `threads` threads (at least one), named `diembao-cpu`.
    pub fn new(threads: usize) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for _ in 0..threads.max(1) {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name("diembao-cpu".into())
                .spawn(move || {
                    loop {
                        // The lock is held only to take a job, never while running one.
                        let job = match rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(poisoned) => poisoned.into_inner().recv(),
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                })?;
        }
        Ok(Self { jobs: tx })
    }

    /// A pool with a thread per core but one, which is left to the async runtime (the
    /// fetches and writes), SQLite's connection thread and the indexer: on this 2-core
    /// machine one pool thread crawled about 10 % faster than two (`bench crawl`,
    /// alternating runs, 2,810 against 2,560 pages/s on average), the threads no longer
    /// taking the cores from each other.
    pub fn all_cores_but_one() -> std::io::Result<Self> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self::new(cores.saturating_sub(1).max(1))
    }

    /// Runs `f` on the pool and waits for its result (without blocking the runtime).
    pub async fn run<T, F>(&self, f: F) -> Result<T, Panicked>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
                .map_err(|panic| Panicked(panic_message(panic.as_ref())));
            let _ = done.send(outcome);
        });
        if self.jobs.send(job).is_err() {
            return Err(Panicked("the pool has stopped".into()));
        }
        result
            .await
            .map_err(|_| Panicked("the pool has stopped".into()))?
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_jobs_and_survives_a_panicking_one() {
        let pool = CpuPool::new(2).expect("pool");
        let sum = pool.run(|| (1..=10).sum::<u32>()).await.expect("sum");
        assert_eq!(sum, 55);
        let err = pool
            .run(|| -> u32 { panic!("bad page") })
            .await
            .expect_err("panicked");
        assert!(err.to_string().contains("bad page"), "{err}");
        // The threads go on.
        let many = futures::future::join_all((0..20u32).map(|i| pool.run(move || i * 2))).await;
        let total: u32 = many.into_iter().map(|r| r.expect("ran")).sum();
        assert_eq!(total, 380);
    }
}
