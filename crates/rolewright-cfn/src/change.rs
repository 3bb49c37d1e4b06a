//! Updates: what a new plan does to the resources of the stack as it is — create, update in
//! place, replace, delete or leave alone — from the types' `createOnlyProperties`.
//!
//! Resources are classified in plan order, so when a resource is looked at, the resources it
//! depends on are classified already: a property that refers to a resource being created or
//! replaced has a value that is not known until then (CloudFormation's "Dynamic" evaluation)
//! and counts as changed.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::error::{ErrorKind, Errors, TemplateError, TemplateErrors};
use crate::evaluate::Lookup;
use crate::plan::{Plan, ResourceValues};
use crate::schema::{Replacement, schema};

/// A resource of the stack as it is.
#[derive(Debug, Clone, PartialEq)]
pub struct PreviousResource {
    /// Its logical id.
    pub logical_id: String,
    /// Its type.
    pub type_name: String,
    /// Its physical id.
    pub physical_id: String,
    /// The properties it was last created or updated with (as [`Plan::resolve`] gave them).
    pub properties: Map<String, Value>,
    /// Its attributes.
    pub attributes: BTreeMap<String, Value>,
}

/// What an update does to a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeAction {
    /// Created: the previous stack has no such resource.
    Create,
    /// Updated in place (no interruption as far as the schema tells).
    Update,
    /// Replaced: a create-only property changes; a new resource is created, then the old one
    /// deleted.
    Replace,
    /// Deleted: the new plan has no such resource.
    Delete,
    /// Left as it is.
    Unchanged,
}

/// One property that changes.
#[derive(Debug, Clone, PartialEq)]
pub struct PropertyChange {
    /// The property (a top-level name, or a pointer below it such as
    /// `DomainSettings/KmsKeyId` when a nested create-only property decides).
    pub path: String,
    /// Whether the change replaces the resource.
    pub replacement: Replacement,
    /// Whether the new value depends on a resource being created or replaced, so that it is
    /// not known until then.
    pub dynamic: bool,
    /// The value before (absent when the property was not set).
    pub before: Option<Value>,
    /// The value after (absent when removed, or not known yet).
    pub after: Option<Value>,
}

/// What an update does to one resource.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceChange {
    /// Its logical id.
    pub logical_id: String,
    /// Its type.
    pub type_name: String,
    /// What happens.
    pub action: ChangeAction,
    /// For updates: `Conditionally` when a conditional create-only property changes
    /// (CloudFormation's "Replacement: Conditional"), else `Never`; `Always` for replacements.
    pub replacement: Option<Replacement>,
    /// The properties that change.
    pub details: Vec<PropertyChange>,
    /// The previous physical id, for updates, replacements and deletions.
    pub physical_id: Option<String>,
    /// For a replacement that keeps the resource's custom name (a `RoleName`, or every
    /// identifying property, unchanged): that name. The new resource cannot be created beside
    /// the old one, and CloudFormation refuses the update ([`ResourceChange::conflict`]).
    pub kept_name: Option<String>,
}

impl ResourceChange {
    /// CloudFormation's refusal of a replacement that keeps a custom name.
    pub fn conflict(&self) -> Option<ErrorKind> {
        self.kept_name
            .as_ref()
            .map(|name| ErrorKind::CustomNamedReplacement { name: name.clone() })
    }
}

/// The properties that name a resource of a type whose names are unique in the account.
const NAME_PROPERTIES: &[(&str, &str)] = &[
    ("AWS::IAM::Group", "GroupName"),
    ("AWS::IAM::InstanceProfile", "InstanceProfileName"),
    ("AWS::IAM::ManagedPolicy", "ManagedPolicyName"),
    ("AWS::IAM::Role", "RoleName"),
    ("AWS::IAM::User", "UserName"),
];

/// The custom name a replacement would keep: the type's name property, or every settable
/// identifying property, set and unchanged.
fn kept_name(
    type_name: &str,
    schema: &crate::schema::ResourceSchema,
    before: &Map<String, Value>,
    details: &[PropertyChange],
) -> Option<String> {
    let unchanged = |p: &str| {
        before.contains_key(p)
            && !details
                .iter()
                .any(|d| d.path == p || d.path.starts_with(&format!("{p}/")))
    };
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if let Some((_, property)) = NAME_PROPERTIES.iter().find(|(t, _)| *t == type_name) {
        return unchanged(property).then(|| text(&before[*property]));
    }
    let identifying: Vec<&str> = schema
        .primary_identifier
        .iter()
        .map(String::as_str)
        .filter(|p| schema.accepts(p))
        .collect();
    if identifying.is_empty() || identifying.len() < schema.primary_identifier.len() {
        return None;
    }
    identifying.iter().all(|p| unchanged(p)).then(|| {
        identifying
            .iter()
            .map(|p| text(&before[*p]))
            .collect::<Vec<_>>()
            .join("|")
    })
}

/// The previous resources as the values `Ref` and `Fn::GetAtt` return.
struct Previous<'a>(BTreeMap<&'a str, &'a PreviousResource>);

impl ResourceValues for Previous<'_> {
    fn physical_id(&self, logical_id: &str) -> Option<String> {
        self.0.get(logical_id).map(|r| r.physical_id.clone())
    }

    fn attribute(&self, logical_id: &str, attribute: &str) -> Option<Value> {
        self.0.get(logical_id)?.attributes.get(attribute).cloned()
    }
}

impl Plan {
    /// Classifies each resource of this plan and of the stack as it is (`previous`, in the
    /// order it was created). The result lists the plan's resources in plan order, then the
    /// deletions in reverse creation order.
    pub fn changes(
        &self,
        previous: &[PreviousResource],
    ) -> Result<Vec<ResourceChange>, TemplateErrors> {
        let by_id: BTreeMap<&str, &PreviousResource> = previous
            .iter()
            .map(|p| (p.logical_id.as_str(), p))
            .collect();
        let retyped: Vec<String> = self
            .resources
            .iter()
            .filter(|r| {
                by_id
                    .get(r.logical_id.as_str())
                    .is_some_and(|p| p.type_name != r.type_name)
            })
            .map(|r| r.logical_id.clone())
            .collect();
        if let Some(first) = retyped.first().and_then(|id| self.template.resource(id)) {
            return Err(TemplateError::new(
                ErrorKind::ResourceTypeChanged(retyped.clone()),
                first.path.key("Type"),
                first.type_location,
            )
            .into());
        }
        let values = Previous(by_id.clone());
        let mut pending: BTreeSet<String> = BTreeSet::new();
        let mut errors = Errors::default();
        let mut changes = Vec::new();
        for planned in &self.resources {
            let Some(old) = by_id.get(planned.logical_id.as_str()) else {
                pending.insert(planned.logical_id.clone());
                changes.push(ResourceChange {
                    logical_id: planned.logical_id.clone(),
                    type_name: planned.type_name.clone(),
                    action: ChangeAction::Create,
                    replacement: None,
                    details: Vec::new(),
                    physical_id: None,
                    kept_name: None,
                });
                continue;
            };
            let resource = self.declared(&planned.logical_id)?;
            let Some(schema) = schema(&resource.type_name) else {
                return Err(crate::plan::unsupported_type(resource).into());
            };
            let env = self.env(Lookup {
                values: Some(&values),
                pending: Some(&pending),
            });
            let mut details = Vec::new();
            let mut seen = BTreeSet::new();
            for (name, expr) in &resource.properties {
                seen.insert(name.as_str());
                let value = match env.eval(expr) {
                    Ok(v) => v,
                    Err(e) => {
                        errors.push(*e);
                        continue;
                    }
                };
                let before = old.properties.get(name).cloned();
                if value.has_unknown() {
                    details.push(PropertyChange {
                        path: name.clone(),
                        replacement: dynamic_replacement(schema.replacement(name), schema, name),
                        dynamic: true,
                        before,
                        after: None,
                    });
                    continue;
                }
                let after = value.to_json();
                if same(before.as_ref(), after.as_ref()) {
                    continue;
                }
                let (path, replacement) =
                    static_replacement(schema, name, before.as_ref(), after.as_ref());
                details.push(PropertyChange {
                    path,
                    replacement,
                    dynamic: false,
                    before,
                    after,
                });
            }
            for (name, before) in &old.properties {
                if !seen.contains(name.as_str()) {
                    let (path, replacement) = static_replacement(schema, name, Some(before), None);
                    details.push(PropertyChange {
                        path,
                        replacement,
                        dynamic: false,
                        before: Some(before.clone()),
                        after: None,
                    });
                }
            }
            let worst = details.iter().map(|d| d.replacement).max();
            let (action, replacement) = match worst {
                None => (ChangeAction::Unchanged, None),
                Some(Replacement::Always) => (ChangeAction::Replace, Some(Replacement::Always)),
                Some(r) => (ChangeAction::Update, Some(r)),
            };
            let kept_name = if action == ChangeAction::Replace {
                pending.insert(planned.logical_id.clone());
                kept_name(&resource.type_name, schema, &old.properties, &details)
            } else {
                None
            };
            changes.push(ResourceChange {
                logical_id: planned.logical_id.clone(),
                type_name: planned.type_name.clone(),
                action,
                replacement,
                details,
                physical_id: Some(old.physical_id.clone()),
                kept_name,
            });
        }
        let planned: BTreeSet<&str> = self
            .resources
            .iter()
            .map(|r| r.logical_id.as_str())
            .collect();
        for old in previous.iter().rev() {
            if !planned.contains(old.logical_id.as_str()) {
                changes.push(ResourceChange {
                    logical_id: old.logical_id.clone(),
                    type_name: old.type_name.clone(),
                    action: ChangeAction::Delete,
                    replacement: None,
                    details: Vec::new(),
                    physical_id: Some(old.physical_id.clone()),
                    kept_name: None,
                });
            }
        }
        if !errors.is_empty() {
            return errors.finish(Vec::new());
        }
        Ok(changes)
    }
}

/// A dynamic value of a property: a create-only property is replaced; a property with
/// create-only parts may be.
fn dynamic_replacement(
    top: Replacement,
    schema: &crate::schema::ResourceSchema,
    name: &str,
) -> Replacement {
    if top != Replacement::Never {
        return top;
    }
    if schema.nested_rules(name).next().is_some() {
        Replacement::Conditionally
    } else {
        Replacement::Never
    }
}

/// How a known change of `name` affects the resource, and the path that decides it.
fn static_replacement(
    schema: &crate::schema::ResourceSchema,
    name: &str,
    before: Option<&Value>,
    after: Option<&Value>,
) -> (String, Replacement) {
    let top = schema.replacement(name);
    if top != Replacement::Never {
        return (name.to_string(), top);
    }
    let mut result = (name.to_string(), Replacement::Never);
    for (pointer, replacement) in schema.nested_rules(name) {
        let rest = &pointer[name.len() + 1..];
        let at = |v: Option<&Value>| v.and_then(|v| v.pointer(&format!("/{rest}"))).cloned();
        if !same(at(before).as_ref(), at(after).as_ref()) && replacement > result.1 {
            result = (pointer.to_string(), replacement);
        }
    }
    result
}

/// Whether two property values are the same to CloudFormation: scalars compared as text
/// (`"1"` and `1` are one value), objects whatever their key order.
fn same(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => normalized(a) == normalized(b),
        _ => false,
    }
}

fn normalized(v: &Value) -> Value {
    match v {
        Value::Null => Value::Null,
        Value::Bool(b) => Value::String(b.to_string()),
        Value::Number(n) => Value::String(n.to_string()),
        Value::String(s) => Value::String(s.clone()),
        Value::Array(items) => Value::Array(items.iter().map(normalized).collect()),
        Value::Object(map) => {
            let sorted: BTreeMap<&String, Value> =
                map.iter().map(|(k, v)| (k, normalized(v))).collect();
            Value::Object(sorted.into_iter().map(|(k, v)| (k.clone(), v)).collect())
        }
    }
}
