//! Rule sets and their versions, matches, violation candidates and reviews.
//!
//! A rule set is versioned: importing changed rules adds a version and makes it active.
//! Matches record the rule version that fired; re-tagging adds the matches of the active
//! version and closes those of retired versions. A document with open matches is one
//! candidate; a dismissed candidate is reopened only when a new rule version matches
//! terms in it that no reviewer has seen yet.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Utc;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::Serialize;

use crate::entity::{audit_log, candidates, matches, reviews, rule_sets, rule_versions};
use crate::{Store, StoreError};

pub type Candidate = candidates::Model;
pub type RuleVersion = rule_versions::Model;
pub type MatchRow = matches::Model;

/// One rule firing on one document, as the tagger found it.
#[derive(Debug, Clone, Serialize)]
pub struct NewMatch {
    pub rule_id: String,
    pub category: String,
    pub severity: String,
    pub terms: Vec<String>,
    pub offsets: serde_json::Value,
}

/// Severity order: high > medium > low.
pub fn severity_rank(severity: &str) -> u8 {
    match severity {
        "high" => 3,
        "medium" => 2,
        "low" => 1,
        _ => 0,
    }
}

/// Candidate status values.
pub mod candidate_status {
    pub const OPEN: &str = "open";
    pub const CONFIRMED: &str = "confirmed";
    pub const DISMISSED: &str = "dismissed";
}

#[derive(Debug, Clone, Default)]
pub struct CandidateFilter {
    pub status: Option<String>,
    pub category: Option<String>,
    pub severity: Option<String>,
    pub source: Option<String>,
    pub assignee: Option<String>,
}

impl Store {
    /// Stores `toml` as a new version of the rule set `name` when it differs from the
    /// active one. Returns the active version and whether it is new.
    pub async fn import_rule_version(
        &self,
        name: &str,
        toml: &str,
        sha256: &str,
        actor: &str,
    ) -> Result<(RuleVersion, bool), StoreError> {
        let txn = self.begin_write().await?;
        let now = Utc::now();
        let set = match rule_sets::Entity::find()
            .filter(rule_sets::Column::Name.eq(name))
            .one(&txn)
            .await?
        {
            Some(set) => set,
            None => {
                rule_sets::ActiveModel {
                    name: Set(name.to_string()),
                    active_version_id: Set(None),
                    created_at: Set(now),
                    ..Default::default()
                }
                .insert(&txn)
                .await?
            }
        };
        if let Some(active_id) = set.active_version_id
            && let Some(active) = rule_versions::Entity::find_by_id(active_id)
                .one(&txn)
                .await?
            && active.sha256 == sha256
        {
            txn.commit().await?;
            return Ok((active, false));
        }
        let last = rule_versions::Entity::find()
            .filter(rule_versions::Column::RuleSetId.eq(set.id))
            .order_by_desc(rule_versions::Column::Version)
            .one(&txn)
            .await?
            .map_or(0, |v| v.version);
        let version = rule_versions::ActiveModel {
            rule_set_id: Set(set.id),
            version: Set(last + 1),
            source_toml: Set(toml.to_string()),
            sha256: Set(sha256.to_string()),
            imported_by: Set(Some(actor.to_string())),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let set_id = set.id;
        let mut active: rule_sets::ActiveModel = set.into();
        active.active_version_id = Set(Some(version.id));
        active.update(&txn).await?;
        audit_log::ActiveModel {
            actor: Set(actor.to_string()),
            action: Set("rules.import".into()),
            object_type: Set("rule_version".into()),
            object_id: Set(Some(version.id)),
            detail: Set(Some(serde_json::json!({"rule_set": name, "rule_set_id": set_id, "version": version.version, "sha256": sha256}))),
            at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        Ok((version, true))
    }

    /// The active version of every rule set.
    pub async fn active_rule_versions(&self) -> Result<Vec<RuleVersion>, StoreError> {
        let ids = self.active_rule_version_ids().await?;
        self.rule_versions_by_ids(&ids).await
    }

    /// The ids of the active rule versions (one per rule set that has one), ascending:
    /// whether the compiled rules are still the active ones, without reading the rules.
    pub async fn active_rule_version_ids(&self) -> Result<Vec<i64>, StoreError> {
        let sets = rule_sets::Entity::find().all(self.db()).await?;
        let mut ids: Vec<i64> = sets.iter().filter_map(|s| s.active_version_id).collect();
        ids.sort_unstable();
        Ok(ids)
    }

    /// The rule versions of these ids (those that exist), in no particular order.
    pub async fn rule_versions_by_ids(&self, ids: &[i64]) -> Result<Vec<RuleVersion>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(rule_versions::Entity::find()
            .filter(rule_versions::Column::Id.is_in(ids.iter().copied()))
            .all(self.db())
            .await?)
    }

    pub async fn rule_versions(&self) -> Result<Vec<RuleVersion>, StoreError> {
        Ok(rule_versions::Entity::find()
            .order_by_asc(rule_versions::Column::Id)
            .all(self.db())
            .await?)
    }

    /// Records the matches of the active rule versions on a document (closing those of
    /// versions no longer active), and brings its candidate up to date. Idempotent.
    /// Returns the candidate id when the document is (still) a candidate, and whether it
    /// was newly opened (for alerts).
    pub async fn record_matches(
        &self,
        document_id: i64,
        active_versions: &[i64],
        found: &[(i64, NewMatch)],
    ) -> Result<Option<(i64, bool)>, StoreError> {
        let txn = self.begin_write().await?;
        let result = record_matches_on(&txn, document_id, active_versions, found).await?;
        txn.commit().await?;
        Ok(result)
    }

    pub async fn candidate(&self, id: i64) -> Result<Option<Candidate>, StoreError> {
        Ok(candidates::Entity::find_by_id(id).one(self.db()).await?)
    }

    /// Candidates, most severe first, then newest.
    pub async fn candidates(
        &self,
        filter: &CandidateFilter,
    ) -> Result<Vec<(Candidate, crate::Document)>, StoreError> {
        let mut query = candidates::Entity::find();
        if let Some(status) = &filter.status {
            query = query.filter(candidates::Column::Status.eq(status.clone()));
        }
        if let Some(severity) = &filter.severity {
            query = query.filter(candidates::Column::Severity.eq(severity.clone()));
        }
        if let Some(assignee) = &filter.assignee {
            query = query.filter(candidates::Column::Assignee.eq(assignee.clone()));
        }
        let rows = query.all(self.db()).await?;
        let ids: Vec<i64> = rows.iter().map(|c| c.document_id).collect();
        let docs = self.documents_by_ids(&ids).await?;
        let docs: BTreeMap<i64, crate::Document> = docs.into_iter().map(|d| (d.id, d)).collect();
        let mut out: Vec<(Candidate, crate::Document)> = rows
            .into_iter()
            .filter_map(|c| docs.get(&c.document_id).cloned().map(|d| (c, d)))
            .filter(|(c, d)| {
                filter
                    .category
                    .as_ref()
                    .is_none_or(|cat| json_strings(&c.categories).contains(cat))
                    && filter
                        .source
                        .as_ref()
                        .is_none_or(|s| d.source_name.as_deref() == Some(s.as_str()))
            })
            .collect();
        out.sort_by(|(a, da), (b, db)| {
            severity_rank(&b.severity)
                .cmp(&severity_rank(&a.severity))
                .then_with(|| {
                    db.published_at
                        .unwrap_or(db.fetched_at)
                        .cmp(&da.published_at.unwrap_or(da.fetched_at))
                })
                .then_with(|| b.id.cmp(&a.id))
        });
        Ok(out)
    }

    /// A reviewer's decision, recorded in the reviews and the audit log.
    pub async fn review_candidate(
        &self,
        id: i64,
        decision: &str,
        reviewer: &str,
        note: Option<&str>,
    ) -> Result<Candidate, StoreError> {
        let status = match decision {
            "confirm" => candidate_status::CONFIRMED,
            "dismiss" => candidate_status::DISMISSED,
            other => {
                return Err(StoreError::Invalid(format!(
                    "unknown decision `{other}` (confirm or dismiss)"
                )));
            }
        };
        if reviewer.trim().is_empty() {
            return Err(StoreError::Invalid(
                "a decision needs a named reviewer".into(),
            ));
        }
        let txn = self.begin_write().await?;
        let now = Utc::now();
        let candidate = candidates::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or_else(|| StoreError::Invalid(format!("no candidate {id}")))?;
        reviews::ActiveModel {
            candidate_id: Set(id),
            decision: Set(decision.to_string()),
            reviewer: Set(reviewer.to_string()),
            note: Set(note.map(str::to_string)),
            terms: Set(candidate.terms.clone()),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        audit_log::ActiveModel {
            actor: Set(reviewer.to_string()),
            action: Set(format!("candidate.{decision}")),
            object_type: Set("candidate".into()),
            object_id: Set(Some(id)),
            detail: Set(Some(serde_json::json!({"from": candidate.status, "to": status, "note": note, "document_id": candidate.document_id}))),
            at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let mut active: candidates::ActiveModel = candidate.into();
        active.status = Set(status.to_string());
        active.updated_at = Set(now);
        let updated = active.update(&txn).await?;
        txn.commit().await?;
        Ok(updated)
    }

    /// Assigns a candidate to a reviewer (audit-logged).
    pub async fn assign_candidate(
        &self,
        id: i64,
        assignee: Option<&str>,
        actor: &str,
    ) -> Result<Candidate, StoreError> {
        let txn = self.begin_write().await?;
        let candidate = candidates::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or_else(|| StoreError::Invalid(format!("no candidate {id}")))?;
        audit_log::ActiveModel {
            actor: Set(actor.to_string()),
            action: Set("candidate.assign".into()),
            object_type: Set("candidate".into()),
            object_id: Set(Some(id)),
            detail: Set(Some(
                serde_json::json!({"from": candidate.assignee, "to": assignee}),
            )),
            at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let mut active: candidates::ActiveModel = candidate.into();
        active.assignee = Set(assignee.map(str::to_string));
        active.updated_at = Set(Utc::now());
        let updated = active.update(&txn).await?;
        txn.commit().await?;
        Ok(updated)
    }

    /// The review status of the candidates of these documents.
    pub async fn candidate_statuses(
        &self,
        document_ids: &[i64],
    ) -> Result<std::collections::HashMap<i64, String>, StoreError> {
        if document_ids.is_empty() {
            return Ok(Default::default());
        }
        Ok(candidates::Entity::find()
            .filter(candidates::Column::DocumentId.is_in(document_ids.iter().copied()))
            .all(self.db())
            .await?
            .into_iter()
            .map(|c| (c.document_id, c.status))
            .collect())
    }

    /// Open high-severity candidates whose alert has not gone out yet.
    pub async fn unalerted_candidates(
        &self,
    ) -> Result<Vec<(Candidate, crate::Document)>, StoreError> {
        let rows = candidates::Entity::find()
            .filter(candidates::Column::Status.eq(candidate_status::OPEN))
            .filter(candidates::Column::Severity.eq("high"))
            .filter(candidates::Column::AlertedAt.is_null())
            .order_by_asc(candidates::Column::Id)
            .all(self.db())
            .await?;
        let ids: Vec<i64> = rows.iter().map(|c| c.document_id).collect();
        let docs: BTreeMap<i64, crate::Document> = self
            .documents_by_ids(&ids)
            .await?
            .into_iter()
            .map(|d| (d.id, d))
            .collect();
        Ok(rows
            .into_iter()
            .filter_map(|c| docs.get(&c.document_id).cloned().map(|d| (c, d)))
            .collect())
    }

    pub async fn mark_alerted(&self, ids: &[i64]) -> Result<(), StoreError> {
        candidates::Entity::update_many()
            .col_expr(candidates::Column::AlertedAt, Expr::value(Utc::now()))
            .filter(candidates::Column::Id.is_in(ids.iter().copied()))
            .exec(self.db())
            .await?;
        Ok(())
    }

    /// Open matches of a document (for its tags and the document view).
    pub async fn open_matches(&self, document_ids: &[i64]) -> Result<Vec<MatchRow>, StoreError> {
        if document_ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(matches::Entity::find()
            .filter(matches::Column::DocumentId.is_in(document_ids.iter().copied()))
            .filter(matches::Column::ClosedAt.is_null())
            .order_by_asc(matches::Column::Id)
            .all(self.db())
            .await?)
    }

    /// Ids of documents, in pages, for re-tagging the archive.
    pub async fn document_ids_after(&self, after: i64, limit: u64) -> Result<Vec<i64>, StoreError> {
        use sea_orm::QuerySelect;
        Ok(crate::entity::documents::Entity::find()
            .select_only()
            .column(crate::entity::documents::Column::Id)
            .filter(crate::entity::documents::Column::Id.gt(after))
            .order_by_asc(crate::entity::documents::Column::Id)
            .limit(limit)
            .into_tuple()
            .all(self.db())
            .await?)
    }
}

fn json_strings(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

async fn update_candidate<C: sea_orm::ConnectionTrait>(
    db: &C,
    document_id: i64,
    found: &[(i64, NewMatch)],
) -> Result<Option<(i64, bool)>, StoreError> {
    let now = Utc::now();
    let existing = candidates::Entity::find()
        .filter(candidates::Column::DocumentId.eq(document_id))
        .one(db)
        .await?;
    if found.is_empty() {
        // Nothing fires any more: an open candidate that nobody judged goes away; decided
        // ones stay as the record of a decision.
        if let Some(c) = existing
            && c.status == candidate_status::OPEN
        {
            candidates::Entity::delete_by_id(c.id).exec(db).await?;
        }
        return Ok(None);
    }
    let summary = CandidateSummary::of(found);
    match existing {
        None => {
            let row = new_candidate_row(document_id, summary, now);
            let inserted = candidates::Entity::insert(row)
                .on_conflict(
                    OnConflict::column(candidates::Column::DocumentId)
                        .do_nothing()
                        .to_owned(),
                )
                .exec_without_returning(db)
                .await?;
            let row = candidates::Entity::find()
                .filter(candidates::Column::DocumentId.eq(document_id))
                .one(db)
                .await?
                .ok_or_else(|| StoreError::Invalid("candidate vanished".into()))?;
            Ok(Some((row.id, inserted > 0)))
        }
        Some(c) => {
            let seen: BTreeSet<String> = if c.status == candidate_status::DISMISSED {
                let decided = reviews::Entity::find()
                    .filter(reviews::Column::CandidateId.eq(c.id))
                    .all(db)
                    .await?;
                decided
                    .iter()
                    .flat_map(|r| json_strings(&r.terms))
                    .collect()
            } else {
                BTreeSet::new()
            };
            let reopen = c.status == candidate_status::DISMISSED
                && summary.terms.iter().any(|t| !seen.contains(t));
            let id = c.id;
            let mut active: candidates::ActiveModel = c.into();
            active.severity = Set(summary.severity);
            active.categories = Set(serde_json::json!(summary.categories));
            active.rules = Set(serde_json::json!(summary.rules));
            active.terms = Set(serde_json::json!(summary.terms));
            if reopen {
                active.status = Set(candidate_status::OPEN.into());
            }
            active.updated_at = Set(now);
            active.update(db).await?;
            Ok(Some((id, reopen)))
        }
    }
}

/// What a candidate says of the matches on its document.
struct CandidateSummary {
    severity: String,
    categories: BTreeSet<String>,
    rules: BTreeSet<String>,
    terms: Vec<String>,
}

impl CandidateSummary {
    fn of(found: &[(i64, NewMatch)]) -> Self {
        let rules = found.iter().map(|(_, m)| m.rule_id.clone()).collect();
        let categories = found.iter().map(|(_, m)| m.category.clone()).collect();
        let mut terms: Vec<String> = Vec::new();
        for (_, m) in found {
            for t in &m.terms {
                if !terms.contains(t) {
                    terms.push(t.clone());
                }
            }
        }
        let severity = found
            .iter()
            .map(|(_, m)| m.severity.as_str())
            .max_by_key(|s| severity_rank(s))
            .unwrap_or("low")
            .to_string();
        Self {
            severity,
            categories,
            rules,
            terms,
        }
    }
}

fn new_candidate_row(
    document_id: i64,
    summary: CandidateSummary,
    now: chrono::DateTime<Utc>,
) -> candidates::ActiveModel {
    candidates::ActiveModel {
        document_id: Set(document_id),
        status: Set(candidate_status::OPEN.into()),
        severity: Set(summary.severity),
        categories: Set(serde_json::json!(summary.categories)),
        rules: Set(serde_json::json!(summary.rules)),
        terms: Set(serde_json::json!(summary.terms)),
        assignee: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        alerted_at: Set(None),
        ..Default::default()
    }
}

fn new_match_row(
    document_id: i64,
    version_id: i64,
    m: &NewMatch,
    now: chrono::DateTime<Utc>,
) -> matches::ActiveModel {
    matches::ActiveModel {
        document_id: Set(document_id),
        rule_version_id: Set(version_id),
        rule_id: Set(m.rule_id.clone()),
        category: Set(m.category.clone()),
        severity: Set(m.severity.clone()),
        terms: Set(serde_json::json!(m.terms)),
        offsets: Set(m.offsets.clone()),
        created_at: Set(now),
        closed_at: Set(None),
        ..Default::default()
    }
}

/// The matches of documents stored for the first time in this transaction (they have no
/// matches nor candidate yet, so nothing is read or closed): all their matches in one
/// statement, their candidates in another. Returns the candidate each document with
/// matches opened, by document id. The documents' `tagged_at` is the caller's to set.
pub async fn record_new_matches_on<C: sea_orm::ConnectionTrait>(
    txn: &C,
    found: &[(i64, &[(i64, NewMatch)])],
) -> Result<std::collections::HashMap<i64, i64>, StoreError> {
    use sea_orm::QueryTrait;
    let now = Utc::now();
    let found: Vec<&(i64, &[(i64, NewMatch)])> =
        found.iter().filter(|(_, m)| !m.is_empty()).collect();
    if found.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    let rows = found.iter().flat_map(|(document_id, matches)| {
        matches
            .iter()
            .map(move |(version_id, m)| new_match_row(*document_id, *version_id, m, now))
    });
    matches::Entity::insert_many(rows)
        .exec_without_returning(txn)
        .await?;
    let rows = found.iter().map(|(document_id, matches)| {
        new_candidate_row(*document_id, CandidateSummary::of(matches), now)
    });
    let insert = candidates::Entity::insert_many(rows).into_query();
    let opened = crate::queries::inserted_ids(txn, insert, "document_id").await?;
    match found
        .iter()
        .find(|(document_id, _)| !opened.contains_key(document_id))
    {
        Some((document_id, _)) => Err(StoreError::Invalid(format!(
            "candidate of document {document_id} not inserted"
        ))),
        None => Ok(opened),
    }
}

/// [`Store::record_matches`] inside a transaction the caller commits (the crawler writes a
/// page, its document and its matches in one transaction).
pub async fn record_matches_on<C: sea_orm::ConnectionTrait>(
    txn: &C,
    document_id: i64,
    active_versions: &[i64],
    found: &[(i64, NewMatch)],
) -> Result<Option<(i64, bool)>, StoreError> {
    let now = Utc::now();
    // Close the open matches of retired versions, and of active versions that no longer fire.
    let open = matches::Entity::find()
        .filter(matches::Column::DocumentId.eq(document_id))
        .filter(matches::Column::ClosedAt.is_null())
        .all(txn)
        .await?;
    for row in &open {
        let still = active_versions.contains(&row.rule_version_id)
            && found
                .iter()
                .any(|(v, m)| *v == row.rule_version_id && m.rule_id == row.rule_id);
        if !still {
            matches::Entity::update_many()
                .col_expr(matches::Column::ClosedAt, Expr::value(now))
                .filter(matches::Column::Id.eq(row.id))
                .exec(txn)
                .await?;
        }
    }
    for (version_id, m) in found {
        let exists = open
            .iter()
            .any(|row| row.rule_version_id == *version_id && row.rule_id == m.rule_id);
        if exists {
            continue;
        }
        let active = new_match_row(document_id, *version_id, m, now);
        // A closed match of the same version reopened by a re-tag: replace it.
        matches::Entity::delete_many()
            .filter(matches::Column::DocumentId.eq(document_id))
            .filter(matches::Column::RuleVersionId.eq(*version_id))
            .filter(matches::Column::RuleId.eq(m.rule_id.clone()))
            .exec(txn)
            .await?;
        matches::Entity::insert(active)
            .on_conflict(
                OnConflict::columns([
                    matches::Column::DocumentId,
                    matches::Column::RuleVersionId,
                    matches::Column::RuleId,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
    }
    let result = update_candidate(txn, document_id, found).await?;
    crate::queries::mark_tagged_on(txn, document_id, now).await?;
    Ok(result)
}
