use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "fetch_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub source_id: Option<i64>,
    pub url: String,
    pub host: String,
    pub status: Option<i32>,
    pub bytes: i64,
    pub duration_ms: i64,
    pub outcome: String,
    pub error: Option<String>,
    pub fetched_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
