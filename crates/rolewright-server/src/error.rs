//! AWS errors: a code, an HTTP status, who is at fault and a message, rendered by the wire
//! protocol of the request (XML `ErrorResponse` or JSON `__type`).

use std::fmt;

/// An error as AWS reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The code (`NoSuchEntity`, `AccessDenied`, ...).
    pub code: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// `Sender` for client errors, `Receiver` for the server's.
    pub receiver: bool,
    /// The message.
    pub message: String,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl ApiError {
    /// A client error.
    pub fn new(code: &'static str, status: u16, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            status,
            receiver: false,
            message: message.into(),
        }
    }

    /// `NoSuchEntity` (404).
    pub fn no_such_entity(message: impl Into<String>) -> ApiError {
        ApiError::new("NoSuchEntity", 404, message)
    }

    /// `EntityAlreadyExists` (409).
    pub fn already_exists(message: impl Into<String>) -> ApiError {
        ApiError::new("EntityAlreadyExists", 409, message)
    }

    /// `DeleteConflict` (409).
    pub fn delete_conflict(message: impl Into<String>) -> ApiError {
        ApiError::new("DeleteConflict", 409, message)
    }

    /// `LimitExceeded` (409).
    pub fn limit_exceeded(message: impl Into<String>) -> ApiError {
        ApiError::new("LimitExceeded", 409, message)
    }

    /// `InvalidInput` (400).
    pub fn invalid_input(message: impl Into<String>) -> ApiError {
        ApiError::new("InvalidInput", 400, message)
    }

    /// `MalformedPolicyDocument` (400).
    pub fn malformed_policy(message: impl Into<String>) -> ApiError {
        ApiError::new("MalformedPolicyDocument", 400, message)
    }

    /// `UnmodifiableEntity` (400).
    pub fn unmodifiable(message: impl Into<String>) -> ApiError {
        ApiError::new("UnmodifiableEntity", 400, message)
    }

    /// `AccessDenied` (403).
    pub fn access_denied(message: impl Into<String>) -> ApiError {
        ApiError::new("AccessDenied", 403, message)
    }

    /// `ServiceFailure` (500): the store could not make a change durable.
    pub fn service_failure() -> ApiError {
        ApiError {
            code: "ServiceFailure",
            status: 500,
            receiver: true,
            message: "The request processing has failed because the change could not be stored."
                .into(),
        }
    }

    /// `ServiceUnavailable` (503): the database cannot be reached (a PostgreSQL replica cut off
    /// from it, or it is restarting). Nothing was changed; the request may be retried.
    pub fn service_unavailable() -> ApiError {
        ApiError {
            code: "ServiceUnavailable",
            status: 503,
            receiver: true,
            message: "Service is unavailable: the database cannot be reached. Retry the request."
                .into(),
        }
    }

    /// The HTTP status in the JSON protocols: AWS answers every client error of SageMaker and
    /// Service Catalog with 400 (their modeled errors carry no status), authentication failures
    /// with 400 or 403 as the query protocol does, and server faults with 500.
    pub fn json_status(&self) -> u16 {
        match self.code {
            "AccessDenied" => 400,
            "MissingAuthenticationToken"
            | "InvalidClientTokenId"
            | "SignatureDoesNotMatch"
            | "ExpiredToken" => 403,
            _ if self.status >= 500 => self.status,
            _ if self.status == 413 => 413,
            _ => 400,
        }
    }

    /// The JSON-protocol name of a generic code (`AccessDenied` → `AccessDeniedException`).
    pub fn json_code(&self) -> &'static str {
        match self.code {
            "AccessDenied" => "AccessDeniedException",
            "InvalidClientTokenId" => "UnrecognizedClientException",
            "SignatureDoesNotMatch" => "InvalidSignatureException",
            "MissingAuthenticationToken" => "MissingAuthenticationTokenException",
            "IncompleteSignature" => "IncompleteSignatureException",
            "ValidationError" => "ValidationException",
            "InvalidAction" => "UnknownOperationException",
            "ExpiredToken" => "ExpiredTokenException",
            "ServiceFailure" => "InternalFailure",
            other => other,
        }
    }
}

/// Builds AWS's `ValidationError` text from the collected constraint failures:
/// "1 validation error detected: Value 'x' at 'roleName' failed to satisfy constraint: ...".
pub fn validation_error(failures: &[String]) -> ApiError {
    let n = failures.len();
    let noun = if n == 1 { "error" } else { "errors" };
    ApiError::new(
        "ValidationError",
        400,
        format!("{n} validation {noun} detected: {}", failures.join("; ")),
    )
}
