//! The document tree both readers produce: every value with the place it starts in the source.
//!
//! JSON and YAML templates are read into the same tree, and YAML's short forms (`!Ref X`) are
//! written out as the long forms they stand for (`{"Ref": "X"}`), so everything after the reader
//! sees one shape whatever the format was.

pub use rolewright_iam::json::Location;

use serde_json::Value;

/// A value and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The value.
    pub value: NodeValue,
    /// Where the value starts (for a YAML short form: where its tag starts).
    pub location: Location,
}

/// A value of the tree. Objects keep their keys in source order, each with the key's location.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeValue {
    /// `null`, `~` or an empty YAML value.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, kept as written (`10`, `1.5`, `0x1f` become `10`, `1.5`, `31`).
    Number(String),
    /// A string.
    String(String),
    /// An array (a YAML sequence).
    Array(Vec<Node>),
    /// An object (a YAML mapping): keys with their locations, in order.
    Object(Vec<(String, Location, Node)>),
}

impl Node {
    /// A node at `location`.
    pub fn new(value: NodeValue, location: Location) -> Node {
        Node { value, location }
    }

    /// The name of the value's type as CloudFormation's messages and ours use it.
    pub fn type_name(&self) -> &'static str {
        match self.value {
            NodeValue::Null => "null",
            NodeValue::Bool(_) => "boolean",
            NodeValue::Number(_) => "number",
            NodeValue::String(_) => "string",
            NodeValue::Array(_) => "list",
            NodeValue::Object(_) => "object",
        }
    }

    /// The string, when the node is one.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            NodeValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// The text of a scalar (string, number or boolean), as CloudFormation reads scalars where it
    /// wants a string.
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            NodeValue::String(s) => Some(s.clone()),
            NodeValue::Number(n) => Some(n.clone()),
            NodeValue::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// The entries, when the node is an object.
    pub fn as_object(&self) -> Option<&[(String, Location, Node)]> {
        match &self.value {
            NodeValue::Object(entries) => Some(entries),
            _ => None,
        }
    }

    /// The items, when the node is an array.
    pub fn as_array(&self) -> Option<&[Node]> {
        match &self.value {
            NodeValue::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The value under `key`, when the node is an object that has it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_object()?
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, _, v)| v)
    }

    /// The node as plain JSON, positions dropped. Numbers that JSON cannot write as numbers
    /// (`012`, `.inf`) stay strings.
    pub fn to_json(&self) -> Value {
        match &self.value {
            NodeValue::Null => Value::Null,
            NodeValue::Bool(b) => Value::Bool(*b),
            NodeValue::Number(n) => number_value(n),
            NodeValue::String(s) => Value::String(s.clone()),
            NodeValue::Array(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            NodeValue::Object(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, _, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

/// A number's text as a JSON number when JSON can hold it as written, else as a string.
pub(crate) fn number_value(text: &str) -> Value {
    match serde_json::from_str::<serde_json::Number>(text) {
        Ok(n) => Value::Number(n),
        Err(_) => Value::String(text.to_string()),
    }
}

/// The tree of a JSON document read by the engine's positional JSON reader.
pub(crate) fn from_json(spanned: rolewright_iam::json::Spanned) -> Node {
    use rolewright_iam::json::JsonValue;
    let value = match spanned.value {
        JsonValue::Null => NodeValue::Null,
        JsonValue::Bool(b) => NodeValue::Bool(b),
        JsonValue::Number(n) => NodeValue::Number(n),
        JsonValue::String(s) => NodeValue::String(s),
        JsonValue::Array(items) => NodeValue::Array(items.into_iter().map(from_json).collect()),
        JsonValue::Object(entries) => NodeValue::Object(
            entries
                .into_iter()
                .map(|(k, loc, v)| (k, loc, from_json(v)))
                .collect(),
        ),
    };
    Node::new(value, spanned.location)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_json_cannot_hold_stay_strings() {
        assert_eq!(number_value("10"), serde_json::json!(10));
        assert_eq!(number_value("1.5"), serde_json::json!(1.5));
        assert_eq!(number_value("012"), serde_json::json!("012"));
    }
}
