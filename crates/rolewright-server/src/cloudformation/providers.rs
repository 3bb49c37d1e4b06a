//! Resource providers: each creates and deletes its type through the same IAM or SageMaker
//! operations a direct API call runs (`iam::dispatch`, `sagemaker::dispatch`), as the stack's
//! principal, so that authorization, validation (`iam:PassRole` included) and the audit log are
//! the normal ones.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::audit::AuditRecord;
use crate::auth::Caller;
use crate::authz::RequestFacts;
use crate::error::ApiError;
use crate::ids;
use crate::server::{App, Cx, Reply, now_ms};
use crate::wire::query::Params;

/// The types the control plane provisions in a stack.
pub const PROVIDED_TYPES: &[&str] = &[
    "AWS::IAM::AccessKey",
    "AWS::IAM::Group",
    "AWS::IAM::InstanceProfile",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::Policy",
    "AWS::IAM::Role",
    "AWS::IAM::User",
    "AWS::SageMaker::App",
    "AWS::SageMaker::Domain",
    "AWS::SageMaker::Space",
    "AWS::SageMaker::UserProfile",
    "AWS::ServiceCatalog::AcceptedPortfolioShare",
    "AWS::ServiceCatalog::CloudFormationProduct",
    "AWS::ServiceCatalog::LaunchRoleConstraint",
    "AWS::ServiceCatalog::Portfolio",
    "AWS::ServiceCatalog::PortfolioPrincipalAssociation",
    "AWS::ServiceCatalog::PortfolioProductAssociation",
];

/// Attributes that hold secrets: given to the template while the stack runs, never stored with
/// the stack (an access key's secret is read from the key itself when needed again).
const SECRET_ATTRIBUTES: &[&str] = &["SecretAccessKey"];

/// A resource's attributes as the stack stores them: without secrets.
pub fn storable(attributes: &BTreeMap<String, Value>) -> BTreeMap<String, Value> {
    attributes
        .iter()
        .filter(|(k, _)| !SECRET_ATTRIBUTES.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// A stored resource's attributes with its secrets read back from the state.
pub fn live_attributes(
    state: &crate::model::State,
    type_name: &str,
    physical_id: &str,
    stored: &BTreeMap<String, Value>,
) -> BTreeMap<String, Value> {
    let mut out = stored.clone();
    if type_name == "AWS::IAM::AccessKey"
        && let Some(key) = state.access_keys.get(physical_id)
    {
        out.insert("SecretAccessKey".into(), Value::String(key.secret.clone()));
    }
    out
}

/// A type no provider makes.
pub fn unrecognized(type_name: &str) -> ApiError {
    ApiError::new(
        "ValidationError",
        400,
        format!("Unrecognized resource types: [{type_name}]"),
    )
}

/// Whether the control plane provisions `type_name`.
pub fn provides(type_name: &str) -> bool {
    PROVIDED_TYPES.contains(&type_name)
}

/// Who a stack's resources are created as, and the request they are created for.
pub struct Principal<'a> {
    /// Shared state.
    pub app: &'a App,
    /// The stack's role session, or the caller.
    pub caller: Caller,
    /// The request's facts.
    pub facts: RequestFacts,
    /// The CloudFormation request's id, which every resource call's audit record carries.
    pub request_id: String,
    /// The host the client addressed.
    pub host: String,
    /// The service making the calls, as the audit log's user agent shows it.
    pub agent: &'static str,
}

impl Principal<'_> {
    /// A request context for one operation of `service` run as the principal.
    pub fn cx(&self, service: &str, op: &str) -> Cx<'_> {
        let audit = AuditRecord {
            time_ms: now_ms(),
            request_id: self.request_id.clone(),
            principal: Some(self.caller.arn.clone()),
            source_ip: self.facts.source_ip.clone(),
            service: Some(service.into()),
            action: Some(format!("{service}:{op}")),
            decision: "error".into(),
            user_agent: Some(self.agent.into()),
            ..AuditRecord::default()
        };
        // A step of the stack's operation: synced with the operation's last write.
        Cx::new(
            self.app,
            self.caller.clone(),
            self.facts.clone(),
            self.request_id.clone(),
            op.to_string(),
            &self.host,
            audit,
        )
        .relaxed()
    }

    /// Runs one IAM operation as the principal, and logs it to the audit log as its own call.
    pub async fn call(&self, op: &str, pairs: Vec<(String, String)>) -> Result<(), ApiError> {
        let mut cx = self.cx("iam", op);
        let mut params = Params::new(pairs);
        let result = crate::iam::dispatch(&mut cx, op, &mut params).await;
        self.finish(cx, &result);
        result.map(|_| ())
    }

    /// Runs one SageMaker operation on its JSON input as the principal, logged as its own call;
    /// gives its JSON output (`{}` for an operation without one).
    pub async fn call_sagemaker(&self, op: &str, input: Value) -> Result<Value, ApiError> {
        let mut cx = self.cx("sagemaker", op);
        let result = crate::sagemaker::dispatch(&mut cx, op, input).await;
        self.finish(cx, &result);
        result.map(|reply| match reply {
            Reply::Json(value) => value,
            _ => Value::Object(Map::new()),
        })
    }

    /// Runs one Service Catalog operation on its JSON input as the principal, logged as its own
    /// call; gives its JSON output.
    pub async fn call_servicecatalog(&self, op: &str, input: Value) -> Result<Value, ApiError> {
        let mut cx = self.cx("servicecatalog", op);
        let result = crate::servicecatalog::dispatch(&mut cx, op, input).await;
        self.finish(cx, &result);
        result.map(|reply| match reply {
            Reply::Json(value) => value,
            _ => Value::Object(Map::new()),
        })
    }

    /// Audits a call the operation did not audit itself.
    pub fn finish<T>(&self, cx: Cx<'_>, result: &Result<T, ApiError>) {
        let audited = cx.audited();
        let mut record = cx.into_audit();
        if !audited {
            match &result {
                Ok(_) => record.status = 200,
                Err(e) => {
                    record.status = e.status;
                    record.error_code = Some(e.code.to_string());
                    if record.decision != "denied" {
                        record.reason = Some(e.message.chars().take(512).collect());
                    }
                }
            }
            self.app.store.audit(record);
        }
    }

    /// [`Principal::call`] where an entity already gone counts as done (deletions).
    async fn call_gone_ok(&self, op: &str, pairs: Vec<(String, String)>) -> Result<(), ApiError> {
        match self.call(op, pairs).await {
            Err(e) if e.code == "NoSuchEntity" => Ok(()),
            other => other,
        }
    }
}

/// A resource created: what `Ref` and `Fn::GetAtt` of it return.
#[derive(Debug, Clone, PartialEq)]
pub struct Created {
    /// The physical id.
    pub physical_id: String,
    /// The attributes.
    pub attributes: BTreeMap<String, Value>,
}

/// Query parameters being built.
#[derive(Default)]
struct Pairs(Vec<(String, String)>);

impl Pairs {
    fn add(mut self, name: &str, value: impl Into<String>) -> Pairs {
        self.0.push((name.to_string(), value.into()));
        self
    }

    fn opt(self, name: &str, value: Option<String>) -> Pairs {
        match value {
            Some(v) => self.add(name, v),
            None => self,
        }
    }

    fn tags(mut self, tags: Option<&Value>) -> Pairs {
        for (i, tag) in items(tags).iter().enumerate() {
            let n = i + 1;
            self.0.push((
                format!("Tags.member.{n}.Key"),
                text(tag.get("Key").unwrap_or(&Value::Null)),
            ));
            self.0.push((
                format!("Tags.member.{n}.Value"),
                text(tag.get("Value").unwrap_or(&Value::Null)),
            ));
        }
        self
    }
}

/// A property as the query protocol carries it: scalars as text, documents as JSON.
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

fn prop(props: &Map<String, Value>, name: &str) -> Option<String> {
    props.get(name).map(text)
}

fn items(value: Option<&Value>) -> Vec<Value> {
    match value {
        Some(Value::Array(items)) => items.clone(),
        Some(Value::Null) | None => Vec::new(),
        Some(other) => vec![other.clone()],
    }
}

fn texts(value: Option<&Value>) -> Vec<String> {
    items(value).iter().map(text).collect()
}

/// The name CloudFormation gives a resource without a custom one: `STACK-LOGICALID-SUFFIX`,
/// the stack name and logical id shortened to fit `max`.
pub fn generated_name(stack: &str, logical_id: &str, max: usize) -> String {
    let suffix: String = ids::unique_id("").chars().take(12).collect();
    let budget = max.saturating_sub(suffix.len() + 2);
    let logical_len = logical_id
        .len()
        .min((budget / 2).max(budget.saturating_sub(stack.len())));
    let logical: String = logical_id.chars().take(logical_len).collect();
    let stack: String = stack
        .chars()
        .take(budget.saturating_sub(logical.len()))
        .collect();
    format!("{stack}-{logical}-{suffix}")
}

/// What a resource is created for: the stack and the logical id (for generated names).
pub struct Naming<'n> {
    /// The stack's name.
    pub stack_name: &'n str,
    /// The resource's logical id.
    pub logical_id: &'n str,
}

impl Naming<'_> {
    fn name(&self, props: &Map<String, Value>, property: &str, max: usize) -> String {
        prop(props, property)
            .unwrap_or_else(|| generated_name(self.stack_name, self.logical_id, max))
    }
}

/// Creates a resource of a provided type; a failure leaves nothing of it behind.
pub async fn create(
    p: &Principal<'_>,
    naming: &Naming<'_>,
    type_name: &str,
    props: &Map<String, Value>,
) -> Result<Created, ApiError> {
    match type_name {
        "AWS::IAM::Role" => create_holder(p, naming, Holder::Role, props).await,
        "AWS::IAM::User" => create_holder(p, naming, Holder::User, props).await,
        "AWS::IAM::Group" => create_holder(p, naming, Holder::Group, props).await,
        "AWS::IAM::ManagedPolicy" => create_managed_policy(p, naming, props).await,
        "AWS::IAM::Policy" => create_inline_policy(p, naming, props).await,
        "AWS::IAM::InstanceProfile" => create_instance_profile(p, naming, props).await,
        "AWS::SageMaker::Domain"
        | "AWS::SageMaker::UserProfile"
        | "AWS::SageMaker::Space"
        | "AWS::SageMaker::App" => create_studio(p, type_name, props).await,
        "AWS::IAM::AccessKey" => create_access_key(p, props).await,
        t if t.starts_with("AWS::ServiceCatalog::") => super::catalog::create(p, t, props).await,
        other => Err(unrecognized(other)),
    }
}

/// Deletes a resource; one already gone counts as deleted.
pub async fn delete(
    p: &Principal<'_>,
    type_name: &str,
    physical_id: &str,
    props: &Map<String, Value>,
) -> Result<(), ApiError> {
    match type_name {
        "AWS::IAM::Role" => delete_holder(p, Holder::Role, physical_id).await,
        "AWS::IAM::User" => delete_holder(p, Holder::User, physical_id).await,
        "AWS::IAM::Group" => delete_holder(p, Holder::Group, physical_id).await,
        "AWS::IAM::ManagedPolicy" => delete_managed_policy(p, physical_id).await,
        "AWS::IAM::Policy" => delete_inline_policy(p, props).await,
        "AWS::IAM::InstanceProfile" => delete_instance_profile(p, physical_id).await,
        "AWS::SageMaker::Domain"
        | "AWS::SageMaker::UserProfile"
        | "AWS::SageMaker::Space"
        | "AWS::SageMaker::App" => delete_studio(p, type_name, physical_id).await,
        "AWS::IAM::AccessKey" => {
            let q = Pairs::default()
                .add("UserName", prop(props, "UserName").unwrap_or_default())
                .add("AccessKeyId", physical_id);
            p.call_gone_ok("DeleteAccessKey", q.0).await
        }
        t if t.starts_with("AWS::ServiceCatalog::") => {
            super::catalog::delete(p, t, physical_id, props).await
        }
        _ => Ok(()),
    }
}

/// `AWS::IAM::AccessKey`: a key of `UserName` (made `Inactive` when `Status` says so). Its
/// physical id is the access key id.
async fn create_access_key(
    p: &Principal<'_>,
    props: &Map<String, Value>,
) -> Result<Created, ApiError> {
    let user = prop(props, "UserName").unwrap_or_default();
    let held = |state: &crate::model::State| -> Vec<String> {
        state
            .access_keys
            .values()
            .filter(|k| k.user.eq_ignore_ascii_case(&user))
            .map(|k| k.id.clone())
            .collect()
    };
    let before = held(&p.app.store.read());
    p.call(
        "CreateAccessKey",
        Pairs::default().add("UserName", user.clone()).0,
    )
    .await?;
    let id = held(&p.app.store.read())
        .into_iter()
        .find(|id| !before.contains(id))
        .ok_or_else(|| ApiError::new("ServiceFailure", 500, "the new access key is not there"))?;
    if prop(props, "Status").as_deref() == Some("Inactive") {
        let q = Pairs::default()
            .add("UserName", user.clone())
            .add("AccessKeyId", id.clone())
            .add("Status", "Inactive");
        if let Err(e) = p.call("UpdateAccessKey", q.0).await {
            let q = Pairs::default()
                .add("UserName", user)
                .add("AccessKeyId", id);
            let _ = p.call("DeleteAccessKey", q.0).await;
            return Err(e);
        }
    }
    let state = p.app.store.read();
    let attributes = live_attributes(
        &state,
        "AWS::IAM::AccessKey",
        &id,
        &BTreeMap::from([("Id".to_string(), Value::String(id.clone()))]),
    );
    Ok(Created {
        physical_id: id,
        attributes,
    })
}

/// A user, group or role: the entities that hold policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Holder {
    Role,
    User,
    Group,
}

impl Holder {
    /// `Role`, `User`, `Group`: the word in IAM's operation and parameter names.
    fn word(self) -> &'static str {
        match self {
            Holder::Role => "Role",
            Holder::User => "User",
            Holder::Group => "Group",
        }
    }

    fn name_param(self) -> String {
        format!("{}Name", self.word())
    }
}

async fn create_holder(
    p: &Principal<'_>,
    naming: &Naming<'_>,
    holder: Holder,
    props: &Map<String, Value>,
) -> Result<Created, ApiError> {
    let word = holder.word();
    let name_param = holder.name_param();
    let max = if holder == Holder::Role { 64 } else { 128 };
    let name = naming.name(props, &name_param, max);
    let mut q = Pairs::default()
        .add(&name_param, name.clone())
        .opt("Path", prop(props, "Path"));
    match holder {
        Holder::Role => {
            q = q
                .opt(
                    "AssumeRolePolicyDocument",
                    prop(props, "AssumeRolePolicyDocument"),
                )
                .opt("Description", prop(props, "Description"))
                .opt("MaxSessionDuration", prop(props, "MaxSessionDuration"))
                .opt("PermissionsBoundary", prop(props, "PermissionsBoundary"))
                .tags(props.get("Tags"));
        }
        Holder::User => {
            q = q
                .opt("PermissionsBoundary", prop(props, "PermissionsBoundary"))
                .tags(props.get("Tags"));
        }
        Holder::Group => {}
    }
    p.call(&format!("Create{word}"), q.0).await?;
    if let Err(e) = holder_policies(p, holder, &name, props).await {
        // A half-made entity is removed before the failure is reported.
        let _ = delete_holder(p, holder, &name).await;
        return Err(e);
    }
    let state = p.app.store.read();
    let mut attributes = BTreeMap::new();
    match holder {
        Holder::Role => {
            if let Some(role) = state.role(&name) {
                attributes.insert("Arn".into(), Value::String(state.role_arn(role)));
                attributes.insert("RoleId".into(), Value::String(role.id.clone()));
            }
        }
        Holder::User => {
            if let Some(user) = state.user(&name) {
                attributes.insert("Arn".into(), Value::String(state.user_arn(user)));
            }
        }
        Holder::Group => {
            if let Some(group) = state.group(&name) {
                attributes.insert("Arn".into(), Value::String(state.group_arn(group)));
            }
        }
    }
    Ok(Created {
        physical_id: name,
        attributes,
    })
}

/// A holder's `Policies`, `ManagedPolicyArns` and (for a user) `Groups`.
async fn holder_policies(
    p: &Principal<'_>,
    holder: Holder,
    name: &str,
    props: &Map<String, Value>,
) -> Result<(), ApiError> {
    let word = holder.word();
    let name_param = holder.name_param();
    for policy in items(props.get("Policies")) {
        let q = Pairs::default()
            .add(&name_param, name)
            .opt("PolicyName", policy.get("PolicyName").map(text))
            .opt("PolicyDocument", policy.get("PolicyDocument").map(text));
        p.call(&format!("Put{word}Policy"), q.0).await?;
    }
    for arn in texts(props.get("ManagedPolicyArns")) {
        let q = Pairs::default()
            .add(&name_param, name)
            .add("PolicyArn", arn);
        p.call(&format!("Attach{word}Policy"), q.0).await?;
    }
    if holder == Holder::User {
        for group in texts(props.get("Groups")) {
            let q = Pairs::default()
                .add("GroupName", group)
                .add("UserName", name);
            p.call("AddUserToGroup", q.0).await?;
        }
    }
    Ok(())
}

/// Removes what a holder has (inline policies, attachments, memberships, instance profiles)
/// and deletes it, as CloudFormation's providers do.
async fn delete_holder(p: &Principal<'_>, holder: Holder, name: &str) -> Result<(), ApiError> {
    let word = holder.word();
    let name_param = holder.name_param();
    let (inline, attached, related) = {
        let state = p.app.store.read();
        let found = match holder {
            Holder::Role => state.role(name).map(|r| {
                let profiles: Vec<String> = state
                    .instance_profiles
                    .values()
                    .filter(|ip| ip.roles.iter().any(|r| r.eq_ignore_ascii_case(name)))
                    .map(|ip| ip.name.clone())
                    .collect();
                (&r.inline, r.attached.clone(), profiles)
            }),
            Holder::User => state.user(name).map(|u| {
                let groups: Vec<String> = state.groups_of(name).map(|g| g.name.clone()).collect();
                (&u.inline, u.attached.clone(), groups)
            }),
            Holder::Group => state
                .group(name)
                .map(|g| (&g.inline, g.attached.clone(), g.members.clone())),
        };
        let Some((inline, attached, related)) = found else {
            return Ok(());
        };
        let inline: Vec<String> = inline.values().map(|i| i.name.clone()).collect();
        (inline, attached, related)
    };
    for policy in inline {
        let q = Pairs::default()
            .add(&name_param, name)
            .add("PolicyName", policy);
        p.call_gone_ok(&format!("Delete{word}Policy"), q.0).await?;
    }
    for arn in attached {
        let q = Pairs::default()
            .add(&name_param, name)
            .add("PolicyArn", arn);
        p.call_gone_ok(&format!("Detach{word}Policy"), q.0).await?;
    }
    for other in related {
        let (op, q) = match holder {
            Holder::Role => (
                "RemoveRoleFromInstanceProfile",
                Pairs::default()
                    .add("InstanceProfileName", other)
                    .add("RoleName", name),
            ),
            Holder::User => (
                "RemoveUserFromGroup",
                Pairs::default()
                    .add("GroupName", other)
                    .add("UserName", name),
            ),
            Holder::Group => (
                "RemoveUserFromGroup",
                Pairs::default()
                    .add("GroupName", name)
                    .add("UserName", other),
            ),
        };
        p.call_gone_ok(op, q.0).await?;
    }
    let q = Pairs::default().add(&name_param, name);
    p.call_gone_ok(&format!("Delete{word}"), q.0).await
}

async fn create_managed_policy(
    p: &Principal<'_>,
    naming: &Naming<'_>,
    props: &Map<String, Value>,
) -> Result<Created, ApiError> {
    let name = naming.name(props, "ManagedPolicyName", 128);
    let path = prop(props, "Path").unwrap_or_else(|| "/".into());
    let q = Pairs::default()
        .add("PolicyName", name.clone())
        .add("Path", path.clone())
        .opt("PolicyDocument", prop(props, "PolicyDocument"))
        .opt("Description", prop(props, "Description"));
    p.call("CreatePolicy", q.0).await?;
    let arn = format!(
        "arn:aws:iam::{}:policy{path}{name}",
        p.app.store.read().account
    );
    if let Err(e) = attach_to(p, &arn, props).await {
        let _ = delete_managed_policy(p, &arn).await;
        return Err(e);
    }
    let state = p.app.store.read();
    let mut attributes = BTreeMap::from([("PolicyArn".to_string(), Value::String(arn.clone()))]);
    if let Some(policy) = state.policies.get(&arn) {
        let count = state.attachment_count(&arn);
        attributes.insert("PolicyId".into(), Value::String(policy.id.clone()));
        attributes.insert(
            "DefaultVersionId".into(),
            Value::String(policy.default_version.clone()),
        );
        attributes.insert("AttachmentCount".into(), Value::from(count));
        attributes.insert("IsAttachable".into(), Value::Bool(true));
        attributes.insert(
            "PermissionsBoundaryUsageCount".into(),
            Value::from(state.boundary_count(&arn)),
        );
        attributes.insert(
            "CreateDate".into(),
            Value::String(crate::wire::xml::iso_time(policy.created)),
        );
        attributes.insert(
            "UpdateDate".into(),
            Value::String(crate::wire::xml::iso_time(policy.updated)),
        );
    }
    Ok(Created {
        physical_id: arn,
        attributes,
    })
}

/// Attaches a managed policy to the `Roles`, `Users` and `Groups` it names.
async fn attach_to(
    p: &Principal<'_>,
    arn: &str,
    props: &Map<String, Value>,
) -> Result<(), ApiError> {
    for holder in [Holder::Role, Holder::User, Holder::Group] {
        let word = holder.word();
        for name in texts(props.get(&format!("{word}s"))) {
            let q = Pairs::default()
                .add(&holder.name_param(), name)
                .add("PolicyArn", arn);
            p.call(&format!("Attach{word}Policy"), q.0).await?;
        }
    }
    Ok(())
}

async fn delete_managed_policy(p: &Principal<'_>, arn: &str) -> Result<(), ApiError> {
    let (holders, versions) = {
        let state = p.app.store.read();
        let Some(policy) = state.policies.get(arn) else {
            return Ok(());
        };
        let mut holders = Vec::new();
        let has = |list: &[String]| list.iter().any(|a| a == arn);
        for r in state.roles.values().filter(|r| has(&r.attached)) {
            holders.push((Holder::Role, r.name.clone()));
        }
        for u in state.users.values().filter(|u| has(&u.attached)) {
            holders.push((Holder::User, u.name.clone()));
        }
        for g in state.groups.values().filter(|g| has(&g.attached)) {
            holders.push((Holder::Group, g.name.clone()));
        }
        let versions: Vec<String> = policy
            .versions
            .iter()
            .filter(|v| v.id != policy.default_version)
            .map(|v| v.id.clone())
            .collect();
        (holders, versions)
    };
    for (holder, name) in holders {
        let q = Pairs::default()
            .add(&holder.name_param(), name)
            .add("PolicyArn", arn);
        p.call_gone_ok(&format!("Detach{}Policy", holder.word()), q.0)
            .await?;
    }
    for version in versions {
        let q = Pairs::default()
            .add("PolicyArn", arn)
            .add("VersionId", version);
        p.call_gone_ok("DeletePolicyVersion", q.0).await?;
    }
    p.call_gone_ok("DeletePolicy", Pairs::default().add("PolicyArn", arn).0)
        .await
}

async fn create_inline_policy(
    p: &Principal<'_>,
    naming: &Naming<'_>,
    props: &Map<String, Value>,
) -> Result<Created, ApiError> {
    let name = prop(props, "PolicyName").unwrap_or_default();
    let document = prop(props, "PolicyDocument");
    let mut done: Vec<(Holder, String)> = Vec::new();
    for holder in [Holder::Role, Holder::User, Holder::Group] {
        let word = holder.word();
        for target in texts(props.get(&format!("{word}s"))) {
            let q = Pairs::default()
                .add(&holder.name_param(), target.clone())
                .add("PolicyName", name.clone())
                .opt("PolicyDocument", document.clone());
            if let Err(e) = p.call(&format!("Put{word}Policy"), q.0).await {
                for (holder, target) in done {
                    let q = Pairs::default()
                        .add(&holder.name_param(), target)
                        .add("PolicyName", name.clone());
                    let _ = p
                        .call_gone_ok(&format!("Delete{}Policy", holder.word()), q.0)
                        .await;
                }
                return Err(e);
            }
            done.push((holder, target));
        }
    }
    let id = generated_name(naming.stack_name, naming.logical_id, 128);
    Ok(Created {
        physical_id: id.clone(),
        attributes: BTreeMap::from([("Id".to_string(), Value::String(id))]),
    })
}

async fn delete_inline_policy(
    p: &Principal<'_>,
    props: &Map<String, Value>,
) -> Result<(), ApiError> {
    let name = prop(props, "PolicyName").unwrap_or_default();
    for holder in [Holder::Role, Holder::User, Holder::Group] {
        let word = holder.word();
        for target in texts(props.get(&format!("{word}s"))) {
            let q = Pairs::default()
                .add(&holder.name_param(), target)
                .add("PolicyName", name.clone());
            p.call_gone_ok(&format!("Delete{word}Policy"), q.0).await?;
        }
    }
    Ok(())
}

async fn create_instance_profile(
    p: &Principal<'_>,
    naming: &Naming<'_>,
    props: &Map<String, Value>,
) -> Result<Created, ApiError> {
    let name = naming.name(props, "InstanceProfileName", 128);
    let q = Pairs::default()
        .add("InstanceProfileName", name.clone())
        .opt("Path", prop(props, "Path"));
    p.call("CreateInstanceProfile", q.0).await?;
    for role in texts(props.get("Roles")) {
        let q = Pairs::default()
            .add("InstanceProfileName", name.clone())
            .add("RoleName", role);
        if let Err(e) = p.call("AddRoleToInstanceProfile", q.0).await {
            let _ = delete_instance_profile(p, &name).await;
            return Err(e);
        }
    }
    let state = p.app.store.read();
    let mut attributes = BTreeMap::new();
    if let Some(profile) = state.instance_profiles.get(&name.to_ascii_lowercase()) {
        attributes.insert(
            "Arn".into(),
            Value::String(state.instance_profile_arn(profile)),
        );
    }
    Ok(Created {
        physical_id: name,
        attributes,
    })
}

async fn delete_instance_profile(p: &Principal<'_>, name: &str) -> Result<(), ApiError> {
    let roles = {
        let state = p.app.store.read();
        match state.instance_profiles.get(&name.to_ascii_lowercase()) {
            Some(profile) => profile.roles.clone(),
            None => return Ok(()),
        }
    };
    for role in roles {
        let q = Pairs::default()
            .add("InstanceProfileName", name)
            .add("RoleName", role);
        p.call_gone_ok("RemoveRoleFromInstanceProfile", q.0).await?;
    }
    let q = Pairs::default().add("InstanceProfileName", name);
    p.call_gone_ok("DeleteInstanceProfile", q.0).await
}

/// Updates a resource in place from the properties it has (`old`) to `new`, with the
/// operations a direct call would use; gives its attributes as they are after.
pub async fn update(
    p: &Principal<'_>,
    type_name: &str,
    physical_id: &str,
    old: &Map<String, Value>,
    new: &Map<String, Value>,
) -> Result<BTreeMap<String, Value>, ApiError> {
    match type_name {
        "AWS::IAM::Role" => update_holder(p, Holder::Role, physical_id, old, new).await,
        "AWS::IAM::User" => update_holder(p, Holder::User, physical_id, old, new).await,
        "AWS::IAM::Group" => update_holder(p, Holder::Group, physical_id, old, new).await,
        "AWS::IAM::ManagedPolicy" => update_managed_policy(p, physical_id, old, new).await,
        "AWS::IAM::Policy" => {
            delete_inline_policy(p, old).await?;
            let naming = Naming {
                stack_name: "",
                logical_id: "",
            };
            create_inline_policy(p, &naming, new).await?;
            Ok(BTreeMap::from([(
                "Id".to_string(),
                Value::String(physical_id.to_string()),
            )]))
        }
        "AWS::IAM::InstanceProfile" => {
            let (before, after) = (texts(old.get("Roles")), texts(new.get("Roles")));
            for role in before.iter().filter(|r| !after.contains(r)) {
                let q = Pairs::default()
                    .add("InstanceProfileName", physical_id)
                    .add("RoleName", role.clone());
                p.call_gone_ok("RemoveRoleFromInstanceProfile", q.0).await?;
            }
            for role in after.iter().filter(|r| !before.contains(r)) {
                let q = Pairs::default()
                    .add("InstanceProfileName", physical_id)
                    .add("RoleName", role.clone());
                p.call("AddRoleToInstanceProfile", q.0).await?;
            }
            Ok(attributes_of(p, type_name, physical_id))
        }
        "AWS::SageMaker::Domain"
        | "AWS::SageMaker::UserProfile"
        | "AWS::SageMaker::Space"
        | "AWS::SageMaker::App" => update_studio(p, type_name, physical_id, old, new).await,
        "AWS::IAM::AccessKey" => {
            let status = prop(new, "Status").unwrap_or_else(|| "Active".into());
            if prop(old, "Status").unwrap_or_else(|| "Active".into()) != status {
                let q = Pairs::default()
                    .add("UserName", prop(new, "UserName").unwrap_or_default())
                    .add("AccessKeyId", physical_id)
                    .add("Status", status);
                p.call("UpdateAccessKey", q.0).await?;
            }
            let state = p.app.store.read();
            Ok(live_attributes(
                &state,
                type_name,
                physical_id,
                &BTreeMap::from([("Id".to_string(), Value::String(physical_id.to_string()))]),
            ))
        }
        t if t.starts_with("AWS::ServiceCatalog::") => {
            super::catalog::update(p, t, physical_id, old, new).await
        }
        other => Err(unrecognized(other)),
    }
}

/// The attributes of an existing resource, read from the state.
fn attributes_of(p: &Principal<'_>, type_name: &str, physical_id: &str) -> BTreeMap<String, Value> {
    let state = p.app.store.read();
    let mut attributes = BTreeMap::new();
    match type_name {
        "AWS::IAM::Role" => {
            if let Some(role) = state.role(physical_id) {
                attributes.insert("Arn".into(), Value::String(state.role_arn(role)));
                attributes.insert("RoleId".into(), Value::String(role.id.clone()));
            }
        }
        "AWS::IAM::User" => {
            if let Some(user) = state.user(physical_id) {
                attributes.insert("Arn".into(), Value::String(state.user_arn(user)));
            }
        }
        "AWS::IAM::Group" => {
            if let Some(group) = state.group(physical_id) {
                attributes.insert("Arn".into(), Value::String(state.group_arn(group)));
            }
        }
        "AWS::IAM::InstanceProfile" => {
            if let Some(profile) = state
                .instance_profiles
                .get(&physical_id.to_ascii_lowercase())
            {
                attributes.insert(
                    "Arn".into(),
                    Value::String(state.instance_profile_arn(profile)),
                );
            }
        }
        "AWS::IAM::ManagedPolicy" => {
            attributes.insert("PolicyArn".into(), Value::String(physical_id.to_string()));
            if let Some(policy) = state.policies.get(physical_id) {
                attributes.insert("PolicyId".into(), Value::String(policy.id.clone()));
                attributes.insert(
                    "DefaultVersionId".into(),
                    Value::String(policy.default_version.clone()),
                );
            }
        }
        _ => {}
    }
    attributes
}

/// Inline policies by name.
fn policies_by_name(value: Option<&Value>) -> BTreeMap<String, Value> {
    items(value)
        .into_iter()
        .filter_map(|p| {
            let name = p.get("PolicyName").map(text)?;
            Some((
                name,
                p.get("PolicyDocument").cloned().unwrap_or(Value::Null),
            ))
        })
        .collect()
}

async fn update_holder(
    p: &Principal<'_>,
    holder: Holder,
    name: &str,
    old: &Map<String, Value>,
    new: &Map<String, Value>,
) -> Result<BTreeMap<String, Value>, ApiError> {
    let word = holder.word();
    let name_param = holder.name_param();
    let changed = |property: &str| old.get(property) != new.get(property);
    if holder == Holder::Role {
        if changed("AssumeRolePolicyDocument") {
            let q = Pairs::default()
                .add("RoleName", name)
                .opt("PolicyDocument", prop(new, "AssumeRolePolicyDocument"));
            p.call("UpdateAssumeRolePolicy", q.0).await?;
        }
        if changed("Description") || changed("MaxSessionDuration") {
            let q = Pairs::default()
                .add("RoleName", name)
                .add("Description", prop(new, "Description").unwrap_or_default())
                .opt("MaxSessionDuration", prop(new, "MaxSessionDuration"));
            p.call("UpdateRole", q.0).await?;
        }
    }
    if holder != Holder::Group && changed("PermissionsBoundary") {
        let q = Pairs::default().add(&name_param, name);
        match prop(new, "PermissionsBoundary") {
            Some(arn) => {
                let q = q.add("PermissionsBoundary", arn);
                p.call(&format!("Put{word}PermissionsBoundary"), q.0)
                    .await?;
            }
            None => {
                p.call(&format!("Delete{word}PermissionsBoundary"), q.0)
                    .await?;
            }
        }
    }
    if holder != Holder::Group && changed("Tags") {
        let keys = |v: Option<&Value>| -> Vec<String> {
            items(v)
                .iter()
                .filter_map(|t| t.get("Key").map(text))
                .collect()
        };
        let kept = keys(new.get("Tags"));
        let removed: Vec<String> = keys(old.get("Tags"))
            .into_iter()
            .filter(|k| !kept.contains(k))
            .collect();
        if !removed.is_empty() {
            let mut q = Pairs::default().add(&name_param, name);
            for (i, key) in removed.into_iter().enumerate() {
                q = q.add(&format!("TagKeys.member.{}", i + 1), key);
            }
            p.call(&format!("Untag{word}"), q.0).await?;
        }
        if !kept.is_empty() {
            let q = Pairs::default()
                .add(&name_param, name)
                .tags(new.get("Tags"));
            p.call(&format!("Tag{word}"), q.0).await?;
        }
    }
    let (before, after) = (
        policies_by_name(old.get("Policies")),
        policies_by_name(new.get("Policies")),
    );
    for policy in before.keys().filter(|k| !after.contains_key(*k)) {
        let q = Pairs::default()
            .add(&name_param, name)
            .add("PolicyName", policy.clone());
        p.call_gone_ok(&format!("Delete{word}Policy"), q.0).await?;
    }
    for (policy, document) in &after {
        if before.get(policy) == Some(document) {
            continue;
        }
        let q = Pairs::default()
            .add(&name_param, name)
            .add("PolicyName", policy.clone())
            .add("PolicyDocument", text(document));
        p.call(&format!("Put{word}Policy"), q.0).await?;
    }
    let (before, after) = (
        texts(old.get("ManagedPolicyArns")),
        texts(new.get("ManagedPolicyArns")),
    );
    for arn in before.iter().filter(|a| !after.contains(a)) {
        let q = Pairs::default()
            .add(&name_param, name)
            .add("PolicyArn", arn.clone());
        p.call_gone_ok(&format!("Detach{word}Policy"), q.0).await?;
    }
    for arn in after.iter().filter(|a| !before.contains(a)) {
        let q = Pairs::default()
            .add(&name_param, name)
            .add("PolicyArn", arn.clone());
        p.call(&format!("Attach{word}Policy"), q.0).await?;
    }
    if holder == Holder::User {
        let (before, after) = (texts(old.get("Groups")), texts(new.get("Groups")));
        for group in before.iter().filter(|g| !after.contains(g)) {
            let q = Pairs::default()
                .add("GroupName", group.clone())
                .add("UserName", name);
            p.call_gone_ok("RemoveUserFromGroup", q.0).await?;
        }
        for group in after.iter().filter(|g| !before.contains(g)) {
            let q = Pairs::default()
                .add("GroupName", group.clone())
                .add("UserName", name);
            p.call("AddUserToGroup", q.0).await?;
        }
    }
    let type_name = match holder {
        Holder::Role => "AWS::IAM::Role",
        Holder::User => "AWS::IAM::User",
        Holder::Group => "AWS::IAM::Group",
    };
    Ok(attributes_of(p, type_name, name))
}

async fn update_managed_policy(
    p: &Principal<'_>,
    arn: &str,
    old: &Map<String, Value>,
    new: &Map<String, Value>,
) -> Result<BTreeMap<String, Value>, ApiError> {
    if old.get("PolicyDocument") != new.get("PolicyDocument") {
        // A policy keeps at most five versions: the oldest non-default one makes room.
        let oldest = {
            let state = p.app.store.read();
            state.policies.get(arn).and_then(|policy| {
                (policy.versions.len() >= 5)
                    .then(|| {
                        policy
                            .versions
                            .iter()
                            .find(|v| v.id != policy.default_version)
                            .map(|v| v.id.clone())
                    })
                    .flatten()
            })
        };
        if let Some(version) = oldest {
            let q = Pairs::default()
                .add("PolicyArn", arn)
                .add("VersionId", version);
            p.call("DeletePolicyVersion", q.0).await?;
        }
        let q = Pairs::default()
            .add("PolicyArn", arn)
            .opt("PolicyDocument", prop(new, "PolicyDocument"))
            .add("SetAsDefault", "true");
        p.call("CreatePolicyVersion", q.0).await?;
    }
    for holder in [Holder::Role, Holder::User, Holder::Group] {
        let word = holder.word();
        let key = format!("{word}s");
        let (before, after) = (texts(old.get(&key)), texts(new.get(&key)));
        for name in before.iter().filter(|n| !after.contains(n)) {
            let q = Pairs::default()
                .add(&holder.name_param(), name.clone())
                .add("PolicyArn", arn);
            p.call_gone_ok(&format!("Detach{word}Policy"), q.0).await?;
        }
        for name in after.iter().filter(|n| !before.contains(n)) {
            let q = Pairs::default()
                .add(&holder.name_param(), name.clone())
                .add("PolicyArn", arn);
            p.call(&format!("Attach{word}Policy"), q.0).await?;
        }
    }
    Ok(attributes_of(p, "AWS::IAM::ManagedPolicy", arn))
}

/// How long a Studio delete waits for what blocks it (a profile's apps, which report `Deleting`
/// for a moment) before it reports SageMaker's `ResourceInUse`.
const STUDIO_DELETE_WAIT_MS: u64 = 5000;

/// The members that identify a Studio resource, in the order its `Ref` joins them with `|`:
/// a domain's id, and the composite primary identifiers of the others.
fn studio_key(type_name: &str) -> &'static [&'static str] {
    match type_name {
        "AWS::SageMaker::UserProfile" => &["DomainId", "UserProfileName"],
        "AWS::SageMaker::Space" => &["DomainId", "SpaceName"],
        "AWS::SageMaker::App" => &["AppType", "AppName", "DomainId", "UserProfileName"],
        _ => &["DomainId"],
    }
}

/// A Studio resource's identifiers, from its physical id (its `Ref`).
fn studio_identifiers(type_name: &str, physical_id: &str) -> Map<String, Value> {
    let key = studio_key(type_name);
    let parts = physical_id.splitn(key.len(), '|');
    key.iter()
        .zip(parts)
        .map(|(name, part)| ((*name).to_string(), Value::String(part.to_string())))
        .collect()
}

/// The operations' noun: `Domain`, `UserProfile`, `Space`, `App`.
fn studio_noun(type_name: &str) -> &'static str {
    match type_name {
        "AWS::SageMaker::UserProfile" => "UserProfile",
        "AWS::SageMaker::Space" => "Space",
        "AWS::SageMaker::App" => "App",
        _ => "Domain",
    }
}

/// The `Fn::GetAtt` attributes a Studio resource has, taken from an operation's output.
fn studio_attributes(type_name: &str, output: &Value, into: &mut BTreeMap<String, Value>) {
    let Some(readonly) = rolewright_cfn::return_values(type_name) else {
        return;
    };
    for attribute in readonly.attributes {
        if let Some(value) = output.get(*attribute).filter(|v| !v.is_null()) {
            into.insert((*attribute).to_string(), value.clone());
        }
    }
}

/// What Describe gives of a Studio resource, over what its create or update gave.
async fn studio_describe(
    p: &Principal<'_>,
    type_name: &str,
    physical_id: &str,
    mut attributes: BTreeMap<String, Value>,
) -> Result<BTreeMap<String, Value>, ApiError> {
    let noun = studio_noun(type_name);
    let ids = studio_identifiers(type_name, physical_id);
    let output = p
        .call_sagemaker(&format!("Describe{noun}"), Value::Object(ids))
        .await?;
    studio_attributes(type_name, &output, &mut attributes);
    Ok(attributes)
}

async fn create_studio(
    p: &Principal<'_>,
    type_name: &str,
    props: &Map<String, Value>,
) -> Result<Created, ApiError> {
    let noun = studio_noun(type_name);
    // The resource's properties are the create operation's members, Tags as [{Key, Value}].
    let output = p
        .call_sagemaker(&format!("Create{noun}"), Value::Object(props.clone()))
        .await?;
    let physical_id = match type_name {
        "AWS::SageMaker::Domain" => output.get("DomainId").map(text).unwrap_or_default(),
        _ => studio_key(type_name)
            .iter()
            .map(|name| prop(props, name).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("|"),
    };
    let mut attributes = BTreeMap::new();
    studio_attributes(type_name, &output, &mut attributes);
    let attributes = match studio_describe(p, type_name, &physical_id, attributes).await {
        Ok(attributes) => attributes,
        Err(e) => {
            // A resource whose attributes cannot be read is removed before the failure is
            // reported, as a failed create leaves nothing behind.
            let _ = delete_studio(p, type_name, &physical_id).await;
            return Err(e);
        }
    };
    Ok(Created {
        physical_id,
        attributes,
    })
}

async fn delete_studio(
    p: &Principal<'_>,
    type_name: &str,
    physical_id: &str,
) -> Result<(), ApiError> {
    let op = format!("Delete{}", studio_noun(type_name));
    let input = Value::Object(studio_identifiers(type_name, physical_id));
    let started = std::time::Instant::now();
    loop {
        match p.call_sagemaker(&op, input.clone()).await {
            Ok(_) => return Ok(()),
            Err(e) if e.code == "ResourceNotFound" => return Ok(()),
            // SageMaker answers for an app that is gone `RecordNotFound`, and for one already
            // `Deleting` or `Deleted` `ResourceInUse`: both are deleted as far as a stack goes.
            Err(e)
                if type_name == "AWS::SageMaker::App"
                    && (e.code == "ResourceInUse" || e.message.starts_with("RecordNotFound")) =>
            {
                return Ok(());
            }
            Err(e)
                if e.code == "ResourceInUse"
                    && started.elapsed().as_millis() < u128::from(STUDIO_DELETE_WAIT_MS) =>
            {
                tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// The members of `DomainSettingsForUpdate` from a domain's `DomainSettings`.
fn domain_settings_for_update(settings: &Value) -> Value {
    let mut update = Map::new();
    let Some(settings) = settings.as_object() else {
        return Value::Object(update);
    };
    for (name, value) in settings {
        match name.as_str() {
            "RStudioServerProDomainSettings" => {
                update.insert(
                    "RStudioServerProDomainSettingsForUpdate".into(),
                    value.clone(),
                );
            }
            _ => {
                update.insert(name.clone(), value.clone());
            }
        }
    }
    Value::Object(update)
}

async fn update_studio(
    p: &Principal<'_>,
    type_name: &str,
    physical_id: &str,
    old: &Map<String, Value>,
    new: &Map<String, Value>,
) -> Result<BTreeMap<String, Value>, ApiError> {
    let noun = studio_noun(type_name);
    let changed = |property: &str| old.get(property) != new.get(property);
    let mut input = studio_identifiers(type_name, physical_id);
    let mutable: &[&str] = match type_name {
        "AWS::SageMaker::UserProfile" => &["UserSettings"],
        "AWS::SageMaker::Space" => &["SpaceSettings", "SpaceDisplayName"],
        // Everything of an app but its tags is create-only.
        "AWS::SageMaker::App" => &[],
        _ => &[
            "DefaultUserSettings",
            "DefaultSpaceSettings",
            "DomainSettings",
            "AppSecurityGroupManagement",
            "SubnetIds",
            "AppNetworkAccessType",
            "TagPropagation",
        ],
    };
    let mut any = false;
    for property in mutable.iter().filter(|p| changed(p)) {
        let Some(value) = new.get(*property) else {
            continue;
        };
        any = true;
        if *property == "DomainSettings" {
            input.insert(
                "DomainSettingsForUpdate".into(),
                domain_settings_for_update(value),
            );
        } else {
            input.insert((*property).to_string(), value.clone());
        }
    }
    if any {
        p.call_sagemaker(&format!("Update{noun}"), Value::Object(input))
            .await?;
    }
    let attributes = studio_describe(p, type_name, physical_id, BTreeMap::new()).await?;
    if changed("Tags") {
        let arn_attribute = format!("{noun}Arn");
        let arn = attributes.get(&arn_attribute).map(text).unwrap_or_default();
        let keys = |v: Option<&Value>| -> Vec<Value> {
            items(v)
                .iter()
                .filter_map(|t| t.get("Key").cloned())
                .collect()
        };
        let kept = keys(new.get("Tags"));
        let removed: Vec<Value> = keys(old.get("Tags"))
            .into_iter()
            .filter(|k| !kept.contains(k))
            .collect();
        if !removed.is_empty() {
            let input = serde_json::json!({"ResourceArn": arn, "TagKeys": removed});
            p.call_sagemaker("DeleteTags", input).await?;
        }
        if !kept.is_empty() {
            let input = serde_json::json!({"ResourceArn": arn, "Tags": items(new.get("Tags"))});
            p.call_sagemaker("AddTags", input).await?;
        }
    }
    Ok(attributes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_names_fit_and_keep_stack_and_logical_id() {
        let name = generated_name("my-stack", "Role", 64);
        assert!(name.starts_with("my-stack-Role-"), "{name}");
        assert_eq!(name.len(), "my-stack-Role-".len() + 12);
        let long = generated_name(&"s".repeat(100), &"L".repeat(100), 64);
        assert_eq!(long.len(), 64, "{long}");
        assert!(long.contains("-sss") || long.starts_with("sss"), "{long}");
    }

    #[test]
    fn a_user_profiles_physical_id_is_its_domain_and_name() {
        let ids = studio_identifiers("AWS::SageMaker::UserProfile", "d-abc123|alice");
        assert_eq!(
            Value::Object(ids),
            serde_json::json!({"DomainId": "d-abc123", "UserProfileName": "alice"})
        );
        let ids = studio_identifiers("AWS::SageMaker::Domain", "d-abc123");
        assert_eq!(
            Value::Object(ids),
            serde_json::json!({"DomainId": "d-abc123"})
        );
        let ids = studio_identifiers("AWS::SageMaker::App", "JupyterServer|default|d-1|bob");
        assert_eq!(
            Value::Object(ids),
            serde_json::json!({"AppType": "JupyterServer", "AppName": "default",
                               "DomainId": "d-1", "UserProfileName": "bob"})
        );
    }

    #[test]
    fn domain_settings_become_domain_settings_for_update() {
        let settings = serde_json::json!({
            "SecurityGroupIds": ["sg-1"],
            "RStudioServerProDomainSettings": {"DomainExecutionRoleArn": "arn:aws:iam::1:role/r"},
        });
        assert_eq!(
            domain_settings_for_update(&settings),
            serde_json::json!({
                "SecurityGroupIds": ["sg-1"],
                "RStudioServerProDomainSettingsForUpdate":
                    {"DomainExecutionRoleArn": "arn:aws:iam::1:role/r"},
            })
        );
    }

    #[test]
    fn studio_attributes_are_the_types_read_only_properties() {
        let output = serde_json::json!({
            "DomainArn": "arn:aws:sagemaker:us-east-1:1:domain/d-1",
            "DomainId": "d-1",
            "Url": "https://d-1.studio.us-east-1.sagemaker.aws",
            "Status": "InService",
            "SingleSignOnApplicationArn": null,
        });
        let mut attributes = BTreeMap::new();
        studio_attributes("AWS::SageMaker::Domain", &output, &mut attributes);
        let names: Vec<&str> = attributes.keys().map(String::as_str).collect();
        assert_eq!(names, ["DomainArn", "DomainId", "Url"]);
    }
}
