//! The web UI and API through real HTTP: sessions, roles, CSRF, security headers.

use std::io::Write;
use std::process::{Child, Stdio};
use std::time::Duration;

use crate::harness::{World, free_port, shared, wait_for_port};

pub struct Server {
    child: Child,
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn add_user(world: &World, name: &str, role: &str, password: &str) {
    let mut child = world
        .cmd()
        .args(["users", "add", name, "--role", role, "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("users add");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{password}\n").as_bytes())
        .expect("password");
    assert!(child.wait().expect("wait").success(), "users add {name}");
}

pub fn serve(world: &World) -> Server {
    start(world, "serve", Duration::from_secs(10))
}

/// `diembao COMMAND --addr …` on a free loopback port, once it listens (at most `within`).
fn start(world: &World, command: &str, within: Duration) -> Server {
    let port = free_port();
    let child = world
        .cmd()
        .args([command, "--addr", &format!("127.0.0.1:{port}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect(command);
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    wait_for_port(port, within, &format!("diembao {command}"));
    server
}

/// A urlencoded form body.
pub fn form(fields: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// Logs in through the JSON API; returns the session cookie and the CSRF token.
pub async fn login(base: &str, user: &str, password: &str) -> (String, String) {
    let response = client()
        .post(format!("{base}/api/login"))
        .header("content-type", "application/json")
        .body(serde_json::json!({"user": user, "password": password}).to_string())
        .send()
        .await
        .expect("login");
    assert_eq!(response.status(), 200, "login {user}");
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .expect("cookie")
        .to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let cookie = cookie.split(';').next().expect("pair").to_string();
    let body: serde_json::Value =
        serde_json::from_str(&response.text().await.expect("body")).expect("json");
    (cookie, body["csrf"].as_str().expect("csrf").to_string())
}

#[test]
fn sessions_roles_and_csrf_guard_the_api() {
    let world = World::new();
    let docs = shared().join("corpus/vi-search-dev/docs.jsonl");
    world.ok(&["ingest", docs.to_str().expect("path")]);
    add_user(&world, "lan", "viewer", "mật-khẩu-dài");
    add_user(&world, "police", "liaison", "mật-khẩu-dài");
    let short = world
        .cmd()
        .args(["users", "add", "x", "--role", "viewer", "--password-stdin"])
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert_eq!(short.status.code(), Some(2), "an empty password is refused");
    let server = serve(&world);
    let base = server.base.clone();
    runtime().block_on(async move {
        let http = client();
        // Anonymous: the API says 401, pages send to the login page; health and metrics are open.
        let r = http
            .get(format!("{base}/api/search?q=chuyen"))
            .send()
            .await
            .expect("get");
        assert_eq!(r.status(), 401);
        let r = http
            .get(format!("{base}/search?q=chuyen"))
            .send()
            .await
            .expect("get");
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/login");
        assert_eq!(
            http.get(format!("{base}/healthz"))
                .send()
                .await
                .expect("get")
                .status(),
            200
        );
        let metrics = http
            .get(format!("{base}/metrics"))
            .send()
            .await
            .expect("get")
            .text()
            .await
            .expect("text");
        assert!(metrics.contains("diembao_documents_stored 45"), "{metrics}");
        let login_page = http.get(format!("{base}/login")).send().await.expect("get");
        let csp = login_page.headers()["content-security-policy"]
            .to_str()
            .expect("csp")
            .to_string();
        assert!(
            !csp.contains("unsafe-inline") && csp.contains("default-src 'none'"),
            "{csp}"
        );

        // Wrong password: 401.
        let r = http
            .post(format!("{base}/api/login"))
            .header("content-type", "application/json")
            .body(r#"{"user":"lan","password":"sai"}"#)
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 401);

        let (cookie, csrf) = login(&base, "lan", "mật-khẩu-dài").await;
        let r = http
            .get(format!("{base}/api/search?q=chuyen%20doi%20so"))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("get");
        assert_eq!(r.status(), 200);
        let body: serde_json::Value =
            serde_json::from_str(&r.text().await.expect("text")).expect("json");
        assert!(body["total"].as_u64() > Some(0), "{body}");
        assert!(body["hits"].as_array().is_some_and(|h| !h.is_empty()));
        assert!(body["facets"]["source"].is_object(), "{body}");
        let page = http
            .get(format!("{base}/search?q=chuyen"))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("get");
        assert_eq!(page.status(), 200);
        assert!(page.text().await.expect("text").contains("<b>"));

        // A liaison sees no search.
        let (liaison, _) = login(&base, "police", "mật-khẩu-dài").await;
        let r = http
            .get(format!("{base}/api/search?q=chuyen"))
            .header("cookie", &liaison)
            .send()
            .await
            .expect("get");
        assert_eq!(r.status(), 403);

        // State changes need the CSRF token.
        let r = http
            .post(format!("{base}/logout"))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 403);
        let r = http
            .post(format!("{base}/logout"))
            .header("cookie", &cookie)
            .header("x-csrf-token", "0".repeat(64))
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 403);
        let r = http
            .post(format!("{base}/logout"))
            .header("cookie", &cookie)
            .header("x-csrf-token", &csrf)
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 303);
        let r = http
            .get(format!("{base}/api/search?q=chuyen"))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("get");
        assert_eq!(r.status(), 401, "the session ended with the logout");

        // Cross-site login attempts are refused; repeated failures are limited.
        let r = http
            .post(format!("{base}/login"))
            .header("origin", "http://evil.example")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[("user", "lan"), ("password", "mật-khẩu-dài")]))
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 403);
        let mut last = 0;
        for _ in 0..6 {
            let r = http
                .post(format!("{base}/login"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form(&[("user", "lan"), ("password", "sai")]))
                .send()
                .await
                .expect("post");
            last = r.status().as_u16();
        }
        assert_eq!(last, 429);
    });
}

/// The README's first command: `diembao demo` serves the bundled sites on loopback,
/// crawls them into its data dir and opens the UI on top, where what it crawled is found.
#[test]
fn the_demo_crawls_its_bundled_sites_and_serves_what_it_found() {
    // (The demo keeps to SQLite in its data dir, whatever the database of the suite.)
    let world = World::new();
    // The UI opens once the crawl is done (a debug build takes a while).
    let server = start(&world, "demo", Duration::from_secs(180));
    runtime().block_on(async {
        let body = client()
            .get(format!("{}/api/search?q=chuyen+doi+so", server.base))
            .send()
            .await
            .expect("search")
            .text()
            .await
            .expect("body");
        let found: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        assert!(
            found["total"].as_u64().is_some_and(|n| n > 0),
            "typed without diacritics, the demo's articles are found: {found}"
        );
        let page = client()
            .get(format!("{}/search?q=chuyen+doi+so", server.base))
            .send()
            .await
            .expect("search page");
        assert_eq!(page.status(), 200);
        let html = page.text().await.expect("html");
        let title = found["hits"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|hit| hit["title"].as_str())
            .find(|title| !title.contains(['&', '<', '>', '"', '\'']))
            .expect("a hit with a plain title");
        assert!(html.contains(title), "the search page lists {title}");
    });
    assert!(
        world.data_dir().join("demo/diembao.sqlite").exists(),
        "the demo keeps its data in the data dir"
    );
}
