//! Entry points shared by the cargo-fuzz targets (`crates/crawl/fuzz`) and
//! the regression test (`tests/fuzz_regressions.rs`): each turns raw fuzzer
//! bytes into calls of the public API, so a crashing input replays through
//! exactly the same code. Not a stable interface.

use std::sync::LazyLock;

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use url::Url;

use super::{ExtractError, ExtractInput, Extracted, dates, decode_html, extract};

/// The page URL every fuzzed body is extracted as.
pub const FUZZ_URL: &str = "https://bao.example.vn/thoi-su/2023/03/13/bai-viet-123.html";

static URL: LazyLock<Url> = LazyLock::new(|| Url::parse(FUZZ_URL).expect("constant URL parses"));

/// Content-Type headers selected by a leading byte `0xF8..=0xFF`.
const CONTENT_TYPES: [&str; 8] = [
    "text/html; charset=utf-8",
    "text/html; charset=windows-1258",
    "text/html",
    "text/html; charset=iso-8859-1",
    "text/html; charset=utf-16",
    "application/octet-stream",
    "text/html; charset=\"Shift_JIS\"",
    "image/png",
];

/// Fixed fetch time: 31/03/2023 19:30 +07:00.
pub fn fetched_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2023, 3, 31, 12, 30, 0)
        .single()
        .unwrap_or_default()
}

/// Split fuzzer bytes into an optional `Content-Type` and the body: a first
/// byte in `0xF8..=0xFF` picks a header from a small table and is not part
/// of the body; anything else (every real page) is all body, no header.
pub fn split_content_type(data: &[u8]) -> (Option<&'static str>, &[u8]) {
    match data.split_first() {
        Some((&b, rest)) if b >= 0xF8 => (Some(CONTENT_TYPES[usize::from(b & 7)]), rest),
        _ => (None, data),
    }
}

/// The `extract` fuzz target: decode and extract `data` as a page.
pub fn extract_bytes(data: &[u8]) -> Result<Extracted, ExtractError> {
    let (content_type, body) = split_content_type(data);
    // the decoding step on its own, as `decode_html` offers it
    if body.len() <= super::MAX_PARSE_BYTES {
        let _ = decode_html(body, content_type);
    }
    extract(&ExtractInput {
        body,
        url: &URL,
        content_type,
        fetched_at: fetched_at(),
    })
}

/// What the date parsers make of one string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateOutcome {
    /// [`dates::parse_vietnamese_date`] (metadata values and visible lines).
    pub parsed: Option<DateTime<FixedOffset>>,
    /// [`dates::is_date_line`] (visible date line test).
    pub date_line: bool,
    /// [`dates::is_update_line`].
    pub update_line: bool,
}

/// The `dates` fuzz target: `data` (lossily UTF-8) through the visible and
/// metadata date parsers with the fixed fetch time.
pub fn dates_bytes(data: &[u8]) -> DateOutcome {
    let s = String::from_utf8_lossy(data);
    let fetched = fetched_at();
    DateOutcome {
        parsed: dates::parse_vietnamese_date(&s, fetched),
        date_line: dates::is_date_line(&s, fetched),
        update_line: dates::is_update_line(&s),
    }
}
