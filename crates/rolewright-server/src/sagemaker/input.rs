//! A request's members, read with AWS's validation texts for what is missing or malformed.

use super::*;

/// A model pattern as AWS shows it in messages, and its matcher.
pub(super) type Pattern = (&'static str, fn(&str) -> bool);

/// A request's members, with AWS's validation texts for what is missing or malformed.
pub(super) struct Input {
    pub(super) members: Map<String, Value>,
    pub(super) failures: Vec<String>,
}

/// `DomainName` → `domainName`, as AWS names members in validation messages.
pub(super) fn member_path(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

impl Input {
    pub(super) fn new(value: Value) -> Input {
        let members = match value {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        Input {
            members,
            failures: Vec::new(),
        }
    }

    pub(super) fn fail(&mut self, name: &str, value: Option<&str>, constraint: &str) {
        let shown = value.map_or_else(|| "null".to_string(), |v| format!("'{v}'"));
        self.failures.push(format!(
            "Value {shown} at '{}' failed to satisfy constraint: {constraint}",
            member_path(name)
        ));
    }

    /// A string member, checked against a length range and a pattern.
    pub(super) fn string(
        &mut self,
        name: &str,
        required: bool,
        max: usize,
        pattern: Option<Pattern>,
    ) -> Option<String> {
        match self.members.get(name) {
            None | Some(Value::Null) => {
                if required {
                    self.fail(name, None, "Member must not be null");
                }
                None
            }
            Some(Value::String(text)) => {
                let text = text.clone();
                if text.chars().count() > max {
                    self.fail(
                        name,
                        Some(&text),
                        &format!("Member must have length less than or equal to {max}"),
                    );
                } else if let Some((shown, matches)) = pattern
                    && !matches(&text)
                {
                    self.fail(
                        name,
                        Some(&text),
                        &format!("Member must satisfy regular expression pattern: {shown}"),
                    );
                }
                Some(text)
            }
            Some(_) => {
                self.failures.push(format!(
                    "Value at '{}' failed to satisfy constraint: Member must be a string",
                    member_path(name)
                ));
                None
            }
        }
    }

    pub(super) fn one_of(&mut self, name: &str, required: bool, values: &[&str]) -> Option<String> {
        let text = self.string(name, required, 256, None)?;
        if !values.contains(&text.as_str()) {
            self.fail(
                name,
                Some(&text),
                &format!(
                    "Member must satisfy enum value set: [{}]",
                    values.join(", ")
                ),
            );
        }
        Some(text)
    }

    pub(super) fn object(&mut self, name: &str, required: bool) -> Option<Map<String, Value>> {
        match self.members.get(name) {
            None | Some(Value::Null) => {
                if required {
                    self.fail(name, None, "Member must not be null");
                }
                None
            }
            Some(Value::Object(map)) => Some(map.clone()),
            Some(_) => {
                self.failures.push(format!(
                    "Value at '{}' failed to satisfy constraint: Member must be a structure",
                    member_path(name)
                ));
                None
            }
        }
    }

    pub(super) fn int(&mut self, name: &str, min: i64, max: i64) -> Option<i64> {
        let value = self.members.get(name)?.as_i64();
        match value {
            Some(n) if n < min => {
                self.fail(
                    name,
                    Some(&n.to_string()),
                    &format!("Member must have value greater than or equal to {min}"),
                );
                None
            }
            Some(n) if n > max => {
                self.fail(
                    name,
                    Some(&n.to_string()),
                    &format!("Member must have value less than or equal to {max}"),
                );
                None
            }
            other => other,
        }
    }

    pub(super) fn strings(&self, name: &str) -> Vec<String> {
        self.members
            .get(name)
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `Tags: [{"Key", "Value"}]`, at most 50, keys 1..128 and values 0..256 characters.
    pub(super) fn tags(&mut self, name: &str) -> Vec<Tag> {
        let mut tags = Vec::new();
        let Some(list) = self.members.get(name).and_then(Value::as_array).cloned() else {
            return tags;
        };
        if list.len() > 50 {
            self.failures.push(format!(
                "Value '{}' at '{}' failed to satisfy constraint: Member must have length less than or equal to 50",
                Value::Array(list.clone()),
                member_path(name)
            ));
        }
        for (i, item) in list.iter().enumerate() {
            let key = item.get("Key").and_then(Value::as_str);
            let value = item.get("Value").and_then(Value::as_str).unwrap_or("");
            let path = format!("{}.{}.member", member_path(name), i + 1);
            match key {
                None => self.failures.push(format!(
                    "Value null at '{path}.key' failed to satisfy constraint: Member must not be null"
                )),
                Some(k) if k.is_empty() || k.chars().count() > 128 => self.failures.push(format!(
                    "Value '{k}' at '{path}.key' failed to satisfy constraint: Member must have length {}",
                    if k.is_empty() { "greater than or equal to 1" } else { "less than or equal to 128" }
                )),
                Some(k) => tags.push(Tag {
                    key: k.to_string(),
                    value: value.to_string(),
                }),
            }
            if value.chars().count() > 256 {
                self.failures.push(format!(
                    "Value '{value}' at '{path}.value' failed to satisfy constraint: Member must have length less than or equal to 256"
                ));
            }
        }
        tags
    }

    /// AWS's `ValidationException` for everything collected so far.
    pub(super) fn finish(&mut self) -> Result<(), ApiError> {
        if self.failures.is_empty() {
            return Ok(());
        }
        let n = self.failures.len();
        let noun = if n == 1 { "error" } else { "errors" };
        Err(ApiError::new(
            "ValidationException",
            400,
            format!(
                "{n} validation {noun} detected: {}",
                self.failures.join("; ")
            ),
        ))
    }
}

pub(super) fn domain_id_pattern(text: &str) -> bool {
    // d-(-*[a-z0-9]){1,61}
    text.strip_prefix("d-").is_some_and(|rest| {
        !rest.is_empty()
            && !rest.ends_with('-')
            && rest.chars().filter(|c| *c != '-').count() <= 61
            && rest
                .chars()
                .all(|c| c == '-' || c.is_ascii_lowercase() || c.is_ascii_digit())
    })
}

pub(super) fn resource_name_pattern(text: &str) -> bool {
    // [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && !text.ends_with('-')
        && text.chars().all(|c| c == '-' || c.is_ascii_alphanumeric())
}

pub(super) const DOMAIN_ID: Option<Pattern> = Some(("^d-(-*[a-z0-9]){1,61}", domain_id_pattern));
pub(super) const PROFILE_NAME: Option<Pattern> =
    Some(("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", resource_name_pattern));
