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
