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
    collect_words(input, None)
}

/// [`words`], analysing only the words whose folded key may start with `first` and have
/// `len` characters (`wanted(first, len)`); the others are left out (positions are kept,
/// so a gap shows where they were). Much cheaper when few words are wanted (snippets).
/// `input` must be clean text (NFC).
pub fn words_where(input: &str, wanted: impl Fn(char, usize) -> bool) -> Vec<Word> {
    collect_words(input, Some(&wanted))
}

fn collect_words(input: &str, wanted: Option<&dyn Fn(char, usize) -> bool>) -> Vec<Word> {
    let mut out = Vec::new();
    each_piece(input, wanted, |start, end, position, keys| {
        out.push(Word {
            start,
            end,
            position,
            exact: keys.exact.to_string(),
            folded: keys.folded.to_string(),
            unaccented: keys.unaccented,
        });
    });
    out
}

/// Calls `found(start, end, position, keys)` for each word of `input` (each wanted one,
/// see [`words_where`]), in order: the one walk that [`words`] and the tokenizer share.
fn each_piece(
    input: &str,
    wanted: Option<&dyn Fn(char, usize) -> bool>,
    mut found: impl FnMut(usize, usize, u32, &Keys),
) {
    KEY_CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        // Extra positions taken by tokens split into several words.
        let mut extra: u32 = 0;
        for token in text::tokens(input) {
            let base = token.position.saturating_add(extra);
            let mut n: u32 = 0;
            let mut split = |start: usize, end: usize| {
                let piece = &token.text[start..end];
                let position = base.saturating_add(n);
                n += 1;
                if wanted.is_some_and(|wanted| !wanted_piece(piece, wanted)) {
                    return;
                }
                let (start, end) = (token.start + start, token.start + end);
                // One look-up for a piece met before (most of them).
                if let Some(keys) = cache.get(piece) {
                    if !keys.exact.is_empty() {
                        found(start, end, position, keys);
                    }
                    return;
                }
                let keys = compute_keys(piece);
                if !keys.exact.is_empty() {
                    found(start, end, position, &keys);
                }
                if piece.len() <= MAX_CACHED_PIECE {
                    if cache.len() >= KEY_CACHE_SIZE {
                        cache.clear();
                    }
                    cache.insert(piece.into(), keys);
                }
            };
            split_token(token.text, &mut split);
            extra = extra.saturating_add(n.saturating_sub(1));
        }
    });
}

/// Whether the folded key of `piece` may start with a wanted letter and have a wanted
/// length (a letter of clean text folds to one letter).
fn wanted_piece(piece: &str, wanted: &dyn Fn(char, usize) -> bool) -> bool {
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

/// The keys of one piece of a token.
struct Keys {
    /// Canonical accented key, or the piece as written (lower case) without diacritics.
    exact: Box<str>,
    /// Key without diacritics.
    folded: Box<str>,
    /// The piece has no diacritic and no `đ`.
    unaccented: bool,
}

thread_local! {
    /// The keys of the pieces this thread has met. Texts repeat a few thousand syllables
    /// over and over, so indexing and snippets mostly look their keys up instead of
    /// working them out again (up to [`KEY_CACHE_SIZE`] pieces, then it starts again).
    static KEY_CACHE: std::cell::RefCell<rustc_hash::FxHashMap<Box<str>, Keys>> =
        std::cell::RefCell::new(rustc_hash::FxHashMap::default());
}

/// Pieces a thread keeps the keys of at most (a few MB).
const KEY_CACHE_SIZE: usize = 50_000;

/// Longer pieces (URLs, run-together words) are rare and not worth keeping.
const MAX_CACHED_PIECE: usize = 32;

fn compute_keys(piece: &str) -> Keys {
    if is_number(piece) {
        let number: Box<str> = normalize_number(piece).into();
        return Keys {
            exact: number.clone(),
            folded: number,
            unaccented: true,
        };
    }
    let (exact, folded) = text::analysis_key(piece);
    let exact = match i_for_y(&exact) {
        Cow::Borrowed(_) => exact,
        Cow::Owned(changed) => changed,
    };
    Keys {
        exact: exact.into(),
        folded: folded.into(),
        unaccented: text::is_unaccented(piece),
    }
}

/// Sub-ranges of a core token: split where ASCII digits meet other characters, and a
/// dotted date (`13.3.2023`) at its dots.
fn split_token(token: &str, piece: &mut impl FnMut(usize, usize)) {
    // Most tokens are words without a digit: one piece.
    if !token.bytes().any(|b| b.is_ascii_digit()) {
        piece(0, token.len());
        return;
    }
    let mut start = 0;
    let mut in_digits: Option<bool> = None;
    for (i, c) in token.char_indices() {
        // `.` and `,` only occur inside tokens between two digits (see `text::tokens`).
        let digit = c.is_ascii_digit() || (matches!(c, '.' | ',') && in_digits == Some(true));
        match in_digits {
            Some(previous) if previous != digit => {
                push_piece(token, start, i, previous, piece);
                start = i;
            }
            _ => {}
        }
        in_digits = Some(digit);
    }
    if let Some(digits) = in_digits {
        push_piece(token, start, token.len(), digits, piece);
    }
}

fn push_piece(
    token: &str,
    start: usize,
    end: usize,
    digits: bool,
    piece: &mut impl FnMut(usize, usize),
) {
    if digits && is_dotted_date(&token[start..end]) {
        let mut from = start;
        for part in token[start..end].split('.') {
            piece(from, from + part.len());
            from += part.len() + 1;
        }
    } else {
        piece(start, end);
    }
}

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
/// term at the same position. It is handed clean text ([`text::clean`]: the index cleans
/// every analysed value before it stores and tokenizes it, so it is not cleaned twice);
/// offsets refer to that text.
#[derive(Clone, Copy, Debug, Default)]
pub struct VietnameseTokenizer;

/// The tokens of one text. Each word's two terms (folded first, then exact) are laid out
/// in one buffer, and the stream hands them out through one reused [`Token`]: no
/// allocation per term.
pub struct VietnameseTokenStream {
    terms: String,
    words: Vec<WordTerms>,
    /// Index of the next term: word `next / 2`, folded term when even.
    next: usize,
    token: Token,
}

/// One word of a [`VietnameseTokenStream`]: where it is, and its terms in `terms`.
struct WordTerms {
    start: usize,
    end: usize,
    position: u32,
    /// `terms[fold_start..exact_start]` is the folded term, `terms[exact_start..exact_end]`
    /// the exact one.
    fold_start: usize,
    exact_start: usize,
    exact_end: usize,
}

impl TokenStream for VietnameseTokenStream {
    fn advance(&mut self) -> bool {
        let Some(word) = self.words.get(self.next / 2) else {
            return false;
        };
        let range = if self.next.is_multiple_of(2) {
            word.fold_start..word.exact_start
        } else {
            word.exact_start..word.exact_end
        };
        self.next += 1;
        let token = &mut self.token;
        token.offset_from = word.start;
        token.offset_to = word.end;
        token.position = word.position as usize;
        token.position_length = 1;
        token.text.clear();
        token.text.push_str(&self.terms[range]);
        true
    }

    fn token(&self) -> &Token {
        &self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

impl Tokenizer for VietnameseTokenizer {
    type TokenStream<'a> = VietnameseTokenStream;

    fn token_stream<'a>(&'a mut self, input: &'a str) -> VietnameseTokenStream {
        debug_assert_eq!(text::clean(input), input, "the index tokenizes clean text");
        let mut terms = String::with_capacity(input.len() * 2 + 16);
        let mut words = Vec::with_capacity(input.len() / 5);
        each_piece(input, None, |start, end, position, keys| {
            let fold_start = terms.len();
            terms.push(FOLD_MARK);
            terms.push_str(&keys.folded);
            let exact_start = terms.len();
            terms.push_str(&keys.exact);
            words.push(WordTerms {
                start,
                end,
                position,
                fold_start,
                exact_start,
                exact_end: terms.len(),
            });
        });
        VietnameseTokenStream {
            terms,
            words,
            next: 0,
            token: Token::default(),
        }
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
        let input = text::clean("Chuye\u{0302}\u{0309}n đổi");
        let mut stream = tokenizer.token_stream(&input);
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

    proptest::proptest! {
        /// The stream (one buffer, one reused token) hands out exactly the words'
        /// terms: for each word its folded term, then its exact one, at the word's
        /// offsets and position.
        #[test]
        fn the_stream_gives_each_word_folded_then_exact(
            input in "[a-zA-Z0-9àáảãạăắằẳẵặâấầẩẫậđĐèéẻẽẹêếềểễệìíỉĩịòóỏõọôốồổỗộơớờởỡợùúủũụưứừửữựỳýỷỹỵ .,!?/\u{0300}\u{0301}\u{0323}-]{0,80}"
        ) {
            let cleaned = text::clean(&input);
            let expected: Vec<(String, usize, usize, usize)> = words(&cleaned)
                .into_iter()
                .flat_map(|w| {
                    let at = (w.start, w.end, w.position as usize);
                    [(w.fold_term(), at.0, at.1, at.2), (w.exact, at.0, at.1, at.2)]
                })
                .collect();
            let mut tokenizer = VietnameseTokenizer;
            let mut stream = tokenizer.token_stream(&cleaned);
            let mut got = Vec::new();
            while stream.advance() {
                let t = stream.token();
                proptest::prop_assert_eq!(t.position_length, 1);
                got.push((t.text.clone(), t.offset_from, t.offset_to, t.position));
            }
            proptest::prop_assert!(!stream.advance());
            proptest::prop_assert_eq!(got, expected);
        }
    }
}
