//! Text signatures for story grouping: word shingles, SimHash, bottom-k
//! (MinHash) sketches and syllable-bigram term vectors.
//!
//! All of them work on the *key form* of a text: [`crate::text::fold`] then
//! lower case, split with [`crate::text::tokens`], so `Hoà`, `hòa`, `HOA` and
//! the NFD spellings are the same word. Each word is hashed to a `u64`
//! ([`word_hash`]); shingles and bigrams are hashes of hash sequences.

use crate::text;

/// Words per shingle in [`simhash`] and [`shingles`].
pub const SHINGLE_WORDS: usize = 3;

/// Size of the bottom-k sketch (the `k` smallest shingle hashes).
pub const SKETCH_SIZE: usize = 64;

/// The key form of a text: folded (no diacritics, `đ` → `d`) and lower case.
pub fn key_form(input: &str) -> String {
    let mut folded = text::fold(input);
    if folded.is_ascii() {
        folded.make_ascii_lowercase();
        folded
    } else {
        text::lower(&folded)
    }
}

/// Hash of a word (of its bytes as given; [`word_hashes`] gives the key
/// form's): bytes taken eight at a time, then the SplitMix64 finaliser.
pub fn word_hash(word: &str) -> u64 {
    let mut h = WordHasher::new();
    for b in word.bytes() {
        h.push(b);
    }
    h.finish()
}

/// Incremental [`word_hash`].
#[derive(Clone, Copy)]
struct WordHasher {
    h: u64,
    chunk: u64,
    shift: u32,
}

impl WordHasher {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;

    #[inline]
    const fn new() -> Self {
        Self {
            h: 0x243f_6a88_85a3_08d3,
            chunk: 0,
            shift: 0,
        }
    }

    #[inline]
    fn push(&mut self, b: u8) {
        self.chunk |= u64::from(b) << self.shift;
        self.shift += 8;
        if self.shift == 64 {
            self.h = (self.h ^ self.chunk).wrapping_mul(Self::K).rotate_left(29);
            self.chunk = 0;
            self.shift = 0;
        }
    }

    #[inline]
    fn finish(self) -> u64 {
        mix((self.h ^ self.chunk).wrapping_mul(Self::K) ^ u64::from(self.shift))
    }
}

/// SplitMix64 finaliser: a bijection with good avalanche.
#[inline]
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Hash of an ordered pair of word hashes (already well mixed: one
/// multiplication suffices; take the upper bits).
#[inline]
pub(crate) fn pair_hash(a: u64, b: u64) -> u64 {
    (a.rotate_left(23) ^ b).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// Word hashes of the key form of `input`, in order.
pub fn word_hashes(input: &str) -> Vec<u64> {
    let mut out = Vec::new();
    word_hashes_into(input, &mut out, usize::MAX);
    out
}

/// Replaces `out` with the hashes of the first `limit` words of the key
/// form of `input`: [`word_hash`] of each token of `text::tokens(&key_form(input))`.
///
/// Text made of ASCII and precomposed Latin letters (Vietnamese in NFC) is
/// read in one pass without building the folded string; anything else (NFD
/// marks, other scripts, control characters) takes that exact definition.
pub fn word_hashes_into(input: &str, out: &mut Vec<u64>, limit: usize) {
    out.clear();
    if !fast_word_hashes(input, out, limit) {
        out.clear();
        let key = key_form(input);
        out.extend(text::tokens(&key).take(limit).map(|t| word_hash(t.text)));
    }
}

/// Table entry: the folded lower-case ASCII byte of a character, or one of
/// these.
const SEPARATOR: u8 = 0;
const SLOW: u8 = 0xFF;
/// Code points covered by the table: Latin-1 Supplement, Latin Extended-A
/// and -B, and Latin Extended Additional (precomposed Vietnamese).
const TABLE_LOW: u32 = 0x250;
const TABLE_ADDITIONAL: std::ops::Range<u32> = 0x1E00..0x1F00;

fn classify_slowly(c: char) -> u8 {
    if c.is_ascii() {
        return match c {
            'a'..='z' | '0'..='9' => c as u8,
            'A'..='Z' => c.to_ascii_lowercase() as u8,
            '\n' | '\t' | '\r' => SEPARATOR,
            // `text::clean` drops other control characters without
            // splitting the word.
            c if c.is_ascii_control() => SLOW,
            _ => SEPARATOR,
        };
    }
    if c == '\u{00AD}' || c.is_control() {
        // Dropped by `text::clean` without splitting the word.
        return SLOW;
    }
    if !c.is_alphanumeric() {
        return SEPARATOR;
    }
    let key = key_form(c.encode_utf8(&mut [0; 4]));
    match key.as_bytes() {
        [b] if b.is_ascii_alphanumeric() => *b,
        _ => SLOW,
    }
}

fn char_table() -> &'static [u8] {
    static TABLE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        (0..TABLE_LOW)
            .chain(TABLE_ADDITIONAL)
            .map(|cp| char::from_u32(cp).map_or(SLOW, classify_slowly))
            .collect()
    })
}

#[inline]
fn classify(table: &[u8], c: char) -> u8 {
    let cp = c as u32;
    if cp < TABLE_LOW {
        table[cp as usize]
    } else if TABLE_ADDITIONAL.contains(&cp) {
        table[(TABLE_LOW + cp - TABLE_ADDITIONAL.start) as usize]
    } else if c.is_alphanumeric()
        || c.is_control()
        || is_combining_diacritic(c)
        || c == '\u{FEFF}'
        || ('\u{1100}'..='\u{11FF}').contains(&c)
    {
        SLOW
    } else {
        SEPARATOR
    }
}

fn is_combining_diacritic(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}' | '\u{20D0}'..='\u{20FF}' | '\u{FE20}'..='\u{FE2F}')
}

/// Class and byte length of the character at `bytes[i]` (`bytes` is valid
/// UTF-8: the sequence is decoded by hand).
#[inline(always)]
fn class_at(bytes: &[u8], i: usize, table: &[u8]) -> (u8, usize) {
    let b = bytes[i];
    if b < 0x80 {
        return (table[b as usize], 1);
    }
    let cont = |k: usize| bytes.get(i + k).map_or(0, |&c| u32::from(c & 0x3F));
    let (cp, width) = if b < 0xE0 {
        ((u32::from(b & 0x1F) << 6) | cont(1), 2)
    } else if b < 0xF0 {
        ((u32::from(b & 0x0F) << 12) | (cont(1) << 6) | cont(2), 3)
    } else {
        (
            (u32::from(b & 0x07) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3),
            4,
        )
    };
    let class = if cp < TABLE_LOW {
        table[cp as usize]
    } else if TABLE_ADDITIONAL.contains(&cp) {
        table[(TABLE_LOW + cp - TABLE_ADDITIONAL.start) as usize]
    } else {
        char::from_u32(cp).map_or(SLOW, |c| classify(table, c))
    };
    (class, width)
}

/// The one-pass path of [`word_hashes_into`]; `false` when the text needs
/// the exact one.
fn fast_word_hashes(input: &str, out: &mut Vec<u64>, limit: usize) -> bool {
    let table = char_table();
    let bytes = input.as_bytes();
    let n = bytes.len();
    let mut i = 0;
    while out.len() < limit {
        // Separators.
        let (mut class, mut width) = loop {
            if i >= n {
                return true;
            }
            let (class, width) = class_at(bytes, i, table);
            match class {
                SLOW => return false,
                SEPARATOR => i += width,
                _ => break (class, width),
            }
        };
        // A word: letters and digits, and `.` or `,` between two ASCII digits.
        let mut h = WordHasher::new();
        loop {
            h.push(class);
            let digit = class.is_ascii_digit();
            i += width;
            if i >= n {
                break;
            }
            (class, width) = class_at(bytes, i, table);
            if class == SEPARATOR {
                let joins = digit
                    && matches!(bytes[i], b'.' | b',')
                    && bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
                if !joins {
                    break;
                }
                h.push(bytes[i]);
                i += 1;
                (class, width) = (bytes[i], 1);
            } else if class == SLOW {
                return false;
            }
        }
        out.push(h.finish());
    }
    true
}

/// Hashes of the 3-word shingles of a word-hash sequence, in order (a text
/// of one or two words has one shingle of all its words; an empty text none).
pub fn shingle_hashes(words: &[u64]) -> impl Iterator<Item = u64> + '_ {
    let n = if words.len() >= SHINGLE_WORDS {
        words.len() - SHINGLE_WORDS + 1
    } else {
        usize::from(!words.is_empty())
    };
    (0..n).map(move |i| {
        // Rotations keep the order of the (well mixed) word hashes.
        let end = (i + SHINGLE_WORDS).min(words.len());
        let combined = words[i..end]
            .iter()
            .enumerate()
            .fold(0x5851_f42d_4c95_7f2d, |h: u64, (k, &w)| {
                h ^ w.rotate_left(21 * k as u32)
            });
        mix(combined)
    })
}

/// The distinct 3-word shingles of a text, as sorted hashes.
pub fn shingles(input: &str) -> Vec<u64> {
    let words = word_hashes(input);
    let mut s: Vec<u64> = shingle_hashes(&words).collect();
    s.sort_unstable();
    s.dedup();
    s
}

/// Jaccard similarity of two sorted, deduplicated sets (1 when both are empty).
pub fn jaccard(a: &[u64], b: &[u64]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let common = sorted_intersection_len(a, b);
    common as f64 / (a.len() + b.len() - common) as f64
}

fn sorted_intersection_len<T: Ord>(a: &[T], b: &[T]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

/// 64-bit SimHash (Charikar) of the 3-word shingles of `input`'s key form,
/// each shingle weighted 1. Texts that differ in a few words differ in a few
/// bits: compare with [`hamming`]. An empty text hashes to 0.
///
/// ```
/// use diembao_core::digest::{hamming, simhash};
/// let a = simhash("Hồ sơ trực tuyến toàn trình tăng gấp ba sau hai tháng đầu năm");
/// let b = simhash("HỒ SƠ TRỰC TUYẾN TOÀN TRÌNH tăng gấp ba sau hai tháng đầu năm");
/// assert_eq!(hamming(a, b), 0);
/// ```
pub fn simhash(input: &str) -> u64 {
    simhash_of(shingle_hashes(&word_hashes(input)))
}

/// Byte `i` of `LANES[v]` is bit `i` of `v`: adding `LANES[byte]` counts
/// eight bits at once in eight byte-wide counters.
const LANES: [u64; 256] = {
    let mut t = [0u64; 256];
    let mut v = 0;
    while v < 256 {
        let mut i = 0;
        while i < 8 {
            if v >> i & 1 == 1 {
                t[v] |= 1 << (8 * i);
            }
            i += 1;
        }
        v += 1;
    }
    t
};

/// SimHash of a sequence of feature hashes (each weighted 1): bit `i` is
/// set when more than half of the hashes have it.
pub fn simhash_of(features: impl Iterator<Item = u64>) -> u64 {
    fn flush(lanes: &mut [u64; 8], totals: &mut [u32; 64]) {
        for (k, lane) in lanes.iter_mut().enumerate() {
            for i in 0..8 {
                totals[8 * k + i] += ((*lane >> (8 * i)) & 0xff) as u32;
            }
            *lane = 0;
        }
    }
    let mut totals = [0u32; 64];
    let mut lanes = [0u64; 8];
    let mut n = 0u32;
    let mut pending = 0;
    for h in features {
        for (k, lane) in lanes.iter_mut().enumerate() {
            *lane += LANES[((h >> (8 * k)) & 0xff) as usize];
        }
        n += 1;
        pending += 1;
        if pending == 255 {
            flush(&mut lanes, &mut totals);
            pending = 0;
        }
    }
    flush(&mut lanes, &mut totals);
    let mut out = 0u64;
    for (bit, &count) in totals.iter().enumerate() {
        if 2 * count > n {
            out |= 1 << bit;
        }
    }
    out
}

/// Number of differing bits.
pub fn hamming(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

/// Bottom-k sketch: the [`SKETCH_SIZE`] smallest distinct values of the
/// upper 32 bits of the shingle hashes, ascending. Two sketches estimate the
/// Jaccard similarity of the full shingle sets ([`sketch_jaccard`]); for
/// texts with fewer shingles than the sketch size the sketch is the whole
/// set and the estimate exact (up to 32-bit collisions).
pub fn bottom_k(shingles: impl Iterator<Item = u64>) -> Vec<u32> {
    let hashes: Vec<u64> = shingles.collect();
    let mut out = Vec::new();
    bottom_k_into(&hashes, &mut Vec::new(), &mut out);
    out
}

/// [`bottom_k`] of `shingles`, appended to `out`, with a reusable buffer.
pub fn bottom_k_into(shingles: &[u64], scratch: &mut Vec<u32>, out: &mut Vec<u32>) {
    scratch.clear();
    scratch.extend(shingles.iter().map(|&h| (h >> 32) as u32));
    let keep = SKETCH_SIZE + SKETCH_SIZE / 4;
    if scratch.len() > keep {
        // Partial selection first; the extra slots absorb duplicates.
        scratch.select_nth_unstable(keep - 1);
        let head = &mut scratch[..keep];
        head.sort_unstable();
        let before = out.len();
        for &v in head.iter() {
            if out.len() > before && out.last() == Some(&v) {
                continue;
            }
            out.push(v);
            if out.len() - before == SKETCH_SIZE {
                return;
            }
        }
        // Very repetitive text: fewer distinct values than the sketch
        // among the smallest; redo with all of them.
        out.truncate(before);
    }
    scratch.sort_unstable();
    scratch.dedup();
    scratch.truncate(SKETCH_SIZE);
    out.extend_from_slice(scratch);
}

/// Jaccard estimate from two bottom-k sketches: of the `k` smallest values
/// of their union, the share found in both.
pub fn sketch_jaccard(a: &[u32], b: &[u32]) -> f64 {
    let k = SKETCH_SIZE.min(a.len().max(b.len())).max(1);
    let (mut i, mut j, mut taken, mut both) = (0, 0, 0, 0);
    while taken < k && (i < a.len() || j < b.len()) {
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x == y => {
                both += 1;
                i += 1;
                j += 1;
            }
            (Some(x), Some(y)) if x < y => i += 1,
            (Some(_), Some(_)) => j += 1,
            (Some(_), None) => i += 1,
            (None, _) => j += 1,
        }
        taken += 1;
    }
    if taken == 0 {
        return 0.0;
    }
    f64::from(both) / taken as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simhash_is_form_insensitive_and_close_for_small_edits() {
        let a = "Sáng 16/3, nhà mạng Sao Việt chính thức đưa vào hoạt động 12 trạm phát sóng 5G tại khu vực trung tâm thành phố Phan Rang – Tháp Chàm, tốc độ tải xuống trung bình đạt khoảng 800 Mbps, có thời điểm vượt 1 Gbps.";
        let nfd: String = unicode_normalization::UnicodeNormalization::nfd(a).collect();
        assert_eq!(simhash(a), simhash(&nfd));
        assert_eq!(simhash(a), simhash(&a.to_uppercase()));
        let edited = a.replace("khoảng 800", "gần 800");
        assert!(hamming(simhash(a), simhash(&edited)) <= 12);
        let other = "Hàng trăm đoàn viên thanh niên ra quân làm sạch bờ biển Ninh Chữ, thu gom hơn 3 tấn rác thải nhựa.";
        assert!(hamming(simhash(a), simhash(other)) > 12);
        assert_eq!(simhash(""), 0);
        assert_eq!(hamming(0, u64::MAX), 64);
    }

    fn slow_word_hashes(input: &str) -> Vec<u64> {
        let key = key_form(input);
        text::tokens(&key).map(|t| word_hash(t.text)).collect()
    }

    #[test]
    fn fast_word_hashes_equal_the_definition() {
        for s in [
            "Chuyển đổi số: 1.500 người, 3,5 tỷ; TP.HCM – Đà Nẵng “Hoà” QÚY",
            "Ðà (eth) soft\u{AD}hyphen a\u{1}b ctrl\r\nline 1. 2 x.5 5. ,5 1,,2 12/3/2023",
            "façade øre ß straße 東京 서울 Ωmega",
            "Hoa\u{0300} NFD",
            "\u{FEFF}bom",
            "",
            "…   ",
        ] {
            assert_eq!(word_hashes(s), slow_word_hashes(s), "{s:?}");
        }
        let mut limited = Vec::new();
        word_hashes_into("một hai ba bốn", &mut limited, 2);
        assert_eq!(limited, slow_word_hashes("một hai")[..]);
        // Every character of the table behaves like the definition.
        for cp in (0..0x250u32).chain(0x1E00..0x1F00) {
            let Some(c) = char::from_u32(cp) else {
                continue;
            };
            let s = format!("ab{c}cd 1{c}2 {c}");
            assert_eq!(word_hashes(&s), slow_word_hashes(&s), "U+{cp:04X}");
        }
    }

    #[test]
    fn simhash_matches_a_plain_count() {
        let features: Vec<u64> = (0..1000u64).map(|i| mix(i % 300)).collect();
        let mut ones = [0u32; 64];
        for h in &features {
            for (bit, c) in ones.iter_mut().enumerate() {
                *c += (h >> bit & 1) as u32;
            }
        }
        let expected = ones
            .iter()
            .enumerate()
            .filter(|&(_, &c)| 2 * c > 1000)
            .fold(0u64, |acc, (bit, _)| acc | 1 << bit);
        assert_eq!(simhash_of(features.iter().copied()), expected);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 512,
            failure_persistence: None,
            ..proptest::prelude::ProptestConfig::default()
        })]

        #[test]
        fn fast_word_hashes_equal_the_definition_any(s in proptest::prelude::any::<String>()) {
            proptest::prop_assert_eq!(word_hashes(&s), slow_word_hashes(&s));
        }

        #[test]
        fn fast_word_hashes_equal_the_definition_vi(s in "[a-zA-Z0-9àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵĐÀÁẢÃẠ .,;:!?–“”…\n\u{AD}\u{300}\u{301}]{0,60}") {
            proptest::prop_assert_eq!(word_hashes(&s), slow_word_hashes(&s));
        }
    }

    #[test]
    fn shingles_and_jaccard() {
        assert_eq!(shingles("a b c d").len(), 2);
        assert_eq!(shingles("a b").len(), 1);
        assert!(shingles("").is_empty());
        let a = shingles("một hai ba bốn năm sáu");
        let b = shingles("MỘT HAI BA BỐN năm bảy");
        assert_eq!(a.len(), 4);
        assert!((jaccard(&a, &b) - 3.0 / 5.0).abs() < 1e-9);
        assert!((jaccard(&a, &a) - 1.0).abs() < 1e-9);
        let long_a: String = (0..500).map(|i| format!("w{i} ")).collect();
        let long_b: String = (250..750).map(|i| format!("w{i} ")).collect();
        let sa = bottom_k(shingles(&long_a).into_iter());
        let sb = bottom_k(shingles(&long_b).into_iter());
        assert_eq!(sa.len(), SKETCH_SIZE);
        let est = sketch_jaccard(&sa, &sb);
        let exact = jaccard(&shingles(&long_a), &shingles(&long_b));
        assert!((est - exact).abs() < 0.2, "{est} vs {exact}");
        assert!((sketch_jaccard(&sa, &sa) - 1.0).abs() < 1e-9);
    }
}
