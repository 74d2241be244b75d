//! Hostile and broken pages through the public extractor: each comes back
//! with a result or a clear error, never a panic, and (on Linux, where peak
//! RSS can be reset and read) within a bounded amount of memory.
//!
//! Complements the unit tests in `src/extract/tests.rs` (empty, binary,
//! truncated, 50 MB, 100 000 nested `<div>`s) with the memory bound and the
//! inputs they do not cover.

use chrono::{DateTime, TimeZone, Utc};
use diembao_crawl::extract::{ExtractError, ExtractInput, Extracted, MAX_PARSE_BYTES, extract};
use url::Url;

fn fetched() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2023, 3, 31, 12, 30, 0)
        .single()
        .expect("valid")
}

fn run(body: &[u8], ct: Option<&str>) -> Result<Extracted, ExtractError> {
    let url = Url::parse("https://bao.example.vn/thoi-su/bai-viet-123.html").expect("url");
    extract(&ExtractInput {
        body,
        url: &url,
        content_type: ct,
        fetched_at: fetched(),
    })
}

const PARA: &str = "Người dân được hướng dẫn nộp hồ sơ trực tuyến tại Trung tâm Phục vụ hành chính công tỉnh, các tổ hướng dẫn được bố trí ngay ở sảnh chính để hỗ trợ người dân.";

fn article(extra_head: &str, body_prefix: &str) -> String {
    format!(
        "<!doctype html><html lang=\"vi\"><head>{extra_head}<title>Hồ sơ trực tuyến tăng gấp ba - Báo Mẫu</title></head>\
         <body>{body_prefix}<article><h1>Hồ sơ trực tuyến tăng gấp ba</h1><div class=\"meta\">08:15 ngày 13/03/2023</div>\
         <div class=\"content\"><p>{PARA}</p><p>{PARA} Hai.</p><p>{PARA} Ba.</p></div></article></body></html>"
    )
}

/// Peak resident set size of this process since the last reset, in bytes.
#[cfg(target_os = "linux")]
mod rss {
    use std::sync::Mutex;

    /// Peak RSS is per process: memory-measuring tests take turns.
    pub static LOCK: Mutex<()> = Mutex::new(());

    pub fn reset() -> bool {
        std::fs::write("/proc/self/clear_refs", "5").is_ok()
    }

    pub fn peak() -> Option<u64> {
        let s = std::fs::read_to_string("/proc/self/status").ok()?;
        let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb * 1024)
    }
}

/// Run `f` and check that the process's peak RSS grew by at most `limit`
/// bytes over what it held before (the input itself is built before).
fn within_memory<T>(what: &str, limit: u64, f: impl FnOnce() -> T) -> T {
    #[cfg(target_os = "linux")]
    {
        let _turn = rss::LOCK.lock().unwrap_or_else(|p| p.into_inner());
        let before = rss::peak();
        let measured = rss::reset();
        let base = if measured { rss::peak() } else { before };
        let out = f();
        if measured && let (Some(base), Some(peak)) = (base, rss::peak()) {
            let grew = peak.saturating_sub(base);
            assert!(
                grew <= limit,
                "{what}: peak RSS grew by {} MiB (limit {} MiB)",
                grew >> 20,
                limit >> 20
            );
        }
        out
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (what, limit);
        f()
    }
}

const MIB: u64 = 1024 * 1024;

#[test]
fn fifty_megabyte_page_is_bounded() {
    let mut s = article("", "");
    let filler =
        "<p>lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.</p>\n";
    s.reserve(50 * MIB as usize);
    while s.len() < 50 * MIB as usize {
        s.push_str(filler);
    }
    let e = within_memory("50 MB page", 600 * MIB, || run(s.as_bytes(), None)).expect("ok");
    assert!(e.text.contains("Hai."), "the article at the top is kept");
}

#[test]
fn fifty_megabyte_text_node_and_attribute() {
    let mut text = String::from("<html><body><p>");
    while text.len() < 50 * MIB as usize {
        text.push_str("chữ và số 123, ");
    }
    let r = within_memory("50 MB text node", 600 * MIB, || {
        run(text.as_bytes(), Some("text/html; charset=utf-8"))
    });
    assert!(r.is_ok());
    drop(text);
    let mut attr = String::from("<html><body><div class=\"");
    attr.push_str(&"content ".repeat(6 * MIB as usize));
    attr.push_str("\"><p>");
    attr.push_str(PARA);
    let r = within_memory("50 MB attribute", 600 * MIB, || run(attr.as_bytes(), None));
    assert!(r.is_ok());
}

#[test]
fn hundred_thousand_nested_elements_of_every_kind() {
    for (open, close) in [
        ("<div>", "</div>"),
        ("<b>", "</b>"),
        ("<a href=\"/x\">", "</a>"),
        ("<table><tr><td>", "</td></tr></table>"),
        ("<ul><li>", "</li></ul>"),
        ("<blockquote>", ""),
        ("<span class=\"c\">", ""),
        ("<svg>", ""),
        ("<select>", ""),
    ] {
        let n = 100_000;
        let mut s = String::with_capacity(n * (open.len() + close.len()) + 200);
        s.push_str("<html><body>");
        for _ in 0..n {
            s.push_str(open);
        }
        s.push_str(PARA);
        for _ in 0..n {
            s.push_str(close);
        }
        let r = within_memory(open, 500 * MIB, || run(s.as_bytes(), None));
        assert!(r.is_ok() || r.is_err(), "{open}");
    }
}

#[test]
fn unclosed_formatting_elements_do_not_multiply() {
    // Distinct attributes defeat the parser's "Noah's Ark" clause: every
    // reopened block re-creates all the open formatting elements.
    let mut s = String::from("<html><body><div>");
    for i in 0..2000 {
        s.push_str(&format!("<b id=\"b{i}\">"));
    }
    s.push_str("</div>");
    while s.len() < 2 * MIB as usize {
        s.push_str("<div>x</div>");
    }
    // (a few re-created elements per block remain: what the spec asks for)
    let r = within_memory("formatting elements", 1024 * MIB, || {
        run(s.as_bytes(), None)
    });
    assert!(r.is_ok());
}

#[test]
fn declared_charset_is_not_the_real_one() {
    // UTF-8 bytes declared as windows-1258 (meta) and as ISO-8859-1 (header)
    let page = article(
        "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1258\">",
        "",
    );
    for ct in [None, Some("text/html; charset=iso-8859-1")] {
        let e = run(page.as_bytes(), ct).expect("ok");
        assert!(e.text.contains("hướng dẫn nộp hồ sơ"), "{ct:?}: {}", e.text);
        assert_eq!(e.title.as_deref(), Some("Hồ sơ trực tuyến tăng gấp ba"));
    }
    // windows-1252 bytes declared as UTF-8
    let fr = "<html><head><meta charset=\"utf-8\"><title>Crème brûlée</title></head><body><article><h1>Crème brûlée</h1>\
              <p>Une crème brûlée à la française, déjà servie au café, avec naïveté et façade, résumé de la soirée: très réussie.</p>\
              <p>Le chef a préféré une crème légère, sucrée à point, et la caramélisation était parfaite, dit-on à l'hôtel.</p></article></body></html>";
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(fr);
    let e = run(&bytes, Some("text/html; charset=utf-8")).expect("ok");
    assert!(e.text.contains("crème brûlée"), "{}", e.text);
    // declared UTF-16 on an ASCII-compatible page (browsers read it as UTF-8)
    let e = run(page.as_bytes(), Some("text/html; charset=utf-16")).expect("ok");
    assert!(e.text.contains("hướng dẫn"), "{}", e.text);
    // declared Shift_JIS on UTF-8
    let e = run(page.as_bytes(), Some("text/html; charset=Shift_JIS")).expect("ok");
    assert!(e.text.contains("hướng dẫn"), "{}", e.text);
    // an unknown label is ignored
    let e = run(page.as_bytes(), Some("text/html; charset=x-no-such-thing")).expect("ok");
    assert!(e.text.contains("hướng dẫn"), "{}", e.text);
}

#[test]
fn binary_and_odd_bodies() {
    // random-looking bytes with an HTML content type
    let mut x: u32 = 0x1234_5678;
    let noise: Vec<u8> = (0..200_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect();
    let r = run(&noise, Some("text/html; charset=utf-8"));
    assert!(r.is_ok() || matches!(r, Err(ExtractError::NotHtml(_))));
    // a UTF-16 BOM followed by an odd number of bytes
    let r = run(b"\xFF\xFE<\0p\0>\0x", None);
    assert!(r.is_ok() || r.is_err());
    // only a BOM
    let r = run(b"\xEF\xBB\xBF", None);
    assert!(r.is_ok() || r.is_err());
    // NULs inside otherwise normal markup
    let mut page = article("", "").into_bytes();
    page.insert(300, 0);
    let e = run(&page, None).expect("a stray NUL is not binary");
    assert!(e.text.contains("Ba."));
    // a PDF with an HTML content type
    assert!(matches!(
        run(b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj", Some("text/html")),
        Err(ExtractError::NotHtml(_))
    ));
}

#[test]
fn truncated_everywhere() {
    let page = article(
        "<meta property=\"og:type\" content=\"article\"><script type=\"application/ld+json\">{\"@type\":\"NewsArticle\",\"headline\":\"Hồ sơ\"}</script>",
        "<!-- comment --><nav><a href=\"/\">Trang chủ</a></nav>",
    );
    let b = page.as_bytes();
    // every cut point, including inside multi-byte characters
    for cut in (0..b.len()).step_by(7) {
        let r = run(&b[..cut], Some("text/html; charset=utf-8"));
        if cut > 0 && b[..cut].iter().any(|c| !c.is_ascii_whitespace()) {
            assert!(r.is_ok(), "cut at {cut}: {r:?}");
        }
    }
}

#[test]
fn parse_limit_is_applied_before_the_charset_detector() {
    // just over the parse limit with no declared charset and invalid UTF-8
    // at the end: the cut must not make the extractor fail
    let mut s = article("", "").into_bytes();
    s.resize(MAX_PARSE_BYTES + 3, b' ');
    s.extend_from_slice(b"\xE1\xBA");
    let e = run(&s, None).expect("ok");
    assert!(e.text.contains("hướng dẫn"));
}
