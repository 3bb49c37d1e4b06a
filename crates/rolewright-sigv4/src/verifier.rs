//! The server side of SigV4: rebuilding the canonical request from what arrived and comparing
//! signatures in constant time.

use subtle::{Choice, ConstantTimeEq};

use crate::canonical::{
    CanonicalRequest, canonical_query, canonical_request_hash, canonical_uri, first_header,
    push_header_line,
};
use crate::error::{AuthError, ScopeProblem};
use crate::signer::{sha256_hex, signature};
use crate::time::{format_amz_date, parse_amz_date};
use crate::{
    Authorization, MAX_CLOCK_SKEW_SECS, MAX_PRESIGNED_EXPIRES_SECS, Request, UNSIGNED_PAYLOAD,
};

/// Verifies a request's signature with the signing key of its access key.
///
/// `auth` comes from [`crate::parse_authorization`] on the same request and `key` from
/// [`crate::signing_key`] with the secret of `auth.access_key_id` and `auth`'s scope. In order:
///
/// 1. the time stamp must lie within ±15 minutes of `now_unix`
///    ([`AuthError::Expired`], [`AuthError::NotYetCurrent`]); a presigned request with
///    `X-Amz-Expires` is instead valid until `X-Amz-Date + X-Amz-Expires`
///    ([`AuthError::PresignedExpired`]), and `X-Amz-Expires` may not exceed a week;
/// 2. the scope date must be the time stamp's date ([`AuthError::InvalidScope`]);
/// 3. the canonical request is rebuilt from the client's `SignedHeaders`, which are
///    authoritative: each must be present ([`AuthError::SignedHeaderMissing`]), none is added;
/// 4. the payload hash is the `x-amz-content-sha256` header when sent (`UNSIGNED-PAYLOAD` only
///    on presigned requests, else [`AuthError::UnsupportedContentHash`]), otherwise the SHA-256
///    of `req.body` — for presigned requests without that header, `UNSIGNED-PAYLOAD` is tried as
///    well, since S3-style presigners sign that constant;
/// 5. the signatures are compared in constant time ([`AuthError::SignatureMismatch`]); a signed
///    `x-amz-content-sha256` that differs from the body's hash then gives
///    [`AuthError::ContentHashMismatch`].
///
/// The canonical URI is the double-encoded, dot-segment-free path that non-S3 services use.
pub fn verify(
    req: &Request<'_>,
    auth: &Authorization,
    key: &[u8; 32],
    now_unix: i64,
) -> Result<(), AuthError> {
    let signed_at =
        parse_amz_date(&auth.amz_date).ok_or_else(|| AuthError::bad_date(&auth.amz_date))?;
    check_time(auth, signed_at, now_unix)?;
    if auth.amz_date.get(..8) != Some(auth.date.as_str()) {
        return Err(AuthError::InvalidScope {
            problems: vec![ScopeProblem::Date {
                scope_date: auth.date.clone(),
                amz_date: auth.amz_date.clone(),
            }],
        });
    }
    if !auth
        .signed_headers
        .iter()
        .any(|name| name.eq_ignore_ascii_case("host"))
    {
        return Err(AuthError::HostNotSigned);
    }

    let mut header_lines = Vec::with_capacity(256);
    for name in &auth.signed_headers {
        if !push_header_line(&mut header_lines, req.headers, name) {
            return Err(AuthError::SignedHeaderMissing {
                header: name.clone(),
            });
        }
    }

    let declared = first_header(req.headers, "x-amz-content-sha256").map(<[u8]>::trim_ascii);
    let body_hash = sha256_hex(req.body);
    let unsigned = UNSIGNED_PAYLOAD.as_bytes();
    let payload_hashes: [Option<&[u8]>; 2] = match declared {
        Some(value) if value == unsigned => {
            if !auth.presigned {
                return Err(AuthError::UnsupportedContentHash);
            }
            [Some(unsigned), None]
        }
        Some(value) if is_sha256_hex(value) => [Some(value), None],
        Some(_) => return Err(AuthError::UnsupportedContentHash),
        None if auth.presigned => [Some(body_hash.as_bytes()), Some(unsigned)],
        None => [Some(body_hash.as_bytes()), None],
    };

    let uri = canonical_uri(req.path);
    let query = canonical_query(req.query, auth.presigned);
    let signed_headers = auth.signed_headers.join(";");
    let scope = auth.scope();
    let mut matched = Choice::from(0);
    for payload_hash in payload_hashes.into_iter().flatten() {
        let creq_hash = canonical_request_hash(&CanonicalRequest {
            method: req.method,
            uri: &uri,
            query: &query,
            header_lines: &header_lines,
            signed_headers: &signed_headers,
            payload_hash,
        });
        let expected = signature(key, &auth.amz_date, &scope, &creq_hash);
        matched |= expected.as_bytes().ct_eq(auth.signature.as_bytes());
    }
    if !bool::from(matched) {
        return Err(AuthError::SignatureMismatch);
    }
    // Only now that the declared hash is known to be the client's own is it compared with the
    // body: a signed hash that does not describe the body would let the body be swapped.
    if let Some(value) = declared
        && value != unsigned
        && !value.eq_ignore_ascii_case(body_hash.as_bytes())
    {
        return Err(AuthError::ContentHashMismatch);
    }
    Ok(())
}

/// Whether `value` is 64 hex digits.
fn is_sha256_hex(value: &[u8]) -> bool {
    value.len() == 64 && value.iter().all(u8::is_ascii_hexdigit)
}

/// The time window: ±15 minutes, or for presigned requests with `X-Amz-Expires`, up to
/// `X-Amz-Date + X-Amz-Expires` (and still not more than 15 minutes early).
fn check_time(auth: &Authorization, signed_at: i64, now: i64) -> Result<(), AuthError> {
    let presigned_expires = auth.expires.filter(|_| auth.presigned);
    if presigned_expires.is_some_and(|expires| expires > MAX_PRESIGNED_EXPIRES_SECS) {
        return Err(AuthError::incomplete(format!(
            "X-Amz-Expires must be less than a week (in seconds) that is {MAX_PRESIGNED_EXPIRES_SECS}"
        )));
    }
    if signed_at.saturating_sub(now) > MAX_CLOCK_SKEW_SECS {
        return Err(AuthError::NotYetCurrent {
            amz_date: auth.amz_date.clone(),
            latest: format_amz_date(now.saturating_add(MAX_CLOCK_SKEW_SECS)),
            now: format_amz_date(now),
        });
    }
    if let Some(expires) = presigned_expires {
        let expires = i64::try_from(expires).unwrap_or(i64::MAX);
        if now > signed_at.saturating_add(expires) {
            return Err(AuthError::PresignedExpired);
        }
        return Ok(());
    }
    if now.saturating_sub(signed_at) > MAX_CLOCK_SKEW_SECS {
        return Err(AuthError::Expired {
            amz_date: auth.amz_date.clone(),
            earliest: format_amz_date(now.saturating_sub(MAX_CLOCK_SKEW_SECS)),
            now: format_amz_date(now),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth_at(amz_date: &str, presigned: bool, expires: Option<u64>) -> Authorization {
        Authorization {
            access_key_id: "A".into(),
            date: amz_date.get(..8).unwrap_or_default().into(),
            region: "us-east-1".into(),
            service: "iam".into(),
            signed_headers: vec!["host".into()],
            signature: String::new(),
            amz_date: amz_date.into(),
            security_token: None,
            presigned,
            expires,
        }
    }

    #[test]
    fn the_window_is_fifteen_minutes_inclusive() {
        let signed_at = parse_amz_date("20220127T001427Z").unwrap_or_default();
        let auth = auth_at("20220127T001427Z", false, None);
        assert!(check_time(&auth, signed_at, signed_at + 900).is_ok());
        assert!(check_time(&auth, signed_at, signed_at - 900).is_ok());
        assert!(check_time(&auth, signed_at, signed_at + 901).is_err());
        assert!(check_time(&auth, signed_at, signed_at - 901).is_err());
    }

    #[test]
    fn presigned_window_follows_expires() {
        let signed_at = parse_amz_date("20220127T001427Z").unwrap_or_default();
        let auth = auth_at("20220127T001427Z", true, Some(3600));
        assert!(check_time(&auth, signed_at, signed_at + 3600).is_ok());
        assert_eq!(
            check_time(&auth, signed_at, signed_at + 3601),
            Err(AuthError::PresignedExpired)
        );
        let too_long = auth_at("20220127T001427Z", true, Some(604_801));
        assert_eq!(
            check_time(&too_long, signed_at, signed_at)
                .map_err(|e| e.to_string())
                .unwrap_err(),
            "X-Amz-Expires must be less than a week (in seconds) that is 604800"
        );
    }

    #[test]
    fn extreme_clocks_do_not_overflow() {
        let auth = auth_at("20220127T001427Z", false, None);
        let huge = auth_at("20220127T001427Z", true, Some(u64::MAX));
        for now in [i64::MIN, i64::MAX, 0] {
            let _ = check_time(&auth, 1_643_242_467, now);
            let _ = check_time(&huge, 1_643_242_467, now);
        }
    }
}
