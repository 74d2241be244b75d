//! Times `build_digest` on a synthetic week of 100,000 documents.
//!
//! ```text
//! cargo run --release -p diembao-core --example digest_bench -- [DOCS] [--parts]
//! ```
//!
//! Documents are Vietnamese-like text: syllables with tone marks drawn from a
//! Zipf distribution over 8,000 syllables, 60% short posts (20–80 words) and
//! 40% articles (200–600 words), from 60 sources, spread over the week
//! (about 135 MB of text). About 8% retell one of 1,500 stories (runs of the
//! story's own word sequence with filler, by different outlets within two
//! days), 1% are verbatim syndicated copies of earlier documents, one story
//! is told 400 times, and 2% carry tags. The comparison week has as many
//! documents. Prints the time of `build_digest` (best of three, wall clock
//! and this thread's CPU time, grouping included), what it found, and the
//! pairwise precision and recall of the stories against the generated
//! labels. `--parts` also times the text pass alone.

use std::time::Instant;

use chrono::{DateTime, Duration, FixedOffset, Utc};
use diembao_core::digest::{DigestDoc, DigestInput, Period, SourceHealth, build_digest};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const ONSETS: [&str; 20] = [
    "", "b", "c", "ch", "d", "đ", "g", "h", "kh", "l", "m", "n", "ng", "nh", "ph", "qu", "s", "t",
    "th", "tr",
];
const VOWELS: [[&str; 6]; 12] = [
    ["a", "à", "á", "ả", "ã", "ạ"],
    ["ă", "ằ", "ắ", "ẳ", "ẵ", "ặ"],
    ["â", "ầ", "ấ", "ẩ", "ẫ", "ậ"],
    ["e", "è", "é", "ẻ", "ẽ", "ẹ"],
    ["ê", "ề", "ế", "ể", "ễ", "ệ"],
    ["i", "ì", "í", "ỉ", "ĩ", "ị"],
    ["o", "ò", "ó", "ỏ", "õ", "ọ"],
    ["ô", "ồ", "ố", "ổ", "ỗ", "ộ"],
    ["ơ", "ờ", "ớ", "ở", "ỡ", "ợ"],
    ["u", "ù", "ú", "ủ", "ũ", "ụ"],
    ["ư", "ừ", "ứ", "ử", "ữ", "ự"],
    ["y", "ỳ", "ý", "ỷ", "ỹ", "ỵ"],
];
const CODAS: [&str; 12] = ["", "n", "ng", "nh", "m", "c", "t", "p", "ch", "i", "o", "u"];

struct Vocab {
    words: Vec<String>,
    cumulative: Vec<f64>,
}

impl Vocab {
    fn new(size: usize, rng: &mut Rng) -> Self {
        let mut all = Vec::new();
        for o in ONSETS {
            for v in VOWELS {
                for t in v {
                    for c in CODAS {
                        all.push(format!("{o}{t}{c}"));
                    }
                }
            }
        }
        for i in (1..all.len()).rev() {
            let j = rng.below(i + 1);
            all.swap(i, j);
        }
        all.truncate(size);
        let mut acc = 0.0;
        let cumulative = (0..size)
            .map(|r| {
                acc += 1.0 / (r as f64 + 2.0);
                acc
            })
            .collect();
        Self {
            words: all,
            cumulative,
        }
    }

    fn sample(&self, rng: &mut Rng) -> &str {
        let total = self.cumulative.last().copied().unwrap_or(1.0);
        let x = rng.unit() * total;
        let i = self.cumulative.partition_point(|&c| c < x);
        &self.words[i.min(self.words.len() - 1)]
    }

    fn sentence(&self, rng: &mut Rng, words: usize, out: &mut String) {
        for i in 0..words {
            if i > 0 {
                out.push_str(if i % 14 == 0 { ". " } else { " " });
            }
            let w = self.sample(rng);
            if i % 14 == 0 {
                let mut c = w.chars();
                if let Some(f) = c.next() {
                    out.extend(f.to_uppercase());
                    out.push_str(c.as_str());
                }
            } else {
                out.push_str(w);
            }
            if rng.below(40) == 0 {
                out.push_str(&format!(" {}", rng.below(10_000)));
            }
        }
        out.push('.');
    }
}

fn vn(t: DateTime<Utc>) -> DateTime<FixedOffset> {
    t.with_timezone(&diembao_core::document::vietnam_offset())
}

/// Documents and their true story labels (the story retold, the original
/// of a copy, or the document itself).
fn make_docs(
    n: usize,
    week_start: DateTime<Utc>,
    seed: u64,
    vocab: &Vocab,
) -> (Vec<DigestDoc>, Vec<u64>) {
    let mut rng = Rng(seed);
    let stories: Vec<(Vec<String>, i64)> = (0..1500)
        .map(|_| {
            let seq = (0..80).map(|_| vocab.sample(&mut rng).to_owned()).collect();
            (seq, rng.below(6 * 86400) as i64)
        })
        .collect();
    let mut docs: Vec<DigestDoc> = Vec::with_capacity(n);
    let mut labels: Vec<u64> = Vec::with_capacity(n);
    for i in 0..n {
        let mut label = 1_000_000 + i as u64;
        let source = rng.below(60);
        let mut text = String::new();
        let mut title = String::new();
        let roll = rng.below(100);
        let mut at = rng.below(7 * 86400) as i64;
        let mut syndicated_from = None;
        if roll < 8 || i % 250 == 0 {
            // A retelling: runs of the story's sequence with filler.
            let story = if i % 250 == 0 {
                0
            } else {
                rng.below(stories.len())
            };
            label = story as u64;
            let (seq, t) = &stories[story];
            at = (t + rng.below(2 * 86400) as i64).min(7 * 86400 - 1);
            title.push_str(&seq[..8].join(" "));
            for _ in 0..10 {
                let s = rng.below(seq.len() - 8);
                text.push_str(&seq[s..s + 8].join(" "));
                text.push_str(". ");
                vocab.sentence(&mut rng, 6, &mut text);
                text.push(' ');
            }
        } else if roll < 9 && !docs.is_empty() {
            // A verbatim syndicated copy of an earlier document.
            let j = rng.below(docs.len());
            label = labels[j];
            title = docs[j].title.clone();
            text = format!("{}\n\nTheo nguồn {}", docs[j].text, docs[j].source);
            syndicated_from = Some(docs[j].canonical_url.clone());
            at = (docs[j].instant() - week_start).num_seconds() + 3600;
            at = at.min(7 * 86400 - 1);
        } else {
            let words = 8 + rng.below(8);
            vocab.sentence(&mut rng, words, &mut title);
            let words = if roll < 60 {
                20 + rng.below(60)
            } else {
                200 + rng.below(400)
            };
            for p in 0..words.div_ceil(60) {
                if p > 0 {
                    text.push_str("\n\n");
                }
                vocab.sentence(&mut rng, 60.min(words - p * 60), &mut text);
            }
        }
        let published = week_start + Duration::seconds(at);
        let url = format!("https://nguon{source}.example.vn/tin/{seed}-{i}.html");
        let tags = if rng.below(50) == 0 {
            vec![(
                "rule".to_owned(),
                ["fraud", "misinformation", "privacy"][rng.below(3)].to_owned(),
                ["low", "medium", "high"][rng.below(3)].to_owned(),
            )]
        } else {
            Vec::new()
        };
        docs.push(DigestDoc {
            id: (seed as i64 % 1000) * 10_000_000 + i as i64,
            url: url.clone(),
            canonical_url: url,
            title,
            text,
            source: format!("Nguồn tin số {source}"),
            kind: if roll < 60 { "post" } else { "article" }.to_owned(),
            published_at: (rng.below(20) != 0).then(|| vn(published)),
            fetched_at: published + Duration::minutes(30),
            syndicated_from,
            candidate_status: (!tags.is_empty()).then(|| "open".to_owned()),
            tags,
        });
        labels.push(label);
    }
    (docs, labels)
}

/// CPU time of this thread (user + system), from /proc; `None` elsewhere.
fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the command name (which is in parentheses).
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    // Clock ticks are 100 per second on Linux.
    Some((utime + stime) / 100.0)
}

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    let tz = chrono_tz::Asia::Ho_Chi_Minh;
    let period = Period::iso_week(2023, 11).unwrap_or(Period::Week {
        year: 2023,
        week: 11,
    });
    let (start, _) = period.utc_bounds(tz);
    let (prev_start, _) = period.previous().utc_bounds(tz);

    let t = Instant::now();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let vocab = Vocab::new(8000, &mut rng);
    let (current, labels) = make_docs(n, start, 11, &vocab);
    let (previous, _) = make_docs(n, prev_start, 10, &vocab);
    let label_of: std::collections::HashMap<String, u64> = current
        .iter()
        .zip(&labels)
        .map(|(d, &l)| (d.url.clone(), l))
        .collect();
    let bytes: usize = current.iter().map(|d| d.text.len() + d.title.len()).sum();
    eprintln!(
        "generated {} + {} documents ({:.1} MB of text this week) in {:.2?}",
        current.len(),
        previous.len(),
        bytes as f64 / 1e6,
        t.elapsed()
    );
    if std::env::args().any(|a| a == "--parts") {
        // Throughput of the text pass alone.
        let mut words = Vec::new();
        let t = Instant::now();
        let mut count = 0usize;
        for d in &current {
            diembao_core::digest::word_hashes_into(&d.text, &mut words, usize::MAX);
            count += words.len();
        }
        let secs = t.elapsed().as_secs_f64();
        println!(
            "word hashes: {count} words, {:.1} MB in {secs:.3} s ({:.0} MB/s)",
            bytes as f64 / 1e6,
            bytes as f64 / 1e6 / secs
        );
    }
    let input = DigestInput {
        office: "Sở Thông tin và Truyền thông".into(),
        timezone: tz,
        period,
        current,
        previous,
        health: (0..60)
            .map(|i| SourceHealth {
                name: format!("Nguồn tin số {i}"),
                failing: i % 17 == 0,
                last_error: (i % 17 == 0).then(|| "timeout".to_owned()),
                consecutive_failures: i % 4,
            })
            .collect(),
        topics: Vec::new(),
    };

    let mut best = f64::INFINITY;
    let mut best_cpu = f64::INFINITY;
    let mut digest = None;
    for _ in 0..3 {
        let cpu = thread_cpu_seconds();
        let t = Instant::now();
        let d = build_digest(&input);
        best = best.min(t.elapsed().as_secs_f64());
        if let (Some(before), Some(after)) = (cpu, thread_cpu_seconds()) {
            best_cpu = best_cpu.min(after - before);
        }
        digest = Some(d);
    }
    let Some(d) = digest else { return };
    // Pairwise agreement with the generation labels.
    let pairs = |n: u64| n * n.saturating_sub(1) / 2;
    let mut truth: std::collections::HashMap<u64, u64> = std::collections::HashMap::new();
    for &l in &labels {
        *truth.entry(l).or_default() += 1;
    }
    let true_pairs: u64 = truth.values().map(|&c| pairs(c)).sum();
    let (mut predicted, mut correct) = (0u64, 0u64);
    for s in &d.stories {
        predicted += pairs(s.urls.len() as u64);
        let mut by_label: std::collections::HashMap<u64, u64> = std::collections::HashMap::new();
        for u in &s.urls {
            *by_label
                .entry(label_of.get(u).copied().unwrap_or(u64::MAX))
                .or_default() += 1;
        }
        correct += by_label.values().map(|&c| pairs(c)).sum::<u64>();
    }
    println!(
        "grouping vs generation labels: pair precision {:.3}, pair recall {:.3} ({correct} of {predicted} predicted pairs, {true_pairs} true pairs)",
        correct as f64 / predicted.max(1) as f64,
        correct as f64 / true_pairs.max(1) as f64
    );
    let sizes = {
        let mut v: Vec<usize> = d.stories.iter().map(|s| s.urls.len()).collect();
        v.sort_unstable();
        v
    };
    println!(
        "build_digest: {n} documents (+{n} in the comparison week): best of 3 {best:.3} s wall, \
{best_cpu:.2} s CPU; total {}, previous {}, {} sources, {} stories (largest {}, median {}), {} flagged",
        d.total,
        d.previous_total,
        d.sources.len(),
        d.stories.len(),
        sizes.last().copied().unwrap_or(0),
        sizes.get(sizes.len() / 2).copied().unwrap_or(0),
        d.flagged_documents
    );
}
