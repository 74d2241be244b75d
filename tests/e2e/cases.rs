//! Case files for the police liaison: create, approve, hand over, export, verify, and
//! every kind of tampering named by `cases verify`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::harness::{SitePack, World, shared};
use crate::web::{add_user, client, login, runtime, serve};

const PASSWORD: &str = "mật-khẩu-dài";

fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// A world that crawled the social site pack with the dev rules; its candidate ids.
fn crawled() -> (World, Vec<String>) {
    let world = World::new();
    {
        let pack = SitePack::serve(&shared().join("corpus/vi-social-dev"));
        let text = std::fs::read_to_string(pack.dir.join("sources.toml")).expect("sources");
        let sources = world.data_dir().join("sources.toml");
        std::fs::write(&sources, pack.substitute(&text)).expect("write");
        world.ok(&["sources", "import", p(&sources)]);
        let rules = shared().join("corpus/vi-rules-dev/rules.toml");
        world.ok(&["rules", "import", p(&rules)]);
        world.ok(&["crawl", "--once", "--allow-private-network", "--json"]);
    }
    let list: serde_json::Value =
        serde_json::from_str(&world.ok(&["candidates", "list", "--json"])).expect("json");
    let ids: Vec<String> = list
        .as_array()
        .expect("array")
        .iter()
        .map(|c| c["id"].as_i64().expect("id").to_string())
        .collect();
    assert!(ids.len() >= 4, "the site pack yields candidates: {ids:?}");
    (world, ids)
}

/// Two reviewers and two liaisons.
fn accounts(world: &World) {
    add_user(world, "lan", "reviewer", PASSWORD);
    add_user(world, "minh", "reviewer", PASSWORD);
    add_user(world, "police", "liaison", PASSWORD);
    add_user(world, "police2", "liaison", PASSWORD);
}

fn confirm(world: &World, id: &str) {
    world.ok(&[
        "candidates",
        "review",
        id,
        "--decision",
        "confirm",
        "--reviewer",
        "lan",
        "--note",
        "rõ ràng vi phạm",
    ]);
}

fn last_line(out: &str) -> String {
    out.lines().last().expect("a line").trim().to_string()
}

fn code(world: &World, args: &[&str]) -> (Option<i32>, String) {
    let out = world.run(args);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Confirmed, created by lan, approved by minh, handed over to `liaison`.
fn handed_over(world: &World, candidates: &[&str], liaison: &str) -> String {
    for id in candidates {
        confirm(world, id);
    }
    let mut args = vec![
        "cases",
        "create",
        "--title",
        "Tuyển dụng lừa đảo <script>alert(1)</script>",
        "--reviewer",
        "lan",
    ];
    for id in candidates {
        args.extend(["--candidate", id]);
    }
    args.extend([
        "--legal-basis",
        "Điều 174 Bộ luật Hình sự",
        "--summary",
        "Các bài đăng mời \"việc nhẹ lương cao\" & đặt cọc.",
    ]);
    let id = last_line(&world.ok(&args));
    assert!(
        id.parse::<i64>().is_ok(),
        "case id alone on the last line: {id}"
    );
    world.ok(&[
        "cases",
        "approve",
        &id,
        "--reviewer",
        "minh",
        "--note",
        "Đủ căn cứ chuyển cơ quan công an",
    ]);
    world.ok(&["cases", "handover", &id, "--to", liaison, "--actor", "minh"]);
    id
}

fn unzip(zip: &Path, into: &Path) {
    let status = Command::new("python3")
        .args(["-m", "zipfile", "-e", p(zip), p(into)])
        .status()
        .expect("python3");
    assert!(status.success(), "unzip {}", zip.display());
}

/// Rewrites `member` of the zip: `byte` changes one byte (a letter two thirds in);
/// `drop N` removes custody entry N (0-based); `swap N` swaps entries N and N+1.
fn tamper(src: &Path, dst: &Path, member: &str, mode: &str, arg: usize) {
    const SCRIPT: &str = r#"
import sys, zipfile, json
src, dst, member, mode, arg = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
found = False
with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
    for info in zin.infolist():
        data = zin.read(info.filename)
        if info.filename == member:
            found = True
            if mode == "byte":
                pos = len(data) * 2 // 3
                while not (97 <= data[pos] <= 121):
                    pos -= 1
                data = data[:pos] + bytes([data[pos] + 1]) + data[pos + 1:]
            else:
                log = json.loads(data)
                entries = log["entries"]
                if mode == "drop":
                    del entries[arg]
                else:
                    entries[arg], entries[arg + 1] = entries[arg + 1], entries[arg]
                data = json.dumps(log, ensure_ascii=False, indent=2).encode()
        zout.writestr(info, data)
if not found:
    sys.exit("no member " + member)
"#;
    let status = Command::new("python3")
        .args(["-c", SCRIPT, p(src), p(dst), member, mode, &arg.to_string()])
        .status()
        .expect("python3");
    assert!(status.success(), "tamper {member}");
}

/// `cases verify`: exit code and stdout lines.
fn verify(world: &World, zip: &Path) -> (Option<i32>, Vec<String>) {
    let out = world.run(&["cases", "verify", p(zip)]);
    let lines = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    (out.status.code(), lines)
}

#[test]
fn full_path_from_crawl_to_a_verified_case_file() {
    let (world, candidates) = crawled();
    accounts(&world);
    let id = handed_over(&world, &[&candidates[0], &candidates[1]], "police");
    let zip = world.data_dir().join("case.zip");
    world.ok(&["cases", "export", &id, "--out", p(&zip)]);
    let (status, lines) = verify(&world, &zip);
    assert_eq!(status, Some(0), "{lines:?}");
    assert!(lines[0].starts_with("ok: case"), "{lines:?}");

    let dir = world.data_dir().join("unzipped");
    unzip(&zip, &dir);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).expect("manifest"))
            .expect("json");
    assert_eq!(manifest["case"]["id"].to_string(), id);
    assert_eq!(manifest["case"]["status"], "handed_over");
    assert_eq!(manifest["case"]["approved_by"], "minh");
    assert_eq!(manifest["case"]["handed_to"], "police");
    assert_eq!(manifest["case"]["legal_basis"], "Điều 174 Bộ luật Hình sự");
    assert!(manifest["diembao_version"].is_string());
    let items = manifest["items"].as_array().expect("items");
    assert_eq!(items.len(), 2, "only the chosen items go in");
    let mut chosen: Vec<String> = items
        .iter()
        .map(|i| i["candidate_id"].to_string())
        .collect();
    chosen.sort();
    let mut want = vec![candidates[0].clone(), candidates[1].clone()];
    want.sort();
    assert_eq!(chosen, want);
    let files = manifest["files"].as_array().expect("files");
    for item in items {
        let rule = &item["rules"][0];
        assert!(
            rule["rule_id"].is_string()
                && rule["rule_version"].as_i64() == Some(1)
                && rule["rule_version_id"].is_i64(),
            "{item}"
        );
        assert!(
            !item["terms"].as_array().expect("terms").is_empty(),
            "{item}"
        );
        assert_eq!(item["decision"]["decision"], "confirm");
        assert_eq!(item["decision"]["reviewer"], "lan");
        for kind in ["warc", "text", "metadata"] {
            let path = item["files"][kind]
                .as_str()
                .unwrap_or_else(|| panic!("{kind} file of {item}"));
            let entry = files
                .iter()
                .find(|f| f["path"] == path)
                .unwrap_or_else(|| panic!("{path} listed"));
            let bytes = std::fs::read(dir.join(path)).expect("file");
            assert_eq!(entry["size"].as_u64(), Some(bytes.len() as u64));
            assert_eq!(entry["sha256"].as_str().map(str::len), Some(64));
        }
        let warc =
            std::fs::read(dir.join(item["files"]["warc"].as_str().expect("warc"))).expect("warc");
        let head = String::from_utf8_lossy(&warc[..warc.len().min(4000)]).into_owned();
        assert!(
            head.starts_with("WARC/1.1\r\nWARC-Type: warcinfo\r\n"),
            "{head}"
        );
        assert!(
            head.contains("WARC-Type: request") && head.contains("GET /"),
            "{head}"
        );
        let text = String::from_utf8_lossy(&warc);
        let evidence = item["evidence_sha256"].as_str().expect("evidence sha");
        assert!(
            text.contains("WARC-Type: response")
                && text.contains(&format!("WARC-Payload-Digest: sha256:{evidence}"))
        );
        assert!(
            text.contains("WARC-Record-ID: <urn:uuid:")
                && text.contains("WARC-Block-Digest: sha256:")
                && text.contains("HTTP/1.1 200 OK")
        );
        assert_eq!(item["capture"]["sha256"].as_str(), Some(evidence));
        let metadata: serde_json::Value = serde_json::from_slice(
            &std::fs::read(dir.join(item["files"]["metadata"].as_str().expect("metadata")))
                .expect("metadata"),
        )
        .expect("json");
        assert_eq!(metadata["url"], item["url"]);
    }
    let custody: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("custody.json")).expect("custody"))
            .expect("json");
    let actions: Vec<&str> = custody["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "collected",
            "reviewed",
            "collected",
            "reviewed",
            "approved",
            "handed_over",
            "exported"
        ]
    );
    let last = &custody["entries"][6];
    assert!(
        last["detail"]
            .as_str()
            .expect("detail")
            .contains(&sha256_of(&dir.join("manifest.json"))),
        "{last}"
    );
    assert_eq!(custody["entries"][0]["prev_hash"], "0".repeat(64));

    let summary = std::fs::read_to_string(dir.join("summary.html")).expect("summary");
    assert!(
        summary.contains("<html lang=\"vi\">") && summary.contains("Hồ sơ vụ việc"),
        "Vietnamese summary"
    );
    assert!(
        summary.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !summary.contains("<script"),
        "escaped"
    );
    assert!(summary.contains("Căn cứ pháp lý") && summary.contains("&amp; đặt cọc"));

    // The liaison acknowledges; the case's log checks out in the database too.
    let (status, stderr) = code(&world, &["cases", "acknowledge", &id, "--by", "police2"]);
    assert_eq!(
        status,
        Some(2),
        "only the liaison it was handed to: {stderr}"
    );
    world.ok(&["cases", "acknowledge", &id, "--by", "police"]);
    let shown: serde_json::Value =
        serde_json::from_str(&world.ok(&["cases", "show", &id, "--json"])).expect("json");
    assert_eq!(shown["status"], "acknowledged");
    assert_eq!(shown["chain_ok"], true);
    assert_eq!(shown["custody"].as_array().map(Vec::len), Some(8));
    let list: serde_json::Value =
        serde_json::from_str(&world.ok(&["cases", "list", "--json"])).expect("json");
    assert_eq!(list[0]["id"].to_string(), id);
    world.ok(&[
        "cases",
        "close",
        &id,
        "--reviewer",
        "minh",
        "--note",
        "Công an đã tiếp nhận",
    ]);
}

fn sha256_of(path: &Path) -> String {
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .expect("hash")
        .to_string()
}

#[test]
fn refusals_unconfirmed_candidate_self_approval_and_early_handover() {
    let (world, candidates) = crawled();
    accounts(&world);
    // An unconfirmed (open) candidate, and a dismissed one, are refused.
    let (status, stderr) = code(
        &world,
        &[
            "cases",
            "create",
            "--title",
            "T",
            "--candidate",
            &candidates[0],
            "--reviewer",
            "lan",
        ],
    );
    assert_eq!(status, Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("candidate {}", candidates[0]))
            && stderr.contains("not confirmed"),
        "{stderr}"
    );
    world.ok(&[
        "candidates",
        "review",
        &candidates[1],
        "--decision",
        "dismiss",
        "--reviewer",
        "minh",
    ]);
    confirm(&world, &candidates[0]);
    let (status, stderr) = code(
        &world,
        &[
            "cases",
            "create",
            "--title",
            "T",
            "--candidate",
            &candidates[0],
            &candidates[1],
            "--reviewer",
            "lan",
        ],
    );
    assert_eq!(
        status,
        Some(2),
        "a dismissed candidate is refused: {stderr}"
    );
    let (status, _) = code(
        &world,
        &[
            "cases",
            "create",
            "--title",
            "T",
            "--candidate",
            &candidates[0],
            "--reviewer",
            "nobody",
        ],
    );
    assert_eq!(
        status,
        Some(2),
        "the creator must be a reviewer account when there are some"
    );

    let id = last_line(&world.ok(&[
        "cases",
        "create",
        "--title",
        "T",
        "--candidate",
        &candidates[0],
        "--reviewer",
        "lan",
    ]));
    // Hand-over before approval is refused.
    let (status, stderr) = code(&world, &["cases", "handover", &id, "--to", "police"]);
    assert_eq!(status, Some(2), "{stderr}");
    assert!(stderr.contains("approved"), "{stderr}");
    // The creator cannot approve while another reviewer exists; a note is required.
    let (status, stderr) = code(
        &world,
        &["cases", "approve", &id, "--reviewer", "lan", "--note", "ok"],
    );
    assert_eq!(status, Some(2), "{stderr}");
    assert!(stderr.contains("another reviewer"), "{stderr}");
    let (status, _) = code(
        &world,
        &["cases", "approve", &id, "--reviewer", "minh", "--note", " "],
    );
    assert_eq!(status, Some(2), "an approval needs a note");
    world.ok(&[
        "cases",
        "approve",
        &id,
        "--reviewer",
        "minh",
        "--note",
        "Đồng ý",
    ]);
    let (status, _) = code(
        &world,
        &[
            "cases",
            "approve",
            &id,
            "--reviewer",
            "minh",
            "--note",
            "again",
        ],
    );
    assert_eq!(status, Some(2), "approved once");
    // Hand-over names a liaison account.
    let (status, stderr) = code(&world, &["cases", "handover", &id, "--to", "lan"]);
    assert_eq!(status, Some(2), "{stderr}");
    let (status, _) = code(&world, &["cases", "handover", &id, "--to", "ghost"]);
    assert_eq!(status, Some(2));
    world.ok(&["cases", "handover", &id, "--to", "police"]);
    let (status, _) = code(
        &world,
        &[
            "cases",
            "export",
            "999",
            "--out",
            p(&world.data_dir().join("x.zip")),
        ],
    );
    assert_eq!(status, Some(2), "no such case");

    // Every decision is in the custody log of the case.
    let shown: serde_json::Value =
        serde_json::from_str(&world.ok(&["cases", "show", &id, "--json"])).expect("json");
    let actions: Vec<&str> = shown["custody"]
        .as_array()
        .expect("custody")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        ["collected", "reviewed", "approved", "handed_over"]
    );
    assert_eq!(shown["chain_ok"], true);
}

/// One exported case file shared by the tampering tests (each tampers with its own copy).
fn exported_case() -> &'static PathBuf {
    static ZIP: OnceLock<PathBuf> = OnceLock::new();
    ZIP.get_or_init(|| {
        let (world, candidates) = crawled();
        accounts(&world);
        let id = handed_over(&world, &[&candidates[0], &candidates[1]], "police");
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("cases-e2e-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let zip = dir.join("case.zip");
        world.ok(&["cases", "export", &id, "--out", p(&zip)]);
        let (status, lines) = verify(&world, &zip);
        assert_eq!(status, Some(0), "{lines:?}");
        zip
    })
}

/// Tampers with a copy of the shared case file; returns verify's exit code and lines.
fn tampered(name: &str, member: &str, mode: &str, arg: usize) -> (Option<i32>, Vec<String>) {
    let zip = exported_case();
    let world = World::new();
    let out = world.data_dir().join(format!("{name}.zip"));
    tamper(zip, &out, member, mode, arg);
    verify(&world, &out)
}

fn manifest_paths(suffix: &str) -> String {
    let world = World::new();
    let dir = world.data_dir().join("m");
    unzip(exported_case(), &dir);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).expect("manifest"))
            .expect("json");
    manifest["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|f| f["path"].as_str())
        .find(|path| path.ends_with(suffix))
        .expect("file")
        .to_string()
}

#[test]
fn tampering_with_an_extracted_text_is_named() {
    let text = manifest_paths("/text.txt");
    let (status, lines) = tampered("text", &text, "byte", 0);
    assert_eq!(status, Some(1), "{lines:?}");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with(&format!("{text}: sha256")),
        "{lines:?}"
    );
}

#[test]
fn tampering_with_a_warc_is_named() {
    let warc = manifest_paths("/capture.warc");
    let (status, lines) = tampered("warc", &warc, "byte", 0);
    assert_eq!(status, Some(1), "{lines:?}");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with(&format!("{warc}: ")) && lines[0].contains("Digest"),
        "{lines:?}"
    );
}

#[test]
fn tampering_with_the_manifest_is_named() {
    let (status, lines) = tampered("manifest", "manifest.json", "byte", 0);
    assert_eq!(status, Some(1), "{lines:?}");
    assert!(
        lines.iter().any(|l| l.starts_with("manifest.json: ")),
        "{lines:?}"
    );
}

#[test]
fn dropping_a_custody_entry_is_named() {
    // Entries: collected, reviewed, collected, reviewed, approved (seq 5), handed_over, exported.
    let (status, lines) = tampered("drop", "custody.json", "drop", 4);
    assert_eq!(status, Some(1), "{lines:?}");
    assert_eq!(
        lines,
        ["custody entry seq 5: missing (removed from the log)"]
    );
}

#[test]
fn reordering_custody_entries_is_named() {
    let (status, lines) = tampered("swap", "custody.json", "swap", 4);
    assert_eq!(status, Some(1), "{lines:?}");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("custody entry seq 5 (approved by minh): out of order"),
        "{lines:?}"
    );
}

#[test]
fn a_liaison_sees_and_downloads_only_the_cases_handed_to_it() {
    let (world, candidates) = crawled();
    accounts(&world);
    let mine = handed_over(&world, &[&candidates[0]], "police");
    let theirs = handed_over(&world, &[&candidates[1]], "police2");
    let server = serve(&world);
    let base = server.base.clone();
    let zip = world.data_dir().join("downloaded.zip");
    let zip_path = zip.clone();
    let (mine_id, theirs_id) = (mine.clone(), theirs.clone());
    runtime().block_on(async move {
        let (mine, theirs) = (mine_id, theirs_id);
        let http = client();
        let r = http
            .get(format!("{base}/api/cases"))
            .send()
            .await
            .expect("get");
        assert_eq!(r.status(), 401);
        let (police, _) = login(&base, "police", PASSWORD).await;
        let r = http
            .get(format!("{base}/api/cases"))
            .header("cookie", &police)
            .send()
            .await
            .expect("get");
        assert_eq!(r.status(), 200);
        let list: serde_json::Value =
            serde_json::from_str(&r.text().await.expect("text")).expect("json");
        let ids: Vec<String> = list
            .as_array()
            .expect("array")
            .iter()
            .map(|c| c["id"].to_string())
            .collect();
        assert_eq!(
            ids,
            std::slice::from_ref(&mine),
            "only the case handed to police"
        );
        let r = http
            .get(format!("{base}/api/cases/{theirs}/download"))
            .header("cookie", &police)
            .send()
            .await
            .expect("get");
        assert_eq!(r.status(), 404, "another liaison's case is not visible");
        let r = http
            .get(format!("{base}/api/cases/{mine}/download"))
            .header("cookie", &police)
            .send()
            .await
            .expect("get");
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/zip");
        std::fs::write(&zip_path, r.bytes().await.expect("bytes")).expect("write");
        // Reviewers see every case.
        let (lan, _) = login(&base, "lan", PASSWORD).await;
        let r = http
            .get(format!("{base}/api/cases"))
            .header("cookie", &lan)
            .send()
            .await
            .expect("get");
        let list: serde_json::Value =
            serde_json::from_str(&r.text().await.expect("text")).expect("json");
        assert_eq!(list.as_array().map(Vec::len), Some(2));
    });
    drop(server);
    let (status, lines) = verify(&world, &zip);
    assert_eq!(status, Some(0), "{lines:?}");
    let shown: serde_json::Value =
        serde_json::from_str(&world.ok(&["cases", "show", &mine, "--json"])).expect("json");
    let last = shown["custody"]
        .as_array()
        .and_then(|c| c.last())
        .expect("entry")
        .clone();
    assert_eq!(last["action"], "downloaded");
    assert_eq!(last["actor"], "police");
    let other: serde_json::Value =
        serde_json::from_str(&world.ok(&["cases", "show", &theirs, "--json"])).expect("json");
    assert!(
        other["custody"]
            .as_array()
            .expect("custody")
            .iter()
            .all(|e| e["action"] != "downloaded")
    );
}

/// Capture retention: raw captures of pages that never became candidates go once they
/// expire; candidates' captures are evidence and stay, moved out of their batch's pack
/// (so that the expired bytes beside them go too), byte for byte.
#[test]
fn expired_captures_go_and_evidence_moves_out_of_its_pack() {
    use sea_orm::EntityTrait;
    use sea_orm::sea_query::Expr;

    let (world, candidates) = crawled();
    let database_url = world.database_url.clone().unwrap_or_else(|| {
        format!(
            "sqlite://{}",
            world.data_dir().join("diembao.sqlite").display()
        )
    });
    let mut config = diembao_core::config::Config::default();
    config.crawl.capture_retention_days = 30;
    runtime().block_on(async {
        let env = diembao_jobs::Env::open(diembao_jobs::EnvOptions {
            data_dir: world.data_dir().to_path_buf(),
            database_url,
            config,
        })
        .await
        .expect("env");
        use diembao_store::entity::raw_captures;
        let db = env.store.db();
        let all = raw_captures::Entity::find()
            .all(db)
            .await
            .expect("captures");
        assert!(
            all.iter().filter(|c| c.pack_offset.is_some()).count() >= 2,
            "crawled pages are kept in packs"
        );
        // Nothing has expired yet.
        assert_eq!(env.prune_captures().await.expect("prune"), 0);
        raw_captures::Entity::update_many()
            .col_expr(
                raw_captures::Column::CapturedAt,
                Expr::value(chrono::Utc::now() - chrono::Duration::days(31)),
            )
            .exec(db)
            .await
            .expect("backdate");
        let removed = env.prune_captures().await.expect("prune");
        assert!(removed >= 1, "expired files removed");
        let kept = raw_captures::Entity::find()
            .all(db)
            .await
            .expect("captures");
        // Exactly the captures of the candidates' documents are kept.
        use diembao_store::entity::{candidates as candidate_rows, documents};
        let mut evidence = std::collections::BTreeSet::new();
        for candidate in candidate_rows::Entity::find()
            .all(db)
            .await
            .expect("candidates")
        {
            let doc = documents::Entity::find_by_id(candidate.document_id)
                .one(db)
                .await
                .expect("document")
                .expect("candidate's document");
            evidence.insert(doc.raw_capture_id.expect("a candidate keeps its capture"));
        }
        assert_eq!(evidence.len().min(1), 1, "{} candidates", candidates.len());
        let kept_ids: std::collections::BTreeSet<i64> = kept.iter().map(|c| c.id).collect();
        assert_eq!(kept_ids, evidence, "only the evidence is kept");
        for capture in &kept {
            assert_eq!(capture.pack_offset, None, "evidence moved out of its pack");
            let bytes = env.read_capture(capture).await.expect("readable");
            let copy = world.data_dir().join("evidence.bin");
            std::fs::write(&copy, &bytes).expect("write");
            assert_eq!(sha256_of(&copy), capture.sha256, "evidence unchanged");
        }
        let packs = world.data_dir().join("captures/packs");
        let left: Vec<_> = std::fs::read_dir(&packs)
            .map(|dir| dir.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "no pack keeps expired bytes: {left:?}");
        // A second pass finds nothing more to do.
        assert_eq!(env.prune_captures().await.expect("prune"), 0);
    });
}
