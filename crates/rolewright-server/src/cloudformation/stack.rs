//! A stack as stored: its template, parameters, status, resources, events and outputs, and
//! how the describe and list operations write them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{Change, State, Tag, kind};
use crate::wire::xml::{XmlWriter, iso_time};

/// The resource type CloudFormation gives the stack's own events.
pub const STACK_TYPE: &str = "AWS::CloudFormation::Stack";

/// A CloudFormation stack, kept after deletion (as `DELETE_COMPLETE`), as AWS keeps listing it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stack {
    /// `arn:aws:cloudformation:REGION:ACCOUNT:stack/NAME/UUID`.
    pub id: String,
    /// The name.
    pub name: String,
    /// The region it was created in.
    pub region: String,
    /// The template text as given.
    pub template: String,
    /// The template's description.
    pub description: Option<String>,
    /// Parameters as DescribeStacks shows them (NoEcho ones as `****`).
    pub parameters: Vec<(String, String)>,
    /// The capabilities acknowledged.
    pub capabilities: Vec<String>,
    /// The service role the stack acts as.
    pub role_arn: Option<String>,
    /// Tags.
    pub tags: Vec<Tag>,
    /// `CREATE_COMPLETE`, ...
    pub status: String,
    /// Why the status was reached, when it is a failure.
    pub status_reason: Option<String>,
    /// Whether rollback was disabled (`OnFailure=DO_NOTHING`).
    pub disable_rollback: bool,
    /// Unix milliseconds.
    pub created_ms: i64,
    /// Unix milliseconds of the deletion.
    pub deleted_ms: Option<i64>,
    /// Resources in creation order.
    pub resources: Vec<StackResource>,
    /// Events, oldest first.
    pub events: Vec<StackEvent>,
    /// Outputs with their values.
    pub outputs: Vec<StackOutput>,
    /// Parameter values as given (or defaulted), for `UsePreviousValue`.
    #[serde(default)]
    pub parameter_values: BTreeMap<String, String>,
    /// Unix milliseconds of the last update.
    #[serde(default)]
    pub updated_ms: Option<i64>,
    /// Change sets, oldest first.
    #[serde(default)]
    pub change_sets: Vec<ChangeSet>,
    /// The exports the stack imports (`Fn::ImportValue`), by name.
    #[serde(default)]
    pub imports: Vec<String>,
}

/// A change set of a stack: a template and parameters, and what executing them would change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeSet {
    /// `arn:aws:cloudformation:REGION:ACCOUNT:changeSet/NAME/UUID`.
    pub id: String,
    /// The name.
    pub name: String,
    /// `CREATE` or `UPDATE`.
    pub change_set_type: String,
    /// `CREATE_COMPLETE` or `FAILED`.
    pub status: String,
    /// Why it failed.
    pub status_reason: Option<String>,
    /// `AVAILABLE`, `UNAVAILABLE`, `EXECUTE_COMPLETE`, `EXECUTE_FAILED`, `OBSOLETE`.
    pub execution_status: String,
    /// `Description`.
    pub description: Option<String>,
    /// Unix milliseconds.
    pub created_ms: i64,
    /// The template text.
    pub template: String,
    /// Parameter values as given (or defaulted).
    pub parameter_values: BTreeMap<String, String>,
    /// Parameters as shown.
    pub parameters: Vec<(String, String)>,
    /// Capabilities.
    pub capabilities: Vec<String>,
    /// The role.
    pub role_arn: Option<String>,
    /// Tags.
    pub tags: Vec<Tag>,
    /// The `Changes`, as DescribeChangeSet lists them.
    pub changes: Vec<Value>,
}

/// One resource of a stack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StackResource {
    /// The logical id.
    pub logical_id: String,
    /// The type.
    pub type_name: String,
    /// The physical id, once created.
    pub physical_id: Option<String>,
    /// `CREATE_COMPLETE`, ...
    pub status: String,
    /// Why, for a failure.
    pub reason: Option<String>,
    /// Unix milliseconds of the last status change.
    pub updated_ms: i64,
    /// `DeletionPolicy: Retain` or `RetainExceptOnCreate`: kept when the stack is deleted or
    /// an update removes it.
    pub retain: bool,
    /// `DeletionPolicy: Retain`: kept by the rollback of the operation that created it too.
    #[serde(default)]
    pub retain_on_rollback: bool,
    /// The properties it was created with, resolved.
    pub properties: serde_json::Map<String, Value>,
    /// `Fn::GetAtt` values.
    pub attributes: BTreeMap<String, Value>,
}

/// One status change of the stack or a resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StackEvent {
    /// The event id.
    pub id: String,
    /// The logical id (the stack's name for the stack's own events).
    pub logical_id: String,
    /// The physical id, when known.
    pub physical_id: Option<String>,
    /// The type.
    pub type_name: String,
    /// The status reached.
    pub status: String,
    /// Why.
    pub reason: Option<String>,
    /// Unix milliseconds.
    pub time_ms: i64,
    /// The resource's properties (JSON text), on its CREATE_IN_PROGRESS event.
    pub properties: Option<String>,
}

/// An output with its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackOutput {
    /// `OutputKey`.
    pub key: String,
    /// `OutputValue`.
    pub value: String,
    /// `Description`.
    pub description: Option<String>,
    /// `ExportName`.
    pub export_name: Option<String>,
}

impl Stack {
    /// The reason of a deletion that left resources: "The following resource(s) failed to
    /// delete: [A, B]. ".
    pub fn failed_to_delete(&self) -> String {
        let failed: Vec<&str> = self
            .resources
            .iter()
            .filter(|r| r.status == "DELETE_FAILED")
            .map(|r| r.logical_id.as_str())
            .collect();
        format!(
            "The following resource(s) failed to delete: [{}]. ",
            failed.join(", ")
        )
    }

    /// What its resources give `Ref` and `Fn::GetAtt`, secrets read back from the state.
    pub fn created_resources(&self, state: &State) -> rolewright_cfn::CreatedResources {
        let mut created = rolewright_cfn::CreatedResources::new();
        for r in &self.resources {
            if let Some(id) = &r.physical_id {
                let attributes =
                    super::providers::live_attributes(state, &r.type_name, id, &r.attributes);
                created.insert(&r.logical_id, id, attributes);
            }
        }
        created
    }

    /// Whether the stack is gone (`DELETE_COMPLETE`).
    pub fn is_deleted(&self) -> bool {
        self.status == "DELETE_COMPLETE"
    }

    /// Records a status change of the stack itself.
    pub fn stack_event(&mut self, status: &str, reason: Option<String>, time_ms: i64) {
        let time_ms = self.next_time(time_ms);
        self.status = status.to_string();
        self.status_reason.clone_from(&reason);
        let event = StackEvent {
            id: crate::ids::request_id(),
            logical_id: self.name.clone(),
            physical_id: Some(self.id.clone()),
            type_name: STACK_TYPE.into(),
            status: status.into(),
            reason,
            time_ms,
            properties: None,
        };
        self.events.push(event);
    }

    /// Records a status change of resource `index`.
    pub fn resource_event(
        &mut self,
        index: usize,
        status: &str,
        reason: Option<String>,
        time_ms: i64,
        properties: Option<String>,
    ) {
        let time_ms = self.next_time(time_ms);
        let Some(resource) = self.resources.get_mut(index) else {
            return;
        };
        resource.status = status.to_string();
        resource.reason.clone_from(&reason);
        resource.updated_ms = time_ms;
        let event = StackEvent {
            id: format!("{}-{status}-{}", resource.logical_id, time_text(time_ms)),
            logical_id: resource.logical_id.clone(),
            physical_id: resource.physical_id.clone(),
            type_name: resource.type_name.clone(),
            status: status.into(),
            reason,
            time_ms,
            properties,
        };
        self.events.push(event);
    }

    /// `time_ms`, or just after the last event: events are strictly ordered in time, so that
    /// newest-first is one order and event ids (which carry the time) are unique.
    fn next_time(&self, time_ms: i64) -> i64 {
        self.events
            .last()
            .map_or(time_ms, |e| time_ms.max(e.time_ms + 1))
    }

    /// The stack's exports, live stacks only.
    pub fn exports(&self) -> impl Iterator<Item = (&str, &str)> {
        let live = !self.is_deleted();
        self.outputs
            .iter()
            .filter(move |_| live)
            .filter_map(|o| o.export_name.as_deref().map(|e| (e, o.value.as_str())))
    }
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`, as CloudFormation writes its timestamps.
pub fn time_text(ms: i64) -> String {
    let seconds = iso_time(ms.div_euclid(1000));
    format!(
        "{}.{:03}Z",
        seconds.trim_end_matches('Z'),
        ms.rem_euclid(1000)
    )
}

/// The `Stack` structure of DescribeStacks.
pub fn write_stack(x: &mut XmlWriter, stack: &Stack) {
    x.open("member")
        .leaf("StackId", &stack.id)
        .leaf("StackName", &stack.name)
        .leaf_opt("Description", stack.description.as_deref());
    x.open("Parameters");
    for (key, value) in &stack.parameters {
        x.open("member")
            .leaf("ParameterKey", key)
            .leaf("ParameterValue", value)
            .close("member");
    }
    x.close("Parameters");
    x.leaf("CreationTime", &time_text(stack.created_ms));
    if let Some(deleted) = stack.deleted_ms {
        x.leaf("DeletionTime", &time_text(deleted));
    }
    if let Some(updated) = stack.updated_ms {
        x.leaf("LastUpdatedTime", &time_text(updated));
    }
    x.leaf("StackStatus", &stack.status)
        .leaf_opt("StackStatusReason", stack.status_reason.as_deref())
        .leaf(
            "DisableRollback",
            if stack.disable_rollback {
                "true"
            } else {
                "false"
            },
        )
        .open("NotificationARNs")
        .close("NotificationARNs")
        .members(
            "Capabilities",
            stack.capabilities.iter().map(String::as_str),
        );
    x.open("Outputs");
    for output in &stack.outputs {
        x.open("member")
            .leaf("OutputKey", &output.key)
            .leaf("OutputValue", &output.value)
            .leaf_opt("Description", output.description.as_deref())
            .leaf_opt("ExportName", output.export_name.as_deref())
            .close("member");
    }
    x.close("Outputs");
    x.leaf_opt("RoleARN", stack.role_arn.as_deref());
    x.open("Tags");
    for tag in &stack.tags {
        x.open("member")
            .leaf("Key", &tag.key)
            .leaf("Value", &tag.value)
            .close("member");
    }
    x.close("Tags");
    x.leaf("EnableTerminationProtection", "false")
        .open("DriftInformation")
        .leaf("StackDriftStatus", "NOT_CHECKED")
        .close("DriftInformation")
        .close("member");
}

/// A `StackEvent`.
pub fn write_event(x: &mut XmlWriter, stack: &Stack, event: &StackEvent) {
    x.open("member")
        .leaf("StackId", &stack.id)
        .leaf("EventId", &event.id)
        .leaf("StackName", &stack.name)
        .leaf("LogicalResourceId", &event.logical_id)
        .leaf_opt("PhysicalResourceId", event.physical_id.as_deref())
        .leaf("ResourceType", &event.type_name)
        .leaf("Timestamp", &time_text(event.time_ms))
        .leaf("ResourceStatus", &event.status)
        .leaf_opt("ResourceStatusReason", event.reason.as_deref())
        .leaf_opt("ResourceProperties", event.properties.as_deref())
        .close("member");
}

/// A `StackResource` (DescribeStackResources).
pub fn write_resource(x: &mut XmlWriter, stack: &Stack, resource: &StackResource) {
    write_resource_as(x, "member", "Timestamp", stack, resource);
}

/// A resource of `stack` as element `element`, its time as `time_tag`.
fn write_resource_as(
    x: &mut XmlWriter,
    element: &str,
    time_tag: &str,
    stack: &Stack,
    resource: &StackResource,
) {
    x.open(element)
        .leaf("StackName", &stack.name)
        .leaf("StackId", &stack.id)
        .leaf("LogicalResourceId", &resource.logical_id)
        .leaf_opt("PhysicalResourceId", resource.physical_id.as_deref())
        .leaf("ResourceType", &resource.type_name)
        .leaf(time_tag, &time_text(resource.updated_ms))
        .leaf("ResourceStatus", &resource.status)
        .leaf_opt("ResourceStatusReason", resource.reason.as_deref())
        .open("DriftInformation")
        .leaf("StackResourceDriftStatus", "NOT_CHECKED")
        .close("DriftInformation")
        .close(element);
}

/// A `StackResourceDetail` (DescribeStackResource).
pub fn write_resource_detail(x: &mut XmlWriter, stack: &Stack, resource: &StackResource) {
    write_resource_as(
        x,
        "StackResourceDetail",
        "LastUpdatedTimestamp",
        stack,
        resource,
    );
}

/// A `StackResourceSummary` (ListStackResources).
pub fn write_resource_summary(x: &mut XmlWriter, resource: &StackResource) {
    x.open("member")
        .leaf("LogicalResourceId", &resource.logical_id)
        .leaf_opt("PhysicalResourceId", resource.physical_id.as_deref())
        .leaf("ResourceType", &resource.type_name)
        .leaf("LastUpdatedTimestamp", &time_text(resource.updated_ms))
        .leaf("ResourceStatus", &resource.status)
        .leaf_opt("ResourceStatusReason", resource.reason.as_deref())
        .open("DriftInformation")
        .leaf("StackResourceDriftStatus", "NOT_CHECKED")
        .close("DriftInformation")
        .close("member");
}

/// A `StackSummary` (ListStacks).
pub fn write_summary(x: &mut XmlWriter, stack: &Stack) {
    x.open("member")
        .leaf("StackId", &stack.id)
        .leaf("StackName", &stack.name)
        .leaf_opt("TemplateDescription", stack.description.as_deref())
        .leaf("CreationTime", &time_text(stack.created_ms));
    if let Some(deleted) = stack.deleted_ms {
        x.leaf("DeletionTime", &time_text(deleted));
    }
    x.leaf("StackStatus", &stack.status)
        .leaf_opt("StackStatusReason", stack.status_reason.as_deref())
        .open("DriftInformation")
        .leaf("StackDriftStatus", "NOT_CHECKED")
        .close("DriftInformation")
        .close("member");
}

/// Ends the stacks a stopped server left in an `*_IN_PROGRESS` status with the status their
/// operation fails with, and a reason saying why: those that have not moved since
/// `idle_since_ms` (at the start of a single server, every one; on a shared database, those a
/// replica has stopped working on, since a live one moves its stacks within seconds).
pub fn interrupted(state: &mut State, idle_since_ms: i64) -> Vec<Change> {
    let reason = "rolewright stopped while this stack operation was in progress";
    let mut changes = Vec::new();
    for stack in state.stacks.values_mut() {
        let Some(failed) = failed_status(&stack.status) else {
            continue;
        };
        if stack.last_activity_ms() > idle_since_ms {
            continue;
        }
        stack.stack_event(failed, Some(reason.into()), crate::server::now_ms());
        changes.push(Change::put(kind::STACK, stack.id.clone(), &*stack));
    }
    changes
}

/// The status an operation in progress ends in when it is interrupted; `None` when `status`
/// is not in progress.
fn failed_status(status: &str) -> Option<&'static str> {
    Some(match status {
        "CREATE_IN_PROGRESS" => "CREATE_FAILED",
        "ROLLBACK_IN_PROGRESS" => "ROLLBACK_FAILED",
        "DELETE_IN_PROGRESS" => "DELETE_FAILED",
        "UPDATE_IN_PROGRESS" | "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS" => "UPDATE_FAILED",
        "UPDATE_ROLLBACK_IN_PROGRESS" | "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS" => {
            "UPDATE_ROLLBACK_FAILED"
        }
        _ => return None,
    })
}

impl Stack {
    /// Whether an operation is in progress on the stack.
    pub fn in_progress(&self) -> bool {
        failed_status(&self.status).is_some()
    }

    /// When the stack last moved: its newest event, or its creation.
    pub fn last_activity_ms(&self) -> i64 {
        self.events
            .iter()
            .map(|e| e.time_ms)
            .max()
            .unwrap_or(self.created_ms)
    }
}

/// The live stack named `name` in `region`, or the stack (live or deleted) whose id is `name`.
pub fn find<'s>(state: &'s State, region: &str, name: &str) -> Option<&'s Stack> {
    if name.starts_with("arn:") {
        return state.stacks.get(name);
    }
    state
        .stacks
        .values()
        .find(|s| s.name == name && s.region == region && !s.is_deleted())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An empty stack `s`.
    pub(crate) fn stack() -> Stack {
        Stack {
            id: "arn:aws:cloudformation:us-east-1:111122223333:stack/s/id".into(),
            name: "s".into(),
            region: "us-east-1".into(),
            template: String::new(),
            description: None,
            parameters: Vec::new(),
            capabilities: Vec::new(),
            role_arn: None,
            tags: Vec::new(),
            status: String::new(),
            status_reason: None,
            disable_rollback: false,
            created_ms: 0,
            deleted_ms: None,
            resources: Vec::new(),
            events: Vec::new(),
            outputs: Vec::new(),
            parameter_values: BTreeMap::new(),
            updated_ms: None,
            change_sets: Vec::new(),
            imports: Vec::new(),
        }
    }

    #[test]
    fn only_stacks_idle_since_the_cutoff_are_ended_as_interrupted() {
        let mut state = State::default();
        let mut idle = stack();
        idle.stack_event("CREATE_IN_PROGRESS", None, 1_000);
        let mut moving = stack();
        moving.id = "arn:aws:cloudformation:us-east-1:111122223333:stack/m/id".into();
        moving.stack_event("UPDATE_IN_PROGRESS", None, 5_000);
        let mut done = stack();
        done.id = "arn:aws:cloudformation:us-east-1:111122223333:stack/d/id".into();
        done.stack_event("CREATE_COMPLETE", None, 1_000);
        for s in [idle, moving, done] {
            state.stacks.insert(s.id.clone(), s);
        }
        let changes = interrupted(&mut state, 2_000);
        assert_eq!(changes.len(), 1);
        let status = |state: &State, name: &str| {
            let id = format!("arn:aws:cloudformation:us-east-1:111122223333:stack/{name}/id");
            state.stacks[&id].status.clone()
        };
        assert_eq!(status(&state, "s"), "CREATE_FAILED");
        assert_eq!(
            state.stacks["arn:aws:cloudformation:us-east-1:111122223333:stack/s/id"]
                .status_reason
                .as_deref(),
            Some("rolewright stopped while this stack operation was in progress")
        );
        assert_eq!(status(&state, "m"), "UPDATE_IN_PROGRESS");
        assert_eq!(status(&state, "d"), "CREATE_COMPLETE");
        assert_eq!(interrupted(&mut state, i64::MAX).len(), 1);
        assert_eq!(status(&state, "m"), "UPDATE_FAILED");
    }

    #[test]
    fn timestamps_have_milliseconds() {
        assert_eq!(time_text(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(time_text(1_700_000_000_000), "2023-11-14T22:13:20.000Z");
    }

    #[test]
    fn events_in_the_same_millisecond_are_still_ordered() {
        let mut s = stack();
        s.stack_event("CREATE_IN_PROGRESS", Some("User Initiated".into()), 5);
        s.stack_event("CREATE_COMPLETE", None, 5);
        s.stack_event("DELETE_IN_PROGRESS", None, 3);
        let times: Vec<i64> = s.events.iter().map(|e| e.time_ms).collect();
        assert_eq!(times, [5, 6, 7]);
        assert_eq!(s.status, "DELETE_IN_PROGRESS");
        assert_eq!(s.status_reason, None);
    }

    #[test]
    fn a_deleted_stack_exports_nothing() {
        let mut s = stack();
        s.outputs.push(StackOutput {
            key: "Arn".into(),
            value: "v".into(),
            description: None,
            export_name: Some("E".into()),
        });
        assert_eq!(s.exports().collect::<Vec<_>>(), [("E", "v")]);
        s.status = "DELETE_COMPLETE".into();
        assert_eq!(s.exports().count(), 0);
    }
}
