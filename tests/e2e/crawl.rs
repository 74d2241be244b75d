use std::collections::HashMap;

use crate::harness::{SitePack, World, jsonl, shared};

fn import_pack_sources(world: &World, pack: &SitePack) {
    let text = std::fs::read_to_string(pack.dir.join("sources.toml")).expect("sources.toml");
    let file = world.data_dir().join("sources.toml");
    std::fs::write(&file, pack.substitute(&text)).expect("write");
    world.ok(&["sources", "import", file.to_str().expect("path")]);
}

#[test]
fn crawl_press_pack_stores_every_article_once_under_its_canonical_url() {
    let world = World::new();
    let pack = SitePack::serve(&shared().join("corpus/vi-press-dev"));
    import_pack_sources(&world, &pack);
    let summary: serde_json::Value =
        serde_json::from_str(&world.ok(&["crawl", "--once", "--allow-private-network", "--json"]))
            .expect("json");
    assert!(summary["skipped_robots"].as_u64() >= Some(1), "{summary}");

    let truth: HashMap<String, serde_json::Value> =
        serde_json::from_slice(&std::fs::read(pack.dir.join("truth.json")).expect("truth"))
            .expect("truth json");
    let docs = jsonl(&world.ok(&["export", "--jsonl"]));
    let by_canonical: HashMap<&str, &serde_json::Value> = docs
        .iter()
        .map(|d| (d["canonical_url"].as_str().expect("canonical"), d))
        .collect();
    assert_eq!(
        by_canonical.len(),
        docs.len(),
        "one document per canonical URL"
    );
    let mut articles = 0;
    for (key, page) in &truth {
        let url = pack.url_of(key);
        if page["is_article"] == true {
            articles += 1;
            let doc = by_canonical
                .get(url.as_str())
                .unwrap_or_else(|| panic!("article {key} not stored"));
            assert_eq!(doc["title"], page["title"], "title of {key}");
            assert_eq!(doc["kind"], "article");
            // The body, byline and language as the truth has them (an outlet without
            // bylines gives null), and the publication instant.
            assert_eq!(doc["text"], page["text"], "text of {key}");
            assert_eq!(doc["author"], page["author"], "author of {key}");
            assert_eq!(doc["lang"], page["lang"], "lang of {key}");
            assert_eq!(
                instant(&doc["published_at"]),
                instant(&page["published_at"]),
                "published_at of {key}"
            );
        } else {
            assert!(
                !by_canonical.contains_key(url.as_str()),
                "{key} ({}) must not be stored",
                page["why"]
            );
        }
    }
    assert_eq!(docs.len(), articles, "nothing but the articles is stored");

    // Searching the crawled pages works, accented or not.
    let hits: serde_json::Value =
        serde_json::from_str(&world.ok(&["search", "chuyển đổi số", "--json"])).expect("json");
    assert!(!hits.as_array().expect("array").is_empty());

    // A second run revalidates: nothing new, nothing duplicated.
    let again: serde_json::Value =
        serde_json::from_str(&world.ok(&["crawl", "--once", "--allow-private-network", "--json"]))
            .expect("json");
    assert_eq!(again["new"], 0, "{again}");
    // The RSS and Atom feeds carry ETags: the second visit is answered 304 Not Modified.
    assert!(again["unchanged"].as_u64() >= Some(2), "{again}");
    assert_eq!(jsonl(&world.ok(&["export", "--jsonl"])).len(), articles);
}

/// An RFC 3339 time as an instant (offsets differ between the truth and the store).
fn instant(value: &serde_json::Value) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(value.as_str().expect("a date"))
        .unwrap_or_else(|err| panic!("{value}: {err}"))
}

/// The articles of a pack's truth, by URL.
fn truth_articles(pack: &SitePack) -> Vec<String> {
    let truth: HashMap<String, serde_json::Value> =
        serde_json::from_slice(&std::fs::read(pack.dir.join("truth.json")).expect("truth"))
            .expect("truth json");
    let mut urls: Vec<String> = truth
        .iter()
        .filter(|(_, page)| page["is_article"] == true)
        .map(|(key, _)| pack.url_of(key))
        .collect();
    urls.sort();
    urls
}

fn stored_urls(world: &World) -> Vec<String> {
    let mut urls: Vec<String> = jsonl(&world.ok(&["export", "--jsonl"]))
        .iter()
        .map(|d| d["canonical_url"].as_str().expect("canonical").to_string())
        .collect();
    urls.sort();
    urls
}

#[test]
fn kill_9_mid_crawl_then_restart_stores_everything_exactly_once() {
    let world = World::new();
    let pack = SitePack::serve(&shared().join("corpus/vi-press-dev"));
    import_pack_sources(&world, &pack);
    let mut child = world
        .cmd()
        .args(["crawl", "--once", "--allow-private-network", "--json"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn crawl");
    // Mid-run: feeds read, some pages stored, the slow page and the 503 retries pending.
    std::thread::sleep(std::time::Duration::from_millis(2500));
    child.kill().expect("kill -9");
    let status = child.wait().expect("wait");
    assert!(
        !status.success(),
        "the crawl was meant to be killed mid-run"
    );
    let partial = stored_urls(&world);
    assert!(
        partial.len() < truth_articles(&pack).len(),
        "killed too late to test anything"
    );

    world.ok(&["crawl", "--once", "--allow-private-network", "--json"]);
    assert_eq!(stored_urls(&world), truth_articles(&pack));
    let status: serde_json::Value =
        serde_json::from_str(&world.ok(&["check", "--json"])).expect("json");
    assert_eq!(status["stored"], status["indexed"], "{status}");
}

#[test]
fn crawl_social_pack_stores_posts_from_apis_and_feeds() {
    let world = World::new();
    let pack = SitePack::serve(&shared().join("corpus/vi-social-dev"));
    import_pack_sources(&world, &pack);
    world.ok(&["crawl", "--once", "--allow-private-network", "--json"]);
    let truth: HashMap<String, serde_json::Value> =
        serde_json::from_slice(&std::fs::read(pack.dir.join("truth.json")).expect("truth"))
            .expect("truth json");
    let docs = jsonl(&world.ok(&["export", "--jsonl"]));
    let by_url: HashMap<&str, &serde_json::Value> = docs
        .iter()
        .map(|d| (d["canonical_url"].as_str().expect("canonical"), d))
        .collect();
    for (key, page) in &truth {
        let url = pack.url_of(key);
        if page["is_article"] != true {
            assert!(
                !by_url.contains_key(url.as_str()),
                "{key} must not be stored"
            );
            continue;
        }
        let doc = by_url
            .get(url.as_str())
            .unwrap_or_else(|| panic!("post {key} not stored"));
        assert_eq!(doc["kind"], "post", "{key}");
        assert_eq!(doc["text"], page["text"], "text of {key}");
        assert_eq!(doc["author"], page["author"], "author of {key}");
        // Mastodon declares a status' language; a channel feed does not (detected).
        assert_eq!(doc["lang"], page["lang"], "lang of {key}");
        if page["title"].is_string() {
            assert_eq!(doc["title"], page["title"], "title of {key}");
        }
        assert_eq!(
            instant(&doc["published_at"]),
            instant(&page["published_at"]),
            "published_at of {key}"
        );
    }
}
