//! `rolewright actions`: the AWS actions an IAM pattern matches, or one action's details.

use std::fmt::Write as _;
use std::io::Write as _;

use rolewright_reference::{ActionRef, Reference};

use crate::{Format, exit};

/// Runs the command; returns the exit code.
pub fn run(pattern: &str, resource: Option<&str>, format: Format) -> u8 {
    let reference = Reference::embedded();
    let found = reference.expand(pattern);
    if let Some(resource) = resource {
        return match_resource(reference, pattern, &found, resource, format);
    }
    if found.is_empty() {
        eprintln!("error: {}", no_match(reference, pattern));
        if let Some(suggestion) = reference.suggest(pattern) {
            eprintln!("help: did you mean `{suggestion}`?");
        }
        if format == Format::Json {
            emit("[]\n");
        }
        return exit::INVALID;
    }
    let exact = !pattern.contains(['*', '?']);
    match (format, exact) {
        (Format::Human, true) => emit(&details(reference, found[0])),
        (Format::Json, true) => emit(&format!("{}\n", details_json(reference, found[0]))),
        (Format::Human, false) => {
            emit(&list(&found));
            let (noun, verb) = if found.len() == 1 {
                ("action", "matches")
            } else {
                ("actions", "match")
            };
            eprintln!("{} {noun} {verb} `{pattern}`", found.len());
        }
        (Format::Json, false) => {
            let items: Vec<_> = found
                .iter()
                .map(|a| {
                    serde_json::json!({
                        "action": a.full_name(),
                        "accessLevel": a.access_level().as_str(),
                        "wildcardOnly": a.is_wildcard_only(),
                    })
                })
                .collect();
            emit(&format!("{}\n", serde_json::Value::Array(items)));
        }
    }
    exit::OK
}

/// `--resource ARN`: which resource types of the matched actions the ARN fits.
fn match_resource(
    reference: &Reference,
    pattern: &str,
    found: &[ActionRef<'_>],
    resource: &str,
    format: Format,
) -> u8 {
    if found.is_empty() {
        eprintln!("error: {}", no_match(reference, pattern));
        return exit::INVALID;
    }
    let rows: Vec<(String, Vec<&str>)> = found
        .iter()
        .map(|a| {
            let types = if resource == "*" {
                Vec::new()
            } else {
                reference
                    .resource_types_for(a, resource)
                    .iter()
                    .map(|rt| rt.name())
                    .collect()
            };
            (a.full_name(), types)
        })
        .collect();
    let any = rows.iter().any(|(_, t)| !t.is_empty())
        || (resource == "*" && found.iter().any(|a| a.is_wildcard_only()));
    match format {
        Format::Json => {
            let items: Vec<_> = rows
                .iter()
                .map(|(a, t)| serde_json::json!({"action": a, "resource": resource, "resourceTypes": t}))
                .collect();
            emit(&format!("{}\n", serde_json::Value::Array(items)));
        }
        Format::Human => {
            let mut out = String::new();
            for ((action, types), a) in rows.iter().zip(found) {
                let _ = if resource == "*" {
                    writeln!(
                        out,
                        "{action}: {}",
                        if a.is_wildcard_only() {
                            "accepts `*` (it has no resource types)"
                        } else {
                            "accepts specific resources; `*` grants all of them"
                        }
                    )
                } else if types.is_empty() {
                    writeln!(
                        out,
                        "{action}: `{resource}` fits none of its resource types"
                    )
                } else {
                    let names: Vec<String> = types.iter().map(|t| format!("`{t}`")).collect();
                    let noun = if names.len() == 1 { "type" } else { "types" };
                    writeln!(
                        out,
                        "{action}: `{resource}` fits resource {noun} {}",
                        names.join(", ")
                    )
                };
            }
            emit(&out);
        }
    }
    if any { exit::OK } else { exit::INVALID }
}

/// Prints to standard output; a reader that stops early (`| head`) is not an error.
fn emit(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// Why nothing matched, in the user's words.
fn no_match(reference: &Reference, pattern: &str) -> String {
    match pattern.split_once(':') {
        None => format!("`{pattern}` is not `service:Action`, such as `s3:GetObject`"),
        Some((prefix, _))
            if !prefix.contains(['*', '?']) && reference.service(prefix).is_none() =>
        {
            format!("no AWS service has the prefix `{prefix}`")
        }
        Some(_) if pattern.contains(['*', '?']) => format!("`{pattern}` matches no AWS action"),
        Some((prefix, _)) => format!("`{pattern}` is not an action of `{prefix}`"),
    }
}

/// One line an action: the name, then the access level in a column.
fn list(found: &[ActionRef<'_>]) -> String {
    let width = found
        .iter()
        .map(|a| a.service_prefix().len() + 1 + a.name().len())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for a in found {
        let _ = writeln!(out, "{:<width$}  {}", a.full_name(), a.access_level());
    }
    out
}

fn details(reference: &Reference, action: ActionRef<'_>) -> String {
    let mut out = String::new();
    let service = action.service();
    let _ = writeln!(out, "{action}");
    let _ = writeln!(out, "  service: {} ({})", service.name(), service.prefix());
    let _ = writeln!(out, "  access level: {}", action.access_level());
    if action.is_wildcard_only() {
        let _ = writeln!(
            out,
            "  wildcard-only: yes, grant it with \"Resource\": \"*\""
        );
        let _ = writeln!(out, "  resource types: none");
    } else {
        let _ = writeln!(out, "  wildcard-only: no");
        let _ = writeln!(out, "  resource types:");
        for row in action.resource_types() {
            let arns = action
                .resource_type(row.name)
                .map(|rt| rt.arn_patterns().join(", "))
                .unwrap_or_default();
            let required = if row.required { " (required)" } else { "" };
            let _ = writeln!(out, "    {}{required}: {arns}", row.name);
            if !row.condition_keys.is_empty() {
                let _ = writeln!(
                    out,
                    "      condition keys: {}",
                    row.condition_keys.join(", ")
                );
            }
        }
    }
    if action.condition_keys().is_empty() {
        let _ = writeln!(out, "  condition keys: none");
    } else {
        let _ = writeln!(out, "  condition keys:");
        for key in action.condition_keys() {
            match reference.condition_key(key) {
                Some(k) => {
                    let _ = writeln!(out, "    {key} ({})", k.key_type);
                }
                None => {
                    let _ = writeln!(out, "    {key}");
                }
            }
        }
    }
    out
}

fn details_json(reference: &Reference, action: ActionRef<'_>) -> serde_json::Value {
    let resource_types: Vec<_> = action
        .resource_types()
        .iter()
        .map(|row| {
            serde_json::json!({
                "name": row.name,
                "required": row.required,
                "arnPatterns": action.resource_type(row.name).map(|rt| rt.arn_patterns()).unwrap_or_default(),
                "conditionKeys": row.condition_keys,
            })
        })
        .collect();
    let condition_keys: Vec<_> = action
        .condition_keys()
        .iter()
        .map(|key| {
            serde_json::json!({
                "name": key,
                "type": reference.condition_key(key).map(|k| k.key_type.as_str()),
            })
        })
        .collect();
    serde_json::json!({
        "action": action.full_name(),
        "service": action.service_prefix(),
        "serviceName": action.service().name(),
        "accessLevel": action.access_level().as_str(),
        "wildcardOnly": action.is_wildcard_only(),
        "resourceTypes": resource_types,
        "conditionKeys": condition_keys,
    })
}
