//! Runs a stack, inside the request: creates its resources in dependency order as the stack's
//! principal, rolls back in reverse order when one fails, and deletes them (keeping those with
//! `DeletionPolicy: Retain`), recording every status change as an event.

use std::collections::BTreeMap;

use rolewright_cfn::{CreatedResources, Plan};

use super::providers::{self, Naming, Principal};
use super::stack::{Stack, StackOutput};
use crate::error::ApiError;
use crate::model::{Change, kind};
use crate::server::{Cx, now_ms};

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

/// The message of a resource call's failure as CloudFormation's events show it.
fn handler_message(error: &ApiError, request_id: &str) -> String {
    let code = match error.code {
        "AccessDenied" => "AccessDenied",
        "EntityAlreadyExists" => "AlreadyExists",
        "NoSuchEntity" => "NotFound",
        "LimitExceeded" => "ServiceLimitExceeded",
        _ => "InvalidRequest",
    };
    format!(
        "Resource handler returned message: \"{} (Service: Iam, Status Code: {}, Request ID: {request_id})\" (HandlerErrorCode: {code})",
        error.message, error.status
    )
}

/// Saves the stack (not the request's audit record: that goes with the request's last write).
async fn save(cx: &Cx<'_>, stack: &Stack) -> Result<(), ApiError> {
    let stored = stack.clone();
    cx.app
        .store
        .write(None, move |state| {
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
        .write(None, move |state| {
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
        match providers::create(principal, &naming, &planned.type_name, &props).await {
            Ok(made) => {
                let resource = &mut stack.resources[index];
                resource.physical_id = Some(made.physical_id.clone());
                resource.properties = props;
                resource.attributes.clone_from(&made.attributes);
                created.insert(&planned.logical_id, &made.physical_id, made.attributes);
                stack.resource_event(index, "CREATE_COMPLETE", None, now_ms(), None);
            }
            Err(e) => {
                let reason = handler_message(&e, &cx.request_id);
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
        stack.stack_event("ROLLBACK_FAILED", None, now_ms());
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
/// every one went. A rollback deletes retained resources too, as CloudFormation does for
/// resources created by the failed operation.
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
        if resource.retain && !rollback {
            stack.resource_event(index, "DELETE_SKIPPED", None, now_ms(), None);
            continue;
        }
        stack.resource_event(index, "DELETE_IN_PROGRESS", None, now_ms(), None);
        let deleted = providers::delete(
            principal,
            &resource.type_name,
            &physical_id,
            &resource.properties,
        )
        .await;
        match deleted {
            Ok(()) => stack.resource_event(index, "DELETE_COMPLETE", None, now_ms(), None),
            Err(e) => {
                let reason = handler_message(&e, &principal.request_id);
                stack.resource_event(index, "DELETE_FAILED", Some(reason), now_ms(), None);
                ok = false;
            }
        }
    }
    ok
}
