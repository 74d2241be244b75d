//! `ingest`: already-extracted documents from JSONL; `export`: every document as JSONL.

use std::io::{BufRead, Write};

use chrono::{DateTime, Utc};
use serde::Serialize;

use diembao_core::InputError;
use diembao_core::document::parse_ingest_line;
use diembao_store::{Upsert, published_with_offset};

use crate::JobError;
use crate::env::Env;

#[derive(Debug, Default, Serialize)]
pub struct IngestReport {
    pub new: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub indexed: u64,
    #[serde(skip)]
    pub errors: Vec<InputError>,
    pub failed: u64,
}

/// Reads JSONL from `reader`: every good line is stored (then indexed), every bad line is
/// reported with its number and column, and never stops the others.
pub async fn ingest_jsonl(env: &Env, reader: impl BufRead) -> Result<IngestReport, JobError> {
    let mut report = IngestReport::default();
    let now = Utc::now();
    for (index, line) in reader.lines().enumerate() {
        let line_no = index + 1;
        let line = match line {
            Ok(line) => line,
            Err(err) => {
                report.errors.push(InputError::new(
                    line_no,
                    1,
                    format!("unreadable line: {err}"),
                ));
                continue;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        let document = match parse_ingest_line(&line, line_no, now) {
            Ok(document) => document,
            Err(err) => {
                report.errors.push(err);
                continue;
            }
        };
        let source_id = match document.source_name.as_deref() {
            Some(name) => env.store.source_by_name(name).await?.map(|s| s.id),
            None => None,
        };
        let (id, upsert) = env
            .store
            .upsert_document(&document, source_id, None)
            .await?;
        match upsert {
            Upsert::New => report.new += 1,
            Upsert::Updated => report.updated += 1,
            Upsert::Unchanged => report.unchanged += 1,
        }
        if upsert != Upsert::Unchanged {
            env.tag_document(id).await?;
        }
    }
    report.failed = report.errors.len() as u64;
    report.indexed = env.index_pending().await?;
    env.merge_after_bulk(report.indexed).await?;
    Ok(report)
}

#[derive(Serialize)]
struct ExportLine<'a> {
    url: &'a str,
    canonical_url: &'a str,
    title: &'a str,
    text: &'a str,
    source: Option<&'a str>,
    author: Option<&'a str>,
    published_at: Option<String>,
    fetched_at: String,
    lang: Option<&'a str>,
    kind: &'a str,
    tags: Vec<String>,
}

/// Writes every stored document (optionally within a date range) as JSON lines.
pub async fn export_jsonl(
    env: &Env,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    mut out: impl Write,
) -> Result<u64, JobError> {
    let mut after = 0;
    let mut count = 0;
    loop {
        let page = env.store.documents_page(after, 500, since, until).await?;
        let Some(last) = page.last() else {
            return Ok(count);
        };
        after = last.id;
        let ids: Vec<i64> = page.iter().map(|d| d.id).collect();
        let mut tags: std::collections::HashMap<i64, Vec<String>> =
            std::collections::HashMap::new();
        for m in env.store.open_matches(&ids).await? {
            let entry = tags.entry(m.document_id).or_default();
            if !entry.contains(&m.rule_id) {
                entry.push(m.rule_id);
            }
        }
        for doc in &page {
            let line = ExportLine {
                url: &doc.url,
                canonical_url: &doc.canonical_url,
                title: &doc.title,
                text: &doc.text,
                source: doc.source_name.as_deref(),
                author: doc.author.as_deref(),
                published_at: published_with_offset(doc).map(|p| p.to_rfc3339()),
                fetched_at: doc.fetched_at.to_rfc3339(),
                lang: doc.lang.as_deref(),
                kind: &doc.kind,
                tags: tags.remove(&doc.id).unwrap_or_default(),
            };
            serde_json::to_writer(&mut out, &line).map_err(|e| JobError::Other(e.to_string()))?;
            out.write_all(b"\n")?;
            count += 1;
        }
    }
}
