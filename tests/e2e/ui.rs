//! The UI pages and their JSON API through real HTTP and a real browser: every route for
//! every role, hostile crawled content on every page that shows it, and headless
//! Chromium driven over WebDriver (search, document, review queue, no script injection).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::harness::{BIN, World, shared};
use crate::web::{Server, add_user, client, form, login, runtime, serve};

const PASSWORD: &str = "mật-khẩu-dài";
/// The week the corpora's documents (and the hostile one) were published in.
const WEEK: &str = "2023-W11";

/// One account per role.
const USERS: [(&str, &str); 4] = [
    ("lan", "viewer"),
    ("minh", "reviewer"),
    ("quan", "admin"),
    ("police", "liaison"),
];

/// A document whose every field carries script, event-handler, `javascript:` and CSS
/// payloads; its text fires the gambling rule, so it is also a candidate.
fn hostile_line() -> String {
    serde_json::json!({
        "url": "javascript:window.pwned=1//https://evil.example/tin",
        "title": "<script>window.pwned=1</script>Nhà cái <img src=x onerror=\"window.pwned=1\"> khuyến mãi",
        "text": "Nhà cái uy tín, đăng ký ngay hôm nay. </textarea></pre><script>window.pwned=1</script> \
                 <svg onload=window.pwned=1></svg> <a href=\"javascript:window.pwned=1\">bấm vào đây</a> \
                 <style>body{display:none}</style> <div style=\"background:url(javascript:window.pwned=1)\">x</div> \
                 \" onmouseover=\"window.pwned=1\" x=\" <iframe srcdoc=\"<script>parent.pwned=1</script>\"></iframe>",
        "author": "\"><img src=x onerror=window.pwned=1>",
        "source": "<b onmouseover=window.pwned=1>Nguồn lạ</b>",
        "published_at": "2023-03-14T08:00:00+07:00",
        "kind": "post"
    })
    .to_string()
}

/// Raw payloads that must never reach a page unescaped.
const PAYLOADS: [&str; 10] = [
    "<script>window.pwned",
    "<script>parent.pwned",
    "<img src=x onerror",
    "<svg onload",
    "<style>body",
    "<b onmouseover",
    "<iframe srcdoc",
    "</textarea></pre>",
    "\" onmouseover=\"",
    "style=\"background:url(javascript",
];

fn write_file(world: &World, name: &str, text: &str) -> PathBuf {
    let path = world.data_dir().join(name);
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .expect("write");
    path
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// A world with the search and rules corpora, the rules, the hostile document, the
/// digest of their week and one account per role, served on loopback.
fn fixture(hostile: bool) -> (World, Server) {
    let world = World::new();
    world.ok(&[
        "ingest",
        path_str(&shared().join("corpus/vi-search-dev/docs.jsonl")),
    ]);
    world.ok(&[
        "rules",
        "import",
        path_str(&shared().join("corpus/vi-rules-dev/rules.toml")),
    ]);
    world.ok(&[
        "ingest",
        path_str(&shared().join("corpus/vi-rules-dev/docs.jsonl")),
    ]);
    if hostile {
        let file = write_file(&world, "hostile.jsonl", &format!("{}\n", hostile_line()));
        world.ok(&["ingest", path_str(&file)]);
    }
    world.ok(&["digest", "build", "--week", WEEK, "--format", "json"]);
    for (name, role) in USERS {
        add_user(&world, name, role, PASSWORD);
    }
    let server = serve(&world);
    (world, server)
}

struct Answer {
    status: u16,
    location: String,
    content_type: String,
    csp: String,
    body: String,
}

async fn request(
    base: &str,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    csrf: Option<&str>,
    body: &Body,
) -> Answer {
    let http = client();
    let url = format!("{base}{path}");
    let mut builder = if method == "POST" {
        http.post(&url)
    } else {
        http.get(&url)
    };
    if let Some(cookie) = cookie {
        builder = builder.header("cookie", cookie);
    }
    match body {
        Body::Empty => {
            if let Some(csrf) = csrf {
                builder = builder.header("x-csrf-token", csrf);
            }
        }
        Body::Json(json) => {
            if let Some(csrf) = csrf {
                builder = builder.header("x-csrf-token", csrf);
            }
            builder = builder
                .header("content-type", "application/json")
                .body(json.clone());
        }
        Body::Form(fields) => {
            let mut fields: Vec<(&str, &str)> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            if let Some(csrf) = csrf {
                fields.push(("csrf", csrf));
            }
            builder = builder
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form(&fields));
        }
    }
    let response = builder
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let (status, location, content_type, csp) = (
        response.status().as_u16(),
        header("location"),
        header("content-type"),
        header("content-security-policy"),
    );
    Answer {
        status,
        location,
        content_type,
        csp,
        body: response.text().await.unwrap_or_default(),
    }
}

#[derive(Clone, Debug)]
enum Body {
    Empty,
    Json(String),
    Form(Vec<(String, String)>),
}

fn form_body(fields: &[(&str, &str)]) -> Body {
    Body::Form(
        fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

/// Who may use a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Need {
    Public,
    /// Any signed-in account, the liaison's too.
    Session,
    Read,
    Review,
    Admin,
    /// The case files: the liaison (their own), reviewers and admins.
    Cases,
}

fn role_may(role: &str, need: Need) -> bool {
    match need {
        Need::Public | Need::Session => true,
        Need::Read => matches!(role, "viewer" | "reviewer" | "admin"),
        Need::Review => matches!(role, "reviewer" | "admin"),
        Need::Admin => role == "admin",
        Need::Cases => matches!(role, "liaison" | "reviewer" | "admin"),
    }
}

struct Route {
    method: &'static str,
    /// The route as the router and the OpenAPI document write it.
    template: &'static str,
    path: String,
    body: Body,
    need: Need,
    /// The status for a role that may use it.
    ok: u16,
}

fn route(
    method: &'static str,
    template: &'static str,
    path: String,
    body: Body,
    need: Need,
    ok: u16,
) -> Route {
    Route {
        method,
        template,
        path,
        body,
        need,
        ok,
    }
}

/// Every route of the app but `/login` POST, `/api/login` and `/logout` (sessions are
/// tested in `web.rs`).
fn routes(document: i64, candidate: i64) -> Vec<Route> {
    use Need::*;
    let rule = "[[rule]]\nid = \"ca-do\"\ncategory = \"gambling\"\nseverity = \"high\"\nquery = '\"nhà cái\"'\n";
    let p = WEEK;
    vec![
        route("GET", "/", "/".into(), Body::Empty, Public, 303),
        route(
            "GET",
            "/healthz",
            "/healthz".into(),
            Body::Empty,
            Public,
            200,
        ),
        route(
            "GET",
            "/metrics",
            "/metrics".into(),
            Body::Empty,
            Public,
            200,
        ),
        route("GET", "/login", "/login".into(), Body::Empty, Public, 200),
        route(
            "GET",
            "/static/app.css",
            "/static/app.css".into(),
            Body::Empty,
            Public,
            200,
        ),
        route(
            "GET",
            "/static/app.js",
            "/static/app.js".into(),
            Body::Empty,
            Public,
            200,
        ),
        route(
            "GET",
            "/api/openapi.json",
            "/api/openapi.json".into(),
            Body::Empty,
            Session,
            200,
        ),
        route(
            "GET",
            "/search",
            "/search?q=chuyen%20doi%20so&sort=date".into(),
            Body::Empty,
            Read,
            200,
        ),
        route(
            "GET",
            "/api/search",
            "/api/search?q=chuyen".into(),
            Body::Empty,
            Read,
            200,
        ),
        route(
            "GET",
            "/documents/{id}",
            format!("/documents/{document}"),
            Body::Empty,
            Read,
            200,
        ),
        route(
            "GET",
            "/documents/{id}/capture",
            format!("/documents/{document}/capture"),
            Body::Empty,
            Read,
            404,
        ),
        route(
            "GET",
            "/api/documents/{id}",
            format!("/api/documents/{document}"),
            Body::Empty,
            Read,
            200,
        ),
        route(
            "GET",
            "/review",
            "/review?status=all".into(),
            Body::Empty,
            Read,
            200,
        ),
        route(
            "GET",
            "/api/candidates",
            "/api/candidates?status=all".into(),
            Body::Empty,
            Read,
            200,
        ),
        route("GET", "/digests", "/digests".into(), Body::Empty, Read, 200),
        route(
            "GET",
            "/digests/{period}",
            format!("/digests/{p}"),
            Body::Empty,
            Read,
            200,
        ),
        route(
            "GET",
            "/digests/{period}/email",
            format!("/digests/{p}/email"),
            Body::Empty,
            Read,
            200,
        ),
        route(
            "GET",
            "/api/digests",
            "/api/digests".into(),
            Body::Empty,
            Read,
            200,
        ),
        route(
            "GET",
            "/api/digests/{period}",
            format!("/api/digests/{p}"),
            Body::Empty,
            Read,
            200,
        ),
        route("GET", "/sources", "/sources".into(), Body::Empty, Read, 200),
        route(
            "GET",
            "/api/sources",
            "/api/sources".into(),
            Body::Empty,
            Read,
            200,
        ),
        route("GET", "/rules", "/rules".into(), Body::Empty, Read, 200),
        route(
            "GET",
            "/api/rules",
            "/api/rules".into(),
            Body::Empty,
            Read,
            200,
        ),
        route(
            "POST",
            "/review/{id}/decide",
            format!("/review/{candidate}/decide"),
            form_body(&[("decision", "dismiss"), ("note", "thử"), ("status", "all")]),
            Review,
            303,
        ),
        route(
            "POST",
            "/review/{id}/assign",
            format!("/review/{candidate}/assign"),
            form_body(&[("status", "all")]),
            Review,
            303,
        ),
        route(
            "POST",
            "/api/candidates/{id}/review",
            format!("/api/candidates/{candidate}/review"),
            Body::Json(r#"{"decision":"dismiss","note":"thử"}"#.into()),
            Review,
            200,
        ),
        route(
            "POST",
            "/api/candidates/{id}/assign",
            format!("/api/candidates/{candidate}/assign"),
            Body::Empty,
            Review,
            200,
        ),
        route(
            "POST",
            "/rules/test",
            "/rules/test".into(),
            form_body(&[("toml", rule)]),
            Review,
            200,
        ),
        route(
            "POST",
            "/api/rules/test",
            "/api/rules/test".into(),
            Body::Json(serde_json::json!({"toml": rule}).to_string()),
            Review,
            200,
        ),
        route("GET", "/users", "/users".into(), Body::Empty, Admin, 200),
        route(
            "GET",
            "/api/users",
            "/api/users".into(),
            Body::Empty,
            Admin,
            200,
        ),
        route(
            "POST",
            "/users",
            "/users".into(),
            form_body(&[("name", "hoa"), ("role", "viewer"), ("password", PASSWORD)]),
            Admin,
            303,
        ),
        route(
            "POST",
            "/api/users",
            "/api/users".into(),
            Body::Json(
                serde_json::json!({"name": "hoa", "role": "viewer", "password": PASSWORD})
                    .to_string(),
            ),
            Admin,
            200,
        ),
        route(
            "POST",
            "/sources",
            "/sources".into(),
            form_body(&[
                ("name", "Báo Thử"),
                ("kind", "rss"),
                ("url", "https://bao-thu.example.vn/rss"),
                ("every", "1h"),
            ]),
            Admin,
            303,
        ),
        route(
            "POST",
            "/api/sources",
            "/api/sources".into(),
            Body::Json(
                r#"{"name":"Báo Thử","kind":"rss","url":"https://bao-thu.example.vn/rss"}"#.into(),
            ),
            Admin,
            200,
        ),
        // No recipients are configured: the sending fails upstream, after the role check.
        route(
            "POST",
            "/digests/{period}/send",
            format!("/digests/{p}/send"),
            Body::Empty,
            Admin,
            502,
        ),
        route(
            "POST",
            "/api/digests/{period}/send",
            format!("/api/digests/{p}/send"),
            Body::Empty,
            Admin,
            502,
        ),
        route(
            "GET",
            "/api/cases",
            "/api/cases".into(),
            Body::Empty,
            Cases,
            200,
        ),
        route("GET", "/cases", "/cases".into(), Body::Empty, Cases, 200),
        // No case exists here (cases.rs tests them): the role check comes first.
        route(
            "GET",
            "/api/cases/{id}/download",
            "/api/cases/1/download".into(),
            Body::Empty,
            Cases,
            404,
        ),
    ]
}

async fn first_candidate(base: &str, cookie: &str) -> (i64, i64) {
    let answer = request(
        base,
        "GET",
        "/api/candidates?status=open",
        Some(cookie),
        None,
        &Body::Empty,
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let json: serde_json::Value = serde_json::from_str(&answer.body).expect("json");
    let first = &json["candidates"][0];
    (
        first["id"].as_i64().expect("a candidate"),
        first["document"]["id"].as_i64().expect("its document"),
    )
}

#[test]
fn every_route_refuses_the_roles_that_may_not_use_it() {
    let (_world, server) = fixture(false);
    let base = server.base.clone();
    runtime().block_on(async move {
        let mut sessions = Vec::new();
        for (name, role) in USERS {
            let (cookie, csrf) = login(&base, name, PASSWORD).await;
            sessions.push((role, cookie, csrf));
        }
        let admin = sessions
            .iter()
            .find(|(r, _, _)| *r == "admin")
            .expect("admin")
            .clone();
        let (candidate, document) = first_candidate(&base, &admin.1).await;
        let table = routes(document, candidate);
        let mut checked = 0;
        for r in &table {
            let what = format!("{} {}", r.method, r.path);
            // Anonymous: pages send to the login page, the API and every POST say 401.
            let anon = request(&base, r.method, &r.path, None, None, &r.body).await;
            if r.need == Need::Public {
                assert_eq!(anon.status, r.ok, "anonymous {what}: {}", anon.body);
            } else if r.method == "GET" && !r.path.starts_with("/api/") {
                assert_eq!(
                    (anon.status, anon.location.as_str()),
                    (303, "/login"),
                    "anonymous {what}"
                );
            } else {
                assert_eq!(anon.status, 401, "anonymous {what}: {}", anon.body);
            }
            for (role, cookie, csrf) in &sessions {
                let answer =
                    request(&base, r.method, &r.path, Some(cookie), Some(csrf), &r.body).await;
                let expected = if role_may(role, r.need) { r.ok } else { 403 };
                assert_eq!(answer.status, expected, "{role} {what}: {}", answer.body);
                if r.method == "POST" {
                    // Without the CSRF token, or with a wrong one: refused before anything happens.
                    let missing =
                        request(&base, r.method, &r.path, Some(cookie), None, &r.body).await;
                    assert_eq!(missing.status, 403, "{role} {what} without CSRF token");
                    let wrong = "0".repeat(64);
                    let forged = request(
                        &base,
                        r.method,
                        &r.path,
                        Some(cookie),
                        Some(&wrong),
                        &r.body,
                    )
                    .await;
                    assert_eq!(forged.status, 403, "{role} {what} with a wrong CSRF token");
                }
                checked += 1;
            }
        }
        assert_eq!(checked, table.len() * USERS.len());

        // The OpenAPI document lists every API route with its methods.
        let viewer = &sessions[0];
        let doc = request(
            &base,
            "GET",
            "/api/openapi.json",
            Some(&viewer.1),
            None,
            &Body::Empty,
        )
        .await;
        let doc: serde_json::Value = serde_json::from_str(&doc.body).expect("openapi json");
        assert!(
            doc["openapi"]
                .as_str()
                .is_some_and(|v| v.starts_with("3.1")),
            "{doc}"
        );
        for r in table.iter().filter(|r| {
            r.template.starts_with("/api/") || matches!(r.template, "/healthz" | "/metrics")
        }) {
            let method = r.method.to_ascii_lowercase();
            assert!(
                doc["paths"][r.template][&method]["responses"].is_object(),
                "{} {} missing from the OpenAPI document",
                r.method,
                r.template
            );
        }

        // The search page pages through results and links its facets.
        let page = request(
            &base,
            "GET",
            "/search?q=chuyen&limit=1",
            Some(&admin.1),
            None,
            &Body::Empty,
        )
        .await
        .body;
        assert!(
            page.contains("class=\"pager\"") && page.contains("offset=1"),
            "no pager:\n{page}"
        );
        assert!(
            page.contains("<h3>Tuần</h3>") && page.contains("since=2023-03-"),
            "no week facet:\n{page}"
        );
        let by_date = request(
            &base,
            "GET",
            "/api/search?q=chuyen&sort=date&source=B%C3%A1o%20Ninh%20Thu%E1%BA%ADn",
            Some(&admin.1),
            None,
            &Body::Empty,
        )
        .await;
        let by_date: serde_json::Value = serde_json::from_str(&by_date.body).expect("json");
        let dates: Vec<&str> = by_date["hits"]
            .as_array()
            .expect("hits")
            .iter()
            .filter_map(|h| h["published_at"].as_str())
            .collect();
        assert!(
            !dates.is_empty() && dates.windows(2).all(|w| w[0] >= w[1]),
            "newest first: {dates:?}"
        );

        // Metrics: documents, candidates, the job queues, fetches.
        let metrics = request(&base, "GET", "/metrics", None, None, &Body::Empty)
            .await
            .body;
        for family in [
            "diembao_documents_indexed ",
            "diembao_candidates_open ",
            "diembao_jobs_queued{queue=\"diembao.fetch-page\"}",
            "diembao_jobs_failed{queue=\"diembao.visit-source\"}",
            "# TYPE diembao_fetches_24h gauge",
        ] {
            assert!(
                metrics.contains(family),
                "{family} missing from:\n{metrics}"
            );
        }
    });
}

/// The id of the hostile document, found through the review queue.
async fn hostile_document(base: &str, cookie: &str) -> i64 {
    let queue = request(
        base,
        "GET",
        "/api/candidates?status=open&category=gambling&limit=500",
        Some(cookie),
        None,
        &Body::Empty,
    )
    .await;
    let queue: serde_json::Value = serde_json::from_str(&queue.body).expect("json");
    queue["candidates"]
        .as_array()
        .expect("candidates")
        .iter()
        .find(|c| {
            c["document"]["url"]
                .as_str()
                .is_some_and(|u| u.starts_with("javascript:"))
        })
        .and_then(|c| c["document"]["id"].as_i64())
        .unwrap_or_else(|| panic!("the hostile document is a candidate: {queue}"))
}

/// Asserts that an HTML page carries no payload unescaped and no script but ours.
fn assert_inert(what: &str, answer: &Answer) {
    assert_eq!(answer.status, 200, "{what}: {}", answer.body);
    assert!(
        answer.content_type.starts_with("text/html"),
        "{what}: {}",
        answer.content_type
    );
    for payload in PAYLOADS {
        assert!(
            !answer.body.contains(payload),
            "{what} carries `{payload}` unescaped"
        );
    }
    let lower = answer.body.to_ascii_lowercase();
    assert!(
        !lower.contains("href=\"javascript:") && !lower.contains("src=\"javascript:"),
        "{what} links to javascript:"
    );
    let scripts = lower.matches("<script").count();
    let ours = lower
        .matches("<script src=\"/static/app.js\" defer></script>")
        .count();
    assert_eq!(scripts, ours, "{what} has a script of its own");
    assert!(
        !answer.csp.contains("'unsafe-inline'") || answer.csp.starts_with("sandbox"),
        "{what}: {}",
        answer.csp
    );
    assert!(
        !answer.csp.contains("script-src") || answer.csp.contains("script-src 'self'"),
        "{what}: {}",
        answer.csp
    );
}

#[test]
fn hostile_content_is_shown_escaped_on_every_page() {
    let (_world, server) = fixture(true);
    let base = server.base.clone();
    runtime().block_on(async move {
        let (cookie, csrf) = login(&base, "quan", PASSWORD).await;
        let get = |path: String| {
            let (base, cookie) = (base.clone(), cookie.clone());
            async move { request(&base, "GET", &path, Some(&cookie), None, &Body::Empty).await }
        };
        let id = hostile_document(&base, &cookie).await;
        let source = form(&[("source", "<b onmouseover=window.pwned=1>Nguồn lạ</b>"), ("q", "nhà cái")]);

        // A hostile source and a hostile account name, entered by an admin.
        let add = request(
            &base,
            "POST",
            "/api/sources",
            Some(&cookie),
            Some(&csrf),
            &Body::Json(serde_json::json!({"name": "<script>window.pwned=1</script>", "kind": "rss", "url": "https://evil.example/rss?a=\"><svg onload=window.pwned=1>"}).to_string()),
        )
        .await;
        assert_eq!(add.status, 200, "{}", add.body);
        let add = request(
            &base,
            "POST",
            "/api/users",
            Some(&cookie),
            Some(&csrf),
            &Body::Json(serde_json::json!({"name": "<img/src=x/onerror=window.pwned=1>", "role": "viewer", "password": PASSWORD}).to_string()),
        )
        .await;
        assert_eq!(add.status, 200, "{}", add.body);

        let escaped_title = "&lt;script&gt;window.pwned=1&lt;/script&gt;Nhà cái";
        let pages: Vec<(String, Option<&str>)> = vec![
            ("/search?q=nh%C3%A0%20c%C3%A1i%20khuy%E1%BA%BFn%20m%C3%A3i".to_string(), Some(escaped_title)),
            (format!("/search?{source}"), Some(escaped_title)),
            (format!("/documents/{id}"), Some(escaped_title)),
            ("/review?category=gambling".to_string(), Some(escaped_title)),
            ("/review?status=all&source=%3Cb%20onmouseover%3Dwindow.pwned%3D1%3ENgu%E1%BB%93n%20l%E1%BA%A1%3C%2Fb%3E".to_string(), Some(escaped_title)),
            ("/digests".to_string(), None),
            (format!("/digests/{WEEK}"), None),
            (format!("/digests/{WEEK}/email"), Some("&lt;script&gt;window.pwned=1&lt;/script&gt;")),
            ("/sources".to_string(), Some("&lt;script&gt;window.pwned=1&lt;/script&gt;")),
            ("/users".to_string(), Some("&lt;img/src=x/onerror=window.pwned=1&gt;")),
            ("/rules".to_string(), None),
        ];
        for (path, shown) in &pages {
            let answer = get(path.clone()).await;
            assert_inert(path, &answer);
            if let Some(shown) = shown {
                assert!(answer.body.contains(shown), "{path} does not show the hostile content (escaped):\n{}", answer.body);
            }
        }
        let email = get(format!("/digests/{WEEK}/email")).await;
        assert!(email.csp.starts_with("sandbox") && !email.csp.contains("script-src"), "{}", email.csp);

        // The rule test shows the hostile document among its hits.
        let rule = "[[rule]]\nid = \"ca-do\"\ncategory = \"gambling\"\nseverity = \"high\"\nquery = '\"nhà cái\"'\n";
        let test = request(&base, "POST", "/rules/test", Some(&cookie), Some(&csrf), &form_body(&[("toml", rule)])).await;
        assert_inert("POST /rules/test", &test);
        assert!(test.body.contains(escaped_title), "{}", test.body);
        // A rule text that is itself hostile is shown escaped too.
        let bad = request(&base, "POST", "/rules/test", Some(&cookie), Some(&csrf), &form_body(&[("toml", "</textarea><script>window.pwned=1</script>")])).await;
        assert_eq!(bad.status, 400);
        assert!(!bad.body.contains("</textarea><script>"), "{}", bad.body);

        // The JSON API answers JSON, never HTML.
        for path in [format!("/api/documents/{id}"), "/api/candidates".to_string(), "/api/search?q=nh%C3%A0%20c%C3%A1i".to_string()] {
            let answer = get(path.clone()).await;
            assert_eq!(answer.status, 200, "{path}");
            assert!(answer.content_type.starts_with("application/json"), "{path}: {}", answer.content_type);
        }
        let doc: serde_json::Value = serde_json::from_str(&get(format!("/api/documents/{id}")).await.body).expect("json");
        assert!(doc["matches"].as_array().is_some_and(|m| !m.is_empty()), "{doc}");
        assert!(doc["candidate"]["status"].is_string(), "{doc}");
    });
}

// ---------------------------------------------------------------- a real browser

/// A program on the PATH.
fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_chromedriver(program: &Path) -> Driver {
    let port = crate::harness::free_port();
    let child = Command::new(program)
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    // Owned at once, so that it is stopped (and waited for) however this ends.
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    crate::harness::wait_for_port(port, Duration::from_secs(10), "chromedriver");
    driver
}

/// Where the screenshots go: `target/ui-screenshots/`.
fn screenshot_dir() -> PathBuf {
    let target = Path::new(BIN)
        .parent()
        .and_then(Path::parent)
        .expect("target dir");
    let dir = target.join("ui-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

async fn screenshot(browser: &fantoccini::Client, name: &str) {
    let png = browser.screenshot().await.expect("screenshot");
    std::fs::write(screenshot_dir().join(format!("{name}.png")), png).expect("write screenshot");
}

async fn pwned(browser: &fantoccini::Client) -> String {
    let value = browser
        .execute("return typeof window.pwned;", vec![])
        .await
        .expect("script");
    value.as_str().unwrap_or("?").to_string()
}

/// Waits until the page's URL satisfies `done` and the page has loaded.
async fn wait_for_url(
    browser: &fantoccini::Client,
    what: &str,
    done: impl Fn(&str) -> bool,
) -> Result<(), String> {
    for _ in 0..100 {
        if let Ok(url) = browser.current_url().await
            && done(url.as_str())
        {
            let ready = browser
                .execute("return document.readyState;", vec![])
                .await
                .ok();
            if ready.as_ref().and_then(|v| v.as_str()) == Some("complete") {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let url = browser
        .current_url()
        .await
        .map(|u| u.to_string())
        .unwrap_or_default();
    let text = match browser.find(fantoccini::Locator::Css("body")).await {
        Ok(body) => body.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    };
    Err(format!(
        "timed out waiting for {what}: at {url}, showing:\n{text}"
    ))
}

async fn press(browser: &fantoccini::Client, key: char) {
    use fantoccini::actions::{InputSource, KeyAction, KeyActions};
    let keys = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: key })
        .then(KeyAction::Up { value: key });
    browser.perform_actions(keys).await.expect("key press");
}

async fn hits(browser: &fantoccini::Client) -> usize {
    browser
        .find_all(fantoccini::Locator::Css("article.hit"))
        .await
        .expect("hits")
        .len()
}

#[test]
fn a_real_browser_searches_reads_and_reviews_without_running_injected_script() {
    let (Some(chromium), Some(chromedriver)) = (
        which("chromium").or_else(|| which("chromium-browser")),
        which("chromedriver"),
    ) else {
        panic!(
            "the browser test needs Chromium and its WebDriver: apt-get install chromium chromium-driver (CI installs them in .ci/run)"
        );
    };
    let (_world, server) = fixture(true);
    let driver = start_chromedriver(&chromedriver);
    let profile = tempfile::tempdir().expect("profile dir");
    let base = server.base.clone();
    let webdriver = driver.url.clone();
    runtime().block_on(async move {
        // hyper-rustls builds its client config from the process-wide provider.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), serde_json::json!("chrome"));
        capabilities.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=1280,1000",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }),
        );
        let browser = fantoccini::ClientBuilder::rustls()
            .expect("tls")
            .capabilities(capabilities)
            .connect(&webdriver)
            .await
            .expect("a Chromium session over WebDriver");
        let (cookie, _) = login(&base, "minh", PASSWORD).await;
        let hostile = hostile_document(&base, &cookie).await;
        // Browse in a task of its own, so that the browser is closed (not left running
        // behind a stopped chromedriver) whatever happens there.
        let session = browser.clone();
        let outcome = tokio::spawn(async move { browse(&session, &base, hostile).await }).await;
        let _ = browser.close().await;
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(message)) => panic!("{message}"),
            Err(failed) => std::panic::resume_unwind(failed.into_panic()),
        }
    });
    drop(driver);
}

async fn browse(browser: &fantoccini::Client, base: &str, hostile: i64) -> Result<(), String> {
    use fantoccini::Locator;
    let fail = |what: &str, err: &dyn std::fmt::Display| format!("{what}: {err}");

    // Signing in through the form lands on the search page.
    browser
        .goto(&format!("{base}/search"))
        .await
        .map_err(|e| fail("open", &e))?;
    wait_for_url(browser, "the login page", |u| u.ends_with("/login")).await?;
    screenshot(browser, "01-login").await;
    browser
        .find(Locator::Css("input[name=user]"))
        .await
        .map_err(|e| fail("user field", &e))?
        .send_keys("quan")
        .await
        .map_err(|e| fail("type", &e))?;
    browser
        .find(Locator::Css("input[name=password]"))
        .await
        .map_err(|e| fail("password field", &e))?
        .send_keys(PASSWORD)
        .await
        .map_err(|e| fail("type", &e))?;
    browser
        .find(Locator::Css("form.login button"))
        .await
        .map_err(|e| fail("login button", &e))?
        .click()
        .await
        .map_err(|e| fail("click", &e))?;
    wait_for_url(browser, "the search page", |u| u.ends_with("/search")).await?;

    // Search without and with diacritics: the same documents.
    let field = browser
        .find(Locator::Css("input[name=q]"))
        .await
        .map_err(|e| fail("query field", &e))?;
    field
        .send_keys("chuyen doi so\n")
        .await
        .map_err(|e| fail("type query", &e))?;
    wait_for_url(browser, "search results", |u| u.contains("q=chuyen")).await?;
    let plain = hits(browser).await;
    screenshot(browser, "02-search-without-diacritics").await;
    browser
        .goto(&format!(
            "{base}/search?q=chuy%E1%BB%83n%20%C4%91%E1%BB%95i%20s%E1%BB%91"
        ))
        .await
        .map_err(|e| fail("search", &e))?;
    let accented = hits(browser).await;
    screenshot(browser, "03-search-with-diacritics").await;
    if plain == 0 || accented == 0 {
        return Err(format!(
            "search found {plain} hits without diacritics, {accented} with"
        ));
    }
    let highlighted = browser
        .find_all(Locator::Css(".snippet b"))
        .await
        .map_err(|e| fail("snippets", &e))?
        .len();
    if highlighted == 0 {
        return Err("no highlighted words in the snippets".into());
    }

    // The first hit opens its document page.
    browser
        .find(Locator::Css("article.hit h2 a"))
        .await
        .map_err(|e| fail("first hit", &e))?
        .click()
        .await
        .map_err(|e| fail("click hit", &e))?;
    wait_for_url(browser, "a document page", |u| u.contains("/documents/")).await?;
    let text = browser
        .find(Locator::Css(".doctext"))
        .await
        .map_err(|e| fail("document text", &e))?
        .text()
        .await
        .map_err(|e| fail("text", &e))?;
    if text.trim().is_empty() {
        return Err("the document page shows no text".into());
    }
    screenshot(browser, "04-document").await;

    // The review queue: `c` confirms the selected candidate, which leaves the queue, and
    // the next one is selected.
    browser
        .goto(&format!("{base}/review"))
        .await
        .map_err(|e| fail("review", &e))?;
    let before = browser
        .find_all(Locator::Css("#queue .candidate"))
        .await
        .map_err(|e| fail("queue", &e))?;
    if before.len() < 2 {
        return Err(format!("the queue has {} candidates", before.len()));
    }
    screenshot(browser, "05-review-queue").await;
    press(browser, 'j').await;
    let selected = browser
        .find(Locator::Css("#queue .candidate.selected"))
        .await
        .map_err(|e| fail("selected", &e))?;
    let id = selected
        .attr("data-candidate")
        .await
        .map_err(|e| fail("id", &e))?
        .ok_or("no candidate id")?;
    let second = before[1]
        .attr("data-candidate")
        .await
        .map_err(|e| fail("id", &e))?;
    if second.as_deref() != Some(id.as_str()) {
        return Err(format!(
            "`j` selected candidate {id}, not the second one ({second:?})"
        ));
    }
    let third = before.get(2).map(|e| e.attr("data-candidate"));
    let third = match third {
        Some(f) => f.await.map_err(|e| fail("id", &e))?,
        None => None,
    };
    press(browser, 'c').await;
    wait_for_url(browser, "the queue after the decision", |u| {
        u.contains("at=1")
    })
    .await?;
    screenshot(browser, "06-review-after-confirm").await;
    if browser.find(Locator::Id(&format!("c{id}"))).await.is_ok() {
        return Err(format!("candidate {id} is still in the queue after `c`"));
    }
    let after = browser
        .find_all(Locator::Css("#queue .candidate"))
        .await
        .map_err(|e| fail("queue", &e))?
        .len();
    if after + 1 != before.len() {
        return Err(format!("the queue went from {} to {after}", before.len()));
    }
    let now = browser
        .find(Locator::Css("#queue .candidate.selected"))
        .await
        .map_err(|e| fail("selected", &e))?;
    let now = now
        .attr("data-candidate")
        .await
        .map_err(|e| fail("id", &e))?;
    if now != third {
        return Err(format!(
            "after the decision {now:?} is selected, not the next candidate {third:?}"
        ));
    }
    browser
        .goto(&format!("{base}/review?status=confirmed"))
        .await
        .map_err(|e| fail("confirmed", &e))?;
    if browser.find(Locator::Id(&format!("c{id}"))).await.is_err() {
        return Err(format!("candidate {id} is not among the confirmed"));
    }

    // Pages that show the hostile document run none of its script.
    // (The page may not fetch anything itself: the policy has no connect-src.)
    let blocked = browser
        .execute(
            "return fetch('/api/candidates').then(() => 'fetched', () => 'blocked');",
            vec![],
        )
        .await
        .map_err(|e| fail("fetch from the page", &e))?;
    if blocked.as_str() != Some("blocked") {
        return Err(format!("a page script could fetch: {blocked}"));
    }
    let pages = [
        (
            "07-hostile-search",
            "/search?q=nh%C3%A0%20c%C3%A1i%20khuy%E1%BA%BFn%20m%C3%A3i".to_string(),
        ),
        ("08-hostile-document", format!("/documents/{hostile}")),
        ("09-hostile-review", "/review?category=gambling".to_string()),
        ("10-digest", format!("/digests/{WEEK}")),
        ("11-sources", "/sources".to_string()),
        ("12-rules", "/rules".to_string()),
    ];
    for (name, path) in pages {
        browser
            .goto(&format!("{base}{path}"))
            .await
            .map_err(|e| fail(&path, &e))?;
        tokio::time::sleep(Duration::from_millis(300)).await;
        // Hover and click where a handler would have been.
        if let Ok(element) = browser.find(Locator::Css("main")).await {
            let _ = element.click().await;
        }
        let state = pwned(browser).await;
        screenshot(browser, name).await;
        if state != "undefined" {
            return Err(format!(
                "{path}: window.pwned is {state}: injected script ran"
            ));
        }
    }
    // The rule test (the example rule fires on the hostile document) and the accounts.
    browser
        .goto(&format!("{base}/rules"))
        .await
        .map_err(|e| fail("rules", &e))?;
    browser
        .find(Locator::Css("form[action=\"/rules/test\"] button"))
        .await
        .map_err(|e| fail("rule test button", &e))?
        .click()
        .await
        .map_err(|e| fail("run the rule test", &e))?;
    wait_for_url(browser, "the rule test", |u| u.ends_with("/rules/test")).await?;
    let rows = browser
        .find_all(Locator::Css("table.grid tr"))
        .await
        .map_err(|e| fail("hits", &e))?
        .len();
    screenshot(browser, "13-rule-test").await;
    if rows < 3 || pwned(browser).await != "undefined" {
        return Err(format!(
            "the rule test shows {rows} rows, or ran injected script"
        ));
    }
    browser
        .goto(&format!("{base}/users"))
        .await
        .map_err(|e| fail("users", &e))?;
    screenshot(browser, "14-users").await;
    let title = browser.title().await.map_err(|e| fail("title", &e))?;
    if title.is_empty() {
        return Err("the last page has no title".into());
    }
    Ok(())
}
