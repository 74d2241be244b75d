//! Checks the digest and its story grouping on the DEV press pack.
//!
//! ```text
//! cargo run --release -p diembao-core --example digest_check -- [PACK_DIR] [--json|--text|--html]
//! ```
//!
//! Reads `truth.json` of the pack (default `/work/shared/corpus/vi-press-dev`)
//! into documents (source = site name, URL `https://KEY`), then
//!
//! - builds the 2023-W11 digest and compares its per-source counts with the
//!   pack's README table (baobienxanh 3, nanggio 2, catrang 2, datnang 3),
//!   and the counts of every week W10–W13;
//! - groups the whole month (W10–W13) and requires exactly the README's four
//!   "same story, two outlets" pairs, with the indexed grouping equal to the
//!   exhaustive one; also each week's digest against its pairs;
//! - prints the score margin: the lowest cosine of a same-event pair and the
//!   highest cosine of any other cross-source pair within the time window.
//!
//! Exits 1 when a check fails. `--json`/`--text`/`--html` print the W11
//! digest in that form.

use std::collections::BTreeMap;
use std::process::ExitCode;

use chrono::{DateTime, Duration, Utc};
use diembao_core::digest::{
    DigestDoc, DigestInput, Period, StoryConfig, StoryIndex, build_digest, render_html, render_text,
};

const DEFAULT_DIR: &str = "/work/shared/corpus/vi-press-dev";

const PAIRS: [(&str, &str); 4] = [
    (
        "baobienxanh/van-hoa/ruc-ro-dem-khai-mac-le-hoi-nho-va-vang-nam-2023-23157.html",
        "catrang/tintuc/van-hoa/khai-mac-le-hoi-nho-va-vang-nam-2023_1198.htm",
    ),
    (
        "baobienxanh/cong-nghe/song-5g-da-phu-khu-vuc-trung-tam-thanh-pho-23190.html",
        "nanggio/2023/03/17/nha-mang-sao-viet-thu-nghiem-5g-tai-phan-rang-thap-cham/",
    ),
    (
        "nanggio/2023/03/10/canh-bao-doi-tuong-gia-danh-nhan-vien-dien-luc-goi-dien-doi-tien/",
        "datnang/phap-luat/nhan-cuoc-goi-no-tien-dien-mot-phu-nu-bi-chiem-doat-37-trieu-dong-d30467.html",
    ),
    (
        "baobienxanh/thoi-su/ho-so-truc-tuyen-toan-trinh-tang-gap-ba-23236.html",
        "datnang/thoi-su/ho-so-truc-tuyen-toan-trinh-tang-gap-ba-d30571.html",
    ),
];

/// README "Articles per site per ISO week".
const WEEKS: [(&str, [(&str, u64); 4]); 4] = [
    (
        "2023-W10",
        [
            ("baobienxanh", 2),
            ("nanggio", 2),
            ("catrang", 2),
            ("datnang", 2),
        ],
    ),
    (
        "2023-W11",
        [
            ("baobienxanh", 3),
            ("nanggio", 2),
            ("catrang", 2),
            ("datnang", 3),
        ],
    ),
    (
        "2023-W12",
        [
            ("baobienxanh", 2),
            ("nanggio", 3),
            ("catrang", 3),
            ("datnang", 2),
        ],
    ),
    (
        "2023-W13",
        [
            ("baobienxanh", 2),
            ("nanggio", 2),
            ("catrang", 2),
            ("datnang", 2),
        ],
    ),
];

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(message) => {
            eprintln!("digest_check: {message}");
            ExitCode::from(2)
        }
    }
}

fn load(dir: &str) -> Result<(Vec<DigestDoc>, Vec<String>), String> {
    let path = format!("{dir}/truth.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    let truth: BTreeMap<String, serde_json::Value> =
        serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))?;
    let mut docs = Vec::new();
    let mut keys = Vec::new();
    for (key, v) in truth {
        if v["is_article"].as_bool() != Some(true) {
            continue;
        }
        let published = v["published_at"]
            .as_str()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok());
        let fetched: DateTime<Utc> = published
            .map(|p| p.with_timezone(&Utc) + Duration::hours(1))
            .unwrap_or_default();
        let url = format!("https://{key}");
        docs.push(DigestDoc {
            id: docs.len() as i64 + 1,
            url: url.clone(),
            canonical_url: url,
            title: v["title"].as_str().unwrap_or_default().to_owned(),
            text: v["text"].as_str().unwrap_or_default().to_owned(),
            source: key.split('/').next().unwrap_or_default().to_owned(),
            kind: "article".to_owned(),
            published_at: published,
            fetched_at: fetched,
            syndicated_from: v["syndicated_from"]
                .as_str()
                .map(|s| format!("https://{s}")),
            tags: Vec::new(),
            candidate_status: None,
        });
        keys.push(key);
    }
    Ok((docs, keys))
}

fn input(docs: &[DigestDoc], period: Period) -> DigestInput {
    DigestInput {
        office: "Sở Thông tin và Truyền thông tỉnh Ninh Thuận".into(),
        timezone: chrono_tz::Asia::Ho_Chi_Minh,
        period,
        current: docs.to_vec(),
        previous: docs.to_vec(),
        health: Vec::new(),
        topics: Vec::new(),
    }
}

/// Lowest cosine of a rewritten README pair and highest of any other
/// cross-source pair within the window.
fn margin(
    index: &StoryIndex<'_>,
    docs: &[&DigestDoc],
    pairs: &[Vec<String>],
    key_of: &dyn Fn(&str) -> String,
) -> (f32, f32) {
    let (mut min_true, mut max_false) = (f32::INFINITY, 0f32);
    for a in 0..docs.len() {
        for b in a + 1..docs.len() {
            if docs[a].source == docs[b].source || !index.within_window(a, b) {
                continue;
            }
            let mut k = vec![key_of(&docs[a].url), key_of(&docs[b].url)];
            k.sort();
            let c = index.cosine(a, b);
            if pairs.contains(&k) {
                if c < 0.99 {
                    min_true = min_true.min(c);
                }
            } else {
                max_false = max_false.max(c);
            }
        }
    }
    (min_true, max_false)
}

fn run() -> Result<bool, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map_or(DEFAULT_DIR, String::as_str);
    let (docs, keys) = load(dir)?;
    let key_of = |url: &str| url.trim_start_matches("https://").to_owned();
    let mut ok = true;
    let w11 = Period::parse_week("2023-W11").map_err(|e| e.to_string())?;

    if args.iter().any(|a| a == "--json") {
        let d = build_digest(&input(&docs, w11));
        println!(
            "{}",
            serde_json::to_string_pretty(&d).map_err(|e| e.to_string())?
        );
        return Ok(true);
    }
    if args.iter().any(|a| a == "--text") {
        print!("{}", render_text(&build_digest(&input(&docs, w11))));
        return Ok(true);
    }
    if args.iter().any(|a| a == "--html") {
        print!("{}", render_html(&build_digest(&input(&docs, w11))));
        return Ok(true);
    }

    println!("{} articles loaded from {dir}", docs.len());
    let expected_pairs: Vec<Vec<String>> = PAIRS
        .iter()
        .map(|(a, b)| {
            let mut v = vec![a.to_string(), b.to_string()];
            v.sort();
            v
        })
        .collect();

    // Weekly digests.
    for (label, counts) in WEEKS {
        let period = Period::parse_week(label).map_err(|e| e.to_string())?;
        let d = build_digest(&input(&docs, period));
        let got: BTreeMap<&str, u64> = d
            .sources
            .iter()
            .map(|s| (s.source.as_str(), s.count))
            .collect();
        // The README table counts the 36 original articles; the syndicated
        // copy is a stored document of its outlet too, so it is added here.
        let mut want: BTreeMap<&str, u64> = counts.iter().copied().collect();
        let mut copies = 0;
        for doc in &docs {
            if doc.syndicated_from.is_some() && period.contains(doc, chrono_tz::Asia::Ho_Chi_Minh) {
                *want.entry(doc.source.as_str()).or_default() += 1;
                copies += 1;
            }
        }
        let status = if got == want { "ok" } else { "MISMATCH" };
        ok &= got == want;
        println!(
            "{label}: total {} (previous {}), sources {:?} {status}{}",
            d.total,
            d.previous_total,
            got,
            if copies > 0 {
                format!(" (README table + {copies} syndicated copy)")
            } else {
                String::new()
            }
        );
        // Score margin with this week's IDF (the week plus the week before
        // as background, as build_digest does).
        let week_docs: Vec<&DigestDoc> = docs
            .iter()
            .filter(|x| period.contains(x, chrono_tz::Asia::Ho_Chi_Minh))
            .collect();
        let background: Vec<&DigestDoc> = docs
            .iter()
            .filter(|x| period.previous().contains(x, chrono_tz::Asia::Ho_Chi_Minh))
            .collect();
        let week_index = StoryIndex::build(&week_docs, &background, &StoryConfig::default());
        let (min_true, max_false) = margin(&week_index, &week_docs, &expected_pairs, &key_of);
        let lowest = if min_true.is_finite() {
            format!("{min_true:.3}")
        } else {
            "— (no rewritten pair this week)".to_owned()
        };
        println!("  cosine: lowest same-event pair {lowest}, highest other pair {max_false:.3}");
        for s in &d.stories {
            let mut urls: Vec<String> = s.urls.iter().map(|u| key_of(u)).collect();
            urls.sort();
            let known = expected_pairs.contains(&urls);
            ok &= known;
            println!(
                "  story {:?} {:?} {:?} {}",
                s.title,
                s.sources,
                s.signals,
                if known { "ok" } else { "UNEXPECTED" }
            );
        }
        // Each README pair inside this week must be a story of the digest.
        for pair in &expected_pairs {
            let inside = pair.iter().all(|k| {
                docs.iter()
                    .find(|d| key_of(&d.url) == *k)
                    .is_some_and(|d| period.contains(d, chrono_tz::Asia::Ho_Chi_Minh))
            });
            let found = d.stories.iter().any(|s| {
                let mut urls: Vec<String> = s.urls.iter().map(|u| key_of(u)).collect();
                urls.sort();
                urls == *pair
            });
            if inside && !found {
                ok = false;
                println!("  MISSING story {pair:?}");
            }
        }
    }

    // The whole month.
    let refs: Vec<&DigestDoc> = docs.iter().collect();
    let config = StoryConfig::default();
    let index = StoryIndex::build(&refs, &[], &config);
    let groups = index.groups();
    let exhaustive = StoryIndex::build(
        &refs,
        &[],
        &StoryConfig {
            exhaustive: true,
            ..config.clone()
        },
    )
    .groups();
    let as_keys = |g: &[diembao_core::digest::StoryGroup]| -> Vec<Vec<String>> {
        let mut v: Vec<Vec<String>> = g
            .iter()
            .map(|g| {
                let mut k: Vec<String> = g.members.iter().map(|&m| keys[m].clone()).collect();
                k.sort();
                k
            })
            .collect();
        v.sort();
        v
    };
    let month = as_keys(&groups);
    let mut want = expected_pairs.clone();
    want.sort();
    println!("\nmonth W10–W13: {} groups", groups.len());
    for g in &groups {
        println!(
            "  {:?} [{}] signals {:?}",
            docs[g.original].title,
            g.members
                .iter()
                .map(|&m| keys[m].as_str())
                .collect::<Vec<_>>()
                .join(" · "),
            g.signals
        );
    }
    let month_ok = month == want;
    let same_as_exhaustive = month == as_keys(&exhaustive);
    println!(
        "month groups = README pairs: {}; indexed = exhaustive: {}",
        if month_ok { "ok" } else { "MISMATCH" },
        if same_as_exhaustive { "ok" } else { "MISMATCH" }
    );
    ok &= month_ok && same_as_exhaustive;

    // Score margin.
    let mut pair_scores: Vec<(f32, bool, usize, usize)> = Vec::new();
    for a in 0..docs.len() {
        for b in a + 1..docs.len() {
            if docs[a].source == docs[b].source || !index.within_window(a, b) {
                continue;
            }
            let mut k = vec![keys[a].clone(), keys[b].clone()];
            k.sort();
            pair_scores.push((index.cosine(a, b), want.contains(&k), a, b));
        }
    }
    pair_scores.sort_by(|x, y| y.0.total_cmp(&x.0));
    let min_true = pair_scores
        .iter()
        .filter(|p| p.1 && p.0 < 0.99)
        .map(|p| p.0)
        .fold(f32::INFINITY, f32::min);
    let max_false = pair_scores
        .iter()
        .filter(|p| !p.1)
        .map(|p| p.0)
        .fold(0.0, f32::max);
    println!(
        "\ncosine (month IDF): lowest same-event pair {min_true:.3}, highest other pair {max_false:.3}, threshold {}",
        config.cosine_threshold
    );
    for (score, is_pair, a, b) in pair_scores.iter().take(8) {
        println!(
            "  {score:.3} {} {} ~ {} (simhash distance {}, jaccard {:.2})",
            if *is_pair { "PAIR " } else { "other" },
            keys[*a],
            keys[*b],
            index.hamming(*a, *b),
            index.jaccard(*a, *b)
        );
    }

    let d = build_digest(&input(&docs, w11));
    println!("\n{}", render_text(&d));
    println!(
        "{}",
        if ok {
            "digest_check: all checks passed"
        } else {
            "digest_check: FAILED"
        }
    );
    Ok(ok)
}
