//! Accounts, sessions, roles and CSRF.
//!
//! Passwords are hashed with argon2id. A session is an opaque random token in a
//! `HttpOnly`, `SameSite=Strict` cookie (`Secure` unless the UI is served on loopback);
//! only its SHA-256 is stored. Every state change needs the session's CSRF token (form
//! field `csrf` or header `X-CSRF-Token`). Failed logins are limited per address and
//! account.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::http::HeaderMap;
use sha2::{Digest, Sha256};

pub const COOKIE: &str = "diembao_session";
pub const SESSION_HOURS: i64 = 12;

/// Hashes a password (argon2id, random salt) in PHC string form.
pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A fresh random token (256 bits, hex).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The session token from the request's cookies.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

pub fn session_cookie(token: &str, secure: bool) -> String {
    format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        SESSION_HOURS * 3600,
        if secure { "; Secure" } else { "" }
    )
}

pub fn clear_cookie(secure: bool) -> String {
    format!(
        "{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}",
        if secure { "; Secure" } else { "" }
    )
}

/// What each role may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Search and read collected documents, digests and sources.
    Read,
    /// Decide on candidates, open cases.
    Review,
    /// Manage sources, rules, users; send digests.
    Admin,
    /// See the cases handed over to oneself.
    Liaison,
}

pub fn allowed(role: &str, action: Action) -> bool {
    match action {
        Action::Read => matches!(role, "viewer" | "reviewer" | "admin"),
        Action::Review => matches!(role, "reviewer" | "admin"),
        Action::Admin => role == "admin",
        Action::Liaison => role == "liaison",
    }
}

/// Failed logins per (address, account): at most `MAX_FAILURES` in `WINDOW`.
#[derive(Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<(IpAddr, String), (u32, Instant)>>,
}

const MAX_FAILURES: u32 = 5;
const WINDOW: Duration = Duration::from_secs(15 * 60);

impl LoginLimiter {
    pub fn blocked(&self, ip: IpAddr, user: &str) -> bool {
        let map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&(ip, user.to_string()))
            .is_some_and(|(n, since)| *n >= MAX_FAILURES && since.elapsed() < WINDOW)
    }

    pub fn failed(&self, ip: IpAddr, user: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let entry = map
            .entry((ip, user.to_string()))
            .or_insert((0, Instant::now()));
        if entry.1.elapsed() >= WINDOW {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
        if map.len() > 10_000 {
            map.retain(|_, (_, since)| since.elapsed() < WINDOW);
        }
    }

    pub fn succeeded(&self, ip: IpAddr, user: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&(ip, user.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_and_tokens() {
        let hash = hash_password("mật khẩu").expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("mật khẩu", &hash));
        assert!(!verify_password("mat khau", &hash));
        assert!(!verify_password("x", "not a hash"));
        let token = random_token();
        assert_eq!(token.len(), 64);
        assert_ne!(token, random_token());
        let mut headers = HeaderMap::new();
        headers.insert(
            axum::http::header::COOKIE,
            format!("a=b; {COOKIE}={token}").parse().expect("header"),
        );
        assert_eq!(session_token(&headers), Some(token));
    }

    #[test]
    fn roles_do_only_their_own_actions() {
        assert!(allowed("viewer", Action::Read) && !allowed("viewer", Action::Review));
        assert!(allowed("reviewer", Action::Review) && !allowed("reviewer", Action::Admin));
        assert!(!allowed("liaison", Action::Read) && allowed("liaison", Action::Liaison));
        assert!(allowed("admin", Action::Admin) && !allowed("admin", Action::Liaison));
    }

    #[test]
    fn limiter_blocks_after_five_failures() {
        let limiter = LoginLimiter::default();
        let ip: IpAddr = "127.0.0.1".parse().expect("ip");
        for _ in 0..5 {
            assert!(!limiter.blocked(ip, "lan"));
            limiter.failed(ip, "lan");
        }
        assert!(limiter.blocked(ip, "lan"));
        assert!(!limiter.blocked(ip, "minh"));
    }
}
