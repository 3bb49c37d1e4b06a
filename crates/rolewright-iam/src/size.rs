//! IAM's size accounting: policy sizes are counted without whitespace, against IAM's quotas.

use crate::ast::PolicyDocument;

/// Characters allowed across all inline policies of a role.
pub const ROLE_INLINE_POLICIES_TOTAL: usize = 10_240;
/// Characters allowed across all inline policies of a user.
pub const USER_INLINE_POLICIES_TOTAL: usize = 2_048;
/// Characters allowed in one customer-managed policy.
pub const MANAGED_POLICY: usize = 6_144;
/// Characters allowed in a role trust policy (the default quota; AWS can raise it to 4,096).
pub const TRUST_POLICY: usize = 2_048;
/// Managed policies attached to a role by default.
pub const MANAGED_POLICIES_PER_ROLE: usize = 10;
/// Managed policies attached to a role at most, after a quota increase.
pub const MANAGED_POLICIES_PER_ROLE_MAX: usize = 20;
/// Longest role name.
pub const ROLE_NAME_MAX: usize = 64;

/// The size IAM counts for a policy: its JSON without whitespace outside strings.
pub fn policy_size(document: &PolicyDocument) -> usize {
    crate::wire::to_compact_json(document).chars().count()
}

/// The size IAM counts for policy text as the user wrote it (whitespace outside strings does not count).
pub fn text_size(text: &str) -> usize {
    let mut in_string = false;
    let mut escaped = false;
    let mut n = 0;
    for c in text.chars() {
        if in_string {
            n += 1;
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if !c.is_whitespace() {
            n += 1;
            if c == '"' {
                in_string = true;
            }
        }
    }
    n
}

/// Why a role name is not valid for IAM.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleNameError {
    /// Empty name.
    #[error("a role name cannot be empty")]
    Empty,
    /// Longer than 64 characters.
    #[error("role name `{0}` is {1} characters long; IAM allows at most 64")]
    TooLong(String, usize),
    /// A character outside `[A-Za-z0-9+=,.@_-]`.
    #[error("role name `{0}` contains `{1}`; IAM allows only letters, digits and `+=,.@_-`")]
    BadCharacter(String, char),
}

/// Checks a role name against IAM's rules: 1 to 64 characters from `[\w+=,.@-]`.
pub fn check_role_name(name: &str) -> Result<(), RoleNameError> {
    if name.is_empty() {
        return Err(RoleNameError::Empty);
    }
    let len = name.chars().count();
    if len > ROLE_NAME_MAX {
        return Err(RoleNameError::TooLong(name.to_string(), len));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "+=,.@_-".contains(*c)))
    {
        return Err(RoleNameError::BadCharacter(name.to_string(), c));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_does_not_count() {
        assert_eq!(text_size("{ \"a b\" : [ 1 ,\n 2 ] }"), 13);
        let doc = PolicyDocument::parse(
            "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [ {\"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resource\": \"*\"} ]\n}",
        )
        .unwrap();
        assert_eq!(
            policy_size(&doc),
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#.len()
        );
    }

    #[test]
    fn role_names() {
        assert_eq!(check_role_name("SageMaker-ds_team.1@x"), Ok(()));
        assert_eq!(
            check_role_name("bad name").unwrap_err().to_string(),
            "role name `bad name` contains ` `; IAM allows only letters, digits and `+=,.@_-`"
        );
        assert!(matches!(
            check_role_name(&"a".repeat(65)),
            Err(RoleNameError::TooLong(_, 65))
        ));
    }
}
