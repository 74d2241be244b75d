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
        let paths = self.store.prune_captures(before).await?;
        let mut removed = 0;
        for path in &paths {
            match std::fs::remove_file(self.data_dir.join(path)) {
                Ok(()) => removed += 1,
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(err) => {
                    tracing::warn!(path = %path, error = %err, "could not remove an expired capture")
                }
            }
        }
        if removed > 0 {
            tracing::info!(removed, days, "expired captures removed");
        }
        Ok(removed)
    }
}
