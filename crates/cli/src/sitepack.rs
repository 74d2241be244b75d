//! Serves a site pack (see the project's SITEPACK format) on loopback: one port per site,
//! `{{BASE:site}}` placeholders replaced by that site's origin, `_routes.json` overrides
//! (status, headers, file, `times`, `delay_ms`, ETag revalidation).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;

#[derive(Debug, Deserialize, Default, Clone)]
struct Route {
    status: Option<u16>,
    #[serde(default)]
    headers: HashMap<String, String>,
    file: Option<String>,
    times: Option<u32>,
    delay_ms: Option<u64>,
}

struct Site {
    files: HashMap<String, Vec<u8>>,
    routes: HashMap<String, (Route, AtomicU32)>,
}

#[derive(Deserialize)]
struct PackJson {
    sites: Vec<PackSite>,
}

#[derive(Deserialize)]
struct PackSite {
    name: String,
}

/// A running pack: site name → origin (`http://127.0.0.1:PORT`).
pub struct ServedPack {
    pub origins: HashMap<String, String>,
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" | "htm" => "text/html; charset=utf-8",
        "rss" => "application/rss+xml; charset=utf-8",
        "xml" => "application/xml",
        "json" => "application/json",
        "txt" => "text/plain",
        _ => "application/octet-stream",
    }
}

fn is_text(path: &str) -> bool {
    matches!(
        path.rsplit('.').next().unwrap_or(""),
        "html" | "htm" | "rss" | "xml" | "json" | "txt" | "toml"
    )
}

/// Replaces `{{BASE:site}}` and `{{BASE}}` in text files.
pub fn substitute(bytes: &[u8], origins: &HashMap<String, String>, own: &str) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for (name, origin) in origins {
        out = replace_all(
            &out,
            format!("{{{{BASE:{name}}}}}").as_bytes(),
            origin.as_bytes(),
        );
    }
    replace_all(&out, b"{{BASE}}", own.as_bytes())
}

fn replace_all(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut i = 0;
    while i < haystack.len() {
        if haystack[i..].starts_with(needle) {
            out.extend_from_slice(with);
            i += needle.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}

/// Serves the pack given as (relative path, bytes) pairs. Runs until the process ends.
pub async fn serve(files: &[(&str, &[u8])]) -> Result<ServedPack> {
    let pack_json = files
        .iter()
        .find(|(p, _)| *p == "pack.json")
        .context("pack.json missing from the site pack")?;
    let pack: PackJson = serde_json::from_slice(pack_json.1).context("pack.json")?;
    let mut listeners = Vec::new();
    let mut origins = HashMap::new();
    for site in &pack.sites {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let addr = listener.local_addr()?;
        origins.insert(site.name.clone(), format!("http://{addr}"));
        listeners.push((site.name.clone(), listener));
    }
    for (name, listener) in listeners {
        let own = origins[&name].clone();
        let prefix = format!("{name}/");
        let mut site = Site {
            files: HashMap::new(),
            routes: HashMap::new(),
        };
        for (path, bytes) in files {
            let Some(rel) = path.strip_prefix(&prefix) else {
                continue;
            };
            if rel == "_routes.json" {
                let routes = substitute(bytes, &origins, &own);
                let routes: HashMap<String, Route> =
                    serde_json::from_slice(&routes).with_context(|| path.to_string())?;
                site.routes = routes
                    .into_iter()
                    .map(|(k, v)| (k, (v, AtomicU32::new(0))))
                    .collect();
                continue;
            }
            let body = if is_text(rel) {
                substitute(bytes, &origins, &own)
            } else {
                bytes.to_vec()
            };
            site.files.insert(format!("/{rel}"), body);
        }
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(Arc::new(site));
        tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, app).await {
                tracing::error!(site = %name, error = %err, "site pack server stopped");
            }
        });
    }
    Ok(ServedPack { origins })
}

async fn handle(State(site): State<Arc<Site>>, request: Request) -> Response {
    let path = request.uri().path().to_string();
    let if_none_match = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let mut status = StatusCode::OK;
    let mut headers = HeaderMap::new();
    let mut file_key = path.clone();
    if let Some((route, count)) = site.routes.get(&path) {
        if let Some(delay) = route.delay_ms {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        let n = count.fetch_add(1, Ordering::SeqCst);
        let applies = route.times.is_none_or(|times| n < times);
        if let Some(code) = route.status.filter(|_| applies) {
            status = StatusCode::from_u16(code).unwrap_or(StatusCode::OK);
        }
        for (k, v) in &route.headers {
            if let (Ok(k), Ok(v)) = (HeaderName::try_from(k.as_str()), HeaderValue::from_str(v)) {
                headers.insert(k, v);
            }
        }
        if let Some(file) = &route.file {
            file_key = format!("/{}", file.trim_start_matches('/'));
        }
        if let (Some(etag), Some(sent)) = (route.headers.get("ETag"), if_none_match.as_deref())
            && etag == sent
        {
            return response(StatusCode::NOT_MODIFIED, headers, Vec::new());
        }
        if status != StatusCode::OK && route.times.is_some() {
            return response(status, headers, Vec::new());
        }
        if status.is_redirection() {
            return response(status, headers, Vec::new());
        }
    }
    let body = site.files.get(&file_key).or_else(|| {
        site.files.get(&format!(
            "{}index.html",
            if file_key.ends_with('/') {
                file_key.clone()
            } else {
                format!("{file_key}/")
            }
        ))
    });
    let Some(body) = body else {
        return response(
            StatusCode::NOT_FOUND,
            HeaderMap::new(),
            b"not found".to_vec(),
        );
    };
    if !headers.contains_key(header::CONTENT_TYPE) {
        let served = if site.files.contains_key(&file_key) {
            file_key.as_str()
        } else {
            "index.html"
        };
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(content_type(served)),
        );
    }
    response(status, headers, body.clone())
}

fn response(status: StatusCode, headers: HeaderMap, body: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}
