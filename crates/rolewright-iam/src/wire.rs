//! The JSON wire form of policies: [`serde`] serialization of the syntax tree in AWS's key
//! order, and deserialization through the validating parser, so a `PolicyDocument` can sit in
//! any serde structure (role files, test cases) and still be checked like a policy file.

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ast::{ConditionBlock, Negatable, PolicyDocument, Principal, Statement, StringList};
use crate::parser::{PolicyType, parse_policy};

/// The document as compact JSON (the form whose length IAM counts).
pub fn to_compact_json(document: &PolicyDocument) -> String {
    serde_json::to_string(document).unwrap_or_default()
}

/// The document as indented JSON.
pub fn to_pretty_json(document: &PolicyDocument) -> String {
    serde_json::to_string_pretty(document).unwrap_or_default()
}

impl Serialize for PolicyDocument {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if let Some(v) = &self.version {
            map.serialize_entry("Version", v)?;
        }
        if let Some(id) = &self.id {
            map.serialize_entry("Id", id)?;
        }
        match (self.statement_is_object, self.statements.as_slice()) {
            (true, [only]) => map.serialize_entry("Statement", only)?,
            _ => map.serialize_entry("Statement", &self.statements)?,
        }
        map.end()
    }
}

impl Serialize for StringList {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match (self.single, self.values.as_slice()) {
            (true, [one]) => serializer.serialize_str(one),
            _ => {
                let mut seq = serializer.serialize_seq(Some(self.values.len()))?;
                for v in &self.values {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
        }
    }
}

impl Serialize for Principal {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Principal::Wildcard => serializer.serialize_str("*"),
            Principal::Bare(s) => serializer.serialize_str(s),
            Principal::Identifiers(ids) => {
                let mut map = serializer.serialize_map(Some(ids.len()))?;
                for (kind, list) in ids {
                    map.serialize_entry(kind.as_str(), list)?;
                }
                map.end()
            }
        }
    }
}

struct Blocks<'a>(&'a [ConditionBlock]);

impl Serialize for Blocks<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for block in self.0 {
            map.serialize_entry(&block.operator_name, &Entries(block))?;
        }
        map.end()
    }
}

struct Entries<'a>(&'a ConditionBlock);

impl Serialize for Entries<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.entries.len()))?;
        for entry in &self.0.entries {
            map.serialize_entry(&entry.key, &entry.values)?;
        }
        map.end()
    }
}

fn negatable<'a, T>(
    value: &'a Option<Negatable<T>>,
    plain: &'static str,
    not: &'static str,
) -> Option<(&'static str, &'a T)> {
    value
        .as_ref()
        .map(|n| (if n.negated { not } else { plain }, &n.value))
}

impl Serialize for Statement {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if let Some(sid) = &self.sid {
            map.serialize_entry("Sid", sid)?;
        }
        map.serialize_entry("Effect", self.effect.as_str())?;
        if let Some((key, p)) = negatable(&self.principal, "Principal", "NotPrincipal") {
            map.serialize_entry(key, p)?;
        }
        if let Some((key, a)) = negatable(&self.action, "Action", "NotAction") {
            map.serialize_entry(key, a)?;
        }
        if let Some((key, r)) = negatable(&self.resource, "Resource", "NotResource") {
            map.serialize_entry(key, r)?;
        }
        if let Some(blocks) = &self.condition {
            map.serialize_entry("Condition", &Blocks(blocks))?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for PolicyDocument {
    /// Reads the policy's raw JSON text with the policy reader, so that duplicate keys, key
    /// order and number spellings are treated exactly as in a policy file. Only JSON
    /// deserializers (`serde_json`) can provide raw text; others get an error.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<serde_json::value::RawValue>::deserialize(deserializer)?;
        let outcome = parse_policy(raw.get(), PolicyType::Generic);
        match outcome.document {
            Some(doc) => Ok(doc),
            None => {
                let first = outcome
                    .diagnostics
                    .iter()
                    .find(|d| d.is_error())
                    .map(ToString::to_string)
                    .unwrap_or_else(|| "invalid policy".to_string());
                Err(serde::de::Error::custom(first))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_keep_the_authors_shape() {
        let text = r#"{"Version":"2012-10-17","Id":"x","Statement":{"Sid":"A","Effect":"Allow","NotPrincipal":{"AWS":["arn:aws:iam::123456789012:root"],"Service":"s.amazonaws.com"},"Action":"s3:*","NotResource":["arn:aws:s3:::b"],"Condition":{"Bool":{"aws:SecureTransport":"true"},"NumericLessThan":{"s3:max-keys":["10"]}}}}"#;
        let doc = PolicyDocument::parse(text).unwrap();
        assert_eq!(to_compact_json(&doc), text);
    }

    #[test]
    fn deserializing_refuses_duplicate_keys_like_the_parser() {
        let err = serde_json::from_str::<PolicyDocument>(
            r#"{"Statement":[{"Effect":"Allow","Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "duplicate key `Effect` at `Statement[0]` (line 1, column 33)"
        );
    }

    #[test]
    fn deserializing_keeps_key_order_and_numbers() {
        let text = r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"s.amazonaws.com","AWS":"*"},"Action":"s3:*","Resource":"*","Condition":{"StringLike":{"b":"1","a":"2"},"NumericLessThan":{"k":["1e2"]}}}]}"#;
        let doc: PolicyDocument = serde_json::from_str(text).unwrap();
        assert_eq!(to_compact_json(&doc), text);
    }

    #[test]
    fn deserializes_through_the_parser() {
        let err = serde_json::from_str::<PolicyDocument>(
            r#"{"Statement": [{"Effect": "Allow", "Action": 1}]}"#,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "`Action` must be a string or an array of strings, found a number at `Statement[0].Action` (line 1, column 46)"
        );
    }
}
