//! Checks a rule set against documents with expected results.
//!
//! ```text
//! cargo run --release -p diembao-core --example rules_check -- [RULES.toml DOCS.jsonl EXPECTED.jsonl]
//! ```
//!
//! Defaults to the DEV corpus in `/work/shared/corpus/vi-rules-dev/`. Each
//! line of EXPECTED is `{"url", "rules": [...], "why"}`, in the order of DOCS.
//! Prints every mismatch and a final `N/M match` line, then the evaluation
//! throughput; exits 1 on any mismatch.
//!
//! `--bench` (first argument) instead measures a synthetic load: 1,000 rules
//! made of phrases and words of the documents, over ~2 KB documents glued
//! from them.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use diembao_core::document::parse_ingest_line;
use diembao_core::rules::{DocFields, parse_rules};

const DEFAULT_DIR: &str = "/work/shared/corpus/vi-rules-dev";

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(message) => {
            eprintln!("rules_check: {message}");
            ExitCode::from(2)
        }
    }
}

fn read(path: &str) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))
}

fn run() -> Result<bool, String> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let bench = args.first().is_some_and(|a| a == "--bench");
    if bench {
        args.remove(0);
    }
    let arg = |i: usize, name: &str| {
        args.get(i)
            .cloned()
            .unwrap_or_else(|| format!("{DEFAULT_DIR}/{name}"))
    };
    let (rules_path, docs_path, expected_path) = (
        arg(0, "rules.toml"),
        arg(1, "docs.jsonl"),
        arg(2, "expected.jsonl"),
    );
    let rules = parse_rules(&read(&rules_path)?).map_err(|e| e.display_in(&rules_path))?;

    let now = chrono::Utc::now();
    let docs_text = read(&docs_path)?;
    let mut docs = Vec::new();
    for (i, line) in docs_text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let doc = parse_ingest_line(line, i + 1, now).map_err(|e| e.display_in(&docs_path))?;
        docs.push(doc);
    }

    if bench {
        synthetic_bench(&docs);
        return Ok(true);
    }

    let expected_text = read(&expected_path)?;
    let mut expected = Vec::new();
    for (i, line) in expected_text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("{expected_path}:{}: {e}", i + 1))?;
        let url = value["url"].as_str().unwrap_or_default().to_owned();
        let ids: Vec<String> = value["rules"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let why = value["why"].as_str().unwrap_or_default().to_owned();
        expected.push((url, ids, why));
    }
    if expected.len() != docs.len() {
        return Err(format!(
            "{} documents but {} expected lines",
            docs.len(),
            expected.len()
        ));
    }

    let fields: Vec<DocFields<'_>> = docs
        .iter()
        .map(|d| DocFields {
            title: &d.title,
            text: &d.text,
            source: d.source_name.as_deref().unwrap_or_default(),
            url: &d.url,
        })
        .collect();

    let mut matching = 0;
    for (doc, (url, want, why)) in fields.iter().zip(&expected) {
        let got = rules.evaluate(doc);
        let got_ids: Vec<&str> = got.iter().map(|m| m.rule.as_str()).collect();
        if got_ids == *want {
            matching += 1;
            continue;
        }
        println!("MISMATCH {url}");
        println!("  expected {want:?}  ({why})");
        println!("  got      {got_ids:?}");
        for m in &got {
            println!("    {}: {:?}", m.rule, m.terms);
        }
    }
    println!("{matching}/{} match", docs.len());

    // Throughput on these documents (the rule set is small; see the module
    // documentation of `rules` for the cost model).
    let start = Instant::now();
    let mut evaluated = 0u64;
    let mut bytes = 0u64;
    while start.elapsed() < Duration::from_millis(500) {
        for doc in &fields {
            std::hint::black_box(rules.evaluate(doc));
            bytes += (doc.title.len() + doc.text.len()) as u64;
        }
        evaluated += fields.len() as u64;
    }
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "throughput: {:.0} documents/s ({:.1} MB/s), {} rules, fingerprint {:016x}",
        evaluated as f64 / secs,
        bytes as f64 / secs / 1e6,
        rules.len(),
        rules.fingerprint()
    );
    Ok(matching == docs.len())
}

/// Deterministic pseudo-random numbers (xorshift).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

/// CPU time of this thread (the machine may be shared), wall time if unknown.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// Documents per second of CPU time evaluating `fields`, over about 2 s.
fn rate(rules: &diembao_core::rules::RuleSet, fields: &[DocFields<'_>]) -> f64 {
    let start = Instant::now();
    let cpu = cpu_time();
    let mut evaluated = 0u64;
    while start.elapsed() < Duration::from_secs(2) {
        for doc in fields {
            std::hint::black_box(rules.evaluate(doc));
        }
        evaluated += fields.len() as u64;
    }
    let secs = match (cpu, cpu_time()) {
        (Some(a), Some(b)) if b > a => (b - a).as_secs_f64(),
        _ => start.elapsed().as_secs_f64(),
    };
    evaluated as f64 / secs
}

fn synthetic_bench(docs: &[diembao_core::NewDocument]) {
    use diembao_core::text::tokens;
    let words: Vec<Vec<&str>> = docs
        .iter()
        .map(|d| tokens(&d.text).map(|t| t.text).collect())
        .filter(|w: &Vec<&str>| w.len() > 3)
        .collect();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut texts = Vec::new();
    for _ in 0..200 {
        let mut text = String::new();
        while text.len() < 2000 {
            text.push_str(&docs[rng.below(docs.len())].text);
            text.push('\n');
        }
        texts.push(text);
    }
    let fields: Vec<DocFields<'_>> = texts
        .iter()
        .map(|t| DocFields {
            title: "Tin tức",
            text: t,
            source: "Facebook",
            url: "https://www.facebook.com/x/posts/1",
        })
        .collect();
    let avg = texts.iter().map(String::len).sum::<usize>() / texts.len();

    // hot: rule literals are phrases and words of these very documents, so
    // many rules are candidates in every document; cold: the same shapes
    // with words that never occur (the cost of analysis and the automaton).
    for (name, suffix) in [("hot", ""), ("cold", "zq")] {
        let mut term = |rng: &mut Rng| -> String {
            let w = &words[rng.below(words.len())];
            let i = rng.below(w.len() - 2);
            match rng.below(10) {
                0 => {
                    let cut = w[i].char_indices().nth(3).map_or(w[i].len(), |(b, _)| b);
                    let stem = w[i][..cut].trim_end_matches(|c: char| !c.is_alphanumeric());
                    format!("{stem}{suffix}*")
                }
                1 | 2 => format!("{}{suffix}", w[i].to_lowercase()),
                3 => format!("\"{} {}{suffix}\"~2", w[i], w[i + 2]),
                _ => format!("\"{} {}{suffix}\"", w[i], w[i + 1]),
            }
        };
        let mut toml = String::new();
        for r in 0..1000 {
            let group = |rng: &mut Rng, term: &mut dyn FnMut(&mut Rng) -> String, n: usize| {
                let items: Vec<String> = (0..1 + rng.below(n)).map(|_| term(rng)).collect();
                format!("({})", items.join(" OR "))
            };
            let a = group(&mut rng, &mut term, 4);
            let b = group(&mut rng, &mut term, 3);
            let c = group(&mut rng, &mut term, 3);
            let op = if rng.below(2) == 0 { "NEAR/10" } else { "AND" };
            let query = format!("{a} {op} {b} NOT {c}");
            toml.push_str(&format!(
                "[[rule]]\nid = \"r{r}\"\ncategory = \"c\"\nseverity = \"low\"\nquery = '{query}'\n\n"
            ));
        }
        let built = Instant::now();
        let parsed = parse_rules(&toml);
        let built = built.elapsed();
        let rules = match parsed {
            Ok(rules) => rules,
            Err(e) => {
                let line = toml
                    .lines()
                    .nth(e.line.saturating_sub(1))
                    .unwrap_or_default();
                eprintln!("synthetic rules: {e}\n{line}");
                return;
            }
        };
        let fired: usize = fields.iter().map(|d| rules.evaluate(d).len()).sum();
        println!(
            "synthetic {name}: {} rules, {} documents of {avg} bytes on average, \
             {:.1} rules fire per document: {:.0} documents/s (CPU time); compiled in {built:.0?}",
            rules.len(),
            texts.len(),
            fired as f64 / texts.len() as f64,
            rate(&rules, &fields)
        );
        let compiled_rate = rate(&rules, &fields);
        // The naive baseline: every rule compiled on its own and run over every document
        // (no shared prefilter: the cost grows with rules × text).
        let singles: Vec<diembao_core::rules::RuleSet> = rules
            .rules()
            .iter()
            .filter_map(|r| diembao_core::rules::RuleSet::from_rules(vec![r.clone()]).ok())
            .collect();
        let sample = &fields[..fields.len().min(20)];
        let start = Instant::now();
        let cpu = cpu_time();
        let mut fired_naive = 0usize;
        for doc in sample {
            for single in &singles {
                fired_naive += single.evaluate(doc).len();
            }
        }
        let secs = match (cpu, cpu_time()) {
            (Some(a), Some(b)) if b > a => (b - a).as_secs_f64(),
            _ => start.elapsed().as_secs_f64(),
        };
        let naive_rate = sample.len() as f64 / secs;
        let fired_compiled: usize = sample.iter().map(|d| rules.evaluate(d).len()).sum();
        assert_eq!(
            fired_naive, fired_compiled,
            "the naive and compiled evaluations agree"
        );
        println!(
            "synthetic {name}: naive (each rule alone on each document) {naive_rate:.0} documents/s; \
             compiled/naive = {:.0}x; re-tagging 1,000,000 documents would take {:.0} s compiled, {:.0} s naive",
            compiled_rate / naive_rate,
            1e6 / compiled_rate,
            1e6 / naive_rate
        );
    }
}
