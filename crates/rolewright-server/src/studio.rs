//! Presigned Studio URLs: `CreatePresignedDomainUrl` hands out a link to this server carrying a
//! signed token that names a user profile and expires; opening it starts a browser session for
//! that profile (a signed, `HttpOnly`, `SameSite=Strict` cookie) on a page that shows the
//! profile, its apps and whether JumpStart and project templates are open to it. An expired or
//! tampered token gets a refusal page, never the session.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{HeaderValue, Response, StatusCode, header};

use crate::audit::AuditRecord;
use crate::model::State;
use crate::router::header_str;
use crate::server::{App, now_ms, now_unix};
use crate::wire::query::parse_form;

/// Where presigned URLs point.
pub const OPEN_PATH: &str = "/studio/open";
/// The signed-in profile's page.
pub const HOME_PATH: &str = "/studio/home";
/// The browser session's cookie.
pub const COOKIE: &str = "rolewright_studio";

/// What a token grants: a session for one user profile, until `expires`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// Domain id.
    #[serde(rename = "d")]
    pub domain_id: String,
    /// User profile name.
    #[serde(rename = "u")]
    pub user_profile: String,
    /// Unix seconds after which the token is refused.
    #[serde(rename = "e")]
    pub expires: i64,
    /// For a URL token: how long the browser session it starts lasts, in seconds.
    #[serde(rename = "s", default)]
    pub session_seconds: i64,
    /// `url` or `session`, so that one kind of token never passes for the other.
    #[serde(rename = "k")]
    pub kind: String,
    /// Random, so that two tokens for the same profile differ.
    #[serde(rename = "n")]
    pub nonce: String,
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not ours, or altered.
    #[error("the link is not valid: it was altered or was not issued by this server")]
    Invalid,
    /// Past its expiry.
    #[error("the link expired at {0}; ask for a new one (CreatePresignedDomainUrl)")]
    Expired(String),
}

fn mac(key: &[u8], payload: &[u8]) -> Option<Hmac<Sha256>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).ok()?;
    mac.update(payload);
    Some(mac)
}

/// `payload.signature`, both base64url.
pub fn sign(key: &[u8], grant: &Grant) -> String {
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let payload = serde_json::to_vec(grant).unwrap_or_default();
    let signature = mac(key, &payload)
        .map(|m| m.finalize().into_bytes().to_vec())
        .unwrap_or_default();
    format!("{}.{}", engine.encode(&payload), engine.encode(signature))
}

/// Checks a token's signature (in constant time), kind and expiry.
pub fn verify(key: &[u8], token: &str, kind: &str, now: i64) -> Result<Grant, TokenError> {
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let (payload, signature) = token.split_once('.').ok_or(TokenError::Invalid)?;
    let payload = engine.decode(payload).map_err(|_| TokenError::Invalid)?;
    let signature = engine.decode(signature).map_err(|_| TokenError::Invalid)?;
    mac(key, &payload)
        .ok_or(TokenError::Invalid)?
        .verify_slice(&signature)
        .map_err(|_| TokenError::Invalid)?;
    let grant: Grant = serde_json::from_slice(&payload).map_err(|_| TokenError::Invalid)?;
    if grant.kind != kind {
        return Err(TokenError::Invalid);
    }
    if now >= grant.expires {
        return Err(TokenError::Expired(crate::wire::xml::iso_time(
            grant.expires,
        )));
    }
    Ok(grant)
}

/// Escapes text for HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A whole page.
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} — rolewright</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#0b0c0c}}\
         table{{border-collapse:collapse}}td,th{{border:1px solid #b1b4b6;padding:.3rem .6rem;text-align:left}}\
         .refused{{border-left:.4rem solid #d4351c;padding-left:1rem}}</style></head>\
         <body>{body}</body></html>\n",
        escape(title)
    )
}

/// The signed-in profile's page: the profile, its execution role, its apps, and the JumpStart and
/// Projects status with the reasons when they are not open to it.
pub fn home(state: &State, domain_id: &str, profile_name: &str, now_ms: i64) -> Option<String> {
    let key = format!("{domain_id}/{profile_name}");
    let profile = state.user_profiles.get(&key)?;
    let domain = state.domains.get(domain_id)?;
    let status = crate::sagemaker::jumpstart_status(state, domain, profile);
    let mut body = format!(
        "<h1>{}</h1><p>Domain <code>{}</code> ({}), user profile <code>{}</code>.</p>\
         <h2>Execution role</h2><p><code>{}</code></p>",
        escape(profile_name),
        escape(domain_id),
        escape(&domain.name),
        escape(profile_name),
        escape(status.execution_role.as_deref().unwrap_or("none")),
    );
    body.push_str("<h2>JumpStart and Projects</h2>");
    if status.reasons.is_empty() {
        body.push_str(
            "<p id=\"jumpstart\">JumpStart and project templates: <strong>enabled</strong>.</p>",
        );
    } else {
        body.push_str("<p id=\"jumpstart\">JumpStart and project templates: <strong>disabled</strong>, because:</p><ul>");
        for reason in &status.reasons {
            body.push_str(&format!("<li>{}</li>", escape(reason)));
        }
        body.push_str("</ul>");
    }
    body.push_str("<h2>Apps</h2>");
    let apps: Vec<_> = state
        .apps
        .values()
        .filter(|a| a.domain_id == domain_id && a.user_profile.as_deref() == Some(profile_name))
        .collect();
    if apps.is_empty() {
        body.push_str("<p>No apps.</p>");
    } else {
        body.push_str(
            "<table><thead><tr><th>Type</th><th>Name</th><th>Status</th></tr></thead><tbody>",
        );
        for app in apps {
            body.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&app.app_type),
                escape(&app.name),
                crate::sagemaker::app_status(app, now_ms)
            ));
        }
        body.push_str("</tbody></table>");
    }
    Some(page(&format!("Studio: {profile_name}"), &body))
}

/// The page a refused link or session gets.
pub fn refusal(reason: &str) -> String {
    page(
        "Link refused",
        &format!(
            "<div class=\"refused\"><h1>This Studio link cannot be used</h1><p>{}</p></div>",
            escape(reason)
        ),
    )
}

/// A presigned Studio link (`/studio/open?token=`) starts a browser session for its user
/// profile; the session's page (`/studio/home`) needs the session cookie. Both are audited.
pub fn serve_page(app: &App, parts: &Parts, audit: &mut AuditRecord) -> Response<Body> {
    let now = now_unix();
    let state = app.store.read();
    let key = state.studio_url_key.clone().unwrap_or_default();
    let query = parse_form(parts.uri.query().unwrap_or("").as_bytes()).unwrap_or_default();
    let token_param = query
        .iter()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.clone());
    let cookie = header_str(&parts.headers, "cookie").and_then(|c| {
        c.split(';')
            .filter_map(|kv| kv.trim().split_once('='))
            .find(|(k, _)| *k == COOKIE)
            .map(|(_, v)| v.to_string())
    });
    let (outcome, action) = match parts.uri.path() {
        OPEN_PATH => (
            token_param
                .ok_or(TokenError::Invalid)
                .and_then(|t| verify(key.as_bytes(), &t, "url", now)),
            "sagemaker:OpenPresignedDomainUrl",
        ),
        HOME_PATH => (
            cookie
                .ok_or(TokenError::Invalid)
                .and_then(|t| verify(key.as_bytes(), &t, "session", now)),
            "sagemaker:OpenStudio",
        ),
        _ => (Err(TokenError::Invalid), "sagemaker:OpenStudio"),
    };
    audit.service = Some("sagemaker".into());
    audit.action = Some(action.into());
    audit.decision = "denied".into();
    let html = |status: StatusCode, text: String| {
        let mut r = Response::new(Body::from(text));
        *r.status_mut() = status;
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        r.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        r
    };
    match outcome {
        Err(reason) => {
            audit.reason = Some(reason.to_string());
            html(StatusCode::FORBIDDEN, refusal(&reason.to_string()))
        }
        Ok(grant) => {
            let profile_arn = state.domains.get(&grant.domain_id).map(|d| {
                format!(
                    "arn:aws:sagemaker:{}:{}:user-profile/{}/{}",
                    d.region, state.account, grant.domain_id, grant.user_profile
                )
            });
            audit.principal = profile_arn.clone();
            audit.resource = profile_arn;
            match home(&state, &grant.domain_id, &grant.user_profile, now_ms()) {
                None => {
                    audit.reason = Some("the user profile no longer exists".into());
                    html(
                        StatusCode::FORBIDDEN,
                        refusal("the user profile of this link no longer exists"),
                    )
                }
                Some(_) if parts.uri.path() == OPEN_PATH => {
                    audit.decision = "allowed".into();
                    audit.reason = Some("a valid presigned domain URL".into());
                    let session = Grant {
                        expires: now + grant.session_seconds.max(1),
                        kind: "session".into(),
                        nonce: crate::ids::lowercase_alphanumeric(16),
                        ..grant
                    };
                    let token = sign(key.as_bytes(), &session);
                    let mut r = html(
                        StatusCode::SEE_OTHER,
                        page("Signing in", "<p>Signing in to Studio…</p>"),
                    );
                    r.headers_mut()
                        .insert(header::LOCATION, HeaderValue::from_static(HOME_PATH));
                    let cookie = format!(
                        "{}={token}; Path=/studio/; HttpOnly; SameSite=Strict; Max-Age={}",
                        COOKIE,
                        grant.session_seconds.max(1)
                    );
                    if let Ok(v) = HeaderValue::from_str(&cookie) {
                        r.headers_mut().insert(header::SET_COOKIE, v);
                    }
                    r
                }
                Some(page) => {
                    audit.decision = "allowed".into();
                    audit.reason = Some("a valid Studio session".into());
                    html(StatusCode::OK, page)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(expires: i64) -> Grant {
        Grant {
            domain_id: "d-abc".into(),
            user_profile: "alice".into(),
            expires,
            session_seconds: 3600,
            kind: "url".into(),
            nonce: "n".into(),
        }
    }

    #[test]
    fn a_signed_token_verifies_until_it_expires() {
        let token = sign(b"key", &grant(100));
        assert_eq!(verify(b"key", &token, "url", 99).unwrap(), grant(100));
        assert_eq!(
            verify(b"key", &token, "url", 100).unwrap_err().to_string(),
            "the link expired at 1970-01-01T00:01:40Z; ask for a new one (CreatePresignedDomainUrl)"
        );
    }

    #[test]
    fn a_tampered_token_or_another_key_or_kind_is_refused() {
        let token = sign(b"key", &grant(100));
        assert_eq!(verify(b"other", &token, "url", 1), Err(TokenError::Invalid));
        assert_eq!(
            verify(b"key", &token, "session", 1),
            Err(TokenError::Invalid)
        );
        let forged = sign(b"key", &grant(10_000));
        let (_, signature) = token.split_once('.').unwrap();
        let (payload, _) = forged.split_once('.').unwrap();
        assert_eq!(
            verify(b"key", &format!("{payload}.{signature}"), "url", 1),
            Err(TokenError::Invalid)
        );
        assert_eq!(
            verify(b"key", "garbage", "url", 1),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
