//! End-to-end tests: the real `diembao` binary against real parts (SQLite or PostgreSQL,
//! site packs served on loopback). Set `DIEMBAO_TEST_DATABASE_URL=postgres://…` to run
//! every database-backed test on PostgreSQL (each test gets a database of its own).

mod harness;

mod cases;
mod crawl;
mod digest;
mod discovery;
mod faults;
mod ingest;
mod inputs;
mod rules;
mod scale;
mod ui;
mod web;
