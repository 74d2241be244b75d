//! Story grouping: which documents of a period tell the same story.
//!
//! Two documents are linked, and the links closed transitively (union-find),
//! when one of these holds:
//!
//! 1. **syndication**: one's `syndicated_from` is the other's canonical URL
//!    (or URL), compared loosely (canonicalised, scheme and trailing slash
//!    ignored). Any sources, any dates.
//! 2. **near-duplicate**: different sources, and the 3-word-shingle SimHash
//!    of their texts differ in at most [`StoryConfig::simhash_max_distance`]
//!    (3) bits, or the bottom-k estimate of the shingle Jaccard similarity is
//!    at least [`StoryConfig::jaccard_threshold`] (0.5). Both texts need
//!    [`StoryConfig::min_shingles`] shingles (tiny texts collide by chance).
//! 3. **same event**: different sources, published within
//!    [`StoryConfig::window_hours`] (72 h) of each other, and the TF-IDF
//!    cosine of their *syllable bigrams* is at least
//!    [`StoryConfig::cosine_threshold`] (0.12).
//!
//! The term vectors of (3): bigrams of consecutive words of the key form
//! (folded, lower case) of the title and of the first
//! [`StoryConfig::body_words`] (150) words of the text — the lede and the
//! first paragraphs, which name the event: who, where, when, how many.
//! Syllable bigrams approximate Vietnamese words (`le hoi`, `phan rang`,
//! `37 trieu`) and ignore the word order of a rewrite. Bigrams made of two
//! [`STOPWORDS`] are dropped. Weights are `(1 + ln tf) · ln((N + P) / (df +
//! 0.5))`, with `N` the documents of the period plus a background sample of
//! the comparison period (at most [`StoryConfig::max_background`]) and `P` =
//! [`StoryConfig::pseudo_docs`] (5) pseudo-documents that keep weights
//! positive and the scores stable when a period has only a few documents.
//!
//! Tuning (vi-press-dev, 36 articles plus one syndicated copy, 3 rewritten
//! pairs): the rewritten same-event pairs score 0.23–0.37 with the IDF of
//! the month and 0.22–0.23 with a week plus the week before; every other
//! cross-source pair within 72 h at most 0.06 (month) and 0.04 (weeks).
//! 0.12 sits at the geometric middle of the narrowest gap, a factor of two
//! from both sides. A body prefix of 150 words separated the pairs better
//! than 80, 100, 200 or the whole text (later paragraphs drift to
//! background and quotes), and bigrams alone better than bigrams plus single
//! words. Rewrites share few 3-word shingles (Jaccard 0.03–0.11, SimHash
//! distance 22–30), so near-duplicate tests alone cannot find them.
//!
//! # Cost
//!
//! Nothing compares all pairs (except [`StoryConfig::exhaustive`], for
//! checks). Documents are visited in publication order, and candidates come
//! from three indexes:
//!
//! - an inverted index of the bigrams that occur in 2 to
//!   [`StoryConfig::dense_df_cap`] (100) documents: for each document the
//!   products of weights over the bigrams it shares with each earlier
//!   document within the time window are summed (a sparse dot product, as in
//!   inverted-index similarity joins); a pair is scored in full when that
//!   partial cosine reaches [`StoryConfig::rare_share`] (half) of the
//!   threshold. When no bigram is that common (periods of up to ~100
//!   documents) this finds exactly the pairs an exhaustive comparison finds.
//!   The work is the number of pairs sharing a rarer bigram within the
//!   window, not the square of the number of documents;
//! - for stories told by more than `dense_df_cap` documents, whose own
//!   bigrams are then too common for that index: each document's
//!   [`StoryConfig::top_features`] (8) heaviest common bigrams; a document is
//!   compared with its [`StoryConfig::neighbours`] (8) nearest predecessors
//!   from other sources in each of those posting lists when they share two
//!   of these bigrams. Union-find chains the story together;
//! - for near-duplicates at any distance in time: SimHash band LSH (four
//!   16-bit bands, so signatures within 3 bits share a band exactly) and the
//!   four smallest shingle hashes (two texts with shingle Jaccard `J` share
//!   the smallest with probability `J`), each with the same neighbour walk.
//!
//! Texts are read up to [`StoryConfig::max_text_bytes`].

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use serde::{Deserialize, Serialize};

use super::DigestDoc;
use super::similarity::{self, pair_hash, word_hash, word_hashes_into};

/// Folded function words; a bigram of two of them is not a feature.
pub const STOPWORDS: &[&str] = &[
    "va", "cua", "co", "cac", "cho", "duoc", "la", "da", "trong", "tai", "voi", "nhung", "mot",
    "de", "den", "tu", "khi", "theo", "nay", "do", "se", "thi", "ma", "cung", "con", "nhu", "nen",
    "vi", "neu", "hay", "hoac", "rat", "nhieu", "it", "hon", "qua", "ve", "ra", "vao", "len",
    "xuong", "lai", "dang", "deu", "tung", "moi", "chi", "bi", "boi", "tren", "duoi", "sau",
    "truoc", "giua", "ngoai", "nhat", "biet", "ngay", "thang", "nam", "tinh", "nguoi", "dan",
    "ong", "ba", "anh", "o", "khong", "phai", "can", "nhan", "viec", "cong", "tac",
];

/// Settings of story grouping; see the module documentation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StoryConfig {
    /// Same-event links only between documents published this close.
    pub window_hours: i64,
    /// Minimum TF-IDF cosine of a same-event link.
    pub cosine_threshold: f32,
    /// Near-duplicate: SimHash distance at most this.
    pub simhash_max_distance: u32,
    /// Near-duplicate: estimated shingle Jaccard at least this.
    pub jaccard_threshold: f64,
    /// Words of the text (after the title) that make the term vector.
    pub body_words: usize,
    /// Pseudo-documents added to `N` in the IDF.
    pub pseudo_docs: f32,
    /// Distinct bigrams a document needs for same-event links.
    pub min_features: usize,
    /// Shingles a text needs for near-duplicate links.
    pub min_shingles: u32,
    /// Bigrams in at most this many documents go to the exact
    /// (accumulating) candidate index.
    pub dense_df_cap: u32,
    /// Share of the cosine threshold that the rarer shared bigrams must
    /// reach for a pair to be scored in full.
    pub rare_share: f32,
    /// Heaviest common bigrams per document in the neighbour index.
    pub top_features: usize,
    /// Predecessors from other sources compared in a neighbour posting list.
    pub neighbours: usize,
    /// Bytes of a text read (longer texts are cut at a character boundary).
    pub max_text_bytes: usize,
    /// Documents of the comparison period sampled into the IDF.
    pub max_background: usize,
    /// Compare every pair (quadratic; for checks on small sets).
    pub exhaustive: bool,
}

impl Default for StoryConfig {
    fn default() -> Self {
        Self {
            window_hours: 72,
            cosine_threshold: 0.12,
            simhash_max_distance: 3,
            jaccard_threshold: 0.5,
            body_words: 150,
            pseudo_docs: 5.0,
            min_features: 5,
            min_shingles: 10,
            dense_df_cap: 16,
            rare_share: 0.5,
            top_features: 8,
            neighbours: 8,
            max_text_bytes: 16 * 1024,
            max_background: 20_000,
            exhaustive: false,
        }
    }
}

/// Why two documents were put in the same story.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Signal {
    Syndication,
    NearDuplicate,
    SameEvent,
}

/// A story: documents (indices into the slice given to [`StoryIndex::build`])
/// in publication order, at least two.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoryGroup {
    pub members: Vec<usize>,
    /// The original (a document others are syndicated from), else the
    /// earliest.
    pub original: usize,
    /// The kinds of links found inside the group.
    pub signals: Vec<Signal>,
}

/// Groups documents into stories with the default settings.
pub fn group_stories(docs: &[&DigestDoc], background: &[&DigestDoc]) -> Vec<StoryGroup> {
    StoryIndex::build(docs, background, &StoryConfig::default()).groups()
}

#[derive(Default, Clone, Copy)]
struct PassHasher(u64);

impl Hasher for PassHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }
    fn write_u64(&mut self, n: u64) {
        // Keys are already mixed hashes.
        self.0 = n;
    }
}

type Fast = BuildHasherDefault<PassHasher>;

/// Signatures and term vectors of a set of documents, ready for grouping.
pub struct StoryIndex<'a> {
    docs: &'a [&'a DigestDoc],
    config: StoryConfig,
    /// Document indices in publication order.
    order: Vec<u32>,
    instants: Vec<i64>,
    sources: Vec<u32>,
    simhashes: Vec<u64>,
    shingle_counts: Vec<u32>,
    sketch_offsets: Vec<u32>,
    sketches: Vec<u32>,
    feature_offsets: Vec<u32>,
    feature_ids: Vec<u32>,
    feature_tfs: Vec<u8>,
    norms: Vec<f32>,
    idf: Vec<f32>,
    df_current: Vec<u32>,
    top_offsets: Vec<u32>,
    top_ids: Vec<u32>,
}

fn stopword_hashes() -> &'static [u64] {
    static HASHES: std::sync::OnceLock<Vec<u64>> = std::sync::OnceLock::new();
    HASHES.get_or_init(|| {
        let mut v: Vec<u64> = STOPWORDS.iter().map(|w| word_hash(w)).collect();
        v.sort_unstable();
        v
    })
}

fn is_stop(stop: &[u64], h: u64) -> bool {
    stop.binary_search(&h).is_ok()
}

/// At most `max` bytes of `s`, cut at a character boundary.
fn prefix(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Bigram hashes of `words` (no stopword-only bigrams), appended to `out`.
fn bigrams_into(words: &[u64], stop: &[u64], out: &mut Vec<u64>) {
    for w in words.windows(2) {
        if !(is_stop(stop, w[0]) && is_stop(stop, w[1])) {
            out.push(pair_hash(w[0], w[1]));
        }
    }
}

/// Sorted distinct values with their counts (capped at 255).
fn count_sorted(v: &mut Vec<u64>) -> Vec<(u64, u8)> {
    v.sort_unstable();
    let mut out: Vec<(u64, u8)> = Vec::with_capacity(v.len());
    for &h in v.iter() {
        match out.last_mut() {
            Some((last, n)) if *last == h => *n = n.saturating_add(1),
            _ => out.push((h, 1)),
        }
    }
    out
}

/// Loose key of a URL for syndication links.
fn url_key(url: &str) -> String {
    let canonical =
        crate::url_canon::canonicalize_str(url).unwrap_or_else(|| url.trim().to_owned());
    let rest = canonical
        .strip_prefix("https://")
        .or_else(|| canonical.strip_prefix("http://"))
        .unwrap_or(&canonical);
    rest.trim_end_matches('/').to_owned()
}

struct UnionFind {
    parent: Vec<u32>,
    size: Vec<u32>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        Self {
            parent: (0..n as u32).collect(),
            size: vec![1; n],
        }
    }

    fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let p = self.parent[x as usize];
            self.parent[x as usize] = self.parent[p as usize];
            x = p;
        }
        x
    }

    fn union(&mut self, a: u32, b: u32) -> bool {
        let (mut a, mut b) = (self.find(a), self.find(b));
        if a == b {
            return false;
        }
        if self.size[a as usize] < self.size[b as usize] {
            std::mem::swap(&mut a, &mut b);
        }
        self.parent[b as usize] = a;
        self.size[a as usize] += self.size[b as usize];
        true
    }
}

impl<'a> StoryIndex<'a> {
    /// Computes signatures of `docs` and the IDF over `docs` plus a sample of
    /// `background` (documents of the comparison period).
    pub fn build(
        docs: &'a [&'a DigestDoc],
        background: &[&DigestDoc],
        config: &StoryConfig,
    ) -> Self {
        let n = docs.len();
        let t0 = std::time::Instant::now();
        let stop = stopword_hashes();
        let instants: Vec<i64> = docs.iter().map(|d| d.instant().timestamp()).collect();
        let mut order: Vec<u32> = (0..n as u32).collect();
        order.sort_by_key(|&i| (instants[i as usize], docs[i as usize].id, i));

        let mut source_ids: HashMap<&str, u32> = HashMap::new();
        let sources: Vec<u32> = docs
            .iter()
            .map(|d| {
                let next = source_ids.len() as u32;
                *source_ids.entry(d.source.as_str()).or_insert(next)
            })
            .collect();

        let mut interner: HashMap<u64, u32, Fast> =
            HashMap::with_capacity_and_hasher(n * 64, Fast::default());
        let mut df_all: Vec<u32> = Vec::new();
        let mut df_current: Vec<u32> = Vec::new();

        let mut simhashes = Vec::with_capacity(n);
        let mut shingle_counts = Vec::with_capacity(n);
        let mut sketch_offsets = Vec::with_capacity(n + 1);
        let mut sketches = Vec::new();
        let mut feature_offsets = Vec::with_capacity(n + 1);
        let mut feature_ids: Vec<u32> = Vec::new();
        let mut feature_tfs: Vec<u8> = Vec::new();
        sketch_offsets.push(0u32);
        feature_offsets.push(0u32);

        let mut title_words = Vec::new();
        let mut body_words = Vec::new();
        let mut grams = Vec::new();
        let mut shingle_buf: Vec<u64> = Vec::new();
        let mut doc_feats: Vec<(u32, u8)> = Vec::new();
        for doc in docs {
            word_hashes_into(&doc.title, &mut title_words, usize::MAX);
            word_hashes_into(
                prefix(&doc.text, config.max_text_bytes),
                &mut body_words,
                usize::MAX,
            );
            let shingle_source = if body_words.is_empty() {
                &title_words
            } else {
                &body_words
            };
            shingle_buf.clear();
            shingle_buf.extend(similarity::shingle_hashes(shingle_source));
            shingle_counts.push(shingle_buf.len() as u32);
            simhashes.push(similarity::simhash_of(shingle_buf.iter().copied()));
            sketches.extend(similarity::bottom_k(shingle_buf.iter().copied()));
            sketch_offsets.push(sketches.len() as u32);

            grams.clear();
            bigrams_into(&title_words, stop, &mut grams);
            let body_end = body_words.len().min(config.body_words);
            bigrams_into(&body_words[..body_end], stop, &mut grams);
            doc_feats.clear();
            for (h, tf) in count_sorted(&mut grams) {
                let next = df_all.len() as u32;
                let id = *interner.entry(h).or_insert(next);
                if id == next {
                    df_all.push(0);
                    df_current.push(0);
                }
                df_all[id as usize] += 1;
                df_current[id as usize] += 1;
                doc_feats.push((id, tf));
            }
            doc_feats.sort_unstable_by_key(|&(id, _)| id);
            feature_ids.extend(doc_feats.iter().map(|&(id, _)| id));
            feature_tfs.extend(doc_feats.iter().map(|&(_, tf)| tf));
            feature_offsets.push(feature_ids.len() as u32);
        }

        eprintln!("TIMING features {:?}", t0.elapsed());
        let t0 = std::time::Instant::now();
        // Background: an evenly spaced sample, only for document frequencies.
        let step = background
            .len()
            .div_ceil(config.max_background.max(1))
            .max(1);
        let mut background_n = 0usize;
        // About 12 bytes per word covers the prefix the vectors use.
        let background_bytes = (config.body_words * 12).min(config.max_text_bytes);
        for doc in background.iter().step_by(step) {
            background_n += 1;
            word_hashes_into(&doc.title, &mut title_words, usize::MAX);
            word_hashes_into(
                prefix(&doc.text, background_bytes),
                &mut body_words,
                config.body_words,
            );
            grams.clear();
            bigrams_into(&title_words, stop, &mut grams);
            bigrams_into(&body_words, stop, &mut grams);
            grams.sort_unstable();
            grams.dedup();
            for h in &grams {
                if let Some(&id) = interner.get(h) {
                    df_all[id as usize] += 1;
                }
            }
        }
        drop(interner);

        eprintln!("TIMING background {:?}", t0.elapsed());
        let total = (n + background_n) as f32 + config.pseudo_docs;
        let idf: Vec<f32> = df_all
            .iter()
            .map(|&df| (total / (df as f32 + 0.5)).ln().max(0.0))
            .collect();

        let mut norms = Vec::with_capacity(n);
        let mut top_offsets = Vec::with_capacity(n + 1);
        let mut top_ids = Vec::new();
        top_offsets.push(0u32);
        let mut weighted: Vec<(f32, u32)> = Vec::new();
        for i in 0..n {
            let (s, e) = (feature_offsets[i] as usize, feature_offsets[i + 1] as usize);
            let mut norm = 0f32;
            weighted.clear();
            for k in s..e {
                let id = feature_ids[k];
                let w = tf_weight(feature_tfs[k]) * idf[id as usize];
                norm += w * w;
                if df_current[id as usize] > config.dense_df_cap {
                    weighted.push((w, id));
                }
            }
            norms.push(norm.sqrt());
            weighted.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            weighted.truncate(config.top_features);
            let start = top_ids.len();
            top_ids.extend(weighted.iter().map(|&(_, id)| id));
            top_ids[start..].sort_unstable();
            top_offsets.push(top_ids.len() as u32);
        }

        Self {
            docs,
            config: config.clone(),
            order,
            instants,
            sources,
            simhashes,
            shingle_counts,
            sketch_offsets,
            sketches,
            feature_offsets,
            feature_ids,
            feature_tfs,
            norms,
            idf,
            df_current,
            top_offsets,
            top_ids,
        }
    }

    fn features(&self, i: usize) -> (&[u32], &[u8]) {
        let (s, e) = (
            self.feature_offsets[i] as usize,
            self.feature_offsets[i + 1] as usize,
        );
        (&self.feature_ids[s..e], &self.feature_tfs[s..e])
    }

    fn top(&self, i: usize) -> &[u32] {
        &self.top_ids[self.top_offsets[i] as usize..self.top_offsets[i + 1] as usize]
    }

    fn sketch(&self, i: usize) -> &[u32] {
        &self.sketches[self.sketch_offsets[i] as usize..self.sketch_offsets[i + 1] as usize]
    }

    /// TF-IDF cosine of the bigram vectors of documents `a` and `b`.
    pub fn cosine(&self, a: usize, b: usize) -> f32 {
        let (ia, ta) = self.features(a);
        let (ib, tb) = self.features(b);
        let (mut i, mut j, mut dot) = (0, 0, 0f32);
        while i < ia.len() && j < ib.len() {
            match ia[i].cmp(&ib[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    let idf = self.idf[ia[i] as usize];
                    dot += tf_weight(ta[i]) * tf_weight(tb[j]) * idf * idf;
                    i += 1;
                    j += 1;
                }
            }
        }
        let denom = self.norms[a] * self.norms[b];
        if denom > 0.0 { dot / denom } else { 0.0 }
    }

    /// SimHash distance of the texts of `a` and `b`.
    pub fn hamming(&self, a: usize, b: usize) -> u32 {
        similarity::hamming(self.simhashes[a], self.simhashes[b])
    }

    /// Estimated shingle Jaccard similarity of the texts of `a` and `b`.
    pub fn jaccard(&self, a: usize, b: usize) -> f64 {
        similarity::sketch_jaccard(self.sketch(a), self.sketch(b))
    }

    /// Whether `a` and `b` are published within the same-event window.
    pub fn within_window(&self, a: usize, b: usize) -> bool {
        (self.instants[a] - self.instants[b]).abs() <= self.config.window_hours * 3600
    }

    /// The text link between two documents (near-duplicate or same event),
    /// if any; documents of the same source are never linked this way.
    pub fn text_link(&self, a: usize, b: usize) -> Option<Signal> {
        if a == b || self.sources[a] == self.sources[b] {
            return None;
        }
        let c = &self.config;
        let long_enough =
            self.shingle_counts[a] >= c.min_shingles && self.shingle_counts[b] >= c.min_shingles;
        if long_enough
            && (self.hamming(a, b) <= c.simhash_max_distance
                || self.jaccard(a, b) >= c.jaccard_threshold)
        {
            return Some(Signal::NearDuplicate);
        }
        let featured = self.features(a).0.len() >= c.min_features
            && self.features(b).0.len() >= c.min_features;
        if featured && self.within_window(a, b) && self.cosine(a, b) >= c.cosine_threshold {
            return Some(Signal::SameEvent);
        }
        None
    }

    fn shared_top(&self, a: usize, b: usize) -> usize {
        let (x, y) = (self.top(a), self.top(b));
        let (mut i, mut j, mut n) = (0, 0, 0);
        while i < x.len() && j < y.len() {
            match x[i].cmp(&y[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    n += 1;
                    i += 1;
                    j += 1;
                }
            }
        }
        n
    }

    /// Weight of the `k`-th feature of document `i`, divided by its norm.
    fn unit_weight(&self, i: usize, k: usize) -> f32 {
        let at = self.feature_offsets[i] as usize + k;
        let norm = self.norms[i];
        if norm > 0.0 {
            tf_weight(self.feature_tfs[at]) * self.idf[self.feature_ids[at] as usize] / norm
        } else {
            0.0
        }
    }

    /// Candidates from the bigrams of 2..=`dense_df_cap` documents: sums the
    /// weight products over shared bigrams for each earlier document within
    /// the window and offers pairs whose partial cosine reaches
    /// `rare_share · cosine_threshold`.
    fn accumulate_rare(&self, offer: &mut dyn FnMut(u32, u32)) {
        let n = self.docs.len();
        let cap: u32 = std::env::var("CAP")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(self.config.dense_df_cap);
        let dense = |id: u32| (2..=cap).contains(&self.df_current[id as usize]);
        let features = self.idf.len();
        let mut starts = vec![0u32; features + 1];
        for &id in &self.feature_ids {
            if dense(id) {
                starts[id as usize + 1] += 1;
            }
        }
        for k in 0..features {
            starts[k + 1] += starts[k];
        }
        let total = starts[features] as usize;
        let mut post_doc = vec![0u32; total];
        let mut post_weight = vec![0f32; total];
        let mut cursor = starts.clone();
        for &doc in &self.order {
            let (ids, _) = self.features(doc as usize);
            for (k, &id) in ids.iter().enumerate() {
                if dense(id) {
                    let at = cursor[id as usize] as usize;
                    post_doc[at] = doc;
                    post_weight[at] = self.unit_weight(doc as usize, k);
                    cursor[id as usize] += 1;
                }
            }
        }
        // Process in the same order; entries before the cursor are earlier.
        cursor.copy_from_slice(&starts);
        let window = self.config.window_hours * 3600;
        let min_partial = self.config.cosine_threshold * self.config.rare_share;
        let mut acc = vec![0f32; n];
        let mut touched: Vec<u32> = Vec::new();
        for &b in &self.order {
            let bu = b as usize;
            let (ids, _) = self.features(bu);
            for (k, &id) in ids.iter().enumerate() {
                if !dense(id) {
                    continue;
                }
                let wb = self.unit_weight(bu, k);
                let (start, here) = (starts[id as usize] as usize, cursor[id as usize] as usize);
                for p in (start..here).rev() {
                    let a = post_doc[p] as usize;
                    if self.instants[bu] - self.instants[a] > window {
                        break;
                    }
                    if self.sources[a] == self.sources[bu] {
                        continue;
                    }
                    if acc[a] == 0.0 {
                        touched.push(a as u32);
                        NT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    NI.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    acc[a] += wb * post_weight[p];
                }
                cursor[id as usize] += 1;
            }
            for a in touched.drain(..) {
                if acc[a as usize] >= min_partial {
                    NO.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    offer(a, b);
                }
                acc[a as usize] = 0.0;
            }
        }
    }

    /// Candidates from lists kept in publication order: each document is
    /// offered with its nearest predecessors from other sources (at most
    /// `neighbours` of them, looking back at most four times as far).
    fn walk_neighbours(&self, offer: &mut dyn FnMut(u32, u32)) {
        let neighbours = self.config.neighbours.max(1);
        let walk =
            |list: &[u32], offer: &mut dyn FnMut(u32, u32), filter: &dyn Fn(u32, u32) -> bool| {
                for p in 1..list.len() {
                    let b = list[p];
                    let mut compared = 0;
                    for &a in list[..p].iter().rev().take(neighbours * 4) {
                        if self.sources[a as usize] == self.sources[b as usize] {
                            continue;
                        }
                        compared += 1;
                        if filter(a, b) {
                            offer(a, b);
                        }
                        if compared >= neighbours {
                            break;
                        }
                    }
                }
            };

        // Heaviest common bigrams (stories larger than the dense cap).
        let features = self.idf.len();
        let mut starts = vec![0u32; features + 1];
        for &id in &self.top_ids {
            starts[id as usize + 1] += 1;
        }
        for k in 0..features {
            starts[k + 1] += starts[k];
        }
        let mut fill = starts.clone();
        let mut postings = vec![0u32; self.top_ids.len()];
        for &doc in &self.order {
            for &id in self.top(doc as usize) {
                postings[fill[id as usize] as usize] = doc;
                fill[id as usize] += 1;
            }
        }
        let share_two = |a: u32, b: u32| self.shared_top(a as usize, b as usize) >= 2;
        for f in 0..features {
            let list = &postings[starts[f] as usize..starts[f + 1] as usize];
            walk(list, offer, &share_two);
        }

        // Near-duplicate keys: SimHash bands and the smallest shingle hashes.
        let mut keys: Vec<(u64, u32)> = Vec::with_capacity(self.docs.len() * 8);
        for (rank, &doc) in self.order.iter().enumerate() {
            let d = doc as usize;
            if self.shingle_counts[d] < self.config.min_shingles {
                continue;
            }
            let h = self.simhashes[d];
            for band in 0..4u64 {
                keys.push(((band << 16) | ((h >> (band * 16)) & 0xffff), rank as u32));
            }
            for &m in self.sketch(d).iter().take(4) {
                keys.push(((1 << 20) | u64::from(m) << 21, rank as u32));
            }
        }
        keys.sort_unstable();
        let max_distance = self.config.simhash_max_distance;
        let close_simhash = |a: u32, b: u32| self.hamming(a as usize, b as usize) <= max_distance;
        let similar_shingles =
            |a: u32, b: u32| self.jaccard(a as usize, b as usize) >= self.config.jaccard_threshold;
        let mut list: Vec<u32> = Vec::new();
        let mut start = 0;
        while start < keys.len() {
            let key = keys[start].0;
            let end = start + keys[start..].iter().take_while(|x| x.0 == key).count();
            list.clear();
            list.extend(
                keys[start..end]
                    .iter()
                    .map(|&(_, rank)| self.order[rank as usize]),
            );
            if key < 1 << 20 {
                walk(&list, offer, &close_simhash);
            } else {
                walk(&list, offer, &similar_shingles);
            }
            start = end;
        }
    }

    /// The stories: groups of at least two linked documents, ordered by the
    /// publication of their first document.
    pub fn groups(&self) -> Vec<StoryGroup> {
        let n = self.docs.len();
        let mut uf = UnionFind::new(n);
        let mut edges: Vec<(u32, Signal)> = Vec::new();

        // 1. Syndication.
        let mut by_url: HashMap<String, Vec<u32>> = HashMap::new();
        for (i, d) in self.docs.iter().enumerate() {
            let mut keys = vec![url_key(&d.canonical_url)];
            let k = url_key(&d.url);
            if k != keys[0] {
                keys.push(k);
            }
            for k in keys {
                if !k.is_empty() {
                    by_url.entry(k).or_default().push(i as u32);
                }
            }
        }
        let mut syndicated_from: Vec<Option<u32>> = vec![None; n];
        for (i, d) in self.docs.iter().enumerate() {
            let Some(from) = d.syndicated_from.as_deref() else {
                continue;
            };
            if let Some(targets) = by_url.get(&url_key(from)) {
                for &t in targets {
                    if t as usize != i {
                        uf.union(i as u32, t);
                        edges.push((i as u32, Signal::Syndication));
                        syndicated_from[i].get_or_insert(t);
                    }
                }
            }
        }

        let mut link = |uf: &mut UnionFind, a: u32, b: u32| {
            if uf.find(a) == uf.find(b) {
                return;
            }
            if let Some(signal) = self.text_link(a as usize, b as usize) {
                uf.union(a, b);
                edges.push((a, signal));
            }
        };

        if self.config.exhaustive {
            for a in 0..n as u32 {
                for b in a + 1..n as u32 {
                    link(&mut uf, a, b);
                }
            }
        } else {
            let t0 = std::time::Instant::now();
            self.accumulate_rare(&mut |a, b| link(&mut uf, a, b));
            eprintln!(
                "TIMING accumulate {:?} iters {} touched {} offers {}",
                t0.elapsed(),
                NI.load(std::sync::atomic::Ordering::Relaxed),
                NT.load(std::sync::atomic::Ordering::Relaxed),
                NO.load(std::sync::atomic::Ordering::Relaxed)
            );
            let t0 = std::time::Instant::now();
            self.walk_neighbours(&mut |a, b| link(&mut uf, a, b));
            eprintln!("TIMING walk {:?}", t0.elapsed());
        }

        // Collect groups.
        let roots: Vec<u32> = (0..n as u32).map(|d| uf.find(d)).collect();
        let mut members: HashMap<u32, Vec<u32>> = HashMap::new();
        for &doc in &self.order {
            members.entry(roots[doc as usize]).or_default().push(doc);
        }
        // Originals: documents another member of their group copies.
        let mut copied = vec![false; n];
        for (d, from) in syndicated_from.iter().enumerate() {
            if let Some(t) = *from
                && roots[t as usize] == roots[d]
            {
                copied[t as usize] = true;
            }
        }
        let copies_in_group = |d: u32| {
            syndicated_from[d as usize].is_some_and(|t| roots[t as usize] == roots[d as usize])
        };
        let mut signals: HashMap<u32, Vec<Signal>> = HashMap::new();
        for (doc, signal) in edges {
            let s = signals.entry(roots[doc as usize]).or_default();
            if !s.contains(&signal) {
                s.push(signal);
            }
        }
        let mut groups: Vec<StoryGroup> = members
            .into_iter()
            .filter(|(_, m)| m.len() >= 2)
            .map(|(root, m)| {
                let original = m
                    .iter()
                    .copied()
                    .find(|&d| copied[d as usize] && !copies_in_group(d))
                    .unwrap_or(m[0]);
                let mut s = signals.remove(&root).unwrap_or_default();
                s.sort_unstable();
                StoryGroup {
                    members: m.iter().map(|&d| d as usize).collect(),
                    original: original as usize,
                    signals: s,
                }
            })
            .collect();
        groups.sort_by_key(|g| {
            (
                self.instants[g.members[0]],
                self.docs[g.members[0]].id,
                g.members[0],
            )
        });
        groups
    }
}

#[inline]
fn tf_weight(tf: u8) -> f32 {
    1.0 + f32::from(tf.max(1)).ln()
}

static NI: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
static NT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
static NO: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
