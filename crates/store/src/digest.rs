//! Digests (built content, kept for the archive) and their deliveries, one row per
//! recipient: the record that makes `digest send` deliver each week once.

use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::entity::{digest_deliveries, digests};
use crate::{Store, StoreError};

pub type DigestRow = digests::Model;
pub type Delivery = digest_deliveries::Model;

pub mod delivery_status {
    pub const PENDING: &str = "pending";
    pub const SENT: &str = "sent";
    pub const FAILED: &str = "failed";
}

impl Store {
    /// Stores (or replaces) the built digest of a period.
    pub async fn save_digest(
        &self,
        period: &str,
        from: NaiveDate,
        to: NaiveDate,
        content: serde_json::Value,
    ) -> Result<DigestRow, StoreError> {
        let row = digests::ActiveModel {
            period: Set(period.to_string()),
            from_date: Set(from),
            to_date: Set(to),
            content: Set(content),
            built_at: Set(Utc::now()),
            ..Default::default()
        };
        digests::Entity::insert(row)
            .on_conflict(
                OnConflict::column(digests::Column::Period)
                    .update_columns([
                        digests::Column::FromDate,
                        digests::Column::ToDate,
                        digests::Column::Content,
                        digests::Column::BuiltAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(self.db())
            .await?;
        self.digest(period)
            .await?
            .ok_or_else(|| StoreError::Invalid(format!("digest {period} vanished")))
    }

    pub async fn digest(&self, period: &str) -> Result<Option<DigestRow>, StoreError> {
        Ok(digests::Entity::find()
            .filter(digests::Column::Period.eq(period))
            .one(self.db())
            .await?)
    }

    /// The archive, newest first.
    pub async fn digests(&self) -> Result<Vec<DigestRow>, StoreError> {
        Ok(digests::Entity::find()
            .order_by_desc(digests::Column::FromDate)
            .all(self.db())
            .await?)
    }

    /// The delivery of a digest to one recipient, created pending on first sight.
    pub async fn delivery(
        &self,
        digest_id: i64,
        recipient: &str,
        message_id: &str,
    ) -> Result<Delivery, StoreError> {
        let row = digest_deliveries::ActiveModel {
            digest_id: Set(digest_id),
            recipient: Set(recipient.to_string()),
            message_id: Set(message_id.to_string()),
            status: Set(delivery_status::PENDING.into()),
            attempts: Set(0),
            created_at: Set(Utc::now()),
            ..Default::default()
        };
        digest_deliveries::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([
                    digest_deliveries::Column::DigestId,
                    digest_deliveries::Column::Recipient,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(self.db())
            .await?;
        digest_deliveries::Entity::find()
            .filter(digest_deliveries::Column::DigestId.eq(digest_id))
            .filter(digest_deliveries::Column::Recipient.eq(recipient))
            .one(self.db())
            .await?
            .ok_or_else(|| StoreError::Invalid("delivery vanished".into()))
    }

    pub async fn deliveries(&self, digest_id: i64) -> Result<Vec<Delivery>, StoreError> {
        Ok(digest_deliveries::Entity::find()
            .filter(digest_deliveries::Column::DigestId.eq(digest_id))
            .order_by_asc(digest_deliveries::Column::Id)
            .all(self.db())
            .await?)
    }

    /// Records the outcome of one sending attempt.
    pub async fn delivery_attempted(
        &self,
        delivery: Delivery,
        error: Option<&str>,
    ) -> Result<Delivery, StoreError> {
        let attempts = delivery.attempts + 1;
        let mut active: digest_deliveries::ActiveModel = delivery.into();
        active.attempts = Set(attempts);
        match error {
            None => {
                active.status = Set(delivery_status::SENT.into());
                active.sent_at = Set(Some(Utc::now()));
                active.last_error = Set(None);
            }
            Some(error) => {
                active.status = Set(delivery_status::FAILED.into());
                active.last_error = Set(Some(error.chars().take(2000).collect()));
            }
        }
        Ok(active.update(self.db()).await?)
    }
}
