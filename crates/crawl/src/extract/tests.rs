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
    assert_eq!(run("").expect_err("empty"), ExtractError::Empty);
    assert_eq!(run("   \n ").expect_err("blank"), ExtractError::Empty);
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

#[test]
fn deep_tree_passes_are_iterative() {
    // Bypass the nesting cap: our own passes must cope with a deep DOM.
    let depth = 12_000;
    let mut s = String::new();
    for _ in 0..depth {
        s.push_str("<div>");
    }
    s.push_str("<p>deep text, with a comma, and more words to be a paragraph.</p>");
    let html = scraper::Html::parse_document(&s);
    let dom = dom::Dom::build(&html);
    let url = Url::parse("https://x.example/").expect("url");
    let m = meta::collect(&dom, &url, fetched());
    let mut an = content::Analysis::new(&dom);
    let (title, headline) = title::choose(&an, &m, None);
    an.finish(headline);
    let body = an.extract_body(headline, title.as_deref(), fetched());
    assert!(body.text.contains("deep text"));
}

/// Templates unlike the dev pack: checks that the heuristics are general.
mod templates {
    use super::*;

    const P1: &str = "Sáng 13/3, Uỷ ban nhân dân tỉnh tổ chức hội nghị triển khai kế hoạch phát triển kinh tế biển, với sự tham dự của lãnh đạo các sở, ngành và địa phương ven biển.";
    const P2: &str = "Theo báo cáo, năm qua giá trị sản xuất thủy sản toàn tỉnh đạt hơn 5.000 tỷ đồng, tăng 8% so với cùng kỳ; sản lượng khai thác đạt 120.000 tấn, nuôi trồng đạt 45.000 tấn.";
    const P3: &str = "Phát biểu tại hội nghị, Phó Chủ tịch tỉnh đề nghị các địa phương tập trung tháo gỡ khó khăn về mặt bằng, nguồn vốn, đẩy nhanh tiến độ các dự án hạ tầng cảng cá và khu neo đậu tránh trú bão.";

    fn run_at(html: &str, url: &str, ct: Option<&str>) -> Extracted {
        let url = Url::parse(url).expect("url");
        extract(&ExtractInput {
            body: html.as_bytes(),
            url: &url,
            content_type: ct,
            fetched_at: fetched(),
        })
        .expect("extracts")
    }

    fn date(e: &Extracted) -> String {
        e.published_at.map(|d| d.to_rfc3339()).unwrap_or_default()
    }

    #[test]
    fn vnexpress_like() {
        let html = format!(
            r#"<html><head><title>Tỉnh đẩy mạnh phát triển kinh tế biển - Báo Sóng Nước</title>
<meta property="og:title" content="Tỉnh đẩy mạnh phát triển kinh tế biển - Báo Sóng Nước"></head><body>
<header><a href="/">Báo Sóng Nước</a><span class="time-now">Thứ sáu, 31/3/2023</span></header>
<nav><a href="/a">Thời sự</a><a href="/b">Kinh doanh</a><a href="/c">Thế giới</a></nav>
<section class="section page-detail"><div class="container"><div class="sidebar-1">
<div class="header-content"><ul class="breadcrumb"><li><a href="/kinh-doanh">Kinh doanh</a></li></ul>
<span class="date">Thứ hai, 13/3/2023, 08:15 (GMT+7)</span></div>
<h1 class="title-detail">Tỉnh đẩy mạnh phát triển kinh tế biển</h1>
<p class="description">Kinh tế biển được xác định là động lực tăng trưởng, với mục tiêu đóng góp 40% GRDP vào năm 2030.</p>
<article class="fck_detail">
<p class="Normal">{P1}</p>
<figure class="tplCaption"><img src="x.jpg"><figcaption><p class="Image">Quang cảnh hội nghị. Ảnh: Minh Khoa</p></figcaption></figure>
<p class="Normal">{P2}</p>
<p class="Normal">{P3}</p>
<p class="Normal" style="text-align:right;"><strong>Minh Khoa</strong></p>
</article>
<div class="box-tinlienquanv2"><h3>Tin liên quan</h3><ul><li><a href="/x">Bài một</a></li><li><a href="/y">Bài hai về kinh tế biển</a></li></ul></div>
<div class="box_comment_vne"><div class="comment_item"><p class="full_content">Bài viết rất hay, cảm ơn phóng viên, mong tỉnh sớm triển khai các dự án.</p><span class="time-com">2 giờ trước</span></div></div>
</div></div></section>
<footer><p>Báo Sóng Nước. Giấy phép số 548/GP-BTTTT cấp ngày 24/08/2021.</p></footer></body></html>"#
        );
        let e = run_at(
            &html,
            "https://songnuoc.example.vn/tinh-day-manh-123.html",
            Some("text/html"),
        );
        assert_eq!(
            e.title.as_deref(),
            Some("Tỉnh đẩy mạnh phát triển kinh tế biển")
        );
        assert_eq!(date(&e), "2023-03-13T08:15:00+07:00");
        assert_eq!(e.author.as_deref(), Some("Minh Khoa"));
        let want = format!(
            "Kinh tế biển được xác định là động lực tăng trưởng, với mục tiêu đóng góp 40% GRDP vào năm 2030.\n\n{P1}\n\n{P2}\n\n{P3}"
        );
        assert_eq!(e.text, want);
    }

    #[test]
    fn tuoitre_like_with_doc_them_box_and_author_after_body() {
        let html = format!(
            r#"<html><head><meta charset="utf-8"><title>Đẩy nhanh dự án cảng cá | Tin tức Sóng Xanh</title>
<meta property="og:site_name" content="Sóng Xanh">
<meta property="article:modified_time" content="2023-03-30T10:00:00+07:00">
</head><body><div id="wrapper">
<div class="header"><a href="/">Sóng Xanh</a></div>
<ul class="menu"><li><a href="/1">Thời sự</a></li><li><a href="/2">Thế giới</a></li></ul>
<div class="detail-content">
<div class="detail-top"><a class="detail-cate" href="/kinh-te">Kinh tế</a><div class="detail-time"><div data-role="publishdate">13/03/2023 08:15 GMT+7</div></div></div>
<h1 class="detail-title article-title" data-role="title">Đẩy nhanh dự án cảng cá</h1>
<h2 class="detail-sapo" data-role="sapo">Nhiều dự án cảng cá chậm tiến độ do vướng mặt bằng, tỉnh yêu cầu các sở ngành vào cuộc quyết liệt.</h2>
<div class="detail-cmain">
<p>{P1}</p>
<div class="VCSortableInPreviewMode" type="RelatedNewsBox"><div>ĐỌC THÊM</div><ul><li><a href="/r1">Cảng cá mới hoạt động</a></li></ul></div>
<p>{P2}</p>
<p>{P3}</p>
</div>
<div class="author-info"><div class="name">Nguyễn Thành</div></div>
<div class="detail-tab"><a href="/tag/1">cảng cá</a><a href="/tag/2">kinh tế biển</a></div>
</div>
<div class="box-related"><h3><a href="/z">Tin khác cùng chuyên mục về kinh tế</a></h3><p>Tóm tắt tin khác, có dấu phẩy, có dấu chấm.</p><span>12/03/2023 10:00</span></div>
</div></body></html>"#
        );
        let e = run_at(
            &html,
            "https://songxanh.example.vn/day-nhanh-20230313.htm",
            None,
        );
        assert_eq!(e.title.as_deref(), Some("Đẩy nhanh dự án cảng cá"));
        assert_eq!(date(&e), "2023-03-13T08:15:00+07:00");
        assert_eq!(
            e.modified_at.map(|d| d.to_rfc3339()).as_deref(),
            Some("2023-03-30T10:00:00+07:00")
        );
        assert_eq!(e.author.as_deref(), Some("Nguyễn Thành"));
        assert!(e.text.starts_with("Nhiều dự án cảng cá"), "{}", e.text);
        assert!(e.text.ends_with(P3), "{}", e.text);
        assert!(!e.text.contains("ĐỌC THÊM") && !e.text.contains("Cảng cá mới"));
    }

    #[test]
    fn table_layout_with_title_prefix_and_update_line_only() {
        let html = format!(
            r#"<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>Báo Đồng Cát Online :: Diêm dân vào vụ muối mới</title></head><body>
<table width="100%"><tr><td class="menu"><a href="/">Trang chủ</a> | <a href="/kt">Kinh tế</a></td></tr>
<tr><td><table><tr><td class="left" width="70%">
<div class="news_title">Diêm dân vào vụ muối mới</div>
<div class="news_date">Cập nhật lúc 15:00 ngày 07/03/2023</div>
<div class="news_lead"><i>Những ngày đầu tháng 3, diêm dân khẩn trương cải tạo ruộng muối, chuẩn bị cho vụ mới.</i></div>
<div class="news_content"><p>{P1}</p><p>{P2}</p><p>{P3}</p><p align="right"><b>VĂN TÙNG</b></p></div>
<div class="news_other"><b>Các tin khác:</b><ul><li><a href="/1">Tin một</a> (06/03/2023)</li></ul></div>
</td><td class="right"><a href="/qc"><img src="qc.gif"></a></td></tr></table></td></tr></table></body></html>"#
        );
        let e = run_at(
            &html,
            "http://dongcat.example.vn/tin/1187.htm",
            Some("text/html"),
        );
        assert_eq!(e.title.as_deref(), Some("Diêm dân vào vụ muối mới"));
        assert_eq!(date(&e), "2023-03-07T15:00:00+07:00");
        assert_eq!(e.author.as_deref(), Some("VĂN TÙNG"));
        assert!(e.text.starts_with("Những ngày đầu tháng 3"), "{}", e.text);
        assert!(e.text.ends_with(P3), "{}", e.text);
    }

    #[test]
    fn long_form_vietnamese_date_and_source_line() {
        let html = format!(
            r#"<html><head><title>Khánh thành cầu mới</title></head><body>
<div class="top">Hôm nay: Thứ sáu, 31/3/2023</div><div class="menu"><a href="/">Trang chủ</a></div>
<div class="post"><h1>Khánh thành cầu mới</h1>
<div class="post-meta">NGÀY 13 THÁNG 3, 2023 | 08:15</div>
<div class="post-body"><p>{P1}</p><p>{P2}</p><p>{P3}</p><p><em>Theo TTXVN</em></p></div>
<div class="comments"><div class="comment"><b>Lan</b> <span>13/03/2023 21:00</span><p>Cây cầu đẹp quá, mong sớm có thêm nhiều công trình như vậy ở quê tôi.</p></div></div>
</div></body></html>"#
        );
        let e = run_at(&html, "https://cau.example.vn/khanh-thanh", None);
        assert_eq!(date(&e), "2023-03-13T08:15:00+07:00");
        assert_eq!(e.author, None);
        assert_eq!(e.text, format!("{P1}\n\n{P2}\n\n{P3}"));
    }

    #[test]
    fn relative_date_and_byline_element() {
        let html = format!(
            r#"<html><head><title>Bão số 1 đổ bộ - Tin Nhanh</title><meta property="og:site_name" content="Tin Nhanh"></head><body>
<main><article><h1>Bão số 1 đổ bộ</h1><div class="meta"><span class="byline">Bài: Trần Hải</span> · <span class="ago">2 giờ trước</span></div>
<div class="content"><p>{P1}</p><p>{P2}</p><p>{P3}</p></div></article></main></body></html>"#
        );
        let e = run_at(&html, "https://tinnhanh.example.vn/bao-so-1", None);
        assert_eq!(e.title.as_deref(), Some("Bão số 1 đổ bộ"));
        assert_eq!(e.author.as_deref(), Some("Trần Hải"));
        assert_eq!(date(&e), "2023-03-31T17:30:00+07:00");
    }

    #[test]
    fn listing_page_is_not_an_article() {
        let mut items = String::new();
        for i in 0..8 {
            items.push_str(&format!(
                r#"<article class="story"><h3 class="story__title"><a href="/bai-{i}.html">Tiêu đề bài viết số {i} về kinh tế biển</a></h3><p class="story__summary">{P1}</p></article>"#
            ));
        }
        let html = format!(
            r#"<html><head><title>Tin mới | Báo X</title><link rel="next" href="/tin-moi/trang-2/"></head><body><h1>Tin mới</h1><div class="list">{items}</div><a rel="next" href="/tin-moi/trang-2/">Trang sau</a></body></html>"#
        );
        let e = run_at(&html, "https://x.example.vn/tin-moi/", None);
        assert!(!e.is_article);
        assert_eq!(
            e.next_page.as_deref(),
            Some("https://x.example.vn/tin-moi/trang-2/")
        );
    }

    #[test]
    fn json_ld_graph_and_truncated_headline() {
        let html = format!(
            r#"<html><head><title>A long headline about the provincial sea economy plan for 2030 - Site</title>
<script type="application/ld+json">{{"@context":"https://schema.org","@graph":[{{"@type":"WebSite","name":"Site"}},{{"@type":"NewsArticle","headline":"A long headline about the provincial sea economy...","datePublished":"2023-03-13T01:15:00Z","author":[{{"@type":"Person","name":"Jane Roe"}}]}}]}}</script>
</head><body><h1>A long headline about the provincial sea economy plan for 2030</h1><div class="entry-content"><p>{P1}</p><p>{P2}</p></div></body></html>"#
        );
        let e = run_at(&html, "https://site.example/a", None);
        assert_eq!(
            e.title.as_deref(),
            Some("A long headline about the provincial sea economy plan for 2030")
        );
        assert_eq!(date(&e), "2023-03-13T01:15:00+00:00");
        assert_eq!(e.author.as_deref(), Some("Jane Roe"));
    }
}

#[test]
fn captions_as_paragraphs_are_dropped() {
    let p = "Theo báo cáo, năm qua giá trị sản xuất thủy sản toàn tỉnh đạt hơn 5.000 tỷ đồng, tăng 8% so với cùng kỳ; sản lượng khai thác đạt 120.000 tấn.";
    let html = format!(
        r#"<html><head><title>Tiêu đề bài</title></head><body><h1>Tiêu đề bài</h1><div class="noidung">
<p>{p}</p>
<p style="text-align:center"><img src="a.jpg"></p>
<p style="text-align:center"><em>Ngư dân phấn khởi với chuyến biển đầu năm.</em></p>
<p>{p} Đoạn hai.</p>
<table class="image"><tr><td><img src="b.jpg"></td></tr><tr><td>Quang cảnh cảng cá. Ảnh: Văn Tùng</td></tr></table>
<p>{p} Đoạn ba.</p>
<p>Ảnh: Minh Khoa</p>
<p>{p} Đoạn bốn.</p>
</div></body></html>"#
    );
    let e = run(&html).expect("ok");
    assert!(!e.text.contains("Ngư dân phấn khởi"), "{}", e.text);
    assert!(!e.text.contains("Minh Khoa"), "{}", e.text);
    assert!(e.text.contains("Đoạn bốn."), "{}", e.text);
    assert_eq!(e.text.matches("\n\n").count(), 3, "{}", e.text);
}

#[test]
fn trailing_bylines_with_prefixes() {
    let p = "Theo báo cáo, năm qua giá trị sản xuất thủy sản toàn tỉnh đạt hơn 5.000 tỷ đồng, tăng 8% so với cùng kỳ; sản lượng khai thác đạt 120.000 tấn.";
    for (line, want) in [
        ("<p>Bài và ảnh: Minh Khoa</p>", Some("Minh Khoa")),
        ("<p><strong>MINH KHOA</strong></p>", Some("MINH KHOA")),
        (
            "<p style=\"text-align:right\">Ngọc Lan - Văn Tùng</p>",
            Some("Ngọc Lan - Văn Tùng"),
        ),
        ("<p><em>Theo Báo Biển Xanh</em></p>", None),
        ("<p>(Nguồn: TTXVN)</p>", None),
    ] {
        let html = format!(
            "<html><head><title>Tiêu đề</title></head><body><h1>Tiêu đề</h1><div class=\"content\"><p>{p}</p><p>{p} Hai.</p><p>{p} Ba.</p>{line}</div></body></html>"
        );
        let e = run(&html).expect("ok");
        assert_eq!(e.author.as_deref(), want, "{line}");
        assert!(e.text.ends_with("Ba."), "{line}: {}", e.text);
    }
}
