//! Changing a stack: `UpdateStack`, and the change sets `aws cloudformation deploy` uses
//! (`CreateChangeSet` of type CREATE or UPDATE, `DescribeChangeSet`, `ExecuteChangeSet`,
//! `DeleteChangeSet`, `ListChangeSets`).

use std::collections::BTreeMap;

use rolewright_cfn::{ChangeAction, PreviousResource, ResourceChange};
use serde_json::{Value, json};

use super::engine::{self, NextVersion, OnFailure};
use super::stack::{ChangeSet, Stack, find, time_text};
use super::{
    Prepared, new_stack_id, no_stack, prepare, principal, stack_name, stack_resource,
    template_text, validation,
};
use crate::error::ApiError;
use crate::model::State;
use crate::server::{Cx, Reply, now_ms};
use crate::wire::query::{Check, Params};
use crate::wire::xml::XmlWriter;

/// The text of a change set with nothing to do, which the AWS CLI's deploy looks for.
const NO_CHANGES: &str = "The submitted information didn't contain changes. Submit different information to create a change set.";

/// Parameter values of an update: given ones, and `UsePreviousValue` ones from the stack.
fn update_values(p: &mut Params, previous: Option<&Stack>) -> BTreeMap<String, String> {
    let mut values = BTreeMap::new();
    for prefix in p.structs("Parameters") {
        let Some(key) = p.optional(&format!("{prefix}ParameterKey"), Check::Length(0, 255)) else {
            continue;
        };
        let previous_value = p
            .bool(&format!("{prefix}UsePreviousValue"))
            .unwrap_or(false);
        let value = p.optional(
            &format!("{prefix}ParameterValue"),
            Check::Length(0, 1_000_000),
        );
        match (previous_value, value) {
            (true, _) => {
                if let Some(v) = previous.and_then(|s| s.parameter_values.get(&key)) {
                    values.insert(key, v.clone());
                }
            }
            (false, Some(v)) => {
                values.insert(key, v);
            }
            (false, None) => {}
        }
    }
    values
}

/// The stack's resources as the change classification reads them.
fn previous_resources(stack: &Stack) -> Vec<PreviousResource> {
    stack
        .resources
        .iter()
        .filter_map(|r| {
            Some(PreviousResource {
                logical_id: r.logical_id.clone(),
                type_name: r.type_name.clone(),
                physical_id: r.physical_id.clone()?,
                properties: r.properties.clone(),
                attributes: r.attributes.clone(),
            })
        })
        .collect()
}

/// Classifies an update; a replacement that keeps a custom name is refused, as AWS does.
fn classify(stack: &Stack, prepared: &Prepared) -> Result<Vec<ResourceChange>, ApiError> {
    let changes = prepared
        .plan
        .changes(&previous_resources(stack))
        .map_err(|e| validation(e.message()))?;
    if let Some(conflict) = changes.iter().find_map(ResourceChange::conflict) {
        return Err(validation(conflict.to_string()));
    }
    Ok(changes)
}

fn updatable(stack: &Stack) -> Result<(), ApiError> {
    match stack.status.as_str() {
        "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "UPDATE_ROLLBACK_COMPLETE" => Ok(()),
        other => Err(validation(format!(
            "Stack:{} is in {other} state and can not be updated.",
            stack.id
        ))),
    }
}

/// What a change set shows for each change.
fn change_entries(changes: &[ResourceChange]) -> Vec<Value> {
    changes
        .iter()
        .filter(|c| c.action != ChangeAction::Unchanged)
        .map(|c| {
            let action = match c.action {
                ChangeAction::Create => "Add",
                ChangeAction::Delete => "Remove",
                _ => "Modify",
            };
            let mut change = json!({
                "Action": action,
                "LogicalResourceId": c.logical_id,
                "ResourceType": c.type_name,
            });
            if let Some(physical) = &c.physical_id {
                change["PhysicalResourceId"] = json!(physical);
            }
            if matches!(c.action, ChangeAction::Update | ChangeAction::Replace) {
                let replacement = match c.action {
                    ChangeAction::Replace => "True",
                    _ => c.replacement.map_or("False", |r| r.replacement()),
                };
                change["Replacement"] = json!(replacement);
                change["Scope"] = json!(["Properties"]);
                let details: Vec<Value> = c
                    .details
                    .iter()
                    .map(|d| {
                        json!({
                            "Target": {
                                "Attribute": "Properties",
                                "Name": d.path.split('/').next().unwrap_or(&d.path),
                                "RequiresRecreation": d.replacement.requires_recreation(),
                            },
                            "Evaluation": if d.dynamic { "Dynamic" } else { "Static" },
                            "ChangeSource": if d.dynamic {
                                "ResourceReference"
                            } else {
                                "DirectModification"
                            },
                        })
                    })
                    .collect();
                change["Details"] = json!(details);
            }
            change
        })
        .collect()
}

/// Whether an update changes anything: a resource, or an output.
fn changes_anything(
    state: &State,
    stack: &Stack,
    changes: &[ResourceChange],
    prepared: &Prepared,
) -> bool {
    if changes.iter().any(|c| c.action != ChangeAction::Unchanged) {
        return true;
    }
    let created = stack.created_resources(state);
    match prepared.plan.output_values(&created) {
        Ok(values) => {
            values.len() != stack.outputs.len()
                || values.iter().zip(&stack.outputs).any(|(v, o)| {
                    v.name != o.key || v.value != o.value || v.export_name != o.export_name
                })
        }
        Err(_) => true,
    }
}

/// The template of an update: given, or the stack's (`UsePreviousTemplate`).
fn update_template(cx: &Cx<'_>, p: &mut Params, stack: Option<&Stack>) -> Result<String, ApiError> {
    let previous = p.bool("UsePreviousTemplate").unwrap_or(false);
    let given = template_text(cx, p)?;
    match (given, previous, stack) {
        (Some(text), false, _) => Ok(text),
        (None, true, Some(stack)) => Ok(stack.template.clone()),
        (Some(_), true, _) => Err(validation(
            "You cannot specify both usePreviousTemplate and Template Body/Template URL.",
        )),
        _ => Err(validation(
            "Either Template URL or Template Body must be specified.",
        )),
    }
}

fn next_version(
    text: String,
    prepared: &Prepared,
    capabilities: Vec<String>,
    role_arn: Option<String>,
) -> NextVersion {
    NextVersion {
        template: text,
        description: prepared.template.description.clone(),
        parameters: prepared
            .plan
            .parameters
            .iter()
            .map(|lp| (lp.name.clone(), lp.shown_value().to_string()))
            .collect(),
        parameter_values: prepared
            .plan
            .parameters
            .iter()
            .map(|lp| (lp.name.clone(), lp.given.clone()))
            .collect(),
        capabilities,
        role_arn,
        imports: super::imported_names(&prepared.template, &prepared.plan),
        tags: None,
    }
}

/// A change to a stack, as `UpdateStack` asks for it (or Service Catalog, for a provisioned
/// product).
pub(crate) struct StackUpdate {
    /// `StackName`: a name or a stack id.
    pub name: String,
    /// The parameter values, previous ones already filled in.
    pub values: BTreeMap<String, String>,
    /// `Capabilities`.
    pub capabilities: Vec<String>,
    /// `Tags`, when given: they replace the stack's.
    pub tags: Option<Vec<crate::model::Tag>>,
    /// `RoleARN`; the stack's own when absent.
    pub role_arn: Option<String>,
}

/// `UpdateStack`: reads the request and runs [`update`].
pub async fn update_stack(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let name = stack_name(p, true).unwrap_or_default();
    let tags = p.has_list("Tags").then(|| p.tags("Tags"));
    let role_arn = p.optional("RoleARN", Check::Length(20, 2048));
    let capabilities = p.list("Capabilities", Check::Length(1, 64));
    let region = cx.facts.region.clone();
    let found = find(&cx.app.store.read(), &region, &name).cloned();
    let values = update_values(p, found.as_ref());
    let text = update_template(cx, p, found.as_ref());
    p.finish()?;
    let request = StackUpdate {
        name,
        values,
        capabilities,
        tags,
        role_arn,
    };
    let id = update(cx, request, text).await?;
    let mut x = XmlWriter::new();
    x.leaf("StackId", &id);
    Ok(Reply::Xml(x))
}

/// Updates a stack inside the request: authorizes `cloudformation:UpdateStack` on it, checks
/// the template (or why there is none), classifies the changes and runs them; gives the stack
/// id. An update that changes nothing is AWS's "No updates are to be performed."
pub(crate) async fn update(
    cx: &mut Cx<'_>,
    request: StackUpdate,
    template: Result<String, ApiError>,
) -> Result<String, ApiError> {
    let StackUpdate {
        name,
        values,
        capabilities,
        tags,
        role_arn,
    } = request;
    let region = cx.facts.region.clone();
    let found = {
        let state = cx.app.store.read();
        let resource = stack_resource(&state, &region, &name);
        let role = role_arn.clone();
        cx.authorize(&state, "cloudformation:UpdateStack", &resource, |ctx| {
            if let Some(role) = role {
                ctx.set("cloudformation:RoleArn", role);
            }
        })?;
        find(&state, &region, &name).cloned()
    };
    let mut stack = found
        .filter(|s| !s.is_deleted())
        .ok_or_else(|| no_stack(&name))?;
    updatable(&stack)?;
    let text = template?;
    let role_arn = role_arn.or_else(|| stack.role_arn.clone());
    let prepared = prepare(
        cx,
        &stack.name.clone(),
        &stack.id.clone(),
        &text,
        &values,
        &capabilities,
        role_arn.as_deref(),
    )?;
    let changes = classify(&stack, &prepared)?;
    if !changes_anything(&cx.app.store.read(), &stack, &changes, &prepared) {
        return Err(validation("No updates are to be performed."));
    }
    let id = stack.id.clone();
    let principal = principal(cx, prepared.caller.clone());
    let mut next = next_version(text, &prepared, capabilities, role_arn);
    next.tags = tags;
    engine::update(cx, &principal, &mut stack, &prepared.plan, &changes, next).await?;
    Ok(id)
}

/// `CreateChangeSet`: of type CREATE (a new stack, `REVIEW_IN_PROGRESS` until executed) or
/// UPDATE. The template, capabilities and role are checked now; nothing is changed.
pub async fn create_change_set(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let name = stack_name(p, true).unwrap_or_default();
    let change_set_name = p.required("ChangeSetName", Check::Length(1, 128));
    let change_set_type = p
        .optional("ChangeSetType", Check::Length(1, 16))
        .unwrap_or_else(|| "UPDATE".into());
    let role_arn = p.optional("RoleARN", Check::Length(20, 2048));
    let capabilities = p.list("Capabilities", Check::Length(1, 64));
    let description = p.optional("Description", Check::Length(1, 1024));
    let tags = p.tags("Tags");
    let region = cx.facts.region.clone();
    let found = find(&cx.app.store.read(), &region, &name).cloned();
    let values = update_values(p, found.as_ref());
    let text = update_template(cx, p, found.as_ref());
    p.finish()?;
    {
        let state = cx.app.store.read();
        let resource = stack_resource(&state, &region, &name);
        let (role, set_name) = (role_arn.clone(), change_set_name.clone());
        cx.authorize(&state, "cloudformation:CreateChangeSet", &resource, |ctx| {
            ctx.set("cloudformation:ChangeSetName", set_name);
            if let Some(role) = role {
                ctx.set("cloudformation:RoleArn", role);
            }
        })?;
    }
    let text = text?;
    let reviewing = found
        .as_ref()
        .is_some_and(|s| s.status == "REVIEW_IN_PROGRESS");
    let (mut stack, changes) = match change_set_type.as_str() {
        "CREATE" => {
            if found.is_some() && !reviewing {
                return Err(ApiError::new(
                    "AlreadyExistsException",
                    400,
                    format!("Stack [{name}] already exists"),
                ));
            }
            let account = cx.app.store.read().account.clone();
            let stack = match found {
                Some(stack) => stack,
                None => {
                    let now = now_ms();
                    let mut stack = Stack {
                        id: new_stack_id(&account, &region, &name),
                        name: name.clone(),
                        region: region.clone(),
                        template: String::new(),
                        description: None,
                        parameters: Vec::new(),
                        capabilities: Vec::new(),
                        role_arn: None,
                        tags: tags.clone(),
                        status: String::new(),
                        status_reason: None,
                        disable_rollback: false,
                        created_ms: now,
                        deleted_ms: None,
                        resources: Vec::new(),
                        events: Vec::new(),
                        outputs: Vec::new(),
                        parameter_values: BTreeMap::new(),
                        updated_ms: None,
                        change_sets: Vec::new(),
                        imports: Vec::new(),
                    };
                    stack.stack_event("REVIEW_IN_PROGRESS", Some("User Initiated".into()), now);
                    stack
                }
            };
            let prepared = prepare(
                cx,
                &name,
                &stack.id,
                &text,
                &values,
                &capabilities,
                role_arn.as_deref(),
            )?;
            let changes = classify(&stack, &prepared)?;
            (stack, (prepared, changes))
        }
        "UPDATE" => {
            let stack = match found {
                Some(stack) if !reviewing => stack,
                _ => {
                    return Err(validation(format!("Stack [{name}] does not exist")));
                }
            };
            let role = role_arn.clone().or_else(|| stack.role_arn.clone());
            let prepared = prepare(
                cx,
                &name,
                &stack.id,
                &text,
                &values,
                &capabilities,
                role.as_deref(),
            )?;
            let changes = classify(&stack, &prepared)?;
            (stack, (prepared, changes))
        }
        other => {
            return Err(validation(format!(
                "1 validation error detected: Value '{other}' at 'changeSetType' failed to \
                 satisfy constraint: Member must satisfy enum value set: [UPDATE, IMPORT, CREATE]"
            )));
        }
    };
    let (prepared, changes) = changes;
    if stack.change_sets.iter().any(|c| c.name == change_set_name) {
        return Err(ApiError::new(
            "AlreadyExistsException",
            400,
            format!("ChangeSet [{change_set_name}] already exists"),
        ));
    }
    let account = cx.app.store.read().account.clone();
    let id = format!(
        "arn:aws:cloudformation:{region}:{account}:changeSet/{change_set_name}/{}",
        crate::ids::request_id()
    );
    let anything = change_set_type == "CREATE"
        || changes_anything(&cx.app.store.read(), &stack, &changes, &prepared);
    let next = next_version(text, &prepared, capabilities, role_arn);
    stack.change_sets.push(ChangeSet {
        id: id.clone(),
        name: change_set_name,
        change_set_type,
        status: if anything {
            "CREATE_COMPLETE"
        } else {
            "FAILED"
        }
        .into(),
        status_reason: (!anything).then(|| NO_CHANGES.to_string()),
        execution_status: if anything { "AVAILABLE" } else { "UNAVAILABLE" }.into(),
        description,
        created_ms: now_ms(),
        template: next.template,
        parameter_values: next.parameter_values,
        parameters: next.parameters,
        capabilities: next.capabilities,
        role_arn: next.role_arn,
        tags,
        changes: change_entries(&changes),
    });
    let stack_id = stack.id.clone();
    engine::save_final(cx, &stack).await?;
    let mut x = XmlWriter::new();
    x.leaf("Id", &id).leaf("StackId", &stack_id);
    Ok(Reply::Xml(x))
}

fn no_change_set(name: &str) -> ApiError {
    ApiError::new(
        "ChangeSetNotFound",
        404,
        format!("ChangeSet [{name}] does not exist"),
    )
}

/// The stack and the index of the change set a request names (by ARN, or by name with
/// `StackName`), authorized as `action`.
fn read_change_set(
    cx: &mut Cx<'_>,
    p: &mut Params,
    action: &str,
) -> Result<(Stack, usize), ApiError> {
    let change_set = p.required("ChangeSetName", Check::Length(1, 1600));
    let name = stack_name(p, false);
    let _ = p.optional("NextToken", Check::Length(1, 1024));
    let _ = p.optional("ClientRequestToken", Check::Length(1, 128));
    let _ = p.bool("DisableRollback");
    let _ = p.bool("IncludePropertyValues");
    p.finish()?;
    let region = cx.facts.region.clone();
    let state = cx.app.store.read();
    let stack = if change_set.starts_with("arn:") {
        state
            .stacks
            .values()
            .find(|s| s.change_sets.iter().any(|c| c.id == change_set))
    } else {
        match &name {
            Some(name) => find(&state, &region, name),
            None => {
                return Err(validation(
                    "StackName must be specified if ChangeSetName is not specified as an ARN.",
                ));
            }
        }
    };
    let resource = match (&stack, &name) {
        (Some(stack), _) => stack.id.clone(),
        (None, Some(name)) => stack_resource(&state, &region, name),
        (None, None) => "*".to_string(),
    };
    cx.authorize(&state, action, &resource, |ctx| {
        ctx.set("cloudformation:ChangeSetName", change_set.clone());
    })?;
    let stack = stack.ok_or_else(|| no_change_set(&change_set))?;
    let index = stack
        .change_sets
        .iter()
        .position(|c| c.id == change_set || c.name == change_set)
        .ok_or_else(|| no_change_set(&change_set))?;
    Ok((stack.clone(), index))
}

/// Writes a JSON value as the query protocol's XML (lists as `member`s).
fn write_value(x: &mut XmlWriter, tag: &str, value: &Value) {
    match value {
        Value::Object(map) => {
            x.open(tag);
            for (k, v) in map {
                write_value(x, k, v);
            }
            x.close(tag);
        }
        Value::Array(items) => {
            x.open(tag);
            for item in items {
                write_value(x, "member", item);
            }
            x.close(tag);
        }
        Value::String(s) => {
            x.leaf(tag, s);
        }
        Value::Null => {}
        other => {
            x.leaf(tag, &other.to_string());
        }
    }
}

/// `DescribeChangeSet`.
pub fn describe_change_set(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let (stack, index) = read_change_set(cx, p, "cloudformation:DescribeChangeSet")?;
    let set = &stack.change_sets[index];
    let mut x = XmlWriter::new();
    x.leaf("ChangeSetName", &set.name)
        .leaf("ChangeSetId", &set.id)
        .leaf("StackId", &stack.id)
        .leaf("StackName", &stack.name)
        .leaf_opt("Description", set.description.as_deref());
    x.open("Parameters");
    for (key, value) in &set.parameters {
        x.open("member")
            .leaf("ParameterKey", key)
            .leaf("ParameterValue", value)
            .close("member");
    }
    x.close("Parameters");
    x.leaf("CreationTime", &time_text(set.created_ms))
        .leaf("ExecutionStatus", &set.execution_status)
        .leaf("Status", &set.status)
        .leaf_opt("StatusReason", set.status_reason.as_deref())
        .open("NotificationARNs")
        .close("NotificationARNs")
        .members("Capabilities", set.capabilities.iter().map(String::as_str));
    x.open("Tags");
    for tag in &set.tags {
        x.open("member")
            .leaf("Key", &tag.key)
            .leaf("Value", &tag.value)
            .close("member");
    }
    x.close("Tags");
    x.open("Changes");
    for change in &set.changes {
        x.open("member").leaf("Type", "Resource");
        write_value(&mut x, "ResourceChange", change);
        x.close("member");
    }
    x.close("Changes");
    x.leaf("IncludeNestedStacks", "false");
    Ok(Reply::Xml(x))
}

/// `ExecuteChangeSet`: runs it inside the request, as CreateStack or UpdateStack would.
pub async fn execute_change_set(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let (mut stack, index) = read_change_set(cx, p, "cloudformation:ExecuteChangeSet")?;
    let set = stack.change_sets[index].clone();
    if set.execution_status != "AVAILABLE" {
        return Err(ApiError::new(
            "InvalidChangeSetStatus",
            400,
            format!(
                "ChangeSet [{}] cannot be executed in its current status of [{}]",
                set.id, set.status
            ),
        ));
    }
    let prepared = prepare(
        cx,
        &stack.name.clone(),
        &stack.id.clone(),
        &set.template,
        &set.parameter_values,
        &set.capabilities,
        set.role_arn.as_deref(),
    )?;
    for (i, other) in stack.change_sets.iter_mut().enumerate() {
        other.execution_status = if i == index {
            "EXECUTE_COMPLETE".into()
        } else {
            "OBSOLETE".into()
        };
    }
    let principal = principal(cx, prepared.caller.clone());
    if set.change_set_type == "CREATE" {
        stack.template.clone_from(&set.template);
        stack.description.clone_from(&prepared.template.description);
        stack.parameters.clone_from(&set.parameters);
        stack.parameter_values.clone_from(&set.parameter_values);
        stack.capabilities.clone_from(&set.capabilities);
        stack.role_arn.clone_from(&set.role_arn);
        stack.imports = super::imported_names(&prepared.template, &prepared.plan);
        stack.stack_event(
            "CREATE_IN_PROGRESS",
            Some("User Initiated".into()),
            now_ms(),
        );
        engine::create(
            cx,
            &principal,
            &mut stack,
            &prepared.plan,
            OnFailure::Rollback,
        )
        .await?;
    } else {
        updatable(&stack)?;
        let changes = classify(&stack, &prepared)?;
        let next = next_version(
            set.template.clone(),
            &prepared,
            set.capabilities.clone(),
            set.role_arn.clone(),
        );
        engine::update(cx, &principal, &mut stack, &prepared.plan, &changes, next).await?;
    }
    Ok(Reply::Xml(XmlWriter::new()))
}

/// `DeleteChangeSet`.
pub async fn delete_change_set(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let (mut stack, index) = read_change_set(cx, p, "cloudformation:DeleteChangeSet")?;
    stack.change_sets.remove(index);
    engine::save_final(cx, &stack).await?;
    Ok(Reply::Xml(XmlWriter::new()))
}

/// `ListChangeSets`.
pub fn list_change_sets(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let name = stack_name(p, true).unwrap_or_default();
    let _ = p.optional("NextToken", Check::Length(1, 1024));
    p.finish()?;
    let region = cx.facts.region.clone();
    let state = cx.app.store.read();
    let resource = stack_resource(&state, &region, &name);
    cx.authorize(&state, "cloudformation:ListChangeSets", &resource, |_| {})?;
    let stack = find(&state, &region, &name).ok_or_else(|| no_stack(&name))?;
    let mut x = XmlWriter::new();
    x.open("Summaries");
    for set in &stack.change_sets {
        x.open("member")
            .leaf("StackId", &stack.id)
            .leaf("StackName", &stack.name)
            .leaf("ChangeSetId", &set.id)
            .leaf("ChangeSetName", &set.name)
            .leaf("ExecutionStatus", &set.execution_status)
            .leaf("Status", &set.status)
            .leaf_opt("StatusReason", set.status_reason.as_deref())
            .leaf("CreationTime", &time_text(set.created_ms))
            .leaf_opt("Description", set.description.as_deref())
            .leaf("IncludeNestedStacks", "false")
            .close("member");
    }
    x.close("Summaries");
    Ok(Reply::Xml(x))
}
