//! Capture retention: raw captures of pages that never became candidates are deleted
//! after `crawl.capture_retention_days` (0 keeps everything); candidates' captures are
//! evidence and always kept.

use chrono::Utc;

use crate::JobError;
use crate::env::Env;

impl Env {
    /// Deletes expired captures; returns how many files were removed.
    pub async fn prune_captures(&self) -> Result<usize, JobError> {
        let days = self.config.crawl.capture_retention_days;
        if days == 0 {
            return Ok(0);
        }
        let before = Utc::now() - chrono::Duration::days(i64::from(days));
        let pruned = self.store.prune_captures(before).await?;
        let mut removed = self.remove_capture_files(&pruned.files);
        for pack in &pruned.packs_in_use {
            removed += self.empty_pack(pack).await?;
        }
        if removed > 0 {
            tracing::info!(removed, days, "expired captures removed");
        }
        Ok(removed)
    }

    fn remove_capture_files(&self, paths: &[String]) -> usize {
        let mut removed = 0;
        for path in paths {
            match std::fs::remove_file(self.data_dir.join(path)) {
                Ok(()) => removed += 1,
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(err) => {
                    tracing::warn!(path = %path, error = %err, "could not remove an expired capture")
                }
            }
        }
        removed
    }

    /// A pack whose other captures expired: the ones it still holds (evidence, or not yet
    /// expired) move to files of their own, checked against their SHA-256, and the pack
    /// with the expired bytes goes. A capture that fails its check stays where it is, and
    /// so does the pack. Returns how many files were removed (0 or 1).
    async fn empty_pack(&self, pack: &str) -> Result<usize, JobError> {
        for capture in self.store.captures_in_file(pack).await? {
            let bytes = self.read_capture(&capture).await?;
            if crate::capture::sha256_hex(&bytes) != capture.sha256 {
                tracing::warn!(
                    pack,
                    capture = capture.id,
                    "capture in a pack does not match its SHA-256; the pack is kept"
                );
                return Ok(0);
            }
            let path = crate::capture::save_async(&self.data_dir, &capture.sha256, &bytes).await?;
            self.store.move_capture(capture.id, &path).await?;
        }
        Ok(self.remove_capture_files(&[pack.to_string()]))
    }
}
