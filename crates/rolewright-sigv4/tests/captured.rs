//! Server-side verification against the 12 real boto3 requests captured from botocore 1.44.5,
//! and every way those requests can be broken.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

mod common;

use common::{ACCESS_KEY_ID, Captured, SECRET, load};
use rolewright_sigv4::{
    AuthError, AuthErrorKind, Authorization, parse_authorization, signing_key, verify,
};

/// Parses and verifies a capture with `secret`, at `now`.
fn check(captured: &Captured, secret: &str, now: i64) -> Result<Authorization, AuthError> {
    let headers = captured.header_refs();
    let req = captured.request(&headers);
    let auth = parse_authorization(&req)?;
    let key = signing_key(secret, &auth.date, &auth.region, &auth.service);
    verify(&req, &auth, &key, now)?;
    Ok(auth)
}

/// What a server does: the secret is looked up by the access key id the header names (the key
/// id itself is not part of the string to sign), then the request is verified.
fn check_with_lookup(captured: &Captured, now: i64) -> Result<Authorization, AuthError> {
    let headers = captured.header_refs();
    let req = captured.request(&headers);
    let auth = parse_authorization(&req)?;
    if auth.access_key_id != ACCESS_KEY_ID {
        return Err(AuthError::UnknownKey);
    }
    let key = signing_key(SECRET, &auth.date, &auth.region, &auth.service);
    verify(&req, &auth, &key, now)?;
    Ok(auth)
}

/// Like [`check`] at the capture's own signing time.
fn check_now(captured: &Captured) -> Result<Authorization, AuthError> {
    check(captured, SECRET, captured.signed_at())
}

fn first() -> Captured {
    load().into_iter().next().expect("the corpus is not empty")
}

fn first_json() -> Captured {
    load()
        .into_iter()
        .find(|c| c.header("x-amz-target").is_some())
        .expect("the corpus has JSON requests")
}

#[test]
fn all_captured_requests_verify() {
    let corpus = load();
    assert_eq!(corpus.len(), 12);
    for (i, captured) in corpus.iter().enumerate() {
        let auth = check_now(captured).unwrap_or_else(|e| panic!("request {i}: {e}"));
        assert_eq!(auth.access_key_id, ACCESS_KEY_ID);
        assert_eq!(auth.region, "us-east-1");
        assert!(["iam", "sts", "sagemaker", "servicecatalog"].contains(&auth.service.as_str()));
        assert!(auth.signed_headers.iter().any(|h| h == "host"));
        assert!(!auth.presigned);
    }
}

#[test]
fn unsigned_headers_may_change() {
    for mut captured in load() {
        captured.set_header("User-Agent", b"something else");
        captured.set_header("amz-sdk-request", b"attempt=2; max=2");
        captured
            .headers
            .push(("X-Forwarded-For".into(), b"10.0.0.1".to_vec()));
        assert!(check_now(&captured).is_ok());
    }
}

#[test]
fn signed_header_values_are_canonicalized_before_comparing() {
    for mut captured in load() {
        let content_type = captured.header("content-type").expect("signed").to_vec();
        let mut spaced = b"  ".to_vec();
        spaced.extend(
            content_type
                .iter()
                .flat_map(|&b| if b == b' ' { b"   ".to_vec() } else { vec![b] }),
        );
        spaced.extend_from_slice(b" \t");
        captured.set_header("Content-Type", &spaced);
        assert!(check_now(&captured).is_ok());
    }
}

#[test]
fn tampering_with_one_body_byte_breaks_every_signature() {
    for mut captured in load() {
        let middle = captured.body.len() / 2;
        captured.body[middle] ^= 0x01;
        assert_eq!(
            check_now(&captured).unwrap_err(),
            AuthError::SignatureMismatch
        );
    }
}

#[test]
fn tampering_with_a_signed_header_breaks_every_signature() {
    for captured in load() {
        let auth = check_now(&captured).expect("verifies untouched");
        for name in &auth.signed_headers {
            if name == "x-amz-date" {
                continue; // covered by `changing_the_time_stamp_breaks_the_signature`
            }
            let mut tampered = captured.clone();
            let mut value = tampered
                .header(name)
                .expect("signed header present")
                .to_vec();
            value.push(b'x');
            tampered.set_header(name, &value);
            let err = check_now(&tampered).unwrap_err();
            assert_eq!(err, AuthError::SignatureMismatch, "header {name}");
            assert_eq!(err.kind(), AuthErrorKind::Mismatch);
        }
    }
}

#[test]
fn changing_the_time_stamp_breaks_the_signature() {
    let mut captured = first();
    captured.set_header("X-Amz-Date", b"20261123T013756Z");
    assert_eq!(
        check_now(&captured).unwrap_err(),
        AuthError::SignatureMismatch
    );
}

#[test]
fn tampering_with_the_method_or_path_breaks_every_signature() {
    for captured in load() {
        for method in ["PUT", "GET", "post"] {
            let mut tampered = captured.clone();
            tampered.method = method.into();
            assert_eq!(
                check_now(&tampered).unwrap_err(),
                AuthError::SignatureMismatch
            );
        }
        for path in ["/x", "/%2F", "/?"] {
            let mut tampered = captured.clone();
            tampered.path = path.into();
            assert_eq!(
                check_now(&tampered).unwrap_err(),
                AuthError::SignatureMismatch
            );
        }
        let mut tampered = captured.clone();
        tampered.query = "Action=DeleteRole".into();
        assert_eq!(
            check_now(&tampered).unwrap_err(),
            AuthError::SignatureMismatch
        );
    }
}

#[test]
fn dot_segments_and_empty_segments_do_not_change_the_path() {
    for path in ["/.", "//", "/a/..", "/./"] {
        let mut captured = first();
        captured.path = path.into();
        assert!(check_now(&captured).is_ok(), "{path}");
    }
}

#[test]
fn a_wrong_secret_is_a_mismatch() {
    for captured in load() {
        let err = check(
            &captured,
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEZ",
            captured.signed_at(),
        )
        .unwrap_err();
        assert_eq!(err, AuthError::SignatureMismatch);
        assert_eq!(
            err.to_string(),
            "The request signature we calculated does not match the signature you provided. \
             Check your AWS Secret Access Key and signing method. \
             Consult the service documentation for details."
        );
    }
}

#[test]
fn sixteen_minutes_late_is_expired() {
    let captured = first();
    let err = check(&captured, SECRET, captured.signed_at() + 16 * 60).unwrap_err();
    assert_eq!(err.kind(), AuthErrorKind::Expired);
    assert_eq!(
        err.to_string(),
        "Signature expired: 20261123T013755Z is now earlier than 20261123T013855Z \
         (20261123T015355Z - 15 min.)"
    );
}

#[test]
fn sixteen_minutes_early_is_not_yet_current() {
    let captured = first();
    let err = check(&captured, SECRET, captured.signed_at() - 16 * 60).unwrap_err();
    assert_eq!(err.kind(), AuthErrorKind::Expired);
    assert_eq!(
        err.to_string(),
        "Signature not yet current: 20261123T013755Z is still later than 20261123T013655Z \
         (20261123T012155Z + 15 min.)"
    );
}

#[test]
fn fifteen_minutes_either_way_is_still_accepted() {
    let captured = first();
    let t = captured.signed_at();
    assert!(check(&captured, SECRET, t + 15 * 60).is_ok());
    assert!(check(&captured, SECRET, t - 15 * 60).is_ok());
}

#[test]
fn a_request_without_authorization_is_missing_a_token() {
    let mut captured = first();
    captured.remove_header("Authorization");
    let err = check_now(&captured).unwrap_err();
    assert_eq!(err, AuthError::MissingAuthenticationToken);
    assert_eq!(err.kind(), AuthErrorKind::Missing);
    assert_eq!(err.to_string(), "Request is missing Authentication Token");

    captured
        .headers
        .push(("authorization".into(), b"   ".to_vec()));
    assert_eq!(
        check_now(&captured).unwrap_err(),
        AuthError::MissingAuthenticationToken
    );
}

/// The captured Authorization header of the first request with one edit applied.
fn authorization_with(edit: impl Fn(&str) -> String) -> Captured {
    let mut captured = first();
    let original = String::from_utf8(captured.header("authorization").expect("signed").to_vec())
        .expect("ASCII");
    captured.set_header("Authorization", edit(&original).as_bytes());
    captured
}

#[test]
fn malformed_authorization_headers_are_refused_with_aws_messages() {
    let original = String::from_utf8(first().header("authorization").expect("signed").to_vec())
        .expect("ASCII");
    let signature = original
        .rsplit('=')
        .next()
        .expect("has a signature")
        .to_owned();
    let cases: Vec<(&str, String, AuthErrorKind, String)> = vec![
        (
            "algorithm only",
            "AWS4-HMAC-SHA256".into(),
            AuthErrorKind::Incomplete,
            "Authorization header requires 'Credential' parameter. \
             Authorization header requires 'Signature' parameter. \
             Authorization header requires 'SignedHeaders' parameter. \
             Authorization=AWS4-HMAC-SHA256"
                .into(),
        ),
        (
            "no signature",
            original.replace(&format!(", Signature={signature}"), ""),
            AuthErrorKind::Incomplete,
            format!(
                "Authorization header requires 'Signature' parameter. Authorization={}",
                original.replace(&format!(", Signature={signature}"), "")
            ),
        ),
        (
            "empty signed headers",
            original.replace("SignedHeaders=content-type;host;x-amz-date", "SignedHeaders="),
            AuthErrorKind::Incomplete,
            format!(
                "Authorization header requires 'SignedHeaders' parameter. Authorization={}",
                original.replace("SignedHeaders=content-type;host;x-amz-date", "SignedHeaders=")
            ),
        ),
        (
            "no equal sign",
            original.replace("Credential=", "Credential "),
            AuthErrorKind::Incomplete,
            format!(
                "'Credential' not a valid key=value pair (missing equal-sign) in Authorization header: '{}'.",
                original.replace("Credential=", "Credential ")
            ),
        ),
        (
            "four-element credential",
            original.replace("/us-east-1/iam/", "/us-east-1/"),
            AuthErrorKind::Incomplete,
            "Credential must have exactly 5 slash-delimited elements, \
             e.g. keyid/date/region/service/term, got 'AKIAIOSFODNN7EXAMPLE/20261123/us-east-1/aws4_request'"
                .into(),
        ),
        (
            "bad region",
            original.replace("/us-east-1/", "/US_EAST_1/"),
            AuthErrorKind::Mismatch,
            "Credential should be scoped to a valid region, not 'US_EAST_1'.".into(),
        ),
        (
            "bad terminator",
            original.replace("aws4_request", "aws5_request"),
            AuthErrorKind::Mismatch,
            "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'."
                .into(),
        ),
        (
            "scope date differs",
            original.replace("/20261123/", "/20261122/"),
            AuthErrorKind::Mismatch,
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: \
             '20261122' != '20261123', from '20261123T013755Z'."
                .into(),
        ),
        (
            "everything wrong in the scope",
            original.replace("/20261123/us-east-1/iam/aws4_request", "/2026/-x!/iam/term"),
            AuthErrorKind::Mismatch,
            "Credential should be scoped to a valid region, not '-x!'. \
             Credential should be scoped with a valid terminator: 'aws4_request', not 'term'. \
             Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: \
             '2026' != '20261123', from '20261123T013755Z'."
                .into(),
        ),
        (
            "host not signed",
            original.replace("content-type;host;x-amz-date", "content-type;x-amz-date"),
            AuthErrorKind::Mismatch,
            "'Host' must be a 'SignedHeader' in the AWS Authorization.".into(),
        ),
        (
            "sigv4a",
            original.replace("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256"),
            AuthErrorKind::Unsupported,
            "Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256' (only AWS4-HMAC-SHA256 for now)."
                .into(),
        ),
        (
            "sigv2 header",
            "AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=".into(),
            AuthErrorKind::Unsupported,
            "Unsupported AWS 'algorithm': 'AWS' (only AWS4-HMAC-SHA256 for now).".into(),
        ),
    ];
    for (name, header, kind, message) in cases {
        let captured = authorization_with(|_| header.clone());
        let err = check_now(&captured).expect_err(name);
        assert_eq!(err.kind(), kind, "{name}: {err}");
        assert_eq!(err.to_string(), message, "{name}");
    }
}

#[test]
fn commas_and_spaces_both_separate_authorization_parameters() {
    for edit in [
        |s: &str| s.replace(", ", ","),
        |s: &str| s.replace(", ", " "),
        |s: &str| s.replace(", ", " ,  "),
        |s: &str| format!("  {s}  "),
    ] {
        assert!(check_now(&authorization_with(edit)).is_ok());
    }
}

#[test]
fn a_missing_date_is_incomplete() {
    let mut captured = first();
    captured.remove_header("X-Amz-Date");
    let err = check_now_without_date(&captured);
    assert_eq!(err.kind(), AuthErrorKind::Incomplete);
    let header = String::from_utf8_lossy(captured.header("authorization").expect("kept"));
    assert_eq!(
        err.to_string(),
        format!(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. \
             Authorization={header}"
        )
    );
}

fn check_now_without_date(captured: &Captured) -> AuthError {
    let headers = captured.header_refs();
    parse_authorization(&captured.request(&headers)).expect_err("no date")
}

#[test]
fn a_malformed_date_is_incomplete() {
    for bad in [
        &b"2026"[..],
        b"20261123T013755",
        b"20261323T013755Z",
        b"\xff\xfe",
    ] {
        let mut captured = first();
        captured.set_header("X-Amz-Date", bad);
        let err = check_now_without_date(&captured);
        assert_eq!(err.kind(), AuthErrorKind::Incomplete);
        assert_eq!(
            err.to_string(),
            format!(
                "Date must be in ISO-8601 'basic format'. Got '{}'. See http://en.wikipedia.org/wiki/ISO_8601",
                String::from_utf8_lossy(bad)
            )
        );
    }
}

#[test]
fn a_signed_header_that_was_not_sent_is_incomplete() {
    for captured in load() {
        let mut stripped = captured.clone();
        stripped.remove_header("Content-Type");
        let err = check_now(&stripped).unwrap_err();
        assert_eq!(err.kind(), AuthErrorKind::Incomplete);
        assert_eq!(
            err.to_string(),
            "'content-type' is named as a SignedHeader, but it does not exist in the HTTP request."
        );
    }
}

#[test]
fn header_and_query_together_are_refused() {
    let mut captured = first();
    captured.query = "X-Amz-Algorithm=AWS4-HMAC-SHA256".into();
    let err = check_now(&captured).unwrap_err();
    assert_eq!(err, AuthError::BothMechanisms);
    assert_eq!(
        err.to_string(),
        "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."
    );
}

#[test]
fn non_utf8_authorization_is_incomplete() {
    let mut captured = first();
    captured.set_header("Authorization", b"AWS4-HMAC-SHA256 Credential=\xff\xfe");
    let err = check_now(&captured).unwrap_err();
    assert_eq!(err.kind(), AuthErrorKind::Incomplete);
    assert_eq!(
        err.to_string(),
        "Authorization header must be valid UTF-8: 'AWS4-HMAC-SHA256 Credential=\u{fffd}\u{fffd}'."
    );
}

#[test]
fn json_requests_sign_x_amz_target() {
    let captured = first_json();
    let auth = check_now(&captured).expect("verifies");
    assert_eq!(
        auth.signed_headers,
        ["content-type", "host", "x-amz-date", "x-amz-target"]
    );
    let mut tampered = captured.clone();
    tampered.set_header("X-Amz-Target", b"SageMaker.DeleteDomain");
    assert_eq!(
        check_now(&tampered).unwrap_err(),
        AuthError::SignatureMismatch
    );
}

#[test]
fn the_security_token_header_is_reported() {
    let mut captured = first();
    captured
        .headers
        .push(("X-Amz-Security-Token".into(), b" FQoGZXIvYXdzE ".to_vec()));
    // Not signed by this capture, so the signature still holds; the caller checks the token.
    let auth = check_now(&captured).expect("verifies");
    assert_eq!(auth.security_token.as_deref(), Some("FQoGZXIvYXdzE"));

    captured.set_header("X-Amz-Security-Token", b"\xff");
    assert_eq!(check_now(&captured).unwrap_err(), AuthError::UnknownKey);
}

/// A tiny deterministic xorshift generator, so the fuzz loop needs no `rand`.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn byte(&mut self) -> u8 {
        const INTERESTING: &[u8] = b" ,=/;\t\xff\x00\x80AWS4-HMAC-SHA256aws4_request";
        if self.next().is_multiple_of(2) {
            INTERESTING[self.below(INTERESTING.len())]
        } else {
            self.next() as u8
        }
    }
}

#[test]
fn two_thousand_mutated_authorization_headers_never_panic() {
    let corpus = load();
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut outcomes = std::collections::BTreeMap::<String, usize>::new();
    for _ in 0..2_000 {
        let mut captured = corpus[rng.below(corpus.len())].clone();
        let original_auth = check_now(&captured).expect("untouched request verifies");
        let mut header = captured.header("authorization").expect("signed").to_vec();
        for _ in 0..=rng.below(4) {
            match rng.below(6) {
                0 if !header.is_empty() => {
                    let i = rng.below(header.len());
                    header[i] = rng.byte();
                }
                1 => {
                    let i = rng.below(header.len() + 1);
                    header.insert(i, rng.byte());
                }
                2 if !header.is_empty() => {
                    header.remove(rng.below(header.len()));
                }
                3 => header.truncate(rng.below(header.len() + 1)),
                4 => {
                    let start = rng.below(header.len() + 1);
                    let end = start + rng.below(header.len() - start + 1);
                    let piece = header[start..end].to_vec();
                    let at = rng.below(header.len() + 1);
                    header.splice(at..at, piece);
                }
                _ => {
                    // Occasionally disturb the date as well.
                    let date = captured.header("x-amz-date").expect("dated").to_vec();
                    let mut date = date;
                    if !date.is_empty() {
                        let i = rng.below(date.len());
                        date[i] = rng.byte();
                    }
                    captured.set_header("X-Amz-Date", &date);
                }
            }
        }
        captured.set_header("Authorization", &header);
        let now = captured.signed_at_or(0);
        let outcome = match check_with_lookup(&captured, now) {
            Ok(auth) => {
                // A mutation may be harmless (say, an extra space), but then it must not have
                // changed what the header says.
                assert_eq!(auth, original_auth, "accepted a changed header: {header:?}");
                "ok".to_owned()
            }
            Err(err) => format!("{:?}", err.kind()),
        };
        *outcomes.entry(outcome).or_default() += 1;
    }
    assert_eq!(outcomes.values().sum::<usize>(), 2_000);
    assert!(
        outcomes.len() >= 4,
        "mutations should reach several outcomes: {outcomes:?}"
    );
}

trait SignedAtOr {
    fn signed_at_or(&self, fallback: i64) -> i64;
}

impl SignedAtOr for Captured {
    fn signed_at_or(&self, fallback: i64) -> i64 {
        self.header("x-amz-date")
            .and_then(|d| std::str::from_utf8(d).ok())
            .and_then(rolewright_sigv4::parse_amz_date)
            .unwrap_or(fallback)
    }
}
