//! Sources to watch, as written in `sources.toml`.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

use crate::duration::parse_duration;
use crate::error::{InputError, from_toml};

/// How a source is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// RSS 2.0 or Atom feed.
    Rss,
    /// Sitemap index, urlset or Google News sitemap.
    Sitemap,
    /// A listing page whose article links match `link_selector`.
    Html,
    /// Public statuses of a Mastodon account.
    Mastodon,
    /// A YouTube channel's Atom feed.
    Youtube,
}

impl SourceKind {
    pub const ALL: [SourceKind; 5] = [
        Self::Rss,
        Self::Sitemap,
        Self::Html,
        Self::Mastodon,
        Self::Youtube,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rss => "rss",
            Self::Sitemap => "sitemap",
            Self::Html => "html",
            Self::Mastodon => "mastodon",
            Self::Youtube => "youtube",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    /// Social sources produce `post` documents, press sources `article`s.
    pub fn document_kind(self) -> crate::document::DocKind {
        match self {
            Self::Mastodon | Self::Youtube => crate::document::DocKind::Post,
            _ => crate::document::DocKind::Article,
        }
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One `[[source]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceSpec {
    pub name: String,
    pub kind: SourceKind,
    pub url: String,
    #[serde(with = "secs")]
    pub every: Duration,
    pub link_selector: Option<String>,
}

mod secs {
    use serde::Serializer;
    use std::time::Duration;

    pub fn serialize<S: Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(value.as_secs())
    }
}

/// The default revisit interval when `every` is not given.
pub const DEFAULT_EVERY: Duration = Duration::from_secs(30 * 60);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    name: String,
    kind: String,
    url: String,
    every: Option<String>,
    link_selector: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    source: Vec<toml::Spanned<toml::Table>>,
}

/// The result of reading a sources file: the good entries, and one error per bad entry.
#[derive(Debug, Default)]
pub struct ParsedSources {
    pub sources: Vec<SourceSpec>,
    pub errors: Vec<InputError>,
}

/// Parses a `sources.toml`. A TOML syntax error fails the whole file (one error);
/// an entry with a bad field is reported at its place and the other entries are kept.
pub fn parse_sources(text: &str) -> ParsedSources {
    let mut parsed = ParsedSources::default();
    let raw: RawFile = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(err) => {
            parsed.errors.push(from_toml(text, &err));
            return parsed;
        }
    };
    for entry in raw.source {
        let span = entry.span();
        let table = entry.into_inner();
        match source_from_table(table) {
            Ok(source) => parsed.sources.push(source),
            Err(message) => parsed
                .errors
                .push(InputError::at_offset(text, span.start, message)),
        }
    }
    parsed
}

fn source_from_table(table: toml::Table) -> Result<SourceSpec, String> {
    let raw: RawSource = table
        .try_into()
        .map_err(|err: toml::de::Error| format!("[[source]]: {}", err.message().trim()))?;
    let name = raw.name.trim().to_string();
    if name.is_empty() {
        return Err("[[source]]: `name` is empty".into());
    }
    let kind = SourceKind::parse(raw.kind.trim()).ok_or_else(|| {
        format!(
            "source `{name}`: unknown kind `{}` (expected rss, sitemap, html, mastodon or youtube)",
            raw.kind
        )
    })?;
    let url = url::Url::parse(raw.url.trim())
        .map_err(|err| format!("source `{name}`: bad url `{}`: {err}", raw.url))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "source `{name}`: url must be http or https, not `{}`",
            url.scheme()
        ));
    }
    let every = match raw.every.as_deref() {
        Some(text) => {
            parse_duration(text).map_err(|err| format!("source `{name}`: every: {err}"))?
        }
        None => DEFAULT_EVERY,
    };
    if kind == SourceKind::Html
        && raw
            .link_selector
            .as_deref()
            .is_none_or(|s| s.trim().is_empty())
    {
        return Err(format!(
            "source `{name}`: kind = \"html\" needs a `link_selector`"
        ));
    }
    Ok(SourceSpec {
        name,
        kind,
        url: url.to_string(),
        every,
        link_selector: raw.link_selector.filter(|s| !s.trim().is_empty()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_entries_survive_a_bad_one() {
        let text = r#"
[[source]]
name = "A"
kind = "rss"
url = "https://a.example/rss"
every = "15m"

[[source]]
name = "B"
kind = "telegram"
url = "https://b.example/"

[[source]]
name = "C"
kind = "html"
url = "https://c.example/tin-moi/"
link_selector = "h3 a"
"#;
        let parsed = parse_sources(text);
        assert_eq!(parsed.sources.len(), 2);
        assert_eq!(parsed.sources[0].every, Duration::from_secs(900));
        assert_eq!(parsed.errors.len(), 1);
        assert_eq!(parsed.errors[0].line, 8);
        assert!(parsed.errors[0].message.contains("telegram"));
    }

    #[test]
    fn syntax_error_names_line_and_column() {
        let parsed = parse_sources("[[source]]\nname = \"A\nkind = \"rss\"\n");
        assert!(parsed.sources.is_empty());
        assert_eq!(parsed.errors.len(), 1);
        assert_eq!(parsed.errors[0].line, 2);
    }

    #[test]
    fn unknown_field_is_an_error() {
        let parsed = parse_sources(
            "[[source]]\nname = \"A\"\nkind = \"rss\"\nurl = \"https://a.example/\"\nevry = \"1h\"\n",
        );
        assert_eq!(parsed.errors.len(), 1);
        assert!(
            parsed.errors[0].message.contains("evry"),
            "{:?}",
            parsed.errors
        );
    }

    #[test]
    fn html_needs_selector() {
        let parsed = parse_sources(
            "[[source]]\nname = \"A\"\nkind = \"html\"\nurl = \"https://a.example/\"\n",
        );
        assert_eq!(parsed.errors.len(), 1);
    }
}
