//! Vietnamese text normalisation, folding and tokenisation.
//!
//! Pure functions, no I/O. They run on every document, query and rule, so
//! they work a word at a time with fixed-size buffers, allocate little beyond
//! the output string and return quickly on text that needs no change.
//!
//! Three forms of a text (background: the project notes on Vietnamese text):
//!
//! | form | function | example |
//! |------|----------|---------|
//! | display | [`clean`] | `Hoà bình` (tone placement as printed) |
//! | canonical | [`canonical_tones`] | `Hòa bình` (one placement per syllable) |
//! | folded | [`fold`] | `Hoa binh` (no diacritics, `đ` → `d`) |
//!
//! Documents, queries and rules must all go through the same function before
//! they are compared: [`analysis_key`] gives the accented and folded keys of a
//! single token, [`tokens`] splits a text into words with positions that do
//! not let a phrase match across a sentence end.
//!
//! Canonical tone placement is the one underthesea normalises to: `hòa`,
//! `khỏe`, `thủy`, `ủy` (not `hoà`, `khoẻ`, `thuỷ`, `uỷ`); see
//! [`canonical_tones`].

use std::borrow::Cow;

use unicode_normalization::char::{compose, decompose_canonical};
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

use crate::lang;

/// The five Vietnamese tone marks as combining characters: grave (huyền),
/// acute (sắc), tilde (ngã), hook above (hỏi), dot below (nặng).
const TONE_MARKS: [char; 5] = ['\u{0300}', '\u{0301}', '\u{0303}', '\u{0309}', '\u{0323}'];
const DOT_BELOW: char = '\u{0323}';
/// Vowel-quality marks: circumflex (â ê ô), breve (ă), horn (ơ ư).
const CIRCUMFLEX: char = '\u{0302}';
const BREVE: char = '\u{0306}';
const HORN: char = '\u{031B}';

/// Position increment at a sentence end in [`tokens`], instead of 1.
///
/// A phrase or proximity query (slop below `SENTENCE_GAP - 1`) built on these
/// positions cannot match words on both sides of a sentence end: in
/// `"... an toàn. Thông tin ..."` the words `toàn` and `thông` are 1000
/// positions apart, not 1. `u32` positions allow about four million sentences
/// per document; beyond that positions saturate at `u32::MAX`.
pub const SENTENCE_GAP: u32 = 1000;

/// Words after which a `.` does not end the sentence (`TP. Hồ Chí Minh`,
/// `Q. 1`, `PGS. TS. Nguyễn Văn A`). Compared case-sensitively.
const ABBREVIATIONS: [&str; 17] = [
    "TP", "Tp", "TX", "TT", "Q", "P", "GS", "PGS", "TS", "ThS", "BS", "KS", "Mr", "Mrs", "Ms",
    "Dr", "St",
];

// ---------------------------------------------------------------------------
// clean

/// Display form of a text: `Ð`/`ð` (U+00D0/U+00F0, Icelandic eth) mapped to
/// `Đ`/`đ` (U+0110/U+0111), control characters removed except `\n` and `\t`
/// (`\r\n` and a lone `\r` become `\n`), soft hyphens (U+00AD) and byte-order
/// marks (U+FEFF) removed, then NFC.
///
/// Decomposed text (NFD) and windows-1258 output (a precomposed vowel followed
/// by a combining tone mark) both come out NFC, so they compare equal to text
/// typed precomposed. Tone-mark placement is kept as printed (`hoà` stays
/// `hoà`); see [`canonical_tones`] for comparisons. Idempotent.
///
/// ```
/// use diembao_core::text::clean;
/// // NFD, eth, windows-1258 (precomposed ă + combining tilde), CRLF
/// let input = "Hoa\u{0300} \u{00D0}a\u{0300} N\u{0103}\u{0303}ng\r\n";
/// assert_eq!(clean(input), "Hoà Đà Nẵng\n");
/// ```
pub fn clean(input: &str) -> String {
    clean_cow(input).into_owned()
}

/// Characters [`clean`] removes or replaces.
fn needs_filter(c: char) -> bool {
    matches!(c, '\u{00D0}' | '\u{00F0}' | '\u{00AD}' | '\u{FEFF}' | '\r')
        || (c.is_control() && c != '\n' && c != '\t')
}

/// An ASCII byte [`clean`] removes: a control character but `\n` and `\t` (see
/// [`needs_filter`]).
const fn filtered_ascii(b: u8) -> bool {
    b.is_ascii_control() && b != b'\n' && b != b'\t'
}

/// A character [`clean`] leaves as it is in any context, found without the normalisation
/// tables: neither filtered nor replaced, and [`nfc_stable`].
fn plain_char(c: char) -> bool {
    !needs_filter(c) && nfc_stable(c)
}

/// Characters that are NFC in any context: canonical combining class 0, and never the
/// second part of a canonical composition (so nothing before them composes with them).
/// Basic Latin to the spacing modifier letters, the precomposed Latin and Vietnamese
/// letters (Latin Extended Additional) and general punctuation but its two singletons
/// (checked against the Unicode data for every code point of the ranges). Text made of
/// them is NFC without a look-up in the normalisation tables.
fn nfc_stable(c: char) -> bool {
    matches!(c, '\0'..='\u{02FF}' | '\u{1E00}'..='\u{1EFF}' | '\u{2002}'..='\u{206F}')
}

/// [`clean`] without an allocation when the input is already clean.
pub fn clean_cow(input: &str) -> Cow<'_, str> {
    // One pass over the characters; the normalisation tables are consulted only when a
    // character outside the common ranges appears (a combining mark, say).
    let mut stable = true;
    let mut filter = false;
    let bytes = input.as_bytes();
    let mut at = 0;
    while let Some(&b) = bytes.get(at) {
        // ASCII (most bytes of Vietnamese text) is NFC-stable; only its controls but
        // `\n` and `\t` are filtered.
        if b.is_ascii() {
            if filtered_ascii(b) {
                filter = true;
                break;
            }
            at += 1;
            continue;
        }
        let Some(c) = input.get(at..).and_then(|rest| rest.chars().next()) else {
            break;
        };
        if needs_filter(c) {
            filter = true;
            break;
        }
        stable &= nfc_stable(c);
        at += c.len_utf8();
    }
    if !filter && (stable || is_nfc_quick(input.chars()) == IsNormalized::Yes) {
        return Cow::Borrowed(input);
    }
    let mut out = String::with_capacity(input.len());
    // Filter before composing: removing a control character between a letter
    // and a combining mark lets them compose.
    out.extend(filter_chars(input).nfc());
    Cow::Owned(out)
}

fn filter_chars(input: &str) -> impl Iterator<Item = char> + '_ {
    let mut chars = input.chars().peekable();
    std::iter::from_fn(move || {
        loop {
            let c = chars.next()?;
            return Some(match c {
                '\u{00D0}' => '\u{0110}',
                '\u{00F0}' => '\u{0111}',
                '\r' if chars.peek() == Some(&'\n') => continue,
                '\r' => '\n',
                '\n' | '\t' => c,
                '\u{00AD}' | '\u{FEFF}' => continue,
                c if c.is_control() => continue,
                c => c,
            });
        }
    })
}

// ---------------------------------------------------------------------------
// canonical_tones

/// [`clean`] plus one canonical tone-mark placement per syllable, so that
/// spelling variants compare equal: `hoà`/`hòa` → `hòa`, `thuỷ` → `thủy`,
/// `khoẻ` → `khỏe`, `Uỷ` → `Ủy`, and misplaced marks are repaired (`qúy` →
/// `quý`, `baì` → `bài`).
///
/// Each word (run of letters, digits and combining marks) is decomposed, its
/// tone mark (grave, acute, tilde, hook above or dot below) taken off and put
/// back on the main vowel of the syllable, then recomposed (NFC). The rule
/// (what the project calls the "new style"; Vietnamese sources often call
/// this placement the traditional one) is:
///
/// - `qu` and `gi` before a vowel belong to the onset (`quý`, `già`, `giữa`);
/// - with a final consonant, the last vowel (`toàn`, `tuần`, `được`, `chuyển`,
///   `huýt`);
/// - without one: `oa`, `oe`, `uy` on the first vowel (`hòa`, `khỏe`, `thủy`,
///   `ủy`); `uê`, `uơ` on the second (`huế`, `thuở`); other two-vowel nuclei on
///   the first (`bài`, `sáo`, `màu`, `mùa`, `cửa`, `mía`, `tôi`, `gửi`, `hữu`);
///   three-vowel nuclei on the middle one (`người`, `rượu`, `hiếu`, `ngoài`,
///   `khuỷu`).
///
/// The position depends only on the letters, not on the vowel-quality marks
/// (circumflex, breve, horn), which are kept where they are.
///
/// A word is left exactly as [`clean`] gives it when it is not a Vietnamese
/// syllable (English words, numbers, `café`, several syllables run together),
/// has no tone mark, more than one, or a mark Vietnamese does not use. Case is
/// preserved letter by letter. Idempotent, and insensitive to NFC/NFD input.
///
/// ```
/// use diembao_core::text::canonical_tones;
/// assert_eq!(canonical_tones("Hoà giải, Uỷ ban, qúy"), "Hòa giải, Ủy ban, quý");
/// assert_eq!(canonical_tones("café bão báo"), "café bão báo");
/// ```
pub fn canonical_tones(input: &str) -> String {
    let cleaned = clean_cow(input);
    let text: &str = &cleaned;
    let mut out = String::with_capacity(text.len());
    let mut word_start = None;
    let mut last = 0;
    for (i, c) in text.char_indices() {
        match (is_word_char(c), word_start) {
            (true, None) => {
                out.push_str(&text[last..i]);
                word_start = Some(i);
            }
            (false, Some(start)) => {
                retone_word(&text[start..i], &mut out);
                word_start = None;
                last = i;
            }
            _ => {}
        }
    }
    match word_start {
        Some(start) => retone_word(&text[start..], &mut out),
        None => out.push_str(&text[last..]),
    }
    out
}

/// Longest word [`canonical_tones`] considers (a syllable has at most 7 letters).
const MAX_LETTERS: usize = lang::MAX_SYLLABLE_LEN;

#[derive(Debug, Clone, Copy, Default)]
struct Letter {
    /// Lowercase ASCII base letter (`d` for `đ`).
    base: u8,
    /// `đ`/`Đ` rather than `d`/`D`.
    stroke: bool,
    upper: bool,
    /// Circumflex, breve or horn.
    quality: Option<char>,
}

/// A word decomposed into letters, with its tone mark.
struct Decomposed {
    letters: [Letter; MAX_LETTERS],
    len: usize,
    tone: char,
    /// Letter that carries the tone in the input.
    old_tone: usize,
}

/// Appends `word` (a clean, NFC word) to `out` with its tone mark moved to the
/// canonical position, or unchanged if it is not a toned Vietnamese syllable.
fn retone_word(word: &str, out: &mut String) {
    if word.is_ascii() {
        out.push_str(word);
        return;
    }
    let Some(d) = decompose_word(word) else {
        out.push_str(word);
        return;
    };
    let mut folded = [0u8; MAX_LETTERS];
    for (f, l) in folded.iter_mut().zip(&d.letters[..d.len]) {
        *f = l.base;
    }
    let Some(syllable) = lang::parse_syllable(&folded[..d.len]) else {
        out.push_str(word);
        return;
    };
    if syllable.tone == d.old_tone {
        // Already canonical (and NFC, since `word` comes from clean text).
        out.push_str(word);
        return;
    }
    let mark = out.len();
    if compose_word(&d, syllable.tone, out).is_none() {
        out.truncate(mark);
        out.push_str(word);
    }
}

/// Splits a word into Vietnamese letters and one tone mark; `None` if the
/// word has something else (other letters or marks, digits), no tone mark,
/// several, or too many letters.
fn decompose_word(word: &str) -> Option<Decomposed> {
    let mut d = Decomposed {
        letters: [Letter::default(); MAX_LETTERS],
        len: 0,
        tone: '\0',
        old_tone: 0,
    };
    let mut tones = 0;
    let mut ok = true;
    for c in word.chars() {
        decompose_canonical(c, |m| {
            if !ok {
                return;
            }
            if TONE_MARKS.contains(&m) {
                tones += 1;
                d.tone = m;
                ok = d.len > 0 && tones == 1;
                d.old_tone = d.len.saturating_sub(1);
            } else if matches!(m, CIRCUMFLEX | BREVE | HORN) {
                ok = match d.len.checked_sub(1).and_then(|i| d.letters.get_mut(i)) {
                    Some(l) if l.quality.is_none() && !l.stroke => {
                        l.quality = Some(m);
                        matches!(
                            (l.base, m),
                            (b'a' | b'e' | b'o', CIRCUMFLEX) | (b'a', BREVE) | (b'o' | b'u', HORN)
                        )
                    }
                    _ => false,
                };
            } else {
                let letter = match m {
                    'a'..='z' | 'A'..='Z' => Letter {
                        base: m.to_ascii_lowercase() as u8,
                        stroke: false,
                        upper: m.is_ascii_uppercase(),
                        quality: None,
                    },
                    'đ' | 'Đ' => Letter {
                        base: b'd',
                        stroke: true,
                        upper: m == 'Đ',
                        quality: None,
                    },
                    _ => {
                        ok = false;
                        return;
                    }
                };
                match d.letters.get_mut(d.len) {
                    Some(slot) => {
                        *slot = letter;
                        d.len += 1;
                    }
                    None => ok = false,
                }
            }
        });
        if !ok {
            return None;
        }
    }
    (tones == 1).then_some(d)
}

/// Appends the letters of `d` with the tone on letter `tone_at`, composed.
fn compose_word(d: &Decomposed, tone_at: usize, out: &mut String) -> Option<()> {
    for (i, l) in d.letters[..d.len].iter().enumerate() {
        let base = match (l.stroke, l.upper) {
            (true, true) => 'Đ',
            (true, false) => 'đ',
            (false, true) => char::from(l.base.to_ascii_uppercase()),
            (false, false) => char::from(l.base),
        };
        let c = match (l.quality, i == tone_at) {
            (None, false) => base,
            (Some(q), false) => compose(base, q)?,
            (None, true) => compose(base, d.tone)?,
            // Compose in canonical order: ặ is ạ + breve, ậ/ệ/ộ likewise, but
            // ợ/ự are ơ/ư + dot below and ầ/ắ... are â/ă + tone.
            (Some(q), true) if d.tone == DOT_BELOW && q != HORN => {
                compose(compose(base, d.tone)?, q)?
            }
            (Some(q), true) => compose(compose(base, q)?, d.tone)?,
        };
        out.push(c);
    }
    Some(())
}

// ---------------------------------------------------------------------------
// fold, lower, analysis keys

/// Combining diacritical marks (U+0300–U+036F and the extended and supplement
/// blocks).
pub(crate) fn is_combining_diacritic(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}')
}

/// Decomposes `c` and calls `base` with the non-mark parts if the
/// decomposition contains a diacritic; returns whether it did.
fn strip_diacritics(c: char, mut base: impl FnMut(char)) -> bool {
    if c.is_ascii() || ('\u{AC00}'..='\u{D7A3}').contains(&c) {
        // ASCII and Hangul syllables (which decompose into jamo, not marks).
        return false;
    }
    let mut parts = ['\0'; 4];
    let mut n = 0;
    let mut marked = false;
    decompose_canonical(c, |d| {
        if is_combining_diacritic(d) {
            marked = true;
        } else if let Some(slot) = parts.get_mut(n) {
            *slot = d;
            n += 1;
        }
    });
    if marked {
        parts[..n].iter().copied().for_each(&mut base);
    }
    marked
}

/// Lowercase ASCII base letter of an accented Latin letter (`ế` → `e`).
pub(crate) fn latin_base(c: char) -> Option<u8> {
    let mut base = None;
    let mut count = 0;
    strip_diacritics(c, |b| {
        count += 1;
        base = Some(b);
    });
    match base {
        Some(b) if count == 1 && b.is_ascii_alphabetic() => Some(b.to_ascii_lowercase() as u8),
        _ => None,
    }
}

/// Removes all diacritics and maps `đ`/`Đ` to `d`/`D`, keeping case:
/// `"Chuyển đổi số"` → `"Chuyen doi so"`, `"Đường"` → `"Duong"`.
///
/// The input goes through [`clean`] first (so `fold(x) == fold(clean(x))`,
/// NFD input folds like NFC, `Ð` folds to `D`). Marks of the combining
/// diacritical blocks are removed from every script (`ç` → `c`, `й` → `и`);
/// letters that are not decomposable (`ø`, `ł`, `ß`) are kept as they are.
///
/// ```
/// use diembao_core::text::fold;
/// assert_eq!(fold("Chuyển đổi số"), "Chuyen doi so");
/// ```
pub fn fold(input: &str) -> String {
    let cleaned = clean_cow(input);
    let mut out = String::with_capacity(cleaned.len());
    for c in cleaned.chars() {
        fold_char(c, |b| out.push(b));
    }
    out
}

/// [`fold`] of one character of clean text.
fn fold_char(c: char, mut out: impl FnMut(char)) {
    match c {
        'đ' => out('d'),
        'Đ' => out('D'),
        c if is_combining_diacritic(c) => {}
        c => {
            if !strip_diacritics(c, &mut out) {
                out(c);
            }
        }
    }
}

/// The words of a plain text (only characters [`clean`] leaves as they are, with no
/// look-up in the normalisation tables: Latin and Vietnamese letters, digits, general
/// punctuation), each as its folded lower-case key, everything between them a space:
/// what a tokenizer followed by [`fold`] and a letter-by-letter lower case would give
/// word by word, in one pass and one buffer. In plain text, folding a word is folding
/// its characters one by one, and words end where [`tokens`] ends them (a `.` or `,`
/// between digits belongs to the number). Returns `false`, with `out` incomplete, for a
/// text that is not plain.
pub fn fold_plain_words(input: &str, out: &mut String) -> bool {
    // The output is never longer than the input (a letter folds to one byte or stays).
    out.reserve(input.len());
    let bytes = input.as_bytes();
    let mut at = 0;
    let mut prev = '\0';
    while let Some(&b) = bytes.get(at) {
        if b.is_ascii() {
            // ASCII, most of the bytes, through one table: letters and digits are words
            // (lower case), a `.` or `,` between digits too.
            match ASCII_FOLD[usize::from(b)] {
                ASCII_FILTERED => return false,
                ASCII_SEPARATOR => {
                    // (The neighbours of such a separator are ASCII: the next byte will do.)
                    let next = bytes.get(at + 1).map(|&n| char::from(n));
                    if is_number_separator(char::from(b), prev, next) {
                        out.push(char::from(b));
                    } else {
                        out.push(' ');
                    }
                }
                folded => out.push(char::from(folded)),
            }
            at += 1;
            prev = char::from(b);
            continue;
        }
        let Some(c) = char_at(input, at) else {
            break;
        };
        match latin_plain_fold(c).unwrap_or_else(|| plain_class(c)) {
            PlainFold::Word(folded) => out.push(folded),
            PlainFold::Space => out.push(' '),
            PlainFold::NotPlain => return false,
            PlainFold::Other => fold_char(c, |b| push_lower(b, out)),
        }
        at += c.len_utf8();
        prev = c;
    }
    true
}

/// [`ASCII_FOLD`]: a character [`clean`] filters (the text is not plain).
const ASCII_FILTERED: u8 = 0;
/// [`ASCII_FOLD`]: `.` or `,`, part of a number between digits, else a space.
const ASCII_SEPARATOR: u8 = 1;

/// What [`fold_plain_words`] makes of each ASCII character: a letter or digit its lower
/// case, a control but `\n` and `\t` [`ASCII_FILTERED`] (as [`needs_filter`] says), `.`
/// and `,` [`ASCII_SEPARATOR`], anything else a space. (0 and 1 are controls: never an
/// output.)
static ASCII_FOLD: [u8; 128] = {
    let mut table = [b' '; 128];
    let mut i = 0;
    while i < 128 {
        let c = i as u8;
        table[i] = if c.is_ascii_alphanumeric() {
            c.to_ascii_lowercase()
        } else if c == b'.' || c == b',' {
            ASCII_SEPARATOR
        } else if filtered_ascii(c) {
            ASCII_FILTERED
        } else {
            b' '
        };
        i += 1;
    }
    table
};

/// What [`fold_plain_words`] makes of a character of the Latin blocks.
#[derive(Clone, Copy)]
enum PlainFold {
    /// A word character folding to one character (`ệ` → `e`).
    Word(char),
    /// Not a word character (`×`, `«`): a space.
    Space,
    /// A character [`clean`] changes: the text is not plain.
    NotPlain,
    /// A word character folding to several (worked out each time).
    Other,
}

/// [`PlainFold`] of any character, without working out its fold: a word character is
/// [`PlainFold::Other`].
fn plain_class(c: char) -> PlainFold {
    if !plain_char(c) {
        PlainFold::NotPlain
    } else if !is_word_char(c) {
        PlainFold::Space
    } else {
        PlainFold::Other
    }
}

/// [`PlainFold`] of a character of the Latin blocks, from a table worked out once (a word
/// character that folds to one character is [`PlainFold::Word`] there).
fn latin_plain_fold(c: char) -> Option<PlainFold> {
    static TABLE: LatinTable<PlainFold> = std::sync::OnceLock::new();
    latin_table(&TABLE, c, |c| match plain_class(c) {
        PlainFold::Other => {
            let mut folded = String::new();
            fold_char(c, |b| push_lower(b, &mut folded));
            let mut chars = folded.chars();
            match (chars.next(), chars.next()) {
                (Some(one), None) => PlainFold::Word(one),
                _ => PlainFold::Other,
            }
        }
        class => class,
    })
}

/// The Latin blocks of the look-up tables: Latin-1 to Latin Extended-B, and Latin
/// Extended Additional (the precomposed Vietnamese letters).
const LATIN_LOW: std::ops::Range<u32> = 0x80..0x250;
const LATIN_HIGH: std::ops::Range<u32> = 0x1E00..0x1F00;

/// A table over [`LATIN_LOW`] then [`LATIN_HIGH`], worked out on first use.
type LatinTable<T> = std::sync::OnceLock<Vec<T>>;

/// `of(c)` from `table` (filled with `of` of each character of the blocks on first use),
/// or `None` for a character outside them.
fn latin_table<T: Copy>(table: &LatinTable<T>, c: char, of: impl Fn(char) -> T) -> Option<T> {
    let code = u32::from(c);
    let at = if LATIN_LOW.contains(&code) {
        code - LATIN_LOW.start
    } else if LATIN_HIGH.contains(&code) {
        code - LATIN_HIGH.start + (LATIN_LOW.end - LATIN_LOW.start)
    } else {
        return None;
    };
    // (The blocks hold no surrogates: every code is a character.)
    let table = table.get_or_init(|| {
        LATIN_LOW
            .chain(LATIN_HIGH)
            .filter_map(char::from_u32)
            .map(&of)
            .collect()
    });
    table.get(usize::try_from(at).ok()?).copied()
}

/// Appends `c` in lower case, letter by letter (the folded keys of words are so made).
pub(crate) fn push_lower(c: char, out: &mut String) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
    } else {
        out.extend(c.to_lowercase());
    }
}

/// Lowercase (full Unicode mapping, `Đ` → `đ`, `Ổ` → `ổ`). The case mapping of
/// precomposed Vietnamese letters keeps NFC text NFC.
pub fn lower(input: &str) -> String {
    input.to_lowercase()
}

/// The two index/query keys of one token: `(accented, folded)` with
/// `accented = lower(canonical_tones(word))` and `folded = fold(accented)`.
///
/// `"Hoà"` → `("hòa", "hoa")`; `"bão"` → `("bão", "bao")` and `"báo"` →
/// `("báo", "bao")`: the accented keys keep words apart that folding merges.
///
/// ```
/// use diembao_core::text::analysis_key;
/// assert_eq!(analysis_key("Hoà"), ("hòa".to_owned(), "hoa".to_owned()));
/// ```
pub fn analysis_key(word: &str) -> (String, String) {
    if word.bytes().all(|b| b.is_ascii() && !b.is_ascii_control()) {
        let key = word.to_ascii_lowercase();
        return (key.clone(), key);
    }
    let accented = lower(&canonical_tones(word));
    let folded = fold(&accented);
    (accented, folded)
}

/// True if `word` has no diacritic (in particular no Vietnamese tone or
/// vowel-quality mark) and no `đ`/`Đ` (nor `ð`/`Ð`), i.e. [`fold`] would leave
/// its letters alone. A query word for which this holds should match every
/// accented form (search the folded keys); otherwise only the same accented
/// word (search the accented keys).
pub fn is_unaccented(word: &str) -> bool {
    word.chars().all(|c| {
        !(matches!(c, 'đ' | 'Đ' | 'ð' | 'Ð')
            || is_combining_diacritic(c)
            || strip_diacritics(c, |_| {}))
    })
}

/// How many words of `input` (as [`tokens`] finds them) have a letter, and how many of
/// those are not [`is_unaccented`]: how a text was typed, in one pass and without the
/// sentence bookkeeping of [`tokens`].
pub fn letter_words(input: &str) -> (usize, usize) {
    count_letter_words::<false>(input).unwrap_or_default()
}

/// [`letter_words`] of a text that [`clean`] leaves as it is, found out in the same pass
/// (for text made of the characters that need no look-up in the normalisation tables,
/// see [`clean_cow`]); `None` when the text has any other character: clean it, then
/// count. What the index asks of each value it analyses, in one walk instead of two.
pub fn clean_letter_words(input: &str) -> Option<(usize, usize)> {
    count_letter_words::<true>(input)
}

/// [`letter_words`], and with `CHECK` `None` at the first character that [`clean`] might
/// change or that needs the normalisation tables.
fn count_letter_words<const CHECK: bool>(input: &str) -> Option<(usize, usize)> {
    let bytes = input.as_bytes();
    let (mut words, mut accented) = (0, 0);
    let (mut in_word, mut letter, mut marked) = (false, false, false);
    let mut prev = '\0';
    let mut at = 0;
    while let Some(&b) = bytes.get(at) {
        let c = if b.is_ascii() {
            // ASCII, most of the bytes: a letter or digit goes on with the word.
            if b.is_ascii_alphanumeric() {
                in_word = true;
                letter |= b.is_ascii_alphabetic();
                at += 1;
                prev = char::from(b);
                continue;
            }
            if CHECK && filtered_ascii(b) {
                return None;
            }
            char::from(b)
        } else {
            let Some(c) = char_at(input, at) else {
                break;
            };
            let marks = latin_letter_marks(c).unwrap_or_else(|| word_marks(c));
            if CHECK && !marks.plain {
                return None;
            }
            if marks.word_char {
                in_word = true;
                letter |= marks.letter;
                marked |= marks.marked;
                at += c.len_utf8();
                prev = c;
                continue;
            }
            c
        };
        at += c.len_utf8();
        // (A `.` or `,` between digits has ASCII neighbours: the next byte will do.)
        if in_word {
            let next = bytes.get(at).map(|&n| char::from(n));
            if !is_number_separator(c, prev, next) {
                words += usize::from(letter);
                accented += usize::from(letter && marked);
                (in_word, letter, marked) = (false, false, false);
            }
        }
        prev = c;
    }
    if in_word {
        words += usize::from(letter);
        accented += usize::from(letter && marked);
    }
    Some((words, accented))
}

/// What [`letter_words`] asks of a character that is not ASCII.
#[derive(Clone, Copy)]
struct LetterMarks {
    /// A word character.
    word_char: bool,
    /// A letter.
    letter: bool,
    /// It has a diacritic (or is `đ`).
    marked: bool,
    /// [`clean`] leaves it as it is, in any context, without the normalisation tables.
    plain: bool,
}

/// [`LetterMarks`] of any character, worked out with the Unicode look-ups.
fn word_marks(c: char) -> LetterMarks {
    LetterMarks {
        word_char: is_word_char(c),
        letter: c.is_alphabetic(),
        marked: matches!(c, 'đ' | 'Đ' | 'ð' | 'Ð')
            || is_combining_diacritic(c)
            || strip_diacritics(c, |_| {}),
        plain: plain_char(c),
    }
}

/// [`word_marks`] of the Latin blocks Vietnamese is written in (Latin-1 to Latin
/// Extended-B, Latin Extended Additional), from a table worked out once: the Unicode
/// look-ups are the slow part of [`letter_words`].
fn latin_letter_marks(c: char) -> Option<LetterMarks> {
    static TABLE: LatinTable<LetterMarks> = std::sync::OnceLock::new();
    latin_table(&TABLE, c, word_marks)
}

// ---------------------------------------------------------------------------
// tokens

/// A word of a text, as produced by [`tokens`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Token<'a> {
    /// The word, a slice of the input (`&input[start..end]`), not normalised.
    pub text: &'a str,
    /// Byte offset of the word in the input.
    pub start: usize,
    /// Byte offset just after the word.
    pub end: usize,
    /// Word position: 0 for the first word, +1 for each following word of the
    /// same sentence, +[`SENTENCE_GAP`] across a sentence end.
    pub position: u32,
    /// Sentence number, from 0.
    pub sentence: u32,
}

/// Characters words are made of: letters, digits and combining diacritical
/// marks (so decomposed text does not split inside a word).
#[inline]
pub(crate) fn is_word_char(c: char) -> bool {
    // Fast paths for ASCII and the Latin blocks Vietnamese lives in (Latin-1 letters,
    // Latin Extended-A/B, Latin Extended Additional): every letter there is alphabetic
    // except the two multiplication/division signs.
    match c {
        'a'..='z' | 'A'..='Z' | '0'..='9' => true,
        '\0'..='\u{7F}' => false,
        '\u{C0}'..='\u{24F}' => c != '\u{D7}' && c != '\u{F7}',
        '\u{0300}'..='\u{036F}' => true,
        '\u{1E00}'..='\u{1EFF}' => true,
        _ => c.is_alphanumeric(),
    }
}

/// Splits a text into words for search and rules.
///
/// A word is a maximal run of alphanumeric characters and combining marks
/// (U+0300–U+036F), plus `.` or `,` between two ASCII digits (`1.500`,
/// `3,5` are one word). Apostrophes, hyphens and other punctuation separate
/// words. Words are slices of the input; normalise them with
/// [`analysis_key`].
///
/// A sentence ends between two words when the text between them contains a
/// line break, or one of `.` `!` `?` `…` not immediately followed by a letter
/// or digit (`v.v`, `vnexpress.net` and `TP.HCM` do not end a sentence), except
/// a `.` right after a common abbreviation (`TP. Hồ Chí Minh`, `PGS. TS.`).
/// At a sentence end the position jumps by [`SENTENCE_GAP`] instead of 1 and
/// `sentence` increments, so phrase and proximity queries cannot match across
/// it.
///
/// ```
/// use diembao_core::text::{SENTENCE_GAP, tokens};
/// let t: Vec<_> = tokens("Giá 1.500 đồng. Tăng").map(|t| (t.text, t.position)).collect();
/// assert_eq!(t, [("Giá", 0), ("1.500", 1), ("đồng", 2), ("Tăng", 2 + SENTENCE_GAP)]);
/// ```
pub fn tokens(input: &str) -> Tokens<'_> {
    Tokens {
        input,
        offset: 0,
        last: None,
        sentence: 0,
    }
}

/// Iterator returned by [`tokens`].
#[derive(Debug, Clone)]
pub struct Tokens<'a> {
    input: &'a str,
    /// Where scanning resumes (a char boundary).
    offset: usize,
    /// Previous word and its position.
    last: Option<(&'a str, u32)>,
    sentence: u32,
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        let input = self.input;
        let mut at = self.offset;
        let mut sentence_end = false;
        let start = loop {
            let Some(c) = char_at(input, at) else {
                self.offset = input.len();
                return None;
            };
            if is_word_char(c) {
                break at;
            }
            let here = at;
            at += c.len_utf8();
            let Some((prev_word, _)) = self.last else {
                continue;
            };
            if !sentence_end {
                sentence_end = match c {
                    '\n' | '\r' | '\u{0085}' | '\u{2028}' | '\u{2029}' => true,
                    '.' | '!' | '?' | '…' => {
                        let glued = char_at(input, at).is_some_and(is_word_char);
                        let abbreviation =
                            c == '.' && here == self.offset && ABBREVIATIONS.contains(&prev_word);
                        !glued && !abbreviation
                    }
                    _ => false,
                };
            }
        };
        Some(self.emit(start, word_end(input, start), sentence_end))
    }
}

impl<'a> Tokens<'a> {
    /// The token `input[start..end]`, a sentence end before it or not; scanning resumes
    /// after it.
    fn emit(&mut self, start: usize, end: usize, sentence_end: bool) -> Token<'a> {
        let text = &self.input[start..end];
        let position = match self.last {
            None => 0,
            Some((_, p)) if sentence_end => {
                self.sentence = self.sentence.saturating_add(1);
                p.saturating_add(SENTENCE_GAP)
            }
            Some((_, p)) => p.saturating_add(1),
        };
        self.offset = end;
        self.last = Some((text, position));
        Token {
            text,
            start,
            end,
            position,
            sentence: self.sentence,
        }
    }
}

/// The character at byte `at` of `input` (a char boundary), without decoding ASCII.
#[inline]
fn char_at(input: &str, at: usize) -> Option<char> {
    let b = *input.as_bytes().get(at)?;
    if b.is_ascii() {
        Some(char::from(b))
    } else {
        input.get(at..)?.chars().next()
    }
}

impl std::iter::FusedIterator for Tokens<'_> {}

/// End of the word starting at `start`.
fn word_end(input: &str, start: usize) -> usize {
    let bytes = input.as_bytes();
    let mut at = start;
    let mut end = start;
    let mut prev = '\0';
    while let Some(&b) = bytes.get(at) {
        // ASCII letters and digits, most of a word, without decoding.
        if b.is_ascii_alphanumeric() {
            at += 1;
            end = at;
            prev = char::from(b);
            continue;
        }
        let Some(c) = char_at(input, at) else {
            break;
        };
        at += c.len_utf8();
        if is_word_char(c) {
            end = at;
        } else if !is_number_separator(c, prev, char_at(input, at)) {
            break;
        }
        prev = c;
    }
    end
}

/// A `.` or `,` between digits, which belongs to the number (`25.000`, `1,5`).
fn is_number_separator(c: char, prev: char, next: Option<char>) -> bool {
    matches!(c, '.' | ',') && prev.is_ascii_digit() && next.is_some_and(|n| n.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn nfd(s: &str) -> String {
        s.nfd().collect()
    }

    /// Every character of the Latin tables (and around them) folds as the reference
    /// folds it.
    #[test]
    fn the_latin_table_agrees_with_the_reference() {
        for c in (0x80u32..0x1F10).filter_map(char::from_u32) {
            let input = format!("a{c}b");
            let (mut fast, mut reference) = (String::new(), String::new());
            let plain = fold_plain_words(&input, &mut fast);
            assert_eq!(
                plain,
                fold_plain_words_reference(&input, &mut reference),
                "{c:?}"
            );
            if plain {
                assert_eq!(fast, reference, "{c:?}");
            }
        }
    }

    /// [`Tokens`]' scan as first written, char by char (what it finds is emitted as
    /// [`Tokens`] emits it).
    struct ReferenceTokens<'a>(Tokens<'a>);

    impl<'a> Iterator for ReferenceTokens<'a> {
        type Item = Token<'a>;

        fn next(&mut self) -> Option<Token<'a>> {
            let tokens = &mut self.0;
            let input = tokens.input;
            let rest = input.get(tokens.offset..)?;
            let mut sentence_end = false;
            let mut start = None;
            let mut chars = rest.char_indices().peekable();
            while let Some((i, c)) = chars.next() {
                if is_word_char(c) {
                    start = Some(tokens.offset + i);
                    break;
                }
                let Some((prev_word, _)) = tokens.last else {
                    continue;
                };
                if !sentence_end {
                    sentence_end = match c {
                        '\n' | '\r' | '\u{0085}' | '\u{2028}' | '\u{2029}' => true,
                        '.' | '!' | '?' | '…' => {
                            let glued = chars.peek().is_some_and(|&(_, n)| is_word_char(n));
                            let abbreviation =
                                c == '.' && i == 0 && ABBREVIATIONS.contains(&prev_word);
                            !glued && !abbreviation
                        }
                        _ => false,
                    };
                }
            }
            let Some(start) = start else {
                tokens.offset = input.len();
                return None;
            };
            Some(tokens.emit(start, reference_word_end(input, start), sentence_end))
        }
    }

    /// [`word_end`] as first written.
    fn reference_word_end(input: &str, start: usize) -> usize {
        let mut end = start;
        let mut prev = '\0';
        let mut chars = input[start..].char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if is_word_char(c) {
                end = start + i + c.len_utf8();
            } else if !is_number_separator(c, prev, chars.peek().map(|&(_, n)| n)) {
                break;
            }
            prev = c;
        }
        end
    }

    proptest! {
        /// The byte-wise tokenizer finds the same tokens as the char-by-char one.
        #[test]
        fn tokens_match_the_reference(s in "[a-zA-Z0-9àđĐêếơưỹ .,!?…'\\-\n\r\u{0085}\u{2028}\u{0300}\u{4E00}]{0,50}") {
            let reference = ReferenceTokens(tokens(&s));
            prop_assert_eq!(tokens(&s).collect::<Vec<_>>(), reference.collect::<Vec<_>>());
        }

        #[test]
        fn tokens_match_the_reference_on_abbreviations(
            s in "(TP|Tp|ông|bà|St|Mr|a|1|2|3|,|\\.| |\n|!|x){0,30}"
        ) {
            let reference = ReferenceTokens(tokens(&s));
            prop_assert_eq!(tokens(&s).collect::<Vec<_>>(), reference.collect::<Vec<_>>());
        }

        #[test]
        fn tokens_match_the_reference_on_any_text(s in any::<String>()) {
            let reference = ReferenceTokens(tokens(&s));
            prop_assert_eq!(tokens(&s).collect::<Vec<_>>(), reference.collect::<Vec<_>>());
        }
    }

    /// [`fold_plain_words`] as first written, char by char with the Unicode look-ups.
    fn fold_plain_words_reference(input: &str, out: &mut String) -> bool {
        let mut prev = '\0';
        let mut chars = input.chars().peekable();
        while let Some(c) = chars.next() {
            if needs_filter(c) || !nfc_stable(c) {
                return false;
            }
            if !(is_word_char(c) || is_number_separator(c, prev, chars.peek().copied())) {
                out.push(' ');
            } else if c.is_ascii() {
                out.push(c.to_ascii_lowercase());
            } else {
                fold_char(c, |b| push_lower(b, out));
            }
            prev = c;
        }
        true
    }

    proptest! {
        /// The byte-wise pass with its table folds as the char-by-char one did.
        #[test]
        fn fold_plain_words_matches_the_reference(
            input in "[a-zA-Z0-9àáảãạăắằẳẵặâấầẩẫậđĐèéẻẽẹÊẾỀỂỄỆìíỉĩịÒÓỎÕỌôốồổỗộơớờởỡợùúủũụƯỨỪỬỮỰỳýỷỹỵßẞǅǈ .,!?\r\n\t\u{0300}\u{00AD}\u{4E00}\u{2013}]{0,60}"
        ) {
            let (mut fast, mut reference) = (String::new(), String::new());
            let plain = fold_plain_words(&input, &mut fast);
            prop_assert_eq!(plain, fold_plain_words_reference(&input, &mut reference));
            if plain {
                prop_assert_eq!(fast, reference);
            }
        }
    }

    proptest! {
        /// One pass gives what counting [`tokens`] word by word gives.
        #[test]
        fn letter_words_counts_the_tokens(
            input in "[a-zA-Z0-9àáảãạăđĐðêếềệôơớưứỳýỹ .,!?'\\-\n\u{0300}\u{0301}\u{0323}\u{4E00}\u{AC00}]{0,60}"
        ) {
            let (mut words, mut accented) = (0, 0);
            for token in tokens(&input) {
                if token.text.chars().any(char::is_alphabetic) {
                    words += 1;
                    accented += usize::from(!is_unaccented(token.text));
                }
            }
            prop_assert_eq!(letter_words(&input), (words, accented));
        }

        /// The byte-wise check never lets a text that needs cleaning through, and what
        /// comes out is the reference's.
        #[test]
        fn clean_borrows_exactly_the_clean_texts(
            input in "[a-zA-Zàđơ\u{00D0}\u{00AD}\u{FEFF}\r\n\t\u{0000}\u{007F}\u{0085}\u{0300}\u{0301} .]{0,40}"
        ) {
            let reference: String = filter_chars(&input).nfc().collect();
            let cleaned = clean_cow(&input);
            // (A text that is NFC only after a closer look may come back as a copy.)
            if matches!(cleaned, Cow::Borrowed(_)) || reference != input {
                prop_assert_eq!(matches!(cleaned, Cow::Borrowed(_)), reference == input);
            }
            prop_assert_eq!(cleaned.as_ref(), reference.as_str());
        }

        /// Counting and checking in one pass counts as [`letter_words`] does, and answers
        /// only for a text that [`clean`] leaves as it is (and for every such text made of
        /// the common characters).
        #[test]
        fn clean_letter_words_counts_only_clean_text(
            input in "[a-zA-Z0-9àáạăđĐðêếệôơớưứỳýỹ \u{00D0}\u{00AD}\u{FEFF}\u{2013}\u{201C}\r\n\t\u{0000}\u{007F}\u{0085}\u{0300}\u{0301}\u{4E00}.,!?]{0,50}"
        ) {
            match clean_letter_words(&input) {
                Some(counts) => {
                    prop_assert_eq!(clean(&input), input.clone());
                    prop_assert_eq!(counts, letter_words(&input));
                }
                None => prop_assert!(
                    clean(&input) != input || input.chars().any(|c| !nfc_stable(c)),
                    "a clean text of common characters is counted: {:?}",
                    input
                ),
            }
        }
    }

    // --- clean -------------------------------------------------------------

    #[test]
    fn clean_composes_nfd_and_windows_1258() {
        let nfc = "Chuyển đổi số ở Việt Nam";
        let decomposed = nfd(nfc);
        assert_ne!(decomposed, nfc);
        assert_eq!(clean(&decomposed), nfc);
        assert_eq!(clean(nfc), nfc);
        // windows-1258: precomposed ê/ô/ư plus a separate combining tone mark.
        let cp1258 = "Chuye\u{0302}\u{0309}n \u{0111}o\u{0302}\u{0309}i so\u{0302}\u{0301} \
                      \u{01B0}\u{0301}ng du\u{0323}ng";
        let cp1258_mixed = "Chuy\u{00EA}\u{0309}n \u{0111}\u{00F4}\u{0309}i s\u{00F4}\u{0301}";
        assert_eq!(clean(cp1258), "Chuyển đổi số ứng dụng");
        assert_eq!(clean(cp1258_mixed), "Chuyển đổi số");
    }

    #[test]
    fn clean_maps_eth_and_removes_controls() {
        assert_eq!(clean("\u{00D0}à N\u{1EB5}ng \u{00F0}ẹp"), "Đà Nẵng đẹp");
        assert_eq!(clean("a\u{0}b\u{7}c\u{1B}[0m\td\ne"), "abc[0m\td\ne");
        assert_eq!(clean("một\r\nhai\rba"), "một\nhai\nba");
        assert_eq!(clean("\u{FEFF}Hà\u{AD}Nội\u{85}"), "HàNội");
        // A removed control character no longer blocks composition.
        assert_eq!(clean("a\u{7}\u{301}"), "á");
        // Tone placement is kept as printed.
        assert_eq!(clean("hoà thuỷ"), "hoà thuỷ");
    }

    // --- canonical_tones ---------------------------------------------------

    #[test]
    fn tone_variants_meet() {
        let pairs = [
            ("hoà", "hòa"),
            ("Hoà", "Hòa"),
            ("HOÀ", "HÒA"),
            ("thuỷ", "thủy"),
            ("khoẻ", "khỏe"),
            ("uỷ", "ủy"),
            ("Uỷ", "Ủy"),
            ("hoá", "hóa"),
            ("qúy", "quý"),
            ("baì", "bài"),
            ("Thuỵ", "Thụy"),
            ("loã", "lõa"),
            ("tuỳ", "tùy"),
            ("ngươì", "người"),
            ("nguời", "nguời"),
            ("rươụ", "rượu"),
            ("chuye\u{0302}n\u{0309}", "chuyển"), // tone written after the final
            ("gìa", "già"),
            ("giưã", "giữa"),
            ("múa", "múa"),
            ("toàn", "toàn"),
            ("tóan", "toán"),
            ("quốc", "quốc"),
            ("gì", "gì"),
            ("khuỷu", "khuỷu"),
            ("thuở", "thuở"),
            ("Quỳnh", "Quỳnh"),
            ("b\u{0323}ăc", "bặc"), // tone on the initial consonant
        ];
        for (variant, canonical) in pairs {
            assert_eq!(canonical_tones(variant), canonical, "{variant}");
            assert_eq!(canonical_tones(canonical), canonical, "{canonical}");
            assert_eq!(canonical_tones(&nfd(variant)), canonical, "nfd {variant}");
        }
        assert_eq!(
            canonical_tones("Hoà giải ở Uỷ ban, sức khoẻ và thuỷ lợi"),
            "Hòa giải ở Ủy ban, sức khỏe và thủy lợi"
        );
    }

    #[test]
    fn tones_stay_distinct() {
        assert_eq!(
            canonical_tones("bão báo bảo bao bạo"),
            "bão báo bảo bao bạo"
        );
        assert_ne!(analysis_key("bão").0, analysis_key("báo").0);
        assert_eq!(analysis_key("bão").1, analysis_key("báo").1);
        assert_eq!(analysis_key("Hoà"), ("hòa".to_owned(), "hoa".to_owned()));
        assert_eq!(analysis_key("hòa"), analysis_key("hoà"));
        assert_eq!(analysis_key(&nfd("Hoà")), analysis_key("hòa"));
        assert_eq!(
            analysis_key("COVID"),
            ("covid".to_owned(), "covid".to_owned())
        );
        assert_eq!(
            analysis_key("ĐƯỜNG"),
            ("đường".to_owned(), "duong".to_owned())
        );
    }

    #[test]
    fn non_vietnamese_words_pass_through() {
        for s in [
            "café résumé Pokémon naïve façade",
            "H5N1 1.500 COVID-19 iPhone strength",
            "Ǹ m̀ à\u{0301}", // tone on a consonant, two tones
            "Москва́ 東京 서울",
            "hoàhoà", // two syllables run together
        ] {
            assert_eq!(canonical_tones(s), clean(s), "{s}");
        }
    }

    // --- fold, is_unaccented -------------------------------------------------

    #[test]
    fn fold_removes_diacritics_and_stroke() {
        assert_eq!(fold("Chuyển đổi số"), "Chuyen doi so");
        assert_eq!(fold("Đường"), "Duong");
        assert_eq!(fold("\u{00D0}ường"), "Duong");
        assert_eq!(fold(&nfd("Nguyễn Thị Ánh Tuyết")), "Nguyen Thi Anh Tuyet");
        assert_eq!(
            fold("ẮẰẲẴẶăắằẳẵặ ƯỨỪỬỮỰ ơớờởỡợ"),
            "AAAAAaaaaaa UUUUUU oooooo"
        );
        assert_eq!(fold("façade ø 서울 東京"), "facade ø 서울 東京");
    }

    #[test]
    fn unaccented_words() {
        assert!(is_unaccented("chuyen"));
        assert!(is_unaccented("COVID19"));
        assert!(!is_unaccented("chuyển"));
        assert!(!is_unaccented("đi"));
        assert!(!is_unaccented("Đi"));
        assert!(!is_unaccented("\u{00F0}i"));
        assert!(!is_unaccented("an\u{0300}"));
        assert!(!is_unaccented("ơi"));
    }

    // --- tokens --------------------------------------------------------------

    fn words(input: &str) -> Vec<(&str, u32, u32)> {
        tokens(input)
            .map(|t| (t.text, t.position, t.sentence))
            .collect()
    }

    #[test]
    fn token_positions_and_sentence_gaps() {
        assert_eq!(words("a. b"), [("a", 0, 0), ("b", SENTENCE_GAP, 1)]);
        assert_eq!(
            words("An toàn thông tin! Giao thông? Có… Không\nMới"),
            [
                ("An", 0, 0),
                ("toàn", 1, 0),
                ("thông", 2, 0),
                ("tin", 3, 0),
                ("Giao", 1003, 1),
                ("thông", 1004, 1),
                ("Có", 2004, 2),
                ("Không", 3004, 3),
                ("Mới", 4004, 4),
            ]
        );
        // Several terminators or blank lines make one sentence end.
        assert_eq!(words("a...\n\n b"), [("a", 0, 0), ("b", 1000, 1)]);
        // No sentence end: glued dots, abbreviations, other punctuation.
        assert_eq!(
            words("v.v TP.HCM; TP. Hồ, (x): y"),
            [
                ("v", 0, 0),
                ("v", 1, 0),
                ("TP", 2, 0),
                ("HCM", 3, 0),
                ("TP", 4, 0),
                ("Hồ", 5, 0),
                ("x", 6, 0),
                ("y", 7, 0),
            ]
        );
        // Leading and trailing punctuation does not count.
        assert_eq!(words("...\nA. "), [("A", 0, 0)]);
        assert!(words("").is_empty());
        assert!(words(" .!? ").is_empty());
    }

    #[test]
    fn token_numbers_and_marks() {
        assert_eq!(words("1.500 người"), [("1.500", 0, 0), ("người", 1, 0)]);
        assert_eq!(
            words("3,5 tỷ, 2023."),
            [("3,5", 0, 0), ("tỷ", 1, 0), ("2023", 2, 0)]
        );
        assert_eq!(
            words("năm 2023. 500"),
            [("năm", 0, 0), ("2023", 1, 0), ("500", 1001, 1)]
        );
        assert_eq!(
            words("13/3/2023"),
            [("13", 0, 0), ("3", 1, 0), ("2023", 2, 0)]
        );
        let decomposed = nfd("Chuyển đổi");
        let t: Vec<_> = tokens(&decomposed).collect();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].text, nfd("Chuyển"));
        assert_eq!((t[0].start, t[1].end), (0, decomposed.len()));
        assert_eq!(words("don't"), [("don", 0, 0), ("t", 1, 0)]);
    }

    // --- properties ----------------------------------------------------------

    const ONSETS: [&str; 27] = [
        "", "b", "c", "ch", "d", "đ", "g", "gh", "gi", "h", "k", "kh", "l", "m", "n", "ng", "ngh",
        "nh", "p", "ph", "qu", "r", "s", "t", "th", "tr", "v",
    ];
    const NUCLEI: [&str; 49] = [
        "a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y", "ai", "ao", "au", "âu", "ay",
        "ây", "eo", "êu", "ia", "iê", "iu", "oa", "oă", "oe", "oi", "ôi", "ơi", "oo", "ua", "uâ",
        "uê", "ui", "uô", "uơ", "ươ", "ưa", "ưi", "ưu", "uy", "yê", "iêu", "yêu", "oai", "uôi",
        "ươi", "ươu", "uyê",
    ];
    const CODAS: [&str; 9] = ["", "c", "ch", "m", "n", "ng", "nh", "p", "t"];
    const SEPARATORS: [&str; 8] = [" ", " ", ", ", ". ", "\n", "-", "…", " 1.500 "];

    /// A syllable-like word: random onset, nucleus and final, one tone mark
    /// (or none) on a random letter, random case, NFC or NFD.
    fn syllable() -> impl Strategy<Value = String> {
        (
            0..ONSETS.len(),
            0..NUCLEI.len(),
            0..CODAS.len(),
            0..=TONE_MARKS.len(),
            any::<prop::sample::Index>(),
            any::<u8>(),
            any::<bool>(),
        )
            .prop_map(|(o, n, c, tone, at, case, decompose)| {
                let letters: Vec<char> = format!("{}{}{}", ONSETS[o], NUCLEI[n], CODAS[c])
                    .chars()
                    .collect();
                let at = at.index(letters.len());
                let mut s = String::new();
                for (i, &l) in letters.iter().enumerate() {
                    if case & (1 << (i % 8)) != 0 {
                        s.extend(l.to_uppercase());
                    } else {
                        s.push(l);
                    }
                    if i == at && tone < TONE_MARKS.len() {
                        s.push(TONE_MARKS[tone]);
                    }
                }
                if decompose {
                    nfd(&s)
                } else {
                    s.nfc().collect()
                }
            })
    }

    fn vietnamese_like() -> impl Strategy<Value = String> {
        prop::collection::vec((syllable(), 0..SEPARATORS.len()), 0..8).prop_map(|parts| {
            let mut s = String::new();
            for (word, sep) in parts {
                s.push_str(&word);
                s.push_str(SEPARATORS[sep]);
            }
            s
        })
    }

    /// Every onset × nucleus × final × tone × placement: all placements give
    /// the same word, with the tone on the letter the syllable rule picks.
    #[test]
    fn exhaustive_placement() {
        let mut checked = 0;
        for onset in ONSETS {
            for nucleus in NUCLEI {
                for coda in CODAS {
                    let letters: Vec<char> = format!("{onset}{nucleus}{coda}").chars().collect();
                    let plain: String = letters.iter().collect();
                    let folded = lang::is_vietnamese_syllable(&plain);
                    let mut ascii = [0u8; 8];
                    for (a, c) in ascii.iter_mut().zip(fold(&plain).bytes()) {
                        *a = c;
                    }
                    let expected = lang::parse_syllable(&ascii[..letters.len()]);
                    assert_eq!(folded, expected.is_some(), "{plain}");
                    let Some(syllable) = expected else { continue };
                    for tone in TONE_MARKS {
                        let put = |at: usize| -> String {
                            let mut s: String = letters[..=at].iter().collect();
                            s.push(tone);
                            s.extend(&letters[at + 1..]);
                            s
                        };
                        let want: String = put(syllable.tone).nfc().collect();
                        assert_eq!(want.chars().count(), letters.len(), "{want} precomposed");
                        for at in 0..letters.len() {
                            assert_eq!(canonical_tones(&put(at)), want, "{}", put(at));
                            assert_eq!(
                                canonical_tones(&put(at).to_uppercase()),
                                want.to_uppercase()
                            );
                        }
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 5000, "{checked}");
    }

    fn tone_counts(s: &str) -> [usize; 5] {
        let mut counts = [0; 5];
        for c in s.nfd() {
            if let Some(i) = TONE_MARKS.iter().position(|&t| t == c) {
                counts[i] += 1;
            }
        }
        counts
    }

    #[test]
    fn the_common_ranges_are_nfc_in_any_context() {
        // What `nfc_stable` promises, from the normalisation tables: combining class 0,
        // not changed by NFC, and never the second part of a canonical decomposition
        // (so no character before it composes with it).
        let mut seconds = std::collections::HashSet::new();
        for c in (0..=0x10_FFFF_u32).filter_map(char::from_u32) {
            let parts: Vec<char> = c.to_string().nfd().collect();
            if parts.len() >= 2 {
                seconds.extend(parts.into_iter().skip(1));
            }
        }
        let mut checked = 0;
        for c in (0..=0x10_FFFF_u32).filter_map(char::from_u32) {
            if !nfc_stable(c) {
                continue;
            }
            checked += 1;
            assert_eq!(
                unicode_normalization::char::canonical_combining_class(c),
                0,
                "{c:?}"
            );
            assert_eq!(
                c.to_string().nfc().collect::<String>(),
                c.to_string(),
                "{c:?}"
            );
            assert!(
                !seconds.contains(&c),
                "{c:?} composes with what precedes it"
            );
        }
        assert_eq!(checked, 0x300 + 0x100 + 0x6E);
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 512,
            // Keep the source tree clean; failures print the minimal input.
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn clean_is_the_filtered_nfc_of_its_input(s in any::<String>()) {
            let want: String = filter_chars(&s).nfc().collect();
            prop_assert_eq!(clean(&s), want);
        }

        #[test]
        fn clean_is_the_filtered_nfc_of_vietnamese_text(s in vietnamese_like()) {
            let want: String = filter_chars(&s).nfc().collect();
            prop_assert_eq!(clean(&s), want.clone());
            prop_assert_eq!(clean(&want), want);
        }

        #[test]
        fn canonical_is_idempotent(s in vietnamese_like()) {
            let once = canonical_tones(&s);
            prop_assert_eq!(canonical_tones(&once), once.clone());
            prop_assert!(unicode_normalization::is_nfc(&once));
        }

        #[test]
        fn canonical_is_idempotent_any(s in any::<String>()) {
            let once = canonical_tones(&s);
            prop_assert_eq!(canonical_tones(&once), once.clone());
            prop_assert_eq!(clean(&clean(&s)), clean(&s));
        }

        #[test]
        fn canonical_ignores_normalisation_form(s in vietnamese_like()) {
            prop_assert_eq!(canonical_tones(&nfd(&s)), canonical_tones(&s));
            let nfc: String = s.nfc().collect();
            prop_assert_eq!(canonical_tones(&nfc), canonical_tones(&s));
        }

        #[test]
        fn canonical_ignores_normalisation_form_any(s in any::<String>()) {
            prop_assert_eq!(canonical_tones(&nfd(&s)), canonical_tones(&s));
        }

        #[test]
        fn canonical_only_moves_tones(s in vietnamese_like()) {
            let canonical = canonical_tones(&s);
            prop_assert_eq!(fold(&canonical), fold(&s));
            prop_assert_eq!(lower(&fold(&canonical)), lower(&fold(&s)));
            prop_assert_eq!(tone_counts(&canonical), tone_counts(&s));
        }

        #[test]
        fn canonical_only_moves_tones_any(s in any::<String>()) {
            prop_assert_eq!(fold(&canonical_tones(&s)), fold(&s));
        }

        /// Wherever the tone is put in a syllable, the canonical form is the same.
        #[test]
        fn placement_does_not_matter(
            o in 0..ONSETS.len(), n in 0..NUCLEI.len(), c in 0..CODAS.len(),
            tone in 0..TONE_MARKS.len(), a in any::<prop::sample::Index>(),
            b in any::<prop::sample::Index>(),
        ) {
            let word: Vec<char> = format!("{}{}{}", ONSETS[o], NUCLEI[n], CODAS[c]).chars().collect();
            let put = |at: usize| -> String {
                let mut s: String = word[..=at].iter().collect();
                s.push(TONE_MARKS[tone]);
                s.extend(&word[at + 1..]);
                s
            };
            let (x, y) = (put(a.index(word.len())), put(b.index(word.len())));
            let folded: String = word.iter().collect();
            if lang::is_vietnamese_syllable(&folded) {
                prop_assert_eq!(canonical_tones(&x), canonical_tones(&y));
            }
        }

        #[test]
        fn fold_is_clean_invariant(s in any::<String>()) {
            prop_assert_eq!(fold(&clean(&s)), fold(&s));
            let folded = fold(&s);
            let marked = folded.chars().any(|c| matches!(c, 'đ' | 'Đ') || is_combining_diacritic(c));
            prop_assert!(!marked, "{:?}", folded);
        }

        #[test]
        fn analysis_key_matches_definition(s in syllable()) {
            let (accented, folded) = analysis_key(&s);
            prop_assert_eq!(&accented, &lower(&canonical_tones(&s)));
            prop_assert_eq!(folded, fold(&accented));
            prop_assert_eq!(is_unaccented(&s), fold(&s) == clean(&s));
        }

        #[test]
        fn tokens_are_slices(s in any::<String>()) {
            check_tokens(&s)?;
        }

        #[test]
        fn tokens_are_slices_vietnamese(s in vietnamese_like()) {
            check_tokens(&s)?;
        }
    }

    fn check_tokens(s: &str) -> Result<(), TestCaseError> {
        let mut last: Option<Token<'_>> = None;
        for t in tokens(s) {
            prop_assert!(s.is_char_boundary(t.start) && s.is_char_boundary(t.end));
            prop_assert!(t.start < t.end);
            prop_assert_eq!(t.text, &s[t.start..t.end]);
            prop_assert!(t.text.chars().next().is_some_and(is_word_char));
            prop_assert!(t.text.chars().last().is_some_and(is_word_char));
            if let Some(prev) = last {
                prop_assert!(prev.end <= t.start);
                prop_assert!(t.sentence == prev.sentence || t.sentence == prev.sentence + 1);
                let step = if t.sentence == prev.sentence {
                    1
                } else {
                    SENTENCE_GAP
                };
                prop_assert_eq!(t.position, prev.position + step);
                // Words are maximal: something separates them.
                prop_assert!(prev.end < t.start);
            } else {
                prop_assert_eq!((t.position, t.sentence), (0, 0));
            }
            last = Some(t);
        }
        Ok(())
    }

    #[test]
    fn word_char_fast_path_agrees_with_unicode() {
        for c in (0u32..0x3000).filter_map(char::from_u32) {
            let reference = c.is_alphanumeric() || ('\u{0300}'..='\u{036F}').contains(&c);
            assert_eq!(is_word_char(c), reference, "{c:?} U+{:04X}", c as u32);
        }
    }
}
