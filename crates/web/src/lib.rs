//! The web UI and JSON API (axum). Every value shown comes from crawled pages and is
//! escaped; the only markup kept from the index is the `<b>` of snippets.

mod html;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::Deserialize;

use diembao_index::{SearchRequest, SearchResults, Sort};
use diembao_jobs::Env;

#[derive(Clone)]
pub struct AppState {
    pub env: Env,
    pub office: Arc<str>,
}

pub fn router(env: Env) -> Router {
    let office: Arc<str> = env.config.office.name.clone().into();
    let state = AppState { env, office };
    Router::new()
        .route("/", get(|| async { Redirect::to("/search") }))
        .route("/search", get(search_page))
        .route("/api/search", get(api_search))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/static/app.css", get(css))
        .layer(axum::middleware::from_fn(security_headers))
        .with_state(state)
}

/// Serves the app until `shutdown` resolves.
pub async fn serve(
    env: Env,
    addr: SocketAddr,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(%addr, "web UI listening");
    axum::serve(listener, router(env))
        .with_graceful_shutdown(shutdown)
        .await
}

async fn security_headers(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

#[derive(Debug, Default, Deserialize)]
pub struct SearchParams {
    #[serde(default)]
    pub q: String,
    pub limit: Option<usize>,
    pub offset: Option<usize>,
    pub source: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub tag: Option<String>,
    pub sort: Option<String>,
}

fn parse_day(text: Option<&str>, end: bool) -> Result<Option<DateTime<Utc>>, String> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if let Some(dt) = diembao_core::document::parse_datetime(text) {
        if end && text.len() == 10 {
            return Ok(Some((dt + chrono::Duration::days(1)).with_timezone(&Utc)));
        }
        return Ok(Some(dt.with_timezone(&Utc)));
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("bad date `{text}` (use YYYY-MM-DD)"))?;
    let at = diembao_core::document::vietnam_offset()
        .from_local_datetime(&date.and_hms_opt(0, 0, 0).unwrap_or_default())
        .single()
        .map(|d| d.with_timezone(&Utc));
    Ok(at)
}

impl SearchParams {
    pub fn to_request(&self) -> Result<SearchRequest, String> {
        Ok(SearchRequest {
            query: self.q.clone(),
            limit: self.limit.unwrap_or(20).clamp(1, 100),
            offset: self.offset.unwrap_or(0).min(10_000),
            source: self.source.clone().filter(|s| !s.is_empty()),
            since: parse_day(self.since.as_deref(), false)?,
            until: parse_day(self.until.as_deref(), true)?,
            tag: self.tag.clone().filter(|s| !s.is_empty()),
            kind: None,
            sort: if self.sort.as_deref() == Some("date") {
                Sort::Date
            } else {
                Sort::Relevance
            },
            facets: true,
        })
    }
}

async fn run_search(
    state: &AppState,
    params: &SearchParams,
) -> Result<SearchResults, (StatusCode, String)> {
    let request = params
        .to_request()
        .map_err(|e| (StatusCode::BAD_REQUEST, e))?;
    let index = state.env.index.clone();
    tokio::task::spawn_blocking(move || index.search(&request))
        .await
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .map_err(|e| match e {
            diembao_index::IndexError::Query(q) => (StatusCode::BAD_REQUEST, q.to_string()),
            other => (StatusCode::INTERNAL_SERVER_ERROR, other.to_string()),
        })
}

async fn api_search(State(state): State<AppState>, Query(params): Query<SearchParams>) -> Response {
    match run_search(&state, &params).await {
        Ok(results) => Json(results).into_response(),
        Err((status, message)) => {
            (status, Json(serde_json::json!({"error": message}))).into_response()
        }
    }
}

async fn search_page(
    State(state): State<AppState>,
    Query(params): Query<SearchParams>,
) -> Response {
    let results = if params.q.trim().is_empty() {
        None
    } else {
        Some(run_search(&state, &params).await)
    };
    Html(html::search_page(&state.office, &params, results)).into_response()
}

async fn healthz(State(state): State<AppState>) -> Response {
    match state.env.store.count_documents().await {
        Ok(_) => (StatusCode::OK, "ok\n").into_response(),
        Err(err) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("database: {err}\n"),
        )
            .into_response(),
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    let documents = state.env.store.count_documents().await.unwrap_or(0);
    let indexed = state.env.index.num_docs();
    let body = format!(
        "# HELP diembao_documents_stored Documents in the database.\n# TYPE diembao_documents_stored gauge\ndiembao_documents_stored {documents}\n\
         # HELP diembao_documents_indexed Documents visible in the search index.\n# TYPE diembao_documents_indexed gauge\ndiembao_documents_indexed {indexed}\n"
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

async fn css() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        html::CSS,
    )
        .into_response()
}
