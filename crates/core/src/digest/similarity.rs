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

/// FNV-1a over the bytes, then the SplitMix64 finaliser.
pub fn word_hash(word: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in word.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    mix(h)
}

/// SplitMix64 finaliser: a bijection with good avalanche.
#[inline]
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Hash of an ordered pair of hashes.
#[inline]
pub(crate) fn pair_hash(a: u64, b: u64) -> u64 {
    mix(a.rotate_left(17) ^ b.wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

/// Word hashes of the key form of `input`, in order.
pub fn word_hashes(input: &str) -> Vec<u64> {
    let key = key_form(input);
    text::tokens(&key).map(|t| word_hash(t.text)).collect()
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
        let end = (i + SHINGLE_WORDS).min(words.len());
        words[i + 1..end]
            .iter()
            .fold(mix(words[i] ^ 0x5851_f42d_4c95_7f2d), |h, &w| {
                pair_hash(h, w)
            })
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

/// SimHash of a sequence of feature hashes (each weighted 1).
pub fn simhash_of(features: impl Iterator<Item = u64>) -> u64 {
    let mut ones = [0u32; 64];
    let mut n = 0u32;
    for h in features {
        n += 1;
        for (bit, count) in ones.iter_mut().enumerate() {
            *count += ((h >> bit) & 1) as u32;
        }
    }
    let mut out = 0u64;
    for (bit, &count) in ones.iter().enumerate() {
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
    let mut v: Vec<u32> = shingles.map(|h| (h >> 32) as u32).collect();
    let keep = SKETCH_SIZE * 2;
    if v.len() > keep {
        // Partial selection first; the extra slots absorb duplicates.
        v.select_nth_unstable(keep - 1);
        let mut head = v[..keep].to_vec();
        head.sort_unstable();
        head.dedup();
        if head.len() >= SKETCH_SIZE {
            head.truncate(SKETCH_SIZE);
            return head;
        }
    }
    v.sort_unstable();
    v.dedup();
    v.truncate(SKETCH_SIZE);
    v
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
