//! The result of linking: the resources in the order to create them, and a way to resolve each
//! one's properties once the resources it depends on exist.
//!
//! References to other resources are resolved lazily: the control plane creates the resources
//! one by one, in [`Plan::resources`] order, and gives the plan their physical ids and
//! attributes through [`ResourceValues`]; [`Plan::resolve`] then returns a resource's
//! properties as plain JSON, checked against its type's schema.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::error::{ErrorKind, Errors, TemplateError, TemplateErrors};
use crate::evaluate::{Env, Lookup, Val};
use crate::link::StackContext;
use crate::node::Location;
use crate::parameter::ParameterValue;
use crate::path::JsonPath;
use crate::schema::{ResourceSchema, schema};
use crate::template::{DeletionPolicy, Resource, Template};

/// The values of resources that exist: what `Ref` and `Fn::GetAtt` of them return.
pub trait ResourceValues {
    /// What `Ref` returns: the resource's physical id.
    fn physical_id(&self, logical_id: &str) -> Option<String>;
    /// What `Fn::GetAtt` returns.
    fn attribute(&self, logical_id: &str, attribute: &str) -> Option<Value>;
}

/// A created resource's values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResourceValue {
    /// Its physical id.
    pub physical_id: String,
    /// Its attributes, by name.
    pub attributes: BTreeMap<String, Value>,
}

/// The values of created resources, by logical id: the plain [`ResourceValues`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CreatedResources(pub BTreeMap<String, ResourceValue>);

impl CreatedResources {
    /// No resource yet.
    pub fn new() -> CreatedResources {
        CreatedResources::default()
    }

    /// Records a created resource.
    pub fn insert(
        &mut self,
        logical_id: &str,
        physical_id: &str,
        attributes: impl IntoIterator<Item = (String, Value)>,
    ) {
        self.0.insert(
            logical_id.to_string(),
            ResourceValue {
                physical_id: physical_id.to_string(),
                attributes: attributes.into_iter().collect(),
            },
        );
    }
}

impl ResourceValues for CreatedResources {
    fn physical_id(&self, logical_id: &str) -> Option<String> {
        self.0.get(logical_id).map(|r| r.physical_id.clone())
    }

    fn attribute(&self, logical_id: &str, attribute: &str) -> Option<Value> {
        self.0.get(logical_id)?.attributes.get(attribute).cloned()
    }
}

/// A parameter with its value for this stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedParameter {
    /// Its name.
    pub name: String,
    /// The string given (or the default).
    pub given: String,
    /// What `Ref` returns.
    pub value: ParameterValue,
    /// `NoEcho`.
    pub no_echo: bool,
    /// Whether the value is the default.
    pub from_default: bool,
}

impl LinkedParameter {
    /// The value as CloudFormation shows it when it describes the stack: `****` for a
    /// `NoEcho` parameter. (CloudFormation does not mask outputs or metadata that use it.)
    pub fn shown_value(&self) -> &str {
        if self.no_echo { "****" } else { &self.given }
    }
}

/// A resource of the plan.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedResource {
    /// Its logical id.
    pub logical_id: String,
    /// Its type.
    pub type_name: String,
    /// The resources it needs to exist first (`Ref`, `Fn::GetAtt`, `Fn::Sub` and `DependsOn`
    /// in the branches its conditions take), in plan order.
    pub depends_on: Vec<String>,
    /// `DeletionPolicy`.
    pub deletion_policy: Option<DeletionPolicy>,
    /// `UpdateReplacePolicy`.
    pub update_replace_policy: Option<DeletionPolicy>,
    /// `Metadata`, as written.
    pub metadata: Option<Value>,
}

impl PlannedResource {
    /// Whether deleting the stack keeps the resource (`Retain`, `RetainExceptOnCreate`).
    pub fn retained_on_delete(&self) -> bool {
        matches!(
            self.deletion_policy,
            Some(DeletionPolicy::Retain | DeletionPolicy::RetainExceptOnCreate)
        )
    }
}

/// An output of the plan, whose value needs the resources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedOutput {
    /// Its logical name.
    pub name: String,
    /// `Export.Name`, already resolved (it may not depend on resources).
    pub export_name: Option<String>,
    /// The resources its value and description use.
    pub dependencies: Vec<String>,
}

/// An output's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputValue {
    /// Its logical name (`OutputKey`).
    pub name: String,
    /// Its value (`OutputValue`); lists are joined with commas.
    pub value: String,
    /// `Description`.
    pub description: Option<String>,
    /// `Export.Name`.
    pub export_name: Option<String>,
}

/// A template linked for one stack.
#[derive(Debug, Clone)]
pub struct Plan {
    pub(crate) template: Arc<Template>,
    pub(crate) stack: StackContext,
    /// Every parameter with its value, in template order.
    pub parameters: Vec<LinkedParameter>,
    pub(crate) resolved: BTreeMap<String, ParameterValue>,
    /// Every condition's value.
    pub conditions: BTreeMap<String, bool>,
    pub(crate) active: BTreeSet<String>,
    /// The resources whose condition holds, in the order to create them (delete in reverse).
    pub resources: Vec<PlannedResource>,
    /// The outputs whose condition holds, in template order.
    pub outputs: Vec<PlannedOutput>,
}

impl Plan {
    /// The template the plan was made from.
    pub fn template(&self) -> &Template {
        &self.template
    }

    /// The stack it was linked for.
    pub fn stack(&self) -> &StackContext {
        &self.stack
    }

    /// The template's description.
    pub fn description(&self) -> Option<&str> {
        self.template.description.as_deref()
    }

    /// The planned resource `logical_id`.
    pub fn resource(&self, logical_id: &str) -> Option<&PlannedResource> {
        self.resources.iter().find(|r| r.logical_id == logical_id)
    }

    /// The export names of the outputs, with the outputs that export them.
    pub fn exports(&self) -> impl Iterator<Item = (&str, &str)> {
        self.outputs
            .iter()
            .filter_map(|o| o.export_name.as_deref().map(|e| (o.name.as_str(), e)))
    }

    pub(crate) fn env<'a>(&'a self, lookup: Lookup<'a>) -> Env<'a> {
        Env {
            template: &self.template,
            parameters: &self.resolved,
            stack: &self.stack,
            conditions: &self.conditions,
            active: &self.active,
            lookup,
            dependencies: RefCell::new(BTreeSet::new()),
            inactive: RefCell::new(Vec::new()),
        }
    }

    /// Resolves the properties of `logical_id` with the values of the resources it depends on
    /// (which must exist), and checks them against the type's schema: every property known,
    /// every required one present. `AWS::NoValue` properties are left out.
    pub fn resolve(
        &self,
        logical_id: &str,
        values: &dyn ResourceValues,
    ) -> Result<Map<String, Value>, TemplateErrors> {
        let resource = self.declared(logical_id)?;
        let env = self.env(Lookup {
            values: Some(values),
            pending: None,
        });
        let mut errors = Errors::default();
        let mut out = Map::new();
        for (name, expr) in &resource.properties {
            match env.eval(expr) {
                Ok(v) => {
                    if let Some(json) = v.to_json() {
                        out.insert(name.clone(), json);
                    }
                }
                Err(e) => errors.push(*e),
            }
        }
        if !errors.is_empty() {
            return errors.finish(out);
        }
        check_against_schema(resource, &out)?;
        Ok(out)
    }

    /// The outputs' values, with the values of the resources they use.
    pub fn output_values(
        &self,
        values: &dyn ResourceValues,
    ) -> Result<Vec<OutputValue>, TemplateErrors> {
        let env = self.env(Lookup {
            values: Some(values),
            pending: None,
        });
        let mut errors = Errors::default();
        let mut out = Vec::new();
        for planned in &self.outputs {
            let Some(output) = self
                .template
                .outputs
                .iter()
                .find(|o| o.name == planned.name)
            else {
                continue;
            };
            let value = match env.eval(&output.value) {
                Ok(v) => output_text(&v),
                Err(e) => {
                    errors.push(*e);
                    continue;
                }
            };
            let description = match output.description.as_ref().map(|d| env.eval(d)) {
                None => None,
                Some(Ok(v)) => Some(output_text(&v)),
                Some(Err(e)) => {
                    errors.push(*e);
                    continue;
                }
            };
            out.push(OutputValue {
                name: planned.name.clone(),
                value,
                description,
                export_name: planned.export_name.clone(),
            });
        }
        errors.finish(out)
    }

    pub(crate) fn declared(&self, logical_id: &str) -> Result<&Resource, TemplateErrors> {
        match self.template.resource(logical_id) {
            Some(r) if self.active.contains(logical_id) => Ok(r),
            found => Err(TemplateError::new(
                ErrorKind::UnresolvedDependencies {
                    names: vec![logical_id.to_string()],
                    block: "Resources",
                },
                found.map_or_else(|| JsonPath::root().key("Resources"), |r| r.path.clone()),
                found.map_or(
                    Location {
                        line: 1,
                        column: 1,
                        offset: 0,
                    },
                    |r| r.location,
                ),
            )
            .into()),
        }
    }
}

/// An output value as text: scalars as written, lists joined with commas.
fn output_text(v: &Val) -> String {
    match v.to_json() {
        Some(Value::String(s)) => s,
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(","),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// The error for a resource type rolewright does not provision.
pub(crate) fn unsupported_type(resource: &Resource) -> TemplateError {
    TemplateError::new(
        ErrorKind::UnsupportedResourceType {
            logical_id: resource.logical_id.clone(),
            type_name: resource.type_name.clone(),
        },
        resource.path.key("Type"),
        resource.type_location,
    )
    .with_help(supported_types_help())
}

/// The types rolewright provisions, grouped by service: `AWS::IAM::{AccessKey, ...}, ...`.
fn supported_types_help() -> String {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for type_name in crate::schema::supported_types() {
        let (service, name) = type_name.rsplit_once("::").unwrap_or(("", type_name));
        match groups.last_mut() {
            Some((s, names)) if *s == service => names.push(name),
            _ => groups.push((service, vec![name])),
        }
    }
    let groups: Vec<String> = groups
        .iter()
        .map(|(service, names)| format!("{service}::{{{}}}", names.join(", ")))
        .collect();
    format!("rolewright provisions {}", groups.join(", "))
}

/// The error for a property the type does not have, with the nearest name it does have.
pub(crate) fn unsupported_property(
    resource: &Resource,
    schema: &ResourceSchema,
    name: &str,
    path: &JsonPath,
    location: Location,
) -> TemplateError {
    let error = TemplateError::new(
        ErrorKind::UnsupportedProperty {
            logical_id: resource.logical_id.clone(),
            type_name: resource.type_name.clone(),
            property: name.to_string(),
        },
        path.clone(),
        location,
    );
    let read_only = schema.read_only.iter().any(|r| r == name);
    let help = if read_only {
        format!(
            "{name} of {} is set by the service; read it with Fn::GetAtt",
            resource.type_name
        )
    } else {
        match closest(name, schema.settable()) {
            Some(near) => format!(
                "{} has no property {name}; did you mean {near}?",
                resource.type_name
            ),
            None => format!("{} has no property {name}", resource.type_name),
        }
    };
    error.with_help(help)
}

/// Checks resolved properties against the resource's schema.
fn check_against_schema(
    resource: &Resource,
    properties: &Map<String, Value>,
) -> Result<(), TemplateErrors> {
    let Some(schema) = schema(&resource.type_name) else {
        return Err(unsupported_type(resource).into());
    };
    let mut errors = Errors::default();
    for name in properties.keys() {
        if !schema.accepts(name) {
            let (path, location) = resource
                .properties
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, e)| (e.path.clone(), e.location))
                .unwrap_or((resource.path.clone(), resource.location));
            errors.push(unsupported_property(
                resource, schema, name, &path, location,
            ));
        }
    }
    for required in &schema.required {
        if !properties.contains_key(required) {
            errors.add(
                ErrorKind::RequiredProperty {
                    logical_id: resource.logical_id.clone(),
                    property: required.clone(),
                },
                &resource.path.key("Properties"),
                resource.location,
            );
        }
    }
    errors.finish(())
}

/// The candidate nearest to `name` by edit distance, when near enough to be a typo.
fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_ascii_lowercase();
    candidates
        .map(|c| (distance(&lower, &c.to_ascii_lowercase()), c))
        .filter(|(d, c)| *d <= (c.len().max(name.len()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            current.push(
                (previous[j] + cost)
                    .min(previous[j + 1] + 1)
                    .min(current[j] + 1),
            );
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_their_property() {
        let names = ["RoleName", "Path", "Policies"];
        assert_eq!(closest("RoleNmae", names.iter().copied()), Some("RoleName"));
        assert_eq!(closest("Bucket", names.iter().copied()), None);
    }
}
