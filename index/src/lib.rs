//! The full-text index: owns the tantivy schema, Vietnamese analysis, queries and snippets.
//! Nothing outside this crate touches tantivy types.

pub mod analysis;
pub mod query;
mod search;

use std::path::Path;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
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
    pub title: Field,
    pub title_fold: Field,
    pub text: Field,
    pub text_fold: Field,
    pub source: Field,
    pub source_fold: Field,
    pub kind: Field,
    pub published: Field,
    pub date: Field,
    pub tags: Field,
    pub rules: Field,
}

fn build_schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let analysed = |tokenizer: &str, stored: bool| {
        let options = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(tokenizer)
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
        title: builder.add_text_field("title", analysed(analysis::EXACT, true)),
        title_fold: builder.add_text_field("title_fold", analysed(analysis::FOLD, false)),
        text: builder.add_text_field("text", analysed(analysis::EXACT, true)),
        text_fold: builder.add_text_field("text_fold", analysed(analysis::FOLD, false)),
        source: builder.add_text_field("source", STRING | STORED | FAST),
        source_fold: builder.add_text_field("source_fold", analysed(analysis::FOLD, false)),
        kind: builder.add_text_field("kind", STRING | STORED | FAST),
        published: builder.add_text_field("published", STORED),
        date: builder.add_date_field("date", INDEXED | STORED | FAST),
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
}

/// Bump when the schema or the analysis changes: a mismatch asks for `diembao reindex`.
pub const SCHEMA_VERSION: u32 = 1;

impl SearchIndex {
    /// Opens the index in `dir`, creating it when absent.
    pub fn open(dir: &Path) -> Result<Self, IndexError> {
        std::fs::create_dir_all(dir)?;
        let (schema, fields) = build_schema();
        let directory = tantivy::directory::MmapDirectory::open(dir)?;
        let index = Index::open_or_create(directory, schema)?;
        Self::from_index(index, fields)
    }

    /// An index in memory, for tests and `rules test`.
    pub fn in_memory() -> Result<Self, IndexError> {
        let (schema, fields) = build_schema();
        Self::from_index(Index::create_in_ram(schema), fields)
    }

    fn from_index(index: Index, fields: Fields) -> Result<Self, IndexError> {
        let tokenizers = index.tokenizers();
        tokenizers.register(analysis::EXACT, analysis::VietnameseTokenizer::exact());
        tokenizers.register(analysis::FOLD, analysis::VietnameseTokenizer::folded());
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::OnCommitWithDelay)
            .try_into()?;
        Ok(Self {
            index,
            reader,
            fields,
            writer: Mutex::new(None),
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

fn to_tantivy(fields: &Fields, doc: &IndexDoc) -> TantivyDocument {
    let mut out = TantivyDocument::default();
    out.add_i64(fields.id, doc.id);
    out.add_text(fields.url, &doc.url);
    out.add_text(fields.title, &doc.title);
    out.add_text(fields.title_fold, &doc.title);
    out.add_text(fields.text, &doc.text);
    out.add_text(fields.text_fold, &doc.text);
    if let Some(source) = &doc.source {
        out.add_text(fields.source, source);
        out.add_text(fields.source_fold, source);
    }
    out.add_text(fields.kind, &doc.kind);
    if let Some(published) = &doc.published {
        out.add_text(fields.published, published);
    }
    out.add_date(
        fields.date,
        tantivy::DateTime::from_timestamp_secs(doc.date.timestamp()),
    );
    for rule in &doc.rules {
        out.add_text(fields.rules, rule);
        out.add_text(fields.tags, rule);
    }
    for category in &doc.categories {
        out.add_text(fields.tags, category);
    }
    out
}
