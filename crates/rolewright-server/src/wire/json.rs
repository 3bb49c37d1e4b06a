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

/// Reads a JSON 1.1 request body: a JSON object (`{}` when empty), else AWS's
/// `SerializationException`.
pub fn parse_input(body: &[u8]) -> Result<serde_json::Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Value::Object(Default::default()));
    }
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(value @ serde_json::Value::Object(_)) => Ok(value),
        Ok(_) => Err(ApiError::new(
            "SerializationException",
            400,
            "Start of structure or map found where not expected: the request body must be a JSON object",
        )),
        Err(e) => Err(ApiError::new(
            "SerializationException",
            400,
            format!("The request body is not valid JSON: {e}"),
        )),
    }
}

/// Epoch seconds with milliseconds, as AWS JSON services write timestamps.
pub fn timestamp(ms: i64) -> serde_json::Value {
    serde_json::json!(ms as f64 / 1000.0)
}
