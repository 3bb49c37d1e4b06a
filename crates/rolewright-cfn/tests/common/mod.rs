//! Helpers shared by the integration tests: a stack, templates built around one expression,
//! and the full text of errors.
#![allow(dead_code, reason = "each test file uses some of the helpers")]

use std::collections::BTreeMap;

use rolewright_cfn::{CreatedResources, Plan, StackContext, Template, TemplateErrors};
use serde_json::Value;

/// The stack every test links for.
pub fn stack() -> StackContext {
    StackContext::new("111122223333", "us-east-1", "test-stack")
}

/// Parameter values from pairs.
pub fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Every error, one per line, as `Display` writes them.
pub fn text(errors: TemplateErrors) -> String {
    errors.to_string()
}

/// Reads a template or panics with its errors.
pub fn parse(text: &str) -> Template {
    match Template::parse(text) {
        Ok(t) => t,
        Err(e) => panic!("{e}\n---\n{text}"),
    }
}

/// The errors of a template that must not read.
pub fn parse_error(text: &str) -> String {
    match Template::parse(text) {
        Ok(_) => panic!("read\n---\n{text}"),
        Err(e) => e.to_string(),
    }
}

/// Links a template or panics with its errors.
pub fn link(template: &Template, pairs: &[(&str, &str)]) -> Plan {
    match template.link(&stack(), &values(pairs)) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

/// The errors of linking.
pub fn link_error(template: &Template, pairs: &[(&str, &str)]) -> String {
    match template.link(&stack(), &values(pairs)) {
        Ok(_) => panic!("linked"),
        Err(e) => e.to_string(),
    }
}

/// `Other`, an existing role, with its name as physical id and its ARN.
pub fn other_role() -> CreatedResources {
    let mut created = CreatedResources::new();
    created.insert(
        "Other",
        "other-role",
        [
            (
                "Arn".to_string(),
                Value::from("arn:aws:iam::111122223333:role/other-role"),
            ),
            ("RoleId".to_string(), Value::from("AROAEXAMPLE")),
        ],
    );
    created
}

/// A YAML template whose role `R` has `expression` under `AssumeRolePolicyDocument.X`, with
/// `sections` before `Resources` and an existing role `Other`.
pub fn yaml_with(sections: &str, expression: &str) -> String {
    format!(
        "{sections}
Resources:
  Other:
    Type: AWS::IAM::Role
    Properties:
      RoleName: other-role
      AssumeRolePolicyDocument: {{}}
  R:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        X: {expression}
"
    )
}

/// The same as JSON: `expression` is JSON text; `sections` are JSON members (with a trailing
/// comma) before `Resources`.
pub fn json_with(sections: &str, expression: &str) -> String {
    format!(
        r#"{{ {sections}
  "Resources": {{
    "Other": {{"Type": "AWS::IAM::Role", "Properties": {{"RoleName": "other-role", "AssumeRolePolicyDocument": {{}}}}}},
    "R": {{"Type": "AWS::IAM::Role", "Properties": {{"AssumeRolePolicyDocument": {{"X": {expression}}}}}}}
  }}
}}"#
    )
}

/// The value of `X` in `R` once linked with `pairs` and resolved with `Other` existing.
pub fn value_of(text: &str, pairs: &[(&str, &str)]) -> Result<Value, String> {
    let template = Template::parse(text).map_err(|e| e.to_string())?;
    let plan = template
        .link(&stack(), &values(pairs))
        .map_err(|e| e.to_string())?;
    let properties = plan
        .resolve("R", &other_role())
        .map_err(|e| e.to_string())?;
    Ok(properties["AssumeRolePolicyDocument"]
        .get("X")
        .cloned()
        .unwrap_or(Value::Null))
}
