//! Signing in and out: an access key pair checked against the server's keys and STS sessions,
//! or a Studio user's presigned domain URL (`CreatePresignedDomainUrl`), whose token is
//! verified as the server verifies it, used once, and signs the browser in as the user
//! profile's execution role; a session cookie (`HttpOnly`, `SameSite=Strict`, expiring, revoked by sign-out), and the CSRF
//! rules every form obeys (the form's token, and no foreign `Origin`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use maud::{Markup, html};
use rolewright_server::audit::AuditRecord;
use rolewright_server::auth::{Caller, lookup_key};

use crate::Console;
use crate::call::{Principal, now_unix};
use crate::page::{self, Form};
use crate::wizard::Draft;

/// The signed-in session's cookie.
pub const COOKIE: &str = "rolewright_console";
/// The sign-in form's own CSRF cookie, set with the form (there is no session yet).
const SIGN_IN_COOKIE: &str = "rolewright_console_signin";
/// The most sessions kept at once; expired ones are dropped first.
const MAX_SESSIONS: usize = 10_000;

/// What a session signed in with, checked again on every request.
#[derive(Clone)]
enum Credential {
    /// An access key (a user's, or an STS session's with its token).
    Key {
        access_key_id: String,
        security_token: Option<String>,
    },
    /// A presigned domain URL: the user profile's execution role, as Studio runs it.
    Studio {
        domain: String,
        profile: String,
        /// The role's id when signed in: a role deleted and made again is another role.
        role_id: String,
        /// Unique to the session, so that its compiled policies are its own.
        session_key: String,
        issued: i64,
    },
}

/// One signed-in browser.
pub struct Session {
    /// What it signed in with.
    credential: Credential,
    /// The token every form of this session carries.
    pub csrf: String,
    /// Unix seconds after which the session is refused.
    expires: i64,
    /// The Create role wizard's answers so far.
    pub draft: Draft,
    /// The policy simulator's last request.
    pub simulation: Option<Form>,
    /// An edit of a role's activities not saved yet.
    pub role_edit: Option<crate::role_edit::RoleEdit>,
}

/// The signed-in sessions, by cookie value, and the presigned URL tokens already used (by
/// their nonce, with their expiry). Kept in memory: a restart signs everyone out.
#[derive(Default)]
pub struct Sessions(Mutex<HashMap<String, Session>>, Mutex<HashMap<String, i64>>);

impl Sessions {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Session>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Marks a presigned URL's token used; `false` when it was used before. Tokens past their
    /// expiry are forgotten: they are refused as expired anyway.
    fn spend(&self, nonce: &str, expires: i64, now: i64) -> bool {
        let mut spent = self.1.lock().unwrap_or_else(|p| p.into_inner());
        spent.retain(|_, e| *e > now);
        spent.insert(nonce.to_string(), expires).is_none()
    }

    /// Runs `f` on the session of `token`, if it is still there.
    pub fn with<T>(&self, token: &str, f: impl FnOnce(&mut Session) -> T) -> Option<T> {
        self.lock().get_mut(token).map(f)
    }
}

/// A request's signed-in session: who it is, and the token its forms carry.
pub struct Signed {
    /// The session cookie's value.
    pub token: String,
    /// The principal, as the server knows it now.
    pub caller: Caller,
    /// The session's CSRF token.
    pub csrf: String,
}

/// A random token of 32 bytes, in hexadecimal.
fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares two secrets in time that does not depend on where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The value of cookie `name`.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// `; Secure` when the browser reached the console over HTTPS (through a proxy that terminates
/// TLS and says so in `X-Forwarded-Proto`): the cookie then never travels in the clear.
fn secure(parts: &Parts) -> &'static str {
    let https = parts
        .headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|p| p.eq_ignore_ascii_case("https"));
    if https { "; Secure" } else { "" }
}

fn set_cookie(response: &mut Response<Body>, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// A page asked for in a session: the request's parts and its session, taken by a handler as
/// its last argument; without a session the request is answered by what
/// [`Console::signed_in`] answers (the sign-in page for a `GET`).
pub struct SignedIn {
    /// The request, but its body.
    pub parts: Parts,
    /// The session.
    pub signed: Signed,
}

impl axum::extract::FromRequest<Arc<Console>> for SignedIn {
    type Rejection = Response<Body>;

    async fn from_request(
        request: Request,
        console: &Arc<Console>,
    ) -> Result<Self, Self::Rejection> {
        let (parts, _) = request.into_parts();
        let signed = console.signed_in(&parts)?;
        Ok(SignedIn { parts, signed })
    }
}

/// A form posted in a session, its origin and CSRF token checked ([`Console::signed_form`]),
/// taken by a handler as its last argument; a form that fails the checks is answered by the
/// refusal.
pub struct SignedForm {
    /// The request, but its body.
    pub parts: Parts,
    /// The session.
    pub signed: Signed,
    /// The form's fields.
    pub form: Form,
}

impl axum::extract::FromRequest<Arc<Console>> for SignedForm {
    type Rejection = Response<Body>;

    async fn from_request(
        request: Request,
        console: &Arc<Console>,
    ) -> Result<Self, Self::Rejection> {
        let (parts, body) = request.into_parts();
        let (signed, form) = console.signed_form(&parts, body).await?;
        Ok(SignedForm {
            parts,
            signed,
            form,
        })
    }
}

impl Console {
    /// A form posted in a session: the session, then the form, then its origin and CSRF token
    /// checked ([`check_form`]); or the page to answer instead.
    pub async fn signed_form(
        &self,
        parts: &Parts,
        body: Body,
    ) -> Result<(Signed, Form), Response<Body>> {
        let signed = self.signed_in(parts)?;
        let form = Form::read(body).await?;
        check_form(parts, &form, &signed)?;
        Ok((signed, form))
    }

    /// The request's session and its principal, or the page to answer instead: the sign-in
    /// page for a `GET`, a 403 for anything else.
    pub fn signed_in(&self, parts: &Parts) -> Result<Signed, Response<Body>> {
        let now = now_unix();
        let refuse = |why: &str| {
            if parts.method == axum::http::Method::GET {
                let next = parts
                    .uri
                    .path_and_query()
                    .map_or(crate::PATH, |p| p.as_str());
                page::redirect(&format!(
                    "/console/signin?next={}",
                    page::encode_query(next)
                ))
            } else {
                page::forbidden("Sign in again", why)
            }
        };
        let Some(token) = cookie(&parts.headers, COOKIE) else {
            return Err(refuse("You are not signed in."));
        };
        let found = self
            .sessions
            .with(token, |s| (s.credential.clone(), s.csrf.clone(), s.expires));
        let Some((credential, csrf, expires)) = found else {
            return Err(refuse("Your session has ended."));
        };
        if now >= expires {
            self.sessions.lock().remove(token);
            return Err(refuse("Your session has expired."));
        }
        // The key is checked again on every request: a key deactivated or deleted, or an STS
        // session expired, ends the console session with it.
        let state = self.app.store.read();
        let found = match &credential {
            Credential::Key {
                access_key_id,
                security_token,
            } => lookup_key(&state, access_key_id, security_token.as_deref(), now)
                .map(|(_, caller)| caller)
                .map_err(|e| format!("Your access key can no longer be used: {e}")),
            Credential::Studio {
                domain,
                profile,
                role_id,
                session_key,
                issued,
            } => studio_caller(&state, domain, profile, Some(role_id))
                .map(|(role, _)| {
                    let mut caller = Caller::service_session(&state, role, profile, *issued);
                    if let Some(c) = &mut caller {
                        c.access_key_id.clone_from(session_key);
                    }
                    caller
                })
                .and_then(|c| {
                    c.ok_or_else(|| "the execution role's session cannot be opened".to_string())
                })
                .map_err(|e| format!("Your Studio sign-in can no longer be used: {e}.")),
        };
        match found {
            Ok(caller) => Ok(Signed {
                token: token.to_string(),
                caller,
                csrf,
            }),
            Err(why) => {
                drop(state);
                self.sessions.lock().remove(token);
                Err(refuse(&why))
            }
        }
    }
}

impl Console {
    /// Starts a session signed in with `credential` for `seconds`: the cookie, and a redirect to
    /// `next`.
    fn start_session(
        &self,
        parts: &Parts,
        credential: Credential,
        seconds: i64,
        next: &str,
    ) -> Response<Body> {
        let now = now_unix();
        let session_token = random_token();
        {
            let mut sessions = self.sessions.lock();
            sessions.retain(|_, s| s.expires > now);
            if sessions.len() >= MAX_SESSIONS {
                return page::error_page(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Too many sessions",
                    "The console has too many signed-in sessions; try again later.",
                );
            }
            sessions.insert(
                session_token.clone(),
                Session {
                    credential,
                    csrf: random_token(),
                    expires: now + seconds,
                    draft: Draft::default(),
                    simulation: None,
                    role_edit: None,
                },
            );
        }
        let mut response = page::redirect(next);
        set_cookie(
            &mut response,
            &format!(
                "{COOKIE}={session_token}; Path=/console/; HttpOnly; SameSite=Strict; Max-Age={seconds}{}",
                secure(parts)
            ),
        );
        set_cookie(
            &mut response,
            &format!(
                "{SIGN_IN_COOKIE}=; Path=/console/signin; HttpOnly; SameSite=Strict; Max-Age=0"
            ),
        );
        response
    }
}

/// The execution role a Studio user profile runs as (its own, else its domain's), when the
/// profile and the role exist (and, given `role_id`, the role is still the one signed in with).
fn studio_caller<'s>(
    state: &'s rolewright_server::model::State,
    domain: &str,
    profile: &str,
    role_id: Option<&str>,
) -> Result<(&'s rolewright_server::model::Role, String), String> {
    let found = state
        .user_profiles
        .get(&format!("{domain}/{profile}"))
        .ok_or_else(|| format!("the user profile {profile} of domain {domain} no longer exists"))?;
    let defaults = state
        .domains
        .get(domain)
        .and_then(|d| d.settings.get("DefaultUserSettings"));
    let arn = found
        .settings
        .get("ExecutionRole")
        .or_else(|| defaults.and_then(|d| d.get("ExecutionRole")))
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| {
            format!("neither the user profile {profile} nor its domain has an execution role")
        })?;
    let role = state
        .roles
        .values()
        .find(|r| state.role_arn(r) == arn)
        .filter(|r| role_id.is_none_or(|id| r.id == id))
        .ok_or_else(|| format!("the execution role {arn} no longer exists"))?;
    Ok((role, arn.to_string()))
}

/// The token of a presigned domain URL, or the token itself.
fn presigned_token(text: &str) -> &str {
    let text = text.trim();
    match text.split_once("token=") {
        Some((_, rest)) => rest.split('&').next().unwrap_or(rest),
        None => text,
    }
}

/// Signs a Studio user in with a presigned URL's token, as the server's `/studio/open` checks
/// it (signature, kind, expiry), once.
fn studio_sign_in(console: &Console, parts: &Parts, token: &str) -> Response<Body> {
    let now = now_unix();
    let mut record = AuditRecord {
        time_ms: now * 1000,
        request_id: rolewright_server::ids::request_id(),
        source_ip: crate::call::source_ip(parts),
        service: Some("signin".into()),
        action: Some("signin:ConsoleLogin".into()),
        resource: Some("*".into()),
        user_agent: parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(256).collect()),
        ..AuditRecord::default()
    };
    let outcome = {
        let state = console.app.store.read();
        let key = state.studio_url_key.clone().unwrap_or_default();
        rolewright_server::studio::verify(key.as_bytes(), presigned_token(token), "url", now)
            .map_err(|e| e.to_string())
            .and_then(|grant| {
                if console.sessions.spend(&grant.nonce, grant.expires, now) {
                    Ok(grant)
                } else {
                    Err("the link was used already: a presigned domain URL signs in once; ask for a new one (CreatePresignedDomainUrl)".to_string())
                }
            })
            .and_then(|grant| {
                let (role, arn) =
                    studio_caller(&state, &grant.domain_id, &grant.user_profile, None)?;
                Ok((grant, role.id.clone(), role.name.clone(), arn))
            })
    };
    match outcome {
        Err(why) => {
            record.decision = "denied".into();
            record.status = 403;
            record.reason = Some(format!("console sign-in refused: {why}"));
            console.app.store.audit(record);
            fresh_sign_in(
                parts,
                StatusCode::FORBIDDEN,
                crate::PATH,
                Some(&format!("The presigned domain URL cannot be used: {why}.")),
                None,
            )
        }
        Ok((grant, role_id, role_name, role_arn)) => {
            record.decision = "allowed".into();
            record.status = 303;
            record.principal = Some(format!(
                "arn:aws:sts::{}:assumed-role/{role_name}/{}",
                console.app.store.read().account,
                grant.user_profile
            ));
            record.reason = Some(format!(
                "console sign-in with a presigned domain URL for user profile {}/{} as its execution role {role_arn}",
                grant.domain_id, grant.user_profile
            ));
            console.app.store.audit(record);
            let seconds = grant
                .session_seconds
                .clamp(1, console.settings.session_seconds.max(1));
            let next = format!(
                "/console/studio/{}/users/{}",
                page::encode_query(&grant.domain_id),
                page::encode_query(&grant.user_profile)
            );
            let credential = Credential::Studio {
                domain: grant.domain_id,
                profile: grant.user_profile,
                role_id,
                session_key: rolewright_server::ids::access_key_id("ASIA"),
                issued: now,
            };
            console.start_session(parts, credential, seconds, &next)
        }
    }
}

/// `GET /console/studio/open?token=`: a presigned domain URL opened in the console (the
/// `AuthorizedUrl` with `/studio/open` written `/console/studio/open`).
pub async fn open_presigned(
    State(console): State<Arc<Console>>,
    request: Request,
) -> Response<Body> {
    let (parts, _) = request.into_parts();
    let query = page::query(&parts);
    studio_sign_in(&console, &parts, query.get("token").unwrap_or(""))
}

/// `POST /console/signin/studio`: the sign-in page's second form, a presigned domain URL pasted.
pub async fn sign_in_presigned(
    State(console): State<Arc<Console>>,
    request: Request,
) -> Response<Body> {
    let (parts, body) = request.into_parts();
    if let Err(refused) = check_origin(&parts) {
        return refused;
    }
    let form = match Form::read(body).await {
        Ok(f) => f,
        Err(refused) => return refused,
    };
    let expected = cookie(&parts.headers, SIGN_IN_COOKIE);
    let csrf_ok = matches!((form.get("csrf"), expected), (Some(a), Some(b)) if same_secret(a, b));
    if !csrf_ok {
        return page::forbidden(
            "Request refused",
            "The sign-in form's security token is missing or wrong. Open the sign-in page again and retry.",
        );
    }
    studio_sign_in(&console, &parts, form.get("presigned_url").unwrap_or(""))
}

/// Refuses a form sent from another site: an `Origin` that is not this server's, or a
/// cross-site `Sec-Fetch-Site`.
pub fn check_origin(parts: &Parts) -> Result<(), Response<Body>> {
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if let Some(origin) = parts.headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        let ours = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
            .is_some_and(|o| !host.is_empty() && o.eq_ignore_ascii_case(host));
        if !ours {
            return Err(page::forbidden(
                "Request refused",
                "The form was sent from another site (its Origin is not this console's).",
            ));
        }
    }
    if let Some(site) = parts.headers.get("sec-fetch-site")
        && matches!(site.to_str().unwrap_or(""), "cross-site" | "same-site")
    {
        return Err(page::forbidden(
            "Request refused",
            "The form was sent from another site.",
        ));
    }
    Ok(())
}

/// Checks a signed-in form: its origin and its CSRF token.
pub fn check_form(parts: &Parts, form: &Form, signed: &Signed) -> Result<(), Response<Body>> {
    check_origin(parts)?;
    if !form
        .get("csrf")
        .is_some_and(|t| same_secret(t, &signed.csrf))
    {
        return Err(page::forbidden(
            "Request refused",
            "The form's security token is missing or wrong. Go back, reload the page and try again.",
        ));
    }
    Ok(())
}

/// A `next` that stays inside the console.
fn next_path(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with("/console/") && !n.contains("..") && !n.contains('\\') => {
            n.to_string()
        }
        _ => crate::PATH.to_string(),
    }
}

fn sign_in_page(csrf: &str, next: &str, error: Option<&str>, notice: Option<&str>) -> Markup {
    html! {
        h1 { "Sign in to the rolewright console" }
        @if let Some(notice) = notice {
            div.notice role="status" { p { (notice) } }
        }
        @if let Some(error) = error {
            div.error-summary role="alert" tabindex="-1" {
                h2 { "There is a problem" }
                p { (error) }
            }
        }
        p { "Sign in with an access key pair of this server: a user's, or an STS session's with its session token. The administrator's keys are in the data directory's " code { "credentials" } " file." }
        form method="post" action="/console/signin" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="next" value=(next);
            div.field {
                label for="access_key_id" { "Access key ID" }
                input id="access_key_id" name="access_key_id" type="text" autocomplete="username" spellcheck="false" required autofocus;
            }
            div.field {
                label for="secret_access_key" { "Secret access key" }
                input id="secret_access_key" name="secret_access_key" type="password" autocomplete="current-password" required;
            }
            div.field {
                label for="session_token" { "Session token (optional)" }
                span.hint id="session_token-hint" { "Only for temporary keys (ASIA…) from STS." }
                textarea id="session_token" name="session_token" rows="2" aria-describedby="session_token-hint" spellcheck="false" {}
            }
            button type="submit" { "Sign in" }
        }
        h2 { "Studio users" }
        p { "Studio users sign in with the presigned domain URL their administrator creates (" code { "CreatePresignedDomainUrl" } "): paste it here, or open it with " code { "/studio/open" } " written " code { "/console/studio/open" } ". It opens your own Studio page, signed in as your user profile's execution role. A URL works once, and only until it expires (5 minutes by default)." }
        form method="post" action="/console/signin/studio" {
            input type="hidden" name="csrf" value=(csrf);
            div.field {
                label for="presigned_url" { "Presigned domain URL" }
                input id="presigned_url" name="presigned_url" type="url" spellcheck="false" required;
            }
            button type="submit" { "Open Studio" }
        }
    }
}

/// `GET /console/signin`: the form, with a fresh CSRF token in the form and in a cookie.
pub async fn sign_in_form(State(console): State<Arc<Console>>, request: Request) -> Response<Body> {
    let (parts, _) = request.into_parts();
    let query = page::query(&parts);
    if cookie(&parts.headers, COOKIE).is_some() && console.signed_in(&parts).is_ok() {
        return page::redirect(&next_path(query.get("next")));
    }
    let notice = query.get("signed_out").map(|_| "You have signed out.");
    fresh_sign_in(
        &parts,
        StatusCode::OK,
        &next_path(query.get("next")),
        None,
        notice,
    )
}

fn fresh_sign_in(
    parts: &Parts,
    status: StatusCode,
    next: &str,
    error: Option<&str>,
    notice: Option<&str>,
) -> Response<Body> {
    let csrf = random_token();
    let mut response = page::html(
        status,
        page::layout("Sign in", None, sign_in_page(&csrf, next, error, notice)),
    );
    set_cookie(
        &mut response,
        &format!(
            "{SIGN_IN_COOKIE}={csrf}; Path=/console/signin; HttpOnly; SameSite=Strict; Max-Age=3600{}",
            secure(parts)
        ),
    );
    response
}

/// `POST /console/signin`: checks the key pair and starts a session.
pub async fn sign_in(State(console): State<Arc<Console>>, request: Request) -> Response<Body> {
    let (parts, body) = request.into_parts();
    if let Err(refused) = check_origin(&parts) {
        return refused;
    }
    let form = match Form::read(body).await {
        Ok(f) => f,
        Err(refused) => return refused,
    };
    let expected = cookie(&parts.headers, SIGN_IN_COOKIE);
    let csrf_ok = matches!((form.get("csrf"), expected), (Some(a), Some(b)) if same_secret(a, b));
    if !csrf_ok {
        return page::forbidden(
            "Request refused",
            "The sign-in form's security token is missing or wrong. Open the sign-in page again and retry.",
        );
    }
    let next = next_path(form.get("next"));
    let key_id = form.get("access_key_id").unwrap_or("").trim().to_string();
    let secret = form.get("secret_access_key").unwrap_or("").trim();
    let token = form
        .get("session_token")
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let now = now_unix();
    let look_up = || {
        let state = console.app.store.read();
        lookup_key(&state, &key_id, token, now)
    };
    let mut found = look_up();
    if found.is_err() && console.app.store.is_shared() {
        // A key made on another replica a moment ago may not be here yet: catch up first.
        if console.app.store.catch_up().await.is_err() {
            return fresh_sign_in(
                &parts,
                StatusCode::SERVICE_UNAVAILABLE,
                &next,
                Some(
                    "The service is unavailable: its database cannot be reached to check this \
                     access key. Try again in a moment.",
                ),
                None,
            );
        }
        found = look_up();
    }
    let caller = match found {
        Ok((real_secret, caller)) if same_secret(&real_secret, secret) => Ok(caller),
        Ok(_) => Err("the secret access key does not match the access key ID".to_string()),
        Err(e) => Err(e.to_string()),
    };
    let source_ip = crate::call::source_ip(&parts);
    let mut record = AuditRecord {
        time_ms: now * 1000,
        request_id: rolewright_server::ids::request_id(),
        source_ip,
        service: Some("signin".into()),
        action: Some("signin:ConsoleLogin".into()),
        resource: Some("*".into()),
        user_agent: parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(256).collect()),
        ..AuditRecord::default()
    };
    match caller {
        Err(why) => {
            record.decision = "denied".into();
            record.status = 403;
            record.reason = Some(format!("console sign-in refused: {why}"));
            console.app.store.audit(record);
            fresh_sign_in(
                &parts,
                StatusCode::FORBIDDEN,
                &next,
                Some("The access key ID, secret access key or session token is not valid."),
                None,
            )
        }
        Ok(caller) => {
            record.decision = "allowed".into();
            record.status = 303;
            record.principal = Some(caller.arn.clone());
            record.reason = Some("console sign-in with a valid access key pair".into());
            console.app.store.audit(record);
            let seconds = console.settings.session_seconds.max(1);
            let credential = Credential::Key {
                access_key_id: key_id,
                security_token: token.map(String::from),
            };
            console.start_session(&parts, credential, seconds, &next)
        }
    }
}

/// `POST /console/signout`: ends the session, here and in the browser.
pub async fn sign_out(
    State(console): State<Arc<Console>>,
    SignedForm { parts, signed, .. }: SignedForm,
) -> Response<Body> {
    console.sessions.lock().remove(&signed.token);
    let principal = Principal::new(&console, signed.caller, &parts);
    principal.note("signin:ConsoleLogout", "console sign-out");
    let mut response = page::redirect("/console/signin?signed_out=1");
    set_cookie(
        &mut response,
        &format!(
            "{COOKIE}=; Path=/console/; HttpOnly; SameSite=Strict; Max-Age=0{}",
            secure(&parts)
        ),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
    }

    #[test]
    fn next_stays_inside_the_console() {
        assert_eq!(next_path(Some("/console/roles")), "/console/roles");
        assert_eq!(next_path(Some("https://evil.example/")), "/console/");
        assert_eq!(next_path(Some("//evil.example/console/")), "/console/");
        assert_eq!(next_path(Some("/console/..//evil.example")), "/console/");
        assert_eq!(next_path(None), "/console/");
    }
}
