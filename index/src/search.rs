//! Turning a parsed query into tantivy queries, running it, snippets and facets.
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
//! Facets are counted in the same pass as the top hits; snippets are built for the
//! returned hits only.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tantivy::aggregation::AggregationCollector;
use tantivy::aggregation::agg_req::Aggregations;
use tantivy::aggregation::agg_result::{AggregationResult, AggregationResults, BucketResult};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, EmptyQuery, Occur, PhraseQuery, Query,
    RangeQuery, RegexPhraseQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::{DocAddress, Order, Searcher, TantivyDocument, Term};

use crate::analysis::{QueryTerm, fold_term, query_terms};
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

fn boosted(query: Box<dyn Query>, weight: f32) -> Box<dyn Query> {
    if (weight - 1.0).abs() < f32::EPSILON {
        query
    } else {
        Box::new(BoostQuery::new(query, weight))
    }
}

fn term_query(field: Field, text: &str, weight: f32) -> Box<dyn Query> {
    let query = TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::WithFreqs,
    );
    boosted(Box::new(query), weight)
}

fn should(parts: Vec<Box<dyn Query>>) -> Box<dyn Query> {
    if parts.len() == 1 {
        return parts
            .into_iter()
            .next()
            .unwrap_or_else(|| Box::new(EmptyQuery));
    }
    Box::new(BooleanQuery::new(
        parts.into_iter().map(|q| (Occur::Should, q)).collect(),
    ))
}

/// Escapes a term for a regex that matches it literally.
fn regex_literal(term: &str) -> String {
    let mut out = String::with_capacity(term.len() + 4);
    for c in term.chars() {
        if matches!(
            c,
            '\\' | '.' | '+' | '*' | '?' | '(' | ')' | '|' | '[' | ']' | '{' | '}' | '^' | '$'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Builds tantivy queries for one searcher (document frequencies pick the terms and
/// weights).
struct Compiler<'a> {
    fields: &'a Fields,
    searcher: &'a Searcher,
    num_docs: f32,
    doc_freqs: RefCell<HashMap<(Field, String), u64>>,
}

impl<'a> Compiler<'a> {
    fn new(fields: &'a Fields, searcher: &'a Searcher) -> Self {
        Self {
            fields,
            searcher,
            num_docs: searcher.num_docs() as f32,
            doc_freqs: RefCell::new(HashMap::new()),
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

    /// One query word in one field. An unaccented word matches the folded term; an
    /// accented one its exact term, or the same letters without diacritics at
    /// [`UNACCENTED_DOC_WEIGHT`] of the score, computed with the accented word's idf: the
    /// accented document outranks its unaccented copy however rare unaccented text is.
    fn word(&self, field: Field, term: &QueryTerm, weight: f32) -> Box<dyn Query> {
        if term.unaccented {
            return term_query(field, &fold_term(&term.folded), weight);
        }
        let exact = term_query(field, &term.exact, weight);
        let plain_df = self.doc_freq(field, &term.plain);
        if plain_df == 0 || term.plain == term.exact {
            return exact;
        }
        let ratio = self.idf(self.doc_freq(field, &term.exact)) / self.idf(plain_df);
        should(vec![
            exact,
            term_query(field, &term.plain, weight * UNACCENTED_DOC_WEIGHT * ratio),
        ])
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
    /// `slop` words between them (tantivy's slop: reversing two words costs 2). Positions
    /// jump at sentence ends, so a phrase never spans two sentences.
    fn phrase(&self, field: Field, terms: &[QueryTerm], slop: u32, weight: f32) -> Box<dyn Query> {
        let alternatives: Vec<Vec<String>> =
            terms.iter().map(|t| self.alternatives(field, t)).collect();
        if terms.len() < 2 {
            return match terms.first() {
                Some(term) => self.word(field, term, weight),
                None => Box::new(EmptyQuery),
            };
        }
        if alternatives.iter().all(|a| a.len() == 1) {
            let phrase: Vec<(usize, Term)> = alternatives
                .iter()
                .enumerate()
                .map(|(i, a)| (i, Term::from_field_text(field, &a[0])))
                .collect();
            return boosted(
                Box::new(PhraseQuery::new_with_offset_and_slop(phrase, slop)),
                weight,
            );
        }
        let patterns: Vec<(usize, String)> = alternatives
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let alternation: Vec<String> = a.iter().map(|t| regex_literal(t)).collect();
                (i, alternation.join("|"))
            })
            .collect();
        // tantivy scores a regex phrase with the idf of the pattern strings (as if no
        // document had them): rescale to the idf of the terms each position matches.
        let used: f32 = patterns
            .iter()
            .map(|(_, p)| self.idf(self.doc_freq(field, p)))
            .sum();
        let wanted: f32 = alternatives
            .iter()
            .map(|a| self.idf(a.iter().map(|t| self.doc_freq(field, t)).sum()))
            .sum();
        let scale = if used > 0.0 { wanted / used } else { 1.0 };
        boosted(
            Box::new(RegexPhraseQuery::new_with_offset_and_slop(
                field, patterns, slop,
            )),
            weight * scale,
        )
    }

    /// A required phrase; where it has accented words that also match unaccented text, the
    /// phrase with exactly the query's accents scores extra.
    fn required_phrase(&self, field: Field, terms: &[QueryTerm], weight: f32) -> Box<dyn Query> {
        let relaxed = self.phrase(field, terms, 0, weight);
        let strict: Vec<(usize, Term)> = terms
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let text = if t.unaccented {
                    fold_term(&t.folded)
                } else {
                    t.exact.clone()
                };
                (i, Term::from_field_text(field, &text))
            })
            .collect();
        let relaxes = terms.len() >= 2
            && terms
                .iter()
                .any(|t| !t.unaccented && t.plain != t.exact && self.doc_freq(field, &t.plain) > 0);
        if !relaxes {
            return relaxed;
        }
        Box::new(BooleanQuery::new(vec![
            (Occur::Must, relaxed),
            (
                Occur::Should,
                boosted(
                    Box::new(PhraseQuery::new_with_offset(strict)),
                    weight * STRICT_PHRASE_BOOST,
                ),
            ),
        ]))
    }

    /// A word (one or more syllables) or a quoted phrase in the fields of `scope`.
    fn words(&self, scope: Scope, terms: &[QueryTerm]) -> Box<dyn Query> {
        let targets = targets(self.fields, scope);
        should(
            targets
                .iter()
                .map(|t| match terms {
                    [term] => self.word(t.field, term, t.weight),
                    _ => self.required_phrase(t.field, terms, t.weight),
                })
                .collect(),
        )
    }

    /// Optional clauses rewarding the words of a multi-word query in order and close.
    fn proximity(&self, terms: &[QueryTerm], clauses: &mut Vec<(Occur, Box<dyn Query>)>) {
        let terms = &terms[..terms.len().min(MAX_PROXIMITY_TERMS)];
        if terms.len() < 2 {
            return;
        }
        for target in targets(self.fields, Scope::Any) {
            let (field, weight) = (target.field, target.weight);
            clauses.push((
                Occur::Should,
                self.phrase(field, terms, 0, weight * ADJACENCY_BOOST),
            ));
            clauses.push((
                Occur::Should,
                self.phrase(field, terms, NEAR_SLOP, weight * NEAR_BOOST),
            ));
            if terms.len() >= 3 {
                for pair in terms.windows(2) {
                    clauses.push((
                        Occur::Should,
                        self.phrase(field, pair, 0, weight * BIGRAM_BOOST),
                    ));
                }
            }
        }
    }

    fn compile(&self, expr: &Expr) -> Option<Box<dyn Query>> {
        match expr {
            Expr::Word { scope, text } | Expr::Phrase { scope, text } => {
                let terms = query_terms(text);
                (!terms.is_empty()).then(|| self.words(*scope, &terms))
            }
            Expr::Or(parts) => {
                let parts: Vec<_> = parts.iter().filter_map(|p| self.compile(p)).collect();
                (!parts.is_empty()).then(|| should(parts))
            }
            Expr::Not(inner) => {
                let inner = self.compile(inner)?;
                Some(Box::new(BooleanQuery::new(vec![
                    (Occur::Must, Box::new(AllQuery) as Box<dyn Query>),
                    (Occur::MustNot, inner),
                ])))
            }
            Expr::And(parts) => {
                let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
                let (mut positive, mut negative) = (false, false);
                for part in parts {
                    if let Expr::Not(inner) = part {
                        if let Some(q) = self.compile(inner) {
                            negative = true;
                            clauses.push((Occur::MustNot, q));
                        }
                    } else if let Some(q) = self.compile(part) {
                        positive = true;
                        clauses.push((Occur::Must, q));
                    }
                }
                match (positive, negative) {
                    (false, false) => return None,
                    (false, true) => clauses.push((Occur::Must, Box::new(AllQuery))),
                    _ => {}
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
                self.proximity(&plain, &mut clauses);
                Some(Box::new(BooleanQuery::new(clauses)))
            }
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

fn date_term(field: Field, at: DateTime<Utc>) -> Term {
    Term::from_field_date(
        field,
        tantivy::DateTime::from_timestamp_secs(at.timestamp()),
    )
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

impl SearchIndex {
    /// Builds the tantivy query for a request (query text plus filters).
    fn build_query(
        &self,
        searcher: &Searcher,
        request: &SearchRequest,
    ) -> Result<(Box<dyn Query>, Expr), IndexError> {
        let fields = &self.fields;
        let expr = parse(&request.query)?;
        let main = Compiler::new(fields, searcher)
            .compile(&expr)
            .ok_or_else(|| QueryError {
                column: 1,
                message: "no word to search for".into(),
                hint: "type a word of letters or digits".into(),
            })?;
        let prior: Box<dyn Query> = Box::new(ConstScoreQuery::new(
            Box::new(TermQuery::new(
                Term::from_field_text(fields.script, crate::ACCENTED),
                IndexRecordOption::Basic,
            )),
            ACCENTED_DOC_PRIOR,
        ));
        let mut clauses: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Must, main), (Occur::Should, prior)];
        let mut filter = |field: Field, text: &str| {
            clauses.push((
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_text(field, text),
                    IndexRecordOption::Basic,
                )),
            ));
        };
        if let Some(source) = &request.source {
            filter(fields.source_key, &crate::source_key(source));
        }
        if let Some(tag) = &request.tag {
            filter(fields.tags, tag);
        }
        if let Some(kind) = &request.kind {
            filter(fields.kind, kind);
        }
        if request.since.is_some() || request.until.is_some() {
            let lower = request.since.map_or(Bound::Unbounded, |at| {
                Bound::Included(date_term(fields.date, at))
            });
            let upper = request.until.map_or(Bound::Unbounded, |at| {
                Bound::Excluded(date_term(fields.date, at))
            });
            clauses.push((Occur::Must, Box::new(RangeQuery::new(lower, upper))));
        }
        Ok((Box::new(BooleanQuery::new(clauses)), expr))
    }

    /// Runs a search: hits best first (or newest first), the total, and facet counts
    /// (counted in the same pass). Snippets are built for the returned hits only.
    pub fn search(&self, request: &SearchRequest) -> Result<SearchResults, IndexError> {
        let fields = self.fields;
        let searcher = self.reader.searcher();
        let (query, expr) = self.build_query(&searcher, request)?;
        let limit = request.limit.clamp(1, 1000);
        let page = TopDocs::with_limit(limit).and_offset(request.offset);
        let aggregations = if request.facets {
            Some(AggregationCollector::from_aggs(
                facet_aggregations()?,
                Default::default(),
            ))
        } else {
            None
        };
        let (addresses, total, aggregated): (Vec<(f32, DocAddress)>, usize, _) = match request.sort
        {
            Sort::Relevance => {
                searcher.search(&query, &(page.order_by_score(), Count, aggregations))?
            }
            Sort::Date => {
                let (docs, total, aggregated) = searcher.search(
                    &query,
                    &(
                        page.order_by_fast_field::<tantivy::DateTime>("date", Order::Desc),
                        Count,
                        aggregations,
                    ),
                )?;
                let docs = docs
                    .into_iter()
                    .map(|(_, address)| (0.0, address))
                    .collect();
                (docs, total, aggregated)
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
}
