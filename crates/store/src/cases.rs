//! Case files for the police liaison: cases made of confirmed candidates, their
//! decisions (draft → approved → handed_over → acknowledged, or closed), and the
//! append-only, hash-chained custody log of each case.
//!
//! Custody chain: entry `seq` (1, 2, …) stores `prev_hash` (the `hash` of entry `seq - 1`,
//! or [`GENESIS_HASH`] for the first) and
//! `hash = SHA-256(JSON [prev_hash, seq, action, actor, item_id, item_sha256, detail, at])`,
//! lower-case hex, where the JSON array is written compactly (no spaces, UTF-8 unescaped,
//! `null` for a missing value) and `at` is RFC 3339 UTC with microseconds
//! (`2023-03-13T01:15:00.123456Z`). See [`custody_hash`].
//!
//! The `collected` entry of an item pins what was collected: its extracted text and
//! metadata ([`CollectedItem`], the entry's `detail`) and the SHA-256 of the raw capture
//! (`item_sha256`; the document's content hash when it came without a capture), so a
//! later re-crawl that changes the document does not change the evidence.
//! Every decision is also written to `audit_log`, in the same transaction.

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::entity::{
    audit_log, candidates, case_items, cases, custody_log, documents, matches, raw_captures,
    reviews, rule_sets, rule_versions, users,
};
use crate::{Store, StoreError, candidate_status};

pub type Case = cases::Model;
pub type CaseItem = case_items::Model;
pub type CustodyEntry = custody_log::Model;
pub type RawCapture = raw_captures::Model;
pub type Review = reviews::Model;

/// The `prev_hash` of a case's first custody entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Case status values.
pub mod case_status {
    pub const DRAFT: &str = "draft";
    pub const APPROVED: &str = "approved";
    pub const HANDED_OVER: &str = "handed_over";
    pub const ACKNOWLEDGED: &str = "acknowledged";
    pub const CLOSED: &str = "closed";
}

/// Custody log actions.
pub mod custody_action {
    pub const COLLECTED: &str = "collected";
    pub const REVIEWED: &str = "reviewed";
    pub const APPROVED: &str = "approved";
    pub const EXPORTED: &str = "exported";
    pub const HANDED_OVER: &str = "handed_over";
    pub const DOWNLOADED: &str = "downloaded";
    pub const ACKNOWLEDGED: &str = "acknowledged";
    pub const CLOSED: &str = "closed";
}

/// A custody time as it is hashed: RFC 3339, UTC, microseconds, `Z`.
pub fn custody_time(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// The hash of a custody entry (see the module docs for the exact bytes hashed).
#[allow(clippy::too_many_arguments)]
pub fn custody_hash(
    prev_hash: &str,
    seq: i64,
    action: &str,
    actor: &str,
    item_id: Option<i64>,
    item_sha256: Option<&str>,
    detail: Option<&str>,
    at: &str,
) -> String {
    let fields = serde_json::json!([
        prev_hash,
        seq,
        action,
        actor,
        item_id,
        item_sha256,
        detail,
        at
    ]);
    hex::encode(Sha256::digest(fields.to_string().as_bytes()))
}

/// A custody entry as it is exported (`custody.json`) and verified.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustodyRecord {
    pub seq: i64,
    pub action: String,
    pub actor: String,
    pub item_id: Option<i64>,
    pub item_sha256: Option<String>,
    pub detail: Option<String>,
    pub at: String,
    pub prev_hash: String,
    pub hash: String,
}

impl CustodyRecord {
    pub fn from_entry(entry: &CustodyEntry) -> Self {
        Self {
            seq: i64::from(entry.seq),
            action: entry.action.clone(),
            actor: entry.actor.clone(),
            item_id: entry.item_id,
            item_sha256: entry.item_sha256.clone(),
            detail: entry.detail.clone(),
            at: custody_time(&entry.at),
            prev_hash: entry.prev_hash.clone(),
            hash: entry.hash.clone(),
        }
    }

    /// The hash this entry's contents give.
    pub fn computed_hash(&self) -> String {
        custody_hash(
            &self.prev_hash,
            self.seq,
            &self.action,
            &self.actor,
            self.item_id,
            self.item_sha256.as_deref(),
            self.detail.as_deref(),
            &self.at,
        )
    }

    /// The detail parsed as JSON (`null` when absent or not JSON).
    pub fn detail_json(&self) -> serde_json::Value {
        self.detail
            .as_deref()
            .and_then(|d| serde_json::from_str(d).ok())
            .unwrap_or(serde_json::Value::Null)
    }
}

/// Checks a custody chain; returns one line per entry that does not check out (empty: ok).
///
/// Each entry must hash to its `hash`, link by `prev_hash` to the entry of the previous
/// `seq` (the genesis hash for seq 1), come after that entry, and no seq may be missing.
pub fn verify_chain(entries: &[CustodyRecord]) -> Vec<String> {
    use std::collections::BTreeMap;
    let mut problems = Vec::new();
    if entries.is_empty() {
        problems.push("custody log: no entries".to_string());
        return problems;
    }
    let mut by_seq: BTreeMap<i64, &CustodyRecord> = BTreeMap::new();
    for entry in entries {
        if by_seq.insert(entry.seq, entry).is_some() {
            problems.push(format!(
                "custody entry seq {}: appears more than once",
                entry.seq
            ));
        }
    }
    let max = by_seq.keys().next_back().copied().unwrap_or(0);
    for seq in 1..=max {
        if !by_seq.contains_key(&seq) {
            problems.push(format!(
                "custody entry seq {seq}: missing (removed from the log)"
            ));
        }
    }
    let mut previous: Option<&CustodyRecord> = None;
    for entry in entries {
        let mut reasons = Vec::new();
        if entry.seq < 1 {
            reasons.push("seq is not a positive number".to_string());
        }
        if let Some(prev) = previous
            && entry.seq <= prev.seq
        {
            reasons.push(format!("out of order (listed after seq {})", prev.seq));
        }
        let expected_prev = if entry.seq == 1 {
            Some(GENESIS_HASH)
        } else {
            by_seq.get(&(entry.seq - 1)).map(|p| p.hash.as_str())
        };
        if let Some(expected) = expected_prev
            && entry.prev_hash != expected
        {
            reasons.push(if entry.seq == 1 {
                "prev_hash is not the genesis hash".to_string()
            } else {
                format!("prev_hash does not match the hash of seq {}", entry.seq - 1)
            });
        }
        if entry.computed_hash() != entry.hash {
            reasons.push(
                "hash does not match the entry's contents (changed after it was written)"
                    .to_string(),
            );
        }
        if !reasons.is_empty() {
            problems.push(format!(
                "custody entry seq {} ({} by {}): {}",
                entry.seq,
                entry.action,
                entry.actor,
                reasons.join("; ")
            ));
        }
        previous = Some(entry);
    }
    problems
}

/// What the `collected` entry of an item pins: the extracted text and metadata as collected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectedItem {
    pub candidate_id: i64,
    pub document_id: i64,
    pub capture_id: Option<i64>,
    pub capture_sha256: Option<String>,
    pub url: String,
    pub canonical_url: String,
    pub title: String,
    pub source: Option<String>,
    pub author: Option<String>,
    pub kind: String,
    pub lang: Option<String>,
    pub published_at: Option<String>,
    pub fetched_at: String,
    pub content_hash: String,
    pub text_sha256: String,
    pub text: String,
}

/// Input of [`Store::create_case`].
#[derive(Debug, Clone)]
pub struct NewCase<'a> {
    pub title: &'a str,
    pub summary: Option<&'a str>,
    pub legal_basis: Option<&'a str>,
    pub candidates: &'a [i64],
    pub reviewer: &'a str,
}

/// One rule that fired on an item, with the rule version it came from.
#[derive(Debug, Clone, Serialize)]
pub struct EvidenceMatch {
    pub rule_id: String,
    pub category: String,
    pub severity: String,
    pub rule_version_id: i64,
    pub rule_set: Option<String>,
    pub rule_version: Option<i32>,
    pub rule_version_sha256: Option<String>,
    pub terms: serde_json::Value,
    pub offsets: serde_json::Value,
    pub matched_at: String,
    pub closed_at: Option<String>,
}

/// Everything the case file says about one item.
#[derive(Debug, Clone)]
pub struct ItemEvidence {
    pub item: CaseItem,
    pub candidate: crate::Candidate,
    /// As pinned by the item's `collected` custody entry.
    pub collected: CollectedItem,
    /// The raw capture pinned at collection (None: the document came without one).
    pub capture: Option<RawCapture>,
    pub matches: Vec<EvidenceMatch>,
    pub reviews: Vec<Review>,
}

fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn invalid(message: impl Into<String>) -> StoreError {
    StoreError::Invalid(message.into())
}

/// Appends one custody entry (inside the caller's transaction, which holds the write lock).
#[allow(clippy::too_many_arguments)]
async fn push_custody<C: ConnectionTrait>(
    db: &C,
    case_id: i64,
    action: &str,
    actor: &str,
    item_id: Option<i64>,
    item_sha256: Option<&str>,
    detail: Option<String>,
    at: DateTime<Utc>,
) -> Result<CustodyEntry, StoreError> {
    let last = custody_log::Entity::find()
        .filter(custody_log::Column::CaseId.eq(case_id))
        .order_by_desc(custody_log::Column::Seq)
        .one(db)
        .await?;
    let (seq, prev_hash) = match last {
        Some(last) => (last.seq + 1, last.hash),
        None => (1, GENESIS_HASH.to_string()),
    };
    let hash = custody_hash(
        &prev_hash,
        i64::from(seq),
        action,
        actor,
        item_id,
        item_sha256,
        detail.as_deref(),
        &custody_time(&at),
    );
    Ok(custody_log::ActiveModel {
        case_id: Set(case_id),
        seq: Set(seq),
        action: Set(action.to_string()),
        actor: Set(actor.to_string()),
        item_id: Set(item_id),
        item_sha256: Set(item_sha256.map(str::to_string)),
        detail: Set(detail),
        prev_hash: Set(prev_hash),
        hash: Set(hash),
        at: Set(at),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

async fn audit_case<C: ConnectionTrait>(
    db: &C,
    actor: &str,
    action: &str,
    case_id: i64,
    detail: serde_json::Value,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    audit_log::ActiveModel {
        actor: Set(actor.to_string()),
        action: Set(action.to_string()),
        object_type: Set("case".into()),
        object_id: Set(Some(case_id)),
        detail: Set(Some(detail)),
        at: Set(at),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The enabled reviewer and admin accounts.
async fn reviewer_accounts<C: ConnectionTrait>(db: &C) -> Result<Vec<users::Model>, StoreError> {
    Ok(users::Entity::find()
        .filter(users::Column::Role.is_in(["reviewer", "admin"]))
        .filter(users::Column::Disabled.eq(false))
        .all(db)
        .await?)
}

/// A named reviewer: when reviewer or admin accounts exist, it must be one of them.
/// Returns how many reviewer/admin accounts exist.
async fn check_reviewer<C: ConnectionTrait>(
    db: &C,
    name: &str,
    what: &str,
) -> Result<usize, StoreError> {
    if name.trim().is_empty() {
        return Err(invalid(format!("{what} needs a named reviewer")));
    }
    let accounts = reviewer_accounts(db).await?;
    if !accounts.is_empty() && !accounts.iter().any(|u| u.name == name) {
        return Err(invalid(format!(
            "`{name}` is not a reviewer or admin account ({what})"
        )));
    }
    Ok(accounts.len())
}

/// The case, locked for update (PostgreSQL; SQLite's write transaction already is exclusive).
async fn locked_case<C: ConnectionTrait>(db: &C, id: i64) -> Result<Case, StoreError> {
    cases::Entity::find_by_id(id)
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or_else(|| invalid(format!("no case {id}")))
}

async fn set_status<C: ConnectionTrait>(
    db: &C,
    case: Case,
    status: &str,
    update: impl FnOnce(&mut cases::ActiveModel),
    at: DateTime<Utc>,
) -> Result<Case, StoreError> {
    let mut active: cases::ActiveModel = case.into();
    active.status = Set(status.to_string());
    active.updated_at = Set(at);
    update(&mut active);
    Ok(active.update(db).await?)
}

impl Store {
    /// Opens a case (draft) from confirmed candidates, pinning each item in the custody
    /// log (`collected`, then `reviewed` with the reviewer's decision).
    pub async fn create_case(&self, new: &NewCase<'_>) -> Result<Case, StoreError> {
        let title = new.title.trim();
        if title.is_empty() {
            return Err(invalid("a case needs a title"));
        }
        if new.candidates.is_empty() {
            return Err(invalid("a case needs at least one candidate"));
        }
        let mut ids: Vec<i64> = Vec::new();
        for id in new.candidates {
            if !ids.contains(id) {
                ids.push(*id);
            }
        }
        let txn = self.begin_write().await?;
        check_reviewer(&txn, new.reviewer, "opening a case").await?;
        let at = now();
        let mut items = Vec::new();
        for id in &ids {
            let candidate = candidates::Entity::find_by_id(*id)
                .one(&txn)
                .await?
                .ok_or_else(|| invalid(format!("no candidate {id}")))?;
            if candidate.status != candidate_status::CONFIRMED {
                return Err(invalid(format!(
                    "candidate {id} is {}, not confirmed: a case holds only candidates a reviewer confirmed",
                    candidate.status
                )));
            }
            let document = documents::Entity::find_by_id(candidate.document_id)
                .one(&txn)
                .await?
                .ok_or_else(|| {
                    invalid(format!(
                        "candidate {id}: its document {} is gone",
                        candidate.document_id
                    ))
                })?;
            let capture = match document.raw_capture_id {
                Some(capture_id) => {
                    raw_captures::Entity::find_by_id(capture_id)
                        .one(&txn)
                        .await?
                }
                None => None,
            };
            let review = reviews::Entity::find()
                .filter(reviews::Column::CandidateId.eq(*id))
                .filter(reviews::Column::Decision.eq("confirm"))
                .order_by_desc(reviews::Column::Id)
                .one(&txn)
                .await?;
            items.push((candidate, document, capture, review));
        }
        let case = cases::ActiveModel {
            title: Set(title.to_string()),
            summary: Set(new
                .summary
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)),
            legal_basis: Set(new
                .legal_basis
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)),
            status: Set(case_status::DRAFT.to_string()),
            created_by: Set(new.reviewer.to_string()),
            approved_by: Set(None),
            approval_note: Set(None),
            handed_to: Set(None),
            created_at: Set(at),
            updated_at: Set(at),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        for (candidate, document, capture, review) in &items {
            case_items::ActiveModel {
                case_id: Set(case.id),
                candidate_id: Set(candidate.id),
                document_id: Set(document.id),
                added_at: Set(at),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            let collected = CollectedItem {
                candidate_id: candidate.id,
                document_id: document.id,
                capture_id: capture.as_ref().map(|c| c.id),
                capture_sha256: capture.as_ref().map(|c| c.sha256.clone()),
                url: document.url.clone(),
                canonical_url: document.canonical_url.clone(),
                title: document.title.clone(),
                source: document.source_name.clone(),
                author: document.author.clone(),
                kind: document.kind.clone(),
                lang: document.lang.clone(),
                published_at: crate::published_with_offset(document).map(|p| p.to_rfc3339()),
                fetched_at: document
                    .fetched_at
                    .to_rfc3339_opts(SecondsFormat::Secs, true),
                content_hash: document.content_hash.clone(),
                text_sha256: sha256_hex(document.text.as_bytes()),
                text: document.text.clone(),
            };
            let item_sha = capture
                .as_ref()
                .map_or_else(|| document.content_hash.clone(), |c| c.sha256.clone());
            let detail = serde_json::to_string(&collected).map_err(|e| invalid(e.to_string()))?;
            push_custody(
                &txn,
                case.id,
                custody_action::COLLECTED,
                new.reviewer,
                Some(candidate.id),
                Some(&item_sha),
                Some(detail),
                at,
            )
            .await?;
            let detail = match review {
                Some(r) => {
                    serde_json::json!({"decision": r.decision, "note": r.note, "reviewed_at": custody_time(&r.created_at), "review_id": r.id})
                }
                None => {
                    serde_json::json!({"decision": "confirm", "note": null, "reviewed_at": null})
                }
            };
            let actor = review
                .as_ref()
                .map_or(new.reviewer, |r| r.reviewer.as_str());
            push_custody(
                &txn,
                case.id,
                custody_action::REVIEWED,
                actor,
                Some(candidate.id),
                Some(&item_sha),
                Some(detail.to_string()),
                at,
            )
            .await?;
        }
        audit_case(
            &txn,
            new.reviewer,
            "case.create",
            case.id,
            serde_json::json!({"title": title, "candidates": ids}),
            at,
        )
        .await?;
        txn.commit().await?;
        Ok(case)
    }

    /// Approves a draft case. The approver must not be its creator when more than one
    /// reviewer or admin account exists; a note is required.
    pub async fn approve_case(
        &self,
        id: i64,
        reviewer: &str,
        note: &str,
    ) -> Result<Case, StoreError> {
        if note.trim().is_empty() {
            return Err(invalid("an approval needs a note (--note)"));
        }
        let txn = self.begin_write().await?;
        let reviewers = check_reviewer(&txn, reviewer, "approving a case").await?;
        let case = locked_case(&txn, id).await?;
        if case.status != case_status::DRAFT {
            return Err(invalid(format!(
                "case {id} is {}: only a draft case can be approved",
                case.status
            )));
        }
        if reviewers > 1 && case.created_by == reviewer {
            return Err(invalid(format!(
                "case {id} was opened by {reviewer}: another reviewer must approve it"
            )));
        }
        let at = now();
        let detail =
            serde_json::json!({"note": note, "from": case.status, "to": case_status::APPROVED});
        push_custody(
            &txn,
            id,
            custody_action::APPROVED,
            reviewer,
            None,
            None,
            Some(detail.to_string()),
            at,
        )
        .await?;
        audit_case(&txn, reviewer, "case.approve", id, detail, at).await?;
        let case = set_status(
            &txn,
            case,
            case_status::APPROVED,
            |a| {
                a.approved_by = Set(Some(reviewer.to_string()));
                a.approval_note = Set(Some(note.to_string()));
            },
            at,
        )
        .await?;
        txn.commit().await?;
        Ok(case)
    }

    /// Hands an approved case over to a liaison account.
    pub async fn hand_over_case(&self, id: i64, to: &str, actor: &str) -> Result<Case, StoreError> {
        let txn = self.begin_write().await?;
        let case = locked_case(&txn, id).await?;
        if case.status != case_status::APPROVED {
            return Err(invalid(format!(
                "case {id} is {}: a case is handed over only once approved",
                case.status
            )));
        }
        let liaison = users::Entity::find()
            .filter(users::Column::Name.eq(to))
            .one(&txn)
            .await?;
        match liaison {
            Some(user) if user.role == "liaison" && !user.disabled => {}
            Some(user) if user.disabled => {
                return Err(invalid(format!("account `{to}` is disabled")));
            }
            Some(user) => {
                return Err(invalid(format!(
                    "`{to}` is a {} account, not a liaison",
                    user.role
                )));
            }
            None => {
                return Err(invalid(format!(
                    "no account `{to}` (add it with: diembao users add {to} --role liaison)"
                )));
            }
        }
        let at = now();
        let detail = serde_json::json!({"to": to, "from": case.status});
        push_custody(
            &txn,
            id,
            custody_action::HANDED_OVER,
            actor,
            None,
            None,
            Some(detail.to_string()),
            at,
        )
        .await?;
        audit_case(&txn, actor, "case.handover", id, detail, at).await?;
        let case = set_status(
            &txn,
            case,
            case_status::HANDED_OVER,
            |a| a.handed_to = Set(Some(to.to_string())),
            at,
        )
        .await?;
        txn.commit().await?;
        Ok(case)
    }

    /// The liaison the case was handed to acknowledges receipt.
    pub async fn acknowledge_case(&self, id: i64, by: &str) -> Result<Case, StoreError> {
        let txn = self.begin_write().await?;
        let case = locked_case(&txn, id).await?;
        if case.status != case_status::HANDED_OVER {
            return Err(invalid(format!(
                "case {id} is {}: only a handed-over case can be acknowledged",
                case.status
            )));
        }
        if case.handed_to.as_deref() != Some(by) {
            return Err(invalid(format!(
                "case {id} was handed to {}, not to {by}",
                case.handed_to.as_deref().unwrap_or("nobody")
            )));
        }
        let at = now();
        let detail = serde_json::json!({"from": case.status});
        push_custody(
            &txn,
            id,
            custody_action::ACKNOWLEDGED,
            by,
            None,
            None,
            Some(detail.to_string()),
            at,
        )
        .await?;
        audit_case(&txn, by, "case.acknowledge", id, detail, at).await?;
        let case = set_status(&txn, case, case_status::ACKNOWLEDGED, |_| {}, at).await?;
        txn.commit().await?;
        Ok(case)
    }

    /// Closes a case (from any status but closed), with a note.
    pub async fn close_case(
        &self,
        id: i64,
        reviewer: &str,
        note: &str,
    ) -> Result<Case, StoreError> {
        if note.trim().is_empty() {
            return Err(invalid("closing a case needs a note (--note)"));
        }
        let txn = self.begin_write().await?;
        check_reviewer(&txn, reviewer, "closing a case").await?;
        let case = locked_case(&txn, id).await?;
        if case.status == case_status::CLOSED {
            return Err(invalid(format!("case {id} is already closed")));
        }
        let at = now();
        let detail = serde_json::json!({"note": note, "from": case.status});
        push_custody(
            &txn,
            id,
            custody_action::CLOSED,
            reviewer,
            None,
            None,
            Some(detail.to_string()),
            at,
        )
        .await?;
        audit_case(&txn, reviewer, "case.close", id, detail, at).await?;
        let case = set_status(&txn, case, case_status::CLOSED, |_| {}, at).await?;
        txn.commit().await?;
        Ok(case)
    }

    /// Appends a custody entry that changes no status (`exported`, `downloaded`), and its
    /// audit record.
    pub async fn append_custody(
        &self,
        case_id: i64,
        action: &str,
        actor: &str,
        detail: serde_json::Value,
    ) -> Result<CustodyEntry, StoreError> {
        let txn = self.begin_write().await?;
        locked_case(&txn, case_id).await?;
        let at = now();
        let entry = push_custody(
            &txn,
            case_id,
            action,
            actor,
            None,
            None,
            Some(detail.to_string()),
            at,
        )
        .await?;
        audit_case(&txn, actor, &format!("case.{action}"), case_id, detail, at).await?;
        txn.commit().await?;
        Ok(entry)
    }

    pub async fn case(&self, id: i64) -> Result<Option<Case>, StoreError> {
        Ok(cases::Entity::find_by_id(id).one(self.db()).await?)
    }

    /// Cases, newest first; only those handed to `handed_to` when given.
    pub async fn cases(&self, handed_to: Option<&str>) -> Result<Vec<Case>, StoreError> {
        let mut query = cases::Entity::find();
        if let Some(to) = handed_to {
            query = query.filter(cases::Column::HandedTo.eq(to));
        }
        Ok(query
            .order_by_desc(cases::Column::Id)
            .all(self.db())
            .await?)
    }

    pub async fn case_items(&self, case_id: i64) -> Result<Vec<CaseItem>, StoreError> {
        Ok(case_items::Entity::find()
            .filter(case_items::Column::CaseId.eq(case_id))
            .order_by_asc(case_items::Column::Id)
            .all(self.db())
            .await?)
    }

    pub async fn custody_log(&self, case_id: i64) -> Result<Vec<CustodyEntry>, StoreError> {
        Ok(custody_log::Entity::find()
            .filter(custody_log::Column::CaseId.eq(case_id))
            .order_by_asc(custody_log::Column::Seq)
            .all(self.db())
            .await?)
    }

    /// Each item of a case with what the case file needs about it.
    pub async fn case_evidence(&self, case_id: i64) -> Result<Vec<ItemEvidence>, StoreError> {
        let items = self.case_items(case_id).await?;
        let custody = self.custody_log(case_id).await?;
        let mut out = Vec::new();
        for item in items {
            let candidate = candidates::Entity::find_by_id(item.candidate_id)
                .one(self.db())
                .await?
                .ok_or_else(|| {
                    invalid(format!(
                        "case {case_id}: candidate {} is gone",
                        item.candidate_id
                    ))
                })?;
            let entry = custody
                .iter()
                .find(|e| {
                    e.action == custody_action::COLLECTED && e.item_id == Some(item.candidate_id)
                })
                .ok_or_else(|| {
                    invalid(format!(
                        "case {case_id}: no `collected` custody entry for candidate {}",
                        item.candidate_id
                    ))
                })?;
            let collected: CollectedItem =
                serde_json::from_str(entry.detail.as_deref().unwrap_or("")).map_err(|e| {
                    invalid(format!("case {case_id}: custody entry {}: {e}", entry.seq))
                })?;
            let capture = match collected.capture_id {
                Some(id) => raw_captures::Entity::find_by_id(id).one(self.db()).await?,
                None => None,
            };
            let rows = matches::Entity::find()
                .filter(matches::Column::DocumentId.eq(item.document_id))
                .order_by_asc(matches::Column::Id)
                .all(self.db())
                .await?;
            let mut evidence_matches = Vec::new();
            for row in rows {
                let version = rule_versions::Entity::find_by_id(row.rule_version_id)
                    .one(self.db())
                    .await?;
                let set = match &version {
                    Some(v) => {
                        rule_sets::Entity::find_by_id(v.rule_set_id)
                            .one(self.db())
                            .await?
                    }
                    None => None,
                };
                evidence_matches.push(EvidenceMatch {
                    rule_id: row.rule_id,
                    category: row.category,
                    severity: row.severity,
                    rule_version_id: row.rule_version_id,
                    rule_set: set.map(|s| s.name),
                    rule_version: version.as_ref().map(|v| v.version),
                    rule_version_sha256: version.map(|v| v.sha256),
                    terms: row.terms,
                    offsets: row.offsets,
                    matched_at: custody_time(&row.created_at),
                    closed_at: row.closed_at.as_ref().map(custody_time),
                });
            }
            let reviews = reviews::Entity::find()
                .filter(reviews::Column::CandidateId.eq(item.candidate_id))
                .order_by_asc(reviews::Column::Id)
                .all(self.db())
                .await?;
            out.push(ItemEvidence {
                item,
                candidate,
                collected,
                capture,
                matches: evidence_matches,
                reviews,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(seq: i64, prev: &str, action: &str) -> CustodyRecord {
        let mut r = CustodyRecord {
            seq,
            action: action.into(),
            actor: "lan".into(),
            item_id: Some(3),
            item_sha256: Some("ab".repeat(32)),
            detail: Some("{\"ghi chú\":\"rõ\"}".into()),
            at: "2023-03-13T01:15:00.123456Z".into(),
            prev_hash: prev.into(),
            hash: String::new(),
        };
        r.hash = r.computed_hash();
        r
    }

    #[test]
    fn the_chain_names_a_dropped_reordered_or_changed_entry() {
        let a = record(1, GENESIS_HASH, "collected");
        let b = record(2, &a.hash, "reviewed");
        let c = record(3, &b.hash, "approved");
        assert!(verify_chain(&[a.clone(), b.clone(), c.clone()]).is_empty());
        let dropped = verify_chain(&[a.clone(), c.clone()]);
        assert_eq!(dropped.len(), 1, "{dropped:?}");
        assert!(dropped[0].contains("seq 2: missing"), "{dropped:?}");
        let swapped = verify_chain(&[a.clone(), c.clone(), b.clone()]);
        assert_eq!(swapped.len(), 1, "{swapped:?}");
        assert!(
            swapped[0].contains("seq 2") && swapped[0].contains("out of order"),
            "{swapped:?}"
        );
        let mut changed = b.clone();
        changed.actor = "minh".into();
        let problems = verify_chain(&[a, changed, c]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("contents"), "{problems:?}");
    }

    #[test]
    fn the_hash_is_over_the_documented_json_array() {
        let expected = hex::encode(Sha256::digest(
            format!("[\"{GENESIS_HASH}\",1,\"approved\",\"lan\",null,null,\"x\",\"2023-03-13T01:15:00.000000Z\"]").as_bytes(),
        ));
        assert_eq!(
            custody_hash(
                GENESIS_HASH,
                1,
                "approved",
                "lan",
                None,
                None,
                Some("x"),
                "2023-03-13T01:15:00.000000Z"
            ),
            expected
        );
    }
}
