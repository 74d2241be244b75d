//! WARC/1.1 (ISO 28500) files of raw captures, and a reader that checks their digests.
//!
//! A capture becomes one WARC file of three records:
//! 1. `warcinfo`: the software and how the file was made;
//! 2. `request`: the `GET` the crawler sent, reconstructed (diembao keeps the response,
//!    not the request; the headers written are the ones the crawler always sends);
//! 3. `response`: the HTTP status line and response headers as captured, then the exact
//!    payload bytes kept in `DATA_DIR/captures/`. The crawler stores the body after
//!    transfer decoding (gzip, chunked), so a `Content-Encoding` or `Transfer-Encoding`
//!    header, and a `Content-Length` that differs from the kept payload, are written as
//!    `X-Archive-Orig-…` (the Wayback convention) and `Content-Length` is the payload's.
//!
//! Digests are `sha256:` followed by the **base16 (lower-case hex)** SHA-256, the same
//! value as the capture's file name and `raw_captures.sha256`: `WARC-Payload-Digest` is over
//! the HTTP payload (entity body) alone, `WARC-Block-Digest` over the whole record block.
//! The reader also accepts base32 (RFC 4648) digests from other tools.
//! `WARC-Date` is the capture time in UTC (seconds). `WARC-Record-ID`s are derived from
//! the capture (UUID version 8 from a SHA-256 of record type, payload digest, URI and
//! date), so exporting the same capture twice gives the same bytes.

use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256};

/// What a WARC file is made of.
#[derive(Debug, Clone)]
pub struct WarcCapture<'a> {
    pub url: &'a str,
    pub status: u16,
    /// Response headers as captured (name, value).
    pub headers: Vec<(String, String)>,
    pub payload: &'a [u8],
    pub captured_at: DateTime<Utc>,
    /// The crawler's `User-Agent` (for the reconstructed request).
    pub user_agent: &'a str,
    /// The WARC file's own name (`WARC-Filename` of the warcinfo record).
    pub filename: &'a str,
    /// A line for the warcinfo record (what this capture is part of).
    pub is_part_of: &'a str,
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// RFC 4648 base32 (upper case, with padding).
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    for chunk in bytes.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let n = buf.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        let chars = (chunk.len() * 8).div_ceil(5);
        for i in 0..8 {
            if i < chars {
                out.push(ALPHABET[((n >> (35 - i * 5)) & 31) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A deterministic `<urn:uuid:…>` (UUID version 8) from the given parts.
pub fn record_id(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"diembao-warc-record");
    for part in parts {
        hasher.update([0u8]);
        hasher.update(part.as_bytes());
    }
    let digest = hasher.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "<urn:uuid:{}-{}-{}-{}-{}>",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        410 => "Gone",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "",
    }
}

/// A header value safe on one line.
fn one_line(value: &str) -> String {
    value
        .chars()
        .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
        .collect()
}

fn record(out: &mut Vec<u8>, fields: &[(&str, String)], block: &[u8]) {
    out.extend_from_slice(b"WARC/1.1\r\n");
    for (name, value) in fields {
        out.extend_from_slice(format!("{name}: {}\r\n", one_line(value)).as_bytes());
    }
    out.extend_from_slice(
        format!("WARC-Block-Digest: sha256:{}\r\n", sha256_hex(block)).as_bytes(),
    );
    out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", block.len()).as_bytes());
    out.extend_from_slice(block);
    out.extend_from_slice(b"\r\n\r\n");
}

/// The HTTP response head (status line and headers, ending with the blank line).
fn response_head(capture: &WarcCapture<'_>) -> Vec<u8> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        capture.status,
        reason_phrase(capture.status)
    );
    let length = capture.payload.len().to_string();
    for (name, value) in &capture.headers {
        let lower = name.to_ascii_lowercase();
        let name = if lower == "content-encoding"
            || lower == "transfer-encoding"
            || (lower == "content-length" && value.trim() != length)
        {
            format!("X-Archive-Orig-{name}")
        } else if lower == "content-length" {
            continue;
        } else {
            name.clone()
        };
        head.push_str(&format!("{}: {}\r\n", one_line(&name), one_line(value)));
    }
    head.push_str(&format!("Content-Length: {length}\r\n\r\n"));
    head.into_bytes()
}

fn request_block(url: &str, user_agent: &str) -> Vec<u8> {
    let (host, target) = match url::Url::parse(url) {
        Ok(parsed) => {
            let host = match (parsed.host_str(), parsed.port()) {
                (Some(h), Some(p)) => format!("{h}:{p}"),
                (Some(h), None) => h.to_string(),
                _ => String::new(),
            };
            let mut target = parsed.path().to_string();
            if let Some(q) = parsed.query() {
                target.push('?');
                target.push_str(q);
            }
            (host, target)
        }
        Err(_) => (String::new(), url.to_string()),
    };
    format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: {}\r\nAccept: */*\r\nAccept-Encoding: gzip, br, deflate\r\n\r\n",
        one_line(&target),
        one_line(&host),
        one_line(user_agent)
    )
    .into_bytes()
}

/// The WARC file of a capture.
pub fn write_warc(capture: &WarcCapture<'_>) -> Vec<u8> {
    let date = capture
        .captured_at
        .to_rfc3339_opts(SecondsFormat::Secs, true);
    let payload_sha = sha256_hex(capture.payload);
    let info_id = record_id(&["warcinfo", &payload_sha, capture.url, &date]);
    let request_id = record_id(&["request", &payload_sha, capture.url, &date]);
    let response_id = record_id(&["response", &payload_sha, capture.url, &date]);
    let mut out = Vec::with_capacity(capture.payload.len() + 4096);

    let info = format!(
        "software: diembao/{}\r\nformat: WARC File Format 1.1\r\nconformsTo: https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\n\
         isPartOf: {}\r\ndescription: HTTP response captured by the diembao crawler, kept byte for byte since capture; \
         the request record is reconstructed; digests are sha256 in base16.\r\n",
        env!("CARGO_PKG_VERSION"),
        one_line(capture.is_part_of),
    );
    record(
        &mut out,
        &[
            ("WARC-Type", "warcinfo".into()),
            ("WARC-Date", date.clone()),
            ("WARC-Filename", capture.filename.to_string()),
            ("WARC-Record-ID", info_id.clone()),
            ("Content-Type", "application/warc-fields".into()),
        ],
        info.as_bytes(),
    );

    let request = request_block(capture.url, capture.user_agent);
    record(
        &mut out,
        &[
            ("WARC-Type", "request".into()),
            ("WARC-Target-URI", capture.url.to_string()),
            ("WARC-Date", date.clone()),
            ("WARC-Warcinfo-ID", info_id.clone()),
            ("WARC-Record-ID", request_id),
            ("WARC-Concurrent-To", response_id.clone()),
            ("Content-Type", "application/http;msgtype=request".into()),
        ],
        &request,
    );

    let mut block = response_head(capture);
    block.extend_from_slice(capture.payload);
    record(
        &mut out,
        &[
            ("WARC-Type", "response".into()),
            ("WARC-Target-URI", capture.url.to_string()),
            ("WARC-Date", date),
            ("WARC-Warcinfo-ID", info_id),
            ("WARC-Record-ID", response_id),
            ("Content-Type", "application/http;msgtype=response".into()),
            ("WARC-Payload-Digest", format!("sha256:{payload_sha}")),
        ],
        &block,
    );
    out
}

/// One record read back.
#[derive(Debug, Clone)]
pub struct WarcRecord {
    pub headers: Vec<(String, String)>,
    pub block: Vec<u8>,
}

impl WarcRecord {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The HTTP payload of a `response` record (the block after the HTTP head).
    pub fn http_payload(&self) -> Option<&[u8]> {
        let at = self.block.windows(4).position(|w| w == b"\r\n\r\n")?;
        Some(&self.block[at + 4..])
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Splits a WARC file into records.
pub fn read_records(bytes: &[u8]) -> Result<Vec<WarcRecord>, String> {
    let mut records = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let head_end = find(rest, b"\r\n\r\n")
            .ok_or_else(|| format!("record {}: no end of headers", records.len() + 1))?;
        let head = std::str::from_utf8(&rest[..head_end])
            .map_err(|_| format!("record {}: headers are not UTF-8", records.len() + 1))?;
        let mut lines = head.split("\r\n");
        let version = lines.next().unwrap_or("");
        if !version.starts_with("WARC/") {
            return Err(format!(
                "record {}: does not start with a WARC version line",
                records.len() + 1
            ));
        }
        let mut headers = Vec::new();
        for line in lines {
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| format!("record {}: bad header line `{line}`", records.len() + 1))?;
            headers.push((name.trim().to_string(), value.trim().to_string()));
        }
        let length: usize = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse().ok())
            .ok_or_else(|| format!("record {}: no valid Content-Length", records.len() + 1))?;
        let body_start = head_end + 4;
        let body_end = body_start
            .checked_add(length)
            .filter(|end| *end <= rest.len())
            .ok_or_else(|| format!("record {}: truncated", records.len() + 1))?;
        let block = rest[body_start..body_end].to_vec();
        if rest.get(body_end..body_end + 4) != Some(b"\r\n\r\n".as_slice()) {
            return Err(format!(
                "record {}: block length does not match its Content-Length",
                records.len() + 1
            ));
        }
        rest = &rest[body_end + 4..];
        records.push(WarcRecord { headers, block });
    }
    if records.is_empty() {
        return Err("no records".into());
    }
    Ok(records)
}

/// Does a `sha256:…` digest (base16 or base32) name these bytes?
pub fn digest_matches(declared: &str, bytes: &[u8]) -> bool {
    let Some((algo, value)) = declared.split_once(':') else {
        return false;
    };
    if !algo.eq_ignore_ascii_case("sha256") {
        return false;
    }
    let digest = Sha256::digest(bytes);
    value.eq_ignore_ascii_case(&hex::encode(digest))
        || value
            .trim_end_matches('=')
            .eq_ignore_ascii_case(base32(&digest).trim_end_matches('='))
}

/// What a checked WARC file holds.
#[derive(Debug, Clone, Default)]
pub struct WarcCheck {
    /// SHA-256 (hex) of the response payload.
    pub payload_sha256: Option<String>,
    pub target_uri: Option<String>,
    pub date: Option<String>,
    pub problems: Vec<String>,
}

/// Reads a WARC file and recomputes every block and payload digest.
pub fn check_warc(bytes: &[u8]) -> WarcCheck {
    let mut check = WarcCheck::default();
    let records = match read_records(bytes) {
        Ok(records) => records,
        Err(err) => {
            check
                .problems
                .push(format!("not a readable WARC file ({err})"));
            return check;
        }
    };
    for (i, record) in records.iter().enumerate() {
        let kind = record.header("WARC-Type").unwrap_or("?").to_string();
        match record.header("WARC-Block-Digest") {
            Some(d) if digest_matches(d, &record.block) => {}
            Some(_) => check.problems.push(format!(
                "record {} ({kind}): WARC-Block-Digest does not match the block",
                i + 1
            )),
            None => check
                .problems
                .push(format!("record {} ({kind}): no WARC-Block-Digest", i + 1)),
        }
        if kind == "response" {
            let Some(payload) = record.http_payload() else {
                check
                    .problems
                    .push(format!("record {} (response): no HTTP head", i + 1));
                continue;
            };
            match record.header("WARC-Payload-Digest") {
                Some(d) if digest_matches(d, payload) => {}
                Some(_) => check.problems.push(format!(
                    "record {} (response): WARC-Payload-Digest does not match the payload",
                    i + 1
                )),
                None => check.problems.push(format!(
                    "record {} (response): no WARC-Payload-Digest",
                    i + 1
                )),
            }
            check.payload_sha256 = Some(sha256_hex(payload));
            check.target_uri = record.header("WARC-Target-URI").map(str::to_string);
            check.date = record.header("WARC-Date").map(str::to_string);
        }
    }
    if check.payload_sha256.is_none() && check.problems.is_empty() {
        check.problems.push("no response record".into());
    }
    check
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let at = DateTime::parse_from_rfc3339("2023-03-13T01:15:00.5Z")
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_default();
        write_warc(&WarcCapture {
            url: "http://127.0.0.41:8080/posts/1.html?x=1",
            status: 200,
            headers: vec![
                ("content-type".into(), "text/html; charset=utf-8".into()),
                ("content-length".into(), "999".into()),
            ],
            payload: "<p>Việc nhẹ lương cao</p>\r\n\r\nhết".as_bytes(),
            captured_at: at,
            user_agent: "diembao/1.0",
            filename: "capture.warc",
            is_part_of: "case 1",
        })
    }

    #[test]
    fn writes_three_records_with_digests_that_check_out() {
        let bytes = sample();
        assert_eq!(bytes, sample(), "deterministic");
        let records = read_records(&bytes).expect("records");
        let kinds: Vec<&str> = records
            .iter()
            .filter_map(|r| r.header("WARC-Type"))
            .collect();
        assert_eq!(kinds, ["warcinfo", "request", "response"]);
        let response = &records[2];
        assert_eq!(response.header("WARC-Date"), Some("2023-03-13T01:15:00Z"));
        assert!(
            response
                .header("WARC-Record-ID")
                .is_some_and(|id| id.starts_with("<urn:uuid:") && id.len() == 47)
        );
        assert_eq!(
            response.http_payload(),
            Some("<p>Việc nhẹ lương cao</p>\r\n\r\nhết".as_bytes())
        );
        let head = String::from_utf8_lossy(&response.block);
        assert!(
            head.starts_with("HTTP/1.1 200 OK\r\n")
                && head.contains("X-Archive-Orig-content-length: 999"),
            "{head}"
        );
        assert!(
            String::from_utf8_lossy(&records[1].block)
                .starts_with("GET /posts/1.html?x=1 HTTP/1.1\r\nHost: 127.0.0.41:8080\r\n")
        );
        let check = check_warc(&bytes);
        assert!(check.problems.is_empty(), "{:?}", check.problems);
        assert_eq!(
            check.payload_sha256.as_deref(),
            Some(sha256_hex("<p>Việc nhẹ lương cao</p>\r\n\r\nhết".as_bytes()).as_str())
        );
    }

    #[test]
    fn a_changed_byte_is_found() {
        let mut bytes = sample();
        let at = find(&bytes, "lương".as_bytes()).expect("payload");
        bytes[at] = b'X';
        let check = check_warc(&bytes);
        assert!(
            check.problems.iter().any(|p| p.contains("Payload-Digest")),
            "{:?}",
            check.problems
        );
    }

    #[test]
    fn base32_is_rfc4648() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI======");
        let digest = Sha256::digest(b"x");
        assert!(digest_matches(&format!("sha256:{}", base32(&digest)), b"x"));
        assert!(digest_matches(
            &format!("SHA256:{}", hex::encode(digest).to_uppercase()),
            b"x"
        ));
        assert!(!digest_matches("sha1:abc", b"x"));
    }
}
