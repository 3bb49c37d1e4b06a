//! The client side of SigV4 (signing headers and presigning URLs) and the key derivation and
//! signature arithmetic that the verifier shares with it.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::canonical::{
    CanonicalRequest, canonical_query, canonical_request_hash, canonical_uri, first_header,
    hex_lower, push_canonical_value, push_header_line, uri_encode_into,
};
use crate::time::format_amz_date;
use crate::{ALGORITHM, Credentials, Request, TERMINATOR};

/// HMAC-SHA256 of `data` under `key`.
fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    #[expect(
        clippy::expect_used,
        reason = "HMAC takes keys of any length (long ones are hashed), so this cannot fail"
    )]
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Derives the SigV4 signing key: HMAC chain `"AWS4" + secret` → date → region → service →
/// `aws4_request`.
///
/// The key depends only on the day, so servers may cache it per access key, date, region and
/// service instead of keeping the secret at hand.
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let mut seed = Vec::with_capacity(4 + secret.len());
    seed.extend_from_slice(b"AWS4");
    seed.extend_from_slice(secret.as_bytes());
    let k_date = hmac_sha256(&seed, date.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    hmac_sha256(&k_service, TERMINATOR.as_bytes())
}

/// Lowercase hex SHA-256 of `data`, the form SigV4 uses for payload hashes.
pub fn sha256_hex(data: &[u8]) -> String {
    hex_lower(&Sha256::digest(data))
}

/// The credential scope `date/region/service/aws4_request`.
pub(crate) fn scope(date: &str, region: &str, service: &str) -> String {
    format!("{date}/{region}/{service}/{TERMINATOR}")
}

/// The lowercase hex signature of a canonical request hash.
pub(crate) fn signature(key: &[u8; 32], amz_date: &str, scope: &str, creq_hash: &str) -> String {
    let string_to_sign = format!("{ALGORITHM}\n{amz_date}\n{scope}\n{creq_hash}");
    hex_lower(&hmac_sha256(key, string_to_sign.as_bytes()))
}

/// The `YYYYMMDD` part of a time stamp made by [`format_amz_date`].
fn date_part(amz_date: &str) -> &str {
    amz_date.split('T').next().unwrap_or(amz_date)
}

/// Headers a client built on this crate signs besides the ones it adds itself.
fn is_signed_by_client(lowercase_name: &str) -> bool {
    match lowercase_name {
        "content-type" | "host" => true,
        // Added by `sign` from the clock and the credentials; request copies are ignored.
        "x-amz-date" | "x-amz-security-token" => false,
        name => name.starts_with("x-amz-"),
    }
}

/// Signs a request with an `Authorization` header and returns the headers to add to it.
///
/// The result holds, with lowercase names, `x-amz-date`, `authorization` and, when the
/// credentials carry a session token, `x-amz-security-token`. Signed are `content-type`, `host`,
/// every `x-amz-*` header of the request (such as `x-amz-target`), and the added `x-amz-date`
/// and `x-amz-security-token`. Any `authorization`, `x-amz-date` or `x-amz-security-token` already
/// in `req.headers` is ignored; leave them out of the request you send.
///
/// The payload hash is the request's `x-amz-content-sha256` header if it has one, otherwise the
/// SHA-256 of `req.body`. The request should carry `host` (with the port): servers refuse
/// signatures that do not cover it.
///
/// ```
/// use rolewright_sigv4::{Credentials, Request, parse_authorization, sign, signing_key, verify};
///
/// let creds = Credentials::new("AKIDEXAMPLE", "secret");
/// let body = b"Action=GetUser&Version=2010-05-08";
/// let mut headers: Vec<(&str, &[u8])> = vec![
///     ("Host", b"127.0.0.1:4566"),
///     ("Content-Type", b"application/x-www-form-urlencoded; charset=utf-8"),
/// ];
/// let now = 1_700_000_000;
/// let base = Request { method: "POST", path: "/", query: "", headers: &headers, body };
/// let added = sign(&base, &creds, "us-east-1", "iam", now);
///
/// let mut all = headers.clone();
/// all.extend(added.iter().map(|(n, v)| (n.as_str(), v.as_bytes())));
/// let req = Request { headers: &all, ..base };
/// let auth = parse_authorization(&req).unwrap();
/// let key = signing_key("secret", &auth.date, &auth.region, &auth.service);
/// assert!(verify(&req, &auth, &key, now).is_ok());
/// ```
pub fn sign(
    req: &Request<'_>,
    creds: &Credentials,
    region: &str,
    service: &str,
    now_unix: i64,
) -> Vec<(String, String)> {
    let amz_date = format_amz_date(now_unix);
    let date = date_part(&amz_date);
    let token = creds.session_token.as_deref();

    let mut names: Vec<String> = req
        .headers
        .iter()
        .map(|(name, _)| name.to_ascii_lowercase())
        .filter(|name| is_signed_by_client(name))
        .collect();
    names.push("x-amz-date".to_owned());
    if token.is_some() {
        names.push("x-amz-security-token".to_owned());
    }
    names.sort_unstable();
    names.dedup();

    let mut header_lines = Vec::with_capacity(256);
    for name in &names {
        match (name.as_str(), token) {
            ("x-amz-date", _) => {
                header_lines.extend_from_slice(b"x-amz-date:");
                header_lines.extend_from_slice(amz_date.as_bytes());
                header_lines.push(b'\n');
            }
            ("x-amz-security-token", Some(token)) => {
                header_lines.extend_from_slice(b"x-amz-security-token:");
                push_canonical_value(&mut header_lines, token.as_bytes());
                header_lines.push(b'\n');
            }
            _ => {
                push_header_line(&mut header_lines, req.headers, name);
            }
        }
    }
    let signed_headers = names.join(";");
    let body_hash;
    let payload_hash = match first_header(req.headers, "x-amz-content-sha256") {
        Some(declared) => declared,
        None => {
            body_hash = sha256_hex(req.body);
            body_hash.as_bytes()
        }
    };
    let uri = canonical_uri(req.path);
    let query = canonical_query(req.query, false);
    let creq_hash = canonical_request_hash(&CanonicalRequest {
        method: req.method,
        uri: &uri,
        query: &query,
        header_lines: &header_lines,
        signed_headers: &signed_headers,
        payload_hash,
    });
    let scope = scope(date, region, service);
    let key = signing_key(&creds.secret_access_key, date, region, service);
    let signature = signature(&key, &amz_date, &scope, &creq_hash);

    let mut added = Vec::with_capacity(3);
    added.push(("x-amz-date".to_owned(), amz_date.clone()));
    added.push((
        "authorization".to_owned(),
        format!(
            "{ALGORITHM} Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
            creds.access_key_id
        ),
    ));
    if let Some(token) = token {
        added.push(("x-amz-security-token".to_owned(), token.to_owned()));
    }
    added
}

/// Presigns a request: returns its full query string with the SigV4 parameters appended.
///
/// The result is `req.query` (kept as given) followed by `X-Amz-Algorithm`, `X-Amz-Credential`,
/// `X-Amz-Date`, `X-Amz-Expires`, `X-Amz-SignedHeaders=host`, `X-Amz-Security-Token` when the
/// credentials carry a session token, and finally `X-Amz-Signature`, all percent-encoded. Only
/// `host` is signed; the payload hash is the SHA-256 of `req.body` as given (empty for a plain
/// GET). `expires_secs` is not checked here; verifiers refuse more than
/// [`MAX_PRESIGNED_EXPIRES_SECS`](crate::MAX_PRESIGNED_EXPIRES_SECS).
pub fn presign(
    req: &Request<'_>,
    creds: &Credentials,
    region: &str,
    service: &str,
    now_unix: i64,
    expires_secs: u64,
) -> String {
    let amz_date = format_amz_date(now_unix);
    let date = date_part(&amz_date);
    let scope = scope(date, region, service);
    let credential = format!("{}/{scope}", creds.access_key_id);
    let expires = expires_secs.to_string();

    let mut query = String::with_capacity(req.query.len() + 512);
    query.push_str(req.query);
    let mut params: Vec<(&str, &str)> = vec![
        ("X-Amz-Algorithm", ALGORITHM),
        ("X-Amz-Credential", &credential),
        ("X-Amz-Date", &amz_date),
        ("X-Amz-Expires", &expires),
        ("X-Amz-SignedHeaders", "host"),
    ];
    if let Some(token) = creds.session_token.as_deref() {
        params.push(("X-Amz-Security-Token", token));
    }
    for (name, value) in params {
        if !query.is_empty() && !query.ends_with('&') {
            query.push('&');
        }
        query.push_str(name);
        query.push('=');
        uri_encode_into(&mut query, value.as_bytes(), false);
    }

    let mut header_lines = Vec::with_capacity(64);
    push_header_line(&mut header_lines, req.headers, "host");
    let payload_hash = sha256_hex(req.body);
    let uri = canonical_uri(req.path);
    let canonical = canonical_query(&query, false);
    let creq_hash = canonical_request_hash(&CanonicalRequest {
        method: req.method,
        uri: &uri,
        query: &canonical,
        header_lines: &header_lines,
        signed_headers: "host",
        payload_hash: payload_hash.as_bytes(),
    });
    let key = signing_key(&creds.secret_access_key, date, region, service);
    let signature = signature(&key, &amz_date, &scope, &creq_hash);
    query.push_str("&X-Amz-Signature=");
    query.push_str(&signature);
    query
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_key_matches_the_aws_documentation_example() {
        // The worked example of the SigV4 documentation (secret, 20120215, us-east-1, iam).
        let key = signing_key(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20120215",
            "us-east-1",
            "iam",
        );
        assert_eq!(
            hex_lower(&key),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }

    #[test]
    fn sha256_of_nothing() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn client_signs_host_content_type_and_amz_headers_only() {
        for (name, signed) in [
            ("host", true),
            ("content-type", true),
            ("x-amz-target", true),
            ("x-amz-content-sha256", true),
            ("x-amz-date", false),
            ("x-amz-security-token", false),
            ("user-agent", false),
            ("content-length", false),
            ("amz-sdk-invocation-id", false),
        ] {
            assert_eq!(is_signed_by_client(name), signed, "{name}");
        }
    }
}
