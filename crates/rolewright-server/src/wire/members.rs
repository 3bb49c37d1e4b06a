//! A JSON request's members once the service model has validated them: typed getters that check
//! nothing the model checks.

use serde_json::{Map, Value};

use crate::model::Tag;
use crate::service_model::InputError;

/// An operation's input after `ServiceModel::validate_input` accepted it: every member the model
/// knows has its modelled JSON type, every required member is present and every length, pattern,
/// range and enum holds. The getters therefore only read; `null` reads as absent, as the model
/// takes it, and a member of another type than the getter's reads as absent too (only members
/// the model does not know can be such).
#[derive(Debug, Clone, Default)]
pub struct Members {
    members: Map<String, Value>,
}

impl Members {
    /// The members of a request body; anything but an object has none (the model refuses every
    /// other body but `null`, which it takes as empty).
    pub fn new(input: Value) -> Members {
        let members = match input {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        Members { members }
    }

    /// A member as given, `null` included: for members kept and answered as they came.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.members.get(name)
    }

    /// A string member.
    pub fn str(&self, name: &str) -> Option<&str> {
        self.members.get(name).and_then(Value::as_str)
    }

    /// A string member, owned.
    pub fn string(&self, name: &str) -> Option<String> {
        self.str(name).map(str::to_string)
    }

    /// A string member the model requires, so present once validated; empty where it is not,
    /// which only input that skipped validation (a unit test) can give.
    pub fn required(&self, name: &str) -> String {
        self.string(name).unwrap_or_default()
    }

    /// An integer member. A fractional number is no integer here and reads as absent.
    pub fn int(&self, name: &str) -> Option<i64> {
        self.members.get(name).and_then(Value::as_i64)
    }

    /// A boolean member.
    pub fn bool(&self, name: &str) -> Option<bool> {
        self.members.get(name).and_then(Value::as_bool)
    }

    /// A structure (or map) member.
    pub fn object(&self, name: &str) -> Option<&Map<String, Value>> {
        self.members.get(name).and_then(Value::as_object)
    }

    /// A list of strings; its `null` elements are left out, as the model leaves them out.
    pub fn strings(&self, name: &str) -> Vec<String> {
        self.list(name)
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()
    }

    /// A tag list, `[{"Key": ..., "Value": ...}]`; its `null` elements are left out.
    pub fn tags(&self, name: &str) -> Vec<Tag> {
        self.list(name)
            .filter_map(|item| {
                Some(Tag {
                    key: item.get("Key")?.as_str()?.to_string(),
                    value: item
                        .get("Value")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                })
            })
            .collect()
    }

    /// Refuses the `null` elements of a tag list as both services always have, though the model
    /// leaves them out: each element's `fields` (`key`, `value`) are null, and the list, nulls
    /// counted, may be longer than `max`. Nothing else the getters read can fail once the model
    /// accepted the input.
    pub fn refuse_null_tags(
        &self,
        name: &str,
        max: usize,
        fields: &[&str],
    ) -> Result<(), InputError> {
        let Some(list) = self.members.get(name).and_then(Value::as_array) else {
            return Ok(());
        };
        let path = lower_camel(name);
        let mut failures = Vec::new();
        if list.len() > max {
            failures.push(format!(
                "Value '{}' at '{path}' failed to satisfy constraint: Member must have length less than or equal to {max}",
                Value::Array(list.clone())
            ));
        }
        for (i, _) in list.iter().enumerate().filter(|(_, item)| item.is_null()) {
            for field in fields {
                failures.push(format!(
                    "Value null at '{path}.{}.member.{field}' failed to satisfy constraint: Member must not be null",
                    i + 1
                ));
            }
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(InputError::Validation { failures })
        }
    }

    fn list(&self, name: &str) -> impl Iterator<Item = &Value> {
        self.members
            .get(name)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
    }
}

/// `DomainName` → `domainName`, as AWS names members in validation messages.
fn lower_camel(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn getters_read_their_type_and_take_null_as_absent() {
        let members = Members::new(json!({
            "Name": "studio", "Count": 7, "Half": 2.5, "On": true, "Settings": {"A": 1},
            "Gone": null, "Keys": ["a", null, "b"],
        }));
        assert_eq!(members.str("Name"), Some("studio"));
        assert_eq!(members.required("Name"), "studio");
        assert_eq!(members.required("Missing"), "");
        assert_eq!(members.int("Count"), Some(7));
        assert_eq!(members.int("Half"), None);
        assert_eq!(members.bool("On"), Some(true));
        assert_eq!(members.object("Settings"), json!({"A": 1}).as_object());
        assert_eq!(members.str("Gone"), None);
        assert_eq!(members.object("Gone"), None);
        assert_eq!(members.get("Gone"), Some(&Value::Null));
        assert_eq!(members.strings("Keys"), ["a", "b"]);
        assert!(members.strings("Missing").is_empty());
    }

    #[test]
    fn a_body_that_is_not_an_object_has_no_members() {
        assert_eq!(Members::new(Value::Null).get("Name"), None);
    }

    #[test]
    fn tags_are_key_value_pairs_without_the_null_elements() {
        let members = Members::new(json!({"Tags": [{"Key": "team", "Value": "ml"}, null]}));
        assert_eq!(
            members.tags("Tags"),
            [Tag {
                key: "team".into(),
                value: "ml".into()
            }]
        );
        assert!(members.tags("Missing").is_empty());
    }

    #[test]
    fn null_tag_elements_are_refused_field_by_field_and_counted_in_the_length() {
        let members = Members::new(json!({"AddTags": [{"Key": "a", "Value": "b"}, null]}));
        let error = members
            .refuse_null_tags("AddTags", 1, &["key", "value"])
            .unwrap_err();
        assert_eq!(
            error.message(),
            "3 validation errors detected: Value '[{\"Key\":\"a\",\"Value\":\"b\"},null]' at \
             'addTags' failed to satisfy constraint: Member must have length less than or equal \
             to 1; Value null at 'addTags.2.member.key' failed to satisfy constraint: Member must \
             not be null; Value null at 'addTags.2.member.value' failed to satisfy constraint: \
             Member must not be null"
        );
        let one = Members::new(json!({"Tags": [null]}));
        assert_eq!(
            one.refuse_null_tags("Tags", 50, &["key"])
                .unwrap_err()
                .message(),
            "1 validation error detected: Value null at 'tags.1.member.key' failed to satisfy \
             constraint: Member must not be null"
        );
        let none = Members::new(json!({"Tags": [{"Key": "a", "Value": "b"}]}));
        assert_eq!(none.refuse_null_tags("Tags", 50, &["key"]), Ok(()));
        assert_eq!(none.refuse_null_tags("Missing", 0, &["key"]), Ok(()));
    }
}
