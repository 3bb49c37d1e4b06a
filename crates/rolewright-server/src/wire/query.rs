//! The AWS query protocol's input side: form-encoded parameters, `member` lists, tags, and
//! AWS's constraint checks with its `ValidationError` wording.

use std::collections::HashMap;

use crate::error::{ApiError, validation_error};
use crate::model::Tag;

/// Decodes `application/x-www-form-urlencoded` text (`+` is a space). Invalid percent escapes
/// and invalid UTF-8 are refused.
pub fn parse_form(raw: &[u8]) -> Result<Vec<(String, String)>, ApiError> {
    let mut out = Vec::new();
    for pair in raw.split(|&b| b == b'&') {
        if pair.is_empty() {
            continue;
        }
        let (key, value) = match pair.iter().position(|&b| b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &[][..]),
        };
        out.push((decode(key)?, decode(value)?));
    }
    Ok(out)
}

fn decode(raw: &[u8]) -> Result<String, ApiError> {
    let mut bytes = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => bytes.push(b' '),
            b'%' => {
                let hex = raw.get(i + 1..i + 3).and_then(|h| {
                    let h = std::str::from_utf8(h).ok()?;
                    u8::from_str_radix(h, 16).ok()
                });
                match hex {
                    Some(b) => bytes.push(b),
                    None => {
                        return Err(ApiError::new(
                            "MalformedQueryString",
                            400,
                            "The request body contains an invalid percent-encoded sequence.",
                        ));
                    }
                }
                i += 2;
            }
            b => bytes.push(b),
        }
        i += 1;
    }
    String::from_utf8(bytes).map_err(|_| {
        ApiError::new(
            "MalformedQueryString",
            400,
            "The request parameters are not valid UTF-8.",
        )
    })
}

/// A constraint from the service model.
#[derive(Debug, Clone, Copy)]
pub enum Check {
    /// `[\w+=,.@-]+` with a maximum length (user, role, policy names).
    Name(usize),
    /// `/` or `/a/b/` with printable ASCII (IAM paths).
    Path,
    /// A path prefix (`/` then printable ASCII).
    PathPrefix,
    /// A policy document: 1..131072 characters, tab, newline, CR and U+0020..U+00FF.
    Document,
    /// An ARN: 20..2048 characters.
    Arn,
    /// Free text up to a length, tab, newline, CR and printable characters.
    Text(usize),
    /// Any text with a length range.
    Length(usize, usize),
    /// `v1`, `v2.x`.
    VersionId,
    /// A role session name: 2..64 of `[\w+=,.@-]`.
    SessionName,
}

impl Check {
    fn failure(self, value: &str) -> Option<String> {
        let len = value.chars().count();
        let name_char = |c: char| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c);
        match self {
            Check::Name(max) => {
                if len > max {
                    Some(format!(
                        "Member must have length less than or equal to {max}"
                    ))
                } else if len == 0 {
                    Some("Member must have length greater than or equal to 1".into())
                } else if !value.chars().all(name_char) {
                    Some("Member must satisfy regular expression pattern: [\\w+=,.@-]+".into())
                } else {
                    None
                }
            }
            Check::SessionName => {
                if len < 2 {
                    Some("Member must have length greater than or equal to 2".into())
                } else if len > 64 {
                    Some("Member must have length less than or equal to 64".into())
                } else if !value.chars().all(name_char) {
                    Some("Member must satisfy regular expression pattern: [\\w+=,.@-]*".into())
                } else {
                    None
                }
            }
            Check::Path => {
                let ok = value == "/"
                    || (value.len() >= 2
                        && value.starts_with('/')
                        && value.ends_with('/')
                        && value.chars().all(|c| ('\u{21}'..='\u{7e}').contains(&c)));
                if len > 512 {
                    Some("Member must have length less than or equal to 512".into())
                } else if !ok {
                    Some(
                        "Member must satisfy regular expression pattern: \
                         (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)"
                            .into(),
                    )
                } else {
                    None
                }
            }
            Check::PathPrefix => {
                if !value.starts_with('/')
                    || !value.chars().all(|c| ('\u{21}'..='\u{7f}').contains(&c))
                {
                    Some(
                        "Member must satisfy regular expression pattern: \\u002F[\\u0021-\\u007F]*"
                            .into(),
                    )
                } else if len > 512 {
                    Some("Member must have length less than or equal to 512".into())
                } else {
                    None
                }
            }
            Check::Document => {
                if len == 0 {
                    Some("Member must have length greater than or equal to 1".into())
                } else if len > 131_072 {
                    Some("Member must have length less than or equal to 131072".into())
                } else if !value
                    .chars()
                    .all(|c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{ff}'))
                {
                    Some(
                        "Member must satisfy regular expression pattern: \
                         [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+"
                            .into(),
                    )
                } else {
                    None
                }
            }
            Check::Arn => {
                if len < 20 {
                    Some("Member must have length greater than or equal to 20".into())
                } else if len > 2048 {
                    Some("Member must have length less than or equal to 2048".into())
                } else {
                    None
                }
            }
            Check::Text(max) => {
                if len > max {
                    Some(format!(
                        "Member must have length less than or equal to {max}"
                    ))
                } else if value
                    .chars()
                    .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
                {
                    Some(
                        "Member must satisfy regular expression pattern: \
                         [\\u0009\\u000A\\u000D\\u0020-\\u007E\\u00A1-\\u00FF]*"
                            .into(),
                    )
                } else {
                    None
                }
            }
            Check::Length(min, max) => {
                if len < min {
                    Some(format!(
                        "Member must have length greater than or equal to {min}"
                    ))
                } else if len > max {
                    Some(format!(
                        "Member must have length less than or equal to {max}"
                    ))
                } else {
                    None
                }
            }
            Check::VersionId => {
                let rest = value.strip_prefix('v').unwrap_or("");
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                let ok = !digits.is_empty()
                    && !digits.starts_with('0')
                    && (rest.len() == digits.len() || rest[digits.len()..].starts_with('.'));
                (!ok).then(|| {
                    "Member must satisfy regular expression pattern: v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?"
                        .into()
                })
            }
        }
    }
}

/// The parameters of one query-protocol request, with the constraint failures found so far.
#[derive(Debug, Default)]
pub struct Params {
    map: HashMap<String, String>,
    failures: Vec<String>,
}

/// `RoleName` → `roleName`, the member name AWS uses in validation messages.
fn member_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

fn quote_value(value: &str) -> String {
    let shown: String = value.chars().take(100).collect();
    format!("'{shown}'")
}

impl Params {
    /// Parameters from decoded pairs; the first occurrence of a name wins.
    pub fn new(pairs: Vec<(String, String)>) -> Params {
        let mut map = HashMap::with_capacity(pairs.len());
        for (k, v) in pairs {
            map.entry(k).or_insert(v);
        }
        Params {
            map,
            failures: Vec::new(),
        }
    }

    /// A raw parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.map.get(name).map(String::as_str)
    }

    fn check(&mut self, name: &str, value: &str, check: Check) {
        if let Some(why) = check.failure(value) {
            self.failures.push(format!(
                "Value {} at '{}' failed to satisfy constraint: {why}",
                quote_value(value),
                member_name(name)
            ));
        }
    }

    /// A required parameter; a missing one is recorded as AWS's "Member must not be null".
    pub fn required(&mut self, name: &str, check: Check) -> String {
        match self.map.get(name).cloned() {
            Some(value) => {
                self.check(name, &value, check);
                value
            }
            None => {
                self.failures.push(format!(
                    "Value null at '{}' failed to satisfy constraint: Member must not be null",
                    member_name(name)
                ));
                String::new()
            }
        }
    }

    /// An optional parameter.
    pub fn optional(&mut self, name: &str, check: Check) -> Option<String> {
        let value = self.map.get(name).cloned()?;
        self.check(name, &value, check);
        Some(value)
    }

    /// An optional integer within bounds.
    pub fn int(&mut self, name: &str, min: i64, max: i64) -> Option<i64> {
        let raw = self.map.get(name)?.clone();
        match raw.trim().parse::<i64>() {
            Ok(n) if n < min => {
                self.failures.push(format!(
                    "Value '{n}' at '{}' failed to satisfy constraint: Member must have value greater than or equal to {min}",
                    member_name(name)
                ));
                None
            }
            Ok(n) if n > max => {
                self.failures.push(format!(
                    "Value '{n}' at '{}' failed to satisfy constraint: Member must have value less than or equal to {max}",
                    member_name(name)
                ));
                None
            }
            Ok(n) => Some(n),
            Err(_) => {
                self.failures.push(format!(
                    "Value {} at '{}' failed to satisfy constraint: Member must be a number",
                    quote_value(&raw),
                    member_name(name)
                ));
                None
            }
        }
    }

    /// An optional boolean (`true` / `false`).
    pub fn bool(&mut self, name: &str) -> Option<bool> {
        let raw = self.map.get(name)?.clone();
        match raw.to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => {
                self.failures.push(format!(
                    "Value {} at '{}' failed to satisfy constraint: Member must be a boolean",
                    quote_value(&raw),
                    member_name(name)
                ));
                None
            }
        }
    }

    /// The indexes of `Name.member.N...` parameters, sorted.
    fn member_indexes(&self, name: &str) -> Vec<usize> {
        let prefix = format!("{name}.member.");
        let mut indexes: Vec<usize> = self
            .map
            .keys()
            .filter_map(|k| k.strip_prefix(&prefix))
            .filter_map(|rest| rest.split('.').next()?.parse().ok())
            .collect();
        indexes.sort_unstable();
        indexes.dedup();
        indexes
    }

    /// A list of strings: `Name.member.1`, `Name.member.2`, ...
    pub fn list(&mut self, name: &str, check: Check) -> Vec<String> {
        let mut out = Vec::new();
        for i in self.member_indexes(name) {
            let key = format!("{name}.member.{i}");
            if let Some(value) = self.map.get(&key).cloned() {
                self.check(name, &value, check);
                out.push(value);
            }
        }
        out
    }

    /// Whether a list parameter was given at all (even empty).
    pub fn has_list(&self, name: &str) -> bool {
        self.map.contains_key(name) || !self.member_indexes(name).is_empty()
    }

    /// Structures of a list: for each index, a function reads `Name.member.N.Field`.
    pub fn structs(&self, name: &str) -> Vec<String> {
        self.member_indexes(name)
            .into_iter()
            .map(|i| format!("{name}.member.{i}."))
            .collect()
    }

    /// Tags: `Name.member.N.Key` / `.Value`, at most 50, with IAM's constraints.
    pub fn tags(&mut self, name: &str) -> Vec<Tag> {
        let mut tags = Vec::new();
        for prefix in self.structs(name) {
            let key = self.required(&format!("{prefix}Key"), Check::Length(1, 128));
            let value = self
                .optional(&format!("{prefix}Value"), Check::Length(0, 256))
                .unwrap_or_default();
            tags.push(Tag { key, value });
        }
        if tags.len() > 50 {
            self.failures.push(format!(
                "Value '[...]' at '{}' failed to satisfy constraint: Member must have length less than or equal to 50",
                member_name(name)
            ));
        }
        tags
    }

    /// Records a failure found by the caller.
    pub fn fail(&mut self, failure: String) {
        self.failures.push(failure);
    }

    /// `ValidationError` with every failure, or `Ok`.
    pub fn finish(&mut self) -> Result<(), ApiError> {
        if self.failures.is_empty() {
            Ok(())
        } else {
            Err(validation_error(&std::mem::take(&mut self.failures)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_decoding_handles_plus_percent_and_refuses_bad_utf8() {
        let pairs = parse_form(b"Action=GetRole&RoleName=a+b%2Fc&Empty=").unwrap();
        assert_eq!(pairs[1], ("RoleName".into(), "a b/c".into()));
        assert_eq!(pairs[2], ("Empty".into(), String::new()));
        assert_eq!(
            parse_form(b"A=%FF").unwrap_err().code,
            "MalformedQueryString"
        );
        assert_eq!(
            parse_form(b"A=%G1").unwrap_err().code,
            "MalformedQueryString"
        );
    }

    #[test]
    fn validation_messages_follow_aws() {
        let mut p = Params::new(vec![("RoleName".into(), "bad name!".into())]);
        p.required("RoleName", Check::Name(64));
        p.required("AssumeRolePolicyDocument", Check::Document);
        let err = p.finish().unwrap_err();
        assert_eq!(err.code, "ValidationError");
        assert_eq!(
            err.message,
            "2 validation errors detected: Value 'bad name!' at 'roleName' failed to satisfy \
             constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+; Value null \
             at 'assumeRolePolicyDocument' failed to satisfy constraint: Member must not be null"
        );
    }

    #[test]
    fn member_lists_are_ordered_by_index() {
        let mut p = Params::new(vec![
            ("A.member.10".into(), "ten".into()),
            ("A.member.2".into(), "two".into()),
        ]);
        assert_eq!(p.list("A", Check::Length(0, 10)), ["two", "ten"]);
    }
}
