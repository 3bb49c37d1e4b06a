//! Gives findings the line and column of the element their JSON path names.

use std::collections::HashMap;

use rolewright_iam::json::{self, JsonValue, Limits, Location, Spanned};

use crate::Finding;

/// Fills in `line`/`column` of findings that lack them, by walking the document's JSON tree.
pub fn attach(text: &str, findings: &mut [Finding]) {
    if findings.iter().all(|f| f.line.is_some()) {
        return;
    }
    let Ok(root) = json::parse(text, Limits::default()) else {
        return;
    };
    let mut index = HashMap::new();
    walk(&root, String::new(), &mut index);
    for finding in findings.iter_mut().filter(|f| f.line.is_none()) {
        if let Some(location) = index.get(&finding.path) {
            finding.line = Some(location.line);
            finding.column = Some(location.column);
        }
    }
}

fn walk(value: &Spanned, path: String, index: &mut HashMap<String, Location>) {
    match &value.value {
        JsonValue::Object(members) => {
            for (key, key_location, child) in members {
                let child_path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                let key_path = if path.is_empty() {
                    format!("#{key}")
                } else {
                    format!("{path}.#{key}")
                };
                index.insert(key_path, *key_location);
                walk(child, child_path, index);
            }
        }
        JsonValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, format!("{path}[{i}]"), index);
            }
        }
        _ => {}
    }
    index.insert(path, value.location);
}
