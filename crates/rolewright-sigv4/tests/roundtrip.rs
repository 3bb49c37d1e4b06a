//! The client side checked by the server side: `sign` and `presign` output must verify, and
//! stop verifying when tampered with or too old.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

use rolewright_sigv4::{
    AuthError, AuthErrorKind, Authorization, Credentials, Request, parse_amz_date,
    parse_authorization, presign, sha256_hex, sign, signing_key, verify,
};

const NOW: i64 = 1_798_000_675; // 20261223T043755Z
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY";

fn creds(token: Option<&str>) -> Credentials {
    let creds = Credentials::new("AKIAIOSFODNN7EXAMPLE", SECRET);
    match token {
        Some(token) => creds.with_session_token(token),
        None => creds,
    }
}

/// An owned request that can be signed, sent (with the added headers) and verified.
#[derive(Clone)]
struct Outgoing {
    method: &'static str,
    path: String,
    query: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

impl Outgoing {
    fn query_protocol(body: &str) -> Self {
        Self {
            method: "POST",
            path: "/".into(),
            query: String::new(),
            headers: vec![
                ("Host".into(), b"127.0.0.1:4566".to_vec()),
                (
                    "Content-Type".into(),
                    b"application/x-www-form-urlencoded; charset=utf-8".to_vec(),
                ),
                ("User-Agent".into(), b"rolewright-loadgen".to_vec()),
            ],
            body: body.as_bytes().to_vec(),
        }
    }

    fn json_1_1(target: &str, body: &str) -> Self {
        Self {
            method: "POST",
            path: "/".into(),
            query: String::new(),
            headers: vec![
                ("Host".into(), b"127.0.0.1:4566".to_vec()),
                (
                    "Content-Type".into(),
                    b"application/x-amz-json-1.1".to_vec(),
                ),
                ("X-Amz-Target".into(), target.as_bytes().to_vec()),
            ],
            body: body.as_bytes().to_vec(),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&Request<'_>) -> R) -> R {
        let headers: Vec<(&str, &[u8])> = self
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_slice()))
            .collect();
        f(&Request {
            method: self.method,
            path: &self.path,
            query: &self.query,
            headers: &headers,
            body: &self.body,
        })
    }

    /// Signs with `sign` and adds the returned headers, as a client would before sending.
    fn signed(mut self, creds: &Credentials, region: &str, service: &str, now: i64) -> Self {
        let added = self.with(|req| sign(req, creds, region, service, now));
        self.headers.extend(
            added
                .into_iter()
                .map(|(name, value)| (name, value.into_bytes())),
        );
        self
    }

    /// Presigns with `presign` and replaces the query string with the result.
    fn presigned(mut self, creds: &Credentials, now: i64, expires: u64) -> Self {
        self.query = self.with(|req| presign(req, creds, "us-east-1", "sts", now, expires));
        self
    }

    fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    fn set_header(&mut self, name: &str, value: &[u8]) {
        for (n, v) in &mut self.headers {
            if n.eq_ignore_ascii_case(name) {
                *v = value.to_vec();
            }
        }
    }

    /// What a server would do: parse, look up the secret, verify.
    fn check(&self, now: i64) -> Result<Authorization, AuthError> {
        self.with(|req| {
            let auth = parse_authorization(req)?;
            let key = signing_key(SECRET, &auth.date, &auth.region, &auth.service);
            verify(req, &auth, &key, now)?;
            Ok(auth)
        })
    }
}

#[test]
fn the_aws_get_vanilla_vector_is_reproduced() {
    // From AWS's SigV4 test suite ("get-vanilla"): GET / on example.amazonaws.com at
    // 20150830T123600Z, key AKIDEXAMPLE, scope us-east-1/service.
    let now = parse_amz_date("20150830T123600Z").expect("valid");
    let creds = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    let headers: [(&str, &[u8]); 1] = [("Host", b"example.amazonaws.com")];
    let req = Request {
        method: "GET",
        path: "/",
        query: "",
        headers: &headers,
        body: b"",
    };
    let added = sign(&req, &creds, "us-east-1", "service", now);
    assert_eq!(
        added,
        [
            ("x-amz-date".to_owned(), "20150830T123600Z".to_owned()),
            (
                "authorization".to_owned(),
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
                 SignedHeaders=host;x-amz-date, \
                 Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
                    .to_owned()
            ),
        ]
    );
}

#[test]
fn query_protocol_post_round_trips() {
    for token in [None, Some("FwoGZXIvYXdzEXAMPLETOKEN+/=")] {
        let creds = creds(token);
        let sent = Outgoing::query_protocol("Action=GetUser&Version=2010-05-08").signed(
            &creds,
            "eu-west-1",
            "iam",
            NOW,
        );
        let auth = sent.check(NOW).expect("verifies");
        assert_eq!(auth.region, "eu-west-1");
        assert_eq!(auth.service, "iam");
        assert_eq!(auth.security_token.as_deref(), token);
        let mut expected = vec!["content-type", "host", "x-amz-date"];
        if token.is_some() {
            expected.push("x-amz-security-token");
        }
        assert_eq!(auth.signed_headers, expected);

        let mut tampered = sent.clone();
        tampered.body.push(b'x');
        assert_eq!(
            tampered.check(NOW).unwrap_err(),
            AuthError::SignatureMismatch
        );
        if token.is_some() {
            let mut tampered = sent.clone();
            tampered.set_header("x-amz-security-token", b"another-token");
            assert_eq!(
                tampered.check(NOW).unwrap_err(),
                AuthError::SignatureMismatch
            );
        }
    }
}

#[test]
fn json_1_1_post_round_trips() {
    for token in [None, Some("session-token")] {
        let creds = creds(token);
        let sent = Outgoing::json_1_1("SageMaker.ListDomains", "{}").signed(
            &creds,
            "us-east-1",
            "sagemaker",
            NOW,
        );
        let auth = sent.check(NOW).expect("verifies");
        assert!(auth.signed_headers.iter().any(|h| h == "x-amz-target"));
        assert_eq!(auth.security_token.as_deref(), token);

        let mut tampered = sent.clone();
        tampered.set_header("X-Amz-Target", b"SageMaker.DeleteDomain");
        assert_eq!(
            tampered.check(NOW).unwrap_err(),
            AuthError::SignatureMismatch
        );

        let err = sent.check(NOW + 16 * 60).unwrap_err();
        assert_eq!(err.kind(), AuthErrorKind::Expired);
    }
}

#[test]
fn signing_ignores_a_stale_date_or_token_in_the_request() {
    let mut outgoing = Outgoing::query_protocol("Action=GetUser&Version=2010-05-08");
    outgoing
        .headers
        .push(("X-Amz-Date".into(), b"19990101T000000Z".to_vec()));
    let added = outgoing.with(|req| sign(req, &creds(None), "us-east-1", "iam", NOW));
    let names: Vec<&str> = added.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["x-amz-date", "authorization"]);
    assert!(
        added[1]
            .1
            .contains("SignedHeaders=content-type;host;x-amz-date,")
    );
}

#[test]
fn odd_paths_and_queries_round_trip() {
    let mut outgoing = Outgoing::json_1_1("X.Y", "{}");
    outgoing.method = "GET";
    outgoing.path = "/service/sagemaker/operation/Create%20Domain/../Domain~x".into();
    outgoing.query = "b=2&a=1&a=0&c=hello+world&d=%E2%9C%93&e".into();
    let sent = outgoing.signed(&creds(None), "us-east-1", "sagemaker", NOW);
    assert!(sent.check(NOW).is_ok());
    let mut reordered = sent.clone();
    reordered.query = "a=0&e=&a=1&b=2&c=hello%20world&d=%e2%9c%93".into();
    assert!(
        reordered.check(NOW).is_ok(),
        "same parameters in another order and encoding"
    );
    let mut changed = sent.clone();
    changed.query = "b=2&a=1&a=0&c=hello+world&d=%E2%9C%93&e=1".into();
    assert_eq!(
        changed.check(NOW).unwrap_err(),
        AuthError::SignatureMismatch
    );
}

#[test]
fn a_declared_payload_hash_must_describe_the_body() {
    let body = "Action=GetUser&Version=2010-05-08";
    let mut outgoing = Outgoing::query_protocol(body);
    outgoing.headers.push((
        "X-Amz-Content-Sha256".into(),
        sha256_hex(body.as_bytes()).into_bytes(),
    ));
    let sent = outgoing.signed(&creds(None), "us-east-1", "iam", NOW);
    let auth = sent.check(NOW).expect("verifies");
    assert!(
        auth.signed_headers
            .iter()
            .any(|h| h == "x-amz-content-sha256")
    );

    let mut swapped = sent.clone();
    swapped.body = b"Action=DeleteUser&Version=2010-05-08".to_vec();
    let err = swapped.check(NOW).unwrap_err();
    assert_eq!(err, AuthError::ContentHashMismatch);
    assert_eq!(err.kind(), AuthErrorKind::Mismatch);
    assert_eq!(
        err.to_string(),
        "The provided 'x-amz-content-sha256' header does not match what was computed."
    );
}

#[test]
fn unsigned_payload_needs_a_presigned_request() {
    let mut outgoing = Outgoing::query_protocol("Action=GetUser&Version=2010-05-08");
    outgoing
        .headers
        .push(("X-Amz-Content-Sha256".into(), b"UNSIGNED-PAYLOAD".to_vec()));
    let sent = outgoing.signed(&creds(None), "us-east-1", "iam", NOW);
    let err = sent.check(NOW).unwrap_err();
    assert_eq!(err, AuthError::UnsupportedContentHash);
    assert_eq!(err.kind(), AuthErrorKind::Incomplete);
}

fn get_caller_identity() -> Outgoing {
    Outgoing {
        method: "GET",
        path: "/".into(),
        query: "Action=GetCallerIdentity&Version=2011-06-15".into(),
        headers: vec![("Host".into(), b"127.0.0.1:4566".to_vec())],
        body: Vec::new(),
    }
}

#[test]
fn presigned_requests_round_trip_and_expire() {
    for token in [None, Some("FwoGZXIvYXdzEXAMPLE+token/==")] {
        let sent = get_caller_identity().presigned(&creds(token), NOW, 300);
        assert!(
            sent.query
                .starts_with("Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20261223%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Date=20261223T043755Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host"),
            "{}",
            sent.query
        );
        let auth = sent.check(NOW).expect("verifies");
        assert!(auth.presigned);
        assert_eq!(auth.expires, Some(300));
        assert_eq!(auth.signed_headers, ["host"]);
        assert_eq!(auth.security_token.as_deref(), token);

        assert!(
            sent.check(NOW + 300).is_ok(),
            "valid through its last second"
        );
        let err = sent.check(NOW + 301).unwrap_err();
        assert_eq!(err, AuthError::PresignedExpired);
        assert_eq!(err.kind(), AuthErrorKind::Expired);
        assert_eq!(err.to_string(), "Request has expired");
        let err = sent.check(NOW - 16 * 60).unwrap_err();
        assert!(matches!(err, AuthError::NotYetCurrent { .. }), "{err}");

        let mut tampered = sent.clone();
        tampered.query = tampered
            .query
            .replace("Version=2011-06-15", "Version=2011-06-16");
        assert_eq!(
            tampered.check(NOW).unwrap_err(),
            AuthError::SignatureMismatch
        );
        let mut tampered = sent.clone();
        tampered.query = tampered
            .query
            .replace("X-Amz-Expires=300", "X-Amz-Expires=600");
        assert_eq!(
            tampered.check(NOW).unwrap_err(),
            AuthError::SignatureMismatch
        );
        let mut moved = sent.clone();
        moved.set_header("Host", b"127.0.0.1:4567");
        assert_eq!(moved.check(NOW).unwrap_err(), AuthError::SignatureMismatch);
    }
}

#[test]
fn presigned_expiry_is_limited_to_a_week() {
    let sent = get_caller_identity().presigned(&creds(None), NOW, 604_801);
    let err = sent.check(NOW).unwrap_err();
    assert_eq!(err.kind(), AuthErrorKind::Incomplete);
    assert_eq!(
        err.to_string(),
        "X-Amz-Expires must be less than a week (in seconds) that is 604800"
    );
    assert!(
        get_caller_identity()
            .presigned(&creds(None), NOW, 604_800)
            .check(NOW)
            .is_ok()
    );
}

#[test]
fn presigned_queries_missing_parameters_are_incomplete() {
    let mut outgoing = get_caller_identity();
    outgoing.query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=A%2F20261223%2Fus-east-1%2Fsts%2Faws4_request".into();
    let err = outgoing.check(NOW).unwrap_err();
    assert_eq!(err.kind(), AuthErrorKind::Incomplete);
    assert_eq!(
        err.to_string(),
        "AWS query-string parameters must include 'X-Amz-Signature'. \
         AWS query-string parameters must include 'X-Amz-SignedHeaders'. \
         AWS query-string parameters must include 'X-Amz-Date'. \
         Re-examine the query-string parameters."
    );

    outgoing.query = "X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256".into();
    assert_eq!(
        outgoing.check(NOW).unwrap_err().kind(),
        AuthErrorKind::Unsupported
    );

    let mut bad_expires = get_caller_identity().presigned(&creds(None), NOW, 300);
    bad_expires.query = bad_expires
        .query
        .replace("X-Amz-Expires=300", "X-Amz-Expires=-1");
    assert_eq!(
        bad_expires.check(NOW).unwrap_err().to_string(),
        "X-Amz-Expires should be a number"
    );
}

#[test]
fn headers_added_after_signing_do_not_matter() {
    let mut sent = Outgoing::json_1_1("SageMaker.ListDomains", "{}").signed(
        &creds(None),
        "us-east-1",
        "sagemaker",
        NOW,
    );
    sent.headers.push(("Content-Length".into(), b"2".to_vec()));
    sent.headers
        .push(("amz-sdk-invocation-id".into(), b"00af8280".to_vec()));
    sent.headers.reverse();
    assert!(sent.check(NOW).is_ok());
    assert!(sent.header("authorization").is_some());
}

#[test]
fn credentials_debug_hides_secrets() {
    let shown = format!("{:?}", creds(Some("very-secret-token")));
    assert!(shown.contains("AKIAIOSFODNN7EXAMPLE"));
    assert!(!shown.contains(SECRET));
    assert!(!shown.contains("very-secret-token"));
}
