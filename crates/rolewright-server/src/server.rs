//! What every operation is served with: the shared state ([`App`]), the request context
//! ([`Cx`]) through which handlers authorize with the engine, record each decision for the
//! audit log and write durably, and the reply before its protocol renders it.

use std::time::{SystemTime, UNIX_EPOCH};

use rolewright_iam::RequestContext;

use crate::audit::{AuditDecision, AuditRecord};
use crate::auth::Caller;
use crate::authz::{self, PolicyCache, RequestFacts};
use crate::error::ApiError;
use crate::model::{Change, State};
use crate::store::{Durability, Store, lock};
use crate::wire::xml::XmlWriter;

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
    /// SigV4 signing keys already derived, by secret and scope (a key is valid for a day).
    pub signing_keys: SigningKeys,
    /// The `Arc` this lives in, for work that outlives the request that started it.
    pub me: std::sync::Weak<App>,
    /// What a template URL may not name: the data directory (its database, credentials file
    /// and master key) and the master key file, canonical.
    pub private_paths: Vec<std::path::PathBuf>,
}

/// Why a template file was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateFileError {
    /// It is in the data directory or is the master key.
    Private,
    /// It is larger than allowed (its size).
    TooLarge(u64),
    /// It cannot be read (the reason).
    Unreadable(String),
}

impl std::fmt::Display for TemplateFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TemplateFileError::Private => f.write_str(
                "it is one of rolewright's own files (its data directory or master key), which \
                 are never read as templates",
            ),
            TemplateFileError::TooLarge(size) => write!(f, "it is {size} bytes"),
            TemplateFileError::Unreadable(e) => f.write_str(e),
        }
    }
}

/// SigV4 signing keys by (secret, date, region, service): deriving one takes four HMACs, and
/// a client signs every request of a day with the same. Bounded; emptied when full.
#[derive(Default)]
pub struct SigningKeys(std::sync::Mutex<std::collections::HashMap<[String; 4], [u8; 32]>>);

impl SigningKeys {
    /// The most keys kept.
    const CAPACITY: usize = 4096;

    /// The signing key of `secret` for the scope, derived once.
    pub fn get(&self, secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
        let scope = [
            secret.to_string(),
            date.to_string(),
            region.to_string(),
            service.to_string(),
        ];
        if let Some(key) = lock(&self.0).get(&scope) {
            return *key;
        }
        let key = rolewright_sigv4::signing_key(secret, date, region, service);
        let mut keys = lock(&self.0);
        if keys.len() >= Self::CAPACITY {
            keys.clear();
        }
        keys.insert(scope, key);
        key
    }
}

impl App {
    /// Reads a template a request names by a `file://` URL or a local path, of at most `max`
    /// bytes. The server's own files (the data directory, the master key) are never read,
    /// whoever asks.
    pub fn read_template_file(&self, path: &str, max: u64) -> Result<String, TemplateFileError> {
        let path = path.strip_prefix("file://").unwrap_or(path);
        let io = |e: std::io::Error| TemplateFileError::Unreadable(e.to_string());
        let real = std::fs::canonicalize(path).map_err(io)?;
        if self.private_paths.iter().any(|p| real.starts_with(p)) {
            return Err(TemplateFileError::Private);
        }
        let size = std::fs::metadata(&real).map_err(io)?.len();
        if size > max {
            return Err(TemplateFileError::TooLarge(size));
        }
        std::fs::read_to_string(&real).map_err(io)
    }

    /// Runs `work` on its own task with a handle on the state, after the request that started
    /// it has answered (Service Catalog's provisioning).
    pub fn spawn<F, Fut>(&self, work: F)
    where
        F: FnOnce(std::sync::Arc<App>) -> Fut,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        if let Some(app) = self.me.upgrade() {
            tokio::spawn(work(app));
        }
    }

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

    /// Writes the noted last-used times into the roles (every minute and at shutdown). A time
    /// stays noted until a write that holds it is acknowledged, so a refused write (the
    /// database is down) loses nothing: the next one carries it.
    pub async fn persist_last_used(&self) {
        let noted: Vec<(String, (i64, String))> = {
            let map = lock(&self.last_used);
            map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
        };
        if noted.is_empty() {
            return;
        }
        let written = noted.clone();
        let stored = self
            .store
            .write(None, |state| {
                let mut changes = Vec::new();
                // Against the latest stored role (on a shared database, another replica may
                // have written it since): only this field changes, and never to an older time.
                for (key, used) in noted {
                    if let Some(role) = state.roles.get_mut(&key) {
                        if role
                            .last_used
                            .as_ref()
                            .is_some_and(|(when, _)| *when > used.0)
                        {
                            continue;
                        }
                        role.last_used = Some(used);
                        changes.push(Change::put(crate::model::kind::ROLE, key, role));
                    }
                }
                Ok(((), changes))
            })
            .await;
        if stored.is_ok() {
            let mut map = lock(&self.last_used);
            for (key, used) in written {
                // A use noted while the write was on its way stays for the next one.
                if map.get(&key).is_some_and(|now| now.0 <= used.0) {
                    map.remove(&key);
                }
            }
        }
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
    /// The decision the request's own audit line names: its first, unless a later one denied.
    headline: Option<usize>,
    audited: bool,
    /// How its writes are stored: synced unless it is a step of a longer operation.
    pub durability: Durability,
}

impl<'a> Cx<'a> {
    /// The context of a request by `caller`, whose audit record so far is `audit`.
    pub fn new(
        app: &'a App,
        caller: Caller,
        facts: RequestFacts,
        request_id: String,
        op: String,
        host: &str,
        audit: AuditRecord,
    ) -> Cx<'a> {
        Cx {
            app,
            caller,
            facts,
            request_id,
            op,
            host: host.to_string(),
            audit,
            headline: None,
            audited: false,
            durability: Durability::Sync,
        }
    }

    /// Whether the audit record was committed with the request's write.
    pub fn audited(&self) -> bool {
        self.audited
    }

    /// The audit record, with every decision recorded and the headline one named.
    pub fn into_audit(mut self) -> AuditRecord {
        self.name_headline();
        self.audit
    }

    /// Copies the headline decision into the request's own audit line.
    fn name_headline(&mut self) {
        let Some(d) = self.headline.and_then(|i| self.audit.decisions.get(i)) else {
            return;
        };
        let (action, resource) = (d.action.clone(), d.resource.clone());
        let (decision, reason) = (d.decision.clone(), d.reason.clone());
        self.audit.action = Some(action);
        self.audit.resource = Some(resource);
        self.audit.decision = decision;
        self.audit.reason = Some(reason);
    }

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
        if self.headline.is_none() || !allowed {
            self.headline = Some(self.audit.decisions.len());
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
        self.name_headline();
        let mut record = self.audit.clone();
        record.status = 200;
        let result = self
            .app
            .store
            .write_as(self.durability, Some(record), apply)
            .await;
        if result.is_ok() {
            self.audited = true;
        }
        result
    }

    /// This context with its writes [`Durability::Relaxed`]: for the steps of a longer
    /// operation (a stack's resource calls) whose own last write is synced.
    pub fn relaxed(mut self) -> Self {
        self.durability = Durability::Relaxed;
        self
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

/// Now, in seconds since the epoch.
pub(crate) fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Now, in milliseconds since the epoch.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
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
