//! CloudFormation over the query protocol: stacks of the resource types the control plane
//! provisions, run inside the request by [`engine`] through [`providers`], with their events,
//! resources, outputs and exports, and the template operations.

mod catalog;
pub mod engine;
pub mod providers;
pub mod stack;
mod template;
mod update;

use std::collections::BTreeMap;

use rolewright_cfn::{StackContext, Template};

use self::engine::OnFailure;
use self::providers::Principal;
pub use self::stack::Stack;
use self::stack::{find, write_event, write_resource, write_stack};
pub(crate) use self::update::{StackUpdate, update};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::model::State;
use crate::operation::operation_table;
use crate::server::{Cx, Reply, TemplateFileError, invalid_action, now_ms};
use crate::wire::query::{Check, Params};
use crate::wire::xml::XmlWriter;

/// CloudFormation's XML namespace.
pub const NAMESPACE: &str = "http://cloudformation.amazonaws.com/doc/2010-05-15/";
/// The API version.
pub const VERSION: &str = "2010-05-15";
/// The service principal a stack's `RoleARN` must trust.
pub const SERVICE_PRINCIPAL: &str = "cloudformation.amazonaws.com";
/// The session name of the stack role's sessions.
pub const SESSION_NAME: &str = "AWSCloudFormation";
/// The largest `TemplateBody` CloudFormation accepts.
const MAX_TEMPLATE_BODY: usize = 51_200;
/// The largest template read from a `TemplateURL`.
const MAX_TEMPLATE_URL: u64 = 1_000_000;

operation_table! {
    service "cloudformation";
    pub async fn dispatch(cx, p: &mut Params) else |other| invalid_action(other, VERSION);
    "CreateStack" on "stack" => create_stack(cx, p).await,
    "DescribeStacks" on "stack" => describe_stacks(cx, p),
    "DescribeStackEvents" on "stack" => describe_stack_events(cx, p),
    "DescribeStackResources" on "stack" => describe_stack_resources(cx, p),
    "DescribeStackResource" on "stack" => describe_stack_resource(cx, p),
    "ListStackResources" on "stack" => list_stack_resources(cx, p),
    "ListStacks" on "*" => list_stacks(cx, p),
    "GetTemplate" on "stack" => get_template(cx, p),
    "DeleteStack" on "stack" => delete_stack(cx, p).await,
    "ValidateTemplate" on "*" => template::validate_template(cx, p),
    "GetTemplateSummary" on "stack" => template::get_template_summary(cx, p),
    "ListExports" on "*" => list_exports(cx, p),
    "UpdateStack" on "stack" => update::update_stack(cx, p).await,
    "CreateChangeSet" on "stack" => update::create_change_set(cx, p).await,
    "DescribeChangeSet" on "stack" => update::describe_change_set(cx, p),
    "ExecuteChangeSet" on "stack" => update::execute_change_set(cx, p).await,
    "DeleteChangeSet" on "stack" => update::delete_change_set(cx, p).await,
    "ListChangeSets" on "stack" => update::list_change_sets(cx, p),
    "ListImports" on "*" => list_imports(cx, p),
}

/// CloudFormation's `ValidationError`.
pub fn validation(message: impl Into<String>) -> ApiError {
    ApiError::new("ValidationError", 400, message)
}

fn no_stack(name: &str) -> ApiError {
    validation(format!("Stack with id {name} does not exist"))
}

/// The ARN a request about stack `name` is authorized on: the stack's own, or the pattern of
/// a stack of that name.
fn stack_resource(state: &State, region: &str, name: &str) -> String {
    match find(state, region, name) {
        Some(stack) => stack.id.clone(),
        None if name.starts_with("arn:") => name.to_string(),
        None => format!(
            "arn:aws:cloudformation:{region}:{}:stack/{name}/*",
            state.account
        ),
    }
}

/// Reads `StackName` with the model's pattern.
fn stack_name(p: &mut Params, required: bool) -> Option<String> {
    let name = if required {
        Some(p.required("StackName", Check::Length(1, 255)))
    } else {
        p.optional("StackName", Check::Length(1, 255))
    };
    if let Some(n) = &name
        && !n.is_empty()
        && !n.starts_with("arn:")
    {
        let mut chars = n.chars();
        let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '-')
            && n.len() <= 128;
        if !valid {
            p.fail(format!(
                "Value '{n}' at 'stackName' failed to satisfy constraint: Member must satisfy \
                 regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*|arn:[-a-zA-Z0-9:/._+]*"
            ));
        }
    }
    name
}

/// The template a request gives, as `TemplateBody` or a `TemplateURL` (a `file://` URL or a
/// local path: the control plane reads no S3).
fn template_text(cx: &Cx<'_>, p: &mut Params) -> Result<Option<String>, ApiError> {
    let body = p.optional("TemplateBody", Check::Length(1, MAX_TEMPLATE_BODY));
    let url = p.optional("TemplateURL", Check::Length(1, 5120));
    match (body, url) {
        (Some(_), Some(_)) => Err(validation(
            "Exactly one of TemplateBody or TemplateUrl must be specified.",
        )),
        (Some(body), None) => Ok(Some(body)),
        (None, Some(url)) => {
            if url.starts_with("http://") || url.starts_with("https://") || url.starts_with("s3://")
            {
                return Err(validation(format!(
                    "TemplateURL must be a file:// URL or a local path: rolewright reads no S3 \
                     (got `{url}`)"
                )));
            }
            match cx.app.read_template_file(&url, MAX_TEMPLATE_URL) {
                Ok(text) => Ok(Some(text)),
                Err(TemplateFileError::TooLarge(_)) => Err(validation(format!(
                    "Template may not exceed {MAX_TEMPLATE_URL} bytes in size."
                ))),
                Err(e) => Err(validation(format!(
                    "The template at `{url}` cannot be read: {e}"
                ))),
            }
        }
        (None, None) => Ok(None),
    }
}

/// Parses a template, answering its first error as `ValidationError`.
fn parse_template(text: &str) -> Result<Template, ApiError> {
    Template::parse(text).map_err(|e| validation(e.message()))
}

/// Checks that every resource is of a type the control plane provisions: the first that is
/// not is named with its logical id, before anything is created.
fn check_types(template: &Template) -> Result<(), ApiError> {
    template
        .check_resource_types()
        .map_err(|e| validation(e.message()))?;
    if let Some(resource) = template
        .resources
        .iter()
        .find(|r| !providers::provides(&r.type_name))
    {
        return Err(validation(format!(
            "Template format error: Unrecognized resource types: [{}] (resource {})",
            resource.type_name, resource.logical_id
        )));
    }
    Ok(())
}

/// A stack id: `arn:aws:cloudformation:REGION:ACCOUNT:stack/NAME/UUID`.
fn new_stack_id(account: &str, region: &str, name: &str) -> String {
    format!(
        "arn:aws:cloudformation:{region}:{account}:stack/{name}/{}",
        crate::ids::request_id()
    )
}

/// The principal a stack's resources are created as: a session of its role, or the caller.
fn principal<'a>(cx: &Cx<'a>, caller: Caller) -> Principal<'a> {
    Principal {
        app: cx.app,
        caller,
        facts: cx.facts.clone(),
        request_id: cx.request_id.clone(),
        host: cx.host.clone(),
        agent: SERVICE_PRINCIPAL,
    }
}

/// Checks a `RoleARN`: the caller may pass it to CloudFormation, and it trusts CloudFormation;
/// gives the session the stack acts as.
fn stack_role_session(cx: &mut Cx<'_>, role_arn: &str) -> Result<Caller, ApiError> {
    let invalid = || validation(format!("Role {role_arn} is invalid or cannot be assumed"));
    let state = cx.app.store.read();
    match cx.authorize_pass_role(&state, role_arn, SERVICE_PRINCIPAL) {
        Ok(()) => {}
        Err(e) if e.code == "AccessDenied" => return Err(e),
        Err(_) => return Err(invalid()),
    }
    let role = state
        .roles
        .values()
        .find(|r| state.role_arn(r) == role_arn)
        .ok_or_else(invalid)?;
    if !crate::authz::trusts_service(&role.trust_policy, role_arn, SERVICE_PRINCIPAL) {
        return Err(invalid());
    }
    Caller::service_session(&state, role, SESSION_NAME, cx.facts.now).ok_or_else(invalid)
}

/// `Parameters.member.N.ParameterKey` / `ParameterValue`.
fn parameter_values(p: &mut Params) -> BTreeMap<String, String> {
    let mut values = BTreeMap::new();
    for prefix in p.structs("Parameters") {
        let key = p.optional(&format!("{prefix}ParameterKey"), Check::Length(0, 255));
        let value = p
            .optional(
                &format!("{prefix}ParameterValue"),
                Check::Length(0, 1_000_000),
            )
            .unwrap_or_default();
        if let Some(key) = key {
            values.insert(key, value);
        }
    }
    values
}

/// A template checked and linked for a stack, and who its resources are made as.
pub(crate) struct Prepared {
    /// The template.
    pub template: Template,
    /// The plan.
    pub plan: rolewright_cfn::Plan,
    /// The stack's principal.
    pub caller: Caller,
}

/// Checks a template for stack `name` (id `id`) as CreateStack, UpdateStack and
/// CreateChangeSet do: its format and resource types, the capabilities it needs, the
/// `RoleARN` (passable, trusting CloudFormation), then links it with the parameter values and
/// the region's exports (the stack's own excepted).
pub(crate) fn prepare(
    cx: &mut Cx<'_>,
    name: &str,
    id: &str,
    text: &str,
    values: &BTreeMap<String, String>,
    capabilities: &[String],
    role_arn: Option<&str>,
) -> Result<Prepared, ApiError> {
    let template = parse_template(text)?;
    check_types(&template)?;
    if let Some(needed) = template.required_capability()
        && !needed.capability.granted_by(capabilities)
    {
        return Err(ApiError::new(
            "InsufficientCapabilitiesException",
            400,
            needed.capability.missing_message(),
        ));
    }
    let caller = match role_arn {
        Some(arn) => stack_role_session(cx, arn)?,
        None => cx.caller.clone(),
    };
    let region = cx.facts.region.clone();
    let (account, exports) = {
        let state = cx.app.store.read();
        let mut exports = BTreeMap::new();
        for stack in state
            .stacks
            .values()
            .filter(|s| s.region == region && s.id != id)
        {
            for (export, value) in stack.exports() {
                exports.insert(
                    export.to_string(),
                    rolewright_cfn::Export {
                        value: value.to_string(),
                        stack_name: stack.name.clone(),
                    },
                );
            }
        }
        (state.account.clone(), exports)
    };
    let mut context = StackContext::new(&account, &region, name).with_stack_id(id);
    context.exports = exports;
    let plan = template
        .link(&context, values)
        .map_err(|e| validation(e.message()))?;
    Ok(Prepared {
        template,
        plan,
        caller,
    })
}

/// A stack to create, as `CreateStack` asks for it (or Service Catalog, for a product).
pub(crate) struct NewStack {
    /// `StackName`.
    pub name: String,
    /// `Parameters`.
    pub values: BTreeMap<String, String>,
    /// `Capabilities`.
    pub capabilities: Vec<String>,
    /// `Tags`: the stack's, and every taggable resource's.
    pub tags: Vec<crate::model::Tag>,
    /// `RoleARN`.
    pub role_arn: Option<String>,
    /// `OnFailure` (or `DisableRollback`).
    pub on_failure: OnFailure,
}

/// `CreateStack`: reads the request and runs [`create`].
async fn create_stack(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let name = stack_name(p, true).unwrap_or_default();
    let role_arn = p.optional("RoleARN", Check::Length(20, 2048));
    let capabilities = p.list("Capabilities", Check::Length(1, 64));
    let values = parameter_values(p);
    let tags = p.tags("Tags");
    let disable_rollback = p.bool("DisableRollback").unwrap_or(false);
    let on_failure = p.optional("OnFailure", Check::Length(1, 16));
    let text = template_text(cx, p);
    p.finish()?;
    let on_failure = match (on_failure.as_deref(), disable_rollback) {
        (Some(_), true) => {
            return Err(validation(
                "You cannot specify both DisableRollback and OnFailure.",
            ));
        }
        (None | Some("ROLLBACK"), false) => OnFailure::Rollback,
        (Some("DO_NOTHING"), _) | (None, true) => OnFailure::DoNothing,
        (Some("DELETE"), _) => OnFailure::Delete,
        (Some(other), _) => {
            return Err(validation(format!(
                "1 validation error detected: Value '{other}' at 'onFailure' failed to satisfy \
                 constraint: Member must satisfy enum value set: [DO_NOTHING, ROLLBACK, DELETE]"
            )));
        }
    };
    let new = NewStack {
        name,
        values,
        capabilities,
        tags,
        role_arn,
        on_failure,
    };
    let id = create(cx, new, text).await?;
    let mut x = XmlWriter::new();
    x.leaf("StackId", &id);
    Ok(Reply::Xml(x))
}

/// Creates a stack: authorizes `cloudformation:CreateStack` on it, checks the template (as
/// the request gave it, or why it could not be read), the capabilities and the role, then runs
/// it and gives its id once it is `CREATE_COMPLETE` or rolled back.
pub(crate) async fn create(
    cx: &mut Cx<'_>,
    new: NewStack,
    template: Result<Option<String>, ApiError>,
) -> Result<String, ApiError> {
    let NewStack {
        name,
        values,
        capabilities,
        tags,
        role_arn,
        on_failure,
    } = new;
    let region = cx.facts.region.clone();
    {
        let state = cx.app.store.read();
        let resource = format!(
            "arn:aws:cloudformation:{region}:{}:stack/{name}/*",
            state.account
        );
        let (request_tags, role) = (tags.clone(), role_arn.clone());
        cx.authorize(&state, "cloudformation:CreateStack", &resource, |ctx| {
            crate::authz::request_tags(ctx, &request_tags);
            if let Some(role) = role {
                ctx.set("cloudformation:RoleArn", role);
            }
        })?;
    }
    let text = template?
        .ok_or_else(|| validation("Either Template URL or Template Body must be specified."))?;
    {
        let template = parse_template(&text)?;
        check_types(&template)?;
    }
    if find(&cx.app.store.read(), &region, &name).is_some() {
        return Err(ApiError::new(
            "AlreadyExistsException",
            400,
            format!("Stack [{name}] already exists"),
        ));
    }
    let account = cx.app.store.read().account.clone();
    let id = new_stack_id(&account, &region, &name);
    let Prepared {
        template,
        plan,
        caller,
    } = prepare(
        cx,
        &name,
        &id,
        &text,
        &values,
        &capabilities,
        role_arn.as_deref(),
    )?;
    let now = now_ms();
    let mut stack = Stack {
        id: id.clone(),
        name,
        region,
        template: text,
        description: template.description.clone(),
        parameters: plan
            .parameters
            .iter()
            .map(|lp| (lp.name.clone(), lp.shown_value().to_string()))
            .collect(),
        capabilities,
        role_arn,
        tags,
        status: String::new(),
        status_reason: None,
        disable_rollback: on_failure == OnFailure::DoNothing,
        created_ms: now,
        deleted_ms: None,
        resources: Vec::new(),
        events: Vec::new(),
        outputs: Vec::new(),
        parameter_values: plan
            .parameters
            .iter()
            .map(|lp| (lp.name.clone(), lp.given.clone()))
            .collect(),
        updated_ms: None,
        change_sets: Vec::new(),
        imports: imported_names(&template, &plan),
    };
    stack.stack_event("CREATE_IN_PROGRESS", Some("User Initiated".into()), now);
    engine::begin(cx, &stack).await?;
    let principal = principal(cx, caller);
    engine::create(cx, &principal, &mut stack, &plan, on_failure).await?;
    Ok(id)
}

/// `DeleteStack`: reads the request and runs [`delete`].
async fn delete_stack(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let name = stack_name(p, true).unwrap_or_default();
    let role_arn = p.optional("RoleARN", Check::Length(20, 2048));
    let retain: Vec<String> = p.list("RetainResources", Check::Length(1, 255));
    p.finish()?;
    delete(cx, &name, role_arn, &retain).await?;
    Ok(Reply::Empty)
}

/// Deletes stack `name` (a name or a stack id): its resources in reverse order (keeping
/// retained ones and those of `retain`) as the stack's role, the `role_arn` given, or the
/// caller. A stack that does not exist is no error.
pub(crate) async fn delete(
    cx: &mut Cx<'_>,
    name: &str,
    role_arn: Option<String>,
    retain: &[String],
) -> Result<(), ApiError> {
    let region = cx.facts.region.clone();
    let found = {
        let state = cx.app.store.read();
        let resource = stack_resource(&state, &region, name);
        let role = role_arn.clone();
        cx.authorize(&state, "cloudformation:DeleteStack", &resource, |ctx| {
            if let Some(role) = role {
                ctx.set("cloudformation:RoleArn", role);
            }
        })?;
        find(&state, &region, name).cloned()
    };
    let Some(mut stack) = found.filter(|s| !s.is_deleted()) else {
        // Deleting a stack that is gone succeeds, as CloudFormation answers it.
        cx.note_allowed("cloudformation:DeleteStack", "the stack does not exist");
        return Ok(());
    };
    let found_status = stack.status.clone();
    let role = role_arn.or_else(|| stack.role_arn.clone());
    let caller = match &role {
        Some(arn) => stack_role_session(cx, arn)?,
        None => cx.caller.clone(),
    };
    for resource in stack.resources.iter_mut() {
        if retain.contains(&resource.logical_id) {
            resource.retain = true;
        }
    }
    stack.stack_event(
        "DELETE_IN_PROGRESS",
        Some("User Initiated".into()),
        now_ms(),
    );
    engine::claim(cx, &stack, &found_status, |_, status| {
        validation(format!(
            "Stack [{name}] cannot be deleted while in status {status}"
        ))
    })
    .await?;
    // An export another stack imports keeps the stack: CloudFormation takes it back to the
    // status it had, with the reason as the event's, and deletes nothing.
    let in_use = {
        let state = cx.app.store.read();
        stack.exports().find_map(|(export, _)| {
            state
                .stacks
                .values()
                .filter(|s| s.region == stack.region && s.id != stack.id && !s.is_deleted())
                .find(|s| s.imports.iter().any(|i| i == export))
                .map(|importer| (export.to_string(), importer.name.clone()))
        })
    };
    if let Some((export, importer)) = in_use {
        stack.stack_event(
            &found_status,
            Some(format!(
                "Export {export} cannot be deleted as it is in use by {importer}"
            )),
            now_ms(),
        );
        engine::save_final(cx, &stack).await?;
        return Ok(());
    }
    let principal = principal(cx, caller);
    let ok = engine::delete_resources(&principal, &mut stack, false).await;
    if ok {
        stack.stack_event("DELETE_COMPLETE", None, now_ms());
        stack.deleted_ms = Some(now_ms());
    } else {
        let reason = stack.failed_to_delete();
        stack.stack_event("DELETE_FAILED", Some(reason), now_ms());
    }
    engine::save_final(cx, &stack).await
}

/// Authorizes a read of one stack and gives it; a stack that does not exist (or is deleted,
/// when named by name) is AWS's ValidationError.
fn read_stack(cx: &mut Cx<'_>, p: &mut Params, action: &str) -> Result<Stack, ApiError> {
    let name = stack_name(p, true).unwrap_or_default();
    p.finish()?;
    let region = cx.facts.region.clone();
    let state = cx.app.store.read();
    let resource = stack_resource(&state, &region, &name);
    cx.authorize(&state, action, &resource, |_| {})?;
    find(&state, &region, &name)
        .cloned()
        .ok_or_else(|| no_stack(&name))
}

/// `DescribeStacks`: one stack by name or id, or every live stack.
fn describe_stacks(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let name = stack_name(p, false);
    let _ = p.optional("NextToken", Check::Length(1, 1024));
    p.finish()?;
    let region = cx.facts.region.clone();
    let state = cx.app.store.read();
    let stacks: Vec<&Stack> = match &name {
        Some(name) => {
            let resource = stack_resource(&state, &region, name);
            cx.authorize(&state, "cloudformation:DescribeStacks", &resource, |_| {})?;
            vec![find(&state, &region, name).ok_or_else(|| no_stack(name))?]
        }
        None => {
            cx.authorize(&state, "cloudformation:DescribeStacks", "*", |_| {})?;
            let mut live: Vec<&Stack> = state
                .stacks
                .values()
                .filter(|s| s.region == region && !s.is_deleted())
                .collect();
            live.sort_by_key(|s| std::cmp::Reverse(s.created_ms));
            live
        }
    };
    let mut x = XmlWriter::new();
    x.open("Stacks");
    for stack in stacks {
        write_stack(&mut x, stack);
    }
    x.close("Stacks");
    Ok(Reply::Xml(x))
}

/// `DescribeStackEvents`: newest first.
fn describe_stack_events(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let _ = p.optional("NextToken", Check::Length(1, 1024));
    let stack = read_stack(cx, p, "cloudformation:DescribeStackEvents")?;
    let mut x = XmlWriter::new();
    x.open("StackEvents");
    for event in stack.events.iter().rev() {
        write_event(&mut x, &stack, event);
    }
    x.close("StackEvents");
    Ok(Reply::Xml(x))
}

/// `DescribeStackResources`: by stack, optionally one logical id; or by physical id.
fn describe_stack_resources(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let name = stack_name(p, false);
    let logical = p.optional("LogicalResourceId", Check::Length(1, 255));
    let physical = p.optional("PhysicalResourceId", Check::Length(1, 2048));
    p.finish()?;
    let region = cx.facts.region.clone();
    let state = cx.app.store.read();
    let stack = match (&name, &physical) {
        (Some(name), _) => find(&state, &region, name).ok_or_else(|| no_stack(name))?,
        (None, Some(physical)) => state
            .stacks
            .values()
            .filter(|s| s.region == region && !s.is_deleted())
            .find(|s| {
                s.resources
                    .iter()
                    .any(|r| r.physical_id.as_deref() == Some(physical.as_str()))
            })
            .ok_or_else(|| no_stack(physical))?,
        (None, None) => {
            return Err(validation(
                "Either StackName or PhysicalResourceId must be specified.",
            ));
        }
    };
    let resource = stack.id.clone();
    cx.authorize(
        &state,
        "cloudformation:DescribeStackResources",
        &resource,
        |_| {},
    )?;
    let mut x = XmlWriter::new();
    x.open("StackResources");
    for r in stack.resources.iter().filter(|r| {
        logical.as_deref().is_none_or(|l| r.logical_id == l)
            && physical
                .as_deref()
                .is_none_or(|ph| r.physical_id.as_deref() == Some(ph))
    }) {
        write_resource(&mut x, stack, r);
    }
    x.close("StackResources");
    Ok(Reply::Xml(x))
}

/// `DescribeStackResource`.
fn describe_stack_resource(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let logical = p.required("LogicalResourceId", Check::Length(1, 255));
    let stack = read_stack(cx, p, "cloudformation:DescribeStackResource")?;
    let resource = stack
        .resources
        .iter()
        .find(|r| r.logical_id == logical)
        .ok_or_else(|| {
            validation(format!(
                "Resource {logical} does not exist for stack {}",
                stack.name
            ))
        })?;
    let mut x = XmlWriter::new();
    stack::write_resource_detail(&mut x, &stack, resource);
    Ok(Reply::Xml(x))
}

/// `ListStackResources`.
fn list_stack_resources(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let _ = p.optional("NextToken", Check::Length(1, 1024));
    let stack = read_stack(cx, p, "cloudformation:ListStackResources")?;
    let mut x = XmlWriter::new();
    x.open("StackResourceSummaries");
    for resource in &stack.resources {
        stack::write_resource_summary(&mut x, resource);
    }
    x.close("StackResourceSummaries");
    Ok(Reply::Xml(x))
}

/// `ListStacks`: every stack of the region, deleted ones included, newest first.
fn list_stacks(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let filter = p.list("StackStatusFilter", Check::Length(1, 64));
    let _ = p.optional("NextToken", Check::Length(1, 1024));
    p.finish()?;
    let region = cx.facts.region.clone();
    let state = cx.app.store.read();
    cx.authorize(&state, "cloudformation:ListStacks", "*", |_| {})?;
    let mut stacks: Vec<&Stack> = state
        .stacks
        .values()
        .filter(|s| s.region == region)
        .filter(|s| filter.is_empty() || filter.contains(&s.status))
        .collect();
    stacks.sort_by_key(|s| std::cmp::Reverse(s.created_ms));
    let mut x = XmlWriter::new();
    x.open("StackSummaries");
    for stack in stacks {
        stack::write_summary(&mut x, stack);
    }
    x.close("StackSummaries");
    Ok(Reply::Xml(x))
}

/// `GetTemplate`: the template as given.
fn get_template(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let _ = p.optional("ChangeSetName", Check::Length(1, 1600));
    let _ = p.optional("TemplateStage", Check::Length(1, 16));
    let stack = read_stack(cx, p, "cloudformation:GetTemplate")?;
    let mut x = XmlWriter::new();
    x.leaf("TemplateBody", &stack.template)
        .members("StagesAvailable", ["Original", "Processed"]);
    Ok(Reply::Xml(x))
}

/// `ListExports`: the exports of the region's live stacks, by name.
fn list_exports(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let _ = p.optional("NextToken", Check::Length(1, 1024));
    p.finish()?;
    let region = cx.facts.region.clone();
    let state = cx.app.store.read();
    cx.authorize(&state, "cloudformation:ListExports", "*", |_| {})?;
    let mut exports: Vec<(&str, &str, &str)> = state
        .stacks
        .values()
        .filter(|s| s.region == region)
        .flat_map(|s| s.exports().map(move |(n, v)| (n, v, s.id.as_str())))
        .collect();
    exports.sort();
    let mut x = XmlWriter::new();
    x.open("Exports");
    for (name, value, stack_id) in exports {
        x.open("member")
            .leaf("ExportingStackId", stack_id)
            .leaf("Name", name)
            .leaf("Value", value)
            .close("member");
    }
    x.close("Exports");
    Ok(Reply::Xml(x))
}

/// The export names a template imports where they can be read without the resources: a
/// literal, a parameter, or an `Fn::Sub` of text, parameters and the stack's pseudo parameters.
pub(crate) fn imported_names(template: &Template, plan: &rolewright_cfn::Plan) -> Vec<String> {
    use rolewright_cfn::{ExprKind, SubPart};
    let stack = plan.stack();
    let value_of = |name: &str| -> Option<String> {
        match name {
            "AWS::StackName" => Some(stack.stack_name.clone()),
            "AWS::Region" => Some(stack.region.clone()),
            "AWS::AccountId" => Some(stack.account_id.clone()),
            "AWS::StackId" => Some(stack.stack_id.clone()),
            other => plan
                .parameters
                .iter()
                .find(|p| p.name == other)
                .map(|p| p.given.clone()),
        }
    };
    let mut names = Vec::new();
    let mut visit = |e: &rolewright_cfn::Expr| {
        let ExprKind::ImportValue(inner) = &e.kind else {
            return;
        };
        let name = match &inner.kind {
            ExprKind::String(s) => Some(s.clone()),
            ExprKind::Ref(r) => value_of(r),
            ExprKind::Sub { parts, variables } if variables.is_empty() => parts
                .iter()
                .map(|part| match part {
                    SubPart::Text(t) => Some(t.clone()),
                    SubPart::Variable(v) => value_of(v),
                })
                .collect::<Option<String>>(),
            _ => None,
        };
        if let Some(name) = name
            && !names.contains(&name)
        {
            names.push(name);
        }
    };
    for resource in &template.resources {
        for (_, expr) in &resource.properties {
            expr.walk(&mut visit);
        }
    }
    for output in &template.outputs {
        output.value.walk(&mut visit);
    }
    names
}

/// `ListImports`: the live stacks that import an export.
fn list_imports(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let export = p.required("ExportName", Check::Length(1, 255));
    let _ = p.optional("NextToken", Check::Length(1, 1024));
    p.finish()?;
    let region = cx.facts.region.clone();
    let state = cx.app.store.read();
    cx.authorize(&state, "cloudformation:ListImports", "*", |_| {})?;
    let mut importers: Vec<&str> = state
        .stacks
        .values()
        .filter(|s| s.region == region && !s.is_deleted() && s.imports.contains(&export))
        .map(|s| s.name.as_str())
        .collect();
    importers.sort_unstable();
    if importers.is_empty() {
        return Err(validation(format!(
            "Export '{export}' is not imported by any stack."
        )));
    }
    let mut x = XmlWriter::new();
    x.members("Imports", importers);
    Ok(Reply::Xml(x))
}
