//! Console actions as API calls: each one runs a service's own operation through its dispatch
//! function, as the signed-in principal, with the engine's authorization and the audit log's
//! record, exactly as a signed request would.

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use axum::http::header;
use axum::http::request::Parts;
use rolewright_server::audit::AuditRecord;
use rolewright_server::auth::Caller;
use rolewright_server::authz::RequestFacts;
use rolewright_server::error::ApiError;
use rolewright_server::server::{Cx, IAM_NAMESPACE, Reply, STS_NAMESPACE};
use rolewright_server::wire::query::Params;
use serde_json::Value;

use crate::Console;

/// What the audit log shows as the client of the console's calls.
const AGENT: &str = "rolewright-console";

/// Now, in seconds since the epoch.
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The browser's address, when the server was told it.
pub fn source_ip(parts: &Parts) -> Option<String> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
}

/// The signed-in principal of one console request, making calls.
pub struct Principal<'c> {
    console: &'c Console,
    /// Who is calling.
    pub caller: Caller,
    source_ip: Option<String>,
    host: String,
}

impl<'c> Principal<'c> {
    /// The principal `caller` calling from the browser of `parts`.
    pub fn new(console: &'c Console, caller: Caller, parts: &Parts) -> Principal<'c> {
        Principal {
            console,
            caller,
            source_ip: source_ip(parts),
            host: parts
                .headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("127.0.0.1")
                .to_string(),
        }
    }

    /// The principal `caller` calling from `source_ip` through `host`, outside any request (a
    /// job that goes on after its page has been answered).
    pub fn detached(
        console: &'c Console,
        caller: Caller,
        source_ip: Option<String>,
        host: String,
    ) -> Principal<'c> {
        Principal {
            console,
            caller,
            source_ip,
            host,
        }
    }

    /// Where the principal calls from and through, to make a [`Principal::detached`] later.
    pub fn origin(&self) -> (Option<String>, String) {
        (self.source_ip.clone(), self.host.clone())
    }

    /// Authorizes a console action that is no operation of the control plane (reading the
    /// audit log, simulating policies) as the engine authorizes a call: `action` on
    /// `resource`, decided on the principal's policies and recorded in the audit log.
    pub fn authorize(&self, action: &str, resource: &str) -> Result<(), ApiError> {
        let (service, op) = action.split_once(':').unwrap_or((action, action));
        let (mut cx, _) = self.cx(service, op);
        let result = {
            let state = self.console.app.store.read();
            cx.authorize(&state, action, resource, |_| {})
        };
        self.finish(cx, &result);
        result
    }

    /// The region the console's calls are made in.
    pub fn region(&self) -> String {
        self.console.settings.region.clone()
    }

    /// The account the principal belongs to.
    pub fn account(&self) -> &str {
        &self.caller.account
    }

    fn cx(&self, service: &str, op: &str) -> (Cx<'c>, String) {
        let request_id = rolewright_server::ids::request_id();
        let audit = AuditRecord {
            time_ms: now_ms(),
            request_id: request_id.clone(),
            principal: Some(self.caller.arn.clone()),
            source_ip: self.source_ip.clone(),
            service: Some(service.into()),
            action: Some(format!("{service}:{op}")),
            decision: "error".into(),
            user_agent: Some(AGENT.into()),
            ..AuditRecord::default()
        };
        let facts = RequestFacts {
            now: now_unix(),
            source_ip: self.source_ip.clone(),
            region: self.console.settings.region.clone(),
        };
        let cx = Cx::new(
            &self.console.app,
            self.caller.clone(),
            facts,
            request_id.clone(),
            op.to_string(),
            &self.host,
            audit,
        );
        (cx, request_id)
    }

    /// Writes the call's audit record, unless its write already committed it.
    fn finish<T>(&self, cx: Cx<'_>, result: &Result<T, ApiError>) {
        let audited = cx.audited();
        let mut record = cx.into_audit();
        if audited {
            return;
        }
        match result {
            Ok(_) => record.status = 200,
            Err(e) => {
                record.status = e.status;
                record.error_code = Some(e.code.to_string());
                if record.decision != "denied" {
                    record.reason = Some(e.message.chars().take(512).collect());
                }
            }
        }
        self.console.app.store.audit(record);
    }

    /// Runs one IAM operation; gives its XML answer (empty for an operation without output).
    pub async fn iam(&self, op: &str, pairs: &[(&str, &str)]) -> Result<String, ApiError> {
        let (mut cx, request_id) = self.cx("iam", op);
        let mut params = Params::new(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        let result = rolewright_server::iam::dispatch(&mut cx, op, &mut params).await;
        self.finish(cx, &result);
        result.map(|reply| render(reply, op, IAM_NAMESPACE, &request_id))
    }

    /// Runs one STS operation; gives its XML answer.
    pub async fn sts(&self, op: &str, pairs: &[(&str, &str)]) -> Result<String, ApiError> {
        let (mut cx, request_id) = self.cx("sts", op);
        let mut params = Params::new(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        let result = rolewright_server::sts::dispatch(&mut cx, op, &mut params).await;
        self.finish(cx, &result);
        result.map(|reply| render(reply, op, STS_NAMESPACE, &request_id))
    }

    /// Runs one CloudFormation operation; gives its XML answer.
    pub async fn cloudformation(
        &self,
        op: &str,
        pairs: &[(&str, &str)],
    ) -> Result<String, ApiError> {
        let (mut cx, request_id) = self.cx("cloudformation", op);
        let mut params = Params::new(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        let result = rolewright_server::cloudformation::dispatch(&mut cx, op, &mut params).await;
        self.finish(cx, &result);
        result.map(|reply| {
            render(
                reply,
                op,
                rolewright_server::cloudformation::NAMESPACE,
                &request_id,
            )
        })
    }

    /// Runs one SageMaker operation on its JSON input; gives its JSON answer (`null` for an
    /// operation without output).
    pub async fn sagemaker(&self, op: &str, input: Value) -> Result<Value, ApiError> {
        let (mut cx, _) = self.cx("sagemaker", op);
        let result = rolewright_server::sagemaker::dispatch(&mut cx, op, input).await;
        self.finish(cx, &result);
        result.map(json_of)
    }

    /// Runs one Service Catalog operation on its JSON input; gives its JSON answer.
    pub async fn servicecatalog(&self, op: &str, input: Value) -> Result<Value, ApiError> {
        let (mut cx, _) = self.cx("servicecatalog", op);
        let result = rolewright_server::servicecatalog::dispatch(&mut cx, op, input).await;
        self.finish(cx, &result);
        result.map(json_of)
    }

    /// Records a console event that is no API call (signing out) in the audit log.
    pub fn note(&self, action: &str, reason: &str) {
        let (service, _) = action.split_once(':').unwrap_or((action, ""));
        let op = action.split_once(':').map_or(action, |(_, op)| op);
        let (mut cx, _) = self.cx(service, op);
        cx.note_allowed(action, reason);
        self.finish(cx, &Ok::<(), ApiError>(()));
    }
}

/// An operation's answer as its protocol renders it.
fn render(reply: Reply, op: &str, namespace: &str, request_id: &str) -> String {
    match reply {
        Reply::Xml(writer) => writer.wrap(op, namespace, request_id),
        Reply::Json(value) => value.to_string(),
        Reply::Empty => String::new(),
    }
}

/// A JSON operation's answer.
fn json_of(reply: Reply) -> Value {
    match reply {
        Reply::Json(value) => value,
        Reply::Xml(_) | Reply::Empty => Value::Null,
    }
}
