//! Condition keys and their types, and matching the key a policy names against AWS's key names,
//! some of which hold a placeholder (`aws:RequestTag/${TagKey}` stands for `aws:RequestTag/team`).

use std::fmt;

use rolewright_iam::wildcard::{Piece, Wildcard};

use crate::compare::{cmp_ignore_case, sort_unique};

/// The type of a condition key's values, as AWS's Service Authorization Reference gives it.
///
/// `Unknown` stands for a type name the snapshot holds but this crate does not know (AWS adds one
/// now and then); callers should then accept any operator rather than report a mismatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// `String`.
    String,
    /// `ArrayOfString`: several strings; compare with `ForAnyValue:` / `ForAllValues:`.
    ArrayOfString,
    /// `Numeric`.
    Numeric,
    /// `ArrayOfNumeric`.
    ArrayOfNumeric,
    /// `Date`.
    Date,
    /// `ArrayOfDate`.
    ArrayOfDate,
    /// `Bool`.
    Bool,
    /// `ArrayOfBool`.
    ArrayOfBool,
    /// `ARN`.
    Arn,
    /// `ArrayOfARN`.
    ArrayOfArn,
    /// `IPAddress`.
    IpAddress,
    /// `ArrayOfIPAddress`.
    ArrayOfIpAddress,
    /// `Binary`.
    Binary,
    /// `ArrayOfBinary`.
    ArrayOfBinary,
    /// A type name this crate does not know.
    Unknown,
}

impl KeyType {
    /// Every type, `Unknown` last.
    pub const ALL: [KeyType; 15] = [
        KeyType::String,
        KeyType::ArrayOfString,
        KeyType::Numeric,
        KeyType::ArrayOfNumeric,
        KeyType::Date,
        KeyType::ArrayOfDate,
        KeyType::Bool,
        KeyType::ArrayOfBool,
        KeyType::Arn,
        KeyType::ArrayOfArn,
        KeyType::IpAddress,
        KeyType::ArrayOfIpAddress,
        KeyType::Binary,
        KeyType::ArrayOfBinary,
        KeyType::Unknown,
    ];

    /// Reads AWS's spelling (`ArrayOfString`, `ARN`, `IPAddress`), ignoring case; any other
    /// text is [`KeyType::Unknown`].
    pub fn from_aws(name: &str) -> KeyType {
        KeyType::ALL
            .into_iter()
            .find(|t| *t != KeyType::Unknown && t.as_str().eq_ignore_ascii_case(name))
            .unwrap_or(KeyType::Unknown)
    }

    /// AWS's spelling of the type.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::String => "String",
            KeyType::ArrayOfString => "ArrayOfString",
            KeyType::Numeric => "Numeric",
            KeyType::ArrayOfNumeric => "ArrayOfNumeric",
            KeyType::Date => "Date",
            KeyType::ArrayOfDate => "ArrayOfDate",
            KeyType::Bool => "Bool",
            KeyType::ArrayOfBool => "ArrayOfBool",
            KeyType::Arn => "ARN",
            KeyType::ArrayOfArn => "ArrayOfARN",
            KeyType::IpAddress => "IPAddress",
            KeyType::ArrayOfIpAddress => "ArrayOfIPAddress",
            KeyType::Binary => "Binary",
            KeyType::ArrayOfBinary => "ArrayOfBinary",
            KeyType::Unknown => "Unknown",
        }
    }

    /// Whether a request can carry several values for the key (the `ArrayOf` types).
    pub fn is_multi_valued(self) -> bool {
        self != self.scalar()
    }

    /// The type of one value: `ArrayOfString` gives `String`; scalar types give themselves.
    pub fn scalar(self) -> KeyType {
        match self {
            KeyType::ArrayOfString => KeyType::String,
            KeyType::ArrayOfNumeric => KeyType::Numeric,
            KeyType::ArrayOfDate => KeyType::Date,
            KeyType::ArrayOfBool => KeyType::Bool,
            KeyType::ArrayOfArn => KeyType::Arn,
            KeyType::ArrayOfIpAddress => KeyType::IpAddress,
            KeyType::ArrayOfBinary => KeyType::Binary,
            other => other,
        }
    }

    /// The condition operators made for the type, named as the operators begin: `String`,
    /// `Numeric`, `Date`, `Bool`, `Arn`, `IpAddress`, `Binary` (`String` for `Unknown`).
    pub fn operator_family(self) -> &'static str {
        match self.scalar() {
            KeyType::Numeric => "Numeric",
            KeyType::Date => "Date",
            KeyType::Bool => "Bool",
            KeyType::Arn => "Arn",
            KeyType::IpAddress => "IpAddress",
            KeyType::Binary => "Binary",
            _ => "String",
        }
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A condition key as AWS names it, with the type of its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConditionKey {
    /// AWS's spelling, placeholders included: `sagemaker:VpcSubnets`, `aws:RequestTag/${TagKey}`.
    pub name: &'static str,
    /// The type of the key's values.
    pub key_type: KeyType,
}

impl ConditionKey {
    /// Whether the name holds a placeholder (`${TagKey}`, or `<key>` as S3 writes it) that
    /// stands for any text.
    pub fn has_placeholder(&self) -> bool {
        has_placeholder(self.name)
    }

    /// Whether `key`, as a policy writes it, is this key: equal ignoring case, with each
    /// placeholder standing for one or more characters.
    pub fn matches(&self, key: &str) -> bool {
        name_matches(self.name, key)
    }
}

impl fmt::Display for ConditionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

pub(crate) fn has_placeholder(name: &str) -> bool {
    name.contains("${") || name.contains('<')
}

/// Whether the policy's `key` is the key AWS names `name` (see [`ConditionKey::matches`]).
pub(crate) fn name_matches(name: &str, key: &str) -> bool {
    if !has_placeholder(name) {
        return name.eq_ignore_ascii_case(key);
    }
    Wildcard::from_pieces(&placeholder_pieces(name), true).matches(key)
}

/// Splits `aws:RequestTag/${TagKey}` into the literal `aws:RequestTag/` and a pattern for the
/// placeholder. The literal parts may hold `*` or `?`, which must not become wildcards.
fn placeholder_pieces(name: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut rest = name;
    while let Some((start, open, close)) = next_placeholder(rest) {
        let after = start + open.len();
        let Some(len) = rest[after..].find(close) else {
            break;
        };
        if start > 0 {
            pieces.push(Piece::Literal(rest[..start].to_string()));
        }
        pieces.push(Piece::Pattern("?*".to_string()));
        rest = &rest[after + len + close.len_utf8()..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Literal(rest.to_string()));
    }
    pieces
}

fn next_placeholder(text: &str) -> Option<(usize, &'static str, char)> {
    let dollar = text.find("${").map(|i| (i, "${", '}'));
    let angle = text.find('<').map(|i| (i, "<", '>'));
    match (dollar, angle) {
        (Some(d), Some(a)) => Some(if d.0 < a.0 { d } else { a }),
        (d, a) => d.or(a),
    }
}

/// Finds `key` in keys sorted by [`cmp_ignore_case`]: an exact match first, then a key whose
/// placeholder covers it.
pub(crate) fn find_key<'k>(keys: &'k [ConditionKey], key: &str) -> Option<&'k ConditionKey> {
    find_exact(keys, key).or_else(|| find_by_placeholder(keys, key))
}

/// The key named exactly `key`, ignoring case, in keys sorted by [`cmp_ignore_case`].
pub(crate) fn find_exact<'k>(keys: &'k [ConditionKey], key: &str) -> Option<&'k ConditionKey> {
    keys.binary_search_by(|k| cmp_ignore_case(k.name, key))
        .ok()
        .and_then(|i| keys.get(i))
}

/// The first key whose placeholder covers `key`.
pub(crate) fn find_by_placeholder<'k>(
    keys: &'k [ConditionKey],
    key: &str,
) -> Option<&'k ConditionKey> {
    keys.iter()
        .filter(|k| k.has_placeholder())
        .find(|k| k.matches(key))
}

/// Sorts keys for [`find_key`]; returns the first name that appears twice, if any.
pub(crate) fn sort_keys(keys: &mut [ConditionKey]) -> Option<&'static str> {
    sort_unique(keys, |k| k.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_types_read_aws_spellings_and_round_trip() {
        assert_eq!(KeyType::from_aws("ARN"), KeyType::Arn);
        assert_eq!(KeyType::from_aws("ArrayOfARN"), KeyType::ArrayOfArn);
        assert_eq!(KeyType::from_aws("IPAddress"), KeyType::IpAddress);
        assert_eq!(KeyType::from_aws("bool"), KeyType::Bool);
        assert_eq!(KeyType::from_aws("Timestamp"), KeyType::Unknown);
        for t in KeyType::ALL {
            if t != KeyType::Unknown {
                assert_eq!(KeyType::from_aws(t.as_str()), t);
            }
        }
    }

    #[test]
    fn array_types_are_multi_valued_and_name_their_scalar() {
        assert!(KeyType::ArrayOfString.is_multi_valued());
        assert_eq!(KeyType::ArrayOfArn.scalar(), KeyType::Arn);
        assert!(!KeyType::Arn.is_multi_valued());
        assert_eq!(KeyType::ArrayOfArn.operator_family(), "Arn");
        assert_eq!(KeyType::ArrayOfIpAddress.operator_family(), "IpAddress");
        assert_eq!(KeyType::Unknown.operator_family(), "String");
    }

    #[test]
    fn placeholders_stand_for_one_or_more_characters() {
        let tag = ConditionKey {
            name: "aws:RequestTag/${TagKey}",
            key_type: KeyType::String,
        };
        assert!(tag.matches("aws:RequestTag/team"));
        assert!(tag.matches("AWS:requesttag/cost-center/ml"));
        assert!(tag.matches("aws:RequestTag/${TagKey}"));
        assert!(!tag.matches("aws:RequestTag/"));
        assert!(!tag.matches("aws:ResourceTag/team"));
        assert!(name_matches(
            "codebuild:secondarySources/${sourceIdentifier}.location",
            "codebuild:secondarySources/src2.location"
        ));
        assert!(!name_matches(
            "codebuild:secondarySources/${sourceIdentifier}.location",
            "codebuild:secondarySources/src2.type"
        ));
        assert!(name_matches(
            "s3:ExistingObjectTag/<key>",
            "s3:ExistingObjectTag/team"
        ));
        assert!(name_matches(
            "token.actions.${Domain}.ghe.com:sub",
            "token.actions.acme.ghe.com:sub"
        ));
    }

    #[test]
    fn literal_wildcard_characters_in_a_name_stay_literal() {
        assert!(!name_matches("x:a*/${K}", "x:abc/team"));
        assert!(name_matches("x:a*/${K}", "x:a*/team"));
    }

    #[test]
    fn find_key_prefers_the_exact_name_and_reports_duplicates() {
        let mut keys = [
            ConditionKey {
                name: "s3:prefix",
                key_type: KeyType::String,
            },
            ConditionKey {
                name: "s3:ExistingObjectTag/<key>",
                key_type: KeyType::String,
            },
        ];
        assert_eq!(sort_keys(&mut keys), None);
        assert_eq!(
            find_key(&keys, "S3:Prefix").map(|k| k.name),
            Some("s3:prefix")
        );
        assert_eq!(
            find_key(&keys, "s3:ExistingObjectTag/owner").map(|k| k.name),
            Some("s3:ExistingObjectTag/<key>")
        );
        assert_eq!(find_key(&keys, "s3:delimiter"), None);
        let mut twice = [keys[1], keys[1]];
        assert_eq!(sort_keys(&mut twice), Some("s3:prefix"));
    }
}
