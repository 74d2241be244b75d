//! Vietnamese analysis for tantivy.
//!
//! Two token streams are indexed for every text field:
//! - `exact`: each syllable in canonical form (NFC, one tone placement, lower case).
//!   A syllable written without diacritics in the document is indexed as it stands, so
//!   the exact field also holds "unaccented text" that an accented query word may match.
//! - `fold`: each syllable without diacritics (`chuyển` → `chuyen`, `đ` → `d`), so an
//!   unaccented query word matches every accented form.
//!
//! Positions come from [`diembao_core::text::tokens`], which leaves a large gap at each
//! sentence end: phrases and proximity never reach across a sentence.

use diembao_core::text;
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

pub const EXACT: &str = "vi_exact";
pub const FOLD: &str = "vi_fold";

/// A syllable tokenizer producing either the exact or the folded form.
#[derive(Clone, Copy, Debug)]
pub struct VietnameseTokenizer {
    fold: bool,
}

impl VietnameseTokenizer {
    pub fn exact() -> Self {
        Self { fold: false }
    }

    pub fn folded() -> Self {
        Self { fold: true }
    }
}

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
        let tokens = text::tokens(input)
            .map(|token| {
                let (exact, folded) = text::analysis_key(token.text);
                Token {
                    offset_from: token.start,
                    offset_to: token.end,
                    position: token.position as usize,
                    text: if self.fold { folded } else { exact },
                    position_length: 1,
                }
            })
            .collect();
        VecTokenStream { tokens, next: 0 }
    }
}

/// The analysed terms of a piece of query text: one `(exact, folded, unaccented)` per syllable.
pub fn query_terms(input: &str) -> Vec<QueryTerm> {
    let cleaned = text::clean(input);
    text::tokens(&cleaned)
        .map(|token| {
            let (exact, folded) = text::analysis_key(token.text);
            QueryTerm {
                unaccented: text::is_unaccented(token.text),
                exact,
                folded,
            }
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryTerm {
    pub exact: String,
    pub folded: String,
    pub unaccented: bool,
}
