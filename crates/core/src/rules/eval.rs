//! Evaluating a compiled rule set on one document (see the module
//! documentation of [`super`] for the prefilter).

use std::collections::HashMap;

use aho_corasick::AhoCorasick;

use super::compile::{Engine, FieldMask, LitSet, Literal, Plan};
use super::{DocFields, Field, Rule, RuleMatch};
use crate::text;

/// Most spans a NEAR keeps (per node and rule): bounds the work on
/// pathological documents (thousands of occurrences of both sides). The
/// truth of the NEAR is unaffected; nested NEARs may miss pairs beyond it.
const MAX_SPANS: usize = 4096;

/// [`DocToken::acc_at`] of a token without diacritics.
const UNACCENTED: u32 = u32::MAX;
/// [`DocToken::acc_at`] of a token whose accented key is not computed yet.
const LAZY: u32 = u32::MAX - 1;

/// A word of the analysed document.
#[derive(Debug, Clone, Copy)]
struct DocToken {
    field: u8,
    sentence: u32,
    position: u32,
    /// Byte span in the field.
    start: u32,
    end: u32,
    /// Start of the folded key in [`Analysis::folded`] (a space ends it).
    fold_at: u32,
    /// Accented key: `accented[acc_at..acc_at + acc_len]`, or [`UNACCENTED`]
    /// or [`LAZY`].
    acc_at: u32,
    acc_len: u32,
}

/// Appends the folded key of a word: [`text::fold`], lower case. Rules and
/// documents both go through this function, so their folded forms meet.
pub(super) fn push_folded_key(word: &str, out: &mut String) {
    if word.is_ascii() {
        out.extend(word.bytes().map(|b| char::from(b.to_ascii_lowercase())));
        return;
    }
    for c in text::fold(word).chars() {
        text::push_lower(c, out);
    }
}

/// The document analysed once for all rules.
///
/// Every token gets its folded key up front; the accented key (the costly
/// part: [`text::analysis_key`]) is computed only for the few tokens that
/// must be compared with an accented rule syllable, once.
struct Analysis<'d> {
    doc: DocFields<'d>,
    tokens: Vec<DocToken>,
    /// Folded keys, ` a b | c # d `: a space around every key, `|` at a
    /// sentence end, `#` between fields.
    folded: String,
    /// Accented keys computed so far.
    accented: String,
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl<'d> Analysis<'d> {
    fn new(doc: &DocFields<'d>, fields: FieldMask) -> Analysis<'d> {
        let len: usize = Field::ALL
            .iter()
            .filter(|f| fields & f.bit() != 0)
            .map(|f| doc.get(*f).len())
            .sum();
        let mut a = Analysis {
            doc: *doc,
            tokens: Vec::with_capacity(len / 5),
            folded: String::with_capacity(len + 16),
            accented: String::new(),
        };
        a.folded.push(' ');
        for field in Field::ALL {
            if fields & field.bit() == 0 {
                continue;
            }
            let value = doc.get(field);
            if field == Field::Url {
                for (i, (start, end)) in url_words(value).enumerate() {
                    a.push(field, &value[start..end], start, end, to_u32(i), 0);
                }
            } else {
                for t in text::tokens(value) {
                    a.push(field, t.text, t.start, t.end, t.position, t.sentence);
                }
            }
        }
        a
    }

    fn push(
        &mut self,
        field: Field,
        word: &str,
        start: usize,
        end: usize,
        position: u32,
        sentence: u32,
    ) {
        let field = field.index() as u8;
        if let Some(last) = self.tokens.last() {
            if last.field != field {
                self.folded.push_str("# ");
            } else if last.sentence != sentence {
                self.folded.push_str("| ");
            }
        }
        let fold_at = to_u32(self.folded.len());
        push_folded_key(word, &mut self.folded);
        self.folded.push(' ');
        self.tokens.push(DocToken {
            field,
            sentence,
            position,
            start: to_u32(start),
            end: to_u32(end),
            fold_at,
            acc_at: if word.is_ascii() { UNACCENTED } else { LAZY },
            acc_len: 0,
        });
    }

    /// The accented key of token `i`, `None` if it has no diacritics.
    fn accented(&mut self, i: usize) -> Option<&str> {
        let t = self.tokens[i];
        if t.acc_at == LAZY {
            let field = Field::ALL[t.field as usize];
            let word = self
                .doc
                .get(field)
                .get(t.start as usize..t.end as usize)
                .unwrap_or_default();
            let (accented, folded) = text::analysis_key(word);
            let (at, len) = if accented == folded {
                (UNACCENTED, 0)
            } else {
                let at = to_u32(self.accented.len());
                self.accented.push_str(&accented);
                (at, to_u32(accented.len()))
            };
            self.tokens[i].acc_at = at;
            self.tokens[i].acc_len = len;
        }
        let t = self.tokens[i];
        if t.acc_at == UNACCENTED {
            return None;
        }
        self.accented
            .get(t.acc_at as usize..(t.acc_at + t.acc_len) as usize)
    }

    /// Whether the tokens from `first` on are `literal` (the folded keys
    /// are known to match already): each accented syllable of the rule
    /// needs the same accented key, or an unaccented document word.
    fn verify(&mut self, first: usize, literal: &Literal) -> bool {
        let n = literal.syllables.len();
        if first + n > self.tokens.len() {
            return false;
        }
        for (i, s) in literal.syllables.iter().enumerate() {
            let Some(want) = &s.accented else { continue };
            let prefix = literal.prefix && i == n - 1;
            let ok = match self.accented(first + i) {
                None => true,
                Some(have) if prefix => have.starts_with(&**want),
                Some(have) => have == &**want,
            };
            if !ok {
                return false;
            }
        }
        true
    }
}

/// Words of a URL: runs of letters and digits, byte spans.
fn url_words(url: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut start = None;
    let mut chars = url.char_indices().chain(std::iter::once((url.len(), ' ')));
    std::iter::from_fn(move || {
        for (i, c) in chars.by_ref() {
            let word = c.is_alphanumeric() && i < url.len();
            match (word, start) {
                (true, None) => start = Some(i),
                (false, Some(s)) => {
                    start = None;
                    return Some((s, i));
                }
                _ => {}
            }
        }
        None
    })
}

/// A literal occurrence.
#[derive(Debug, Clone, Copy)]
struct Occurrence {
    field: u8,
    sentence: u32,
    /// Positions of the first and last word.
    lo: u32,
    hi: u32,
    /// Byte span in the field.
    start: u32,
    end: u32,
}

/// An occurrence of a plan: words `lo..=hi` of one sentence of one field,
/// with the witness that explains it.
#[derive(Debug, Clone, Copy)]
struct Span {
    field: u8,
    sentence: u32,
    lo: u32,
    hi: u32,
    witness: u32,
}

/// Why a span matched: the literal occurrences behind it.
#[derive(Debug, Clone, Copy)]
enum Witness {
    Leaf { field: u8, start: u32, end: u32 },
    Pair(u32, u32),
}

struct Ctx<'a, 'd> {
    engine: &'a Engine,
    analysis: &'a mut Analysis<'d>,
    /// Automaton hits: (pattern, first token), sorted.
    hits: &'a [(u32, u32)],
    /// Literals whose folded form occurs (a superset of those that occur).
    present: &'a LitSet,
    /// Verified occurrences of the literals looked at so far, each literal's
    /// sorted by (field, sentence, lo).
    occurrences: Vec<Occurrence>,
    /// Range in `occurrences` of each literal looked at so far.
    verified: HashMap<u32, (u32, u32)>,
    witnesses: Vec<Witness>,
}

impl Ctx<'_, '_> {
    /// The occurrences of a literal: its automaton hits verified against the
    /// accented keys, on first use.
    fn occurrences(&mut self, lit: u32) -> (usize, usize) {
        if let Some(&(from, to)) = self.verified.get(&lit) {
            return (from as usize, to as usize);
        }
        let from = self.occurrences.len();
        let literal = &self.engine.literals[lit as usize];
        let pattern = literal.pattern;
        let first = self.hits.partition_point(|h| h.0 < pattern);
        for &(p, token) in &self.hits[first..] {
            if p != pattern {
                break;
            }
            let token = token as usize;
            if !self.analysis.verify(token, literal) {
                continue;
            }
            let (a, b) = (
                self.analysis.tokens[token],
                self.analysis.tokens[token + literal.syllables.len() - 1],
            );
            self.occurrences.push(Occurrence {
                field: a.field,
                sentence: a.sentence,
                lo: a.position,
                hi: b.position,
                start: a.start,
                end: b.end,
            });
        }
        let to = self.occurrences.len();
        self.verified.insert(lit, (to_u32(from), to_u32(to)));
        (from, to)
    }

    fn witness(&mut self, w: Witness) -> u32 {
        self.witnesses.push(w);
        to_u32(self.witnesses.len() - 1)
    }

    fn eval(&mut self, plan: &Plan) -> Vec<Span> {
        match plan {
            Plan::Lit { lit, fields } => {
                let (from, to) = self.occurrences(*lit);
                let mut out = Vec::with_capacity(to - from);
                for o in &self.occurrences[from..to] {
                    if fields & (1 << o.field) == 0 {
                        continue;
                    }
                    self.witnesses.push(Witness::Leaf {
                        field: o.field,
                        start: o.start,
                        end: o.end,
                    });
                    out.push(Span {
                        field: o.field,
                        sentence: o.sentence,
                        lo: o.lo,
                        hi: o.hi,
                        witness: to_u32(self.witnesses.len() - 1),
                    });
                }
                out
            }
            Plan::Slop { lits, slop, fields } => self.slop(lits, *slop, *fields),
            Plan::And { pos, neg } => {
                if !pos.iter().all(|p| p.possible(self.present)) {
                    return Vec::new();
                }
                for n in neg {
                    if n.possible(self.present) && !self.eval(n).is_empty() {
                        return Vec::new();
                    }
                }
                let mut out = Vec::new();
                for p in pos {
                    let spans = self.eval(p);
                    if spans.is_empty() {
                        return Vec::new();
                    }
                    out.extend(spans);
                }
                out
            }
            Plan::Or(items) => {
                let mut out = Vec::new();
                for item in items {
                    if item.possible(self.present) {
                        out.extend(self.eval(item));
                    }
                }
                out
            }
            Plan::Near {
                left,
                right,
                distance,
                ordered,
            } => {
                if !plan.possible(self.present) {
                    return Vec::new();
                }
                let l = self.eval(left);
                if l.is_empty() {
                    return Vec::new();
                }
                let r = self.eval(right);
                if r.is_empty() {
                    return Vec::new();
                }
                self.near(&l, r, *distance, *ordered)
            }
        }
    }

    /// `"w1 w2 …"~slop`: from each occurrence of the first word, the earliest
    /// following occurrence of each next word in the same sentence (greedy
    /// earliest gives the fewest extra words).
    fn slop(&mut self, lits: &[u32], slop: u32, fields: FieldMask) -> Vec<Span> {
        let ranges: Vec<(usize, usize)> = lits.iter().map(|&l| self.occurrences(l)).collect();
        let Some((&(from, to), rest)) = ranges.split_first() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for o in &self.occurrences[from..to] {
            if fields & (1 << o.field) == 0 {
                continue;
            }
            let (mut hi, mut end, mut extra) = (o.hi, o.end, 0u32);
            let mut ok = true;
            for &(nfrom, nto) in rest {
                let next = &self.occurrences[nfrom..nto];
                let at = next
                    .partition_point(|n| (n.field, n.sentence, n.lo) <= (o.field, o.sentence, hi));
                match next.get(at) {
                    Some(n) if n.field == o.field && n.sentence == o.sentence => {
                        extra = extra.saturating_add(n.lo - hi - 1);
                        hi = n.hi;
                        end = n.end;
                    }
                    _ => ok = false,
                }
                if !ok || extra > slop {
                    ok = false;
                    break;
                }
            }
            if ok {
                self.witnesses.push(Witness::Leaf {
                    field: o.field,
                    start: o.start,
                    end,
                });
                out.push(Span {
                    field: o.field,
                    sentence: o.sentence,
                    lo: o.lo,
                    hi,
                    witness: to_u32(self.witnesses.len() - 1),
                });
            }
        }
        out
    }

    /// Pairs of a left and a right span, distinct, in the same field and
    /// sentence, with at most `distance` words between them (left first if
    /// `ordered`); each pair gives its covering span.
    fn near(
        &mut self,
        left: &[Span],
        mut by_lo: Vec<Span>,
        distance: u32,
        ordered: bool,
    ) -> Vec<Span> {
        by_lo.sort_unstable_by_key(|s| (s.field, s.sentence, s.lo));
        let by_hi = if ordered {
            Vec::new()
        } else {
            let mut v = by_lo.clone();
            v.sort_unstable_by_key(|s| (s.field, s.sentence, s.hi));
            v
        };
        let reach = u64::from(distance) + 1;
        let mut out = Vec::new();
        for x in left {
            // y after x: x.hi < y.lo <= x.hi + 1 + distance.
            let from = by_lo
                .partition_point(|y| (y.field, y.sentence, y.lo) <= (x.field, x.sentence, x.hi));
            for y in &by_lo[from..] {
                if y.field != x.field
                    || y.sentence != x.sentence
                    || u64::from(y.lo) > u64::from(x.hi) + reach
                {
                    break;
                }
                out.push(self.pair(x, y));
            }
            if !ordered {
                // y before x: x.lo - 1 - distance <= y.hi < x.lo.
                let lowest = u32::try_from(u64::from(x.lo).saturating_sub(reach)).unwrap_or(0);
                let from = by_hi.partition_point(|y| {
                    (y.field, y.sentence, y.hi) < (x.field, x.sentence, lowest)
                });
                for y in &by_hi[from..] {
                    if y.field != x.field || y.sentence != x.sentence || y.hi >= x.lo {
                        break;
                    }
                    out.push(self.pair(x, y));
                }
            }
            if out.len() >= MAX_SPANS {
                break;
            }
        }
        out.sort_by_key(|s| (s.field, s.sentence, s.lo, s.hi));
        out.dedup_by_key(|s| (s.field, s.lo, s.hi));
        out
    }

    fn pair(&mut self, x: &Span, y: &Span) -> Span {
        let witness = self.witness(Witness::Pair(x.witness, y.witness));
        Span {
            field: x.field,
            sentence: x.sentence,
            lo: x.lo.min(y.lo),
            hi: x.hi.max(y.hi),
            witness,
        }
    }

    /// The literal occurrences behind `spans`: (field, start, end), sorted,
    /// deduplicated.
    fn leaves(&self, spans: &[Span]) -> Vec<(u8, u32, u32)> {
        let mut seen = vec![false; self.witnesses.len()];
        let mut stack: Vec<u32> = spans.iter().map(|s| s.witness).collect();
        let mut out = Vec::new();
        while let Some(w) = stack.pop() {
            let Some(flag) = seen.get_mut(w as usize) else {
                continue;
            };
            if std::mem::replace(flag, true) {
                continue;
            }
            match self.witnesses[w as usize] {
                Witness::Leaf { field, start, end } => out.push((field, start, end)),
                Witness::Pair(a, b) => {
                    stack.push(a);
                    stack.push(b);
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// Whether a rule may fire on `doc`: the first syllable of some trigger literal is a
/// word of a field the rules look at. A rule is looked at only where one of its trigger
/// literals occurs, and a literal only where its first syllable is a word's folded key,
/// so a document without any cannot fire a rule. Most documents are tagged with
/// nothing, and this one pass over their text ([`text::fold_plain_words`]) costs a
/// fraction of the analysis it spares. Text that is not plain (rare characters, ones
/// [`text::clean`] changes) and URLs (split otherwise) are always analysed.
fn may_fire(first_syllables: &AhoCorasick, doc: &DocFields<'_>, fields: FieldMask) -> bool {
    if fields & Field::Url.bit() != 0 {
        return true;
    }
    let mut words = String::new();
    Field::ALL
        .iter()
        .filter(|field| fields & field.bit() != 0)
        .any(|field| {
            words.clear();
            words.push(' ');
            if !text::fold_plain_words(doc.get(*field), &mut words) {
                return true;
            }
            words.push(' ');
            first_syllables.is_match(&words)
        })
}

pub(super) fn evaluate(
    engine: &Engine,
    doc: &DocFields<'_>,
    rules: &[Rule],
    prefilter: bool,
) -> Vec<RuleMatch> {
    let Some(automaton) = &engine.automaton else {
        return Vec::new();
    };
    if prefilter
        && let Some(first_syllables) = &engine.first_syllables
        && !may_fire(first_syllables, doc, engine.fields)
    {
        return Vec::new();
    }
    let mut analysis = Analysis::new(doc, engine.fields);
    if analysis.tokens.is_empty() {
        return Vec::new();
    }

    // One pass of the automaton over the folded text. A hit is a literal
    // whose folded form occurs; accents are verified later, only for the
    // literals a candidate rule looks at.
    let mut hits: Vec<(u32, u32)> = Vec::new();
    for m in automaton.find_overlapping_iter(&analysis.folded) {
        if let Ok(first) = analysis
            .tokens
            .binary_search_by_key(&to_u32(m.start() + 1), |t| t.fold_at)
        {
            hits.push((m.pattern().as_u32(), to_u32(first)));
        }
    }
    if hits.is_empty() {
        return Vec::new();
    }
    hits.sort_unstable();
    let mut present = LitSet::with_capacity(engine.literals.len());
    let mut candidates = Vec::new();
    let mut last = None;
    for &(pattern, _) in &hits {
        if last == Some(pattern) {
            continue;
        }
        last = Some(pattern);
        for &lit in &engine.pattern_lits[pattern as usize] {
            present.insert(lit);
            candidates.extend_from_slice(&engine.triggers[lit as usize]);
        }
    }
    // Candidate rules: a trigger literal occurs (folded) and the positive
    // part of the rule can be satisfied by the literals that occur.
    candidates.sort_unstable();
    candidates.dedup();

    let mut ctx = Ctx {
        engine,
        analysis: &mut analysis,
        hits: &hits,
        present: &present,
        occurrences: Vec::new(),
        verified: HashMap::new(),
        witnesses: Vec::new(),
    };
    let mut out = Vec::new();
    for r in candidates {
        let compiled = &engine.compiled[r as usize];
        if !compiled.req.holds(&present) {
            continue;
        }
        ctx.witnesses.clear();
        let spans = ctx.eval(&compiled.plan);
        if spans.is_empty() {
            continue;
        }
        let rule = &rules[r as usize];
        let leaves = ctx.leaves(&spans);
        let mut terms: Vec<String> = Vec::with_capacity(leaves.len());
        let mut offsets = Vec::with_capacity(leaves.len());
        for (field, start, end) in leaves {
            let field = Field::ALL[field as usize];
            let (start, end) = (start as usize, end as usize);
            let term = doc.get(field).get(start..end).unwrap_or_default();
            if !terms.iter().any(|t| t == term) {
                terms.push(term.to_owned());
            }
            offsets.push((field, start, end));
        }
        out.push(RuleMatch {
            rule: rule.id.clone(),
            category: rule.category.clone(),
            severity: rule.severity,
            terms,
            offsets,
        });
    }
    out
}
