//! Byte → text decoding for HTML pages.
//!
//! Order: byte-order mark, then the HTTP `Content-Type` charset, then a
//! `<meta charset>` / `<meta http-equiv="Content-Type">` in the first 4 KiB,
//! then `chardetng`. Two sanity checks catch common mislabelling: a legacy
//! label on bytes that are valid, non-ASCII UTF-8 is overridden to UTF-8, and a
//! UTF-8 label on bytes that are clearly not UTF-8 falls back to detection.
//! The decoded text is passed through [`diembao_core::text::clean`] (NFC,
//! `Ð`→`Đ`), which matters for windows-1258 pages whose tone marks decode to
//! combining characters.

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};

/// How many leading bytes are searched for a `<meta>` charset declaration.
pub const META_PRESCAN_BYTES: usize = 4096;

/// How many bytes `chardetng` sees (enough for a confident guess, bounded cost).
const DETECT_BYTES: usize = 64 * 1024;

/// Decode an HTML body to NFC text; returns the text and the encoding used.
pub fn decode_html(body: &[u8], content_type: Option<&str>) -> (String, &'static Encoding) {
    let enc = sniff_encoding(body, content_type);
    let (text, _, _) = enc.decode(body);
    (clean_nfc(&text), enc)
}

/// Pick the encoding of `body` (see the module documentation for the order).
pub fn sniff_encoding(body: &[u8], content_type: Option<&str>) -> &'static Encoding {
    if let Some((enc, _)) = Encoding::for_bom(body) {
        return enc;
    }
    let header = content_type.and_then(charset_from_content_type);
    let meta = meta_charset(&body[..body.len().min(META_PRESCAN_BYTES)]);
    // The header outranks <meta>, but a label contradicted by the bytes is
    // skipped: UTF-8 declared on invalid UTF-8, or a legacy charset declared on
    // valid non-ASCII UTF-8 (a common CMS misconfiguration).
    for declared in [header, meta].into_iter().flatten() {
        if declared == UTF_8 {
            if !looks_like_broken_utf8(body) {
                return UTF_8;
            }
        } else if is_non_ascii_utf8(body) {
            return UTF_8;
        } else {
            return declared;
        }
    }
    detect(body)
}

/// Map a label to an encoding the way browsers do for HTML documents.
fn html_label(label: &str) -> Option<&'static Encoding> {
    let label = label.trim().trim_matches(|c| c == '"' || c == '\'').trim();
    let enc = Encoding::for_label_no_replacement(label.as_bytes())?;
    // A document that could be read as ASCII cannot really be UTF-16;
    // x-user-defined is treated as windows-1252 by browsers.
    if enc == UTF_16BE || enc == UTF_16LE {
        return Some(UTF_8);
    }
    if enc.name() == "x-user-defined" {
        return Some(WINDOWS_1252);
    }
    Some(enc)
}

/// `charset=` parameter of a `Content-Type` value.
pub fn charset_from_content_type(ct: &str) -> Option<&'static Encoding> {
    let lower = ct.to_ascii_lowercase();
    let pos = lower.find("charset")?;
    let rest = lower[pos + "charset".len()..].trim_start();
    let rest = rest.strip_prefix('=')?.trim_start();
    let rest = rest.trim_start_matches(['"', '\'']);
    let end = rest
        .find(|c: char| c == ';' || c == '"' || c == '\'' || c.is_whitespace())
        .unwrap_or(rest.len());
    html_label(&rest[..end])
}

/// Find a charset declared by a `<meta>` element in `head` (ASCII scan).
fn meta_charset(head: &[u8]) -> Option<&'static Encoding> {
    let mut i = 0;
    while i + 5 <= head.len() {
        // find "<meta" case-insensitively
        let Some(off) = find_ci(&head[i..], b"<meta") else {
            break;
        };
        let start = i + off + 5;
        let end = head[start..]
            .iter()
            .position(|&b| b == b'>')
            .map_or(head.len(), |p| start + p);
        let tag = &head[start..end];
        if let Some(enc) = charset_in_meta(tag) {
            return Some(enc);
        }
        i = end.max(start);
    }
    None
}

fn charset_in_meta(tag: &[u8]) -> Option<&'static Encoding> {
    let pos = find_ci(tag, b"charset")?;
    let mut j = pos + 7;
    while j < tag.len() && tag[j].is_ascii_whitespace() {
        j += 1;
    }
    if j >= tag.len() || tag[j] != b'=' {
        return None;
    }
    j += 1;
    while j < tag.len() && (tag[j].is_ascii_whitespace() || tag[j] == b'"' || tag[j] == b'\'') {
        j += 1;
    }
    let start = j;
    while j < tag.len()
        && !tag[j].is_ascii_whitespace()
        && !matches!(tag[j], b'"' | b'\'' | b';' | b'/' | b'>')
    {
        j += 1;
    }
    let label = std::str::from_utf8(&tag[start..j]).ok()?;
    if label.is_empty() {
        return None;
    }
    html_label(label)
}

fn find_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    let first = needle[0].to_ascii_lowercase();
    (0..=hay.len() - needle.len()).find(|&i| {
        hay[i].to_ascii_lowercase() == first
            && hay[i..i + needle.len()].eq_ignore_ascii_case(needle)
    })
}

fn detect(body: &[u8]) -> &'static Encoding {
    // Valid UTF-8 is UTF-8 (what chardetng would answer too, only slower);
    // a sequence cut by truncation at the end does not count against it.
    match std::str::from_utf8(body) {
        Ok(_) => return UTF_8,
        Err(e) if e.error_len().is_none() => return UTF_8,
        Err(_) => {}
    }
    let sample = &body[..body.len().min(DETECT_BYTES)];
    let mut det = chardetng::EncodingDetector::new();
    det.feed(sample, sample.len() == body.len());
    det.guess(None, true)
}

/// Valid UTF-8 that contains multi-byte sequences (so not plain ASCII).
fn is_non_ascii_utf8(body: &[u8]) -> bool {
    let sample = &body[..body.len().min(DETECT_BYTES)];
    if sample.is_ascii() {
        return false;
    }
    match std::str::from_utf8(sample) {
        Ok(_) => true,
        // a sequence cut at the sample boundary is fine
        Err(e) => e.error_len().is_none() && e.valid_up_to() + 4 > sample.len(),
    }
}

/// Declared UTF-8 but the bytes are full of invalid sequences.
fn looks_like_broken_utf8(body: &[u8]) -> bool {
    let sample = &body[..body.len().min(DETECT_BYTES)];
    match std::str::from_utf8(sample) {
        Ok(_) => return false,
        Err(e) if e.error_len().is_none() => return false,
        Err(_) => {}
    }
    let mut rest = sample;
    let mut errors = 0usize;
    let mut non_ascii = 0usize;
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                non_ascii += s.bytes().filter(|b| !b.is_ascii()).count();
                break;
            }
            Err(e) => {
                let (ok, bad) = rest.split_at(e.valid_up_to());
                non_ascii += ok.iter().filter(|b| !b.is_ascii()).count();
                match e.error_len() {
                    Some(n) => {
                        errors += 1;
                        non_ascii += n;
                        rest = &bad[n..];
                    }
                    None => break,
                }
            }
        }
    }
    errors >= 4 && errors * 4 >= non_ascii / 2
}

/// [`diembao_core::text::clean`] (NFC, `Ð`→`Đ`, control characters other
/// than `\n`/`\t` removed), skipped for pure-ASCII text where it is the
/// identity up to control characters the HTML parser ignores anyway.
pub(crate) fn clean_nfc(text: &str) -> String {
    if text.is_ascii() {
        text.to_string()
    } else {
        diembao_core::text::clean(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bom_wins() {
        let mut b = vec![0xEF, 0xBB, 0xBF];
        b.extend_from_slice("<meta charset=windows-1252>Việt".as_bytes());
        let (s, e) = decode_html(&b, Some("text/html; charset=iso-8859-1"));
        assert_eq!(e, UTF_8);
        assert!(s.contains("Việt"));
    }

    /// Windows-1258 bytes for a small set of Vietnamese letters: base letter
    /// from the code page plus a combining tone mark byte.
    fn w1258(s: &str) -> Vec<u8> {
        const TONES: [(char, char, u8); 12] = [
            ('ờ', 'ơ', 0xCC),
            ('ợ', 'ơ', 0xF2),
            ('ớ', 'ơ', 0xEC),
            ('ẫ', 'â', 0xDE),
            ('ộ', 'ô', 0xF2),
            ('ồ', 'ô', 0xCC),
            ('ự', 'ư', 0xF2),
            ('ế', 'ê', 0xEC),
            ('ạ', 'a', 0xF2),
            ('ố', 'ô', 0xEC),
            ('ỉ', 'i', 0xD2),
            ('ậ', 'â', 0xF2),
        ];
        let mut out = Vec::new();
        for c in s.chars() {
            let (base, tone) = TONES
                .iter()
                .find(|t| t.0 == c)
                .map_or((c, None), |t| (t.1, Some(t.2)));
            let mut buf = [0u8; 4];
            let (bytes, _, unmappable) =
                encoding_rs::WINDOWS_1258.encode(base.encode_utf8(&mut buf));
            assert!(!unmappable, "{base}");
            out.extend_from_slice(&bytes);
            out.extend(tone);
        }
        out
    }

    #[test]
    fn header_charset() {
        let bytes = w1258("<p>Thành phố</p>");
        let (s, e) = decode_html(&bytes, Some("text/html; charset=windows-1258"));
        assert_eq!(e.name(), "windows-1258");
        assert!(s.contains("Thành phố"), "{s}");
    }

    #[test]
    fn windows_1258_meta_decodes_to_nfc() {
        // "Thời báo" with the tone marks as combining characters, as
        // windows-1258 stores them: ờ = ơ (0xF5) + combining grave (0xCC),
        // á = a + combining acute (0xEC).
        let mut b = b"<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1258\"></head><body>Th".to_vec();
        b.extend_from_slice(&[0xF5, 0xCC]);
        b.extend_from_slice(b"i ba");
        b.extend_from_slice(&[0xEC]);
        b.extend_from_slice(b"o</body></html>");
        let (s, e) = decode_html(&b, Some("text/html"));
        assert_eq!(e.name(), "windows-1258");
        assert!(s.contains("Thời báo"), "{s:?}");
        assert!(!s.contains('\u{0300}') && !s.contains('\u{0301}'));
    }

    #[test]
    fn meta_charset_short_form() {
        let html = b"<!doctype html><meta charset='iso-8859-1'><p>caf\xe9</p>";
        let (s, e) = decode_html(html, None);
        assert_eq!(e, WINDOWS_1252);
        assert!(s.contains("café"));
    }

    #[test]
    fn wrong_legacy_label_on_utf8_bytes() {
        let html = "<meta charset=iso-8859-1><p>Hồ sơ trực tuyến</p>".as_bytes();
        let (s, e) = decode_html(html, None);
        assert_eq!(e, UTF_8);
        assert!(s.contains("Hồ sơ trực tuyến"));
    }

    #[test]
    fn wrong_utf8_label_on_legacy_bytes() {
        let (bytes, _, _) = encoding_rs::WINDOWS_1252
            .encode("<p>café crème brûlée à la française, déjà vu, naïveté, façade, résumé</p>");
        let (s, _) = decode_html(&bytes, Some("text/html; charset=utf-8"));
        assert!(s.contains("café"), "{s}");
    }

    #[test]
    fn undeclared_is_detected() {
        let text = "<p>Người dân được hướng dẫn nộp hồ sơ trực tuyến tại Trung tâm. ".repeat(8);
        let bytes = w1258(&text);
        let (s, _) = decode_html(&bytes, None);
        assert!(s.contains("hướng dẫn"), "{s}");
    }

    #[test]
    fn nfd_input_becomes_nfc_and_keeps_newlines() {
        let s = clean_nfc("Ho\u{0300}a\nb\tc\u{00D0}");
        assert_eq!(s, "Hòa\nb\tcĐ");
        let (s, _) = decode_html("<p>Ho\u{0300}a\r\nbi\u{0300}nh</p>".as_bytes(), None);
        assert_eq!(s, "<p>Hòa\nbình</p>");
    }

    #[test]
    fn broken_utf8_header_falls_back_to_meta() {
        let mut b =
            b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1258\"><p>"
                .to_vec();
        b.extend(w1258("Người dân được hướng dẫn nộp hồ sơ trực tuyến ").repeat(3));
        let (s, e) = decode_html(&b, Some("text/html; charset=utf-8"));
        assert_eq!(e.name(), "windows-1258");
        assert!(s.contains("hướng dẫn"), "{s}");
    }

    #[test]
    fn utf16_label_means_utf8() {
        let (s, e) = decode_html("<meta charset=utf-16><p>ế</p>".as_bytes(), None);
        assert_eq!(e, UTF_8);
        assert!(s.contains('ế'));
    }
}
