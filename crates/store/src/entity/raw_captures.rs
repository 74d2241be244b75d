use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "raw_captures")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub url: String,
    pub status: i32,
    pub content_type: Option<String>,
    pub headers: Option<Json>,
    pub sha256: String,
    pub size: i64,
    /// The file that holds the bytes, relative to the data dir.
    pub path: String,
    pub captured_at: DateTimeUtc,
    /// Where the `size` bytes start in a pack file; `None` when the file is the capture's own.
    pub pack_offset: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
