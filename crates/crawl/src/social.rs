//! Social sources whose listing already holds the posts: the Mastodon statuses API and
//! YouTube channel feeds. Pure functions over bytes; each post keeps its permalink, its
//! author and its engagement counts.

use chrono::{DateTime, FixedOffset};
use scraper::{ElementRef, Html, Node};
use serde::Deserialize;
use url::Url;

use crate::discover::DiscoverError;

/// One public post, ready to be stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    pub url: String,
    pub title: Option<String>,
    pub text: String,
    pub author: Option<String>,
    pub published_at: Option<DateTime<FixedOffset>>,
    pub lang: Option<String>,
    pub engagement: serde_json::Value,
}

#[derive(Deserialize)]
struct Status {
    id: String,
    created_at: Option<String>,
    url: Option<String>,
    uri: Option<String>,
    #[serde(default)]
    content: String,
    #[serde(default)]
    spoiler_text: String,
    language: Option<String>,
    #[serde(default)]
    visibility: Option<String>,
    account: Option<Account>,
    reblog: Option<Box<serde_json::Value>>,
    #[serde(default)]
    replies_count: u64,
    #[serde(default)]
    reblogs_count: u64,
    #[serde(default)]
    favourites_count: u64,
}

#[derive(Deserialize)]
struct Account {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    acct: String,
    #[serde(default)]
    username: String,
}

/// A page of `GET /api/v1/accounts/:id/statuses`. Boosts (reblogs) and non-public
/// statuses are left out: only what the account itself published in public is a post.
pub fn parse_mastodon_statuses(body: &[u8], base: &Url) -> Result<Vec<Post>, DiscoverError> {
    let statuses: Vec<Status> = serde_json::from_slice(body)
        .map_err(|err| DiscoverError::Feed(format!("Mastodon statuses: {err}")))?;
    Ok(statuses_to_posts(statuses, base))
}

impl Account {
    /// The name the account shows: its display name, else its user name (cleaned).
    fn name(&self) -> String {
        let name = if self.display_name.trim().is_empty() {
            &self.username
        } else {
            &self.display_name
        };
        diembao_core::text::clean(name.trim())
    }
}

/// The posts of a page of statuses (see [`parse_mastodon_statuses`]).
fn statuses_to_posts(statuses: Vec<Status>, base: &Url) -> Vec<Post> {
    let mut posts = Vec::with_capacity(statuses.len());
    for status in statuses {
        if status.reblog.is_some()
            || status
                .visibility
                .as_deref()
                .is_some_and(|v| v != "public" && v != "unlisted")
        {
            continue;
        }
        let Some(link) = status.url.or(status.uri) else {
            continue;
        };
        let Ok(url) = base.join(&link) else { continue };
        let mut text = html_to_text(&status.content);
        if !status.spoiler_text.trim().is_empty() {
            text = format!(
                "{}\n\n{text}",
                diembao_core::text::clean(status.spoiler_text.trim())
            );
        }
        let author = status.account.as_ref().map(Account::name);
        // The API's language, else the text's (a status may declare none).
        let lang = status
            .language
            .filter(|l| !l.trim().is_empty())
            .or_else(|| crate::extract::lang::detect(&text, None, None));
        posts.push(Post {
            url: url.to_string(),
            title: None,
            text,
            author,
            published_at: status
                .created_at
                .as_deref()
                .and_then(diembao_core::document::parse_datetime),
            lang,
            engagement: serde_json::json!({
                "replies": status.replies_count,
                "reblogs": status.reblogs_count,
                "favourites": status.favourites_count,
                "account": status.account.as_ref().map(|a| a.acct.clone()),
                "status_id": status.id,
            }),
        });
    }
    posts
}

/// A YouTube channel feed: one post per video (media:title, media:description).
pub fn parse_youtube_feed(body: &[u8], base: &Url) -> Result<Vec<Post>, DiscoverError> {
    let feed = feed_rs::parser::Builder::new()
        .base_uri(Some(base.as_str()))
        .build()
        .parse(body)
        .map_err(|err| DiscoverError::Feed(err.to_string()))?;
    let mut posts = Vec::new();
    for entry in feed.entries {
        let Some(link) = entry
            .links
            .iter()
            .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
            .map(|l| l.href.clone())
        else {
            continue;
        };
        let Ok(url) = base.join(&link) else { continue };
        let media = entry.media.first();
        let title = media
            .and_then(|m| m.title.as_ref())
            .or(entry.title.as_ref())
            .map(|t| diembao_core::text::clean(t.content.trim()));
        let description = media
            .and_then(|m| m.description.as_ref())
            .map(|d| d.content.clone())
            .or_else(|| entry.summary.as_ref().map(|s| s.content.clone()))
            .unwrap_or_default();
        let views = media
            .and_then(|m| m.community.as_ref())
            .and_then(|c| c.stats_views);
        let stars = media
            .and_then(|m| m.community.as_ref())
            .and_then(|c| c.stars_count);
        let text = plain_paragraphs(&description);
        // A channel feed declares no language: the video's title and description tell it.
        let lang = crate::extract::lang::detect(&text, title.as_deref(), None);
        posts.push(Post {
            url: url.to_string(),
            title,
            text,
            author: entry
                .authors
                .first()
                .and_then(|a| a.name.as_deref())
                .map(|n| diembao_core::text::clean(n.trim())),
            published_at: entry.published.or(entry.updated).map(|d| d.fixed_offset()),
            lang,
            engagement: serde_json::json!({"views": views, "ratings": stars}),
        });
    }
    Ok(posts)
}

/// A response that is itself a social source's listing (see [`recognise`]).
#[derive(Debug, Clone, PartialEq)]
pub struct SocialListing {
    pub kind: diembao_core::SourceKind,
    /// The channel's or the account's name, when the listing gives it.
    pub name: Option<String>,
    /// Posts on this page of the listing.
    pub posts: usize,
}

/// Whether a response is a YouTube channel feed (its videos' ids are `yt:video:…`) or a
/// page of a Mastodon account's statuses (a JSON array of statuses): what `sources add`
/// proposes when it is given such an address.
pub fn recognise(body: &[u8], url: &Url) -> Option<SocialListing> {
    let trimmed = body.trim_ascii_start();
    if trimmed.starts_with(b"[") {
        let statuses: Vec<Status> = serde_json::from_slice(body).ok()?;
        let own = statuses.iter().find(|s| s.reblog.is_none())?;
        let name = own.account.as_ref()?.name();
        return Some(SocialListing {
            kind: diembao_core::SourceKind::Mastodon,
            name: Some(name).filter(|n| !n.is_empty()),
            posts: statuses_to_posts(statuses, url).len(),
        });
    }
    let feed = feed_rs::parser::parse(body).ok()?;
    let videos =
        !feed.entries.is_empty() && feed.entries.iter().all(|e| e.id.starts_with("yt:video:"));
    (videos || feed.id.starts_with("yt:channel:")).then(|| SocialListing {
        kind: diembao_core::SourceKind::Youtube,
        name: feed
            .title
            .map(|t| diembao_core::text::clean(t.content.trim()))
            .filter(|t| !t.is_empty()),
        posts: feed.entries.len(),
    })
}

/// The account a Mastodon profile address names (`https://host/@tinnhanh` →
/// `tinnhanh`), for the instance's account lookup.
pub fn mastodon_profile(url: &Url) -> Option<String> {
    let mut segments = url.path_segments()?.filter(|s| !s.is_empty());
    let acct = segments.next()?.strip_prefix('@')?;
    (segments.next().is_none() && !acct.is_empty()).then(|| acct.to_string())
}

/// The statuses API address of the account in an instance's
/// `/api/v1/accounts/lookup` answer.
pub fn mastodon_statuses_url(lookup: &[u8], instance: &Url) -> Option<Url> {
    #[derive(Deserialize)]
    struct Found {
        id: String,
    }
    let found: Found = serde_json::from_slice(lookup).ok()?;
    if found.id.is_empty() || !found.id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    instance
        .join(&format!("/api/v1/accounts/{}/statuses", found.id))
        .ok()
}

/// The `rel="next"` target of an HTTP `Link` header, resolved against the request URL.
pub fn link_next(header: &str, base: &Url) -> Option<Url> {
    for part in header.split(',') {
        let mut pieces = part.split(';');
        let target = pieces.next()?.trim();
        let target = target.strip_prefix('<')?.strip_suffix('>')?;
        let is_next = pieces.any(|p| {
            let p = p.trim();
            p.strip_prefix("rel=")
                .map(|rel| {
                    rel.trim_matches('"')
                        .split_whitespace()
                        .any(|r| r.eq_ignore_ascii_case("next"))
                })
                .unwrap_or(false)
        });
        if is_next {
            return base.join(target).ok();
        }
    }
    None
}

/// Plain text with paragraphs: lines trimmed, runs of blank lines become one blank line.
pub fn plain_paragraphs(text: &str) -> String {
    let text = diembao_core::text::clean(text);
    let mut paragraphs: Vec<String> = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            if !current.is_empty() {
                paragraphs.push(current.join("\n"));
                current.clear();
            }
        } else {
            current.push(line);
        }
    }
    if !current.is_empty() {
        paragraphs.push(current.join("\n"));
    }
    paragraphs.join("\n\n")
}

/// Text of an HTML fragment (a status' content): one paragraph per `<p>`, `<br>` as a line break.
pub fn html_to_text(html: &str) -> String {
    let fragment = Html::parse_fragment(html);
    let mut paragraphs: Vec<String> = Vec::new();
    let mut current = String::new();
    collect(fragment.root_element(), &mut current, &mut paragraphs);
    if !current.trim().is_empty() {
        paragraphs.push(current.trim().to_string());
    }
    let joined: Vec<String> = paragraphs
        .iter()
        .map(|p| {
            p.lines()
                .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .filter(|p| !p.trim().is_empty())
        .collect();
    diembao_core::text::clean(&joined.join("\n\n"))
}

fn collect(element: ElementRef<'_>, current: &mut String, paragraphs: &mut Vec<String>) {
    // Iterative walk (no recursion depth limit issues on hostile input).
    let mut stack: Vec<(ego_tree::NodeRef<'_, Node>, bool)> =
        element.children().rev().map(|c| (c, false)).collect();
    while let Some((node, closing)) = stack.pop() {
        match node.value() {
            Node::Text(text) if !closing => current.push_str(text),
            Node::Element(el) => {
                let name = el.name();
                let block = matches!(
                    name,
                    "p" | "div" | "li" | "blockquote" | "h1" | "h2" | "h3" | "h4" | "pre"
                );
                if closing {
                    if block && !current.trim().is_empty() {
                        paragraphs.push(current.trim().to_string());
                        current.clear();
                    }
                    continue;
                }
                if name == "br" {
                    current.push('\n');
                    continue;
                }
                if matches!(name, "script" | "style") {
                    continue;
                }
                if block && !current.trim().is_empty() {
                    paragraphs.push(current.trim().to_string());
                    current.clear();
                }
                stack.push((node, true));
                for child in node.children().rev() {
                    stack.push((child, false));
                }
            }
            _ => {}
        }
    }
}

/// The text of a short post page when the article extractor finds no main block (a
/// one-line post has too little text to stand out): the paragraphs of the page's first
/// `<article>` (else `<main>`), leaving out its header, footer and comment blocks.
pub fn short_post_text(html: &str) -> String {
    use std::sync::LazyLock;
    static CONTAINER: LazyLock<scraper::Selector> =
        LazyLock::new(|| scraper::Selector::parse("article, main").expect("static selector"));
    static PARAGRAPHS: LazyLock<scraper::Selector> =
        LazyLock::new(|| scraper::Selector::parse("p").expect("static selector"));
    let document = Html::parse_document(html);
    let Some(container) = document.select(&CONTAINER).next() else {
        return String::new();
    };
    let skipped = |p: &ElementRef<'_>| {
        p.ancestors().filter_map(ElementRef::wrap).any(|a| {
            let name = a.value().name();
            let class = a.value().attr("class").unwrap_or("").to_ascii_lowercase();
            matches!(name, "header" | "footer" | "nav" | "aside" | "form")
                || ["comment", "share", "related", "reaction"]
                    .iter()
                    .any(|k| class.contains(k))
        })
    };
    let paragraphs: Vec<String> = container
        .select(&PARAGRAPHS)
        .filter(|p| !skipped(p))
        .map(|p| {
            p.text()
                .collect::<String>()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|t| !t.is_empty())
        .collect();
    diembao_core::text::clean(&paragraphs.join("\n\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("http://127.0.0.41:8765/api/v1/accounts/1/statuses").expect("url")
    }

    #[test]
    fn link_header_next_is_resolved_relative_to_the_request() {
        let header = r#"</api/v1/accounts/1/statuses/page2.json?max_id=5>; rel="next", </api/v1/accounts/1/statuses?min_id=9>; rel="prev""#;
        assert_eq!(
            link_next(header, &base()).map(|u| u.to_string()),
            Some("http://127.0.0.41:8765/api/v1/accounts/1/statuses/page2.json?max_id=5".into())
        );
        assert_eq!(link_next(r#"</x>; rel="prev""#, &base()), None);
        assert_eq!(link_next("garbage", &base()), None);
    }

    #[test]
    fn status_content_becomes_paragraphs_with_hashtags() {
        let html = r#"<p>Khuyến mãi <a href="/tags/nhacai88" class="mention hashtag">#<span>nhacai88</span></a> nạp lần đầu</p><p>dòng hai<br>dòng ba</p>"#;
        assert_eq!(
            html_to_text(html),
            "Khuyến mãi #nhacai88 nạp lần đầu\n\ndòng hai\ndòng ba"
        );
    }

    #[test]
    fn mastodon_statuses_skip_boosts_and_keep_engagement() {
        let body = br#"[{"id":"1","created_at":"2023-03-18T15:47:00.000Z","url":"/@a/1","content":"<p>x</p>","visibility":"public","account":{"display_name":"A","acct":"a","username":"a"},"favourites_count":3},
                        {"id":"2","created_at":"2023-03-18T15:47:00.000Z","url":"/@a/2","content":"","reblog":{"id":"9"},"account":{"display_name":"A","acct":"a","username":"a"}}]"#;
        let posts = parse_mastodon_statuses(body, &base()).expect("json");
        assert_eq!(posts.len(), 1);
        assert_eq!(posts[0].url, "http://127.0.0.41:8765/@a/1");
        assert_eq!(posts[0].engagement["favourites"], 3);
        assert_eq!(
            posts[0].published_at.map(|d| d.timestamp()),
            Some(1_679_154_420)
        );
        assert!(parse_mastodon_statuses(b"{\"error\":\"x\"}", &base()).is_err());
    }

    #[test]
    fn a_status_keeps_its_declared_language_and_one_without_gets_its_text_s() {
        let body = r#"[{"id":"1","url":"/@a/1","language":"en","content":"<p>Mưa trái mùa chiều nay ở Phan Rang, mát trời ghê.</p>"},
                        {"id":"2","url":"/@a/2","language":null,"content":"<p>Mưa trái mùa chiều nay ở Phan Rang, mát trời ghê.</p>"},
                        {"id":"3","url":"/@a/3","content":"<p>ai biet cho sua xe may uy tin o Thap Cham chi minh voi</p>"}]"#;
        let posts = parse_mastodon_statuses(body.as_bytes(), &base()).expect("json");
        let langs: Vec<Option<&str>> = posts.iter().map(|p| p.lang.as_deref()).collect();
        assert_eq!(langs, [Some("en"), Some("vi"), Some("vi")]);
    }

    #[test]
    fn channel_feeds_and_statuses_are_recognised_as_what_they_are() {
        let statuses = br#"[{"id":"2","url":"/@b/2","reblog":{"id":"1"},"account":{"display_name":"B","acct":"b","username":"b"}},
                            {"id":"3","url":"/@a/3","content":"<p>x</p>","account":{"display_name":" Tin Nhanh ","acct":"a","username":"a"}}]"#;
        assert_eq!(
            recognise(statuses, &base()),
            Some(SocialListing {
                kind: diembao_core::SourceKind::Mastodon,
                name: Some("Tin Nhanh".into()),
                posts: 1
            })
        );
        let channel = r#"<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><id>yt:channel:UC1</id><title>Kênh Một</title>
<entry><id>yt:video:a</id><title>A</title><link rel="alternate" href="/watch?v=a"/></entry></feed>"#;
        let youtube = recognise(channel.as_bytes(), &base()).expect("a channel feed");
        assert_eq!(youtube.kind, diembao_core::SourceKind::Youtube);
        assert_eq!(youtube.name.as_deref(), Some("Kênh Một"));
        let news = br#"<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item><title>A</title><link>/a</link></item></channel></rss>"#;
        assert_eq!(recognise(news, &base()), None);
        assert_eq!(recognise(b"[1, 2]", &base()), None);
        assert_eq!(recognise(b"<html></html>", &base()), None);
    }

    #[test]
    fn a_mastodon_profile_leads_to_its_statuses() {
        let profile = |u: &str| mastodon_profile(&Url::parse(u).expect("url"));
        assert_eq!(
            profile("https://m.example/@tinnhanh").as_deref(),
            Some("tinnhanh")
        );
        assert_eq!(
            profile("https://m.example/@tinnhanh/").as_deref(),
            Some("tinnhanh")
        );
        assert_eq!(profile("https://m.example/@tinnhanh/109"), None);
        assert_eq!(profile("https://m.example/tinnhanh"), None);
        assert_eq!(profile("https://m.example/@"), None);
        let instance = Url::parse("https://m.example/@tinnhanh").expect("url");
        assert_eq!(
            mastodon_statuses_url(br#"{"id":"10987","username":"tinnhanh"}"#, &instance)
                .map(String::from),
            Some("https://m.example/api/v1/accounts/10987/statuses".into())
        );
        assert_eq!(mastodon_statuses_url(br#"{"id":"../x"}"#, &instance), None);
        assert_eq!(mastodon_statuses_url(b"not json", &instance), None);
    }

    #[test]
    fn youtube_videos_get_the_language_of_their_title_and_description() {
        let feed = r#"<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns:yt="http://www.youtube.com/xml/schemas/2015" xmlns:media="http://search.yahoo.com/mrss/" xmlns="http://www.w3.org/2005/Atom">
 <title>Kênh</title>
 <entry>
  <id>yt:video:kT3vLq9aB0c</id>
  <title>Vlog đi biển Cà Ná cuối tuần</title>
  <link rel="alternate" href="/watch?v=kT3vLq9aB0c"/>
  <author><name>Tin Nóng 24H Ninh Thuận</name></author>
  <published>2023-03-26T12:00:00+00:00</published>
  <media:group>
   <media:title>Vlog đi biển Cà Ná cuối tuần</media:title>
   <media:description>Cùng team đi tắm biển Cà Ná, ăn hải sản tươi ngay bên bờ.</media:description>
  </media:group>
 </entry>
 <entry>
  <id>yt:video:Zz</id>
  <title>Weekend trip to the beach</title>
  <link rel="alternate" href="/watch?v=Zz"/>
  <published>2023-03-26T12:00:00+00:00</published>
  <media:group>
   <media:title>Weekend trip to the beach</media:title>
   <media:description>We went swimming at the beach and ate fresh seafood by the water all weekend long.</media:description>
  </media:group>
 </entry>
</feed>"#;
        let base = Url::parse("http://127.0.0.43:8765/feeds/videos.xml").expect("url");
        let posts = parse_youtube_feed(feed.as_bytes(), &base).expect("feed");
        let langs: Vec<Option<&str>> = posts.iter().map(|p| p.lang.as_deref()).collect();
        assert_eq!(langs, [Some("vi"), Some("en")]);
    }
}
