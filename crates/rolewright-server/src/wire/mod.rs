//! AWS wire protocols: the query protocol (form in, XML out) and JSON 1.1.

pub mod json;
pub mod query;
pub mod xml;
