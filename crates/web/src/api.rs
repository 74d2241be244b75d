//! The JSON API behind every page, and the data loading the pages share with it.
//!
//! Every handler checks the role first ([`require`]); every state change is audit-logged
//! (by the store, or here) and needs the session's CSRF token (see `csrf_guard`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;
use serde_json::{Value, json};

use diembao_store::entity::{candidates, documents, raw_captures, rule_sets};
use diembao_store::{
    Candidate, CandidateFilter, Document, MatchRow, Source, StoreError, published_with_offset,
};

use crate::auth::{self, Action};
use crate::{AppState, Viewer, require};

/// Why a request could not be served.
#[derive(Debug)]
pub(crate) enum Failure {
    NotFound(String),
    Bad(String),
    /// A service the app depends on (the mail server) failed.
    Upstream(String),
    /// Logged where it happened; the user is told no more.
    Internal,
}

impl Failure {
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Bad(_) => StatusCode::BAD_REQUEST,
            Self::Upstream(_) => StatusCode::BAD_GATEWAY,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What the user is told (internal details stay in the log).
    pub(crate) fn message(&self) -> &str {
        match self {
            Self::NotFound(m) | Self::Bad(m) | Self::Upstream(m) => m,
            Self::Internal => "internal error",
        }
    }

    pub(crate) fn json(&self) -> Response {
        (self.status(), Json(json!({"error": self.message()}))).into_response()
    }
}

impl From<StoreError> for Failure {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Invalid(message) => Self::Bad(message),
            other => {
                tracing::error!(error = %other, "database error");
                Self::Internal
            }
        }
    }
}

impl From<sea_orm::DbErr> for Failure {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::from(StoreError::from(err))
    }
}

pub(crate) fn internal(err: impl std::fmt::Display) -> Failure {
    tracing::error!(error = %err, "request failed");
    Failure::Internal
}

/// Parses a numeric id from a path segment (after the role check, so that anonymous
/// requests get 401 whatever the path).
pub(crate) fn parse_id(text: &str) -> Result<i64, Failure> {
    text.parse::<i64>()
        .map_err(|_| Failure::NotFound(format!("no such id `{text}`")))
}

fn time(at: Option<chrono::DateTime<Utc>>) -> Value {
    at.map_or(Value::Null, |t| Value::String(t.to_rfc3339()))
}

// ---------------------------------------------------------------- documents

/// How a near-duplicate relates to the document shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Relation {
    SameContent,
    SyndicatedCopy,
    SyndicatedFrom,
}

impl Relation {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::SameContent => "same_content",
            Self::SyndicatedCopy => "syndicated_copy",
            Self::SyndicatedFrom => "syndicated_from",
        }
    }
}

pub(crate) struct DocumentDetail {
    pub doc: Document,
    pub matches: Vec<MatchRow>,
    pub candidate: Option<Candidate>,
    pub capture: Option<raw_captures::Model>,
    pub near: Vec<(Document, Relation)>,
}

pub(crate) async fn load_document(state: &AppState, id: i64) -> Result<DocumentDetail, Failure> {
    let store = &state.env.store;
    let doc = store
        .document(id)
        .await?
        .ok_or_else(|| Failure::NotFound(format!("no document {id}")))?;
    let matches = store.open_matches(&[id]).await?;
    let candidate = candidates::Entity::find()
        .filter(candidates::Column::DocumentId.eq(id))
        .one(store.db())
        .await?;
    let capture = match doc.raw_capture_id {
        Some(capture_id) => {
            raw_captures::Entity::find_by_id(capture_id)
                .one(store.db())
                .await?
        }
        None => None,
    };
    // Near-duplicates that cost one indexed lookup: the same text elsewhere, and the
    // syndication links in both directions.
    let mut any = Condition::any()
        .add(documents::Column::ContentHash.eq(doc.content_hash.clone()))
        .add(documents::Column::SyndicatedFromId.eq(id));
    if let Some(from) = doc.syndicated_from_id {
        any = any.add(documents::Column::Id.eq(from));
    }
    let near = documents::Entity::find()
        .filter(documents::Column::Id.ne(id))
        .filter(any)
        .order_by_asc(documents::Column::Id)
        .limit(20)
        .all(store.db())
        .await?
        .into_iter()
        .map(|d| {
            let relation = if Some(d.id) == doc.syndicated_from_id {
                Relation::SyndicatedFrom
            } else if d.syndicated_from_id == Some(id) {
                Relation::SyndicatedCopy
            } else {
                Relation::SameContent
            };
            (d, relation)
        })
        .collect();
    Ok(DocumentDetail {
        doc,
        matches,
        candidate,
        capture,
        near,
    })
}

pub(crate) fn doc_summary(doc: &Document) -> Value {
    json!({
        "id": doc.id,
        "title": doc.title,
        "url": doc.url,
        "source": doc.source_name,
        "kind": doc.kind,
        "published_at": published_with_offset(doc).map(|d| d.to_rfc3339()),
        "fetched_at": doc.fetched_at.to_rfc3339(),
    })
}

fn match_json(m: &MatchRow) -> Value {
    json!({
        "rule_id": m.rule_id,
        "category": m.category,
        "severity": m.severity,
        "terms": m.terms,
        "offsets": m.offsets,
        "rule_version_id": m.rule_version_id,
    })
}

fn document_json(detail: &DocumentDetail) -> Value {
    let doc = &detail.doc;
    json!({
        "id": doc.id,
        "url": doc.url,
        "canonical_url": doc.canonical_url,
        "title": doc.title,
        "text": doc.text,
        "author": doc.author,
        "source": doc.source_name,
        "kind": doc.kind,
        "lang": doc.lang,
        "published_at": published_with_offset(doc).map(|d| d.to_rfc3339()),
        "fetched_at": doc.fetched_at.to_rfc3339(),
        "syndicated_from_url": doc.syndicated_from_url,
        "capture": detail.capture.as_ref().map(|c| json!({
            "id": c.id,
            "status": c.status,
            "content_type": c.content_type,
            "sha256": c.sha256,
            "size": c.size,
            "captured_at": c.captured_at.to_rfc3339(),
            "href": format!("/documents/{}/capture", doc.id),
        })),
        "matches": detail.matches.iter().map(match_json).collect::<Vec<_>>(),
        "candidate": detail.candidate.as_ref().map(candidate_json),
        "near_duplicates": detail.near.iter().map(|(d, relation)| {
            let mut v = doc_summary(d);
            v["relation"] = json!(relation.as_str());
            v
        }).collect::<Vec<_>>(),
    })
}

pub(crate) async fn api_document(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(refused) = require(&state, &headers, Action::Read, true).await {
        return refused;
    }
    let result = async { load_document(&state, parse_id(&id)?).await }.await;
    match result {
        Ok(detail) => Json(document_json(&detail)).into_response(),
        Err(failure) => failure.json(),
    }
}

// ---------------------------------------------------------------- candidates

/// Filters of the review queue (query string of `/review` and `/api/candidates`).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct CandidateQuery {
    /// `open` (the default), `confirmed`, `dismissed` or `all`.
    pub status: Option<String>,
    pub severity: Option<String>,
    pub category: Option<String>,
    pub source: Option<String>,
    pub assignee: Option<String>,
    /// `1`: only the candidates assigned to the viewer.
    pub mine: Option<String>,
    pub limit: Option<usize>,
    pub offset: Option<usize>,
    /// The queue position to select (after a decision: the next candidate).
    pub at: Option<usize>,
}

fn nonempty(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

impl CandidateQuery {
    pub(crate) fn status(&self) -> String {
        nonempty(&self.status).unwrap_or_else(|| "open".into())
    }

    pub(crate) fn mine(&self) -> bool {
        matches!(self.mine.as_deref(), Some("1" | "true" | "on"))
    }

    fn filter(&self, viewer: &Viewer) -> CandidateFilter {
        let status = self.status();
        CandidateFilter {
            status: (status != "all").then_some(status),
            category: nonempty(&self.category),
            severity: nonempty(&self.severity),
            source: nonempty(&self.source),
            assignee: if self.mine() {
                Some(viewer.name.clone())
            } else {
                nonempty(&self.assignee)
            },
        }
    }

    /// The filters as a query string (for links and the redirect after a decision).
    pub(crate) fn query_string(&self, at: Option<usize>) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.append_pair("status", &self.status());
        for (name, value) in [
            ("severity", &self.severity),
            ("category", &self.category),
            ("source", &self.source),
            ("assignee", &self.assignee),
        ] {
            if let Some(value) = nonempty(value) {
                query.append_pair(name, &value);
            }
        }
        if self.mine() {
            query.append_pair("mine", "1");
        }
        if let Some(at) = at {
            query.append_pair("at", &at.to_string());
        }
        query.finish()
    }
}

pub(crate) struct CandidatePage {
    pub total: usize,
    pub rows: Vec<(Candidate, Document)>,
}

pub(crate) async fn load_candidates(
    state: &AppState,
    viewer: &Viewer,
    query: &CandidateQuery,
) -> Result<CandidatePage, Failure> {
    let all = state.env.store.candidates(&query.filter(viewer)).await?;
    let total = all.len();
    let offset = query.offset.unwrap_or(0);
    let limit = query.limit.unwrap_or(100).clamp(1, 500);
    Ok(CandidatePage {
        total,
        rows: all.into_iter().skip(offset).take(limit).collect(),
    })
}

pub(crate) fn candidate_json(candidate: &Candidate) -> Value {
    json!({
        "id": candidate.id,
        "document_id": candidate.document_id,
        "status": candidate.status,
        "severity": candidate.severity,
        "categories": candidate.categories,
        "rules": candidate.rules,
        "terms": candidate.terms,
        "assignee": candidate.assignee,
        "created_at": candidate.created_at.to_rfc3339(),
        "updated_at": candidate.updated_at.to_rfc3339(),
    })
}

pub(crate) async fn api_candidates(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<CandidateQuery>,
) -> Response {
    let viewer = match require(&state, &headers, Action::Read, true).await {
        Ok(viewer) => viewer,
        Err(refused) => return refused,
    };
    match load_candidates(&state, &viewer, &query).await {
        Ok(page) => {
            let rows: Vec<Value> = page
                .rows
                .iter()
                .map(|(c, d)| {
                    let mut v = candidate_json(c);
                    v["document"] = doc_summary(d);
                    v
                })
                .collect();
            Json(json!({"total": page.total, "candidates": rows})).into_response()
        }
        Err(failure) => failure.json(),
    }
}

/// Records a reviewer's decision on a candidate.
pub(crate) async fn decide(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    decision: &str,
    note: Option<&str>,
) -> Result<Candidate, Failure> {
    if !matches!(decision, "confirm" | "dismiss") {
        return Err(Failure::Bad(format!(
            "unknown decision `{decision}` (confirm or dismiss)"
        )));
    }
    let note: Option<String> = note
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| n.chars().take(2000).collect());
    if state.env.store.candidate(id).await?.is_none() {
        return Err(Failure::NotFound(format!("no candidate {id}")));
    }
    Ok(state
        .env
        .store
        .review_candidate(id, decision, &viewer.name, note.as_deref())
        .await?)
}

/// Assigns a candidate to `assignee` (an existing account), or to nobody.
pub(crate) async fn assign(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    assignee: Option<&str>,
) -> Result<Candidate, Failure> {
    if state.env.store.candidate(id).await?.is_none() {
        return Err(Failure::NotFound(format!("no candidate {id}")));
    }
    if let Some(name) = assignee
        && name != viewer.name
    {
        let user = state.env.store.user_by_name(name).await?;
        if !user.is_some_and(|u| !u.disabled && auth::allowed(&u.role, Action::Review)) {
            return Err(Failure::Bad(format!("`{name}` is not a reviewer")));
        }
    }
    Ok(state
        .env
        .store
        .assign_candidate(id, assignee, &viewer.name)
        .await?)
}

#[derive(Deserialize)]
struct ReviewBody {
    decision: String,
    #[serde(default)]
    note: Option<String>,
}

fn parse_json<T: serde::de::DeserializeOwned + Default>(
    body: &Bytes,
    required: bool,
) -> Result<T, Failure> {
    if body.iter().all(u8::is_ascii_whitespace) && !required {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| Failure::Bad(format!("bad JSON body: {e}")))
}

fn parse_json_required<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, Failure> {
    serde_json::from_slice(body).map_err(|e| Failure::Bad(format!("bad JSON body: {e}")))
}

pub(crate) async fn api_review(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let viewer = match require(&state, &headers, Action::Review, true).await {
        Ok(viewer) => viewer,
        Err(refused) => return refused,
    };
    let result = async {
        let id = parse_id(&id)?;
        let body: ReviewBody = parse_json_required(&body)?;
        decide(&state, &viewer, id, &body.decision, body.note.as_deref()).await
    }
    .await;
    match result {
        Ok(candidate) => Json(candidate_json(&candidate)).into_response(),
        Err(failure) => failure.json(),
    }
}

#[derive(Default, Deserialize)]
struct AssignBody {
    /// The account to assign to; absent: the caller.
    #[serde(default)]
    assignee: Option<String>,
    /// `true`: assign to nobody.
    #[serde(default)]
    unassign: bool,
}

pub(crate) async fn api_assign(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let viewer = match require(&state, &headers, Action::Review, true).await {
        Ok(viewer) => viewer,
        Err(refused) => return refused,
    };
    let result = async {
        let id = parse_id(&id)?;
        let body: AssignBody = parse_json(&body, false)?;
        let assignee = if body.unassign {
            None
        } else {
            Some(body.assignee.unwrap_or_else(|| viewer.name.clone()))
        };
        assign(&state, &viewer, id, assignee.as_deref()).await
    }
    .await;
    match result {
        Ok(candidate) => Json(candidate_json(&candidate)).into_response(),
        Err(failure) => failure.json(),
    }
}

// ---------------------------------------------------------------- digests

pub(crate) fn digest_json(row: &diembao_store::DigestRow) -> Value {
    json!({
        "period": row.period,
        "from": row.from_date.to_string(),
        "to": row.to_date.to_string(),
        "built_at": row.built_at.to_rfc3339(),
        "total": row.content.get("total").cloned().unwrap_or(Value::Null),
        "href": format!("/digests/{}", row.period),
    })
}

pub(crate) async fn api_digests(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(refused) = require(&state, &headers, Action::Read, true).await {
        return refused;
    }
    match state.env.store.digests().await {
        Ok(rows) => Json(Value::Array(rows.iter().map(digest_json).collect())).into_response(),
        Err(err) => Failure::from(err).json(),
    }
}

pub(crate) async fn api_digest(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(period): Path<String>,
) -> Response {
    if let Err(refused) = require(&state, &headers, Action::Read, true).await {
        return refused;
    }
    match state.env.store.digest(&period).await {
        Ok(Some(row)) => {
            let mut v = digest_json(&row);
            v["content"] = row.content.clone();
            Json(v).into_response()
        }
        Ok(None) => Failure::NotFound(format!("no digest {period}")).json(),
        Err(err) => Failure::from(err).json(),
    }
}

/// Mails the digest of a period now (to the recipients who do not have it yet).
pub(crate) async fn send_digest(
    state: &AppState,
    viewer: &Viewer,
    period: &str,
) -> Result<Vec<diembao_jobs::DeliveryReport>, Failure> {
    let parsed =
        diembao_core::digest::Period::parse(period).map_err(|e| Failure::Bad(e.to_string()))?;
    state
        .env
        .store
        .audit(
            &viewer.name,
            "digest.send",
            "digest",
            None,
            json!({"period": period}),
        )
        .await?;
    state
        .env
        .send_digest(&parsed)
        .await
        .map_err(|e| Failure::Upstream(e.to_string()))
}

pub(crate) async fn api_send_digest(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(period): Path<String>,
) -> Response {
    let viewer = match require(&state, &headers, Action::Admin, true).await {
        Ok(viewer) => viewer,
        Err(refused) => return refused,
    };
    match send_digest(&state, &viewer, &period).await {
        Ok(reports) => Json(json!({"period": period, "deliveries": reports})).into_response(),
        Err(failure) => failure.json(),
    }
}

// ---------------------------------------------------------------- sources

pub(crate) fn source_json(source: &Source) -> Value {
    json!({
        "id": source.id,
        "name": source.name,
        "kind": source.kind,
        "url": source.url,
        "every_secs": source.every_secs,
        "link_selector": source.link_selector,
        "enabled": source.enabled,
        "last_run_at": time(source.last_run_at),
        "last_success_at": time(source.last_success_at),
        "last_error_at": time(source.last_error_at),
        "last_error": source.last_error,
        "consecutive_failures": source.consecutive_failures,
        "documents_total": source.documents_total,
        "last_document_at": time(source.last_document_at),
        "alert": diembao_store::health_alert(source, Utc::now()),
    })
}

/// A source as entered in the form or posted to the API.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct SourceForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub every: Option<String>,
    #[serde(default)]
    pub link_selector: Option<String>,
}

/// Validates a source exactly as `sources.toml` is validated, then stores it.
pub(crate) async fn add_source(
    state: &AppState,
    viewer: &Viewer,
    form: &SourceForm,
) -> Result<(i64, diembao_store::Upsert), Failure> {
    // A TOML basic string accepts every escape serde_json writes.
    let quote = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let mut text = format!(
        "[[source]]\nname = {}\nkind = {}\nurl = {}\n",
        quote(&form.name),
        quote(&form.kind),
        quote(&form.url)
    );
    if let Some(every) = nonempty(&form.every) {
        text.push_str(&format!("every = {}\n", quote(&every)));
    }
    if let Some(selector) = nonempty(&form.link_selector) {
        text.push_str(&format!("link_selector = {}\n", quote(&selector)));
    }
    let parsed = diembao_core::source::parse_sources(&text);
    if let Some(err) = parsed.errors.first() {
        return Err(Failure::Bad(err.message.clone()));
    }
    let spec = parsed
        .sources
        .first()
        .ok_or_else(|| Failure::Bad("empty source".into()))?;
    let (id, outcome) = state.env.store.upsert_source(spec).await?;
    state
        .env
        .store
        .audit(
            &viewer.name,
            "source.upsert",
            "source",
            Some(id),
            json!({"name": spec.name, "url": spec.url, "outcome": outcome}),
        )
        .await?;
    Ok((id, outcome))
}

pub(crate) async fn api_sources(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(refused) = require(&state, &headers, Action::Read, true).await {
        return refused;
    }
    match state.env.store.sources().await {
        Ok(rows) => Json(Value::Array(rows.iter().map(source_json).collect())).into_response(),
        Err(err) => Failure::from(err).json(),
    }
}

pub(crate) async fn api_add_source(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let viewer = match require(&state, &headers, Action::Admin, true).await {
        Ok(viewer) => viewer,
        Err(refused) => return refused,
    };
    let result = async {
        let form: SourceForm = parse_json_required(&body)?;
        add_source(&state, &viewer, &form).await
    }
    .await;
    match result {
        Ok((id, outcome)) => Json(json!({"id": id, "outcome": outcome})).into_response(),
        Err(failure) => failure.json(),
    }
}

// ---------------------------------------------------------------- rules

pub(crate) struct RuleVersionRow {
    pub version: diembao_store::RuleVersion,
    /// The name of its rule set (the file name it was imported from).
    pub set: String,
    pub active: bool,
}

pub(crate) async fn load_rule_versions(state: &AppState) -> Result<Vec<RuleVersionRow>, Failure> {
    let active: Vec<i64> = state
        .env
        .store
        .active_rule_versions()
        .await?
        .iter()
        .map(|v| v.id)
        .collect();
    let sets: std::collections::HashMap<i64, String> = rule_sets::Entity::find()
        .all(state.env.store.db())
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    let mut rows: Vec<RuleVersionRow> = state
        .env
        .store
        .rule_versions()
        .await?
        .into_iter()
        .map(|version| RuleVersionRow {
            active: active.contains(&version.id),
            set: sets.get(&version.rule_set_id).cloned().unwrap_or_default(),
            version,
        })
        .collect();
    rows.reverse();
    Ok(rows)
}

fn rule_version_json(row: &RuleVersionRow) -> Value {
    let v = &row.version;
    json!({
        "id": v.id,
        "rule_set_id": v.rule_set_id,
        "rule_set": row.set,
        "version": v.version,
        "sha256": v.sha256,
        "imported_by": v.imported_by,
        "created_at": v.created_at.to_rfc3339(),
        "active": row.active,
        "source_toml": v.source_toml,
    })
}

/// How many of the most recent documents a rule test looks at.
pub(crate) const RULE_TEST_DOCUMENTS: u64 = 200;
/// The largest rules file a rule test accepts.
const RULE_TEST_MAX_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub(crate) struct RuleTestHit {
    pub document: Document,
    pub rule: String,
    pub category: String,
    pub severity: String,
    pub terms: Vec<String>,
}

pub(crate) struct RuleTest {
    pub documents: usize,
    pub rules: usize,
    pub hits: Vec<RuleTestHit>,
}

/// Evaluates a `rules.toml` snippet against the most recent documents. Stores nothing.
pub(crate) async fn test_rules(state: &AppState, toml: &str) -> Result<RuleTest, Failure> {
    if toml.len() > RULE_TEST_MAX_BYTES {
        return Err(Failure::Bad(format!(
            "the rules are longer than {RULE_TEST_MAX_BYTES} bytes"
        )));
    }
    let set = diembao_core::rules::parse_rules(toml).map_err(|e| Failure::Bad(e.to_string()))?;
    let docs = documents::Entity::find()
        .order_by_desc(documents::Column::Id)
        .limit(RULE_TEST_DOCUMENTS)
        .all(state.env.store.db())
        .await?;
    tokio::task::spawn_blocking(move || {
        let mut hits = Vec::new();
        for doc in &docs {
            for m in set.evaluate(&doc.into()) {
                hits.push(RuleTestHit {
                    document: doc.clone(),
                    rule: m.rule,
                    category: m.category,
                    severity: m.severity.as_str().to_string(),
                    terms: m.terms,
                });
            }
        }
        RuleTest {
            documents: docs.len(),
            rules: set.len(),
            hits,
        }
    })
    .await
    .map_err(internal)
}

pub(crate) async fn api_rules(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(refused) = require(&state, &headers, Action::Read, true).await {
        return refused;
    }
    match load_rule_versions(&state).await {
        Ok(rows) => {
            Json(Value::Array(rows.iter().map(rule_version_json).collect())).into_response()
        }
        Err(failure) => failure.json(),
    }
}

#[derive(Deserialize)]
struct RuleTestBody {
    toml: String,
}

pub(crate) async fn api_test_rules(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refused) = require(&state, &headers, Action::Review, true).await {
        return refused;
    }
    let result = async {
        let body: RuleTestBody = parse_json_required(&body)?;
        test_rules(&state, &body.toml).await
    }
    .await;
    match result {
        Ok(test) => {
            let hits: Vec<Value> = test
                .hits
                .iter()
                .map(|h| {
                    json!({
                        "document": doc_summary(&h.document),
                        "rule": h.rule,
                        "category": h.category,
                        "severity": h.severity,
                        "terms": h.terms,
                    })
                })
                .collect();
            Json(json!({"documents": test.documents, "rules": test.rules, "hits": hits}))
                .into_response()
        }
        Err(failure) => failure.json(),
    }
}

// ---------------------------------------------------------------- users

/// An account as entered in the form or posted to the API.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct UserForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub password: String,
}

/// The shortest password accepted (as `diembao users add`).
pub(crate) const MIN_PASSWORD_CHARS: usize = 8;

pub(crate) async fn add_user(
    state: &AppState,
    viewer: &Viewer,
    form: &UserForm,
) -> Result<(i64, diembao_store::Upsert), Failure> {
    if form.password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(Failure::Bad(format!(
            "the password must have at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    if !diembao_store::ROLES.contains(&form.role.as_str()) {
        return Err(Failure::Bad(format!(
            "unknown role `{}` (viewer, reviewer, admin or liaison)",
            form.role
        )));
    }
    let password = form.password.clone();
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(internal)?
        .map_err(internal)?;
    let user = state
        .env
        .store
        .upsert_user(form.name.trim(), &form.role, &hash, &viewer.name)
        .await?;
    // A changed role or password applies to open sessions at once.
    state.sessions.clear();
    Ok(user)
}

pub(crate) fn user_json(user: &diembao_store::User) -> Value {
    json!({
        "id": user.id,
        "name": user.name,
        "role": user.role,
        "disabled": user.disabled,
        "created_at": user.created_at.to_rfc3339(),
    })
}

pub(crate) async fn api_users(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(refused) = require(&state, &headers, Action::Admin, true).await {
        return refused;
    }
    match state.env.store.users().await {
        Ok(users) => Json(Value::Array(users.iter().map(user_json).collect())).into_response(),
        Err(err) => Failure::from(err).json(),
    }
}

pub(crate) async fn api_add_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let viewer = match require(&state, &headers, Action::Admin, true).await {
        Ok(viewer) => viewer,
        Err(refused) => return refused,
    };
    let result = async {
        let form: UserForm = parse_json_required(&body)?;
        add_user(&state, &viewer, &form).await
    }
    .await;
    match result {
        Ok((id, outcome)) => Json(json!({"id": id, "outcome": outcome})).into_response(),
        Err(failure) => failure.json(),
    }
}

// ---------------------------------------------------------------- OpenAPI

pub(crate) async fn api_openapi(State(state): State<AppState>, headers: HeaderMap) -> Response {
    // Any signed-in account may read the API description (the liaison's cases are in it too).
    if state.viewer(&headers).await.is_none() {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "sign in first"})),
        )
            .into_response();
    }
    Json(crate::openapi::document()).into_response()
}
