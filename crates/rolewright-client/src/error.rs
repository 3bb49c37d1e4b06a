//! A failed AWS call: AWS's own error code and message with the HTTP status, or why no answer
//! came; and the parsers that read both protocols' error bodies.

use std::fmt;

use serde_json::Value;

use crate::xml;

/// What kind of failure an [`AwsError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The service answered with an error (`code` and `message` are AWS's).
    Service,
    /// No answer: the endpoint could not be reached, or the connection broke.
    Transport,
    /// An answer that is not what the protocol says (not JSON, not XML).
    Response,
}

/// A failed call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    /// What kind of failure.
    pub kind: ErrorKind,
    /// The call, `service:Operation` (`sagemaker:DescribeDomain`, `iam:GetRole`).
    pub operation: String,
    /// AWS's error code (`ResourceNotFound`, `AccessDenied`); for transport and response
    /// failures `RequestFailed` and `MalformedResponse`.
    pub code: String,
    /// AWS's message, or what went wrong.
    pub message: String,
    /// The HTTP status; `None` when there was no answer.
    pub status: Option<u16>,
    /// The request id AWS gave, when it gave one.
    pub request_id: Option<String>,
}

impl AwsError {
    /// A service error from its parts.
    pub fn service(
        operation: impl Into<String>,
        status: u16,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            kind: ErrorKind::Service,
            operation: operation.into(),
            code: code.into(),
            message: message.into(),
            status: Some(status),
            request_id: None,
        }
    }

    pub(crate) fn transport(operation: &str, url: &str, message: impl fmt::Display) -> Self {
        Self {
            kind: ErrorKind::Transport,
            operation: operation.to_string(),
            code: "RequestFailed".into(),
            message: format!("cannot reach {url}: {message}"),
            status: None,
            request_id: None,
        }
    }

    pub(crate) fn response(operation: &str, status: u16, message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Response,
            operation: operation.to_string(),
            code: "MalformedResponse".into(),
            message: message.into(),
            status: Some(status),
            request_id: None,
        }
    }

    /// Whether the caller was refused by IAM (`AccessDenied`, `AccessDeniedException`, ...).
    pub fn is_access_denied(&self) -> bool {
        self.kind == ErrorKind::Service
            && matches!(
                self.code.as_str(),
                "AccessDenied"
                    | "AccessDeniedException"
                    | "UnauthorizedOperation"
                    | "UnauthorizedAccess"
                    | "NotAuthorized"
            )
    }

    /// Whether the resource asked for does not exist (`ResourceNotFound`, `NoSuchEntity`, ...).
    pub fn is_not_found(&self) -> bool {
        self.kind == ErrorKind::Service
            && matches!(
                self.code.as_str(),
                "ResourceNotFound" | "ResourceNotFoundException" | "NoSuchEntity"
            )
    }

    /// Whether a later try may succeed: throttling, a server fault, a broken connection.
    pub fn is_retryable(&self) -> bool {
        match self.kind {
            ErrorKind::Transport => true,
            ErrorKind::Response => false,
            ErrorKind::Service => {
                matches!(
                    self.code.as_str(),
                    "Throttling"
                        | "ThrottlingException"
                        | "ThrottledException"
                        | "TooManyRequestsException"
                        | "RequestLimitExceeded"
                        | "RequestThrottled"
                        | "RequestThrottledException"
                        | "SlowDown"
                        | "ServiceUnavailable"
                        | "InternalFailure"
                        | "InternalError"
                ) || matches!(self.status, Some(429 | 500 | 502 | 503 | 504))
            }
        }
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ErrorKind::Service => write!(f, "{}: {}: {}", self.operation, self.code, self.message),
            ErrorKind::Transport | ErrorKind::Response => {
                write!(f, "{}: {}", self.operation, self.message)
            }
        }
    }
}

impl std::error::Error for AwsError {}

/// Reads a JSON 1.1 error: the code from `__type` (after any `namespace#`), else from the
/// `x-amzn-ErrorType` header (before any `:`); the message from `message` or `Message`.
pub fn parse_json_error(error_type_header: Option<&str>, body: &str) -> (String, String) {
    let value: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let from_body = value.get("__type").and_then(Value::as_str);
    let code = from_body
        .or(error_type_header)
        .map(|raw| {
            let raw = raw.rsplit('#').next().unwrap_or(raw);
            raw.split(':').next().unwrap_or(raw).trim().to_string()
        })
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "UnknownError".to_string());
    let message = ["message", "Message", "errorMessage"]
        .iter()
        .find_map(|k| value.get(*k).and_then(Value::as_str))
        .map(str::to_string)
        .unwrap_or_else(|| {
            if value.is_null() {
                body.trim().to_string()
            } else {
                String::new()
            }
        });
    (code, message)
}

/// Reads a query-protocol error (`<ErrorResponse><Error><Code>…</Code><Message>…</Message>
/// </Error><RequestId>…</RequestId></ErrorResponse>`): code, message and request id.
pub fn parse_query_error(body: &str) -> (String, String, Option<String>) {
    let code = xml::first_text(body, "Code").unwrap_or_else(|| "UnknownError".to_string());
    let message = xml::first_text(body, "Message").unwrap_or_default();
    (code, message, xml::first_text(body, "RequestId"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_errors_take_the_code_after_the_namespace() {
        let (code, message) = parse_json_error(
            None,
            r#"{"__type":"com.amazonaws.sagemaker#ResourceNotFound","message":"Domain not found"}"#,
        );
        assert_eq!(code, "ResourceNotFound");
        assert_eq!(message, "Domain not found");
    }

    #[test]
    fn json_errors_fall_back_to_the_error_type_header() {
        let (code, message) = parse_json_error(
            Some(
                "AccessDeniedException:http://internal.amazon.com/coral/com.amazon.coral.service/",
            ),
            r#"{"Message":"User: arn:aws:iam::123456789012:user/bob is not authorized"}"#,
        );
        assert_eq!(code, "AccessDeniedException");
        assert_eq!(
            message,
            "User: arn:aws:iam::123456789012:user/bob is not authorized"
        );
    }

    #[test]
    fn a_json_error_that_is_not_json_keeps_the_body_as_message() {
        let (code, message) = parse_json_error(None, "Bad Gateway\n");
        assert_eq!(code, "UnknownError");
        assert_eq!(message, "Bad Gateway");
    }

    #[test]
    fn query_errors_read_code_message_and_request_id_with_entities() {
        let body = "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\
            <Error><Type>Sender</Type><Code>NoSuchEntity</Code>\
            <Message>The role with name AmazonSageMakerServiceCatalogProductsUseRole cannot be found &amp; that&apos;s that.</Message>\
            </Error><RequestId>4a0b-11</RequestId></ErrorResponse>";
        let (code, message, id) = parse_query_error(body);
        assert_eq!(code, "NoSuchEntity");
        assert_eq!(
            message,
            "The role with name AmazonSageMakerServiceCatalogProductsUseRole cannot be found & that's that."
        );
        assert_eq!(id.as_deref(), Some("4a0b-11"));
    }

    #[test]
    fn denials_not_found_and_throttling_are_told_apart() {
        let denied = AwsError::service("iam:GetRole", 403, "AccessDenied", "no");
        assert!(denied.is_access_denied() && !denied.is_not_found() && !denied.is_retryable());
        let missing = AwsError::service("sagemaker:DescribeDomain", 400, "ResourceNotFound", "x");
        assert!(missing.is_not_found() && !missing.is_access_denied());
        let throttled = AwsError::service(
            "sagemaker:DescribeUserProfile",
            400,
            "ThrottlingException",
            "Rate exceeded",
        );
        assert!(throttled.is_retryable());
        assert_eq!(denied.to_string(), "iam:GetRole: AccessDenied: no");
    }
}
