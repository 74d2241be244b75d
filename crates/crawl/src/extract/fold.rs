//! Diacritic folding for matching (not for output): `Tháng` → `thang`,
//! `Đ` → `d`. Covers Vietnamese and the Latin-1 / Latin Extended-A letters.

/// Base letters of U+1EA0..=U+1EF9 (Vietnamese block), one per upper/lower pair.
const VI_BLOCK: &[u8; 45] = b"aaaaaaaaaaaaeeeeeeeeiioooooooooooouuuuuuuyyyy";

/// Lower-case, diacritic-free form of `c`; `None` for combining marks and
/// zero-width characters (they are dropped).
#[inline]
pub(crate) fn fold_char(c: char) -> Option<char> {
    let u = c as u32;
    if u < 0x80 {
        return Some(c.to_ascii_lowercase());
    }
    match u {
        0x0300..=0x036F | 0x200B..=0x200D | 0xFEFF | 0x00AD => None,
        0x00A0 | 0x2000..=0x200A | 0x202F | 0x205F | 0x3000 => Some(' '),
        0x00C0..=0x00C5 | 0x00E0..=0x00E5 => Some('a'),
        0x00C7 | 0x00E7 => Some('c'),
        0x00C8..=0x00CB | 0x00E8..=0x00EB => Some('e'),
        0x00CC..=0x00CF | 0x00EC..=0x00EF => Some('i'),
        0x00D0 | 0x00F0 | 0x0110 | 0x0111 => Some('d'),
        0x00D1 | 0x00F1 => Some('n'),
        0x00D2..=0x00D6 | 0x00D8 | 0x00F2..=0x00F6 | 0x00F8 | 0x01A0 | 0x01A1 => Some('o'),
        0x00D9..=0x00DC | 0x00F9..=0x00FC | 0x0168 | 0x0169 | 0x01AF | 0x01B0 => Some('u'),
        0x00DD | 0x00FD | 0x00FF => Some('y'),
        0x0100..=0x0105 => Some('a'),
        0x0128 | 0x0129 => Some('i'),
        0x1EA0..=0x1EF9 => Some(VI_BLOCK[((u - 0x1EA0) / 2) as usize] as char),
        0x2013 | 0x2014 | 0x2212 => Some('-'),
        0x2018 | 0x2019 => Some('\''),
        0x201C | 0x201D => Some('"'),
        _ => Some(c.to_lowercase().next().unwrap_or(c)),
    }
}

/// Folded copy of `s` (see [`fold_char`]).
pub(crate) fn fold(s: &str) -> String {
    s.chars().filter_map(fold_char).collect()
}

/// Folded copy with only letters and digits kept (spaces, punctuation dropped):
/// `Báo Biển Xanh` → `baobienxanh`.
pub(crate) fn fold_alnum(s: &str) -> String {
    s.chars()
        .filter_map(fold_char)
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// Folded, white-space-collapsed, trimmed; punctuation kept.
pub(crate) fn fold_words(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars().filter_map(fold_char) {
        if c.is_whitespace() {
            space = !out.is_empty();
        } else {
            if space {
                out.push(' ');
                space = false;
            }
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_vietnamese() {
        assert_eq!(fold("NGÀY 13 THÁNG 3"), "ngay 13 thang 3");
        assert_eq!(
            fold("Thứ Hai, Đà Nẵng, Uỷ ban, qúy"),
            "thu hai, da nang, uy ban, quy"
        );
        assert_eq!(fold("Ho\u{0300}a"), "hoa");
        assert_eq!(fold_alnum("Báo Biển Xanh"), "baobienxanh");
        assert_eq!(
            fold("ỹ Ỹ ạ Ạ ặ ẹ ệ ỉ ị ọ ợ ụ ự ỳ"),
            "y y a a a e e i i o o u u y"
        );
    }
}
