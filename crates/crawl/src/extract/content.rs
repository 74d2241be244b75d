//! Main-content detection and cleaning.
//!
//! 1. Every block element owns the inline text directly inside it (a
//!    *unit*: a paragraph, list item, heading, table cell, or a `div` holding
//!    bare text). Units get a value: + their length when they read like prose
//!    (long, or with sentence punctuation, few links), − their length when they
//!    are link lists or sit inside boilerplate (class/id hints such as
//!    comments, related, share, sidebar, footer), a small − for short
//!    fragments (labels, menus).
//! 2. Values are summed bottom-up; the element with the highest sum is the
//!    tightest container that holds the prose and as little else as
//!    possible (a maximum-subtree-sum, computed in one reverse pass).
//! 3. The container is rendered to paragraphs while dropping boilerplate
//!    inside it: boilerplate-hinted subtrees, captions, link lists, boxes
//!    headed "Tin liên quan" / "Xem thêm" / "Related", the headline, date
//!    lines, and a trailing byline or "Theo …" source line.
//! 4. A lede (sapo) shown between the headline and the container is
//!    prepended.

use chrono::{DateTime, Utc};

use super::dates::{is_date_line, parse_vietnamese_date};
use super::dom::{
    Dom, F_ALIGN_RIGHT, F_BYLINE_HINT, F_CAPTION, F_IGNORED, F_IN_BOLD, F_IN_HEADING, F_IN_ITALIC,
    F_IN_LINK, F_IN_QUOTE, F_LEDE_HINT, F_STRONG_POS, NONE, Tag, is_ws, push_collapsed,
};
use super::fold::{fold_alnum, fold_words};

pub(crate) struct Analysis<'d, 'a> {
    pub dom: &'d Dom<'a>,
    pub own_chars: Vec<u32>,
    pub own_link: Vec<u32>,
    pub own_punct: Vec<u32>,
    pub own_bold: Vec<u32>,
    pub own_italic: Vec<u32>,
    pub tot_chars: Vec<u32>,
    pub tot_link: Vec<u32>,
    /// First visible text node in the subtree (NONE if none).
    pub first_text: Vec<u32>,
    /// Subtree contains an element with a strong article-body hint.
    pub strong_pos: Vec<bool>,
    /// Subtree contains an <img> (or picture/video placeholder).
    pub has_img: Vec<bool>,
    /// Previous element sibling (NONE if none).
    pub prev_el: Vec<u32>,
    /// This element's own hint makes it boilerplate (after guards).
    pub neg_own: Vec<bool>,
    /// This element or an ancestor is boilerplate.
    pub neg: Vec<bool>,
    pub score: Vec<f32>,
    /// Block elements owning visible text, in document order.
    pub units: Vec<u32>,
}

/// Paragraph of output text and the block that owns it.
#[derive(Debug, Clone)]
pub(crate) struct Para {
    pub text: String,
    pub block: u32,
}

fn count_text(s: &str) -> (u32, u32) {
    let mut n = 0u32;
    let mut punct = 0u32;
    for c in s.chars() {
        if !is_ws(c) {
            n += 1;
            if matches!(
                c,
                '.' | ',' | '!' | '?' | ';' | '。' | '，' | '、' | '！' | '？' | '،'
            ) {
                punct += 1;
            }
        }
    }
    (n, punct)
}

impl<'d, 'a> Analysis<'d, 'a> {
    pub(crate) fn new(dom: &'d Dom<'a>) -> Self {
        let n = dom.nodes.len();
        let mut a = Analysis {
            dom,
            own_chars: vec![0; n],
            own_link: vec![0; n],
            own_punct: vec![0; n],
            own_bold: vec![0; n],
            own_italic: vec![0; n],
            tot_chars: vec![0; n],
            tot_link: vec![0; n],
            first_text: vec![NONE; n],
            strong_pos: vec![false; n],
            has_img: vec![false; n],
            prev_el: vec![NONE; n],
            neg_own: vec![false; n],
            neg: vec![false; n],
            score: vec![0.0; n],
            units: Vec::new(),
        };
        // last element child seen so far, per parent (pre-order visits a
        // parent's children in order)
        let mut last_child = vec![NONE; n];
        for (i, node) in dom.nodes.iter().enumerate() {
            if node.flags & F_STRONG_POS != 0 && node.flags & F_IGNORED == 0 {
                a.strong_pos[i] = true;
            }
            if node.el.is_some() && node.parent != NONE {
                let p = node.parent as usize;
                a.prev_el[i] = last_child[p];
                last_child[p] = i as u32;
            }
            if matches!(node.tag, Tag::Img)
                || (node.tag == Tag::Ignore
                    && node
                        .el
                        .is_some_and(|e| matches!(e.name(), "picture" | "video" | "iframe")))
            {
                a.has_img[i] = true;
            }
            if node.tag != Tag::Text || node.flags & F_IGNORED != 0 {
                continue;
            }
            let (c, p) = count_text(node.text);
            if c == 0 {
                continue;
            }
            a.tot_chars[i] = c;
            a.first_text[i] = i as u32;
            let link = node.flags & F_IN_LINK != 0;
            if link {
                a.tot_link[i] = c;
            }
            let b = node.block;
            if b != NONE {
                let b = b as usize;
                a.own_chars[b] += c;
                a.own_punct[b] += p;
                if link {
                    a.own_link[b] += c;
                }
                if node.flags & F_IN_BOLD != 0 {
                    a.own_bold[b] += c;
                }
                if node.flags & F_IN_ITALIC != 0 {
                    a.own_italic[b] += c;
                }
            }
        }
        for i in (1..n).rev() {
            let p = dom.nodes[i].parent;
            if p == NONE {
                continue;
            }
            let p = p as usize;
            a.tot_chars[p] += a.tot_chars[i];
            a.tot_link[p] += a.tot_link[i];
            if a.first_text[i] < a.first_text[p] {
                a.first_text[p] = a.first_text[i];
            }
            if a.strong_pos[i] {
                a.strong_pos[p] = true;
            }
            if a.has_img[i] {
                a.has_img[p] = true;
            }
        }
        a.units = (0..n as u32)
            .filter(|&i| a.own_chars[i as usize] > 0 && dom.nodes[i as usize].el.is_some())
            .collect();
        a
    }

    fn body(&self) -> u32 {
        if self.dom.body != NONE {
            self.dom.body
        } else {
            0
        }
    }

    /// Resolve boilerplate hints (guarded by the headline position) and score.
    pub(crate) fn finish(&mut self, headline: Option<u32>) {
        let dom = self.dom;
        let n = dom.nodes.len();
        let body_chars = self.tot_chars[self.body() as usize].max(1) as f32;
        for i in 0..n {
            let node = &dom.nodes[i];
            let inherited = node.parent != NONE && self.neg[node.parent as usize];
            let own = node.hint < 0
                && node.el.is_some()
                && !matches!(node.tag, Tag::Html | Tag::Body | Tag::Document)
                && headline.is_none_or(|h| !dom.contains(i as u32, h))
                && !self.strong_pos[i]
                && (self.tot_chars[i] as f32) < 0.8 * body_chars;
            // a hover card inside a sentence: an inline element holding an
            // image and mostly links (hidden by CSS on the real page)
            let popup = node.tag == Tag::Inline
                && self.has_img[i]
                && self.tot_chars[i] >= 30
                && self.tot_link[i] * 10 > self.tot_chars[i] * 6;
            let own = own || popup;
            self.neg_own[i] = own;
            self.neg[i] = inherited || own;
        }
        // Text inside boilerplate nested in a unit's inline content (a hover
        // card, a share widget inside a paragraph) does not belong to the unit.
        for i in 0..n {
            let node = &dom.nodes[i];
            if node.tag != Tag::Text || node.parent == NONE || !self.neg[node.parent as usize] {
                continue;
            }
            let b = node.block;
            if b == NONE || self.neg[b as usize] {
                continue;
            }
            let c = self.tot_chars[i];
            let b = b as usize;
            self.own_chars[b] = self.own_chars[b].saturating_sub(c);
            if node.flags & F_IN_LINK != 0 {
                self.own_link[b] = self.own_link[b].saturating_sub(c);
            }
        }
        for &u in &self.units {
            let u = u as usize;
            let node = &dom.nodes[u];
            let len = self.own_chars[u] as f32;
            if len == 0.0 {
                continue;
            }
            let ld = self.own_link[u] as f32 / len;
            let prose = len >= 80.0 || (len >= 25.0 && self.own_punct[u] > 0);
            let v = if self.neg[u] {
                -len
            } else if node.flags & F_CAPTION != 0 {
                0.0
            } else if prose {
                // links inside prose cost progressively; a paragraph that is
                // mostly links counts against its container
                (len * (1.0 - 2.0 * ld)).max(-len)
            } else if ld > 0.5 {
                -len
            } else if matches!(node.tag, Tag::Td | Tag::Th) {
                // data-table cells are short by nature: neutral
                0.0
            } else {
                -0.3 * len
            };
            self.score[u] += v;
        }
        for i in (1..n).rev() {
            let p = dom.nodes[i].parent;
            if p != NONE {
                self.score[p as usize] += self.score[i];
            }
        }
    }

    /// Selection score: unit sum corrected by link density.
    fn selection_score(&self, i: usize) -> f32 {
        // readability's correction: a candidate full of links (menus,
        // teaser lists) is worth less than its prose suggests
        self.score[i] * (1.0 - self.link_density(i as u32))
    }

    /// Element with the highest score (deepest among equals).
    pub(crate) fn best_container(&self) -> Option<u32> {
        self.best_in(0, self.dom.nodes.len() as u32, None)
    }

    /// Best element in the pre-order range `from..to`, not containing `avoid`.
    fn best_in(&self, from: u32, to: u32, avoid: Option<u32>) -> Option<u32> {
        let mut best = None;
        let mut best_score = 0.0f32;
        for i in from..to {
            let node = &self.dom.nodes[i as usize];
            if node.el.is_none() || !node.tag.is_block() || node.tag == Tag::Html {
                continue;
            }
            if avoid.is_some_and(|h| self.dom.contains(i, h)) {
                continue;
            }
            let s = self.selection_score(i as usize);
            if s > 0.0 && s >= best_score {
                best_score = s;
                best = Some(i);
            }
        }
        best
    }

    fn link_density(&self, i: u32) -> f32 {
        let c = self.tot_chars[i as usize];
        if c == 0 {
            0.0
        } else {
            self.tot_link[i as usize] as f32 / c as f32
        }
    }

    /// Boxes headed by a "related" label inside `c`, to be skipped.
    fn label_boxes(&self, c: u32) -> Vec<u32> {
        let dom = self.dom;
        let end = dom.nodes[c as usize].end;
        let mut out = Vec::new();
        for &u in &self.units {
            if u <= c || u >= end || self.tot_chars[u as usize] > 40 {
                continue;
            }
            if !is_related_label(&dom.text_of(u)) {
                continue;
            }
            let ft = self.first_text[u as usize];
            let mut a = u;
            loop {
                let p = dom.nodes[a as usize].parent;
                if p == NONE || p == c || !dom.contains(c, p) {
                    break;
                }
                if self.first_text[p as usize] != ft || self.tot_chars[p as usize] > 1200 {
                    break;
                }
                a = p;
            }
            out.push(a);
            if a == u {
                // a bare heading: the link list after it goes too
                let mut s = dom.nodes[a as usize].end;
                let pend = {
                    let p = dom.nodes[a as usize].parent;
                    if p == NONE {
                        end
                    } else {
                        dom.nodes[p as usize].end
                    }
                };
                while s < pend {
                    let sn = &dom.nodes[s as usize];
                    if sn.tag == Tag::Text && self.tot_chars[s as usize] == 0 {
                        s += 1;
                        continue;
                    }
                    if sn.el.is_some() && self.link_density(s) >= 0.5 {
                        out.push(s);
                    }
                    break;
                }
            }
        }
        out
    }

    /// Render `c` into paragraphs, skipping boilerplate inside it.
    fn render(
        &self,
        c: u32,
        headline: Option<u32>,
        skip_before: Option<u32>,
    ) -> (Vec<Para>, usize) {
        let dom = self.dom;
        let end = dom.nodes[c as usize].end;
        let mut boxes = self.label_boxes(c);
        boxes.sort_unstable();
        let c_chars = self.tot_chars[c as usize] as f32;
        let mut paras = Vec::new();
        let mut cur = String::new();
        let mut cur_block = NONE;
        let mut teasers = 0usize;
        let mut i = c;
        while i < end {
            let node = &dom.nodes[i as usize];
            if i != c && node.tag != Tag::Text {
                let skip = node.flags & F_IGNORED != 0
                    || node.flags & F_CAPTION != 0
                    || self.neg_own[i as usize]
                    || Some(i) == headline
                    || skip_before.is_some_and(|h| i < h && !dom.contains(i, h))
                    || boxes.binary_search(&i).is_ok()
                    || (matches!(
                        node.tag,
                        Tag::Ul
                            | Tag::Ol
                            | Tag::Dl
                            | Tag::Table
                            | Tag::Div
                            | Tag::Section
                            | Tag::Nav
                            | Tag::Aside
                    ) && self.tot_chars[i as usize] > 0
                        && self.link_density(i) > 0.5
                        && (self.tot_chars[i as usize] as f32) < 0.5 * c_chars)
                    || self.is_teaser(i, headline);
                if skip {
                    i = node.end;
                    continue;
                }
                if node.tag.is_heading()
                    && self.tot_chars[i as usize] > 10
                    && self.link_density(i) > 0.6
                {
                    teasers += 1;
                }
            }
            match node.tag {
                Tag::Text if node.flags & F_IGNORED == 0 => {
                    if node.block != cur_block {
                        self.flush(&mut cur, cur_block, &mut paras);
                        cur_block = node.block;
                    }
                    push_collapsed(&mut cur, node.text);
                }
                Tag::Br => {
                    let t = cur.trim_end_matches(' ').len();
                    cur.truncate(t);
                    if !cur.is_empty() {
                        cur.push('\n');
                    }
                }
                _ => {}
            }
            i += 1;
        }
        self.flush(&mut cur, cur_block, &mut paras);
        (paras, teasers)
    }

    /// A teaser for another article: a small block that opens (after at
    /// most a short kicker such as a section or author name) with a linked
    /// heading, then maybe a summary.
    fn is_teaser(&self, i: u32, headline: Option<u32>) -> bool {
        let dom = self.dom;
        let node = &dom.nodes[i as usize];
        if !matches!(node.tag, Tag::Article | Tag::Li | Tag::Div | Tag::Section) {
            return false;
        }
        let chars = self.tot_chars[i as usize];
        if chars == 0 || chars > 800 || self.link_density(i) < 0.1 {
            return false;
        }
        if headline.is_some_and(|h| dom.contains(i, h)) {
            return false;
        }
        let mut before = 0u32;
        let mut j = i + 1;
        // bounded: a teaser shows its heading within its first few nodes
        let stop = node.end.min(i + 200);
        while j < stop {
            let n = &dom.nodes[j as usize];
            if n.flags & F_IGNORED != 0 {
                j = n.end;
                continue;
            }
            if n.tag.is_heading() {
                let hc = self.tot_chars[j as usize];
                return hc >= 10 && self.tot_link[j as usize] * 10 >= hc * 6;
            }
            if n.tag == Tag::Text {
                before += self.tot_chars[j as usize];
                if before > 40 {
                    return false;
                }
            }
            j += 1;
        }
        false
    }

    fn flush(&self, cur: &mut String, block: u32, out: &mut Vec<Para>) {
        if cur.trim().is_empty() {
            cur.clear();
            return;
        }
        let text = tidy(cur);
        cur.clear();
        if block != NONE {
            let b = block as usize;
            let len = self.own_chars[b].max(1) as f32;
            let ld = self.own_link[b] as f32 / len;
            let quoted = self.dom.nodes[b].flags & F_IN_QUOTE != 0;
            // a bare URL as text is a reference, not navigation
            let bare_url = text.starts_with("http") || text.starts_with("www.");
            if ld > 0.5 && (len < 300.0 || ld > 0.8) && !(quoted && ld <= 0.8) && !bare_url {
                return;
            }
        }
        // merge with the previous piece of the same block (split by a skipped child)
        if let Some(last) = out.last_mut()
            && last.block == block
            && block != NONE
        {
            last.text.push(' ');
            last.text.push_str(&text);
            return;
        }
        out.push(Para { text, block });
    }

    /// An image caption printed as a paragraph: a short line that names its
    /// photo credit, or a centred / italic line next to an image.
    fn is_caption_para(&self, p: &Para) -> bool {
        let n = p.text.chars().count();
        if n > 250 {
            return false;
        }
        let f = fold_words(&p.text);
        let credit = [
            "anh:",
            "anh minh hoa",
            "(anh",
            "nguon anh",
            "photo:",
            "image:",
            "photograph:",
            "credit:",
        ]
        .iter()
        .any(|x| f.starts_with(x));
        if credit && n <= 80 {
            return true;
        }
        let b = p.block;
        if b == NONE {
            return false;
        }
        let bi = b as usize;
        let node = &self.dom.nodes[bi];
        let own = self.own_chars[bi].max(1);
        // (centring alone is no evidence: some blogs centre every paragraph)
        let styled = credit
            || self.own_italic[bi] * 10 >= own * 9
            || f.contains(" anh: ")
            || f.contains("(anh:");
        if !styled {
            return false;
        }
        let img_before = |x: u32| {
            let prev = self.prev_el[x as usize];
            prev != NONE && self.has_img[prev as usize]
        };
        self.has_img[bi]
            || img_before(b)
            || (self.prev_el[bi] == NONE && node.parent != NONE && img_before(node.parent))
    }

    /// Whole-unit check: is the block right-aligned, bold or italic throughout?
    fn styled_alone(&self, b: u32) -> bool {
        let b = b as usize;
        let own = self.own_chars[b];
        own > 0
            && (self.dom.nodes[b].flags & F_ALIGN_RIGHT != 0
                || self.own_bold[b] * 10 >= own * 9
                || self.own_italic[b] * 10 >= own * 9
                || self.dom.nodes[b].flags & F_BYLINE_HINT != 0)
    }
}

fn tidy(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut blank = 0;
    for line in s.split('\n') {
        let l = line.trim();
        if l.is_empty() {
            blank += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank > 0 { "\n\n" } else { "\n" });
        }
        blank = 0;
        out.push_str(l);
    }
    out
}

/// Labels that head boxes of links to other articles.
pub(crate) fn is_related_label(text: &str) -> bool {
    let f = fold_words(text);
    let f = f
        .trim_end_matches([':', '.', '»', '>', ' ', '›'])
        .trim_start_matches(['»', '>', '›', ' ']);
    matches!(
        f,
        "tin lien quan"
            | "bai lien quan"
            | "bai viet lien quan"
            | "tin bai lien quan"
            | "xem them"
            | "doc them"
            | "tin cung chuyen muc"
            | "cung chuyen muc"
            | "tin khac"
            | "cac tin khac"
            | "tin moi"
            | "tin moi nhat"
            | "tin noi bat"
            | "doc nhieu"
            | "doc nhieu nhat"
            | "xem nhieu"
            | "xem nhieu nhat"
            | "co the ban quan tam"
            | "ban co the quan tam"
            | "co the ban chua doc"
            | "tieu diem"
            | "chu de"
            | "tu khoa"
            | "related"
            | "related articles"
            | "related stories"
            | "related posts"
            | "related content"
            | "related news"
            | "read more"
            | "read next"
            | "see also"
            | "more stories"
            | "more from"
            | "recommended"
            | "recommended for you"
            | "you may also like"
            | "you might also like"
            | "most read"
            | "most popular"
            | "trending"
            | "also read"
            | "read also"
            | "more on this story"
            | "tags"
    )
}

/// Short share / tool labels that are never article text.
fn is_chrome_phrase(f: &str) -> bool {
    let f = f.trim_end_matches([':', '.', ' ']);
    matches!(
        f,
        "chia se"
            | "share"
            | "share this"
            | "share this article"
            | "in bai"
            | "gui email"
            | "tro ve"
            | "quang cao"
            | "advertisement"
            | "tweet"
            | "email"
            | "print"
            | "binh luan"
            | "y kien ban doc"
            | "comments"
            | "leave a comment"
            | "advert"
            | "sponsored"
            | "loading"
            | "continue reading"
            | "read more"
            | "see more"
            | "show more"
            | "view comments"
            | "this slideshow requires javascript"
            | "click to expand"
            | "xem them"
            | "doc them"
            | "xem tiep"
            | "iklan"
            | "anzeige"
            | "publicidad"
            | "publicite"
    ) || (f.starts_with('[') && f.ends_with(']') && f.contains('='))
        || f.starts_with("filed under")
}

/// Closing promotional / contact lines: newsletter, social, tips, rights.
fn is_trailing_boilerplate(s: &str) -> bool {
    if s.chars().count() > 400 {
        return false;
    }
    let f = fold_words(s);
    const PATTERNS: [&str; 24] = [
        "full coverage of",
        "follow ap",
        "follow us on",
        "follow him on",
        "follow her on",
        "follow me on",
        "follow them on",
        "have a tip",
        "may be reached at",
        "can be reached at",
        "sign up for",
        "subscribe to",
        "our newsletter",
        "click here",
        "join our",
        "all rights reserved",
        "get access to",
        "use the code",
        "download the app",
        "like us on facebook",
        "ban quyen thuoc",
        "theo doi chung toi",
        "dang ky nhan tin",
        "copyright ©",
    ];
    PATTERNS.iter().any(|p| f.contains(p))
}

/// Byline-looking line: a name of 1–6 words, no sentence punctuation.
fn looks_like_name(s: &str) -> bool {
    let words: Vec<&str> = s.split_whitespace().collect();
    if words.is_empty() || words.len() > 6 || s.chars().count() > 50 {
        return false;
    }
    if s.ends_with(['.', '!', '?', ':', ';']) && !s.ends_with("..") {
        // "Theo TTXVN." is still a source line; names rarely end with a period
        let f = fold_words(s);
        return f.starts_with("theo ");
    }
    words.iter().all(|w| {
        let c = w.chars().next().unwrap_or(' ');
        c.is_uppercase() || !c.is_alphabetic() || w.chars().count() <= 3
    })
}

/// "Theo …", "Nguồn: …", "Source: …" source attributions.
fn is_source_line(s: &str) -> bool {
    let f = fold_words(s);
    if s.chars().count() > 80 {
        return false;
    }
    let f = f.trim_start_matches(['(', '[', '-', ' ']);
    (f.starts_with("theo ") && s.split_whitespace().count() <= 8)
        || f.starts_with("nguon:")
        || f.starts_with("nguon ")
        || f.starts_with("source:")
}

/// Strip "bởi", "By", "Tác giả:" etc. from a byline.
pub(crate) fn clean_byline(s: &str) -> Option<String> {
    // "Thu Hà | 13/03/2023 08:15", "Thu Hà - Cập nhật 08:15": keep the part
    // without digits
    let s = if s.bytes().any(|b| b.is_ascii_digit()) {
        s.split(['|', '·', '•', '\n'])
            .flat_map(|p| p.split(" - ").flat_map(|q| q.split(" – ")))
            .map(str::trim)
            .find(|p| !p.is_empty() && !p.bytes().any(|b| b.is_ascii_digit()))?
    } else {
        s
    };
    let mut t = s
        .trim()
        .trim_matches(|c: char| c == '-' || c == '|' || c == '–' || c.is_whitespace());
    let prefixes = [
        "bởi",
        "Bởi",
        "BỞI",
        "by",
        "By",
        "BY",
        "Tác giả:",
        "Tác giả",
        "TÁC GIẢ:",
        "Bài và ảnh:",
        "Bài, ảnh:",
        "Bài:",
        "Ảnh:",
        "Written by",
        "Posted by",
        "Story by",
        "Words by",
        "Phóng viên",
        "PV",
    ];
    let mut changed = true;
    while changed {
        changed = false;
        for p in prefixes {
            if let Some(rest) = t.strip_prefix(p)
                && (rest.starts_with([' ', ':', '\u{a0}']) || p.ends_with(':'))
            {
                t = rest.trim_start_matches([' ', ':', '\u{a0}']).trim();
                changed = true;
            }
        }
    }
    let t = t.trim_matches(|c: char| {
        c.is_whitespace() || matches!(c, '(' | ')' | '-' | '–' | '|' | ',' | '.')
    });
    let n = t.chars().count();
    if !(2..=60).contains(&n) || t.split_whitespace().count() > 7 {
        return None;
    }
    if t.contains('@') || t.starts_with("http") || is_generic_author(t) {
        return None;
    }
    Some(t.to_string())
}

/// Placeholder bylines that name no person.
fn is_generic_author(t: &str) -> bool {
    matches!(
        fold_words(t).as_str(),
        "admin"
            | "administrator"
            | "ban bien tap"
            | "bbt"
            | "toa soan"
            | "pv"
            | "ctv"
            | "phong vien"
            | "nhom pv"
            | "nhom phong vien"
            | "editor"
            | "editors"
            | "staff"
            | "guest"
            | "unknown"
            | "anonymous"
            | "an danh"
            | "khach"
    )
}

/// Everything the extractor derives from the body.
pub(crate) struct BodyParts {
    pub text: String,
    pub paragraphs: usize,
    pub container: Option<u32>,
    pub teasers: usize,
    pub byline: Option<String>,
}

impl Analysis<'_, '_> {
    /// Main content: container choice, rendering, lede, trailing cleanup.
    pub(crate) fn extract_body(
        &self,
        headline: Option<u32>,
        title: Option<&str>,
        fetched_at: DateTime<Utc>,
    ) -> BodyParts {
        let Some(c) = self.best_container() else {
            return BodyParts {
                text: String::new(),
                paragraphs: 0,
                container: None,
                teasers: 0,
                byline: None,
            };
        };
        let dom = self.dom;
        // A container that holds the headline usually also holds a subtitle,
        // the date line, share bars: prefer the body block inside it when
        // that block carries most of the value.
        let mut c = c;
        if let Some(h) = headline
            && dom.contains(c, h)
            && let Some(d) = self.best_in(c + 1, dom.nodes[c as usize].end, Some(h))
            && self.selection_score(d as usize) >= 0.8 * self.selection_score(c as usize)
        {
            c = d;
        }
        // Units before a headline inside the container (breadcrumbs, kickers) are skipped.
        let skip_before = headline.filter(|&h| h > c && dom.contains(c, h));
        let (mut paras, teasers) = self.render(c, headline, skip_before);

        // Lede shown between the headline and the container.
        let mut lede = Vec::new();
        if let Some(h) = headline
            && !dom.contains(c, h)
            && h < c
        {
            let lca = self.common_ancestor(h, c);
            let hend = dom.nodes[h as usize].end;
            let mut seen_prose = false;
            for &u in &self.units {
                if u < hend || u >= c {
                    continue;
                }
                if !dom.contains(lca, u) {
                    continue;
                }
                if let Some(p) = self.lede_text(u, fetched_at, !seen_prose) {
                    lede.push(Para { text: p, block: u });
                }
                let ui = u as usize;
                if !self.neg[ui]
                    && self.own_chars[ui] >= 80
                    && self.own_link[ui] * 3 < self.own_chars[ui]
                {
                    seen_prose = true;
                }
            }
        }

        let title_key = title.map(fold_alnum).unwrap_or_default();
        let mut out: Vec<Para> = Vec::with_capacity(lede.len() + paras.len());
        out.append(&mut lede);
        out.append(&mut paras);
        let title_chars = title.map_or(0, |t| t.chars().count());
        out.retain(|p| {
            let n = p.text.chars().count();
            if n <= 60 && is_chrome_phrase(&fold_words(&p.text)) {
                return false;
            }
            if !title_key.is_empty()
                && n + 10 >= title_chars
                && n <= title_chars + 10
                && fold_alnum(&p.text) == title_key
            {
                return false;
            }
            if self.is_caption_para(p) {
                return false;
            }
            let quoted = p.block != NONE && dom.nodes[p.block as usize].flags & F_IN_QUOTE != 0;
            if n <= 90
                && !quoted
                && p.text.bytes().any(|b| b.is_ascii_digit())
                && is_date_line(&p.text, fetched_at)
            {
                return false;
            }

            true
        });

        // Trailing byline / source lines.
        let mut byline = None;
        for _ in 0..3 {
            let Some(last) = out.last() else { break };
            let t = last.text.trim();
            if is_source_line(t) || is_trailing_boilerplate(t) {
                out.pop();
                continue;
            }
            // "Minh Khoa", "Bài và ảnh: MINH KHOA", "Tác giả: Thu Hà"
            // (bylines are short lines)
            let name = if t.chars().count() <= 60 && !t.contains('\n') {
                clean_byline(t)
            } else {
                None
            };
            let prefixed = name
                .as_deref()
                .is_some_and(|n| n.chars().count() < t.chars().count() - 2);
            if let Some(name) = name
                && looks_like_name(&name)
                && (prefixed || self.styled_alone(last.block) || t.chars().count() <= 30)
            {
                if byline.is_none() {
                    byline = Some(name);
                }
                out.pop();
                continue;
            }
            break;
        }
        // Leading "By X" line.
        if let Some(first) = out.first() {
            let f = fold_words(&first.text);
            if (f.starts_with("by ") || f.starts_with("boi ")) && first.text.chars().count() <= 60 {
                if byline.is_none() {
                    byline = clean_byline(&first.text);
                }
                out.remove(0);
            }
        }

        let paragraphs = out.len();
        let mut text = String::new();
        for p in &out {
            if !text.is_empty() {
                text.push_str("\n\n");
            }
            text.push_str(&p.text);
        }
        BodyParts {
            text,
            paragraphs,
            container: Some(c),
            teasers,
            byline,
        }
    }

    fn common_ancestor(&self, a: u32, b: u32) -> u32 {
        let mut x = a;
        while x != NONE && !self.dom.contains(x, b) {
            x = self.dom.nodes[x as usize].parent;
        }
        if x == NONE { 0 } else { x }
    }

    /// The text a unit owns (nested blocks excluded: they are units of their own).
    pub(crate) fn own_text(&self, u: u32) -> String {
        let mut s = String::new();
        let end = self.dom.nodes[u as usize].end;
        let mut j = u;
        while j < end {
            let n = &self.dom.nodes[j as usize];
            if n.flags & F_IGNORED != 0 && n.tag != Tag::Text {
                j = n.end;
                continue;
            }
            if n.tag == Tag::Text && n.block == u && n.flags & F_IGNORED == 0 {
                push_collapsed(&mut s, n.text);
            } else if n.tag == Tag::Br {
                s.push('\n');
            }
            j += 1;
        }
        tidy(&s)
    }

    /// Text of a unit if it reads like a lede (sapo).
    fn lede_text(&self, u: u32, fetched_at: DateTime<Utc>, first_prose: bool) -> Option<String> {
        let ui = u as usize;
        let node = &self.dom.nodes[ui];
        if self.neg[ui] || node.flags & (F_IGNORED | F_CAPTION) != 0 {
            return None;
        }
        let len = self.own_chars[ui];
        let ld = self.own_link[ui] as f32 / len.max(1) as f32;
        if ld > 0.3 {
            return None;
        }
        // A lede is announced by its class (sapo, lead, summary, tomtat...):
        // unmarked text between headline and body is more often a subtitle,
        // a caption or a disclosure than part of the article.
        let mut hinted = false;
        let mut x = u;
        for _ in 0..3 {
            if x == NONE {
                break;
            }
            if self.dom.nodes[x as usize].flags & F_LEDE_HINT != 0 {
                hinted = true;
                break;
            }
            x = self.dom.nodes[x as usize].parent;
        }
        let prose = len >= 80 || (len >= 40 && self.own_punct[ui] > 0);
        // or printed in bold throughout (old templates: <div><b>sapo</b></div>)
        let bold = self.own_bold[ui] * 10 >= len * 9;
        // or, on a Vietnamese page, the first paragraph under the headline:
        // Vietnamese press templates always open with a sapo
        let vi_candidate = first_prose && len >= 80 && self.own_punct[ui] > 0;
        if !prose || !(hinted || bold || vi_candidate) {
            return None;
        }
        let s = self.own_text(u);
        if s.is_empty() || is_date_line(&s, fetched_at) {
            return None;
        }
        if !(hinted || bold || super::lang::has_vietnamese_letters(&s)) {
            return None;
        }
        Some(s)
    }

    /// Units near the headline (document order distance), for dates and bylines.
    pub(crate) fn units_near(
        &self,
        headline: Option<u32>,
        container: Option<u32>,
        before: usize,
        after: usize,
    ) -> Vec<(u32, usize)> {
        let anchor = headline.or(container);
        let Some(anchor) = anchor else {
            return Vec::new();
        };
        // position of the anchor among units
        let pos = self.units.partition_point(|&u| u < anchor);
        let mut out = Vec::new();
        let start = pos.saturating_sub(before);
        for (k, &u) in self
            .units
            .iter()
            .enumerate()
            .skip(start)
            .take(before + after + 1)
        {
            if Some(u) == headline {
                continue;
            }
            let dist = k.abs_diff(pos);
            out.push((u, dist));
        }
        out
    }

    /// Published date printed near the headline.
    pub(crate) fn visible_date(
        &self,
        headline: Option<u32>,
        container: Option<u32>,
        fetched_at: DateTime<Utc>,
    ) -> (
        Option<chrono::DateTime<chrono::FixedOffset>>,
        Option<chrono::DateTime<chrono::FixedOffset>>,
    ) {
        let mut best: Option<(i32, chrono::DateTime<chrono::FixedOffset>)> = None;
        let mut modified = None;
        let c_end = container.map(|c| self.dom.nodes[c as usize].end);
        for (u, dist) in self.units_near(headline, container, 8, 10) {
            if c_end.is_some_and(|e| u >= e) {
                continue;
            }
            self.date_candidate(u, dist as i32, fetched_at, &mut best, &mut modified);
        }
        // Only an update line near the headline: it is the page's date.
        if best.is_none()
            && let Some(m) = modified
        {
            best = Some((0, m));
        }
        // Some templates print the date only under the article (with the
        // byline): the last units of the body and the few after it.
        if best.is_none()
            && let (Some(c), Some(e)) = (container, c_end)
        {
            let pos = self.units.partition_point(|&u| u < e);
            let start = pos
                .saturating_sub(3)
                .max(self.units.partition_point(|&u| u < c));
            for (k, &u) in self
                .units
                .iter()
                .enumerate()
                .skip(start)
                .take(pos - start + 4)
            {
                // not inside comments or other large boilerplate
                let mut x = self.dom.nodes[u as usize].parent;
                let mut in_boiler = false;
                while x != NONE && x != c {
                    if self.neg_own[x as usize] && self.tot_chars[x as usize] > 300 {
                        in_boiler = true;
                        break;
                    }
                    x = self.dom.nodes[x as usize].parent;
                }
                // not an item of a link list (dates of related articles)
                let p = self.dom.nodes[u as usize].parent;
                let listy = self.own_link[u as usize] > 0
                    || (p != NONE && self.link_density(p) > 0.3)
                    || self.dom.nodes[u as usize].flags & F_IN_LINK != 0;
                if !in_boiler && !listy {
                    let dist = 20 + k.abs_diff(pos) as i32;
                    self.date_candidate(u, dist, fetched_at, &mut best, &mut modified);
                }
            }
        }
        (best.map(|x| x.1), modified)
    }

    /// Offer unit `u` as a visible date line at distance `dist` from the headline.
    fn date_candidate(
        &self,
        u: u32,
        dist: i32,
        fetched_at: DateTime<Utc>,
        best: &mut Option<(i32, chrono::DateTime<chrono::FixedOffset>)>,
        modified: &mut Option<chrono::DateTime<chrono::FixedOffset>>,
    ) {
        if self.own_chars[u as usize] > 120
            || self.dom.nodes[u as usize].flags & (F_IGNORED | F_IN_HEADING) != 0
        {
            return;
        }
        let t = self.own_text(u);
        if !is_date_line(&t, fetched_at) {
            return;
        }
        let Some(d) = parse_vietnamese_date(&t, fetched_at) else {
            return;
        };
        if super::dates::is_update_line(&t) {
            if modified.is_none() {
                *modified = Some(d);
            }
            return;
        }
        let has_time = d.time() != chrono::NaiveTime::MIN;
        let score = dist + if has_time { 0 } else { 6 };
        if best.is_none_or(|(s, _)| score < s) {
            *best = Some((score, d));
        }
    }

    /// Byline element near the headline (class author/byline, itemprop=author).
    pub(crate) fn byline_near(
        &self,
        headline: Option<u32>,
        container: Option<u32>,
        extra: &[u32],
    ) -> Option<String> {
        let near = self.units_near(headline, container, 6, 8);
        let (Some(first), Some(last)) = (
            near.iter().map(|x| x.0).min(),
            near.iter().map(|x| x.0).max(),
        ) else {
            return None;
        };
        let c_end = container.map_or(u32::MAX, |c| self.dom.nodes[c as usize].end);
        let hi = self.dom.nodes[last as usize].end.min(c_end);
        let lo = first.min(headline.unwrap_or(first));
        // itemprop=author / rel=author elements first
        for &e in extra {
            if e < lo || e >= hi || self.tot_chars[e as usize] > 80 {
                continue;
            }
            if let Some(b) = clean_byline(&self.dom.text_of(e)) {
                return Some(b);
            }
        }
        let mut i = lo;
        while i < hi {
            let node = &self.dom.nodes[i as usize];
            if node.flags & F_IGNORED != 0 {
                i = node.end;
                continue;
            }
            if node.flags & F_BYLINE_HINT != 0
                && node.el.is_some()
                && self.tot_chars[i as usize] <= 80
            {
                if let Some(b) = clean_byline(&self.dom.text_of(i)) {
                    return Some(b);
                }
                i = node.end;
                continue;
            }
            i += 1;
        }
        // a meta line that names the writer: "… bởi Phương Thảo", "By Jane Roe"
        for &(u, dist) in &near {
            if dist > 4 || self.own_chars[u as usize] > 120 {
                continue;
            }
            let t = self.own_text(u);
            for marker in [
                " bởi ",
                "Bởi ",
                " By ",
                "By ",
                "Tác giả:",
                "Bài và ảnh:",
                "Bài, ảnh:",
                "Bài:",
            ] {
                let at = if marker.starts_with(' ') {
                    t.find(marker).map(|p| p + marker.len())
                } else {
                    t.strip_prefix(marker).map(|_| marker.len())
                };
                if let Some(p) = at
                    && let Some(b) = clean_byline(&t[p..])
                    && looks_like_name(&b)
                {
                    return Some(b);
                }
            }
        }
        // an author box inside the body or right after it (not inside a
        // large boilerplate region such as the comments)
        let c = container?;
        let c_end = self.dom.nodes[c as usize].end;
        let after = self
            .units
            .iter()
            .copied()
            .filter(|&u| u >= c_end)
            .nth(4)
            .unwrap_or(self.dom.nodes.len() as u32);
        let mut i = c;
        while i < after {
            let node = &self.dom.nodes[i as usize];
            if node.flags & F_IGNORED != 0
                || (self.neg_own[i as usize] && self.tot_chars[i as usize] > 300)
            {
                i = node.end;
                continue;
            }
            if node.flags & F_BYLINE_HINT != 0
                && node.el.is_some()
                && self.tot_chars[i as usize] <= 80
            {
                if let Some(b) = clean_byline(&self.dom.text_of(i)) {
                    return Some(b);
                }
                i = node.end;
                continue;
            }
            i += 1;
        }
        None
    }
}
