//! Replays every input the fuzzers (`crates/crawl/fuzz`) ever found a crash,
//! timeout or memory blow-up with, through the same entry points the fuzz
//! targets use: `tests/fuzz-regressions/extract/*` as pages,
//! `tests/fuzz-regressions/dates/*` as date strings. Each must come back with
//! a result or a clear error, never a panic, and in bounded time.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::Datelike;
use diembao_crawl::extract::fuzzing::{dates_bytes, extract_bytes};

/// Generous per-input bound (debug build, shared CI machine); the inputs
/// that were timeouts took minutes or ran out of memory before their fix.
const PER_INPUT: Duration = Duration::from_secs(30);

fn inputs(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz-regressions")
        .join(kind);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != "README.md"))
        .collect();
    files.sort();
    files
}

fn replay(kind: &str, run: impl Fn(&[u8]) -> Result<(), String> + std::panic::RefUnwindSafe) {
    let files = inputs(kind);
    assert!(!files.is_empty(), "no {kind} regression inputs");
    let mut failures = Vec::new();
    for file in &files {
        let data = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let start = Instant::now();
        let outcome = std::panic::catch_unwind(|| run(&data));
        let took = start.elapsed();
        let name = file.display();
        match outcome {
            Err(_) => failures.push(format!("{name}: panicked")),
            Ok(Err(why)) => failures.push(format!("{name}: {why}")),
            Ok(Ok(())) if took > PER_INPUT => failures.push(format!("{name}: took {took:?}")),
            Ok(Ok(())) => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn extract_regressions() {
    replay("extract", |data| match extract_bytes(data) {
        Ok(e) => {
            if e.url.is_empty() {
                return Err("result without a URL".into());
            }
            Ok(())
        }
        Err(err) if err.to_string().is_empty() => Err("error without a message".into()),
        Err(_) => Ok(()),
    });
}

#[test]
fn dates_regressions() {
    replay("dates", |data| {
        let out = dates_bytes(data);
        if let Some(d) = out.parsed
            && !(1969..=2101).contains(&d.year())
        {
            return Err(format!("implausible date {d}"));
        }
        if out.date_line && out.parsed.is_none() {
            return Err("a date line that does not parse".into());
        }
        Ok(())
    });
}
