//! What a set of policies grants, by service and access level, with the resource scope: the page
//! a reviewer reads before approving a role.

use std::collections::{BTreeMap, BTreeSet};

use rolewright_iam::ast::{Effect, PolicyDocument};
use rolewright_reference::{AccessLevel, Reference};

/// Grants of one service at one access level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The service prefix (`sagemaker`).
    pub service: String,
    /// The access level.
    pub access_level: AccessLevel,
    /// The actions granted, sorted.
    pub actions: BTreeSet<String>,
    /// The resource types those actions reach (or `*` for actions without resource types).
    pub resource_types: BTreeSet<String>,
    /// The resources named in the granting statements.
    pub resources: BTreeSet<String>,
    /// Whether some grant depends on a condition.
    pub conditional: bool,
}

/// A summary of policies.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Summary {
    /// Grants by service, then access level.
    pub grants: Vec<Grant>,
    /// Statements too broad to list (`NotAction`, `Action: "*"`), by description.
    pub unbounded: Vec<String>,
    /// Actions the policies deny outright.
    pub denied: BTreeSet<String>,
}

/// Summarizes the `Allow` statements of `documents` (named for the report).
pub fn summarize(documents: &[(String, PolicyDocument)], reference: &Reference) -> Summary {
    let mut grants: BTreeMap<(String, u8), Grant> = BTreeMap::new();
    let mut summary = Summary::default();
    for (name, document) in documents {
        for (i, statement) in document.statements.iter().enumerate() {
            let Some(action) = &statement.action else {
                continue;
            };
            let resources: Vec<String> = statement
                .resource
                .as_ref()
                .map(|r| {
                    r.value
                        .values
                        .iter()
                        .map(|v| {
                            if r.negated {
                                format!("everything but {v}")
                            } else {
                                v.clone()
                            }
                        })
                        .collect()
                })
                .unwrap_or_else(|| vec!["(this resource)".to_string()]);
            if statement.effect == Effect::Deny {
                if !action.negated {
                    for pattern in &action.value.values {
                        summary.denied.insert(pattern.clone());
                    }
                }
                continue;
            }
            if action.negated || action.value.values.iter().any(|a| a == "*") {
                summary.unbounded.push(
                    format!(
                        "{name} statement {i}: {} {}",
                        if action.negated {
                            "every action except"
                        } else {
                            "every action"
                        },
                        if action.negated {
                            action.value.values.join(", ")
                        } else {
                            String::new()
                        }
                    )
                    .trim_end()
                    .to_string(),
                );
                continue;
            }
            for pattern in &action.value.values {
                let matched = if pattern.contains(['*', '?']) {
                    reference.expand(pattern)
                } else {
                    reference.action(pattern).into_iter().collect()
                };
                for a in matched {
                    let key = (a.service_prefix().to_string(), a.access_level().rank());
                    let grant = grants.entry(key).or_insert_with(|| Grant {
                        service: a.service_prefix().to_string(),
                        access_level: a.access_level(),
                        actions: BTreeSet::new(),
                        resource_types: BTreeSet::new(),
                        resources: BTreeSet::new(),
                        conditional: false,
                    });
                    grant.actions.insert(a.name().to_string());
                    // The resource types the statement's resources actually reach.
                    for resource in &resources {
                        if a.is_wildcard_only() {
                            grant.resource_types.insert("*".to_string());
                        } else if resource == "*"
                            || resource.starts_with("everything but")
                            || resource.starts_with('(')
                        {
                            grant
                                .resource_types
                                .extend(a.resource_types().iter().map(|rt| rt.name.to_string()));
                        } else {
                            grant.resource_types.extend(
                                reference
                                    .resource_types_for(&a, resource)
                                    .iter()
                                    .map(|rt| rt.name().to_string()),
                            );
                        }
                    }
                    grant.resources.extend(resources.iter().cloned());
                    grant.conditional |= statement.condition.is_some();
                }
            }
        }
    }
    summary.grants = grants.into_values().collect();
    summary
}

impl Summary {
    /// The summary as lines of text, one per service and access level.
    pub fn to_lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for g in &self.grants {
            let resources: Vec<&str> = g.resources.iter().map(String::as_str).collect();
            out.push(format!(
                "{} {}: {} action{} on {}{} — resources: {}",
                g.service,
                g.access_level.as_str(),
                g.actions.len(),
                if g.actions.len() == 1 { "" } else { "s" },
                g.resource_types
                    .iter()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
                if g.conditional {
                    " (with conditions)"
                } else {
                    ""
                },
                resources.join(", ")
            ));
        }
        for u in &self.unbounded {
            out.push(format!("UNBOUNDED {u}"));
        }
        if !self.denied.is_empty() {
            out.push(format!(
                "denied: {}",
                self.denied.iter().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        out
    }
}
