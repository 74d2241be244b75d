//! `/metrics` in the Prometheus text format: documents, candidates, the job queues and
//! the fetches of the last 24 hours. A part that cannot be read is left out (and logged)
//! rather than failing the scrape.

use std::collections::BTreeMap;
use std::fmt::Write;

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

use diembao_jobs::{Env, QUEUE_FETCH, QUEUE_SOURCES, Queue};
use diembao_store::entity::{candidates, fetch_log};

/// Fetches of one host with one status and outcome: (host, status, outcome, count).
type FetchCount = (String, Option<i32>, String, i64);

/// A label value, escaped as the text format wants.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// Jobs per queue and status, from apalis' own table.
async fn jobs(queue: &Queue) -> Result<Vec<(String, String, i64)>, sqlx::Error> {
    match queue {
        Queue::Sqlite { pool, .. } => {
            sqlx::query_as("SELECT job_type, status, COUNT(*) FROM Jobs GROUP BY job_type, status").fetch_all(pool).await
        }
        Queue::Postgres { pool, .. } => {
            sqlx::query_as("SELECT job_type::text, status::text, COUNT(*)::bigint FROM apalis.jobs GROUP BY job_type, status")
                .fetch_all(pool)
                .await
        }
    }
}

pub(crate) async fn render(env: &Env) -> String {
    let mut out = String::new();
    let store = &env.store;
    let documents = store.count_documents().await.unwrap_or(0);
    let indexed = env.index.num_docs();
    let unindexed = store.count_unindexed().await.unwrap_or(0);
    family(
        &mut out,
        "diembao_documents_stored",
        "gauge",
        "Documents in the database.",
    );
    let _ = writeln!(out, "diembao_documents_stored {documents}");
    family(
        &mut out,
        "diembao_documents_indexed",
        "gauge",
        "Documents visible in the search index.",
    );
    let _ = writeln!(out, "diembao_documents_indexed {indexed}");
    family(
        &mut out,
        "diembao_documents_unindexed",
        "gauge",
        "Stored documents waiting for the indexer.",
    );
    let _ = writeln!(out, "diembao_documents_unindexed {unindexed}");

    let by_status: Result<Vec<(String, i64)>, _> = candidates::Entity::find()
        .select_only()
        .column(candidates::Column::Status)
        .column_as(Expr::col(candidates::Column::Id).count(), "n")
        .group_by(candidates::Column::Status)
        .into_tuple()
        .all(store.db())
        .await;
    match by_status {
        Ok(rows) => {
            let open = rows
                .iter()
                .find(|(s, _)| s == diembao_store::candidate_status::OPEN)
                .map_or(0, |(_, n)| *n);
            family(
                &mut out,
                "diembao_candidates_open",
                "gauge",
                "Violation candidates waiting for a review.",
            );
            let _ = writeln!(out, "diembao_candidates_open {open}");
            family(
                &mut out,
                "diembao_candidates",
                "gauge",
                "Violation candidates per status.",
            );
            for (status, n) in rows {
                let _ = writeln!(
                    out,
                    "diembao_candidates{{status=\"{}\"}} {n}",
                    label(&status)
                );
            }
        }
        Err(err) => tracing::warn!(error = %err, "metrics: candidates unreadable"),
    }

    match jobs(&env.queue).await {
        Ok(rows) => {
            let mut queued: BTreeMap<String, i64> = BTreeMap::new();
            let mut failed: BTreeMap<String, i64> = BTreeMap::new();
            for name in [QUEUE_SOURCES, QUEUE_FETCH] {
                queued.insert(name.to_string(), 0);
                failed.insert(name.to_string(), 0);
            }
            for (queue, status, n) in &rows {
                match status.as_str() {
                    "Pending" | "Queued" | "Running" => {
                        *queued.entry(queue.clone()).or_default() += n
                    }
                    "Failed" | "Killed" => *failed.entry(queue.clone()).or_default() += n,
                    _ => {}
                }
            }
            family(
                &mut out,
                "diembao_jobs_queued",
                "gauge",
                "Jobs waiting or running, per queue.",
            );
            for (queue, n) in &queued {
                let _ = writeln!(out, "diembao_jobs_queued{{queue=\"{}\"}} {n}", label(queue));
            }
            family(
                &mut out,
                "diembao_jobs_failed",
                "gauge",
                "Jobs that failed (retrying or given up), per queue.",
            );
            for (queue, n) in &failed {
                let _ = writeln!(out, "diembao_jobs_failed{{queue=\"{}\"}} {n}", label(queue));
            }
            family(
                &mut out,
                "diembao_jobs",
                "gauge",
                "Jobs per queue and apalis status.",
            );
            for (queue, status, n) in &rows {
                let _ = writeln!(
                    out,
                    "diembao_jobs{{queue=\"{}\",status=\"{}\"}} {n}",
                    label(queue),
                    label(status)
                );
            }
        }
        Err(err) => tracing::warn!(error = %err, "metrics: job queue unreadable"),
    }

    let since = Utc::now() - chrono::Duration::hours(24);
    let fetches: Result<Vec<FetchCount>, _> = fetch_log::Entity::find()
        .select_only()
        .column(fetch_log::Column::Host)
        .column(fetch_log::Column::Status)
        .column(fetch_log::Column::Outcome)
        .column_as(Expr::col(fetch_log::Column::Id).count(), "n")
        .filter(fetch_log::Column::FetchedAt.gte(since))
        .group_by(fetch_log::Column::Host)
        .group_by(fetch_log::Column::Status)
        .group_by(fetch_log::Column::Outcome)
        .into_tuple()
        .all(store.db())
        .await;
    match fetches {
        Ok(rows) => {
            family(
                &mut out,
                "diembao_fetches_24h",
                "gauge",
                "HTTP fetches of the last 24 hours per host, status and outcome.",
            );
            for (host, status, outcome, n) in rows {
                let status = status.map_or_else(|| "none".to_string(), |s| s.to_string());
                let _ = writeln!(
                    out,
                    "diembao_fetches_24h{{host=\"{}\",status=\"{}\",outcome=\"{}\"}} {n}",
                    label(&host),
                    label(&status),
                    label(&outcome)
                );
            }
        }
        Err(err) => tracing::warn!(error = %err, "metrics: fetch log unreadable"),
    }

    let open_sources = store.sources().await.map(|s| {
        let now = Utc::now();
        (
            s.len(),
            s.iter()
                .filter(|s| diembao_store::health_alert(s, now).is_some())
                .count(),
        )
    });
    if let Ok((total, alerting)) = open_sources {
        family(&mut out, "diembao_sources", "gauge", "Configured sources.");
        let _ = writeln!(out, "diembao_sources {total}");
        family(
            &mut out,
            "diembao_sources_alerting",
            "gauge",
            "Sources failing or silent (see /sources).",
        );
        let _ = writeln!(out, "diembao_sources_alerting {alerting}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
