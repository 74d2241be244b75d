use std::collections::HashMap;

use crate::harness::{SitePack, World, jsonl, shared};

fn rules_dev() -> std::path::PathBuf {
    shared().join("corpus/vi-rules-dev")
}

#[test]
fn rules_test_reproduces_the_expected_tags() {
    let world = World::new();
    let rules = rules_dev().join("rules.toml");
    let docs = rules_dev().join("docs.jsonl");
    let out = world.ok(&[
        "rules",
        "test",
        rules.to_str().expect("path"),
        "--input",
        docs.to_str().expect("path"),
        "--json",
    ]);
    let got = jsonl(&out);
    let expected =
        jsonl(&std::fs::read_to_string(rules_dev().join("expected.jsonl")).expect("expected"));
    assert_eq!(got.len(), expected.len());
    for (g, e) in got.iter().zip(&expected) {
        assert_eq!(g["url"], e["url"]);
        let mut fired: Vec<&str> = g["matches"]
            .as_array()
            .expect("matches")
            .iter()
            .filter_map(|m| m["rule"].as_str())
            .collect();
        fired.sort_unstable();
        let mut want: Vec<&str> = e["rules"]
            .as_array()
            .expect("rules")
            .iter()
            .filter_map(|r| r.as_str())
            .collect();
        want.sort_unstable();
        assert_eq!(fired, want, "{}: {}", e["url"], e["why"]);
        for m in g["matches"].as_array().expect("matches") {
            assert!(
                !m["terms"].as_array().expect("terms").is_empty(),
                "a match explains itself: {m}"
            );
            assert!(m["category"].is_string() && m["severity"].is_string());
        }
    }
    // Nothing was stored.
    assert!(jsonl(&world.ok(&["export", "--jsonl"])).is_empty());
}

#[test]
fn a_rule_file_that_does_not_parse_is_rejected_whole_and_the_previous_version_stays() {
    let world = World::new();
    let good = world.data_dir().join("policy.toml");
    std::fs::write(&good, "[[rule]]\nid = \"betting\"\ncategory = \"gambling\"\nseverity = \"high\"\nquery = '\"nhà cái\" NEAR/5 \"nạp tiền\"'\n").expect("write");
    world.ok(&["rules", "import", good.to_str().expect("path")]);
    let bad = world.data_dir().join("bad").join("policy.toml");
    std::fs::create_dir_all(bad.parent().expect("parent")).expect("dir");
    std::fs::write(
        &bad,
        "[[rule]]\nid = \"ok-rule\"\ncategory = \"fraud\"\nseverity = \"low\"\nquery = 'a b'\n\n[[rule]]\nid = \"broken\"\ncategory = \"fraud\"\nseverity = \"high\"\nquery = '(\"chuyển khoản\" OR'\n",
    )
    .expect("write");
    let out = world.run(&["rules", "import", bad.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("broken") && stderr.contains("policy.toml:11:"),
        "{stderr}"
    );
    let versions: serde_json::Value =
        serde_json::from_str(&world.ok(&["rules", "list", "--json"])).expect("json");
    let versions = versions.as_array().expect("array");
    assert_eq!(versions.len(), 1, "{versions:?}");
    assert_eq!(versions[0]["active"], true);
    // The same file again adds no version.
    world.ok(&["rules", "import", good.to_str().expect("path")]);
    let versions: serde_json::Value =
        serde_json::from_str(&world.ok(&["rules", "list", "--json"])).expect("json");
    assert_eq!(versions.as_array().expect("array").len(), 1);
}

#[test]
fn crawled_social_posts_carry_their_expected_rules_and_reviews_decide() {
    let world = World::new();
    let pack = SitePack::serve(&shared().join("corpus/vi-social-dev"));
    let text = std::fs::read_to_string(pack.dir.join("sources.toml")).expect("sources");
    let sources = world.data_dir().join("sources.toml");
    std::fs::write(&sources, pack.substitute(&text)).expect("write");
    world.ok(&["sources", "import", sources.to_str().expect("path")]);
    let rules = rules_dev().join("rules.toml");
    world.ok(&["rules", "import", rules.to_str().expect("path")]);
    world.ok(&["crawl", "--once", "--allow-private-network", "--json"]);

    let truth: HashMap<String, serde_json::Value> =
        serde_json::from_slice(&std::fs::read(pack.dir.join("truth.json")).expect("truth"))
            .expect("truth json");
    let docs = jsonl(&world.ok(&["export", "--jsonl"]));
    let by_url: HashMap<&str, &serde_json::Value> = docs
        .iter()
        .map(|d| (d["canonical_url"].as_str().expect("canonical"), d))
        .collect();
    let mut flagged = 0;
    for (key, page) in truth.iter().filter(|(_, p)| p["is_article"] == true) {
        let doc = by_url
            .get(pack.url_of(key).as_str())
            .unwrap_or_else(|| panic!("{key} not stored"));
        let mut tags: Vec<&str> = doc["tags"]
            .as_array()
            .expect("tags")
            .iter()
            .filter_map(|t| t.as_str())
            .collect();
        tags.sort_unstable();
        let mut want: Vec<&str> = page["expected_rules"]
            .as_array()
            .expect("rules")
            .iter()
            .filter_map(|t| t.as_str())
            .collect();
        want.sort_unstable();
        assert_eq!(tags, want, "tags of {key}");
        flagged += usize::from(!want.is_empty());
    }

    let candidates: serde_json::Value =
        serde_json::from_str(&world.ok(&["candidates", "list", "--json"])).expect("json");
    let candidates = candidates.as_array().expect("array");
    assert_eq!(candidates.len(), flagged);
    for key in [
        "id",
        "url",
        "title",
        "source",
        "rules",
        "categories",
        "severity",
        "status",
        "assignee",
    ] {
        assert!(candidates[0].get(key).is_some(), "candidate lacks {key}");
    }
    let severities: Vec<&str> = candidates
        .iter()
        .filter_map(|c| c["severity"].as_str())
        .collect();
    assert!(
        severities
            .windows(2)
            .all(|w| !(w[0] == "low" && w[1] != "low")),
        "sorted by severity: {severities:?}"
    );
    let first = candidates[0]["id"].as_i64().expect("id").to_string();
    let second = candidates[1]["id"].as_i64().expect("id").to_string();
    world.ok(&[
        "candidates",
        "review",
        &first,
        "--decision",
        "confirm",
        "--reviewer",
        "lan",
        "--note",
        "rõ ràng",
    ]);
    world.ok(&[
        "candidates",
        "review",
        &second,
        "--decision",
        "dismiss",
        "--reviewer",
        "minh",
    ]);
    let out = world.run(&[
        "candidates",
        "review",
        &second,
        "--decision",
        "confirm",
        "--reviewer",
        " ",
    ]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a decision needs a named reviewer"
    );
    let open: serde_json::Value =
        serde_json::from_str(&world.ok(&["candidates", "list", "--status", "open", "--json"]))
            .expect("json");
    assert_eq!(open.as_array().expect("array").len(), flagged - 2);

    // Re-importing the same rules and re-crawling duplicates nothing and keeps decisions.
    world.ok(&["rules", "import", rules.to_str().expect("path")]);
    world.ok(&["crawl", "--once", "--allow-private-network", "--json"]);
    let all: serde_json::Value =
        serde_json::from_str(&world.ok(&["candidates", "list", "--json"])).expect("json");
    let all = all.as_array().expect("array");
    assert_eq!(all.len(), flagged);
    let status_of = |id: &str| {
        all.iter()
            .find(|c| c["id"].as_i64() == id.parse::<i64>().ok())
            .expect("candidate")["status"]
            .clone()
    };
    assert_eq!(status_of(&first), "confirmed");
    assert_eq!(status_of(&second), "dismissed");
}
