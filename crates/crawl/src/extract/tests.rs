use super::*;
use chrono::TimeZone;

fn fetched() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2023, 3, 31, 12, 30, 0)
        .single()
        .expect("valid")
}

fn run(html: &str) -> Result<Extracted, ExtractError> {
    let url = Url::parse("https://bao.example.vn/thoi-su/bai-viet-123.html").expect("url");
    extract(&ExtractInput {
        body: html.as_bytes(),
        url: &url,
        content_type: Some("text/html; charset=utf-8"),
        fetched_at: fetched(),
    })
}

const PARA: &str = "Người dân được hướng dẫn nộp hồ sơ trực tuyến tại Trung tâm Phục vụ hành chính công tỉnh, các tổ hướng dẫn được bố trí ngay ở sảnh chính để hỗ trợ người dân.";

fn article_page() -> String {
    format!(
        r#"<!doctype html><html lang="vi"><head><meta charset="utf-8">
<title>Hồ sơ trực tuyến tăng gấp ba - Báo Mẫu</title>
<meta property="og:site_name" content="Báo Mẫu">
<meta property="og:type" content="article">
<link rel="canonical" href="/thoi-su/bai-viet-123.html">
<link rel="alternate" type="application/rss+xml" href="/rss.xml">
</head><body>
<div class="topbar">Thứ Sáu, 31/03/2023</div>
<nav class="menu"><ul><li><a href="/">Trang chủ</a></li><li><a href="/thoi-su/">Thời sự</a></li><li><a href="/kinh-te/">Kinh tế</a></li><li><a href="/xa-hoi/">Xã hội</a></li><li><a href="/van-hoa/">Văn hóa</a></li><li><a href="/the-thao/">Thể thao</a></li><li><a href="/giai-tri/">Giải trí</a></li><li><a href="/phap-luat/">Pháp luật</a></li><li><a href="/giao-duc/">Giáo dục</a></li></ul></nav>
<div class="main"><article>
<h1>Hồ sơ trực tuyến tăng gấp ba</h1>
<div class="meta">08:15 ngày 13/03/2023</div>
<p class="sapo">Hai tháng đầu năm, cổng dịch vụ công tiếp nhận hơn 21.000 hồ sơ trực tuyến toàn trình, gấp ba lần cùng kỳ.</p>
<div class="content">
<p>{PARA}</p>
<figure><img src="a.jpg"><figcaption>Ảnh minh họa cho bài viết.</figcaption></figure>
<p>{PARA} Thêm một câu nữa để đoạn văn dài hơn.</p>
<div class="box"><p>Tin liên quan</p><ul><li><a href="/a.html">Một bài khác có tiêu đề khá dài</a></li></ul></div>
<p>{PARA} Câu cuối cùng của bài.</p>
<p style="text-align:right"><strong>Thu Hà</strong></p>
</div></article>
<section class="comments"><p>Bình luận rất dài của bạn đọc, với nhiều chữ, dấu phẩy, và dấu chấm câu ở cuối.</p><span>14:20 13/03/2023</span></section>
</div>
<footer><p>Giấy phép số 128/GP-BTTTT do Bộ Thông tin và Truyền thông cấp ngày 14/4/2020.</p></footer>
</body></html>"#
    )
}

#[test]
fn extracts_a_simple_article() {
    let e = run(&article_page()).expect("ok");
    assert_eq!(e.title.as_deref(), Some("Hồ sơ trực tuyến tăng gấp ba"));
    assert!(e.text.starts_with("Hai tháng đầu năm"), "{}", e.text);
    assert!(e.text.contains("Câu cuối cùng của bài."));
    assert!(!e.text.contains("Thu Hà"), "{}", e.text);
    assert!(!e.text.contains("Tin liên quan"));
    assert!(!e.text.contains("Ảnh minh họa"));
    assert!(!e.text.contains("Bình luận"));
    assert!(!e.text.contains("Giấy phép"));
    assert_eq!(e.text.matches("\n\n").count(), 3, "{}", e.text);
    assert_eq!(e.author.as_deref(), Some("Thu Hà"));
    assert_eq!(
        e.published_at.map(|d| d.to_rfc3339()).as_deref(),
        Some("2023-03-13T08:15:00+07:00")
    );
    assert_eq!(e.lang.as_deref(), Some("vi"));
    assert!(e.is_article);
    assert_eq!(
        e.canonical_url.as_deref(),
        Some("https://bao.example.vn/thoi-su/bai-viet-123.html")
    );
    assert_eq!(e.feeds, vec!["https://bao.example.vn/rss.xml".to_string()]);
    assert!(
        e.links
            .contains(&"https://bao.example.vn/kinh-te/".to_string())
    );
}

#[test]
fn empty_and_binary_inputs_are_errors() {
    assert_eq!(run("").unwrap_err(), ExtractError::Empty);
    assert_eq!(run("   \n ").unwrap_err(), ExtractError::Empty);
    let url = Url::parse("https://x.example/").expect("url");
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    let r = extract(&ExtractInput {
        body: png,
        url: &url,
        content_type: None,
        fetched_at: fetched(),
    });
    assert!(matches!(r, Err(ExtractError::NotHtml(_))));
    let zeros = vec![0u8; 4096];
    let r = extract(&ExtractInput {
        body: &zeros,
        url: &url,
        content_type: None,
        fetched_at: fetched(),
    });
    assert!(matches!(r, Err(ExtractError::NotHtml(_))));
}

#[test]
fn truncated_html_is_fine() {
    let page = article_page();
    for cut in [10, 200, 700, 1500, page.len() / 2, page.len() - 30] {
        let mut cut = cut.min(page.len());
        while !page.is_char_boundary(cut) {
            cut -= 1;
        }
        let _ = run(&page[..cut]);
    }
}

#[test]
fn deep_nesting_does_not_overflow() {
    let depth = 100_000;
    let mut s = String::with_capacity(depth * 12 + 100);
    s.push_str("<html><body>");
    for _ in 0..depth {
        s.push_str("<div>");
    }
    s.push_str("<p>deep text, with a comma.</p>");
    for _ in 0..depth {
        s.push_str("</div>");
    }
    s.push_str("</body></html>");
    let r = run(&s);
    assert!(r.is_ok());
    let mut s = String::new();
    for _ in 0..depth {
        s.push_str("<span><b>");
    }
    s.push_str("inline");
    let _ = run(&s);
}

#[test]
fn huge_page_is_truncated_not_refused() {
    let mut s = article_page();
    let filler = "<p>lorem ipsum dolor sit amet, consectetur adipiscing elit.</p>\n";
    while s.len() < 50 * 1024 * 1024 {
        s.push_str(filler);
    }
    let r = run(&s);
    assert!(r.is_ok());
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]
    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2000)) {
        let url = Url::parse("https://x.example/a/b").expect("url");
        let _ = extract(&ExtractInput { body: &body, url: &url, content_type: None, fetched_at: fetched() });
    }

    #[test]
    fn arbitrary_markup_never_panics(body in "(<(div|p|a href=\"/x\"|h1|script|table|td|li|br|b|time datetime=\"2023-01-01\")>|</(div|p|a|h1|script|table|td|li|b|time)>|[a-zA-Zà-ỹ0-9 ,.:/|-]{0,20}){0,80}") {
        let _ = run(&body);
    }
}
