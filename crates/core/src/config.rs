//! `diembao.toml`: every key optional, unknown keys rejected with their place.

use serde::Deserialize;

use crate::error::{InputError, from_toml};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub office: OfficeConfig,
    pub crawl: CrawlConfig,
    pub smtp: SmtpConfig,
    pub digest: DigestConfig,
    pub alerts: AlertsConfig,
    pub web: WebConfig,
    pub database: DatabaseConfig,
}

/// The database connection pool of each process.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// Connections one process holds at most. On PostgreSQL every `run` and `worker`
    /// process has a pool of its own, so processes × this must stay below the server's
    /// `max_connections` (100 by default): 10 leaves room for nine processes.
    pub max_connections: u32,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            max_connections: 10,
        }
    }
}

/// Mail about new high-severity violation candidates, batched.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertsConfig {
    /// The reviewers' addresses; no alert mail when empty.
    pub recipients: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OfficeConfig {
    pub name: String,
}

impl Default for OfficeConfig {
    fn default() -> Self {
        Self {
            name: "Phòng Thông tin – Báo chí".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CrawlConfig {
    pub user_agent: String,
    pub allow_private_network: bool,
    /// Simultaneous requests across all hosts.
    pub concurrency: usize,
    /// Simultaneous requests to one host.
    pub per_host_concurrency: usize,
    /// Minimum pause between two requests to one host, in milliseconds.
    pub per_host_delay_ms: u64,
    pub connect_timeout_secs: u64,
    pub timeout_secs: u64,
    pub max_body_bytes: usize,
    pub max_redirects: usize,
    /// How many times a page answering 429/503 or failing at the network level is tried.
    pub max_attempts: u32,
    /// How many listing pages of an `html` source are followed.
    pub max_listing_pages: usize,
    /// Days to keep the raw captures of pages that never became violation candidates
    /// (0: keep them all). Candidates' captures are always kept: they are evidence.
    pub capture_retention_days: u32,
    /// A frontier URL still pending this long after it was queued is queued again by
    /// the scheduler (its job was lost with a machine, say). Jobs are idempotent, so a
    /// duplicate costs one database read.
    pub requeue_after_secs: u64,
}

impl Default for CrawlConfig {
    fn default() -> Self {
        Self {
            user_agent: concat!(
                "diembao/",
                env!("CARGO_PKG_VERSION"),
                " (+mailto:it@example.vn)"
            )
            .into(),
            allow_private_network: false,
            concurrency: 16,
            per_host_concurrency: 2,
            per_host_delay_ms: 250,
            connect_timeout_secs: 10,
            timeout_secs: 30,
            max_body_bytes: 8 * 1024 * 1024,
            max_redirects: 5,
            max_attempts: 4,
            max_listing_pages: 5,
            capture_retention_days: 0,
            requeue_after_secs: 600,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: String,
    pub password_env: String,
    pub from: String,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 25,
            security: SmtpSecurity::None,
            username: String::new(),
            password_env: String::new(),
            from: "diembao <diembao@example.vn>".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    None,
    Starttls,
    Tls,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DigestConfig {
    pub timezone: String,
    /// Weekday and time (in `timezone`) when `run` mails the previous week's digest.
    pub send_at: String,
    pub recipients: Vec<String>,
    /// Saved searches shown as sections of the digest (`[[digest.topic]]`).
    #[serde(rename = "topic")]
    pub topics: Vec<TopicConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicConfig {
    pub title: String,
    pub query: String,
}

impl Default for DigestConfig {
    fn default() -> Self {
        Self {
            timezone: "Asia/Ho_Chi_Minh".into(),
            send_at: "Mon 07:00".into(),
            recipients: Vec::new(),
            topics: vec![
                TopicConfig {
                    title: "Chuyển đổi số".into(),
                    query: "\"chuyển đổi số\"".into(),
                },
                TopicConfig {
                    title: "An toàn thông tin".into(),
                    query: "\"an toàn thông tin\" OR \"an ninh mạng\"".into(),
                },
            ],
        }
    }
}

impl DigestConfig {
    /// `send_at` as (weekday, hour, minute): `Mon 07:00`.
    pub fn schedule(&self) -> Result<(chrono::Weekday, u32, u32), String> {
        let bad = || {
            format!(
                "send_at `{}`: use a weekday and a time, like `Mon 07:00`",
                self.send_at
            )
        };
        let (day, time) = self.send_at.trim().split_once(' ').ok_or_else(bad)?;
        let weekday: chrono::Weekday = day.parse().map_err(|_| bad())?;
        let (h, m) = time.trim().split_once(':').ok_or_else(bad)?;
        let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if h > 23 || m > 59 {
            return Err(bad());
        }
        Ok((weekday, h, m))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebConfig {
    pub addr: String,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            addr: "127.0.0.1:8080".into(),
        }
    }
}

impl Config {
    /// Parses the settings file text; an unknown key is an error naming it and its place.
    pub fn parse(text: &str) -> Result<Self, InputError> {
        let config: Config = toml::from_str(text).map_err(|err| from_toml(text, &err))?;
        if config.digest.timezone.parse::<chrono_tz::Tz>().is_err() {
            let offset = text.find("timezone").unwrap_or(0);
            return Err(InputError::at_offset(
                text,
                offset,
                format!("unknown time zone `{}`", config.digest.timezone),
            ));
        }
        if let Err(message) = config.digest.schedule() {
            let offset = text.find("send_at").unwrap_or(0);
            return Err(InputError::at_offset(text, offset, message));
        }
        if config.database.max_connections < 2 {
            let offset = text.find("max_connections").unwrap_or(0);
            return Err(InputError::at_offset(
                text,
                offset,
                "`database.max_connections` must be at least 2 (the queue listens on one)"
                    .to_string(),
            ));
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_example_parses() {
        let text = r#"
[office]
name = "Sở Thông tin và Truyền thông tỉnh Ninh Thuận"
[crawl]
user_agent = "diembao/1.0 (+mailto:it@example.vn)"
allow_private_network = false
[smtp]
host = "127.0.0.1"
port = 25
security = "none"
username = ""
password_env = ""
from = "diembao <diembao@example.vn>"
[digest]
timezone = "Asia/Ho_Chi_Minh"
send_at = "Mon 07:00"
recipients = ["lanh-dao@example.vn", "phong-ttbcxb@example.vn"]
[web]
addr = "127.0.0.1:8080"
"#;
        let config = Config::parse(text).expect("contract example");
        assert_eq!(config.digest.recipients.len(), 2);
        assert_eq!(config.crawl.per_host_concurrency, 2);
    }

    #[test]
    fn unknown_key_is_named_with_its_place() {
        let err = Config::parse("[crawl]\nuser_agnt = \"x\"\n").expect_err("typo");
        assert!(err.message.contains("user_agnt"), "{err}");
        assert_eq!(err.line, 2);
    }

    #[test]
    fn empty_file_is_defaults() {
        let config = Config::parse("").expect("empty");
        assert_eq!(config.web.addr, "127.0.0.1:8080");
    }
}
