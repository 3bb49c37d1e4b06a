//! AWS wire protocols: the query protocol (form in, XML out), JSON 1.1 and Smithy RPC v2 CBOR, and
//! the reader of JSON members once the service model has validated them.

pub mod cbor;
pub mod json;
pub mod members;
pub mod query;
pub mod xml;
