use crate::harness::{World, jsonl, shared};

#[test]
fn ingest_search_export_round_trip() {
    let world = World::new();
    let docs = shared().join("corpus/vi-search-dev/docs.jsonl");
    let out = world.run(&["ingest", docs.to_str().expect("path")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("45 new"));

    let hits: serde_json::Value =
        serde_json::from_str(&world.ok(&["search", "chuyển đổi số", "--json"])).expect("json");
    let hits = hits.as_array().expect("array");
    assert!(!hits.is_empty());
    for hit in hits {
        for key in [
            "url",
            "title",
            "snippet",
            "score",
            "source",
            "published_at",
            "tags",
        ] {
            assert!(hit.get(key).is_some(), "hit lacks {key}: {hit}");
        }
    }
    // Typed without diacritics, the same documents come back, highlighted in the accented text.
    let folded: serde_json::Value =
        serde_json::from_str(&world.ok(&["search", "chuyen doi so", "--json"])).expect("json");
    let folded = folded.as_array().expect("array");
    assert!(folded.len() >= hits.len());
    assert!(
        folded.iter().any(|h| h["snippet"]
            .as_str()
            .unwrap_or("")
            .contains("<b>chuyển đổi số</b>")),
        "{folded:?}"
    );

    let exported = jsonl(&world.ok(&["export", "--jsonl"]));
    assert_eq!(exported.len(), 45);
    for doc in &exported {
        for key in [
            "url",
            "canonical_url",
            "title",
            "text",
            "author",
            "fetched_at",
            "tags",
            "kind",
        ] {
            assert!(doc.get(key).is_some(), "export lacks {key}");
        }
    }

    // Re-ingesting is an update of the same URLs, not new documents.
    let again = world.run(&["ingest", docs.to_str().expect("path")]);
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("0 new"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let status: serde_json::Value =
        serde_json::from_str(&world.ok(&["check", "--json"])).expect("json");
    assert_eq!(status["stored"], 45);
    assert_eq!(status["indexed"], 45);
}

#[test]
fn ingest_keeps_good_lines_and_names_the_bad_one() {
    let world = World::new();
    let file = world.data_dir().join("mixed.jsonl");
    let lines = [
        r#"{"url": "https://a.example.vn/1", "title": "Một", "text": "Bài thứ nhất về an toàn thông tin."}"#,
        r#"{"url": "https://a.example.vn/2", "title": "Hai", "text": "Bài thứ hai" "#,
        r#"{"url": "https://a.example.vn/3", "title": "Ba", "text": "Bài thứ ba.", "kind": "post"}"#,
        r#"{"url": "https://a.example.vn/4", "title": "Bốn", "text": "x", "kind": "podcast"}"#,
    ];
    std::fs::write(&file, lines.join("\n")).expect("write");
    let out = world.run(&["ingest", file.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("mixed.jsonl:2:"), "{stderr}");
    assert!(
        stderr.contains("mixed.jsonl:4:") && stderr.contains("podcast"),
        "{stderr}"
    );
    let exported = jsonl(&world.ok(&["export", "--jsonl"]));
    assert_eq!(exported.len(), 2);
    assert!(exported.iter().any(|d| d["kind"] == "post"));
}

#[test]
fn search_syntax_errors_name_the_column() {
    let world = World::new();
    let out = world.run(&["search", "an \"toàn", "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("column 4"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn reindex_rebuilds_the_index_from_the_database_into_one_segment() {
    let world = World::new();
    let docs = shared().join("corpus/vi-search-dev/docs.jsonl");
    world.ok(&["ingest", docs.to_str().expect("path")]);
    let before = world.ok(&["search", "chuyen doi so", "--json"]);

    let out = world.run(&["reindex"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("45 documents indexed"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status: serde_json::Value =
        serde_json::from_str(&world.ok(&["check", "--json"])).expect("json");
    assert_eq!(status["stored"], 45, "{status}");
    assert_eq!(status["indexed"], 45, "{status}");
    // The same hits in the same order after the rebuild.
    assert_eq!(world.ok(&["search", "chuyen doi so", "--json"]), before);
    // A bulk rebuild ends merged into one segment (a search pays per segment).
    let meta: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(world.data_dir().join("index/meta.json")).expect("meta.json"),
    )
    .expect("json");
    assert_eq!(meta["segments"].as_array().map(Vec::len), Some(1), "{meta}");
}
