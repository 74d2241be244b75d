//! Scale-out on PostgreSQL: four `worker` processes and one index writer crawl a
//! generated 5,000-page pack; every page is stored, indexed and tagged exactly once,
//! also when a worker is killed with -9 mid-run and started again.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::harness::{BIN, World, jsonl};

const PAGES: usize = 5_000;
const HOSTS: usize = 20;
const WORKERS: usize = 4;

/// The two scale-out tests each start six processes that want both cores: run together
/// (and beside the rest of the suite) they only measure the machine's overload. One at
/// a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Children killed when the test ends, however it ends.
struct Processes(Vec<Child>);

impl Drop for Processes {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn postgres_only() -> bool {
    if std::env::var("DIEMBAO_TEST_DATABASE_URL").is_ok() {
        return true;
    }
    eprintln!("skipped: the scale-out test runs on PostgreSQL (DIEMBAO_TEST_DATABASE_URL)");
    false
}

fn wait_for_file(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts a diembao process whose log goes to `log` (shown when the test fails).
fn spawn(world: &World, args: &[&str], log: &Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("open the process log");
    world
        .cmd()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("spawn diembao")
}

fn worker(world: &World, n: usize) -> Child {
    spawn(
        world,
        &["worker", "--queues", "sources,pages", "--concurrency", "8"],
        &world.data_dir().join(format!("worker-{n}.log")),
    )
}

/// The last lines of every process log, for a failure message.
fn log_tails(logs: &[PathBuf]) -> String {
    let mut out = String::new();
    for log in logs {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let errors: Vec<&str> = lines
            .iter()
            .filter(|l| l.contains("ERROR") || l.contains("WARN"))
            .copied()
            .collect();
        out.push_str(&format!(
            "\n--- {} ({} lines, {} warnings or errors; the last of them and the last lines)\n",
            log.display(),
            lines.len(),
            errors.len()
        ));
        for line in errors.iter().rev().take(10).rev() {
            out.push_str(line);
            out.push('\n');
        }
        out.push_str("…\n");
        for line in lines.iter().rev().take(10).rev() {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

fn status(world: &World) -> serde_json::Value {
    let out = world.run(&["check", "--json"]);
    serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
}

fn scale_out(kill_one: bool) {
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let world = World::new();
    let dir = world.data_dir().to_path_buf();
    std::fs::write(
        dir.join("diembao.toml"),
        "[crawl]\nallow_private_network = true\nper_host_delay_ms = 0\nper_host_concurrency = 8\nrequeue_after_secs = 60\n",
    )
    .expect("config");
    let sources = dir.join("pack-sources.toml");
    let rules = dir.join("pack-rules.toml");
    let mut processes = Processes(vec![
        std::process::Command::new(BIN)
            .args(["bench", "pack", "--pages", &PAGES.to_string()])
            .args(["--hosts", &HOSTS.to_string(), "--sources-out"])
            .arg(&sources)
            .arg("--rules-out")
            .arg(&rules)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn the pack"),
    ]);
    wait_for_file(&sources);
    wait_for_file(&rules);
    world.ok(&["sources", "import", sources.to_str().expect("utf-8 path")]);
    world.ok(&["rules", "import", rules.to_str().expect("utf-8 path")]);

    // One process holds the index writer (and schedules); four crawl.
    processes.0.push(spawn(
        &world,
        &["run", "--queues", "index", "--addr", "127.0.0.1:0"],
        &dir.join("run.log"),
    ));
    let first_worker = processes.0.len();
    for n in 0..WORKERS {
        processes.0.push(worker(&world, n));
    }
    let mut logs = vec![dir.join("run.log")];
    logs.extend((0..WORKERS).map(|n| dir.join(format!("worker-{n}.log"))));

    let deadline = Instant::now() + Duration::from_secs(420);
    let mut killed = !kill_one;
    let mut stored_when_killed = 0;
    loop {
        let status = status(&world);
        let stored = status["stored"].as_u64().unwrap_or(0);
        if !killed && stored >= 1_000 {
            let victim = &mut processes.0[first_worker];
            victim.kill().expect("kill -9 a worker");
            let exit = victim.wait().expect("wait");
            assert!(!exit.success(), "the worker was meant to die");
            processes.0[first_worker] = worker(&world, 0);
            killed = true;
            stored_when_killed = stored;
        }
        let done = [
            status["stored"].as_u64(),
            status["indexed"].as_u64(),
            status["tagged"].as_u64(),
        ] == [Some(PAGES as u64); 3]
            && status["pending"] == 0;
        if done {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not done in time (killed a worker: {kill_one}): {status}\nsources: {}\n{}",
            String::from_utf8_lossy(&world.run(&["sources", "list", "--json"]).stdout),
            log_tails(&logs)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    if kill_one {
        assert!(
            stored_when_killed < PAGES as u64,
            "the worker was killed only after the crawl had finished"
        );
    }

    // Exactly once: one document per page, one candidate per page that carries the
    // rules' words (one page in 25: see `bench pack`).
    let docs = jsonl(&world.ok(&["export", "--jsonl"]));
    assert_eq!(docs.len(), PAGES);
    let urls: HashSet<&str> = docs
        .iter()
        .map(|d| d["canonical_url"].as_str().expect("canonical_url"))
        .collect();
    assert_eq!(urls.len(), PAGES, "a page was stored twice");
    let candidates: serde_json::Value =
        serde_json::from_str(&world.ok(&["candidates", "list", "--json"])).expect("json");
    let candidates = candidates.as_array().expect("a list of candidates");
    let per_host = PAGES.div_ceil(HOSTS);
    let expected = HOSTS * (0..per_host).filter(|p| p % 25 == 7).count();
    assert_eq!(candidates.len(), expected);
    let documents: HashSet<&str> = candidates
        .iter()
        .map(|c| c["url"].as_str().expect("url"))
        .collect();
    assert_eq!(
        documents.len(),
        expected,
        "a document was made a candidate twice"
    );
    for candidate in candidates {
        assert_eq!(
            candidate["rules"],
            serde_json::json!(["gambling-betting"]),
            "{candidate}"
        );
    }
}

#[test]
fn four_workers_and_one_indexer_store_index_and_tag_every_page_once() {
    if postgres_only() {
        scale_out(false);
    }
}

#[test]
fn a_worker_killed_with_9_mid_run_loses_and_doubles_nothing() {
    if postgres_only() {
        scale_out(true);
    }
}

/// `bench crawl --rounds N` runs N paired rounds (pipeline, then extraction alone) and
/// reports the median one, listing every round: every round stores and tags the whole
/// generated pack.
#[test]
fn bench_crawl_reports_the_median_of_its_rounds() {
    if std::env::var("DIEMBAO_TEST_DATABASE_URL").is_ok() {
        eprintln!("skipped: bench crawl measures the embedded default (SQLite) only");
        return;
    }
    const BENCH_PAGES: usize = 250;
    let out = std::process::Command::new(BIN)
        .args(["bench", "crawl", "--pages", &BENCH_PAGES.to_string()])
        .args(["--hosts", "5", "--rounds", "3"])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .expect("run diembao bench crawl");
    assert!(
        out.status.success(),
        "bench crawl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(report["stored"], BENCH_PAGES, "{report}");
    // One page in 25 trips the bench rules.
    assert_eq!(report["tagged_candidates"], BENCH_PAGES / 25, "{report}");
    let rounds = report["rounds"].as_array().expect("rounds listed");
    assert_eq!(rounds.len(), 3, "{report}");
    let mut ratios: Vec<f64> = rounds
        .iter()
        .map(|r| r["ratio"].as_f64().expect("a round's ratio"))
        .collect();
    assert!(ratios.iter().all(|r| r.is_finite() && *r > 0.0), "{report}");
    // Extraction's share of the pipeline's CPU a page: some, never all of it.
    for round in rounds {
        let share = round["extract_share_of_cpu"]
            .as_f64()
            .expect("a round's share");
        assert!(share > 0.0 && share < 1.0, "{report}");
        // The sites' own CPU is reported apart (their process is not the pipeline's).
        let sites = round["sites_cpu_seconds"]
            .as_f64()
            .expect("a round's sites CPU");
        assert!(sites >= 0.0 && sites.is_finite(), "{report}");
    }
    ratios.sort_by(f64::total_cmp);
    assert_eq!(report["ratio"].as_f64(), Some(ratios[1]), "{report}");
    // Refused, not run: zero rounds.
    let zero = std::process::Command::new(BIN)
        .args(["bench", "crawl", "--rounds", "0"])
        .output()
        .expect("run diembao");
    assert_eq!(zero.status.code(), Some(2));
}
