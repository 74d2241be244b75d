//! The pages beyond search: document, review queue, digests, sources, rules, users.
//! Everything from the outside goes through [`esc`]; links only through [`safe_href`].

use std::fmt::Write;

use chrono::{DateTime, Utc};
use diembao_store::{Candidate, Document, MatchRow, Source, published_with_offset};

use crate::Viewer;
use crate::api::{
    CandidateQuery, DocumentDetail, Relation, RuleTest, RuleVersionRow, SourceForm, UserForm,
};
use crate::auth::{Action, allowed};
use crate::html::{esc, page, page_with, safe_href};

/// A time in Vietnam time, as the office reads it.
pub(crate) fn fmt_time(at: DateTime<Utc>) -> String {
    at.with_timezone(&diembao_core::document::vietnam_offset())
        .format("%d/%m/%Y %H:%M")
        .to_string()
}

fn fmt_opt(at: Option<DateTime<Utc>>) -> String {
    at.map(fmt_time).unwrap_or_else(|| "—".into())
}

fn published(doc: &Document) -> String {
    published_with_offset(doc)
        .map(|d| d.format("%d/%m/%Y %H:%M").to_string())
        .unwrap_or_else(|| "—".into())
}

fn severity_label(severity: &str) -> &'static str {
    match severity {
        "high" => "Cao",
        "medium" => "Trung bình",
        "low" => "Thấp",
        _ => "Khác",
    }
}

fn severity_class(severity: &str) -> &'static str {
    match severity {
        "high" => "sev-high",
        "medium" => "sev-medium",
        _ => "sev-low",
    }
}

fn status_label(status: &str) -> &'static str {
    match status {
        "open" => "Chờ xét duyệt",
        "confirmed" => "Đã xác nhận vi phạm",
        "dismissed" => "Đã bác bỏ",
        _ => "Khác",
    }
}

fn csrf_field(viewer: &Viewer) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        esc(&viewer.csrf)
    )
}

fn strings(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn tags(values: &[String]) -> String {
    values
        .iter()
        .map(|t| format!("<span class=\"tag\">{}</span>", esc(t)))
        .collect()
}

/// A page telling something to a signed-in viewer.
pub(crate) fn message(office: &str, viewer: &Viewer, title: &str, text: &str) -> String {
    page(
        office,
        Some(viewer),
        title,
        &format!("<h2>{}</h2><p>{}</p>", esc(title), esc(text)),
    )
}

/// `text` with the byte spans marked (`<mark>`), everything escaped. Spans that are out
/// of range or not on character boundaries are ignored; overlapping spans are merged.
pub(crate) fn highlight(text: &str, spans: &[(usize, usize, String)]) -> String {
    let mut spans: Vec<(usize, usize, Vec<&str>)> = spans
        .iter()
        .filter(|(s, e, _)| {
            s < e && *e <= text.len() && text.is_char_boundary(*s) && text.is_char_boundary(*e)
        })
        .map(|(s, e, label)| (*s, *e, vec![label.as_str()]))
        .collect();
    spans.sort_by_key(|(s, e, _)| (*s, *e));
    let mut merged: Vec<(usize, usize, Vec<&str>)> = Vec::new();
    for (s, e, labels) in spans {
        match merged.last_mut() {
            Some(last) if s <= last.1 => {
                last.1 = last.1.max(e);
                for l in labels {
                    if !last.2.contains(&l) {
                        last.2.push(l);
                    }
                }
            }
            _ => merged.push((s, e, labels)),
        }
    }
    let mut out = String::with_capacity(text.len() + merged.len() * 32);
    let mut at = 0;
    for (s, e, labels) in merged {
        out.push_str(&esc(&text[at..s]));
        let _ = write!(
            out,
            "<mark title=\"{}\">{}</mark>",
            esc(&labels.join(", ")),
            esc(&text[s..e])
        );
        at = e;
    }
    out.push_str(&esc(&text[at..]));
    out
}

/// The spans of a document field (`title`, `text`) in the stored match offsets
/// (`[["text", start, end], …]`).
fn field_spans(matches: &[MatchRow], field: &str) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    for m in matches {
        for offset in m.offsets.as_array().into_iter().flatten() {
            let Some(parts) = offset.as_array() else {
                continue;
            };
            let (Some(name), Some(start), Some(end)) = (
                parts.first().and_then(|v| v.as_str()),
                parts.get(1).and_then(|v| v.as_u64()),
                parts.get(2).and_then(|v| v.as_u64()),
            ) else {
                continue;
            };
            if name == field {
                out.push((start as usize, end as usize, m.rule_id.clone()));
            }
        }
    }
    out
}

fn link_or_text(url: &str, label: &str) -> String {
    match safe_href(url) {
        Some(href) => format!(
            "<a href=\"{href}\" rel=\"noopener noreferrer nofollow\">{}</a>",
            esc(label)
        ),
        None => esc(label),
    }
}

// ---------------------------------------------------------------- document

pub(crate) fn document_page(office: &str, viewer: &Viewer, detail: &DocumentDetail) -> String {
    let doc = &detail.doc;
    let mut body = String::new();
    let _ = write!(
        body,
        "<h2>{}</h2>",
        highlight(&doc.title, &field_spans(&detail.matches, "title"))
    );
    let mut links = vec![link_or_text(&doc.url, "Bài gốc trên trang nguồn")];
    if detail.capture.is_some() {
        links.push(format!(
            "<a href=\"/documents/{}/capture\">Bản lưu khi thu thập</a>",
            doc.id
        ));
    }
    let _ = write!(
        body,
        "<p class=\"meta\">{} · {} · {}</p>",
        esc(doc.source_name.as_deref().unwrap_or("(không rõ nguồn)")),
        esc(&published(doc)),
        links.join(" · ")
    );
    if !detail.matches.is_empty() || detail.candidate.is_some() {
        body.push_str("<p>");
        for m in &detail.matches {
            let _ = write!(
                body,
                "<span class=\"tag {}\">{} · {} · {}</span>",
                severity_class(&m.severity),
                esc(&m.rule_id),
                esc(&m.category),
                severity_label(&m.severity)
            );
        }
        if let Some(c) = &detail.candidate {
            let _ = write!(
                body,
                " <a href=\"/review?status={}\">{}</a>{}",
                esc(&c.status),
                status_label(&c.status),
                c.assignee
                    .as_deref()
                    .map(|a| format!(" · người xử lý: {}", esc(a)))
                    .unwrap_or_default()
            );
        }
        body.push_str("</p>");
    }
    let row = |body: &mut String, label: &str, value: String| {
        let _ = write!(body, "<dt>{}</dt><dd>{value}</dd>", esc(label));
    };
    body.push_str("<dl class=\"meta\">");
    row(
        &mut body,
        "Nguồn",
        esc(doc.source_name.as_deref().unwrap_or("—")),
    );
    row(&mut body, "Loại", esc(&doc.kind));
    row(
        &mut body,
        "Tác giả",
        esc(doc.author.as_deref().unwrap_or("—")),
    );
    row(&mut body, "Ngày đăng", esc(&published(doc)));
    row(&mut body, "Thu thập lúc", esc(&fmt_time(doc.fetched_at)));
    row(
        &mut body,
        "Ngôn ngữ",
        esc(doc.lang.as_deref().unwrap_or("—")),
    );
    row(&mut body, "Địa chỉ", link_or_text(&doc.url, &doc.url));
    if doc.canonical_url != doc.url {
        row(
            &mut body,
            "Địa chỉ chuẩn",
            link_or_text(&doc.canonical_url, &doc.canonical_url),
        );
    }
    if let Some(from) = &doc.syndicated_from_url {
        row(&mut body, "Đăng lại từ", link_or_text(from, from));
    }
    if let Some(capture) = &detail.capture {
        row(
            &mut body,
            "Bản lưu",
            format!(
                "HTTP {} · {} byte · SHA-256 <code>{}</code> · {}",
                capture.status,
                capture.size,
                esc(&capture.sha256),
                esc(&fmt_time(capture.captured_at))
            ),
        );
    }
    body.push_str("</dl>");
    let _ = write!(
        body,
        "<h3>Nội dung</h3><div class=\"doctext\">{}</div>",
        highlight(&doc.text, &field_spans(&detail.matches, "text"))
    );
    body.push_str("<h3>Tin trùng lặp, đăng lại</h3>");
    if detail.near.is_empty() {
        body.push_str("<p class=\"hint\">Không có.</p>");
    } else {
        body.push_str("<ul>");
        for (d, relation) in &detail.near {
            let what = match relation {
                Relation::SameContent => "cùng nội dung",
                Relation::SyndicatedCopy => "bản đăng lại",
                Relation::SyndicatedFrom => "bài gốc được đăng lại",
            };
            let _ = write!(
                body,
                "<li><a href=\"/documents/{}\">{}</a> <span class=\"meta\">{} · {} · {}</span></li>",
                d.id,
                esc(&d.title),
                esc(d.source_name.as_deref().unwrap_or("")),
                esc(&published(d)),
                what
            );
        }
        body.push_str("</ul>");
    }
    page(office, Some(viewer), &doc.title, &body)
}

// ---------------------------------------------------------------- review queue

fn selected(value: Option<&str>, option: &str) -> &'static str {
    if value == Some(option) {
        " selected"
    } else {
        ""
    }
}

/// Hidden fields that carry the queue's filters through a decision.
fn filter_fields(query: &CandidateQuery, at: usize) -> String {
    let mut out = String::new();
    for (name, value) in [
        ("status", Some(query.status())),
        ("severity", query.severity.clone()),
        ("category", query.category.clone()),
        ("source", query.source.clone()),
        ("assignee", query.assignee.clone()),
        ("mine", query.mine().then(|| "1".to_string())),
    ] {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            let _ = write!(
                out,
                "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
                esc(&value)
            );
        }
    }
    let _ = write!(out, "<input type=\"hidden\" name=\"at\" value=\"{at}\">");
    out
}

pub(crate) fn review_page(
    office: &str,
    viewer: &Viewer,
    query: &CandidateQuery,
    total: usize,
    rows: &[(Candidate, Document)],
    notice: Option<&str>,
) -> String {
    let can_review = allowed(&viewer.role, Action::Review);
    let status = query.status();
    let severity = query.severity.as_deref();
    let mut body = String::from("<h2>Xét duyệt tin có dấu hiệu vi phạm</h2>");
    if let Some(notice) = notice {
        let _ = write!(body, "<p class=\"notice\">{}</p>", esc(notice));
    }
    let _ = write!(
        body,
        "<form class=\"filters\" method=\"get\" action=\"/review\">\
         <label>Trạng thái <select name=\"status\"><option value=\"open\"{}>Chờ xét duyệt</option><option value=\"confirmed\"{}>Đã xác nhận</option><option value=\"dismissed\"{}>Đã bác bỏ</option><option value=\"all\"{}>Tất cả</option></select></label>\
         <label>Mức độ <select name=\"severity\"><option value=\"\">Tất cả</option><option value=\"high\"{}>Cao</option><option value=\"medium\"{}>Trung bình</option><option value=\"low\"{}>Thấp</option></select></label>\
         <label>Nhóm <input name=\"category\" value=\"{}\"></label>\
         <label>Nguồn <input name=\"source\" value=\"{}\"></label>\
         <label>Người xử lý <input name=\"assignee\" value=\"{}\"></label>\
         <label><span><input type=\"checkbox\" name=\"mine\" value=\"1\"{}> Của tôi</span></label>\
         <button type=\"submit\" class=\"secondary\">Lọc</button></form>",
        selected(Some(&status), "open"),
        selected(Some(&status), "confirmed"),
        selected(Some(&status), "dismissed"),
        selected(Some(&status), "all"),
        selected(severity, "high"),
        selected(severity, "medium"),
        selected(severity, "low"),
        esc(query.category.as_deref().unwrap_or("")),
        esc(query.source.as_deref().unwrap_or("")),
        esc(query.assignee.as_deref().unwrap_or("")),
        if query.mine() { " checked" } else { "" },
    );
    if can_review {
        body.push_str("<p class=\"hint\">Phím tắt: <kbd>j</kbd>/<kbd>k</kbd> chọn tin sau/trước, <kbd>c</kbd> xác nhận vi phạm, <kbd>d</kbd> bác bỏ, <kbd>a</kbd> nhận xử lý, <kbd>n</kbd> viết ghi chú, <kbd>o</kbd> mở tin.</p>");
    }
    let _ = write!(body, "<p class=\"count\">{total} tin</p>");
    let chosen = query.at.unwrap_or(0).min(rows.len().saturating_sub(1));
    body.push_str("<div id=\"queue\">");
    for (i, (c, d)) in rows.iter().enumerate() {
        let class = if i == chosen {
            "candidate selected"
        } else {
            "candidate"
        };
        let _ = write!(
            body,
            "<article class=\"{class}\" id=\"c{id}\" data-candidate=\"{id}\"><h2><span class=\"tag {sev_class}\">{sev}</span> <a class=\"open\" href=\"/documents/{doc}\">{title}</a></h2>\
             <div class=\"meta\">{source} · {date} · {status}{assignee}</div>\
             <div>{categories}{rules}</div><div class=\"meta\">Từ khoá: {terms}</div>",
            id = c.id,
            sev_class = severity_class(&c.severity),
            sev = severity_label(&c.severity),
            doc = d.id,
            title = esc(&d.title),
            source = esc(d.source_name.as_deref().unwrap_or("(không rõ nguồn)")),
            date = esc(&published(d)),
            status = status_label(&c.status),
            assignee = c
                .assignee
                .as_deref()
                .map(|a| format!(" · người xử lý: {}", esc(a)))
                .unwrap_or_default(),
            categories = tags(&strings(&c.categories)),
            rules = tags(&strings(&c.rules)),
            terms = esc(&strings(&c.terms).join(", ")),
        );
        if can_review {
            let _ = write!(
                body,
                "<form class=\"decide\" method=\"post\" action=\"/review/{id}/decide\">{csrf}{filters}\
                 <input type=\"text\" name=\"note\" maxlength=\"2000\" placeholder=\"Ghi chú (không bắt buộc)\" aria-label=\"Ghi chú\">\
                 <button type=\"submit\" name=\"decision\" value=\"confirm\">Xác nhận vi phạm</button>\
                 <button type=\"submit\" name=\"decision\" value=\"dismiss\" class=\"dismiss\">Bác bỏ</button>\
                 <button type=\"submit\" class=\"secondary assign\" formaction=\"/review/{id}/assign\">Nhận xử lý</button></form>",
                id = c.id,
                csrf = csrf_field(viewer),
                filters = filter_fields(query, i),
            );
        }
        body.push_str("</article>");
    }
    body.push_str("</div>");
    if rows.is_empty() {
        body.push_str("<p class=\"hint\">Không còn tin nào cần xét duyệt với bộ lọc này.</p>");
    }
    page_with(office, Some(viewer), "Xét duyệt", &body, true)
}

// ---------------------------------------------------------------- digests

pub(crate) fn digests_page(
    office: &str,
    viewer: &Viewer,
    rows: &[diembao_store::DigestRow],
) -> String {
    let mut body = String::from("<h2>Bản tin điểm báo</h2>");
    if rows.is_empty() {
        body.push_str("<p class=\"hint\">Chưa có bản tin nào (lập bằng <code>diembao digest build</code> hoặc theo lịch hằng tuần).</p>");
    } else {
        body.push_str("<table class=\"grid\"><tr><th>Kỳ</th><th>Từ ngày</th><th>Đến ngày</th><th>Số tin bài</th><th>Lập lúc</th></tr>");
        for row in rows {
            let total = row
                .content
                .get("total")
                .and_then(|v| v.as_u64())
                .map(|n| n.to_string())
                .unwrap_or_default();
            let _ = write!(
                body,
                "<tr><td><a href=\"/digests/{period}\">{period}</a></td><td>{}</td><td>{}</td><td class=\"num\">{total}</td><td>{}</td></tr>",
                row.from_date.format("%d/%m/%Y"),
                row.to_date.format("%d/%m/%Y"),
                esc(&fmt_time(row.built_at)),
                period = esc(&row.period),
            );
        }
        body.push_str("</table>");
    }
    page(office, Some(viewer), "Bản tin", &body)
}

pub(crate) fn digest_page(
    office: &str,
    viewer: &Viewer,
    row: &diembao_store::DigestRow,
    notice: Option<&str>,
) -> String {
    let mut body = format!(
        "<h2>Bản tin {}</h2><p class=\"meta\">{} – {} · lập lúc {} · <a href=\"/digests\">tất cả bản tin</a></p>",
        esc(&row.period),
        row.from_date.format("%d/%m/%Y"),
        row.to_date.format("%d/%m/%Y"),
        esc(&fmt_time(row.built_at))
    );
    if let Some(notice) = notice {
        let _ = write!(body, "<p class=\"notice\">{}</p>", esc(notice));
    }
    if allowed(&viewer.role, Action::Admin) {
        let _ = write!(
            body,
            "<form method=\"post\" action=\"/digests/{}/send\">{}<button type=\"submit\">Gửi ngay cho người nhận</button> <span class=\"hint\">Người đã nhận bản tin kỳ này sẽ không nhận lại.</span></form>",
            esc(&row.period),
            csrf_field(viewer)
        );
    }
    let _ = write!(
        body,
        "<h3>Xem trước</h3><iframe class=\"digest\" sandbox src=\"/digests/{}/email\" title=\"Bản tin {}\"></iframe>",
        esc(&row.period),
        esc(&row.period)
    );
    page_with(
        office,
        Some(viewer),
        &format!("Bản tin {}", row.period),
        &body,
        true,
    )
}

// ---------------------------------------------------------------- sources

pub(crate) fn sources_page(
    office: &str,
    viewer: &Viewer,
    sources: &[Source],
    form: &SourceForm,
    error: Option<&str>,
    notice: Option<&str>,
) -> String {
    let now = Utc::now();
    let mut body = String::from("<h2>Nguồn tin</h2>");
    if let Some(notice) = notice {
        let _ = write!(body, "<p class=\"notice\">{}</p>", esc(notice));
    }
    let failing = sources
        .iter()
        .filter(|s| diembao_store::health_alert(s, now).is_some())
        .count();
    let _ = write!(
        body,
        "<p class=\"count\">{} nguồn · {} cần chú ý</p>",
        sources.len(),
        failing
    );
    body.push_str(
        "<table class=\"grid\"><tr><th>Nguồn</th><th>Loại</th><th>Tình trạng</th><th>Lỗi liên tiếp</th><th>Lỗi gần nhất</th><th>Tin bài</th><th>Lần chạy cuối</th><th>Tin mới nhất</th></tr>",
    );
    for s in sources {
        let state = match diembao_store::health_alert(s, now) {
            Some("failing") => "<span class=\"tag alert-failing\">Lỗi liên tục</span>".to_string(),
            Some("silent") => {
                "<span class=\"tag alert-silent\">Không có tin mới</span>".to_string()
            }
            Some(other) => format!("<span class=\"tag\">{}</span>", esc(other)),
            None if !s.enabled => "<span class=\"tag\">Đã tắt</span>".to_string(),
            None => "<span class=\"tag ok\">Bình thường</span>".to_string(),
        };
        let _ = write!(
            body,
            "<tr><td>{name}<div class=\"meta\">{url}</div></td><td>{kind}</td><td>{state}</td><td class=\"num\">{failures}</td><td>{error}</td><td class=\"num\">{total}</td><td>{run}</td><td>{last}</td></tr>",
            name = esc(&s.name),
            url = link_or_text(&s.url, &s.url),
            kind = esc(&s.kind),
            failures = s.consecutive_failures,
            error = esc(s.last_error.as_deref().unwrap_or("")),
            total = s.documents_total,
            run = esc(&fmt_opt(s.last_run_at)),
            last = esc(&fmt_opt(s.last_document_at)),
        );
    }
    body.push_str("</table>");
    if allowed(&viewer.role, Action::Admin) {
        body.push_str("<h3>Thêm hoặc sửa nguồn</h3>");
        if let Some(error) = error {
            let _ = write!(body, "<p class=\"error\">{}</p>", esc(error));
        }
        let kinds: String = diembao_core::SourceKind::ALL
            .iter()
            .map(|k| {
                format!(
                    "<option value=\"{0}\"{1}>{0}</option>",
                    k.as_str(),
                    selected(Some(form.kind.as_str()), k.as_str())
                )
            })
            .collect();
        let _ = write!(
            body,
            "<form class=\"stack\" method=\"post\" action=\"/sources\">{csrf}\
             <label for=\"s-name\">Tên nguồn</label><input id=\"s-name\" name=\"name\" required value=\"{name}\">\
             <label for=\"s-kind\">Loại</label><select id=\"s-kind\" name=\"kind\">{kinds}</select>\
             <label for=\"s-url\">Địa chỉ</label><input id=\"s-url\" name=\"url\" type=\"url\" required value=\"{url}\" placeholder=\"https://…\">\
             <label for=\"s-every\">Chu kỳ</label><input id=\"s-every\" name=\"every\" value=\"{every}\" placeholder=\"30m, 1h, 1d\">\
             <label for=\"s-sel\">Bộ chọn liên kết (html)</label><input id=\"s-sel\" name=\"link_selector\" value=\"{selector}\" placeholder=\"h3 a\">\
             <button type=\"submit\">Lưu nguồn</button></form>",
            csrf = csrf_field(viewer),
            name = esc(&form.name),
            url = esc(&form.url),
            every = esc(form.every.as_deref().unwrap_or("")),
            selector = esc(form.link_selector.as_deref().unwrap_or("")),
        );
    }
    page_with(office, Some(viewer), "Nguồn tin", &body, true)
}

// ---------------------------------------------------------------- rules

pub(crate) const RULE_EXAMPLE: &str = "[[rule]]\nid = \"ca-do\"\ncategory = \"gambling\"\nseverity = \"high\"\nquery = '\"cá độ\" OR \"nhà cái\"'\n";

pub(crate) fn rules_page(
    office: &str,
    viewer: &Viewer,
    versions: &[RuleVersionRow],
    toml: Option<&str>,
    outcome: Option<Result<&RuleTest, &str>>,
) -> String {
    let mut body = String::from("<h2>Quy tắc phát hiện vi phạm</h2>");
    if versions.is_empty() {
        body.push_str("<p class=\"hint\">Chưa có bộ quy tắc nào (nạp bằng <code>diembao rules import</code>).</p>");
    } else {
        body.push_str("<table class=\"grid\"><tr><th>Bộ quy tắc</th><th>Phiên bản</th><th>Trạng thái</th><th>Người nạp</th><th>Thời điểm</th><th>SHA-256</th></tr>");
        for row in versions {
            let v = &row.version;
            let _ = write!(
                body,
                "<tr><td>{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                esc(&row.set),
                v.version,
                if row.active {
                    "<span class=\"tag ok\">Đang dùng</span>"
                } else {
                    "<span class=\"tag\">Cũ</span>"
                },
                esc(v.imported_by.as_deref().unwrap_or("—")),
                esc(&fmt_time(v.created_at)),
                esc(&v.sha256.chars().take(12).collect::<String>()),
            );
        }
        body.push_str("</table>");
        for row in versions.iter().filter(|r| r.active) {
            let _ = write!(
                body,
                "<details><summary>Nội dung bộ quy tắc {} phiên bản {}</summary><pre>{}</pre></details>",
                esc(&row.set),
                row.version.version,
                esc(&row.version.source_toml)
            );
        }
    }
    if allowed(&viewer.role, Action::Review) {
        let _ = write!(
            body,
            "<h3>Thử quy tắc</h3><p class=\"hint\">Quy tắc (định dạng rules.toml) được chạy trên {} tin bài mới nhất; không lưu gì.</p>\
             <form method=\"post\" action=\"/rules/test\">{}<textarea class=\"code\" name=\"toml\" rows=\"10\" cols=\"80\" aria-label=\"Quy tắc\">{}</textarea><p><button type=\"submit\">Chạy thử</button></p></form>",
            crate::api::RULE_TEST_DOCUMENTS,
            csrf_field(viewer),
            esc(toml.unwrap_or(RULE_EXAMPLE))
        );
    }
    match outcome {
        None => {}
        Some(Err(error)) => {
            let _ = write!(
                body,
                "<p class=\"error\">Quy tắc không hợp lệ: {}</p>",
                esc(error)
            );
        }
        Some(Ok(test)) => {
            let documents: std::collections::BTreeSet<i64> =
                test.hits.iter().map(|h| h.document.id).collect();
            let _ = write!(
                body,
                "<p class=\"count\">{} quy tắc · {} tin bài đã xét · {} lượt khớp trên {} tin bài</p>",
                test.rules,
                test.documents,
                test.hits.len(),
                documents.len()
            );
            if !test.hits.is_empty() {
                body.push_str("<table class=\"grid\"><tr><th>Tin bài</th><th>Quy tắc</th><th>Nhóm</th><th>Mức độ</th><th>Từ khoá</th></tr>");
                for hit in &test.hits {
                    let _ = write!(
                        body,
                        "<tr><td><a href=\"/documents/{}\">{}</a><div class=\"meta\">{}</div></td><td>{}</td><td>{}</td><td><span class=\"tag {}\">{}</span></td><td>{}</td></tr>",
                        hit.document.id,
                        esc(&hit.document.title),
                        esc(hit.document.source_name.as_deref().unwrap_or("")),
                        esc(&hit.rule),
                        esc(&hit.category),
                        severity_class(&hit.severity),
                        severity_label(&hit.severity),
                        esc(&hit.terms.join(", ")),
                    );
                }
                body.push_str("</table>");
            }
        }
    }
    page_with(office, Some(viewer), "Quy tắc", &body, true)
}

// ---------------------------------------------------------------- users

fn role_label(role: &str) -> &'static str {
    match role {
        "viewer" => "Xem",
        "reviewer" => "Xét duyệt",
        "admin" => "Quản trị",
        "liaison" => "Liên lạc (công an)",
        _ => "Khác",
    }
}

pub(crate) fn users_page(
    office: &str,
    viewer: &Viewer,
    users: &[diembao_store::User],
    form: &UserForm,
    error: Option<&str>,
    notice: Option<&str>,
) -> String {
    let mut body = String::from("<h2>Người dùng</h2>");
    if let Some(notice) = notice {
        let _ = write!(body, "<p class=\"notice\">{}</p>", esc(notice));
    }
    body.push_str("<table class=\"grid\"><tr><th>Tên đăng nhập</th><th>Vai trò</th><th>Trạng thái</th><th>Tạo lúc</th></tr>");
    for u in users {
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{} <span class=\"meta\">({})</span></td><td>{}</td><td>{}</td></tr>",
            esc(&u.name),
            role_label(&u.role),
            esc(&u.role),
            if u.disabled {
                "Đã khoá"
            } else {
                "Đang dùng"
            },
            esc(&fmt_time(u.created_at))
        );
    }
    body.push_str("</table><h3>Thêm người dùng hoặc đặt lại mật khẩu</h3>");
    if let Some(error) = error {
        let _ = write!(body, "<p class=\"error\">{}</p>", esc(error));
    }
    let roles: String = diembao_store::ROLES
        .iter()
        .map(|r| {
            format!(
                "<option value=\"{r}\"{}>{} ({r})</option>",
                selected(Some(form.role.as_str()), r),
                role_label(r)
            )
        })
        .collect();
    let _ = write!(
        body,
        "<form class=\"stack\" method=\"post\" action=\"/users\">{csrf}\
         <label for=\"u-name\">Tên đăng nhập</label><input id=\"u-name\" name=\"name\" required autocomplete=\"off\" value=\"{name}\">\
         <label for=\"u-role\">Vai trò</label><select id=\"u-role\" name=\"role\">{roles}</select>\
         <label for=\"u-pass\">Mật khẩu (ít nhất {min} ký tự)</label><input id=\"u-pass\" name=\"password\" type=\"password\" required minlength=\"{min}\" autocomplete=\"new-password\">\
         <button type=\"submit\">Lưu người dùng</button></form>",
        csrf = csrf_field(viewer),
        name = esc(&form.name),
        min = crate::api::MIN_PASSWORD_CHARS,
    );
    page(office, Some(viewer), "Người dùng", &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlights_escape_merge_and_skip_bad_spans() {
        let text = "Cá độ <b>bóng đá</b> & nhà cái";
        let spans = vec![
            (0, 9, "ca-do".to_string()),
            (4, 9, "x".to_string()),
            (1, 2, "mid-char".to_string()),
            (100, 200, "out".to_string()),
        ];
        let out = highlight(text, &spans);
        assert!(
            out.starts_with("<mark title=\"ca-do, x\">Cá độ</mark> &lt;b&gt;"),
            "{out}"
        );
        assert!(out.contains("&lt;b&gt;") && out.contains("&amp;"), "{out}");
        assert!(!out.contains("<b>"));
    }
}
