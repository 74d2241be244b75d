//! The matching part of a search (the documents and their plain BM25 score), evaluated
//! window by window with bitsets.
//!
//! A query word matches any of several terms (title and text, exact form and form without
//! diacritics), so a query of several words is an intersection of unions. tantivy's
//! boolean scorers evaluate such a query by buffering each union and seeking the
//! intersection through them; over a few hundred thousand matches that costs several
//! times the decoding of the postings. Here each node of the query fills, for a window of
//! [`WINDOW`] documents, a bitset of its matches and their scores, straight from the
//! posting blocks: a union is an OR of bitsets, an intersection an AND, and the score of a
//! document is added up as tantivy's boolean query would (the sum of the scores of the
//! matching clauses). Phrases read positions only for documents that have all their words
//! and match everything else in their intersection.
//!
//! [`PlanQuery`] is a tantivy query, so every collector works on it (top documents by
//! score or by date, count, aggregations for the facets).

use std::ops::RangeInclusive;

use tantivy::columnar::Column;
use tantivy::directory::OwnedBytes;
use tantivy::fieldnorm::FieldNormReader;
use tantivy::postings::BlockSegmentPostings;
use tantivy::query::{Bm25Weight, EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, DocSet, Score, SegmentReader, TERMINATED, TantivyError, Term};

use crate::phrase::{AltPhraseQuery, AltPhraseScorer, AltPhraseWeight};

/// Documents per window (a multiple of 64).
const WINDOW: u32 = 4096;
const WORDS: usize = (WINDOW / 64) as usize;

/// A query, as the tree that [`PlanQuery`] evaluates.
#[derive(Clone, Debug)]
pub(crate) enum Node {
    /// A word: documents with any of the terms, scored by the sum of the BM25 scores of
    /// the terms they have, each times its weight.
    Terms(Vec<(Term, f32)>),
    /// Documents where the phrase occurs, scored by its BM25 score times the weight.
    Phrase(AltPhraseQuery, f32),
    /// Documents matching every `must` node and no `not` node; the sum of the scores.
    And { must: Vec<Node>, not: Vec<Node> },
    /// Documents matching any node; the sum of the scores of those they match.
    Or(Vec<Node>),
    /// Every document, scoring 1 (the positive side of a query of negations only).
    All,
    /// Documents with the term (no score).
    Filter(Term),
    /// Documents whose fast date field `field` is in the range, in seconds (no score).
    Dates {
        field: String,
        from: Option<i64>,
        to: Option<i64>,
    },
}

/// A [`Node`] as a tantivy query.
#[derive(Clone, Debug)]
pub(crate) struct PlanQuery {
    root: Node,
}

impl PlanQuery {
    pub(crate) fn new(root: Node) -> Self {
        Self { root }
    }

    /// The weight of the query (its BM25 statistics when scoring).
    pub(crate) fn plan_weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<PlanWeight> {
        Ok(PlanWeight {
            root: prepare(&self.root, scoring)?,
        })
    }
}

impl Query for PlanQuery {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(self.plan_weight(scoring)?))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        fn visit<'a>(node: &'a Node, visitor: &mut dyn FnMut(&'a Term, bool)) {
            match node {
                Node::Terms(terms) => terms.iter().for_each(|(t, _)| visitor(t, false)),
                Node::Phrase(phrase, _) => phrase.query_terms(visitor),
                Node::And { must, not } => {
                    must.iter().chain(not).for_each(|n| visit(n, visitor));
                }
                Node::Or(nodes) => nodes.iter().for_each(|n| visit(n, visitor)),
                Node::Filter(term) => visitor(term, false),
                Node::All | Node::Dates { .. } => {}
            }
        }
        visit(&self.root, visitor);
    }
}

/// A node with its statistics.
enum Prepared {
    Terms(Vec<(Term, Option<Bm25Weight>)>),
    Phrase(AltPhraseWeight, f32),
    And {
        must: Vec<Prepared>,
        not: Vec<Prepared>,
    },
    Or(Vec<Prepared>),
    All,
    Filter(Term),
    Dates {
        field: String,
        range: Option<RangeInclusive<tantivy::DateTime>>,
    },
}

fn prepare(node: &Node, scoring: EnableScoring<'_>) -> tantivy::Result<Prepared> {
    Ok(match node {
        Node::Terms(terms) => {
            let mut out = Vec::with_capacity(terms.len());
            for (term, weight) in terms {
                let bm25 = match scoring {
                    EnableScoring::Enabled {
                        statistics_provider,
                        ..
                    } => Some(
                        Bm25Weight::for_terms(statistics_provider, std::slice::from_ref(term))?
                            .boost_by(*weight),
                    ),
                    EnableScoring::Disabled { .. } => None,
                };
                out.push((term.clone(), bm25));
            }
            Prepared::Terms(out)
        }
        Node::Phrase(phrase, weight) => Prepared::Phrase(phrase.alt_weight(scoring)?, *weight),
        Node::And { must, not } => Prepared::And {
            must: must
                .iter()
                .map(|n| prepare(n, scoring))
                .collect::<tantivy::Result<_>>()?,
            not: not
                .iter()
                .map(|n| prepare(n, scoring))
                .collect::<tantivy::Result<_>>()?,
        },
        Node::Or(nodes) => Prepared::Or(
            nodes
                .iter()
                .map(|n| prepare(n, scoring))
                .collect::<tantivy::Result<_>>()?,
        ),
        Node::All => Prepared::All,
        Node::Filter(term) => Prepared::Filter(term.clone()),
        Node::Dates { field, from, to } => {
            let from = from.unwrap_or(i64::MIN);
            let to = to.unwrap_or(i64::MAX);
            let range = (from <= to).then(|| {
                tantivy::DateTime::from_timestamp_secs(from)
                    ..=tantivy::DateTime::from_timestamp_secs(to)
            });
            Prepared::Dates {
                field: field.clone(),
                range,
            }
        }
    })
}

/// The weight of a [`PlanQuery`].
pub(crate) struct PlanWeight {
    root: Prepared,
}

/// A set of documents of a window.
type Bits = [u64; WORDS];

fn has(bits: &Bits, i: usize) -> bool {
    bits[i / 64] & (1 << (i % 64)) != 0
}

fn is_empty(bits: &Bits) -> bool {
    bits.iter().all(|&w| w == 0)
}

/// The documents of a set, ascending (indexes in the window).
fn ones(bits: &Bits) -> impl Iterator<Item = usize> + '_ {
    bits.iter().enumerate().flat_map(|(w, &word)| {
        let mut word = word;
        std::iter::from_fn(move || {
            if word == 0 {
                return None;
            }
            let bit = word.trailing_zeros() as usize;
            word &= word - 1;
            Some(w * 64 + bit)
        })
    })
}

/// The matches of a window and their scores (meaningful where a bit is set).
struct Window {
    bits: Bits,
    scores: Box<[Score]>,
}

impl Window {
    fn new() -> Self {
        Self {
            bits: [0; WORDS],
            scores: vec![0.0; WINDOW as usize].into_boxed_slice(),
        }
    }
}

/// The postings of one term in a segment, read block by block; the current window's
/// documents (and frequencies, when scoring) are kept for the scoring step.
struct TermCursor {
    block: BlockSegmentPostings,
    at: usize,
    bm25: Option<Bm25Weight>,
    /// The field norm ids of the segment's documents (empty: `norm` for all).
    norms: OwnedBytes,
    norm: u8,
    /// The score of one occurrence per field norm id (most words occur once).
    once: Box<[Score; 256]>,
    /// The term's documents in the current window, and (kept for scoring) their
    /// frequencies in the same order.
    bits: Bits,
    freqs: Vec<u32>,
}

impl TermCursor {
    fn open(
        reader: &SegmentReader,
        term: &Term,
        bm25: Option<Bm25Weight>,
    ) -> tantivy::Result<Option<Self>> {
        let option = if bm25.is_some() {
            IndexRecordOption::WithFreqs
        } else {
            IndexRecordOption::Basic
        };
        let Some(block) = reader
            .inverted_index(term.field())?
            .read_block_postings(term, option)?
        else {
            return Ok(None);
        };
        // The raw ids, read without a call per document.
        let norms = match bm25 {
            Some(_) => reader
                .fieldnorms_readers()
                .get_inner_file()
                .open_read(term.field())
                .map(|file| file.read_bytes())
                .transpose()?,
            None => None,
        }
        .unwrap_or_else(OwnedBytes::empty);
        let norm = FieldNormReader::constant(1, 1).fieldnorm_id(0);
        let mut once = Box::new([0.0; 256]);
        if let Some(bm25) = &bm25 {
            for (id, score) in (0..=u8::MAX).zip(once.iter_mut()) {
                *score = bm25.score(id, 1);
            }
        }
        Ok(Some(Self {
            block,
            at: 0,
            bm25,
            norms,
            norm,
            once,
            bits: [0; WORDS],
            freqs: Vec::new(),
        }))
    }

    /// The number of documents of the term in the segment.
    fn doc_freq(&self) -> u32 {
        self.block.doc_freq()
    }

    /// Finds the term's documents in `[base, end)` ([`bits`](Self::bits)), keeping their
    /// frequencies for [`score`](Self::score) when `keep`.
    fn mark(&mut self, base: DocId, end: DocId, keep: bool) {
        self.bits = [0; WORDS];
        self.freqs.clear();
        let keep = keep && self.bm25.is_some();
        loop {
            let len = self.block.docs().len();
            if len == 0 {
                return;
            }
            if self.at < len && self.block.doc(self.at) < base {
                if self.block.doc(len - 1) < base {
                    // The whole block is before the window: jump with the skip list.
                    self.at = self.block.seek(base);
                    if self.at >= self.block.docs().len() {
                        self.block.advance();
                        self.at = 0;
                    }
                    continue;
                }
                let docs = self.block.docs();
                self.at += docs[self.at..].partition_point(|&d| d < base);
            }
            let docs = self.block.docs();
            let from = self.at;
            let to = from + docs[from..].partition_point(|&d| d < end);
            for &doc in &docs[from..to] {
                let i = (doc - base) as usize;
                self.bits[i / 64] |= 1 << (i % 64);
            }
            if keep {
                match self.block.freqs().get(from..to) {
                    Some(freqs) => self.freqs.extend_from_slice(freqs),
                    None => self.freqs.resize(self.freqs.len() + (to - from), 1),
                }
            }
            self.at = to;
            if to < docs.len() {
                return;
            }
            self.block.advance();
            self.at = 0;
        }
    }

    /// ORs the term's documents (among `within` when given) into `out`.
    fn or_into(&self, within: Option<&Bits>, out: &mut Bits) {
        match within {
            Some(within) => {
                for ((o, b), w) in out.iter_mut().zip(&self.bits).zip(within) {
                    *o |= b & w;
                }
            }
            None => {
                for (o, b) in out.iter_mut().zip(&self.bits) {
                    *o |= b;
                }
            }
        }
    }

    /// Adds the term's scores of the documents of `mask` to `scores` (frequencies kept by
    /// the last [`mark`](Self::mark)): the frequency of a document is found by its rank
    /// among the term's documents of the window.
    fn score(&self, base: DocId, mask: &Bits, scores: &mut [Score]) {
        let Some(bm25) = &self.bm25 else {
            return;
        };
        let once: &[Score; 256] = &self.once;
        let norms = self.norms.as_slice();
        let score = |i: usize, freq: u32| {
            let doc = base + i as u32;
            let id = norms.get(doc as usize).copied().unwrap_or(self.norm);
            if freq == 1 {
                once[usize::from(id)]
            } else {
                bm25.score(id, freq)
            }
        };
        let mut rank = 0usize;
        for (w, (&bits, &wanted)) in self.bits.iter().zip(mask).enumerate() {
            let hits = bits & wanted;
            if hits == bits {
                // Every document of the term here: ranks follow one another.
                let mut hits = hits;
                while hits != 0 {
                    let i = w * 64 + hits.trailing_zeros() as usize;
                    hits &= hits - 1;
                    if let Some(&freq) = self.freqs.get(rank) {
                        scores[i] += score(i, freq);
                    }
                    rank += 1;
                }
                continue;
            }
            let mut hits = hits;
            while hits != 0 {
                let bit = hits.trailing_zeros();
                hits &= hits - 1;
                let below = (bits & ((1u64 << bit) - 1)).count_ones() as usize;
                if let Some(&freq) = self.freqs.get(rank + below) {
                    let i = w * 64 + bit as usize;
                    scores[i] += score(i, freq);
                }
            }
            rank += bits.count_ones() as usize;
        }
    }
}

/// A node in one segment. Each window is evaluated in two steps: [`mark`](Self::mark)
/// finds the matches (intersections pass the documents left to the next node, so that
/// positions and the like are read only for them), then [`score`](Self::score) adds up
/// the scores of the documents that match the whole query (none when counting).
enum Cursor {
    Terms(Vec<TermCursor>),
    Phrase {
        /// The postings of each word's terms, rarest word first: the documents that have
        /// every word.
        words: Vec<Vec<TermCursor>>,
        /// Positions, for those documents.
        scorer: Option<AltPhraseScorer>,
        present: Box<Bits>,
        /// The window's occurrences: (index in the window, score).
        found: Vec<(usize, Score)>,
    },
    And {
        must: Vec<Cursor>,
        not: Vec<(Cursor, Box<Bits>)>,
        scratch: Box<Bits>,
    },
    Or(Vec<(Cursor, Box<Bits>)>),
    /// `kept`: the scores (1 each) are to be added by [`score`](Self::score).
    All {
        kept: bool,
    },
    Filter(Option<Box<TermCursor>>),
    Dates {
        column: Option<Column<tantivy::DateTime>>,
        range: Option<RangeInclusive<tantivy::DateTime>>,
        docs: Vec<DocId>,
    },
}

impl Cursor {
    fn open(node: &Prepared, reader: &SegmentReader) -> tantivy::Result<Self> {
        Ok(match node {
            Prepared::Terms(terms) => {
                let mut cursors = Vec::with_capacity(terms.len());
                for (term, bm25) in terms {
                    if let Some(cursor) = TermCursor::open(reader, term, bm25.clone())? {
                        cursors.push(cursor);
                    }
                }
                Cursor::Terms(cursors)
            }
            Prepared::Phrase(weight, boost) => {
                let scorer = weight.unpositioned_scorer(reader, *boost)?;
                let mut words: Vec<Vec<TermCursor>> = Vec::new();
                if scorer.is_some() {
                    for terms in weight.words() {
                        let mut cursors = Vec::with_capacity(terms.len());
                        for term in terms {
                            cursors.extend(TermCursor::open(reader, term, None)?);
                        }
                        words.push(cursors);
                    }
                    words.sort_by_key(|w| w.iter().map(|c| c.doc_freq()).sum::<u32>());
                }
                Cursor::Phrase {
                    words,
                    scorer,
                    present: Box::new([0; WORDS]),
                    found: Vec::new(),
                }
            }
            Prepared::And { must, not } => {
                let mut must = must
                    .iter()
                    .map(|n| Cursor::open(n, reader))
                    .collect::<tantivy::Result<Vec<_>>>()?;
                // Every document, next to other nodes, neither matches nor scores more (as
                // tantivy drops it from an intersection).
                if must.iter().any(|c| !matches!(c, Cursor::All { .. })) {
                    must.retain(|c| !matches!(c, Cursor::All { .. }));
                }
                // Cheap, selective nodes first: later ones look only at what is left.
                must.sort_by_key(|c| (c.rank(), c.cost()));
                let not = not
                    .iter()
                    .map(|n| Ok((Cursor::open(n, reader)?, Box::new([0; WORDS]))))
                    .collect::<tantivy::Result<Vec<_>>>()?;
                Cursor::And {
                    must,
                    not,
                    scratch: Box::new([0; WORDS]),
                }
            }
            Prepared::Or(nodes) => Cursor::Or(
                nodes
                    .iter()
                    .map(|n| Ok((Cursor::open(n, reader)?, Box::new([0; WORDS]))))
                    .collect::<tantivy::Result<Vec<_>>>()?,
            ),
            Prepared::All => Cursor::All { kept: false },
            Prepared::Filter(term) => {
                Cursor::Filter(TermCursor::open(reader, term, None)?.map(Box::new))
            }
            Prepared::Dates { field, range } => Cursor::Dates {
                column: reader.fast_fields().date(field).ok(),
                range: range.clone(),
                docs: Vec::new(),
            },
        })
    }

    /// An estimate of the documents of the node (for the order of an intersection).
    fn cost(&self) -> u64 {
        match self {
            Cursor::Terms(cursors) => cursors.iter().map(|c| u64::from(c.doc_freq())).sum(),
            Cursor::Phrase { words, .. } => words
                .first()
                .map_or(0, |w| w.iter().map(|c| u64::from(c.doc_freq())).sum()),
            Cursor::And { must, .. } => must.iter().map(Cursor::cost).min().unwrap_or(0),
            Cursor::Or(children) => children.iter().map(|(c, _)| c.cost()).sum(),
            Cursor::Filter(cursor) => cursor.as_ref().map_or(0, |c| u64::from(c.doc_freq())),
            Cursor::All { .. } | Cursor::Dates { .. } => u64::MAX,
        }
    }

    /// Evaluation order inside an intersection: filters, then words, then phrases (which
    /// read positions).
    fn rank(&self) -> u8 {
        match self {
            Cursor::Filter(_) | Cursor::Dates { .. } => 0,
            Cursor::Terms(_) | Cursor::All { .. } => 1,
            Cursor::And { .. } | Cursor::Or(_) => 2,
            Cursor::Phrase { .. } => 3,
        }
    }

    /// Sets `out` to the node's matches in `[base, end)` (`end - base <= WINDOW`), among
    /// the documents of `within` when given; `keep`: [`score`](Self::score) follows.
    fn mark(&mut self, base: DocId, end: DocId, within: Option<&Bits>, out: &mut Bits, keep: bool) {
        *out = [0; WORDS];
        match self {
            Cursor::Terms(cursors) => {
                for cursor in cursors {
                    cursor.mark(base, end, keep);
                    cursor.or_into(within, out);
                }
            }
            Cursor::Phrase {
                words,
                scorer,
                present,
                found,
            } => {
                found.clear();
                let Some(scorer) = scorer else {
                    return;
                };
                // The documents with every word (among `within`), then their positions.
                let mut candidates = within.copied().unwrap_or([u64::MAX; WORDS]);
                for cursors in words.iter_mut() {
                    **present = [0; WORDS];
                    for cursor in cursors.iter_mut() {
                        cursor.mark(base, end, false);
                        cursor.or_into(Some(&candidates), present);
                    }
                    candidates = **present;
                    if is_empty(&candidates) {
                        return;
                    }
                }
                for i in ones(&candidates) {
                    let doc = base + i as u32;
                    if doc >= end {
                        break;
                    }
                    if scorer.occurs_in(doc) {
                        out[i / 64] |= 1 << (i % 64);
                        if keep {
                            found.push((i, scorer.score()));
                        }
                    }
                }
            }
            Cursor::And { must, not, scratch } => {
                let mut children = must.iter_mut();
                let Some(first) = children.next() else {
                    return;
                };
                first.mark(base, end, within, out, keep);
                for child in children {
                    if is_empty(out) {
                        return;
                    }
                    // The child looks only at `out`'s documents: its matches are a subset.
                    child.mark(base, end, Some(out), scratch, keep);
                    *out = **scratch;
                }
                for (child, bits) in not.iter_mut() {
                    if is_empty(out) {
                        return;
                    }
                    child.mark(base, end, Some(out), bits, false);
                    for (o, b) in out.iter_mut().zip(bits.iter()) {
                        *o &= !b;
                    }
                }
            }
            Cursor::Or(children) => {
                for (child, bits) in children.iter_mut() {
                    child.mark(base, end, within, bits, keep);
                    for (o, b) in out.iter_mut().zip(bits.iter()) {
                        *o |= b;
                    }
                }
            }
            Cursor::All { kept } => {
                for i in 0..(end - base) as usize {
                    out[i / 64] |= 1 << (i % 64);
                }
                if let Some(within) = within {
                    for (o, w) in out.iter_mut().zip(within) {
                        *o &= w;
                    }
                }
                *kept = keep;
            }
            Cursor::Filter(cursor) => {
                if let Some(cursor) = cursor {
                    cursor.mark(base, end, false);
                    cursor.or_into(within, out);
                }
            }
            Cursor::Dates {
                column,
                range,
                docs,
            } => {
                let (Some(column), Some(range)) = (column, range) else {
                    return;
                };
                docs.clear();
                column.get_docids_for_value_range(range.clone(), base..end, docs);
                for &doc in docs.iter() {
                    if (base..end).contains(&doc) {
                        let i = (doc - base) as usize;
                        if within.is_none_or(|w| has(w, i)) {
                            out[i / 64] |= 1 << (i % 64);
                        }
                    }
                }
            }
        }
    }

    /// Adds to `scores` the node's scores of the documents of `mask` (all matched by the
    /// last [`mark`](Self::mark), with `keep`).
    fn score(&self, base: DocId, mask: &Bits, scores: &mut [Score]) {
        match self {
            Cursor::Terms(cursors) => {
                for cursor in cursors {
                    cursor.score(base, mask, scores);
                }
            }
            Cursor::Phrase { found, .. } => {
                for &(i, score) in found {
                    if has(mask, i) {
                        scores[i] += score;
                    }
                }
            }
            Cursor::And { must, .. } => {
                for child in must {
                    child.score(base, mask, scores);
                }
            }
            Cursor::Or(children) => {
                for (child, bits) in children {
                    let mut part = *mask;
                    for (p, b) in part.iter_mut().zip(bits.iter()) {
                        *p &= b;
                    }
                    if !is_empty(&part) {
                        child.score(base, &part, scores);
                    }
                }
            }
            Cursor::All { kept } => {
                if *kept {
                    for i in ones(mask) {
                        scores[i] += 1.0;
                    }
                }
            }
            Cursor::Filter(_) | Cursor::Dates { .. } => {}
        }
    }
}

impl PlanWeight {
    /// Calls `each(window base, window)` for every window of the segment with matches
    /// (deleted documents included); the scores are computed when `scoring`.
    fn windows(
        &self,
        reader: &SegmentReader,
        scoring: bool,
        mut each: impl FnMut(DocId, &Window),
    ) -> tantivy::Result<()> {
        let mut cursor = Cursor::open(&self.root, reader)?;
        let mut window = Window::new();
        let max_doc = reader.max_doc();
        let mut base = 0;
        while base < max_doc {
            let end = base.saturating_add(WINDOW).min(max_doc);
            cursor.mark(base, end, None, &mut window.bits, scoring);
            if scoring && !is_empty(&window.bits) {
                for i in ones(&window.bits) {
                    window.scores[i] = 0.0;
                }
                cursor.score(base, &window.bits, &mut window.scores);
            }
            if !is_empty(&window.bits) {
                each(base, &window);
            }
            base = end;
        }
        Ok(())
    }

    /// Calls `each(doc, score)` for every live match of the segment, in doc order.
    fn matches(
        &self,
        reader: &SegmentReader,
        mut each: impl FnMut(DocId, Score),
    ) -> tantivy::Result<()> {
        let alive = reader.alive_bitset();
        self.windows(reader, true, |base, window| {
            for i in ones(&window.bits) {
                let doc = base + i as u32;
                if alive.is_none_or(|a| a.is_alive(doc)) {
                    each(doc, window.scores[i]);
                }
            }
        })
    }

    /// The number of live matches of the segment and the best `k` of them by score,
    /// best first (ties: the lower document first). Every match is also handed to `each`
    /// (in ascending order), so facets are counted in the same pass.
    pub(crate) fn top_each(
        &self,
        reader: &SegmentReader,
        k: usize,
        mut each: impl FnMut(DocId),
    ) -> tantivy::Result<(usize, Vec<(Score, DocId)>)> {
        // Best first; ties: the lower document first.
        let order =
            |a: &(Score, DocId), b: &(Score, DocId)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
        // Candidates gather in a buffer of 2k; when it fills, the best k are selected in
        // linear time and the k-th score becomes the bar a later match must pass (amortised
        // O(1) a match, where a heap costs O(log k) for each one that gets in).
        let mut best: Vec<(Score, DocId)> = Vec::with_capacity(k.saturating_mul(2).min(1 << 16));
        let mut count = 0usize;
        let mut bar = Score::NEG_INFINITY;
        self.matches(reader, |doc, score| {
            count += 1;
            each(doc);
            // Documents come in ascending order: an equal score never displaces.
            if k > 0 && score > bar {
                best.push((score, doc));
                if best.len() >= k.saturating_mul(2) {
                    best.select_nth_unstable_by(k - 1, order);
                    best.truncate(k);
                    bar = best[k - 1].0;
                }
            }
        })?;
        best.sort_unstable_by(order);
        best.truncate(k);
        Ok((count, best))
    }

    /// Which of `docs` (ascending) the query matches, looking at their windows only.
    pub(crate) fn matching(
        &self,
        reader: &SegmentReader,
        docs: &[DocId],
    ) -> tantivy::Result<Vec<bool>> {
        let mut cursor = Cursor::open(&self.root, reader)?;
        let mut bits: Bits = [0; WORDS];
        let mut out = Vec::with_capacity(docs.len());
        let mut marked: Option<DocId> = None;
        for &doc in docs {
            let base = doc - doc % WINDOW;
            if marked != Some(base) {
                let end = base.saturating_add(WINDOW).min(reader.max_doc());
                cursor.mark(base, end, None, &mut bits, false);
                marked = Some(base);
            }
            out.push(has(&bits, (doc - base) as usize));
        }
        Ok(out)
    }
}

impl Weight for PlanWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let mut docs = Vec::new();
        let mut scores = Vec::new();
        self.windows(reader, true, |base, window| {
            for i in ones(&window.bits) {
                docs.push(base + i as u32);
                scores.push(window.scores[i] * boost);
            }
        })?;
        Ok(Box::new(ListScorer::new(docs, scores)))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut score = None;
        self.matches(reader, |d, s| {
            if d == doc {
                score = Some(s);
            }
        })?;
        score
            .map(|s| Explanation::new("plain BM25 of the query", s))
            .ok_or_else(|| TantivyError::InvalidArgument(format!("document {doc} does not match")))
    }

    fn count(&self, reader: &SegmentReader) -> tantivy::Result<u32> {
        let mut count = 0u32;
        match reader.alive_bitset() {
            None => self.windows(reader, false, |_, window| {
                count += window.bits.iter().map(|w| w.count_ones()).sum::<u32>();
            })?,
            Some(alive) => self.windows(reader, false, |base, window| {
                let alive_in = ones(&window.bits).filter(|&i| alive.is_alive(base + i as u32));
                count += u32::try_from(alive_in.count()).unwrap_or(u32::MAX);
            })?,
        }
        Ok(count)
    }

    fn for_each(
        &self,
        reader: &SegmentReader,
        callback: &mut dyn FnMut(DocId, Score),
    ) -> tantivy::Result<()> {
        // Deleted documents included, as tantivy's scorers do (collectors skip them).
        self.windows(reader, true, |base, window| {
            for i in ones(&window.bits) {
                callback(base + i as u32, window.scores[i]);
            }
        })
    }

    fn for_each_no_score(
        &self,
        reader: &SegmentReader,
        callback: &mut dyn FnMut(&[DocId]),
    ) -> tantivy::Result<()> {
        let mut buffer = Vec::with_capacity(WINDOW as usize);
        self.windows(reader, false, |base, window| {
            buffer.clear();
            buffer.extend(ones(&window.bits).map(|i| base + i as u32));
            callback(&buffer);
        })
    }

    fn for_each_pruning(
        &self,
        threshold: Score,
        reader: &SegmentReader,
        callback: &mut dyn FnMut(DocId, Score) -> Score,
    ) -> tantivy::Result<()> {
        let mut threshold = threshold;
        self.windows(reader, true, |base, window| {
            for i in ones(&window.bits) {
                let score = window.scores[i];
                if score > threshold {
                    threshold = callback(base + i as u32, score);
                }
            }
        })
    }
}

/// A scorer over a list of documents and their scores.
struct ListScorer {
    docs: Vec<DocId>,
    scores: Vec<Score>,
    at: usize,
}

impl ListScorer {
    fn new(docs: Vec<DocId>, scores: Vec<Score>) -> Self {
        Self {
            docs,
            scores,
            at: 0,
        }
    }
}

impl DocSet for ListScorer {
    fn advance(&mut self) -> DocId {
        if self.at < self.docs.len() {
            self.at += 1;
        }
        self.doc()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        let rest = &self.docs[self.at..];
        self.at += rest.partition_point(|&d| d < target);
        self.doc()
    }

    fn doc(&self) -> DocId {
        self.docs.get(self.at).copied().unwrap_or(TERMINATED)
    }

    fn size_hint(&self) -> u32 {
        u32::try_from(self.docs.len() - self.at).unwrap_or(u32::MAX)
    }
}

impl Scorer for ListScorer {
    fn score(&mut self) -> Score {
        self.scores.get(self.at).copied().unwrap_or(0.0)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::ops::Bound;

    use chrono::{TimeZone, Utc};
    use tantivy::collector::{Count, TopDocs};
    use tantivy::query::{
        AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, Occur, RangeQuery, TermQuery,
    };
    use tantivy::{DocAddress, Searcher};

    use super::*;
    use crate::analysis::fold_term;
    use crate::{IndexDoc, SearchIndex};

    const VOCAB: &[&str] = &["an", "toàn", "toan", "thông", "tin", "bão", "bao", "lũ"];

    struct Rng(u64);

    impl Rng {
        fn next(&mut self, n: usize) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((self.0 >> 33) % n as u64) as usize
        }

        fn words(&mut self, n: usize) -> String {
            (0..n)
                .map(|_| VOCAB[self.next(VOCAB.len())])
                .collect::<Vec<_>>()
                .join(" ")
        }
    }

    /// Two segments (one of more than a window), a few deleted documents.
    fn corpus() -> SearchIndex {
        let mut rng = Rng(7);
        let start = Utc
            .with_ymd_and_hms(2023, 1, 1, 0, 0, 0)
            .single()
            .expect("date");
        let doc = |id: i64, rng: &mut Rng| IndexDoc {
            id,
            url: format!("https://x.vn/{id}"),
            title: {
                let n = 1 + rng.next(3);
                rng.words(n)
            },
            text: {
                let (a, b) = (1 + rng.next(8), rng.next(6));
                format!("{}. {}", rng.words(a), rng.words(b))
            },
            source: Some("Nguồn".into()),
            kind: if id % 3 == 0 { "post" } else { "article" }.into(),
            published: None,
            date: start + chrono::Duration::hours(id % 1000),
            rules: Vec::new(),
            categories: Vec::new(),
        };
        let index = SearchIndex::in_memory().expect("index");
        let first: Vec<IndexDoc> = (0..6000).map(|id| doc(id, &mut rng)).collect();
        index.upsert(&first).expect("upsert");
        index.commit().expect("commit");
        let second: Vec<IndexDoc> = (6000..9000).map(|id| doc(id, &mut rng)).collect();
        index.upsert(&second).expect("upsert");
        index.delete(&[5, 4097, 6001]).expect("delete");
        index.commit().expect("commit");
        index
    }

    fn random_node(rng: &mut Rng, index: &SearchIndex, depth: usize) -> Node {
        let fields = [index.fields.title, index.fields.text];
        let term = |rng: &mut Rng| {
            let word = VOCAB[rng.next(VOCAB.len())];
            let key = crate::analysis::query_terms(word)
                .into_iter()
                .next()
                .expect("a word");
            let text = if rng.next(3) == 0 {
                fold_term(&key.folded)
            } else {
                key.exact
            };
            Term::from_field_text(fields[rng.next(2)], &text)
        };
        let choice = if depth >= 2 { rng.next(2) } else { rng.next(7) };
        match choice {
            0 => Node::Terms(
                (0..1 + rng.next(3))
                    .map(|_| (term(rng), [1.0, 2.5, 0.3][rng.next(3)]))
                    .collect(),
            ),
            1 => {
                let field = fields[rng.next(2)];
                let positions = (0..2 + rng.next(2))
                    .map(|_| {
                        (0..1 + rng.next(2))
                            .map(|_| VOCAB[rng.next(VOCAB.len())].to_string())
                            .collect()
                    })
                    .collect();
                Node::Phrase(
                    AltPhraseQuery::new(field, positions, rng.next(2) as u32),
                    [1.0, 2.0][rng.next(2)],
                )
            }
            2 | 3 => Node::And {
                must: (0..1 + rng.next(3))
                    .map(|_| random_node(rng, index, depth + 1))
                    .collect(),
                not: (0..rng.next(2))
                    .map(|_| random_node(rng, index, depth + 1))
                    .collect(),
            },
            4 => Node::Or(
                (0..2 + rng.next(2))
                    .map(|_| random_node(rng, index, depth + 1))
                    .collect(),
            ),
            // Filters as the compiler writes them: at the top (tantivy's own range query
            // trips over a negated range).
            5 if depth == 0 => Node::And {
                must: vec![
                    random_node(rng, index, depth + 1),
                    if rng.next(2) == 0 {
                        Node::Filter(Term::from_field_text(index.fields.kind, "post"))
                    } else {
                        Node::Dates {
                            field: "date".into(),
                            from: Some(start_secs() + 3600 * rng.next(500) as i64),
                            to: Some(start_secs() + 3600 * (500 + rng.next(500)) as i64),
                        }
                    },
                ],
                not: Vec::new(),
            },
            // As the compiler writes a negation.
            6 => Node::And {
                must: vec![Node::All],
                not: vec![random_node(rng, index, depth + 1)],
            },
            _ => Node::Terms(vec![(term(rng), 1.0)]),
        }
    }

    fn start_secs() -> i64 {
        Utc.with_ymd_and_hms(2023, 1, 1, 0, 0, 0)
            .single()
            .expect("date")
            .timestamp()
    }

    /// The same query with tantivy's own boolean, term and range queries.
    fn reference(node: &Node) -> Box<dyn Query> {
        match node {
            Node::Terms(terms) => Box::new(BooleanQuery::new(
                terms
                    .iter()
                    .map(|(term, weight)| {
                        let query: Box<dyn Query> = Box::new(BoostQuery::new(
                            Box::new(TermQuery::new(term.clone(), IndexRecordOption::WithFreqs)),
                            *weight,
                        ));
                        (Occur::Should, query)
                    })
                    .collect(),
            )),
            Node::Phrase(phrase, weight) => {
                Box::new(BoostQuery::new(Box::new(phrase.clone()), *weight))
            }
            Node::And { must, not } => Box::new(BooleanQuery::new(
                must.iter()
                    .map(|n| (Occur::Must, reference(n)))
                    .chain(not.iter().map(|n| (Occur::MustNot, reference(n))))
                    .collect(),
            )),
            Node::Or(nodes) => Box::new(BooleanQuery::new(
                nodes
                    .iter()
                    .map(|n| (Occur::Should, reference(n)))
                    .collect(),
            )),
            Node::All => Box::new(AllQuery),
            Node::Filter(term) => Box::new(ConstScoreQuery::new(
                Box::new(TermQuery::new(term.clone(), IndexRecordOption::Basic)),
                0.0,
            )),
            Node::Dates { field, from, to } => {
                let schema_field = match field.as_str() {
                    "date" => crate::build_schema().1.date,
                    _ => unreachable!("only the date field"),
                };
                let bound = |secs: Option<i64>| {
                    secs.map_or(Bound::Unbounded, |s| {
                        Bound::Included(Term::from_field_date(
                            schema_field,
                            tantivy::DateTime::from_timestamp_secs(s),
                        ))
                    })
                };
                Box::new(ConstScoreQuery::new(
                    Box::new(RangeQuery::new(bound(*from), bound(*to))),
                    0.0,
                ))
            }
        }
    }

    fn all_scores(searcher: &Searcher, query: &dyn Query) -> HashMap<DocAddress, Score> {
        let n = usize::try_from(searcher.num_docs()).expect("docs").max(1);
        searcher
            .search(query, &TopDocs::with_limit(n).order_by_score())
            .expect("search")
            .into_iter()
            .map(|(score, address)| (address, score))
            .collect()
    }

    #[test]
    fn windows_match_and_score_as_tantivy_does() {
        let index = corpus();
        let searcher = index.reader.searcher();
        assert_eq!(searcher.segment_readers().len(), 2);
        let mut rng = Rng(11);
        for round in 0..150 {
            let node = random_node(&mut rng, &index, 0);
            let plan = PlanQuery::new(node.clone());
            let expected = reference(&node);
            let count = searcher.search(&plan, &Count).expect("count");
            assert_eq!(
                count,
                searcher.search(&expected, &Count).expect("count"),
                "{round}: {node:?}"
            );
            let ours = all_scores(&searcher, &plan);
            let theirs = all_scores(&searcher, expected.as_ref());
            assert_eq!(ours.len(), theirs.len(), "{round}: {node:?}");
            for (address, score) in &theirs {
                let mine = ours.get(address).copied();
                assert!(
                    mine.is_some_and(|m| (m - score).abs() <= 1e-4 * score.abs().max(1.0)),
                    "{round}: {address:?} {mine:?} vs {score}: {node:?}"
                );
            }
            // The top by the plan's own pass agrees with the collectors.
            let weight = plan
                .plan_weight(EnableScoring::enabled_from_searcher(&searcher))
                .expect("weight");
            let mut total = 0;
            for (ord, reader) in searcher.segment_readers().iter().enumerate() {
                let (n, best) = weight.top_each(reader, 20, |_| {}).expect("top");
                total += n;
                for (score, doc) in best {
                    let address = DocAddress::new(ord as u32, doc);
                    assert_eq!(ours.get(&address), Some(&score), "{round}");
                }
            }
            assert_eq!(total, count, "{round}: {node:?}");
        }
    }
}
