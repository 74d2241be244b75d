//! The full-text index: owns the tantivy schema, Vietnamese analysis, queries and snippets.
//! Nothing outside this crate touches tantivy types.

pub mod analysis;
mod phrase;
mod plan;
pub mod query;
mod search;
mod snippet;

use std::path::Path;
use std::sync::Mutex;

use chrono::{DateTime, Datelike, Utc};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

pub use query::{Expr, QueryError, Scope};
pub use search::{Facets, Hit, SearchRequest, SearchResults, Sort};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IndexError {
    #[error("index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("index directory: {0}")]
    Directory(#[from] tantivy::directory::error::OpenDirectoryError),
    #[error("index: query parse: {0}")]
    Query(#[from] QueryError),
    #[error("index: {0}")]
    Io(#[from] std::io::Error),
    #[error("index writer is held by another process (only one indexer may run): {0}")]
    Locked(String),
}

/// A document as the index sees it.
#[derive(Debug, Clone)]
pub struct IndexDoc {
    pub id: i64,
    pub url: String,
    pub title: String,
    pub text: String,
    pub source: Option<String>,
    pub kind: String,
    /// The page's own publication time, RFC 3339 with its offset (stored for display).
    pub published: Option<String>,
    /// The instant used for date filters and sorting: published, else fetched.
    pub date: DateTime<Utc>,
    /// Rule ids that fired.
    pub rules: Vec<String>,
    /// Rule categories that fired.
    pub categories: Vec<String>,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Fields {
    pub id: Field,
    pub url: Field,
    /// Stored clean title, analysed (exact and folded terms, see [`analysis`]).
    pub title: Field,
    /// Stored clean text, analysed.
    pub text: Field,
    /// The source name as given: filters by exact name, facets, display.
    pub source: Field,
    /// The source name normalised (case, tones, Unicode form): `--source` filter.
    pub source_key: Field,
    /// The source name analysed, for `source:` in queries.
    pub source_text: Field,
    pub kind: Field,
    pub published: Field,
    pub date: Field,
    /// ISO week of `date` in Vietnam time (`2023-W11`), for facets.
    pub week: Field,
    /// [`ACCENTED`] when the title and text are mostly written with diacritics.
    pub script: Field,
    pub tags: Field,
    pub rules: Field,
}

fn build_schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let analysed = |stored: bool| {
        let options = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(analysis::VIETNAMESE)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        if stored {
            options.set_stored()
        } else {
            options
        }
    };
    let fields = Fields {
        id: builder.add_i64_field("id", INDEXED | STORED | FAST),
        url: builder.add_text_field("url", STRING | STORED),
        title: builder.add_text_field("title", analysed(true)),
        text: builder.add_text_field("text", analysed(true)),
        source: builder.add_text_field("source", STRING | STORED | FAST),
        source_key: builder.add_text_field("source_key", STRING),
        source_text: builder.add_text_field("source_text", analysed(false)),
        kind: builder.add_text_field("kind", STRING | STORED | FAST),
        published: builder.add_text_field("published", STORED),
        date: builder.add_date_field("date", INDEXED | STORED | FAST),
        week: builder.add_text_field("week", STRING | FAST),
        script: builder.add_text_field("script", STRING),
        tags: builder.add_text_field("tags", STRING | FAST),
        rules: builder.add_text_field("rules", STRING | STORED),
    };
    (builder.build(), fields)
}

/// The search index in a directory: readers for everyone, one writer for the indexer.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    writer: Mutex<Option<IndexWriter>>,
    reset: bool,
    /// Searches in flight (each runs on one thread when they overlap).
    searches: std::sync::atomic::AtomicUsize,
}

/// Segments of about one size merged into one (see [`SearchIndex::upsert`]'s writer).
const MERGE_AT_SEGMENTS: usize = 4;

/// Most threads one search uses (one per segment at most).
const SEARCH_THREADS: usize = 4;

/// Bump when the schema or the analysis changes: [`SearchIndex::open`] then starts an empty
/// index (the old one cannot be read or would answer wrongly) and `diembao reindex` fills it.
pub const SCHEMA_VERSION: u32 = 2;

/// File in the index directory that holds the [`SCHEMA_VERSION`] the index was built with.
const VERSION_FILE: &str = "diembao-index-version";

impl SearchIndex {
    /// Opens the index in `dir`, creating it when absent. An index built by another
    /// [`SCHEMA_VERSION`] is removed and an empty one created (see [`was_reset`](Self::was_reset)).
    pub fn open(dir: &Path) -> Result<Self, IndexError> {
        std::fs::create_dir_all(dir)?;
        let marker = dir.join(VERSION_FILE);
        let version = std::fs::read_to_string(&marker)
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok());
        let mut reset = false;
        if dir.join("meta.json").exists() && version != Some(SCHEMA_VERSION) {
            tracing::warn!(
                dir = %dir.display(),
                found = ?version,
                expected = SCHEMA_VERSION,
                "search index built by another version: starting an empty index; run `diembao reindex`"
            );
            remove_index_files(dir)?;
            reset = true;
        }
        let (schema, fields) = build_schema();
        let directory = tantivy::directory::MmapDirectory::open(dir)?;
        let index = Index::open_or_create(directory, schema)?;
        if version != Some(SCHEMA_VERSION) {
            std::fs::write(&marker, format!("{SCHEMA_VERSION}\n"))?;
        }
        let mut this = Self::from_index(index, fields)?;
        this.reset = reset;
        Ok(this)
    }

    /// An index in memory, for tests and `rules test`.
    pub fn in_memory() -> Result<Self, IndexError> {
        let (schema, fields) = build_schema();
        Self::from_index(Index::create_in_ram(schema), fields)
    }

    /// True when [`open`](Self::open) found an index of another [`SCHEMA_VERSION`] and
    /// replaced it with an empty one: every document needs indexing again.
    pub fn was_reset(&self) -> bool {
        self.reset
    }

    fn from_index(mut index: Index, fields: Fields) -> Result<Self, IndexError> {
        index
            .tokenizers()
            .register(analysis::VIETNAMESE, analysis::VietnameseTokenizer);
        // A search reads its segments in parallel (a large index has a few big segments).
        let threads = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(SEARCH_THREADS);
        if threads > 1 {
            index.set_multithread_executor(threads)?;
        }
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::OnCommitWithDelay)
            .try_into()?;
        Ok(Self {
            index,
            reader,
            fields,
            writer: Mutex::new(None),
            reset: false,
            searches: Default::default(),
        })
    }

    fn with_writer<T>(
        &self,
        f: impl FnOnce(&mut IndexWriter) -> Result<T, IndexError>,
    ) -> Result<T, IndexError> {
        let mut guard = self
            .writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if guard.is_none() {
            let writer =
                self.index
                    .writer_with_num_threads(1, 64_000_000)
                    .map_err(|err| match err {
                        tantivy::TantivyError::LockFailure(..) => {
                            IndexError::Locked(err.to_string())
                        }
                        other => IndexError::Tantivy(other),
                    })?;
            // Searches pay per segment (term lookups, cursors, facet counters), and staff
            // search all day while the office adds a few hundred documents a week: merge
            // as soon as four segments of a size are there (tantivy waits for eight).
            let mut policy = tantivy::indexer::LogMergePolicy::default();
            policy.set_min_num_segments(MERGE_AT_SEGMENTS);
            writer.set_merge_policy(Box::new(policy));
            *guard = Some(writer);
        }
        match guard.as_mut() {
            Some(writer) => f(writer),
            None => unreachable!("writer was just set"),
        }
    }

    /// Adds or replaces documents (by id). Not visible until [`commit`](Self::commit).
    pub fn upsert(&self, docs: &[IndexDoc]) -> Result<(), IndexError> {
        let fields = self.fields;
        self.with_writer(|writer| {
            for doc in docs {
                writer.delete_term(Term::from_field_i64(fields.id, doc.id));
                writer.add_document(to_tantivy(&fields, doc))?;
            }
            Ok(())
        })
    }

    /// Removes documents by id.
    pub fn delete(&self, ids: &[i64]) -> Result<(), IndexError> {
        let fields = self.fields;
        self.with_writer(|writer| {
            for id in ids {
                writer.delete_term(Term::from_field_i64(fields.id, *id));
            }
            Ok(())
        })
    }

    /// Removes every document (for a rebuild).
    pub fn clear(&self) -> Result<(), IndexError> {
        self.with_writer(|writer| {
            writer.delete_all_documents()?;
            Ok(())
        })
    }

    /// Makes the pending changes durable and visible to readers.
    pub fn commit(&self) -> Result<(), IndexError> {
        self.with_writer(|writer| {
            writer.commit()?;
            Ok(())
        })?;
        self.reader.reload()?;
        Ok(())
    }

    /// Merges every segment into one and waits for it (after a bulk load: a search pays
    /// per segment). Nothing to do for an index of one segment or none.
    pub fn merge_all(&self) -> Result<(), IndexError> {
        // Merges the policy started must end first: their segments would be gone from
        // under ours. Closing the writer waits for them; the next write reopens it.
        self.close_writer();
        let segments = self.index.searchable_segment_ids()?;
        if segments.len() > 1 {
            self.with_writer(|writer| {
                writer.merge(&segments).wait()?;
                Ok(())
            })?;
            self.close_writer();
        }
        self.reader.reload()?;
        Ok(())
    }

    /// Releases the writer lock (so that another process may index).
    pub fn close_writer(&self) {
        let mut guard = self
            .writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(writer) = guard.take() {
            let _ = writer.wait_merging_threads();
        }
    }

    /// Refreshes the reader now (after another process committed).
    pub fn reload(&self) -> Result<(), IndexError> {
        self.reader.reload()?;
        Ok(())
    }

    /// The number of documents visible to readers.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// All indexed ids (for consistency checks).
    pub fn ids(&self) -> Result<Vec<i64>, IndexError> {
        let searcher = self.reader.searcher();
        let mut ids = Vec::with_capacity(searcher.num_docs() as usize);
        for segment in searcher.segment_readers() {
            let column = segment.fast_fields().i64("id")?;
            for doc in segment.doc_ids_alive() {
                if let Some(id) = column.first(doc) {
                    ids.push(id);
                }
            }
        }
        ids.sort_unstable();
        Ok(ids)
    }
}

/// Removes the files of a tantivy index (a flat directory) and the version marker.
fn remove_index_files(dir: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// The `--source` filter key of a source name: case, Unicode form, tone placement and
/// spacing ignored.
pub(crate) fn source_key(name: &str) -> String {
    let canonical = diembao_core::text::canonical_tones(name);
    let lower = diembao_core::text::lower(&canonical);
    lower.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Value of the `script` field of a document written with diacritics.
pub(crate) const ACCENTED: &str = "accented";

/// A value to analyse, clean ([`text::clean`](diembao_core::text::clean): borrowed when it is
/// clean already, as stored text is), with how many of its words have a letter and how
/// many of those have diacritics. Stored text takes one pass for both.
fn clean_counted(value: &str) -> (std::borrow::Cow<'_, str>, (usize, usize)) {
    use diembao_core::text;
    match text::clean_letter_words(value) {
        Some(counts) => (std::borrow::Cow::Borrowed(value), counts),
        None => {
            let cleaned = text::clean_cow(value);
            let counts = text::letter_words(&cleaned);
            (cleaned, counts)
        }
    }
}

/// Whether at least a quarter of the letter words (see [`clean_counted`]) have diacritics
/// (Vietnamese typed with accents; text without them, or with a few, is typed without).
fn written_with_diacritics(counts: &[(usize, usize)]) -> bool {
    let (words, accented) = counts
        .iter()
        .fold((0, 0), |(w, a), (tw, ta)| (w + tw, a + ta));
    words > 0 && accented * 4 >= words
}

/// ISO week (`2023-W11`) of an instant in Vietnam time. Asia/Ho_Chi_Minh has been UTC+7
/// without daylight saving since 1975.
pub fn iso_week(at: DateTime<Utc>) -> String {
    let local = at.with_timezone(&diembao_core::document::vietnam_offset());
    let week = local.iso_week();
    format!("{}-W{:02}", week.year(), week.week())
}

fn to_tantivy(fields: &Fields, doc: &IndexDoc) -> TantivyDocument {
    let mut out = TantivyDocument::default();
    out.add_i64(fields.id, doc.id);
    out.add_text(fields.url, &doc.url);
    let (title, title_counts) = clean_counted(&doc.title);
    let (text, text_counts) = clean_counted(&doc.text);
    if written_with_diacritics(&[title_counts, text_counts]) {
        out.add_text(fields.script, ACCENTED);
    }
    out.add_text(fields.title, title);
    out.add_text(fields.text, text);
    if let Some(source) = &doc.source {
        out.add_text(fields.source, source);
        out.add_text(fields.source_key, source_key(source));
        // Analysed text is handed to the tokenizer clean (it does not clean again).
        out.add_text(fields.source_text, diembao_core::text::clean_cow(source));
    }
    out.add_text(fields.kind, &doc.kind);
    if let Some(published) = &doc.published {
        out.add_text(fields.published, published);
    }
    out.add_date(
        fields.date,
        tantivy::DateTime::from_timestamp_secs(doc.date.timestamp()),
    );
    out.add_text(fields.week, iso_week(doc.date));
    for rule in &doc.rules {
        out.add_text(fields.rules, rule);
        out.add_text(fields.tags, rule);
    }
    for category in &doc.categories {
        out.add_text(fields.tags, category);
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn doc(id: i64) -> IndexDoc {
        IndexDoc {
            id,
            url: format!("https://x.vn/{id}"),
            title: "Chuyển đổi số".into(),
            text: "Tỉnh đẩy mạnh chuyển đổi số.".into(),
            source: Some("Báo Ninh Thuận".into()),
            kind: "article".into(),
            published: Some("2023-03-13T08:15:00+07:00".into()),
            date: Utc
                .with_ymd_and_hms(2023, 3, 13, 1, 15, 0)
                .single()
                .expect("date"),
            rules: Vec::new(),
            categories: Vec::new(),
        }
    }

    #[test]
    fn reopens_and_resets_an_index_of_another_version() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("index");
        {
            let index = SearchIndex::open(&path).expect("open");
            assert!(!index.was_reset());
            index.upsert(&[doc(1), doc(2)]).expect("upsert");
            index.upsert(&[doc(2)]).expect("upsert again");
            index.commit().expect("commit");
            index.close_writer();
        }
        {
            let index = SearchIndex::open(&path).expect("reopen");
            assert!(!index.was_reset());
            assert_eq!(index.ids().expect("ids"), [1, 2]);
            index.delete(&[1]).expect("delete");
            index.commit().expect("commit");
            assert_eq!(index.ids().expect("ids"), [2]);
            index.close_writer();
        }
        // An index written by an older version (no or another version marker).
        std::fs::write(path.join(VERSION_FILE), "1\n").expect("marker");
        let index = SearchIndex::open(&path).expect("open old");
        assert!(index.was_reset());
        assert_eq!(index.num_docs(), 0);
        index.upsert(&[doc(3)]).expect("upsert");
        index.commit().expect("commit");
        assert_eq!(index.ids().expect("ids"), [3]);
        index.close_writer();
        drop(index);
        assert!(!SearchIndex::open(&path).expect("open again").was_reset());
    }

    #[test]
    fn iso_weeks_in_vietnam_time() {
        let at = |y, m, d, h| {
            Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
                .single()
                .expect("date")
        };
        assert_eq!(iso_week(at(2023, 3, 12, 16)), "2023-W10");
        assert_eq!(iso_week(at(2023, 3, 12, 17)), "2023-W11");
        assert_eq!(iso_week(at(2021, 1, 3, 10)), "2020-W53");
        assert_eq!(iso_week(at(2024, 12, 29, 18)), "2025-W01");
    }

    #[test]
    fn source_keys_ignore_case_form_and_spacing() {
        assert_eq!(
            source_key(" Đài  PT-TH Ninh Thuận "),
            "đài pt-th ninh thuận"
        );
        assert_eq!(
            source_key("\u{00D0}ÀI PT-TH NINH THUẬN"),
            "đài pt-th ninh thuận"
        );
        assert_eq!(source_key("Hoà Bình"), source_key("hòa bình"));
    }
}
