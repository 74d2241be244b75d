//! Vietnamese syllable structure, used to recognise Vietnamese typed without
//! diacritics and to place tone marks (see [`crate::text::canonical_tones`]).
//!
//! Every Vietnamese word of the written language is a single syllable
//! (compounds are written as separate syllables): an optional onset consonant
//! cluster, a vowel nucleus of one to three vowels and an optional final
//! consonant. The check here works on the *folded* letters (diacritics
//! removed, `đ` → `d`, lowercase), so it is accent-insensitive: `chuyen`,
//! `nguoi`, `khong` and `duoc` are syllables just like `chuyển`, `người`,
//! `không` and `được`.
//!
//! Because the check ignores diacritics it also accepts English words that
//! happen to be spelt like a Vietnamese syllable once folded: `an` (ăn),
//! `to` (tô), `do` (đó), `me` (mẹ), `ban` (bạn), `the` (thể, thế), `that`
//! (thật), `not` (nốt)... A single word therefore proves nothing; the useful
//! signal is [`vietnamese_syllable_ratio`] over a text: English prose has many
//! words with consonant clusters, finals such as `-s`, `-d`, `-ll`, letters
//! `f`, `j`, `w`, `z`, and several syllables per word, and scores well below
//! 0.5, while Vietnamese without diacritics scores close to 1.

use crate::text;

/// The longest Vietnamese syllable has 7 letters (`nghiêng`).
pub(crate) const MAX_SYLLABLE_LEN: usize = 7;

/// Structure of a syllable given as folded lowercase ASCII letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Syllable {
    /// End of the onset (`qu` and `gi` count as onsets), start of the nucleus.
    pub onset_end: usize,
    /// End of the vowel nucleus, start of the final consonant.
    pub nucleus_end: usize,
    /// Index of the letter that carries the tone mark (`hòa`, `thủy`, `khỏe`
    /// placement).
    pub tone: usize,
}

/// True if `word` is spelt like a Vietnamese syllable, ignoring diacritics and
/// case: a valid onset (`b c ch d đ g gh gi h k kh l m n ng ngh nh p ph qu r s t
/// th tr v x` or none), a valid vowel nucleus for that onset and a valid final
/// (`c ch m n ng nh p t` or none), respecting the spelling rules (`k`/`gh`/`ngh`
/// only before `e ê i y`, `ch`/`nh` only after `a ê i y`...).
///
/// Accepts `chuyen`, `Nguoi`, `khong`, `duoc`, `chuyển`; rejects `and`,
/// `strength`, `data`, `with`, numbers and words of several syllables. Note
/// that `the` is accepted: it is the folded form of `thể`/`thế`, among the
/// most frequent Vietnamese words (see the module documentation).
///
/// ```
/// use diembao_core::lang::is_vietnamese_syllable;
/// assert!(is_vietnamese_syllable("nguoi") && is_vietnamese_syllable("người"));
/// assert!(!is_vietnamese_syllable("strength"));
/// ```
pub fn is_vietnamese_syllable(word: &str) -> bool {
    let mut buf = [0u8; MAX_SYLLABLE_LEN];
    match fold_letters(word, &mut buf) {
        Some(len) => parse_syllable(&buf[..len]).is_some(),
        None => false,
    }
}

/// Share of the words of `text` (see [`crate::text::tokens`]) that are
/// Vietnamese syllables per [`is_vietnamese_syllable`]. Ignored: words
/// containing a digit, and Latin words without a vowel, which are acronyms in
/// either language (`TP.HCM`, `CSGT`, `THPT`, `Mr`; `UBND` still counts as
/// not Vietnamese). Returns 0.0 when no word
/// is left.
///
/// Intended to recognise Vietnamese without diacritics, which general language
/// detectors mistake for Javanese or Tagalog: a ratio of 0.8 or more over at
/// least 5 words is a strong signal; English prose scores around 0.2–0.4.
pub fn vietnamese_syllable_ratio(text: &str) -> f32 {
    let mut words = 0u32;
    let mut syllables = 0u32;
    for token in text::tokens(text) {
        if token.text.chars().any(char::is_numeric) || is_vowelless_latin(token.text) {
            continue;
        }
        words += 1;
        if is_vietnamese_syllable(token.text) {
            syllables += 1;
        }
    }
    if words == 0 {
        0.0
    } else {
        // Exact for any realistic count; f32 is what callers compare against.
        (f64::from(syllables) / f64::from(words)) as f32
    }
}

/// A word of Latin letters only, none of them a vowel (`UBND`, `HCM`).
fn is_vowelless_latin(word: &str) -> bool {
    word.chars().all(|c| {
        let base = if c.is_ascii() {
            Some(c.to_ascii_lowercase() as u8)
        } else if text::is_combining_diacritic(c) {
            return true;
        } else if matches!(c, 'đ' | 'Đ') {
            Some(b'd')
        } else {
            text::latin_base(c)
        };
        base.is_some_and(|b| b.is_ascii_alphabetic() && !is_vowel(b))
    })
}

/// Folds `word` into lowercase ASCII letters in `buf` (diacritics removed,
/// `đ` → `d`). Returns `None` if the word has a character that is not a
/// (possibly accented) Latin letter or is longer than a syllable can be.
fn fold_letters(word: &str, buf: &mut [u8; MAX_SYLLABLE_LEN]) -> Option<usize> {
    let mut len = 0;
    for c in word.chars() {
        let letter = if c.is_ascii_alphabetic() {
            c.to_ascii_lowercase() as u8
        } else if text::is_combining_diacritic(c) {
            continue;
        } else if matches!(c, 'đ' | 'Đ' | 'ð' | 'Ð') {
            b'd'
        } else {
            text::latin_base(c)?
        };
        *buf.get_mut(len)? = letter;
        len += 1;
    }
    Some(len)
}

fn is_vowel(b: u8) -> bool {
    matches!(b, b'a' | b'e' | b'i' | b'o' | b'u' | b'y')
}

fn is_onset(onset: &[u8]) -> bool {
    matches!(
        onset,
        b"" | b"b"
            | b"c"
            | b"ch"
            | b"d"
            | b"g"
            | b"gh"
            | b"h"
            | b"k"
            | b"kh"
            | b"l"
            | b"m"
            | b"n"
            | b"ng"
            | b"ngh"
            | b"nh"
            | b"p"
            | b"ph"
            | b"r"
            | b"s"
            | b"t"
            | b"th"
            | b"tr"
            | b"v"
            | b"x"
    )
}

fn is_coda(coda: &[u8]) -> bool {
    matches!(
        coda,
        b"" | b"c" | b"ch" | b"m" | b"n" | b"ng" | b"nh" | b"p" | b"t"
    )
}

/// Tone position inside a (folded) vowel nucleus: `(open, closed)` for a
/// syllable without / with a final consonant; `None` where the nucleus does
/// not occur in that kind of syllable. Folded clusters stand for all their
/// accented spellings (`uo` = uô, ươ, uơ), which always take the tone on the
/// same position, so the position does not depend on the quality marks and a
/// misplaced or missing circumflex/horn does not move the tone.
///
/// Open `oa`, `oe`, `uy` take the tone on their first vowel (`hòa`, `khỏe`,
/// `thủy`, `ủy`: the placement the project standardises on), closed ones on the
/// second (`hoàn`, `khoét`, `huýt`), which every convention agrees on.
fn nucleus_tone(nucleus: &[u8]) -> Option<(Option<u8>, Option<u8>)> {
    let both = |i| Some((Some(i), Some(i)));
    let open = |i| Some((Some(i), None));
    let closed = |i| Some((None, Some(i)));
    match nucleus {
        b"a" | b"e" | b"i" | b"o" | b"u" | b"y" => both(0),
        // ai, ao, au/âu, ay/ây, eo, êu, ia, iu, oi/ôi/ơi, ui/ưi, ưu
        b"ai" | b"ao" | b"au" | b"ay" | b"eo" | b"eu" | b"ia" | b"iu" | b"oi" | b"ui" | b"uu" => {
            open(0)
        }
        // ua/ưa open (mua, cửa), uâ closed (tuần); oa, oe, uy open on the
        // first vowel (hòa, khỏe, thủy), closed on the second (hoàn, oẳn, huýt)
        b"oa" | b"oe" | b"ua" | b"uy" => Some((Some(0), Some(1))),
        // uê, uơ/uô/ươ (huế, thuở, muốn, được)
        b"ue" | b"uo" => both(1),
        // iê, yê, oo (xoong, soóc)
        b"ie" | b"ye" | b"oo" => closed(1),
        // iêu, yêu, oai, oay, oeo, uây, uôi/ươi, ươu, uya, uyu
        b"ieu" | b"yeu" | b"oai" | b"oay" | b"oeo" | b"uay" | b"uoi" | b"uou" | b"uya" | b"uyu" => {
            open(1)
        }
        // uyê (chuyển, khuyên)
        b"uye" => closed(2),
        _ => None,
    }
}

/// Parses folded lowercase ASCII letters as one Vietnamese syllable.
pub(crate) fn parse_syllable(w: &[u8]) -> Option<Syllable> {
    if w.len() > MAX_SYLLABLE_LEN {
        return None;
    }
    let v0 = w.iter().position(|&b| is_vowel(b))?;
    let next_is_vowel = |i: usize| w.get(i).is_some_and(|&b| is_vowel(b));
    let (onset, start): (&[u8], usize) = match &w[..v0] {
        // "qu" is an onset: qua, quý, quốc; q never occurs without u (a lone
        // "q" is not in the onset list).
        b"q" if w[v0] == b'u' && next_is_vowel(v0 + 1) && w[v0 + 1] != b'u' => (b"qu", v0 + 1),
        // "gi" before a vowel is an onset (gia, giữ, giường); before a
        // consonant or at the end the i is the vowel (gì, gìn).
        b"g" if w[v0] == b'i' && next_is_vowel(v0 + 1) && w[v0 + 1] != b'i' => (b"gi", v0 + 1),
        onset if is_onset(onset) => (onset, v0),
        _ => return None,
    };
    let end = start + w[start..].iter().take_while(|&&b| is_vowel(b)).count();
    let nucleus = &w[start..end];
    let coda = &w[end..];
    if !is_coda(coda) {
        return None;
    }
    let (open, closed) = nucleus_tone(nucleus)?;
    let index = if coda.is_empty() { open } else { closed }?;

    let first = nucleus[0];
    let last = nucleus[nucleus.len() - 1];
    let front = |b: u8| matches!(b, b'e' | b'i' | b'y');
    let valid = match coda {
        // anh, ach, ênh, ếch, inh, ích, oanh, uynh
        b"ch" | b"nh" => matches!(last, b'a' | b'e' | b'i' | b'y'),
        // no *ic, *ing
        b"c" | b"ng" => !matches!(last, b'i' | b'y'),
        _ => true,
    } && match onset {
        b"k" | b"gh" | b"ngh" => front(first),
        b"c" | b"ng" => !front(first),
        b"g" => !matches!(first, b'e' | b'y'),
        _ => true,
    } && match nucleus {
        // y alone: ý, kỳ, lý, mỹ, sỹ, tỷ, hy, vy, thy, quý; closed only in quýt, quỳnh
        b"y" => {
            matches!(
                onset,
                b"" | b"h" | b"k" | b"l" | b"m" | b"s" | b"t" | b"th" | b"v" | b"qu"
            ) && (coda.is_empty() || onset == b"qu")
        }
        // yê, yêu: yên, yêu, quyết
        b"ye" | b"yeu" => matches!(onset, b"" | b"qu"),
        b"oo" => matches!(coda, b"c" | b"ng"),
        _ => true,
    };
    valid.then_some(Syllable {
        onset_end: start,
        nucleus_end: end,
        tone: start + usize::from(index),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone_of(word: &str) -> Option<usize> {
        parse_syllable(word.as_bytes()).map(|s| s.tone)
    }

    #[test]
    fn accepts_unaccented_vietnamese() {
        for w in [
            "chuyen", "nguoi", "khong", "duoc", "Viet", "Nam", "nghieng", "khuya", "khuyu", "quy",
            "quyt", "Quynh", "quoc", "gi", "gin", "gia", "giuong", "giua", "gieng", "thuy", "hoa",
            "khoe", "uy", "oanh", "xoong", "ruou", "yeu", "yen", "chuyen", "khuech", "hoach",
            "tuan", "thuo", "anh", "ich", "ke", "ghe", "nghe", "di", "ky", "the", "chuyển", "ĐỔI",
            "số", "người",
        ] {
            assert!(is_vietnamese_syllable(w), "{w} should be a syllable");
        }
    }

    #[test]
    fn rejects_non_syllables() {
        for w in [
            "and",
            "strength",
            "data",
            "with",
            "of",
            "is",
            "this",
            "from",
            "have",
            "government",
            "thing",
            "much",
            "ce",
            "ka",
            "ge",
            "ngi",
            "ngha",
            "qa",
            "q",
            "gii",
            "by",
            "yeuu",
            "oo",
            "",
            "1",
            "h5n1",
            "café",
            "ſ",
            "ab",
            "schön",
        ] {
            assert!(!is_vietnamese_syllable(w), "{w} should not be a syllable");
        }
    }

    #[test]
    fn tone_positions() {
        // index of the letter that gets the tone
        assert_eq!(tone_of("hoa"), Some(1)); // hòa
        assert_eq!(tone_of("thuy"), Some(2)); // thủy
        assert_eq!(tone_of("khoe"), Some(2)); // khỏe
        assert_eq!(tone_of("uy"), Some(0)); // ủy
        assert_eq!(tone_of("hoan"), Some(2)); // hoàn
        assert_eq!(tone_of("huyt"), Some(2)); // huýt
        assert_eq!(tone_of("quy"), Some(2)); // quý
        assert_eq!(tone_of("bai"), Some(1)); // bài
        assert_eq!(tone_of("mua"), Some(1)); // múa
        assert_eq!(tone_of("qua"), Some(2)); // quá
        assert_eq!(tone_of("gia"), Some(2)); // già
        assert_eq!(tone_of("gi"), Some(1)); // gì
        assert_eq!(tone_of("nguoi"), Some(3)); // người
        assert_eq!(tone_of("ruou"), Some(2)); // rượu
        assert_eq!(tone_of("chuyen"), Some(4)); // chuyển
        assert_eq!(tone_of("toan"), Some(2)); // toàn
        assert_eq!(tone_of("tuan"), Some(2)); // tuần
        assert_eq!(tone_of("thuo"), Some(3)); // thuở
        assert_eq!(tone_of("khuyu"), Some(3)); // khuỷu
        assert_eq!(tone_of("hieu"), Some(2)); // hiếu
        assert_eq!(tone_of("mia"), Some(1)); // mía
    }

    #[test]
    fn ratio_separates_unaccented_vietnamese_from_english() {
        let vietnamese = [
            "Chinh phu vua cong bo ke hoach chuyen doi so quoc gia den nam 2025.",
            "Theo bao cao cua Bo Thong tin va Truyen thong, nhieu dia phuong da trien khai \
             dich vu cong truc tuyen.",
            "Nguoi dan co the nop ho so qua mang ma khong can den tru so.",
            "Con bao so 3 gay mua lon tai cac tinh mien Trung, nhieu tuyen duong bi ngap.",
            "Gia xang dau tang manh trong tuan qua khien nguoi tieu dung lo lang.",
            "THU TUONG YEU CAU THAO GO VUONG MAC CHO DOANH NGHIEP",
            "Ông Nguyễn Văn Thành, Chủ tịch UBND tỉnh, cho biết sẽ xử lý nghiêm.",
            "Hom nay troi dep qua, minh di choi voi ban be o Ho Tay nhe",
        ];
        for s in vietnamese {
            let r = vietnamese_syllable_ratio(s);
            assert!(r >= 0.9, "{r} for {s}");
        }
        let english = [
            "The government announced a new plan to improve data security on Monday.",
            "According to the report, several provinces have launched online public services.",
            "Heavy rain caused flooding in the central provinces and many roads were closed.",
            "Fuel prices rose sharply last week, worrying consumers across the country.",
            "It is not clear whether the new rules will be enforced before the end of the year.",
            "He said that he did not know who was responsible for the attack on the network.",
            // adversarial: short words only
            "We can do it in an hour if you give me the data and the tools to do it.",
        ];
        let mut total = 0.0;
        for s in english {
            let r = vietnamese_syllable_ratio(s);
            assert!(r < 0.6, "{r} for {s}");
            total += r;
        }
        for s in [
            "Jalan-jalan ke pasar membeli sayur dan buah untuk makan malam bersama keluarga",
            "Ang mga bata ay naglalaro sa labas ng bahay habang umuulan",
        ] {
            let r = vietnamese_syllable_ratio(s);
            assert!(r < 0.4, "{r} for {s}");
        }
        let mean = total / english.len() as f32;
        assert!(mean < 0.45, "mean English ratio {mean}");
        assert_eq!(vietnamese_syllable_ratio("2023 100.000"), 0.0);
        // Acronyms and numbers are ignored, foreign scripts count against.
        assert_eq!(
            vietnamese_syllable_ratio("Sang 15/3, TP.HCM va CSGT da hop"),
            1.0
        );
        assert_eq!(vietnamese_syllable_ratio("Москва chuyen doi"), 2.0 / 3.0);
        assert_eq!(vietnamese_syllable_ratio(""), 0.0);
    }
}
