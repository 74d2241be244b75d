//! Nesting cap applied before parsing.
//!
//! html5ever's tree builder checks element scopes by walking the stack of
//! open elements, so a document with 100 000 nested `<div>`s costs
//! O(depth²) — seconds of CPU for a few hundred kilobytes. No real page nests
//! anywhere near [`MAX_DEPTH`] elements, so start tags beyond that depth (and
//! the end tags that close them) are dropped; the text stays.
//!
//! The scan is a light tokenizer: comments, raw-text elements (`script`,
//! `style`, ...), quoted attribute values, void elements and elements whose
//! end tag is optional (`p`, `li`, `td`...) are handled; it only has to be
//! good enough to bound the depth, the real parse happens afterwards.

use std::borrow::Cow;

/// Deepest element nesting kept.
pub const MAX_DEPTH: usize = 1000;

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

/// Next `<` at or after `from` (`str::find` on a char uses a fast memchr).
#[inline]
fn next_lt(html: &str, from: usize) -> Option<usize> {
    html.get(from..)?.find('<').map(|p| from + p)
}

/// Index of `-->` at or after `from`.
fn comment_end(html: &str, from: usize) -> Option<usize> {
    html.get(from..)?.find("-->").map(|p| from + p)
}

/// Index of the `</name` that closes a raw-text element (case-insensitive).
fn raw_text_end(html: &str, from: usize, name: &[u8]) -> Option<usize> {
    let b = html.as_bytes();
    let mut i = from;
    while let Some(lt) = next_lt(html, i) {
        let n = lt + 2;
        if b.get(lt + 1) == Some(&b'/')
            && b.len() >= n + name.len()
            && b[n..n + name.len()].eq_ignore_ascii_case(name)
        {
            return Some(lt);
        }
        i = lt + 1;
    }
    None
}

/// End of a tag starting at `start` (index after `>`), honouring quotes.
fn tag_end(b: &[u8], start: usize) -> usize {
    let mut i = start;
    let mut quote = 0u8;
    while i < b.len() {
        let c = b[i];
        if quote != 0 {
            if c == quote {
                quote = 0;
            }
        } else if c == b'"' || c == b'\'' {
            quote = c;
        } else if c == b'>' {
            return i + 1;
        }
        i += 1;
    }
    b.len()
}

/// Lower-cased tag name at `i` (ASCII alphanumerics), and the index after it.
fn tag_name(b: &[u8], i: usize, buf: &mut Vec<u8>) -> usize {
    buf.clear();
    let mut j = i;
    while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'-' || b[j] == b':') {
        if buf.len() < 16 {
            buf.push(b[j].to_ascii_lowercase());
        }
        j += 1;
    }
    j
}

/// `html` with start tags nested deeper than [`MAX_DEPTH`] removed (and
/// their end tags); borrowed unchanged when nothing is that deep.
pub fn limit_depth(html: &str) -> Cow<'_, str> {
    let b = html.as_bytes();
    // Cheap bound first: fewer tags than the limit cannot nest that deep.
    if b.len() < MAX_DEPTH * 3 {
        return Cow::Borrowed(html);
    }
    let mut depth = 0usize;
    let mut dropped = 0usize;
    // byte ranges to cut
    let mut cuts: Vec<(usize, usize)> = Vec::new();
    let mut name = Vec::with_capacity(16);
    let mut i = 0usize;
    while let Some(lt) = next_lt(html, i) {
        let next = b.get(lt + 1).copied().unwrap_or(0);
        if b[lt..].starts_with(b"<!--") {
            i = comment_end(html, lt + 4).map_or(b.len(), |p| p + 3);
        } else if next == b'!' || next == b'?' {
            i = tag_end(b, lt + 2);
        } else if next == b'/' {
            let after = tag_name(b, lt + 2, &mut name);
            if !name.is_empty() && !is_void_or_optional(&name) && !is_raw_text(&name) {
                if dropped > 0 {
                    dropped -= 1;
                    cuts.push((lt, tag_end(b, after)));
                } else {
                    depth = depth.saturating_sub(1);
                }
            }
            i = after;
        } else if next.is_ascii_alphabetic() {
            // Attributes are not parsed (a `<` inside a quoted value may be
            // miscounted, harmless for a bound); only tags that are cut or
            // open raw text need their exact end.
            let after = tag_name(b, lt + 1, &mut name);
            if is_raw_text(&name) {
                let end = tag_end(b, after);
                i = raw_text_end(html, end, &name).unwrap_or(b.len());
                continue;
            }
            if !is_void_or_optional(&name) {
                if depth >= MAX_DEPTH {
                    dropped += 1;
                    let end = tag_end(b, after);
                    cuts.push((lt, end));
                    i = end;
                    continue;
                }
                depth += 1;
            }
            i = after;
        } else {
            i = lt + 1;
        }
        if i >= b.len() {
            break;
        }
    }
    if cuts.is_empty() {
        return Cow::Borrowed(html);
    }
    let mut out = String::with_capacity(html.len());
    let mut last = 0;
    for (s, e) in cuts {
        // cuts are on ASCII `<` / `>` boundaries, so these are char boundaries
        out.push_str(&html[last..s]);
        last = e;
    }
    out.push_str(&html[last..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shallow_documents_are_untouched() {
        let s = "<html><body><div><p>a<p>b</div><script>if (a<b) {}</script></body></html>";
        assert!(matches!(limit_depth(s), Cow::Borrowed(_)));
    }

    #[test]
    fn deep_documents_are_capped() {
        let n = 5000;
        let s = format!(
            "{}text{}",
            "<div class=\"x>y\">".repeat(n),
            "</div>".repeat(n)
        );
        let out = limit_depth(&s);
        assert_eq!(out.matches("<div").count(), MAX_DEPTH);
        assert_eq!(out.matches("</div>").count(), MAX_DEPTH);
        assert!(out.contains("text"));
    }

    #[test]
    fn many_unclosed_paragraphs_are_not_depth() {
        let s = "<p>x".repeat(3000);
        assert!(matches!(limit_depth(&s), Cow::Borrowed(_)));
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
        ] {
            let _ = limit_depth(&s.repeat(1200));
        }
    }
}
