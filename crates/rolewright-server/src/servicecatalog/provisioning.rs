//! Provisioning: `ProvisionProduct`, `UpdateProvisionedProduct` and
//! `TerminateProvisionedProduct` answer at once with a `CREATED` record, then run on their own
//! task through CloudFormation's own operations ([`cloudformation::create`], `update`,
//! `delete`), as a `servicecatalog` session of the launch role of the launch path's LAUNCH
//! constraint (exactly that role's permissions, none of the caller's) or, without one, as the
//! caller. Records go `IN_PROGRESS`, then `SUCCEEDED` or `FAILED` with the stack's reasons in
//! `RecordErrors`; the reads answer from the stored records and provisioned products.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Value, json};

use super::{
    SERVICE_PRINCIPAL, authorize_product, find_artifact, invalid, launch_paths, launch_role,
    new_id, no_launch_paths, not_found, now_ms, page, paging, remember, repeated, tag_list,
    tags_input, template_parameters, with_next,
};
use crate::auth::{Caller, Identity};
use crate::authz::{RequestFacts, request_tags};
use crate::cloudformation::engine::OnFailure;
use crate::cloudformation::providers::Principal;
use crate::cloudformation::stack::{self, Stack};
use crate::cloudformation::{self, NewStack, StackUpdate};
use crate::error::ApiError;
use crate::model::{
    CatalogRecord, Change, Portfolio, PortfolioProduct, ProvisionedProduct, State, Tag, kind,
};
use crate::server::{App, Cx, Reply};
use crate::store::Durability;
use crate::wire::json::timestamp;
use crate::wire::members::Members;

/// The session name of launch-role sessions: AWS's denials of launch roles read
/// `assumed-role/<LaunchRole>/servicecatalog`.
pub const LAUNCH_SESSION_NAME: &str = "servicecatalog";
/// Service Catalog's only provisioned product type here.
const CFN_STACK: &str = "CFN_STACK";
/// The output Service Catalog adds to a CloudFormation product's outputs.
const STACK_ARN_OUTPUT: &str = "CloudformationStackARN";
/// Service Catalog grants the template every capability: the administrator who made the
/// product accepted what it creates.
const CAPABILITIES: [&str; 3] = [
    "CAPABILITY_IAM",
    "CAPABILITY_NAMED_IAM",
    "CAPABILITY_AUTO_EXPAND",
];
/// `SearchProvisionedProducts`' largest page.
const SEARCH_PAGE_MAX: usize = 100;

// ---- answers --------------------------------------------------------------------------------

fn record_detail(r: &CatalogRecord) -> Value {
    let errors: Vec<Value> = r
        .errors
        .iter()
        .map(|(code, description)| json!({"Code": code, "Description": description}))
        .collect();
    let mut out = json!({
        "RecordId": r.id,
        "ProvisionedProductName": r.provisioned_product_name,
        "Status": r.status,
        "CreatedTime": timestamp(r.created_ms),
        "UpdatedTime": timestamp(r.updated_ms),
        "ProvisionedProductType": CFN_STACK,
        "RecordType": r.record_type,
        "ProvisionedProductId": r.provisioned_product_id,
        "ProductId": r.product_id,
        "ProvisioningArtifactId": r.artifact_id,
        "PathId": r.path_id,
        "RecordErrors": errors,
        "RecordTags": tag_list(&r.tags),
    });
    if let Some(role) = &r.launch_role_arn {
        out["LaunchRoleArn"] = json!(role);
    }
    out
}

fn outputs_answer(outputs: &[(String, String, Option<String>)]) -> Vec<Value> {
    outputs
        .iter()
        .map(|(key, value, description)| {
            let mut v = json!({"OutputKey": key, "OutputValue": value});
            if let Some(d) = description {
                v["Description"] = json!(d);
            }
            v
        })
        .collect()
}

/// `arn:aws:servicecatalog:REGION:ACCOUNT:stack/NAME/pp-...`.
fn pp_arn(state: &State, pp: &ProvisionedProduct) -> String {
    format!(
        "arn:aws:servicecatalog:{}:{}:stack/{}/{}",
        pp.region, state.account, pp.name, pp.id
    )
}

fn pp_detail(state: &State, pp: &ProvisionedProduct) -> Value {
    let mut out = json!({
        "Name": pp.name,
        "Arn": pp_arn(state, pp),
        "Type": CFN_STACK,
        "Id": pp.id,
        "Status": pp.status,
        "CreatedTime": timestamp(pp.created_ms),
        "IdempotencyToken": pp.idempotency_token,
        "LastRecordId": pp.last_record_id,
        "LastProvisioningRecordId": pp.last_provisioning_record_id,
        "ProductId": pp.product_id,
        "ProvisioningArtifactId": pp.artifact_id,
    });
    for (key, value) in [
        ("StatusMessage", &pp.status_message),
        (
            "LastSuccessfulProvisioningRecordId",
            &pp.last_successful_provisioning_record_id,
        ),
        ("LaunchRoleArn", &pp.launch_role_arn),
    ] {
        if let Some(v) = value {
            out[key] = json!(v);
        }
    }
    out
}

/// A `ProvisionedProductAttribute` (what `SearchProvisionedProducts` lists).
fn pp_attribute(state: &State, pp: &ProvisionedProduct) -> Value {
    let mut out = pp_detail(state, pp);
    if let Some(m) = out.as_object_mut() {
        m.remove("LaunchRoleArn");
    }
    out["Tags"] = tag_list(&pp.tags);
    out["UserArn"] = json!(pp.user_arn);
    out["UserArnSession"] = json!(pp.user_arn_session);
    if let Some(stack) = &pp.stack_id {
        out["PhysicalId"] = json!(stack);
    }
    if let Some(product) = state.products.get(&pp.product_id) {
        out["ProductName"] = json!(product.name);
        if let Some(name) = product
            .artifacts
            .iter()
            .find(|a| a.id == pp.artifact_id)
            .and_then(|a| a.name.as_ref())
        {
            out["ProvisioningArtifactName"] = json!(name);
        }
    }
    out
}

// ---- who: access levels ---------------------------------------------------------------------

/// The caller as provisioned products name their owners: a user's ARN, or a session's role.
fn caller_user_arn(caller: &Caller) -> String {
    match &caller.identity {
        Identity::User(_) => caller.arn.clone(),
        Identity::Session { role_arn, .. } => role_arn.clone(),
    }
}

/// An access level of `AccessLevelFilter`: whose provisioned products and records a request
/// is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    /// Every one in the account.
    Account,
    /// Those of the caller's role (or user).
    Role,
    /// The caller's own.
    User,
}

impl Level {
    /// `AccessLevelFilter` (`User`/`self` when absent).
    fn of(input: &Members) -> Result<Level, ApiError> {
        let Some(filter) = input.object("AccessLevelFilter") else {
            return Ok(Level::User);
        };
        let value = filter
            .get("Value")
            .and_then(Value::as_str)
            .unwrap_or("self");
        if value != "self" {
            return Err(invalid(format!(
                "AccessLevelFilter Value `{value}` is not supported: the only value is self"
            )));
        }
        match filter.get("Key").and_then(Value::as_str) {
            Some("Account") => Ok(Level::Account),
            Some("Role") => Ok(Level::Role),
            _ => Ok(Level::User),
        }
    }

    /// The level at which `caller` acts on what `owner_user`/`owner_session` provisioned.
    fn between(caller: &Caller, owner_user: &str, owner_session: &str) -> Level {
        if caller.arn == owner_session {
            Level::User
        } else if caller_user_arn(caller) == owner_user {
            Level::Role
        } else {
            Level::Account
        }
    }

    /// Whether something of `owner_user`/`owner_session` is within this level for `caller`.
    fn covers(self, caller: &Caller, owner_user: &str, owner_session: &str) -> bool {
        match self {
            Level::Account => true,
            Level::Role => caller_user_arn(caller) == owner_user,
            Level::User => caller.arn == owner_session,
        }
    }

    /// `servicecatalog:accountLevel`, `roleLevel` and `userLevel`: the levels are
    /// hierarchical, so a request at user level satisfies a policy granting any of the three,
    /// and one at account level only a policy granting account level.
    fn context(self, ctx: &mut rolewright_iam::RequestContext) {
        let keys: &[&str] = match self {
            Level::Account => &["servicecatalog:accountLevel"],
            Level::Role => &["servicecatalog:accountLevel", "servicecatalog:roleLevel"],
            Level::User => &[
                "servicecatalog:accountLevel",
                "servicecatalog:roleLevel",
                "servicecatalog:userLevel",
            ],
        };
        for key in keys {
            ctx.set(key, "self");
        }
    }
}

/// Authorizes `action` (on `*`) on a provisioned product or record of `owner_user`.
fn authorize_owned(
    cx: &mut Cx<'_>,
    state: &State,
    action: &str,
    owner_user: &str,
    owner_session: &str,
) -> Result<(), ApiError> {
    let level = Level::between(&cx.caller, owner_user, owner_session);
    cx.authorize(state, action, "*", |ctx| level.context(ctx))
}

// ---- lookups --------------------------------------------------------------------------------

fn pp_not_found(what: &str) -> ApiError {
    not_found(format!("Provisioned product {what} not found"))
}

/// The provisioned product an id or a name (or ARN) names.
fn find_pp<'s>(
    state: &'s State,
    region: &str,
    id: Option<&str>,
    name: Option<&str>,
) -> Result<&'s ProvisionedProduct, ApiError> {
    match (id, name) {
        (Some(_), Some(_)) => Err(invalid(
            "Specify either the provisioned product id or its name, not both",
        )),
        (Some(id), None) => state
            .provisioned_products
            .get(id)
            .ok_or_else(|| pp_not_found(id)),
        (None, Some(name)) => state
            .provisioned_products
            .values()
            .find(|p| p.region == region && (p.name == name || pp_arn(state, p) == name))
            .ok_or_else(|| pp_not_found(name)),
        (None, None) => Err(invalid(
            "Either the provisioned product id or its name must be specified",
        )),
    }
}

/// The product `ProductId` or `ProductName` names.
fn product_id(state: &State, input: &Members) -> Result<String, ApiError> {
    match (input.str("ProductId"), input.str("ProductName")) {
        (None, None) => Err(invalid("Either ProductId or ProductName must be specified")),
        (id, name) => super::product_by_id_or_name(state, id, name),
    }
}

/// The launch path `PathId` or `PathName` names among the caller's, or the only one.
fn choose_path<'s>(
    state: &'s State,
    identity: &Identity,
    product: &str,
    input: &Members,
) -> Result<(&'s Portfolio, &'s PortfolioProduct), ApiError> {
    let paths = launch_paths(state, identity, product);
    if paths.is_empty() {
        return Err(no_launch_paths(product));
    }
    let chosen = match (input.str("PathId"), input.str("PathName")) {
        (Some(id), _) => paths.iter().find(|(_, l)| l.path_id == id).ok_or_else(|| {
            not_found(format!(
                "Launch path {id} of product {product} not found for this principal"
            ))
        })?,
        (None, Some(name)) => paths
            .iter()
            .find(|(p, _)| p.display_name == name)
            .ok_or_else(|| {
                not_found(format!(
                    "Launch path {name} of product {product} not found for this principal"
                ))
            })?,
        (None, None) if paths.len() > 1 => {
            return Err(invalid(
                "More than one launch path ids exist. Please specify the launch path id",
            ));
        }
        (None, None) => &paths[0],
    };
    Ok(*chosen)
}

/// The launch role of the LAUNCH constraint on `product` in `portfolio`, if there is one.
fn path_launch_role(
    state: &State,
    portfolio: &str,
    product: &str,
) -> Result<Option<String>, ApiError> {
    state
        .constraints
        .values()
        .find(|c| {
            c.portfolio_id == portfolio && c.product_id == product && c.constraint_type == "LAUNCH"
        })
        .map(|c| launch_role(state, &c.parameters))
        .transpose()
}

/// `ProvisioningParameters` as key and value.
fn parameter_values(input: &Members) -> BTreeMap<String, String> {
    let mut values = BTreeMap::new();
    for p in input
        .get("ProvisioningParameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(key) = p.get("Key").and_then(Value::as_str) {
            let value = p.get("Value").and_then(Value::as_str).unwrap_or_default();
            values.insert(key.to_string(), value.to_string());
        }
    }
    values
}

// ---- the work -------------------------------------------------------------------------------

/// What a record's task does.
enum Work {
    /// Creates the stack.
    Provision { template: String, tags: Vec<Tag> },
    /// Updates the stack to a template and tags.
    Update {
        template: String,
        tags: Option<Vec<Tag>>,
    },
    /// Deletes the stack.
    Terminate {
        retain_resources: bool,
        ignore_errors: bool,
    },
}

/// One record's work, as its task runs it.
struct Job {
    record_id: String,
    pp_id: String,
    stack_name: String,
    values: BTreeMap<String, String>,
    work: Work,
    launch_role: Option<String>,
    caller: Caller,
    facts: RequestFacts,
    request_id: String,
    host: String,
}

/// How a record's work ended.
struct Outcome {
    succeeded: bool,
    errors: Vec<(String, String)>,
    outputs: Vec<(String, String, Option<String>)>,
    stack_id: Option<String>,
}

impl Outcome {
    fn failed(code: &str, message: String) -> Outcome {
        Outcome {
            succeeded: false,
            errors: vec![(code.to_string(), message)],
            outputs: Vec::new(),
            stack_id: None,
        }
    }
}

/// Who the work runs as: a `servicecatalog` session of the launch role, or the caller.
fn acting_as(app: &App, job: &Job) -> Result<Caller, String> {
    let Some(role_arn) = &job.launch_role else {
        return Ok(job.caller.clone());
    };
    let state = app.store.read();
    let cannot = || {
        format!(
            "Service Catalog cannot assume the launch role {role_arn}: the role does not exist or does not trust {SERVICE_PRINCIPAL}"
        )
    };
    let role = state
        .roles
        .values()
        .find(|r| state.role_arn(r) == *role_arn)
        .ok_or_else(cannot)?;
    if !crate::authz::trusts_service(&role.trust_policy, role_arn, SERVICE_PRINCIPAL) {
        return Err(cannot());
    }
    Caller::service_session(&state, role, LAUNCH_SESSION_NAME, job.facts.now).ok_or_else(cannot)
}

/// Runs a record: `IN_PROGRESS`, the stack operation, then the record's end.
async fn run(app: Arc<App>, job: Job) {
    set_in_progress(&app, &job.record_id).await;
    let outcome = match acting_as(&app, &job) {
        Err(message) => Outcome::failed("LaunchRoleError", message),
        Ok(caller) => {
            let principal = Principal {
                app: &app,
                caller,
                facts: job.facts.clone(),
                request_id: job.request_id.clone(),
                host: job.host.clone(),
                agent: SERVICE_PRINCIPAL,
            };
            work(&app, &principal, &job).await
        }
    };
    finish(&app, &job, outcome).await;
}

async fn set_in_progress(app: &App, record_id: &str) {
    let id = record_id.to_string();
    // A step of the record's work: synced with the record's end.
    let _ = app
        .store
        .write_as(Durability::Relaxed, None, move |state| {
            let Some(record) = state.records.get_mut(&id) else {
                return Ok(((), Vec::new()));
            };
            record.status = "IN_PROGRESS".into();
            record.updated_ms = now_ms();
            let change = Change::put(kind::CATALOG_RECORD, id.clone(), record);
            Ok(((), vec![change]))
        })
        .await;
}

/// The stack of the provisioned product as it stands, and how many events it had.
fn current_stack(app: &App, job: &Job) -> Option<Stack> {
    let state = app.store.read();
    let id = state
        .provisioned_products
        .get(&job.pp_id)
        .and_then(|p| p.stack_id.clone());
    id.and_then(|id| state.stacks.get(&id).cloned())
        .or_else(|| stack::find(&state, &job.facts.region, &job.stack_name).cloned())
}

async fn work(app: &App, principal: &Principal<'_>, job: &Job) -> Outcome {
    let before = current_stack(app, job);
    let seen = before.as_ref().map_or(0, |s| s.events.len());
    let (op, result) = match &job.work {
        Work::Provision { template, tags } => {
            let mut cx = principal.cx("cloudformation", "CreateStack");
            let new = NewStack {
                name: job.stack_name.clone(),
                values: job.values.clone(),
                capabilities: CAPABILITIES.map(String::from).to_vec(),
                tags: tags.clone(),
                role_arn: None,
                on_failure: OnFailure::Rollback,
            };
            let result = cloudformation::create(&mut cx, new, Ok(Some(template.clone()))).await;
            principal.finish(cx, &result);
            ("create", result.map(|_| ()))
        }
        Work::Update { template, tags } => {
            let Some(stack) = before.as_ref().filter(|s| !s.is_deleted()) else {
                return Outcome::failed(
                    "ValidationError",
                    format!(
                        "The provisioned product {} has no stack to update",
                        job.pp_id
                    ),
                );
            };
            let mut cx = principal.cx("cloudformation", "UpdateStack");
            let request = StackUpdate {
                name: stack.id.clone(),
                values: job.values.clone(),
                capabilities: CAPABILITIES.map(String::from).to_vec(),
                tags: tags.clone(),
                role_arn: None,
            };
            let result = cloudformation::update(&mut cx, request, Ok(template.clone())).await;
            principal.finish(cx, &result);
            match result {
                // An update to what is already there succeeds.
                Err(e) if e.message == "No updates are to be performed." => ("update", Ok(())),
                other => ("update", other.map(|_| ())),
            }
        }
        Work::Terminate {
            retain_resources,
            ignore_errors,
        } => {
            let Some(stack) = before.as_ref().filter(|s| !s.is_deleted()) else {
                // Nothing was created (or it is gone already).
                return Outcome {
                    succeeded: true,
                    errors: Vec::new(),
                    outputs: Vec::new(),
                    stack_id: before.map(|s| s.id),
                };
            };
            let retain: Vec<String> = if *retain_resources {
                stack
                    .resources
                    .iter()
                    .map(|r| r.logical_id.clone())
                    .collect()
            } else {
                Vec::new()
            };
            let mut cx = principal.cx("cloudformation", "DeleteStack");
            let result = cloudformation::delete(&mut cx, &stack.id, None, &retain).await;
            principal.finish(cx, &result);
            let mut outcome = stack_outcome(current_stack(app, job), seen, "delete", result);
            if *ignore_errors && !outcome.succeeded {
                outcome.succeeded = true;
            }
            return outcome;
        }
    };
    stack_outcome(current_stack(app, job), seen, op, result)
}

/// How a stack operation ended, from the call's answer and the stack's status and events
/// after event `seen`: the stack's reason and each failed resource's become `RecordErrors`.
fn stack_outcome(
    stack: Option<Stack>,
    seen: usize,
    op: &str,
    result: Result<(), ApiError>,
) -> Outcome {
    let mut outcome = Outcome {
        succeeded: false,
        errors: Vec::new(),
        outputs: Vec::new(),
        stack_id: stack.as_ref().map(|s| s.id.clone()),
    };
    if let Err(e) = result {
        outcome.errors.push((e.code.to_string(), e.message));
        return outcome;
    }
    let Some(stack) = stack else {
        return outcome;
    };
    let done = match op {
        "create" => "CREATE_COMPLETE",
        "update" => "UPDATE_COMPLETE",
        _ => "DELETE_COMPLETE",
    };
    // An update with nothing to do leaves the stack as it was.
    let unchanged = op == "update" && stack.events.len() == seen;
    if stack.status == done || unchanged {
        outcome.succeeded = true;
        if op != "delete" {
            outcome.outputs = stack
                .outputs
                .iter()
                .map(|o| (o.key.clone(), o.value.clone(), o.description.clone()))
                .collect();
            outcome.outputs.push((
                STACK_ARN_OUTPUT.into(),
                stack.id.clone(),
                Some("The ARN of the launched Cloudformation Stack".into()),
            ));
        }
        return outcome;
    }
    for event in stack.events.iter().skip(seen) {
        let Some(reason) = &event.reason else {
            continue;
        };
        let is_stack = event.logical_id == stack.name;
        let failing = event.status.ends_with("_FAILED")
            || (is_stack && event.status.contains("ROLLBACK_IN_PROGRESS"));
        if failing {
            outcome.errors.push((event.status.clone(), reason.clone()));
        }
    }
    if outcome.errors.is_empty() {
        outcome.errors.push((
            stack.status.clone(),
            format!("The stack {} ended {}", stack.name, stack.status),
        ));
    }
    outcome
}

/// Ends the record and sets the provisioned product's status; a terminated one is forgotten.
async fn finish(app: &App, job: &Job, outcome: Outcome) {
    let record_id = job.record_id.clone();
    let pp_id = job.pp_id.clone();
    let values = job.values.clone();
    let terminate = matches!(job.work, Work::Terminate { .. });
    let update = matches!(job.work, Work::Update { .. });
    let _ = app
        .store
        .write(None, move |state| {
            let mut changes = Vec::new();
            let Some(record) = state.records.get_mut(&record_id) else {
                return Ok(((), changes));
            };
            record.status = if outcome.succeeded {
                "SUCCEEDED"
            } else {
                "FAILED"
            }
            .into();
            record.updated_ms = now_ms();
            record.errors = if outcome.succeeded {
                Vec::new()
            } else {
                outcome.errors.clone()
            };
            record.outputs = outcome.outputs;
            let (artifact, path) = (record.artifact_id.clone(), record.path_id.clone());
            changes.push(Change::put(kind::CATALOG_RECORD, record_id.clone(), record));
            if terminate && outcome.succeeded {
                state.provisioned_products.remove(&pp_id);
                changes.push(Change::delete(kind::PROVISIONED_PRODUCT, pp_id));
                return Ok(((), changes));
            }
            let Some(pp) = state.provisioned_products.get_mut(&pp_id) else {
                return Ok(((), changes));
            };
            if outcome.stack_id.is_some() {
                pp.stack_id = outcome.stack_id;
            }
            let first_error = outcome.errors.first().map(|e| e.1.clone());
            if outcome.succeeded {
                pp.status = "AVAILABLE".into();
                pp.status_message = None;
                if !terminate {
                    pp.last_successful_provisioning_record_id = Some(record_id.clone());
                    pp.parameters = values;
                    pp.artifact_id = artifact;
                    pp.path_id = path;
                }
            } else if update || terminate {
                // The stack is as it was before: usable, but not what was asked for.
                pp.status = "TAINTED".into();
                pp.status_message = first_error;
            } else {
                pp.status = "ERROR".into();
                pp.status_message = first_error;
            }
            changes.push(Change::put(kind::PROVISIONED_PRODUCT, pp_id.clone(), pp));
            Ok(((), changes))
        })
        .await;
}

/// Marks the records a stopped server left unfinished as `FAILED`, and their provisioned
/// products as `ERROR` (a provisioning) or `TAINTED` (an update or termination): their tasks
/// died with the process. Run at start.
pub fn interrupted(state: &mut State, idle_since_ms: i64) -> Vec<Change> {
    let message = "rolewright stopped while this record was in progress; its stack shows how \
                   far it got";
    let mut changes = Vec::new();
    // A record waits while its stack works: it is idle only when its stack is too.
    let stack_busy = |state: &State, pp_id: &str| {
        state
            .provisioned_products
            .get(pp_id)
            .and_then(|pp| pp.stack_id.as_ref())
            .and_then(|id| state.stacks.get(id))
            .is_some_and(|s| s.in_progress() && s.last_activity_ms() > idle_since_ms)
    };
    let open: Vec<String> = state
        .records
        .values()
        .filter(|r| r.status == "CREATED" || r.status == "IN_PROGRESS")
        .filter(|r| r.updated_ms <= idle_since_ms && !stack_busy(state, &r.provisioned_product_id))
        .map(|r| r.id.clone())
        .collect();
    for id in open {
        let Some(record) = state.records.get_mut(&id) else {
            continue;
        };
        record.status = "FAILED".into();
        record.updated_ms = now_ms();
        record.errors = vec![("Interrupted".into(), message.into())];
        let (pp_id, provision) = (
            record.provisioned_product_id.clone(),
            record.record_type == "PROVISION_PRODUCT",
        );
        changes.push(Change::put(kind::CATALOG_RECORD, id.clone(), record));
        if let Some(pp) = state.provisioned_products.get_mut(&pp_id)
            && pp.status == "UNDER_CHANGE"
        {
            pp.status = if provision { "ERROR" } else { "TAINTED" }.into();
            pp.status_message = Some(message.into());
            changes.push(Change::put(kind::PROVISIONED_PRODUCT, pp_id, pp));
        }
    }
    changes
}

// ---- operations that start work -------------------------------------------------------------

/// A new record of `record_type` for `pp`, by the caller.
fn new_record(cx: &Cx<'_>, pp: &ProvisionedProduct, record_type: &str) -> CatalogRecord {
    let now = now_ms();
    CatalogRecord {
        id: new_id("rec"),
        record_type: record_type.into(),
        status: "CREATED".into(),
        provisioned_product_id: pp.id.clone(),
        provisioned_product_name: pp.name.clone(),
        region: pp.region.clone(),
        created_ms: now,
        updated_ms: now,
        product_id: pp.product_id.clone(),
        artifact_id: pp.artifact_id.clone(),
        path_id: pp.path_id.clone(),
        launch_role_arn: pp.launch_role_arn.clone(),
        errors: Vec::new(),
        tags: pp.tags.clone(),
        outputs: Vec::new(),
        user_arn: caller_user_arn(&cx.caller),
        user_arn_session: cx.caller.arn.clone(),
        request_id: cx.request_id.clone(),
    }
}

/// The answer to a repeated token: the record it started, as it stands now.
fn repeated_record(state: &State, key: &str) -> Option<Value> {
    let first = repeated(state, key)?;
    let id = first.pointer("/RecordDetail/RecordId")?.as_str()?;
    let record = state.records.get(id)?;
    Some(json!({"RecordDetail": record_detail(record)}))
}

/// Starts `job` once its record is stored: the answer is the `CREATED` record.
fn start(cx: &Cx<'_>, job: Job) {
    cx.app.spawn(move |app| run(app, job));
}

fn job(
    cx: &Cx<'_>,
    record: &CatalogRecord,
    stack_name: String,
    values: BTreeMap<String, String>,
    work: Work,
) -> Job {
    Job {
        record_id: record.id.clone(),
        pp_id: record.provisioned_product_id.clone(),
        stack_name,
        values,
        work,
        launch_role: record.launch_role_arn.clone(),
        caller: cx.caller.clone(),
        facts: cx.facts.clone(),
        request_id: cx.request_id.clone(),
        host: cx.host.clone(),
    }
}

pub(super) async fn provision_product(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let name = input.required("ProvisionedProductName");
    let token = input.required("ProvisionToken");
    let tags = tags_input(&input, "Tags")?;
    let values = parameter_values(&input);
    let key = format!("ProvisionProduct/{token}");
    let region = cx.facts.region.clone();
    let (pp, record, template) = {
        let state = cx.app.store.read();
        let product_id = product_id(&state, &input)?;
        let request = tags.clone();
        let product = authorize_product(
            cx,
            &state,
            &product_id,
            "servicecatalog:ProvisionProduct",
            |ctx| request_tags(ctx, &request),
        )?;
        if let Some(answer) = repeated_record(&state, &key) {
            return Ok(Reply::Json(answer));
        }
        let (portfolio, path) = choose_path(&state, &cx.caller.identity, &product_id, &input)?;
        let artifact = find_artifact(
            &product,
            input.str("ProvisioningArtifactId"),
            input.str("ProvisioningArtifactName"),
        )?;
        if !artifact.active {
            return Err(invalid(format!(
                "Provisioning artifact {} of product {product_id} is not active: an administrator made it inactive",
                artifact.id
            )));
        }
        let launch_role = path_launch_role(&state, &portfolio.id, &product_id)?;
        let id = new_id("pp");
        let pp = ProvisionedProduct {
            id: id.clone(),
            name: name.clone(),
            region: region.clone(),
            status: "UNDER_CHANGE".into(),
            status_message: None,
            created_ms: now_ms(),
            idempotency_token: token.clone(),
            last_record_id: String::new(),
            last_provisioning_record_id: String::new(),
            last_successful_provisioning_record_id: None,
            product_id: product_id.clone(),
            artifact_id: artifact.id.clone(),
            path_id: path.path_id.clone(),
            launch_role_arn: launch_role,
            stack_id: None,
            stack_name: format!("SC-{}-{id}", state.account),
            tags: tags.clone(),
            user_arn: caller_user_arn(&cx.caller),
            user_arn_session: cx.caller.arn.clone(),
            parameters: values.clone(),
        };
        let record = new_record(cx, &pp, "PROVISION_PRODUCT");
        (pp, record, artifact.template.clone())
    };
    let mut pp = pp;
    pp.last_record_id.clone_from(&record.id);
    pp.last_provisioning_record_id.clone_from(&record.id);
    let answer = json!({"RecordDetail": record_detail(&record)});
    let (stored_pp, stored_record) = (pp.clone(), record.clone());
    let fresh = cx
        .write(move |state| {
            if let Some(answer) = repeated_record(state, &key) {
                return Ok((Some(answer), Vec::new()));
            }
            let taken = state
                .provisioned_products
                .values()
                .any(|p| p.region == stored_pp.region && p.name == stored_pp.name);
            if taken {
                return Err(invalid(format!(
                    "A stack named {} already exists.",
                    stored_pp.name
                )));
            }
            let mut changes = vec![
                Change::put(kind::PROVISIONED_PRODUCT, stored_pp.id.clone(), &stored_pp),
                Change::put(
                    kind::CATALOG_RECORD,
                    stored_record.id.clone(),
                    &stored_record,
                ),
            ];
            state
                .provisioned_products
                .insert(stored_pp.id.clone(), stored_pp);
            state
                .records
                .insert(stored_record.id.clone(), stored_record);
            changes.extend(remember(state, key, &answer));
            Ok((None, changes))
        })
        .await?;
    if let Some(answer) = fresh {
        return Ok(Reply::Json(answer));
    }
    let work = Work::Provision { template, tags };
    let job = job(cx, &record, pp.stack_name.clone(), values, work);
    start(cx, job);
    Ok(Reply::Json(json!({"RecordDetail": record_detail(&record)})))
}

/// Stores a new record for an existing provisioned product (which goes `UNDER_CHANGE`),
/// unless the token was seen; gives the answer, and whether it is new.
async fn begin_change(
    cx: &mut Cx<'_>,
    key: String,
    record: CatalogRecord,
) -> Result<(Value, bool), ApiError> {
    let answer = json!({"RecordDetail": record_detail(&record)});
    cx.write(move |state| {
        if let Some(answer) = repeated_record(state, &key) {
            return Ok(((answer, false), Vec::new()));
        }
        let pp_id = record.provisioned_product_id.clone();
        let Some(pp) = state.provisioned_products.get_mut(&pp_id) else {
            return Err(pp_not_found(&pp_id));
        };
        if pp.status == "UNDER_CHANGE" || pp.status == "PLAN_IN_PROGRESS" {
            return Err(invalid(format!(
                "The provisioned product {} is {}: wait until its record {} ends",
                pp.name, pp.status, pp.last_record_id
            )));
        }
        pp.status = "UNDER_CHANGE".into();
        pp.last_record_id.clone_from(&record.id);
        if record.record_type == "UPDATE_PROVISIONED_PRODUCT" {
            pp.last_provisioning_record_id.clone_from(&record.id);
        }
        let mut changes = vec![
            Change::put(kind::PROVISIONED_PRODUCT, pp_id.clone(), &*pp),
            Change::put(kind::CATALOG_RECORD, record.id.clone(), &record),
        ];
        state.records.insert(record.id.clone(), record);
        changes.extend(remember(state, key, &answer));
        Ok(((answer, true), changes))
    })
    .await
}

pub(super) async fn update_provisioned_product(
    cx: &mut Cx<'_>,
    input: Members,
) -> Result<Reply, ApiError> {
    let token = input.required("UpdateToken");
    let key = format!("UpdateProvisionedProduct/{token}");
    let region = cx.facts.region.clone();
    let tags = match input.get("Tags") {
        Some(_) => Some(tags_input(&input, "Tags")?),
        None => None,
    };
    let (record, template, values, stack_name) = {
        let state = cx.app.store.read();
        let pp = find_pp(
            &state,
            &region,
            input.str("ProvisionedProductId"),
            input.str("ProvisionedProductName"),
        )?
        .clone();
        let request = tags.clone().unwrap_or_default();
        let level = Level::between(&cx.caller, &pp.user_arn, &pp.user_arn_session);
        cx.authorize(
            &state,
            "servicecatalog:UpdateProvisionedProduct",
            "*",
            |ctx| {
                level.context(ctx);
                request_tags(ctx, &request);
            },
        )?;
        if let Some(answer) = repeated_record(&state, &key) {
            return Ok(Reply::Json(answer));
        }
        let product_id = match (input.string("ProductId"), input.string("ProductName")) {
            (None, None) => pp.product_id.clone(),
            _ => product_id(&state, &input)?,
        };
        let product = state
            .products
            .get(&product_id)
            .ok_or_else(|| super::product_not_found(&product_id))?;
        let artifact = match (
            input.str("ProvisioningArtifactId"),
            input.str("ProvisioningArtifactName"),
        ) {
            (None, None) => find_artifact(product, Some(&pp.artifact_id), None)?,
            (id, name) => find_artifact(product, id, name)?,
        };
        let has_path = input.get("PathId").is_some() || input.get("PathName").is_some();
        let (portfolio, path) = if has_path {
            choose_path(&state, &cx.caller.identity, &product_id, &input)?
        } else {
            let paths = launch_paths(&state, &cx.caller.identity, &product_id);
            *paths
                .iter()
                .find(|(_, l)| l.path_id == pp.path_id)
                .or(paths.first())
                .ok_or_else(|| no_launch_paths(&product_id))?
        };
        let mut values = pp.parameters.clone();
        for p in input
            .get("ProvisioningParameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(key) = p.get("Key").and_then(Value::as_str) else {
                continue;
            };
            if p.get("UsePreviousValue").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            let value = p.get("Value").and_then(Value::as_str).unwrap_or_default();
            values.insert(key.to_string(), value.to_string());
        }
        let mut record = new_record(cx, &pp, "UPDATE_PROVISIONED_PRODUCT");
        record.product_id.clone_from(&product_id);
        record.artifact_id.clone_from(&artifact.id);
        record.path_id.clone_from(&path.path_id);
        record.launch_role_arn = path_launch_role(&state, &portfolio.id, &product_id)?;
        if let Some(tags) = &tags {
            record.tags.clone_from(tags);
        }
        (
            record,
            artifact.template.clone(),
            values,
            pp.stack_name.clone(),
        )
    };
    let (answer, fresh) = begin_change(cx, key, record.clone()).await?;
    if fresh {
        let work = Work::Update { template, tags };
        let job = job(cx, &record, stack_name, values, work);
        start(cx, job);
    }
    Ok(Reply::Json(answer))
}

pub(super) async fn terminate_provisioned_product(
    cx: &mut Cx<'_>,
    input: Members,
) -> Result<Reply, ApiError> {
    let token = input.required("TerminateToken");
    let key = format!("TerminateProvisionedProduct/{token}");
    let region = cx.facts.region.clone();
    let (record, stack_name, values) = {
        let state = cx.app.store.read();
        if let Some(answer) = repeated_record(&state, &key) {
            return Ok(Reply::Json(answer));
        }
        let pp = find_pp(
            &state,
            &region,
            input.str("ProvisionedProductId"),
            input.str("ProvisionedProductName"),
        )?
        .clone();
        authorize_owned(
            cx,
            &state,
            "servicecatalog:TerminateProvisionedProduct",
            &pp.user_arn,
            &pp.user_arn_session,
        )?;
        let mut record = new_record(cx, &pp, "TERMINATE_PROVISIONED_PRODUCT");
        // The launch role of the path as it is now: a changed constraint applies.
        let portfolio = state
            .portfolios
            .values()
            .find(|p| p.products.iter().any(|l| l.path_id == pp.path_id));
        if let Some(portfolio) = portfolio {
            record.launch_role_arn = path_launch_role(&state, &portfolio.id, &pp.product_id)?;
        }
        (record, pp.stack_name.clone(), pp.parameters.clone())
    };
    let (answer, fresh) = begin_change(cx, key, record.clone()).await?;
    if fresh {
        let work = Work::Terminate {
            retain_resources: input.bool("RetainPhysicalResources").unwrap_or(false),
            ignore_errors: input.bool("IgnoreErrors").unwrap_or(false),
        };
        let job = job(cx, &record, stack_name, values, work);
        start(cx, job);
    }
    Ok(Reply::Json(answer))
}

// ---- reads ----------------------------------------------------------------------------------

pub(super) fn describe_record(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let id = input.required("Id");
    let (size, token) = paging(&input);
    let state = cx.app.store.read();
    let Some(record) = state.records.get(&id) else {
        cx.authorize(&state, "servicecatalog:DescribeRecord", "*", |ctx| {
            Level::User.context(ctx);
        })?;
        return Err(not_found(format!("Record {id} not found")));
    };
    authorize_owned(
        cx,
        &state,
        "servicecatalog:DescribeRecord",
        &record.user_arn,
        &record.user_arn_session,
    )?;
    let outputs = outputs_answer(&record.outputs);
    let (outputs, next) = page(&outputs, token.as_deref(), size)?;
    Ok(Reply::Json(with_next(
        json!({"RecordDetail": record_detail(record), "RecordOutputs": outputs}),
        next,
    )))
}

pub(super) fn describe_provisioned_product(
    cx: &mut Cx<'_>,
    input: Members,
) -> Result<Reply, ApiError> {
    let region = cx.facts.region.clone();
    let state = cx.app.store.read();
    let found = find_pp(&state, &region, input.str("Id"), input.str("Name"));
    let pp = match found {
        Ok(pp) => pp,
        Err(e) => {
            cx.authorize(
                &state,
                "servicecatalog:DescribeProvisionedProduct",
                "*",
                |ctx| {
                    Level::User.context(ctx);
                },
            )?;
            return Err(e);
        }
    };
    authorize_owned(
        cx,
        &state,
        "servicecatalog:DescribeProvisionedProduct",
        &pp.user_arn,
        &pp.user_arn_session,
    )?;
    Ok(Reply::Json(json!({
        "ProvisionedProductDetail": pp_detail(&state, pp),
        "CloudWatchDashboards": [],
    })))
}

/// The provisioned products of the region within `level` of the caller, oldest first.
fn within<'s>(state: &'s State, cx: &Cx<'_>, level: Level) -> Vec<&'s ProvisionedProduct> {
    let mut found: Vec<&ProvisionedProduct> = state
        .provisioned_products
        .values()
        .filter(|p| p.region == cx.facts.region)
        .filter(|p| level.covers(&cx.caller, &p.user_arn, &p.user_arn_session))
        .collect();
    found.sort_by(|a, b| (a.created_ms, &a.id).cmp(&(b.created_ms, &b.id)));
    found
}

/// Whether a provisioned product's attribute answers one `SearchQuery` term: `field:value`
/// (the attribute's name, as the API spells it in camel case) or free text matched against
/// every attribute; case-insensitive, by substring.
fn matches_query(attribute: &Value, term: &str) -> bool {
    let wanted = |text: &str, value: &str| text.to_lowercase().contains(&value.to_lowercase());
    let as_text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if let Some((field, value)) = term.split_once(':') {
        let key = attribute.as_object().and_then(|m| {
            m.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(field))
                .map(|(_, v)| v)
        });
        if let Some(v) = key {
            return wanted(&as_text(v), value);
        }
    }
    attribute
        .as_object()
        .is_some_and(|m| m.values().any(|v| wanted(&as_text(v), term)))
}

pub(super) fn search_provisioned_products(
    cx: &mut Cx<'_>,
    input: Members,
) -> Result<Reply, ApiError> {
    let level = Level::of(&input)?;
    let (size, token) = paging(&input);
    let size = size.min(SEARCH_PAGE_MAX);
    let terms: Vec<String> = input
        .object("Filters")
        .and_then(|f| f.get("SearchQuery"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    let sort_by = input.string("SortBy");
    let descending = input.str("SortOrder") == Some("DESCENDING");
    let state = cx.app.store.read();
    cx.authorize(
        &state,
        "servicecatalog:SearchProvisionedProducts",
        "*",
        |ctx| {
            level.context(ctx);
        },
    )?;
    let mut found: Vec<Value> = within(&state, cx, level)
        .into_iter()
        .map(|p| pp_attribute(&state, p))
        .filter(|a| terms.iter().all(|t| matches_query(a, t)))
        .collect();
    if let Some(field) = &sort_by {
        let key = match field.as_str() {
            "arn" => "Arn",
            "id" => "Id",
            "name" => "Name",
            "lastRecordId" => "LastRecordId",
            other => {
                return Err(invalid(format!(
                    "SortBy `{other}` is not a sort field: use arn, id, name or lastRecordId"
                )));
            }
        };
        found.sort_by(|a, b| a[key].as_str().cmp(&b[key].as_str()));
    }
    if descending {
        found.reverse();
    }
    let total = found.len();
    let (items, next) = page(&found, token.as_deref(), size)?;
    Ok(Reply::Json(with_next(
        json!({"ProvisionedProducts": items, "TotalResultsCount": total}),
        next,
    )))
}

pub(super) fn scan_provisioned_products(
    cx: &mut Cx<'_>,
    input: Members,
) -> Result<Reply, ApiError> {
    let level = Level::of(&input)?;
    let (size, token) = paging(&input);
    let state = cx.app.store.read();
    cx.authorize(
        &state,
        "servicecatalog:ScanProvisionedProducts",
        "*",
        |ctx| {
            level.context(ctx);
        },
    )?;
    let found: Vec<Value> = within(&state, cx, level)
        .into_iter()
        .map(|p| pp_detail(&state, p))
        .collect();
    let (items, next) = page(&found, token.as_deref(), size)?;
    Ok(Reply::Json(with_next(
        json!({"ProvisionedProducts": items}),
        next,
    )))
}

pub(super) fn list_record_history(cx: &mut Cx<'_>, input: Members) -> Result<Reply, ApiError> {
    let level = Level::of(&input)?;
    let (size, token) = paging(&input);
    let filter = input.object("SearchFilter").map(|f| {
        let text = |k: &str| {
            f.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        (text("Key"), text("Value"))
    });
    if let Some((key, _)) = &filter
        && key != "product"
        && key != "provisionedproduct"
    {
        return Err(invalid(format!(
            "SearchFilter Key `{key}` is not supported: use product or provisionedproduct"
        )));
    }
    let state = cx.app.store.read();
    cx.authorize(&state, "servicecatalog:ListRecordHistory", "*", |ctx| {
        level.context(ctx);
    })?;
    let mut found: Vec<&CatalogRecord> = state
        .records
        .values()
        .filter(|r| r.region == cx.facts.region)
        .filter(|r| level.covers(&cx.caller, &r.user_arn, &r.user_arn_session))
        .filter(|r| match &filter {
            Some((key, value)) if key == "product" => r.product_id == *value,
            Some((_, value)) => r.provisioned_product_id == *value,
            None => true,
        })
        .collect();
    // Newest first.
    found.sort_by(|a, b| (b.created_ms, &b.id).cmp(&(a.created_ms, &a.id)));
    let details: Vec<Value> = found.into_iter().map(record_detail).collect();
    let (items, next) = page(&details, token.as_deref(), size)?;
    Ok(Reply::Json(with_next(
        json!({"RecordDetails": items}),
        next,
    )))
}

pub(super) fn get_provisioned_product_outputs(
    cx: &mut Cx<'_>,
    input: Members,
) -> Result<Reply, ApiError> {
    let keys = input.strings("OutputKeys");
    let (size, token) = paging(&input);
    let region = cx.facts.region.clone();
    let state = cx.app.store.read();
    cx.authorize(
        &state,
        "servicecatalog:GetProvisionedProductOutputs",
        "*",
        |_| {},
    )?;
    let pp = find_pp(
        &state,
        &region,
        input.str("ProvisionedProductId"),
        input.str("ProvisionedProductName"),
    )?;
    let outputs: Vec<(String, String, Option<String>)> = pp
        .last_successful_provisioning_record_id
        .as_ref()
        .and_then(|id| state.records.get(id))
        .map(|r| r.outputs.clone())
        .unwrap_or_default()
        .into_iter()
        .filter(|(key, _, _)| keys.is_empty() || keys.contains(key))
        .collect();
    let outputs = outputs_answer(&outputs);
    let (items, next) = page(&outputs, token.as_deref(), size)?;
    Ok(Reply::Json(with_next(json!({"Outputs": items}), next)))
}

pub(super) fn describe_provisioning_parameters(
    cx: &mut Cx<'_>,
    input: Members,
) -> Result<Reply, ApiError> {
    let state = cx.app.store.read();
    let product_id = product_id(&state, &input)?;
    let product = authorize_product(
        cx,
        &state,
        &product_id,
        "servicecatalog:DescribeProvisioningParameters",
        |_| {},
    )?;
    let (portfolio, _) = choose_path(&state, &cx.caller.identity, &product_id, &input)?;
    let artifact = find_artifact(
        &product,
        input.str("ProvisioningArtifactId"),
        input.str("ProvisioningArtifactName"),
    )?;
    let launch_role = path_launch_role(&state, &portfolio.id, &product_id)?;
    let mut instructions = vec![json!({"Type": "rules", "Value": "{}"})];
    let template = rolewright_cfn::Template::parse(&artifact.template).ok();
    if let Some(version) = template.as_ref().and_then(|t| t.format_version.clone()) {
        instructions.push(json!({"Type": "version", "Value": version}));
    }
    if let Some(role) = &launch_role {
        instructions.push(json!({"Type": "launchAsRole", "Value": role}));
    }
    let outputs: Vec<Value> = template
        .iter()
        .flat_map(|t| t.outputs.iter())
        .map(|o| {
            let mut v = json!({"Key": o.name});
            if let Some(rolewright_cfn::ExprKind::String(d)) =
                o.description.as_ref().map(|d| &d.kind)
            {
                v["Description"] = json!(d);
            }
            v
        })
        .collect();
    Ok(Reply::Json(json!({
        "ProvisioningArtifactParameters": template_parameters(&artifact.template),
        "ConstraintSummaries": super::constraint_summaries(&state, &portfolio.id, &product_id),
        "UsageInstructions": instructions,
        "TagOptions": [],
        "ProvisioningArtifactPreferences": {},
        "ProvisioningArtifactOutputs": outputs,
        "ProvisioningArtifactOutputKeys": outputs,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloudformation::stack::StackOutput;
    use crate::cloudformation::stack::tests::stack;

    fn caller(arn: &str, identity: Identity) -> Caller {
        Caller {
            arn: arn.into(),
            account: "111122223333".into(),
            user_id: "AIDA".into(),
            access_key_id: "AKIA".into(),
            identity,
            principal: rolewright_iam::Principal::parse(arn)
                .unwrap_or_else(|_| rolewright_iam::Principal::Service("x".into())),
        }
    }

    fn session(role: &str, name: &str) -> Caller {
        caller(
            &format!("arn:aws:sts::111122223333:assumed-role/{role}/{name}"),
            Identity::Session {
                role: role.into(),
                role_arn: format!("arn:aws:iam::111122223333:role/{role}"),
                tags: Vec::new(),
                issued: 0,
            },
        )
    }

    #[test]
    fn access_levels_follow_who_provisioned() {
        let owner = session("CloudAdmin", "alice");
        let (user, sess) = (caller_user_arn(&owner), owner.arn.clone());
        assert_eq!(user, "arn:aws:iam::111122223333:role/CloudAdmin");
        assert_eq!(Level::between(&owner, &user, &sess), Level::User);
        let same_role = session("CloudAdmin", "bob");
        assert_eq!(Level::between(&same_role, &user, &sess), Level::Role);
        assert!(Level::Role.covers(&same_role, &user, &sess));
        assert!(!Level::User.covers(&same_role, &user, &sess));
        let other = session("DataScientist", "carol");
        assert_eq!(Level::between(&other, &user, &sess), Level::Account);
        assert!(!Level::Role.covers(&other, &user, &sess));
        assert!(Level::Account.covers(&other, &user, &sess));
    }

    #[test]
    fn a_rolled_back_stack_gives_its_reason_and_each_failed_resource() {
        let mut s = stack();
        s.stack_event("CREATE_IN_PROGRESS", Some("User Initiated".into()), 1);
        s.events.push(crate::cloudformation::stack::StackEvent {
            id: "e".into(),
            logical_id: "Second".into(),
            physical_id: None,
            type_name: "AWS::SageMaker::UserProfile".into(),
            status: "CREATE_FAILED".into(),
            reason: Some("Resource handler returned message: \"no domain\"".into()),
            time_ms: 2,
            properties: None,
        });
        let reason =
            "The following resource(s) failed to create: [Second]. Rollback requested by user.";
        s.stack_event("ROLLBACK_IN_PROGRESS", Some(reason.into()), 3);
        s.stack_event("ROLLBACK_COMPLETE", None, 4);
        let outcome = stack_outcome(Some(s), 0, "create", Ok(()));
        assert!(!outcome.succeeded);
        assert_eq!(
            outcome.errors,
            vec![
                (
                    "CREATE_FAILED".to_string(),
                    "Resource handler returned message: \"no domain\"".to_string()
                ),
                ("ROLLBACK_IN_PROGRESS".to_string(), reason.to_string()),
            ]
        );
    }

    #[test]
    fn a_complete_stack_gives_its_outputs_and_its_arn() {
        let mut s = stack();
        s.stack_event("CREATE_COMPLETE", None, 1);
        s.outputs.push(StackOutput {
            key: "DomainId".into(),
            value: "d-abc".into(),
            description: None,
            export_name: None,
        });
        let id = s.id.clone();
        let outcome = stack_outcome(Some(s), 0, "create", Ok(()));
        assert!(outcome.succeeded);
        assert_eq!(
            outcome.outputs[0],
            ("DomainId".into(), "d-abc".into(), None)
        );
        assert_eq!(outcome.outputs[1].0, STACK_ARN_OUTPUT);
        assert_eq!(outcome.outputs[1].1, id);
    }

    #[test]
    fn a_call_refused_fails_the_record_with_its_code_and_message() {
        let refused = ApiError::new("ValidationError", 400, "Template format error: x");
        let outcome = stack_outcome(None, 0, "create", Err(refused));
        assert!(!outcome.succeeded);
        assert_eq!(
            outcome.errors,
            vec![(
                "ValidationError".to_string(),
                "Template format error: x".to_string()
            )]
        );
    }

    #[test]
    fn search_terms_match_a_field_or_any_attribute() {
        let attribute = json!({"Name": "studio-domain", "Id": "pp-abc", "Status": "AVAILABLE"});
        assert!(matches_query(&attribute, "name:studio"));
        assert!(matches_query(&attribute, "STATUS:available"));
        assert!(!matches_query(&attribute, "name:pp-abc"));
        assert!(matches_query(&attribute, "pp-abc"));
        assert!(!matches_query(&attribute, "profile"));
    }

    fn record(status: &str, record_type: &str) -> CatalogRecord {
        CatalogRecord {
            id: format!("rec-{status}"),
            record_type: record_type.into(),
            status: status.into(),
            provisioned_product_id: "pp-1".into(),
            provisioned_product_name: "p".into(),
            region: "us-east-1".into(),
            created_ms: 0,
            updated_ms: 0,
            product_id: "prod-1".into(),
            artifact_id: "pa-1".into(),
            path_id: "lpv3-1".into(),
            launch_role_arn: None,
            errors: Vec::new(),
            tags: Vec::new(),
            outputs: Vec::new(),
            user_arn: String::new(),
            user_arn_session: String::new(),
            request_id: String::new(),
        }
    }

    #[test]
    fn records_left_in_progress_by_a_stopped_server_end_failed() {
        let mut state = State::default();
        for r in [
            record("IN_PROGRESS", "PROVISION_PRODUCT"),
            record("SUCCEEDED", "PROVISION_PRODUCT"),
        ] {
            state.records.insert(r.id.clone(), r);
        }
        let changes = interrupted(&mut state, i64::MAX);
        assert_eq!(changes.len(), 1);
        assert_eq!(state.records["rec-IN_PROGRESS"].status, "FAILED");
        assert_eq!(state.records["rec-IN_PROGRESS"].errors[0].0, "Interrupted");
        assert_eq!(state.records["rec-SUCCEEDED"].status, "SUCCEEDED");
    }

    #[test]
    fn a_record_that_moved_after_the_cutoff_is_left_to_the_replica_running_it() {
        let mut state = State::default();
        let mut r = record("IN_PROGRESS", "PROVISION_PRODUCT");
        r.updated_ms = 2_000;
        state.records.insert(r.id.clone(), r);
        assert!(interrupted(&mut state, 1_000).is_empty());
        assert_eq!(state.records["rec-IN_PROGRESS"].status, "IN_PROGRESS");
        assert_eq!(interrupted(&mut state, 2_000).len(), 1);
        assert_eq!(state.records["rec-IN_PROGRESS"].status, "FAILED");
    }
}
