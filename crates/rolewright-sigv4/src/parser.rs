//! Reading what a request says about its signature — the `Authorization` header or the
//! presigned `X-Amz-*` query parameters — before any secret is known.
//!
//! Checks run in the order AWS's front ends use, so the first error a client sees is the one AWS
//! would have shown: mechanism, algorithm, missing parts, date format, `host` signed, credential
//! shape, then the scope's region, terminator and date together.

use std::borrow::Cow;

use crate::canonical::{first_header, query_pairs};
use crate::error::{AuthError, ScopeProblem, echo};
use crate::time::{format_amz_date, parse_amz_date, parse_http_date};
use crate::{ALGORITHM, Authorization, Request, TERMINATOR};

/// Decoded query parameters, in the order sent.
type Params = Vec<(Vec<u8>, Vec<u8>)>;

/// Reads the signature information of a request without checking the signature itself.
///
/// The result names the access key, so the caller can look up its secret (unknown key →
/// [`AuthError::UnknownKey`]) and then call [`crate::verify`]. Errors carry AWS's messages:
///
/// * no `Authorization` header and no `X-Amz-Algorithm` query parameter →
///   [`AuthError::MissingAuthenticationToken`];
/// * both → [`AuthError::BothMechanisms`];
/// * an algorithm other than `AWS4-HMAC-SHA256`, or a SigV2 query (`AWSAccessKeyId` +
///   `Signature`) → [`AuthError::UnsupportedAlgorithm`];
/// * a missing `Credential`, `SignedHeaders`, `Signature` or date, a token without `=`, a bad
///   time stamp, a credential without five elements, a bad `X-Amz-Expires` →
///   [`AuthError::Incomplete`];
/// * `host` not signed → [`AuthError::HostNotSigned`];
/// * a bad scope region or terminator, or a scope date that is not the time stamp's date →
///   [`AuthError::InvalidScope`];
/// * a security token that is not UTF-8 → [`AuthError::UnknownKey`].
pub fn parse_authorization(req: &Request<'_>) -> Result<Authorization, AuthError> {
    let header = first_header(req.headers, "authorization").filter(|v| !is_blank(v));
    let params: Params = query_pairs(req.query).collect();
    let presigned = param(&params, "X-Amz-Algorithm").is_some();
    match (header, presigned) {
        (Some(_), true) => Err(AuthError::BothMechanisms),
        (Some(value), false) => from_header(req, value),
        (None, true) => from_query(req, &params),
        (None, false) => Err(match signature_v2_method(&params) {
            Some(algorithm) => AuthError::UnsupportedAlgorithm { algorithm },
            None => AuthError::MissingAuthenticationToken,
        }),
    }
}

fn is_blank(value: &[u8]) -> bool {
    value.trim_ascii().is_empty()
}

/// The first value of query parameter `name`, decoded.
fn param<'p>(params: &'p Params, name: &str) -> Option<&'p [u8]> {
    params
        .iter()
        .find(|(n, _)| n.as_slice() == name.as_bytes())
        .map(|(_, v)| v.as_slice())
}

/// The first non-empty value of query parameter `name`, as text.
fn text_param<'p>(params: &'p Params, name: &str) -> Option<Cow<'p, str>> {
    param(params, name)
        .filter(|v| !v.is_empty())
        .map(String::from_utf8_lossy)
}

/// For a SigV2 query-string signature, the name of its algorithm.
fn signature_v2_method(params: &Params) -> Option<String> {
    if param(params, "AWSAccessKeyId").is_none() || param(params, "Signature").is_none() {
        return None;
    }
    Some(match text_param(params, "SignatureMethod") {
        Some(method) => echo(&method).to_owned(),
        None => "AWS".to_owned(),
    })
}

/// Reads `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`.
fn from_header(req: &Request<'_>, raw: &[u8]) -> Result<Authorization, AuthError> {
    let value = std::str::from_utf8(raw).map_err(|_| {
        AuthError::incomplete(format!(
            "Authorization header must be valid UTF-8: '{}'.",
            echo(&String::from_utf8_lossy(raw))
        ))
    })?;
    let value = value.trim();
    // AWS splits on both commas and spaces, so `a=1,b=2` and `a=1 b=2` are equally accepted.
    let mut tokens = value
        .split([' ', '\t', ','])
        .filter(|token| !token.is_empty());
    let algorithm = tokens.next().unwrap_or_default();
    if algorithm != ALGORITHM {
        return Err(AuthError::UnsupportedAlgorithm {
            algorithm: echo(algorithm).to_owned(),
        });
    }
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for token in tokens {
        let Some((key, val)) = token.split_once('=') else {
            return Err(AuthError::incomplete(format!(
                "'{}' not a valid key=value pair (missing equal-sign) in Authorization header: '{}'.",
                echo(token),
                echo(value)
            )));
        };
        match key {
            "Credential" => credential = Some(val),
            "SignedHeaders" => signed_headers = Some(val),
            "Signature" => signature = Some(val),
            _ => {}
        }
    }

    let date_header = first_header(req.headers, "x-amz-date")
        .filter(|v| !is_blank(v))
        .map(|v| (true, v))
        .or_else(|| {
            first_header(req.headers, "date")
                .filter(|v| !is_blank(v))
                .map(|v| (false, v))
        });
    let credential = credential.filter(|v| !v.is_empty());
    let signature = signature.filter(|v| !v.is_empty());
    let signed_headers = signed_headers.filter(|v| !v.is_empty());
    let (Some(credential), Some(signature), Some(signed_headers), Some((is_amz_date, raw_date))) =
        (credential, signature, signed_headers, date_header)
    else {
        let mut missing = Vec::new();
        for (name, found) in [
            ("Credential", credential.is_some()),
            ("Signature", signature.is_some()),
            ("SignedHeaders", signed_headers.is_some()),
        ] {
            if !found {
                missing.push(format!("Authorization header requires '{name}' parameter."));
            }
        }
        if date_header.is_none() {
            missing.push(
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
                    .to_owned(),
            );
        }
        return Err(AuthError::incomplete(format!(
            "{} Authorization={}",
            missing.join(" "),
            echo(value)
        )));
    };

    let date_text = String::from_utf8_lossy(raw_date);
    let date_text = date_text.trim();
    let amz_date = if is_amz_date {
        parse_amz_date(date_text).map(|_| date_text.to_owned())
    } else {
        // The string to sign always carries the ISO-8601 form, whichever header gave the time.
        parse_http_date(date_text).map(format_amz_date)
    }
    .ok_or_else(|| AuthError::bad_date(date_text))?;

    let security_token = match first_header(req.headers, "x-amz-security-token") {
        Some(raw) => Some(token_text(raw)?),
        None => None,
    };
    finish(Parts {
        credential,
        signed_headers,
        signature,
        amz_date,
        security_token,
        presigned: false,
        expires: None,
    })
}

/// Reads the presigned form: `X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`,
/// `X-Amz-SignedHeaders`, `X-Amz-Signature`, and the optional `X-Amz-Expires` and
/// `X-Amz-Security-Token`.
fn from_query(req: &Request<'_>, params: &Params) -> Result<Authorization, AuthError> {
    let algorithm = text_param(params, "X-Amz-Algorithm");
    if let Some(algorithm) = &algorithm
        && algorithm != ALGORITHM
    {
        return Err(AuthError::UnsupportedAlgorithm {
            algorithm: echo(algorithm).to_owned(),
        });
    }
    let credential = text_param(params, "X-Amz-Credential");
    let signature = text_param(params, "X-Amz-Signature");
    let signed_headers = text_param(params, "X-Amz-SignedHeaders");
    let date = text_param(params, "X-Amz-Date");
    let (Some(_), Some(credential), Some(signature), Some(signed_headers), Some(date)) =
        (&algorithm, &credential, &signature, &signed_headers, &date)
    else {
        let mut message = String::new();
        for (name, found) in [
            ("X-Amz-Algorithm", algorithm.is_some()),
            ("X-Amz-Credential", credential.is_some()),
            ("X-Amz-Signature", signature.is_some()),
            ("X-Amz-SignedHeaders", signed_headers.is_some()),
            ("X-Amz-Date", date.is_some()),
        ] {
            if !found {
                message.push_str(&format!(
                    "AWS query-string parameters must include '{name}'. "
                ));
            }
        }
        message.push_str("Re-examine the query-string parameters.");
        return Err(AuthError::incomplete(message));
    };
    if parse_amz_date(date).is_none() {
        return Err(AuthError::bad_date(date));
    }
    let expires = match text_param(params, "X-Amz-Expires") {
        Some(text) => Some(
            text.bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| text.parse::<u64>().ok())
                .flatten()
                .ok_or_else(|| AuthError::incomplete("X-Amz-Expires should be a number"))?,
        ),
        None => None,
    };
    let security_token = match param(params, "X-Amz-Security-Token") {
        Some(raw) => Some(token_text(raw)?),
        None => match first_header(req.headers, "x-amz-security-token") {
            Some(raw) => Some(token_text(raw)?),
            None => None,
        },
    };
    finish(Parts {
        credential,
        signed_headers,
        signature,
        amz_date: date.clone().into_owned(),
        security_token,
        presigned: true,
        expires,
    })
}

/// A session token as text; one that is not UTF-8 cannot have been issued.
fn token_text(raw: &[u8]) -> Result<String, AuthError> {
    std::str::from_utf8(raw)
        .map(|token| token.trim().to_owned())
        .map_err(|_| AuthError::UnknownKey)
}

/// What both forms have in common once their parts are found.
struct Parts<'p> {
    credential: &'p str,
    signed_headers: &'p str,
    signature: &'p str,
    amz_date: String,
    security_token: Option<String>,
    presigned: bool,
    expires: Option<u64>,
}

/// Checks the signed headers and the credential scope, and builds the [`Authorization`].
fn finish(parts: Parts<'_>) -> Result<Authorization, AuthError> {
    let signed_headers: Vec<String> = parts.signed_headers.split(';').map(str::to_owned).collect();
    if !signed_headers
        .iter()
        .any(|name| name.eq_ignore_ascii_case("host"))
    {
        return Err(AuthError::HostNotSigned);
    }
    // AWS ignores trailing slashes when counting the credential's elements.
    let elements: Vec<&str> = parts.credential.trim_end_matches('/').split('/').collect();
    let [access_key_id, date, region, service, terminator] = elements.as_slice() else {
        return Err(AuthError::incomplete(format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{}'",
            echo(parts.credential)
        )));
    };
    let mut problems = Vec::new();
    if !is_region_name(region) {
        problems.push(ScopeProblem::Region(echo(region).to_owned()));
    }
    if *terminator != TERMINATOR {
        problems.push(ScopeProblem::Terminator(echo(terminator).to_owned()));
    }
    if parts.amz_date.get(..8) != Some(*date) {
        problems.push(ScopeProblem::Date {
            scope_date: echo(date).to_owned(),
            amz_date: parts.amz_date.clone(),
        });
    }
    if !problems.is_empty() {
        return Err(AuthError::InvalidScope { problems });
    }
    Ok(Authorization {
        access_key_id: (*access_key_id).to_owned(),
        date: (*date).to_owned(),
        region: (*region).to_owned(),
        service: (*service).to_owned(),
        signed_headers,
        signature: parts.signature.to_owned(),
        amz_date: parts.amz_date,
        security_token: parts.security_token,
        presigned: parts.presigned,
        expires: parts.expires,
    })
}

/// Whether `region` looks like an AWS region name (`us-east-1`, `eu-west-1`, or a local name
/// such as `local`): lowercase letters, digits and dashes.
fn is_region_name(region: &str) -> bool {
    !region.is_empty()
        && region.len() <= 64
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request<'a>(headers: &'a [(&'a str, &'a [u8])], query: &'a str) -> Request<'a> {
        Request {
            method: "POST",
            path: "/",
            query,
            headers,
            body: b"",
        }
    }

    #[test]
    fn reads_a_botocore_header() {
        let headers: [(&str, &[u8]); 3] = [
            ("Host", b"127.0.0.1:39901"),
            ("X-Amz-Date", b"20261123T013755Z"),
            (
                "Authorization",
                b"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261123/us-east-1/iam/aws4_request, \
                  SignedHeaders=content-type;host;x-amz-date, Signature=2de7",
            ),
        ];
        let auth = parse_authorization(&request(&headers, "")).unwrap();
        assert_eq!(auth.access_key_id, "AKIAIOSFODNN7EXAMPLE");
        assert_eq!(auth.date, "20261123");
        assert_eq!(auth.region, "us-east-1");
        assert_eq!(auth.service, "iam");
        assert_eq!(auth.signed_headers, ["content-type", "host", "x-amz-date"]);
        assert_eq!(auth.signature, "2de7");
        assert_eq!(auth.amz_date, "20261123T013755Z");
        assert!(!auth.presigned);
        assert_eq!(auth.scope(), "20261123/us-east-1/iam/aws4_request");
    }

    #[test]
    fn the_date_header_is_converted_to_the_iso_form() {
        let headers: [(&str, &[u8]); 3] = [
            ("Host", b"h"),
            ("Date", b"Mon, 23 Nov 2026 01:37:55 GMT"),
            (
                "Authorization",
                b"AWS4-HMAC-SHA256 Credential=A/20261123/us-east-1/iam/aws4_request,SignedHeaders=date;host,Signature=00",
            ),
        ];
        let auth = parse_authorization(&request(&headers, "")).unwrap();
        assert_eq!(auth.amz_date, "20261123T013755Z");
    }

    #[test]
    fn sigv2_query_is_unsupported() {
        let err = parse_authorization(&request(
            &[],
            "Action=ListUsers&AWSAccessKeyId=A&SignatureMethod=HmacSHA256&SignatureVersion=2&Signature=x",
        ))
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Unsupported AWS 'algorithm': 'HmacSHA256' (only AWS4-HMAC-SHA256 for now)."
        );
    }

    #[test]
    fn region_names() {
        for ok in ["us-east-1", "eu-west-1", "local", "cn-north-1"] {
            assert!(is_region_name(ok), "{ok}");
        }
        for bad in ["", "US-EAST-1", "us_east_1", "us east", "é"] {
            assert!(!is_region_name(bad), "{bad}");
        }
    }
}
