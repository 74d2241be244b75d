//! Turning a parsed query into tantivy queries, running it, snippets and facets.

use std::collections::BTreeMap;
use std::ops::Bound;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tantivy::aggregation::AggregationCollector;
use tantivy::aggregation::agg_req::Aggregations;
use tantivy::aggregation::agg_result::{AggregationResult, AggregationResults, BucketResult};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, EmptyQuery, Occur, PhraseQuery, Query, RangeQuery,
    TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocAddress, Order, TantivyDocument, Term};

use crate::analysis::{QueryTerm, query_terms};
use crate::query::{Expr, Scope, parse};
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
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchResults {
    pub total: usize,
    pub hits: Vec<Hit>,
    pub facets: Facets,
}

/// Weight of a title match against a body match.
const TITLE_BOOST: f32 = 2.5;
/// Weight of an unaccented document word for an accented query word.
const UNACCENTED_DOC_WEIGHT: f32 = 0.35;
/// Weight of the words of a multi-word query found in order and adjacent.
const ADJACENCY_BOOST: f32 = 3.0;

struct Target {
    exact: Option<Field>,
    fold: Field,
    weight: f32,
}

fn targets(fields: &Fields, scope: Scope) -> Vec<Target> {
    match scope {
        Scope::Any => vec![
            Target {
                exact: Some(fields.title),
                fold: fields.title_fold,
                weight: TITLE_BOOST,
            },
            Target {
                exact: Some(fields.text),
                fold: fields.text_fold,
                weight: 1.0,
            },
        ],
        Scope::Title => vec![Target {
            exact: Some(fields.title),
            fold: fields.title_fold,
            weight: 1.0,
        }],
        Scope::Text => vec![Target {
            exact: Some(fields.text),
            fold: fields.text_fold,
            weight: 1.0,
        }],
        Scope::Source => vec![Target {
            exact: None,
            fold: fields.source_fold,
            weight: 1.0,
        }],
    }
}

fn term_query(field: Field, text: &str, weight: f32) -> Box<dyn Query> {
    let query = TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::WithFreqs,
    );
    if (weight - 1.0).abs() < f32::EPSILON {
        Box::new(query)
    } else {
        Box::new(BoostQuery::new(Box::new(query), weight))
    }
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

/// An accented word matches the same accented word, or the same letters written without
/// diacritics; an unaccented word matches every accented form.
fn word_in(target: &Target, term: &QueryTerm, weight: f32) -> Box<dyn Query> {
    match (term.unaccented, target.exact) {
        (false, Some(exact)) => should(vec![
            term_query(exact, &term.exact, weight),
            term_query(exact, &term.folded, weight * UNACCENTED_DOC_WEIGHT),
        ]),
        _ => term_query(target.fold, &term.folded, weight),
    }
}

fn phrase_in(target: &Target, terms: &[QueryTerm], slop: u32, weight: f32) -> Box<dyn Query> {
    let folded: Vec<(usize, Term)> = terms
        .iter()
        .enumerate()
        .map(|(i, t)| (i, Term::from_field_text(target.fold, &t.folded)))
        .collect();
    let phrase: Box<dyn Query> = Box::new(BoostQuery::new(
        Box::new(PhraseQuery::new_with_offset_and_slop(folded, slop)),
        weight,
    ));
    let accented: Vec<&QueryTerm> = terms.iter().filter(|t| !t.unaccented).collect();
    if accented.is_empty() || target.exact.is_none() {
        return phrase;
    }
    let mut clauses = vec![(Occur::Must, phrase)];
    for term in accented {
        clauses.push((Occur::Must, word_in(target, term, 0.0001)));
    }
    Box::new(BooleanQuery::new(clauses))
}

fn words_query(
    fields: &Fields,
    scope: Scope,
    terms: &[QueryTerm],
    as_phrase: bool,
) -> Box<dyn Query> {
    let targets = targets(fields, scope);
    if terms.len() == 1 {
        return should(
            targets
                .iter()
                .map(|t| word_in(t, &terms[0], t.weight))
                .collect(),
        );
    }
    if as_phrase {
        return should(
            targets
                .iter()
                .map(|t| phrase_in(t, terms, 0, t.weight))
                .collect(),
        );
    }
    // Several syllables in one word (e.g. "covid-19") behave as a phrase.
    should(
        targets
            .iter()
            .map(|t| phrase_in(t, terms, 0, t.weight))
            .collect(),
    )
}

fn compile(fields: &Fields, expr: &Expr) -> Option<Box<dyn Query>> {
    match expr {
        Expr::Word { scope, text } => {
            let terms = query_terms(text);
            (!terms.is_empty()).then(|| words_query(fields, *scope, &terms, false))
        }
        Expr::Phrase { scope, text } => {
            let terms = query_terms(text);
            (!terms.is_empty()).then(|| words_query(fields, *scope, &terms, true))
        }
        Expr::Or(parts) => {
            let parts: Vec<_> = parts.iter().filter_map(|p| compile(fields, p)).collect();
            (!parts.is_empty()).then(|| should(parts))
        }
        Expr::Not(inner) => {
            let inner = compile(fields, inner)?;
            Some(Box::new(BooleanQuery::new(vec![
                (Occur::Must, Box::new(AllQuery) as Box<dyn Query>),
                (Occur::MustNot, inner),
            ])))
        }
        Expr::And(parts) => {
            let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            let mut has_positive = false;
            for part in parts {
                if let Expr::Not(inner) = part {
                    if let Some(q) = compile(fields, inner) {
                        clauses.push((Occur::MustNot, q));
                    }
                } else if let Some(q) = compile(fields, part) {
                    has_positive = true;
                    clauses.push((Occur::Must, q));
                }
            }
            if !has_positive {
                clauses.push((Occur::Must, Box::new(AllQuery)));
            }
            // Words in order and adjacent rank above the same words scattered.
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
            if plain.len() >= 2 {
                for target in targets(fields, Scope::Any) {
                    clauses.push((
                        Occur::Should,
                        phrase_in(&target, &plain, 0, target.weight * ADJACENCY_BOOST),
                    ));
                    clauses.push((Occur::Should, phrase_in(&target, &plain, 2, target.weight)));
                }
            }
            Some(Box::new(BooleanQuery::new(clauses)))
        }
    }
}

/// The folded terms of every positive word, for highlighting in the stored text.
fn highlight_terms(expr: &Expr, out: &mut Vec<String>) {
    match expr {
        Expr::Word { scope, text } | Expr::Phrase { scope, text } if *scope != Scope::Source => {
            out.extend(query_terms(text).into_iter().map(|t| t.folded));
        }
        Expr::And(parts) | Expr::Or(parts) => parts.iter().for_each(|p| highlight_terms(p, out)),
        _ => {}
    }
}

fn date_term(field: Field, at: DateTime<Utc>) -> Term {
    Term::from_field_date(
        field,
        tantivy::DateTime::from_timestamp_secs(at.timestamp()),
    )
}

impl SearchIndex {
    /// Builds the tantivy query for a request (query text plus filters).
    fn build_query(&self, request: &SearchRequest) -> Result<(Box<dyn Query>, Expr), IndexError> {
        let fields = &self.fields;
        let expr = parse(&request.query)?;
        let main = compile(fields, &expr).unwrap_or_else(|| Box::new(EmptyQuery));
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, main)];
        if let Some(source) = &request.source {
            clauses.push((
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_text(fields.source, source),
                    IndexRecordOption::Basic,
                )),
            ));
        }
        if let Some(tag) = &request.tag {
            clauses.push((
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_text(fields.tags, tag),
                    IndexRecordOption::Basic,
                )),
            ));
        }
        if let Some(kind) = &request.kind {
            clauses.push((
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_text(fields.kind, kind),
                    IndexRecordOption::Basic,
                )),
            ));
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
        let query: Box<dyn Query> = if clauses.len() == 1 {
            clauses.remove(0).1
        } else {
            Box::new(BooleanQuery::new(clauses))
        };
        Ok((query, expr))
    }

    /// Runs a search: hits best first (or newest first), the total, and facet counts.
    pub fn search(&self, request: &SearchRequest) -> Result<SearchResults, IndexError> {
        let fields = self.fields;
        let (query, expr) = self.build_query(request)?;
        let searcher = self.reader.searcher();
        let limit = request.limit.clamp(1, 1000);
        let page = TopDocs::with_limit(limit).and_offset(request.offset);
        let (addresses, total): (Vec<(f32, DocAddress)>, usize) = match request.sort {
            Sort::Relevance => searcher.search(&query, &(page.order_by_score(), Count))?,
            Sort::Date => {
                let (docs, total) = searcher.search(
                    &query,
                    &(
                        page.order_by_fast_field::<tantivy::DateTime>("date", Order::Desc),
                        Count,
                    ),
                )?;
                (
                    docs.into_iter()
                        .map(|(_, address)| (0.0, address))
                        .collect(),
                    total,
                )
            }
        };

        let mut terms = Vec::new();
        highlight_terms(&expr, &mut terms);
        terms.sort();
        terms.dedup();
        let highlight: Box<dyn Query> = should(
            terms
                .iter()
                .map(|t| term_query(fields.text_fold, t, 1.0))
                .collect(),
        );
        let mut snippets = SnippetGenerator::create(&searcher, &*highlight, fields.text_fold)?;
        snippets.set_max_num_chars(240);
        let title_highlight: Box<dyn Query> = should(
            terms
                .iter()
                .map(|t| term_query(fields.title_fold, t, 1.0))
                .collect(),
        );
        let mut title_snippets =
            SnippetGenerator::create(&searcher, &*title_highlight, fields.title_fold)?;
        title_snippets.set_max_num_chars(240);

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
            let mut snippet = snippets.snippet(&text);
            let mut html = snippet.to_html();
            if snippet.highlighted().is_empty() {
                snippet = title_snippets.snippet(&title);
                if !snippet.highlighted().is_empty() {
                    html = snippet.to_html();
                } else if html.is_empty() {
                    html = escape_html(&text.chars().take(240).collect::<String>());
                }
            }
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
                snippet: html,
                tags: doc
                    .get_all(fields.rules)
                    .filter_map(|v| v.as_str())
                    .map(str::to_string)
                    .collect(),
            });
        }
        let facets = if request.facets {
            self.facets(&*query)?
        } else {
            Facets::default()
        };
        Ok(SearchResults {
            total,
            hits,
            facets,
        })
    }

    fn facets(&self, query: &dyn Query) -> Result<Facets, IndexError> {
        let request: Aggregations = serde_json::from_value(serde_json::json!({
            "source": {"terms": {"field": "source", "size": 100}},
            "tag": {"terms": {"field": "tags", "size": 100}},
            "kind": {"terms": {"field": "kind", "size": 10}},
        }))
        .map_err(|err| IndexError::Io(std::io::Error::other(err)))?;
        let collector = AggregationCollector::from_aggs(request, Default::default());
        let searcher = self.reader.searcher();
        let results: AggregationResults = searcher.search(query, &collector)?;
        let mut facets = Facets::default();
        for (name, target) in [
            ("source", &mut facets.source),
            ("tag", &mut facets.tag),
            ("kind", &mut facets.kind),
        ] {
            if let Some(AggregationResult::BucketResult(BucketResult::Terms { buckets, .. })) =
                results.0.get(name)
            {
                for bucket in buckets {
                    target.insert(bucket.key.to_string(), bucket.doc_count);
                }
            }
        }
        Ok(facets)
    }
}

/// Escapes text for HTML (everything, no tags kept).
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
