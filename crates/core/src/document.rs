//! Documents (articles and posts) and the JSONL ingest format.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::error::InputError;

/// Vietnam's offset, used for times written without one.
pub fn vietnam_offset() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600)
        .unwrap_or_else(|| FixedOffset::east_opt(0).expect("zero offset"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DocKind {
    #[default]
    Article,
    Post,
}

impl DocKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Article => "article",
            Self::Post => "post",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "article" => Some(Self::Article),
            "post" => Some(Self::Post),
            _ => None,
        }
    }
}

impl fmt::Display for DocKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A document ready to be stored: what extraction or ingest produced.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewDocument {
    pub url: String,
    pub canonical_url: String,
    pub kind: DocKind,
    pub title: String,
    pub text: String,
    pub author: Option<String>,
    pub source_name: Option<String>,
    pub published_at: Option<DateTime<FixedOffset>>,
    pub modified_at: Option<DateTime<FixedOffset>>,
    pub fetched_at: DateTime<Utc>,
    pub lang: Option<String>,
    /// Canonical URL of the original when this is a syndicated copy on another site.
    pub syndicated_from: Option<String>,
    pub engagement: Option<serde_json::Value>,
}

/// Parses a date or date-time as written in input files: RFC 3339, or a naive
/// date-time / date, taken in Vietnam's time zone.
pub fn parse_datetime(text: &str) -> Option<DateTime<FixedOffset>> {
    let text = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
        return Some(dt);
    }
    if let Ok(dt) = DateTime::parse_from_rfc2822(text) {
        return Some(dt);
    }
    let offset = vietnam_offset();
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
            return offset.from_local_datetime(&naive).single();
        }
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    offset
        .from_local_datetime(&date.and_hms_opt(0, 0, 0)?)
        .single()
}

/// One line of an ingest file. Unknown fields are ignored so that `export` output
/// (which adds `canonical_url`, `fetched_at`, `tags`) can be ingested again.
#[derive(Debug, Deserialize)]
struct IngestLine {
    url: String,
    title: String,
    text: String,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    published_at: Option<String>,
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    author: Option<String>,
    #[serde(default)]
    canonical_url: Option<String>,
    #[serde(default)]
    fetched_at: Option<String>,
}

/// Parses one JSONL line (`line_no` is 1-based) into a document.
pub fn parse_ingest_line(
    line: &str,
    line_no: usize,
    now: DateTime<Utc>,
) -> Result<NewDocument, InputError> {
    let raw: IngestLine = serde_json::from_str(line)
        .map_err(|err| InputError::new(line_no, err.column().max(1), err.to_string()))?;
    let at = |message: String| InputError::new(line_no, 1, message);
    let url = url::Url::parse(raw.url.trim())
        .map_err(|err| at(format!("bad url `{}`: {err}", raw.url)))?;
    if raw.title.trim().is_empty() && raw.text.trim().is_empty() {
        return Err(at("both `title` and `text` are empty".into()));
    }
    let kind = match raw.kind.as_deref() {
        None => DocKind::Article,
        Some(kind) => DocKind::parse(kind)
            .ok_or_else(|| at(format!("unknown kind `{kind}` (expected article or post)")))?,
    };
    let published_at = match raw.published_at.as_deref().filter(|s| !s.trim().is_empty()) {
        None => None,
        Some(text) => {
            Some(parse_datetime(text).ok_or_else(|| at(format!("bad published_at `{text}`")))?)
        }
    };
    let fetched_at = raw
        .fetched_at
        .as_deref()
        .and_then(parse_datetime)
        .map_or(now, |dt| dt.with_timezone(&Utc));
    let canonical_url = raw
        .canonical_url
        .as_deref()
        .and_then(|u| url::Url::parse(u).ok())
        .map_or_else(
            || crate::url_canon::canonicalize(&url),
            |u| crate::url_canon::canonicalize(&u),
        );
    Ok(NewDocument {
        url: url.to_string(),
        canonical_url,
        kind,
        title: crate::text::clean(raw.title.trim()),
        text: crate::text::clean(raw.text.trim()),
        author: raw
            .author
            .map(|a| crate::text::clean(a.trim()))
            .filter(|a| !a.is_empty()),
        source_name: raw
            .source
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty()),
        published_at,
        modified_at: None,
        fetched_at,
        lang: raw.lang.filter(|l| !l.trim().is_empty()),
        syndicated_from: None,
        engagement: None,
    })
}

impl<'a> From<&'a NewDocument> for crate::rules::DocFields<'a> {
    /// The fields rules look at, of a document not stored yet.
    fn from(doc: &'a NewDocument) -> Self {
        Self {
            title: &doc.title,
            text: &doc.text,
            source: doc.source_name.as_deref().unwrap_or(""),
            url: &doc.url,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ingest_line_keeps_offset_and_defaults() {
        let now = Utc::now();
        let doc = parse_ingest_line(
            r#"{"url":"https://a.vn/x?utm_source=f","title":"T","text":"B","published_at":"2023-03-13T08:15:00+07:00"}"#,
            1,
            now,
        );
        let doc = doc.expect("valid line");
        assert_eq!(doc.kind, DocKind::Article);
        assert_eq!(doc.canonical_url, "https://a.vn/x");
        assert_eq!(
            doc.published_at.map(|d| d.offset().local_minus_utc()),
            Some(7 * 3600)
        );
    }

    #[test]
    fn broken_line_names_line_and_column() {
        let err = parse_ingest_line(r#"{"url": "https://a.vn/", "title": }"#, 7, Utc::now());
        let err = err.expect_err("broken json");
        assert_eq!(err.line, 7);
        assert!(err.column > 1);
        let err = parse_ingest_line(r#"{"url": "https://a.vn/"}"#, 3, Utc::now())
            .expect_err("missing title");
        assert!(err.message.contains("title"), "{err}");
    }

    #[test]
    fn naive_dates_are_vietnam_time() {
        let dt = parse_datetime("2023-03-13 08:15").expect("date");
        assert_eq!(dt.to_rfc3339(), "2023-03-13T08:15:00+07:00");
        assert!(parse_datetime("13/03/2023").is_none());
    }
}
