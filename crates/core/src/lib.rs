//! Domain types, Vietnamese text normalisation and (later) the rule language.
//! Pure code: no I/O, no async.

pub mod config;
pub mod document;
pub mod duration;
pub mod error;
pub mod html;
pub mod lang;
pub mod source;
pub mod text;
pub mod url_canon;

pub use document::{DocKind, NewDocument};
pub use error::InputError;
pub use source::{SourceKind, SourceSpec};
pub mod digest;
pub mod rules;
