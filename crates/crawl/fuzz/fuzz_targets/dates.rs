//! Arbitrary strings through the visible and metadata date parsers with a
//! fixed fetch time. Besides never panicking, a parsed date is a plausible
//! publication date and a date line always parses.
#![no_main]

use chrono::Datelike;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let out = diembao_crawl::extract::fuzzing::dates_bytes(data);
    if let Some(d) = out.parsed {
        assert!(
            (1969..=2101).contains(&d.year()),
            "implausible date {d} from {:?}",
            String::from_utf8_lossy(data)
        );
    }
    assert!(!out.date_line || out.parsed.is_some());
});
