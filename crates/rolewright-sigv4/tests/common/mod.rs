//! The one harness for the captured boto3 corpus: reads
//! `shared/reference/aws-api/boto3-captured-requests.jsonl` at run time (it is not copied into
//! the repository) and turns each line into something a [`Request`] can borrow.

#![allow(
    dead_code,
    reason = "each test file uses a different part of the harness"
)]

use rolewright_sigv4::{Request, parse_amz_date};

/// The access key every captured request was signed with (the AWS documentation example).
pub const ACCESS_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
/// Its secret (the AWS documentation example, not a real key).
pub const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY";

/// One captured request, owning its parts.
#[derive(Debug, Clone)]
pub struct Captured {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
}

impl Captured {
    /// The headers in the borrowed form [`Request`] takes.
    pub fn header_refs(&self) -> Vec<(&str, &[u8])> {
        self.headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_slice()))
            .collect()
    }

    /// A request borrowing this capture, with headers from [`Captured::header_refs`].
    pub fn request<'a>(&'a self, headers: &'a [(&'a str, &'a [u8])]) -> Request<'a> {
        Request {
            method: &self.method,
            path: &self.path,
            query: &self.query,
            headers,
            body: &self.body,
        }
    }

    /// The first value of a header (any case).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// Replaces the value of every header with this name (any case).
    pub fn set_header(&mut self, name: &str, value: &[u8]) {
        for (n, v) in &mut self.headers {
            if n.eq_ignore_ascii_case(name) {
                *v = value.to_vec();
            }
        }
    }

    /// Removes every header with this name (any case).
    pub fn remove_header(&mut self, name: &str) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }

    /// The request's `X-Amz-Date` as Unix seconds: the instant it was signed.
    pub fn signed_at(&self) -> i64 {
        let date = self
            .header("x-amz-date")
            .expect("captured requests carry X-Amz-Date");
        parse_amz_date(std::str::from_utf8(date).expect("ASCII date")).expect("valid X-Amz-Date")
    }
}

/// Every captured request, in file order.
pub fn load() -> Vec<Captured> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference/aws-api/boto3-captured-requests.jsonl");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .enumerate()
        .map(|(i, line)| {
            let record: serde_json::Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("line {}: {e}", i + 1));
            let field = |name: &str| {
                record[name]
                    .as_str()
                    .unwrap_or_else(|| panic!("line {}: `{name}` is not a string", i + 1))
                    .to_owned()
            };
            let target = field("path");
            let (path, query) = match target.split_once('?') {
                Some((path, query)) => (path.to_owned(), query.to_owned()),
                None => (target, String::new()),
            };
            let headers = record["headers"]
                .as_object()
                .unwrap_or_else(|| panic!("line {}: `headers` is not an object", i + 1))
                .iter()
                .map(|(name, value)| {
                    let value = value.as_str().expect("header values are strings");
                    (name.clone(), value.as_bytes().to_vec())
                })
                .collect();
            Captured {
                method: field("method"),
                path,
                query,
                headers,
                body: field("body").into_bytes(),
            }
        })
        .collect()
}
