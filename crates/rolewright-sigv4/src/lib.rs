//! AWS Signature Version 4: verify signed requests on the server side, and sign or presign them
//! on the client side. Pure functions, no I/O, no clock: the caller passes the time.
//!
//! # Verifying a request
//!
//! A server reads the signature information first, looks up the secret of the access key it
//! names, derives the signing key (cacheable per key and day) and verifies:
//!
//! ```
//! use rolewright_sigv4::{AuthError, Request, parse_authorization, signing_key, verify};
//!
//! fn authenticate(req: &Request<'_>, now: i64) -> Result<String, AuthError> {
//!     let auth = parse_authorization(req)?;
//!     let secret = match auth.access_key_id.as_str() {
//!         "AKIAIOSFODNN7EXAMPLE" => "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY",
//!         _ => return Err(AuthError::UnknownKey),
//!     };
//!     let key = signing_key(secret, &auth.date, &auth.region, &auth.service);
//!     verify(req, &auth, &key, now)?;
//!     Ok(auth.access_key_id)
//! }
//!
//! let unsigned = Request { method: "POST", path: "/", query: "", headers: &[], body: b"" };
//! let err = authenticate(&unsigned, 0).unwrap_err();
//! assert_eq!(err.to_string(), "Request is missing Authentication Token");
//! ```
//!
//! Errors carry AWS's own messages; [`AuthError::kind`] says which protocol error code to
//! answer with (see [`AuthErrorKind`]).
//!
//! # Signing a request
//!
//! [`sign`] returns the headers to add (see its example); [`presign`] returns a query string
//! that carries the signature instead.
//!
//! # What is canonical here
//!
//! The canonical request follows the rules for non-S3 services (IAM, STS, SageMaker, Service
//! Catalog): the path is normalized and encoded a second time, query parameters are decoded,
//! re-encoded and sorted, header values are trimmed and their inner whitespace collapsed, and
//! the client's `SignedHeaders` decide which headers count.
// A library prints nothing: results are data, and the binary decides what reaches the terminal.
#![cfg_attr(not(test), deny(clippy::print_stdout, clippy::print_stderr))]

mod canonical;
mod error;
mod parser;
mod signer;
mod time;
mod verifier;

use std::fmt;

pub use error::{AuthError, AuthErrorKind, ScopeProblem};
pub use parser::parse_authorization;
pub use signer::{presign, sha256_hex, sign, signing_key};
pub use time::{format_amz_date, parse_amz_date};
pub use verifier::verify;

/// The only signing algorithm supported, as it appears in headers and query strings.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The last element of every credential scope.
pub const TERMINATOR: &str = "aws4_request";
/// How far a request's time stamp may be from the server's clock, either way: 15 minutes.
pub const MAX_CLOCK_SKEW_SECS: i64 = 900;
/// The longest `X-Amz-Expires` a presigned request may ask for: one week.
pub const MAX_PRESIGNED_EXPIRES_SECS: u64 = 604_800;
/// The payload hash a presigned request may use instead of hashing its body.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// A request as received, or about to be sent. Header names are compared case-insensitively.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The HTTP method exactly as on the wire, e.g. `POST`.
    pub method: &'a str,
    /// The raw path as on the wire (still percent-encoded), e.g. `/`.
    pub path: &'a str,
    /// The raw query string without `?`, or `""` if there is none.
    pub query: &'a str,
    /// Every header received, in order, names in any case; values are raw bytes.
    pub headers: &'a [(&'a str, &'a [u8])],
    /// The raw body, exactly as received (never re-serialized).
    pub body: &'a [u8],
}

/// An access key and its secret, with the session token of temporary (STS) credentials.
///
/// `Debug` shows the access key id only.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The access key id, e.g. `AKIAIOSFODNN7EXAMPLE`.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: String,
    /// The session token of temporary credentials, sent as `X-Amz-Security-Token`.
    pub session_token: Option<String>,
}

impl Credentials {
    /// Long-term credentials (no session token).
    pub fn new(access_key_id: impl Into<String>, secret_access_key: impl Into<String>) -> Self {
        Self {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            session_token: None,
        }
    }

    /// The same credentials with a session token.
    #[must_use]
    pub fn with_session_token(mut self, session_token: impl Into<String>) -> Self {
        self.session_token = Some(session_token.into());
        self
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// What the `Authorization` header (or the presigned query) says, before any secret is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// The access key id named by the credential.
    pub access_key_id: String,
    /// `YYYYMMDD` from the credential scope.
    pub date: String,
    /// The region from the credential scope; the region the client meant to call.
    pub region: String,
    /// The service from the credential scope, e.g. `iam`, `sts`, `sagemaker`, `servicecatalog`.
    pub service: String,
    /// The signed header names, in the client's order and spelling.
    pub signed_headers: Vec<String>,
    /// The signature the client sent (lowercase hex when well formed).
    pub signature: String,
    /// `YYYYMMDDTHHMMSSZ`: from `X-Amz-Date` (header, or query parameter when presigned), or the
    /// `Date` header converted to this form.
    pub amz_date: String,
    /// The `X-Amz-Security-Token` header or (presigned) query parameter.
    pub security_token: Option<String>,
    /// Whether the signature came in the query string rather than the `Authorization` header.
    pub presigned: bool,
    /// `X-Amz-Expires` of a presigned request, in seconds.
    pub expires: Option<u64>,
}

impl Authorization {
    /// The credential scope, `date/region/service/aws4_request`.
    pub fn scope(&self) -> String {
        signer::scope(&self.date, &self.region, &self.service)
    }
}
