//! `sources add URL`: find an outlet's feeds and sitemaps from its home page and
//! robots.txt, and propose the best way to follow it.

use std::sync::LazyLock;
use std::time::Duration;

use scraper::{Html, Selector};
use serde::Serialize;
use url::Url;

use diembao_core::{SourceKind, SourceSpec};
use diembao_crawl::discover;
use diembao_crawl::fetch::Validators;

use crate::JobError;
use crate::env::Env;

/// What was found on a home page.
#[derive(Debug, Clone, Serialize)]
pub struct Discovery {
    pub home: String,
    pub site_name: Option<String>,
    /// Feeds that answered and parsed, with their item counts, best first.
    pub feeds: Vec<(String, usize)>,
    /// Sitemaps named in robots.txt or found at common paths that parsed.
    pub sitemaps: Vec<(String, usize)>,
    pub proposed: SourceSpec,
}

static FEED_LINKS: LazyLock<Selector> = LazyLock::new(|| {
    Selector::parse(r#"link[rel~="alternate"][type="application/rss+xml"], link[rel~="alternate"][type="application/atom+xml"], link[rel~="alternate"][type="application/feed+json"]"#)
        .expect("static selector")
});
static SITE_NAME: LazyLock<Selector> = LazyLock::new(|| {
    Selector::parse(r#"meta[property="og:site_name"], title"#).expect("static selector")
});

const FEED_PATHS: &[&str] = &[
    "/rss",
    "/feed",
    "/feed/",
    "/rss.xml",
    "/feed.xml",
    "/atom.xml",
    "/feeds/atom.xml",
    "/index.xml",
    "/rss/home.rss",
    "/feeds/posts/default",
];
const SITEMAP_PATHS: &[&str] = &["/sitemap.xml", "/sitemap_index.xml", "/sitemap-news.xml"];

impl Env {
    /// Looks at a home page and proposes a source (feed, else sitemap, else the page as
    /// an HTML listing when a link selector is given).
    pub async fn discover_source(
        &self,
        home: &Url,
        name: Option<&str>,
        link_selector: Option<&str>,
    ) -> Result<Discovery, JobError> {
        // A home page that does not answer still leaves the usual feed and sitemap paths.
        let page = self.fetcher.fetch(home, &Validators::default()).await.ok();
        let base = page
            .as_ref()
            .map_or_else(|| home.clone(), |p| p.final_url.clone());
        let (mut candidates, site_name) = match &page {
            Some(page) => {
                let (html, _) =
                    diembao_crawl::extract::decode_html(&page.body, page.content_type.as_deref());
                let document = Html::parse_document(&html);
                let links: Vec<String> = document
                    .select(&FEED_LINKS)
                    .filter_map(|el| el.value().attr("href"))
                    .filter_map(|href| base.join(href.trim()).ok())
                    .map(|u| u.to_string())
                    .collect();
                let site_name = document.select(&SITE_NAME).find_map(|el| {
                    el.value()
                        .attr("content")
                        .map(str::to_string)
                        .or_else(|| Some(el.text().collect::<String>()))
                });
                (
                    links,
                    site_name
                        .map(|s| diembao_core::text::clean(s.trim()))
                        .filter(|s| !s.is_empty()),
                )
            }
            None => (Vec::new(), None),
        };
        for path in FEED_PATHS {
            if let Ok(url) = base.join(path) {
                candidates.push(url.to_string());
            }
        }
        candidates.dedup();
        let mut feeds = Vec::new();
        for candidate in candidates {
            let Ok(url) = Url::parse(&candidate) else {
                continue;
            };
            if feeds.iter().any(|(u, _): &(String, usize)| *u == candidate) {
                continue;
            }
            let Ok(Ok(fetched)) = tokio::time::timeout(
                Duration::from_secs(20),
                self.fetcher.fetch(&url, &Validators::default()),
            )
            .await
            else {
                continue;
            };
            if let Ok(listing) = discover::parse_feed(&fetched.body, &fetched.final_url)
                && !listing.entries.is_empty()
            {
                feeds.push((fetched.final_url.to_string(), listing.entries.len()));
            }
        }
        feeds.sort_by_key(|f| std::cmp::Reverse(f.1));

        let mut sitemap_urls: Vec<String> = self.fetcher.robots(&base).await.sitemaps();
        for path in SITEMAP_PATHS {
            if let Ok(url) = base.join(path) {
                sitemap_urls.push(url.to_string());
            }
        }
        let mut sitemaps = Vec::new();
        for candidate in sitemap_urls {
            let Ok(url) = Url::parse(&candidate) else {
                continue;
            };
            if sitemaps
                .iter()
                .any(|(u, _): &(String, usize)| *u == candidate)
            {
                continue;
            }
            let Ok(Ok(fetched)) = tokio::time::timeout(
                Duration::from_secs(20),
                self.fetcher.fetch(&url, &Validators::default()),
            )
            .await
            else {
                continue;
            };
            if let Ok(listing) = discover::parse_sitemap(&fetched.body, &fetched.final_url) {
                sitemaps.push((
                    fetched.final_url.to_string(),
                    listing.entries.len() + listing.more.len(),
                ));
            }
        }

        let name = name
            .map(str::to_string)
            .or_else(|| site_name.clone())
            .unwrap_or_else(|| home.host_str().unwrap_or("").to_string());
        let proposed = if let Some((url, _)) = feeds.first() {
            SourceSpec {
                name,
                kind: SourceKind::Rss,
                url: url.clone(),
                every: Duration::from_secs(15 * 60),
                link_selector: None,
            }
        } else if let Some((url, _)) = sitemaps.first() {
            SourceSpec {
                name,
                kind: SourceKind::Sitemap,
                url: url.clone(),
                every: Duration::from_secs(3600),
                link_selector: None,
            }
        } else if let Some(selector) = link_selector {
            SourceSpec {
                name,
                kind: SourceKind::Html,
                url: base.to_string(),
                every: Duration::from_secs(30 * 60),
                link_selector: Some(selector.to_string()),
            }
        } else {
            return Err(JobError::Other(format!(
                "{home}: no feed or sitemap found; add it as an html source with --link-selector \"CSS selector of article links\""
            )));
        };
        Ok(Discovery {
            home: home.to_string(),
            site_name,
            feeds,
            sitemaps,
            proposed,
        })
    }
}
