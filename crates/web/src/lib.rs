//! The web UI and JSON API (axum). Every value shown comes from crawled pages and is
//! escaped; the only markup kept from the index is the `<b>` of snippets.

mod api;
pub mod auth;
mod html;
mod metrics;
mod openapi;
mod pages;
mod views;

pub use api::{CandidateQuery, SourceForm, UserForm};
pub use pages::APP_JS;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::Deserialize;

use diembao_index::{SearchRequest, SearchResults, Sort};
use diembao_jobs::Env;

/// How requests are authenticated.
#[derive(Clone, Debug)]
pub enum Access {
    /// Accounts and sessions (the default).
    Sessions {
        /// Mark cookies `Secure` (off only when serving plain HTTP on loopback).
        secure_cookies: bool,
    },
    /// Everyone is this user (the local demo only).
    Open { user: String, role: String },
}

#[derive(Clone)]
pub struct AppState {
    pub env: Env,
    pub office: Arc<str>,
    pub access: Access,
    pub limiter: Arc<auth::LoginLimiter>,
    /// Searches run at once: one per core. The rest wait their turn (first come, first
    /// served) instead of all slowing each other down on the same cores.
    pub search_slots: Arc<tokio::sync::Semaphore>,
    /// Sessions looked up in the last few seconds.
    pub sessions: Arc<SessionCache>,
}

/// Sessions recently found valid, so that a burst of requests (a search page's API
/// calls, a busy reviewer) costs one database lookup, not one each. An entry lives
/// [`SessionCache::TTL`]: logging out or changing an account in this process clears
/// the cache at once; a change made by another process (`diembao users add`) takes
/// effect within the TTL.
#[derive(Default)]
pub struct SessionCache {
    entries: std::sync::Mutex<std::collections::HashMap<String, (Viewer, std::time::Instant)>>,
}

impl SessionCache {
    pub const TTL: std::time::Duration = std::time::Duration::from_secs(5);
    const MAX_ENTRIES: usize = 10_000;

    fn get(&self, token_hash: &str) -> Option<Viewer> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(token_hash)
            .filter(|(_, at)| at.elapsed() < Self::TTL)
            .map(|(viewer, _)| viewer.clone())
    }

    fn put(&self, token_hash: String, viewer: Viewer) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= Self::MAX_ENTRIES {
            entries.retain(|_, (_, at)| at.elapsed() < Self::TTL);
            if entries.len() >= Self::MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(token_hash, (viewer, std::time::Instant::now()));
    }

    /// Forgets every session (after a logout or a change to an account).
    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

/// The signed-in user of a request.
#[derive(Clone, Debug)]
pub struct Viewer {
    pub name: String,
    pub role: String,
    pub csrf: String,
}

pub fn router(env: Env, access: Access) -> Router {
    let office: Arc<str> = env.config.office.name.clone().into();
    let state = AppState {
        env,
        office,
        access,
        limiter: Arc::new(auth::LoginLimiter::default()),
        search_slots: Arc::new(tokio::sync::Semaphore::new(
            std::thread::available_parallelism().map_or(2, usize::from),
        )),
        sessions: Arc::default(),
    };
    Router::new()
        .route("/", get(home))
        .route("/cases", get(cases_page))
        .route("/login", get(login_page).post(login_form))
        .route("/logout", post(logout))
        .route("/api/login", post(api_login))
        .route("/search", get(search_page))
        .route("/api/search", get(api_search))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/static/app.css", get(css))
        .route("/api/cases", get(api_cases))
        .route("/api/cases/{id}/download", get(api_case_download))
        .merge(pages::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            csrf_guard,
        ))
        .layer(axum::middleware::from_fn(security_headers))
        .with_state(state)
}

/// Serves the app until `shutdown` resolves.
pub async fn serve(
    env: Env,
    addr: SocketAddr,
    access: Access,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(%addr, "web UI listening");
    axum::serve(
        listener,
        router(env, access).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// The default access for an address: sessions, with `Secure` cookies unless on loopback.
pub fn sessions_for(addr: SocketAddr) -> Access {
    Access::Sessions {
        secure_cookies: !addr.ip().is_loopback(),
    }
}

impl AppState {
    pub async fn viewer(&self, headers: &HeaderMap) -> Option<Viewer> {
        match &self.access {
            Access::Open { user, role } => Some(Viewer {
                name: user.clone(),
                role: role.clone(),
                csrf: String::new(),
            }),
            Access::Sessions { .. } => {
                let token = auth::session_token(headers)?;
                let token_hash = auth::token_hash(&token);
                if let Some(viewer) = self.sessions.get(&token_hash) {
                    return Some(viewer);
                }
                match self.env.store.session(&token_hash).await {
                    Ok(Some((session, user))) => {
                        let viewer = Viewer {
                            name: user.name,
                            role: user.role,
                            csrf: session.csrf,
                        };
                        self.sessions.put(token_hash, viewer.clone());
                        Some(viewer)
                    }
                    Ok(None) => None,
                    Err(err) => {
                        tracing::error!(error = %err, "session lookup failed");
                        None
                    }
                }
            }
        }
    }

    fn secure_cookies(&self) -> bool {
        matches!(
            self.access,
            Access::Sessions {
                secure_cookies: true
            }
        )
    }
}

/// Refuses a state-changing request without the session's CSRF token (except the login
/// itself, which has no session yet and is guarded by SameSite cookies and the origin).
async fn csrf_guard(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    let path = request.uri().path();
    if safe || matches!(state.access, Access::Open { .. }) {
        return next.run(request).await;
    }
    if path == "/login" || path == "/api/login" {
        if !same_origin(request.headers()) {
            return (StatusCode::FORBIDDEN, "cross-site login refused\n").into_response();
        }
        return next.run(request).await;
    }
    let Some(viewer) = state.viewer(request.headers()).await else {
        return (StatusCode::UNAUTHORIZED, "sign in first\n").into_response();
    };
    let header_token = request
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, 1024 * 1024).await {
        Ok(bytes) => bytes,
        Err(_) => return (StatusCode::PAYLOAD_TOO_LARGE, "request too large\n").into_response(),
    };
    let form_token = url::form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.into_owned());
    let presented = header_token.or(form_token).unwrap_or_default();
    if presented.is_empty() || !constant_time_eq(presented.as_bytes(), viewer.csrf.as_bytes()) {
        return (StatusCode::FORBIDDEN, "missing or wrong CSRF token\n").into_response();
    }
    next.run(axum::extract::Request::from_parts(
        parts,
        axum::body::Body::from(bytes),
    ))
    .await
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A browser's cross-site request carries another `Origin`; scripts and tools send none.
/// Browsers that send `Sec-Fetch-Site` say directly whether the request is same-origin
/// (they send `Origin: null` under some referrer policies, so that header alone is not
/// enough for them).
fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    origin
        .split_once("://")
        .is_some_and(|(_, rest)| rest == host)
}

#[derive(Deserialize)]
pub struct LoginForm {
    pub user: String,
    pub password: String,
}

async fn login_page(State(state): State<AppState>) -> Response {
    Html(html::login_page(&state.office, None)).into_response()
}

enum LoginOutcome {
    Ok { cookie: String, viewer: Viewer },
    Refused,
    Limited,
}

/// A valid argon2id hash of a random password, verified against for unknown accounts so
/// that the answer's timing does not tell which accounts exist.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| auth::hash_password(&auth::random_token()).unwrap_or_default());

async fn do_login(state: &AppState, ip: std::net::IpAddr, form: &LoginForm) -> LoginOutcome {
    if state.limiter.blocked(ip, &form.user) {
        return LoginOutcome::Limited;
    }
    let user = state
        .env
        .store
        .user_by_name(form.user.trim())
        .await
        .ok()
        .flatten();
    let password = form.password.clone();
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let valid = tokio::task::spawn_blocking(move || {
        let known = hash.is_some();
        auth::verify_password(&password, hash.as_deref().unwrap_or(DUMMY_HASH.as_str())) && known
    })
    .await
    .unwrap_or(false);
    let Some(user) = user.filter(|u| valid && !u.disabled) else {
        state.limiter.failed(ip, &form.user);
        return LoginOutcome::Refused;
    };
    state.limiter.succeeded(ip, &form.user);
    let token = auth::random_token();
    let csrf = auth::random_token();
    let expires = Utc::now() + chrono::Duration::hours(auth::SESSION_HOURS);
    if let Err(err) = state
        .env
        .store
        .create_session(user.id, &auth::token_hash(&token), &csrf, expires)
        .await
    {
        tracing::error!(error = %err, "cannot store session");
        return LoginOutcome::Refused;
    }
    let _ = state
        .env
        .store
        .audit(
            &user.name,
            "login",
            "user",
            Some(user.id),
            serde_json::json!({"ip": ip.to_string()}),
        )
        .await;
    LoginOutcome::Ok {
        cookie: auth::session_cookie(&token, state.secure_cookies()),
        viewer: Viewer {
            name: user.name,
            role: user.role,
            csrf,
        },
    }
}

async fn login_form(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Form(form): Form<LoginForm>,
) -> Response {
    match do_login(&state, peer.ip(), &form).await {
        LoginOutcome::Ok { cookie, .. } => (
            StatusCode::SEE_OTHER,
            [
                (header::SET_COOKIE, cookie),
                (header::LOCATION, "/search".to_string()),
            ],
        )
            .into_response(),
        LoginOutcome::Refused => (
            StatusCode::UNAUTHORIZED,
            Html(html::login_page(
                &state.office,
                Some("Sai tên đăng nhập hoặc mật khẩu."),
            )),
        )
            .into_response(),
        LoginOutcome::Limited => (
            StatusCode::TOO_MANY_REQUESTS,
            Html(html::login_page(
                &state.office,
                Some("Đăng nhập sai quá nhiều lần, vui lòng thử lại sau 15 phút."),
            )),
        )
            .into_response(),
    }
}

async fn api_login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Json(form): Json<LoginForm>,
) -> Response {
    match do_login(&state, peer.ip(), &form).await {
        LoginOutcome::Ok { cookie, viewer } => (
            [(header::SET_COOKIE, cookie)],
            Json(
                serde_json::json!({"user": viewer.name, "role": viewer.role, "csrf": viewer.csrf}),
            ),
        )
            .into_response(),
        LoginOutcome::Refused => (
            StatusCode::UNAUTHORIZED,
            Json(serde_json::json!({"error": "wrong user or password"})),
        )
            .into_response(),
        LoginOutcome::Limited => (
            StatusCode::TOO_MANY_REQUESTS,
            Json(serde_json::json!({"error": "too many failed logins; try again later"})),
        )
            .into_response(),
    }
}

async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = auth::session_token(&headers) {
        let _ = state
            .env
            .store
            .delete_session(&auth::token_hash(&token))
            .await;
        state.sessions.clear();
    }
    (
        StatusCode::SEE_OTHER,
        [
            (
                header::SET_COOKIE,
                auth::clear_cookie(state.secure_cookies()),
            ),
            (header::LOCATION, "/login".to_string()),
        ],
    )
        .into_response()
}

/// The signed-in viewer allowed `action`, or the response refusing the request.
async fn require(
    state: &AppState,
    headers: &HeaderMap,
    action: auth::Action,
    api: bool,
) -> Result<Viewer, Response> {
    match state.viewer(headers).await {
        Some(viewer) if auth::allowed(&viewer.role, action) => Ok(viewer),
        Some(_) if api => Err((
            StatusCode::FORBIDDEN,
            Json(serde_json::json!({"error": "not allowed for your role"})),
        )
            .into_response()),
        Some(_) => Err((
            StatusCode::FORBIDDEN,
            Html(html::message_page(
                &state.office,
                "Không có quyền",
                "Vai trò của bạn không được phép xem trang này.",
            )),
        )
            .into_response()),
        None if api => Err((
            StatusCode::UNAUTHORIZED,
            Json(serde_json::json!({"error": "sign in first"})),
        )
            .into_response()),
        None => Err(Redirect::to("/login").into_response()),
    }
}

async fn security_headers(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    // A handler may set a stricter policy of its own (the raw capture, the digest frame).
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            ),
        );
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if !headers.contains_key(header::X_FRAME_OPTIONS) {
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    headers.insert(
        header::REFERRER_POLICY,
        // Never to other sites (the crawled pages we link to); within the app a browser
        // then sends its real `Origin` with a form, which the login check relies on.
        HeaderValue::from_static("same-origin"),
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
    let _slot = state
        .search_slots
        .acquire()
        .await
        .map_err(|e| (StatusCode::SERVICE_UNAVAILABLE, e.to_string()))?;
    tokio::task::spawn_blocking(move || index.search(&request))
        .await
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .map_err(|e| match e {
            diembao_index::IndexError::Query(q) => (StatusCode::BAD_REQUEST, q.to_string()),
            other => (StatusCode::INTERNAL_SERVER_ERROR, other.to_string()),
        })
}

async fn api_search(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<SearchParams>,
) -> Response {
    if let Err(refused) = require(&state, &headers, auth::Action::Read, true).await {
        return refused;
    }
    match run_search(&state, &params).await {
        Ok(results) => Json(results).into_response(),
        Err((status, message)) => {
            (status, Json(serde_json::json!({"error": message}))).into_response()
        }
    }
}

async fn search_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<SearchParams>,
) -> Response {
    let viewer = match require(&state, &headers, auth::Action::Read, false).await {
        Ok(viewer) => viewer,
        Err(refused) => return refused,
    };
    let results = if params.q.trim().is_empty() {
        None
    } else {
        Some(run_search(&state, &params).await)
    };
    Html(html::search_page(&state.office, &viewer, &params, results)).into_response()
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
    let body = metrics::render(&state.env).await;
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

async fn css() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        html::CSS,
    )
        .into_response()
}

// ---------------------------------------------------------------- cases (the liaison's API)

/// Who may see cases: a liaison (only those handed to them: `Some(name)`), or a reviewer
/// or admin (all: `None`).
async fn case_viewer(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<(Viewer, Option<String>), Response> {
    match state.viewer(headers).await {
        None => Err((
            StatusCode::UNAUTHORIZED,
            Json(serde_json::json!({"error": "sign in first"})),
        )
            .into_response()),
        Some(viewer) if auth::allowed(&viewer.role, auth::Action::Liaison) => {
            let name = viewer.name.clone();
            Ok((viewer, Some(name)))
        }
        Some(viewer) if auth::allowed(&viewer.role, auth::Action::Review) => Ok((viewer, None)),
        Some(_) => Err((
            StatusCode::FORBIDDEN,
            Json(serde_json::json!({"error": "not allowed for your role"})),
        )
            .into_response()),
    }
}

/// `/`: where each role starts (a liaison has nothing but their cases).
async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match state.viewer(&headers).await {
        Some(viewer) if auth::allowed(&viewer.role, auth::Action::Liaison) => {
            Redirect::to("/cases").into_response()
        }
        _ => Redirect::to("/search").into_response(),
    }
}

/// `/cases`: the case files handed to the signed-in liaison (all cases for reviewers and
/// admins), each with its download link.
async fn cases_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(viewer) = state.viewer(&headers).await else {
        return Redirect::to("/login").into_response();
    };
    let only = if auth::allowed(&viewer.role, auth::Action::Liaison) {
        Some(viewer.name.clone())
    } else if auth::allowed(&viewer.role, auth::Action::Review) {
        None
    } else {
        return (
            StatusCode::FORBIDDEN,
            Html(html::message_page(
                &state.office,
                "Không được phép",
                "Vai trò của bạn không xem được hồ sơ vụ việc.",
            )),
        )
            .into_response();
    };
    match state.env.store.cases(only.as_deref()).await {
        Ok(cases) => Html(html::cases_page(&state.office, &viewer, &cases)).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "cases page failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Html(html::message_page(
                    &state.office,
                    "Lỗi",
                    "Không đọc được danh sách hồ sơ; xin thử lại.",
                )),
            )
                .into_response()
        }
    }
}

/// `GET /api/cases`: the cases handed to the signed-in liaison (every case for reviewers).
async fn api_cases(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (_, only) = match case_viewer(&state, &headers).await {
        Ok(found) => found,
        Err(refused) => return refused,
    };
    let cases = match state.env.store.cases(only.as_deref()).await {
        Ok(cases) => cases,
        Err(err) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(serde_json::json!({"error": err.to_string()})),
            )
                .into_response();
        }
    };
    let mut out = Vec::new();
    for case in cases {
        let items = state
            .env
            .store
            .case_items(case.id)
            .await
            .map(|i| i.len())
            .unwrap_or(0);
        out.push(serde_json::json!({
            "id": case.id, "title": case.title, "summary": case.summary, "legal_basis": case.legal_basis,
            "status": case.status, "created_by": case.created_by, "approved_by": case.approved_by,
            "handed_to": case.handed_to, "created_at": case.created_at.to_rfc3339(),
            "updated_at": case.updated_at.to_rfc3339(), "items": items,
            "download": format!("/api/cases/{}/download", case.id),
        }));
    }
    Json(out).into_response()
}

/// `GET /api/cases/{id}/download`: the case file (zip); each download is a `downloaded`
/// entry of the custody log, included in the file itself.
async fn api_case_download(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> Response {
    let (viewer, only) = match case_viewer(&state, &headers).await {
        Ok(found) => found,
        Err(refused) => return refused,
    };
    let not_found = || {
        (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({"error": "no such case"})),
        )
            .into_response()
    };
    let case = match state.env.store.case(id).await {
        Ok(Some(case)) => case,
        Ok(None) => return not_found(),
        Err(err) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(serde_json::json!({"error": err.to_string()})),
            )
                .into_response();
        }
    };
    // A liaison sees only what was handed to them, and is not told that other cases exist.
    if only.is_some() && case.handed_to != only {
        return not_found();
    }
    match state
        .env
        .build_case_file(
            id,
            &viewer.name,
            "downloaded",
            serde_json::json!({"via": "api"}),
        )
        .await
    {
        Ok(file) => (
            [
                (header::CONTENT_TYPE, "application/zip".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"case-{id}.zip\""),
                ),
                (header::CACHE_CONTROL, "no-store".to_string()),
            ],
            file.bytes,
        )
            .into_response(),
        Err(err) => {
            tracing::error!(error = %err, case = id, "case file failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(serde_json::json!({"error": err.to_string()})),
            )
                .into_response()
        }
    }
}
