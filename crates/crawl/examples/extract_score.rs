//! Scoring harness for `diembao_crawl::extract`.
//!
//! ```text
//! extract_score extraction-dev <DIR> <PRED.json> [--repeat N]
//!     DIR = corpus/extraction-dev (ground-truth.json + html/<id>.html).
//!     Writes {"id": {"articleBody": ...}} for extraction-score.py.
//!
//! extract_score vi-press <DIR> <PRED.json> <TRUTH_OUT.json> [--repeat N] [--verbose]
//!     DIR = corpus/vi-press-dev (truth.json, pack.json, SITE/PATH files).
//!     Writes predictions and a scorer-format truth for the is_article pages,
//!     prints title / published_at / author exact-match rates and mismatches.
//!
//! extract_score dump <FILE> <URL> [content-type] [--explain]
//!     Prints the extraction of one file as JSON (--explain: chosen
//!     container and best-scoring elements).
//!
//! extract_score parse-only <extraction-dev DIR> [--repeat N]
//!     Baseline timing: decode + html5ever parse only.
//! ```
//! Then: `python3 /work/shared/tools/extraction-score.py TRUTH PRED`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use diembao_crawl::extract::{ExtractInput, Extracted, extract};
use serde_json::{Value, json};
use url::Url;

type BoxResult<T> = Result<T, Box<dyn std::error::Error>>;

fn fetched_at() -> DateTime<Utc> {
    // the vi-press-dev pack is "fetched" on 31/03/2023 19:30 +07:00
    Utc.with_ymd_and_hms(2023, 3, 31, 12, 30, 0)
        .single()
        .expect("valid date")
}

fn read_json(p: &Path) -> BoxResult<Value> {
    Ok(serde_json::from_slice(&std::fs::read(p)?)?)
}

fn run(
    body: &[u8],
    url: &Url,
    ct: Option<&str>,
    repeat: usize,
    total: &mut Duration,
) -> Option<Extracted> {
    let mut out = None;
    for _ in 0..repeat.max(1) {
        let t = Instant::now();
        let r = extract(&ExtractInput {
            body,
            url,
            content_type: ct,
            fetched_at: fetched_at(),
        });
        *total += t.elapsed();
        out = r.ok();
    }
    out
}

fn extraction_dev(dir: &Path, pred_path: &Path, repeat: usize) -> BoxResult<()> {
    let truth = read_json(&dir.join("ground-truth.json"))?;
    let truth = truth.as_object().ok_or("truth is not an object")?;
    let mut pred = BTreeMap::new();
    let mut total = Duration::ZERO;
    let mut bytes = 0usize;
    for (id, v) in truth {
        let url = Url::parse(v["url"].as_str().unwrap_or("http://example.invalid/"))?;
        let body = std::fs::read(dir.join("html").join(format!("{id}.html")))?;
        bytes += body.len();
        let e = run(&body, &url, None, repeat, &mut total);
        let text = e.as_ref().map(|e| e.text.clone()).unwrap_or_default();
        pred.insert(id.clone(), json!({"articleBody": text}));
    }
    std::fs::write(pred_path, serde_json::to_string_pretty(&pred)?)?;
    let n = truth.len() * repeat.max(1);
    println!(
        "pages {} ({:.1} MB), {:.3} ms/page",
        truth.len(),
        bytes as f64 / 1e6,
        total.as_secs_f64() * 1000.0 / n as f64
    );
    Ok(())
}

struct Site {
    ip: String,
    routes: Value,
}

fn vi_press(
    dir: &Path,
    pred_path: &Path,
    truth_out: &Path,
    repeat: usize,
    verbose: bool,
) -> BoxResult<()> {
    let truth = read_json(&dir.join("truth.json"))?;
    let truth = truth.as_object().ok_or("truth is not an object")?;
    let pack = read_json(&dir.join("pack.json"))?;
    let mut sites = BTreeMap::new();
    for s in pack["sites"].as_array().ok_or("no sites")? {
        let name = s["name"].as_str().unwrap_or_default().to_string();
        let routes = read_json(&dir.join(&name).join("_routes.json")).unwrap_or(json!({}));
        sites.insert(
            name,
            Site {
                ip: s["ip"].as_str().unwrap_or_default().to_string(),
                routes,
            },
        );
    }
    let origin = |site: &str| format!("http://{}:8765", sites[site].ip);

    let mut pred = BTreeMap::new();
    let mut truth_fmt = BTreeMap::new();
    let (mut n, mut title_ok, mut date_ok, mut author_ok, mut author_n) = (0, 0, 0, 0, 0);
    let mut art_ok = 0;
    let mut total = Duration::ZERO;
    let mut pages = 0usize;
    for (key, t) in truth {
        let (site, path) = key.split_once('/').ok_or("bad key")?;
        let s = &sites[site];
        let route = &s.routes[format!("/{path}")];
        let mut file: PathBuf = dir.join(site);
        match route["file"].as_str() {
            Some(f) => file.push(f),
            None => {
                file.push(path);
                if path.ends_with('/') {
                    file.push("index.html");
                }
            }
        }
        let Ok(raw) = std::fs::read(&file) else {
            if verbose {
                println!("-- {key}: no file ({})", t["why"]);
            }
            continue;
        };
        let mut body = raw;
        for (name, _) in sites.iter() {
            body = replace(
                &body,
                format!("{{{{BASE:{name}}}}}").as_bytes(),
                origin(name).as_bytes(),
            );
        }
        body = replace(&body, b"{{BASE}}", origin(site).as_bytes());
        let ct = route["headers"]["Content-Type"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| {
                if path.ends_with(".htm") || path.ends_with(".html") || path.ends_with('/') {
                    "text/html; charset=utf-8".into()
                } else {
                    "application/octet-stream".into()
                }
            });
        let url = Url::parse(&format!("{}/{}", origin(site), path))?;
        let e = run(&body, &url, Some(&ct), repeat, &mut total);
        pages += 1;
        let Some(e) = e else {
            println!("!! {key}: extraction failed");
            continue;
        };
        let is_art = t["is_article"].as_bool().unwrap_or(false);
        if e.is_article == is_art {
            art_ok += 1;
        } else {
            println!(
                "is_article {key}: got {} want {is_art} ({})",
                e.is_article, t["why"]
            );
        }
        if !is_art {
            continue;
        }
        n += 1;
        pred.insert(key.clone(), json!({"articleBody": e.text}));
        truth_fmt.insert(key.clone(), json!({"articleBody": t["text"]}));
        let want_title = t["title"].as_str();
        if e.title.as_deref() == want_title {
            title_ok += 1;
        } else {
            println!(
                "TITLE  {key}\n   got  {:?}\n   want {:?}",
                e.title, want_title
            );
        }
        let want_date = t["published_at"]
            .as_str()
            .and_then(|d| DateTime::parse_from_rfc3339(d).ok());
        if e.published_at == want_date {
            date_ok += 1;
        } else {
            println!(
                "DATE   {key}\n   got  {:?}\n   want {:?}",
                e.published_at, want_date
            );
        }
        let want_author = t["author"].as_str();
        author_n += 1;
        if e.author.as_deref() == want_author {
            author_ok += 1;
        } else {
            println!(
                "AUTHOR {key}\n   got  {:?}\n   want {:?}",
                e.author, want_author
            );
        }
        if e.lang.as_deref() != Some("vi") {
            println!("LANG   {key}: {:?}", e.lang);
        }
        if verbose {
            println!("== {key}\n{}\n", e.text);
        }
    }
    std::fs::write(pred_path, serde_json::to_string_pretty(&pred)?)?;
    std::fs::write(truth_out, serde_json::to_string_pretty(&truth_fmt)?)?;
    let pct = |a: usize, b: usize| 100.0 * a as f64 / b.max(1) as f64;
    println!(
        "articles {n}: title {title_ok}/{n} ({:.1}%), published_at {date_ok}/{n} ({:.1}%), author {author_ok}/{author_n} ({:.1}%), is_article {art_ok}/{} ; {:.3} ms/page",
        pct(title_ok, n),
        pct(date_ok, n),
        pct(author_ok, author_n),
        pages,
        total.as_secs_f64() * 1000.0 / (pages * repeat.max(1)).max(1) as f64
    );
    Ok(())
}

fn replace(hay: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(hay.len());
    let mut i = 0;
    while i < hay.len() {
        if hay[i..].starts_with(needle) {
            out.extend_from_slice(with);
            i += needle.len();
        } else {
            out.push(hay[i]);
            i += 1;
        }
    }
    out
}

fn main() -> BoxResult<()> {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| args.iter().position(|a| a == name);
    let repeat = flag("--repeat")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let verbose = flag("--verbose").is_some();
    match args.get(1).map(String::as_str) {
        Some("extraction-dev") if args.len() >= 4 => {
            extraction_dev(Path::new(&args[2]), Path::new(&args[3]), repeat)
        }
        Some("vi-press") if args.len() >= 5 => vi_press(
            Path::new(&args[2]),
            Path::new(&args[3]),
            Path::new(&args[4]),
            repeat,
            verbose,
        ),
        Some("parse-only") if args.len() >= 3 => {
            // baseline: decode + html5ever parse only
            let dir = Path::new(&args[2]);
            let truth = read_json(&dir.join("ground-truth.json"))?;
            let mut total = Duration::ZERO;
            let mut n = 0;
            for id in truth.as_object().ok_or("truth")?.keys() {
                let body = std::fs::read(dir.join("html").join(format!("{id}.html")))?;
                for _ in 0..repeat {
                    let t = Instant::now();
                    let text = String::from_utf8_lossy(&body);
                    let html = scraper::Html::parse_document(&text);
                    std::hint::black_box(&html);
                    total += t.elapsed();
                    n += 1;
                }
            }
            println!(
                "parse only: {:.3} ms/page",
                total.as_secs_f64() * 1000.0 / n as f64
            );
            Ok(())
        }
        Some("dump") if args.len() >= 4 => {
            let body = std::fs::read(&args[2])?;
            let url = Url::parse(&args[3])?;
            let ct = args
                .get(4)
                .filter(|a| !a.starts_with("--"))
                .map(String::as_str);
            let r = extract(&ExtractInput {
                body: &body,
                url: &url,
                content_type: ct,
                fetched_at: fetched_at(),
            });
            match r {
                Ok(mut e) => {
                    e.links.truncate(5);
                    println!("{}", serde_json::to_string_pretty(&e)?);
                    if args.iter().any(|a| a == "--explain") {
                        println!(
                            "{}",
                            diembao_crawl::extract::debug_explain(&ExtractInput {
                                body: &body,
                                url: &url,
                                content_type: ct,
                                fetched_at: fetched_at(),
                            })
                        );
                    }
                }
                Err(err) => println!("error: {err}"),
            }
            Ok(())
        }
        _ => {
            eprintln!("usage: see the source header of examples/extract_score.rs");
            std::process::exit(2);
        }
    }
}
