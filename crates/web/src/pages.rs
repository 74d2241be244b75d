//! The HTML pages beyond search, and the routes of the pages and their JSON API.

use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::api::{self, CandidateQuery, Failure, SourceForm, UserForm};
use crate::auth::Action;
use crate::{AppState, Viewer, require, views};

/// The routes of the pages and of the JSON API behind them (merged into the app's router,
/// inside its CSRF and security-header layers).
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/documents/{id}", get(document_page))
        .route("/documents/{id}/capture", get(document_capture))
        .route("/review", get(review_page))
        .route("/review/{id}/decide", post(review_decide))
        .route("/review/{id}/assign", post(review_assign))
        .route("/digests", get(digests_page))
        .route("/digests/{period}", get(digest_page))
        .route("/digests/{period}/email", get(digest_email))
        .route("/digests/{period}/send", post(digest_send))
        .route("/sources", get(sources_page).post(sources_add))
        .route("/rules", get(rules_page))
        .route("/rules/test", post(rules_test))
        .route("/users", get(users_page).post(users_add))
        .route("/static/app.js", get(js))
        .route("/api/openapi.json", get(api::api_openapi))
        .route("/api/documents/{id}", get(api::api_document))
        .route("/api/candidates", get(api::api_candidates))
        .route("/api/candidates/{id}/review", post(api::api_review))
        .route("/api/candidates/{id}/assign", post(api::api_assign))
        .route("/api/digests", get(api::api_digests))
        .route("/api/digests/{period}", get(api::api_digest))
        .route("/api/digests/{period}/send", post(api::api_send_digest))
        .route(
            "/api/sources",
            get(api::api_sources).post(api::api_add_source),
        )
        .route("/api/rules", get(api::api_rules))
        .route("/api/rules/test", post(api::api_test_rules))
        .route("/api/users", get(api::api_users).post(api::api_add_user))
}

/// The one script of the app: keyboard shortcuts of the review queue.
pub const APP_JS: &str = include_str!("../static/app.js");

async fn js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        APP_JS,
    )
        .into_response()
}

fn failure_page(state: &AppState, viewer: &Viewer, failure: &Failure) -> Response {
    let title = match failure.status() {
        StatusCode::NOT_FOUND => "Không tìm thấy",
        StatusCode::BAD_REQUEST => "Yêu cầu không hợp lệ",
        StatusCode::BAD_GATEWAY => "Không gửi được",
        _ => "Lỗi hệ thống",
    };
    (
        failure.status(),
        Html(views::message(
            &state.office,
            viewer,
            title,
            failure.message(),
        )),
    )
        .into_response()
}

/// The viewer allowed `action` on a page, or the refusal (login redirect or 403 page).
macro_rules! page_viewer {
    ($state:expr, $headers:expr, $action:expr) => {
        match require(&$state, &$headers, $action, false).await {
            Ok(viewer) => viewer,
            Err(refused) => return refused,
        }
    };
}

// ---------------------------------------------------------------- documents

async fn document_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let viewer = page_viewer!(state, headers, Action::Read);
    let result = async { api::load_document(&state, api::parse_id(&id)?).await }.await;
    match result {
        Ok(detail) => Html(views::document_page(&state.office, &viewer, &detail)).into_response(),
        Err(failure) => failure_page(&state, &viewer, &failure),
    }
}

/// The raw capture of a document, byte for byte. Never rendered as a page of this site:
/// text is shown as plain text, anything else is downloaded, and the response is
/// sandboxed (no script, no same-origin access) whatever a browser makes of it.
async fn document_capture(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let viewer = page_viewer!(state, headers, Action::Read);
    let result = async {
        let detail = api::load_document(&state, api::parse_id(&id)?).await?;
        let capture = detail
            .capture
            .ok_or_else(|| Failure::NotFound("no capture kept for this document".into()))?;
        let bytes = state
            .env
            .read_capture(&capture)
            .await
            .map_err(|e| Failure::NotFound(format!("capture unreadable: {e}")))?;
        Ok((capture.id, bytes))
    }
    .await;
    match result {
        Ok((capture_id, bytes)) => {
            let text = std::str::from_utf8(&bytes).is_ok();
            let mut response = bytes.into_response();
            let h = response.headers_mut();
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("sandbox; default-src 'none'"),
            );
            if text {
                h.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; charset=utf-8"),
                );
            } else {
                h.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/octet-stream"),
                );
                if let Ok(v) =
                    HeaderValue::from_str(&format!("attachment; filename=\"capture-{capture_id}\""))
                {
                    h.insert(header::CONTENT_DISPOSITION, v);
                }
            }
            response
        }
        Err(failure) => failure_page(&state, &viewer, &failure),
    }
}

// ---------------------------------------------------------------- review queue

async fn review_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<CandidateQuery>,
) -> Response {
    let viewer = page_viewer!(state, headers, Action::Read);
    match api::load_candidates(&state, &viewer, &query).await {
        Ok(page) => Html(views::review_page(
            &state.office,
            &viewer,
            &query,
            page.total,
            &page.rows,
            None,
        ))
        .into_response(),
        Err(failure) => failure_page(&state, &viewer, &failure),
    }
}

/// A decision (or an assignment) posted from the queue, with the queue's filters.
#[derive(Debug, Default, Deserialize)]
struct DecideForm {
    decision: Option<String>,
    note: Option<String>,
    status: Option<String>,
    severity: Option<String>,
    category: Option<String>,
    source: Option<String>,
    assignee: Option<String>,
    mine: Option<String>,
    at: Option<String>,
}

impl DecideForm {
    fn query(&self) -> CandidateQuery {
        CandidateQuery {
            status: self.status.clone(),
            severity: self.severity.clone(),
            category: self.category.clone(),
            source: self.source.clone(),
            assignee: self.assignee.clone(),
            mine: self.mine.clone(),
            limit: None,
            offset: None,
            at: self.at.as_deref().and_then(|a| a.parse().ok()),
        }
    }
}

async fn review_decide(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<DecideForm>,
) -> Response {
    let viewer = page_viewer!(state, headers, Action::Review);
    let query = form.query();
    let result = async {
        let decision = form.decision.as_deref().unwrap_or("");
        api::decide(
            &state,
            &viewer,
            api::parse_id(&id)?,
            decision,
            form.note.as_deref(),
        )
        .await
    }
    .await;
    match result {
        Ok(candidate) => {
            // The next candidate: the decided one left the queue (its place is the next
            // one's), unless the queue still shows it.
            let status = query.status();
            let stays = status == "all" || status == candidate.status;
            let at = query.at.unwrap_or(0) + usize::from(stays);
            Redirect::to(&format!("/review?{}", query.query_string(Some(at)))).into_response()
        }
        Err(failure) => failure_page(&state, &viewer, &failure),
    }
}

async fn review_assign(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<DecideForm>,
) -> Response {
    let viewer = page_viewer!(state, headers, Action::Review);
    let query = form.query();
    let result = async {
        api::assign(
            &state,
            &viewer,
            api::parse_id(&id)?,
            Some(viewer.name.as_str()),
        )
        .await
    }
    .await;
    match result {
        Ok(_) => Redirect::to(&format!("/review?{}", query.query_string(query.at))).into_response(),
        Err(failure) => failure_page(&state, &viewer, &failure),
    }
}

// ---------------------------------------------------------------- digests

async fn digests_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let viewer = page_viewer!(state, headers, Action::Read);
    match state.env.store.digests().await {
        Ok(rows) => Html(views::digests_page(&state.office, &viewer, &rows)).into_response(),
        Err(err) => failure_page(&state, &viewer, &Failure::from(err)),
    }
}

async fn load_digest(state: &AppState, period: &str) -> Result<diembao_store::DigestRow, Failure> {
    state
        .env
        .store
        .digest(period)
        .await?
        .ok_or_else(|| Failure::NotFound(format!("Không có bản tin kỳ {period}.")))
}

async fn digest_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(period): Path<String>,
) -> Response {
    let viewer = page_viewer!(state, headers, Action::Read);
    match load_digest(&state, &period).await {
        Ok(row) => Html(views::digest_page(&state.office, &viewer, &row, None)).into_response(),
        Err(failure) => failure_page(&state, &viewer, &failure),
    }
}

/// The digest e-mail as recipients get it, for the preview frame of `/digests/{period}`.
/// It keeps its inline styles (an e-mail has no other), so it gets a policy of its own:
/// styles allowed, nothing else, sandboxed, framed only by this site.
async fn digest_email(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(period): Path<String>,
) -> Response {
    let viewer = page_viewer!(state, headers, Action::Read);
    let result = async {
        let row = load_digest(&state, &period).await?;
        let digest: diembao_core::digest::Digest =
            serde_json::from_value(row.content).map_err(api::internal)?;
        Ok::<_, Failure>(diembao_core::digest::render_html(&digest))
    }
    .await;
    match result {
        Ok(html) => {
            let mut response = Html(html).into_response();
            let h = response.headers_mut();
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"),
            );
            h.insert(
                header::X_FRAME_OPTIONS,
                HeaderValue::from_static("SAMEORIGIN"),
            );
            response
        }
        Err(failure) => failure_page(&state, &viewer, &failure),
    }
}

async fn digest_send(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(period): Path<String>,
) -> Response {
    let viewer = page_viewer!(state, headers, Action::Admin);
    let row = match load_digest(&state, &period).await {
        Ok(row) => row,
        Err(failure) => return failure_page(&state, &viewer, &failure),
    };
    match api::send_digest(&state, &viewer, &period).await {
        Ok(reports) => {
            let sent = reports
                .iter()
                .filter(|r| r.status == "sent" && !r.already_sent)
                .count();
            let before = reports.iter().filter(|r| r.already_sent).count();
            let failed = reports.iter().filter(|r| r.status != "sent").count();
            let notice = format!(
                "Đã gửi cho {sent} người nhận; {before} người đã nhận từ trước; {failed} người gửi không thành công."
            );
            Html(views::digest_page(
                &state.office,
                &viewer,
                &row,
                Some(&notice),
            ))
            .into_response()
        }
        Err(failure) => {
            let notice = format!("Không gửi được: {}", failure.message());
            (
                failure.status(),
                Html(views::digest_page(
                    &state.office,
                    &viewer,
                    &row,
                    Some(&notice),
                )),
            )
                .into_response()
        }
    }
}

// ---------------------------------------------------------------- sources

#[derive(Debug, Default, Deserialize)]
struct Notice {
    ok: Option<String>,
}

async fn sources_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(notice): Query<Notice>,
) -> Response {
    let viewer = page_viewer!(state, headers, Action::Read);
    let notice = notice.ok.is_some().then_some("Đã lưu nguồn tin.");
    let form = SourceForm {
        kind: "rss".into(),
        ..Default::default()
    };
    match state.env.store.sources().await {
        Ok(sources) => Html(views::sources_page(
            &state.office,
            &viewer,
            &sources,
            &form,
            None,
            notice,
        ))
        .into_response(),
        Err(err) => failure_page(&state, &viewer, &Failure::from(err)),
    }
}

async fn sources_add(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<SourceForm>,
) -> Response {
    let viewer = page_viewer!(state, headers, Action::Admin);
    match api::add_source(&state, &viewer, &form).await {
        Ok(_) => Redirect::to("/sources?ok=1").into_response(),
        Err(failure) => match state.env.store.sources().await {
            Ok(sources) => (
                failure.status(),
                Html(views::sources_page(
                    &state.office,
                    &viewer,
                    &sources,
                    &form,
                    Some(failure.message()),
                    None,
                )),
            )
                .into_response(),
            Err(err) => failure_page(&state, &viewer, &Failure::from(err)),
        },
    }
}

// ---------------------------------------------------------------- rules

async fn rules_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let viewer = page_viewer!(state, headers, Action::Read);
    match api::load_rule_versions(&state).await {
        Ok(versions) => Html(views::rules_page(
            &state.office,
            &viewer,
            &versions,
            None,
            None,
        ))
        .into_response(),
        Err(failure) => failure_page(&state, &viewer, &failure),
    }
}

#[derive(Debug, Default, Deserialize)]
struct RuleTestForm {
    #[serde(default)]
    toml: String,
}

async fn rules_test(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<RuleTestForm>,
) -> Response {
    let viewer = page_viewer!(state, headers, Action::Review);
    let versions = match api::load_rule_versions(&state).await {
        Ok(versions) => versions,
        Err(failure) => return failure_page(&state, &viewer, &failure),
    };
    match api::test_rules(&state, &form.toml).await {
        Ok(test) => Html(views::rules_page(
            &state.office,
            &viewer,
            &versions,
            Some(&form.toml),
            Some(Ok(&test)),
        ))
        .into_response(),
        Err(failure @ Failure::Bad(_)) => (
            StatusCode::BAD_REQUEST,
            Html(views::rules_page(
                &state.office,
                &viewer,
                &versions,
                Some(&form.toml),
                Some(Err(failure.message())),
            )),
        )
            .into_response(),
        Err(failure) => failure_page(&state, &viewer, &failure),
    }
}

// ---------------------------------------------------------------- users

async fn users_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(notice): Query<Notice>,
) -> Response {
    let viewer = page_viewer!(state, headers, Action::Admin);
    let notice = notice.ok.is_some().then_some("Đã lưu người dùng.");
    let form = UserForm {
        role: "viewer".into(),
        ..Default::default()
    };
    match state.env.store.users().await {
        Ok(users) => Html(views::users_page(
            &state.office,
            &viewer,
            &users,
            &form,
            None,
            notice,
        ))
        .into_response(),
        Err(err) => failure_page(&state, &viewer, &Failure::from(err)),
    }
}

async fn users_add(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<UserForm>,
) -> Response {
    let viewer = page_viewer!(state, headers, Action::Admin);
    match api::add_user(&state, &viewer, &form).await {
        Ok(_) => Redirect::to("/users?ok=1").into_response(),
        Err(failure) => match state.env.store.users().await {
            Ok(users) => (
                failure.status(),
                Html(views::users_page(
                    &state.office,
                    &viewer,
                    &users,
                    &form,
                    Some(failure.message()),
                    None,
                )),
            )
                .into_response(),
            Err(err) => failure_page(&state, &viewer, &Failure::from(err)),
        },
    }
}
