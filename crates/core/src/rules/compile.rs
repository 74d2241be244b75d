//! Compiling parsed queries into evaluation plans, literals and the
//! prefilter (see the module documentation of [`super`]).

use std::collections::HashMap;

use aho_corasick::AhoCorasick;

use super::query::{Expr, Query, Term};
use super::{Rule, eval};
use crate::text;

/// One syllable of a literal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct Syllable {
    /// Folded key (lower case, no diacritics).
    pub folded: Box<str>,
    /// Accented key when the rule wrote the syllable with diacritics: a
    /// document word must then have this key or be unaccented.
    pub accented: Option<Box<str>>,
}

/// A word, prefix or exact phrase: consecutive syllables, the last one a
/// prefix if `prefix`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct Literal {
    pub syllables: Vec<Syllable>,
    pub prefix: bool,
    /// Its automaton pattern.
    pub pattern: u32,
}

/// Bit set of fields ([`super::Field::bit`]).
pub(super) type FieldMask = u8;

/// Evaluation plan of a query.
#[derive(Debug, Clone)]
pub(super) enum Plan {
    /// Occurrences of a literal in the given fields.
    Lit {
        lit: u32,
        fields: FieldMask,
    },
    /// `"a b c"~slop`: the literals in order, same field and sentence, at most
    /// `slop` extra words in between altogether.
    Slop {
        lits: Vec<u32>,
        slop: u32,
        fields: FieldMask,
    },
    /// Every `pos` plan matches and no `neg` plan does.
    And {
        pos: Vec<Plan>,
        neg: Vec<Plan>,
    },
    Or(Vec<Plan>),
    Near {
        left: Box<Plan>,
        right: Box<Plan>,
        distance: u32,
        ordered: bool,
    },
}

/// The positive part of a plan as a formula over literals: a document can
/// match only if the formula holds for the literals it contains.
#[derive(Debug, Clone)]
pub(super) enum Req {
    Lit(u32),
    All(Vec<Req>),
    Any(Vec<Req>),
}

/// A set of literal ids.
#[derive(Debug, Clone, Default)]
pub(super) struct LitSet(Vec<u64>);

impl LitSet {
    pub fn with_capacity(literals: usize) -> LitSet {
        LitSet(vec![0; literals.div_ceil(64)])
    }

    pub fn insert(&mut self, lit: u32) {
        if let Some(w) = self.0.get_mut(lit as usize / 64) {
            *w |= 1 << (lit % 64);
        }
    }

    pub fn contains(&self, lit: u32) -> bool {
        self.0
            .get(lit as usize / 64)
            .is_some_and(|w| w & (1 << (lit % 64)) != 0)
    }
}

impl Req {
    /// Whether the formula holds when the literals in `present` occur.
    pub fn holds(&self, present: &LitSet) -> bool {
        match self {
            Req::Lit(l) => present.contains(*l),
            Req::All(items) => items.iter().all(|r| r.holds(present)),
            Req::Any(items) => items.iter().any(|r| r.holds(present)),
        }
    }
}

impl Plan {
    pub fn req(&self) -> Req {
        match self {
            Plan::Lit { lit, .. } => Req::Lit(*lit),
            Plan::Slop { lits, .. } => Req::All(lits.iter().map(|&l| Req::Lit(l)).collect()),
            Plan::And { pos, .. } => Req::All(pos.iter().map(Plan::req).collect()),
            Plan::Or(items) => Req::Any(items.iter().map(Plan::req).collect()),
            Plan::Near { left, right, .. } => Req::All(vec![left.req(), right.req()]),
        }
    }

    /// Whether the positive part of this plan can hold given the literals
    /// present (the same as `self.req().holds(present)`, without building
    /// the formula).
    pub fn possible(&self, present: &LitSet) -> bool {
        match self {
            Plan::Lit { lit, .. } => present.contains(*lit),
            Plan::Slop { lits, .. } => lits.iter().all(|&l| present.contains(l)),
            Plan::And { pos, .. } => pos.iter().all(|p| p.possible(present)),
            Plan::Or(items) => items.iter().any(|p| p.possible(present)),
            Plan::Near { left, right, .. } => left.possible(present) && right.possible(present),
        }
    }

    fn fields(&self) -> FieldMask {
        match self {
            Plan::Lit { fields, .. } | Plan::Slop { fields, .. } => *fields,
            Plan::And { pos, neg } => pos.iter().chain(neg).fold(0, |m, p| m | p.fields()),
            Plan::Or(items) => items.iter().fold(0, |m, p| m | p.fields()),
            Plan::Near { left, right, .. } => left.fields() | right.fields(),
        }
    }
}

/// A compiled rule.
#[derive(Debug)]
pub(super) struct Compiled {
    pub plan: Plan,
    pub req: Req,
}

/// Everything [`super::RuleSet`] needs to evaluate documents.
#[derive(Debug)]
pub(super) struct Engine {
    /// Folded patterns of all literals; `None` without any.
    pub automaton: Option<AhoCorasick>,
    /// The first folded syllable of every trigger literal's pattern as a whole word
    /// (` s1 `), or as the start of one for a one-syllable prefix literal (` s1`):
    /// the prefilter of `eval::may_fire`.
    pub first_syllables: Option<AhoCorasick>,
    /// Literals of each automaton pattern (one folded form can stand for
    /// several accented literals).
    pub pattern_lits: Vec<Vec<u32>>,
    pub literals: Vec<Literal>,
    pub compiled: Vec<Compiled>,
    /// For each literal, the rules whose trigger set holds it (ascending).
    pub triggers: Vec<Vec<u32>>,
    /// Fields some rule looks at.
    pub fields: FieldMask,
    /// Normalised query of each rule (for the fingerprint).
    normalised: Vec<String>,
}

#[derive(Default)]
struct Builder {
    literals: Vec<Literal>,
    literal_ids: HashMap<(Vec<Syllable>, bool), u32>,
    patterns: Vec<String>,
    pattern_ids: HashMap<String, u32>,
    pattern_lits: Vec<Vec<u32>>,
}

impl Builder {
    fn literal(&mut self, words: &[String], prefix: bool) -> u32 {
        let syllables: Vec<Syllable> = words
            .iter()
            .map(|w| {
                let (accented, folded) = text::analysis_key(w);
                let mut key = String::new();
                eval::push_folded_key(w, &mut key);
                Syllable {
                    accented: (!text::is_unaccented(w) && accented != folded)
                        .then(|| accented.into_boxed_str()),
                    folded: key.into_boxed_str(),
                }
            })
            .collect();
        let key = (syllables, prefix);
        if let Some(&id) = self.literal_ids.get(&key) {
            return id;
        }
        let (syllables, prefix) = key;
        let id = u32::try_from(self.literals.len()).unwrap_or(u32::MAX);
        let mut pattern = String::from(" ");
        for s in &syllables {
            pattern.push_str(&s.folded);
            pattern.push(' ');
        }
        if prefix {
            pattern.pop();
        }
        let pid = match self.pattern_ids.get(&pattern) {
            Some(&pid) => pid,
            None => {
                let pid = u32::try_from(self.patterns.len()).unwrap_or(u32::MAX);
                self.pattern_ids.insert(pattern.clone(), pid);
                self.patterns.push(pattern);
                self.pattern_lits.push(Vec::new());
                pid
            }
        };
        self.pattern_lits[pid as usize].push(id);
        self.literal_ids.insert((syllables.clone(), prefix), id);
        self.literals.push(Literal {
            syllables,
            prefix,
            pattern: pid,
        });
        id
    }

    fn term(&mut self, term: &Term, fields: FieldMask) -> Plan {
        match term.slop {
            Some(slop) if term.words.len() > 1 => {
                let last = term.words.len() - 1;
                let lits = term
                    .words
                    .iter()
                    .enumerate()
                    .map(|(i, w)| self.literal(std::slice::from_ref(w), term.prefix && i == last))
                    .collect();
                Plan::Slop { lits, slop, fields }
            }
            _ => Plan::Lit {
                lit: self.literal(&term.words, term.prefix),
                fields,
            },
        }
    }

    fn plan(&mut self, expr: &Expr, fields: FieldMask) -> Plan {
        match expr {
            Expr::Term(term) => self.term(term, fields),
            Expr::Scoped(field, inner) => self.plan(inner, field.bit()),
            Expr::Or(items) => Plan::Or(items.iter().map(|e| self.plan(e, fields)).collect()),
            Expr::Near {
                left,
                right,
                distance,
                ordered,
            } => Plan::Near {
                left: Box::new(self.plan(left, fields)),
                right: Box::new(self.plan(right, fields)),
                distance: *distance,
                ordered: *ordered,
            },
            Expr::And(items) => {
                let mut pos = Vec::new();
                let mut neg = Vec::new();
                for item in items {
                    match negated(item, fields) {
                        Some((inner, f)) => neg.push(self.plan(inner, f)),
                        None => pos.push(self.plan(item, fields)),
                    }
                }
                Plan::And { pos, neg }
            }
            // Validation keeps negations inside ANDs; anything else never
            // matches.
            Expr::Not(..) => Plan::Or(Vec::new()),
        }
    }
}

/// The operand of a negation (looking through field scopes) and its fields.
fn negated(expr: &Expr, fields: FieldMask) -> Option<(&Expr, FieldMask)> {
    match expr {
        Expr::Not(inner, _) => Some((inner, fields)),
        Expr::Scoped(field, inner) => negated(inner, field.bit()),
        _ => None,
    }
}

/// Estimated cost of a literal as a trigger: how often it can be expected in
/// documents (phrases are rare, short words and prefixes frequent).
fn literal_cost(literal: &Literal) -> u32 {
    let first_len = literal.syllables.first().map_or(0, |s| s.folded.len());
    match (literal.syllables.len(), literal.prefix) {
        (1, true) if first_len <= 3 => 16,
        (1, true) => 6,
        (1, false) if first_len <= 2 => 8,
        (1, false) => 4,
        _ => 1,
    }
}

/// A set of literals at least one of which occurs whenever `req` holds,
/// cheap by [`literal_cost`], with its cost.
fn cover(req: &Req, literals: &[Literal]) -> (Vec<u32>, u32) {
    match req {
        Req::Lit(l) => (vec![*l], literal_cost(&literals[*l as usize])),
        Req::Any(items) => {
            let mut lits = Vec::new();
            let mut cost = 0u32;
            for item in items {
                let (l, c) = cover(item, literals);
                lits.extend(l);
                cost = cost.saturating_add(c);
            }
            lits.sort_unstable();
            lits.dedup();
            (lits, cost)
        }
        Req::All(items) => items
            .iter()
            .map(|item| cover(item, literals))
            .min_by_key(|(_, c)| *c)
            // An empty AND cannot be written; it would never match.
            .unwrap_or((Vec::new(), 0)),
    }
}

impl Engine {
    pub fn build(rules: &[Rule], queries: &[Query]) -> Result<Engine, String> {
        let mut b = Builder::default();
        let mut compiled = Vec::with_capacity(rules.len());
        let mut normalised = Vec::with_capacity(rules.len());
        let mut fields: FieldMask = 0;
        for (rule, query) in rules.iter().zip(queries) {
            let default = rule.fields.iter().fold(0, |m, f| m | f.bit());
            let plan = b.plan(&query.expr, default);
            fields |= plan.fields();
            let req = plan.req();
            compiled.push(Compiled { plan, req });
            let mut norm = String::new();
            normal_form(&query.expr, &mut norm);
            normalised.push(norm);
        }
        let mut triggers = vec![Vec::new(); b.literals.len()];
        for (r, c) in compiled.iter().enumerate() {
            let (lits, _) = cover(&c.req, &b.literals);
            for l in lits {
                triggers[l as usize].push(u32::try_from(r).unwrap_or(u32::MAX));
            }
        }
        let automaton = if b.patterns.is_empty() {
            None
        } else {
            Some(
                AhoCorasick::new(&b.patterns)
                    .map_err(|e| format!("cannot build the rule automaton: {e}"))?,
            )
        };
        // The patterns of trigger literals (a rule is looked at only when one of its
        // triggers occurs), cut after their first syllable. A pattern is ` s1 s2 … `;
        // a prefix literal lacks the last space.
        let first: Vec<&str> = b
            .patterns
            .iter()
            .zip(&b.pattern_lits)
            .filter(|(_, lits)| lits.iter().any(|&l| !triggers[l as usize].is_empty()))
            .map(|(p, _)| match p.get(1..).and_then(|rest| rest.find(' ')) {
                Some(at) => &p[..=at + 1],
                None => p.as_str(),
            })
            .collect();
        let first_syllables = if first.is_empty() {
            None
        } else {
            Some(
                // A DFA, without aho-corasick's own prefilter: every pattern starts with
                // a space, so that prefilter stops at every word (a third slower).
                AhoCorasick::builder()
                    .kind(Some(aho_corasick::AhoCorasickKind::DFA))
                    .prefilter(false)
                    .build(first)
                    .map_err(|e| format!("cannot build the rule prefilter: {e}"))?,
            )
        };
        Ok(Engine {
            automaton,
            first_syllables,
            pattern_lits: b.pattern_lits,
            literals: b.literals,
            compiled,
            triggers,
            fields,
            normalised,
        })
    }

    pub fn normalised(&self) -> &[String] {
        &self.normalised
    }

    pub fn evaluate(&self, doc: &super::DocFields<'_>, rules: &[Rule]) -> Vec<super::RuleMatch> {
        eval::evaluate(self, doc, rules, true)
    }

    /// [`Self::evaluate`] without the prefilter (tests check that it changes nothing).
    #[cfg(test)]
    pub fn evaluate_unfiltered(
        &self,
        doc: &super::DocFields<'_>,
        rules: &[Rule],
    ) -> Vec<super::RuleMatch> {
        eval::evaluate(self, doc, rules, false)
    }
}

/// The query with every syllable replaced by its accented key and explicit
/// operators and parentheses: equal for queries that mean the same up to
/// case, tone placement, quoting and spacing.
fn normal_form(expr: &Expr, out: &mut String) {
    match expr {
        Expr::Term(t) => {
            out.push('"');
            for (i, w) in t.words.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(&text::analysis_key(w).0);
            }
            if t.prefix {
                out.push('*');
            }
            out.push('"');
            if let Some(n) = t.slop {
                out.push_str(&format!("~{n}"));
            }
        }
        Expr::And(items) | Expr::Or(items) => {
            let op = if matches!(expr, Expr::Or(_)) {
                " OR "
            } else {
                " AND "
            };
            out.push('(');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(op);
                }
                normal_form(item, out);
            }
            out.push(')');
        }
        Expr::Not(inner, _) => {
            out.push_str("NOT ");
            normal_form(inner, out);
        }
        Expr::Near {
            left,
            right,
            distance,
            ordered,
        } => {
            out.push('(');
            normal_form(left, out);
            out.push_str(if *ordered { " ONEAR/" } else { " NEAR/" });
            out.push_str(&distance.to_string());
            out.push(' ');
            normal_form(right, out);
            out.push(')');
        }
        Expr::Scoped(field, inner) => {
            out.push_str(field.as_str());
            out.push(':');
            normal_form(inner, out);
        }
    }
}
