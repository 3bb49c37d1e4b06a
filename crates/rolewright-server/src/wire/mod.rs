//! AWS wire protocols: the query protocol (form in, XML out), JSON 1.1 and Smithy RPC v2 CBOR.

pub mod cbor;
pub mod json;
pub mod query;
pub mod xml;
