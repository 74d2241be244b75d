//! Alerts: new high-severity candidates mailed to the reviewers, batched (the scheduler
//! calls this every 30 seconds, so a candidate is announced within a minute of ingest).

use std::fmt::Write;

use crate::JobError;
use crate::env::Env;
use crate::mail::{self, Mail};

impl Env {
    /// Mails one batch of every new high-severity candidate; returns how many were announced.
    pub async fn send_alerts(&self) -> Result<usize, JobError> {
        let recipients = &self.config.alerts.recipients;
        if recipients.is_empty() {
            return Ok(0);
        }
        let pending = self.store.unalerted_candidates().await?;
        if pending.is_empty() {
            return Ok(0);
        }
        let mut text = format!(
            "{} nội dung mới bị gắn cờ mức cao cần xem xét:\n\n",
            pending.len()
        );
        for (candidate, doc) in &pending {
            let _ = writeln!(
                text,
                "#{} [{}] {}\n   {}\n   Nguồn: {}\n   Quy tắc: {}\n   Từ khoá: {}\n",
                candidate.id,
                candidate.severity,
                doc.title,
                doc.url,
                doc.source_name.as_deref().unwrap_or("-"),
                candidate.rules,
                candidate.terms
            );
        }
        text.push_str("Phần mềm chỉ đề xuất; mọi quyết định thuộc về người duyệt.\n");
        let subject = format!("[diembao] {} nội dung bị gắn cờ mức cao", pending.len());
        let first = pending.first().map_or(0, |(c, _)| c.id);
        let last = pending.last().map_or(0, |(c, _)| c.id);
        let domain = self
            .config
            .smtp
            .from
            .rsplit('@')
            .next()
            .unwrap_or("diembao.local")
            .trim_end_matches('>')
            .to_string();
        let message_id = format!("<alert.{first}-{last}@{domain}>");
        for recipient in recipients {
            let mail = Mail {
                to: recipient,
                subject: &subject,
                text: &text,
                html: None,
                inline: Vec::new(),
                message_id: &message_id,
            };
            mail::send(&self.config.smtp, &mail).await?;
        }
        let ids: Vec<i64> = pending.iter().map(|(c, _)| c.id).collect();
        self.store.mark_alerted(&ids).await?;
        tracing::info!(count = ids.len(), "candidate alerts sent");
        Ok(ids.len())
    }
}
