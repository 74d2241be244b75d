//! Arbitrary bytes as an HTML page (fixed URL, optional Content-Type chosen
//! by a leading 0xF8..=0xFF byte): decoding and extraction must never panic
//! and stay within libFuzzer's time and memory limits.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = diembao_crawl::extract::fuzzing::extract_bytes(data);
});
