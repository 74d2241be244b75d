use crate::harness::World;

#[test]
fn sources_file_with_a_bad_entry_imports_the_rest() {
    let world = World::new();
    let file = world.data_dir().join("sources.toml");
    std::fs::write(
        &file,
        "[[source]]\nname = \"A\"\nkind = \"rss\"\nurl = \"https://a.example.vn/rss\"\nevery = \"15m\"\n\n\
         [[source]]\nname = \"B\"\nkind = \"fax\"\nurl = \"https://b.example.vn/\"\n\n\
         [[source]]\nname = \"C\"\nkind = \"html\"\nurl = \"https://c.example.vn/tin-moi/\"\nlink_selector = \"h3 a\"\n",
    )
    .expect("write");
    let out = world.run(&["sources", "import", file.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("sources.toml:7:1:") && stderr.contains("fax"),
        "{stderr}"
    );
    let list: serde_json::Value =
        serde_json::from_str(&world.ok(&["sources", "list", "--json"])).expect("json");
    let names: Vec<&str> = list
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names, ["A", "C"]);
    // Importing again changes nothing (upsert by url).
    let again = world.run(&["sources", "import", file.to_str().expect("path")]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("0 new, 0 updated, 2 unchanged"));
}

#[test]
fn unknown_settings_key_is_named() {
    let world = World::new();
    let config = world.data_dir().join("diembao.toml");
    std::fs::write(&config, "[crawl]\nuser_agnt = \"x\"\n").expect("write");
    let out = world.run(&["sources", "list"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("diembao.toml:2:1") && stderr.contains("user_agnt"),
        "{stderr}"
    );
}

#[test]
fn crawler_refuses_loopback_without_the_flag() {
    let world = World::new();
    let file = world.data_dir().join("sources.toml");
    std::fs::write(
        &file,
        "[[source]]\nname = \"L\"\nkind = \"rss\"\nurl = \"http://127.0.0.1:9/rss\"\n",
    )
    .expect("write");
    world.ok(&["sources", "import", file.to_str().expect("path")]);
    let summary: serde_json::Value =
        serde_json::from_str(&world.ok(&["crawl", "--once", "--json"])).expect("json");
    assert_eq!(summary["sources_failed"], 1, "{summary}");
    let list: serde_json::Value =
        serde_json::from_str(&world.ok(&["sources", "list", "--json"])).expect("json");
    let error = list[0]["health"]["last_error"].as_str().unwrap_or("");
    assert!(error.contains("private"), "{list}");
    assert_eq!(list[0]["health"]["consecutive_failures"], 1);
}
