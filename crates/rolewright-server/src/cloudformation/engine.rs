//! Runs a stack, inside the request: creates its resources in dependency order as the stack's
//! principal, rolls back in reverse order when one fails, and deletes them (keeping those with
//! `DeletionPolicy: Retain`), recording every status change as an event.

use std::collections::BTreeMap;

use rolewright_cfn::{ChangeAction, CreatedResources, DeletionPolicy, Plan, ResourceChange};

use super::providers::{self, Naming, Principal};
use super::stack::{Stack, StackOutput, StackResource};
use crate::error::ApiError;
use crate::model::{Change, kind};
use crate::server::{Cx, now_ms};
use crate::store::Durability;

/// What to do when a resource fails to create (`OnFailure`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFailure {
    /// Delete what was created (`ROLLBACK`, the default).
    Rollback,
    /// Leave it (`DO_NOTHING`, or `DisableRollback`).
    DoNothing,
    /// Roll back, then delete the stack (`DELETE`).
    Delete,
}

/// The message of a resource call's failure as CloudFormation's events show it: the service's
/// message, its name and status as the SDK reports them, and the handler's error code.
fn handler_message(error: &ApiError, request_id: &str, type_name: &str) -> String {
    let code = match error.code {
        "AccessDenied" => "AccessDenied",
        "EntityAlreadyExists" | "ResourceInUse" => "AlreadyExists",
        "NoSuchEntity" | "ResourceNotFound" => "NotFound",
        "LimitExceeded" | "ResourceLimitExceeded" => "ServiceLimitExceeded",
        _ => "InvalidRequest",
    };
    let (service, status, message) = if type_name.starts_with("AWS::SageMaker::") {
        // A JSON service: the status is the one its protocol answers with (400 for a denial).
        ("SageMaker", error.json_status(), error.message.clone())
    } else {
        ("Iam", error.status, error.message.clone())
    };
    format!(
        "Resource handler returned message: \"{message} (Service: {service}, Status Code: {status}, Request ID: {request_id})\" (HandlerErrorCode: {code})"
    )
}

/// Saves the stack (not the request's audit record: that goes with the request's last write),
/// synced with the operation's last write.
async fn save(cx: &Cx<'_>, stack: &Stack) -> Result<(), ApiError> {
    let stored = stack.clone();
    cx.app
        .store
        .write_as(Durability::Relaxed, None, move |state| {
            let change = Change::put(kind::STACK, stored.id.clone(), &stored);
            state.stacks.insert(stored.id.clone(), stored);
            Ok(((), vec![change]))
        })
        .await
}

/// Saves the stack if it still has status `expected`, so that of two requests changing a
/// stack at once only one goes ahead; the other gets `busy(stack id, status)`.
pub async fn claim(
    cx: &Cx<'_>,
    stack: &Stack,
    expected: &str,
    busy: impl FnOnce(&str, &str) -> ApiError,
) -> Result<(), ApiError> {
    let stored = stack.clone();
    let expected = expected.to_string();
    cx.app
        .store
        .write_as(Durability::Relaxed, None, move |state| {
            let current = state.stacks.get(&stored.id).map(|s| s.status.clone());
            if current.as_deref() != Some(expected.as_str()) {
                return Err(busy(&stored.id, current.as_deref().unwrap_or("")));
            }
            let change = Change::put(kind::STACK, stored.id.clone(), &stored);
            state.stacks.insert(stored.id.clone(), stored);
            Ok(((), vec![change]))
        })
        .await
}

/// Saves the stack with the request's audit record.
pub async fn save_final(cx: &mut Cx<'_>, stack: &Stack) -> Result<(), ApiError> {
    let stored = stack.clone();
    cx.write(move |state| {
        let change = Change::put(kind::STACK, stored.id.clone(), &stored);
        state.stacks.insert(stored.id.clone(), stored);
        Ok(((), vec![change]))
    })
    .await
}

/// Records a new stack as `CREATE_IN_PROGRESS`, unless a live stack has its name.
pub async fn begin(cx: &Cx<'_>, stack: &Stack) -> Result<(), ApiError> {
    let stored = stack.clone();
    cx.app
        .store
        .write_as(Durability::Relaxed, None, move |state| {
            let taken = state
                .stacks
                .values()
                .any(|s| s.name == stored.name && s.region == stored.region && !s.is_deleted());
            if taken {
                return Err(ApiError::new(
                    "AlreadyExistsException",
                    400,
                    format!("Stack [{}] already exists", stored.name),
                ));
            }
            let change = Change::put(kind::STACK, stored.id.clone(), &stored);
            state.stacks.insert(stored.id.clone(), stored);
            Ok(((), vec![change]))
        })
        .await
}

/// Creates the plan's resources; on a failure, rolls back as `on_failure` says. The stack ends
/// `CREATE_COMPLETE`, `ROLLBACK_COMPLETE`, `CREATE_FAILED` or `DELETE_COMPLETE`.
pub async fn create(
    cx: &mut Cx<'_>,
    principal: &Principal<'_>,
    stack: &mut Stack,
    plan: &Plan,
    on_failure: OnFailure,
) -> Result<(), ApiError> {
    let mut created = CreatedResources::new();
    let mut failure: Option<String> = None;
    for planned in &plan.resources {
        let now = now_ms();
        let index = stack.resources.len();
        stack.resources.push(super::stack::StackResource {
            logical_id: planned.logical_id.clone(),
            type_name: planned.type_name.clone(),
            physical_id: None,
            status: "CREATE_IN_PROGRESS".into(),
            reason: None,
            updated_ms: now,
            retain: planned.retained_on_delete(),
            retain_on_rollback: matches!(planned.deletion_policy, Some(DeletionPolicy::Retain)),
            properties: serde_json::Map::new(),
            attributes: BTreeMap::new(),
        });
        let props = match plan.resolve(&planned.logical_id, &created) {
            Ok(props) => props,
            Err(e) => {
                stack.resource_event(index, "CREATE_IN_PROGRESS", None, now, None);
                let reason = e.message();
                stack.resource_event(index, "CREATE_FAILED", Some(reason), now_ms(), None);
                failure = Some(planned.logical_id.clone());
                break;
            }
        };
        let shown = serde_json::Value::Object(props.clone()).to_string();
        stack.resource_event(index, "CREATE_IN_PROGRESS", None, now, Some(shown.clone()));
        stack.resource_event(
            index,
            "CREATE_IN_PROGRESS",
            Some("Resource creation Initiated".into()),
            now_ms(),
            Some(shown),
        );
        let naming = Naming {
            stack_name: &stack.name,
            logical_id: &planned.logical_id,
        };
        let tagged = with_stack_tags(&props, &stack.tags, &planned.type_name);
        match providers::create(principal, &naming, &planned.type_name, &tagged).await {
            Ok(made) => {
                let resource = &mut stack.resources[index];
                resource.physical_id = Some(made.physical_id.clone());
                resource.properties = props;
                resource.attributes = providers::storable(&made.attributes);
                created.insert(&planned.logical_id, &made.physical_id, made.attributes);
                stack.resource_event(index, "CREATE_COMPLETE", None, now_ms(), None);
            }
            Err(e) => {
                let reason = handler_message(&e, &cx.request_id, &planned.type_name);
                stack.resource_event(index, "CREATE_FAILED", Some(reason), now_ms(), None);
                failure = Some(planned.logical_id.clone());
                break;
            }
        }
    }
    if failure.is_none() {
        match outputs(cx, stack, plan, &created) {
            Ok(outputs) => stack.outputs = outputs,
            Err(reason) => {
                return fail(cx, principal, stack, reason, on_failure).await;
            }
        }
        stack.stack_event("CREATE_COMPLETE", None, now_ms());
        return save_final(cx, stack).await;
    }
    let failed = failure.unwrap_or_default();
    let reason = format!("The following resource(s) failed to create: [{failed}]. ");
    fail(cx, principal, stack, reason, on_failure).await
}

/// A resource's properties with the stack's tags added to its `Tags`, as CloudFormation tags
/// every resource whose type takes tags; a tag the resource sets itself wins. The stored
/// properties stay the template's, so that an update compares like with like.
fn with_stack_tags(
    props: &serde_json::Map<String, serde_json::Value>,
    tags: &[crate::model::Tag],
    type_name: &str,
) -> serde_json::Map<String, serde_json::Value> {
    let taggable =
        rolewright_cfn::schema(type_name).is_some_and(|s| s.properties.iter().any(|p| p == "Tags"));
    if tags.is_empty() || !taggable {
        return props.clone();
    }
    let mut out = props.clone();
    let mut list = match out.remove("Tags") {
        Some(serde_json::Value::Array(list)) => list,
        _ => Vec::new(),
    };
    for tag in tags {
        let set = list
            .iter()
            .any(|t| t.get("Key").and_then(serde_json::Value::as_str) == Some(tag.key.as_str()));
        if !set {
            list.push(serde_json::json!({"Key": tag.key, "Value": tag.value}));
        }
    }
    out.insert("Tags".into(), serde_json::Value::Array(list));
    out
}

/// The outputs' values; an export another stack already has is a failure.
fn outputs(
    cx: &Cx<'_>,
    stack: &Stack,
    plan: &Plan,
    created: &CreatedResources,
) -> Result<Vec<StackOutput>, String> {
    let values = plan.output_values(created).map_err(|e| e.message())?;
    let state = cx.app.store.read();
    for value in &values {
        let Some(export) = &value.export_name else {
            continue;
        };
        let holder = state
            .stacks
            .values()
            .filter(|s| s.region == stack.region && s.id != stack.id)
            .find(|s| s.exports().any(|(name, _)| name == export));
        if let Some(holder) = holder {
            return Err(format!(
                "Export with name {export} is already exported by stack {}",
                holder.name
            ));
        }
    }
    Ok(values
        .into_iter()
        .map(|v| StackOutput {
            key: v.name,
            value: v.value,
            description: v.description,
            export_name: v.export_name,
        })
        .collect())
}

/// Ends a failed creation as `on_failure` says.
async fn fail(
    cx: &mut Cx<'_>,
    principal: &Principal<'_>,
    stack: &mut Stack,
    reason: String,
    on_failure: OnFailure,
) -> Result<(), ApiError> {
    if on_failure == OnFailure::DoNothing {
        stack.stack_event("CREATE_FAILED", Some(reason), now_ms());
        return save_final(cx, stack).await;
    }
    let requested = format!("{reason}Rollback requested by user.");
    stack.stack_event("ROLLBACK_IN_PROGRESS", Some(requested.clone()), now_ms());
    save(cx, stack).await?;
    let ok = delete_resources(principal, stack, true).await;
    if ok {
        stack.stack_event("ROLLBACK_COMPLETE", None, now_ms());
        stack.status_reason = Some(requested);
    } else {
        let reason = stack.failed_to_delete();
        stack.stack_event("ROLLBACK_FAILED", Some(reason), now_ms());
    }
    stack.outputs.clear();
    if ok && on_failure == OnFailure::Delete {
        stack.stack_event("DELETE_IN_PROGRESS", None, now_ms());
        stack.stack_event("DELETE_COMPLETE", None, now_ms());
        stack.deleted_ms = Some(now_ms());
    }
    save_final(cx, stack).await
}

/// Deletes the stack's resources in reverse order of creation, recording each; says whether
/// every one went. A deletion keeps the resources whose DeletionPolicy is `Retain` or
/// `RetainExceptOnCreate`; the rollback of their creation keeps only the `Retain` ones (AWS:
/// RetainExceptOnCreate "behaves like Retain ... except for the stack operation that initially
/// created the resource").
pub async fn delete_resources(
    principal: &Principal<'_>,
    stack: &mut Stack,
    rollback: bool,
) -> bool {
    let mut ok = true;
    for index in (0..stack.resources.len()).rev() {
        let resource = stack.resources[index].clone();
        let Some(physical_id) = resource.physical_id.clone() else {
            // Never created: nothing to delete.
            if resource.status != "DELETE_COMPLETE" {
                stack.resource_event(index, "DELETE_COMPLETE", None, now_ms(), None);
            }
            continue;
        };
        if resource.status == "DELETE_COMPLETE" || resource.status == "DELETE_SKIPPED" {
            continue;
        }
        ok &= delete_one(principal, stack, index, &physical_id, rollback).await;
    }
    ok
}

/// Deletes resource `index` (`physical_id`), or keeps it when its deletion policy says so,
/// recording each step as an event; says whether it did not fail.
async fn delete_one(
    principal: &Principal<'_>,
    stack: &mut Stack,
    index: usize,
    physical_id: &str,
    rollback: bool,
) -> bool {
    let resource = stack.resources[index].clone();
    let kept = if rollback {
        resource.retain_on_rollback
    } else {
        resource.retain
    };
    if kept {
        stack.resource_event(index, "DELETE_SKIPPED", None, now_ms(), None);
        return true;
    }
    stack.resource_event(index, "DELETE_IN_PROGRESS", None, now_ms(), None);
    let deleted = providers::delete(
        principal,
        &resource.type_name,
        physical_id,
        &resource.properties,
    )
    .await;
    match deleted {
        Ok(()) => {
            stack.resource_event(index, "DELETE_COMPLETE", None, now_ms(), None);
            true
        }
        Err(e) => {
            let reason = handler_message(&e, &principal.request_id, &resource.type_name);
            stack.resource_event(index, "DELETE_FAILED", Some(reason), now_ms(), None);
            false
        }
    }
}

/// How to undo one step of an update.
enum Undo {
    /// A resource was created (at this index).
    Created(usize),
    /// A resource was updated in place: its properties and attributes before.
    Updated(
        usize,
        serde_json::Map<String, serde_json::Value>,
        BTreeMap<String, serde_json::Value>,
    ),
    /// A resource was replaced: the new one is at the index, the old one is kept here.
    Replaced(usize, Box<StackResource>),
}

/// What an update leaves to its cleanup: the resource entries to delete once it succeeded.
struct Cleanup(Vec<usize>);

/// Updates the stack to `plan` as `changes` say: creates, updates in place and replaces in
/// plan order, then deletes what the plan no longer has (and the replaced resources) in the
/// cleanup. A failure rolls back to the stack as it was. The stack ends `UPDATE_COMPLETE` or
/// `UPDATE_ROLLBACK_COMPLETE`.
pub async fn update(
    cx: &mut Cx<'_>,
    principal: &Principal<'_>,
    stack: &mut Stack,
    plan: &Plan,
    changes: &[ResourceChange],
    next: NextVersion,
) -> Result<(), ApiError> {
    let before = stack.status.clone();
    stack.stack_event(
        "UPDATE_IN_PROGRESS",
        Some("User Initiated".into()),
        now_ms(),
    );
    claim(cx, stack, &before, |id, status| {
        super::validation(format!(
            "Stack:{id} is in {status} state and can not be updated."
        ))
    })
    .await?;
    let mut created = stack.created_resources(&cx.app.store.read());
    let mut undo: Vec<Undo> = Vec::new();
    let mut cleanup = Cleanup(Vec::new());
    let mut failure: Option<String> = None;
    for change in changes {
        let index = stack
            .resources
            .iter()
            .position(|r| r.logical_id == change.logical_id);
        match change.action {
            ChangeAction::Unchanged => {}
            ChangeAction::Delete => {
                if let Some(index) = index {
                    cleanup.0.push(index);
                }
            }
            ChangeAction::Create | ChangeAction::Replace => {
                let Some(planned) = plan.resource(&change.logical_id) else {
                    continue;
                };
                let now = now_ms();
                let props = match plan.resolve(&planned.logical_id, &created) {
                    Ok(props) => props,
                    Err(e) => {
                        failure = Some(format!("{}: {}", planned.logical_id, e.message()));
                        break;
                    }
                };
                let fresh = StackResource {
                    logical_id: planned.logical_id.clone(),
                    type_name: planned.type_name.clone(),
                    physical_id: None,
                    status: String::new(),
                    reason: None,
                    updated_ms: now,
                    retain: planned.retained_on_delete(),
                    retain_on_rollback: matches!(
                        planned.deletion_policy,
                        Some(DeletionPolicy::Retain)
                    ),
                    properties: serde_json::Map::new(),
                    attributes: BTreeMap::new(),
                };
                let (index, status, reason) = match (change.action, index) {
                    (ChangeAction::Replace, Some(i)) => {
                        let old = std::mem::replace(&mut stack.resources[i], fresh);
                        undo.push(Undo::Replaced(i, Box::new(old)));
                        (
                            i,
                            "UPDATE_IN_PROGRESS",
                            Some(
                                "Requested update requires the creation of a new physical \
                                 resource; hence creating one."
                                    .to_string(),
                            ),
                        )
                    }
                    _ => {
                        stack.resources.push(fresh);
                        let i = stack.resources.len() - 1;
                        undo.push(Undo::Created(i));
                        (i, "CREATE_IN_PROGRESS", None)
                    }
                };
                let shown = serde_json::Value::Object(props.clone()).to_string();
                stack.resource_event(index, status, reason, now, Some(shown));
                let naming = Naming {
                    stack_name: &stack.name,
                    logical_id: &planned.logical_id,
                };
                let tagged = with_stack_tags(&props, &stack.tags, &planned.type_name);
                match providers::create(principal, &naming, &planned.type_name, &tagged).await {
                    Ok(made) => {
                        let resource = &mut stack.resources[index];
                        resource.physical_id = Some(made.physical_id.clone());
                        resource.properties = props;
                        resource.attributes = providers::storable(&made.attributes);
                        created.insert(&planned.logical_id, &made.physical_id, made.attributes);
                        let done = if status == "CREATE_IN_PROGRESS" {
                            "CREATE_COMPLETE"
                        } else {
                            "UPDATE_COMPLETE"
                        };
                        stack.resource_event(index, done, None, now_ms(), None);
                    }
                    Err(e) => {
                        let failed = if status == "CREATE_IN_PROGRESS" {
                            "CREATE_FAILED"
                        } else {
                            "UPDATE_FAILED"
                        };
                        let reason = handler_message(&e, &cx.request_id, &planned.type_name);
                        stack.resource_event(index, failed, Some(reason), now_ms(), None);
                        failure = Some(planned.logical_id.clone());
                        break;
                    }
                }
            }
            ChangeAction::Update => {
                let Some(index) = index else {
                    continue;
                };
                let props = match plan.resolve(&change.logical_id, &created) {
                    Ok(props) => props,
                    Err(e) => {
                        failure = Some(format!("{}: {}", change.logical_id, e.message()));
                        break;
                    }
                };
                let before = stack.resources[index].clone();
                let shown = serde_json::Value::Object(props.clone()).to_string();
                stack.resource_event(index, "UPDATE_IN_PROGRESS", None, now_ms(), Some(shown));
                let physical = before.physical_id.clone().unwrap_or_default();
                let result = providers::update(
                    principal,
                    &before.type_name,
                    &physical,
                    &before.properties,
                    &props,
                )
                .await;
                match result {
                    Ok(attributes) => {
                        let resource = &mut stack.resources[index];
                        resource.properties = props;
                        resource.attributes = providers::storable(&attributes);
                        created.insert(&change.logical_id, &physical, attributes);
                        undo.push(Undo::Updated(index, before.properties, before.attributes));
                        stack.resource_event(index, "UPDATE_COMPLETE", None, now_ms(), None);
                    }
                    Err(e) => {
                        // What was applied before the failure is put back by the rollback.
                        undo.push(Undo::Updated(index, before.properties, before.attributes));
                        let reason = handler_message(&e, &cx.request_id, &before.type_name);
                        stack.resource_event(index, "UPDATE_FAILED", Some(reason), now_ms(), None);
                        failure = Some(change.logical_id.clone());
                        break;
                    }
                }
            }
        }
    }
    if failure.is_none() {
        match outputs(cx, stack, plan, &created) {
            Ok(outputs) => {
                next.apply(stack);
                stack.outputs = outputs;
            }
            Err(reason) => failure = Some(reason),
        }
    }
    if let Some(failed) = failure {
        let reason = format!("The following resource(s) failed to update: [{failed}]. ");
        stack.stack_event("UPDATE_ROLLBACK_IN_PROGRESS", Some(reason), now_ms());
        save(cx, stack).await?;
        let mut replaced_new = Vec::new();
        for step in undo.into_iter().rev() {
            match step {
                Undo::Created(i) => replaced_new.push(i),
                Undo::Updated(i, properties, attributes) => {
                    let current = stack.resources[i].clone();
                    let physical = current.physical_id.clone().unwrap_or_default();
                    stack.resource_event(i, "UPDATE_IN_PROGRESS", None, now_ms(), None);
                    let _ = providers::update(
                        principal,
                        &current.type_name,
                        &physical,
                        &current.properties,
                        &properties,
                    )
                    .await;
                    let resource = &mut stack.resources[i];
                    resource.properties = properties;
                    resource.attributes = attributes;
                    stack.resource_event(i, "UPDATE_COMPLETE", None, now_ms(), None);
                }
                Undo::Replaced(i, old) => {
                    let new = std::mem::replace(&mut stack.resources[i], *old);
                    stack.resources.push(new);
                    replaced_new.push(stack.resources.len() - 1);
                }
            }
        }
        stack.stack_event(
            "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
            None,
            now_ms(),
        );
        delete_entries(principal, stack, replaced_new, true).await;
        stack.stack_event("UPDATE_ROLLBACK_COMPLETE", None, now_ms());
        return save_final(cx, stack).await;
    }
    // The replaced resources' old physical resources go in the cleanup too.
    for step in &undo {
        if let Undo::Replaced(_, old) = step {
            // DeletionPolicy does not keep the physical resource a replacement supersedes.
            let mut old = (**old).clone();
            old.retain = false;
            stack.resources.push(old);
            cleanup.0.push(stack.resources.len() - 1);
        }
    }
    stack.stack_event("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", None, now_ms());
    delete_entries(principal, stack, cleanup.0, false).await;
    stack.stack_event("UPDATE_COMPLETE", None, now_ms());
    save_final(cx, stack).await
}

/// The template, parameters and capabilities an update moves the stack to, applied once it
/// succeeded (a rollback keeps the old ones).
pub struct NextVersion {
    /// The template text.
    pub template: String,
    /// Its description.
    pub description: Option<String>,
    /// Parameters as shown.
    pub parameters: Vec<(String, String)>,
    /// Parameter values as given.
    pub parameter_values: BTreeMap<String, String>,
    /// Capabilities.
    pub capabilities: Vec<String>,
    /// The role.
    pub role_arn: Option<String>,
    /// The exports the new template imports.
    pub imports: Vec<String>,
    /// New tags, when the update gives them.
    pub tags: Option<Vec<crate::model::Tag>>,
}

impl NextVersion {
    fn apply(self, stack: &mut Stack) {
        stack.template = self.template;
        stack.description = self.description;
        stack.parameters = self.parameters;
        stack.parameter_values = self.parameter_values;
        stack.capabilities = self.capabilities;
        stack.role_arn = self.role_arn;
        stack.imports = self.imports;
        if let Some(tags) = self.tags {
            stack.tags = tags;
        }
        stack.updated_ms = Some(now_ms());
    }
}

/// Deletes the resource entries at `indexes` (in reverse order of creation) and removes them
/// from the stack; retained ones are skipped unless `rollback`.
async fn delete_entries(
    principal: &Principal<'_>,
    stack: &mut Stack,
    mut indexes: Vec<usize>,
    rollback: bool,
) {
    indexes.sort_unstable();
    indexes.dedup();
    for &index in indexes.iter().rev() {
        let resource = stack.resources[index].clone();
        let Some(physical_id) = resource.physical_id.clone() else {
            continue;
        };
        delete_one(principal, stack, index, &physical_id, rollback).await;
    }
    for &index in indexes.iter().rev() {
        stack.resources.remove(index);
    }
}
