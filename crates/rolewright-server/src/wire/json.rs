//! AWS JSON 1.1: operations named by `X-Amz-Target: Prefix.Operation`, errors as
//! `{"__type": ..., "message": ...}` with the `x-amzn-ErrorType` header.

use crate::error::ApiError;

/// The JSON services and their target prefixes.
pub const TARGET_PREFIXES: &[(&str, &str)] = &[
    ("SageMaker", "sagemaker"),
    ("AWS242ServiceCatalogService", "servicecatalog"),
];

/// Splits `SageMaker.CreateDomain` into the signing service name and the operation.
pub fn parse_target(target: &str) -> Option<(&'static str, &str)> {
    let (prefix, op) = target.split_once('.')?;
    let service = TARGET_PREFIXES
        .iter()
        .find(|(p, _)| *p == prefix)
        .map(|(_, s)| *s)?;
    (!op.is_empty()).then_some((service, op))
}

/// The error body for a JSON-protocol request.
pub fn error_body(error: &ApiError) -> String {
    serde_json::json!({"__type": error.json_code(), "message": error.message}).to_string()
}
