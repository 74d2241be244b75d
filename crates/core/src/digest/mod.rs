//! The weekly press digest (bản tin điểm báo tuần): counts per source with
//! the comparison period, stories told by several outlets, flagged content,
//! saved-search topics and source health; rendered as JSON (serde), plain
//! text and an HTML e-mail with an SVG chart.
//!
//! Pure code: the caller loads the documents of the period (and of the
//! comparison period) and passes them in; [`Period::utc_bounds`] gives the
//! UTC window to load. [`build_digest`] keeps only the documents that
//! [`Period::contains`] (the day of `published_at`, else `fetched_at`, in the
//! digest's time zone), so a looser pre-filter is fine.
//!
//! ```
//! use diembao_core::digest::{DigestInput, Period, build_digest, render_text};
//! let input = DigestInput {
//!     office: "Sở Thông tin và Truyền thông".into(),
//!     timezone: chrono_tz::Asia::Ho_Chi_Minh,
//!     period: Period::parse_week("2023-W11").unwrap(),
//!     current: vec![],
//!     previous: vec![],
//!     health: vec![],
//!     topics: vec![],
//! };
//! let digest = build_digest(&input);
//! assert_eq!(digest.from.to_string(), "2023-03-13");
//! assert!(render_text(&digest).contains("BẢN TIN ĐIỂM BÁO TUẦN 11/2023 (13/03–19/03/2023)"));
//! ```

mod period;
mod render;
mod similarity;
mod stories;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};

use stories::FastMap;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

pub use period::{MAX_RANGE_DAYS, Period, PeriodError};
pub use render::{escape_html, render_chart_svg, render_html, render_text, safe_href};
pub use similarity::{
    SHINGLE_WORDS, SKETCH_SIZE, bottom_k, bottom_k_into, hamming, jaccard, key_form,
    shingle_hashes, shingles, simhash, simhash_of, sketch_jaccard, word_hash, word_hashes,
    word_hashes_into,
};
pub use stories::{STOPWORDS, Signal, StoryConfig, StoryGroup, StoryIndex, group_stories};

/// Flagged documents listed one by one in a digest (the most severe first).
pub const MAX_FLAGGED_ITEMS: usize = 50;
/// Documents listed per topic in a digest (all are counted).
pub const MAX_TOPIC_ITEMS: usize = 50;

/// A stored document as the digest needs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DigestDoc {
    pub id: i64,
    pub url: String,
    pub canonical_url: String,
    pub title: String,
    pub text: String,
    /// Source (outlet) name.
    pub source: String,
    /// `article` or `post`.
    pub kind: String,
    pub published_at: Option<DateTime<FixedOffset>>,
    pub fetched_at: DateTime<Utc>,
    /// Canonical URL of the original when this is a syndicated copy.
    pub syndicated_from: Option<String>,
    /// `(rule, category, severity)` of each rule that fired.
    pub tags: Vec<(String, String, String)>,
    /// Review status of its violation candidate: `open`, `confirmed`,
    /// `dismissed`; `None` when it has none.
    pub candidate_status: Option<String>,
}

impl DigestDoc {
    /// The instant that places the document in a period: `published_at`,
    /// else `fetched_at`.
    pub fn instant(&self) -> DateTime<Utc> {
        self.published_at
            .map_or(self.fetched_at, |t| t.with_timezone(&Utc))
    }
}

/// Crawl health of a source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceHealth {
    pub name: String,
    pub failing: bool,
    pub last_error: Option<String>,
    pub consecutive_failures: i32,
}

/// A saved search shown as a digest section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicSection {
    pub title: String,
    /// Ids of the period's documents that match the saved search, best
    /// first, as computed by the caller.
    pub query_hits: Vec<i64>,
}

/// Everything a digest is built from.
#[derive(Debug, Clone)]
pub struct DigestInput {
    /// Office name (`[office] name`), the header of the e-mail.
    pub office: String,
    /// `[digest] timezone`.
    pub timezone: Tz,
    pub period: Period,
    /// Documents of the period.
    pub current: Vec<DigestDoc>,
    /// Documents of the comparison period ([`Period::previous`]).
    pub previous: Vec<DigestDoc>,
    pub health: Vec<SourceHealth>,
    pub topics: Vec<TopicSection>,
}

/// The digest, serialised as `digest build --format json`.
///
/// The contract's fields come first (`week` … `flagged`); the others are
/// extensions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Digest {
    /// `2023-W11`; `null` for a date range.
    pub week: Option<String>,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub timezone: String,
    pub total: u64,
    /// Documents of the comparison period.
    pub previous_total: u64,
    /// Every source with documents in the period or the comparison period,
    /// by count (descending) then name.
    pub sources: Vec<SourceCount>,
    /// Stories told by several documents (outlets or syndicated copies).
    pub stories: Vec<Story>,
    /// Flagged documents per rule category, by count then category.
    pub flagged: Vec<FlaggedCategory>,
    // Extensions: absent from digests stored by older versions.
    #[serde(default)]
    pub office: String,
    #[serde(default)]
    pub period: PeriodSummary,
    /// Documents per kind (`article`, `post`, …), by kind.
    #[serde(default)]
    pub kinds: Vec<KindCount>,
    /// Documents per day and source, every day of the period.
    #[serde(default)]
    pub days: Vec<DayCount>,
    /// Documents with at least one tag.
    #[serde(default)]
    pub flagged_documents: u64,
    /// The flagged documents, most severe first, at most [`MAX_FLAGGED_ITEMS`].
    #[serde(default)]
    pub flagged_items: Vec<FlaggedItem>,
    #[serde(default)]
    pub topics: Vec<TopicDigest>,
    /// All sources' health, failing ones first.
    #[serde(default)]
    pub health: Vec<SourceHealth>,
}

/// The period and its comparison period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PeriodSummary {
    /// `week` or `range`.
    pub kind: String,
    /// `2023-W11` or `2023-03-01..2023-03-31`.
    pub label: String,
    pub previous_label: String,
    pub previous_from: NaiveDate,
    pub previous_to: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceCount {
    pub source: String,
    pub count: u64,
    pub previous: u64,
    /// Of `count`, syndicated copies (documents with `syndicated_from`).
    #[serde(default)]
    pub syndicated: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindCount {
    pub kind: String,
    pub count: u64,
}

/// A document mentioned in the digest. `time` is the instant that places it
/// in the period (`published_at`, else `fetched_at`) in the digest's time zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocRef {
    pub id: i64,
    pub title: String,
    pub url: String,
    pub source: String,
    pub time: DateTime<FixedOffset>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Story {
    /// Title of the original (syndicated-from) document, else the earliest.
    pub title: String,
    /// In publication order.
    pub urls: Vec<String>,
    /// Source of each URL, same order.
    pub sources: Vec<String>,
    /// How the documents were linked.
    #[serde(default)]
    pub signals: Vec<Signal>,
    #[serde(default)]
    pub items: Vec<DocRef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlaggedCategory {
    pub category: String,
    /// Documents with a tag of this category.
    pub count: u64,
    /// Of those, documents whose candidate is confirmed.
    pub confirmed: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlaggedItem {
    #[serde(flatten)]
    pub doc: DocRef,
    pub rules: Vec<String>,
    pub categories: Vec<String>,
    /// The highest severity of its tags.
    pub severity: String,
    pub status: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayCount {
    pub date: NaiveDate,
    pub total: u64,
    /// Non-zero counts, in the order of [`Digest::sources`].
    pub sources: Vec<DaySource>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaySource {
    pub source: String,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicDigest {
    pub title: String,
    /// Hits found among the period's documents.
    pub count: u64,
    /// The first [`MAX_TOPIC_ITEMS`] of them, in the caller's order.
    pub items: Vec<DocRef>,
}

/// Sort key of a name: folded lower case, then the name itself.
fn name_key(name: &str) -> (String, &str) {
    (key_form(name), name)
}

fn severity_rank(severity: &str) -> u8 {
    match severity {
        "high" => 3,
        "medium" => 2,
        "low" => 1,
        _ => 0,
    }
}

fn status_rank(status: Option<&str>) -> u8 {
    match status {
        Some("confirmed") => 0,
        Some("open") => 1,
        None => 2,
        Some("dismissed") => 4,
        Some(_) => 3,
    }
}

fn doc_ref(doc: &DigestDoc, tz: Tz) -> DocRef {
    DocRef {
        id: doc.id,
        title: doc.title.clone(),
        url: doc.url.clone(),
        source: doc.source.clone(),
        time: doc.instant().with_timezone(&tz).fixed_offset(),
    }
}

/// Builds the digest of `input.period`.
///
/// Documents outside the period (resp. the comparison period) by
/// [`Period::contains`] are ignored, and a document id given twice counts
/// once. Story grouping uses [`StoryConfig::default`]; the comparison
/// period's documents serve as IDF background.
pub fn build_digest(input: &DigestInput) -> Digest {
    build_digest_with(input, &StoryConfig::default())
}

/// [`build_digest`] with explicit story-grouping settings.
pub fn build_digest_with(input: &DigestInput, config: &StoryConfig) -> Digest {
    let tz = input.timezone;
    let period = input.period;
    let previous_period = period.previous();

    let select = |docs: &'_ [DigestDoc], p: Period| -> (Vec<usize>, Vec<usize>) {
        // Ids are normally distinct; a set is only needed when they are not.
        let mut ids: Vec<i64> = docs.iter().map(|d| d.id).collect();
        ids.sort_unstable();
        let repeated = ids.windows(2).any(|w| w[0] == w[1]);
        let mut seen = HashSet::new();
        let mut kept = Vec::new();
        let mut day = Vec::new();
        // Day starts in UTC: a binary search instead of a time-zone
        // conversion per document.
        let bounds = p.day_bounds(tz);
        let (Some(&first), Some(&end)) = (bounds.first(), bounds.last()) else {
            return (kept, day);
        };
        for (i, d) in docs.iter().enumerate() {
            let t = d.instant();
            if t < first || t >= end || (repeated && !seen.insert(d.id)) {
                continue;
            }
            kept.push(i);
            day.push(bounds.partition_point(|b| *b <= t).saturating_sub(1));
        }
        (kept, day)
    };
    let (cur_idx, cur_day) = select(&input.current, period);
    let (prev_idx, _) = select(&input.previous, previous_period);
    let current: Vec<&DigestDoc> = cur_idx.iter().map(|&i| &input.current[i]).collect();
    let previous: Vec<&DigestDoc> = prev_idx.iter().map(|&i| &input.previous[i]).collect();

    // Sources.
    let mut counts: FastMap<&str, (u64, u64, u64)> = FastMap::default();
    for d in &current {
        let e = counts.entry(d.source.as_str()).or_default();
        e.0 += 1;
        e.2 += u64::from(d.syndicated_from.is_some());
    }
    for d in &previous {
        counts.entry(d.source.as_str()).or_default().1 += 1;
    }
    let mut source_list: Vec<(&str, u64, u64, u64)> = counts
        .into_iter()
        .map(|(s, (c, p, k))| (s, c, p, k))
        .collect();
    source_list.sort_by_cached_key(|s| (std::cmp::Reverse(s.1), key_form(s.0), s.0));
    let source_rank: FastMap<&str, usize> = source_list
        .iter()
        .enumerate()
        .map(|(i, s)| (s.0, i))
        .collect();

    // Days.
    let ndays = period.len_days();
    let nsources = source_list.len();
    let mut grid = vec![0u64; ndays * nsources.max(1)];
    for (d, &day) in current.iter().zip(&cur_day) {
        grid[day * nsources + source_rank[d.source.as_str()]] += 1;
    }
    let days: Vec<DayCount> = period
        .dates()
        .enumerate()
        .map(|(i, date)| {
            let row = &grid[i * nsources..(i + 1) * nsources];
            DayCount {
                date,
                total: row.iter().sum(),
                sources: row
                    .iter()
                    .enumerate()
                    .filter(|&(_, &c)| c > 0)
                    .map(|(s, &c)| DaySource {
                        source: source_list[s].0.to_owned(),
                        count: c,
                    })
                    .collect(),
            }
        })
        .collect();

    // Kinds.
    let mut kinds: FastMap<&str, u64> = FastMap::default();
    for d in &current {
        *kinds.entry(d.kind.as_str()).or_default() += 1;
    }
    let mut kinds: Vec<KindCount> = kinds
        .into_iter()
        .map(|(k, c)| KindCount {
            kind: k.to_owned(),
            count: c,
        })
        .collect();
    kinds.sort_by(|a, b| a.kind.cmp(&b.kind));

    // Stories.
    let index = StoryIndex::build(&current, &previous, config);
    let mut stories: Vec<(usize, usize, Story)> = index
        .groups()
        .into_iter()
        .map(|g| {
            let distinct: HashSet<&str> = g
                .members
                .iter()
                .map(|&m| current[m].source.as_str())
                .collect();
            let items: Vec<DocRef> = g.members.iter().map(|&m| doc_ref(current[m], tz)).collect();
            let story = Story {
                title: current[g.original].title.clone(),
                urls: items.iter().map(|r| r.url.clone()).collect(),
                sources: items.iter().map(|r| r.source.clone()).collect(),
                signals: g.signals,
                items,
            };
            (distinct.len(), g.members.len(), story)
        })
        .collect();
    // Most outlets first, then most documents; groups() is in publication order.
    stories.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
    let stories: Vec<Story> = stories.into_iter().map(|s| s.2).collect();
    // Flagged.
    let mut categories: HashMap<String, (u64, u64)> = HashMap::new();
    let mut flagged_documents = 0;
    let mut flagged_items: Vec<FlaggedItem> = Vec::new();
    for d in &current {
        if d.tags.is_empty() {
            continue;
        }
        flagged_documents += 1;
        let confirmed = d.candidate_status.as_deref() == Some("confirmed");
        let mut cats: Vec<String> = d.tags.iter().map(|t| t.1.clone()).collect();
        cats.sort();
        cats.dedup();
        for c in &cats {
            let e = categories.entry(c.clone()).or_default();
            e.0 += 1;
            e.1 += u64::from(confirmed);
        }
        let mut rules: Vec<String> = d.tags.iter().map(|t| t.0.clone()).collect();
        rules.sort();
        rules.dedup();
        let severity = d
            .tags
            .iter()
            .map(|t| t.2.as_str())
            .max_by_key(|s| (severity_rank(s), std::cmp::Reverse(*s)))
            .unwrap_or_default()
            .to_owned();
        flagged_items.push(FlaggedItem {
            doc: doc_ref(d, tz),
            rules,
            categories: cats,
            severity,
            status: d.candidate_status.clone(),
        });
    }
    let mut flagged: Vec<FlaggedCategory> = categories
        .into_iter()
        .map(|(c, (n, k))| FlaggedCategory {
            category: c,
            count: n,
            confirmed: k,
        })
        .collect();
    flagged.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.category.cmp(&b.category))
    });
    flagged_items.sort_by(|a, b| {
        severity_rank(&b.severity)
            .cmp(&severity_rank(&a.severity))
            .then_with(|| status_rank(a.status.as_deref()).cmp(&status_rank(b.status.as_deref())))
            .then_with(|| b.doc.time.cmp(&a.doc.time))
            .then_with(|| a.doc.id.cmp(&b.doc.id))
    });
    flagged_items.truncate(MAX_FLAGGED_ITEMS);

    // Topics.
    let by_id: FastMap<i64, &DigestDoc> = if input.topics.is_empty() {
        FastMap::default()
    } else {
        current.iter().map(|d| (d.id, *d)).collect()
    };
    let topics = input
        .topics
        .iter()
        .map(|t| {
            let mut seen = HashSet::new();
            let hits: Vec<&DigestDoc> = t
                .query_hits
                .iter()
                .filter(|id| seen.insert(**id))
                .filter_map(|id| by_id.get(id).copied())
                .collect();
            TopicDigest {
                title: t.title.clone(),
                count: hits.len() as u64,
                items: hits
                    .iter()
                    .take(MAX_TOPIC_ITEMS)
                    .map(|d| doc_ref(d, tz))
                    .collect(),
            }
        })
        .collect();
    let mut health = input.health.clone();
    health.sort_by(|a, b| {
        b.failing
            .cmp(&a.failing)
            .then(b.consecutive_failures.cmp(&a.consecutive_failures))
            .then_with(|| name_key(&a.name).cmp(&name_key(&b.name)))
    });

    Digest {
        week: period.week_label(),
        from: period.from(),
        to: period.to(),
        timezone: tz.name().to_owned(),
        total: current.len() as u64,
        previous_total: previous.len() as u64,
        sources: source_list
            .iter()
            .map(|&(s, c, p, k)| SourceCount {
                source: s.to_owned(),
                count: c,
                previous: p,
                syndicated: k,
            })
            .collect(),
        stories,
        flagged,
        office: input.office.clone(),
        period: PeriodSummary {
            kind: if period.is_week() { "week" } else { "range" }.to_owned(),
            label: period.to_string(),
            previous_label: previous_period.to_string(),
            previous_from: previous_period.from(),
            previous_to: previous_period.to(),
        },
        kinds,
        days,
        flagged_documents,
        flagged_items,
        topics,
        health,
    }
}
