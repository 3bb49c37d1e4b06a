//! The HTTP front: reads each request within a size limit, verifies its signature, routes it
//! by protocol (query `Action`, JSON `X-Amz-Target` or the rpcv2Cbor path) to a service, renders
//! the reply or AWS's error shape, and logs it to the audit log.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{ConnectInfo, State as AxumState};
use axum::http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use rolewright_iam::RequestContext;
use serde_json::json;
use tracing::Instrument as _;

use crate::audit::{AuditDecision, AuditRecord};
use crate::auth::{self, Caller, auth_error};
use crate::authz::{self, PolicyCache, RequestFacts};
use crate::error::ApiError;
use crate::model::{Change, State};
use crate::service_model::ServiceModel;
use crate::store::{Store, lock};
use crate::wire::query::{Params, parse_form};
use crate::wire::xml::{self, XmlWriter};
use crate::wire::{cbor, json};
use crate::{iam, sagemaker, servicecatalog, sts};

/// The largest request body accepted (IAM's largest input, a 131,072-character policy
/// document, percent-encoded, fits several times over).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// IAM's XML namespace.
pub const IAM_NAMESPACE: &str = "https://iam.amazonaws.com/doc/2010-05-08/";
/// STS's XML namespace.
pub const STS_NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// Account-wide limits (AWS's defaults unless configured).
#[derive(Debug, Clone)]
pub struct Quotas {
    /// Roles per account (AWS default 1,000).
    pub roles: usize,
    /// Users per account (AWS default 5,000).
    pub users: usize,
    /// Customer managed policies per account (AWS default 1,500).
    pub policies: usize,
    /// The shortest session `AssumeRole` grants (AWS: 900 seconds). Tests lower it to watch
    /// credentials expire.
    pub min_session_seconds: i64,
}

impl Default for Quotas {
    fn default() -> Self {
        Quotas {
            roles: 1000,
            users: 5000,
            policies: 1500,
            min_session_seconds: 900,
        }
    }
}

/// What the handlers share.
pub struct App {
    /// State and durability.
    pub store: Store,
    /// Compiled policies.
    pub cache: PolicyCache,
    /// Limits.
    pub quotas: Quotas,
    /// When each role's sessions last made a request (lowercase role name → unix seconds and
    /// region), not yet written to the role.
    pub last_used: std::sync::Mutex<std::collections::HashMap<String, (i64, String)>>,
}

impl App {
    /// Records that a role's session made a request.
    pub fn note_role_used(&self, role: &str, when: i64, region: &str) {
        let mut map = lock(&self.last_used);
        map.insert(role.to_ascii_lowercase(), (when, region.to_string()));
    }

    /// When a role was last used: the newest of what is noted and what is stored.
    pub fn role_last_used(&self, role: &crate::model::Role) -> Option<(i64, String)> {
        let noted = lock(&self.last_used)
            .get(&role.name.to_ascii_lowercase())
            .cloned();
        match (noted, role.last_used.clone()) {
            (Some(a), Some(b)) => Some(if a.0 >= b.0 { a } else { b }),
            (a, b) => a.or(b),
        }
    }

    /// Writes the noted last-used times into the roles (every minute and at shutdown).
    pub async fn persist_last_used(&self) {
        let noted: Vec<(String, (i64, String))> = {
            let mut map = lock(&self.last_used);
            map.drain().collect()
        };
        if noted.is_empty() {
            return;
        }
        let _ = self
            .store
            .write(None, |state| {
                let mut changes = Vec::new();
                for (key, used) in noted {
                    if let Some(role) = state.roles.get_mut(&key) {
                        role.last_used = Some(used);
                        changes.push(Change::put(crate::model::kind::ROLE, key, role));
                    }
                }
                Ok(((), changes))
            })
            .await;
    }
    /// The shortest `DurationSeconds` accepted by `AssumeRole` (900 unless configured for tests).
    pub fn quotas_min_session(&self) -> i64 {
        self.quotas.min_session_seconds
    }
}

/// A reply before rendering.
pub enum Reply {
    /// An XML document for an operation with output.
    Xml(XmlWriter),
    /// An operation without output.
    Empty,
    /// A JSON document (JSON 1.1 services).
    Json(serde_json::Value),
}

/// One authenticated request being served.
pub struct Cx<'a> {
    /// Shared state.
    pub app: &'a App,
    /// The authenticated caller.
    pub caller: Caller,
    /// Facts for condition keys.
    pub facts: RequestFacts,
    /// The request id.
    pub request_id: String,
    /// The operation name (`CreateRole`).
    pub op: String,
    /// The `Host` the client addressed (links the server hands out point there).
    pub host: String,
    audit: AuditRecord,
    audited: bool,
}

impl<'a> Cx<'a> {
    /// The condition keys every request of this caller carries.
    pub fn context(&self, state: &State) -> RequestContext {
        authz::base_context(state, &self.caller, &self.facts)
    }

    /// Authorizes `action` on `resource` with the base context extended by `extend`, and
    /// records the decision for the audit log. A denial is AWS's `AccessDenied`.
    pub fn authorize(
        &mut self,
        state: &State,
        action: &str,
        resource: &str,
        extend: impl FnOnce(&mut RequestContext),
    ) -> Result<(), ApiError> {
        let mut ctx = self.context(state);
        extend(&mut ctx);
        self.authorize_with(state, action, resource, ctx, None)
    }

    /// Authorizes with a full context and an optional resource policy (a role's trust policy).
    pub fn authorize_with(
        &mut self,
        state: &State,
        action: &str,
        resource: &str,
        ctx: RequestContext,
        resource_policy: Option<rolewright_iam::CompiledPolicy>,
    ) -> Result<(), ApiError> {
        // Actions without resource types are authorized on `*`, as AWS does.
        let resource = if authz::wildcard_only(action) {
            "*"
        } else {
            resource
        };
        let (decision, request) = authz::decide(
            &self.app.cache,
            state,
            &self.caller,
            action,
            resource,
            ctx,
            resource_policy,
        );
        if decision.is_allowed() {
            self.record(action, resource, true, authz::reason(&decision, &request));
            Ok(())
        } else {
            let message = decision
                .access_denied_message(&request)
                .unwrap_or_else(|| "Access denied".into());
            // What a Create operation also authorizes (a boundary) is about the new entity,
            // named by its ARN as the creation is.
            let shown = if self.op.starts_with("Create") {
                resource.to_string()
            } else {
                shown_resource(action, resource, &state.account)
            };
            let message = message.replacen(
                &format!("on resource: {resource} "),
                &format!("on resource: {shown} "),
                1,
            );
            self.record(action, resource, false, message.clone());
            Err(ApiError::access_denied(message))
        }
    }

    /// Records one authorization decision of this request. The request's own line in the audit
    /// log names its first decision (the operation's action) unless a later one denied it.
    fn record(&mut self, action: &str, resource: &str, allowed: bool, reason: String) {
        let decision = if allowed { "allowed" } else { "denied" };
        let first = self.audit.decisions.is_empty();
        if first || !allowed {
            self.audit.action = Some(action.to_string());
            self.audit.resource = Some(resource.to_string());
            self.audit.decision = decision.into();
            self.audit.reason = Some(reason.clone());
        }
        self.audit.decisions.push(AuditDecision {
            action: action.to_string(),
            resource: resource.to_string(),
            decision: decision.into(),
            reason,
        });
    }

    /// Checks that the caller may pass `role_arn` to `service` (`sagemaker.amazonaws.com`):
    /// `iam:PassRole` on the role, with `iam:PassedToService` set, as AWS checks it when a
    /// request names an execution or launch role. A role that does not exist cannot be passed.
    pub fn authorize_pass_role(
        &mut self,
        state: &State,
        role_arn: &str,
        service: &str,
    ) -> Result<(), ApiError> {
        let mut ctx = self.context(state);
        ctx.set("iam:PassedToService", service);
        let tags = state
            .roles
            .values()
            .find(|r| state.role_arn(r) == role_arn)
            .map(|r| r.tags.clone());
        if let Some(tags) = &tags {
            authz::resource_tags(&mut ctx, tags);
        }
        self.authorize_with(state, "iam:PassRole", role_arn, ctx, None)?;
        if tags.is_none() {
            return Err(ApiError::new(
                "InvalidParameterValue",
                400,
                format!("The role {role_arn} does not exist or cannot be assumed by {service}."),
            ));
        }
        Ok(())
    }

    /// Records an allowed call that needs no authorization (for the audit log).
    pub fn note_allowed(&mut self, action: &str, reason: &str) {
        self.record(action, "*", true, reason.to_string());
    }

    /// Records a denial decided outside the engine (for the audit log).
    pub fn note_denied(&mut self, action: &str, resource: &str, reason: &str) {
        self.record(action, resource, false, reason.to_string());
    }

    /// Applies a change and waits until it is durable; the audit record of this (successful)
    /// request is committed with it.
    pub async fn write<T>(
        &mut self,
        apply: impl FnOnce(&mut State) -> Result<(T, Vec<Change>), ApiError>,
    ) -> Result<T, ApiError> {
        let mut record = self.audit.clone();
        record.status = 200;
        let result = self.app.store.write(Some(record), apply).await;
        if result.is_ok() {
            self.audited = true;
        }
        result
    }
}

/// How IAM names the resource in an AccessDenied message: `role NAME`, `user NAME` and
/// `policy ARN` for operations on existing entities, the ARN prefix for `ListRoles` and
/// `ListUsers`, the ARN otherwise (creation, `PassRole`, other services).
fn shown_resource(action: &str, resource: &str, account: &str) -> String {
    let Some(op) = action.strip_prefix("iam:") else {
        return resource.to_string();
    };
    match op {
        "ListRoles" => return format!("arn:aws:iam::{account}:role/"),
        "ListUsers" => return format!("arn:aws:iam::{account}:user/"),
        "ListPolicies" => return format!("arn:aws:iam::{account}:policy/"),
        _ => {}
    }
    if op.starts_with("Create") || op == "PassRole" {
        return resource.to_string();
    }
    let Some(path) = resource.splitn(6, ':').nth(5) else {
        return resource.to_string();
    };
    let name = path.rsplit('/').next().unwrap_or(path);
    if path.starts_with("role/") {
        format!("role {name}")
    } else if path.starts_with("user/") {
        format!("user {name}")
    } else if path.starts_with("group/") {
        format!("group {name}")
    } else if path.starts_with("policy/") {
        format!("policy {resource}")
    } else {
        resource.to_string()
    }
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// How a request expects its reply.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Protocol {
    Query(&'static str),
    Json,
    /// Smithy RPC v2 CBOR: the JSON 1.1 path with CBOR bodies.
    Cbor,
}

fn error_response(protocol: Protocol, error: &ApiError, request_id: &str) -> Response<Body> {
    let status = match protocol {
        Protocol::Json => error.json_status(),
        Protocol::Cbor => cbor::error_status(error),
        Protocol::Query(_) => error.status,
    };
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = match protocol {
        Protocol::Query(namespace) => {
            let mut r = Response::new(Body::from(xml::error_document(
                error, namespace, request_id,
            )));
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
            r
        }
        Protocol::Json => {
            let mut r = Response::new(Body::from(json::error_body(error)));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-amz-json-1.1"),
            );
            if let Ok(v) = HeaderValue::from_str(error.json_code()) {
                r.headers_mut().insert("x-amzn-errortype", v);
            }
            r
        }
        Protocol::Cbor => {
            let mut r = Response::new(Body::from(cbor::error_body(error)));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(cbor::CONTENT_TYPE),
            );
            r.headers_mut().insert(
                cbor::PROTOCOL_HEADER,
                HeaderValue::from_static(cbor::PROTOCOL),
            );
            r
        }
    };
    *response.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert("x-amzn-requestid", v);
    }
    response
}

fn success_response(protocol: Protocol, body: Vec<u8>, request_id: &str) -> Response<Body> {
    let mut r = Response::new(Body::from(body));
    let content_type = match protocol {
        Protocol::Query(_) => "text/xml",
        Protocol::Json => "application/x-amz-json-1.1",
        Protocol::Cbor => cbor::CONTENT_TYPE,
    };
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if protocol == Protocol::Cbor {
        r.headers_mut().insert(
            cbor::PROTOCOL_HEADER,
            HeaderValue::from_static(cbor::PROTOCOL),
        );
    }
    if let Ok(v) = HeaderValue::from_str(request_id) {
        r.headers_mut().insert("x-amzn-requestid", v);
    }
    r
}

/// The JSON 1.1 target an rpcv2Cbor request stands for
/// (`/service/AWS242ServiceCatalogService/operation/CreatePortfolio` →
/// `AWS242ServiceCatalogService.CreatePortfolio`), once the protocol's method and headers are
/// checked; `None` for a request of another protocol.
fn cbor_target(
    parts: &axum::http::request::Parts,
    body: &[u8],
) -> Result<Option<String>, ApiError> {
    let Some(route) = cbor::route(parts.uri.path()) else {
        return Ok(None);
    };
    let headers = &parts.headers;
    cbor::check_request(
        parts.method.as_str(),
        header_str(headers, cbor::PROTOCOL_HEADER),
        header_str(headers, "content-type"),
        headers.contains_key("x-amz-target") || headers.contains_key("x-amzn-target"),
        !body.is_empty(),
    )?;
    let Some(service) = cbor::service(route.service) else {
        return Err(ApiError::new(
            "UnknownOperationException",
            400,
            format!(
                "the service `{}` is not served over rpcv2Cbor: only Service Catalog \
                 (/service/AWS242ServiceCatalogService/operation/<Operation>) is",
                route.service.chars().take(64).collect::<String>()
            ),
        ));
    };
    Ok(Some(format!("{}.{}", service.name, route.operation)))
}

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The protocol a request speaks, from its path, target header and signing scope.
fn protocol_of(path: &str, headers: &HeaderMap) -> Protocol {
    if cbor::route(path).is_some() {
        return Protocol::Cbor;
    }
    if headers.contains_key("x-amz-target") {
        return Protocol::Json;
    }
    let scope_service = header_str(headers, "authorization")
        .and_then(|a| a.split("Credential=").nth(1))
        .and_then(|c| c.split('/').nth(3));
    match scope_service {
        Some("sts") => Protocol::Query(STS_NAMESPACE),
        _ => Protocol::Query(IAM_NAMESPACE),
    }
}

/// Serves one HTTP request.
pub async fn handle(
    AxumState(app): AxumState<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: axum::extract::Request,
) -> Response<Body> {
    let request_id = crate::ids::request_id();
    let (parts, body) = request.into_parts();
    if parts.method == axum::http::Method::GET && parts.uri.path().starts_with("/studio/") {
        return studio_page(&app, &parts, peer, &request_id);
    }
    let mut protocol = protocol_of(parts.uri.path(), &parts.headers);
    let mut audit = AuditRecord {
        time_ms: now_ms(),
        request_id: request_id.clone(),
        source_ip: Some(peer.ip().to_string()),
        decision: "error".into(),
        user_agent: header_str(&parts.headers, "user-agent").map(|s| s.chars().take(256).collect()),
        ..AuditRecord::default()
    };
    let span = tracing::info_span!("request", request_id = %request_id);
    let outcome = serve(
        &app,
        &parts,
        body,
        peer,
        &request_id,
        &mut protocol,
        &mut audit,
    )
    .instrument(span.clone())
    .await;
    let _entered = span.enter();
    let (response, audited) = match outcome {
        Ok((body, audited)) => (success_response(protocol, body, &request_id), audited),
        Err(error) => {
            if error.receiver {
                tracing::error!(
                    code = error.code,
                    action = audit.action.as_deref().unwrap_or("-"),
                    principal = audit.principal.as_deref().unwrap_or("-"),
                    "server fault: {}",
                    error.message
                );
            }
            audit.error_code = Some(error.code.to_string());
            if audit.reason.is_none() || audit.decision != "denied" {
                audit.reason = Some(error.message.chars().take(512).collect());
            }
            (error_response(protocol, &error, &request_id), false)
        }
    };
    tracing::debug!(
        status = response.status().as_u16(),
        action = audit.action.as_deref().unwrap_or("-"),
        principal = audit.principal.as_deref().unwrap_or("-"),
        decision = %audit.decision,
        "served"
    );
    if !audited {
        audit.status = response.status().as_u16();
        app.store.audit(audit);
    }
    response
}

/// A presigned Studio link (`/studio/open?token=`) starts a browser session for its user
/// profile; the session's page (`/studio/home`) needs the session cookie. Both are audited.
fn studio_page(
    app: &App,
    parts: &axum::http::request::Parts,
    peer: SocketAddr,
    request_id: &str,
) -> Response<Body> {
    use crate::studio;
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
            .find(|(k, _)| *k == studio::COOKIE)
            .map(|(_, v)| v.to_string())
    });
    let (outcome, action) = match parts.uri.path() {
        studio::OPEN_PATH => (
            token_param
                .ok_or(studio::TokenError::Invalid)
                .and_then(|t| studio::verify(key.as_bytes(), &t, "url", now)),
            "sagemaker:OpenPresignedDomainUrl",
        ),
        studio::HOME_PATH => (
            cookie
                .ok_or(studio::TokenError::Invalid)
                .and_then(|t| studio::verify(key.as_bytes(), &t, "session", now)),
            "sagemaker:OpenStudio",
        ),
        _ => (Err(studio::TokenError::Invalid), "sagemaker:OpenStudio"),
    };
    let mut audit = AuditRecord {
        time_ms: now_ms(),
        request_id: request_id.to_string(),
        source_ip: Some(peer.ip().to_string()),
        service: Some("sagemaker".into()),
        action: Some(action.into()),
        decision: "denied".into(),
        user_agent: header_str(&parts.headers, "user-agent").map(|s| s.chars().take(256).collect()),
        ..AuditRecord::default()
    };
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
    let response = match outcome {
        Err(reason) => {
            audit.reason = Some(reason.to_string());
            html(StatusCode::FORBIDDEN, studio::refusal(&reason.to_string()))
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
            match studio::home(&state, &grant.domain_id, &grant.user_profile, now_ms()) {
                None => {
                    audit.reason = Some("the user profile no longer exists".into());
                    html(
                        StatusCode::FORBIDDEN,
                        studio::refusal("the user profile of this link no longer exists"),
                    )
                }
                Some(_) if parts.uri.path() == studio::OPEN_PATH => {
                    audit.decision = "allowed".into();
                    audit.reason = Some("a valid presigned domain URL".into());
                    let session = studio::Grant {
                        expires: now + grant.session_seconds.max(1),
                        kind: "session".into(),
                        nonce: crate::ids::lowercase_alphanumeric(16),
                        ..grant
                    };
                    let token = studio::sign(key.as_bytes(), &session);
                    let mut r = html(
                        StatusCode::SEE_OTHER,
                        studio::page("Signing in", "<p>Signing in to Studio…</p>"),
                    );
                    r.headers_mut().insert(
                        header::LOCATION,
                        HeaderValue::from_static(studio::HOME_PATH),
                    );
                    let cookie = format!(
                        "{}={token}; Path=/studio/; HttpOnly; SameSite=Strict; Max-Age={}",
                        studio::COOKIE,
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
    };
    audit.status = response.status().as_u16();
    drop(state);
    app.store.audit(audit);
    response
}

async fn read_body(body: Body, headers: &HeaderMap) -> Result<Vec<u8>, ApiError> {
    let too_large = || {
        ApiError::new(
            "RequestEntityTooLarge",
            413,
            format!("Request body must be at most {MAX_BODY_BYTES} bytes."),
        )
    };
    if let Some(length) = header_str(headers, "content-length").and_then(|l| l.parse::<u64>().ok())
        && length > MAX_BODY_BYTES as u64
    {
        return Err(too_large());
    }
    match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => Ok(collected.to_bytes().to_vec()),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(too_large())
        }
        Err(_) => Err(ApiError::new(
            "MalformedQueryString",
            400,
            "The request body could not be read.",
        )),
    }
}

#[allow(clippy::too_many_arguments)]
async fn serve(
    app: &App,
    parts: &axum::http::request::Parts,
    body: Body,
    peer: SocketAddr,
    request_id: &str,
    protocol: &mut Protocol,
    audit: &mut AuditRecord,
) -> Result<(Vec<u8>, bool), ApiError> {
    let body = read_body(body, &parts.headers).await?;
    let now = now_unix();

    // Authentication.
    let headers: Vec<(&str, &[u8])> = parts
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_bytes()))
        .collect();
    let signed = rolewright_sigv4::Request {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        headers: &headers,
        body: &body,
    };
    let authorization = rolewright_sigv4::parse_authorization(&signed)
        .map_err(|e| auth_error(e.kind(), e.to_string()))?;
    let (secret, caller) = {
        let state = app.store.read();
        auth::lookup(&state, &authorization, now)?
    };
    let key = rolewright_sigv4::signing_key(
        &secret,
        &authorization.date,
        &authorization.region,
        &authorization.service,
    );
    rolewright_sigv4::verify(&signed, &authorization, &key, now)
        .map_err(|e| auth_error(e.kind(), e.to_string()))?;
    audit.principal = Some(caller.arn.clone());
    if let auth::Identity::Session { role, .. } = &caller.identity {
        app.note_role_used(role, now, &authorization.region);
    }
    audit.service = Some(authorization.service.clone());

    // Routing.
    let cbor_target = cbor_target(parts, &body)?;
    let target = cbor_target
        .as_deref()
        .or_else(|| header_str(&parts.headers, "x-amz-target"));
    if let Some(target) = target {
        *protocol = if cbor_target.is_some() {
            Protocol::Cbor
        } else {
            Protocol::Json
        };
        let Some((service, operation)) = json::parse_target(target) else {
            return Err(ApiError::new(
                "UnknownOperationException",
                400,
                format!("Unknown operation {target}"),
            ));
        };
        let (service, operation) = (service.to_string(), operation.to_string());
        audit.action = Some(format!("{service}:{operation}"));
        if authorization.service != service {
            return Err(ApiError::new(
                "InvalidSignatureException",
                400,
                format!("Credential should be scoped to correct service: '{service}'. ",),
            ));
        }
        // Only Service Catalog is routed to over rpcv2Cbor (`cbor_target`).
        let model = ServiceModel::servicecatalog();
        let input = match protocol {
            Protocol::Cbor => cbor::decode_input(model, &operation, &body)?,
            _ => json::parse_input(&body)?,
        };
        let mut cx = Cx {
            app,
            caller,
            facts: RequestFacts {
                now,
                source_ip: peer.ip().to_string(),
                region: authorization.region.clone(),
            },
            request_id: request_id.to_string(),
            op: operation.clone(),
            host: header_str(&parts.headers, "host")
                .unwrap_or("127.0.0.1")
                .to_string(),
            audit: std::mem::take(audit),
            audited: false,
        };
        let reply = match service.as_str() {
            "sagemaker" => sagemaker::dispatch(&mut cx, &operation, input).await,
            "servicecatalog" => servicecatalog::dispatch(&mut cx, &operation, input).await,
            _ => Err(ApiError::new(
                "UnknownOperationException",
                400,
                format!("The operation {operation} is not served by this endpoint yet"),
            )),
        };
        *audit = std::mem::take(&mut cx.audit);
        let body = match (reply?, *protocol) {
            (Reply::Json(value), Protocol::Cbor) => cbor::encode_output(model, &operation, &value),
            (Reply::Empty, Protocol::Cbor) => cbor::encode_output(model, &operation, &json!({})),
            (Reply::Json(value), _) => value.to_string().into_bytes(),
            (Reply::Empty, _) => b"{}".to_vec(),
            (Reply::Xml(_), _) => return Err(ApiError::service_failure()),
        };
        return Ok((body, cx.audited));
    }
    let namespace = match authorization.service.as_str() {
        "sts" => STS_NAMESPACE,
        _ => IAM_NAMESPACE,
    };
    *protocol = Protocol::Query(namespace);
    let mut pairs = parse_form(parts.uri.query().unwrap_or("").as_bytes())?;
    if !body.is_empty() {
        let content_type = header_str(&parts.headers, "content-type").unwrap_or("");
        if !content_type
            .to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
        {
            return Err(ApiError::new(
                "InvalidParameterValue",
                400,
                format!(
                    "The query protocol takes a form body (Content-Type: application/x-www-form-urlencoded), not `{}`",
                    content_type.chars().take(100).collect::<String>()
                ),
            ));
        }
        pairs.extend(parse_form(&body)?);
    }
    let mut params = Params::new(pairs);
    let Some(action) = params.get("Action").map(str::to_string) else {
        return Err(ApiError::new(
            "MissingAction",
            400,
            "The request must contain the parameter Action.",
        ));
    };
    let (service, version) = match authorization.service.as_str() {
        "iam" => ("iam", "2010-05-08"),
        "sts" => ("sts", "2011-06-15"),
        other => {
            return Err(ApiError::new(
                "InvalidAction",
                400,
                format!("The query protocol is not served for `{other}`"),
            ));
        }
    };
    if let Some(given) = params.get("Version")
        && given != version
    {
        return Err(ApiError::new(
            "InvalidAction",
            400,
            format!(
                "Could not find operation {} for version {}",
                action.chars().take(64).collect::<String>(),
                given.chars().take(32).collect::<String>()
            ),
        ));
    }
    audit.action = Some(format!("{service}:{action}"));
    let mut cx = Cx {
        app,
        caller,
        facts: RequestFacts {
            now,
            source_ip: peer.ip().to_string(),
            region: authorization.region.clone(),
        },
        request_id: request_id.to_string(),
        op: action.clone(),
        host: header_str(&parts.headers, "host")
            .unwrap_or("127.0.0.1")
            .to_string(),
        audit: std::mem::take(audit),
        audited: false,
    };
    let reply = match service {
        "sts" => sts::dispatch(&mut cx, &action, &mut params).await,
        _ => iam::dispatch(&mut cx, &action, &mut params).await,
    };
    // Keep what authorization recorded, whatever the outcome.
    *audit = std::mem::take(&mut cx.audit);
    let reply = reply?;
    let body = match reply {
        Reply::Xml(writer) => writer.wrap(&action, namespace, request_id),
        Reply::Empty => xml::empty_response(&action, namespace, request_id),
        Reply::Json(_) => return Err(ApiError::service_failure()),
    };
    Ok((body.into_bytes(), cx.audited))
}

/// An unknown query action.
pub fn invalid_action(action: &str, version: &str) -> ApiError {
    ApiError::new(
        "InvalidAction",
        400,
        format!(
            "Could not find operation {} for version {version}",
            action.chars().take(64).collect::<String>()
        ),
    )
}
