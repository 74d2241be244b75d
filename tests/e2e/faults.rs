//! The fault pack: hostile or broken responses served on loopback. None of them may take
//! the crawl down; each is counted under its reason and the good pages are stored.

use std::io::Write;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::harness::{World, jsonl, serve_in_thread};

fn article(title: &str) -> String {
    let para = "Đây là một đoạn văn bản đủ dài để trở thành nội dung chính của bài báo, nói về công tác chuyển đổi số ở địa phương trong năm nay.";
    format!(
        "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\"><title>{title}</title></head><body><article><h1>{title}</h1>\
         <p>{para}</p><p>{para}</p><p>{para}</p><p>{para}</p></article></body></html>"
    )
}

fn gzip_bomb() -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![b' '; 1 << 20];
    for _ in 0..64 {
        encoder.write_all(&zeros).expect("gzip");
    }
    encoder.finish().expect("gzip")
}

/// Serves the fault pack; returns the HTTP origin and the raw "reset" origin.
fn serve_faults() -> (String, String) {
    serve_in_thread(|tx| async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let origin = format!("http://{}", listener.local_addr().expect("addr"));
        let raw = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind raw");
        let raw_origin = format!("http://{}", raw.local_addr().expect("addr"));
        let feed_origin = origin.clone();
        let reset_origin = raw_origin.clone();
        let bomb = gzip_bomb();
        let app = axum::Router::new()
                .route(
                    "/feed.rss",
                    get(move || {
                        let o = feed_origin.clone();
                        let r = reset_origin.clone();
                        async move {
                            let items: String = [
                                format!("{o}/good.html"),
                                format!("{o}/oversize.html"),
                                format!("{o}/bomb.html"),
                                format!("{o}/loop-a.html"),
                                format!("{o}/invalid-utf8.html"),
                                format!("{o}/image.png"),
                                format!("{r}/reset.html"),
                            ]
                            .iter()
                            .map(|u| format!("<item><title>x</title><link>{u}</link></item>"))
                            .collect();
                            (
                                [(header::CONTENT_TYPE, "application/rss+xml")],
                                format!("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>F</title>{items}</channel></rss>"),
                            )
                        }
                    }),
                )
                .route("/good.html", get(|| async { axum::response::Html(article("Bài tốt")) }))
                .route(
                    "/oversize.html",
                    get(|| async {
                        let mut body = article("Quá lớn").into_bytes();
                        body.resize(9 * 1024 * 1024, b' ');
                        ([(header::CONTENT_TYPE, "text/html")], body)
                    }),
                )
                .route(
                    "/bomb.html",
                    get(move || {
                        let bomb = bomb.clone();
                        async move {
                            let mut response = Response::new(axum::body::Body::from(bomb));
                            let headers = response.headers_mut();
                            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
                            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                            response
                        }
                    }),
                )
                .route("/loop-a.html", get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/loop-b.html")]).into_response() }))
                .route("/loop-b.html", get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/loop-a.html")]).into_response() }))
                .route(
                    "/invalid-utf8.html",
                    get(|| async {
                        let mut body = article("Bài lỗi mã").into_bytes();
                        let at = body.len() / 2;
                        body.splice(at..at, [0xff, 0xfe, 0xc3, 0x28]);
                        ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body)
                    }),
                )
                .route("/image.png", get(|| async { ([(header::CONTENT_TYPE, "image/png")], vec![0x89u8, b'P', b'N', b'G', 0, 0]) }))
                .route("/not-a-feed.rss", get(|| async { axum::response::Html("<html><body><p>Trang HTML, không phải RSS</p></body></html>") }))
                .route(
                    "/empty-sitemap.xml",
                    get(|| async {
                        ([(header::CONTENT_TYPE, "application/xml")], "<?xml version=\"1.0\"?><urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\"></urlset>")
                    }),
                );
        tokio::spawn(async move {
            // Answers with headers promising 10 kB, sends 100 bytes, then resets.
            while let Ok((mut socket, _)) = raw.accept().await {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let path = String::from_utf8_lossy(&buf);
                if path.starts_with("GET /robots.txt") {
                    let _ = socket
                        .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
                        .await;
                    continue;
                }
                let _ = socket
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 10000\r\n\r\n<html><body><p>cut")
                        .await;
                drop(socket);
            }
        });
        tx.send((origin, raw_origin)).expect("send");
        let _ = axum::serve(listener, app).await;
    })
}

#[test]
fn fault_pack_never_takes_the_crawl_down() {
    let world = World::new();
    let (origin, _) = serve_faults();
    let file = world.data_dir().join("sources.toml");
    std::fs::write(
        &file,
        format!(
            "[[source]]\nname = \"Faults\"\nkind = \"rss\"\nurl = \"{origin}/feed.rss\"\n\n\
             [[source]]\nname = \"HTML posing as a feed\"\nkind = \"rss\"\nurl = \"{origin}/not-a-feed.rss\"\n\n\
             [[source]]\nname = \"Empty sitemap\"\nkind = \"sitemap\"\nurl = \"{origin}/empty-sitemap.xml\"\n"
        ),
    )
    .expect("write");
    world.ok(&["sources", "import", file.to_str().expect("path")]);
    let summary: serde_json::Value =
        serde_json::from_str(&world.ok(&["crawl", "--once", "--allow-private-network", "--json"]))
            .expect("json");
    assert_eq!(summary["sources_failed"], 1, "{summary}");
    assert_eq!(
        summary["failed"]["too_large"], 2,
        "oversize body and gzip bomb: {summary}"
    );
    assert_eq!(summary["failed"]["redirect_loop"], 1, "{summary}");
    assert_eq!(
        summary["failed"]["network"], 1,
        "connection reset: {summary}"
    );
    assert_eq!(summary["skipped"]["content_type"], 1, "{summary}");

    let docs = jsonl(&world.ok(&["export", "--jsonl"]));
    let titles: Vec<&str> = docs.iter().filter_map(|d| d["title"].as_str()).collect();
    assert!(titles.contains(&"Bài tốt"), "{titles:?}");
    assert!(
        titles.contains(&"Bài lỗi mã"),
        "invalid UTF-8 is decoded with replacements: {titles:?}"
    );
    assert_eq!(docs.len(), 2, "{titles:?}");

    let sources: serde_json::Value =
        serde_json::from_str(&world.ok(&["sources", "list", "--json"])).expect("json");
    let health = |name: &str| {
        sources
            .as_array()
            .expect("array")
            .iter()
            .find(|s| s["name"] == name)
            .expect("source")["health"]
            .clone()
    };
    assert_eq!(health("HTML posing as a feed")["status"], "failing");
    assert!(
        health("HTML posing as a feed")["last_error"]
            .as_str()
            .unwrap_or("")
            .contains("feed")
    );
    assert_eq!(health("Empty sitemap")["status"], "ok");
    assert_eq!(health("Faults")["status"], "ok");
}
