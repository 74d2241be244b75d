//! Raw captures: every fetched body kept byte for byte, content-addressed in the data dir.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Writes `body` under `captures/ab/abcdef…` (once; the same bytes share one file) and
/// returns its path relative to the data dir. The file is synced before returning.
pub fn save(data_dir: &Path, sha256: &str, body: &[u8]) -> std::io::Result<String> {
    let relative: PathBuf = ["captures", &sha256[..2], sha256].iter().collect();
    let path = data_dir.join(&relative);
    if !path.exists() {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        // A name of its own per writer: two workers may keep the same bytes at once.
        static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = path.with_extension(format!("{}-{seq}.tmp", std::process::id()));
        {
            use std::io::Write;
            let mut file = std::fs::File::create(&tmp)?;
            file.write_all(body)?;
            file.sync_all()?;
        }
        std::fs::rename(&tmp, &path)?;
    }
    Ok(relative.to_string_lossy().into_owned())
}

/// [`save`] on a blocking thread (it writes and syncs a file): keeps the async workers
/// free while the disk works.
pub async fn save_async(data_dir: &Path, sha256: &str, body: &[u8]) -> std::io::Result<String> {
    let (dir, sha, body) = (data_dir.to_path_buf(), sha256.to_string(), body.to_vec());
    tokio::task::spawn_blocking(move || save(&dir, &sha, &body))
        .await
        .map_err(std::io::Error::other)?
}
