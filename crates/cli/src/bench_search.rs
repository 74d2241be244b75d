//! `diembao bench search`: a synthetic Vietnamese corpus indexed by diembao's search and
//! by SQLite FTS5 (`unicode61 remove_diacritics 2`), the same query mix run on both in
//! one process, latencies and throughput side by side.

use std::str::FromStr;
use std::time::{Duration, Instant};

use anyhow::Result;
use chrono::{TimeZone, Utc};
use serde::Serialize;

use diembao_index::{IndexDoc, SearchIndex, SearchRequest};

use crate::bench::Lcg;

/// Common Vietnamese syllables, most frequent first (drawn with a Zipf-like law).
const SYLLABLES: &[&str] = &[
    "và",
    "của",
    "các",
    "là",
    "có",
    "được",
    "trong",
    "cho",
    "những",
    "với",
    "không",
    "người",
    "đã",
    "một",
    "này",
    "năm",
    "tỉnh",
    "công",
    "tác",
    "dân",
    "xã",
    "huyện",
    "thành",
    "phố",
    "phát",
    "triển",
    "kinh",
    "tế",
    "hội",
    "chuyển",
    "đổi",
    "số",
    "an",
    "toàn",
    "thông",
    "tin",
    "giao",
    "du",
    "lịch",
    "biển",
    "nông",
    "nghiệp",
    "điện",
    "gió",
    "mặt",
    "trời",
    "học",
    "sinh",
    "giáo",
    "dục",
    "y",
    "bệnh",
    "viện",
    "chính",
    "quyền",
    "cán",
    "bộ",
    "tổ",
    "chức",
    "hoạt",
    "động",
    "theo",
    "sẽ",
    "đang",
    "đến",
    "từ",
    "về",
    "tại",
    "ngày",
    "tháng",
    "quý",
    "kế",
    "hoạch",
    "dự",
    "án",
    "đầu",
    "tư",
    "vốn",
    "doanh",
    "nghiệp",
    "thương",
    "mại",
    "chợ",
    "giá",
    "hàng",
    "hóa",
    "sản",
    "xuất",
    "nho",
    "táo",
    "muối",
    "cừu",
    "tôm",
    "cá",
    "lúa",
    "bắp",
    "nước",
    "hạn",
    "mưa",
    "bão",
    "báo",
    "bảo",
    "lũ",
    "sạt",
    "lở",
    "đường",
    "cầu",
    "cảng",
    "sân",
    "bay",
    "trường",
    "lớp",
    "thi",
    "tốt",
    "nghiệp",
    "văn",
    "hóa",
    "lễ",
    "hội",
    "Ninh",
    "Thuận",
    "Phan",
    "Rang",
    "Tháp",
    "Chàm",
    "Hải",
    "Phước",
    "Sơn",
    "Bác",
    "Ái",
    "Cà",
    "Ná",
    "Vĩnh",
    "Hy",
    "cảnh",
    "sát",
    "công",
    "an",
    "lừa",
    "đảo",
    "mạng",
    "xã",
    "tài",
    "khoản",
    "ngân",
    "hàng",
    "chuyển",
    "khoản",
    "điều",
    "tra",
    "xử",
    "lý",
    "vi",
    "phạm",
    "pháp",
    "luật",
    "quy",
    "định",
    "nghị",
    "quyết",
    "chỉ",
    "thị",
    "ủy",
    "ban",
    "nhân",
    "lãnh",
    "đạo",
    "đồng",
    "chí",
    "phó",
    "chủ",
    "tịch",
    "giám",
    "đốc",
    "sở",
    "phòng",
    "ban",
    "ngành",
];

/// A Zipf-like draw over the syllable list.
fn syllable(rng: &mut Lcg) -> &'static str {
    let u = (rng.next() % 1_000_000) as f64 / 1_000_000.0;
    let n = SYLLABLES.len() as f64;
    let rank = ((n + 1.0).powf(u) - 1.0) as usize;
    SYLLABLES[rank.min(SYLLABLES.len() - 1)]
}

/// The synthetic documents: ~90-word texts; one in ten an unaccented social-style post.
pub fn generate(count: usize) -> Vec<IndexDoc> {
    let mut rng = Lcg(42);
    let start = Utc
        .with_ymd_and_hms(2023, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_else(Utc::now);
    (0..count)
        .map(|i| {
            let title: Vec<&str> = (0..10).map(|_| syllable(&mut rng)).collect();
            let mut text = String::new();
            for s in 0..6 {
                let words: Vec<&str> = (0..15).map(|_| syllable(&mut rng)).collect();
                text.push_str(&words.join(" "));
                text.push_str(if s == 5 { "." } else { ". " });
            }
            let post = i % 10 == 0;
            let (title, text) = if post {
                (
                    diembao_core::text::fold(&title.join(" ")).to_lowercase(),
                    diembao_core::text::fold(&text).to_lowercase(),
                )
            } else {
                (title.join(" "), text)
            };
            let date = start + chrono::Duration::minutes((i as i64 * 523) % (365 * 24 * 60));
            IndexDoc {
                id: i as i64 + 1,
                url: format!("https://bao{}.example.vn/bai-{i}.html", i % 50),
                title,
                text,
                source: Some(format!("Báo số {}", i % 50)),
                kind: if post {
                    "post".into()
                } else {
                    "article".into()
                },
                published: Some(date.to_rfc3339()),
                date,
                rules: Vec::new(),
                categories: Vec::new(),
            }
        })
        .collect()
}

/// The query mix: (name, diembao query, FTS5 MATCH expression, with a date filter).
const QUERIES: &[(&str, &str, &str, bool)] = &[
    ("single word", "biển", "biển", false),
    (
        "three words",
        "chuyển đổi số",
        "chuyển AND đổi AND số",
        false,
    ),
    (
        "phrase",
        "\"an toàn thông tin\"",
        "\"an toàn thông tin\"",
        false,
    ),
    (
        "unaccented",
        "chuyen doi so",
        "chuyen AND doi AND so",
        false,
    ),
    (
        "boolean",
        "(lừa đảo OR sạt lở) -bão",
        "(lừa AND đảo OR sạt AND lở) NOT bão",
        false,
    ),
    ("date filter", "du lịch", "du AND lịch", true),
];

#[derive(Serialize)]
pub struct QueryFigures {
    pub name: String,
    pub diembao_p50_ms: f64,
    pub diembao_p99_ms: f64,
    pub fts5_p50_ms: f64,
    pub fts5_p99_ms: f64,
    pub diembao_hits: usize,
    pub fts5_hits: usize,
    /// Each query first runs once, untimed, on both engines (the first run after
    /// loading); its time is reported here, apart from the timed rounds.
    pub diembao_first_ms: f64,
    pub fts5_first_ms: f64,
}

#[derive(Serialize)]
pub struct SearchBench {
    pub documents: usize,
    pub diembao_index_docs_per_sec: f64,
    pub diembao_index_mb: f64,
    pub fts5_load_docs_per_sec: f64,
    pub fts5_db_mb: f64,
    pub rounds: usize,
    pub queries: Vec<QueryFigures>,
    pub diembao_p50_ms: f64,
    pub diembao_p99_ms: f64,
    pub diembao_qps: f64,
    pub fts5_p50_ms: f64,
    pub fts5_p99_ms: f64,
    pub fts5_qps: f64,
    pub qps_ratio: f64,
}

fn dir_size(path: &std::path::Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

fn percentile(samples: &mut [Duration], p: f64) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    samples.sort_unstable();
    let index = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[index].as_secs_f64() * 1000.0
}

pub async fn search(count: usize, rounds: usize) -> Result<SearchBench> {
    let dir = tempfile::tempdir()?;
    eprintln!("bench: generating {count} documents…");
    let docs = generate(count);

    eprintln!("bench: indexing with diembao…");
    let index = SearchIndex::open(&dir.path().join("index"))?;
    let started = Instant::now();
    for chunk in docs.chunks(20_000) {
        index.upsert(chunk)?;
    }
    index.commit()?;
    // A bulk load ends merged into one segment, as `ingest` and `reindex` do (timed).
    index.merge_all()?;
    index.close_writer();
    index.reload()?;
    let index_rate = count as f64 / started.elapsed().as_secs_f64();
    let index_mb = dir_size(&dir.path().join("index")) as f64 / 1_048_576.0;

    eprintln!("bench: loading SQLite FTS5…");
    let db_path = dir.path().join("fts5.sqlite");
    let options =
        sqlx::sqlite::SqliteConnectOptions::from_str(&format!("sqlite://{}", db_path.display()))?
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .synchronous(sqlx::sqlite::SqliteSynchronous::Normal);
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await?;
    sqlx::query("CREATE VIRTUAL TABLE docs USING fts5(title, text, tokenize = 'unicode61 remove_diacritics 2')")
        .execute(&pool)
        .await?;
    sqlx::query("CREATE TABLE meta (id INTEGER PRIMARY KEY, date INTEGER)")
        .execute(&pool)
        .await?;
    sqlx::query("CREATE INDEX meta_date ON meta(date)")
        .execute(&pool)
        .await?;
    let started = Instant::now();
    for chunk in docs.chunks(10_000) {
        let mut tx = pool.begin().await?;
        for doc in chunk {
            sqlx::query("INSERT INTO docs(rowid, title, text) VALUES (?, ?, ?)")
                .bind(doc.id)
                .bind(&doc.title)
                .bind(&doc.text)
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO meta(id, date) VALUES (?, ?)")
                .bind(doc.id)
                .bind(doc.date.timestamp())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    }
    // FTS5's own counterpart of the merge: its b-trees merged into one (timed too).
    sqlx::query("INSERT INTO docs(docs) VALUES('optimize')")
        .execute(&pool)
        .await?;
    let fts_rate = count as f64 / started.elapsed().as_secs_f64();
    let fts_mb = std::fs::metadata(&db_path).map(|m| m.len()).unwrap_or(0) as f64 / 1_048_576.0;

    let since = Utc.with_ymd_and_hms(2023, 3, 1, 0, 0, 0).single();
    let until = Utc.with_ymd_and_hms(2023, 4, 1, 0, 0, 0).single();
    let mut figures = Vec::new();
    let (mut all_ours, mut all_fts) = (Vec::new(), Vec::new());
    let (mut ours_total, mut fts_total) = (Duration::ZERO, Duration::ZERO);
    for (name, ours, fts, dated) in QUERIES {
        let (mut ours_times, mut fts_times) = (Vec::new(), Vec::new());
        let (mut ours_hits, mut fts_hits) = (0, 0);
        let (mut ours_first, mut fts_first) = (Duration::ZERO, Duration::ZERO);
        // Round 0 is the warm-up: each engine meets the query once (its first-run time is
        // reported apart), so the timed rounds compare steady states.
        for round in 0..=rounds {
            let request = SearchRequest {
                query: (*ours).to_string(),
                limit: 20,
                since: if *dated { since } else { None },
                until: if *dated { until } else { None },
                ..Default::default()
            };
            let t = Instant::now();
            let results = index.search(&request)?;
            let took = t.elapsed();
            if round == 0 {
                ours_first = took;
            } else {
                ours_times.push(took);
                ours_total += took;
            }
            ours_hits = results.total;

            let t = Instant::now();
            let rows: Vec<(i64, String, String)> = if *dated {
                sqlx::query_as("SELECT docs.rowid, title, snippet(docs, 1, '<b>', '</b>', '…', 20) FROM docs JOIN meta ON meta.id = docs.rowid WHERE docs MATCH ? AND meta.date >= ? AND meta.date < ? ORDER BY rank LIMIT 20")
                    .bind(*fts)
                    .bind(since.map_or(0, |d| d.timestamp()))
                    .bind(until.map_or(0, |d| d.timestamp()))
                    .fetch_all(&pool)
                    .await?
            } else {
                sqlx::query_as("SELECT rowid, title, snippet(docs, 1, '<b>', '</b>', '…', 20) FROM docs WHERE docs MATCH ? ORDER BY rank LIMIT 20")
                    .bind(*fts)
                    .fetch_all(&pool)
                    .await?
            };
            let count_sql = if *dated {
                "SELECT COUNT(*) FROM docs JOIN meta ON meta.id = docs.rowid WHERE docs MATCH ? AND meta.date >= ? AND meta.date < ?"
            } else {
                "SELECT COUNT(*) FROM docs WHERE docs MATCH ?"
            };
            let (n,): (i64,) = sqlx::query_as(count_sql)
                .bind(*fts)
                .bind(since.map_or(0, |d| d.timestamp()))
                .bind(until.map_or(0, |d| d.timestamp()))
                .fetch_one(&pool)
                .await?;
            let took = t.elapsed();
            if round == 0 {
                fts_first = took;
            } else {
                fts_times.push(took);
                fts_total += took;
            }
            fts_hits = n as usize;
            let _ = rows;
        }
        all_ours.extend(ours_times.iter().copied());
        all_fts.extend(fts_times.iter().copied());
        figures.push(QueryFigures {
            name: (*name).to_string(),
            diembao_p50_ms: percentile(&mut ours_times, 0.5),
            diembao_p99_ms: percentile(&mut ours_times, 0.99),
            fts5_p50_ms: percentile(&mut fts_times, 0.5),
            fts5_p99_ms: percentile(&mut fts_times, 0.99),
            diembao_hits: ours_hits,
            fts5_hits: fts_hits,
            diembao_first_ms: ours_first.as_secs_f64() * 1000.0,
            fts5_first_ms: fts_first.as_secs_f64() * 1000.0,
        });
    }
    let queries_run = (QUERIES.len() * rounds) as f64;
    let ours_qps = queries_run / ours_total.as_secs_f64();
    let fts_qps = queries_run / fts_total.as_secs_f64();
    Ok(SearchBench {
        documents: count,
        diembao_index_docs_per_sec: index_rate,
        diembao_index_mb: index_mb,
        fts5_load_docs_per_sec: fts_rate,
        fts5_db_mb: fts_mb,
        rounds,
        queries: figures,
        diembao_p50_ms: percentile(&mut all_ours, 0.5),
        diembao_p99_ms: percentile(&mut all_ours, 0.99),
        diembao_qps: ours_qps,
        fts5_p50_ms: percentile(&mut all_fts, 0.5),
        fts5_p99_ms: percentile(&mut all_fts, 0.99),
        fts5_qps: fts_qps,
        qps_ratio: ours_qps / fts_qps,
    })
}
