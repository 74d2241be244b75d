//! Vietnamese analysis for tantivy: one token stream with two terms per word.
//!
//! Every word of a text (from [`diembao_core::text::tokens`], refined by [`words`]) is
//! indexed at its position as two terms:
//!
//! - the **exact** key: the syllable in canonical form (NFC, one tone placement, lower
//!   case, `Ð` → `đ`, `kỹ` → `kĩ`); a word written without diacritics in the document is
//!   indexed as it stands, so these terms also hold the "unaccented text" that an accented
//!   query word may match;
//! - the **folded** key behind [`FOLD_MARK`] (`~chuyen` for `chuyển`, `Chuyen`, `CHUYỂN`),
//!   which an unaccented query word matches whatever the accents of the document.
//!
//! Both terms live in one field at the same position, so a phrase can mix the two kinds
//! of query word ("chuyen đổi so"), each position keeping its own accent rule:
//!
//! | query word | matches the terms |
//! |------------|-------------------|
//! | unaccented `bao` | `~bao` (bão, báo, bảo, bao …) |
//! | accented `bão` | `bão` (same syllable) or `bao` (document word without diacritics) |
//!
//! Positions come from [`text::tokens`], which leaves a gap of [`text::SENTENCE_GAP`] at
//! each sentence end: phrases and proximity never reach across a sentence.
//!
//! Besides the core tokenisation, a word is split where letters meet digits (`covid19` →
//! `covid 19`, `U15` → `u 15`, so `COVID-19`, `Covid 19` and `covid19` are one phrase),
//! numbers lose thousands separators and leading zeros (`25.000` → `25000`, `03` → `3`,
//! so `13/03/2023` is the phrase `13 3 2023` like `13/3/2023`, and never `31 3 2023`), and
//! a dotted date `13.3.2023` splits like `13/3/2023`.

use std::borrow::Cow;

use diembao_core::text;
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// Name of the tokenizer of every analysed text field.
pub const VIETNAMESE: &str = "vi";

/// Prefix of the folded term of a word.
pub const FOLD_MARK: char = '~';

/// One analysed word of a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// Byte range of the word in the analysed text.
    pub start: usize,
    pub end: usize,
    /// Word position; jumps by [`text::SENTENCE_GAP`] at a sentence end.
    pub position: u32,
    /// Canonical accented key (`hòa`, `kĩ`), or the word as written when it has no
    /// diacritics (lower case).
    pub exact: String,
    /// Key without diacritics (`hoa`, `ky`).
    pub folded: String,
    /// The word has no diacritic and no `đ`.
    pub unaccented: bool,
}

impl Word {
    /// The index term that every form of the word's letters shares.
    pub fn fold_term(&self) -> String {
        fold_term(&self.folded)
    }
}

/// The folded index term of a folded key.
pub fn fold_term(folded: &str) -> String {
    let mut out = String::with_capacity(folded.len() + 1);
    out.push(FOLD_MARK);
    out.push_str(folded);
    out
}

/// The words of a text, with their keys and positions. Offsets refer to `input` as given;
/// pass clean text ([`text::clean`]) so that offsets, keys and display agree.
pub fn words(input: &str) -> Vec<Word> {
    words_where(input, |_, _| true)
}

/// [`words`], analysing only the words whose folded key may start with `first` and have
/// `len` characters (`wanted(first, len)`); the others are left out (positions are kept,
/// so a gap shows where they were). Much cheaper when few words are wanted (snippets).
/// `input` must be clean text (NFC).
pub fn words_where(input: &str, wanted: impl Fn(char, usize) -> bool) -> Vec<Word> {
    let mut out = Vec::new();
    // Extra positions taken by tokens split into several words.
    let mut extra: u32 = 0;
    for token in text::tokens(input) {
        let base = token.position.saturating_add(extra);
        let mut n: u32 = 0;
        for (start, end) in split_token(token.text) {
            let piece = &token.text[start..end];
            let position = base.saturating_add(n);
            n += 1;
            if !wanted_piece(piece, &wanted) {
                continue;
            }
            let (exact, folded, unaccented) = keys(piece);
            if exact.is_empty() {
                continue;
            }
            out.push(Word {
                start: token.start + start,
                end: token.start + end,
                position,
                exact,
                folded,
                unaccented,
            });
        }
        extra = extra.saturating_add(n.saturating_sub(1));
    }
    out
}

/// Whether the folded key of `piece` may start with a wanted letter and have a wanted
/// length (a letter of clean text folds to one letter).
fn wanted_piece(piece: &str, wanted: &impl Fn(char, usize) -> bool) -> bool {
    if is_number(piece) {
        let number = normalize_number(piece);
        return number
            .chars()
            .next()
            .is_some_and(|first| wanted(first, number.chars().count()));
    }
    let Some(first) = piece.chars().next() else {
        return false;
    };
    let first = if first.is_ascii() {
        first.to_ascii_lowercase()
    } else {
        text::fold(first.encode_utf8(&mut [0; 4]))
            .chars()
            .next()
            .map_or(first, |c| c.to_lowercase().next().unwrap_or(c))
    };
    wanted(first, piece.chars().count())
}

fn is_number(piece: &str) -> bool {
    piece
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'.' || b == b',')
}

/// `(exact, folded, unaccented)` of one piece of a token. Texts repeat a few thousand
/// syllables over and over, so each thread remembers the keys of the pieces it has met
/// (up to [`KEY_CACHE_SIZE`], then it starts again): indexing and snippets mostly look
/// their keys up instead of working them out again.
fn keys(piece: &str) -> (String, String, bool) {
    thread_local! {
        static CACHE: std::cell::RefCell<std::collections::HashMap<Box<str>, (String, String, bool)>> =
            std::cell::RefCell::new(std::collections::HashMap::new());
    }
    if piece.len() > MAX_CACHED_PIECE {
        return compute_keys(piece);
    }
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(found) = cache.get(piece) {
            return found.clone();
        }
        let computed = compute_keys(piece);
        if cache.len() >= KEY_CACHE_SIZE {
            cache.clear();
        }
        cache.insert(piece.into(), computed.clone());
        computed
    })
}

/// Pieces a thread keeps the keys of at most (a few MB).
const KEY_CACHE_SIZE: usize = 50_000;

/// Longer pieces (URLs, run-together words) are rare and not worth keeping.
const MAX_CACHED_PIECE: usize = 32;

fn compute_keys(piece: &str) -> (String, String, bool) {
    if piece
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'.' || b == b',')
    {
        let number = normalize_number(piece);
        return (number.clone(), number, true);
    }
    let (exact, folded) = text::analysis_key(piece);
    let exact = match i_for_y(&exact) {
        Cow::Borrowed(_) => exact,
        Cow::Owned(changed) => changed,
    };
    (exact, folded, text::is_unaccented(piece))
}

/// Sub-ranges of a core token: split where ASCII digits meet other characters, and a
/// dotted date (`13.3.2023`) at its dots.
fn split_token(token: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::with_capacity(1);
    let mut start = 0;
    let mut in_digits: Option<bool> = None;
    for (i, c) in token.char_indices() {
        // `.` and `,` only occur inside tokens between two digits (see `text::tokens`).
        let digit = c.is_ascii_digit() || (matches!(c, '.' | ',') && in_digits == Some(true));
        match in_digits {
            Some(previous) if previous != digit => {
                push_piece(token, start, i, previous, &mut out);
                start = i;
            }
            _ => {}
        }
        in_digits = Some(digit);
    }
    if let Some(digits) = in_digits {
        push_piece(token, start, token.len(), digits, &mut out);
    }
    out
}

fn push_piece(token: &str, start: usize, end: usize, digits: bool, out: &mut Vec<(usize, usize)>) {
    if digits && is_dotted_date(&token[start..end]) {
        let mut from = start;
        for part in token[start..end].split('.') {
            out.push((from, from + part.len()));
            from += part.len() + 1;
        }
    } else {
        out.push((start, end));
    }
}

/// `d.m.yyyy` or `dd.mm.yy` (one or two digits, one or two digits, two or four digits).
fn is_dotted_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    matches!(parts.as_slice(), [d, m, y]
        if (1..=2).contains(&d.len()) && (1..=2).contains(&m.len())
            && matches!(y.len(), 2 | 4)
            && [d, m, y].iter().all(|p| p.bytes().all(|b| b.is_ascii_digit())))
}

/// Thousands separators (`1.500.000` → `1500000`) and leading zeros (`03` → `3`) removed;
/// decimals (`7,8`, `3.14`) kept as written.
fn normalize_number(s: &str) -> String {
    let groups: Vec<&str> = s.split('.').collect();
    let thousands = groups.len() > 1
        && (1..=3).contains(&groups[0].len())
        && groups[1..].iter().all(|g| g.len() == 3)
        && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit()));
    let joined: Cow<'_, str> = if thousands {
        Cow::Owned(groups.concat())
    } else {
        Cow::Borrowed(s)
    };
    if joined.bytes().all(|b| b.is_ascii_digit()) {
        let trimmed = joined.trim_start_matches('0');
        if trimmed.is_empty() {
            "0".to_owned()
        } else {
            trimmed.to_owned()
        }
    } else {
        joined.into_owned()
    }
}

/// The two spellings of an open syllable in `i`/`y` are one word (`kỹ`/`kĩ`, `lý`/`lí`,
/// `quý`/`quí`, `Mỹ`/`Mĩ`, `sỹ`/`sĩ`, `tỷ`/`tỉ`, `hy`/`hi`): the exact key uses `i`.
/// Only after the onsets where both spellings are in use; the folded key is left alone
/// (an unaccented query word matches by its letters).
fn i_for_y(key: &str) -> Cow<'_, str> {
    let Some(last) = key.chars().next_back() else {
        return Cow::Borrowed(key);
    };
    let i = match last {
        'y' => 'i',
        'ý' => 'í',
        'ỳ' => 'ì',
        'ỷ' => 'ỉ',
        'ỹ' => 'ĩ',
        'ỵ' => 'ị',
        _ => return Cow::Borrowed(key),
    };
    let onset = &key[..key.len() - last.len_utf8()];
    if matches!(onset, "h" | "k" | "l" | "m" | "s" | "t" | "qu") {
        let mut out = String::with_capacity(key.len());
        out.push_str(onset);
        out.push(i);
        Cow::Owned(out)
    } else {
        Cow::Borrowed(key)
    }
}

/// The tokenizer of the analysed fields: for each word, its exact term and its folded
/// term at the same position. The input is cleaned first ([`text::clean`]); offsets refer
/// to the cleaned text, which is what the index stores.
#[derive(Clone, Copy, Debug, Default)]
pub struct VietnameseTokenizer;

pub struct VecTokenStream {
    tokens: Vec<Token>,
    next: usize,
}

impl TokenStream for VecTokenStream {
    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len() {
            self.next += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

impl Tokenizer for VietnameseTokenizer {
    type TokenStream<'a> = VecTokenStream;

    fn token_stream<'a>(&'a mut self, input: &'a str) -> VecTokenStream {
        let cleaned = text::clean(input);
        let words = words(&cleaned);
        let mut tokens = Vec::with_capacity(words.len() * 2);
        for word in words {
            let fold = word.fold_term();
            let token = |text: String| Token {
                offset_from: word.start,
                offset_to: word.end,
                position: word.position as usize,
                text,
                position_length: 1,
            };
            tokens.push(token(fold));
            tokens.push(token(word.exact));
        }
        VecTokenStream { tokens, next: 0 }
    }
}

/// One analysed word of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryTerm {
    /// Exact key (see [`Word::exact`]).
    pub exact: String,
    /// The exact key a document word with the same letters and no diacritics has.
    pub plain: String,
    /// Folded key.
    pub folded: String,
    /// Typed without diacritics: matches every accented form.
    pub unaccented: bool,
}

impl QueryTerm {
    /// Whether a document word matches this query word: an unaccented query word matches
    /// every word with its letters; an accented one the same syllable or the same letters
    /// written without diacritics.
    pub fn matches(&self, word: &Word) -> bool {
        if self.unaccented {
            word.folded == self.folded
        } else {
            word.exact == self.exact || (word.unaccented && word.exact == self.plain)
        }
    }
}

/// The analysed words of a piece of query text.
pub fn query_terms(input: &str) -> Vec<QueryTerm> {
    words(&text::clean(input))
        .into_iter()
        .map(|word| {
            let plain = if word.unaccented {
                word.exact.clone()
            } else {
                i_for_y(&word.folded).into_owned()
            };
            QueryTerm {
                exact: word.exact,
                plain,
                folded: word.folded,
                unaccented: word.unaccented,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys_of(s: &str) -> Vec<(String, u32)> {
        words(s)
            .into_iter()
            .map(|w| (w.exact, w.position))
            .collect()
    }

    fn exact(s: &str) -> Vec<String> {
        words(s).into_iter().map(|w| w.exact).collect()
    }

    #[test]
    fn words_split_letters_and_digits() {
        assert_eq!(
            exact("covid19 COVID-19 Covid 19"),
            ["covid", "19", "covid", "19", "covid", "19"]
        );
        assert_eq!(
            exact("U15 5G H5N1"),
            ["u", "15", "5", "g", "h", "5", "n", "1"]
        );
        let positions: Vec<u32> = words("a covid19 b. c").iter().map(|w| w.position).collect();
        assert_eq!(positions, [0, 1, 2, 3, 1003]);
        assert_eq!(exact("1.500đ"), ["1500", "đ"]);
    }

    #[test]
    fn numbers_and_dates() {
        assert_eq!(
            exact("13/3/2023 13/03/2023 13-3-2023 13.3.2023"),
            [
                "13", "3", "2023", "13", "3", "2023", "13", "3", "2023", "13", "3", "2023"
            ]
        );
        assert_eq!(exact("31/3/2023"), ["31", "3", "2023"]);
        assert_eq!(
            exact("25.000 đồng, 1.500.000, 7,8% 3.14 000 0912"),
            ["25000", "đồng", "1500000", "7,8", "3.14", "0", "912"]
        );
        assert_eq!(
            exact("quý I/2023 quý II/2023"),
            ["quí", "i", "2023", "quí", "ii", "2023"]
        );
    }

    #[test]
    fn i_and_y_spellings_meet_in_the_exact_key() {
        assert_eq!(
            exact("kỹ kĩ lý lí quý quí Mỹ tỷ công ty"),
            [
                "kĩ", "kĩ", "lí", "lí", "quí", "quí", "mĩ", "tỉ", "công", "ti"
            ]
        );
        // Not after other onsets, nor in other nuclei, nor alone (roman I is not y).
        assert_eq!(
            exact("y Vy thủy tay ý I"),
            ["y", "vy", "thủy", "tay", "ý", "i"]
        );
        // The folded key keeps the letters.
        let folded: Vec<String> = words("kỹ lí").into_iter().map(|w| w.folded).collect();
        assert_eq!(folded, ["ky", "li"]);
    }

    #[test]
    fn words_where_keeps_positions() {
        let text = "Ông Đức đến Đà Nẵng ngày 05/3, covid19.";
        let all = words(text);
        let wanted: Vec<(char, usize)> = ["duc", "nang", "5", "19"]
            .iter()
            .map(|k| (k.chars().next().unwrap_or(' '), k.len()))
            .collect();
        let some = words_where(text, |first, len| wanted.contains(&(first, len)));
        // A prefilter: every word returned is the same as in `words`, with its position,
        // and every wanted word is returned.
        assert!(some.iter().all(|w| all.contains(w)), "{some:?}");
        for key in ["duc", "nang", "5", "19"] {
            assert!(some.iter().any(|w| w.folded == key), "{key}");
        }
        assert!(some.len() < all.len());
    }

    #[test]
    fn sentence_gaps_survive_splitting() {
        assert_eq!(
            keys_of("Thuận. Phát"),
            [("thuận".to_owned(), 0), ("phát".to_owned(), 1000)]
        );
    }

    #[test]
    fn query_terms_follow_the_matching_rules() {
        let doc = |s: &str| words(&text::clean(s));
        let [bao] = query_terms("bão").try_into().expect("one term");
        assert!(!bao.unaccented);
        assert!(bao.matches(&doc("BÃO")[0]));
        assert!(bao.matches(&doc("bao")[0]));
        assert!(!bao.matches(&doc("báo")[0]));
        let [plain] = query_terms("BAO").try_into().expect("one term");
        for form in ["bão", "báo", "bao", "Bảo"] {
            assert!(plain.matches(&doc(form)[0]), "{form}");
        }
        let [hoa] = query_terms("ho\u{0300}a").try_into().expect("one term");
        assert!(hoa.matches(&doc("Hoà")[0]) && hoa.matches(&doc("hòa")[0]));
        assert!(!hoa.matches(&doc("hóa")[0]));
        let [dien] = query_terms("\u{00D0}iện").try_into().expect("one term");
        assert!(dien.matches(&doc("ĐIỆN")[0]));
        assert!(!dien.unaccented);
        let [ky] = query_terms("kĩ").try_into().expect("one term");
        assert!(ky.matches(&doc("kỹ")[0]) && ky.matches(&doc("ky")[0]));
        assert!(ky.matches(&doc("ki")[0]));
        assert!(!ky.matches(&doc("kí")[0]));
    }

    #[test]
    fn tokenizer_emits_two_terms_per_position() {
        let mut tokenizer = VietnameseTokenizer;
        let mut stream = tokenizer.token_stream("Chuye\u{0302}\u{0309}n đổi");
        let mut seen = Vec::new();
        while stream.advance() {
            let t = stream.token();
            seen.push((t.text.clone(), t.position));
        }
        assert_eq!(
            seen,
            [
                ("~chuyen".to_owned(), 0),
                ("chuyển".to_owned(), 0),
                ("~doi".to_owned(), 1),
                ("đổi".to_owned(), 1)
            ]
        );
    }
}
