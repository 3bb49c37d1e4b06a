//! IAM's `GetAccountAuthorizationDetails` answers (query protocol, XML), page by page, merged
//! into the JSON shape that `aws iam get-account-authorization-details` prints, so that an
//! account read over the wire and an exported file are read by one reader.

use serde_json::{Map, Value};

use crate::xml;

/// Elements whose children are `member`s of a list.
const LISTS: &[&str] = &[
    "UserDetailList",
    "GroupDetailList",
    "RoleDetailList",
    "Policies",
    "UserPolicyList",
    "GroupPolicyList",
    "RolePolicyList",
    "AttachedManagedPolicies",
    "GroupList",
    "Tags",
    "PolicyVersionList",
    "InstanceProfileList",
    "Roles",
];

/// Elements whose text is a boolean.
const BOOLEANS: &[&str] = &["IsDefaultVersion", "IsTruncated", "IsAttachable"];

/// The pages read so far, merged: lists are concatenated, other fields are the last page's.
#[derive(Debug, Default)]
pub struct AccountDetails {
    merged: Map<String, Value>,
}

impl AccountDetails {
    /// Adds one page's XML answer; gives the marker of the next page, or `None` after the last.
    pub fn add_page(&mut self, answer: &str) -> Result<Option<String>, String> {
        let root = parse(answer)?;
        let result = root
            .child("GetAccountAuthorizationDetailsResult")
            .ok_or_else(|| "no `GetAccountAuthorizationDetailsResult` element".to_string())?;
        let Value::Object(page) = to_json(result) else {
            return Err("the result is empty".into());
        };
        for (key, value) in page {
            match (self.merged.get_mut(&key), value) {
                (Some(Value::Array(all)), Value::Array(more)) => all.extend(more),
                (_, value) => {
                    self.merged.insert(key, value);
                }
            }
        }
        let truncated = self.merged.get("IsTruncated") == Some(&Value::Bool(true));
        let marker = self
            .merged
            .remove("Marker")
            .and_then(|m| m.as_str().map(str::to_string));
        Ok(marker.filter(|_| truncated))
    }

    /// The merged answer.
    pub fn into_value(self) -> Value {
        Value::Object(self.merged)
    }
}

/// An XML element: its name, its text and its child elements.
#[derive(Debug, Default)]
struct Element {
    name: String,
    text: String,
    children: Vec<Element>,
}

impl Element {
    fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }
}

fn to_json(element: &Element) -> Value {
    if LISTS.contains(&element.name.as_str()) {
        return Value::Array(element.children.iter().map(to_json).collect());
    }
    if element.children.is_empty() {
        if BOOLEANS.contains(&element.name.as_str()) {
            return Value::Bool(element.text.trim() == "true");
        }
        return Value::String(element.text.clone());
    }
    let mut object = Map::new();
    for child in &element.children {
        object.insert(child.name.clone(), to_json(child));
    }
    Value::Object(object)
}

/// Reads the XML of a query-protocol answer: elements, attributes (skipped), text with
/// entities, and the declaration. AWS's answers have no CDATA, comments or mixed content.
fn parse(text: &str) -> Result<Element, String> {
    let mut stack: Vec<Element> = vec![Element::default()];
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        let before = &rest[..open];
        if let Some(top) = stack.last_mut()
            && !before.trim().is_empty()
        {
            top.text.push_str(&xml::unescape(before));
        }
        let Some(close) = rest[open..].find('>') else {
            return Err("an element is not closed".into());
        };
        let tag = &rest[open + 1..open + close];
        rest = &rest[open + close + 1..];
        if tag.starts_with('?') || tag.starts_with('!') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            let Some(done) = stack.pop() else {
                return Err(format!("`</{name}>` closes nothing"));
            };
            if done.name != name.trim() {
                return Err(format!("`</{name}>` closes `<{}>`", done.name));
            }
            match stack.last_mut() {
                Some(parent) => parent.children.push(done),
                None => return Err(format!("`</{name}>` closes nothing")),
            }
            continue;
        }
        let empty = tag.ends_with('/');
        let tag = tag.trim_end_matches('/');
        let name = tag
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string();
        let element = Element {
            name,
            ..Element::default()
        };
        if empty {
            if let Some(parent) = stack.last_mut() {
                parent.children.push(element);
            }
        } else {
            stack.push(element);
        }
    }
    let mut document = match stack.pop() {
        Some(d) if stack.is_empty() => d,
        _ => return Err("an element is not closed".into()),
    };
    match document.children.pop() {
        Some(root) if document.children.is_empty() => Ok(root),
        _ => Err("expected one root element".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_reads_as_the_cli_prints_it() {
        let answer = r#"<?xml version="1.0" encoding="UTF-8"?>
<GetAccountAuthorizationDetailsResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
  <GetAccountAuthorizationDetailsResult>
    <UserDetailList><member><UserName>a&amp;b</UserName><GroupList><member>devs</member></GroupList><Tags/></member></UserDetailList>
    <IsTruncated>false</IsTruncated>
  </GetAccountAuthorizationDetailsResult>
</GetAccountAuthorizationDetailsResponse>"#;
        let root = parse(answer).unwrap();
        let result = root.child("GetAccountAuthorizationDetailsResult").unwrap();
        assert_eq!(
            to_json(result),
            serde_json::json!({"UserDetailList": [{"UserName": "a&b", "GroupList": ["devs"],
                "Tags": []}], "IsTruncated": false})
        );
        assert_eq!(
            parse("<a><b></a>").unwrap_err(),
            "`</a>` closes `<b>`".to_string()
        );
    }
}
