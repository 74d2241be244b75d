//! The query language of rules: lexer, parser and syntax tree.
//!
//! ```text
//! or    := and ("OR" and)*
//! and   := not ("AND" not)*            a bare space is AND too
//! not   := near ("NOT" near)*          a NOT b = a AND NOT b
//! near  := unary (("NEAR/"N | "ONEAR/"N) unary)*
//! unary := ["-" | "NOT"] [field ":"] atom
//! atom  := "(" or ")" | '"' phrase '"' ["~" N] | word | prefix "*"
//! field := title | text | source | url
//! ```
//!
//! Operators are upper case only: `or`, `and`, `not`, `near` are words. A
//! `NOT` where a term is expected negates it like `-` (`a AND NOT b`).
//! Words and phrases are split into syllables with [`crate::text::tokens`],
//! so `covid-19` is the two-syllable phrase `"covid 19"`. A `*` ends a prefix
//! (`nhacai*`), also at the end of a phrase (`"nhà cái*"`).
//!
//! A query must be able to match on its positive terms alone: a negation is
//! only allowed beside a positive term in an AND (`a -b`, `a NOT b`, `(a -b)
//! NEAR/3 c`), never alone, as an OR alternative or as a NEAR operand.

use std::fmt;

use super::Field;
use crate::text;

/// Deepest nesting of parentheses (and of operator chains) accepted.
const MAX_DEPTH: usize = 64;

/// A syntax error in a query, at a byte offset of the query string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    /// Byte offset in the query of the offending character (the query's
    /// length for an unexpected end).
    pub offset: usize,
    pub message: String,
}

impl QueryError {
    fn new(offset: usize, message: impl Into<String>) -> Self {
        Self {
            offset,
            message: message.into(),
        }
    }
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at byte {}: {}", self.offset, self.message)
    }
}

impl std::error::Error for QueryError {}

/// A word, prefix or phrase of a query, split into syllables as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// Syllables as written in the query (not normalised), at least one.
    pub words: Vec<String>,
    /// The last syllable is a prefix (`word*`).
    pub prefix: bool,
    /// `"phrase"~N`: up to N extra words in between, in order. `None` (or 0)
    /// for consecutive words.
    pub slop: Option<u32>,
    /// Written in quotes.
    pub quoted: bool,
    /// Byte offset of the term in the query.
    pub offset: usize,
}

/// Syntax tree of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    Term(Term),
    /// Every operand holds; AND chains are flattened.
    And(Vec<Expr>),
    /// Some operand holds; OR chains are flattened.
    Or(Vec<Expr>),
    /// `-x` or `NOT x`: the operand does not occur in the document. The
    /// offset is that of the `-` or `NOT`.
    Not(Box<Expr>, usize),
    /// `left NEAR/distance right`, `ONEAR` when `ordered`.
    Near {
        left: Box<Expr>,
        right: Box<Expr>,
        distance: u32,
        ordered: bool,
    },
    /// `field:operand`.
    Scoped(Field, Box<Expr>),
}

/// A parsed, validated query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub expr: Expr,
}

/// Parses and validates a query (see the module documentation).
pub fn parse_query(source: &str) -> Result<Query, QueryError> {
    let tokens = lex(source)?;
    let mut parser = Parser {
        tokens,
        at: 0,
        end: source.len(),
        depth: 0,
    };
    let expr = parser.or()?;
    if let Some(tok) = parser.peek() {
        let message = match tok.kind {
            Kind::RParen => "unmatched `)`".to_owned(),
            _ => format!("unexpected {}", tok.kind.describe()),
        };
        return Err(QueryError::new(tok.offset, message));
    }
    positive(&expr)?;
    Ok(Query { expr })
}

// ---------------------------------------------------------------------------
// lexer

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    LParen,
    RParen,
    Minus,
    Or,
    And,
    Not,
    Near {
        distance: u32,
        ordered: bool,
    },
    Field(Field),
    /// A bare word run (may hold several syllables or a trailing `*`).
    Word(String),
    Phrase {
        text: String,
        slop: Option<u32>,
    },
}

impl Kind {
    fn describe(&self) -> String {
        match self {
            Kind::LParen => "`(`".to_owned(),
            Kind::RParen => "`)`".to_owned(),
            Kind::Minus => "`-`".to_owned(),
            Kind::Or => "`OR`".to_owned(),
            Kind::And => "`AND`".to_owned(),
            Kind::Not => "`NOT`".to_owned(),
            Kind::Near { ordered, distance } => {
                format!("`{}NEAR/{distance}`", if *ordered { "O" } else { "" })
            }
            Kind::Field(f) => format!("`{}:`", f.as_str()),
            Kind::Word(w) => format!("word `{w}`"),
            Kind::Phrase { text, .. } => format!("phrase \"{text}\""),
        }
    }

    /// Can start an operand (an implicit AND continues with it).
    fn starts_operand(&self) -> bool {
        matches!(
            self,
            Kind::LParen | Kind::Minus | Kind::Field(_) | Kind::Word(_) | Kind::Phrase { .. }
        )
    }
}

#[derive(Debug, Clone)]
struct Tok {
    kind: Kind,
    offset: usize,
}

fn is_run_end(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '"')
}

fn lex(source: &str) -> Result<Vec<Tok>, QueryError> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(c) = source[i..].chars().next() {
        if c.is_whitespace() {
            i += c.len_utf8();
            continue;
        }
        let start = i;
        match c {
            '(' | ')' => {
                let kind = if c == '(' { Kind::LParen } else { Kind::RParen };
                out.push(Tok {
                    kind,
                    offset: start,
                });
                i += 1;
            }
            '"' => {
                let body = start + 1;
                let Some(len) = source[body..].find('"') else {
                    return Err(QueryError::new(start, "unterminated phrase: missing `\"`"));
                };
                let text = source[body..body + len].to_owned();
                i = body + len + 1;
                let mut slop = None;
                if source[i..].starts_with('~') {
                    let digits = source[i + 1..]
                        .find(|c: char| !c.is_ascii_digit())
                        .unwrap_or(source.len() - i - 1);
                    if digits == 0 {
                        return Err(QueryError::new(i, "expected a number after `~`"));
                    }
                    let number = &source[i + 1..i + 1 + digits];
                    slop = Some(
                        number
                            .parse::<u32>()
                            .map_err(|_| QueryError::new(i + 1, "number too large"))?,
                    );
                    i += 1 + digits;
                }
                out.push(Tok {
                    kind: Kind::Phrase { text, slop },
                    offset: start,
                });
            }
            '-' => {
                match source[i + 1..].chars().next() {
                    Some(n) if !n.is_whitespace() && n != ')' => {}
                    _ => return Err(QueryError::new(start, "`-` must be followed by a term")),
                }
                out.push(Tok {
                    kind: Kind::Minus,
                    offset: start,
                });
                i += 1;
            }
            _ => {
                let len = source[i..].find(is_run_end).unwrap_or(source.len() - i);
                let run = &source[i..i + len];
                i += len;
                lex_run(run, start, &mut out, &mut i)?;
            }
        }
    }
    Ok(out)
}

/// A run of non-space characters other than parentheses and quotes: an
/// operator, a field prefix or a word.
fn lex_run(
    run: &str,
    start: usize,
    out: &mut Vec<Tok>,
    next: &mut usize,
) -> Result<(), QueryError> {
    let kind = match run {
        "OR" => Kind::Or,
        "AND" => Kind::And,
        "NOT" => Kind::Not,
        "NEAR" | "ONEAR" => {
            return Err(QueryError::new(
                start,
                format!("`{run}` needs a distance, as in `{run}/5`"),
            ));
        }
        _ => {
            let near = run
                .strip_prefix("NEAR/")
                .map(|n| (n, false, 5))
                .or_else(|| run.strip_prefix("ONEAR/").map(|n| (n, true, 6)));
            if let Some((number, ordered, skip)) = near {
                if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(QueryError::new(
                        start + skip,
                        format!("expected a number of words after `{}`", &run[..skip]),
                    ));
                }
                let distance = number
                    .parse::<u32>()
                    .map_err(|_| QueryError::new(start + skip, "number too large"))?;
                Kind::Near { distance, ordered }
            } else if let Some(colon) = run.find(':').filter(|&c| {
                // Right after `field:` a colon is part of the word (`url:https://…`).
                !matches!(
                    out.last(),
                    Some(Tok {
                        kind: Kind::Field(_),
                        ..
                    })
                ) && c > 0
                    && run[..c].bytes().all(|b| b.is_ascii_alphabetic())
            }) {
                let name = &run[..colon];
                let Some(field) = Field::parse(name) else {
                    return Err(QueryError::new(
                        start,
                        format!("unknown field `{name}` (expected title, text, source or url)"),
                    ));
                };
                out.push(Tok {
                    kind: Kind::Field(field),
                    offset: start,
                });
                // Whatever follows the colon is lexed again as a new token.
                *next = start + colon + 1;
                return Ok(());
            } else {
                Kind::Word(run.to_owned())
            }
        }
    };
    out.push(Tok {
        kind,
        offset: start,
    });
    Ok(())
}

// ---------------------------------------------------------------------------
// parser

struct Parser {
    tokens: Vec<Tok>,
    at: usize,
    /// Length of the query: the offset of an unexpected end.
    end: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.at)
    }

    fn peek_kind(&self) -> Option<&Kind> {
        self.peek().map(|t| &t.kind)
    }

    fn bump(&mut self) -> Option<Tok> {
        let tok = self.tokens.get(self.at).cloned();
        self.at += 1;
        tok
    }

    fn offset(&self) -> usize {
        self.peek().map_or(self.end, |t| t.offset)
    }

    fn or(&mut self) -> Result<Expr, QueryError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(QueryError::new(self.offset(), "query nested too deeply"));
        }
        let mut items = vec![self.and()?];
        while self.peek_kind() == Some(&Kind::Or) {
            self.bump();
            items.push(self.and()?);
        }
        self.depth -= 1;
        Ok(flatten(items, true))
    }

    fn and(&mut self) -> Result<Expr, QueryError> {
        let mut items = vec![self.not()?];
        loop {
            match self.peek_kind() {
                Some(Kind::And) => {
                    self.bump();
                    items.push(self.not()?);
                }
                Some(k) if k.starts_operand() => items.push(self.not()?),
                _ => break,
            }
        }
        Ok(flatten(items, false))
    }

    fn not(&mut self) -> Result<Expr, QueryError> {
        let first = self.near()?;
        if self.peek_kind() != Some(&Kind::Not) {
            return Ok(first);
        }
        let mut items = vec![first];
        while let Some(Tok {
            kind: Kind::Not,
            offset,
        }) = self.peek().cloned()
        {
            self.bump();
            items.push(Expr::Not(Box::new(self.near()?), offset));
        }
        Ok(flatten(items, false))
    }

    fn near(&mut self) -> Result<Expr, QueryError> {
        let mut left = self.unary()?;
        // Each link of a NEAR chain nests the tree one level deeper.
        let depth = self.depth;
        while let Some(&Kind::Near { distance, ordered }) = self.peek_kind() {
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err(QueryError::new(self.offset(), "query nested too deeply"));
            }
            self.bump();
            let right = self.unary()?;
            left = Expr::Near {
                left: Box::new(left),
                right: Box::new(right),
                distance,
                ordered,
            };
        }
        self.depth = depth;
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, QueryError> {
        if let Some(Tok {
            kind: Kind::Minus | Kind::Not,
            offset,
        }) = self.peek().cloned()
        {
            self.bump();
            let operand = self.scoped()?;
            return Ok(Expr::Not(Box::new(operand), offset));
        }
        self.scoped()
    }

    fn scoped(&mut self) -> Result<Expr, QueryError> {
        if let Some(&Kind::Field(field)) = self.peek_kind() {
            self.bump();
            let atom = self.atom()?;
            return Ok(Expr::Scoped(field, Box::new(atom)));
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Expr, QueryError> {
        let offset = self.offset();
        let Some(tok) = self.bump() else {
            return Err(QueryError::new(
                offset,
                "expected a term, found the end of the query",
            ));
        };
        match tok.kind {
            Kind::LParen => {
                let inner = self.or()?;
                match self.bump() {
                    Some(Tok {
                        kind: Kind::RParen, ..
                    }) => Ok(inner),
                    Some(other) => Err(QueryError::new(
                        other.offset,
                        format!("expected `)`, found {}", other.kind.describe()),
                    )),
                    None => Err(QueryError::new(offset, "unclosed `(`")),
                }
            }
            Kind::Word(run) => word_term(&run, offset).map(Expr::Term),
            Kind::Phrase { text, slop } => phrase_term(&text, slop, offset).map(Expr::Term),
            other => Err(QueryError::new(
                offset,
                format!("expected a term, found {}", other.describe()),
            )),
        }
    }
}

/// Joins AND or OR operands, flattening nested chains of the same operator.
fn flatten(items: Vec<Expr>, or: bool) -> Expr {
    if items.len() == 1 {
        return items.into_iter().next().unwrap_or(Expr::And(Vec::new()));
    }
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        match (item, or) {
            (Expr::Or(inner), true) | (Expr::And(inner), false) => out.extend(inner),
            (item, _) => out.push(item),
        }
    }
    if or { Expr::Or(out) } else { Expr::And(out) }
}

/// Syllables of a word or phrase text, with a trailing `*` as prefix marker.
/// `base` is the byte offset of `text` in the query.
fn syllables(text: &str, base: usize) -> Result<(Vec<String>, bool), QueryError> {
    let trimmed = text.trim_end();
    let (body, prefix) = match trimmed.strip_suffix('*') {
        Some(body) => {
            if !body.chars().next_back().is_some_and(text::is_word_char) {
                return Err(QueryError::new(
                    base + body.len(),
                    "`*` must follow a letter or digit, as in `nhacai*`",
                ));
            }
            (body, true)
        }
        None => (trimmed, false),
    };
    if let Some(star) = body.find('*') {
        return Err(QueryError::new(
            base + star,
            "`*` is only allowed at the end of a word",
        ));
    }
    let words: Vec<String> = text::tokens(body).map(|t| t.text.to_owned()).collect();
    if words.is_empty() {
        return Err(QueryError::new(base, "no letters or digits in this term"));
    }
    Ok((words, prefix))
}

fn word_term(run: &str, offset: usize) -> Result<Term, QueryError> {
    let (words, prefix) = syllables(run, offset)?;
    Ok(Term {
        words,
        prefix,
        slop: None,
        quoted: false,
        offset,
    })
}

fn phrase_term(text: &str, slop: Option<u32>, offset: usize) -> Result<Term, QueryError> {
    if text.trim().is_empty() {
        return Err(QueryError::new(offset, "empty phrase"));
    }
    let (words, prefix) = syllables(text, offset + 1)?;
    Ok(Term {
        words,
        prefix,
        slop: slop.filter(|&n| n > 0),
        quoted: true,
        offset,
    })
}

// ---------------------------------------------------------------------------
// validation

/// Offset of a negation, looking through field scopes.
fn negation(expr: &Expr) -> Option<usize> {
    match expr {
        Expr::Not(_, offset) => Some(*offset),
        Expr::Scoped(_, inner) => negation(inner),
        _ => None,
    }
}

/// Checks that `expr` can match on positive terms: negations only as AND
/// operands beside a positive one.
fn positive(expr: &Expr) -> Result<(), QueryError> {
    match expr {
        Expr::Term(_) => Ok(()),
        Expr::Not(_, offset) => Err(QueryError::new(
            *offset,
            "a negation needs a positive term beside it (as in `a -b` or `a NOT b`)",
        )),
        Expr::Scoped(_, inner) => positive(inner),
        Expr::Or(items) => items.iter().try_for_each(positive),
        Expr::Near { left, right, .. } => {
            positive(left)?;
            positive(right)
        }
        Expr::And(items) => {
            let mut first_negation = None;
            let mut has_positive = false;
            for item in items {
                match (negation(item), item) {
                    (Some(offset), _) => {
                        first_negation.get_or_insert(offset);
                        positive(unnegate(item))?;
                    }
                    (None, item) => {
                        has_positive = true;
                        positive(item)?;
                    }
                }
            }
            match first_negation {
                Some(offset) if !has_positive => Err(QueryError::new(
                    offset,
                    "a negation needs a positive term beside it (as in `a -b` or `a NOT b`)",
                )),
                _ => Ok(()),
            }
        }
    }
}

/// The operand of a (possibly scoped) negation.
fn unnegate(expr: &Expr) -> &Expr {
    match expr {
        Expr::Not(inner, _) => inner,
        Expr::Scoped(_, inner) => unnegate(inner),
        other => other,
    }
}

// ---------------------------------------------------------------------------
// display: the normalised form of a query

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let joined = self.words.join(" ");
        let star = if self.prefix { "*" } else { "" };
        // Quoted when written so, or when it would read back as an operator.
        let keyword =
            !self.prefix && matches!(joined.as_str(), "OR" | "AND" | "NOT" | "NEAR" | "ONEAR");
        if self.quoted || keyword || self.words.len() > 1 {
            write!(f, "\"{joined}{star}\"")?;
            if let Some(n) = self.slop {
                write!(f, "~{n}")?;
            }
            Ok(())
        } else {
            write!(f, "{joined}{star}")
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Term(t) => t.fmt(f),
            Expr::And(items) | Expr::Or(items) => {
                let op = if matches!(self, Expr::Or(_)) {
                    " OR "
                } else {
                    " AND "
                };
                f.write_str("(")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(op)?;
                    }
                    item.fmt(f)?;
                }
                f.write_str(")")
            }
            Expr::Not(inner, _) => write!(f, "-{inner}"),
            Expr::Near {
                left,
                right,
                distance,
                ordered,
            } => {
                let o = if *ordered { "O" } else { "" };
                write!(f, "({left} {o}NEAR/{distance} {right})")
            }
            Expr::Scoped(field, inner) => match **inner {
                Expr::Not(..) | Expr::Scoped(..) => write!(f, "{}:({inner})", field.as_str()),
                _ => write!(f, "{}:{inner}", field.as_str()),
            },
        }
    }
}

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.expr.fmt(f)
    }
}
