//! Crawling: fetching (politeness, robots.txt, conditional GET, limits, SSRF guard),
//! reading listings (feeds, sitemaps, HTML) and extracting articles as pure functions.

pub mod discover;
pub mod fetch;
pub mod social;

pub mod extract;
