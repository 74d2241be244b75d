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
        let tmp = path.with_extension("tmp");
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
