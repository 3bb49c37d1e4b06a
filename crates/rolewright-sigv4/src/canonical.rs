//! The canonical request: the exact bytes both sides hash, built from the method, path, query,
//! signed headers and payload hash.
//!
//! Both [`crate::sign`] and [`crate::verify`] go through [`canonical_request_hash`], so a client
//! built on this crate and the server agree by construction; the captured boto3 requests check
//! that the result also agrees with botocore.

use sha2::{Digest, Sha256};

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";
const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";

/// Lowercase hex of some bytes.
pub(crate) fn hex_lower(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(HEX_LOWER[usize::from(b >> 4)]));
        out.push(char::from(HEX_LOWER[usize::from(b & 0x0f)]));
    }
    out
}

/// RFC 3986 unreserved characters, which SigV4 never percent-encodes.
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

/// Appends `bytes` percent-encoded the SigV4 way: unreserved characters kept, everything else
/// (including `%` itself, hence "double encoding" of paths) as uppercase `%XX`.
pub(crate) fn uri_encode_into(out: &mut String, bytes: &[u8], keep_slash: bool) {
    for &b in bytes {
        if is_unreserved(b) || (keep_slash && b == b'/') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX_UPPER[usize::from(b >> 4)]));
            out.push(char::from(HEX_UPPER[usize::from(b & 0x0f)]));
        }
    }
}

/// The canonical URI of a raw request path, as non-S3 services compute it.
///
/// Dot segments and empty segments are removed (AWS services treat `//` as `/`), then each
/// segment of the still percent-encoded path is encoded again; `/` separators are kept, and a
/// trailing `/` survives if anything is left before it.
pub(crate) fn canonical_uri(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }
    let mut out = String::with_capacity(path.len() + 8);
    out.push('/');
    for (i, segment) in segments.iter().enumerate() {
        if i > 0 {
            out.push('/');
        }
        uri_encode_into(&mut out, segment.as_bytes(), false);
    }
    if path.ends_with('/') && !segments.is_empty() {
        out.push('/');
    }
    out
}

/// Decodes `%XX` escapes and `+` (a space in form encoding); malformed escapes stay literal.
pub(crate) fn percent_decode(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hi = bytes.get(i + 1).copied().and_then(hex_value);
                let lo = bytes.get(i + 2).copied().and_then(hex_value);
                if let (Some(hi), Some(lo)) = (hi, lo) {
                    out.push((hi << 4) | lo);
                    i += 3;
                } else {
                    out.push(b'%');
                    i += 1;
                }
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The `name=value` pairs of a raw query string, decoded; a pair without `=` has an empty value.
pub(crate) fn query_pairs(query: &str) -> impl Iterator<Item = (Vec<u8>, Vec<u8>)> + '_ {
    query
        .split('&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            (percent_decode(name), percent_decode(value))
        })
}

/// The canonical query string: every pair decoded, re-encoded with the unreserved set, sorted by
/// name then value, joined with `&`. A presigned request's own `X-Amz-Signature` is left out.
pub(crate) fn canonical_query(query: &str, without_signature: bool) -> String {
    if query.is_empty() {
        return String::new();
    }
    let mut pairs: Vec<(String, String)> = query_pairs(query)
        .filter(|(name, _)| !(without_signature && name.as_slice() == b"X-Amz-Signature"))
        .map(|(name, value)| {
            let mut encoded_name = String::with_capacity(name.len());
            uri_encode_into(&mut encoded_name, &name, false);
            let mut encoded_value = String::with_capacity(value.len());
            uri_encode_into(&mut encoded_value, &value, false);
            (encoded_name, encoded_value)
        })
        .collect();
    pairs.sort_unstable();
    let mut out = String::with_capacity(query.len() + 16);
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
    out
}

/// Appends a header value in canonical form: surrounding whitespace trimmed, inner runs of
/// whitespace collapsed to one space (what botocore's `' '.join(value.split())` does).
pub(crate) fn push_canonical_value(out: &mut Vec<u8>, value: &[u8]) {
    let mut words = value
        .split(|b| b.is_ascii_whitespace())
        .filter(|word| !word.is_empty());
    if let Some(first) = words.next() {
        out.extend_from_slice(first);
        for word in words {
            out.push(b' ');
            out.extend_from_slice(word);
        }
    }
}

/// The values of every header named `name` (compared case-insensitively), in the order received.
pub(crate) fn header_values<'h>(
    headers: &[(&str, &'h [u8])],
    name: &str,
) -> impl Iterator<Item = &'h [u8]> {
    headers
        .iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| *v)
}

/// The first value of the header named `name`, if any.
pub(crate) fn first_header<'h>(headers: &[(&str, &'h [u8])], name: &str) -> Option<&'h [u8]> {
    header_values(headers, name).next()
}

/// Appends the canonical line `name:value\n` for one signed header, joining repeated headers
/// with `,`. Returns `false` if the request has no such header.
pub(crate) fn push_header_line(out: &mut Vec<u8>, headers: &[(&str, &[u8])], name: &str) -> bool {
    out.extend_from_slice(name.as_bytes());
    out.push(b':');
    let mut found = false;
    for value in header_values(headers, name) {
        if found {
            out.push(b',');
        }
        push_canonical_value(out, value);
        found = true;
    }
    out.push(b'\n');
    found
}

/// The parts of a canonical request, already in canonical form except the URI and query.
pub(crate) struct CanonicalRequest<'c> {
    /// The HTTP method exactly as sent.
    pub method: &'c str,
    /// The canonical URI.
    pub uri: &'c str,
    /// The canonical query string.
    pub query: &'c str,
    /// Every `name:value\n` line of the signed headers.
    pub header_lines: &'c [u8],
    /// The `;`-joined signed header names.
    pub signed_headers: &'c str,
    /// The payload hash (hex SHA-256 or `UNSIGNED-PAYLOAD`).
    pub payload_hash: &'c [u8],
}

/// Hex SHA-256 of the canonical request, hashed piece by piece without building it.
pub(crate) fn canonical_request_hash(creq: &CanonicalRequest<'_>) -> String {
    let mut hasher = Sha256::new();
    for (i, part) in [
        creq.method.as_bytes(),
        creq.uri.as_bytes(),
        creq.query.as_bytes(),
        creq.header_lines,
        creq.signed_headers.as_bytes(),
        creq.payload_hash,
    ]
    .iter()
    .enumerate()
    {
        if i > 0 {
            hasher.update(b"\n");
        }
        hasher.update(part);
    }
    hex_lower(&hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_is_normalized_then_encoded_again() {
        let cases = [
            ("", "/"),
            ("/", "/"),
            ("/a/b", "/a/b"),
            ("/a/b/", "/a/b/"),
            ("//a//b", "/a/b"),
            ("/a/./b", "/a/b"),
            ("/a/../b", "/b"),
            ("/../..", "/"),
            ("/a/..", "/"),
            ("/a/b/..", "/a"),
            ("/./", "/"),
            ("/a b", "/a%20b"),
            ("/a%20b", "/a%2520b"),
            (
                "/service/sagemaker/operation/CreateDomain",
                "/service/sagemaker/operation/CreateDomain",
            ),
            ("/~user/-_.", "/~user/-_."),
            ("/é", "/%C3%A9"),
            ("/a:b@c", "/a%3Ab%40c"),
        ];
        for (raw, want) in cases {
            assert_eq!(canonical_uri(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn query_is_decoded_reencoded_and_sorted() {
        let cases = [
            ("", ""),
            ("b=2&a=1", "a=1&b=2"),
            ("a=2&a=1", "a=1&a=2"),
            ("a", "a="),
            ("a=", "a="),
            ("a=b c", "a=b%20c"),
            ("a=b+c", "a=b%20c"),
            ("a=b%2Bc", "a=b%2Bc"),
            ("a=%7e", "a=~"),
            ("a=%zz", "a=%25zz"),
            ("a=%", "a=%25"),
            ("&&a=1&", "a=1"),
            ("k=v=w", "k=v%3Dw"),
            ("Z=1&a=1", "Z=1&a=1"),
            ("x=%2F", "x=%2F"),
        ];
        for (raw, want) in cases {
            assert_eq!(canonical_query(raw, false), want, "{raw:?}");
        }
    }

    #[test]
    fn presigned_signature_is_left_out_of_the_query() {
        assert_eq!(
            canonical_query("X-Amz-Signature=abc&A=1&X-Amz-Date=2", true),
            "A=1&X-Amz-Date=2"
        );
        assert_eq!(
            canonical_query("X-Amz-Signature=abc&A=1", false),
            "A=1&X-Amz-Signature=abc"
        );
    }

    #[test]
    fn header_values_are_trimmed_collapsed_and_joined() {
        let headers: [(&str, &[u8]); 4] = [
            ("My-Header", b"  a   b \t c  "),
            ("other", b"x"),
            ("my-header", b"second"),
            ("MY-HEADER", b""),
        ];
        let mut out = Vec::new();
        assert!(push_header_line(&mut out, &headers, "my-header"));
        assert_eq!(out, b"my-header:a b c,second,\n");
        let mut out = Vec::new();
        assert!(!push_header_line(&mut out, &headers, "absent"));
    }

    #[test]
    fn decoding_never_panics_on_truncated_escapes() {
        for s in ["%", "%4", "%4g", "a%", "%%41", "%41%"] {
            let _ = percent_decode(s);
        }
        assert_eq!(percent_decode("%%41"), b"%A");
    }
}
