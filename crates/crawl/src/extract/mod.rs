//! Article extraction: a pure function from fetched bytes to article fields.
//!
//! ```text
//! bytes ─► charset (BOM / HTTP header / <meta> / chardetng) + decode (charset.rs)
//!       ─► nesting cap, script/style bodies cut (prescan.rs) ─► html5ever parse (scraper)
//!       ─► flat pre-order copy with class/id hints (dom.rs, hints.rs)
//!       ─► metadata pass (meta.rs: <head>, JSON-LD, links, feeds)
//!       ─► text statistics + title / headline element (title.rs)
//!       ─► unit scores, best container, cleaning, lede, byline (content.rs)
//!       ─► date (JSON-LD / meta, <time>, visible text near the headline: dates.rs),
//!          author, language (lang.rs), article-vs-listing heuristic
//! ```
//!
//! Output strings (text, title, author, description) are NFC via
//! [`diembao_core::text::clean`]; [`decode_html`] offers the decoding step on
//! its own (whole document through `clean`).
//!
//! One parse and a handful of linear passes over the flattened node array;
//! no recursion (deeply nested input cannot overflow the stack) and no I/O.
//!
//! Limits: bodies over [`MAX_INPUT_BYTES`] are rejected with
//! [`ExtractError::TooLarge`]; bodies over [`MAX_PARSE_BYTES`] are truncated to
//! that size before decoding and parsing; element nesting deeper than
//! [`MAX_NESTING`] is flattened before parsing (html5ever's scope checks are
//! quadratic in depth), as are attributes beyond the 128th of a tag
//! (duplicate checks, quadratic) and formatting elements (`<b>`, `<font>`...)
//! beyond 6 left open at once (re-created in every block: unbounded
//! amplification); script and style bodies are cut before parsing where
//! that cannot change the tree (see `prescan.rs`).

mod charset;
mod content;
pub mod dates;
mod dom;
mod fold;
#[doc(hidden)]
pub mod fuzzing;
mod hints;
pub(crate) mod lang;
mod meta;
mod prescan;
mod title;

use chrono::{DateTime, FixedOffset, Utc};
use serde::Serialize;
use url::Url;

pub use charset::decode_html;
pub use dates::parse_vietnamese_date;

/// Bodies larger than this are truncated before parsing (8 MiB).
pub const MAX_PARSE_BYTES: usize = 8 * 1024 * 1024;

/// Element nesting kept before parsing; deeper start tags are dropped.
pub const MAX_NESTING: usize = prescan::MAX_DEPTH;

/// Bodies larger than this are refused outright (256 MiB).
pub const MAX_INPUT_BYTES: usize = 256 * 1024 * 1024;

/// What to extract from: the response body and what is known about it.
#[derive(Debug, Clone, Copy)]
pub struct ExtractInput<'a> {
    pub body: &'a [u8],
    pub url: &'a Url,
    /// HTTP `Content-Type` header, if any.
    pub content_type: Option<&'a str>,
    /// When the page was fetched (anchors "2 giờ trước", "hôm qua").
    pub fetched_at: DateTime<Utc>,
}

/// Fields extracted from one page.
#[derive(Debug, Clone, Serialize)]
pub struct Extracted {
    pub url: String,
    pub canonical_url: Option<String>,
    pub title: Option<String>,
    /// Article body: lede then paragraphs, joined by "\n\n", NFC.
    pub text: String,
    pub author: Option<String>,
    pub published_at: Option<DateTime<FixedOffset>>,
    pub modified_at: Option<DateTime<FixedOffset>>,
    /// ISO 639-1 code ("vi", "en").
    pub lang: Option<String>,
    pub description: Option<String>,
    /// Heuristic: a single article page (not a listing / section front).
    pub is_article: bool,
    /// Absolute http(s) hrefs of `<a>` elements, fragment removed, deduplicated.
    pub links: Vec<String>,
    /// `rel=next` pagination link.
    pub next_page: Option<String>,
    /// `<link rel=alternate>` RSS / Atom / JSON feeds.
    pub feeds: Vec<String>,
    pub og_type: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExtractError {
    #[error("empty input")]
    Empty,
    #[error("not HTML: {0}")]
    NotHtml(&'static str),
    #[error("input too large: {size} bytes (limit {limit})")]
    TooLarge { size: usize, limit: usize },
}

/// Reject bodies that are clearly not HTML (binary formats, NUL-laden data).
fn check_input(body: &[u8], content_type: Option<&str>) -> Result<(), ExtractError> {
    if body.len() > MAX_INPUT_BYTES {
        return Err(ExtractError::TooLarge {
            size: body.len(),
            limit: MAX_INPUT_BYTES,
        });
    }
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ExtractError::Empty);
    }
    if let Some(ct) = content_type {
        let ct = ct.trim().to_ascii_lowercase();
        if ct.starts_with("image/")
            || ct.starts_with("audio/")
            || ct.starts_with("video/")
            || ct.starts_with("font/")
            || ct.starts_with("application/pdf")
            || ct.starts_with("application/zip")
            || ct.starts_with("application/gzip")
        {
            return Err(ExtractError::NotHtml("binary content type"));
        }
    }
    const MAGIC: [&[u8]; 9] = [
        b"%PDF-",
        b"\x89PNG",
        b"GIF8",
        b"\xFF\xD8\xFF",
        b"PK\x03\x04",
        b"\x1F\x8B",
        b"RIFF",
        b"\x7FELF",
        b"BZh",
    ];
    if MAGIC.iter().any(|m| body.starts_with(m)) {
        return Err(ExtractError::NotHtml("binary file signature"));
    }
    // UTF-16 has NULs but a BOM; anything else with many NULs / control bytes is binary.
    if encoding_rs::Encoding::for_bom(body).is_none() {
        let head = &body[..body.len().min(2048)];
        let bad = head
            .iter()
            .filter(|&&b| b == 0 || (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C | 0x1B)))
            .count();
        if bad * 10 > head.len() {
            return Err(ExtractError::NotHtml("binary data"));
        }
    }
    Ok(())
}

/// Extract article fields from a fetched page. Pure: no I/O, no clock.
pub fn extract(input: &ExtractInput<'_>) -> Result<Extracted, ExtractError> {
    check_input(input.body, input.content_type)?;
    let body = &input.body[..input.body.len().min(MAX_PARSE_BYTES)];
    // Same charset logic as `decode_html`, but the NFC pass is applied to the
    // extracted fields only (a full-document pass costs as much as a third of
    // the parse, and hrefs must keep their bytes).
    let enc = charset::sniff_encoding(body, input.content_type);
    let (html_text, _, _) = enc.decode(body);
    let html_text = prescan::prepare(&html_text);
    let html = scraper::Html::parse_document(&html_text);
    let dom = dom::Dom::build(&html);
    let meta = meta::collect(&dom, input.url, input.fetched_at);

    let mut an = content::Analysis::new(&dom);
    let host = input.url.host_str();
    let (title, headline) = title::choose(&an, &meta, host);
    an.finish(headline);
    let body_parts = an.extract_body(headline, title.as_deref(), input.fetched_at);

    // Published date: JSON-LD / meta, then <time>, then visible text near the headline.
    let mut published = meta.published.filter(|(rank, _)| *rank <= 5).map(|x| x.1);
    let mut modified = meta.modified.map(|x| x.1);
    if published.is_none() {
        published = time_element_date(&an, &meta, headline, body_parts.container, input.fetched_at);
    }
    if published.is_none() || modified.is_none() {
        let (vis, vis_mod) = an.visible_date(headline, body_parts.container, input.fetched_at);
        if published.is_none() {
            published = vis;
        }
        if modified.is_none() {
            modified = vis_mod;
        }
    }
    if published.is_none() {
        published = meta.published.map(|x| x.1).or_else(|| url_date(input.url));
    }

    // Author: JSON-LD, meta, byline element, trailing byline paragraph.
    let site_keys = title::site_keys(&meta.site_names, host);
    let not_site = |a: &String| {
        let k = fold::fold_alnum(a);
        !k.is_empty()
            && !site_keys
                .iter()
                .any(|s| *s == k || s.contains(&k) && k.len() >= 6)
    };
    let author = meta
        .ld_author
        .clone()
        .filter(not_site)
        .or_else(|| {
            meta.meta_author
                .clone()
                .and_then(|a| content::clean_byline(&a))
                .filter(not_site)
        })
        .or_else(|| {
            an.byline_near(headline, body_parts.container, &meta.author_nodes)
                .filter(not_site)
        })
        .or_else(|| body_parts.byline.clone().filter(not_site));

    let text = diembao_core::text::clean(&body_parts.text);
    let title = title.map(|t| diembao_core::text::clean(&dom::collapse(&t)));
    let lang = lang::detect(&text, title.as_deref(), meta.html_lang.as_deref());

    let og_article = meta
        .og_type
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case("article"));
    let text_chars = text.chars().count();
    let is_article = body_parts.teasers < 3
        && ((text_chars >= 500 && body_parts.paragraphs >= 2)
            || ((meta.ld_is_article || og_article || published.is_some()) && text_chars >= 150));

    let next_page = meta.link_next.clone().or_else(|| {
        if is_article {
            None
        } else {
            meta.a_next.clone()
        }
    });

    Ok(Extracted {
        url: input.url.to_string(),
        canonical_url: meta.canonical.clone().or_else(|| {
            meta.og_url
                .as_deref()
                .and_then(|u| meta::resolve(input.url, u))
        }),
        title: title.filter(|t| !t.is_empty()),
        text,
        author: author.map(|a| diembao_core::text::clean(&a)),
        published_at: published,
        modified_at: modified,
        lang,
        description: meta.description.as_deref().map(diembao_core::text::clean),
        is_article,
        links: meta.links,
        next_page,
        feeds: meta.feeds,
        og_type: meta.og_type,
    })
}

/// `<time datetime>` / itemprop=datePublished near the headline, outside boilerplate.
fn time_element_date(
    an: &content::Analysis<'_, '_>,
    meta: &meta::Meta,
    headline: Option<u32>,
    container: Option<u32>,
    fetched_at: DateTime<Utc>,
) -> Option<DateTime<FixedOffset>> {
    let anchor = headline.or(container)?;
    let c_end = container.map_or(u32::MAX, |c| an.dom.nodes[c as usize].end);
    let mut best: Option<(u64, DateTime<FixedOffset>)> = None;
    for &(node, value, published_hint) in &meta.time_nodes {
        if node >= c_end {
            continue;
        }
        // inside comments / related boxes (but a meta/date hint on the element itself is fine)
        let p = an.dom.nodes[node as usize].parent;
        if p != dom::NONE && an.neg[p as usize] && !published_hint {
            let mut x = p;
            let mut hard = false;
            for _ in 0..4 {
                if x == dom::NONE {
                    break;
                }
                if an.neg_own[x as usize] && an.tot_chars[x as usize] > 200 {
                    hard = true;
                    break;
                }
                x = an.dom.nodes[x as usize].parent;
            }
            if hard {
                continue;
            }
        }
        // (the parser reads MAX_CHARS characters: a bounded prefix will do)
        let Some(d) = value.or_else(|| {
            let text = an.dom.text_prefix(node, 4 * dates::MAX_CHARS + 8);
            parse_vietnamese_date(&text, fetched_at)
        }) else {
            continue;
        };
        let dist =
            (node as i64 - anchor as i64).unsigned_abs() / if published_hint { 4 } else { 1 };
        if best.is_none_or(|(b, _)| dist < b) {
            best = Some((dist, d));
        }
    }
    best.map(|x| x.1)
}

/// `/2023/03/06/` in the URL path.
fn url_date(url: &Url) -> Option<DateTime<FixedOffset>> {
    let segs: Vec<&str> = url.path_segments()?.collect();
    for w in segs.windows(3) {
        if let (Ok(y), Ok(m), Ok(d)) = (
            w[0].parse::<i32>(),
            w[1].parse::<u32>(),
            w[2].parse::<u32>(),
        ) && w[0].len() == 4
            && (1990..=2100).contains(&y)
            && let Some(date) = chrono::NaiveDate::from_ymd_opt(y, m, d)
        {
            use chrono::TimeZone;
            return dates::vn_offset()
                .from_local_datetime(&date.and_time(chrono::NaiveTime::MIN))
                .single();
        }
    }
    None
}

#[cfg(test)]
mod tests;

/// Debugging aid for the scoring harness: the chosen container and the
/// best-scoring elements, as CSS-like paths. Not a stable interface.
#[doc(hidden)]
pub fn debug_explain(input: &ExtractInput<'_>) -> String {
    use std::fmt::Write;
    let body = &input.body[..input.body.len().min(MAX_PARSE_BYTES)];
    let (html_text, enc) = decode_html(body, input.content_type);
    let html_text = prescan::prepare(&html_text);
    let html = scraper::Html::parse_document(&html_text);
    let dom = dom::Dom::build(&html);
    let meta = meta::collect(&dom, input.url, input.fetched_at);
    let mut an = content::Analysis::new(&dom);
    let (title, headline) = title::choose(&an, &meta, input.url.host_str());
    an.finish(headline);
    let path = |i: u32| {
        let mut parts = Vec::new();
        let mut x = i;
        while x != dom::NONE {
            let n = &dom.nodes[x as usize];
            if let Some(el) = n.el {
                let mut p = el.name().to_string();
                if let Some(id) = dom::attr(el, "id") {
                    let _ = write!(p, "#{id}");
                }
                if let Some(c) = dom::attr(el, "class") {
                    let _ = write!(
                        p,
                        ".{}",
                        c.split_whitespace().take(3).collect::<Vec<_>>().join(".")
                    );
                }
                let _ = write!(
                    p,
                    "[h{} s{:.0} n{}]",
                    n.hint, an.score[x as usize], an.neg_own[x as usize] as u8
                );
                parts.push(p);
            }
            x = n.parent;
        }
        parts.reverse();
        parts.join(" > ")
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "encoding {} title {:?} headline {:?}",
        enc.name(),
        title,
        headline.map(path)
    );
    let c = an.best_container();
    let _ = writeln!(out, "container {:?}", c.map(path));
    let mut scored: Vec<(f32, u32)> = (0..dom.nodes.len() as u32)
        .filter(|&i| dom.nodes[i as usize].el.is_some())
        .map(|i| (an.score[i as usize], i))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (s, i) in scored.into_iter().take(8) {
        let _ = writeln!(out, "  {s:.0} {}", path(i));
    }
    let mut longest: Vec<u32> = an.units.clone();
    longest.sort_by_key(|&u| std::cmp::Reverse(an.own_chars[u as usize]));
    for u in longest.into_iter().take(3) {
        let n = &dom.nodes[u as usize];
        let _ = writeln!(
            out,
            "  longest unit {} chars, flags {:#x}: {}",
            an.own_chars[u as usize],
            n.flags,
            path(u)
        );
    }
    out
}
