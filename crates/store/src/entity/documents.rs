use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "documents")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub url: String,
    #[sea_orm(unique)]
    pub canonical_url: String,
    pub source_id: Option<i64>,
    pub source_name: Option<String>,
    pub kind: String,
    pub title: String,
    pub text: String,
    pub author: Option<String>,
    pub published_at: Option<DateTimeUtc>,
    pub published_offset: Option<i32>,
    pub modified_at: Option<DateTimeUtc>,
    pub fetched_at: DateTimeUtc,
    pub lang: Option<String>,
    pub content_hash: String,
    pub simhash: Option<i64>,
    pub raw_capture_id: Option<i64>,
    pub syndicated_from_id: Option<i64>,
    pub syndicated_from_url: Option<String>,
    pub engagement: Option<Json>,
    pub index_version: i64,
    pub tagged_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl<'a> From<&'a Model> for diembao_core::rules::DocFields<'a> {
    /// The fields rules look at, of a stored document.
    fn from(doc: &'a Model) -> Self {
        Self {
            title: &doc.title,
            text: &doc.text,
            source: doc.source_name.as_deref().unwrap_or(""),
            url: &doc.url,
        }
    }
}
