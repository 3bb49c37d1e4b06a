//! The HTTP front, `app(state) -> Router`: reads each request within a size limit, verifies
//! its signature, routes it by protocol (query `Action`, JSON `X-Amz-Target` or the rpcv2Cbor
//! path) to its service's operation table, renders the reply or AWS's error shape, and logs it
//! to the audit log.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, State as AxumState};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use axum::response::IntoResponse;
use http_body_util::{BodyExt, Limited};
use tracing::Instrument as _;

use crate::audit::AuditRecord;
use crate::auth::{self, Caller, auth_error};
use crate::authz::RequestFacts;
use crate::error::ApiError;
use crate::server::{
    App, Cx, IAM_NAMESPACE, MAX_BODY_BYTES, Reply, STS_NAMESPACE, now_ms, now_unix,
};
use crate::service_model::ServiceModel;
use crate::wire::query::{Params, parse_form};
use crate::wire::xml;
use crate::wire::{cbor, json};
use crate::{cloudformation, iam, sagemaker, servicecatalog, sts, studio};

/// The control plane as an axum router: every path is served by [`handle`].
pub fn app(state: Arc<App>) -> Router {
    Router::new().fallback(handle).with_state(state)
}

/// How a request expects its reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// AWS query: a form in, XML out, in this namespace.
    Query(&'static str),
    /// AWS JSON 1.1.
    Json,
    /// Smithy RPC v2 CBOR: the JSON 1.1 operations with CBOR bodies.
    Cbor,
}

impl Protocol {
    /// The protocol a request speaks, from its path, target header and signing scope, before
    /// its signature is checked (errors of authentication are answered in it too).
    fn of(path: &str, headers: &HeaderMap) -> Protocol {
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
            Some("cloudformation") => Protocol::Query(cloudformation::NAMESPACE),
            _ => Protocol::Query(IAM_NAMESPACE),
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Protocol::Query(_) => "text/xml",
            Protocol::Json => "application/x-amz-json-1.1",
            Protocol::Cbor => cbor::CONTENT_TYPE,
        }
    }
}

/// A request's failure on its way out: AWS's error, in the request's protocol.
#[derive(Debug)]
pub struct ErrorReply {
    /// The protocol to answer in.
    pub protocol: Protocol,
    /// The error.
    pub error: ApiError,
    /// The request id, echoed in the body and `x-amzn-RequestId`.
    pub request_id: String,
}

impl IntoResponse for ErrorReply {
    fn into_response(self) -> Response<Body> {
        let ErrorReply {
            protocol,
            error,
            request_id,
        } = self;
        let (status, body) = match protocol {
            Protocol::Query(namespace) => (
                error.status,
                xml::error_document(&error, namespace, &request_id),
            ),
            Protocol::Json => (error.json_status(), json::error_body(&error)),
            Protocol::Cbor => (cbor::error_status(&error), String::new()),
        };
        let body = match protocol {
            Protocol::Cbor => cbor::error_body(&error),
            _ => body.into_bytes(),
        };
        let mut response = reply(protocol, body, &request_id);
        *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
        if protocol == Protocol::Json
            && let Ok(v) = HeaderValue::from_str(error.json_code())
        {
            response.headers_mut().insert("x-amzn-errortype", v);
        }
        response
    }
}

/// A response in `protocol` with its content type and the request id.
fn reply(protocol: Protocol, body: Vec<u8>, request_id: &str) -> Response<Body> {
    let mut r = Response::new(Body::from(body));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(protocol.content_type()),
    );
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

pub(crate) fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The client's address, when the server was told it (`into_make_service_with_connect_info`).
fn peer_of(request: &axum::extract::Request) -> Option<SocketAddr> {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
}

/// Serves one HTTP request.
pub async fn handle(
    AxumState(app): AxumState<Arc<App>>,
    request: axum::extract::Request,
) -> Response<Body> {
    let request_id = crate::ids::request_id();
    let peer = peer_of(&request);
    let (parts, body) = request.into_parts();
    let mut audit = AuditRecord {
        time_ms: now_ms(),
        request_id: request_id.clone(),
        source_ip: peer.map(|p| p.ip().to_string()),
        decision: "error".into(),
        user_agent: header_str(&parts.headers, "user-agent").map(|s| s.chars().take(256).collect()),
        ..AuditRecord::default()
    };
    if parts.method == axum::http::Method::GET && parts.uri.path() == "/health" {
        // For load balancers: not audited, no authentication, no secrets.
        return health(&app);
    }
    if parts.method == axum::http::Method::GET && parts.uri.path().starts_with("/studio/") {
        let response = studio::serve_page(&app, &parts, &mut audit);
        audit.status = response.status().as_u16();
        app.store.audit(audit);
        return response;
    }
    let mut protocol = Protocol::of(parts.uri.path(), &parts.headers);
    let span = tracing::info_span!("request", request_id = %request_id);
    let outcome = serve(&app, &parts, body, &mut protocol, &mut audit)
        .instrument(span.clone())
        .await;
    let _entered = span.enter();
    let (response, audited) = match outcome {
        Ok((body, audited)) => (reply(protocol, body, &request_id), audited),
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
            let failure = ErrorReply {
                protocol,
                error,
                request_id: request_id.clone(),
            };
            (failure.into_response(), false)
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

/// `GET /health`: `{"status": "ok"|"degraded", "database": "up"|"down", "applied_seq": N,
/// "lag_ms": N}`, 200 when ok, 503 when degraded (the database cannot be reached, so writes are
/// refused; reads from memory go on).
fn health(app: &App) -> Response<Body> {
    let health = app.store.health();
    let ok = health.database_up;
    let body = serde_json::json!({
        "status": if ok { "ok" } else { "degraded" },
        "database": if health.database_up { "up" } else { "down" },
        "applied_seq": health.applied_seq,
        "lag_ms": health.lag_ms,
    });
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The signing scope and caller of a request whose signature verified.
struct Authenticated {
    caller: Caller,
    /// The scope's service (`iam`, `sagemaker`).
    service: String,
    /// The scope's region.
    region: String,
}

/// Verifies the request's SigV4 signature with the secret of its access key or session. A key
/// this replica does not know may have been made on another a moment ago: it catches up from
/// the database before refusing (and answers `ServiceUnavailable` when it cannot ask).
async fn authenticate(
    app: &App,
    parts: &Parts,
    body: &[u8],
    now: i64,
) -> Result<Authenticated, ApiError> {
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
        body,
    };
    let authorization = rolewright_sigv4::parse_authorization(&signed)
        .map_err(|e| auth_error(e.kind(), e.to_string()))?;
    let looked_up = {
        let state = app.store.read();
        auth::lookup(&state, &authorization, now)
    };
    let (secret, caller) = match looked_up {
        Err(error) if error.code == "InvalidClientTokenId" && app.store.is_shared() => {
            // Looked up again even when the catch-up found nothing new: the replica may have
            // caught up between the first look and this one.
            if app.store.catch_up().await.is_err() {
                return Err(ApiError::service_unavailable());
            }
            let state = app.store.read();
            auth::lookup(&state, &authorization, now)?
        }
        other => other?,
    };
    let key = app.signing_keys.get(
        &secret,
        &authorization.date,
        &authorization.region,
        &authorization.service,
    );
    rolewright_sigv4::verify(&signed, &authorization, &key, now)
        .map_err(|e| auth_error(e.kind(), e.to_string()))?;
    Ok(Authenticated {
        caller,
        service: authorization.service,
        region: authorization.region,
    })
}

/// The JSON 1.1 target an rpcv2Cbor request stands for
/// (`/service/AWS242ServiceCatalogService/operation/CreatePortfolio` →
/// `AWS242ServiceCatalogService.CreatePortfolio`), once the protocol's method and headers are
/// checked; `None` for a request of another protocol.
fn cbor_target(parts: &Parts, body: &[u8]) -> Result<Option<String>, ApiError> {
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

/// A request routed to one operation of one service, its input decoded.
struct Routed {
    service: &'static str,
    operation: String,
    input: Input,
}

/// The errors that say an entity does not exist, after which a replica catches up and serves
/// the request again.
const NOT_FOUND: &[&str] = &[
    "NoSuchEntity",
    "ResourceNotFound",
    "ResourceNotFoundException",
];

/// Runs an operation of a service.
async fn dispatch(
    cx: &mut Cx<'_>,
    operation: &str,
    service: &str,
    input: Input,
) -> Result<Reply, ApiError> {
    match (service, input) {
        ("iam", Input::Query(mut params)) => iam::dispatch(cx, operation, &mut params).await,
        ("sts", Input::Query(mut params)) => sts::dispatch(cx, operation, &mut params).await,
        ("cloudformation", Input::Query(mut params)) => {
            cloudformation::dispatch(cx, operation, &mut params).await
        }
        ("sagemaker", Input::Json(value)) => sagemaker::dispatch(cx, operation, value).await,
        ("servicecatalog", Input::Json(value)) => {
            servicecatalog::dispatch(cx, operation, value).await
        }
        (service, _) => Err(ApiError::new(
            "UnknownOperationException",
            400,
            format!("The operation {operation} is not served for `{service}` by this endpoint"),
        )),
    }
}

/// An operation's input as its protocol carries it.
enum Input {
    Query(Params),
    Json(serde_json::Value),
}

/// Finds the service and operation a signed request is for, and decodes its input.
fn route(
    parts: &Parts,
    body: &[u8],
    signed_service: &str,
    protocol: &mut Protocol,
) -> Result<Routed, ApiError> {
    let cbor_target = cbor_target(parts, body)?;
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
        if signed_service != service {
            return Err(ApiError::new(
                "InvalidSignatureException",
                400,
                format!("Credential should be scoped to correct service: '{service}'. "),
            ));
        }
        let input = match protocol {
            // Only Service Catalog is routed to over rpcv2Cbor (`cbor_target`).
            Protocol::Cbor => cbor::decode_input(ServiceModel::servicecatalog(), operation, body)?,
            _ => json::parse_input(body)?,
        };
        return Ok(Routed {
            service,
            operation: operation.to_string(),
            input: Input::Json(input),
        });
    }
    let (service, namespace, version) = match signed_service {
        "iam" => ("iam", IAM_NAMESPACE, "2010-05-08"),
        "sts" => ("sts", STS_NAMESPACE, "2011-06-15"),
        "cloudformation" => (
            "cloudformation",
            cloudformation::NAMESPACE,
            cloudformation::VERSION,
        ),
        other => {
            return Err(ApiError::new(
                "InvalidAction",
                400,
                format!("The query protocol is not served for `{other}`"),
            ));
        }
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
        pairs.extend(parse_form(body)?);
    }
    let params = Params::new(pairs);
    let Some(action) = params.get("Action").map(str::to_string) else {
        return Err(ApiError::new(
            "MissingAction",
            400,
            "The request must contain the parameter Action.",
        ));
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
    Ok(Routed {
        service,
        operation: action,
        input: Input::Query(params),
    })
}

/// Authenticates, routes, runs and renders one request; returns the body and whether the
/// audit record was committed with the request's write.
async fn serve(
    app: &App,
    parts: &Parts,
    body: Body,
    protocol: &mut Protocol,
    audit: &mut AuditRecord,
) -> Result<(Vec<u8>, bool), ApiError> {
    let body = read_body(body, &parts.headers).await?;
    let now = now_unix();
    // A change another replica announced a moment ago is applied before this request is served.
    app.store.settle().await;
    let signed = authenticate(app, parts, &body, now).await?;
    audit.principal = Some(signed.caller.arn.clone());
    if let auth::Identity::Session { role, .. } = &signed.caller.identity {
        app.note_role_used(role, now, &signed.region);
    }
    audit.service = Some(signed.service.clone());
    let mut routed = route(parts, &body, &signed.service, protocol)?;
    audit.action = Some(format!("{}:{}", routed.service, routed.operation));
    let facts = RequestFacts {
        now,
        source_ip: audit.source_ip.clone(),
        region: signed.region,
    };
    let host = header_str(&parts.headers, "host").unwrap_or("127.0.0.1");
    let base_audit = std::mem::take(audit);
    let mut retried = false;
    let (reply, cx) = loop {
        let seen = app.store.health().applied_seq;
        let mut cx = Cx::new(
            app,
            signed.caller.clone(),
            facts.clone(),
            base_audit.request_id.clone(),
            routed.operation.clone(),
            host,
            base_audit.clone(),
        );
        let reply = dispatch(&mut cx, &routed.operation, routed.service, routed.input).await;
        // On a shared database, an entity made on another replica a moment ago may not be here
        // yet: catch up, and when that brought anything, serve the request again (once). A
        // request refused as not found has changed nothing. When the database cannot be asked,
        // "not found" may be wrong, so the answer is that the service is unavailable.
        let not_found = matches!(&reply, Err(e) if NOT_FOUND.contains(&e.code));
        if retried || !not_found || !app.store.is_shared() {
            break (reply, cx);
        }
        retried = true;
        if app.store.catch_up().await.is_err() {
            break (Err(ApiError::service_unavailable()), cx);
        }
        if app.store.health().applied_seq == seen {
            break (reply, cx);
        }
        routed = route(parts, &body, &signed.service, protocol)?;
    };
    // Keep what authorization recorded, whatever the outcome.
    let audited = cx.audited();
    *audit = cx.into_audit();
    let body = match (reply?, *protocol) {
        (Reply::Xml(writer), Protocol::Query(namespace)) => {
            writer.wrap(&routed.operation, namespace, &audit.request_id)
        }
        (Reply::Empty, Protocol::Query(namespace)) => {
            xml::empty_response(&routed.operation, namespace, &audit.request_id)
        }
        (Reply::Json(value), Protocol::Json) => value.to_string(),
        (Reply::Empty, Protocol::Json) => "{}".to_string(),
        (reply @ (Reply::Json(_) | Reply::Empty), Protocol::Cbor) => {
            let value = match reply {
                Reply::Json(value) => value,
                _ => serde_json::json!({}),
            };
            let model = ServiceModel::servicecatalog();
            return Ok((
                cbor::encode_output(model, &routed.operation, &value),
                audited,
            ));
        }
        _ => return Err(ApiError::service_failure()),
    };
    Ok((body.into_bytes(), audited))
}
