//! Resource types and whether an ARN from a policy fits one.
//!
//! A resource type's ARN format is a template such as
//! `arn:${Partition}:kms:${Region}:${Account}:key/${KeyId}`. An ARN fits the type when some ARN
//! could be written both ways: the policy's `*` and `?` are wildcards, and each `${Placeholder}`
//! of the template stands for one or more characters. Like IAM, the test goes part by part:
//! partition, service, region and account are compared on their own, so a `*` in the policy's
//! region never spills into the account. `${Partition}` stands for AWS's partitions only.
//!
//! One refinement keeps S3's classic mistake visible: when a service has a type whose format
//! continues another's (`${BucketName}` and `${BucketName}/${ObjectName}`), the shorter type's
//! last placeholder does not take the separator that follows in the longer one, so
//! `arn:aws:s3:::bucket/*` fits `object` but not `bucket`.

use rolewright_iam::arn::ArnParts;

/// AWS's partitions, which `${Partition}` stands for.
pub const PARTITIONS: [&str; 8] = [
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
];

/// A resource type of a service (`training-job` of `sagemaker`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceType {
    pub(crate) name: &'static str,
    pub(crate) arn_patterns: Box<[&'static str]>,
    pub(crate) condition_keys: Box<[&'static str]>,
    /// ASCII characters the last placeholder of the formats does not take (see the module docs).
    pub(crate) stops: u128,
}

impl ResourceType {
    /// AWS's name for the type: `training-job`, `key`, `bucket`.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The type's ARN format: `arn:${Partition}:sagemaker:${Region}:${Account}:training-job/${TrainingJobName}`.
    /// A few types (some of API Gateway's and Lex's) have two formats; this is the first, and
    /// [`ResourceType::arn_patterns`] gives them all.
    pub fn arn_pattern(&self) -> &'static str {
        self.arn_patterns.first().copied().unwrap_or_default()
    }

    /// Every ARN format of the type, usually one.
    pub fn arn_patterns(&self) -> &[&'static str] {
        &self.arn_patterns
    }

    /// The condition keys that apply to requests on resources of this type.
    pub fn condition_keys(&self) -> &[&'static str] {
        &self.condition_keys
    }

    /// Whether `arn` fits the type: a concrete ARN (`arn:aws:kms:us-east-1:123456789012:key/1234abcd`)
    /// or a policy's ARN pattern with `*`, `?` and policy variables (`${aws:username}`, taken to
    /// stand for any text). `*` alone fits every type; text that is not an ARN (a bare KMS key
    /// id) fits none.
    pub fn matches_arn(&self, arn: &str) -> bool {
        self.arn_patterns
            .iter()
            .any(|pattern| fits(pattern, arn, self.stops))
    }
}

/// A set of characters one token of a pattern can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Any,
    /// Anything but the ASCII characters whose bits are set.
    Except(u128),
}

impl Class {
    fn except(stops: u128) -> Class {
        if stops == 0 {
            Class::Any
        } else {
            Class::Except(stops)
        }
    }

    fn has(self, c: char) -> bool {
        match self {
            Class::Any => true,
            Class::Except(mask) => !(c.is_ascii() && mask & (1u128 << (c as u32)) != 0),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// Exactly this character.
    Char(char),
    /// One character of the class.
    One(Class),
    /// Any run of characters of the class, the empty one included.
    Many(Class),
}

impl Token {
    fn overlaps(self, other: Token) -> bool {
        let class = |t: Token| match t {
            Token::Char(_) => None,
            Token::One(c) | Token::Many(c) => Some(c),
        };
        match (self, other) {
            (Token::Char(a), Token::Char(b)) => a == b,
            (Token::Char(a), t) | (t, Token::Char(a)) => class(t).is_some_and(|c| c.has(a)),
            // Both sides exclude finitely many characters, so they share the rest.
            _ => true,
        }
    }
}

fn colon() -> u128 {
    1u128 << u32::from(b':')
}

/// Where the `}` of a `${...}` at the start of `text` is.
fn placeholder_end(text: &str) -> Option<usize> {
    if text.starts_with("${") {
        text.find('}')
    } else {
        None
    }
}

/// Tokens of (part of) a resource type's ARN format. Placeholders and `*` take characters of
/// `class`; the placeholder that ends the text takes characters of `last`.
fn template_tokens(text: &str, class: Class, last: Class, out: &mut Vec<Token>) {
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(end) = placeholder_end(rest) {
            rest = &rest[end + 1..];
            let class = if rest.is_empty() { last } else { class };
            out.push(Token::One(class));
            out.push(Token::Many(class));
            continue;
        }
        let mut chars = rest.chars();
        match chars.next() {
            Some('*') => out.push(Token::Many(class)),
            Some('?') => out.push(Token::One(class)),
            Some(c) => out.push(Token::Char(c)),
            None => {}
        }
        rest = chars.as_str();
    }
}

/// Tokens of (part of) an ARN from a policy: `*` and `?` are wildcards, a policy variable stands
/// for any text, and `${*}`, `${?}`, `${$}` are the escaped characters.
fn policy_tokens(text: &str, class: Class) -> Vec<Token> {
    let mut out = Vec::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(end) = placeholder_end(rest) {
            let name = &rest[2..end];
            rest = &rest[end + 1..];
            match name {
                "*" | "?" | "$" => out.extend(name.chars().map(Token::Char)),
                _ => out.push(Token::Many(class)),
            }
            continue;
        }
        let mut chars = rest.chars();
        match chars.next() {
            Some('*') => out.push(Token::Many(class)),
            Some('?') => out.push(Token::One(class)),
            Some(c) => out.push(Token::Char(c)),
            None => {}
        }
        rest = chars.as_str();
    }
    out
}

/// Whether some text matches both token sequences: a search over pairs of positions.
fn intersect(a: &[Token], b: &[Token]) -> bool {
    let width = b.len() + 1;
    let mut seen = vec![false; (a.len() + 1) * width];
    let mut stack = vec![(0usize, 0usize)];
    seen[0] = true;
    while let Some((i, j)) = stack.pop() {
        if i == a.len() && j == b.len() {
            return true;
        }
        let ta = a.get(i).copied();
        let tb = b.get(j).copied();
        let mut next = |i: usize, j: usize| {
            let slot = &mut seen[i * width + j];
            if !*slot {
                *slot = true;
                stack.push((i, j));
            }
        };
        // A run may end here, taking no more characters.
        if let Some(Token::Many(_)) = ta {
            next(i + 1, j);
        }
        if let Some(Token::Many(_)) = tb {
            next(i, j + 1);
        }
        if let (Some(x), Some(y)) = (ta, tb)
            && x.overlaps(y)
        {
            // One character taken by both sides; a run stays where it is.
            match (x, y) {
                (Token::Many(_), Token::Many(_)) => {}
                (Token::Many(_), _) => next(i, j + 1),
                (_, Token::Many(_)) => next(i + 1, j),
                _ => next(i + 1, j + 1),
            }
        }
    }
    false
}

fn part_fits(template: &str, policy: &str) -> bool {
    // Shortcuts for the common shapes, before building tokens: the same text, or a template
    // part that is one placeholder (`${Region}`), which takes any non-empty text.
    if template == policy {
        return true;
    }
    let single_placeholder = template.starts_with("${")
        && template.ends_with('}')
        && template[2..].find("${").is_none()
        && template.find('}') == Some(template.len() - 1);
    if single_placeholder && !policy.is_empty() {
        return true;
    }
    if !template.contains(['$', '*', '?']) && !policy.contains(['*', '?', '$']) {
        return false;
    }
    let mut t = Vec::with_capacity(template.len());
    template_tokens(template, Class::Any, Class::Any, &mut t);
    intersect(&t, &policy_tokens(policy, Class::Any))
}

fn partition_fits(template: &str, policy: &str) -> bool {
    if template == "${Partition}" {
        PARTITIONS.iter().any(|p| part_fits(p, policy))
    } else {
        part_fits(template, policy)
    }
}

/// Splits a policy's ARN into partition, service, region, account and resource, as
/// [`ArnParts::parse`] does, except that a colon inside a policy variable
/// (`${aws:PrincipalAccount}`) separates nothing: IAM replaces the variable before it matches.
fn split_policy_arn(text: &str) -> Option<[&str; 5]> {
    let rest = text.strip_prefix("arn:")?;
    let mut parts = [""; 5];
    let mut found = 0;
    let mut start = 0;
    let mut i = 0;
    while found < 4 && i < rest.len() {
        if let Some(end) = placeholder_end(&rest[i..]) {
            i += end + 1;
            continue;
        }
        if rest.as_bytes()[i] == b':' {
            parts[found] = &rest[start..i];
            found += 1;
            start = i + 1;
        }
        i += 1;
    }
    if found < 4 {
        return None;
    }
    parts[4] = &rest[start..];
    Some(parts)
}

fn fits(pattern: &str, arn: &str, stops: u128) -> bool {
    if !arn.is_empty() && arn.bytes().all(|b| b == b'*') {
        return true;
    }
    let Some(template) = ArnParts::parse(pattern) else {
        return false;
    };
    let last = Class::except(stops);
    if let Some([partition, service, region, account, resource]) = split_policy_arn(arn) {
        let mut template_resource = Vec::with_capacity(template.resource.len());
        template_tokens(template.resource, Class::Any, last, &mut template_resource);
        return partition_fits(template.partition, partition)
            && part_fits(template.service, service)
            && part_fits(template.region, region)
            && part_fits(template.account, account)
            && intersect(&template_resource, &policy_tokens(resource, Class::Any));
    }
    if !arn.contains(['*', '?']) && !arn.contains("${") {
        return false;
    }
    // A pattern with fewer than six parts (`arn:aws:s3*`): IAM matches it as one text, so its
    // wildcards may cross the colons, while the template's placeholders stay in their part.
    let policy = policy_tokens(arn, Class::Any);
    let whole = |partition: &str| {
        let segment = Class::Except(colon());
        let mut t = Vec::with_capacity(pattern.len());
        t.extend("arn:".chars().map(Token::Char));
        template_tokens(partition, segment, segment, &mut t);
        for part in [template.service, template.region, template.account] {
            t.push(Token::Char(':'));
            template_tokens(part, segment, segment, &mut t);
        }
        t.push(Token::Char(':'));
        template_tokens(template.resource, Class::Any, last, &mut t);
        intersect(&t, &policy)
    };
    if template.partition == "${Partition}" {
        PARTITIONS.iter().any(|p| whole(p))
    } else {
        whole(template.partition)
    }
}

/// For each format in `patterns` (one service's, each with its type's index), the separators
/// its last placeholder must not take: the character that follows wherever another format of
/// the service continues it.
pub(crate) fn continuation_stops(patterns: &mut [(&'static str, usize)]) -> Vec<(usize, u128)> {
    patterns.sort_unstable();
    let mut stops = Vec::new();
    for (k, (pattern, index)) in patterns.iter().enumerate() {
        if !pattern.ends_with('}') {
            continue;
        }
        let mut mask = 0u128;
        // Sorted order puts every format that begins with `pattern` right after it.
        for (longer, _) in patterns[k + 1..]
            .iter()
            .take_while(|(p, _)| p.starts_with(pattern))
        {
            match longer[pattern.len()..].chars().next() {
                Some(c) if c.is_ascii() => mask |= 1u128 << (c as u32),
                _ => {}
            }
        }
        if mask != 0 {
            stops.push((*index, mask));
        }
    }
    stops
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt(pattern: &'static str, stops: &str) -> ResourceType {
        ResourceType {
            name: "t",
            arn_patterns: Box::new([pattern]),
            condition_keys: Box::new([]),
            stops: stops.bytes().fold(0, |m, b| m | 1u128 << b),
        }
    }

    const KEY: &str = "arn:${Partition}:kms:${Region}:${Account}:key/${KeyId}";
    const BUCKET: &str = "arn:${Partition}:s3:::${BucketName}";
    const OBJECT: &str = "arn:${Partition}:s3:::${BucketName}/${ObjectName}";

    #[test]
    fn concrete_arns_fit_part_by_part() {
        let key = rt(KEY, "");
        assert!(key.matches_arn(
            "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        ));
        assert!(key.matches_arn("arn:aws-cn:kms:cn-north-1:123456789012:key/k"));
        assert!(!key.matches_arn("1234abcd-12ab-34cd-56ef-1234567890ab"));
        assert!(!key.matches_arn("arn:aws:kms:us-east-1:123456789012:alias/k"));
        assert!(!key.matches_arn("arn:aws:kms:us-east-1:123456789012:key/"));
        assert!(!key.matches_arn("arn:moon:kms:us-east-1:123456789012:key/k"));
        assert!(!key.matches_arn("arn:aws:sqs:us-east-1:123456789012:key/k"));
        assert!(!key.matches_arn("arn:aws:kms::123456789012:key/k"));
    }

    #[test]
    fn policy_wildcards_fit_any_placeholder() {
        let key = rt(KEY, "");
        assert!(key.matches_arn("*"));
        assert!(key.matches_arn("arn:*:kms:*:*:key/*"));
        assert!(key.matches_arn("arn:aws:kms:*:123456789012:*"));
        assert!(key.matches_arn("arn:aws:kms:us-east-?:123456789012:key/k"));
        assert!(!key.matches_arn("arn:aws:kms:*:123456789012:alias/*"));
        assert!(key.matches_arn("arn:aws:kms:us-east-1:${aws:PrincipalAccount}:key/k"));
    }

    #[test]
    fn an_empty_part_fits_only_an_empty_or_wildcard_part() {
        let bucket = rt(BUCKET, "/");
        assert!(bucket.matches_arn("arn:aws:s3:::ml-data"));
        assert!(bucket.matches_arn("arn:aws:s3:*:*:ml-data"));
        assert!(!bucket.matches_arn("arn:aws:s3:us-east-1::ml-data"));
    }

    #[test]
    fn a_bucket_is_not_an_object() {
        let bucket = rt(BUCKET, "/");
        let object = rt(OBJECT, "");
        assert!(!bucket.matches_arn("arn:aws:s3:::ml-data/*"));
        assert!(object.matches_arn("arn:aws:s3:::ml-data/*"));
        assert!(!object.matches_arn("arn:aws:s3:::ml-data"));
        assert!(bucket.matches_arn("arn:aws:s3:::*"));
        assert!(object.matches_arn("arn:aws:s3:::*"));
        assert!(object.matches_arn("arn:aws:s3:::ml-data/${aws:username}/*"));
    }

    #[test]
    fn short_patterns_match_as_one_text() {
        let key = rt(KEY, "");
        assert!(key.matches_arn("arn:aws:kms*"));
        assert!(!key.matches_arn("arn:aws:s3*"));
        assert!(rt(BUCKET, "/").matches_arn("arn:aws:s3*"));
        assert!(!rt(BUCKET, "/").matches_arn("arn:aws:s3"));
    }

    #[test]
    fn literal_wildcards_and_fixed_parts_in_formats() {
        let star = rt("arn:${Partition}:ec2:*:*:snapshot/${SnapshotId}", "");
        assert!(star.matches_arn("arn:aws:ec2:us-east-1::snapshot/snap-1"));
        let fixed = rt("arn:${Partition}:iam::aws:policy/${PolicyNameWithPath}", "");
        assert!(fixed.matches_arn("arn:aws:iam::aws:policy/ReadOnlyAccess"));
        assert!(!fixed.matches_arn("arn:aws:iam::123456789012:policy/ReadOnlyAccess"));
    }

    #[test]
    fn stops_come_from_formats_that_continue_another() {
        let mut patterns = [(OBJECT, 1), (BUCKET, 0), (KEY, 2)];
        assert_eq!(
            continuation_stops(&mut patterns),
            vec![(0, 1u128 << u32::from(b'/'))]
        );
    }
}
