//! The weekly digest: content on the press pack, and delivery over a real SMTP server.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::harness::{SitePack, World, shared};

struct Smtp {
    child: Child,
    port: u16,
    maildir: std::path::PathBuf,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Smtp {
    /// A real SMTP server process (Python's aiosmtpd) delivering into a Maildir.
    fn start(dir: &std::path::Path) -> Self {
        let port = crate::harness::free_port();
        let maildir = dir.join("maildir");
        let child = Command::new("python3")
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 -m aiosmtpd (pip install aiosmtpd)");
        let smtp = Self {
            child,
            port,
            maildir,
        };
        crate::harness::wait_for_port(
            port,
            Duration::from_secs(10),
            "aiosmtpd (pip install aiosmtpd)",
        );
        smtp
    }

    fn messages(&self) -> Vec<String> {
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            if let Ok(entries) = std::fs::read_dir(self.maildir.join(sub)) {
                for entry in entries.flatten() {
                    out.push(std::fs::read_to_string(entry.path()).expect("message"));
                }
            }
        }
        out
    }
}

fn header<'a>(message: &'a str, name: &str) -> Option<&'a str> {
    message
        .lines()
        .take_while(|l| !l.is_empty())
        .find(|l| {
            l.len() > name.len()
                && l[..name.len()].eq_ignore_ascii_case(name)
                && l[name.len()..].starts_with(':')
        })
        .map(|l| l[name.len() + 1..].trim())
}

#[test]
fn weekly_digest_content_and_exactly_once_delivery() {
    let world = World::new();
    let smtp = Smtp::start(world.data_dir());
    std::fs::write(
        world.data_dir().join("diembao.toml"),
        format!(
            "[office]\nname = \"Sở Thông tin và Truyền thông tỉnh Ninh Thuận\"\n\n[smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\nfrom = \"diembao <diembao@stttt.example.vn>\"\n\n[digest]\nrecipients = [\"lanh-dao@example.vn\", \"phong-ttbcxb@example.vn\"]\n",
            smtp.port
        ),
    )
    .expect("settings");
    let pack = SitePack::serve(&shared().join("corpus/vi-press-dev"));
    let text = std::fs::read_to_string(pack.dir.join("sources.toml")).expect("sources");
    let sources = world.data_dir().join("sources.toml");
    std::fs::write(&sources, pack.substitute(&text)).expect("write");
    world.ok(&["sources", "import", sources.to_str().expect("path")]);
    world.ok(&["crawl", "--once", "--allow-private-network", "--json"]);

    // Content: per-source counts of 2023-W11 as the truth has them; the two-outlet stories.
    let digest: serde_json::Value = serde_json::from_str(
        &world.ok(&["digest", "build", "--week", "2023-W11", "--format", "json"]),
    )
    .expect("json");
    assert_eq!(digest["week"], "2023-W11");
    assert_eq!(digest["from"], "2023-03-13");
    assert_eq!(digest["to"], "2023-03-19");
    assert_eq!(digest["timezone"], "Asia/Ho_Chi_Minh");
    let truth: HashMap<String, serde_json::Value> =
        serde_json::from_slice(&std::fs::read(pack.dir.join("truth.json")).expect("truth"))
            .expect("truth");
    let week_of = |at: &str| {
        let date = chrono::DateTime::parse_from_rfc3339(at)
            .expect("date")
            .date_naive();
        chrono::Datelike::iso_week(&date).week()
    };
    let mut expected: HashMap<String, u64> = HashMap::new();
    for (key, page) in &truth {
        if page["is_article"] == true && week_of(page["published_at"].as_str().expect("date")) == 11
        {
            let site = key.split('/').next().expect("site");
            *expected.entry(site.to_string()).or_default() += 1;
        }
    }
    let names = [
        ("baobienxanh", "Báo Biển Xanh"),
        ("nanggio", "Nắng Gió Online"),
        ("catrang", "Thời báo Cát Trắng"),
        ("datnang", "Báo điện tử Đất Nắng"),
    ];
    for (site, name) in names {
        let row = digest["sources"]
            .as_array()
            .expect("sources")
            .iter()
            .find(|s| s["source"] == name);
        let count = row.map_or(0, |r| r["count"].as_u64().unwrap_or(0));
        assert_eq!(
            count,
            expected.get(site).copied().unwrap_or(0),
            "{name} in 2023-W11: {}",
            digest["sources"]
        );
    }
    assert_eq!(digest["total"].as_u64(), Some(expected.values().sum()));
    let stories = digest["stories"].as_array().expect("stories");
    let story_with = |needle: &str| {
        stories
            .iter()
            .find(|s| {
                s["urls"]
                    .as_array()
                    .expect("urls")
                    .iter()
                    .any(|u| u.as_str().unwrap_or("").contains(needle))
            })
            .cloned()
    };
    let wine = story_with("ruc-ro-dem-khai-mac-le-hoi-nho-va-vang")
        .expect("the wine festival is one story");
    assert_eq!(wine["sources"].as_array().map(Vec::len), Some(2), "{wine}");
    let fiveg = story_with("song-5g-da-phu").expect("the 5G trial is one story");
    assert_eq!(
        fiveg["sources"].as_array().map(Vec::len),
        Some(2),
        "{fiveg}"
    );
    let text = world.ok(&["digest", "build", "--week", "2023-W11", "--format", "text"]);
    assert!(text.contains("Báo Biển Xanh"), "{text}");
    let html = world.ok(&["digest", "build", "--week", "2023-W11", "--format", "html"]);
    assert!(
        html.contains("<svg") || html.contains("cid:chart"),
        "the HTML carries the chart"
    );

    // Delivery over real SMTP: one message per recipient, however often it runs.
    world.ok(&["digest", "send", "--week", "2023-W11"]);
    world.ok(&["digest", "send", "--week", "2023-W11"]);
    let messages = smtp.messages();
    assert_eq!(messages.len(), 2, "one message per recipient");
    let mut recipients: Vec<&str> = messages.iter().filter_map(|m| header(m, "To")).collect();
    recipients.sort_unstable();
    assert_eq!(
        recipients,
        ["lanh-dao@example.vn", "phong-ttbcxb@example.vn"]
    );
    for message in &messages {
        assert!(
            header(message, "Message-ID").is_some_and(|id| id.contains("2023-W11")),
            "stable Message-ID"
        );
        assert!(
            message.contains("multipart/alternative"),
            "text and HTML alternatives"
        );
        assert!(message.contains("text/plain") && message.contains("text/html"));
        assert!(
            message.contains("image/svg+xml") && message.contains("Content-ID: <chart>"),
            "the chart travels inline"
        );
    }
    let archive: serde_json::Value =
        serde_json::from_str(&world.ok(&["digest", "list", "--json"])).expect("json");
    let deliveries = archive[0]["deliveries"].as_array().expect("deliveries");
    assert_eq!(deliveries.len(), 2);
    assert!(
        deliveries
            .iter()
            .all(|d| d["status"] == "sent" && d["attempts"] == 1)
    );
}

#[test]
fn new_high_severity_candidates_are_mailed_to_reviewers_once() {
    let world = World::new();
    let smtp = Smtp::start(world.data_dir());
    std::fs::write(
        world.data_dir().join("diembao.toml"),
        format!(
            "[smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\nfrom = \"diembao <diembao@stttt.example.vn>\"\n\n[alerts]\nrecipients = [\"kiem-duyet@example.vn\"]\n",
            smtp.port
        ),
    )
    .expect("settings");
    let pack = SitePack::serve(&shared().join("corpus/vi-social-dev"));
    let text = std::fs::read_to_string(pack.dir.join("sources.toml")).expect("sources");
    let sources = world.data_dir().join("sources.toml");
    std::fs::write(&sources, pack.substitute(&text)).expect("write");
    world.ok(&["sources", "import", sources.to_str().expect("path")]);
    let rules = shared().join("corpus/vi-rules-dev/rules.toml");
    world.ok(&["rules", "import", rules.to_str().expect("path")]);
    world.ok(&["crawl", "--once", "--allow-private-network", "--json"]);
    let messages = smtp.messages();
    assert_eq!(messages.len(), 1, "one batched alert");
    let high: serde_json::Value =
        serde_json::from_str(&world.ok(&["candidates", "list", "--severity", "high", "--json"]))
            .expect("json");
    let body = &messages[0];
    assert!(body.contains("kiem-duyet@example.vn"));
    let count = high.as_array().expect("array").len();
    assert!(count > 0);
    assert!(header(body, "Subject").is_some_and(|s| !s.is_empty()));
    world.ok(&["crawl", "--once", "--allow-private-network", "--json"]);
    assert_eq!(
        smtp.messages().len(),
        1,
        "no second alert for the same candidates"
    );
}
