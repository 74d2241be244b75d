//! The rule language: `rules.toml` files, their queries, and evaluation of a
//! rule set on documents. Pure code, no I/O.
//!
//! ```
//! use diembao_core::rules::{DocFields, parse_rules};
//!
//! let rules = parse_rules(r#"
//! [[rule]]
//! id = "scam-recruitment"
//! category = "fraud"
//! severity = "high"
//! query = '"việc nhẹ lương cao" NEAR/8 ("chuyển khoản" OR "đặt cọc") NOT "cảnh báo"'
//! "#).expect("valid rules");
//! let doc = DocFields {
//!     title: "Tuyển gấp",
//!     text: "Viec nhe luong cao, chi can dat coc 200k.",
//!     source: "Facebook",
//!     url: "https://www.facebook.com/x/posts/1",
//! };
//! let matches = rules.evaluate(&doc);
//! assert_eq!(matches.len(), 1);
//! assert_eq!(matches[0].terms, ["Viec nhe luong cao", "dat coc"]);
//! ```
//!
//! # Matching
//!
//! Documents and rules are compared a syllable at a time through
//! [`crate::text::analysis_key`]: case, Unicode form (NFC/NFD) and tone-mark
//! placement never matter. A rule word written with diacritics matches the
//! same accented word (`bão` matches `BÃO` and `bão`, never `báo`) and any
//! document word written without diacritics with the same letters (`bao`);
//! a rule word written without diacritics matches every form. A `prefix*`
//! matches the syllables that start with it (folded comparison for an
//! unaccented prefix, accented otherwise, unaccented document words always
//! compared folded). Phrases are consecutive syllables of one sentence
//! (`"a b"~N`: up to N extra words in between, in order).
//!
//! `a NEAR/N b` holds when an occurrence of `a` and a distinct occurrence of
//! `b` in the same field and sentence have at most N other words between them
//! (either order; `ONEAR/N`: `a` first). The occurrences of a group are: for a
//! word or phrase, where it stands; for OR, those of every alternative; for
//! AND, those of both sides; for NEAR, the spans that cover each pair. A
//! negation (`-x`, `NOT x`) holds when `x` occurs nowhere in the fields the
//! rule looks at: it excludes the whole document.
//!
//! Fields: `title`, `text`, `source` (the source name) and `url` (split into
//! runs of letters and digits). Unscoped terms look in the rule's `fields`
//! (default title and text); `field:term` looks in that field only.
//!
//! # Evaluation plan and prefilter
//!
//! [`parse_rules`] compiles every rule once:
//!
//! - each word, prefix and phrase of every rule becomes a *literal*: its
//!   syllables' folded keys, plus the accented key of each syllable written
//!   with diacritics. Identical literals are shared between rules;
//! - one Aho-Corasick automaton holds the folded form of every literal as
//!   ` w1 w2 … ` (a space before and after each syllable; no trailing space
//!   for a prefix). A `"a b"~N` phrase contributes its syllables one by one;
//! - each rule keeps its query as a plan tree over literal ids, a
//!   *requirement* (the positive part as an AND/OR formula over literals,
//!   negations dropped) and a *trigger set*: a few literals at least one of
//!   which occurs in every document that can match (all literals of an OR,
//!   the cheapest operand's trigger set for an AND or NEAR).
//!
//! [`RuleSet::evaluate`] analyses the document once: it tokenises the fields
//! some rule uses ([`crate::text::tokens`]; URLs into runs of letters and
//! digits), computes each token's folded key, and writes the folded tokens
//! into one string (` a b | c # d `: `|` at a sentence end, `#` between
//! fields, so a pattern never spans either). One overlapping automaton pass
//! gives the *hits*: (pattern, first token). Then:
//!
//! 1. a literal *may occur* if its pattern was hit (the folded form is there;
//!    accents are not checked yet, so this over-approximates);
//! 2. the *candidates* are the rules with a trigger literal that may occur;
//! 3. a candidate whose requirement does not hold over the literals that may
//!    occur is dropped (its positive part cannot be satisfied), without
//!    looking at the text;
//! 4. the others run their plan. A plan reads the occurrences of its own
//!    literals only: the hits of the literal's pattern verified syllable by
//!    syllable against the accented keys, computed on first use per document
//!    (the accented key of a token, [`crate::text::analysis_key`], likewise).
//!    AND/OR/NEAR nodes skip operands whose requirement cannot hold.
//!
//! The cost of a document is thus its text (tokenising, folding, one
//! automaton pass) plus work on the literals actually present, never rules ×
//! text: a rule none of whose trigger literals occurs costs nothing. A query
//! made only of negations is rejected at parse time, so every rule has a
//! trigger set.

mod compile;
mod eval;
mod file;
mod query;

#[cfg(test)]
mod tests;

use std::fmt;

use serde::Serialize;

pub use file::parse_rules;
pub use query::{Expr, Query, QueryError, Term, parse_query};

/// A document field a rule can look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Field {
    Title,
    Text,
    Source,
    Url,
}

impl Field {
    /// All fields, in document order.
    pub const ALL: [Field; 4] = [Field::Title, Field::Text, Field::Source, Field::Url];

    pub fn as_str(self) -> &'static str {
        match self {
            Field::Title => "title",
            Field::Text => "text",
            Field::Source => "source",
            Field::Url => "url",
        }
    }

    pub fn parse(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.as_str() == name)
    }

    fn index(self) -> usize {
        self as usize
    }

    fn bit(self) -> u8 {
        1 << self.index()
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Severity of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }

    pub fn parse(name: &str) -> Option<Severity> {
        match name {
            "low" => Some(Severity::Low),
            "medium" => Some(Severity::Medium),
            "high" => Some(Severity::High),
            _ => None,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rule as written in `rules.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// `[a-z0-9-]+`, unique in its file.
    pub id: String,
    pub category: String,
    pub severity: Severity,
    /// The query source text, as written.
    pub query: String,
    /// Where unscoped terms look; never empty, no duplicates.
    pub fields: Vec<Field>,
    /// Line of the rule's `[[rule]]` header in its file (1-based; 0 when the
    /// rule did not come from a file).
    pub line: usize,
}

/// A rule file or query that could not be loaded. Line and column are
/// 1-based, in the file (the column counts characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    /// The rule the error is in, when known.
    pub rule_id: Option<String>,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl RuleError {
    /// `FILE:LINE:COLUMN: rule `id`: message`, the form every command prints.
    pub fn display_in(&self, file: &str) -> String {
        format!("{file}:{}:{}: {}", self.line, self.column, self.describe())
    }

    fn describe(&self) -> String {
        match &self.rule_id {
            Some(id) => format!("rule `{id}`: {}", self.message),
            None => self.message.clone(),
        }
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line,
            self.column,
            self.describe()
        )
    }
}

impl std::error::Error for RuleError {}

/// The fields of a document that rules look at. Strings as stored (any
/// Unicode form); byte offsets in matches refer to them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DocFields<'a> {
    pub title: &'a str,
    pub text: &'a str,
    /// The source name (`Báo Ninh Thuận`, `Facebook`).
    pub source: &'a str,
    pub url: &'a str,
}

impl<'a> DocFields<'a> {
    pub fn get(&self, field: Field) -> &'a str {
        match field {
            Field::Title => self.title,
            Field::Text => self.text,
            Field::Source => self.source,
            Field::Url => self.url,
        }
    }
}

/// A rule that fired on a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleMatch {
    pub rule: String,
    pub category: String,
    pub severity: Severity,
    /// The words and phrases as they stand in the document that made the
    /// rule fire, deduplicated, in document order (title, text, source, url).
    pub terms: Vec<String>,
    /// Where those terms stand: field and byte span in that field, sorted.
    pub offsets: Vec<(Field, usize, usize)>,
}

/// A compiled set of rules, ready to evaluate documents.
#[derive(Debug)]
pub struct RuleSet {
    rules: Vec<Rule>,
    engine: compile::Engine,
}

impl RuleSet {
    /// Compiles rules that did not come from a file (from a database, say).
    /// Errors give line 1 and the column in the query string.
    pub fn from_rules(rules: Vec<Rule>) -> Result<RuleSet, RuleError> {
        let mut parsed = Vec::with_capacity(rules.len());
        let mut seen = std::collections::HashSet::new();
        for rule in &rules {
            let err = |column: usize, message: String| RuleError {
                rule_id: Some(rule.id.clone()),
                line: 1,
                column,
                message,
            };
            if !file::valid_id(&rule.id) {
                return Err(err(1, file::ID_MESSAGE.to_owned()));
            }
            if !seen.insert(rule.id.as_str()) {
                return Err(err(1, "duplicate rule id".to_owned()));
            }
            if rule.fields.is_empty() {
                return Err(err(1, "`fields` must not be empty".to_owned()));
            }
            let query = parse_query(&rule.query).map_err(|e| {
                let column = rule.query[..e.offset.min(rule.query.len())].chars().count() + 1;
                err(column, e.message)
            })?;
            parsed.push(query);
        }
        let engine = compile::Engine::build(&rules, &parsed).map_err(|message| RuleError {
            rule_id: None,
            line: 1,
            column: 1,
            message,
        })?;
        Ok(RuleSet { rules, engine })
    }

    /// The rules, in file order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// A stable 64-bit fingerprint of the rule set (FNV-1a over each rule's
    /// id, category, severity, fields and normalised query, in order): equal
    /// for files that differ only in layout, comments, quoting or spacing of
    /// the queries. Stored tags can be recomputed when it changes.
    pub fn fingerprint(&self) -> u64 {
        let mut hash = Fnv::default();
        for (rule, plan) in self.rules.iter().zip(self.engine.normalised()) {
            hash.write(rule.id.as_bytes());
            hash.write(b"\x1f");
            hash.write(rule.category.as_bytes());
            hash.write(b"\x1f");
            hash.write(rule.severity.as_str().as_bytes());
            hash.write(b"\x1f");
            for field in &rule.fields {
                hash.write(field.as_str().as_bytes());
                hash.write(b",");
            }
            hash.write(b"\x1f");
            hash.write(plan.as_bytes());
            hash.write(b"\x1e");
        }
        hash.0
    }

    /// The rules that fire on `doc`, sorted by rule id.
    pub fn evaluate(&self, doc: &DocFields<'_>) -> Vec<RuleMatch> {
        let mut matches = self.engine.evaluate(doc, &self.rules);
        matches.sort_by(|a, b| a.rule.cmp(&b.rule));
        matches
    }
}

/// FNV-1a, 64 bits.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}
