//! `diembao bench scale`: the scale-out measured on this machine, in one run.
//!
//! A generated pack is served on loopback by this process. For each worker count N, a
//! scratch PostgreSQL database gets the pack's sources; one `diembao run --queues index`
//! (scheduler, index writer, web) and N `diembao worker --queues sources,pages`
//! processes crawl it; the clock stops when every page is stored and indexed. Then the
//! queue's own cost per job (no-op jobs) is measured on PostgreSQL and on SQLite.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::Serialize;

use diembao_core::config::Config;
use diembao_jobs::{Env, EnvOptions, QueueCost};

pub struct ScaleOptions {
    pub postgres: String,
    pub pages: usize,
    pub hosts: usize,
    pub workers: Vec<usize>,
    pub concurrency: usize,
    pub jobs: usize,
}

#[derive(Serialize)]
pub struct ScaleRun {
    pub workers: usize,
    pub concurrency_per_worker: usize,
    pub stored: u64,
    pub seconds_to_stored: f64,
    pub seconds_to_indexed: f64,
    pub pages_per_sec: f64,
}

#[derive(Serialize)]
pub struct ScaleBench {
    pub pages: usize,
    pub hosts: usize,
    pub cores: usize,
    pub runs: Vec<ScaleRun>,
    pub queue_cost: Vec<QueueCost>,
}

/// The URL of database `name` on the server of `url`.
fn database_url(url: &str, name: &str) -> Result<String> {
    let mut parsed = url::Url::parse(url).context("--postgres is not a URL")?;
    parsed.set_path(&format!("/{name}"));
    Ok(parsed.to_string())
}

async fn recreate_database(admin_url: &str, name: &str) -> Result<()> {
    use sqlx::Executor;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(admin_url)
        .await
        .with_context(|| format!("connecting to {admin_url}"))?;
    // `name` is ours (diembao_scale_…), never input: safe to splice.
    pool.execute(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .await?;
    pool.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await?;
    pool.close().await;
    Ok(())
}

/// The config the bench's processes share: loopback allowed, no politeness delay.
const BENCH_CONFIG: &str = "[crawl]\nallow_private_network = true\nper_host_delay_ms = 0\nper_host_concurrency = 8\nconcurrency = 64\n";

fn diembao(data_dir: &Path, url: &str) -> Result<Command> {
    let mut command = Command::new(std::env::current_exe()?);
    command
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--database-url")
        .arg(url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    Ok(command)
}

fn stop(children: &mut [Child]) {
    for child in children.iter_mut() {
        // SIGTERM through kill(1): the processes shut down their workers cleanly.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
    }
    for child in children.iter_mut() {
        let _ = child.wait();
    }
}

async fn one_run(
    options: &ScaleOptions,
    sources: &str,
    workers: usize,
    database: &str,
) -> Result<ScaleRun> {
    recreate_database(&options.postgres, database).await?;
    let url = database_url(&options.postgres, database)?;
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("diembao.toml"), BENCH_CONFIG)?;
    let sources_file = dir.path().join("sources.toml");
    std::fs::write(&sources_file, sources)?;
    let status = diembao(dir.path(), &url)?
        .args(["sources", "import"])
        .arg(&sources_file)
        .status()?;
    if !status.success() {
        bail!("sources import failed ({status})");
    }
    // Opened here only to watch the counts (no workers, no index writer).
    let env = Env::open(EnvOptions {
        data_dir: dir.path().join("watch"),
        database_url: url.clone(),
        config: Config::default(),
    })
    .await?;
    let started = Instant::now();
    let mut children = vec![
        diembao(dir.path(), &url)?
            .args(["run", "--queues", "index", "--addr", "127.0.0.1:0"])
            .spawn()?,
    ];
    for _ in 0..workers {
        children.push(
            diembao(dir.path(), &url)?
                .args(["worker", "--queues", "sources,pages", "--concurrency"])
                .arg(options.concurrency.to_string())
                .spawn()?,
        );
    }
    let deadline = started + Duration::from_secs(600);
    let mut stored_at = None;
    let mut stored = 0;
    let result = loop {
        if Instant::now() > deadline {
            break Err(anyhow::anyhow!(
                "{workers} workers: not done after 10 minutes ({stored} stored)"
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        stored = env.store.count_documents().await?;
        if stored as usize >= options.pages && stored_at.is_none() {
            stored_at = Some(started.elapsed());
        }
        if let Some(stored_at) = stored_at
            && env.store.count_unindexed().await? == 0
        {
            break Ok((stored_at, started.elapsed()));
        }
    };
    stop(&mut children);
    env.store.close().await;
    let (stored_at, indexed_at) = result?;
    eprintln!(
        "bench scale: {workers} worker(s): {stored} pages stored in {:.1} s, indexed in {:.1} s",
        stored_at.as_secs_f64(),
        indexed_at.as_secs_f64()
    );
    Ok(ScaleRun {
        workers,
        concurrency_per_worker: options.concurrency,
        stored,
        seconds_to_stored: stored_at.as_secs_f64(),
        seconds_to_indexed: indexed_at.as_secs_f64(),
        pages_per_sec: stored as f64 / stored_at.as_secs_f64(),
    })
}

pub async fn scale(options: ScaleOptions) -> Result<ScaleBench> {
    let sources = crate::bench::serve_pack(options.pages, options.hosts, false).await?;
    let mut runs = Vec::new();
    for &workers in &options.workers {
        let database = format!("diembao_scale_{workers}");
        runs.push(one_run(&options, &sources, workers, &database).await?);
        recreate_database(&options.postgres, &database).await?;
    }
    let mut queue_cost = Vec::new();
    {
        let database = "diembao_scale_queue";
        recreate_database(&options.postgres, database).await?;
        let dir = tempfile::tempdir()?;
        for url in [
            database_url(&options.postgres, database)?,
            format!("sqlite://{}", dir.path().join("queue.sqlite").display()),
        ] {
            let env = Env::open(EnvOptions {
                data_dir: dir.path().to_path_buf(),
                database_url: url,
                config: Config::default(),
            })
            .await?;
            queue_cost.push(diembao_jobs::queue_cost(&env.queue, options.jobs).await?);
            env.store.close().await;
        }
        recreate_database(&options.postgres, database).await?;
    }
    Ok(ScaleBench {
        pages: options.pages,
        hosts: options.hosts,
        cores: std::thread::available_parallelism().map_or(1, usize::from),
        runs,
        queue_cost,
    })
}
