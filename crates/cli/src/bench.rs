//! `diembao bench`: speed figures measured side by side in one run (never a timed test).
//!
//! `bench crawl` generates a pack of article pages over many loopback hosts, crawls it
//! through the whole pipeline (queue → fetch → extract → store → index → tag) with
//! politeness delays off, then runs extraction alone over the same pages, and reports
//! both rates, their ratio and the peak resident memory.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use chrono::Utc;
use serde::{Deserialize, Serialize};

use diembao_core::config::Config;
use diembao_jobs::{Env, EnvOptions};

const SYLLABLES: &[&str] = &[
    "chuyển",
    "đổi",
    "số",
    "tỉnh",
    "Ninh",
    "Thuận",
    "người",
    "dân",
    "công",
    "tác",
    "phát",
    "triển",
    "kinh",
    "tế",
    "xã",
    "hội",
    "năm",
    "2023",
    "huyện",
    "thành",
    "phố",
    "Phan",
    "Rang",
    "du",
    "lịch",
    "biển",
    "nông",
    "nghiệp",
    "nho",
    "táo",
    "điện",
    "gió",
    "mặt",
    "trời",
    "an",
    "toàn",
    "thông",
    "tin",
    "giáo",
    "dục",
    "y",
    "tế",
    "bệnh",
    "viện",
    "học",
    "sinh",
    "đường",
    "giao",
    "thông",
    "chính",
    "quyền",
    "cán",
    "bộ",
    "tổ",
    "chức",
    "hoạt",
    "động",
    "được",
    "của",
    "và",
    "các",
    "những",
    "trong",
    "cho",
    "với",
    "đã",
    "sẽ",
    "đang",
    "theo",
    "này",
    "một",
    "có",
    "không",
];

/// A deterministic pseudo-random generator for the benches' generated data (no
/// dependency, reproducible figures).
pub(crate) struct Lcg(pub(crate) u64);

impl Lcg {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn words(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| SYLLABLES[self.next() as usize % SYLLABLES.len()])
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// One generated article page (about 6 KB of HTML with navigation and footer boilerplate).
pub fn article_page(host: usize, page: usize) -> String {
    let mut rng = Lcg((host as u64) << 32 | page as u64);
    let title = rng.words(10);
    let mut paragraphs: String = (0..8)
        .map(|_| format!("<p>{}.</p>", rng.words(60)))
        .collect();
    // One page in 25 carries what the bench's rules look for (gambling advertising).
    if page % 25 == 7 {
        paragraphs.push_str("<p>Nhà cái uy tín, đăng ký ngay để nhận khuyến mãi nạp lần đầu.</p>");
    }
    let nav: String = (0..15)
        .map(|i| format!("<li><a href=\"/muc-{i}/\">{}</a></li>", rng.words(2)))
        .collect();
    let related: String = (0..5)
        .map(|i| format!("<li><a href=\"/bai-{i}.html\">{}</a></li>", rng.words(8)))
        .collect();
    let day = 1 + page % 28;
    format!(
        "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\"><title>{title} - Báo Số {host}</title>\
         <meta property=\"article:published_time\" content=\"2023-03-{day:02}T08:15:00+07:00\"></head><body>\
         <header><nav><ul>{nav}</ul></nav></header><main><article><h1>{title}</h1><p class=\"byline\">Phóng viên {host}</p>\
         <div class=\"content\">{paragraphs}</div></article><aside><h3>Tin liên quan</h3><ul>{related}</ul></aside></main>\
         <footer><p>© 2023 Báo Số {host}. Giấy phép số {host}/GP-BTTTT.</p></footer></body></html>"
    )
}

/// The rules the bench tags with (the pipeline's tagging is real work, not a no-op).
pub const BENCH_RULES: &str = r#"
[[rule]]
id = "gambling-betting"
category = "gambling"
severity = "high"
query = '("nhà cái" OR "cá độ") NEAR/10 ("đăng ký" OR nạp OR "khuyến mãi")'

[[rule]]
id = "scam-prize"
category = "fraud"
severity = "medium"
query = '"trúng thưởng" NEAR/12 ("phí nhận" OR "chuyển khoản")'
"#;

struct Site {
    host: usize,
    pages: usize,
    origin: String,
    /// The pages rendered once, up front (a static site), when asked for.
    rendered: Option<Vec<axum::body::Bytes>>,
}

async fn serve_page(State(site): State<Arc<Site>>, Path(name): Path<String>) -> impl IntoResponse {
    if name == "sitemap.xml" {
        let urls: String = (0..site.pages)
            .map(|p| format!("<url><loc>{}/bai-{p}.html</loc></url>", site.origin))
            .collect();
        return (
            [(header::CONTENT_TYPE, "application/xml")],
            axum::body::Bytes::from(format!(
                "<?xml version=\"1.0\"?><urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">{urls}</urlset>"
            )),
        );
    }
    let page = name
        .trim_start_matches("bai-")
        .trim_end_matches(".html")
        .parse()
        .unwrap_or(0);
    let body = match site.rendered.as_ref().and_then(|pages| pages.get(page)) {
        Some(rendered) => rendered.clone(),
        None => axum::body::Bytes::from(article_page(site.host, page)),
    };
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body)
}

/// The pages of each host of a pack of `pages` pages over `hosts` hosts.
fn pack_layout(pages: usize, hosts: usize) -> Vec<Vec<usize>> {
    let hosts = hosts.max(1);
    let per_host = pages.div_ceil(hosts);
    (0..hosts)
        .map(|host| {
            let count = per_host.min(pages - (host * per_host).min(pages));
            (0..count).collect()
        })
        .collect()
}

/// A generated pack served on loopback: `pages` article pages spread over `hosts` sites
/// (one port each, so each is its own host for politeness), each with a sitemap. Pages
/// are generated on request (the pack costs no memory), or once up front with
/// `prerender` (a static site, cheaper per request). Returns the `sources.toml` that
/// lists the sites.
pub async fn serve_pack(pages: usize, hosts: usize, prerender: bool) -> Result<String> {
    let mut sources = String::new();
    for (host, host_pages) in pack_layout(pages, hosts).into_iter().enumerate() {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let origin = format!("http://{}", listener.local_addr()?);
        sources.push_str(&format!("[[source]]\nname = \"Báo Số {host}\"\nkind = \"sitemap\"\nurl = \"{origin}/sitemap.xml\"\nevery = \"1h\"\n\n"));
        let rendered = prerender.then(|| {
            host_pages
                .iter()
                .map(|page| axum::body::Bytes::from(article_page(host, *page)))
                .collect()
        });
        let site = Arc::new(Site {
            host,
            pages: host_pages.len(),
            origin,
            rendered,
        });
        let app = axum::Router::new()
            .route("/{name}", axum::routing::get(serve_page))
            .with_state(site);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
    }
    Ok(sources)
}

/// `bench pack`: serve a generated pack until interrupted (for scale-out tests and runs).
pub async fn pack(
    pages: usize,
    hosts: usize,
    prerender: bool,
    sources_out: &std::path::Path,
) -> Result<()> {
    let sources = serve_pack(pages, hosts, prerender).await?;
    // Written whole, then renamed: a reader never sees half a file.
    let tmp = sources_out.with_extension("tmp");
    std::fs::write(&tmp, sources)?;
    std::fs::rename(&tmp, sources_out)?;
    eprintln!(
        "bench pack: {pages} pages over {hosts} hosts; sources in {}",
        sources_out.display()
    );
    let _ = tokio::signal::ctrl_c().await;
    Ok(())
}

#[derive(Serialize, Deserialize)]
pub struct CrawlBench {
    pub pages: usize,
    pub hosts: usize,
    pub stored: u64,
    pub tagged_candidates: u64,
    pub pipeline_seconds: f64,
    /// When every page was stored (seen within 0.1 s); the rest is indexing's tail.
    pub stored_seconds: f64,
    pub pipeline_pages_per_sec: f64,
    /// `diembao extract FILE… --json` over the same pages saved as files, in one run
    /// (the issue's measure of extraction alone), wall clock.
    pub extract_seconds: f64,
    pub extract_pages_per_sec: f64,
    /// The pipeline's rate over the `diembao extract` run's.
    pub ratio: f64,
    /// The extraction function alone, in this process, timed call by call (no file
    /// reading, no JSON): the stricter measure, also reported.
    pub extract_fn_pages_per_sec: f64,
    pub ratio_to_extract_fn: f64,
    pub peak_rss_mb: f64,
    /// CPU seconds of the pipeline (user + system, the whole process up to the end of
    /// the crawl), and of its living threads by name: where the pipeline's time goes.
    pub pipeline_cpu_seconds: f64,
    pub pipeline_cpu_by_thread: std::collections::BTreeMap<String, f64>,
    /// CPU seconds (user + system) the process serving the sites used during the crawl:
    /// on loopback it shares the machine's cores with the pipeline.
    #[serde(default)]
    pub sites_cpu_seconds: f64,
    /// CPU seconds (user + system) of the `diembao extract` run.
    pub extract_cpu_seconds: f64,
    /// Extraction's CPU time a page over the pipeline's: the share of the pipeline's
    /// work a page that extraction alone is. Unlike `ratio`, it does not move with how
    /// many cores the pipeline gets, and little with the machine's speed of the moment.
    pub extract_share_of_cpu: f64,
    /// With `--rounds N` (N > 1): every round's figures, in the order run. The fields
    /// above are then the round whose ratio is the median.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rounds: Vec<RoundFigures>,
}

/// One round of `bench crawl --rounds N`.
#[derive(Serialize, Deserialize)]
pub struct RoundFigures {
    pub pipeline_pages_per_sec: f64,
    pub extract_pages_per_sec: f64,
    pub ratio: f64,
    pub peak_rss_mb: f64,
    pub pipeline_cpu_seconds: f64,
    pub sites_cpu_seconds: f64,
    pub extract_share_of_cpu: f64,
}

/// `bench crawl` `rounds` times, each in a process of its own (this very binary, one
/// round: its memory and CPU figures are its own), one after the other. The speed of
/// this kind of machine drifts by ±15 % from one minute to the next, and one round's
/// pipeline and extraction runs are seconds apart: the median of several paired rounds
/// says more than any one. Returns the median round by ratio (the lower middle one of
/// an even number), with every round's figures.
pub fn crawl_rounds(
    rounds: usize,
    pages: usize,
    hosts: usize,
    concurrency: usize,
) -> Result<CrawlBench> {
    let exe = std::env::current_exe()?;
    let mut runs = Vec::with_capacity(rounds);
    for round in 1..=rounds {
        eprintln!("bench: round {round} of {rounds}…");
        let output = std::process::Command::new(&exe)
            .args(["bench", "crawl", "--pages"])
            .arg(pages.to_string())
            .arg("--hosts")
            .arg(hosts.to_string())
            .arg("--concurrency")
            .arg(concurrency.to_string())
            .stderr(std::process::Stdio::inherit())
            .output()?;
        if !output.status.success() {
            anyhow::bail!("bench crawl round {round} failed: {}", output.status);
        }
        let run: CrawlBench = serde_json::from_slice(&output.stdout).map_err(|err| {
            anyhow::anyhow!("bench crawl round {round}: unreadable output: {err}")
        })?;
        eprintln!(
            "bench: round {round}: pipeline {:.0} pages/s, extract {:.0} pages/s, ratio {:.3}",
            run.pipeline_pages_per_sec, run.extract_pages_per_sec, run.ratio
        );
        runs.push(run);
    }
    let figures: Vec<RoundFigures> = runs
        .iter()
        .map(|run| RoundFigures {
            pipeline_pages_per_sec: run.pipeline_pages_per_sec,
            extract_pages_per_sec: run.extract_pages_per_sec,
            ratio: run.ratio,
            peak_rss_mb: run.peak_rss_mb,
            pipeline_cpu_seconds: run.pipeline_cpu_seconds,
            sites_cpu_seconds: run.sites_cpu_seconds,
            extract_share_of_cpu: run.extract_share_of_cpu,
        })
        .collect();
    runs.sort_by(|a, b| a.ratio.total_cmp(&b.ratio));
    // (Of an even number of rounds, the lower of the middle two: never the kinder.)
    let mut median = runs.swap_remove((runs.len() - 1) / 2);
    median.rounds = figures;
    Ok(median)
}

/// Clock ticks a second of `/proc`'s CPU times.
const TICKS_PER_SEC: f64 = 100.0;

/// The name in a `/proc/…/stat` line, and the sum of two of its numeric fields, counted
/// from 0 after the parenthesised name (the name may hold spaces and parentheses).
fn stat_sum(stat: &str, a: usize, b: usize) -> Option<(String, u64)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let name = stat.get(open + 1..close)?.to_string();
    let fields: Vec<&str> = stat.get(close + 2..)?.split_whitespace().collect();
    let first: u64 = fields.get(a)?.parse().ok()?;
    let second: u64 = fields.get(b)?.parse().ok()?;
    Some((name, first + second))
}

/// Fields of a `/proc/…/stat` line in [`stat_sum`]'s numbering (14 to 17 in proc(5)'s):
/// user and system time, and those of the children waited for.
const USER_TIME: usize = 11;
const SYSTEM_TIME: usize = 12;
const CHILDREN_USER_TIME: usize = 13;
const CHILDREN_SYSTEM_TIME: usize = 14;

/// The name and CPU ticks (user + system) in a `/proc/…/stat` line.
fn stat_ticks(stat: &str) -> Option<(String, u64)> {
    stat_sum(stat, USER_TIME, SYSTEM_TIME)
}

/// Seconds in the sum of two clock-tick fields of `/proc/PID/stat` ([`stat_sum`]'s
/// numbering; PID "self" for this process), 0 where there is no such file (not Linux).
fn proc_stat_seconds(pid: &str, a: usize, b: usize) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| stat_sum(&s, a, b))
        .map_or(0.0, |(_, t)| t as f64 / TICKS_PER_SEC)
}

/// CPU seconds (user + system) of this process's children that have ended and been
/// waited for: fields 16 and 17 of `/proc/self/stat` (Linux; 0 elsewhere).
fn children_cpu_seconds() -> f64 {
    proc_stat_seconds("self", CHILDREN_USER_TIME, CHILDREN_SYSTEM_TIME)
}

/// CPU seconds (user + system) of this process, from /proc (Linux; 0 elsewhere).
fn process_cpu_seconds() -> f64 {
    cpu_seconds_of("self")
}

/// CPU seconds (user + system) of process `pid` ("self" for this one), from /proc
/// (Linux; 0 elsewhere).
fn cpu_seconds_of(pid: &str) -> f64 {
    proc_stat_seconds(pid, USER_TIME, SYSTEM_TIME)
}

/// CPU seconds (user + system) of this process, and of each of its living threads by
/// name, from /proc (Linux; empty elsewhere).
fn cpu_seconds() -> (f64, std::collections::BTreeMap<String, f64>) {
    let total = process_cpu_seconds();
    let mut by_thread = std::collections::BTreeMap::new();
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        for task in tasks.flatten() {
            if let Some((name, t)) = std::fs::read_to_string(task.path().join("stat"))
                .ok()
                .and_then(|s| stat_ticks(&s))
            {
                *by_thread.entry(name).or_insert(0.0) += t as f64 / TICKS_PER_SEC;
            }
        }
    }
    (total, by_thread)
}

/// Peak resident set size of this process, from /proc (Linux).
pub fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// `bench pack` in a process of its own, killed when dropped.
struct PackProcess(std::process::Child);

impl Drop for PackProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `diembao bench pack --prerender` (this very binary) and waits for its
/// `sources.toml`: the sites are served by another process, as real sites are, so the
/// pipeline's memory and CPU figures are its own.
fn start_pack_process(
    pages: usize,
    hosts: usize,
    dir: &std::path::Path,
) -> Result<(PackProcess, String)> {
    let sources_out = dir.join("sources.toml");
    let child = std::process::Command::new(std::env::current_exe()?)
        .args(["bench", "pack", "--prerender", "--pages"])
        .arg(pages.to_string())
        .arg("--hosts")
        .arg(hosts.to_string())
        .arg("--sources-out")
        .arg(&sources_out)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let mut child = PackProcess(child);
    let started = Instant::now();
    loop {
        if let Ok(sources) = std::fs::read_to_string(&sources_out) {
            return Ok((child, sources));
        }
        if let Some(status) = child.0.try_wait()? {
            anyhow::bail!("`diembao bench pack` ended before serving: {status}");
        }
        if started.elapsed() > std::time::Duration::from_secs(120) {
            anyhow::bail!("`diembao bench pack` did not start serving within 120 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

pub async fn crawl(pages: usize, hosts: usize, concurrency: usize) -> Result<CrawlBench> {
    let dir = tempfile::tempdir()?;
    let (pack, sources) = start_pack_process(pages, hosts, dir.path())?;
    let pack_pid = pack.0.id().to_string();
    let served: Vec<(usize, usize)> = pack_layout(pages, hosts)
        .into_iter()
        .enumerate()
        .flat_map(|(host, pages)| pages.into_iter().map(move |page| (host, page)))
        .collect();
    let mut config = Config::default();
    config.crawl.allow_private_network = true;
    config.crawl.per_host_delay_ms = 0;
    config.crawl.per_host_concurrency = 8;
    config.crawl.concurrency = concurrency.max(1) * 2;
    let database_url = format!("sqlite://{}", dir.path().join("bench.sqlite").display());
    let env = Env::open(EnvOptions {
        data_dir: dir.path().to_path_buf(),
        database_url,
        config,
    })
    .await?;
    for spec in diembao_core::source::parse_sources(&sources).sources {
        env.store.upsert_source(&spec).await?;
    }
    let sha = diembao_store::content_hash("bench", BENCH_RULES);
    env.store
        .import_rule_version("bench", BENCH_RULES, &sha, "bench")
        .await?;
    eprintln!("bench: crawling {} pages over {hosts} hosts…", served.len());
    let pack_cpu_before = cpu_seconds_of(&pack_pid);
    let started = Instant::now();
    // When the last page was stored (the rest of the run is the indexer catching up).
    let stored_at = std::sync::Mutex::new(None);
    let summary = env
        .crawl_once(concurrency, |summary, outstanding| {
            if std::env::var_os("DIEMBAO_BENCH_TRACE").is_some() {
                eprintln!(
                    "{:.3}s cpu {:.2} sources {} jobs {outstanding} fetched {} new {} indexed {}",
                    started.elapsed().as_secs_f64(),
                    process_cpu_seconds(),
                    summary.sources,
                    summary.fetched,
                    summary.new,
                    summary.indexed
                );
            }
            if summary.new as usize >= served.len() {
                let mut at = stored_at.lock().unwrap_or_else(|p| p.into_inner());
                at.get_or_insert(started.elapsed().as_secs_f64());
            }
        })
        .await?;
    let (pipeline_cpu_seconds, pipeline_cpu_by_thread) = cpu_seconds();
    let sites_cpu_seconds = cpu_seconds_of(&pack_pid) - pack_cpu_before;
    drop(pack);
    let stored_seconds = stored_at
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .unwrap_or(f64::NAN);
    let pipeline_seconds = started.elapsed().as_secs_f64();
    let stored = summary.new;
    let tagged_candidates = env
        .store
        .candidates(&diembao_store::CandidateFilter::default())
        .await?
        .len() as u64;

    eprintln!("bench: extraction only over the same pages…");
    let extract_fn_rate = extract_in_process(&served)?;
    let children_before = children_cpu_seconds();
    let (extracted, extract_seconds) = extract_command(&served)?;
    let extract_cpu_seconds = children_cpu_seconds() - children_before;
    let pipeline_rate = stored as f64 / pipeline_seconds;
    let extract_rate = extracted as f64 / extract_seconds;
    Ok(CrawlBench {
        pages: served.len(),
        hosts,
        stored,
        tagged_candidates,
        pipeline_seconds,
        stored_seconds,
        pipeline_pages_per_sec: pipeline_rate,
        extract_seconds,
        extract_pages_per_sec: extract_rate,
        ratio: pipeline_rate / extract_rate,
        extract_fn_pages_per_sec: extract_fn_rate,
        ratio_to_extract_fn: pipeline_rate / extract_fn_rate,
        peak_rss_mb: peak_rss_mb(),
        pipeline_cpu_seconds,
        pipeline_cpu_by_thread,
        sites_cpu_seconds,
        extract_cpu_seconds,
        extract_share_of_cpu: (extract_cpu_seconds / extracted.max(1) as f64)
            / (pipeline_cpu_seconds / stored.max(1) as f64),
        rounds: Vec::new(),
    })
}

/// The URL a generated page is served at in [`extract_in_process`] (any origin will do).
fn page_url(host: usize, page: usize) -> Result<url::Url> {
    Ok(url::Url::parse(&format!(
        "http://127.0.0.1:8000/{host}/bai-{page}.html"
    ))?)
}

/// Pages per second of the extraction function called in this process, timing only the
/// calls (pages are generated outside the timed part).
fn extract_in_process(served: &[(usize, usize)]) -> Result<f64> {
    let fetched_at = Utc::now();
    let mut extracted = 0usize;
    let mut extract_time = std::time::Duration::ZERO;
    for (host, page) in served {
        let body = article_page(*host, *page).into_bytes();
        let url = page_url(*host, *page)?;
        let started = Instant::now();
        let input = diembao_crawl::extract::ExtractInput {
            body: &body,
            url: &url,
            content_type: Some("text/html; charset=utf-8"),
            fetched_at,
        };
        if diembao_crawl::extract::extract(&input).is_ok() {
            extracted += 1;
        }
        extract_time += started.elapsed();
    }
    Ok(extracted as f64 / extract_time.as_secs_f64())
}

/// Most bytes of file names one `diembao extract` is given (the kernel limits a
/// command line; a larger pack runs in several parts, their times added).
const ARGS_PER_RUN: usize = 512 * 1024;

/// `diembao extract FILE… --json` (this very binary) over the pages saved as files,
/// output to /dev/null: how many pages it extracted and its wall-clock seconds. Writing
/// the files is not timed (freshly written, they are in the page cache).
fn extract_command(served: &[(usize, usize)]) -> Result<(usize, f64)> {
    let dir = tempfile::tempdir()?;
    let mut names = Vec::with_capacity(served.len());
    for (host, page) in served {
        let name = format!("{host}-{page}.html");
        std::fs::write(dir.path().join(&name), article_page(*host, *page))?;
        names.push(name);
    }
    let exe = std::env::current_exe()?;
    let mut runs: Vec<Vec<&str>> = vec![Vec::new()];
    let mut bytes = 0;
    for name in &names {
        if bytes + name.len() + 1 > ARGS_PER_RUN {
            runs.push(Vec::new());
            bytes = 0;
        }
        bytes += name.len() + 1;
        if let Some(run) = runs.last_mut() {
            run.push(name);
        }
    }
    let mut seconds = 0.0;
    for run in &runs {
        let started = Instant::now();
        let status = std::process::Command::new(&exe)
            .arg("extract")
            .args(run)
            .arg("--json")
            .current_dir(dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()?;
        seconds += started.elapsed().as_secs_f64();
        if !status.success() {
            anyhow::bail!("`diembao extract` over the bench pages failed: {status}");
        }
    }
    Ok((names.len(), seconds))
}
