//! Page metadata: `<head>` meta/link tags, JSON-LD, `<title>`, links.
//! Collected in one pass over the flattened document.

use chrono::{DateTime, FixedOffset, Utc};
use serde_json::Value;
use url::Url;

use super::dates::parse_vietnamese_date;
use super::dom::{Dom, F_IGNORED, NONE, Tag, collapse};

#[derive(Default, Debug)]
pub(crate) struct Meta {
    pub title_tag: Option<String>,
    pub og_title: Option<String>,
    pub twitter_title: Option<String>,
    pub ld_headline: Option<String>,
    pub site_names: Vec<String>,
    pub canonical: Option<String>,
    pub og_url: Option<String>,
    pub description: Option<String>,
    pub og_type: Option<String>,
    /// Best published date from metadata, with its rank (lower = better).
    pub published: Option<(u8, DateTime<FixedOffset>)>,
    pub modified: Option<(u8, DateTime<FixedOffset>)>,
    pub meta_author: Option<String>,
    pub ld_author: Option<String>,
    pub ld_article_body: Option<String>,
    pub ld_is_article: bool,
    pub feeds: Vec<String>,
    pub link_next: Option<String>,
    pub a_next: Option<String>,
    pub links: Vec<String>,
    pub html_lang: Option<String>,
    /// `<time datetime>` elements and itemprop dates: (node, value if in an
    /// attribute, is_published_hint)
    pub time_nodes: Vec<(u32, Option<DateTime<FixedOffset>>, bool)>,
    /// itemprop=author / rel=author nodes
    pub author_nodes: Vec<u32>,
}

fn set_once(slot: &mut Option<String>, v: &str) {
    if slot.is_none() {
        let v = collapse(v);
        if !v.is_empty() {
            *slot = Some(v);
        }
    }
}

fn offer_date(
    slot: &mut Option<(u8, DateTime<FixedOffset>)>,
    rank: u8,
    d: Option<DateTime<FixedOffset>>,
) {
    if let Some(d) = d
        && slot.is_none_or(|(r, _)| rank < r)
    {
        *slot = Some((rank, d));
    }
}

/// An absolute http(s) URL that `Url` would serialise unchanged (plain
/// ASCII, lower-case scheme and host, a path, no dot segments, no default
/// port): returned without the fragment, skipping the parser. Anything
/// else goes through `Url::join`.
fn absolute_fast_path(href: &str) -> Option<String> {
    let rest = href
        .strip_prefix("https://")
        .or_else(|| href.strip_prefix("http://"))?;
    let slash = rest.find('/')?;
    let host = &rest[..slash];
    if host.is_empty()
        || !host
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        || host.starts_with('.')
        || host.ends_with('.')
        || host.contains("..")
    {
        return None;
    }
    let path = &rest[slash..];
    let ok = path
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=%".contains(&b));
    if !ok
        || path.contains("/./")
        || path.contains("/../")
        || path.ends_with("/.")
        || path.ends_with("/..")
    {
        return None;
    }
    // `?`/`#` handling: query kept, fragment dropped; `[`/`]` only valid in hosts
    if path.contains('[') || path.contains(']') {
        return None;
    }
    let end = href.find('#').unwrap_or(href.len());
    Some(href[..end].to_string())
}

pub(crate) fn resolve(base: &Url, href: &str) -> Option<String> {
    let href = href.trim();
    if href.is_empty() || href.starts_with('#') {
        return None;
    }
    let b = href.as_bytes();
    let has_prefix =
        |p: &str| b.len() >= p.len() && b[..p.len()].eq_ignore_ascii_case(p.as_bytes());
    if has_prefix("javascript:")
        || has_prefix("mailto:")
        || has_prefix("tel:")
        || has_prefix("data:")
    {
        return None;
    }
    if let Some(fast) = absolute_fast_path(href) {
        return Some(fast);
    }
    let mut u = base.join(href).ok()?;
    if u.scheme() != "http" && u.scheme() != "https" {
        return None;
    }
    u.set_fragment(None);
    Some(u.into())
}

/// Rank of a `<meta>` name/property as a published-date source (lower is better).
fn published_rank(key: &str) -> Option<u8> {
    Some(match key {
        "article:published_time" | "og:article:published_time" | "article:published" => 2,
        "og:published_time" | "published_time" | "datepublished" | "date_published" => 3,
        "pubdate"
        | "publishdate"
        | "publish-date"
        | "publish_date"
        | "sailthru.date"
        | "parsely-pub-date"
        | "article.published"
        | "dc.date.issued"
        | "dcterms.issued"
        | "citation_publication_date"
        | "original-publish-date"
        | "article_date_original"
        | "cxenseparse:recs:publishtime"
        | "dcterms.created"
        | "dc.date.created" => 4,
        "date" | "dc.date" | "dcterms.date" | "timestamp" => 5,
        _ => return None,
    })
}

fn modified_rank(key: &str) -> Option<u8> {
    Some(match key {
        "article:modified_time"
        | "og:updated_time"
        | "article:modified"
        | "datemodified"
        | "dc.date.modified"
        | "dcterms.modified"
        | "last-modified"
        | "lastmod" => 2,
        _ => return None,
    })
}

fn is_article_type(t: &str) -> bool {
    t.ends_with("Article")
        || matches!(
            t,
            "BlogPosting" | "LiveBlogPosting" | "Report" | "SocialMediaPosting" | "Review" | "Blog"
        )
}

fn types_of(o: &serde_json::Map<String, Value>) -> Vec<&str> {
    match o.get("@type") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(|v| v.as_str()).collect(),
        _ => vec![],
    }
}

fn str_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => {
            let s = collapse(s);
            (!s.is_empty()).then_some(s)
        }
        Value::Array(a) => a.iter().find_map(|x| str_of(Some(x))),
        Value::Object(o) => str_of(o.get("@value")),
        _ => None,
    }
}

fn name_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => {
            let s = collapse(s);
            (!s.is_empty() && !s.starts_with("http")).then_some(s)
        }
        Value::Object(o) => str_of(o.get("name")),
        _ => None,
    }
}

fn authors_of(v: Option<&Value>) -> Option<String> {
    let v = v?;
    let names: Vec<String> = match v {
        Value::Array(a) => a.iter().filter_map(name_of).collect(),
        other => name_of(other).into_iter().collect(),
    };
    if names.is_empty() {
        None
    } else {
        Some(names.join(", "))
    }
}

fn jsonld(meta: &mut Meta, text: &str, fetched_at: DateTime<Utc>) {
    let t = text.trim();
    let t = t
        .trim_start_matches("<!--")
        .trim_end_matches("-->")
        .trim()
        .trim_start_matches("//<![CDATA[")
        .trim_end_matches("//]]>")
        .trim()
        .trim_end_matches(';');
    let Ok(root) = serde_json::from_str::<Value>(t) else {
        return;
    };
    // explicit stack: (value, depth)
    let mut stack: Vec<(&Value, u8)> = vec![(&root, 0)];
    while let Some((v, depth)) = stack.pop() {
        match v {
            Value::Array(a) if depth < 4 => {
                for x in a.iter().rev() {
                    stack.push((x, depth + 1));
                }
            }
            Value::Object(o) => {
                let types = types_of(o);
                if types.iter().any(|t| is_article_type(t)) {
                    if !meta.ld_is_article {
                        meta.ld_is_article = true;
                        meta.ld_headline =
                            str_of(o.get("headline")).or_else(|| str_of(o.get("name")));
                        meta.ld_author =
                            authors_of(o.get("author")).or_else(|| authors_of(o.get("creator")));
                        meta.ld_article_body = str_of(o.get("articleBody"));
                        if meta.description.is_none() {
                            meta.description = str_of(o.get("description"));
                        }
                        offer_date(
                            &mut meta.published,
                            1,
                            str_of(o.get("datePublished"))
                                .or_else(|| str_of(o.get("dateCreated")))
                                .and_then(|s| parse_vietnamese_date(&s, fetched_at)),
                        );
                        offer_date(
                            &mut meta.modified,
                            1,
                            str_of(o.get("dateModified"))
                                .and_then(|s| parse_vietnamese_date(&s, fetched_at)),
                        );
                        if let Some(Value::Object(p)) = o.get("publisher")
                            && let Some(n) = str_of(p.get("name"))
                        {
                            meta.site_names.push(n);
                        }
                    }
                } else if types.iter().any(|t| {
                    matches!(
                        *t,
                        "WebSite" | "Organization" | "NewsMediaOrganization" | "Corporation"
                    )
                }) {
                    if let Some(n) = str_of(o.get("name")) {
                        meta.site_names.push(n);
                    }
                    if let Some(n) = str_of(o.get("alternateName")) {
                        meta.site_names.push(n);
                    }
                } else if types.iter().any(|t| t.ends_with("WebPage")) {
                    offer_date(
                        &mut meta.published,
                        6,
                        str_of(o.get("datePublished"))
                            .and_then(|s| parse_vietnamese_date(&s, fetched_at)),
                    );
                }
                if depth < 4 {
                    for key in [
                        "@graph",
                        "mainEntity",
                        "mainEntityOfPage",
                        "itemListElement",
                    ] {
                        if let Some(x) = o.get(key)
                            && (x.is_array() || x.is_object())
                        {
                            stack.push((x, depth + 1));
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

/// Collect metadata, all links and date/author-bearing nodes.
pub(crate) fn collect(dom: &Dom<'_>, page_url: &Url, fetched_at: DateTime<Utc>) -> Meta {
    let mut meta = Meta::default();
    let mut base = page_url.clone();
    let mut seen_links = std::collections::HashSet::new();
    let mut hrefs: Vec<(u32, &str)> = Vec::new();
    let n = dom.nodes.len() as u32;
    for i in 0..n {
        let node = &dom.nodes[i as usize];
        let Some(el) = node.el else { continue };
        match node.tag {
            Tag::Html => {
                if let Some(l) = super::dom::attr(el, "lang") {
                    set_once(&mut meta.html_lang, l);
                }
            }
            Tag::Base => {
                if let Some(h) = super::dom::attr(el, "href")
                    && let Ok(u) = page_url.join(h.trim())
                {
                    base = u;
                }
            }
            // the document title, not an <svg><title>
            Tag::Title
                if meta.title_tag.is_none()
                    && node.parent != NONE
                    && matches!(
                        dom.nodes[node.parent as usize].tag,
                        Tag::Head | Tag::Html | Tag::Body
                    ) =>
            {
                set_once(&mut meta.title_tag, &dom.raw_text(i));
            }
            Tag::Meta => {
                let mut key = None;
                let mut content = None;
                let mut itemprop = None;
                for (q, v) in el.attrs.iter() {
                    match &*q.local {
                        "name" | "property" if key.is_none() => key = Some(&**v),
                        "content" => content = Some(&**v),
                        "itemprop" => itemprop = Some(&**v),
                        _ => {}
                    }
                }
                let Some(content) = content else { continue };
                if let Some(ip) = itemprop {
                    match ip {
                        "datePublished" => offer_date(
                            &mut meta.published,
                            3,
                            parse_vietnamese_date(content, fetched_at),
                        ),
                        "dateModified" => offer_date(
                            &mut meta.modified,
                            3,
                            parse_vietnamese_date(content, fetched_at),
                        ),
                        _ => {}
                    }
                }
                let Some(key) = key else { continue };
                let key = key.trim().to_ascii_lowercase();
                match key.as_str() {
                    "og:title" => set_once(&mut meta.og_title, content),
                    "twitter:title" => set_once(&mut meta.twitter_title, content),
                    "og:site_name" | "application-name" | "apple-mobile-web-app-title" => {
                        let c = collapse(content);
                        if !c.is_empty() {
                            meta.site_names.push(c);
                        }
                    }
                    "description" | "og:description" | "twitter:description" => {
                        set_once(&mut meta.description, content)
                    }
                    "og:type" => set_once(&mut meta.og_type, content),
                    "og:url" => set_once(&mut meta.og_url, content),
                    "author" | "article:author" | "sailthru.author" | "parsely-author"
                    | "dc.creator" | "dcterms.creator" | "byl" => {
                        let c = content.trim();
                        if !c.starts_with("http") && !c.is_empty() {
                            set_once(&mut meta.meta_author, c);
                        }
                    }
                    k => {
                        if let Some(r) = published_rank(k) {
                            offer_date(
                                &mut meta.published,
                                r,
                                parse_vietnamese_date(content, fetched_at),
                            );
                        } else if let Some(r) = modified_rank(k) {
                            offer_date(
                                &mut meta.modified,
                                r,
                                parse_vietnamese_date(content, fetched_at),
                            );
                        }
                    }
                }
            }
            Tag::Link => {
                let rel = super::dom::attr(el, "rel")
                    .unwrap_or("")
                    .to_ascii_lowercase();
                let Some(href) = super::dom::attr(el, "href") else {
                    continue;
                };
                for r in rel.split_ascii_whitespace() {
                    match r {
                        "canonical" if meta.canonical.is_none() => {
                            meta.canonical = resolve(&base, href);
                        }
                        "next" if meta.link_next.is_none() => {
                            meta.link_next = resolve(&base, href);
                        }
                        "alternate" => {
                            let ty = super::dom::attr(el, "type")
                                .unwrap_or("")
                                .to_ascii_lowercase();
                            if (ty.contains("rss")
                                || ty.contains("atom")
                                || ty.contains("feed+json"))
                                && let Some(u) = resolve(&base, href)
                                && !meta.feeds.contains(&u)
                            {
                                meta.feeds.push(u);
                            }
                        }
                        "author" => meta.author_nodes.push(i),
                        _ => {}
                    }
                }
            }
            Tag::Script
                if super::dom::attr(el, "type")
                    .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/ld+json")) =>
            {
                jsonld(&mut meta, &dom.raw_text(i), fetched_at);
            }
            Tag::A => {
                if let Some(href) = super::dom::attr(el, "href") {
                    hrefs.push((i, href));
                    if let Some(rel) = super::dom::attr(el, "rel") {
                        for r in rel.split_ascii_whitespace() {
                            if r.eq_ignore_ascii_case("next") && meta.a_next.is_none() {
                                meta.a_next = Some(href.to_string());
                            }
                            if r.eq_ignore_ascii_case("author") {
                                meta.author_nodes.push(i);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
        if node.flags & F_IGNORED == 0 {
            // <time datetime> and itemprop dates / authors on visible elements
            let mut dt = None;
            let mut itemprop = None;
            for (q, v) in el.attrs.iter() {
                match &*q.local {
                    "datetime" => dt = Some(&**v),
                    "itemprop" => itemprop = Some(&**v),
                    _ => {}
                }
            }
            if dt.is_none() && itemprop.is_none() {
                continue;
            }
            let published_hint = itemprop.is_some_and(|p| p.contains("datePublished"))
                || super::dom::attr(el, "class").is_some_and(|c| {
                    let c = c.to_ascii_lowercase();
                    c.contains("publish") || c.contains("entry-date") || c.contains("post-date")
                });
            let modified_hint = itemprop.is_some_and(|p| p.contains("dateModified"))
                || super::dom::attr(el, "class")
                    .is_some_and(|c| c.contains("updated") || c.contains("modified"));
            let value = dt.or_else(|| {
                itemprop
                    .filter(|p| p.contains("datePublished") || p.contains("dateModified"))
                    .and(super::dom::attr(el, "content"))
            });
            if let Some(v) = value
                && let Some(d) = parse_vietnamese_date(v, fetched_at)
            {
                if modified_hint && !published_hint {
                    offer_date(&mut meta.modified, 4, Some(d));
                } else {
                    meta.time_nodes.push((i, Some(d), published_hint));
                }
            } else if itemprop.is_some_and(|p| p.contains("datePublished")) {
                meta.time_nodes.push((i, None, true));
            }
            if itemprop.is_some_and(|p| {
                p.split_ascii_whitespace()
                    .any(|x| x == "author" || x == "creator")
            }) {
                meta.author_nodes.push(i);
            }
        }
    }
    // Links: resolve each distinct href once, keep document order.
    let mut seen_raw: std::collections::HashSet<
        &str,
        std::hash::BuildHasherDefault<super::dom::Fnv>,
    > = Default::default();
    for (_, href) in hrefs {
        if !seen_raw.insert(href) {
            continue;
        }
        if let Some(u) = resolve(&base, href)
            && seen_links.insert(u.clone())
        {
            meta.links.push(u);
        }
    }
    if let Some(a) = meta.a_next.take() {
        meta.a_next = resolve(&base, &a);
    }
    meta
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_path_matches_the_url_parser() {
        let base = Url::parse("https://bao.example.vn/thoi-su/a.html").expect("url");
        for href in [
            "https://bao.example.vn/kinh-te/b-123.html",
            "http://bao.example.vn/a?x=1&y=2#frag",
            "https://cdn.example.com/x/y/z/",
            "https://Bao.Example.vn/A",
            "https://bao.example.vn",
            "https://bao.example.vn/a/../b",
            "https://bao.example.vn/a b",
            "https://bao.example.vn:443/a",
            "/relative/path",
            "../up",
            "//proto-relative.example/x",
            "#only-fragment",
            "javascript:void(0)",
            "https://bao.example.vn/%E1%BA%A1",
            "https://bao.example.vn/tiếng-việt",
        ] {
            let slow = base
                .join(href)
                .ok()
                .filter(|u| u.scheme().starts_with("http"))
                .map(|mut u| {
                    u.set_fragment(None);
                    String::from(u)
                });
            let slow = if href.starts_with('#') || href.starts_with("javascript") {
                None
            } else {
                slow
            };
            assert_eq!(resolve(&base, href), slow, "{href}");
        }
    }
}
