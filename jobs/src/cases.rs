//! Case files: the zip a police liaison receives, and its verification.
//!
//! Layout of `case.zip`:
//!
//! ```text
//! manifest.json                      case header, items (rules and versions that fired,
//!                                    matched terms, reviews), every other file with its
//!                                    SHA-256 and size, diembao version
//! custody.json                       the case's custody log (hash chain), including the
//!                                    `exported`/`downloaded` entry of this very file
//! summary.html                       a Vietnamese summary for a non-technical reader
//! items/NN-candidate-ID/capture.warc the raw capture as WARC/1.1 (see `warc`)
//! items/NN-candidate-ID/text.txt     the extracted text, as collected
//! items/NN-candidate-ID/metadata.json its metadata, as collected
//! ```
//!
//! The manifest lists every file but itself and `custody.json`; the manifest's own SHA-256
//! is recorded in the custody entry appended for the export *before* the zip is written,
//! so `custody.json` anchors the manifest and the manifest anchors every other file.
//! [`verify_case_file`] recomputes all of it: file hashes and sizes, the WARC digests, the
//! custody chain, the manifest anchor, and that each item's capture and text are the ones
//! its `collected` custody entry pinned.
//!
//! Retention: every capture is kept (nothing deletes `DATA_DIR/captures/` yet), so the
//! captures of candidates, which a case needs at export, are always there.
//! TODO(retention): a configurable retention period for the captures of pages that never
//! became candidates (a `[captures] keep_days` setting and a pruning pass that skips any
//! capture referenced by a candidate's document or by a `collected` custody entry).

use std::collections::BTreeMap;
use std::io::{Read, Write};

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use diembao_store::{
    CollectedItem, CustodyRecord, ItemEvidence, StoreError, case_status, custody_action,
};

use crate::warc::{WarcCapture, check_warc, write_warc};
use crate::{Env, JobError};

/// Format name written in `manifest.json`.
pub const CASE_FILE_FORMAT: &str = "diembao-case-file/1";

/// A built case file.
#[derive(Debug, Clone)]
pub struct CaseFile {
    pub bytes: Vec<u8>,
    pub manifest_sha256: String,
    /// The hash of the custody entry recording this export (the chain's head in the file).
    pub custody_head: String,
    pub custody_seq: i64,
    pub items: usize,
    pub files: usize,
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn other(message: impl Into<String>) -> JobError {
    JobError::Other(message.into())
}

fn zip_error(err: zip::result::ZipError) -> JobError {
    other(format!("zip: {err}"))
}

/// HTML-escapes crawled text (everything in the summary that is not our own markup).
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn status_vi(status: &str) -> &str {
    match status {
        case_status::DRAFT => "Bản nháp (chưa được phê duyệt)",
        case_status::APPROVED => "Đã phê duyệt",
        case_status::HANDED_OVER => "Đã bàn giao",
        case_status::ACKNOWLEDGED => "Bên nhận đã xác nhận",
        case_status::CLOSED => "Đã đóng",
        other => other,
    }
}

fn action_vi(action: &str) -> &str {
    match action {
        custody_action::COLLECTED => "Thu thập bằng chứng",
        custody_action::REVIEWED => "Xét duyệt nội dung",
        custody_action::APPROVED => "Phê duyệt hồ sơ",
        custody_action::EXPORTED => "Xuất hồ sơ",
        custody_action::HANDED_OVER => "Bàn giao",
        custody_action::DOWNLOADED => "Tải hồ sơ",
        custody_action::ACKNOWLEDGED => "Xác nhận đã nhận",
        custody_action::CLOSED => "Đóng hồ sơ",
        other => other,
    }
}

fn severity_vi(severity: &str) -> &str {
    match severity {
        "high" => "Cao",
        "medium" => "Trung bình",
        "low" => "Thấp",
        other => other,
    }
}

fn category_vi(category: &str) -> String {
    match category {
        "fraud" => "Lừa đảo".into(),
        "gambling" => "Cờ bạc".into(),
        "fakenews" => "Tin giả, tin sai sự thật".into(),
        other => other.to_string(),
    }
}

fn decision_vi(decision: &str) -> &str {
    match decision {
        "confirm" => "Xác nhận vi phạm",
        "dismiss" => "Không vi phạm",
        other => other,
    }
}

/// A time for a Vietnamese reader: local time (UTC+7) and the UTC instant.
fn time_vi(rfc3339: &str) -> String {
    match DateTime::parse_from_rfc3339(rfc3339) {
        Ok(at) => {
            let local = at.with_timezone(&diembao_core::document::vietnam_offset());
            format!(
                "{} (giờ Việt Nam) · {}",
                local.format("%H:%M:%S ngày %d/%m/%Y"),
                at.with_timezone(&Utc)
                    .to_rfc3339_opts(SecondsFormat::Secs, true)
            )
        }
        Err(_) => rfc3339.to_string(),
    }
}

fn utc(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Terms of all matches of an item, first seen first.
fn matched_terms(evidence: &ItemEvidence) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    let from_candidate = evidence
        .candidate
        .terms
        .as_array()
        .cloned()
        .unwrap_or_default();
    let from_matches = evidence
        .matches
        .iter()
        .flat_map(|m| m.terms.as_array().cloned().unwrap_or_default());
    for term in from_matches.chain(from_candidate) {
        if let Some(t) = term.as_str()
            && !terms.iter().any(|x| x == t)
        {
            terms.push(t.to_string());
        }
    }
    terms
}

struct ItemFiles {
    dir: String,
    warc: Option<(String, Vec<u8>)>,
    text: (String, Vec<u8>),
    metadata: (String, Vec<u8>),
}

impl Env {
    /// Builds the case file, appending the custody entry (`exported` or `downloaded`, by
    /// `actor`) that records the manifest's hash before the zip is written.
    pub async fn build_case_file(
        &self,
        case_id: i64,
        actor: &str,
        action: &str,
        extra: Value,
    ) -> Result<CaseFile, JobError> {
        let case = self
            .store
            .case(case_id)
            .await?
            .ok_or_else(|| StoreError::Invalid(format!("no case {case_id}")))?;
        let evidence = self.store.case_evidence(case_id).await?;
        let custody_before: Vec<CustodyRecord> = self
            .store
            .custody_log(case_id)
            .await?
            .iter()
            .map(CustodyRecord::from_entry)
            .collect();
        let generated_at = Utc::now();

        // Per item: the WARC of its capture, its text and its metadata, as collected.
        let mut item_files = Vec::new();
        for (i, ev) in evidence.iter().enumerate() {
            let dir = format!("items/{:02}-candidate-{}", i + 1, ev.candidate.id);
            let collected = &ev.collected;
            let warc = match (&collected.capture_id, &ev.capture) {
                (None, _) => None,
                (Some(id), None) => {
                    return Err(other(format!(
                        "candidate {}: its capture {id} is no longer in the database; cannot export the evidence",
                        ev.candidate.id
                    )));
                }
                (Some(_), Some(capture)) => {
                    let path = self.data_dir.join(&capture.path);
                    let payload = self.read_capture(capture).await.map_err(|e| {
                        other(format!(
                            "candidate {}: capture file {}: {e}; cannot export the evidence",
                            ev.candidate.id,
                            path.display()
                        ))
                    })?;
                    let sha = sha256_hex(&payload);
                    if sha != capture.sha256 || Some(&sha) != collected.capture_sha256.as_ref() {
                        return Err(other(format!(
                            "candidate {}: capture file {} has sha256 {sha}, not the {} recorded at collection: the evidence is damaged; not exporting",
                            ev.candidate.id,
                            path.display(),
                            collected
                                .capture_sha256
                                .as_deref()
                                .unwrap_or(&capture.sha256)
                        )));
                    }
                    let headers: Vec<(String, String)> = capture
                        .headers
                        .as_ref()
                        .and_then(Value::as_object)
                        .map(|o| {
                            o.iter()
                                .map(|(k, v)| {
                                    (
                                        k.clone(),
                                        v.as_str().map_or_else(|| v.to_string(), str::to_string),
                                    )
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    let status = u16::try_from(capture.status).unwrap_or(200);
                    let bytes = write_warc(&WarcCapture {
                        url: &capture.url,
                        status,
                        headers,
                        payload: &payload,
                        captured_at: capture.captured_at,
                        user_agent: &self.config.crawl.user_agent,
                        filename: "capture.warc",
                        is_part_of: &format!(
                            "diembao case {case_id}, candidate {}",
                            ev.candidate.id
                        ),
                    });
                    Some((format!("{dir}/capture.warc"), bytes))
                }
            };
            let text = collected.text.as_bytes().to_vec();
            let metadata = json!({
                "candidate_id": collected.candidate_id,
                "document_id": collected.document_id,
                "url": collected.url,
                "canonical_url": collected.canonical_url,
                "title": collected.title,
                "source": collected.source,
                "author": collected.author,
                "kind": collected.kind,
                "lang": collected.lang,
                "published_at": collected.published_at,
                "fetched_at": collected.fetched_at,
                "content_hash": collected.content_hash,
                "text_file": format!("{dir}/text.txt"),
                "text_sha256": collected.text_sha256,
                "text_bytes": text.len(),
                "capture": ev.capture.as_ref().map(|c| json!({
                    "capture_id": c.id,
                    "url": c.url,
                    "status": c.status,
                    "content_type": c.content_type,
                    "headers": c.headers,
                    "sha256": c.sha256,
                    "size": c.size,
                    "captured_at": utc(&c.captured_at),
                    "warc_file": format!("{dir}/capture.warc"),
                })),
            });
            let metadata =
                serde_json::to_vec_pretty(&metadata).map_err(|e| other(e.to_string()))?;
            item_files.push(ItemFiles {
                warc,
                text: (format!("{dir}/text.txt"), text),
                metadata: (format!("{dir}/metadata.json"), metadata),
                dir,
            });
        }

        let mut listed: Vec<(String, Vec<u8>)> = Vec::new();
        for files in &item_files {
            if let Some(w) = &files.warc {
                listed.push(w.clone());
            }
            listed.push(files.text.clone());
            listed.push(files.metadata.clone());
        }
        let summary = render_summary(&SummaryInput {
            office: &self.config.office.name,
            case: &case,
            evidence: &evidence,
            files: &listed,
            custody: &custody_before,
            generated_at: &generated_at,
            generated_by: actor,
        });
        listed.insert(0, ("summary.html".to_string(), summary.into_bytes()));

        let items: Vec<Value> = evidence
            .iter()
            .zip(&item_files)
            .enumerate()
            .map(|(i, (ev, files))| manifest_item(i + 1, ev, files))
            .collect();
        let manifest = json!({
            "format": CASE_FILE_FORMAT,
            "diembao_version": env!("CARGO_PKG_VERSION"),
            "generated_at": utc(&generated_at),
            "generated_by": actor,
            "purpose": action,
            "office": self.config.office.name,
            "hash_algorithm": "sha256",
            "warc_digest_encoding": "base16",
            "case": {
                "id": case.id,
                "title": case.title,
                "summary": case.summary,
                "legal_basis": case.legal_basis,
                "status": case.status,
                "created_by": case.created_by,
                "created_at": utc(&case.created_at),
                "approved_by": case.approved_by,
                "approval_note": case.approval_note,
                "handed_to": case.handed_to,
                "updated_at": utc(&case.updated_at),
            },
            "items": items,
            "files": listed.iter().map(|(path, bytes)| json!({"path": path, "sha256": sha256_hex(bytes), "size": bytes.len()})).collect::<Vec<_>>(),
            "custody": {
                "file": "custody.json",
                "anchor": "the last `exported` or `downloaded` entry of custody.json records the sha256 of this manifest",
                "hash": "sha256 of the compact JSON array [prev_hash, seq, action, actor, item_id, item_sha256, detail, at]; genesis prev_hash is 64 zeros",
            },
        });
        let manifest = serde_json::to_vec_pretty(&manifest).map_err(|e| other(e.to_string()))?;
        let manifest_sha256 = sha256_hex(&manifest);

        // The custody entry goes in before the zip is written, so the zip's log holds it.
        let mut detail = json!({
            "manifest_sha256": manifest_sha256,
            "items": evidence.iter().map(|e| e.candidate.id).collect::<Vec<_>>(),
            "files": listed.len() + 2,
        });
        if let (Some(d), Some(extra)) = (detail.as_object_mut(), extra.as_object()) {
            for (k, v) in extra {
                d.insert(k.clone(), v.clone());
            }
        }
        let entry = self
            .store
            .append_custody(case_id, action, actor, detail)
            .await?;
        let custody: Vec<CustodyRecord> = self
            .store
            .custody_log(case_id)
            .await?
            .iter()
            .map(CustodyRecord::from_entry)
            .collect();
        let custody_json = serde_json::to_vec_pretty(&json!({
            "case_id": case_id,
            "hash_algorithm": "sha256",
            "genesis_prev_hash": diembao_store::GENESIS_HASH,
            "entries": custody,
        }))
        .map_err(|e| other(e.to_string()))?;

        let mut all = vec![
            ("manifest.json".to_string(), manifest),
            ("custody.json".to_string(), custody_json),
        ];
        all.extend(listed);
        let files = all.len();
        let bytes = write_zip(&all, &generated_at)?;
        Ok(CaseFile {
            bytes,
            manifest_sha256,
            custody_head: entry.hash,
            custody_seq: i64::from(entry.seq),
            items: evidence.len(),
            files,
        })
    }
}

fn manifest_item(n: usize, ev: &ItemEvidence, files: &ItemFiles) -> Value {
    let c = &ev.collected;
    let latest = ev
        .reviews
        .iter()
        .rev()
        .find(|r| r.decision == "confirm")
        .or(ev.reviews.last());
    json!({
        "n": n,
        "candidate_id": ev.candidate.id,
        "document_id": c.document_id,
        "dir": files.dir,
        "url": c.url,
        "canonical_url": c.canonical_url,
        "title": c.title,
        "source": c.source,
        "author": c.author,
        "published_at": c.published_at,
        "fetched_at": c.fetched_at,
        "severity": ev.candidate.severity,
        "categories": ev.candidate.categories,
        "capture": ev.capture.as_ref().map(|cap| json!({
            "capture_id": cap.id,
            "sha256": cap.sha256,
            "size": cap.size,
            "status": cap.status,
            "content_type": cap.content_type,
            "captured_at": utc(&cap.captured_at),
            "url": cap.url,
        })),
        "evidence_sha256": c.capture_sha256.clone().unwrap_or_else(|| c.content_hash.clone()),
        "text_sha256": c.text_sha256,
        "rules": ev.matches.iter().map(|m| json!({
            "rule_id": m.rule_id,
            "category": m.category,
            "severity": m.severity,
            "rule_version_id": m.rule_version_id,
            "rule_set": m.rule_set,
            "rule_version": m.rule_version,
            "rule_version_sha256": m.rule_version_sha256,
            "terms": m.terms,
            "offsets": m.offsets,
            "matched_at": m.matched_at,
            "closed_at": m.closed_at,
        })).collect::<Vec<_>>(),
        "terms": matched_terms(ev),
        "decision": latest.map(|r| json!({"decision": r.decision, "reviewer": r.reviewer, "note": r.note, "at": utc(&r.created_at)})),
        "reviews": ev.reviews.iter().map(|r| json!({"decision": r.decision, "reviewer": r.reviewer, "note": r.note, "at": utc(&r.created_at)})).collect::<Vec<_>>(),
        "files": {
            "warc": files.warc.as_ref().map(|(p, _)| p.clone()),
            "text": files.text.0,
            "metadata": files.metadata.0,
        },
    })
}

fn write_zip(files: &[(String, Vec<u8>)], at: &DateTime<Utc>) -> Result<Vec<u8>, JobError> {
    use chrono::{Datelike, Timelike};
    let when = zip::DateTime::from_date_and_time(
        u16::try_from(at.year()).unwrap_or(1980),
        at.month() as u8,
        at.day() as u8,
        at.hour() as u8,
        at.minute() as u8,
        at.second() as u8,
    )
    .unwrap_or_default();
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(when);
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in files {
        writer
            .start_file(name.as_str(), options)
            .map_err(zip_error)?;
        writer.write_all(bytes)?;
    }
    Ok(writer.finish().map_err(zip_error)?.into_inner())
}

struct SummaryInput<'a> {
    office: &'a str,
    case: &'a diembao_store::Case,
    evidence: &'a [ItemEvidence],
    files: &'a [(String, Vec<u8>)],
    custody: &'a [CustodyRecord],
    generated_at: &'a DateTime<Utc>,
    generated_by: &'a str,
}

const SUMMARY_CSS: &str = "body{font-family:system-ui,'Segoe UI',Arial,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a;line-height:1.5}\
h1{font-size:1.5rem}h2{font-size:1.2rem;border-bottom:1px solid #ccc;margin-top:2rem}h3{font-size:1.05rem}\
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}\
th{background:#f3f3f3;width:14rem}.hash{font-family:monospace;font-size:.8rem;word-break:break-all}\
.text{white-space:pre-wrap;background:#fafafa;border:1px solid #ddd;padding:.75rem}.draft{color:#a00;font-weight:bold}\
.term{background:#fff3b0}";

fn row(out: &mut String, label: &str, value_html: &str) {
    out.push_str(&format!("<tr><th>{label}</th><td>{value_html}</td></tr>\n"));
}

fn opt(value: Option<&str>) -> String {
    value.map_or_else(|| "—".to_string(), escape_html)
}

/// `summary.html`: what the case is, in Vietnamese, for a reader without the tools.
/// Every crawled or typed value is escaped.
fn render_summary(input: &SummaryInput<'_>) -> String {
    let case = input.case;
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str(&format!(
        "<title>Hồ sơ vụ việc số {} – {}</title>\n",
        case.id,
        escape_html(&case.title)
    ));
    out.push_str(&format!("<style>{SUMMARY_CSS}</style>\n</head>\n<body>\n"));
    if !input.office.is_empty() {
        out.push_str(&format!("<p>{}</p>\n", escape_html(input.office)));
    }
    out.push_str(&format!(
        "<h1>Hồ sơ vụ việc số {}: {}</h1>\n",
        case.id,
        escape_html(&case.title)
    ));
    if case.status == case_status::DRAFT {
        out.push_str("<p class=\"draft\">BẢN NHÁP: hồ sơ này chưa được phê duyệt.</p>\n");
    }
    out.push_str("<p>Tài liệu này tóm tắt các nội dung đăng tải trên mạng bị xác định là vi phạm pháp luật, \
        nơi và thời điểm chúng được đăng, bằng chứng đã lưu giữ nguyên trạng, và ai đã quyết định những gì. \
        Bản gốc của từng trang (tệp WARC), nội dung văn bản và dữ liệu kèm theo nằm trong cùng tệp nén.</p>\n");

    out.push_str("<h2>Thông tin hồ sơ</h2>\n<table>\n");
    row(&mut out, "Tiêu đề", &escape_html(&case.title));
    row(
        &mut out,
        "Trạng thái",
        &escape_html(status_vi(&case.status)),
    );
    row(&mut out, "Tóm tắt", &opt(case.summary.as_deref()));
    row(
        &mut out,
        "Căn cứ pháp lý",
        &opt(case.legal_basis.as_deref()),
    );
    row(&mut out, "Người lập hồ sơ", &escape_html(&case.created_by));
    row(
        &mut out,
        "Ngày lập",
        &escape_html(&time_vi(&utc(&case.created_at))),
    );
    row(
        &mut out,
        "Người phê duyệt",
        &opt(case.approved_by.as_deref()),
    );
    row(
        &mut out,
        "Ý kiến phê duyệt",
        &opt(case.approval_note.as_deref()),
    );
    row(&mut out, "Bàn giao cho", &opt(case.handed_to.as_deref()));
    row(
        &mut out,
        "Số nội dung vi phạm",
        &input.evidence.len().to_string(),
    );
    row(
        &mut out,
        "Tệp được tạo lúc",
        &escape_html(&format!(
            "{} bởi {}",
            time_vi(&utc(input.generated_at)),
            input.generated_by
        )),
    );
    out.push_str("</table>\n");

    out.push_str("<h2>Các nội dung vi phạm</h2>\n");
    let file_hash = |path: &str| -> String {
        input
            .files
            .iter()
            .find(|(p, _)| p == path)
            .map_or_else(String::new, |(_, b)| sha256_hex(b))
    };
    for (i, ev) in input.evidence.iter().enumerate() {
        let c = &ev.collected;
        out.push_str(&format!(
            "<h3>{}. {}</h3>\n<table>\n",
            i + 1,
            escape_html(&c.title)
        ));
        row(&mut out, "Nguồn đăng", &opt(c.source.as_deref()));
        row(&mut out, "Tác giả / tài khoản", &opt(c.author.as_deref()));
        row(
            &mut out,
            "Địa chỉ (URL)",
            &format!("<span class=\"hash\">{}</span>", escape_html(&c.url)),
        );
        row(
            &mut out,
            "Thời điểm đăng",
            &c.published_at
                .as_deref()
                .map_or_else(|| "không rõ".to_string(), |p| escape_html(&time_vi(p))),
        );
        let captured = ev
            .capture
            .as_ref()
            .map(|cap| utc(&cap.captured_at))
            .unwrap_or_else(|| c.fetched_at.clone());
        row(
            &mut out,
            "Thời điểm thu thập",
            &escape_html(&time_vi(&captured)),
        );
        let mut rules = String::new();
        for m in &ev.matches {
            rules.push_str(&format!(
                "{} ({}, mức độ {}){}<br>\n",
                escape_html(&m.rule_id),
                escape_html(&category_vi(&m.category)),
                escape_html(severity_vi(&m.severity)),
                m.rule_version.map_or_else(String::new, |v| format!(
                    ", bộ quy tắc {} phiên bản {v}",
                    escape_html(m.rule_set.as_deref().unwrap_or("?"))
                )),
            ));
        }
        row(
            &mut out,
            "Quy tắc phát hiện",
            if rules.is_empty() { "—" } else { &rules },
        );
        let terms: Vec<String> = matched_terms(ev)
            .iter()
            .map(|t| format!("<span class=\"term\">{}</span>", escape_html(t)))
            .collect();
        row(
            &mut out,
            "Từ ngữ phát hiện",
            &if terms.is_empty() {
                "—".to_string()
            } else {
                terms.join(", ")
            },
        );
        let mut decisions = String::new();
        for r in &ev.reviews {
            decisions.push_str(&format!(
                "{}: {} lúc {}{}<br>\n",
                escape_html(&r.reviewer),
                escape_html(decision_vi(&r.decision)),
                escape_html(&time_vi(&utc(&r.created_at))),
                r.note
                    .as_deref()
                    .map_or_else(String::new, |n| format!(" – “{}”", escape_html(n))),
            ));
        }
        row(
            &mut out,
            "Quyết định của người duyệt",
            if decisions.is_empty() {
                "—"
            } else {
                &decisions
            },
        );
        let dir = format!("items/{:02}-candidate-{}", i + 1, ev.candidate.id);
        let mut files = String::new();
        for name in ["capture.warc", "text.txt", "metadata.json"] {
            let path = format!("{dir}/{name}");
            let hash = file_hash(&path);
            if !hash.is_empty() {
                files.push_str(&format!(
                    "{}<br><span class=\"hash\">SHA-256: {hash}</span><br>\n",
                    escape_html(&path)
                ));
            }
        }
        if ev.capture.is_none() {
            files.push_str("(nội dung được nhập từ nguồn khác, không có bản chụp gốc)<br>\n");
        }
        row(&mut out, "Tệp bằng chứng", &files);
        out.push_str("</table>\n");
        out.push_str(&format!(
            "<p><strong>Nội dung:</strong></p>\n<div class=\"text\">{}</div>\n",
            escape_html(&c.text)
        ));
    }

    out.push_str("<h2>Nhật ký lưu giữ bằng chứng</h2>\n<p>Mỗi bước được ghi lại theo thứ tự, kèm mã băm của bước trước, \
        nên không thể xoá, sửa hay đảo thứ tự một bước mà không bị phát hiện. Nhật ký đầy đủ, gồm cả lần xuất tệp này, \
        nằm trong tệp custody.json.</p>\n<table>\n<tr><th>STT</th><th>Thời điểm</th><th>Việc</th><th>Người thực hiện</th><th>Mã băm</th></tr>\n");
    for e in input.custody {
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}{}</td><td>{}</td><td class=\"hash\">{}</td></tr>\n",
            e.seq,
            escape_html(&time_vi(&e.at)),
            escape_html(action_vi(&e.action)),
            e.item_id
                .map_or_else(String::new, |id| format!(" (nội dung #{id})")),
            escape_html(&e.actor),
            escape_html(&e.hash),
        ));
    }
    out.push_str("</table>\n");

    out.push_str("<h2>Cách kiểm tra tính toàn vẹn</h2>\n<p>Tệp manifest.json ghi mã băm SHA-256 và kích thước của từng tệp \
        trong hồ sơ; mã băm của chính manifest.json được ghi trong nhật ký lưu giữ (custody.json). Chỉ cần một byte thay đổi, \
        mã băm sẽ khác. Có thể kiểm tra toàn bộ bằng lệnh <code>diembao cases verify hoso.zip</code>, hoặc tự tính mã băm \
        của từng tệp (ví dụ lệnh <code>sha256sum</code>) và so với manifest.json.</p>\n");
    out.push_str(&format!(
        "<p>Tạo bởi diembao {} lúc {}.</p>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION"),
        escape_html(&utc(input.generated_at))
    ));
    out
}

/// What [`verify_case_file`] found.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct CaseFileCheck {
    pub case_id: Option<i64>,
    pub files: usize,
    pub items: usize,
    pub custody_entries: usize,
    pub custody_head: Option<String>,
    /// One line per file or custody entry that does not check out.
    pub problems: Vec<String>,
}

impl CaseFileCheck {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Problems grouped by what they are about, in the order found.
#[derive(Default)]
struct Problems(Vec<(String, Vec<String>)>);

impl Problems {
    fn add(&mut self, subject: impl Into<String>, reason: impl Into<String>) {
        let subject = subject.into();
        let reason = reason.into();
        match self.0.iter_mut().find(|(s, _)| *s == subject) {
            Some((_, reasons)) => {
                if !reasons.contains(&reason) {
                    reasons.push(reason);
                }
            }
            None => self.0.push((subject, vec![reason])),
        }
    }

    fn lines(self) -> Vec<String> {
        self.0
            .into_iter()
            .map(|(s, r)| format!("{s}: {}", r.join("; ")))
            .collect()
    }
}

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

/// Recomputes every hash of a case file and its custody chain.
pub fn verify_case_file(bytes: &[u8]) -> CaseFileCheck {
    let mut check = CaseFileCheck::default();
    let mut problems = Problems::default();
    let mut archive = match zip::ZipArchive::new(std::io::Cursor::new(bytes)) {
        Ok(archive) => archive,
        Err(err) => {
            check
                .problems
                .push(format!("case file: not a readable zip archive ({err})"));
            return check;
        }
    };
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut order = Vec::new();
    for i in 0..archive.len() {
        let mut file = match archive.by_index(i) {
            Ok(file) => file,
            Err(err) => {
                problems.add(
                    format!("zip entry {}", i + 1),
                    format!("cannot be read ({err})"),
                );
                continue;
            }
        };
        if file.is_dir() {
            continue;
        }
        let name = match file.name() {
            Ok(name) => name.to_string(),
            Err(err) => {
                problems.add(format!("zip entry {}", i + 1), format!("bad name ({err})"));
                continue;
            }
        };
        let mut content = Vec::new();
        if let Err(err) = file.read_to_end(&mut content) {
            problems.add(name.clone(), format!("cannot be read ({err})"));
            continue;
        }
        if files.insert(name.clone(), content).is_some() {
            problems.add(name.clone(), "appears twice in the zip");
        }
        order.push(name);
    }
    check.files = files.len();

    // The manifest and the files it lists.
    let manifest_bytes = files.get("manifest.json").cloned();
    let manifest: Option<Value> = match &manifest_bytes {
        None => {
            problems.add("manifest.json", "missing");
            None
        }
        Some(bytes) => match serde_json::from_slice(bytes) {
            Ok(value) => Some(value),
            Err(err) => {
                problems.add("manifest.json", format!("not valid JSON ({err})"));
                None
            }
        },
    };
    let mut listed: BTreeMap<String, String> = BTreeMap::new();
    if let Some(manifest) = &manifest {
        check.case_id = manifest["case"]["id"].as_i64();
        check.items = manifest["items"].as_array().map_or(0, Vec::len);
        for entry in manifest["files"].as_array().into_iter().flatten() {
            let (Some(path), Some(sha)) = (entry["path"].as_str(), entry["sha256"].as_str()) else {
                problems.add("manifest.json", "a file entry lacks its path or sha256");
                continue;
            };
            listed.insert(path.to_string(), sha.to_string());
            match files.get(path) {
                None => problems.add(
                    path,
                    "listed in the manifest but missing from the case file",
                ),
                Some(content) => {
                    let actual = sha256_hex(content);
                    if actual != sha {
                        problems.add(
                            path,
                            format!(
                                "sha256 {} differs from the manifest's {} (the file was changed)",
                                short(&actual),
                                short(sha)
                            ),
                        );
                    }
                    if entry["size"].as_u64() != Some(content.len() as u64) {
                        problems.add(
                            path,
                            format!(
                                "size {} differs from the manifest's {}",
                                content.len(),
                                entry["size"]
                            ),
                        );
                    }
                }
            }
        }
        for name in &order {
            if name != "manifest.json" && name != "custody.json" && !listed.contains_key(name) {
                problems.add(name.clone(), "not listed in the manifest");
            }
        }
    }

    // The custody chain.
    let custody: Vec<CustodyRecord> = match files.get("custody.json") {
        None => {
            problems.add("custody.json", "missing");
            Vec::new()
        }
        Some(bytes) => match serde_json::from_slice::<Value>(bytes)
            .map_err(|e| e.to_string())
            .and_then(|v| {
                serde_json::from_value::<Vec<CustodyRecord>>(v["entries"].clone())
                    .map_err(|e| e.to_string())
            }) {
            Ok(entries) => entries,
            Err(err) => {
                problems.add("custody.json", format!("not a custody log ({err})"));
                Vec::new()
            }
        },
    };
    check.custody_entries = custody.len();
    check.custody_head = custody.last().map(|e| e.hash.clone());
    if files.contains_key("custody.json") && !custody.is_empty() {
        for line in diembao_store::verify_chain(&custody) {
            problems.add(line, "");
        }
    }

    // The manifest anchor: the last export entry records the manifest's hash.
    if let Some(bytes) = &manifest_bytes
        && !custody.is_empty()
    {
        let actual = sha256_hex(bytes);
        match custody.iter().rev().find(|e| {
            e.action == custody_action::EXPORTED || e.action == custody_action::DOWNLOADED
        }) {
            None => problems.add(
                "custody.json",
                "no `exported` or `downloaded` entry records the manifest",
            ),
            Some(entry) => {
                let recorded = entry.detail_json()["manifest_sha256"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_default();
                if recorded != actual {
                    problems.add(
                        "manifest.json",
                        format!("sha256 {} differs from the {} recorded by custody entry seq {} (the manifest was changed)", short(&actual), short(&recorded), entry.seq),
                    );
                }
            }
        }
    }

    // Each item against what its `collected` entry pinned, and its WARC's own digests.
    if let Some(manifest) = &manifest {
        for item in manifest["items"].as_array().into_iter().flatten() {
            let candidate = item["candidate_id"].as_i64();
            let label = format!(
                "item {} (candidate {})",
                item["n"],
                candidate.map_or_else(|| "?".to_string(), |c| c.to_string())
            );
            let collected = custody.iter().find(|e| {
                e.action == custody_action::COLLECTED
                    && e.item_id == candidate
                    && candidate.is_some()
            });
            let pinned: Option<CollectedItem> = collected
                .and_then(|e| serde_json::from_str(e.detail.as_deref().unwrap_or("")).ok());
            if !custody.is_empty() && pinned.is_none() {
                problems.add(label.clone(), "no `collected` custody entry pins it");
            }
            let evidence_sha = item["evidence_sha256"].as_str().unwrap_or("");
            if let Some(entry) = collected
                && entry.item_sha256.as_deref() != Some(evidence_sha)
            {
                problems.add(label.clone(), format!("evidence sha256 differs from the one custody entry seq {} recorded at collection", entry.seq));
            }
            if let Some(path) = item["files"]["text"].as_str()
                && let Some(content) = files.get(path)
                && let Some(pinned) = &pinned
                && sha256_hex(content) != pinned.text_sha256
            {
                problems.add(path, "the text is not the one recorded at collection");
            }
            if let Some(path) = item["files"]["warc"].as_str()
                && let Some(content) = files.get(path)
            {
                let warc = check_warc(content);
                for p in &warc.problems {
                    problems.add(path, p.clone());
                }
                if let Some(payload) = &warc.payload_sha256
                    && payload != evidence_sha
                {
                    problems.add(
                        path,
                        format!(
                            "payload sha256 {} is not the captured {}",
                            short(payload),
                            short(evidence_sha)
                        ),
                    );
                }
            }
        }
    }

    check.problems = problems
        .lines()
        .into_iter()
        .map(|l| l.strip_suffix(": ").map(str::to_string).unwrap_or(l))
        .collect();
    check
}
