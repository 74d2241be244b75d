//! Plain-text and HTML e-mail renderings of a [`Digest`], and its chart as SVG.
//!
//! Every piece of crawled text (titles, source names, URLs, errors, topic
//! titles, even the office name) is hostile: in HTML and SVG it is escaped
//! ([`escape_html`]) and only `http`/`https` URLs become links
//! ([`safe_href`]); in plain text control and bidirectional-override
//! characters are removed and line breaks collapsed.

use std::fmt::Write as _;

use chrono::{Datelike, NaiveDate, Timelike};

use super::{Digest, DocRef, Period};

/// Stories shown in the renderings (the JSON has them all).
const MAX_RENDERED_STORIES: usize = 30;
/// Documents shown per topic in the renderings.
const MAX_RENDERED_TOPIC_ITEMS: usize = 10;
/// Longest title shown, in characters.
const MAX_TITLE_CHARS: usize = 300;
/// Sources drawn separately in the chart; the rest are "Nguồn khác".
const CHART_SERIES: usize = 6;
const CHART_COLORS: [&str; CHART_SERIES + 1] = [
    "#1d4ed8", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2", "#94a3b8",
];

/// Escapes `&`, `<`, `>`, `"` and `'` for HTML (text and quoted
/// attributes) and XML.
pub use crate::html::escape_html;

/// The URL to put in an `href`: `Some` only for an absolute `http` or
/// `https` URL, re-serialised by the URL parser (so spaces, quotes and
/// angle brackets come out percent-encoded); `javascript:`, `data:` and
/// everything else give `None`. Still escape the result for the attribute.
pub fn safe_href(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url.trim()).ok()?;
    matches!(parsed.scheme(), "http" | "https")
        .then(|| parsed.host_str().is_some())
        .filter(|&has_host| has_host)
        .map(|_| parsed.to_string())
}

/// One line of display text: control, bidi-override and line-separator
/// characters become spaces, runs of white space one space, trimmed, and
/// at most `max` characters (then `…`).
fn clean_line(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    let mut n = 0;
    for c in s.chars() {
        let blank = c.is_whitespace()
            || c.is_control()
            || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}');
        if blank {
            space = !out.is_empty();
            continue;
        }
        if n >= max {
            out.push('…');
            return out;
        }
        if space {
            out.push(' ');
            n += 1;
            space = false;
        }
        out.push(c);
        n += 1;
    }
    out
}

fn title_line(s: &str) -> String {
    let t = clean_line(s, MAX_TITLE_CHARS);
    if t.is_empty() {
        "(không có tiêu đề)".to_owned()
    } else {
        t
    }
}

fn dmy(d: NaiveDate) -> String {
    format!("{:02}/{:02}/{}", d.day(), d.month(), d.year())
}

fn dm(d: NaiveDate) -> String {
    format!("{:02}/{:02}", d.day(), d.month())
}

/// `13/03–19/03/2023`, or with both years when they differ.
fn date_span(from: NaiveDate, to: NaiveDate) -> String {
    if from.year() == to.year() {
        format!("{}–{}", dm(from), dmy(to))
    } else {
        format!("{}–{}", dmy(from), dmy(to))
    }
}

fn week_period(d: &Digest) -> Option<(i32, u32)> {
    match d.week.as_deref().map(Period::parse_week) {
        Some(Ok(Period::Week { year, week })) => Some((year, week)),
        _ => None,
    }
}

/// `BẢN TIN ĐIỂM BÁO TUẦN 11/2023 (13/03–19/03/2023)` or `BẢN TIN ĐIỂM BÁO
/// TỪ NGÀY 01/03/2023 ĐẾN NGÀY 31/03/2023`.
fn heading(d: &Digest) -> String {
    match week_period(d) {
        Some((year, week)) => format!(
            "BẢN TIN ĐIỂM BÁO TUẦN {week}/{year} ({})",
            date_span(d.from, d.to)
        ),
        None => format!(
            "BẢN TIN ĐIỂM BÁO TỪ NGÀY {} ĐẾN NGÀY {}",
            dmy(d.from),
            dmy(d.to)
        ),
    }
}

/// Labels of the comparison: (`tuần trước`, `Tuần này`, `Tuần trước`).
fn comparison_labels(d: &Digest) -> (&'static str, &'static str, &'static str) {
    if d.week.is_some() {
        ("tuần trước", "Tuần này", "Tuần trước")
    } else {
        ("cùng kỳ năm trước", "Kỳ này", "Cùng kỳ")
    }
}

fn severity_label(s: &str) -> String {
    match s {
        "high" => "cao".to_owned(),
        "medium" => "trung bình".to_owned(),
        "low" => "thấp".to_owned(),
        other => clean_line(other, 40),
    }
}

fn status_label(s: Option<&str>) -> String {
    match s {
        Some("open") => "chờ xem xét".to_owned(),
        Some("confirmed") => "đã xác nhận".to_owned(),
        Some("dismissed") => "đã bác bỏ".to_owned(),
        Some(other) => clean_line(other, 40),
        None => "chưa có phiếu xem xét".to_owned(),
    }
}

fn time_label(r: &DocRef) -> String {
    format!(
        "{} {:02}:{:02}",
        dm(r.time.date_naive()),
        r.time.hour(),
        r.time.minute()
    )
}

fn signed(n: i64) -> String {
    if n > 0 {
        format!("+{n}")
    } else {
        n.to_string()
    }
}

fn pad_right(s: &str, width: usize) -> String {
    let n = s.chars().count();
    format!("{s}{}", " ".repeat(width.saturating_sub(n)))
}

fn pad_left(s: &str, width: usize) -> String {
    let n = s.chars().count();
    format!("{}{s}", " ".repeat(width.saturating_sub(n)))
}

// ---------------------------------------------------------------------------
// text

/// The plain-text alternative of the digest e-mail.
pub fn render_text(d: &Digest) -> String {
    let mut o = String::new();
    let (prev_inline, col_now, col_prev) = comparison_labels(d);
    let office = clean_line(&d.office, 200);
    if !office.is_empty() {
        let _ = writeln!(o, "{office}");
    }
    let _ = writeln!(o, "{}", heading(d));
    let _ = writeln!(o, "Múi giờ: {}", clean_line(&d.timezone, 64));
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "Tổng số tin bài: {} ({prev_inline}: {})",
        d.total, d.previous_total
    );

    let _ = writeln!(o);
    let _ = writeln!(o, "SỐ TIN BÀI THEO NGUỒN");
    if d.sources.is_empty() {
        let _ = writeln!(o, "Không có tin bài.");
    } else {
        let names: Vec<String> = d
            .sources
            .iter()
            .map(|s| clean_line(&s.source, 40))
            .collect();
        let width = names
            .iter()
            .map(|n| n.chars().count())
            .chain(std::iter::once("Nguồn".chars().count()))
            .max()
            .unwrap_or(5);
        let cw = col_prev.chars().count().max(col_now.chars().count()) + 2;
        let _ = writeln!(
            o,
            "{}{}{}{}",
            pad_right("Nguồn", width),
            pad_left(col_now, cw),
            pad_left(col_prev, cw),
            pad_left("Thay đổi", cw)
        );
        let _ = writeln!(o, "{}", "-".repeat(width + 3 * cw));
        for (s, name) in d.sources.iter().zip(&names) {
            let _ = writeln!(
                o,
                "{}{}{}{}",
                pad_right(name, width),
                pad_left(&s.count.to_string(), cw),
                pad_left(&s.previous.to_string(), cw),
                pad_left(&signed(s.count as i64 - s.previous as i64), cw)
            );
        }
    }

    let _ = writeln!(o);
    let _ = writeln!(o, "VẤN ĐỀ ĐƯỢC NHIỀU BÁO CÙNG ĐƯA TIN");
    if d.stories.is_empty() {
        let _ = writeln!(o, "Không có.");
    }
    for (i, s) in d.stories.iter().take(MAX_RENDERED_STORIES).enumerate() {
        let outlets = {
            let mut v: Vec<&String> = s.sources.iter().collect();
            v.sort();
            v.dedup();
            v.len()
        };
        let _ = writeln!(
            o,
            "{}. {} ({} tin bài, {} nguồn)",
            i + 1,
            title_line(&s.title),
            s.urls.len(),
            outlets
        );
        for r in &s.items {
            let _ = writeln!(
                o,
                "   - {} · {}: {}",
                time_label(r),
                clean_line(&r.source, 80),
                clean_line(&r.url, 500)
            );
        }
        if s.items.is_empty() {
            // A digest stored without items: its URLs and sources.
            for (url, source) in s.urls.iter().zip(&s.sources) {
                let _ = writeln!(
                    o,
                    "   - {}: {}",
                    clean_line(source, 80),
                    clean_line(url, 500)
                );
            }
        }
    }
    if d.stories.len() > MAX_RENDERED_STORIES {
        let _ = writeln!(
            o,
            "… và {} vấn đề khác.",
            d.stories.len() - MAX_RENDERED_STORIES
        );
    }

    let _ = writeln!(o);
    let _ = writeln!(o, "NỘI DUNG BỊ GẮN CỜ");
    if d.flagged.is_empty() {
        let _ = writeln!(o, "Không có.");
    }
    for f in &d.flagged {
        let _ = writeln!(
            o,
            "- {}: {} tin bài (đã xác nhận: {})",
            clean_line(&f.category, 80),
            f.count,
            f.confirmed
        );
    }
    if !d.flagged_items.is_empty() {
        let _ = writeln!(o);
        for it in &d.flagged_items {
            let _ = writeln!(
                o,
                "- [{}] {} — {}, {} — {}",
                severity_label(&it.severity),
                title_line(&it.doc.title),
                clean_line(&it.doc.source, 80),
                time_label(&it.doc),
                status_label(it.status.as_deref())
            );
            let _ = writeln!(o, "  {}", clean_line(&it.doc.url, 500));
        }
        if d.flagged_documents as usize > d.flagged_items.len() {
            let _ = writeln!(
                o,
                "… và {} tin bài khác.",
                d.flagged_documents as usize - d.flagged_items.len()
            );
        }
    }

    for t in &d.topics {
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "CHỦ ĐỀ: {} ({} tin bài)",
            clean_line(&t.title, 200),
            t.count
        );
        for r in t.items.iter().take(MAX_RENDERED_TOPIC_ITEMS) {
            let _ = writeln!(
                o,
                "- {} — {}, {}",
                title_line(&r.title),
                clean_line(&r.source, 80),
                time_label(r)
            );
            let _ = writeln!(o, "  {}", clean_line(&r.url, 500));
        }
        if t.count as usize > MAX_RENDERED_TOPIC_ITEMS.min(t.items.len()) {
            let _ = writeln!(
                o,
                "… và {} tin bài khác.",
                t.count as usize - MAX_RENDERED_TOPIC_ITEMS.min(t.items.len())
            );
        }
    }

    let _ = writeln!(o);
    let _ = writeln!(o, "NGUỒN TIN GẶP SỰ CỐ");
    let failing: Vec<_> = d.health.iter().filter(|h| h.failing).collect();
    if failing.is_empty() {
        let _ = writeln!(o, "Không có nguồn nào gặp sự cố.");
    }
    for h in failing {
        let error = h
            .last_error
            .as_deref()
            .map(|e| format!("; lỗi gần nhất: {}", clean_line(e, 200)))
            .unwrap_or_default();
        let _ = writeln!(
            o,
            "- {}: {} lần lỗi liên tiếp{error}",
            clean_line(&h.name, 80),
            h.consecutive_failures
        );
    }
    o
}

// ---------------------------------------------------------------------------
// HTML

const FONT: &str = "font-family:Arial,Helvetica,sans-serif;";
const TD: &str = "padding:6px 8px;border-bottom:1px solid #e2e8f0;";
const TH: &str = "padding:6px 8px;border-bottom:2px solid #1e3a8a;font-size:12px;color:#334155;";

fn link(url: &str, text: &str) -> String {
    match safe_href(url) {
        Some(href) => format!(
            "<a href=\"{}\" style=\"color:#1d4ed8;text-decoration:underline;\">{}</a>",
            escape_html(&href),
            escape_html(text)
        ),
        None => escape_html(text),
    }
}

fn section(o: &mut String, title: &str, body: &str) {
    let _ = write!(
        o,
        "<tr><td style=\"padding:20px 24px 0 24px;\">\
<h2 style=\"margin:0 0 10px 0;padding:0 0 4px 0;font-size:16px;color:#1e3a8a;border-bottom:2px solid #1e3a8a;{FONT}\">{}</h2>\n{body}</td></tr>\n",
        escape_html(title)
    );
}

fn doc_line(r: &DocRef) -> String {
    format!(
        "{}<br><span style=\"font-size:12px;color:#64748b;\">{} · {}</span>",
        link(&r.url, &title_line(&r.title)),
        escape_html(&clean_line(&r.source, 80)),
        escape_html(&time_label(r))
    )
}

fn empty_note(text: &str) -> String {
    format!(
        "<p style=\"margin:0;color:#64748b;font-style:italic;\">{}</p>\n",
        escape_html(text)
    )
}

/// The digest as a complete HTML e-mail: table layout, inline styles only,
/// the chart as inline SVG (also available alone from [`render_chart_svg`],
/// for clients that do not show inline SVG).
pub fn render_html(d: &Digest) -> String {
    let (prev_inline, col_now, col_prev) = comparison_labels(d);
    let head = heading(d);
    let mut o = String::with_capacity(16 * 1024);
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<meta name=\"color-scheme\" content=\"light\">\n<title>{}</title>\n</head>\n\
<body style=\"margin:0;padding:0;background-color:#f1f5f9;\">\n\
<table role=\"presentation\" width=\"100%\" cellspacing=\"0\" cellpadding=\"0\" border=\"0\" style=\"background-color:#f1f5f9;\">\n\
<tr><td align=\"center\" style=\"padding:20px 8px;\">\n\
<table role=\"presentation\" width=\"680\" cellspacing=\"0\" cellpadding=\"0\" border=\"0\" style=\"width:680px;max-width:100%;background-color:#ffffff;border:1px solid #cbd5e1;{FONT}font-size:14px;line-height:1.5;color:#0f172a;\">\n",
        escape_html(&head)
    );
    let _ = writeln!(
        o,
        "<tr><td style=\"background-color:#1e3a8a;color:#ffffff;padding:18px 24px;{FONT}\">\
<div style=\"font-size:18px;font-weight:bold;\">{}</div>\
<div style=\"font-size:15px;margin-top:6px;color:#dbeafe;\">{}</div>\
<div style=\"font-size:12px;margin-top:4px;color:#bfdbfe;\">Múi giờ: {}</div></td></tr>",
        escape_html(&clean_line(&d.office, 200)),
        escape_html(&head),
        escape_html(&clean_line(&d.timezone, 64))
    );

    // Summary.
    let change = d.total as i64 - d.previous_total as i64;
    let _ = writeln!(
        o,
        "<tr><td style=\"padding:20px 24px 0 24px;\">\
<table role=\"presentation\" width=\"100%\" cellspacing=\"0\" cellpadding=\"0\" border=\"0\"><tr>\
<td width=\"50%\" style=\"padding:12px;background-color:#eff6ff;border:1px solid #bfdbfe;\">\
<div style=\"font-size:12px;color:#475569;\">Tổng số tin bài</div>\
<div style=\"font-size:28px;font-weight:bold;color:#1e3a8a;\">{}</div></td>\
<td width=\"50%\" style=\"padding:12px;background-color:#f8fafc;border:1px solid #e2e8f0;\">\
<div style=\"font-size:12px;color:#475569;\">{}</div>\
<div style=\"font-size:28px;font-weight:bold;color:#334155;\">{} <span style=\"font-size:14px;color:{};\">({})</span></div></td>\
</tr></table></td></tr>",
        d.total,
        escape_html(&capitalise(prev_inline)),
        d.previous_total,
        if change >= 0 { "#047857" } else { "#b91c1c" },
        signed(change)
    );

    // Chart.
    section(
        &mut o,
        "Tin bài theo ngày và nguồn",
        &format!("{}\n", render_chart_svg(d)),
    );

    // Sources.
    let mut body = String::new();
    if d.sources.is_empty() {
        body.push_str(&empty_note("Không có tin bài."));
    } else {
        let _ = write!(
            body,
            "<table role=\"presentation\" width=\"100%\" cellspacing=\"0\" cellpadding=\"0\" border=\"0\" style=\"border-collapse:collapse;font-size:14px;\">\n\
<tr><th style=\"{TH}text-align:left;\">Nguồn</th><th style=\"{TH}text-align:right;\">{}</th><th style=\"{TH}text-align:right;\">{}</th><th style=\"{TH}text-align:right;\">Thay đổi</th></tr>\n",
            escape_html(col_now),
            escape_html(col_prev)
        );
        for s in &d.sources {
            let delta = s.count as i64 - s.previous as i64;
            let _ = writeln!(
                body,
                "<tr><td style=\"{TD}\">{}</td><td style=\"{TD}text-align:right;font-weight:bold;\">{}</td><td style=\"{TD}text-align:right;color:#64748b;\">{}</td><td style=\"{TD}text-align:right;color:{};\">{}</td></tr>",
                escape_html(&clean_line(&s.source, 80)),
                s.count,
                s.previous,
                if delta >= 0 { "#047857" } else { "#b91c1c" },
                signed(delta)
            );
        }
        body.push_str("</table>\n");
    }
    section(&mut o, "Số tin bài theo nguồn", &body);

    // Stories.
    let mut body = String::new();
    if d.stories.is_empty() {
        body.push_str(&empty_note("Không có."));
    }
    for (i, s) in d.stories.iter().take(MAX_RENDERED_STORIES).enumerate() {
        let mut outlets: Vec<&String> = s.sources.iter().collect();
        outlets.sort();
        outlets.dedup();
        let _ = writeln!(
            body,
            "<table role=\"presentation\" width=\"100%\" cellspacing=\"0\" cellpadding=\"0\" border=\"0\" style=\"margin:0 0 12px 0;\">\
<tr><td style=\"padding:0 0 2px 0;font-weight:bold;\">{}. {}</td></tr>\
<tr><td style=\"padding:0 0 4px 0;font-size:12px;color:#64748b;\">{} tin bài · {} nguồn</td></tr>",
            i + 1,
            escape_html(&title_line(&s.title)),
            s.urls.len(),
            outlets.len()
        );
        for r in &s.items {
            let _ = writeln!(
                body,
                "<tr><td style=\"padding:2px 0 2px 12px;border-left:3px solid #bfdbfe;font-size:13px;\">{}</td></tr>",
                doc_line(r)
            );
        }
        if s.items.is_empty() {
            for (url, source) in s.urls.iter().zip(&s.sources) {
                let _ = writeln!(
                    body,
                    "<tr><td style=\"padding:2px 0 2px 12px;border-left:3px solid #bfdbfe;font-size:13px;\">{} <span style=\"font-size:12px;color:#64748b;\">· {}</span></td></tr>",
                    link(url, &clean_line(url, 200)),
                    escape_html(&clean_line(source, 80))
                );
            }
        }
        body.push_str("</table>\n");
    }
    if d.stories.len() > MAX_RENDERED_STORIES {
        body.push_str(&empty_note(&format!(
            "… và {} vấn đề khác.",
            d.stories.len() - MAX_RENDERED_STORIES
        )));
    }
    section(&mut o, "Vấn đề được nhiều báo cùng đưa tin", &body);

    // Flagged.
    let mut body = String::new();
    if d.flagged.is_empty() {
        body.push_str(&empty_note("Không có."));
    } else {
        let _ = write!(
            body,
            "<table role=\"presentation\" width=\"100%\" cellspacing=\"0\" cellpadding=\"0\" border=\"0\" style=\"border-collapse:collapse;font-size:14px;\">\n\
<tr><th style=\"{TH}text-align:left;\">Nhóm vi phạm</th><th style=\"{TH}text-align:right;\">Tin bài</th><th style=\"{TH}text-align:right;\">Đã xác nhận</th></tr>\n"
        );
        for f in &d.flagged {
            let _ = writeln!(
                body,
                "<tr><td style=\"{TD}\">{}</td><td style=\"{TD}text-align:right;font-weight:bold;\">{}</td><td style=\"{TD}text-align:right;\">{}</td></tr>",
                escape_html(&clean_line(&f.category, 80)),
                f.count,
                f.confirmed
            );
        }
        body.push_str("</table>\n");
    }
    if !d.flagged_items.is_empty() {
        body.push_str("<table role=\"presentation\" width=\"100%\" cellspacing=\"0\" cellpadding=\"0\" border=\"0\" style=\"margin-top:10px;font-size:13px;\">\n");
        for it in &d.flagged_items {
            let color = match it.severity.as_str() {
                "high" => "#b91c1c",
                "medium" => "#b45309",
                _ => "#475569",
            };
            let _ = writeln!(
                body,
                "<tr><td style=\"padding:4px 0;border-bottom:1px solid #f1f5f9;\">\
<span style=\"font-size:11px;font-weight:bold;color:{color};\">[{}]</span> {} \
<span style=\"font-size:12px;color:#64748b;\">· {}</span></td></tr>",
                escape_html(&severity_label(&it.severity)),
                doc_line(&it.doc),
                escape_html(&status_label(it.status.as_deref()))
            );
        }
        body.push_str("</table>\n");
        if d.flagged_documents as usize > d.flagged_items.len() {
            body.push_str(&empty_note(&format!(
                "… và {} tin bài khác.",
                d.flagged_documents as usize - d.flagged_items.len()
            )));
        }
    }
    section(&mut o, "Nội dung bị gắn cờ", &body);

    // Topics.
    for t in &d.topics {
        let mut body = String::new();
        if t.items.is_empty() {
            body.push_str(&empty_note("Không có tin bài."));
        } else {
            body.push_str("<table role=\"presentation\" width=\"100%\" cellspacing=\"0\" cellpadding=\"0\" border=\"0\" style=\"font-size:13px;\">\n");
            for r in t.items.iter().take(MAX_RENDERED_TOPIC_ITEMS) {
                let _ = writeln!(
                    body,
                    "<tr><td style=\"padding:4px 0;border-bottom:1px solid #f1f5f9;\">{}</td></tr>",
                    doc_line(r)
                );
            }
            body.push_str("</table>\n");
        }
        let shown = MAX_RENDERED_TOPIC_ITEMS.min(t.items.len());
        if t.count as usize > shown {
            body.push_str(&empty_note(&format!(
                "… và {} tin bài khác.",
                t.count as usize - shown
            )));
        }
        section(
            &mut o,
            &format!(
                "Chủ đề: {} ({} tin bài)",
                clean_line(&t.title, 200),
                t.count
            ),
            &body,
        );
    }

    // Health.
    let failing: Vec<_> = d.health.iter().filter(|h| h.failing).collect();
    let mut body = String::new();
    if failing.is_empty() {
        body.push_str(&empty_note("Không có nguồn nào gặp sự cố."));
    } else {
        let _ = write!(
            body,
            "<table role=\"presentation\" width=\"100%\" cellspacing=\"0\" cellpadding=\"0\" border=\"0\" style=\"border-collapse:collapse;font-size:13px;\">\n\
<tr><th style=\"{TH}text-align:left;\">Nguồn</th><th style=\"{TH}text-align:right;\">Lỗi liên tiếp</th><th style=\"{TH}text-align:left;\">Lỗi gần nhất</th></tr>\n"
        );
        for h in failing {
            let _ = writeln!(
                body,
                "<tr><td style=\"{TD}\">{}</td><td style=\"{TD}text-align:right;color:#b91c1c;font-weight:bold;\">{}</td><td style=\"{TD}color:#475569;\">{}</td></tr>",
                escape_html(&clean_line(&h.name, 80)),
                h.consecutive_failures,
                escape_html(&clean_line(h.last_error.as_deref().unwrap_or("—"), 200))
            );
        }
        body.push_str("</table>\n");
    }
    section(&mut o, "Nguồn tin gặp sự cố", &body);

    o.push_str(
        "<tr><td style=\"padding:24px;font-size:11px;color:#94a3b8;\">Bản tin được tạo tự động bởi diembao.</td></tr>\n\
</table>\n</td></tr>\n</table>\n</body>\n</html>\n",
    );
    o
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

// ---------------------------------------------------------------------------
// SVG chart

/// A "nice" axis step (1, 2 or 5 times a power of ten) for at most 5 ticks.
fn nice_step(max: u64) -> u64 {
    let mut step = 1;
    loop {
        for m in [1, 2, 5] {
            if max.div_ceil(step * m) <= 5 {
                return step * m;
            }
        }
        step *= 10;
    }
}

/// Stacked bar chart of documents per day (per 7 days beyond 62 days) and
/// source (the six largest, the rest as "Nguồn khác"), as a standalone SVG
/// document.
pub fn render_chart_svg(d: &Digest) -> String {
    const W: f64 = 632.0;
    const LEFT: f64 = 40.0;
    const RIGHT: f64 = 8.0;
    const TOP: f64 = 12.0;
    const PLOT_H: f64 = 180.0;
    const AXIS_H: f64 = 24.0;
    const LEGEND_ROW: f64 = 18.0;

    // Series: the largest sources, then the rest.
    let named: Vec<&str> = d
        .sources
        .iter()
        .filter(|s| s.count > 0)
        .take(CHART_SERIES)
        .map(|s| s.source.as_str())
        .collect();
    let has_other = d.sources.iter().filter(|s| s.count > 0).count() > named.len();
    let nseries = named.len() + usize::from(has_other);

    // Buckets.
    let per = if d.days.len() > 62 { 7 } else { 1 };
    let buckets: Vec<(NaiveDate, Vec<u64>)> = d
        .days
        .chunks(per)
        .map(|chunk| {
            let mut v = vec![0u64; nseries];
            for day in chunk {
                for s in &day.sources {
                    match named.iter().position(|n| *n == s.source) {
                        Some(i) => v[i] += s.count,
                        None if has_other => v[nseries - 1] += s.count,
                        None => {}
                    }
                }
            }
            (chunk[0].date, v)
        })
        .collect();
    let max = buckets
        .iter()
        .map(|b| b.1.iter().sum::<u64>())
        .max()
        .unwrap_or(0);
    let step = nice_step(max.max(1));
    let top_value = (max.max(1)).div_ceil(step) * step;

    let legend_rows = nseries.div_ceil(3).max(1);
    let h = TOP + PLOT_H + AXIS_H + legend_rows as f64 * LEGEND_ROW + 8.0;
    let plot_w = W - LEFT - RIGHT;
    let label = "Số tin bài theo ngày và nguồn";
    let mut o = String::with_capacity(8 * 1024);
    let _ = write!(
        o,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{h}\" viewBox=\"0 0 {W} {h}\" \
font-family=\"Arial, Helvetica, sans-serif\" font-size=\"11\" role=\"img\" aria-label=\"{label}\">\n\
<title>{label}</title>\n<rect x=\"0\" y=\"0\" width=\"{W}\" height=\"{h}\" fill=\"#ffffff\"/>\n"
    );
    // Grid and y labels.
    let y_of = |v: f64| TOP + PLOT_H - v / top_value as f64 * PLOT_H;
    let mut tick = 0;
    while tick <= top_value {
        let y = y_of(tick as f64);
        let _ = writeln!(
            o,
            "<line x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#e2e8f0\" stroke-width=\"1\"/>\
<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#64748b\">{tick}</text>",
            W - RIGHT,
            LEFT - 6.0,
            y + 4.0
        );
        tick += step;
    }
    if max == 0 {
        let _ = writeln!(
            o,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#64748b\" font-size=\"13\">Không có tin bài</text>",
            LEFT + plot_w / 2.0,
            TOP + PLOT_H / 2.0
        );
    }
    // Bars.
    let n = buckets.len().max(1);
    let slot = plot_w / n as f64;
    let bar = (slot * 0.7).max(1.0);
    let label_every = n.div_ceil(14).max(1);
    for (i, (date, values)) in buckets.iter().enumerate() {
        let x = LEFT + i as f64 * slot + (slot - bar) / 2.0;
        let mut acc = 0u64;
        for (s, &v) in values.iter().enumerate() {
            if v == 0 {
                continue;
            }
            let y0 = y_of(acc as f64);
            acc += v;
            let y1 = y_of(acc as f64);
            let name = named.get(s).copied().unwrap_or("Nguồn khác");
            let _ = writeln!(
                o,
                "<rect x=\"{x:.1}\" y=\"{y1:.1}\" width=\"{bar:.1}\" height=\"{:.1}\" fill=\"{}\"><title>{} {}: {v}</title></rect>",
                y0 - y1,
                CHART_COLORS[if s < named.len() { s } else { CHART_SERIES }],
                escape_html(&dm(*date)),
                escape_html(&clean_line(name, 80))
            );
        }
        if i % label_every == 0 {
            let _ = writeln!(
                o,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#334155\">{}</text>",
                LEFT + i as f64 * slot + slot / 2.0,
                TOP + PLOT_H + 16.0,
                escape_html(&dm(*date))
            );
        }
    }
    let _ = writeln!(
        o,
        "<line x1=\"{LEFT}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#334155\" stroke-width=\"1\"/>",
        TOP + PLOT_H,
        W - RIGHT,
        TOP + PLOT_H
    );
    // Legend.
    for s in 0..nseries {
        let (row, col) = (s / 3, s % 3);
        let x = LEFT + col as f64 * (plot_w / 3.0);
        let y = TOP + PLOT_H + AXIS_H + row as f64 * LEGEND_ROW;
        let name = named.get(s).copied().unwrap_or("Nguồn khác");
        let color = CHART_COLORS[if s < named.len() { s } else { CHART_SERIES }];
        let _ = writeln!(
            o,
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"10\" height=\"10\" fill=\"{color}\"/>\
<text x=\"{:.1}\" y=\"{:.1}\" fill=\"#334155\">{}</text>",
            x + 14.0,
            y + 9.0,
            escape_html(&clean_line(name, 28))
        );
    }
    o.push_str("</svg>");
    o
}
