//! Linking a template with the values of one stack: every parameter checked first (unknown and
//! missing ones reported together), then the conditions evaluated once, then every resource and
//! output checked as far as it can be without the resources' own values, giving a [`Plan`].

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::error::{ErrorKind, Errors, TemplateError, TemplateErrors};
use crate::evaluate::{Env, Lookup, Val};
use crate::expr::Expr;
use crate::graph;
use crate::parameter::ParameterValue;
use crate::path::JsonPath;
use crate::plan::{LinkedParameter, Plan, PlannedOutput, PlannedResource};
use crate::template::Template;

/// A value another stack exports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    /// The value.
    pub value: String,
    /// The name of the stack that exports it.
    pub stack_name: String,
}

/// The stack a template is linked for: what the pseudo parameters return, and the exports
/// `Fn::ImportValue` can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackContext {
    /// `AWS::AccountId`.
    pub account_id: String,
    /// `AWS::Region`.
    pub region: String,
    /// `AWS::StackName`.
    pub stack_name: String,
    /// `AWS::StackId`.
    pub stack_id: String,
    /// `AWS::NotificationARNs`.
    pub notification_arns: Vec<String>,
    /// What `Fn::GetAZs` returns for the stack's region; empty: `<region>a`, `b` and `c`.
    pub zones: Vec<String>,
    /// Exports of every stack of the account and region, by name.
    pub exports: BTreeMap<String, Export>,
}

impl StackContext {
    /// A stack in `account_id` and `region`, its id made from its name.
    pub fn new(account_id: &str, region: &str, stack_name: &str) -> StackContext {
        let partition = partition_of(region);
        StackContext {
            account_id: account_id.to_string(),
            region: region.to_string(),
            stack_name: stack_name.to_string(),
            stack_id: format!(
                "arn:{partition}:cloudformation:{region}:{account_id}:stack/{stack_name}/00000000-0000-0000-0000-000000000000"
            ),
            notification_arns: Vec::new(),
            zones: Vec::new(),
            exports: BTreeMap::new(),
        }
    }

    /// The same stack with its real id.
    pub fn with_stack_id(mut self, stack_id: &str) -> StackContext {
        self.stack_id = stack_id.to_string();
        self
    }

    /// `AWS::Partition`: `aws-cn` in the China regions, `aws-us-gov` in GovCloud, else `aws`.
    pub fn partition(&self) -> &'static str {
        partition_of(&self.region)
    }

    /// `AWS::URLSuffix`.
    pub fn url_suffix(&self) -> &'static str {
        if self.partition() == "aws-cn" {
            "amazonaws.com.cn"
        } else {
            "amazonaws.com"
        }
    }

    /// What `Fn::GetAZs` returns for `region` (`""`: the stack's region).
    pub fn availability_zones(&self, region: &str) -> Vec<String> {
        let region = if region.is_empty() {
            self.region.as_str()
        } else {
            region
        };
        if region == self.region && !self.zones.is_empty() {
            return self.zones.clone();
        }
        ["a", "b", "c"]
            .iter()
            .map(|z| format!("{region}{z}"))
            .collect()
    }
}

fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

impl Template {
    /// Links the template with parameter values for one stack. Every parameter is checked
    /// first; unknown and missing ones are reported together. Then the conditions are
    /// evaluated once, every resource's type is checked, and each resource and output is
    /// evaluated as far as it can be without the resources' own values, which finds its
    /// dependencies; the plan lists the resources in dependency order.
    pub fn link<'t>(
        &'t self,
        stack: &StackContext,
        values: &BTreeMap<String, String>,
    ) -> Result<Plan, TemplateErrors> {
        let parameters = self.link_parameters(values)?;
        let resolved: BTreeMap<String, ParameterValue> = parameters
            .iter()
            .map(|p| (p.name.clone(), p.value.clone()))
            .collect();
        let conditions = self.evaluate_conditions(&resolved, stack)?;
        self.check_resource_types()?;

        let active: BTreeSet<String> = self
            .resources
            .iter()
            .filter(|r| {
                r.condition
                    .as_ref()
                    .is_none_or(|c| conditions.get(c).copied().unwrap_or(false))
            })
            .map(|r| r.logical_id.clone())
            .collect();
        let env = || new_env(self, &resolved, stack, &conditions, &active);
        let mut errors = Errors::default();
        let mut unresolved: Vec<(String, JsonPath, crate::node::Location)> = Vec::new();
        let mut dependencies: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for resource in self
            .resources
            .iter()
            .filter(|r| active.contains(&r.logical_id))
        {
            let env = env();
            for (_, expr) in &resource.properties {
                if let Err(e) = env.eval(expr) {
                    errors.push(*e);
                }
            }
            let mut deps = env.dependencies.into_inner();
            for (name, expr) in env.inactive.into_inner() {
                unresolved.push((name, expr.path.clone(), expr.location));
            }
            for name in &resource.depends_on {
                if active.contains(name) {
                    deps.insert(name.clone());
                } else {
                    unresolved.push((
                        name.clone(),
                        resource.path.key("DependsOn"),
                        resource.depends_on_location,
                    ));
                }
            }
            dependencies.insert(resource.logical_id.clone(), deps);
        }
        push_unresolved(&mut errors, &unresolved, "Resources");

        let mut outputs = Vec::new();
        let mut unresolved = Vec::new();
        for output in &self.outputs {
            if let Some(c) = &output.condition
                && !conditions.get(c).copied().unwrap_or(false)
            {
                continue;
            }
            let env = env();
            let mut evaluate = |expr: &'t Expr| match env.eval(expr) {
                Ok(v) => Some(v),
                Err(e) => {
                    errors.push(*e);
                    None
                }
            };
            evaluate(&output.value);
            if let Some(d) = &output.description {
                evaluate(d);
            }
            let export_name = output.export_name.as_ref().and_then(|n| match evaluate(n) {
                Some(Val::Unknown) | None => None,
                Some(v) => v.to_json().map(|j| match j {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                }),
            });
            for (name, expr) in env.inactive.into_inner() {
                unresolved.push((name, expr.path.clone(), expr.location));
            }
            if let (Some(name), Some(expr)) = (&export_name, &output.export_name)
                && let Some(existing) = stack.exports.get(name)
                && existing.stack_name != stack.stack_name
            {
                errors.add(
                    ErrorKind::ExportAlreadyExported {
                        name: name.clone(),
                        stack: existing.stack_name.clone(),
                    },
                    &expr.path,
                    expr.location,
                );
            }
            outputs.push(PlannedOutput {
                name: output.name.clone(),
                export_name,
                dependencies: env.dependencies.into_inner().into_iter().collect(),
            });
        }
        push_unresolved(&mut errors, &unresolved, "Outputs");
        errors.finish(())?;

        let ids: Vec<&str> = self
            .resources
            .iter()
            .map(|r| r.logical_id.as_str())
            .filter(|id| active.contains(*id))
            .collect();
        let order = match graph::order(&ids, &dependencies) {
            Ok(order) => order,
            Err(cycle) => {
                let first = self.resource(&cycle[0]);
                return Err(TemplateError::new(
                    ErrorKind::CircularResources(cycle.clone()),
                    first.map(|r| r.path.clone()).unwrap_or_default(),
                    first.map(|r| r.location).unwrap_or_default(),
                )
                .into());
            }
        };
        let resources = order
            .iter()
            .filter_map(|id| self.resource(id))
            .map(|r| {
                let deps = dependencies.remove(&r.logical_id).unwrap_or_default();
                PlannedResource {
                    logical_id: r.logical_id.clone(),
                    type_name: r.type_name.clone(),
                    depends_on: order
                        .iter()
                        .filter(|id| deps.contains(*id))
                        .cloned()
                        .collect(),
                    deletion_policy: r.deletion_policy,
                    update_replace_policy: r.update_replace_policy,
                    metadata: r.metadata.clone(),
                }
            })
            .collect();
        Ok(Plan {
            template: Arc::new(self.clone()),
            stack: stack.clone(),
            parameters,
            resolved,
            conditions,
            active,
            resources,
            outputs,
        })
    }

    /// Checks every parameter value (and default) before anything else.
    fn link_parameters(
        &self,
        values: &BTreeMap<String, String>,
    ) -> Result<Vec<LinkedParameter>, TemplateErrors> {
        let root = JsonPath::root();
        let start = crate::node::Location {
            line: 1,
            column: 1,
            offset: 0,
        };
        let mut errors = Errors::default();
        let unknown: Vec<String> = values
            .keys()
            .filter(|k| self.parameter(k).is_none())
            .cloned()
            .collect();
        if !unknown.is_empty() {
            if self.parameters.is_empty() {
                errors.add(ErrorKind::ParametersNotExpected, &root, start);
            } else {
                errors.add(
                    ErrorKind::UnknownParameters(unknown),
                    &root.key("Parameters"),
                    self.parameters[0].location,
                );
            }
        }
        let missing: Vec<&crate::parameter::ParameterDecl> = self
            .parameters
            .iter()
            .filter(|p| !values.contains_key(&p.name) && p.default.is_none())
            .collect();
        if let Some(first) = missing.first() {
            errors.add(
                ErrorKind::MissingParameterValues(missing.iter().map(|p| p.name.clone()).collect()),
                &first.path,
                first.location,
            );
        }
        if !errors.is_empty() {
            return errors.finish(Vec::new());
        }
        let mut linked = Vec::new();
        for decl in &self.parameters {
            let (given, from_default) = match values.get(&decl.name) {
                Some(v) => (v.clone(), false),
                None => (decl.default.clone().unwrap_or_default(), true),
            };
            match decl.check(&given) {
                Ok(value) => linked.push(LinkedParameter {
                    name: decl.name.clone(),
                    given,
                    value,
                    no_echo: decl.no_echo,
                    from_default,
                }),
                Err(kind) => errors.add(kind, &decl.path, decl.location),
            }
        }
        errors.finish(linked)
    }

    /// Evaluates every condition once, each after the conditions it uses.
    fn evaluate_conditions(
        &self,
        parameters: &BTreeMap<String, ParameterValue>,
        stack: &StackContext,
    ) -> Result<BTreeMap<String, bool>, TemplateErrors> {
        let mut conditions = BTreeMap::new();
        let active = BTreeSet::new();
        for name in &self.condition_order {
            let Some(decl) = self.condition(name) else {
                continue;
            };
            let env = Env {
                template: self,
                parameters,
                stack,
                conditions: &conditions,
                active: &active,
                lookup: Lookup {
                    values: None,
                    pending: None,
                },
                dependencies: RefCell::new(BTreeSet::new()),
                inactive: RefCell::new(Vec::new()),
            };
            let value = match env.eval(&decl.expr)? {
                Val::Bool(b) => b,
                Val::String(s) if s == "true" || s == "false" => s == "true",
                _ => {
                    return Err(TemplateError::new(
                        ErrorKind::NotBoolean("a condition"),
                        decl.expr.path.clone(),
                        decl.expr.location,
                    )
                    .into());
                }
            };
            conditions.insert(name.clone(), value);
        }
        Ok(conditions)
    }

    /// Checks that every resource has a type rolewright provisions.
    pub fn check_resource_types(&self) -> Result<(), TemplateErrors> {
        let mut errors = Errors::default();
        for resource in &self.resources {
            if crate::schema::schema(&resource.type_name).is_none() {
                errors.push(crate::plan::unsupported_type(resource));
            }
        }
        errors.finish(())
    }
}

fn new_env<'a>(
    template: &'a Template,
    parameters: &'a BTreeMap<String, ParameterValue>,
    stack: &'a StackContext,
    conditions: &'a BTreeMap<String, bool>,
    active: &'a BTreeSet<String>,
) -> Env<'a> {
    Env {
        template,
        parameters,
        stack,
        conditions,
        active,
        lookup: Lookup {
            values: None,
            pending: None,
        },
        dependencies: RefCell::new(BTreeSet::new()),
        inactive: RefCell::new(Vec::new()),
    }
}

fn push_unresolved(
    errors: &mut Errors,
    unresolved: &[(String, JsonPath, crate::node::Location)],
    block: &'static str,
) {
    if let Some((_, path, location)) = unresolved.first() {
        let mut seen = BTreeSet::new();
        let names = unresolved
            .iter()
            .filter(|(n, _, _)| seen.insert(n.clone()))
            .map(|(n, _, _)| n.clone())
            .collect();
        errors.add(
            ErrorKind::UnresolvedDependencies { names, block },
            path,
            *location,
        );
    }
}
