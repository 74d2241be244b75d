//! Class / id / role hints: does an element's name suggest boilerplate
//! (navigation, share bars, related boxes, comments, ads...) or content?
//!
//! Class names are split into lower-case tokens at every non-alphanumeric
//! character (`box-tinlienquan` → `box`, `tinlienquan`). A class name whose
//! tokens are all boilerplate words votes −1, all content words +1, a mix
//! (`content-with-sidebar-wrp`, `entry-meta`) nothing; over the element the
//! class names (and id, role, itemprop) vote. Long compound tokens
//! (`relatedposts`, `articlebody`) are matched by substring.

use super::dom::{F_BYLINE_HINT, F_CAPTION, F_IGNORED, F_LEDE_HINT, F_STRONG_POS, Tag};

pub(crate) struct Hint {
    pub hint: i8,
    pub flags: u16,
}

/// Exact-token hint: -1 boilerplate, +1 content, 0 nothing.
fn token_hint(t: &str) -> i8 {
    match t {
        "nav" | "navbar" | "navigation" | "menu" | "menus" | "submenu" | "megamenu" | "footer"
        | "sidebar" | "sidebars" | "widget" | "widgets" | "comment" | "comments"
        | "commentlist" | "cmt" | "cmts" | "share" | "shares" | "sharing" | "sharer" | "social"
        | "socials" | "related" | "tags" | "tag" | "tagcloud" | "tagged" | "keywords"
        | "keyword" | "breadcrumb" | "breadcrumbs" | "bread" | "crumbs" | "crumb"
        | "pagination" | "pager" | "paging" | "ad" | "ads" | "adv" | "advert" | "adverts"
        | "advertisement" | "advertising" | "adsbygoogle" | "banner" | "sponsor" | "sponsored"
        | "promo" | "promotion" | "promoted" | "newsletter" | "subscribe" | "subscription"
        | "signup" | "popup" | "modal" | "cookie" | "cookies" | "gdpr" | "consent" | "toolbar"
        | "topbar" | "topline" | "masthead" | "copyright" | "meta" | "byline" | "author"
        | "authors" | "caption" | "credit" | "credits" | "date" | "time" | "timestamp"
        | "published" | "posted" | "dateline" | "print" | "email" | "rss" | "login" | "search"
        | "outbrain" | "taboola" | "recommend" | "recommended" | "recommendation"
        | "recommendations" | "popular" | "trending" | "mostread" | "most" | "readmore"
        | "more" | "also" | "next" | "prev" | "previous" | "disqus" | "reply" | "replies"
        | "respond" | "rating" | "ratings" | "vote" | "poll" | "bio" | "profile" | "avatar"
        | "logo" | "header" | "hdr" | "donate" | "cta" | "feedback" | "survey" | "alert"
        | "sticky" | "overlay" | "lightbox" | "skip" | "noprint" | "icons" | "btn" | "button"
        | "source" | "tool" | "tools" | "util" | "utility" | "follow" | "hotline" | "weather"
        | "register" | "account" | "discussion" | "community" | "extra" | "supplemental"
        | "shoutbox" | "skyscraper" | "remark" | "agegate" | "comentarios" | "kommentare"
        | "chiase" | "binhluan" | "ykien" | "tinlienquan" | "lienquan" | "tinkhac" | "quangcao"
        | "qc" | "docnhieu" | "xemnhieu" | "tukhoa" | "tacgia" | "ngaythang" | "thoigian"
        | "congcu" | "samecat" | "samecate" | "cungchuyenmuc" | "tieudiem" | "tinnoibat"
        | "noibat" | "xemthem" | "docthem" | "moinhat" | "nguon" | "footnotes" | "relatedposts" | "relate" | "tlq" | "morenews" | "othernews"
        | "subnav" | "dropdown" | "tabs" | "carousel" | "slider" | "ticker" | "marquee"
        | "hotnews" | "newsfeed" | "teaser" | "teasers" | "tooltip" | "hovercard"
        | "popover" => -1,
        "article" | "articlebody" | "content" | "contents" | "entry" | "post" | "story"
        | "body" | "main" | "detail" | "details" | "text" | "prose" | "noidung" | "chitiet"
        | "cms" | "fck" | "richtext" | "markdown" | "blog" | "sapo" | "lead" | "lede" | "embed" | "embedded" => 1,
        _ => {
            if t.len() > 6 {
                substring_hint(t)
            } else {
                0
            }
        }
    }
}

/// Boilerplate / content words inside long compound tokens
/// (`relatedposts`, `articlebody`), by first byte.
fn patterns_at(first: u8) -> &'static [(&'static [u8], i8)] {
    match first {
        b'a' => &[(b"advert", -1), (b"author", -1), (b"article", 1)],
        b'b' => &[
            (b"breadcrumb", -1),
            (b"banner", -1),
            (b"binhluan", -1),
            (b"byline", -1),
            (b"body", 1),
        ],
        b'c' => &[
            (b"comment", -1),
            (b"chiase", -1),
            (b"caption", -1),
            (b"copyright", -1),
            (b"content", 1),
            (b"chitiet", 1),
        ],
        b'd' => &[(b"docnhieu", -1), (b"detail", 1)],
        b'e' => &[(b"entry", 1)],
        b'f' => &[(b"footer", -1)],
        b'l' => &[(b"lienquan", -1)],
        b'm' => &[(b"menu", -1), (b"masthead", -1)],
        b'n' => &[(b"navig", -1), (b"newsletter", -1), (b"noidung", 1)],
        b'o' => &[(b"outbrain", -1)],
        b'p' => &[
            (b"promo", -1),
            (b"popup", -1),
            (b"pagination", -1),
            (b"post", 1),
        ],
        b'q' => &[(b"quangcao", -1)],
        b'r' => &[(b"related", -1), (b"recommend", -1)],
        b's' => &[
            (b"share", -1),
            (b"sharing", -1),
            (b"social", -1),
            (b"sidebar", -1),
            (b"sponsor", -1),
            (b"subscri", -1),
            (b"story", 1),
        ],
        b't' => &[
            (b"taboola", -1),
            (b"tinkhac", -1),
            (b"tagcloud", -1),
            (b"timestamp", -1),
        ],
        b'w' => &[(b"widget", -1)],
        b'x' => &[(b"xemnhieu", -1)],
        _ => &[],
    }
}

/// Hint of a long compound token: any boilerplate word wins over content words.
fn substring_hint(t: &str) -> i8 {
    let b = t.as_bytes();
    let mut pos = false;
    for i in 0..b.len() {
        for (p, h) in patterns_at(b[i]) {
            if b[i..].starts_with(p) {
                if *h < 0 {
                    return -1;
                }
                pos = true;
            }
        }
    }
    if pos { 1 } else { 0 }
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

/// Lede (sapo) class words. English "standfirst"/"dek"/"subtitle" name
/// subtitles that reference texts leave out; Vietnamese templates call the
/// lede, which they include, sapo / lead / tomtat / summary / description.
fn lede_token(t: &str) -> bool {
    matches!(
        t,
        "sapo"
            | "lead"
            | "lede"
            | "summary"
            | "excerpt"
            | "intro"
            | "chapeau"
            | "tomtat"
            | "description"
            | "desc"
            | "trichdan"
            | "tomluoc"
            | "brief"
            | "chapo"
    )
}

fn byline_token(t: &str) -> bool {
    matches!(
        t,
        "author"
            | "authors"
            | "byline"
            | "tacgia"
            | "writer"
            | "reporter"
            | "signature"
            | "butdanh"
            | "creator"
    ) || (t.len() > 6 && (t.contains("author") || t.contains("byline")))
}

fn caption_token(t: &str) -> bool {
    matches!(
        t,
        "caption" | "figcaption" | "credit" | "credits" | "chuthich" | "captiontext"
    ) || (t.len() > 7 && t.ends_with("caption"))
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
        let mut last_tok = "";
        for tok in name.split(|c: char| !c.is_ascii_alphanumeric()) {
            if tok.is_empty() || tok.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            match token_hint(tok) {
                1 => pos = true,
                -1 => neg = true,
                _ => {}
            }
            if lede_token(tok) {
                flags |= F_LEDE_HINT;
            }
            if byline_token(tok) {
                flags |= F_BYLINE_HINT;
            }
            last_tok = tok;
        }
        // captions: `wp-caption-text`, `image-caption`, `figure__caption`
        // (but not `f_caption_muted_videos_on`)
        if caption_token(last_tok) {
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
