//! `sources add URL`: an outlet added by its home page. Small sites on loopback, each
//! found another way: a declared feed, a feed listed on the site's page of feeds, a
//! sitemap named in robots.txt, nothing at all (an HTML listing then needs a link
//! selector), a Mastodon profile and a YouTube channel feed.

use axum::http::header;
use axum::routing::{MethodRouter, get};

use crate::harness::{World, serve_in_thread};

/// A route answering `body` as `content_type`.
fn typed(content_type: &'static str, body: impl Into<String>) -> MethodRouter {
    let body: String = body.into();
    get(move || {
        let body = body.clone();
        async move { ([(header::CONTENT_TYPE, content_type)], body) }
    })
}

/// A route answering an HTML page.
fn page(html: &'static str) -> MethodRouter {
    typed("text/html; charset=utf-8", html)
}

/// A route answering an RSS feed of `items` items.
fn rss(title: &str, items: usize) -> MethodRouter {
    let items: String = (0..items)
        .map(|i| format!("<item><title>Tin {i}</title><link>/tin-{i}.html</link></item>"))
        .collect();
    typed(
        "application/rss+xml; charset=utf-8",
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><title>{title}</title>{items}</channel></rss>"
        ),
    )
}

/// Serves one site on a port of its own (a host of its own); returns its origin.
fn serve(app: impl FnOnce(String) -> axum::Router + Send + 'static) -> String {
    serve_in_thread(|tx| async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let origin = format!("http://{}", listener.local_addr().expect("addr"));
        let app = app(origin.clone());
        tx.send(origin).expect("send");
        let _ = axum::serve(listener, app).await;
    })
}

fn add(world: &World, url: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["sources", "add", url, "--allow-private-network", "--json"];
    args.extend_from_slice(extra);
    serde_json::from_str(&world.ok(&args)).expect("json")
}

/// What `sources add --json` proposed and stored: its kind, address and name.
fn assert_proposed(found: &serde_json::Value, kind: &str, url: &str, name: &str) {
    let proposed = &found["discovery"]["proposed"];
    assert_eq!(
        (&proposed["kind"], &proposed["url"], &proposed["name"]),
        (&kind.into(), &url.into(), &name.into()),
        "{found}"
    );
}

#[test]
fn sources_add_finds_an_outlet_s_feeds_and_sitemaps_from_its_home_page() {
    let world = World::new();
    // A declared feed (and a smaller one linked in the footer); og:site_name names it,
    // though its <title> comes first.
    let declared = serve(|_| {
        axum::Router::new()
            .route(
                "/",
                page(
                    "<html><head><title>Trang chủ - Báo Thử Nghiệm</title>\
                     <meta property=\"og:site_name\" content=\"Báo Thử Nghiệm\">\
                     <link rel=\"alternate\" type=\"application/rss+xml\" href=\"/rss/trang-chu.rss\"></head>\
                     <body><footer><a href=\"/rss/the-thao.rss\">RSS Thể thao</a></footer></body></html>",
                ),
            )
            .route("/rss/trang-chu.rss", rss("Trang chủ", 5))
            .route("/rss/the-thao.rss", rss("Thể thao", 2))
    });
    // No declared feed: its page of feeds (/rss.html, linked from the home page) lists one
    // a section; the site has no name of its own but its feed's title.
    let listed = serve(|_| {
        axum::Router::new()
            .route("/", page("<html><body><a href=\"/rss.html\">RSS</a></body></html>"))
            .route(
                "/rss.html",
                page(
                    "<html><body><a href=\"/rss/thoi-su.rss\">Thời sự</a><a href=\"/rss/kinh-te.rss\">Kinh tế</a></body></html>",
                ),
            )
            .route("/rss/thoi-su.rss", rss("Thời sự - Tin Biển", 3))
            .route("/rss/kinh-te.rss", rss("Kinh tế - Tin Biển", 7))
    });
    // No feed; robots.txt names a sitemap at an unusual address.
    let mapped = serve(|origin| {
        axum::Router::new()
            .route(
                "/",
                page("<html><head><title>Thời báo Cát</title></head><body></body></html>"),
            )
            .route(
                "/robots.txt",
                typed(
                    "text/plain; charset=utf-8",
                    format!("User-agent: *\nDisallow:\nSitemap: {origin}/so-do/bai-viet.xml\n"),
                ),
            )
            .route(
                "/so-do/bai-viet.xml",
                typed(
                    "application/xml",
                    format!(
                        "<?xml version=\"1.0\"?><urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\
                         <url><loc>{origin}/a.html</loc></url><url><loc>{origin}/b.html</loc></url></urlset>"
                    ),
                ),
            )
    });
    // A Mastodon instance (a profile, the account lookup, the statuses) that also serves
    // a YouTube-style channel feed.
    let social = serve(|_| {
        axum::Router::new()
            .route("/@tinnhanh", page("<html><body>Tin Nhanh</body></html>"))
            .route(
                "/api/v1/accounts/lookup",
                typed(
                    "application/json",
                    r#"{"id":"42","username":"tinnhanh","display_name":"Tin Nhanh"}"#,
                ),
            )
            .route(
                "/api/v1/accounts/42/statuses",
                typed(
                    "application/json",
                    r#"[{"id":"1","url":"/@tinnhanh/1","content":"<p>Mưa</p>","visibility":"public","account":{"display_name":"Tin Nhanh","acct":"tinnhanh","username":"tinnhanh"}}]"#,
                ),
            )
            .route(
                "/kenh-mot",
                page(
                    "<html><head><title>Kênh Một - YouTube</title>\
                     <link rel=\"alternate\" type=\"application/rss+xml\" href=\"/feeds/videos.xml\"></head></html>",
                ),
            )
            .route(
                "/feeds/videos.xml",
                typed(
                    "application/atom+xml",
                    "<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\"><id>yt:channel:UC1</id><title>Kênh Một</title>\
                     <entry><id>yt:video:a</id><title>A</title><link rel=\"alternate\" href=\"/watch?v=a\"/></entry></feed>",
                ),
            )
    });

    // Nothing to follow but the page itself.
    let bare = serve(|_| {
        axum::Router::new().route(
            "/",
            page(
                "<html><head><title>Đất Nắng</title></head><body><h3><a href=\"/a.html\">A</a></h3></body></html>",
            ),
        )
    });

    // The feed with the most items is proposed.
    let found = add(&world, &format!("{declared}/"), &[]);
    assert_proposed(
        &found,
        "rss",
        &format!("{declared}/rss/trang-chu.rss"),
        "Báo Thử Nghiệm",
    );
    assert_eq!(
        found["discovery"]["feeds"].as_array().map(Vec::len),
        Some(2),
        "{found}"
    );
    let found = add(&world, &format!("{listed}/"), &[]);
    assert_proposed(
        &found,
        "rss",
        &format!("{listed}/rss/kinh-te.rss"),
        "Kinh tế - Tin Biển",
    );
    let found = add(&world, &format!("{mapped}/"), &[]);
    assert_proposed(
        &found,
        "sitemap",
        &format!("{mapped}/so-do/bai-viet.xml"),
        "Thời báo Cát",
    );

    // Neither feed nor sitemap: refused with what to do, then added as a listing page.
    let refused = world.run(&[
        "sources",
        "add",
        &format!("{bare}/"),
        "--allow-private-network",
    ]);
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        message.contains("no feed or sitemap found") && message.contains("--link-selector"),
        "{message}"
    );
    let found = add(&world, &format!("{bare}/"), &["--link-selector", "h3 a"]);
    assert_proposed(&found, "html", &format!("{bare}/"), "Đất Nắng");

    // Social addresses are the sources they are.
    let found = add(&world, &format!("{social}/@tinnhanh"), &[]);
    assert_proposed(
        &found,
        "mastodon",
        &format!("{social}/api/v1/accounts/42/statuses"),
        "Tin Nhanh",
    );
    let found = add(&world, &format!("{social}/feeds/videos.xml"), &[]);
    assert_proposed(
        &found,
        "youtube",
        &format!("{social}/feeds/videos.xml"),
        "Kênh Một",
    );

    // A channel page declares its feed: the same youtube source, named by the page.
    let found = add(&world, &format!("{social}/kenh-mot"), &[]);
    assert_proposed(
        &found,
        "youtube",
        &format!("{social}/feeds/videos.xml"),
        "Kênh Một - YouTube",
    );

    // `sources list` shows all six as added (the channel once: sources are by address).
    let list: serde_json::Value =
        serde_json::from_str(&world.ok(&["sources", "list", "--json"])).expect("json");
    let mut kinds: Vec<&str> = list
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|s| s["kind"].as_str())
        .collect();
    kinds.sort_unstable();
    assert_eq!(
        kinds,
        ["html", "mastodon", "rss", "rss", "sitemap", "youtube"],
        "{list}"
    );
}
