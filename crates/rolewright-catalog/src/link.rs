//! Placeholder linking: `{{Name}}` single values and `[[Name]]` lists that repeat the enclosing
//! JSON string once per value, as the Role Manager CDK templates write them.
//!
//! Every parameter an activity needs is checked before anything is linked, and all missing or
//! malformed values are reported together; a list placeholder never silently becomes `[]`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// Values for placeholders: single values (`Partition`, `AccountId`, `Region`) and lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bindings {
    /// `{{Name}}` values.
    pub single: BTreeMap<String, String>,
    /// `[[Name]]` values.
    pub lists: BTreeMap<String, Vec<String>>,
}

/// A placeholder without a value, or a value where none was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// A placeholder has no value.
    #[error("`{placeholder}` has no value")]
    Unbound {
        /// The placeholder's name.
        placeholder: String,
    },
    /// A string holds more than one list placeholder, which the repetition rule cannot expand.
    #[error("`{text}` holds more than one list placeholder")]
    TwoLists {
        /// The string.
        text: String,
    },
}

/// The placeholders a template uses: (single names, list names).
pub fn placeholders(template: &Value) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut single = BTreeSet::new();
    let mut lists = BTreeSet::new();
    walk_strings(template, &mut |s| {
        single.extend(names(s, "{{", "}}"));
        lists.extend(names(s, "[[", "]]"));
    });
    (single, lists)
}

/// Calls `f` on every string inside `value`, in document order.
pub(crate) fn walk_strings(value: &Value, f: &mut impl FnMut(&str)) {
    match value {
        Value::String(s) => f(s),
        Value::Array(items) => items.iter().for_each(|v| walk_strings(v, f)),
        Value::Object(map) => map.values().for_each(|v| walk_strings(v, f)),
        _ => {}
    }
}

fn names(text: &str, open: &str, close: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(open) {
        let after = &rest[start + open.len()..];
        match after.find(close) {
            Some(end) => {
                out.push(after[..end].to_string());
                rest = &after[end + close.len()..];
            }
            None => break,
        }
    }
    out
}

/// Links a template: replaces single placeholders and expands list placeholders. The caller has
/// checked that every placeholder is bound; an unbound one is still an error here, never `[]`.
pub fn link(template: &Value, bindings: &Bindings) -> Result<Value, LinkError> {
    match template {
        Value::String(s) => {
            let mut expanded = expand(s, bindings)?;
            // A list placeholder outside an array becomes an array of its values.
            if expanded.len() == 1 && names(s, "[[", "]]").is_empty() {
                Ok(Value::String(expanded.remove(0)))
            } else {
                Ok(Value::Array(
                    expanded.into_iter().map(Value::String).collect(),
                ))
            }
        }
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Value::String(s) => {
                        out.extend(expand(s, bindings)?.into_iter().map(Value::String))
                    }
                    other => out.push(link(other, bindings)?),
                }
            }
            Ok(Value::Array(out))
        }
        Value::Object(map) => {
            let mut out = serde_json::Map::with_capacity(map.len());
            for (k, v) in map {
                out.insert(k.clone(), link(v, bindings)?);
            }
            Ok(Value::Object(out))
        }
        other => Ok(other.clone()),
    }
}

/// Expands one string: single placeholders replaced, then one copy per value of its list placeholder.
fn expand(text: &str, bindings: &Bindings) -> Result<Vec<String>, LinkError> {
    let mut s = text.to_string();
    for name in names(text, "{{", "}}") {
        let value = bindings
            .single
            .get(&name)
            .ok_or_else(|| LinkError::Unbound {
                placeholder: format!("{{{{{name}}}}}"),
            })?;
        s = s.replace(&format!("{{{{{name}}}}}"), value);
    }
    let lists = names(&s, "[[", "]]");
    match lists.as_slice() {
        [] => Ok(vec![s]),
        [name] => {
            let values = bindings
                .lists
                .get(name)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| LinkError::Unbound {
                    placeholder: format!("[[{name}]]"),
                })?;
            let token = format!("[[{name}]]");
            Ok(values.iter().map(|v| s.replace(&token, v)).collect())
        }
        _ => Err(LinkError::TwoLists {
            text: text.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bindings() -> Bindings {
        let mut b = Bindings::default();
        b.single.insert("Partition".into(), "aws-cn".into());
        b.single.insert("AccountId".into(), "123456789012".into());
        b.lists
            .insert("S3Buckets".into(), vec!["a".into(), "b".into()]);
        b
    }

    #[test]
    fn list_placeholders_repeat_their_string() {
        let template = json!({"Resource": ["arn:{{Partition}}:s3:::[[S3Buckets]]/*", "x"], "One": "[[S3Buckets]]"});
        assert_eq!(
            link(&template, &bindings()).unwrap(),
            json!({"Resource": ["arn:aws-cn:s3:::a/*", "arn:aws-cn:s3:::b/*", "x"], "One": ["a", "b"]})
        );
        let (single, lists) = placeholders(&template);
        assert_eq!(single.into_iter().collect::<Vec<_>>(), ["Partition"]);
        assert_eq!(lists.into_iter().collect::<Vec<_>>(), ["S3Buckets"]);
    }

    #[test]
    fn unbound_and_empty_lists_are_errors_not_empty_arrays() {
        let mut b = bindings();
        b.lists.insert("PassRoles".into(), vec![]);
        assert_eq!(
            link(&json!(["[[PassRoles]]"]), &b).unwrap_err().to_string(),
            "`[[PassRoles]]` has no value"
        );
        assert_eq!(
            link(&json!("{{Region}}"), &b).unwrap_err().to_string(),
            "`{{Region}}` has no value"
        );
    }
}
