//! The weekly press digest: built from the database, kept in the archive, and mailed to
//! each configured recipient once per period.
//!
//! Exactly-once delivery: one `digest_deliveries` row per (digest, recipient) records
//! the outcome; a recipient whose row says `sent` is never mailed again, however often
//! `digest send` runs or however many workers run it. The Message-ID is stable per
//! (period, recipient), so in the one window no database can close (the SMTP server
//! accepted the mail, then the process died before the row was updated) the resent
//! message is recognisably the same one.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, TimeZone, Utc};
use chrono_tz::Tz;
use sha2::{Digest as _, Sha256};

use diembao_core::digest::{
    Digest, DigestDoc, DigestInput, Period, SourceHealth, TopicSection, build_digest,
};
use diembao_store::{Delivery, delivery_status, published_with_offset};

use crate::JobError;
use crate::env::Env;
use crate::mail::{self, Mail};

/// How many times a failed delivery is tried within one `digest send`.
const SEND_ATTEMPTS: u32 = 3;

/// What `digest send` did for each recipient.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DeliveryReport {
    pub recipient: String,
    pub status: String,
    pub attempts: i32,
    pub already_sent: bool,
    pub error: Option<String>,
}

impl Env {
    pub fn digest_timezone(&self) -> Tz {
        self.config
            .digest
            .timezone
            .parse()
            .unwrap_or(chrono_tz::Asia::Ho_Chi_Minh)
    }

    /// The documents of a period, with their tags and review status.
    async fn digest_docs(&self, period: &Period, tz: Tz) -> Result<Vec<DigestDoc>, JobError> {
        let (since, until) = period.utc_bounds(tz);
        let mut out = Vec::new();
        let mut after = 0;
        loop {
            let page = self
                .store
                .documents_page(after, 1000, Some(since), Some(until))
                .await?;
            let Some(last) = page.last() else { break };
            after = last.id;
            let ids: Vec<i64> = page.iter().map(|d| d.id).collect();
            let mut tags: HashMap<i64, Vec<(String, String, String)>> = HashMap::new();
            for m in self.store.open_matches(&ids).await? {
                tags.entry(m.document_id)
                    .or_default()
                    .push((m.rule_id, m.category, m.severity));
            }
            let statuses = self.store.candidate_statuses(&ids).await?;
            for doc in page {
                out.push(DigestDoc {
                    id: doc.id,
                    url: doc.url.clone(),
                    canonical_url: doc.canonical_url.clone(),
                    title: doc.title.clone(),
                    text: doc.text.clone(),
                    source: doc
                        .source_name
                        .clone()
                        .unwrap_or_else(|| "(không rõ nguồn)".into()),
                    kind: doc.kind.clone(),
                    published_at: published_with_offset(&doc),
                    fetched_at: doc.fetched_at,
                    syndicated_from: doc.syndicated_from_url.clone(),
                    tags: tags.remove(&doc.id).unwrap_or_default(),
                    candidate_status: statuses.get(&doc.id).cloned(),
                });
            }
        }
        Ok(out)
    }

    /// Builds the digest of a period and keeps it in the archive.
    pub async fn build_digest(&self, period: &Period) -> Result<Digest, JobError> {
        let tz = self.digest_timezone();
        let current = self.digest_docs(period, tz).await?;
        let previous = self.digest_docs(&period.previous(), tz).await?;
        let health = self
            .store
            .sources()
            .await?
            .into_iter()
            .map(|s| SourceHealth {
                failing: diembao_store::health_alert(&s, Utc::now()).is_some()
                    || s.consecutive_failures > 0,
                name: s.name,
                last_error: s.last_error,
                consecutive_failures: s.consecutive_failures,
            })
            .collect();
        let (since, until) = period.utc_bounds(tz);
        let mut topics = Vec::new();
        for topic in &self.config.digest.topics {
            let request = diembao_index::SearchRequest {
                query: topic.query.clone(),
                limit: 200,
                since: Some(since),
                until: Some(until),
                ..Default::default()
            };
            let index = self.index.clone();
            let hits = tokio::task::spawn_blocking(move || index.search(&request))
                .await
                .map_err(|e| JobError::Other(e.to_string()))?;
            match hits {
                Ok(results) => topics.push(TopicSection {
                    title: topic.title.clone(),
                    query_hits: results.hits.iter().map(|h| h.id).collect(),
                }),
                Err(err) => {
                    tracing::warn!(topic = %topic.title, error = %err, "saved search of a digest topic failed")
                }
            }
        }
        let input = DigestInput {
            office: self.config.office.name.clone(),
            timezone: tz,
            period: *period,
            current,
            previous,
            health,
            topics,
        };
        let digest = tokio::task::spawn_blocking(move || build_digest(&input))
            .await
            .map_err(|e| JobError::Other(e.to_string()))?;
        let label = period_label(period);
        let content = serde_json::to_value(&digest).map_err(|e| JobError::Other(e.to_string()))?;
        self.store
            .save_digest(&label, period.from(), period.to(), content)
            .await?;
        Ok(digest)
    }

    /// Mails the digest of a period to every configured recipient that has not had it.
    pub async fn send_digest(&self, period: &Period) -> Result<Vec<DeliveryReport>, JobError> {
        let recipients = self.config.digest.recipients.clone();
        if recipients.is_empty() {
            return Err(JobError::Other(
                "no recipients: set [digest] recipients in the settings".into(),
            ));
        }
        let label = period_label(period);
        let digest = match self.store.digest(&label).await? {
            Some(row) => serde_json::from_value::<Digest>(row.content.clone()).ok(),
            None => None,
        };
        let digest = match digest {
            Some(digest) => digest,
            None => self.build_digest(period).await?,
        };
        let row = self
            .store
            .digest(&label)
            .await?
            .ok_or_else(|| JobError::Other(format!("digest {label} missing")))?;
        let text = diembao_core::digest::render_text(&digest);
        let chart = diembao_core::digest::render_chart_svg(&digest);
        let html = diembao_core::digest::render_html(&digest);
        let subject = match &digest.week {
            Some(week) => format!(
                "Bản tin điểm báo tuần {week} ({} – {})",
                digest.from.format("%d/%m"),
                digest.to.format("%d/%m/%Y")
            ),
            None => format!(
                "Báo cáo điểm báo {} – {}",
                digest.from.format("%d/%m/%Y"),
                digest.to.format("%d/%m/%Y")
            ),
        };
        let domain = self
            .config
            .smtp
            .from
            .rsplit('@')
            .next()
            .unwrap_or("diembao.local")
            .trim_end_matches('>')
            .to_string();
        let mut reports = Vec::new();
        for recipient in recipients {
            let message_id = format!(
                "<digest.{label}.{}@{domain}>",
                &hex::encode(Sha256::digest(recipient.as_bytes()))[..16]
            );
            let mut delivery: Delivery =
                self.store.delivery(row.id, &recipient, &message_id).await?;
            if delivery.status == delivery_status::SENT {
                reports.push(DeliveryReport {
                    recipient,
                    status: delivery.status,
                    attempts: delivery.attempts,
                    already_sent: true,
                    error: None,
                });
                continue;
            }
            let mut last_error = None;
            for attempt in 0..SEND_ATTEMPTS {
                if attempt > 0 {
                    tokio::time::sleep(std::time::Duration::from_millis(500 * (1 << attempt)))
                        .await;
                }
                let mail = Mail {
                    to: &recipient,
                    subject: &subject,
                    text: &text,
                    html: Some(&html),
                    inline: vec![(
                        "chart".into(),
                        "image/svg+xml".into(),
                        chart.clone().into_bytes(),
                    )],
                    message_id: &message_id,
                };
                let result = mail::send(&self.config.smtp, &mail).await;
                let error = result.err().map(|e| e.to_string());
                delivery = self
                    .store
                    .delivery_attempted(delivery, error.as_deref())
                    .await?;
                last_error = error;
                if last_error.is_none() {
                    break;
                }
                tracing::warn!(recipient = %recipient, attempt = attempt + 1, error = last_error.as_deref().unwrap_or(""), "digest delivery failed");
            }
            self.store
                .audit(
                    "system",
                    "digest.deliver",
                    "digest",
                    Some(row.id),
                    serde_json::json!({"recipient": recipient, "status": delivery.status}),
                )
                .await?;
            reports.push(DeliveryReport {
                recipient,
                status: delivery.status,
                attempts: delivery.attempts,
                already_sent: false,
                error: last_error,
            });
        }
        Ok(reports)
    }

    /// The scheduler's check: once the configured weekly time has passed, the previous
    /// week's digest is sent (a no-op for recipients who already have it).
    pub async fn digest_due(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Option<Vec<DeliveryReport>>, JobError> {
        if self.config.digest.recipients.is_empty() {
            return Ok(None);
        }
        let tz = self.digest_timezone();
        let (weekday, hour, minute) = self.config.digest.schedule().map_err(JobError::Other)?;
        let local = now.with_timezone(&tz);
        let this_week = Period::week_of(local.date_naive());
        let send_day =
            this_week.from() + chrono::Duration::days(i64::from(weekday.num_days_from_monday()));
        let Some(send_at) = tz
            .with_ymd_and_hms(
                send_day.year(),
                send_day.month(),
                send_day.day(),
                hour,
                minute,
                0,
            )
            .single()
        else {
            return Ok(None);
        };
        if local < send_at {
            return Ok(None);
        }
        let period = this_week.previous();
        let label = period_label(&period);
        if let Some(row) = self.store.digest(&label).await? {
            let deliveries = self.store.deliveries(row.id).await?;
            let all_sent = self.config.digest.recipients.iter().all(|r| {
                deliveries
                    .iter()
                    .any(|d| &d.recipient == r && d.status == delivery_status::SENT)
            });
            if all_sent {
                return Ok(None);
            }
            // Retry failed deliveries at most every ten minutes.
            let recent_failure = deliveries.iter().any(|d| {
                d.status == delivery_status::FAILED
                    && now - d.created_at < chrono::Duration::minutes(10)
                    && d.attempts >= SEND_ATTEMPTS as i32
            });
            if recent_failure {
                return Ok(None);
            }
        }
        Ok(Some(self.send_digest(&period).await?))
    }
}

/// The archive key of a period: `2023-W11`, or `2023-03-01..2023-03-31`.
pub fn period_label(period: &Period) -> String {
    period
        .week_label()
        .unwrap_or_else(|| format!("{}..{}", period.from(), period.to()))
}
