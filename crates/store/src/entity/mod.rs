//! sea-orm entities, one module per table.
pub mod audit_log;
pub mod candidates;
pub mod case_items;
pub mod cases;
pub mod crawl_urls;
pub mod custody_log;
pub mod digest_deliveries;
pub mod digests;
pub mod documents;
pub mod fetch_log;
pub mod matches;
pub mod raw_captures;
pub mod reviews;
pub mod rule_sets;
pub mod rule_versions;
pub mod sources;
pub mod users;
