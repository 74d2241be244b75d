//! A phrase query whose positions may each match one of several terms (an accented query
//! word matches its exact term or, in text typed without diacritics, the same letters).
//!
//! tantivy's `RegexPhraseQuery` could express it, but it compiles a regex per position and
//! segment and fills a bitset of the whole segment with every posting of every matched
//! term before the first document is scored: on a large index that costs more than the
//! phrase matching itself. Here each position is a lazy union of the postings of its few
//! terms. The search plan ([`crate::plan`]) finds the documents that have every word and
//! asks [`AltPhraseScorer::occurs_in`] about those (reading positions, rarest word first,
//! until the phrase is ruled out); the bonuses of the full score ask about the candidates
//! only. As a tantivy query it also works alone, intersecting its words by leapfrogging.
//!
//! With a slop, the words must stand in order with at most `slop` other words between them
//! in all (positions jump at sentence ends, so never across a sentence).

use tantivy::fieldnorm::FieldNormReader;
use tantivy::postings::{Postings, SegmentPostings};
use tantivy::query::{
    Bm25StatisticsProvider, Bm25Weight, EmptyScorer, EnableScoring, Explanation, Query, Scorer,
    Weight,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, DocSet, Score, SegmentReader, TERMINATED, TantivyError, Term};

/// Words in order at consecutive positions (or with at most `slop` words between them in
/// all), word `i` matching any term of `positions[i]`. Scored by BM25 on the number of
/// occurrences, the idf of the phrase being the sum over its words of the idf of all the
/// word's terms together (tantivy's phrase weight when each word has one term).
#[derive(Clone, Debug)]
pub(crate) struct AltPhraseQuery {
    field: Field,
    positions: Vec<Vec<Term>>,
    slop: u32,
}

impl AltPhraseQuery {
    /// A phrase of `positions` (each with at least one term of `field`; an empty phrase or
    /// an empty position matches nothing).
    pub(crate) fn new(field: Field, positions: Vec<Vec<String>>, slop: u32) -> Self {
        let positions = positions
            .into_iter()
            .map(|alternatives| {
                alternatives
                    .iter()
                    .map(|text| Term::from_field_text(field, text))
                    .collect()
            })
            .collect();
        Self {
            field,
            positions,
            slop,
        }
    }
}

/// BM25 statistics where the "term" number `i` is position `i` of a phrase, with the summed
/// document frequency of its terms.
struct PositionStatistics<'a> {
    inner: &'a dyn Bm25StatisticsProvider,
    doc_freqs: Vec<u64>,
}

impl Bm25StatisticsProvider for PositionStatistics<'_> {
    fn total_num_tokens(&self, field: Field) -> tantivy::Result<u64> {
        self.inner.total_num_tokens(field)
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        self.inner.total_num_docs()
    }

    fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        let position = term
            .value()
            .as_u64()
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| self.doc_freqs.get(i).copied());
        position.ok_or_else(|| TantivyError::InternalError("phrase position".into()))
    }
}

impl AltPhraseQuery {
    /// The weight of the query (its BM25 statistics when scoring).
    pub(crate) fn alt_weight(
        &self,
        enable_scoring: EnableScoring<'_>,
    ) -> tantivy::Result<AltPhraseWeight> {
        let similarity = match enable_scoring {
            EnableScoring::Enabled {
                statistics_provider,
                ..
            } if !self.positions.is_empty() => {
                let total_docs = statistics_provider.total_num_docs()?;
                let mut doc_freqs = Vec::with_capacity(self.positions.len());
                for alternatives in &self.positions {
                    let mut sum = 0u64;
                    for term in alternatives {
                        sum += statistics_provider.doc_freq(term)?;
                    }
                    doc_freqs.push(sum.min(total_docs));
                }
                let statistics = PositionStatistics {
                    inner: statistics_provider,
                    doc_freqs,
                };
                let placeholders: Vec<Term> = (0..self.positions.len() as u64)
                    .map(|i| Term::from_field_u64(self.field, i))
                    .collect();
                Some(Bm25Weight::for_terms(&statistics, &placeholders)?)
            }
            _ => None,
        };
        Ok(AltPhraseWeight {
            field: self.field,
            positions: self.positions.clone(),
            slop: self.slop,
            similarity,
        })
    }
}

impl Query for AltPhraseQuery {
    fn weight(&self, enable_scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(self.alt_weight(enable_scoring)?))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        for term in self.positions.iter().flatten() {
            visitor(term, true);
        }
    }
}

pub(crate) struct AltPhraseWeight {
    field: Field,
    positions: Vec<Vec<Term>>,
    slop: u32,
    similarity: Option<Bm25Weight>,
}

impl AltPhraseWeight {
    /// The scorer of a segment, on its first match when `positioned` (else on no document
    /// yet: for [`add_scores`](Self::add_scores)).
    fn phrase_scorer(
        &self,
        reader: &SegmentReader,
        boost: Score,
        positioned: bool,
    ) -> tantivy::Result<Option<AltPhraseScorer>> {
        if self.positions.is_empty() {
            return Ok(None);
        }
        let inverted_index = reader.inverted_index(self.field)?;
        let mut words = Vec::with_capacity(self.positions.len());
        for alternatives in &self.positions {
            let mut lists = Vec::with_capacity(alternatives.len());
            for term in alternatives {
                if let Some(list) =
                    inverted_index.read_postings(term, IndexRecordOption::WithFreqsAndPositions)?
                {
                    lists.push(list);
                }
            }
            if lists.is_empty() {
                return Ok(None);
            }
            words.push(AltPostings::new(lists));
        }
        let fieldnorms = match &self.similarity {
            Some(_) => reader.fieldnorms_readers().get_field(self.field)?,
            None => None,
        }
        .unwrap_or_else(|| FieldNormReader::constant(reader.max_doc(), 1));
        let similarity = self.similarity.as_ref().map(|s| s.boost_by(boost));
        let mut scorer = AltPhraseScorer::new(words, self.slop, similarity, fieldnorms);
        if positioned {
            scorer.doc = scorer.find(0);
        }
        Ok(Some(scorer))
    }

    /// The terms of each word of the phrase.
    pub(crate) fn words(&self) -> &[Vec<Term>] {
        &self.positions
    }

    /// The scorer of a segment, on no document yet (see [`AltPhraseScorer::occurs_in`]);
    /// `None` when a word is absent from it.
    pub(crate) fn unpositioned_scorer(
        &self,
        reader: &SegmentReader,
        boost: Score,
    ) -> tantivy::Result<Option<AltPhraseScorer>> {
        self.phrase_scorer(reader, boost, false)
    }

    /// Adds `boost` times the score of the phrase to `scores[i]` for each document
    /// `docs[i]` (ascending) where it occurs. Unlike seeking a scorer, this never looks
    /// for the next occurrence: the work is per given document.
    pub(crate) fn add_scores(
        &self,
        reader: &SegmentReader,
        docs: &[DocId],
        boost: Score,
        scores: &mut [Score],
    ) -> tantivy::Result<()> {
        let Some(mut scorer) = self.phrase_scorer(reader, boost, false)? else {
            return Ok(());
        };
        for (&doc, score) in docs.iter().zip(scores) {
            if scorer.occurs_in(doc) {
                *score += scorer.score();
            }
        }
        Ok(())
    }
}

impl Weight for AltPhraseWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        Ok(match self.phrase_scorer(reader, boost, true)? {
            Some(scorer) => Box::new(scorer),
            None => Box::new(EmptyScorer),
        })
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let not_matched =
            || TantivyError::InvalidArgument(format!("document {doc} does not match"));
        let mut scorer = self
            .phrase_scorer(reader, 1.0, true)?
            .ok_or_else(not_matched)?;
        if scorer.doc() > doc || scorer.seek(doc) != doc {
            return Err(not_matched());
        }
        Ok(Explanation::new("phrase", scorer.score()))
    }
}

/// The documents where a phrase occurs, with its number of occurrences.
pub(crate) struct AltPhraseScorer {
    words: Vec<AltPostings>,
    /// Word indexes, rarest first: the order of the leapfrog.
    order: Vec<usize>,
    doc: DocId,
    slop: u32,
    similarity: Option<Bm25Weight>,
    fieldnorms: FieldNormReader,
    /// Occurrences in `doc`.
    count: u32,
    /// Chains of matched words: (position of the last word, slop spent).
    chains: Vec<(u32, u32)>,
    next_chains: Vec<(u32, u32)>,
    positions: Vec<u32>,
    /// Without slop: the start positions found so far.
    starts: Vec<u32>,
}

impl AltPhraseScorer {
    fn new(
        words: Vec<AltPostings>,
        slop: u32,
        similarity: Option<Bm25Weight>,
        fieldnorms: FieldNormReader,
    ) -> Self {
        let mut order: Vec<usize> = (0..words.len()).collect();
        order.sort_by_key(|&i| words[i].size_hint());
        Self {
            words,
            order,
            doc: 0,
            slop,
            similarity,
            fieldnorms,
            count: 0,
            chains: Vec::new(),
            next_chains: Vec::new(),
            positions: Vec::new(),
            starts: Vec::new(),
        }
    }

    /// Whether the phrase occurs in `doc` (not before the previous document asked about),
    /// which becomes the current document.
    pub(crate) fn occurs_in(&mut self, doc: DocId) -> bool {
        self.doc = doc;
        self.count = 0;
        if self.slop == 0 {
            // Words are read (and their postings moved) only while the phrase may occur.
            self.count = self.adjacent_occurrences();
            return self.count > 0;
        }
        for &i in &self.order {
            let word = &mut self.words[i];
            if word.doc() < doc {
                word.seek(doc);
            }
            if word.doc() != doc {
                return false;
            }
        }
        self.count = self.occurrences();
        self.count > 0
    }

    /// The first document from `target` on that has every word (not yet the phrase).
    fn align(&mut self, mut target: DocId) -> DocId {
        'candidates: loop {
            let mut candidate = TERMINATED;
            for (n, &i) in self.order.iter().enumerate() {
                let word = &mut self.words[i];
                let mut doc = word.doc();
                if doc < target {
                    doc = word.seek(target);
                }
                if doc == TERMINATED {
                    return TERMINATED;
                }
                if n == 0 {
                    candidate = doc;
                    target = doc;
                } else if doc > candidate {
                    target = doc;
                    continue 'candidates;
                }
            }
            return candidate;
        }
    }

    /// The first document from `target` on where the phrase occurs.
    fn find(&mut self, mut target: DocId) -> DocId {
        loop {
            let doc = self.align(target);
            if doc == TERMINATED {
                return TERMINATED;
            }
            self.doc = doc;
            self.count = self.occurrences();
            if self.count > 0 {
                return doc;
            }
            target = doc + 1;
        }
    }

    /// Occurrences of the phrase in the current document (every word is on it, or for
    /// no slop, reached by the postings as they are read): chains of
    /// positions, one per word, in order, with at most `slop` words skipped in all;
    /// counted once per position of the last word.
    fn occurrences(&mut self) -> u32 {
        if self.slop == 0 {
            return self.adjacent_occurrences();
        }
        let slop = self.slop;
        self.chains.clear();
        self.positions.clear();
        if let Some(first) = self.words.first_mut() {
            first.append_positions_with_offset(0, &mut self.positions);
        }
        self.chains.extend(self.positions.iter().map(|&p| (p, 0)));
        for word in self.words.iter_mut().skip(1) {
            if self.chains.is_empty() {
                return 0;
            }
            self.positions.clear();
            word.append_positions_with_offset(0, &mut self.positions);
            self.next_chains.clear();
            let mut from = 0;
            for &position in &self.positions {
                let lowest = position.saturating_sub(slop.saturating_add(1));
                while from < self.chains.len() && self.chains[from].0 < lowest {
                    from += 1;
                }
                let mut best: Option<u32> = None;
                for &(previous, spent) in &self.chains[from..] {
                    if previous >= position {
                        break;
                    }
                    let spent = spent + (position - previous - 1);
                    if spent <= slop && best.is_none_or(|b| spent < b) {
                        best = Some(spent);
                    }
                }
                if let Some(spent) = best {
                    self.next_chains.push((position, spent));
                }
            }
            std::mem::swap(&mut self.chains, &mut self.next_chains);
        }
        u32::try_from(self.chains.len()).unwrap_or(u32::MAX)
    }

    /// [`occurrences`](Self::occurrences) without slop: the phrase's start positions
    /// that every word confirms, the rarest word first (in most documents that have every
    /// word, the first two rule the phrase out). Moves each word's postings to the current
    /// document when it gets to it.
    fn adjacent_occurrences(&mut self) -> u32 {
        let doc = self.doc;
        for (n, &i) in self.order.iter().enumerate() {
            let word = &mut self.words[i];
            if word.doc() < doc {
                word.seek(doc);
            }
            if word.doc() != doc {
                return 0;
            }
            let offset = u32::try_from(i).unwrap_or(u32::MAX);
            self.positions.clear();
            word.append_positions_with_offset(0, &mut self.positions);
            // Start positions of the phrase this word allows.
            let starts = self.positions.iter().filter_map(|p| p.checked_sub(offset));
            if n == 0 {
                self.starts.clear();
                self.starts.extend(starts);
            } else {
                let mut kept = 0;
                let mut candidates = starts.peekable();
                for at in 0..self.starts.len() {
                    let start = self.starts[at];
                    while candidates.next_if(|&c| c < start).is_some() {}
                    if candidates.peek() == Some(&start) {
                        self.starts[kept] = start;
                        kept += 1;
                    }
                }
                self.starts.truncate(kept);
            }
            if self.starts.is_empty() {
                return 0;
            }
        }
        u32::try_from(self.starts.len()).unwrap_or(u32::MAX)
    }
}

impl DocSet for AltPhraseScorer {
    fn advance(&mut self) -> DocId {
        if self.doc != TERMINATED {
            self.doc = self.find(self.doc + 1);
        }
        self.doc
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc < target {
            self.doc = self.find(target);
        }
        self.doc
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        // Every word is needed: at most the rarest word's documents (fewer in fact).
        self.order
            .first()
            .map_or(0, |&i| self.words[i].size_hint() / 4)
    }
}

impl Scorer for AltPhraseScorer {
    fn score(&mut self) -> Score {
        match &self.similarity {
            Some(similarity) => {
                similarity.score(self.fieldnorms.fieldnorm_id(self.doc), self.count)
            }
            None => 1.0,
        }
    }
}

/// The union of the postings of the terms of one phrase position.
pub(crate) struct AltPostings {
    lists: Vec<SegmentPostings>,
    doc: DocId,
}

impl AltPostings {
    fn new(lists: Vec<SegmentPostings>) -> Self {
        let doc = lists.iter().map(DocSet::doc).min().unwrap_or(TERMINATED);
        Self { lists, doc }
    }
}

impl DocSet for AltPostings {
    fn advance(&mut self) -> DocId {
        let mut next = TERMINATED;
        for list in &mut self.lists {
            let mut doc = list.doc();
            if doc <= self.doc {
                doc = list.advance();
            }
            next = next.min(doc);
        }
        self.doc = next;
        next
    }

    fn seek(&mut self, target: DocId) -> DocId {
        let mut next = TERMINATED;
        for list in &mut self.lists {
            let mut doc = list.doc();
            if doc < target {
                doc = list.seek(target);
            }
            next = next.min(doc);
        }
        self.doc = next;
        next
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        self.lists.iter().map(DocSet::size_hint).sum()
    }
}

impl Postings for AltPostings {
    fn term_freq(&self) -> u32 {
        self.lists
            .iter()
            .filter(|list| list.doc() == self.doc)
            .map(Postings::term_freq)
            .sum()
    }

    fn append_positions_with_offset(&mut self, offset: u32, output: &mut Vec<u32>) {
        let start = output.len();
        let mut found = 0;
        for list in &mut self.lists {
            if list.doc() == self.doc {
                list.append_positions_with_offset(offset, output);
                found += 1;
            }
        }
        if found > 1 {
            output[start..].sort_unstable();
        }
    }
}
