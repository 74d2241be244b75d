//! `diembao demo`: the bundled demo sites served on loopback, crawled into a fresh demo
//! data dir, and the web UI on top. Needs no network and nothing installed.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::{Context, Result};

use diembao_core::config::Config;
use diembao_core::source::parse_sources;
use diembao_jobs::{Env, EnvOptions};

use crate::{demo_pack, sitepack};

pub async fn run(data_dir: &Path, mut config: Config, addr: SocketAddr) -> Result<()> {
    let demo_dir = data_dir.join("demo");
    if demo_dir.exists() {
        std::fs::remove_dir_all(&demo_dir)
            .with_context(|| format!("clearing {}", demo_dir.display()))?;
    }
    std::fs::create_dir_all(&demo_dir)?;
    eprintln!("diembao demo: serving the demo sites on loopback…");
    let pack = sitepack::serve(demo_pack::FILES).await?;
    let sources_toml = demo_pack::FILES
        .iter()
        .find(|(path, _)| *path == "sources.toml")
        .map(|(_, bytes)| sitepack::substitute(bytes, &pack.origins, ""))
        .context("demo sources.toml missing")?;
    let sources_text = String::from_utf8(sources_toml).context("demo sources.toml is not UTF-8")?;
    let parsed = parse_sources(&sources_text);
    anyhow::ensure!(
        parsed.errors.is_empty(),
        "demo sources.toml: {:?}",
        parsed.errors
    );

    // The demo sites live on loopback; politeness delays are kept short for a quick start.
    config.crawl.allow_private_network = true;
    config.crawl.per_host_delay_ms = 50;
    let database_url = format!("sqlite://{}", demo_dir.join("diembao.sqlite").display());
    let env = Env::open(EnvOptions {
        data_dir: demo_dir.clone(),
        database_url,
        config,
    })
    .await?;
    for spec in &parsed.sources {
        env.store.upsert_source(spec).await?;
    }
    eprintln!("diembao demo: crawling {} sources…", parsed.sources.len());
    let summary = env.crawl_once(8, |_, _| {}).await?;
    eprintln!(
        "diembao demo: {} documents stored ({} skipped by robots.txt, {} failed), {} indexed",
        summary.new,
        summary.skipped_robots,
        summary.failed.values().sum::<u64>(),
        summary.indexed
    );
    eprintln!("diembao demo: open http://{addr}/search?q=chuyen+doi+so  (Ctrl-C to stop)");
    println!("http://{addr}/");
    diembao_web::serve(
        env,
        addr,
        // The demo is a local, read-and-review sandbox: no accounts needed.
        diembao_web::Access::Open {
            user: "demo".into(),
            role: "reviewer".into(),
        },
        async {
            let _ = tokio::signal::ctrl_c().await;
        },
    )
    .await
    .with_context(|| format!("serving the web UI at {addr}"))?;
    Ok(())
}
