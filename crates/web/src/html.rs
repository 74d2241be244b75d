//! Server-rendered pages. Everything from the outside goes through [`esc`].

use std::fmt::Write;

use axum::http::StatusCode;
use diembao_index::SearchResults;

use crate::{SearchParams, Viewer};

pub const CSS: &str = r#"
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1f2933;background:#f7f8fa}
header{background:#7a1f1f;color:#fff;padding:.8rem 1.5rem}header h1{margin:0;font-size:1.2rem}
main{max-width:60rem;margin:0 auto;padding:1rem 1.5rem}
form.search{display:flex;gap:.5rem;margin:1rem 0}form.search input[type=search]{flex:1;padding:.6rem;font-size:1rem;border:1px solid #9aa5b1;border-radius:4px}
button{padding:.6rem 1rem;border:0;border-radius:4px;background:#7a1f1f;color:#fff;font-size:1rem;cursor:pointer}
.hit{background:#fff;border:1px solid #e4e7eb;border-radius:6px;padding:.8rem 1rem;margin:.6rem 0}
.hit h2{font-size:1.05rem;margin:0 0 .3rem}.hit a{color:#0b4f8a;text-decoration:none}.meta{color:#616e7c;font-size:.85rem}
.snippet b{background:#fff3c4;font-weight:600}.error{color:#a61b1b}.count{color:#616e7c}
.facets{font-size:.85rem;color:#3e4c59}.facets span{margin-right:1rem}
header{display:flex;justify-content:space-between;align-items:center}.account{display:flex;gap:.6rem;align-items:center;font-size:.9rem}
.account button{padding:.3rem .7rem;font-size:.85rem;background:#fff;color:#7a1f1f}
form.login{display:flex;flex-direction:column;gap:.8rem;max-width:22rem}form.login input{display:block;width:100%;padding:.5rem;margin-top:.2rem}
"#;

/// Escapes text for HTML bodies and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Only http(s) links are made clickable; anything else (`javascript:`…) is shown as text.
fn safe_href(url: &str) -> Option<String> {
    let lower = url.trim_start().to_ascii_lowercase();
    (lower.starts_with("http://") || lower.starts_with("https://")).then(|| esc(url))
}

fn page(office: &str, viewer: Option<&Viewer>, title: &str, body: &str) -> String {
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
    format!(
        "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{title} – diembao</title><link rel=\"stylesheet\" href=\"/static/app.css\"></head>\
         <body><header><h1>{office} · Điểm báo</h1>{account}</header><main>{body}</main></body></html>",
        title = esc(title),
        office = esc(office),
    )
}

pub fn login_page(office: &str, error: Option<&str>) -> String {
    let error = error.map(|e| format!("<p class=\"error\">{}</p>", esc(e))).unwrap_or_default();
    let body = format!(
        "<h2>Đăng nhập</h2>{error}<form class=\"login\" method=\"post\" action=\"/login\">\
         <label>Tên đăng nhập <input name=\"user\" autocomplete=\"username\" required autofocus></label>\
         <label>Mật khẩu <input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
         <button type=\"submit\">Đăng nhập</button></form>"
    );
    page(office, None, "Đăng nhập", &body)
}

pub fn message_page(office: &str, title: &str, message: &str) -> String {
    page(office, None, title, &format!("<h2>{}</h2><p>{}</p>", esc(title), esc(message)))
}

pub fn search_page(
    office: &str,
    viewer: &Viewer,
    params: &SearchParams,
    results: Option<Result<SearchResults, (StatusCode, String)>>,
) -> String {
    let mut body = String::new();
    let _ = write!(
        body,
        "<form class=\"search\" method=\"get\" action=\"/search\" role=\"search\">\
         <input type=\"search\" name=\"q\" value=\"{}\" placeholder=\"Tìm kiếm, ví dụ: chuyen doi so, &quot;an toàn thông tin&quot;\" autofocus aria-label=\"Từ khoá\">\
         <button type=\"submit\">Tìm</button></form>",
        esc(&params.q)
    );
    match results {
        None => body.push_str("<p class=\"count\">Nhập từ khoá để tìm trong các bài báo và bài đăng đã thu thập (có thể gõ không dấu).</p>"),
        Some(Err((_, message))) => {
            let _ = write!(body, "<p class=\"error\">Truy vấn không hợp lệ: {}</p>", esc(&message));
        }
        Some(Ok(results)) => {
            let _ = write!(body, "<p class=\"count\">{} kết quả</p>", results.total);
            if !results.facets.source.is_empty() {
                body.push_str("<p class=\"facets\">");
                for (source, count) in &results.facets.source {
                    let _ = write!(body, "<span>{}: {}</span>", esc(source), count);
                }
                body.push_str("</p>");
            }
            for hit in &results.hits {
                let title = esc(&hit.title);
                let link = match safe_href(&hit.url) {
                    Some(href) => format!("<a href=\"{href}\" rel=\"noopener noreferrer nofollow\">{title}</a>"),
                    None => title,
                };
                let _ = write!(
                    body,
                    "<article class=\"hit\"><h2>{link}</h2><div class=\"meta\">{} · {}</div><p class=\"snippet\">{}</p></article>",
                    esc(hit.source.as_deref().unwrap_or("")),
                    esc(hit.published_at.as_deref().unwrap_or("")),
                    // Snippets arrive escaped from the index, with <b> as the only markup.
                    hit.snippet
                );
            }
        }
    }
    page(office, Some(viewer), "Tìm kiếm", &body)
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
