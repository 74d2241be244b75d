//! Server-rendered pages. Everything from the outside goes through [`esc`].

use std::fmt::Write;

use axum::http::StatusCode;
use diembao_index::SearchResults;

use crate::{SearchParams, Viewer};

pub const CSS: &str = r#"
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1f2933;background:#f7f8fa}
header{background:#7a1f1f;color:#fff;padding:.8rem 1.5rem}header h1{margin:0;font-size:1.2rem}
main{max-width:60rem;margin:0 auto;padding:1rem 1.5rem}
form .search{display:flex;gap:.5rem;margin:1rem 0 .4rem}form .search input[type=search]{flex:1;padding:.6rem;font-size:1rem;border:1px solid #9aa5b1;border-radius:4px}
button{padding:.6rem 1rem;border:0;border-radius:4px;background:#7a1f1f;color:#fff;font-size:1rem;cursor:pointer}
.hit{background:#fff;border:1px solid #e4e7eb;border-radius:6px;padding:.8rem 1rem;margin:.6rem 0}
.hit h2{font-size:1.05rem;margin:0 0 .3rem}.hit a{color:#0b4f8a;text-decoration:none}.meta{color:#616e7c;font-size:.85rem}
.snippet b{background:#fff3c4;font-weight:600}.error{color:#a61b1b}.count{color:#616e7c}
.facets{font-size:.85rem;color:#3e4c59}.facets span{margin-right:1rem}
header{display:flex;justify-content:space-between;align-items:center}.account{display:flex;gap:.6rem;align-items:center;font-size:.9rem}
.account button{padding:.3rem .7rem;font-size:.85rem;background:#fff;color:#7a1f1f}
form.login{display:flex;flex-direction:column;gap:.8rem;max-width:22rem}form.login input{display:block;width:100%;padding:.5rem;margin-top:.2rem}
nav.menu{background:#5c1717;padding:0 1.5rem;display:flex;flex-wrap:wrap;gap:1.2rem}nav.menu a{color:#fde8e8;text-decoration:none;padding:.45rem 0;font-size:.92rem}nav.menu a:hover{text-decoration:underline}
main.wide{max-width:76rem}
.filters{display:flex;flex-wrap:wrap;gap:.6rem;align-items:flex-end;margin:.4rem 0 1rem;font-size:.85rem;color:#3e4c59}
.filters label{display:flex;flex-direction:column;gap:.15rem}.filters input,.filters select{padding:.35rem;border:1px solid #9aa5b1;border-radius:4px;font-size:.9rem}
.filters button{padding:.4rem .8rem;font-size:.9rem}
.layout{display:grid;grid-template-columns:minmax(0,1fr) 15rem;gap:1.2rem}@media (max-width:50rem){.layout{grid-template-columns:1fr}}
aside.facets h3{font-size:.9rem;margin:.8rem 0 .3rem;color:#3e4c59}aside.facets ul{list-style:none;margin:0;padding:0}aside.facets li{display:flex;justify-content:space-between;font-size:.85rem;padding:.1rem 0}
aside.facets a{color:#0b4f8a;text-decoration:none}aside.facets .n{color:#616e7c}
.pager{display:flex;gap:.4rem;flex-wrap:wrap;margin:1rem 0}.pager a,.pager span{padding:.3rem .6rem;border:1px solid #cbd2d9;border-radius:4px;text-decoration:none;color:#0b4f8a;font-size:.9rem}.pager span.current{background:#7a1f1f;color:#fff;border-color:#7a1f1f}
.tag{display:inline-block;background:#e4e7eb;color:#323f4b;border-radius:3px;padding:0 .35rem;margin:0 .2rem .1rem 0;font-size:.78rem}
.sev-high{background:#fde0e0;color:#8a1c1c}.sev-medium{background:#fff1d6;color:#7a4b00}.sev-low{background:#e3f0ff;color:#1c4a80}
.alert-failing{background:#fde0e0;color:#8a1c1c}.alert-silent{background:#fff1d6;color:#7a4b00}.ok{background:#def7ec;color:#03543f}
table.grid{border-collapse:collapse;width:100%;background:#fff;font-size:.88rem}table.grid th,table.grid td{border:1px solid #e4e7eb;padding:.35rem .5rem;text-align:left;vertical-align:top}table.grid th{background:#f0f2f5}
table.grid td.num{text-align:right}
dl.meta{display:grid;grid-template-columns:10rem minmax(0,1fr);gap:.2rem .8rem;font-size:.9rem;background:#fff;border:1px solid #e4e7eb;border-radius:6px;padding:.8rem 1rem}dl.meta dt{color:#616e7c}dl.meta dd{margin:0;overflow-wrap:anywhere}
.doctext{white-space:pre-wrap;background:#fff;border:1px solid #e4e7eb;border-radius:6px;padding:1rem;line-height:1.6}
mark{background:#ffe08a;padding:0 .1rem}
.candidate{background:#fff;border:1px solid #e4e7eb;border-left:4px solid #cbd2d9;border-radius:6px;padding:.7rem 1rem;margin:.6rem 0}.candidate.selected{border-left-color:#7a1f1f;box-shadow:0 0 0 2px #f3c4c4}
.candidate h2{font-size:1rem;margin:0 0 .3rem}.candidate h2 a{color:#0b4f8a;text-decoration:none}
.decide{display:flex;flex-wrap:wrap;gap:.4rem;align-items:center;margin-top:.5rem}.decide input[type=text]{flex:1;min-width:12rem;padding:.35rem;border:1px solid #9aa5b1;border-radius:4px}
.decide button{padding:.35rem .8rem;font-size:.88rem}button.secondary{background:#fff;color:#7a1f1f;border:1px solid #7a1f1f}button.dismiss{background:#52606d}
.hint{color:#616e7c;font-size:.82rem}.notice{background:#def7ec;border:1px solid #84e1bc;padding:.5rem .8rem;border-radius:4px}
form.stack{display:grid;grid-template-columns:10rem minmax(0,1fr);gap:.5rem .8rem;align-items:center;background:#fff;border:1px solid #e4e7eb;border-radius:6px;padding:1rem;max-width:44rem}
form.stack input,form.stack select,form.stack textarea{padding:.4rem;border:1px solid #9aa5b1;border-radius:4px;font-size:.92rem}form.stack button{grid-column:2;justify-self:start}
textarea.code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85rem;min-height:12rem}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#fff;border:1px solid #e4e7eb;padding:.6rem;font-size:.82rem}
iframe.digest{width:100%;height:80vh;border:1px solid #cbd2d9;background:#fff}
"#;

/// Escapes text for HTML bodies and attribute values.
pub fn esc(text: &str) -> String {
    diembao_core::html::escape_html(text)
}

/// Only http(s) links are made clickable; anything else (`javascript:`…) is shown as text.
pub(crate) fn safe_href(url: &str) -> Option<String> {
    let lower = url.trim_start().to_ascii_lowercase();
    (lower.starts_with("http://") || lower.starts_with("https://")).then(|| esc(url))
}

/// The menu of a signed-in viewer: only the pages the role may open.
fn menu(viewer: &Viewer) -> String {
    use crate::auth::{Action, allowed};
    let role = viewer.role.as_str();
    let mut items: Vec<(&str, &str)> = Vec::new();
    if allowed(role, Action::Read) {
        items.extend([
            ("/search", "Tìm kiếm"),
            ("/review", "Xét duyệt"),
            ("/digests", "Bản tin"),
            ("/sources", "Nguồn tin"),
            ("/rules", "Quy tắc"),
        ]);
    }
    if allowed(role, Action::Review) || allowed(role, Action::Liaison) {
        items.push(("/cases", "Hồ sơ vụ việc"));
    }
    if allowed(role, Action::Admin) {
        items.push(("/users", "Người dùng"));
    }
    if items.is_empty() {
        return String::new();
    }
    let links: String = items
        .iter()
        .map(|(href, label)| format!("<a href=\"{href}\">{label}</a>"))
        .collect();
    format!("<nav class=\"menu\" aria-label=\"Trang\">{links}</nav>")
}

pub(crate) fn page(office: &str, viewer: Option<&Viewer>, title: &str, body: &str) -> String {
    page_with(office, viewer, title, body, false)
}

/// A page of the app. `wide` pages (search, review) use more of the screen.
pub(crate) fn page_with(
    office: &str,
    viewer: Option<&Viewer>,
    title: &str,
    body: &str,
    wide: bool,
) -> String {
    let account = match viewer {
        Some(v) if !v.csrf.is_empty() => format!(
            "<form class=\"account\" method=\"post\" action=\"/logout\"><span>{} ({})</span><input type=\"hidden\" name=\"csrf\" value=\"{}\"><button type=\"submit\">Đăng xuất</button></form>",
            esc(&v.name),
            esc(&v.role),
            esc(&v.csrf)
        ),
        Some(v) => format!("<span class=\"account\">{}</span>", esc(&v.name)),
        None => String::new(),
    };
    let nav = viewer.map(menu).unwrap_or_default();
    let main = if wide {
        "<main class=\"wide\">"
    } else {
        "<main>"
    };
    format!(
        "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{title} – diembao</title><link rel=\"stylesheet\" href=\"/static/app.css\"><script src=\"/static/app.js\" defer></script></head>\
         <body><header><h1>{office} · Điểm báo</h1>{account}</header>{nav}{main}{body}</main></body></html>",
        title = esc(title),
        office = esc(office),
    )
}

pub fn login_page(office: &str, error: Option<&str>) -> String {
    let error = error
        .map(|e| format!("<p class=\"error\">{}</p>", esc(e)))
        .unwrap_or_default();
    let body = format!(
        "<h2>Đăng nhập</h2>{error}<form class=\"login\" method=\"post\" action=\"/login\">\
         <label>Tên đăng nhập <input name=\"user\" autocomplete=\"username\" required autofocus></label>\
         <label>Mật khẩu <input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
         <button type=\"submit\">Đăng nhập</button></form>"
    );
    page(office, None, "Đăng nhập", &body)
}

pub fn message_page(office: &str, title: &str, message: &str) -> String {
    page(
        office,
        None,
        title,
        &format!("<h2>{}</h2><p>{}</p>", esc(title), esc(message)),
    )
}

/// The case files a viewer may see, newest first, each with its download link.
pub fn cases_page(office: &str, viewer: &Viewer, cases: &[diembao_store::Case]) -> String {
    let mut body = String::from("<h2>Hồ sơ vụ việc</h2>");
    if cases.is_empty() {
        body.push_str("<p>Chưa có hồ sơ nào được chuyển giao.</p>");
    } else {
        body.push_str(
            "<table class=\"cases\"><thead><tr><th>Số</th><th>Tiêu đề</th><th>Trạng thái</th>\
             <th>Người lập</th><th>Người duyệt</th><th>Chuyển cho</th><th>Cập nhật</th><th>Tệp</th></tr></thead><tbody>",
        );
        for case in cases {
            body.push_str(&format!(
                "<tr><td>{id}</td><td>{title}</td><td>{status}</td><td>{by}</td><td>{approved}</td>\
                 <td>{to}</td><td>{updated}</td><td><a href=\"/api/cases/{id}/download\">Tải hồ sơ (.zip)</a></td></tr>",
                id = case.id,
                title = esc(&case.title),
                status = esc(&case.status),
                by = esc(&case.created_by),
                approved = esc(case.approved_by.as_deref().unwrap_or("—")),
                to = esc(case.handed_to.as_deref().unwrap_or("—")),
                updated = case.updated_at.format("%d/%m/%Y %H:%M UTC"),
            ));
        }
        body.push_str("</tbody></table><p class=\"hint\">Mỗi lần tải được ghi vào nhật ký lưu giữ chứng cứ trong chính hồ sơ; <code>diembao cases verify</code> kiểm tra tính toàn vẹn.</p>");
    }
    page(office, Some(viewer), "Hồ sơ vụ việc", &body)
}

/// A `/search` URL with `params`, changed by `set` (an empty value drops the field).
fn search_url(params: &SearchParams, set: &[(&str, &str)]) -> String {
    let current: [(&str, Option<String>); 8] = [
        ("q", Some(params.q.clone())),
        ("source", params.source.clone()),
        ("since", params.since.clone()),
        ("until", params.until.clone()),
        ("tag", params.tag.clone()),
        ("sort", params.sort.clone()),
        ("limit", params.limit.map(|l| l.to_string())),
        ("offset", params.offset.map(|o| o.to_string())),
    ];
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in current {
        let value = set
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| (*v).to_string())
            .or(value);
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            query.append_pair(name, &value);
        }
    }
    format!("/search?{}", query.finish())
}

/// Monday and Sunday of an ISO week label (`2023-W11`).
fn week_days(label: &str) -> Option<(String, String)> {
    let (year, week) = label.split_once("-W")?;
    let monday = chrono::NaiveDate::from_isoywd_opt(
        year.parse().ok()?,
        week.parse().ok()?,
        chrono::Weekday::Mon,
    )?;
    Some((
        monday.to_string(),
        (monday + chrono::Duration::days(6)).to_string(),
    ))
}

fn facet_list(body: &mut String, title: &str, entries: &[(String, u64, Option<String>)]) {
    if entries.is_empty() {
        return;
    }
    let _ = write!(body, "<h3>{}</h3><ul>", esc(title));
    for (label, count, href) in entries {
        match href {
            Some(href) => {
                let _ = write!(
                    body,
                    "<li><a href=\"{}\">{}</a><span class=\"n\">{count}</span></li>",
                    esc(href),
                    esc(label)
                );
            }
            None => {
                let _ = write!(
                    body,
                    "<li><span>{}</span><span class=\"n\">{count}</span></li>",
                    esc(label)
                );
            }
        }
    }
    body.push_str("</ul>");
}

fn search_form(params: &SearchParams) -> String {
    let value = |v: &Option<String>| esc(v.as_deref().unwrap_or(""));
    let date_sort = params.sort.as_deref() == Some("date");
    format!(
        "<form method=\"get\" action=\"/search\" role=\"search\">\
         <div class=\"search\"><input type=\"search\" name=\"q\" value=\"{q}\" placeholder=\"Tìm kiếm, ví dụ: chuyen doi so, &quot;an toàn thông tin&quot;\" autofocus aria-label=\"Từ khoá\">\
         <button type=\"submit\">Tìm</button></div>\
         <div class=\"filters\">\
         <label>Nguồn <input name=\"source\" value=\"{source}\" placeholder=\"tất cả\"></label>\
         <label>Từ ngày <input type=\"date\" name=\"since\" value=\"{since}\"></label>\
         <label>Đến ngày <input type=\"date\" name=\"until\" value=\"{until}\"></label>\
         <label>Thẻ <input name=\"tag\" value=\"{tag}\" placeholder=\"quy tắc hoặc nhóm\"></label>\
         <label>Sắp xếp <select name=\"sort\"><option value=\"relevance\"{rel}>Liên quan nhất</option><option value=\"date\"{date}>Mới nhất</option></select></label>\
         <button type=\"submit\" class=\"secondary\">Lọc</button></div></form>",
        q = esc(&params.q),
        source = value(&params.source),
        since = value(&params.since),
        until = value(&params.until),
        tag = value(&params.tag),
        rel = if date_sort { "" } else { " selected" },
        date = if date_sort { " selected" } else { "" },
    )
}

fn pager(body: &mut String, params: &SearchParams, total: usize) {
    let limit = params.limit.unwrap_or(20).clamp(1, 100);
    let offset = params.offset.unwrap_or(0).min(10_000);
    let pages = total.div_ceil(limit).min(10_000 / limit + 1);
    if pages <= 1 {
        return;
    }
    let current = offset / limit;
    body.push_str("<nav class=\"pager\" aria-label=\"Trang kết quả\">");
    let link = |body: &mut String, page: usize, label: &str| {
        let offset = (page * limit).to_string();
        let _ = write!(
            body,
            "<a href=\"{}\">{}</a>",
            esc(&search_url(params, &[("offset", &offset)])),
            esc(label)
        );
    };
    if current > 0 {
        link(body, current - 1, "← Trước");
    }
    let first = current.saturating_sub(4);
    let last = (first + 9).min(pages - 1);
    for page in first..=last {
        if page == current {
            let _ = write!(body, "<span class=\"current\">{}</span>", page + 1);
        } else {
            link(body, page, &(page + 1).to_string());
        }
    }
    if current + 1 < pages {
        link(body, current + 1, "Sau →");
    }
    body.push_str("</nav>");
}

pub fn search_page(
    office: &str,
    viewer: &Viewer,
    params: &SearchParams,
    results: Option<Result<SearchResults, (StatusCode, String)>>,
) -> String {
    let mut body = search_form(params);
    match results {
        None => body.push_str("<p class=\"count\">Nhập từ khoá để tìm trong các bài báo và bài đăng đã thu thập (có thể gõ không dấu).</p>"),
        Some(Err((_, message))) => {
            let _ = write!(body, "<p class=\"error\">Truy vấn không hợp lệ: {}</p>", esc(&message));
        }
        Some(Ok(results)) => {
            let offset = params.offset.unwrap_or(0).min(10_000);
            body.push_str("<div class=\"layout\"><section>");
            if results.total == 0 {
                body.push_str("<p class=\"count\">0 kết quả</p>");
            } else {
                let _ = write!(
                    body,
                    "<p class=\"count\">{} kết quả · từ {} đến {}</p>",
                    results.total,
                    offset + 1,
                    (offset + results.hits.len()).max(offset + 1)
                );
            }
            for hit in &results.hits {
                let original = match safe_href(&hit.url) {
                    Some(href) => format!(" · <a href=\"{href}\" rel=\"noopener noreferrer nofollow\">bản gốc</a>"),
                    None => String::new(),
                };
                let tags: String = hit.tags.iter().map(|t| format!("<span class=\"tag\">{}</span>", esc(t))).collect();
                let _ = write!(
                    body,
                    "<article class=\"hit\"><h2><a href=\"/documents/{id}\">{title}</a></h2><div class=\"meta\">{source} · {date}{original}</div><p class=\"snippet\">{snippet}</p>{tags}</article>",
                    id = hit.id,
                    title = esc(&hit.title),
                    source = esc(hit.source.as_deref().unwrap_or("")),
                    date = esc(hit.published_at.as_deref().unwrap_or("")),
                    // Snippets arrive escaped from the index, with <b> as the only markup.
                    snippet = hit.snippet,
                );
            }
            pager(&mut body, params, results.total);
            body.push_str("</section><aside class=\"facets\">");
            let facets = &results.facets;
            let sources: Vec<_> = facets
                .source
                .iter()
                .map(|(name, n)| (name.clone(), *n, Some(search_url(params, &[("source", name), ("offset", "")]))))
                .collect();
            facet_list(&mut body, "Nguồn", &sources);
            let mut weeks: Vec<_> = facets
                .week
                .iter()
                .map(|(week, n)| {
                    let href = week_days(week).map(|(from, to)| search_url(params, &[("since", &from), ("until", &to), ("offset", "")]));
                    (week.clone(), *n, href)
                })
                .collect();
            weeks.reverse();
            facet_list(&mut body, "Tuần", &weeks);
            let tags: Vec<_> =
                facets.tag.iter().map(|(tag, n)| (tag.clone(), *n, Some(search_url(params, &[("tag", tag), ("offset", "")])))).collect();
            facet_list(&mut body, "Thẻ", &tags);
            let kinds: Vec<_> = facets.kind.iter().map(|(kind, n)| (kind.clone(), *n, None)).collect();
            facet_list(&mut body, "Loại", &kinds);
            body.push_str("</aside></div>");
        }
    }
    page_with(office, Some(viewer), "Tìm kiếm", &body, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_refuses_script_links() {
        assert_eq!(esc("<script>\"'&"), "&lt;script&gt;&quot;&#39;&amp;");
        assert_eq!(safe_href("javascript:alert(1)"), None);
        assert_eq!(safe_href(" JAVASCRIPT:alert(1)"), None);
        assert!(safe_href("https://a.vn/?a=1&b=\"x\"").is_some_and(|h| !h.contains('"')));
    }
}
