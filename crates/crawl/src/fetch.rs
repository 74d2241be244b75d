//! Fetching: politeness per host, robots.txt, conditional GET, limits and the SSRF guard.
//!
//! One [`Fetcher`] serves the whole process. Each host has its own concurrency limit and
//! minimum delay; a global semaphore bounds requests across hosts, so a slow host never
//! stalls the others beyond its own slots.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{self, HeaderMap};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use url::Url;

use diembao_core::config::CrawlConfig;
use diembao_core::url_canon::host_key;

/// Why a fetch produced no page.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FetchError {
    #[error("disallowed by robots.txt")]
    Robots,
    #[error("refused private or loopback address {0} (use --allow-private-network to allow)")]
    PrivateAddress(String),
    #[error("body larger than {0} bytes")]
    TooLarge(usize),
    #[error("timed out")]
    Timeout,
    #[error("HTTP status {0}")]
    Status(u16),
    #[error("redirect loop at {0}")]
    RedirectLoop(String),
    #[error("more than {0} redirects")]
    TooManyRedirects(usize),
    #[error("unsupported content type {0}")]
    ContentType(String),
    #[error("unsupported url {0}")]
    Url(String),
    #[error("network: {0}")]
    Network(String),
}

impl FetchError {
    /// A short machine-readable reason, used in summaries.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Robots => "robots",
            Self::PrivateAddress(_) => "private_address",
            Self::TooLarge(_) => "too_large",
            Self::Timeout => "timeout",
            Self::Status(404) | Self::Status(410) => "not_found",
            Self::Status(_) => "http_status",
            Self::RedirectLoop(_) => "redirect_loop",
            Self::TooManyRedirects(_) => "too_many_redirects",
            Self::ContentType(_) => "content_type",
            Self::Url(_) => "bad_url",
            Self::Network(_) => "network",
        }
    }

    /// Whether trying again later may help.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Timeout | Self::Network(_))
            || matches!(self, Self::Status(s) if *s == 429 || *s >= 500)
    }
}

/// Validators from an earlier fetch of the same URL.
#[derive(Debug, Clone, Default)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// What a successful fetch returned.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The URL asked for.
    pub url: Url,
    /// The URL after redirects.
    pub final_url: Url,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub content_type: Option<String>,
    /// Empty when `not_modified`.
    pub body: Vec<u8>,
    pub not_modified: bool,
    pub redirects: Vec<String>,
    pub elapsed: Duration,
    pub fetched_at: chrono::DateTime<chrono::Utc>,
}

impl Fetched {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn etag(&self) -> Option<&str> {
        self.header("etag")
    }

    pub fn last_modified(&self) -> Option<&str> {
        self.header("last-modified")
    }
}

/// Whether an address is private, loopback, link-local or otherwise not public.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64
                || v4.octets()[0] == 0
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private(IpAddr::V4(v4));
            }
            v6.is_loopback()
                || v6.is_unspecified()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

/// A DNS resolver that refuses names resolving to non-public addresses.
struct GuardedResolver {
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = addrs
                .iter()
                .copied()
                .filter(|a| allow_private || !is_private(a.ip()))
                .collect();
            if allowed.is_empty() {
                let shown = addrs
                    .first()
                    .map_or_else(|| host.clone(), |a| a.ip().to_string());
                return Err(Box::new(PrivateRefused(format!("{host} -> {shown}")))
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[derive(Debug)]
struct PrivateRefused(String);

impl std::fmt::Display for PrivateRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "private address refused: {}", self.0)
    }
}

impl std::error::Error for PrivateRefused {}

struct HostState {
    slots: Arc<Semaphore>,
    next_at: Mutex<Instant>,
    robots: tokio::sync::Mutex<Option<(Instant, Arc<Robots>)>>,
}

/// A parsed robots.txt, or a blanket answer.
#[derive(Debug)]
pub enum Robots {
    AllowAll,
    DisallowAll,
    Rules(Box<texting_robots::Robot>),
}

impl Robots {
    pub fn allowed(&self, url: &str) -> bool {
        match self {
            Self::AllowAll => true,
            Self::DisallowAll => false,
            Self::Rules(robot) => robot.allowed(url),
        }
    }

    pub fn sitemaps(&self) -> Vec<String> {
        match self {
            Self::Rules(robot) => robot.sitemaps.clone(),
            _ => Vec::new(),
        }
    }
}

/// How long a robots.txt is trusted.
const ROBOTS_TTL: Duration = Duration::from_secs(6 * 3600);
/// The longest `Retry-After` honoured before giving up for now.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);

pub struct Fetcher {
    client: reqwest::Client,
    config: CrawlConfig,
    global: Arc<Semaphore>,
    hosts: Mutex<HashMap<String, Arc<HostState>>>,
    robots_agent: String,
}

impl Fetcher {
    pub fn new(config: CrawlConfig) -> Result<Self, FetchError> {
        let client = reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(config.connect_timeout_secs))
            .timeout(Duration::from_secs(config.timeout_secs))
            .dns_resolver(Arc::new(GuardedResolver {
                allow_private: config.allow_private_network,
            }))
            .no_proxy()
            .pool_max_idle_per_host(config.per_host_concurrency.max(1))
            .build()
            .map_err(|err| FetchError::Network(err.to_string()))?;
        let robots_agent = config
            .user_agent
            .split(['/', ' '])
            .next()
            .filter(|s| !s.is_empty())
            .unwrap_or("diembao")
            .to_string();
        Ok(Self {
            client,
            global: Arc::new(Semaphore::new(config.concurrency.max(1))),
            hosts: Mutex::new(HashMap::new()),
            robots_agent,
            config,
        })
    }

    pub fn config(&self) -> &CrawlConfig {
        &self.config
    }

    fn host(&self, url: &Url) -> Arc<HostState> {
        let key = host_key(url);
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        hosts
            .entry(key)
            .or_insert_with(|| {
                Arc::new(HostState {
                    slots: Arc::new(Semaphore::new(self.config.per_host_concurrency.max(1))),
                    next_at: Mutex::new(Instant::now()),
                    robots: tokio::sync::Mutex::new(None),
                })
            })
            .clone()
    }

    fn check_address(&self, url: &Url) -> Result<(), FetchError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::Url(url.to_string()));
        }
        if self.config.allow_private_network {
            return Ok(());
        }
        let ip = match url.host() {
            Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
            Some(url::Host::Domain(domain)) if domain.eq_ignore_ascii_case("localhost") => {
                return Err(FetchError::PrivateAddress(domain.to_string()));
            }
            Some(url::Host::Domain(_)) => return Ok(()),
            None => return Err(FetchError::Url(url.to_string())),
        };
        if is_private(ip) {
            Err(FetchError::PrivateAddress(ip.to_string()))
        } else {
            Ok(())
        }
    }

    /// Waits for a slot on the host and for its minimum delay.
    async fn polite_slot(
        &self,
        host: &HostState,
    ) -> Result<(OwnedSemaphorePermit, OwnedSemaphorePermit), FetchError> {
        let host_permit = host
            .slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| FetchError::Network(e.to_string()))?;
        let global_permit = self
            .global
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| FetchError::Network(e.to_string()))?;
        let delay = Duration::from_millis(self.config.per_host_delay_ms);
        let wait = {
            let mut next_at = host.next_at.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let start = (*next_at).max(now);
            *next_at = start + delay;
            start - now
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        Ok((host_permit, global_permit))
    }

    /// The robots.txt rules of the URL's host (fetched once, cached for a while).
    pub async fn robots(&self, url: &Url) -> Arc<Robots> {
        let host = self.host(url);
        let mut cached = host.robots.lock().await;
        if let Some((at, robots)) = cached.as_ref()
            && at.elapsed() < ROBOTS_TTL
        {
            return robots.clone();
        }
        let robots = Arc::new(self.fetch_robots(url, &host).await);
        *cached = Some((Instant::now(), robots.clone()));
        robots
    }

    async fn fetch_robots(&self, url: &Url, host: &HostState) -> Robots {
        let mut robots_url = url.clone();
        robots_url.set_path("/robots.txt");
        robots_url.set_query(None);
        robots_url.set_fragment(None);
        let result = self
            .get_raw(&robots_url, &Validators::default(), host, 512 * 1024)
            .await;
        match result {
            Ok(fetched) if fetched.status == 200 => {
                match texting_robots::Robot::new(&self.robots_agent, &fetched.body) {
                    Ok(robot) => Robots::Rules(Box::new(robot)),
                    Err(err) => {
                        tracing::warn!(url = %robots_url, error = %err, "unparsable robots.txt, allowing all");
                        Robots::AllowAll
                    }
                }
            }
            // 4xx: no rules. Server errors: assume the site wants no crawling for now.
            Ok(fetched) if (400..500).contains(&fetched.status) => Robots::AllowAll,
            Err(FetchError::Status(status)) if (400..500).contains(&status) => Robots::AllowAll,
            Err(FetchError::PrivateAddress(_)) => Robots::DisallowAll,
            Ok(_) | Err(_) => Robots::DisallowAll,
        }
    }

    /// Fetches a page: robots.txt, politeness, redirects (each hop checked), retries on
    /// 429/503 with `Retry-After`, conditional GET, body cap.
    pub async fn fetch(&self, url: &Url, validators: &Validators) -> Result<Fetched, FetchError> {
        self.check_address(url)?;
        if !self.robots(url).await.allowed(url.as_str()) {
            return Err(FetchError::Robots);
        }
        let mut current = url.clone();
        let mut redirects: Vec<String> = Vec::new();
        let started = Instant::now();
        loop {
            let host = self.host(&current);
            let mut fetched = self.get_with_retries(&current, validators, &host).await?;
            if (300..400).contains(&fetched.status) && fetched.status != 304 {
                let location = fetched
                    .header("location")
                    .ok_or(FetchError::Status(fetched.status))?;
                let next = current
                    .join(location)
                    .map_err(|_| FetchError::Url(location.to_string()))?;
                if next == current || redirects.iter().any(|r| r == next.as_str()) || next == *url {
                    return Err(FetchError::RedirectLoop(next.to_string()));
                }
                if redirects.len() >= self.config.max_redirects {
                    return Err(FetchError::TooManyRedirects(self.config.max_redirects));
                }
                self.check_address(&next)?;
                if !self.robots(&next).await.allowed(next.as_str()) {
                    return Err(FetchError::Robots);
                }
                redirects.push(next.to_string());
                current = next;
                continue;
            }
            fetched.url = url.clone();
            fetched.redirects = redirects;
            fetched.elapsed = started.elapsed();
            return match fetched.status {
                200..=299 | 304 => Ok(fetched),
                status => Err(FetchError::Status(status)),
            };
        }
    }

    async fn get_with_retries(
        &self,
        url: &Url,
        validators: &Validators,
        host: &HostState,
    ) -> Result<Fetched, FetchError> {
        let mut attempt = 1;
        loop {
            let result = self
                .get_raw(url, validators, host, self.config.max_body_bytes)
                .await;
            let retry_after = match &result {
                Ok(fetched) if fetched.status == 429 || fetched.status == 503 => Some(
                    fetched
                        .header("retry-after")
                        .and_then(parse_retry_after)
                        .unwrap_or(Duration::from_secs(1 << attempt.min(5))),
                ),
                Err(err) if err.is_transient() => {
                    Some(Duration::from_millis(500 * (1 << attempt.min(5))))
                }
                _ => None,
            };
            match retry_after {
                Some(wait) if attempt < self.config.max_attempts && wait <= MAX_RETRY_AFTER => {
                    tracing::debug!(url = %url, attempt, wait_ms = wait.as_millis() as u64, "retrying");
                    // Keep the host quiet for the whole wait.
                    {
                        let mut next_at = host.next_at.lock().unwrap_or_else(|p| p.into_inner());
                        *next_at = (*next_at).max(Instant::now() + wait);
                    }
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                _ => {
                    return match result {
                        Ok(fetched) if fetched.status == 429 || fetched.status == 503 => {
                            Err(FetchError::Status(fetched.status))
                        }
                        other => other,
                    };
                }
            }
        }
    }

    /// One GET, no redirects followed, the body read up to `cap` bytes.
    async fn get_raw(
        &self,
        url: &Url,
        validators: &Validators,
        host: &HostState,
        cap: usize,
    ) -> Result<Fetched, FetchError> {
        let _permits = self.polite_slot(host).await?;
        let started = Instant::now();
        let mut request = self.client.get(url.clone()).header(header::ACCEPT, "text/html,application/xhtml+xml,application/xml;q=0.9,application/rss+xml,application/atom+xml,application/json;q=0.8,*/*;q=0.5");
        if let Some(etag) = &validators.etag {
            request = request.header(header::IF_NONE_MATCH, etag);
        }
        if let Some(last_modified) = &validators.last_modified {
            request = request.header(header::IF_MODIFIED_SINCE, last_modified);
        }
        let mut response = request.send().await.map_err(map_reqwest)?;
        let status = response.status();
        let headers = header_pairs(response.headers());
        if let Some(length) = response.content_length()
            && length as usize > cap
        {
            return Err(FetchError::TooLarge(cap));
        }
        // Sized for the declared length (the cap still holds while streaming: a length
        // may lie, and a compressed body's says nothing of its decoded size).
        let declared = response.content_length().unwrap_or(0);
        let mut body = Vec::with_capacity(usize::try_from(declared).unwrap_or(cap).min(cap));
        if status != StatusCode::NOT_MODIFIED {
            while let Some(chunk) = response.chunk().await.map_err(map_reqwest)? {
                if body.len() + chunk.len() > cap {
                    return Err(FetchError::TooLarge(cap));
                }
                body.extend_from_slice(&chunk);
            }
        }
        let content_type = headers
            .iter()
            .find(|(k, _)| k == "content-type")
            .map(|(_, v)| v.clone());
        Ok(Fetched {
            url: url.clone(),
            final_url: url.clone(),
            status: status.as_u16(),
            headers,
            content_type,
            body,
            not_modified: status == StatusCode::NOT_MODIFIED,
            redirects: Vec::new(),
            elapsed: started.elapsed(),
            fetched_at: chrono::Utc::now(),
        })
    }
}

fn header_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

fn map_reqwest(err: reqwest::Error) -> FetchError {
    if err.is_timeout() {
        return FetchError::Timeout;
    }
    let mut source: Option<&dyn std::error::Error> = Some(&err);
    while let Some(inner) = source {
        if let Some(refused) = inner.downcast_ref::<PrivateRefused>() {
            return FetchError::PrivateAddress(refused.0.clone());
        }
        if inner.to_string().contains("private address refused") {
            return FetchError::PrivateAddress(inner.to_string());
        }
        source = inner.source();
    }
    let mut text = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    FetchError::Network(text)
}

/// `Retry-After` as seconds or an HTTP date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let secs = (at.with_timezone(&chrono::Utc) - chrono::Utc::now())
        .num_seconds()
        .max(0);
    Some(Duration::from_secs(secs as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_ranges() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "172.16.5.4",
            "169.254.1.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "100.64.0.1",
        ] {
            assert!(is_private(ip.parse().expect("ip")), "{ip}");
        }
        for ip in ["1.1.1.1", "203.162.4.191", "2001:4860:4860::8888"] {
            assert!(!is_private(ip.parse().expect("ip")), "{ip}");
        }
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }
}
