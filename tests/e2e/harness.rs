//! The test harness: a data dir per test, a database per test, the binary, site packs.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

pub const BIN: &str = env!("CARGO_BIN_EXE_diembao");

/// Runs a test's server on a runtime and thread of its own for the rest of the test
/// process; returns the first thing it sends (its origin, say) once it is listening.
pub fn serve_in_thread<T, Fut>(
    serve: impl FnOnce(std::sync::mpsc::Sender<T>) -> Fut + Send + 'static,
) -> T
where
    T: Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(serve(tx));
    });
    rx.recv().expect("the test's server did not start")
}

/// A loopback port nothing listens on (for a server the test starts).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Waits until a server listens on `port` of loopback; panics naming `what` after `within`.
pub fn wait_for_port(port: u16, within: std::time::Duration, what: &str) {
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < within,
            "{what} did not listen on port {port} within {within:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// `shared/` beside the project root (read-only test corpora and tools).
pub fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// One test's world: a data dir, and a database (SQLite in the data dir, or a fresh
/// PostgreSQL database when `DIEMBAO_TEST_DATABASE_URL` is set).
pub struct World {
    pub dir: tempfile::TempDir,
    pub database_url: Option<String>,
    pg_admin: Option<(String, String)>,
}

impl World {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let Ok(admin_url) = std::env::var("DIEMBAO_TEST_DATABASE_URL") else {
            return Self {
                dir,
                database_url: None,
                pg_admin: None,
            };
        };
        assert!(
            admin_url.starts_with("postgres"),
            "DIEMBAO_TEST_DATABASE_URL must be postgres://…"
        );
        let name = format!(
            "diembao_t{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        psql(&admin_url, &format!("DROP DATABASE IF EXISTS {name}"));
        psql(&admin_url, &format!("CREATE DATABASE {name}"));
        let base = admin_url
            .rsplit_once('/')
            .map_or(admin_url.as_str(), |(b, _)| b)
            .to_string();
        eprintln!("postgres backend: ready ({name})");
        Self {
            dir,
            database_url: Some(format!("{base}/{name}")),
            pg_admin: Some((admin_url, name)),
        }
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn cmd(&self) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.arg("--data-dir").arg(self.dir.path());
        if let Some(url) = &self.database_url {
            cmd.arg("--database-url").arg(url);
        }
        cmd.env_remove("DIEMBAO_CONFIG")
            .env_remove("DIEMBAO_DATA_DIR")
            .env_remove("DIEMBAO_DATABASE_URL");
        cmd.env("RUST_LOG", "warn");
        cmd
    }

    /// Runs the binary with `args`; returns the output (any exit status).
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd()
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run diembao")
    }

    /// Runs and asserts success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "diembao {args:?} failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }
}

impl Drop for World {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.pg_admin {
            psql(
                admin,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            );
        }
    }
}

fn psql(url: &str, sql: &str) {
    let status = Command::new("psql")
        .env("PGOPTIONS", "-c client_min_messages=warning")
        .arg(url)
        .arg("-qtAc")
        .arg(sql)
        .stdout(Stdio::null())
        .status();
    let status = status.expect("psql must be installed for the PostgreSQL suite");
    assert!(
        status.success(),
        "psql {sql} failed: PostgreSQL must be reachable at DIEMBAO_TEST_DATABASE_URL"
    );
}

/// A site pack served by `shared/tools/sitepack-serve.py` on its loopback addresses.
pub struct SitePack {
    child: Child,
    pub origins: HashMap<String, String>,
    pub dir: PathBuf,
}

impl SitePack {
    pub fn serve(pack: &Path) -> Self {
        let port = 20000
            + (std::process::id() % 20000) as u16
            + COUNTER.fetch_add(1, Ordering::SeqCst) as u16 * 7;
        let mut child = Command::new("python3")
            .arg(shared().join("tools/sitepack-serve.py"))
            .arg(pack)
            .arg("--port")
            .arg(port.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 sitepack-serve.py");
        let pack_json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(pack.join("pack.json")).expect("pack.json"))
                .expect("pack.json");
        let sites = pack_json["sites"].as_array().map_or(0, Vec::len);
        let stdout = child.stdout.take().expect("stdout");
        let mut origins = HashMap::new();
        for line in BufReader::new(stdout).lines().take(sites) {
            let line = line.expect("server line");
            if let Some((name, origin)) = line.split_once(' ') {
                origins.insert(name.to_string(), origin.trim().to_string());
            }
        }
        assert_eq!(origins.len(), sites, "site pack server did not start");
        Self {
            child,
            origins,
            dir: pack.to_path_buf(),
        }
    }

    /// Replaces `{{BASE:site}}` in a pack file.
    pub fn substitute(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (name, origin) in &self.origins {
            out = out.replace(&format!("{{{{BASE:{name}}}}}"), origin);
        }
        out
    }

    /// The URL of a truth key `SITE/PATH`.
    pub fn url_of(&self, key: &str) -> String {
        let (site, path) = key.split_once('/').expect("SITE/PATH");
        format!("{}/{}", self.origins[site], path)
    }
}

impl Drop for SitePack {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn jsonl(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}
