//! Turning a parsed query into a search plan, running it, snippets and facets.
//!
//! Matching (terms from [`crate::analysis`]): an unaccented query word matches the folded
//! term of every form; an accented one its exact term or, in documents typed without
//! diacritics, the same letters. Phrases (quoted, or one word of several syllables such as
//! `covid-19` or `13/3/2023`) keep that rule at each position, in order and adjacent,
//! never across a sentence end.
//!
//! Ranking is BM25 with, on top:
//! - the title weighing [`TITLE_BOOST`] times the text;
//! - a document word without diacritics counting [`UNACCENTED_DOC_WEIGHT`] of the
//!   accented word, with the accented word's idf, so an accented document always ranks
//!   above its copy without diacritics (plus [`ACCENTED_DOC_PRIOR`] for unaccented
//!   queries, where they would tie);
//! - for several words, optional boosts when they stand in order and adjacent, in order
//!   and near, and for each adjacent pair: in order beats scattered or reversed.
//!
//! A search runs in two steps, so that the boosts, which read word positions, are computed
//! for a few hundred documents rather than for every match: one pass over the matches
//! (see [`crate::plan`]) counts them (with the facets when asked) and keeps the best
//! candidates by plain BM25; the candidates are then reranked by the full score (plain
//! BM25 plus the boosts, [`Bonus`]). Snippets are built for the returned hits only.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Utc};
use serde::Serialize;
use tantivy::aggregation::AggregationCollector;
use tantivy::aggregation::agg_req::Aggregations;
use tantivy::aggregation::agg_result::{AggregationResult, AggregationResults, BucketResult};
use tantivy::collector::{Collector, Count, SegmentCollector, TopDocs};
use tantivy::query::EnableScoring;
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::{DocAddress, DocId, DocSet, Executor, Order, Searcher, TantivyDocument, Term};

use crate::analysis::{QueryTerm, fold_term, query_terms};
use crate::phrase::AltPhraseQuery;
use crate::plan::{Node, PlanQuery};
use crate::query::{Expr, QueryError, Scope, parse};
use crate::snippet::{self, Matcher};
use crate::{Fields, IndexError, SearchIndex};

/// How results are ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sort {
    #[default]
    Relevance,
    Date,
}

#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    pub query: String,
    pub limit: usize,
    pub offset: usize,
    pub source: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// A rule id or a category.
    pub tag: Option<String>,
    pub kind: Option<String>,
    pub sort: Sort,
    pub facets: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub id: i64,
    pub url: String,
    pub title: String,
    pub source: Option<String>,
    pub published_at: Option<String>,
    pub score: f32,
    pub snippet: String,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Facets {
    pub source: BTreeMap<String, u64>,
    pub tag: BTreeMap<String, u64>,
    pub kind: BTreeMap<String, u64>,
    /// Matching documents per ISO week of their date in Vietnam time (`2023-W11`), the
    /// weeks of `diembao digest build --week`.
    pub week: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchResults {
    pub total: usize,
    pub hits: Vec<Hit>,
    pub facets: Facets,
}

/// Weight of a title match against a body match.
const TITLE_BOOST: f32 = 2.5;
/// Weight of a document word written without diacritics for an accented query word,
/// relative to the same accented word (scored with the accented word's idf).
const UNACCENTED_DOC_WEIGHT: f32 = 0.35;
/// Extra weight when all the words of a multi-word query stand in order and adjacent.
const ADJACENCY_BOOST: f32 = 2.0;
/// Extra weight when they stand in order with at most [`NEAR_SLOP`] words between them.
const NEAR_BOOST: f32 = 0.5;
const NEAR_SLOP: u32 = 1;
/// Extra weight for each pair of consecutive query words found in order and adjacent
/// (queries of three words or more).
const BIGRAM_BOOST: f32 = 0.5;
/// Score added to documents written with diacritics: decides between a document and its
/// copy without diacritics, which tie for an unaccented query.
const ACCENTED_DOC_PRIOR: f32 = 0.001;
/// Longest run of query words given proximity boosts.
const MAX_PROXIMITY_TERMS: usize = 16;
/// Extra weight of a phrase found with exactly the accents of the query.
const STRICT_PHRASE_BOOST: f32 = 0.5;

/// A field a word or phrase is searched in, with its weight.
struct Target {
    field: Field,
    weight: f32,
}

fn targets(fields: &Fields, scope: Scope) -> Vec<Target> {
    let target = |field, weight| Target { field, weight };
    match scope {
        Scope::Any => vec![target(fields.title, TITLE_BOOST), target(fields.text, 1.0)],
        Scope::Title => vec![target(fields.title, 1.0)],
        Scope::Text => vec![target(fields.text, 1.0)],
        Scope::Source => vec![target(fields.source_text, 1.0)],
    }
}

/// An optional part of the full score, computed for the reranked candidates only: a
/// phrase boost (proximity, exact accents) or the accented-document prior.
struct Bonus {
    kind: BonusKind,
    /// Indexes in [`Compiled::guards`] of the queries a document must match for the bonus
    /// to count: the `OR` branches the bonus is in (a branch that does not match adds
    /// nothing to the score).
    guards: Vec<usize>,
}

enum BonusKind {
    Phrase { query: AltPhraseQuery, weight: f32 },
    Prior,
}

/// A request compiled: the matching documents with their plain BM25 score, and the
/// bonuses that the full score adds.
struct Compiled {
    query: PlanQuery,
    bonuses: Vec<Bonus>,
    guards: Vec<Node>,
}

/// Builds search plans for one searcher (document frequencies pick the terms and
/// weights).
struct Compiler<'a> {
    fields: &'a Fields,
    searcher: &'a Searcher,
    num_docs: f32,
    doc_freqs: RefCell<HashMap<(Field, String), u64>>,
    bonuses: RefCell<Vec<Bonus>>,
    guards: RefCell<Vec<Node>>,
}

impl<'a> Compiler<'a> {
    fn new(fields: &'a Fields, searcher: &'a Searcher) -> Self {
        Self {
            fields,
            searcher,
            num_docs: searcher.num_docs() as f32,
            doc_freqs: RefCell::new(HashMap::new()),
            bonuses: RefCell::new(Vec::new()),
            guards: RefCell::new(Vec::new()),
        }
    }

    fn doc_freq(&self, field: Field, text: &str) -> u64 {
        let key = (field, text.to_owned());
        if let Some(&df) = self.doc_freqs.borrow().get(&key) {
            return df;
        }
        let df = self
            .searcher
            .doc_freq(&Term::from_field_text(field, text))
            .unwrap_or(0);
        self.doc_freqs.borrow_mut().insert(key, df);
        df
    }

    /// BM25 idf, as tantivy computes it.
    fn idf(&self, doc_freq: u64) -> f32 {
        let n = self.num_docs;
        let df = (doc_freq as f32).min(n);
        (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
    }

    /// The weighted terms of one query word in one field. An unaccented word matches the
    /// folded term; an accented one its exact term, or the same letters without diacritics
    /// at [`UNACCENTED_DOC_WEIGHT`] of the score, computed with the accented word's idf:
    /// the accented document outranks its unaccented copy however rare unaccented text is.
    fn word(&self, field: Field, term: &QueryTerm, weight: f32, out: &mut Vec<(Term, f32)>) {
        if term.unaccented {
            out.push((
                Term::from_field_text(field, &fold_term(&term.folded)),
                weight,
            ));
            return;
        }
        out.push((Term::from_field_text(field, &term.exact), weight));
        let plain_df = self.doc_freq(field, &term.plain);
        if plain_df == 0 || term.plain == term.exact {
            return;
        }
        let ratio = self.idf(self.doc_freq(field, &term.exact)) / self.idf(plain_df);
        out.push((
            Term::from_field_text(field, &term.plain),
            weight * UNACCENTED_DOC_WEIGHT * ratio,
        ));
    }

    /// The index terms one query word may match at its position.
    fn alternatives(&self, field: Field, term: &QueryTerm) -> Vec<String> {
        if term.unaccented {
            vec![fold_term(&term.folded)]
        } else if term.plain != term.exact && self.doc_freq(field, &term.plain) > 0 {
            vec![term.exact.clone(), term.plain.clone()]
        } else {
            vec![term.exact.clone()]
        }
    }

    /// Two or more words in order, each matched by its own accent rule, with at most
    /// `slop` words between them in all. Positions jump at sentence ends, so a phrase never
    /// spans two sentences.
    fn phrase(&self, field: Field, terms: &[QueryTerm], slop: u32) -> AltPhraseQuery {
        let alternatives = terms.iter().map(|t| self.alternatives(field, t)).collect();
        AltPhraseQuery::new(field, alternatives, slop)
    }

    fn bonus_phrase(&self, query: AltPhraseQuery, weight: f32) {
        self.bonuses.borrow_mut().push(Bonus {
            kind: BonusKind::Phrase { query, weight },
            guards: Vec::new(),
        });
    }

    /// A required phrase; where it has accented words that also match unaccented text, the
    /// phrase with exactly the query's accents scores extra (a bonus).
    fn required_phrase(&self, field: Field, terms: &[QueryTerm], weight: f32) -> Node {
        let relaxes = terms
            .iter()
            .any(|t| !t.unaccented && t.plain != t.exact && self.doc_freq(field, &t.plain) > 0);
        if relaxes {
            let strict: Vec<Vec<String>> = terms
                .iter()
                .map(|t| {
                    vec![if t.unaccented {
                        fold_term(&t.folded)
                    } else {
                        t.exact.clone()
                    }]
                })
                .collect();
            self.bonus_phrase(
                AltPhraseQuery::new(field, strict, 0),
                weight * STRICT_PHRASE_BOOST,
            );
        }
        Node::Phrase(self.phrase(field, terms, 0), weight)
    }

    /// A word (one or more syllables) or a quoted phrase in the fields of `scope`.
    fn words(&self, scope: Scope, terms: &[QueryTerm]) -> Node {
        let targets = targets(self.fields, scope);
        if let [term] = terms {
            let mut out = Vec::new();
            for target in &targets {
                self.word(target.field, term, target.weight, &mut out);
            }
            return Node::Terms(out);
        }
        let mut phrases: Vec<Node> = targets
            .iter()
            .map(|t| self.required_phrase(t.field, terms, t.weight))
            .collect();
        if phrases.len() == 1 {
            phrases.remove(0)
        } else {
            Node::Or(phrases)
        }
    }

    /// Bonuses for the words of a multi-word query in order and close.
    fn proximity(&self, terms: &[QueryTerm]) {
        let terms = &terms[..terms.len().min(MAX_PROXIMITY_TERMS)];
        if terms.len() < 2 {
            return;
        }
        for target in targets(self.fields, Scope::Any) {
            let (field, weight) = (target.field, target.weight);
            self.bonus_phrase(self.phrase(field, terms, 0), weight * ADJACENCY_BOOST);
            self.bonus_phrase(self.phrase(field, terms, NEAR_SLOP), weight * NEAR_BOOST);
            if terms.len() >= 3 {
                for pair in terms.windows(2) {
                    self.bonus_phrase(self.phrase(field, pair, 0), weight * BIGRAM_BOOST);
                }
            }
        }
    }

    /// Compiles `expr` and drops the bonuses found in it (it scores nothing).
    fn compile_unscored(&self, expr: &Expr) -> Option<Node> {
        let before = self.bonuses.borrow().len();
        let node = self.compile(expr);
        self.bonuses.borrow_mut().truncate(before);
        node
    }

    fn compile(&self, expr: &Expr) -> Option<Node> {
        match expr {
            Expr::Word { scope, text } | Expr::Phrase { scope, text } => {
                let terms = query_terms(text);
                (!terms.is_empty()).then(|| self.words(*scope, &terms))
            }
            Expr::Or(parts) => {
                let mut nodes = Vec::with_capacity(parts.len());
                for part in parts {
                    let before = self.bonuses.borrow().len();
                    let Some(node) = self.compile(part) else {
                        continue;
                    };
                    let mut bonuses = self.bonuses.borrow_mut();
                    if bonuses.len() > before {
                        let mut guards = self.guards.borrow_mut();
                        guards.push(node.clone());
                        let guard = guards.len() - 1;
                        for bonus in &mut bonuses[before..] {
                            bonus.guards.push(guard);
                        }
                    }
                    nodes.push(node);
                }
                match nodes.len() {
                    0 => None,
                    1 => nodes.pop(),
                    _ => Some(Node::Or(nodes)),
                }
            }
            Expr::Not(inner) => {
                let inner = self.compile_unscored(inner)?;
                Some(Node::And {
                    must: vec![Node::All],
                    not: vec![inner],
                })
            }
            Expr::And(parts) => {
                let (mut must, mut not) = (Vec::new(), Vec::new());
                for part in parts {
                    if let Expr::Not(inner) = part {
                        not.extend(self.compile_unscored(inner));
                    } else {
                        must.extend(self.compile(part));
                    }
                }
                if must.is_empty() {
                    if not.is_empty() {
                        return None;
                    }
                    must.push(Node::All);
                }
                let plain: Vec<QueryTerm> = parts
                    .iter()
                    .filter_map(|p| match p {
                        Expr::Word {
                            scope: Scope::Any,
                            text,
                        } => Some(query_terms(text)),
                        _ => None,
                    })
                    .flatten()
                    .collect();
                self.proximity(&plain);
                Some(Node::And { must, not })
            }
        }
    }

    /// The compiled request, with the accented-document prior among its bonuses.
    fn finish(self, query: Node) -> Compiled {
        let mut bonuses = self.bonuses.into_inner();
        bonuses.push(Bonus {
            kind: BonusKind::Prior,
            guards: Vec::new(),
        });
        Compiled {
            query: PlanQuery::new(query),
            bonuses,
            guards: self.guards.into_inner(),
        }
    }
}

/// What to highlight: the positive words and phrases of the query searched in the title
/// (`title == true`) or in the text.
fn matchers(expr: &Expr, title: bool, out: &mut Vec<Matcher>) {
    match expr {
        Expr::Word { scope, text } | Expr::Phrase { scope, text } => {
            let wanted = match scope {
                Scope::Any => true,
                Scope::Title => title,
                Scope::Text => !title,
                Scope::Source => false,
            };
            let terms = query_terms(text);
            if wanted && !terms.is_empty() {
                out.push(Matcher { terms });
            }
        }
        Expr::And(parts) | Expr::Or(parts) => parts.iter().for_each(|p| matchers(p, title, out)),
        Expr::Not(_) => {}
    }
}

fn facet_aggregations() -> Result<Aggregations, IndexError> {
    serde_json::from_value(serde_json::json!({
        "source": {"terms": {"field": "source", "size": 1000}},
        "tag": {"terms": {"field": "tags", "size": 1000}},
        "kind": {"terms": {"field": "kind", "size": 10}},
        "week": {"terms": {"field": "week", "size": 10000}},
    }))
    .map_err(|err| IndexError::Io(std::io::Error::other(err)))
}

fn facets_of(results: &AggregationResults) -> Facets {
    let mut facets = Facets::default();
    for (name, target) in [
        ("source", &mut facets.source),
        ("tag", &mut facets.tag),
        ("kind", &mut facets.kind),
        ("week", &mut facets.week),
    ] {
        if let Some(AggregationResult::BucketResult(BucketResult::Terms { buckets, .. })) =
            results.0.get(name)
        {
            for bucket in buckets {
                target.insert(bucket.key.to_string(), bucket.doc_count);
            }
        }
    }
    facets
}

/// The fewest candidates reranked by the full score for a page of relevance-ordered hits.
const MIN_CANDIDATES: usize = 200;
/// Candidates reranked per hit up to the end of the page (`offset + limit`).
const CANDIDATES_PER_HIT: usize = 4;

/// Matching documents of a request: its total and, when asked, the facet counts.
type Counted = (usize, Option<AggregationResults>);

impl SearchIndex {
    /// Compiles a request (query text plus filters): the documents it matches with their
    /// plain BM25 score, and the bonuses of the full score.
    fn compile(
        &self,
        searcher: &Searcher,
        request: &SearchRequest,
        expr: &Expr,
    ) -> Result<Compiled, IndexError> {
        let fields = &self.fields;
        let compiler = Compiler::new(fields, searcher);
        let main = compiler.compile(expr).ok_or_else(|| QueryError {
            column: 1,
            message: "no word to search for".into(),
            hint: "type a word of letters or digits".into(),
        })?;
        // Filters match without scoring.
        let mut filters = Vec::new();
        if let Some(source) = &request.source {
            filters.push(Node::Filter(Term::from_field_text(
                fields.source_key,
                &crate::source_key(source),
            )));
        }
        if let Some(tag) = &request.tag {
            filters.push(Node::Filter(Term::from_field_text(fields.tags, tag)));
        }
        if let Some(kind) = &request.kind {
            filters.push(Node::Filter(Term::from_field_text(fields.kind, kind)));
        }
        if request.since.is_some() || request.until.is_some() {
            // Dates are indexed to the second: from `since`'s second, before `until`'s.
            filters.push(Node::Dates {
                field: "date".into(),
                from: request.since.map(|at| at.timestamp()),
                to: request.until.map(|at| at.timestamp().saturating_sub(1)),
            });
        }
        let query = if filters.is_empty() {
            main
        } else {
            filters.insert(0, main);
            Node::And {
                must: filters,
                not: Vec::new(),
            }
        };
        Ok(compiler.finish(query))
    }

    /// Hits best first. One pass over the matches counts them (with the facets when asked)
    /// and keeps the best candidates by plain BM25; the candidates are reranked by the full
    /// score. A page reaching rank `n` reranks the best `max(MIN_CANDIDATES,
    /// CANDIDATES_PER_HIT × n)` candidates; when the query matches no more than that, the
    /// order is exactly the full ranking.
    fn best_hits(
        &self,
        searcher: &Searcher,
        request: &SearchRequest,
        compiled: &Compiled,
        limit: usize,
        executor: &Executor,
    ) -> Result<(Vec<(f32, DocAddress)>, Counted), IndexError> {
        let wanted = request.offset.saturating_add(limit);
        let k = wanted
            .saturating_mul(CANDIDATES_PER_HIT)
            .max(MIN_CANDIDATES);
        let (mut candidates, counted) = {
            let weight = compiled
                .query
                .plan_weight(EnableScoring::enabled_from_searcher(searcher))?;
            // The facets, when asked, are counted in the same pass over the matches.
            let aggregations = if request.facets {
                Some(AggregationCollector::from_aggs(
                    facet_aggregations()?,
                    Default::default(),
                ))
            } else {
                None
            };
            // Segment by segment, in parallel when the index has an executor of several
            // threads.
            let segments = searcher.segment_readers().iter().enumerate();
            let results = executor.map(
                |(ord, reader)| {
                    let segment = u32::try_from(ord).unwrap_or(u32::MAX);
                    let mut facets = aggregations
                        .as_ref()
                        .map(|a| a.for_segment(segment, reader))
                        .transpose()?;
                    let mut block = Vec::with_capacity(FACET_BLOCK);
                    let found = weight.top_each(reader, k, |doc| {
                        if let Some(facets) = facets.as_mut() {
                            block.push(doc);
                            if block.len() == FACET_BLOCK {
                                facets.collect_block(&block);
                                block.clear();
                            }
                        }
                    })?;
                    let facets = facets.map(|mut facets| {
                        facets.collect_block(&block);
                        facets.harvest()
                    });
                    Ok((segment, found, facets))
                },
                segments,
            )?;
            let (mut candidates, mut total) = (Vec::new(), 0);
            let mut fruits = Vec::new();
            for (segment, (count, best), facets) in results {
                fruits.extend(facets);
                total += count;
                candidates.extend(
                    best.into_iter()
                        .map(|(score, doc)| (score, DocAddress::new(segment, doc))),
                );
            }
            candidates.sort_by(|(a, x), (b, y)| {
                b.total_cmp(a)
                    .then_with(|| (x.segment_ord, x.doc_id).cmp(&(y.segment_ord, y.doc_id)))
            });
            candidates.truncate(k);
            let aggregated = aggregations.map(|a| a.merge_fruits(fruits)).transpose()?;
            (candidates, (total, aggregated))
        };
        self.add_bonuses(searcher, compiled, &mut candidates, executor)?;
        candidates.sort_by(|(a, x), (b, y)| {
            b.total_cmp(a)
                .then_with(|| (x.segment_ord, x.doc_id).cmp(&(y.segment_ord, y.doc_id)))
        });
        let hits = candidates
            .into_iter()
            .skip(request.offset)
            .take(limit)
            .collect();
        Ok((hits, counted))
    }

    /// Adds the bonuses of the full score to the candidates' scores, segment by segment,
    /// looking at the candidates only.
    fn add_bonuses(
        &self,
        searcher: &Searcher,
        compiled: &Compiled,
        candidates: &mut [(f32, DocAddress)],
        executor: &Executor,
    ) -> Result<(), IndexError> {
        candidates.sort_by_key(|(_, a)| (a.segment_ord, a.doc_id));
        let scoring = EnableScoring::enabled_from_searcher(searcher);
        let mut phrases = Vec::with_capacity(compiled.bonuses.len());
        for bonus in &compiled.bonuses {
            phrases.push(match &bonus.kind {
                BonusKind::Phrase { query, weight } => Some((query.alt_weight(scoring)?, *weight)),
                BonusKind::Prior => None,
            });
        }
        let mut guards = Vec::with_capacity(compiled.guards.len());
        for guard in &compiled.guards {
            guards.push(
                PlanQuery::new(guard.clone())
                    .plan_weight(EnableScoring::disabled_from_searcher(searcher))?,
            );
        }
        let prior = Term::from_field_text(self.fields.script, crate::ACCENTED);
        // The candidates of each segment (sorted by segment, then document).
        let mut groups = Vec::new();
        let mut from = 0;
        while from < candidates.len() {
            let segment = candidates[from].1.segment_ord;
            let to = candidates[from..]
                .iter()
                .position(|(_, a)| a.segment_ord != segment)
                .map_or(candidates.len(), |n| from + n);
            let docs: Vec<DocId> = candidates[from..to].iter().map(|(_, a)| a.doc_id).collect();
            groups.push((from, segment, docs));
            from = to;
        }
        // Segment by segment, in parallel like the first pass.
        let extras = executor.map(
            |(from, segment, docs)| -> tantivy::Result<(usize, Vec<f32>)> {
                let reader = searcher.segment_reader(segment);
                let mut matched = Vec::with_capacity(guards.len());
                for guard in &guards {
                    matched.push(guard.matching(reader, &docs)?);
                }
                let mut total = vec![0.0f32; docs.len()];
                let mut extra = vec![0.0f32; docs.len()];
                for (bonus, phrase) in compiled.bonuses.iter().zip(&phrases) {
                    extra.fill(0.0);
                    match phrase {
                        Some((weight, boost)) => {
                            weight.add_scores(reader, &docs, *boost, &mut extra)?;
                        }
                        None => {
                            let postings = reader
                                .inverted_index(self.fields.script)?
                                .read_postings(&prior, IndexRecordOption::Basic)?;
                            if let Some(mut postings) = postings {
                                for (&doc, x) in docs.iter().zip(&mut extra) {
                                    if postings.doc() < doc {
                                        postings.seek(doc);
                                    }
                                    if postings.doc() == doc {
                                        *x = ACCENTED_DOC_PRIOR;
                                    }
                                }
                            }
                        }
                    }
                    for (i, (t, x)) in total.iter_mut().zip(&extra).enumerate() {
                        if *x != 0.0 && bonus.guards.iter().all(|&g| matched[g][i]) {
                            *t += x;
                        }
                    }
                }
                Ok((from, total))
            },
            groups.into_iter(),
        )?;
        for (from, total) in extras {
            for ((score, _), x) in candidates[from..].iter_mut().zip(total) {
                *score += x;
            }
        }
        Ok(())
    }

    /// Runs a search: hits best first (or newest first), the total, and facet counts
    /// (when asked). Snippets are built for the returned hits only.
    pub fn search(&self, request: &SearchRequest) -> Result<SearchResults, IndexError> {
        let fields = self.fields;
        // One search alone reads its segments in parallel; searches that overlap (a busy
        // server) each run on one thread: the cores are taken anyway, and handing
        // segments between threads would only add switches.
        let _running = Running::enter(&self.searches);
        let single = Executor::single_thread();
        let executor = if self.searches.load(Ordering::Relaxed) > 1 {
            &single
        } else {
            self.index.search_executor()
        };
        let searcher = self.reader.searcher();
        let expr = parse(&request.query)?;
        let compiled = self.compile(&searcher, request, &expr)?;
        let limit = request.limit.clamp(1, 1000);
        let (addresses, (total, aggregated)) = match request.sort {
            Sort::Relevance => self.best_hits(&searcher, request, &compiled, limit, executor)?,
            Sort::Date => {
                let page = TopDocs::with_limit(limit)
                    .and_offset(request.offset)
                    .order_by_fast_field::<tantivy::DateTime>("date", Order::Desc);
                let (docs, total, aggregated) = if request.facets {
                    let aggregations =
                        AggregationCollector::from_aggs(facet_aggregations()?, Default::default());
                    let (docs, total, aggregated) = searcher.search_with_executor(
                        &compiled.query,
                        &(page, Count, aggregations),
                        executor,
                        EnableScoring::disabled_from_searcher(&searcher),
                    )?;
                    (docs, total, Some(aggregated))
                } else {
                    let (docs, total) = searcher.search_with_executor(
                        &compiled.query,
                        &(page, Count),
                        executor,
                        EnableScoring::disabled_from_searcher(&searcher),
                    )?;
                    (docs, total, None)
                };
                let docs = docs
                    .into_iter()
                    .map(|(_, address)| (0.0, address))
                    .collect();
                (docs, (total, aggregated))
            }
        };

        let (mut text_matchers, mut title_matchers) = (Vec::new(), Vec::new());
        matchers(&expr, false, &mut text_matchers);
        matchers(&expr, true, &mut title_matchers);
        let mut hits = Vec::with_capacity(addresses.len());
        for (score, address) in addresses {
            let doc: TantivyDocument = searcher.doc(address)?;
            let text_of = |field: Field| {
                doc.get_first(field)
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            };
            let text = text_of(fields.text).unwrap_or_default();
            let title = text_of(fields.title).unwrap_or_default();
            let snippet = snippet::highlight(&text, &text_matchers)
                .or_else(|| snippet::highlight(&title, &title_matchers))
                .unwrap_or_else(|| snippet::plain(&text));
            hits.push(Hit {
                id: doc
                    .get_first(fields.id)
                    .and_then(|v| v.as_i64())
                    .unwrap_or_default(),
                url: text_of(fields.url).unwrap_or_default(),
                title,
                source: text_of(fields.source),
                published_at: text_of(fields.published),
                score,
                snippet,
                tags: doc
                    .get_all(fields.rules)
                    .filter_map(|v| v.as_str())
                    .map(str::to_string)
                    .collect(),
            });
        }
        let facets = aggregated.as_ref().map(facets_of).unwrap_or_default();
        Ok(SearchResults {
            total,
            hits,
            facets,
        })
    }
}

/// Documents handed to the facet counters at a time.
const FACET_BLOCK: usize = 64;

/// Counts a search in flight for as long as it lives.
struct Running<'a>(&'a AtomicUsize);

impl<'a> Running<'a> {
    fn enter(searches: &'a AtomicUsize) -> Self {
        searches.fetch_add(1, Ordering::Relaxed);
        Self(searches)
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::IndexDoc;

    fn doc(id: i64, title: &str, text: &str) -> IndexDoc {
        IndexDoc {
            id,
            url: format!("https://x.vn/{id}"),
            title: title.into(),
            text: text.into(),
            source: Some("Báo Ninh Thuận".into()),
            kind: "article".into(),
            published: None,
            date: Utc
                .with_ymd_and_hms(2023, 3, 13, 1, 0, 0)
                .single()
                .expect("date"),
            rules: Vec::new(),
            categories: Vec::new(),
        }
    }

    fn index_of(docs: &[IndexDoc]) -> SearchIndex {
        let index = SearchIndex::in_memory().expect("index");
        index.upsert(docs).expect("upsert");
        index.commit().expect("commit");
        index
    }

    fn search(index: &SearchIndex, query: &str) -> SearchResults {
        index
            .search(&SearchRequest {
                query: query.into(),
                limit: 100,
                ..SearchRequest::default()
            })
            .unwrap_or_else(|err| panic!("{query}: {err}"))
    }

    fn ids(index: &SearchIndex, query: &str) -> Vec<i64> {
        search(index, query).hits.iter().map(|h| h.id).collect()
    }

    fn assert_above(index: &SearchIndex, query: &str, a: i64, b: i64) {
        let ids = ids(index, query);
        let rank = |id| ids.iter().position(|&x| x == id);
        assert!(
            matches!((rank(a), rank(b)), (Some(ra), Some(rb)) if ra < rb),
            "{query}: {a} should be above {b} in {ids:?}"
        );
    }

    /// Documents with the accented words many times, so that the accented word is common
    /// and its unaccented spelling rare (high idf).
    fn fillers(from: i64, n: i64) -> Vec<IndexDoc> {
        (from..from + n)
            .map(|i| {
                doc(
                    i,
                    &format!("Tin {i}"),
                    "Lũ quét gây sạt lở, người dân quét dọn.",
                )
            })
            .collect()
    }

    #[test]
    fn accented_document_outranks_its_unaccented_copy() {
        let mut docs = vec![
            doc(
                1,
                "Lũ quét ở Bác Ái",
                "Chính quyền cảnh báo lũ quét ở vùng núi.",
            ),
            doc(
                2,
                "Lu quet o Bac Ai",
                "Chinh quyen canh bao lu quet o vung nui.",
            ),
        ];
        docs.extend(fillers(10, 20));
        let index = index_of(&docs);
        for query in ["lũ quét", "\"lũ quét\"", "quét", "title:lũ", "LŨ QUÉT"] {
            assert_above(&index, query, 1, 2);
        }
        // An unaccented query matches both the same way; the accented one wins the tie.
        for query in ["lu quet", "\"lu quet\""] {
            assert_above(&index, query, 1, 2);
        }
    }

    #[test]
    fn words_in_order_and_adjacent_outrank_scattered_and_reversed() {
        let index = index_of(&[
            doc(
                1,
                "Tin môi trường",
                "Thông tin về an toàn giao thông trong dịp lễ.",
            ),
            doc(2, "Tin mạng", "Bảo đảm an toàn thông tin mạng cho cơ quan."),
            doc(
                3,
                "Tin tổng hợp",
                "An toàn là trên hết, thông tin sẽ được cập nhật.",
            ),
        ]);
        for query in [
            "an toàn thông tin",
            "an toan thong tin",
            "AN TOÀN thông tin",
        ] {
            assert_above(&index, query, 2, 1);
            assert_above(&index, query, 2, 3);
        }
        let index = index_of(&[
            doc(1, "Tin", "Môi trường và bảo vệ rừng."),
            doc(2, "Tin", "Chiến dịch bảo vệ môi trường biển."),
            doc(3, "Tin", "Bảo tồn rừng cũng là bảo vệ cây, giữ môi trường."),
        ]);
        assert_above(&index, "bảo vệ môi trường", 2, 1);
        assert_above(&index, "bảo vệ môi trường", 2, 3);
    }

    #[test]
    fn title_outranks_body() {
        let index = index_of(&[
            doc(
                1,
                "Tin nông nghiệp",
                "Hạn hán kéo dài ở nhiều địa phương, hạn hán gây thiệt hại.",
            ),
            doc(2, "Hạn hán kéo dài", "Nông dân lo thiếu nước tưới."),
        ]);
        for query in ["hạn hán", "han han", "\"hạn hán\"", "hán"] {
            assert_above(&index, query, 2, 1);
        }
    }

    #[test]
    fn accents_are_checked_word_by_word_in_phrases() {
        let index = index_of(&[
            doc(1, "Bão xuân", "Cơn bão xuân gây mưa lớn, báo chí đưa tin."),
            doc(2, "Báo Xuân", "Ấn phẩm báo Xuân được phát hành."),
            doc(3, "Tin xã", "Xa dang day manh chuyen đổi so trong thu tuc."),
            doc(4, "Tin đội", "Chuyển đội số quân."),
        ]);
        assert_eq!(ids(&index, "\"báo xuân\""), [2]);
        assert_eq!(ids(&index, "\"bão xuân\""), [1]);
        assert_eq!(ids(&index, "\"chuyển đổi số\""), [3]);
        assert_eq!(ids(&index, "\"chuyen đổi so\""), [3]);
        let mut both = ids(&index, "\"chuyen doi so\"");
        both.sort_unstable();
        assert_eq!(both, [3, 4]);
    }

    #[test]
    fn phrases_stop_at_sentence_ends() {
        let index = index_of(&[
            doc(
                1,
                "Năng lượng",
                "Điện mặt trời tại Ninh Thuận. Phát triển năng lượng sạch.",
            ),
            doc(2, "Công ty", "Công ty Thuận Phát khai trương."),
        ]);
        assert_eq!(ids(&index, "\"thuận phát\""), [2]);
        assert_eq!(ids(&index, "\"thuan phat\""), [2]);
        assert_eq!(ids(&index, "thuận phát").first(), Some(&2));
    }

    #[test]
    fn operators_fields_and_filters() {
        let mut facebook = doc(3, "Nho Phan Rang", "Nho ngon, rượu vang cũng ngon.");
        facebook.source = Some("Facebook".into());
        let index = index_of(&[
            doc(1, "Nho xuất khẩu", "Nho Ninh Thuận sang Nhật."),
            doc(2, "Rượu vang nho", "Rượu vang nho đạt OCOP."),
            facebook,
        ]);
        let sorted = |query: &str| {
            let mut ids = ids(&index, query);
            ids.sort_unstable();
            ids
        };
        assert_eq!(sorted("nho -rượu"), [1]);
        assert_eq!(sorted("nho NOT \"rượu vang\""), [1]);
        assert_eq!(sorted("nho -\"vang nho\""), [1, 3]);
        assert_eq!(sorted("(xuất OR OCOP) nho"), [1, 2]);
        assert_eq!(sorted("title:rượu"), [2]);
        assert_eq!(sorted("source:facebook nho"), [3]);
        assert_eq!(sorted("source:\"Báo Ninh Thuận\" nho"), [1, 2]);
        assert_eq!(sorted("-nho"), Vec::<i64>::new());
        let filtered = index
            .search(&SearchRequest {
                query: "nho".into(),
                limit: 10,
                source: Some("BÁO NINH THUẬN ".into()),
                ..SearchRequest::default()
            })
            .expect("search");
        assert_eq!(filtered.total, 2);
    }

    #[test]
    fn query_errors_have_column_and_hint() {
        let index = index_of(&[doc(1, "a", "b")]);
        for (query, column) in [
            ("nho \"rượu", 5),
            ("(nho OR táo", 1),
            ("nho )", 5),
            ("&&", 1),
        ] {
            match index.search(&SearchRequest {
                query: query.into(),
                ..SearchRequest::default()
            }) {
                Err(IndexError::Query(err)) => {
                    assert_eq!(err.column, column, "{query}: {err}");
                    assert!(!err.hint.is_empty());
                }
                other => panic!("{query}: expected a query error, got {other:?}"),
            }
        }
    }

    #[test]
    fn snippets_escape_html_and_highlight_stored_text() {
        let index = index_of(&[doc(
            1,
            "<script>Chuyển đổi số</script>",
            "Phòng TT&TT: \"chuyển đổi số\" <b>bắt buộc</b> & 'ngay'.",
        )]);
        for query in ["chuyen doi so", "chuyển đổi số", "\"CHUYỂN ĐỔI SỐ\""] {
            let hit = &search(&index, query).hits[0];
            assert_eq!(
                hit.snippet,
                "Phòng TT&amp;TT: &quot;<b>chuyển đổi số</b>&quot; &lt;b&gt;bắt buộc&lt;/b&gt; \
                 &amp; &#39;ngay&#39;."
            );
        }
        // Title-only match: the title, escaped.
        let hit = &search(&index, "title:script").hits[0];
        assert_eq!(
            hit.snippet,
            "&lt;<b>script</b>&gt;Chuyển đổi số&lt;/<b>script</b>&gt;"
        );
    }

    #[test]
    fn nfd_documents_are_stored_and_found_as_nfc() {
        let nfd = "Chợ hải sản"
            .chars()
            .flat_map(|c| {
                let mut v = Vec::new();
                unicode_decompose(c, &mut v);
                v
            })
            .collect::<String>();
        assert_ne!(nfd, "Chợ hải sản");
        let index = index_of(&[doc(1, &nfd, &format!("{nfd} sáng nay."))]);
        let hit = &search(&index, "chợ hải sản").hits[0];
        assert_eq!(hit.title, "Chợ hải sản");
        assert_eq!(hit.snippet, "<b>Chợ hải sản</b> sáng nay.");
    }

    /// NFD of the few letters used above, without a dependency.
    fn unicode_decompose(c: char, out: &mut Vec<char>) {
        match c {
            'ợ' => out.extend(['o', '\u{031B}', '\u{0323}']),
            'ả' => out.extend(['a', '\u{0309}']),
            c => out.push(c),
        }
    }

    #[test]
    fn week_facets_use_vietnam_time() {
        let at = |d, h| {
            Utc.with_ymd_and_hms(2023, 3, d, h, 0, 0)
                .single()
                .expect("date")
        };
        let mut docs = vec![
            doc(1, "Tin", "nho"),
            doc(2, "Tin", "nho"),
            doc(3, "Tin", "nho"),
        ];
        // Sunday 12 March 18:00 UTC is Monday 13 March 01:00 in Vietnam: week 11.
        docs[0].date = at(12, 18);
        // Sunday 12 March 16:00 UTC is Sunday 23:00 in Vietnam: week 10.
        docs[1].date = at(12, 16);
        docs[2].date = at(20, 3);
        let index = index_of(&docs);
        let results = index
            .search(&SearchRequest {
                query: "nho".into(),
                limit: 1,
                facets: true,
                ..SearchRequest::default()
            })
            .expect("search");
        assert_eq!(results.hits.len(), 1);
        assert_eq!(results.total, 3);
        let weeks: Vec<(&str, u64)> = results
            .facets
            .week
            .iter()
            .map(|(k, v)| (k.as_str(), *v))
            .collect();
        assert_eq!(weeks, [("2023-W10", 1), ("2023-W11", 1), ("2023-W12", 1)]);
        assert_eq!(results.facets.source.get("Báo Ninh Thuận"), Some(&3));
        assert_eq!(results.facets.kind.get("article"), Some(&3));
    }

    /// More matches than reranked candidates: the total counts them all, pages follow
    /// one another, the words in order come first, facets and date order agree.
    #[test]
    fn many_matches_pages_and_totals() {
        let mut docs: Vec<IndexDoc> = (0..600)
            .map(|i| {
                let text = if i % 7 == 0 {
                    "Tin tức về an toàn thông tin mạng.".to_string()
                } else {
                    format!("Thông tin {i} về giao thông, an toàn là trên hết.")
                };
                doc(i, &format!("Bản tin {i}"), &text)
            })
            .collect();
        for (i, d) in docs.iter_mut().enumerate() {
            d.date = Utc
                .with_ymd_and_hms(2023, 3, 1, 0, 0, 0)
                .single()
                .expect("date")
                + chrono::Duration::hours(i as i64);
        }
        let index = index_of(&docs);
        let page = |offset: usize, limit: usize| {
            index
                .search(&SearchRequest {
                    query: "an toàn thông tin".into(),
                    limit,
                    offset,
                    ..SearchRequest::default()
                })
                .expect("search")
        };
        let first = page(0, 20);
        assert_eq!(first.total, 600);
        // The 86 documents with the words in order and adjacent come first.
        assert!(first.hits.iter().all(|h| h.id % 7 == 0), "{:?}", first.hits);
        let second = page(20, 20);
        let both = page(0, 40);
        let ids = |r: &SearchResults| r.hits.iter().map(|h| h.id).collect::<Vec<_>>();
        assert_eq!([ids(&first), ids(&second)].concat(), ids(&both));
        assert_eq!(page(590, 20).hits.len(), 10);
        let faceted = index
            .search(&SearchRequest {
                query: "an toàn thông tin".into(),
                limit: 5,
                facets: true,
                ..SearchRequest::default()
            })
            .expect("search");
        assert_eq!(faceted.total, 600);
        assert_eq!(ids(&faceted), ids(&first)[..5]);
        assert_eq!(faceted.facets.kind.get("article"), Some(&600));
        let newest = index
            .search(&SearchRequest {
                query: "an toàn thông tin".into(),
                limit: 3,
                offset: 1,
                sort: Sort::Date,
                ..SearchRequest::default()
            })
            .expect("search");
        assert_eq!(newest.total, 600);
        assert_eq!(ids(&newest), [598, 597, 596]);
    }
}
