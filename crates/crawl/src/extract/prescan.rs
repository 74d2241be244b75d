//! One byte-level pass over the decoded document before html5ever sees it.
//!
//! Two jobs:
//!
//! * **Nesting cap.** html5ever's tree builder checks element scopes by
//!   walking the stack of open elements, so a document with 100 000 nested
//!   `<div>`s costs O(depth²) — seconds of CPU for a few hundred kilobytes.
//!   No real page nests anywhere near [`MAX_DEPTH`] elements, so start tags
//!   beyond that depth (and the end tags that close them) are dropped; the
//!   text stays.
//! * **Script and style bodies.** About half the bytes of a news page are
//!   inline JavaScript and CSS, which the extractor never reads (except
//!   JSON-LD). Their bodies are cut down to their first character before
//!   parsing (so the tree keeps the same nodes), which spares the tokenizer
//!   and tree builder a good part of their work.
//!
//! The scan follows the HTML tokenizer where it matters for finding where
//! things end: tags and their attributes (quoted and unquoted values),
//! comments (`<!-->`, `--!>`), bogus comments, DOCTYPE, raw-text and RCDATA
//! elements. A body is cut only when that is safe whatever the tree builder
//! makes of the element: a `<style>` body without any `<`; a `<script>` body
//! without `</` or `<!--` (so the first `</script` ends it, with no escaped
//! states), outside `<svg>`, `<math>` and `<select>` (where these elements
//! are not raw text), and whose `type` does not mention JSON. After
//! `<![CDATA[` or `<plaintext>` nothing more is cut.

use std::borrow::Cow;

/// Deepest element nesting kept.
pub const MAX_DEPTH: usize = 1000;

/// Attributes kept per tag. The tokenizer checks each new attribute against
/// the ones before it (duplicates are dropped), so a tag with a million
/// attributes costs O(n²): the excess is cut.
pub const MAX_ATTRS: usize = 128;

/// Formatting elements (`<b>`, `<font>`...) left open at once. The tree
/// builder re-creates every open formatting element in each new block
/// ("reconstruct the active formatting elements"), and with distinct
/// attributes nothing limits how many there are: 2 000 unclosed `<b id=N>`
/// followed by megabytes of `<div>x</div>` make billions of elements. Further
/// formatting start tags are dropped (their text stays).
pub const MAX_OPEN_FORMATTING: usize = 6;

/// Index of a formatting element name in the open-count table.
fn formatting_index(name: &[u8]) -> Option<usize> {
    const NAMES: [&[u8]; 12] = [
        b"b", b"big", b"code", b"em", b"font", b"i", b"s", b"small", b"strike", b"strong", b"tt",
        b"u",
    ];
    NAMES.iter().position(|n| *n == name)
}

fn is_void_or_optional(name: &[u8]) -> bool {
    matches!(
        name,
        b"area"
            | b"base"
            | b"br"
            | b"col"
            | b"embed"
            | b"hr"
            | b"img"
            | b"input"
            | b"link"
            | b"meta"
            | b"param"
            | b"source"
            | b"track"
            | b"wbr"
            | b"keygen"
            | b"p"
            | b"li"
            | b"dt"
            | b"dd"
            | b"tr"
            | b"td"
            | b"th"
            | b"option"
            | b"optgroup"
            | b"rb"
            | b"rt"
            | b"rp"
            | b"tbody"
            | b"thead"
            | b"tfoot"
            | b"colgroup"
            | b"caption"
            | b"html"
            | b"head"
            | b"body"
    )
}

/// Elements whose content the tokenizer reads as text up to `</name`.
fn is_raw_text(name: &[u8]) -> bool {
    matches!(
        name,
        b"script"
            | b"style"
            | b"textarea"
            | b"title"
            | b"xmp"
            | b"iframe"
            | b"noembed"
            | b"noframes"
            | b"noscript"
    )
}

/// Elements inside which `<script>` / `<style>` may not be raw text.
fn is_foreign_or_select(name: &[u8]) -> bool {
    matches!(name, b"svg" | b"math" | b"select")
}

#[inline]
fn is_space(c: u8) -> bool {
    matches!(c, b'\t' | b'\n' | b'\x0C' | b'\r' | b' ')
}

/// Index of the first ASCII byte `c` at or after `from` (memchr).
#[inline]
fn find_byte(s: &str, from: usize, c: u8) -> Option<usize> {
    s.get(from..)?.find(char::from(c)).map(|p| from + p)
}

/// Index of the first `needle` at or after `from`.
fn find(s: &str, from: usize, needle: &str) -> Option<usize> {
    s.get(from..)?.find(needle).map(|p| from + p)
}

/// End (index after `>`) of a comment whose `<!--` ends at `from`.
fn comment_end(s: &str, from: usize) -> usize {
    let b = s.as_bytes();
    // `<!-->` and `<!--->` are complete (empty) comments
    if b.get(from) == Some(&b'>') {
        return from + 1;
    }
    if b.get(from) == Some(&b'-') && b.get(from + 1) == Some(&b'>') {
        return from + 2;
    }
    let mut i = from;
    while let Some(q) = find(s, i, "--") {
        let mut r = q + 2;
        while b.get(r) == Some(&b'-') {
            r += 1;
        }
        match b.get(r) {
            Some(b'>') => return r + 1,
            Some(b'!') if b.get(r + 1) == Some(&b'>') => return r + 2,
            None => return b.len(),
            _ => i = r,
        }
    }
    b.len()
}

/// End (index after `>`) of a bogus comment / DOCTYPE: the first `>`.
fn bogus_end(s: &str, from: usize) -> usize {
    find_byte(s, from, b'>').map_or(s.len(), |p| p + 1)
}

/// Where a raw-text element's body ends, and what is inside it.
struct RawBody {
    /// Index of the `</name` (followed by white space, `/` or `>`) that
    /// closes the element, or the end of input.
    close: usize,
    /// The body holds a `<`.
    any_lt: bool,
    /// The body holds `<!--` (script data may not end at `close`) or the
    /// end tag of another raw-text element (`</style`, `</title`...).
    escapes: bool,
}

/// Scan a raw-text body that starts at `from` (one pass over its `<`s).
fn raw_body(s: &str, from: usize, name: &[u8]) -> RawBody {
    let b = s.as_bytes();
    let mut out = RawBody {
        close: b.len(),
        any_lt: false,
        escapes: false,
    };
    let mut i = from;
    while let Some(lt) = find_byte(s, i, b'<') {
        match b.get(lt + 1) {
            Some(b'/') => {
                let n = lt + 2;
                if b.len() > n + name.len()
                    && b[n..n + name.len()].eq_ignore_ascii_case(name)
                    && matches!(
                        b[n + name.len()],
                        b'\t' | b'\n' | b'\x0C' | b'\r' | b' ' | b'/' | b'>'
                    )
                {
                    out.close = lt;
                    return out;
                }
                // `</div>` in a string is fine; `</style` might be where the
                // parser really is (if this scan is out of step with it)
                let rest = &b[n..b.len().min(n + 9)];
                let other =
                    |x: &[u8]| rest.len() >= x.len() && rest[..x.len()].eq_ignore_ascii_case(x);
                if [
                    &b"style"[..],
                    b"title",
                    b"textarea",
                    b"xmp",
                    b"iframe",
                    b"noembed",
                    b"noframes",
                    b"noscript",
                ]
                .into_iter()
                .any(other)
                {
                    out.escapes = true;
                }
            }
            Some(b'!') if b[lt..].starts_with(b"<!--") => out.escapes = true,
            _ => {}
        }
        out.any_lt = true;
        i = lt + 1;
    }
    out
}

/// Lower-cased tag name at `i` (up to 16 bytes kept) and the index after it.
/// The tokenizer's tag name runs to white space, `/` or `>`.
fn tag_name(b: &[u8], i: usize, buf: &mut Vec<u8>) -> usize {
    buf.clear();
    let mut j = i;
    while j < b.len() && !is_space(b[j]) && b[j] != b'/' && b[j] != b'>' {
        if buf.len() <= 16 {
            buf.push(b[j].to_ascii_lowercase());
        }
        j += 1;
    }
    j
}

/// What the attribute part of a tag tells.
struct TagEnd {
    /// Index after the closing `>`.
    end: usize,
    /// `/>`.
    self_closing: bool,
    /// A `type` attribute mentions JSON, or holds a character reference.
    json_type: bool,
    /// Where attribute number [`MAX_ATTRS`]` + 1` starts, if there is one.
    excess_attrs: Option<usize>,
    /// The input ended inside the tag (`end` is then the input length).
    eof: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum AttrState {
    BeforeName,
    Name,
    AfterName,
    BeforeValue,
    Unquoted,
    AfterQuoted,
    SelfClosing,
}

/// Follow the tokenizer's attribute states from `i` (just after the tag
/// name) to the `>` that ends the tag, or to the end of input (`eof`: the
/// tokenizer drops such a tag, after reading its attributes all the same).
fn scan_attrs(s: &str, mut i: usize) -> TagEnd {
    use AttrState::*;
    let b = s.as_bytes();
    let mut st = BeforeName;
    let mut name_start = i;
    let mut is_type = false;
    let mut json_type = false;
    let mut value_start = i;
    let mut attrs = 0usize;
    let mut excess_attrs = None;
    let type_value =
        |v: &[u8]| v.contains(&b'&') || v.windows(4).any(|w| w.eq_ignore_ascii_case(b"json"));
    // The tag ends with the `>` at `i`.
    let closed = |i: usize, self_closing, json_type, excess_attrs| TagEnd {
        end: i + 1,
        self_closing,
        json_type,
        excess_attrs,
        eof: false,
    };
    while i < b.len() {
        let c = b[i];
        match st {
            BeforeName => match c {
                _ if is_space(c) => {}
                b'/' => st = SelfClosing,
                b'>' => {
                    return closed(i, false, json_type, excess_attrs);
                }
                _ => {
                    st = Name;
                    name_start = i;
                    attrs += 1;
                    if attrs == MAX_ATTRS + 1 {
                        excess_attrs = Some(i);
                    }
                }
            },
            Name => {
                if is_space(c) || matches!(c, b'/' | b'>' | b'=') {
                    is_type = b[name_start..i].eq_ignore_ascii_case(b"type");
                    st = AfterName;
                    continue; // reconsume
                }
            }
            AfterName => match c {
                _ if is_space(c) => {}
                b'/' => st = SelfClosing,
                b'=' => st = BeforeValue,
                b'>' => {
                    return closed(i, false, json_type, excess_attrs);
                }
                _ => {
                    // The next attribute's name: it starts as in BeforeName.
                    st = BeforeName;
                    continue; // reconsume
                }
            },
            BeforeValue => match c {
                _ if is_space(c) => {}
                b'"' | b'\'' => {
                    let Some(close) = find_byte(s, i + 1, c) else {
                        break;
                    };
                    if is_type && type_value(&b[i + 1..close]) {
                        json_type = true;
                    }
                    i = close;
                    st = AfterQuoted;
                }
                b'>' => {
                    return closed(i, false, json_type, excess_attrs);
                }
                _ => {
                    st = Unquoted;
                    value_start = i;
                }
            },
            Unquoted => {
                if is_space(c) || c == b'>' {
                    if is_type && type_value(&b[value_start..i]) {
                        json_type = true;
                    }
                    if c == b'>' {
                        return closed(i, false, json_type, excess_attrs);
                    }
                    st = BeforeName;
                }
            }
            AfterQuoted => match c {
                _ if is_space(c) => st = BeforeName,
                b'/' => st = SelfClosing,
                b'>' => {
                    return closed(i, false, json_type, excess_attrs);
                }
                _ => {
                    st = BeforeName;
                    continue; // reconsume
                }
            },
            SelfClosing => {
                if c == b'>' {
                    return closed(i, true, json_type, excess_attrs);
                }
                st = BeforeName;
                continue; // reconsume
            }
        }
        i += 1;
    }
    TagEnd {
        end: b.len(),
        self_closing: false,
        json_type,
        excess_attrs,
        eof: true,
    }
}

/// Is cutting this raw-text body safe? (see the module docs)
fn may_cut_body(name: &[u8], body: &RawBody, tag: &TagEnd) -> bool {
    match name {
        b"style" => !body.any_lt,
        b"script" => !tag.json_type && !body.escapes,
        _ => false,
    }
}

/// Cut the attributes after the first [`MAX_ATTRS`] (up to the `>`).
fn cut_excess_attrs(tag: &TagEnd, cuts: &mut Vec<(usize, usize)>) {
    // (up to the `>`, or to the end of input for an unfinished tag)
    let to = if tag.eof { tag.end } else { tag.end - 1 };
    if let Some(from) = tag.excess_attrs
        && from < to
    {
        cuts.push((from, to));
    }
}

/// `html` with start tags nested deeper than [`MAX_DEPTH`] (and their end
/// tags) removed, attributes beyond [`MAX_ATTRS`] dropped, and script /
/// style bodies cut to their first character
/// where safe; borrowed unchanged when there is nothing to do.
pub fn prepare(html: &str) -> Cow<'_, str> {
    let b = html.as_bytes();
    let mut depth = 0usize;
    let mut dropped = 0usize;
    // open <svg>/<math>/<select> elements (approximate: only ever too high)
    let mut foreign = 0usize;
    let mut strip = true;
    // formatting start tags not (yet) closed by an end tag, per name
    let mut open_fmt = [0usize; 12];
    // byte ranges to cut, in order, disjoint
    let mut cuts: Vec<(usize, usize)> = Vec::new();
    let mut name = Vec::with_capacity(17);
    let mut i = 0usize;
    while let Some(lt) = find_byte(html, i, b'<') {
        let next = b.get(lt + 1).copied();
        match next {
            Some(b'!') => {
                if b[lt..].starts_with(b"<!--") {
                    i = comment_end(html, lt + 4);
                } else if b.len() >= lt + 9 && b[lt + 2..lt + 9].eq_ignore_ascii_case(b"[cdata[") {
                    // CDATA only exists in foreign content, which is
                    // tracked only roughly: stop cutting bodies.
                    strip = false;
                    i = if foreign > 0 {
                        find(html, lt + 9, "]]>").map_or(b.len(), |p| p + 3)
                    } else {
                        bogus_end(html, lt + 2)
                    };
                } else {
                    i = bogus_end(html, lt + 2);
                }
            }
            Some(b'?') => i = bogus_end(html, lt + 1),
            Some(b'/') => match b.get(lt + 2) {
                Some(c) if c.is_ascii_alphabetic() => {
                    let after = tag_name(b, lt + 2, &mut name);
                    let tag = scan_attrs(html, after);
                    if tag.eof {
                        cut_excess_attrs(&tag, &mut cuts);
                        break;
                    }
                    if is_foreign_or_select(&name) {
                        foreign = foreign.saturating_sub(1);
                    }
                    if let Some(f) = formatting_index(&name) {
                        open_fmt[f] = open_fmt[f].saturating_sub(1);
                    }
                    if !is_void_or_optional(&name) && !is_raw_text(&name) && dropped > 0 {
                        dropped -= 1;
                        cuts.push((lt, tag.end));
                    } else {
                        if !is_void_or_optional(&name) && !is_raw_text(&name) {
                            depth = depth.saturating_sub(1);
                        }
                        cut_excess_attrs(&tag, &mut cuts);
                    }
                    i = tag.end;
                }
                Some(b'>') => i = lt + 3,
                Some(_) => i = bogus_end(html, lt + 2),
                None => break,
            },
            Some(c) if c.is_ascii_alphabetic() => {
                let after = tag_name(b, lt + 1, &mut name);
                let tag = scan_attrs(html, after);
                if tag.eof {
                    cut_excess_attrs(&tag, &mut cuts);
                    break;
                }
                if name == b"plaintext" {
                    // the rest of the document is text
                    cut_excess_attrs(&tag, &mut cuts);
                    break;
                }
                if is_raw_text(&name) {
                    cut_excess_attrs(&tag, &mut cuts);
                    let body = raw_body(html, tag.end, &name);
                    let close = body.close;
                    if strip && foreign == 0 && may_cut_body(&name, &body, &tag) {
                        // keep the first character: the element keeps its text node
                        let first = html
                            .get(tag.end..close)
                            .and_then(|t| t.chars().next())
                            .map_or(0, char::len_utf8);
                        if tag.end + first < close {
                            cuts.push((tag.end + first, close));
                        }
                    }
                    i = close;
                    continue;
                }
                if let Some(f) = formatting_index(&name)
                    && foreign == 0
                {
                    if open_fmt.iter().sum::<usize>() >= MAX_OPEN_FORMATTING {
                        cuts.push((lt, tag.end));
                        i = tag.end;
                        continue;
                    }
                    open_fmt[f] += 1;
                }
                // `/>` closes an element only in foreign content (svg, math):
                // `<div/>` opens a div
                let closed =
                    tag.self_closing && (foreign > 0 || matches!(&name[..], b"svg" | b"math"));
                if is_foreign_or_select(&name) && !closed {
                    foreign += 1;
                }
                if !is_void_or_optional(&name) && !closed {
                    if depth >= MAX_DEPTH {
                        dropped += 1;
                        cuts.push((lt, tag.end));
                        i = tag.end;
                        continue;
                    }
                    depth += 1;
                }
                cut_excess_attrs(&tag, &mut cuts);
                i = tag.end;
            }
            Some(_) => i = lt + 1,
            None => break,
        }
    }
    if cuts.is_empty() {
        return Cow::Borrowed(html);
    }
    let removed: usize = cuts.iter().map(|(s, e)| e - s).sum();
    let mut out = String::with_capacity(html.len() - removed);
    let mut last = 0;
    for (s, e) in cuts {
        // cuts start at `<` / after `>` / after a whole character, and end
        // at `<` or after `>`: all char boundaries
        if let (Some(keep), true) = (html.get(last..s), html.is_char_boundary(e)) {
            out.push_str(keep);
            last = e;
        }
    }
    out.push_str(html.get(last..).unwrap_or(""));
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shallow_documents_without_bodies_are_untouched() {
        let s = "<html><body><div><p>a<p>b</div><script type=\"application/ld+json\">{\"a\":1}</script></body></html>";
        assert!(matches!(prepare(s), Cow::Borrowed(_)));
    }

    #[test]
    fn deep_documents_are_capped() {
        let n = 5000;
        let s = format!(
            "{}text{}",
            "<div class=\"x>y\">".repeat(n),
            "</div>".repeat(n)
        );
        let out = prepare(&s);
        assert_eq!(out.matches("<div").count(), MAX_DEPTH);
        assert_eq!(out.matches("</div>").count(), MAX_DEPTH);
        assert!(out.contains("text"));
    }

    #[test]
    fn many_unclosed_paragraphs_are_not_depth() {
        let s = "<p>x".repeat(3000);
        assert!(matches!(prepare(&s), Cow::Borrowed(_)));
    }

    #[test]
    fn void_tags_and_svg_leaves_are_not_depth() {
        let s = "<br/><img src=x>".repeat(3000);
        assert!(matches!(prepare(&s), Cow::Borrowed(_)));
        let s = format!("<svg>{}</svg><svg/>", "<path d='M0'/>".repeat(3000));
        assert!(matches!(prepare(&s), Cow::Borrowed(_)));
        // but `<span/>` opens a span
        let s = "<span/>".repeat(3000);
        assert_eq!(prepare(&s).matches("<span/>").count(), MAX_DEPTH);
    }

    #[test]
    fn script_and_style_bodies_are_cut() {
        let s = "<head><style>body{color:red}</style><script>var a = 1; if (a<2) {}</script>\
                 <script type=\"application/ld+json\">{\"@type\":\"NewsArticle\"}</script>\
                 <SCRIPT type=text/javascript>x()</SCRIPT ></head><p>text</p>";
        let out = prepare(s);
        assert_eq!(
            out,
            "<head><style>b</style><script>v</script>\
             <script type=\"application/ld+json\">{\"@type\":\"NewsArticle\"}</script>\
             <SCRIPT type=text/javascript>x</SCRIPT ></head><p>text</p>"
        );
    }

    #[test]
    fn unsafe_bodies_are_kept() {
        for s in [
            // the end tag of another raw-text element inside
            "<script>document.write('</style>')</script><p>x</p>",
            // escaped script states
            "<script><!--<script></script>x</script><p>x</p>",
            // `<` inside a style
            "<style>a::before{content:'<'}</style><p>x</p>",
            // inside svg / select, script and style are not raw text
            "<svg><script>a<b</script></svg><p>x</p>",
            "<select><style>a{}</style></select><p>x</p>",
            // type given with a character reference
            "<script type=\"application&#47;ld+json\">{}</script>",
            "<script type='Application/LD+JSON'>{}</script>",
        ] {
            assert_eq!(prepare(s), s, "{s}");
        }
    }

    #[test]
    fn markup_inside_attributes_and_comments_is_not_a_tag() {
        for s in [
            "<div title=\"<script>\">a</div><p>b</p><script>c</script >",
            "<!-- <script> --><p>x</p><script>y</script>",
            "<!--><script>ab</script>",
            "<!--->x<script>ab</script>",
            "<!-- a --!><script>ab</script>",
            "<!x <script>><script>ab</script>",
            "<?php <script> ?><script>ab</script>",
            "<textarea><script>no</script></textarea><script>ab</script>",
            "<title><style>no</style></title><script>ab</script>",
            "<div a\"b title=\"<script>x</script>\"><script>ab</script>",
        ] {
            let out = prepare(s);
            assert!(
                out.ends_with("<script>a</script>")
                    || out.ends_with("<script>y</script>")
                    || out.ends_with("<script>c</script >"),
                "{s} -> {out}"
            );
            if s.starts_with("<!-- <script>") {
                assert_eq!(out, "<!-- <script> --><p>x</p><script>y</script>");
            }
            if s.starts_with("<div title") {
                assert_eq!(out, s, "the last script body is one character already");
            }
        }
        assert_eq!(
            prepare("<div title=\"<script>\">a</div><script>cd</script>"),
            "<div title=\"<script>\">a</div><script>c</script>"
        );
        assert_eq!(
            prepare("<textarea><script>no</script></textarea>"),
            "<textarea><script>no</script></textarea>"
        );
    }

    #[test]
    fn attributes_beyond_the_limit_are_cut() {
        let attrs: String = (0..1000).map(|i| format!(" a{i}=\"{i}\"")).collect();
        let s = format!("<div{attrs}>x</div{attrs}><br{attrs}/>");
        let out = prepare(&s);
        assert_eq!(out.matches("<div").count(), 1);
        assert_eq!(out.matches('=').count(), 3 * MAX_ATTRS);
        let last = format!("a{0}=\"{0}\" >", MAX_ATTRS - 1);
        assert!(out.contains(&format!("{last}x</div")), "{out}");
        assert!(out.ends_with(&last), "{out}");
        // an unfinished tag at the end of input too
        let s = format!("<p>x</p><div{attrs}");
        assert_eq!(prepare(&s).matches('=').count(), MAX_ATTRS);
        let s = format!("<p>x</p><div{attrs} z=\"unclosed");
        assert_eq!(prepare(&s).matches('=').count(), MAX_ATTRS);
        let few = "<div a=1 b='2' c>x</div>";
        assert_eq!(prepare(few), few);
    }

    #[test]
    fn unclosed_formatting_elements_are_capped() {
        let s: String = (0..100).map(|i| format!("<b id={i}>x")).collect();
        let out = prepare(&s);
        assert_eq!(out.matches("<b").count(), MAX_OPEN_FORMATTING);
        assert_eq!(out.matches('x').count(), 100);
        // closed ones do not count
        let s = "<b>x</b><i>y</i>".repeat(100);
        assert_eq!(prepare(&s), s);
    }

    #[test]
    fn nothing_is_cut_after_cdata_or_plaintext() {
        let s = "<svg><![CDATA[ <script>x</script> ]]></svg><script>abc</script>";
        assert_eq!(prepare(s), s);
        let s = "<plaintext><script>abc</script>";
        assert_eq!(prepare(s), s);
    }

    #[test]
    fn unterminated_script_runs_to_the_end() {
        assert_eq!(prepare("<p>x</p><script>abc"), "<p>x</p><script>a");
        // `</scripts` does not end it
        assert_eq!(prepare("<script>abc</scripts>def"), "<script>a");
        assert_eq!(
            prepare("<script>x = '</div>';</script><p>y</p>"),
            "<script>x</script><p>y</p>"
        );
    }

    #[test]
    fn first_character_kept_whole() {
        assert_eq!(prepare("<script>ếabc</script>"), "<script>ế</script>");
    }

    #[test]
    fn odd_input_does_not_panic() {
        for s in [
            "<",
            "<!--",
            "</",
            "<a",
            "<script>",
            "<<<<",
            "<a href='>",
            "é<é>ü</ü>",
            "<script>é",
            "<style>\u{0}",
            "<!",
            "<![CDATA[",
            "</>",
            "<a b=c d='e' f=\"g\" / >",
        ] {
            let _ = prepare(&s.repeat(1200));
            let _ = prepare(s);
        }
    }
}
