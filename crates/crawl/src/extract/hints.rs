//! Class / id / role hints: does an element's name suggest boilerplate
//! (navigation, share bars, related boxes, comments, ads...) or content?
//!
//! Class names are split into lower-case tokens at every non-alphanumeric
//! character (`box-tinlienquan` → `box`, `tinlienquan`). A class name whose
//! tokens are all boilerplate words votes −1, all content words +1, a mix
//! (`content-with-sidebar-wrp`, `entry-meta`) nothing; over the element the
//! class names (and id, role, itemprop) vote. Long compound tokens
//! (`relatedposts`, `articlebody`) are matched by substring.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::LazyLock;

use super::dom::{F_BYLINE_HINT, F_CAPTION, F_IGNORED, F_LEDE_HINT, F_STRONG_POS, Fnv, Tag};

pub(crate) struct Hint {
    pub hint: i8,
    pub flags: u16,
}

/// Class-name words that mark boilerplate regions.
const NEG_TOKENS: &[&str] = &[
    "nav",
    "navbar",
    "navigation",
    "menu",
    "menus",
    "submenu",
    "megamenu",
    "footer",
    "sidebar",
    "sidebars",
    "widget",
    "widgets",
    "comment",
    "comments",
    "commentlist",
    "cmt",
    "cmts",
    "share",
    "shares",
    "sharing",
    "sharer",
    "social",
    "socials",
    "related",
    "tags",
    "tag",
    "tagcloud",
    "tagged",
    "keywords",
    "keyword",
    "breadcrumb",
    "breadcrumbs",
    "bread",
    "crumbs",
    "crumb",
    "pagination",
    "pager",
    "paging",
    "ad",
    "ads",
    "adv",
    "advert",
    "adverts",
    "advertisement",
    "advertising",
    "adsbygoogle",
    "banner",
    "sponsor",
    "sponsored",
    "promo",
    "promotion",
    "promoted",
    "newsletter",
    "subscribe",
    "subscription",
    "signup",
    "popup",
    "modal",
    "cookie",
    "cookies",
    "gdpr",
    "consent",
    "toolbar",
    "topbar",
    "topline",
    "masthead",
    "copyright",
    "meta",
    "byline",
    "author",
    "authors",
    "caption",
    "credit",
    "credits",
    "date",
    "time",
    "timestamp",
    "published",
    "posted",
    "dateline",
    "print",
    "email",
    "rss",
    "login",
    "search",
    "outbrain",
    "taboola",
    "recommend",
    "recommended",
    "recommendation",
    "recommendations",
    "popular",
    "trending",
    "mostread",
    "most",
    "readmore",
    "more",
    "also",
    "next",
    "prev",
    "previous",
    "disqus",
    "reply",
    "replies",
    "respond",
    "rating",
    "ratings",
    "vote",
    "poll",
    "bio",
    "profile",
    "avatar",
    "logo",
    "header",
    "hdr",
    "donate",
    "cta",
    "feedback",
    "survey",
    "alert",
    "sticky",
    "overlay",
    "lightbox",
    "skip",
    "noprint",
    "icons",
    "btn",
    "button",
    "source",
    "tool",
    "tools",
    "util",
    "utility",
    "follow",
    "hotline",
    "weather",
    "register",
    "account",
    "discussion",
    "community",
    "extra",
    "supplemental",
    "shoutbox",
    "skyscraper",
    "remark",
    "agegate",
    "comentarios",
    "kommentare",
    "chiase",
    "binhluan",
    "ykien",
    "tinlienquan",
    "lienquan",
    "tinkhac",
    "quangcao",
    "qc",
    "docnhieu",
    "xemnhieu",
    "tukhoa",
    "tacgia",
    "ngaythang",
    "thoigian",
    "congcu",
    "samecat",
    "samecate",
    "cungchuyenmuc",
    "tieudiem",
    "tinnoibat",
    "noibat",
    "xemthem",
    "docthem",
    "moinhat",
    "nguon",
    "footnotes",
    "relatedposts",
    "relate",
    "tlq",
    "morenews",
    "othernews",
    "subnav",
    "dropdown",
    "tabs",
    "carousel",
    "slider",
    "ticker",
    "marquee",
    "hotnews",
    "newsfeed",
    "teaser",
    "teasers",
    "tooltip",
    "hovercard",
    "popover",
    "ngay",
];

/// Class-name words that mark content regions.
const POS_TOKENS: &[&str] = &[
    "article",
    "articlebody",
    "content",
    "contents",
    "entry",
    "post",
    "story",
    "body",
    "main",
    "detail",
    "details",
    "text",
    "prose",
    "noidung",
    "chitiet",
    "cms",
    "fck",
    "richtext",
    "markdown",
    "blog",
    "sapo",
    "lead",
    "lede",
    "embed",
    "embedded",
];

type FnvMap<V> = HashMap<&'static str, V, BuildHasherDefault<Fnv>>;

const H_NEG: u8 = 1;
const H_POS: u8 = 2;
const H_LEDE: u8 = 4;
const H_BYLINE: u8 = 8;
const H_CAPTION: u8 = 16;

/// Lede (sapo) class words. English "standfirst"/"dek"/"subtitle" name
/// subtitles that reference texts leave out; Vietnamese templates call the
/// lede, which they include, sapo / lead / tomtat / summary / description.
const LEDE_TOKENS: &[&str] = &[
    "sapo",
    "lead",
    "lede",
    "summary",
    "excerpt",
    "intro",
    "chapeau",
    "tomtat",
    "description",
    "desc",
    "trichdan",
    "tomluoc",
    "brief",
    "chapo",
];

const BYLINE_TOKENS: &[&str] = &[
    "author",
    "authors",
    "byline",
    "tacgia",
    "writer",
    "reporter",
    "signature",
    "butdanh",
    "creator",
];

const CAPTION_TOKENS: &[&str] = &[
    "caption",
    "figcaption",
    "credit",
    "credits",
    "chuthich",
    "captiontext",
];

/// Exact tokens → hint bits; one hash lookup per token (this runs for
/// every class name on the page).
static TOKEN_BITS: LazyLock<FnvMap<u8>> = LazyLock::new(|| {
    let mut m = FnvMap::default();
    for (list, bit) in [
        (NEG_TOKENS, H_NEG),
        (POS_TOKENS, H_POS),
        (LEDE_TOKENS, H_LEDE),
        (BYLINE_TOKENS, H_BYLINE),
        (CAPTION_TOKENS, H_CAPTION),
    ] {
        for t in list {
            *m.entry(*t).or_insert(0) |= bit;
        }
    }
    m
});

/// Hint bits of one lower-case token.
fn token_bits(t: &str) -> u8 {
    let mut bits = TOKEN_BITS.get(t).copied().unwrap_or(0);
    if bits & (H_NEG | H_POS) == 0 && t.len() > 6 {
        bits |= substring_bits(t);
    }
    if t.len() > 7 && t.ends_with("caption") {
        bits |= H_CAPTION;
    }
    bits
}

/// Boilerplate / content words inside long compound tokens
/// (`relatedposts`, `articlebody`), by first byte.
fn patterns_at(first: u8) -> &'static [(&'static [u8], u8)] {
    const N: u8 = H_NEG;
    const P: u8 = H_POS;
    match first {
        b'a' => &[(b"advert", N), (b"author", N | H_BYLINE), (b"article", P)],
        b'b' => &[
            (b"breadcrumb", N),
            (b"banner", N),
            (b"binhluan", N),
            (b"byline", N | H_BYLINE),
            (b"body", P),
        ],
        b'c' => &[
            (b"comment", N),
            (b"chiase", N),
            (b"caption", N),
            (b"copyright", N),
            (b"content", P),
            (b"chitiet", P),
        ],
        b'd' => &[(b"docnhieu", N), (b"detail", P)],
        b'e' => &[(b"entry", P)],
        b'f' => &[(b"footer", N)],
        b'l' => &[(b"lienquan", N)],
        b'm' => &[(b"menu", N), (b"masthead", N)],
        b'n' => &[(b"navig", N), (b"newsletter", N), (b"noidung", P)],
        b'o' => &[(b"outbrain", N)],
        b'p' => &[
            (b"promo", N),
            (b"popup", N),
            (b"pagination", N),
            (b"post", P),
        ],
        b'q' => &[(b"quangcao", N)],
        b'r' => &[(b"related", N), (b"recommend", N)],
        b's' => &[
            (b"share", N),
            (b"sharing", N),
            (b"social", N),
            (b"sidebar", N),
            (b"sponsor", N),
            (b"subscri", N),
            (b"story", P),
        ],
        b't' => &[
            (b"taboola", N),
            (b"tinkhac", N),
            (b"tagcloud", N),
            (b"timestamp", N),
        ],
        b'w' => &[(b"widget", N)],
        b'x' => &[(b"xemnhieu", N)],
        _ => &[],
    }
}

/// Bits of a long compound token: any boilerplate word wins over content words.
fn substring_bits(t: &str) -> u8 {
    let b = t.as_bytes();
    let mut bits = 0u8;
    for i in 0..b.len() {
        for (p, h) in patterns_at(b[i]) {
            if b[i..].starts_with(p) {
                bits |= *h;
            }
        }
    }
    if bits & H_NEG != 0 {
        bits &= !H_POS;
    }
    bits
}

fn is_strong_pos(name: &str) -> bool {
    // name is one lower-cased class name / id
    const STRONG: [&str; 16] = [
        "articlebody",
        "article-body",
        "article_body",
        "article-content",
        "article_content",
        "articlecontent",
        "entry-content",
        "post-content",
        "post-body",
        "postbody",
        "story-body",
        "storybody",
        "news-content",
        "detail-content",
        "content_detail",
        "fck_detail",
    ];
    STRONG.contains(&name)
        || name.ends_with("article-body")
        || name.ends_with("article__body")
        || name.ends_with("article__content")
}

/// Votes and flags of a whitespace-separated list of class names (or an id).
/// Depends only on the string, so callers may cache it.
pub(crate) fn names_vote(names: &str) -> (i32, u16) {
    let mut votes: i32 = 0;
    let mut flags: u16 = 0;
    if names.is_empty() {
        return (0, 0);
    }
    let lowered;
    let names = if names.bytes().any(|b| b.is_ascii_uppercase()) {
        lowered = names.to_ascii_lowercase();
        lowered.as_str()
    } else {
        names
    };
    for name in names.split_ascii_whitespace() {
        // visually hidden text: screen-reader-text, sr-only, visually-hidden
        if name.len() >= 7
            && (name.starts_with("screen-reader")
                || name == "sr-only"
                || name.starts_with("visually-hidden")
                || name.starts_with("visuallyhidden")
                || name == "skip-link")
        {
            flags |= F_IGNORED;
            continue;
        }
        if is_strong_pos(name) {
            flags |= F_STRONG_POS;
        }
        // Page-builder layout classes (`elementor-widget-container`,
        // `et_pb_section`...) say nothing about content.
        if name.starts_with("elementor")
            || name.starts_with("et_pb")
            || name.starts_with("vc_")
            || name.starts_with("fl-")
            || name.starts_with("wp-block")
        {
            continue;
        }
        let (mut pos, mut neg) = (false, false);
        let mut any_bits = 0u8;
        let mut ntok = 0;
        for tok in name.split(|c: char| !c.is_ascii_alphanumeric()) {
            if tok.is_empty() || tok.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            let bits = token_bits(tok);
            pos |= bits & H_POS != 0;
            neg |= bits & H_NEG != 0;
            if bits & H_LEDE != 0 {
                flags |= F_LEDE_HINT;
            }
            if bits & H_BYLINE != 0 {
                flags |= F_BYLINE_HINT;
            }
            any_bits |= bits;
            ntok += 1;
        }
        // captions: `wp-caption-text`, `image-caption`, `figure__caption`
        // (but not `f_caption_muted_videos_on`: short names only)
        if any_bits & H_CAPTION != 0 && ntok <= 3 {
            flags |= F_CAPTION;
        }
        // A name with both kinds (`content-with-sidebar-wrp`, `entry-meta`,
        // `comment-body`) is ambiguous: no vote.
        votes += match (pos, neg) {
            (true, false) => 1,
            (false, true) => -1,
            _ => 0,
        };
    }
    (votes, flags)
}

/// Add role / itemprop evidence to the class and id votes.
pub(crate) fn combine(mut votes: i32, mut flags: u16, role: &str, itemprop: &str) -> Hint {
    if !role.is_empty() {
        match role.trim().to_ascii_lowercase().as_str() {
            "navigation" | "banner" | "contentinfo" | "complementary" | "search" | "menu"
            | "menubar" | "dialog" | "alert" | "alertdialog" | "tablist" | "toolbar" => votes -= 2,
            "main" | "article" => votes += 2,
            _ => {}
        }
    }
    if !itemprop.is_empty() {
        for p in itemprop.split_ascii_whitespace() {
            match p {
                "articleBody" | "articlebody" | "reviewBody" => {
                    votes += 2;
                    flags |= F_STRONG_POS;
                }
                "author" | "creator" => {
                    votes -= 1;
                    flags |= F_BYLINE_HINT;
                }
                "datePublished" | "dateModified" | "dateCreated" => votes -= 1,
                "caption" => flags |= F_CAPTION,
                _ => {}
            }
        }
    }
    Hint {
        hint: votes.clamp(-3, 3) as i8,
        flags,
    }
}

pub(crate) fn tag_hint(tag: Tag) -> i8 {
    match tag {
        Tag::Nav | Tag::Aside | Tag::Footer | Tag::Header => -1,
        Tag::Article | Tag::Main => 1,
        _ => 0,
    }
}

/// `style` hides the element (display:none / visibility:hidden).
pub(crate) fn style_hidden(style: &str) -> bool {
    if !style.contains("none") && !style.contains("hidden") {
        return false;
    }
    let s: String = style
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    s.contains("display:none") || s.contains("visibility:hidden")
}

/// `style` centres the text.
pub(crate) fn style_center(style: &str) -> bool {
    if !style.contains("center") {
        return false;
    }
    let s: String = style
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    s.contains("text-align:center")
}

/// `style` right-aligns the text.
pub(crate) fn style_right(style: &str) -> bool {
    if !style.contains("right") {
        return false;
    }
    let s: String = style
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    s.contains("text-align:right")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vote(class: &str) -> i32 {
        names_vote(class).0
    }

    #[test]
    fn boilerplate_and_content_names() {
        assert_eq!(vote("box-tinlienquan"), -1);
        assert_eq!(vote("jp-relatedposts"), -1);
        assert_eq!(vote("sharedaddy sd-sharing-enabled"), -2);
        assert_eq!(vote("comment-list"), -1);
        assert_eq!(vote("entry-content"), 1);
        assert_eq!(vote("articleBody"), 1);
        // mixed names say nothing
        assert_eq!(vote("content-with-sidebar-wrp"), 0);
        assert_eq!(vote("entry-meta"), 0);
        // page-builder classes are ignored
        assert_eq!(vote("elementor-widget-container"), 0);
        assert_eq!(vote("detail__content"), 1);
    }

    #[test]
    fn flags() {
        assert_ne!(names_vote("detail__sapo").1 & F_LEDE_HINT, 0);
        assert_ne!(names_vote("byline").1 & F_BYLINE_HINT, 0);
        assert_ne!(names_vote("wp-caption-text").1 & F_CAPTION, 0);
        assert_eq!(names_vote("f_caption_muted_videos_on").1 & F_CAPTION, 0);
        assert_eq!(names_vote("drop-cap").1 & F_CAPTION, 0);
        assert_ne!(names_vote("screen-reader-text").1 & F_IGNORED, 0);
        assert_ne!(names_vote("entry-content").1 & F_STRONG_POS, 0);
    }

    #[test]
    fn styles() {
        assert!(style_hidden("display: none"));
        assert!(style_hidden("VISIBILITY:hidden;"));
        assert!(!style_hidden("overflow:hidden"));
        assert!(style_right("text-align: right"));
        assert!(style_center("text-align:center"));
    }
}
