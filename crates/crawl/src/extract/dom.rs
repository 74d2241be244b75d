//! A flattened, pre-order copy of the parsed document.
//!
//! `scraper` gives an arena tree (`ego_tree`) whose node ids cannot be used as
//! array indices. Everything the extractor needs is computed over this flat
//! view instead: node `i`'s subtree is the index range `i..end`, parents come
//! before children, so bottom-up sums are one reverse pass and top-down
//! inheritance is one forward pass. No recursion anywhere, so 100 000 nested
//! elements cannot overflow the stack.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use scraper::node::Element;
use scraper::{Html, Node};

use super::hints;

/// Element kinds the extractor distinguishes. Unknown elements are `Inline`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Tag {
    Document,
    Text,
    Html,
    Head,
    Body,
    Title,
    Meta,
    Link,
    Base,
    Script,
    /// style, noscript, template, svg, math, iframe, form controls, media...
    Ignore,
    A,
    Br,
    P,
    Div,
    H1,
    H2,
    H3,
    H4,
    H5,
    H6,
    Ul,
    Ol,
    Li,
    Dl,
    Dt,
    Dd,
    Table,
    Tr,
    Td,
    Th,
    TablePart,
    Pre,
    Blockquote,
    Article,
    Section,
    Main,
    Header,
    Footer,
    Nav,
    Aside,
    Figure,
    Figcaption,
    Form,
    Time,
    Img,
    Bold,
    Italic,
    Hr,
    OtherBlock,
    Inline,
}

impl Tag {
    fn of(name: &str) -> Tag {
        match name {
            "html" => Tag::Html,
            "head" => Tag::Head,
            "body" => Tag::Body,
            "title" => Tag::Title,
            "meta" => Tag::Meta,
            "link" => Tag::Link,
            "base" => Tag::Base,
            "script" => Tag::Script,
            "style" | "noscript" | "template" | "svg" | "math" | "iframe" | "object" | "embed"
            | "canvas" | "select" | "textarea" | "button" | "input" | "option" | "optgroup"
            | "datalist" | "audio" | "video" | "source" | "track" | "map" | "area" | "dialog"
            | "frameset" | "frame" | "applet" | "param" | "picture" | "head-title" => Tag::Ignore,
            "a" => Tag::A,
            "br" => Tag::Br,
            "p" => Tag::P,
            "div" => Tag::Div,
            "h1" => Tag::H1,
            "h2" => Tag::H2,
            "h3" => Tag::H3,
            "h4" => Tag::H4,
            "h5" => Tag::H5,
            "h6" => Tag::H6,
            "ul" => Tag::Ul,
            "ol" => Tag::Ol,
            "li" => Tag::Li,
            "dl" => Tag::Dl,
            "dt" => Tag::Dt,
            "dd" => Tag::Dd,
            "table" => Tag::Table,
            "tr" => Tag::Tr,
            "td" => Tag::Td,
            "th" => Tag::Th,
            "tbody" | "thead" | "tfoot" | "caption" | "colgroup" | "col" => Tag::TablePart,
            "pre" => Tag::Pre,
            "blockquote" => Tag::Blockquote,
            "article" => Tag::Article,
            "section" => Tag::Section,
            "main" => Tag::Main,
            "header" => Tag::Header,
            "footer" => Tag::Footer,
            "nav" => Tag::Nav,
            "aside" => Tag::Aside,
            "figure" => Tag::Figure,
            "figcaption" => Tag::Figcaption,
            "form" => Tag::Form,
            "time" => Tag::Time,
            "img" => Tag::Img,
            "b" | "strong" => Tag::Bold,
            "i" | "em" | "cite" => Tag::Italic,
            "hr" => Tag::Hr,
            "center" | "fieldset" | "details" | "summary" | "hgroup" | "menu" | "legend"
            | "address" | "dir" | "listing" | "xmp" | "plaintext" => Tag::OtherBlock,
            _ => Tag::Inline,
        }
    }

    /// Elements that start a new line of text (and own the inline text inside).
    pub(crate) fn is_block(self) -> bool {
        !matches!(
            self,
            Tag::Text
                | Tag::A
                | Tag::Br
                | Tag::Time
                | Tag::Img
                | Tag::Bold
                | Tag::Italic
                | Tag::Inline
                | Tag::Title
                | Tag::Meta
                | Tag::Link
                | Tag::Base
                | Tag::Script
                | Tag::Ignore
        )
    }

    pub(crate) fn is_heading(self) -> bool {
        matches!(
            self,
            Tag::H1 | Tag::H2 | Tag::H3 | Tag::H4 | Tag::H5 | Tag::H6
        )
    }
}

/// Node flags (bit set).
pub(crate) const F_IGNORED: u16 = 1; // inside script/style/head/hidden... (inherited)
pub(crate) const F_IN_LINK: u16 = 2; // inside <a href> (inherited)
pub(crate) const F_IN_BOLD: u16 = 4; // inside <b>/<strong> (inherited)
pub(crate) const F_IN_ITALIC: u16 = 8; // inside <i>/<em> (inherited)
pub(crate) const F_ALIGN_RIGHT: u16 = 16; // align=right / text-align:right (inherited)
pub(crate) const F_IN_PRE: u16 = 32; // inside <pre> (inherited)
pub(crate) const F_STRONG_POS: u16 = 64; // itemprop=articleBody or an article-body class (own)
pub(crate) const F_LEDE_HINT: u16 = 128; // sapo / lead / summary class (own)
pub(crate) const F_CAPTION: u16 = 256; // figcaption / caption-ish class (inherited)
pub(crate) const F_BYLINE_HINT: u16 = 512; // author / byline class (own)
pub(crate) const F_IN_HEADING: u16 = 1024; // inside h1..h6 (inherited)
pub(crate) const F_IN_QUOTE: u16 = 2048; // inside <blockquote> (inherited)
pub(crate) const F_ALIGN_CENTER: u16 = 4096; // align=center / text-align:center (own)

const INHERITED: u16 = F_IGNORED
    | F_IN_LINK
    | F_IN_BOLD
    | F_IN_ITALIC
    | F_ALIGN_RIGHT
    | F_IN_PRE
    | F_CAPTION
    | F_IN_HEADING
    | F_IN_QUOTE;

pub(crate) struct FNode<'a> {
    pub tag: Tag,
    pub parent: u32,
    /// Exclusive end of this node's subtree in pre-order.
    pub end: u32,
    pub flags: u16,
    /// Class/id/role hint: negative = boilerplate, positive = content.
    pub hint: i8,
    /// Nearest block ancestor-or-self (for text nodes: the block owning the text).
    pub block: u32,
    pub el: Option<&'a Element>,
    pub text: &'a str,
}

pub(crate) struct Dom<'a> {
    pub nodes: Vec<FNode<'a>>,
    pub body: u32,
}

pub(crate) const NONE: u32 = u32::MAX;

/// FNV-1a: a small, fast hasher for short strings (class attributes).
#[derive(Default)]
pub(crate) struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// Attribute value by local name (linear scan; elements have few attributes).
pub(crate) fn attr<'a>(el: &'a Element, name: &str) -> Option<&'a str> {
    el.attrs
        .iter()
        .find(|(q, _)| &*q.local == name)
        .map(|(_, v)| &**v)
}

impl<'a> Dom<'a> {
    pub(crate) fn build(html: &'a Html) -> Dom<'a> {
        let mut nodes: Vec<FNode<'a>> = Vec::with_capacity(1024);
        let mut body = NONE;
        let mut class_cache: HashMap<&'a str, (i32, u16), BuildHasherDefault<Fnv>> =
            HashMap::default();
        // (node, parent index)
        let mut stack = vec![(html.tree.root(), NONE)];
        while let Some((node, parent)) = stack.pop() {
            let idx = nodes.len() as u32;
            let pflags = if parent == NONE {
                0
            } else {
                nodes[parent as usize].flags & INHERITED
            };
            let pblock = if parent == NONE {
                NONE
            } else {
                nodes[parent as usize].block
            };
            let fnode = match node.value() {
                Node::Document | Node::Fragment => FNode {
                    tag: Tag::Document,
                    parent,
                    end: 0,
                    flags: 0,
                    hint: 0,
                    block: idx,
                    el: None,
                    text: "",
                },
                Node::Text(t) => FNode {
                    tag: Tag::Text,
                    parent,
                    end: 0,
                    flags: pflags,
                    hint: 0,
                    block: pblock,
                    el: None,
                    text: &t.text,
                },
                Node::Element(el) => {
                    let tag = Tag::of(el.name());
                    let mut flags = pflags;
                    let mut hint = 0i8;
                    match tag {
                        Tag::Head | Tag::Script | Tag::Ignore | Tag::Title | Tag::Meta => {
                            flags |= F_IGNORED
                        }
                        // in-page anchors (footnotes, "#top") are not navigation
                        Tag::A
                            if attr(el, "href")
                                .is_some_and(|h| !h.trim_start().starts_with('#')) =>
                        {
                            flags |= F_IN_LINK
                        }
                        Tag::Blockquote => flags |= F_IN_QUOTE,
                        Tag::Bold => flags |= F_IN_BOLD,
                        Tag::Italic => flags |= F_IN_ITALIC,
                        Tag::Pre => flags |= F_IN_PRE,
                        Tag::Figcaption => flags |= F_CAPTION,
                        Tag::Body => body = idx,
                        _ => {}
                    }
                    if tag.is_heading() {
                        flags |= F_IN_HEADING;
                    }
                    let mut class = "";
                    let mut id = "";
                    let mut role = "";
                    let mut itemprop = "";
                    for (q, v) in el.attrs.iter() {
                        match &*q.local {
                            "class" => class = v,
                            "id" => id = v,
                            "role" => role = v,
                            "itemprop" => itemprop = v,
                            "hidden" => flags |= F_IGNORED,
                            "aria-hidden" if v.eq_ignore_ascii_case("true") && tag.is_block() => {
                                flags |= F_IGNORED
                            }
                            "style" => {
                                if hints::style_hidden(v) {
                                    flags |= F_IGNORED;
                                }
                                if hints::style_right(v) {
                                    flags |= F_ALIGN_RIGHT;
                                }
                                if hints::style_center(v) {
                                    flags |= F_ALIGN_CENTER;
                                }
                            }
                            "align" if v.eq_ignore_ascii_case("right") => flags |= F_ALIGN_RIGHT,
                            "align" if v.eq_ignore_ascii_case("center") => flags |= F_ALIGN_CENTER,
                            _ => {}
                        }
                    }
                    // <html>/<body> classes describe the page, not a region of it
                    if (!class.is_empty()
                        || !id.is_empty()
                        || !role.is_empty()
                        || !itemprop.is_empty())
                        && !matches!(tag, Tag::Html | Tag::Body)
                    {
                        // class strings repeat a lot (menu items, list rows): cache
                        let (cv, cf) = if class.is_empty() {
                            (0, 0)
                        } else {
                            *class_cache
                                .entry(class)
                                .or_insert_with(|| hints::names_vote(class))
                        };
                        let (iv, ifl) = hints::names_vote(id);
                        let h = hints::combine(cv + iv, cf | ifl, role, itemprop);
                        hint = h.hint;
                        flags |= h.flags;
                    }
                    hint = hint.saturating_add(hints::tag_hint(tag));
                    FNode {
                        tag,
                        parent,
                        end: 0,
                        flags,
                        hint,
                        block: if tag.is_block() { idx } else { pblock },
                        el: Some(el),
                        text: "",
                    }
                }
                // Comments, doctypes, processing instructions are dropped.
                _ => continue,
            };
            nodes.push(fnode);
            let mut child = node.last_child();
            while let Some(c) = child {
                stack.push((c, idx));
                child = c.prev_sibling();
            }
        }
        // Subtree ends: size accumulates bottom-up (children have larger indices).
        let n = nodes.len();
        let mut size = vec![1u32; n];
        for i in (1..n).rev() {
            let p = nodes[i].parent;
            if p != NONE {
                size[p as usize] += size[i];
            }
        }
        for (i, node) in nodes.iter_mut().enumerate() {
            node.end = i as u32 + size[i];
        }
        Dom { nodes, body }
    }

    /// True when `a` is an ancestor-or-self of `b`.
    #[inline]
    pub(crate) fn contains(&self, a: u32, b: u32) -> bool {
        a <= b && b < self.nodes[a as usize].end
    }

    /// Raw text of a subtree (ignored parts skipped), whitespace collapsed.
    pub(crate) fn text_of(&self, i: u32) -> String {
        let mut out = String::new();
        let end = self.nodes[i as usize].end;
        for j in i..end {
            let n = &self.nodes[j as usize];
            if n.tag == Tag::Text && n.flags & F_IGNORED == 0 {
                push_collapsed(&mut out, n.text);
            } else if n.tag == Tag::Br || (n.tag.is_block() && j != i) {
                push_space(&mut out);
            }
        }
        let trimmed = out.trim_end().len();
        out.truncate(trimmed);
        out
    }

    /// The start of [`Dom::text_of`]: stops once `max_bytes` are collected
    /// (for parsers that only look at the first few hundred characters).
    pub(crate) fn text_prefix(&self, i: u32, max_bytes: usize) -> String {
        let mut out = String::new();
        let end = self.nodes[i as usize].end;
        for j in i..end {
            let n = &self.nodes[j as usize];
            if n.tag == Tag::Text && n.flags & F_IGNORED == 0 {
                // a huge text node is read in pieces (collapsing white space
                // across a cut gives the same result as in one go)
                let mut rest = n.text;
                while !rest.is_empty() && out.len() < max_bytes {
                    let mut cut = rest.len().min(256);
                    while !rest.is_char_boundary(cut) {
                        cut += 1;
                    }
                    push_collapsed(&mut out, &rest[..cut]);
                    rest = &rest[cut..];
                }
                if out.len() >= max_bytes {
                    break;
                }
            } else if n.tag == Tag::Br || (n.tag.is_block() && j != i) {
                push_space(&mut out);
            }
        }
        let trimmed = out.trim_end().len();
        out.truncate(trimmed);
        out
    }

    /// Text of a subtree including ignored descendants (for <script>, <title>).
    pub(crate) fn raw_text(&self, i: u32) -> String {
        let mut out = String::new();
        let end = self.nodes[i as usize].end;
        for j in i..end {
            let n = &self.nodes[j as usize];
            if n.tag == Tag::Text {
                out.push_str(n.text);
            }
        }
        out
    }
}

/// Characters treated as white space when collapsing.
#[inline]
pub(crate) fn is_ws(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{200B}' | '\u{FEFF}' | '\u{00AD}')
}

#[inline]
fn push_space(out: &mut String) {
    if !out.is_empty() && !out.ends_with(' ') {
        out.push(' ');
    }
}

/// Append `s` to `out` with runs of white space collapsed to one space
/// (no leading space at the start of `out`).
pub(crate) fn push_collapsed(out: &mut String, s: &str) {
    let mut pending = false;
    for c in s.chars() {
        if is_ws(c) {
            if matches!(c, '\u{200B}' | '\u{FEFF}' | '\u{00AD}') {
                continue;
            }
            pending = true;
        } else {
            if pending && !out.is_empty() && !out.ends_with(' ') && !out.ends_with('\n') {
                out.push(' ');
            }
            pending = false;
            out.push(c);
        }
    }
    if pending && !out.is_empty() && !out.ends_with(' ') && !out.ends_with('\n') {
        out.push(' ');
    }
}

/// Collapse white space of a short string and trim it.
pub(crate) fn collapse(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_collapsed(&mut out, s);
    let t = out.trim_end().len();
    out.truncate(t);
    out
}
