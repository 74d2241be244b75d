//! Reading the pages that list articles: feeds, sitemaps and HTML listings.
//! Pure functions over bytes.

use std::sync::LazyLock;

use chrono::{DateTime, FixedOffset};
use scraper::{Html, Selector};
use url::Url;

/// An entry found on a listing: the article's address and what the listing says of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub url: String,
    pub title: Option<String>,
    pub published_at: Option<DateTime<FixedOffset>>,
    /// Feed summary or content (used for posts, whose whole text is in the feed).
    pub summary: Option<String>,
    pub author: Option<String>,
}

/// What a listing page yields.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    pub entries: Vec<Entry>,
    /// Nested sitemaps (sitemap index) or further listing pages.
    pub more: Vec<String>,
    /// A feed's own title (its channel's), when it has one.
    pub title: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DiscoverError {
    #[error("feed does not parse: {0}")]
    Feed(String),
    #[error("sitemap does not parse: {0}")]
    Sitemap(String),
    #[error("listing selector `{0}` is not valid CSS")]
    Selector(String),
}

/// RSS 2.0 or Atom.
pub fn parse_feed(body: &[u8], base: &Url) -> Result<Listing, DiscoverError> {
    let feed = feed_rs::parser::Builder::new()
        .base_uri(Some(base.as_str()))
        .build()
        .parse(body)
        .map_err(|err| DiscoverError::Feed(err.to_string()))?;
    let title = feed
        .title
        .map(|t| diembao_core::text::clean(t.content.trim()))
        .filter(|t| !t.is_empty());
    let entries = feed
        .entries
        .into_iter()
        .filter_map(|entry| {
            let link = entry
                .links
                .iter()
                .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
                .or_else(|| entry.links.first())
                .map(|l| l.href.clone())
                .or_else(|| Url::parse(&entry.id).ok().map(|u| u.to_string()))?;
            let url = base.join(&link).ok()?;
            Some(Entry {
                url: url.to_string(),
                title: entry.title.map(|t| diembao_core::text::clean(&t.content)),
                published_at: entry.published.or(entry.updated).map(|d| d.fixed_offset()),
                summary: entry
                    .summary
                    .map(|s| s.content)
                    .or_else(|| entry.content.and_then(|c| c.body)),
                author: entry.authors.first().and_then(|a| a.name.clone()),
            })
        })
        .collect();
    Ok(Listing {
        entries,
        more: Vec::new(),
        title,
    })
}

/// A sitemap index, a urlset or a Google News sitemap.
pub fn parse_sitemap(body: &[u8], base: &Url) -> Result<Listing, DiscoverError> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(body);
    reader.config_mut().trim_text(true);
    let mut listing = Listing::default();
    let mut path: Vec<String> = Vec::new();
    let mut loc: Option<String> = None;
    let mut date: Option<String> = None;
    let mut title: Option<String> = None;
    let mut text_buf = String::new();
    let mut buf = Vec::new();
    let mut saw_root = false;
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(start)) => {
                let local = start.local_name();
                let name = local.into_inner().to_string();
                if path.is_empty() {
                    if name != "urlset" && name != "sitemapindex" {
                        return Err(DiscoverError::Sitemap(format!(
                            "root element is <{name}>, not <urlset> or <sitemapindex>"
                        )));
                    }
                    saw_root = true;
                }
                path.push(name);
                text_buf.clear();
            }
            Ok(Event::End(_)) => {
                let name = path.pop().unwrap_or_default();
                let value = std::mem::take(&mut text_buf).trim().to_string();
                match name.as_str() {
                    "loc" => loc = Some(value),
                    "publication_date" => date = Some(value),
                    "lastmod" if date.is_none() => date = Some(value),
                    "title" => title = Some(value),
                    "url" | "sitemap" => {
                        if let Some(found) = loc.take().and_then(|l| base.join(&l).ok()) {
                            if name == "sitemap" {
                                listing.more.push(found.to_string());
                            } else {
                                listing.entries.push(Entry {
                                    url: found.to_string(),
                                    title: title.take(),
                                    published_at: date
                                        .take()
                                        .and_then(|d| diembao_core::document::parse_datetime(&d)),
                                    summary: None,
                                    author: None,
                                });
                            }
                        }
                        date = None;
                        title = None;
                    }
                    _ => {}
                }
            }
            Ok(Event::Text(text)) => text_buf.push_str(&text.xml10_content()),
            Ok(Event::CData(text)) => text_buf.push_str(&text.into_inner()),
            Ok(Event::GeneralRef(reference)) => {
                let name: &str = reference.as_ref();
                let resolved = match name {
                    "amp" => Some('&'),
                    "lt" => Some('<'),
                    "gt" => Some('>'),
                    "quot" => Some('"'),
                    "apos" => Some('\''),
                    other => other
                        .strip_prefix("#x")
                        .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                        .or_else(|| other.strip_prefix('#').and_then(|dec| dec.parse().ok()))
                        .and_then(char::from_u32),
                };
                if let Some(c) = resolved {
                    text_buf.push(c);
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(err) => {
                return Err(DiscoverError::Sitemap(format!(
                    "at byte {}: {err}",
                    reader.buffer_position()
                )));
            }
        }
        buf.clear();
    }
    if !saw_root {
        return Err(DiscoverError::Sitemap("empty document".into()));
    }
    Ok(listing)
}

/// What a home page (or a site's page of feeds) tells of where its feeds are and what the
/// site is called.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HomePage {
    /// Feeds the page declares (`<link rel="alternate">`, any host), then feeds it links
    /// to on its own host (`<a href>` to a `.rss`, `.atom` or feed-like `.xml` address),
    /// in page order, at most [`MAX_LINKED_FEEDS`] of the latter.
    pub feeds: Vec<Url>,
    /// Pages of its own host that list feeds (`/rss`, `/rss.html`: the way many
    /// Vietnamese outlets publish one feed a section), at most [`MAX_FEED_PAGES`].
    pub feed_pages: Vec<Url>,
    /// `og:site_name`, else `application-name`, else the page's `<title>`.
    pub site_name: Option<String>,
}

/// Most feeds taken from a page's `<a>` links (each costs a request to look at).
pub const MAX_LINKED_FEEDS: usize = 12;
/// Most pages of feeds taken from a page's links.
pub const MAX_FEED_PAGES: usize = 2;

static DECLARED_FEEDS: LazyLock<Selector> = LazyLock::new(|| {
    Selector::parse(r#"link[rel~="alternate"][type="application/rss+xml"], link[rel~="alternate"][type="application/atom+xml"], link[rel~="alternate"][type="application/feed+json"]"#)
        .expect("static selector")
});
static ANCHORS: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse("a[href]").expect("static selector"));
static OG_SITE_NAME: LazyLock<Selector> = LazyLock::new(|| {
    Selector::parse(r#"meta[property="og:site_name"][content]"#).expect("static selector")
});
static APPLICATION_NAME: LazyLock<Selector> = LazyLock::new(|| {
    Selector::parse(r#"meta[name="application-name"][content]"#).expect("static selector")
});
static TITLE: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse("title").expect("static selector"));

/// Reads a home page (or a page of feeds) for [`HomePage`]: its declared and linked
/// feeds, its pages of feeds and its name. `base` is the page's final address.
pub fn read_home_page(html: &str, base: &Url) -> HomePage {
    let document = Html::parse_document(html);
    let mut page = HomePage::default();
    let push = |list: &mut Vec<Url>, url: Url| {
        if !list.contains(&url) {
            list.push(url);
        }
    };
    for element in document.select(&DECLARED_FEEDS) {
        if let Some(url) = element
            .value()
            .attr("href")
            .and_then(|href| base.join(href.trim()).ok())
            .filter(|url| matches!(url.scheme(), "http" | "https"))
        {
            push(&mut page.feeds, url);
        }
    }
    let mut linked = 0;
    for element in document.select(&ANCHORS) {
        let Some(url) = element
            .value()
            .attr("href")
            .and_then(|href| base.join(href.trim()).ok())
            .filter(|url| matches!(url.scheme(), "http" | "https"))
            .filter(|url| url.host_str() == base.host_str())
        else {
            continue;
        };
        match feed_link_kind(&url) {
            Some(FeedLink::Feed) if linked < MAX_LINKED_FEEDS && !page.feeds.contains(&url) => {
                linked += 1;
                page.feeds.push(url);
            }
            Some(FeedLink::FeedPage)
                if page.feed_pages.len() < MAX_FEED_PAGES && url.as_str() != base.as_str() =>
            {
                push(&mut page.feed_pages, url);
            }
            _ => {}
        }
    }
    let content = |selector: &Selector| {
        document
            .select(selector)
            .find_map(|el| el.value().attr("content").map(str::to_string))
    };
    page.site_name = content(&OG_SITE_NAME)
        .or_else(|| content(&APPLICATION_NAME))
        .or_else(|| {
            document
                .select(&TITLE)
                .next()
                .map(|el| el.text().collect::<String>())
        })
        .map(|name| {
            diembao_core::text::clean(&name.split_whitespace().collect::<Vec<_>>().join(" "))
        })
        .filter(|name| !name.is_empty());
    page
}

enum FeedLink {
    Feed,
    FeedPage,
}

/// Whether a link's address looks like a feed (`…/tin-moi.rss`, `…/rss/home.xml`,
/// `…/feed.atom`) or like a page that lists feeds (`/rss`, `/rss.html`, `/rss/`).
fn feed_link_kind(url: &Url) -> Option<FeedLink> {
    let path = url.path().to_ascii_lowercase();
    let last = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    if last.ends_with(".rss") || last.ends_with(".atom") {
        return Some(FeedLink::Feed);
    }
    let feedish = ["rss", "feed", "atom"]
        .iter()
        .any(|word| path.contains(word));
    if feedish && last.ends_with(".xml") {
        return Some(FeedLink::Feed);
    }
    let stem = last.split('.').next().unwrap_or("");
    let page_suffix = last
        .strip_prefix(stem)
        .is_some_and(|rest| matches!(rest, "" | ".html" | ".htm" | ".aspx" | ".php"));
    (page_suffix && matches!(stem, "rss" | "feeds")).then_some(FeedLink::FeedPage)
}

static NEXT_LINK: LazyLock<Selector> = LazyLock::new(|| {
    Selector::parse(r#"a[rel~="next"], link[rel~="next"]"#).expect("static selector")
});

/// An HTML listing page: links matching `selector`, and its "next page" link on the same host.
pub fn parse_listing(html: &str, base: &Url, selector: &str) -> Result<Listing, DiscoverError> {
    let links =
        Selector::parse(selector).map_err(|_| DiscoverError::Selector(selector.to_string()))?;
    let document = Html::parse_document(html);
    let mut listing = Listing::default();
    for element in document.select(&links) {
        let Some(href) = element.value().attr("href") else {
            continue;
        };
        let Ok(url) = base.join(href.trim()) else {
            continue;
        };
        if !matches!(url.scheme(), "http" | "https") {
            continue;
        }
        let title: String = element
            .text()
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if listing.entries.iter().any(|e| e.url == url.as_str()) {
            continue;
        }
        listing.entries.push(Entry {
            url: url.to_string(),
            title: (!title.is_empty()).then(|| diembao_core::text::clean(&title)),
            published_at: None,
            summary: None,
            author: None,
        });
    }
    for element in document.select(&NEXT_LINK) {
        let Some(href) = element.value().attr("href") else {
            continue;
        };
        let Ok(url) = base.join(href.trim()) else {
            continue;
        };
        if url.host_str() == base.host_str()
            && url != *base
            && !listing.more.contains(&url.to_string())
        {
            listing.more.push(url.to_string());
        }
    }
    Ok(listing)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("http://127.0.0.1:8765/").expect("url")
    }

    #[test]
    fn a_home_page_tells_its_feeds_its_pages_of_feeds_and_its_name() {
        let html = r#"<html><head><title>Trang chủ - Báo Thử</title>
<meta property="og:site_name" content="  Báo   Thử ">
<link rel="alternate" type="application/rss+xml" href="/rss/trang-chu.rss">
<link rel="alternate" type="application/atom+xml" href="https://feeds.example.org/bao-thu">
<link rel="stylesheet" href="/site.css"></head><body>
<a href="/thoi-su/">Thời sự</a>
<a href="/rss/trang-chu.rss">RSS trang chủ</a>
<a href="/xuat-ban/Tin-Moi.RSS">Tin mới</a>
<a href="/feeds/kinh-te.xml">Kinh tế</a>
<a href="/sitemap.xml">Sơ đồ</a>
<a href="https://other.example.org/tin.rss">Báo khác</a>
<a href="/rss.html">Tất cả RSS</a>
<a href="javascript:void(0)">x</a>
</body></html>"#;
        let page = read_home_page(html, &base());
        let feeds: Vec<&str> = page.feeds.iter().map(Url::as_str).collect();
        assert_eq!(
            feeds,
            [
                "http://127.0.0.1:8765/rss/trang-chu.rss",
                "https://feeds.example.org/bao-thu",
                "http://127.0.0.1:8765/xuat-ban/Tin-Moi.RSS",
                "http://127.0.0.1:8765/feeds/kinh-te.xml",
            ]
        );
        let pages: Vec<&str> = page.feed_pages.iter().map(Url::as_str).collect();
        assert_eq!(pages, ["http://127.0.0.1:8765/rss.html"]);
        // og:site_name wins over a <title> that comes first in the page.
        assert_eq!(page.site_name.as_deref(), Some("Báo Thử"));
    }

    #[test]
    fn a_page_without_a_site_name_is_named_by_its_title_and_links_are_bounded() {
        let links: String = (0..40)
            .map(|i| format!("<a href=\"/rss/muc-{i}.rss\">{i}</a><a href=\"/rss-{i}/\">{i}</a>"))
            .collect();
        let html = format!(
            "<html><head><title>\n Nắng Gió\n Online </title></head><body>{links}<a href=\"/rss/\">RSS</a><a href=\"/feeds\">RSS</a><a href=\"/rss.aspx\">RSS</a></body></html>"
        );
        let page = read_home_page(&html, &base());
        assert_eq!(page.site_name.as_deref(), Some("Nắng Gió Online"));
        assert_eq!(page.feeds.len(), MAX_LINKED_FEEDS);
        let pages: Vec<&str> = page.feed_pages.iter().map(Url::as_str).collect();
        assert_eq!(
            pages,
            ["http://127.0.0.1:8765/rss/", "http://127.0.0.1:8765/feeds"]
        );
        assert_eq!(read_home_page("", &base()), HomePage::default());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
        /// Whatever a page holds: no panic, only web addresses, linked feeds and pages
        /// of feeds on the page's own host and within their bounds, a trimmed name.
        #[test]
        fn any_home_page_reads_within_bounds(
            body in "(<(a href=\"(/|https://x.example/|//other.example/|javascript:)?(rss|feeds|tin|a b)?(/|\\.rss|\\.xml|\\.html|\\.atom)?\"|link rel=\"alternate\" type=\"application/rss\\+xml\" href=\"/f\\.xml\"|title|meta property=\"og:site_name\" content=\" [a-zà-ỹ ]{0,8}\")>|</(a|title)>|[a-zA-Zà-ỹ0-9 ]{0,12}){0,60}"
        ) {
            let page = read_home_page(&body, &base());
            for url in page.feeds.iter().chain(&page.feed_pages) {
                proptest::prop_assert!(matches!(url.scheme(), "http" | "https"), "{url}");
            }
            proptest::prop_assert!(page.feed_pages.len() <= MAX_FEED_PAGES);
            proptest::prop_assert!(page.feed_pages.iter().all(|u| u.host_str() == base().host_str()));
            if let Some(name) = &page.site_name {
                proptest::prop_assert!(!name.is_empty() && name.trim() == name && !name.contains("  "), "{name:?}");
            }
        }
    }

    #[test]
    fn a_feed_keeps_its_own_title() {
        let rss = r#"<?xml version="1.0"?><rss version="2.0"><channel><title> Tin mới - Báo Thử </title>
<item><title>A</title><link>/a.html</link></item></channel></rss>"#;
        let listing = parse_feed(rss.as_bytes(), &base()).expect("rss");
        assert_eq!(listing.title.as_deref(), Some("Tin mới - Báo Thử"));
    }

    #[test]
    fn rss_and_atom() {
        let rss = r#"<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
<item><title>Chuyển đổi số</title><link>/a.html</link><pubDate>Mon, 13 Mar 2023 08:15:00 +0700</pubDate></item>
</channel></rss>"#;
        let listing = parse_feed(rss.as_bytes(), &base()).expect("rss");
        assert_eq!(listing.entries.len(), 1);
        assert_eq!(listing.entries[0].url, "http://127.0.0.1:8765/a.html");
        let atom = br#"<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>x</title><id>x</id><updated>2023-03-13T08:15:00+07:00</updated>
<entry><title>A</title><id>urn:1</id><link rel="alternate" href="http://127.0.0.1:8765/b/"/><updated>2023-03-13T08:15:00+07:00</updated></entry></feed>"#;
        let listing = parse_feed(atom, &base()).expect("atom");
        assert_eq!(listing.entries[0].url, "http://127.0.0.1:8765/b/");
        assert!(parse_feed(b"<html><body>not a feed</body></html>", &base()).is_err());
    }

    #[test]
    fn sitemaps() {
        let index = br#"<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>http://127.0.0.1:8765/s1.xml</loc></sitemap></sitemapindex>"#;
        assert_eq!(
            parse_sitemap(index, &base()).expect("index").more,
            vec!["http://127.0.0.1:8765/s1.xml"]
        );
        let news = br#"<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"><url><loc>http://127.0.0.1:8765/a.htm</loc><news:news><news:publication_date>2023-03-20T14:00:00+07:00</news:publication_date><news:title>A</news:title></news:news></url></urlset>"#;
        let listing = parse_sitemap(news, &base()).expect("news");
        assert_eq!(listing.entries.len(), 1);
        assert!(listing.entries[0].published_at.is_some());
        assert!(parse_sitemap(b"", &base()).is_err());
        assert!(parse_sitemap(b"<html></html>", &base()).is_err());
        let empty = br#"<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"></urlset>"#;
        assert!(
            parse_sitemap(empty, &base())
                .expect("empty")
                .entries
                .is_empty()
        );
    }

    #[test]
    fn listing_with_next() {
        let html = r#"<html><head><link rel="next" href="/p2/"></head><body>
<h3 class="t"><a href="/a.html">A</a></h3><h3 class="t"><a href="javascript:x()">B</a></h3>
<a rel="next" href="http://other.example/p2">x</a></body></html>"#;
        let listing = parse_listing(html, &base(), "h3.t a").expect("listing");
        assert_eq!(listing.entries.len(), 1);
        assert_eq!(listing.more, vec!["http://127.0.0.1:8765/p2/"]);
        assert!(parse_listing(html, &base(), "h3[").is_err());
    }
}
