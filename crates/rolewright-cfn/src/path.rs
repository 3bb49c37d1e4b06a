//! JSON paths into a template, written the way people read them:
//! `Resources.Role.Properties.Policies[0]`.

use std::fmt;

/// A path from the template's root to one of its values.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JsonPath(String);

impl JsonPath {
    /// The template itself.
    pub fn root() -> JsonPath {
        JsonPath(String::new())
    }

    /// The path of the value under `key` of this object.
    pub fn key(&self, key: &str) -> JsonPath {
        if self.0.is_empty() {
            JsonPath(key.to_string())
        } else {
            JsonPath(format!("{}.{key}", self.0))
        }
    }

    /// The path of item `index` of this array.
    pub fn index(&self, index: usize) -> JsonPath {
        JsonPath(format!("{}[{index}]", self.0))
    }

    /// The path as text; empty for the root.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is the root.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("template")
        } else {
            f.write_str(&self.0)
        }
    }
}

impl From<&str> for JsonPath {
    fn from(path: &str) -> JsonPath {
        JsonPath(path.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_as_written() {
        let path = JsonPath::root()
            .key("Resources")
            .key("Role")
            .key("Properties")
            .key("Policies")
            .index(0);
        assert_eq!(path.to_string(), "Resources.Role.Properties.Policies[0]");
        assert_eq!(JsonPath::root().to_string(), "template");
    }
}
