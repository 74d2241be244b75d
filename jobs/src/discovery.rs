//! `sources add URL`: find an outlet's feeds and sitemaps from its home page and
//! robots.txt, and propose the best way to follow it.

use std::collections::VecDeque;
use std::time::Duration;

use serde::Serialize;
use url::Url;

use diembao_core::{SourceKind, SourceSpec};
use diembao_crawl::discover::{self, HomePage};
use diembao_crawl::fetch::Fetched;
use diembao_crawl::fetch::Validators;
use diembao_crawl::social;

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
/// Most addresses looked at for feeds when adding a site (declared, linked, listed on
/// pages of feeds, usual paths): adding an outlet stays a few seconds of polite requests.
const MAX_FEED_LOOKUPS: usize = 32;

const SITEMAP_PATHS: &[&str] = &["/sitemap.xml", "/sitemap_index.xml", "/sitemap-news.xml"];

impl Env {
    /// Looks at a home page and proposes a source (feed, else sitemap, else the page as
    /// an HTML listing when a link selector is given). An address that is a YouTube
    /// channel feed, a Mastodon account's statuses or a Mastodon profile is proposed as
    /// that kind of source.
    pub async fn discover_source(
        &self,
        home: &Url,
        name: Option<&str>,
        link_selector: Option<&str>,
    ) -> Result<Discovery, JobError> {
        // A home page that does not answer still leaves the usual feed and sitemap paths.
        let (page, page_error) = match self.fetcher.fetch(home, &Validators::default()).await {
            Ok(page) => (Some(page), None),
            Err(err) => (None, Some(err.to_string())),
        };
        // A channel feed, an account's statuses or a Mastodon profile is the source.
        if let Some(found) = self.social_source(home, page.as_ref(), name).await {
            return Ok(found);
        }
        let base = page
            .as_ref()
            .map_or_else(|| home.clone(), |p| p.final_url.clone());
        let hints = page.as_ref().map_or_else(HomePage::default, |page| {
            let (html, _) =
                diembao_crawl::extract::decode_html(&page.body, page.content_type.as_deref());
            discover::read_home_page(&html, &base)
        });
        let site_name = hints.site_name.clone();
        // Declared and linked feeds first, then the pages that list feeds, then the usual
        // paths. A candidate that is a page of feeds (HTML) adds the feeds it links to.
        let mut candidates: VecDeque<Url> = hints
            .feeds
            .iter()
            .chain(&hints.feed_pages)
            .cloned()
            .chain(FEED_PATHS.iter().filter_map(|path| base.join(path).ok()))
            .collect();
        let mut looked_at: Vec<Url> = Vec::new();
        let mut feeds: Vec<FoundFeed> = Vec::new();
        // The address given may be a feed itself.
        if let Some(page) = &page
            && let Some(feed) = found_feed(page)
        {
            looked_at.push(page.final_url.clone());
            feeds.push(feed);
        }
        while let Some(url) = candidates.pop_front() {
            if looked_at.len() >= MAX_FEED_LOOKUPS {
                break;
            }
            if looked_at.contains(&url) {
                continue;
            }
            looked_at.push(url.clone());
            let Ok(Ok(fetched)) = tokio::time::timeout(
                Duration::from_secs(20),
                self.fetcher.fetch(&url, &Validators::default()),
            )
            .await
            else {
                continue;
            };
            if feeds.iter().any(|f| f.url == fetched.final_url.as_str()) {
                continue;
            }
            if let Some(feed) = found_feed(&fetched) {
                feeds.push(feed);
            } else if is_html(fetched.content_type.as_deref()) {
                let (html, _) = diembao_crawl::extract::decode_html(
                    &fetched.body,
                    fetched.content_type.as_deref(),
                );
                let listed = discover::read_home_page(&html, &fetched.final_url);
                candidates.extend(listed.feeds);
            }
        }
        feeds.sort_by_key(|f| std::cmp::Reverse(f.items));

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

        // The name given, else the site's own (its home page's), else its best feed's
        // title, else its host.
        let name = name
            .map(str::to_string)
            .or_else(|| site_name.clone())
            .or_else(|| feeds.first().and_then(|f| f.title.clone()))
            .unwrap_or_else(|| home.host_str().unwrap_or("").to_string());
        let proposed = if let Some(feed) = feeds.first() {
            SourceSpec {
                name,
                kind: feed.kind,
                url: feed.url.clone(),
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
            let page = page_error.map_or_else(String::new, |err| {
                format!(" (the page itself could not be read: {err})")
            });
            return Err(JobError::Other(format!(
                "{home}: no feed or sitemap found{page}; add it as an html source with --link-selector \"CSS selector of article links\""
            )));
        };
        Ok(Discovery {
            home: home.to_string(),
            site_name,
            feeds: feeds.into_iter().map(|f| (f.url, f.items)).collect(),
            sitemaps,
            proposed,
        })
    }

    /// The source when the address given is a social listing ([`social::recognise`]: a
    /// YouTube channel feed, a page of a Mastodon account's statuses) or a Mastodon
    /// profile (`https://instance/@account`, looked up with the instance's API).
    async fn social_source(
        &self,
        home: &Url,
        page: Option<&Fetched>,
        name: Option<&str>,
    ) -> Option<Discovery> {
        let recognised = page.and_then(|page| {
            social::recognise(&page.body, &page.final_url).map(|l| (page.final_url.clone(), l))
        });
        let (url, listing) = match recognised {
            Some(found) => found,
            None => {
                let account = social::mastodon_profile(home)?;
                let mut lookup = home.join("/api/v1/accounts/lookup").ok()?;
                lookup.query_pairs_mut().append_pair("acct", &account);
                let answer = self
                    .fetcher
                    .fetch(&lookup, &Validators::default())
                    .await
                    .ok()?;
                let statuses = social::mastodon_statuses_url(&answer.body, home)?;
                let fetched = self
                    .fetcher
                    .fetch(&statuses, &Validators::default())
                    .await
                    .ok()?;
                let listing = social::recognise(&fetched.body, &fetched.final_url)?;
                (statuses, listing)
            }
        };
        let every = match listing.kind {
            SourceKind::Mastodon => Duration::from_secs(10 * 60),
            _ => Duration::from_secs(30 * 60),
        };
        let proposed = SourceSpec {
            name: name
                .map(str::to_string)
                .or_else(|| listing.name.clone())
                .unwrap_or_else(|| home.host_str().unwrap_or("").to_string()),
            kind: listing.kind,
            url: url.to_string(),
            every,
            link_selector: None,
        };
        Some(Discovery {
            home: home.to_string(),
            site_name: listing.name,
            feeds: vec![(url.to_string(), listing.posts)],
            sitemaps: Vec::new(),
            proposed,
        })
    }
}

/// A feed found while adding a site.
struct FoundFeed {
    url: String,
    items: usize,
    /// The feed's own title.
    title: Option<String>,
    /// `Youtube` for a channel's feed (a channel page declares it), else `Rss`.
    kind: SourceKind,
}

/// The feed a response is, when it is one with items.
fn found_feed(fetched: &Fetched) -> Option<FoundFeed> {
    let listing = discover::parse_feed(&fetched.body, &fetched.final_url)
        .ok()
        .filter(|listing| !listing.entries.is_empty())?;
    let kind = social::recognise(&fetched.body, &fetched.final_url)
        .map_or(SourceKind::Rss, |social| social.kind);
    Some(FoundFeed {
        url: fetched.final_url.to_string(),
        items: listing.entries.len(),
        title: listing.title,
        kind,
    })
}

/// Whether a response's content type is HTML (a page of feeds, not a feed).
fn is_html(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|t| t.to_ascii_lowercase().contains("html"))
}
