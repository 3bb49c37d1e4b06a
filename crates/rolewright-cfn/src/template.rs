//! The validated template: its sections read into typed values, and every reference between
//! them checked, as CloudFormation's `ValidateTemplate` checks them.
//!
//! Reading a template does not look at resource types: a Service Catalog product accepts any
//! template and fails only when it runs. [`Template::check_resources`] is that check, and
//! linking ([`Template::link`](crate::link)) makes it.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::error::{ErrorKind, Errors, TemplateError, TemplateErrors};
use crate::expr::{Expr, ExprKind, Scope, SubPart};
use crate::graph;
use crate::node::{Location, Node};
use crate::parameter::ParameterDecl;
use crate::path::JsonPath;
use crate::reader::{TemplateFormat, detect_format, read_document};
use crate::return_value::return_values;
use crate::schema::schema;

/// The pseudo parameters: what `Ref` can name besides parameters and resources.
pub const PSEUDO_PARAMETERS: &[&str] = &[
    "AWS::AccountId",
    "AWS::NotificationARNs",
    "AWS::NoValue",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
];

const SECTIONS: &[&str] = &[
    "AWSTemplateFormatVersion",
    "Description",
    "Metadata",
    "Parameters",
    "Rules",
    "Mappings",
    "Conditions",
    "Transform",
    "Resources",
    "Outputs",
];

const RESOURCE_ATTRIBUTES: &[&str] = &[
    "Type",
    "Properties",
    "DependsOn",
    "Condition",
    "DeletionPolicy",
    "UpdateReplacePolicy",
    "Metadata",
    "CreationPolicy",
    "UpdatePolicy",
];

/// What happens to a resource when its stack is deleted (`DeletionPolicy`) or when an update
/// replaces it (`UpdateReplacePolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeletionPolicy {
    /// The resource is deleted (the default).
    Delete,
    /// The resource is kept.
    Retain,
    /// Kept, except when the stack's creation fails.
    RetainExceptOnCreate,
    /// A snapshot is taken, then the resource is deleted (kept as `Delete` for the types
    /// rolewright provisions, none of which has snapshots).
    Snapshot,
}

impl DeletionPolicy {
    fn parse(text: &str) -> Option<DeletionPolicy> {
        Some(match text {
            "Delete" => DeletionPolicy::Delete,
            "Retain" => DeletionPolicy::Retain,
            "RetainExceptOnCreate" => DeletionPolicy::RetainExceptOnCreate,
            "Snapshot" => DeletionPolicy::Snapshot,
            _ => return None,
        })
    }
}

/// A mapping of the Mappings section: top-level keys to second-level keys to values.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapping {
    /// Its name.
    pub name: String,
    /// Its entries, in order.
    pub entries: Vec<(String, Vec<(String, Value)>)>,
}

impl Mapping {
    /// The value at `top`, `second`.
    pub fn get(&self, top: &str, second: &str) -> Option<&Value> {
        let (_, inner) = self.entries.iter().find(|(k, _)| k == top)?;
        inner.iter().find(|(k, _)| k == second).map(|(_, v)| v)
    }
}

/// A condition of the Conditions section.
#[derive(Debug, Clone, PartialEq)]
pub struct ConditionDecl {
    /// Its name.
    pub name: String,
    /// Its expression.
    pub expr: Expr,
}

/// A resource of the Resources section.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// Its logical id.
    pub logical_id: String,
    /// `Type`.
    pub type_name: String,
    /// `Properties`, in order.
    pub properties: Vec<(String, Expr)>,
    /// `DependsOn`.
    pub depends_on: Vec<String>,
    /// `Condition`.
    pub condition: Option<String>,
    /// `DeletionPolicy`.
    pub deletion_policy: Option<DeletionPolicy>,
    /// `UpdateReplacePolicy`.
    pub update_replace_policy: Option<DeletionPolicy>,
    /// `Metadata`, as written (not resolved).
    pub metadata: Option<Value>,
    /// Its JSON path (`Resources.Id`).
    pub path: JsonPath,
    /// Where it is declared.
    pub location: Location,
    /// Where its `Type` is.
    pub type_location: Location,
    /// Where its `DependsOn` and `Condition` are (its own location when absent).
    pub(crate) depends_on_location: Location,
    pub(crate) condition_location: Location,
}

/// An output of the Outputs section.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    /// Its logical name.
    pub name: String,
    /// `Value`.
    pub value: Expr,
    /// `Description`.
    pub description: Option<Expr>,
    /// `Export.Name`.
    pub export_name: Option<Expr>,
    /// `Condition`.
    pub condition: Option<String>,
    /// Its JSON path (`Outputs.Name`).
    pub path: JsonPath,
    /// Where it is declared.
    pub location: Location,
}

/// A template, read and checked.
#[derive(Debug, Clone)]
pub struct Template {
    /// The format it was written in.
    pub format: TemplateFormat,
    /// `AWSTemplateFormatVersion`.
    pub format_version: Option<String>,
    /// `Description`.
    pub description: Option<String>,
    /// `Metadata`, as written.
    pub metadata: Option<Value>,
    /// `Parameters`, in order.
    pub parameters: Vec<ParameterDecl>,
    /// `Mappings`, in order.
    pub mappings: Vec<Mapping>,
    /// `Conditions`, in order.
    pub conditions: Vec<ConditionDecl>,
    /// `Resources`, in order.
    pub resources: Vec<Resource>,
    /// `Outputs`, in order.
    pub outputs: Vec<Output>,
    /// `Rules`, as written (kept, not evaluated).
    pub rules: Option<Value>,
    /// The conditions in an order in which each comes after the ones it uses.
    pub(crate) condition_order: Vec<String>,
}

impl Template {
    /// Reads and checks a template (JSON or YAML).
    pub fn parse(text: &str) -> Result<Template, TemplateErrors> {
        let node = read_document(text)?;
        Template::from_node(&node, detect_format(text))
    }

    /// Checks a template already read.
    pub fn from_node(node: &Node, format: TemplateFormat) -> Result<Template, TemplateErrors> {
        let root = JsonPath::root();
        let Some(entries) = node.as_object() else {
            return Err(
                TemplateError::new(ErrorKind::UnsupportedStructure, root, node.location).into(),
            );
        };
        let mut errors = Errors::default();

        let unknown: Vec<&(String, Location, Node)> = entries
            .iter()
            .filter(|(k, _, _)| !SECTIONS.contains(&k.as_str()))
            .collect();
        if let Some((_, location, _)) = unknown.first() {
            let names = unknown.iter().map(|(k, _, _)| k.clone()).collect();
            errors.add(
                ErrorKind::InvalidTemplateProperties(names),
                &root,
                *location,
            );
        }

        let format_version = node.get("AWSTemplateFormatVersion").and_then(|v| {
            let text = v.scalar_text();
            if text.as_deref() != Some("2010-09-09") {
                let shown = text.unwrap_or_else(|| v.type_name().to_string());
                errors.add(
                    ErrorKind::UnsupportedFormatVersion(shown),
                    &root.key("AWSTemplateFormatVersion"),
                    v.location,
                );
            }
            v.scalar_text()
        });
        let description = node.get("Description").and_then(|v| match v.as_str() {
            Some(s) => Some(s.to_string()),
            None => {
                errors.add(
                    ErrorKind::NotAString("Description".into()),
                    &root.key("Description"),
                    v.location,
                );
                None
            }
        });
        if let Some(transform) = node.get("Transform") {
            let names = transform_names(transform);
            if !names.is_empty() {
                errors.add(
                    ErrorKind::Transform(names),
                    &root.key("Transform"),
                    transform.location,
                );
            }
        }
        let metadata = node.get("Metadata").map(Node::to_json);
        let rules = node.get("Rules").map(Node::to_json);

        let parameters = read_section(node, "Parameters", &mut errors, ParameterDecl::parse);
        let mappings = read_section(node, "Mappings", &mut errors, read_mapping);
        let conditions = read_section(
            node,
            "Conditions",
            &mut errors,
            |name, v, path, _, errors| {
                Some(ConditionDecl {
                    name: name.to_string(),
                    expr: Expr::parse(v, path, Scope::Condition, errors),
                })
            },
        );
        let resources = match node.get("Resources") {
            None => {
                errors.add(ErrorKind::NoResources, &root, node.location);
                Vec::new()
            }
            Some(section) => {
                if section.as_object().is_some_and(|e| e.is_empty()) {
                    errors.add(
                        ErrorKind::NoResources,
                        &root.key("Resources"),
                        section.location,
                    );
                }
                read_section(node, "Resources", &mut errors, read_resource)
            }
        };
        let outputs = read_section(node, "Outputs", &mut errors, read_output);

        let mut template = Template {
            format,
            format_version,
            description,
            metadata,
            parameters,
            mappings,
            conditions,
            resources,
            outputs,
            rules,
            condition_order: Vec::new(),
        };
        if errors.is_empty() {
            template.check_references(&mut errors);
        }
        errors.finish(template)
    }

    /// The parameter named `name`.
    pub fn parameter(&self, name: &str) -> Option<&ParameterDecl> {
        self.parameters.iter().find(|p| p.name == name)
    }

    /// The resource `logical_id`.
    pub fn resource(&self, logical_id: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.logical_id == logical_id)
    }

    /// The mapping named `name`.
    pub fn mapping(&self, name: &str) -> Option<&Mapping> {
        self.mappings.iter().find(|m| m.name == name)
    }

    /// The condition named `name`.
    pub fn condition(&self, name: &str) -> Option<&ConditionDecl> {
        self.conditions.iter().find(|c| c.name == name)
    }

    /// Checks that every resource has a type rolewright provisions and sets only properties
    /// its schema has. CloudFormation fails such templates when it runs them; the control plane
    /// decides when to ask (at `CreateStack`, or when a product is provisioned).
    pub fn check_resources(&self) -> Result<(), TemplateErrors> {
        let mut errors = Errors::default();
        for resource in &self.resources {
            let Some(schema) = schema(&resource.type_name) else {
                errors.push(crate::plan::unsupported_type(resource));
                continue;
            };
            for (name, expr) in &resource.properties {
                if !schema.accepts(name) {
                    errors.push(crate::plan::unsupported_property(
                        resource,
                        schema,
                        name,
                        &expr.path,
                        expr.location,
                    ));
                }
            }
        }
        errors.finish(())
    }

    /// The resources `resource` refers to in any branch, and through `DependsOn`.
    pub(crate) fn static_dependencies(&self, resource: &Resource) -> BTreeSet<String> {
        let ids: BTreeSet<&str> = self
            .resources
            .iter()
            .map(|r| r.logical_id.as_str())
            .collect();
        let mut out: BTreeSet<String> = resource.depends_on.iter().cloned().collect();
        for (_, expr) in &resource.properties {
            let refs = References::of(expr);
            for (name, _) in refs.names {
                if ids.contains(name) {
                    out.insert(name.to_string());
                }
            }
            for (name, _, _) in refs.attributes {
                out.insert(name.to_string());
            }
        }
        out
    }

    fn check_references(&mut self, errors: &mut Errors) {
        let parameters: BTreeSet<&str> = self.parameters.iter().map(|p| p.name.as_str()).collect();
        let resources: BTreeMap<&str, &Resource> = self
            .resources
            .iter()
            .map(|r| (r.logical_id.as_str(), r))
            .collect();
        let conditions: BTreeSet<&str> = self.conditions.iter().map(|c| c.name.as_str()).collect();
        let is_value = |name: &str| parameters.contains(name) || PSEUDO_PARAMETERS.contains(&name);

        // Conditions: parameters, pseudo parameters, mappings and other conditions only.
        let mut unresolved: Vec<(String, &Expr)> = Vec::new();
        let mut condition_edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for condition in &self.conditions {
            let refs = References::of(&condition.expr);
            for (name, expr) in refs.names {
                if !is_value(name) {
                    unresolved.push((name.to_string(), expr));
                }
            }
            for (name, _, expr) in refs.attributes {
                unresolved.push((name.to_string(), expr));
            }
            let edges = condition_edges.entry(condition.name.clone()).or_default();
            for (name, expr) in refs.conditions {
                if conditions.contains(name) {
                    edges.insert(name.to_string());
                } else {
                    errors.add(
                        ErrorKind::UndefinedCondition(name.to_string()),
                        &expr.path,
                        expr.location,
                    );
                }
            }
        }
        if let Some((_, first)) = unresolved.first() {
            errors.add(
                ErrorKind::ConditionDependsOnResource(unique(&unresolved)),
                &first.path,
                first.location,
            );
        }
        let names: Vec<&str> = self.conditions.iter().map(|c| c.name.as_str()).collect();
        match graph::order(&names, &condition_edges) {
            Ok(order) => self.condition_order = order,
            Err(cycle) => {
                if let Some(first) = self.condition(&cycle[0]) {
                    errors.add(
                        ErrorKind::CircularConditions(cycle.clone()),
                        &first.expr.path,
                        first.expr.location,
                    );
                }
            }
        }

        // Resources.
        let mut unresolved: Vec<(String, JsonPath, Location)> = Vec::new();
        let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for resource in &self.resources {
            if let Some(condition) = &resource.condition
                && !conditions.contains(condition.as_str())
            {
                errors.add(
                    ErrorKind::UndefinedCondition(condition.clone()),
                    &resource.path.key("Condition"),
                    resource.condition_location,
                );
            }
            for name in &resource.depends_on {
                if !resources.contains_key(name.as_str()) {
                    unresolved.push((
                        name.clone(),
                        resource.path.key("DependsOn"),
                        resource.depends_on_location,
                    ));
                }
            }
            for (_, expr) in &resource.properties {
                self.check_value_references(
                    expr,
                    &is_value,
                    &resources,
                    &conditions,
                    errors,
                    &mut |name, e| {
                        unresolved.push((name, e.path.clone(), e.location));
                    },
                );
            }
            edges.insert(
                resource.logical_id.clone(),
                self.static_dependencies(resource),
            );
        }
        if let Some((_, path, location)) = unresolved.first() {
            let names = unique_names(unresolved.iter().map(|(n, _, _)| n.as_str()));
            errors.add(
                ErrorKind::UnresolvedDependencies {
                    names,
                    block: "Resources",
                },
                path,
                *location,
            );
        }
        let ids: Vec<&str> = self
            .resources
            .iter()
            .map(|r| r.logical_id.as_str())
            .collect();
        if errors.is_empty()
            && let Err(cycle) = graph::order(&ids, &edges)
            && let Some(first) = self.resource(&cycle[0])
        {
            errors.add(
                ErrorKind::CircularResources(cycle.clone()),
                &first.path,
                first.location,
            );
        }

        // Outputs.
        let mut unresolved: Vec<(String, JsonPath, Location)> = Vec::new();
        let mut exports: Vec<(String, &Output)> = Vec::new();
        for output in &self.outputs {
            if let Some(condition) = &output.condition
                && !conditions.contains(condition.as_str())
            {
                errors.add(
                    ErrorKind::UndefinedCondition(condition.clone()),
                    &output.path.key("Condition"),
                    output.location,
                );
            }
            let mut check = |expr: &Expr, errors: &mut Errors| {
                self.check_value_references(
                    expr,
                    &is_value,
                    &resources,
                    &conditions,
                    errors,
                    &mut |name, e| {
                        unresolved.push((name, e.path.clone(), e.location));
                    },
                );
            };
            check(&output.value, errors);
            if let Some(description) = &output.description {
                check(description, errors);
            }
            if let Some(name) = &output.export_name {
                check(name, errors);
                let mut depends = false;
                name.walk(&mut |e| match &e.kind {
                    ExprKind::Ref(n) if resources.contains_key(n.as_str()) => depends = true,
                    ExprKind::GetAtt { .. } | ExprKind::ImportValue(_) | ExprKind::GetAzs(_) => {
                        depends = true
                    }
                    ExprKind::Sub { parts, variables } => {
                        for part in parts {
                            if let SubPart::Variable(v) = part {
                                let local = variables.iter().any(|(k, _)| k == v);
                                if !local && (v.contains('.') || resources.contains_key(v.as_str()))
                                {
                                    depends = true;
                                }
                            }
                        }
                    }
                    _ => {}
                });
                if depends {
                    errors.add(
                        ErrorKind::ExportNameDependsOnResource(output.name.clone()),
                        &name.path,
                        name.location,
                    );
                }
                if let ExprKind::String(literal) = &name.kind {
                    exports.push((literal.clone(), output));
                }
            }
        }
        if let Some((_, path, location)) = unresolved.first() {
            let names = unique_names(unresolved.iter().map(|(n, _, _)| n.as_str()));
            errors.add(
                ErrorKind::UnresolvedDependencies {
                    names,
                    block: "Outputs",
                },
                path,
                *location,
            );
        }
        let mut seen = BTreeSet::new();
        let duplicates: Vec<(String, &Output)> = exports
            .iter()
            .filter(|(name, _)| !seen.insert(name.clone()))
            .cloned()
            .collect();
        if let Some((_, output)) = duplicates.first() {
            let names = unique_names(duplicates.iter().map(|(n, _)| n.as_str()));
            errors.add(
                ErrorKind::DuplicateExport(names),
                &output.path.key("Export"),
                output.location,
            );
        }
    }

    /// Checks the references of a property or output value: `Ref` and `Fn::Sub` names,
    /// `Fn::GetAtt` resources and attributes, and `Fn::If` conditions. Unresolved names go to
    /// `unresolved` (CloudFormation reports them together).
    fn check_value_references(
        &self,
        expr: &Expr,
        is_value: &impl Fn(&str) -> bool,
        resources: &BTreeMap<&str, &Resource>,
        conditions: &BTreeSet<&str>,
        errors: &mut Errors,
        unresolved: &mut impl FnMut(String, &Expr),
    ) {
        let refs = References::of(expr);
        for (name, e) in refs.names {
            if !is_value(name) && !resources.contains_key(name) {
                unresolved(name.to_string(), e);
            }
        }
        for (name, attribute, e) in refs.attributes {
            match resources.get(name) {
                None => errors.add(
                    ErrorKind::GetAttUndefinedResource(name.to_string()),
                    &e.path,
                    e.location,
                ),
                Some(resource) => {
                    if let Some(values) = return_values(&resource.type_name)
                        && !values.has_attribute(attribute)
                    {
                        let error = TemplateError::new(
                            ErrorKind::GetAttUnsupportedAttribute {
                                resource: name.to_string(),
                                attribute: attribute.to_string(),
                            },
                            e.path.clone(),
                            e.location,
                        );
                        errors.push(if values.attributes.is_empty() {
                            error.with_help(format!("{} has no attributes", resource.type_name))
                        } else {
                            error.with_help(format!(
                                "{} has {}",
                                resource.type_name,
                                values.attributes.join(", ")
                            ))
                        });
                    }
                }
            }
        }
        for (name, e) in refs.conditions {
            if !conditions.contains(name) {
                errors.add(
                    ErrorKind::UndefinedCondition(name.to_string()),
                    &e.path,
                    e.location,
                );
            }
        }
    }
}

/// The names an expression refers to, in every branch.
pub(crate) struct References<'a> {
    /// `Ref` names and `Fn::Sub` variables without a dot.
    pub names: Vec<(&'a str, &'a Expr)>,
    /// `Fn::GetAtt` and `Fn::Sub` variables with a dot: (resource, attribute).
    pub attributes: Vec<(&'a str, &'a str, &'a Expr)>,
    /// Conditions named by `Fn::If` and `Condition`.
    pub conditions: Vec<(&'a str, &'a Expr)>,
}

impl<'a> References<'a> {
    pub(crate) fn of(expr: &'a Expr) -> References<'a> {
        let mut refs = References {
            names: Vec::new(),
            attributes: Vec::new(),
            conditions: Vec::new(),
        };
        expr.walk(&mut |e| match &e.kind {
            ExprKind::Ref(name) => refs.names.push((name, e)),
            ExprKind::GetAtt {
                resource,
                attribute,
            } => refs.attributes.push((resource, attribute, e)),
            ExprKind::If { condition, .. } | ExprKind::Condition(condition) => {
                refs.conditions.push((condition, e))
            }
            ExprKind::Sub { parts, variables } => {
                for part in parts {
                    if let SubPart::Variable(v) = part {
                        if variables.iter().any(|(k, _)| k == v) {
                            continue;
                        }
                        if PSEUDO_PARAMETERS.contains(&v.as_str()) {
                            refs.names.push((v, e));
                        } else if let Some((resource, attribute)) = v.split_once('.') {
                            refs.attributes.push((resource, attribute, e));
                        } else {
                            refs.names.push((v, e));
                        }
                    }
                }
            }
            _ => {}
        });
        refs
    }
}

fn unique(items: &[(String, &Expr)]) -> Vec<String> {
    unique_names(items.iter().map(|(n, _)| n.as_str()))
}

fn unique_names<'a>(names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    names
        .filter(|n| seen.insert(*n))
        .map(str::to_string)
        .collect()
}

/// The macro names of a `Transform` section (an empty list is no transform).
fn transform_names(node: &Node) -> Vec<String> {
    match (node.as_str(), node.as_array(), node.get("Name")) {
        (Some(s), _, _) => vec![s.to_string()],
        (_, Some(items), _) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_string)
                    .or_else(|| i.get("Name").and_then(Node::as_str).map(str::to_string))
                    .unwrap_or_else(|| i.to_json().to_string())
            })
            .collect(),
        (_, _, Some(name)) => vec![name.scalar_text().unwrap_or_default()],
        _ => vec![node.to_json().to_string()],
    }
}

/// Whether a logical name is alphanumeric, as CloudFormation requires.
fn alphanumeric(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Reads each member of a section with `read`.
fn read_section<T>(
    root: &Node,
    section: &str,
    errors: &mut Errors,
    mut read: impl FnMut(&str, &Node, &JsonPath, Location, &mut Errors) -> Option<T>,
) -> Vec<T> {
    let Some(node) = root.get(section) else {
        return Vec::new();
    };
    let path = JsonPath::root().key(section);
    let Some(entries) = node.as_object() else {
        if !matches!(node.value, crate::node::NodeValue::Null) {
            errors.add(
                ErrorKind::SectionNotAnObject(section.into()),
                &path,
                node.location,
            );
        }
        return Vec::new();
    };
    let kind = match section {
        "Parameters" => "Parameter",
        "Mappings" => "Mapping",
        "Conditions" => "Condition",
        "Resources" => "Resource",
        _ => "Output",
    };
    let mut out = Vec::new();
    for (name, location, value) in entries {
        let member = path.key(name);
        if !alphanumeric(name) {
            errors.add(
                ErrorKind::NonAlphanumeric {
                    kind,
                    name: name.clone(),
                },
                &member,
                *location,
            );
            continue;
        }
        if let Some(item) = read(name, value, &member, *location, errors) {
            out.push(item);
        }
    }
    out
}

fn read_mapping(
    name: &str,
    node: &Node,
    path: &JsonPath,
    location: Location,
    errors: &mut Errors,
) -> Option<Mapping> {
    let Some(entries) = node.as_object() else {
        errors.add(ErrorKind::NotAnObject("Mappings".into()), path, location);
        return None;
    };
    let mut out = Vec::new();
    for (top, _, inner) in entries {
        let Some(inner_entries) = inner.as_object() else {
            errors.add(
                ErrorKind::NotAnObject("Mappings".into()),
                &path.key(top),
                inner.location,
            );
            continue;
        };
        let mut values = Vec::new();
        for (second, _, value) in inner_entries {
            let value_path = path.key(top).key(second);
            let json = value.to_json();
            let has_function = value.as_object().is_some();
            if has_function {
                errors.push(
                    TemplateError::new(ErrorKind::NotAString("Mappings".into()), value_path, value.location)
                        .with_help("mapping values are strings or lists of strings; functions are not allowed in Mappings"),
                );
                continue;
            }
            values.push((second.clone(), json));
        }
        out.push((top.clone(), values));
    }
    Some(Mapping {
        name: name.to_string(),
        entries: out,
    })
}

fn read_resource(
    name: &str,
    node: &Node,
    path: &JsonPath,
    location: Location,
    errors: &mut Errors,
) -> Option<Resource> {
    let Some(entries) = node.as_object() else {
        errors.add(ErrorKind::NotAnObject("Resources".into()), path, location);
        return None;
    };
    for (key, location, _) in entries {
        if !RESOURCE_ATTRIBUTES.contains(&key.as_str()) {
            errors.add(
                ErrorKind::InvalidResourceAttribute(key.clone()),
                &path.key(key),
                *location,
            );
        }
    }
    let Some(type_node) = node.get("Type") else {
        errors.add(ErrorKind::MissingType, path, location);
        return None;
    };
    let Some(type_name) = type_node.as_str() else {
        errors.add(
            ErrorKind::NotAString("Type".into()),
            &path.key("Type"),
            type_node.location,
        );
        return None;
    };
    let properties = match node.get("Properties") {
        None => Vec::new(),
        Some(p) => match p.as_object() {
            Some(props) => props
                .iter()
                .map(|(k, _, v)| {
                    (
                        k.clone(),
                        Expr::parse(v, &path.key("Properties").key(k), Scope::Value, errors),
                    )
                })
                .collect(),
            None if matches!(p.value, crate::node::NodeValue::Null) => Vec::new(),
            None => {
                errors.add(
                    ErrorKind::NotAnObject("Properties".into()),
                    &path.key("Properties"),
                    p.location,
                );
                Vec::new()
            }
        },
    };
    let depends_on = match node.get("DependsOn") {
        None => Vec::new(),
        Some(d) => match (d.as_str(), d.as_array()) {
            (Some(s), _) => vec![s.to_string()],
            (_, Some(items)) => {
                let mut names = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    match item.as_str() {
                        Some(s) => names.push(s.to_string()),
                        None => errors.add(
                            ErrorKind::NotAString("DependsOn".into()),
                            &path.key("DependsOn").index(i),
                            item.location,
                        ),
                    }
                }
                names
            }
            _ => {
                errors.add(
                    ErrorKind::NotAString("DependsOn".into()),
                    &path.key("DependsOn"),
                    d.location,
                );
                Vec::new()
            }
        },
    };
    let condition = node.get("Condition").and_then(|c| match c.as_str() {
        Some(s) => Some(s.to_string()),
        None => {
            errors.add(
                ErrorKind::NotAString("Condition".into()),
                &path.key("Condition"),
                c.location,
            );
            None
        }
    });
    let policy = |attribute: &'static str, errors: &mut Errors| {
        node.get(attribute).and_then(|p| {
            let text = p.scalar_text().unwrap_or_default();
            match DeletionPolicy::parse(&text) {
                Some(policy) => Some(policy),
                None => {
                    errors.add(
                        ErrorKind::InvalidPolicy {
                            attribute,
                            value: text,
                        },
                        &path.key(attribute),
                        p.location,
                    );
                    None
                }
            }
        })
    };
    let deletion_policy = policy("DeletionPolicy", errors);
    let update_replace_policy = policy("UpdateReplacePolicy", errors);
    Some(Resource {
        logical_id: name.to_string(),
        type_name: type_name.to_string(),
        properties,
        depends_on,
        condition,
        deletion_policy,
        update_replace_policy,
        metadata: node.get("Metadata").map(Node::to_json),
        path: path.clone(),
        location,
        type_location: type_node.location,
        depends_on_location: node.get("DependsOn").map_or(location, |d| d.location),
        condition_location: node.get("Condition").map_or(location, |c| c.location),
    })
}

fn read_output(
    name: &str,
    node: &Node,
    path: &JsonPath,
    location: Location,
    errors: &mut Errors,
) -> Option<Output> {
    if node.as_object().is_none() {
        errors.add(ErrorKind::NotAnObject("Outputs".into()), path, location);
        return None;
    }
    let Some(value) = node.get("Value") else {
        errors.add(ErrorKind::MissingOutputValue, path, location);
        return None;
    };
    let value = Expr::parse(value, &path.key("Value"), Scope::Value, errors);
    let description = node
        .get("Description")
        .map(|d| Expr::parse(d, &path.key("Description"), Scope::Value, errors));
    let export_name = match node.get("Export") {
        None => None,
        Some(export) => match export.get("Name") {
            Some(n) => Some(Expr::parse(
                n,
                &path.key("Export").key("Name"),
                Scope::Value,
                errors,
            )),
            None => {
                errors.add(
                    ErrorKind::NotAnObject("Export".into()),
                    &path.key("Export"),
                    export.location,
                );
                None
            }
        },
    };
    let condition = node.get("Condition").and_then(|c| match c.as_str() {
        Some(s) => Some(s.to_string()),
        None => {
            errors.add(
                ErrorKind::NotAString("Condition".into()),
                &path.key("Condition"),
                c.location,
            );
            None
        }
    });
    Some(Output {
        name: name.to_string(),
        value,
        description,
        export_name,
        condition,
        path: path.clone(),
        location,
    })
}
