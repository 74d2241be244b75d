//! Accounts and web sessions.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::entity::{sessions, users};
use crate::{Store, StoreError, Upsert};

pub type User = users::Model;
pub type Session = sessions::Model;

/// The roles, each allowed only its own actions.
pub const ROLES: [&str; 4] = ["viewer", "reviewer", "admin", "liaison"];

impl Store {
    /// Creates the account, or sets its role and password (re-enabling it).
    pub async fn upsert_user(
        &self,
        name: &str,
        role: &str,
        password_hash: &str,
        actor: &str,
    ) -> Result<(i64, Upsert), StoreError> {
        if !ROLES.contains(&role) {
            return Err(StoreError::Invalid(format!(
                "unknown role `{role}` (viewer, reviewer, admin or liaison)"
            )));
        }
        let name = name.trim();
        if name.is_empty()
            || name.len() > 64
            || name.chars().any(|c| c.is_control() || c.is_whitespace())
        {
            return Err(StoreError::Invalid(format!("bad user name `{name}`")));
        }
        let existing = users::Entity::find()
            .filter(users::Column::Name.eq(name))
            .one(self.db())
            .await?;
        let (id, outcome) = match existing {
            Some(user) => {
                let id = user.id;
                let mut active: users::ActiveModel = user.into();
                active.role = Set(role.to_string());
                active.password_hash = Set(password_hash.to_string());
                active.disabled = Set(false);
                active.update(self.db()).await?;
                (id, Upsert::Updated)
            }
            None => {
                let user = users::ActiveModel {
                    name: Set(name.to_string()),
                    role: Set(role.to_string()),
                    password_hash: Set(password_hash.to_string()),
                    disabled: Set(false),
                    created_at: Set(Utc::now()),
                    ..Default::default()
                }
                .insert(self.db())
                .await?;
                (user.id, Upsert::New)
            }
        };
        self.audit(
            actor,
            "user.upsert",
            "user",
            Some(id),
            serde_json::json!({"name": name, "role": role}),
        )
        .await?;
        Ok((id, outcome))
    }

    pub async fn user_by_name(&self, name: &str) -> Result<Option<User>, StoreError> {
        Ok(users::Entity::find()
            .filter(users::Column::Name.eq(name))
            .one(self.db())
            .await?)
    }

    pub async fn users(&self) -> Result<Vec<User>, StoreError> {
        Ok(users::Entity::find()
            .order_by_asc(users::Column::Name)
            .all(self.db())
            .await?)
    }

    pub async fn create_session(
        &self,
        user_id: i64,
        token_sha256: &str,
        csrf: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sessions::ActiveModel {
            token_sha256: Set(token_sha256.to_string()),
            user_id: Set(user_id),
            csrf: Set(csrf.to_string()),
            created_at: Set(Utc::now()),
            expires_at: Set(expires_at),
            ..Default::default()
        }
        .insert(self.db())
        .await?;
        Ok(())
    }

    /// The live session of a token and its (enabled) user.
    pub async fn session(&self, token_sha256: &str) -> Result<Option<(Session, User)>, StoreError> {
        let Some(session) = sessions::Entity::find()
            .filter(sessions::Column::TokenSha256.eq(token_sha256))
            .one(self.db())
            .await?
        else {
            return Ok(None);
        };
        if session.expires_at < Utc::now() {
            sessions::Entity::delete_by_id(session.id)
                .exec(self.db())
                .await?;
            return Ok(None);
        }
        let Some(user) = users::Entity::find_by_id(session.user_id)
            .one(self.db())
            .await?
        else {
            return Ok(None);
        };
        if user.disabled {
            return Ok(None);
        }
        Ok(Some((session, user)))
    }

    pub async fn delete_session(&self, token_sha256: &str) -> Result<(), StoreError> {
        sessions::Entity::delete_many()
            .filter(sessions::Column::TokenSha256.eq(token_sha256))
            .exec(self.db())
            .await?;
        Ok(())
    }
}
