//! Tagging: the active rule versions evaluated on a document at ingest, and the whole
//! archive re-tagged when a rule set changes. Every match records the rule version.

use std::sync::Arc;

use chrono::Utc;
use tokio::sync::RwLock;

use diembao_core::rules::{DocFields, RuleSet, parse_rules};
use diembao_store::NewMatch;

use crate::JobError;
use crate::env::Env;

/// The compiled active rule versions, reloaded when the set of versions changes.
#[derive(Default)]
pub struct RuleCache {
    compiled: RwLock<Option<Arc<Compiled>>>,
}

pub struct Compiled {
    pub version_ids: Vec<i64>,
    pub sets: Vec<(i64, RuleSet)>,
}

/// The matches of compiled rule sets on one document (stored or not yet), with the
/// version that fired.
pub fn evaluate<'a>(compiled: &Compiled, doc: impl Into<DocFields<'a>>) -> Vec<(i64, NewMatch)> {
    evaluate_fields(compiled, &doc.into())
}

/// Logs a candidate the write just opened (after its commit: a rolled-back batch that
/// is written again would otherwise log it twice).
pub(crate) fn log_opened(candidate: Option<(i64, bool)>, document_id: i64) {
    if let Some((candidate, true)) = candidate {
        tracing::info!(candidate, document = document_id, "new violation candidate");
    }
}

fn evaluate_fields(compiled: &Compiled, fields: &DocFields<'_>) -> Vec<(i64, NewMatch)> {
    let mut found = Vec::new();
    for (version_id, set) in &compiled.sets {
        for m in set.evaluate(fields) {
            let offsets = serde_json::Value::Array(
                m.offsets
                    .iter()
                    .map(|(field, start, end)| serde_json::json!([field.as_str(), start, end]))
                    .collect(),
            );
            found.push((
                *version_id,
                NewMatch {
                    rule_id: m.rule,
                    category: m.category,
                    severity: m.severity.as_str().to_string(),
                    terms: m.terms,
                    offsets,
                },
            ));
        }
    }
    found
}

impl Env {
    /// The active rules, compiled (cached until a rule set gets a new version).
    pub async fn active_rules(&self) -> Result<Arc<Compiled>, JobError> {
        // Every fetch job asks: the ids alone tell whether the compiled rules are still
        // the active ones (the rules themselves are read only when they are not).
        let ids = self.store.active_rule_version_ids().await?;
        if let Some(compiled) = self.rules.compiled.read().await.as_ref()
            && compiled.version_ids == ids
        {
            return Ok(compiled.clone());
        }
        let versions = self.store.rule_versions_by_ids(&ids).await?;
        // The versions actually read (one removed since the ids were taken is not among
        // them): pages are marked tagged with these.
        let mut ids: Vec<i64> = versions.iter().map(|v| v.id).collect();
        ids.sort_unstable();
        let mut sets = Vec::with_capacity(versions.len());
        for version in &versions {
            match parse_rules(&version.source_toml) {
                Ok(set) => sets.push((version.id, set)),
                Err(err) => {
                    tracing::error!(version = version.id, error = %err, "stored rule version does not parse; skipped")
                }
            }
        }
        let compiled = Arc::new(Compiled {
            version_ids: ids,
            sets,
        });
        *self.rules.compiled.write().await = Some(compiled.clone());
        Ok(compiled)
    }

    /// Tags one document with the active rules; returns the candidate id if it is one.
    pub async fn tag_document(&self, document_id: i64) -> Result<Option<i64>, JobError> {
        let Some(doc) = self.store.document(document_id).await? else {
            return Ok(None);
        };
        let compiled = self.active_rules().await?;
        let found = evaluate(&compiled, &doc);
        let before: Vec<String> = self
            .store
            .open_matches(&[document_id])
            .await?
            .into_iter()
            .map(|m| m.rule_id)
            .collect();
        if found.is_empty() && before.is_empty() {
            // Nothing fired and nothing was open: no write beyond the first "tagged" mark
            // (a re-tag of the archive writes only where something changed).
            if doc.tagged_at.is_none() {
                self.store.mark_tagged(document_id).await?;
            }
            return Ok(None);
        }
        let candidate = self
            .store
            .record_matches(document_id, &compiled.version_ids, &found)
            .await?;
        let mut after: Vec<String> = found.iter().map(|(_, m)| m.rule_id.clone()).collect();
        after.sort();
        after.dedup();
        let mut before_sorted = before;
        before_sorted.sort();
        before_sorted.dedup();
        if after != before_sorted {
            // The tags are in the index: have it picked up again.
            self.store.mark_unindexed(&[document_id]).await?;
            self.stored.notify_one();
        }
        log_opened(candidate, document_id);
        Ok(candidate.map(|(id, _)| id))
    }

    /// Re-tags every stored document with the active rules (after `rules import`).
    pub async fn retag_all(&self, progress: impl Fn(u64, u64)) -> Result<u64, JobError> {
        let total = self.store.count_documents().await?;
        let mut after = 0;
        let mut done = 0;
        loop {
            let ids = self.store.document_ids_after(after, 500).await?;
            let Some(last) = ids.last() else { break };
            after = *last;
            for id in ids {
                self.tag_document(id).await?;
                done += 1;
            }
            progress(done, total);
        }
        tracing::info!(done, at = %Utc::now(), "archive re-tagged");
        Ok(done)
    }
}
