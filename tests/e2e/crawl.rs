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
    assert_eq!(jsonl(&world.ok(&["export", "--jsonl"])).len(), articles);
}
