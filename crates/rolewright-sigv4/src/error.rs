//! Why a request's signature was refused, worded as AWS words it.
//!
//! The texts follow what AWS's own front ends (the "coral" stack behind IAM, STS, SageMaker and
//! Service Catalog) answer, so that SDKs and scripts see familiar messages. [`AuthError::kind`]
//! groups the errors into the few classes a server turns into protocol error codes.

use std::fmt;

/// Longest piece of client input echoed back inside an error message.
///
/// Echoes help a client find its mistake, but a hostile header must not blow up the response.
const MAX_ECHO_CHARS: usize = 256;

/// A refused signature: what was wrong, with the values needed for AWS's message.
///
/// `Display` gives the message AWS sends; [`AuthError::kind`] gives the class that picks the
/// error code. No variant ever holds a secret key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// Neither an `Authorization` header nor presigned query parameters were sent.
    MissingAuthenticationToken,
    /// The signature information is malformed or incomplete; `message` is AWS's explanation.
    Incomplete {
        /// The full message, e.g. `Authorization header requires 'Signature' parameter. ...`.
        message: String,
    },
    /// The signing algorithm is not `AWS4-HMAC-SHA256` (SigV4a, SigV2, anything else).
    UnsupportedAlgorithm {
        /// The algorithm the client named (shortened if very long).
        algorithm: String,
    },
    /// Both an `Authorization` header and an `X-Amz-Algorithm` query parameter were sent.
    BothMechanisms,
    /// `SignedHeaders` does not list `host`, so the signature would not bind the endpoint.
    HostNotSigned,
    /// The credential scope is wrong in one or more ways, reported together as AWS does.
    InvalidScope {
        /// Each problem found, in AWS's order (region, terminator, date).
        problems: Vec<ScopeProblem>,
    },
    /// The scope names another service than the one answering; raised by callers that know
    /// which service they are.
    WrongService {
        /// The service the caller expected in the scope, e.g. `iam`.
        expected: String,
    },
    /// A header listed in `SignedHeaders` is absent from the request.
    SignedHeaderMissing {
        /// The header name as listed in `SignedHeaders`.
        header: String,
    },
    /// The access key id is not known; raised by callers after their key lookup.
    UnknownKey,
    /// The signature is well formed but does not match the one computed from the request.
    SignatureMismatch,
    /// `x-amz-content-sha256` was signed but does not match the body that arrived.
    ContentHashMismatch,
    /// `x-amz-content-sha256` holds something other than a hex SHA-256 (or
    /// `UNSIGNED-PAYLOAD` on a presigned request).
    UnsupportedContentHash,
    /// The signature is more than 15 minutes old.
    Expired {
        /// The request's time stamp.
        amz_date: String,
        /// The oldest time stamp still accepted (now − 15 min).
        earliest: String,
        /// The server's current time.
        now: String,
    },
    /// The signature is dated more than 15 minutes in the future.
    NotYetCurrent {
        /// The request's time stamp.
        amz_date: String,
        /// The latest time stamp still accepted (now + 15 min).
        latest: String,
        /// The server's current time.
        now: String,
    },
    /// A presigned request used after `X-Amz-Date + X-Amz-Expires`.
    PresignedExpired,
}

/// One thing wrong with a credential scope (`AKID/date/region/service/aws4_request`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeProblem {
    /// The region is empty or has characters no region name uses.
    Region(String),
    /// The last element is not `aws4_request`.
    Terminator(String),
    /// The scope date differs from the date of the request's time stamp.
    Date {
        /// The `YYYYMMDD` from the scope.
        scope_date: String,
        /// The full `YYYYMMDDTHHMMSSZ` time stamp of the request.
        amz_date: String,
    },
}

/// The class of an [`AuthError`], which decides the protocol error code.
///
/// | kind | query protocol (IAM, STS) | JSON protocol (SageMaker, Service Catalog) |
/// |---|---|---|
/// | `Missing` | `MissingAuthenticationToken` | `MissingAuthenticationTokenException` |
/// | `Incomplete` | `IncompleteSignature` | `IncompleteSignatureException` |
/// | `UnknownKey` | `InvalidClientTokenId` | `UnrecognizedClientException` |
/// | `Mismatch` | `SignatureDoesNotMatch` | `InvalidSignatureException` |
/// | `Expired` | `SignatureDoesNotMatch` | `InvalidSignatureException` |
/// | `Unsupported` | `IncompleteSignature` | `IncompleteSignatureException` |
///
/// `Expired` and `Unsupported` are kept apart from `Mismatch` and `Incomplete` so that servers
/// can log or count them separately; AWS itself answers them with the codes shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthErrorKind {
    /// No signature information at all.
    Missing,
    /// Signature information present but malformed or incomplete.
    Incomplete,
    /// The access key id (or session token) is not known.
    UnknownKey,
    /// The signature, the scope or a signed value does not match the request.
    Mismatch,
    /// The signature is outside its time window.
    Expired,
    /// The signing algorithm is not supported.
    Unsupported,
}

impl AuthError {
    /// The class of this error, which decides the protocol error code.
    pub fn kind(&self) -> AuthErrorKind {
        match self {
            Self::MissingAuthenticationToken => AuthErrorKind::Missing,
            Self::Incomplete { .. }
            | Self::SignedHeaderMissing { .. }
            | Self::UnsupportedContentHash => AuthErrorKind::Incomplete,
            Self::UnsupportedAlgorithm { .. } => AuthErrorKind::Unsupported,
            Self::BothMechanisms
            | Self::HostNotSigned
            | Self::InvalidScope { .. }
            | Self::WrongService { .. }
            | Self::SignatureMismatch
            | Self::ContentHashMismatch => AuthErrorKind::Mismatch,
            Self::UnknownKey => AuthErrorKind::UnknownKey,
            Self::Expired { .. } | Self::NotYetCurrent { .. } | Self::PresignedExpired => {
                AuthErrorKind::Expired
            }
        }
    }

    /// An [`AuthError::Incomplete`] with the given message.
    pub(crate) fn incomplete(message: impl Into<String>) -> Self {
        Self::Incomplete {
            message: message.into(),
        }
    }

    /// The error for a time stamp that is not `YYYYMMDDTHHMMSSZ`.
    pub(crate) fn bad_date(got: &str) -> Self {
        Self::incomplete(format!(
            "Date must be in ISO-8601 'basic format'. Got '{}'. See http://en.wikipedia.org/wiki/ISO_8601",
            echo(got)
        ))
    }
}

impl fmt::Display for ScopeProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Region(region) => write!(
                f,
                "Credential should be scoped to a valid region, not '{}'.",
                echo(region)
            ),
            Self::Terminator(terminator) => write!(
                f,
                "Credential should be scoped with a valid terminator: 'aws4_request', not '{}'.",
                echo(terminator)
            ),
            Self::Date {
                scope_date,
                amz_date,
            } => write!(
                f,
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{}'.",
                echo(scope_date),
                amz_date.get(..8).unwrap_or(amz_date),
                amz_date
            ),
        }
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingAuthenticationToken => f.write_str("Request is missing Authentication Token"),
            Self::Incomplete { message } => f.write_str(message),
            Self::UnsupportedAlgorithm { algorithm } => write!(
                f,
                "Unsupported AWS 'algorithm': '{}' (only AWS4-HMAC-SHA256 for now).",
                echo(algorithm)
            ),
            Self::BothMechanisms => f.write_str(
                "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.",
            ),
            Self::HostNotSigned => {
                f.write_str("'Host' must be a 'SignedHeader' in the AWS Authorization.")
            }
            Self::InvalidScope { problems } => {
                for (i, problem) in problems.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{problem}")?;
                }
                Ok(())
            }
            Self::WrongService { expected } => write!(
                f,
                "Credential should be scoped to correct service: '{}'.",
                echo(expected)
            ),
            Self::SignedHeaderMissing { header } => write!(
                f,
                "'{}' is named as a SignedHeader, but it does not exist in the HTTP request.",
                echo(header)
            ),
            Self::UnknownKey => f.write_str("The security token included in the request is invalid."),
            Self::SignatureMismatch => f.write_str(
                "The request signature we calculated does not match the signature you provided. \
                 Check your AWS Secret Access Key and signing method. \
                 Consult the service documentation for details.",
            ),
            Self::ContentHashMismatch => f.write_str(
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
            ),
            Self::UnsupportedContentHash => f.write_str(
                "x-amz-content-sha256 must be the hex SHA-256 of the payload; \
                 UNSIGNED-PAYLOAD is accepted only on presigned requests.",
            ),
            Self::Expired {
                amz_date,
                earliest,
                now,
            } => write!(
                f,
                "Signature expired: {amz_date} is now earlier than {earliest} ({now} - 15 min.)"
            ),
            Self::NotYetCurrent {
                amz_date,
                latest,
                now,
            } => write!(
                f,
                "Signature not yet current: {amz_date} is still later than {latest} ({now} + 15 min.)"
            ),
            Self::PresignedExpired => f.write_str("Request has expired"),
        }
    }
}

impl std::error::Error for AuthError {}

/// Client input shortened for quoting inside a message.
pub(crate) fn echo(input: &str) -> &str {
    match input.char_indices().nth(MAX_ECHO_CHARS) {
        Some((cut, _)) => input.get(..cut).unwrap_or(input),
        None => input,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_problems_are_joined_like_aws() {
        let err = AuthError::InvalidScope {
            problems: vec![
                ScopeProblem::Region("c".into()),
                ScopeProblem::Terminator("e".into()),
                ScopeProblem::Date {
                    scope_date: "b".into(),
                    amz_date: "20130609T095204Z".into(),
                },
            ],
        };
        assert_eq!(
            err.to_string(),
            "Credential should be scoped to a valid region, not 'c'. \
             Credential should be scoped with a valid terminator: 'aws4_request', not 'e'. \
             Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: \
             'b' != '20130609', from '20130609T095204Z'."
        );
        assert_eq!(err.kind(), AuthErrorKind::Mismatch);
    }

    #[test]
    fn echo_shortens_long_input_on_a_char_boundary() {
        let long = "é".repeat(1000);
        assert_eq!(echo(&long).chars().count(), MAX_ECHO_CHARS);
        assert_eq!(echo("short"), "short");
    }
}
