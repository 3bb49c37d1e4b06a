//! Actions: their access level, the resource types they act on and their condition keys.

use std::fmt;
use std::hash::{Hash, Hasher};

use crate::compare::cmp_ignore_case;
use crate::reference::Reference;
use crate::resource::ResourceType;
use crate::service::Service;

/// AWS's access level of an action, the classification of the Service Authorization Reference.
///
/// Where AWS's data gives two levels (`Tagging, Write`), the more specific one is kept, as the
/// Reference pages show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AccessLevel {
    /// Lists resources (`s3:ListAllMyBuckets`).
    List,
    /// Reads resources and their data (`s3:GetObject`).
    Read,
    /// Tags resources (`sagemaker:AddTags`).
    Tagging,
    /// Creates, changes or deletes resources (`sagemaker:CreateTrainingJob`).
    Write,
    /// Changes who may do what (`iam:PutRolePolicy`, `s3:PutBucketPolicy`).
    PermissionsManagement,
}

impl AccessLevel {
    /// Every level, from the least to the most powerful (the order of [`AccessLevel::rank`]).
    pub const ALL: [AccessLevel; 5] = [
        AccessLevel::List,
        AccessLevel::Read,
        AccessLevel::Tagging,
        AccessLevel::Write,
        AccessLevel::PermissionsManagement,
    ];

    /// AWS's words: `List`, `Read`, `Tagging`, `Write`, `Permissions management`.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessLevel::List => "List",
            AccessLevel::Read => "Read",
            AccessLevel::Tagging => "Tagging",
            AccessLevel::Write => "Write",
            AccessLevel::PermissionsManagement => "Permissions management",
        }
    }

    /// How much the level can change, from 0 (`List`) to 4 (`Permissions management`), for
    /// sorting summaries with the riskiest grants last.
    pub fn rank(self) -> u8 {
        self as u8
    }

    /// Reads AWS's words, ignoring case (`permissions management`).
    pub fn from_aws(text: &str) -> Option<AccessLevel> {
        AccessLevel::ALL
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(text))
    }

    /// The level's letter in the snapshot.
    pub(crate) fn from_code(code: &str) -> Option<AccessLevel> {
        match code {
            "L" => Some(AccessLevel::List),
            "R" => Some(AccessLevel::Read),
            "T" => Some(AccessLevel::Tagging),
            "W" => Some(AccessLevel::Write),
            "P" => Some(AccessLevel::PermissionsManagement),
            _ => None,
        }
    }
}

impl fmt::Display for AccessLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A resource type an action acts on, as the action's row in the Reference lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionResourceType {
    /// The resource type's name, as in [`Service::resource_type`].
    pub name: &'static str,
    /// Whether every request names a resource of this type (`training-job*` in AWS's tables).
    pub required: bool,
    /// Condition keys that apply when the action acts on this type.
    pub condition_keys: Box<[&'static str]>,
}

/// One action of a service, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Action {
    pub(crate) name: &'static str,
    pub(crate) access_level: AccessLevel,
    pub(crate) resource_types: Box<[ActionResourceType]>,
    pub(crate) condition_keys: Box<[&'static str]>,
}

/// An action found in a [`Reference`], with its service.
///
/// Equal when they are the same action of the same reference. Displays as `sagemaker:CreateTrainingJob`.
#[derive(Clone, Copy)]
pub struct ActionRef<'r> {
    pub(crate) service: &'r Service,
    pub(crate) action: &'r Action,
}

impl<'r> ActionRef<'r> {
    /// The action's service.
    pub fn service(&self) -> &'r Service {
        self.service
    }

    /// The service prefix: `sagemaker`.
    pub fn service_prefix(&self) -> &'static str {
        self.service.prefix()
    }

    /// The action's name as AWS spells it: `CreateTrainingJob`.
    pub fn name(&self) -> &'static str {
        self.action.name
    }

    /// `service:Action` as AWS spells it: `sagemaker:CreateTrainingJob`.
    pub fn full_name(&self) -> String {
        format!("{}:{}", self.service.prefix(), self.action.name)
    }

    /// The action's access level.
    pub fn access_level(&self) -> AccessLevel {
        self.action.access_level
    }

    /// The resource types the action acts on, in AWS's order.
    pub fn resource_types(&self) -> &'r [ActionResourceType] {
        &self.action.resource_types
    }

    /// The action's own condition keys (those of its row in the Reference, not of its resource
    /// types).
    pub fn condition_keys(&self) -> &'r [&'static str] {
        &self.action.condition_keys
    }

    /// Whether the action names no resource type, so that a policy can only grant it with
    /// `"Resource": "*"` (`s3:ListAllMyBuckets`).
    pub fn is_wildcard_only(&self) -> bool {
        self.action.resource_types.is_empty()
    }

    /// The service's resource type behind one of [`ActionRef::resource_types`], by name.
    pub fn resource_type(&self, name: &str) -> Option<&'r ResourceType> {
        self.service.resource_type(name)
    }

    /// The resource types of the action that `arn` fits (see [`ResourceType::matches_arn`]).
    pub fn resource_types_for(&self, arn: &str) -> Vec<&'r ResourceType> {
        let mut out: Vec<&'r ResourceType> = Vec::new();
        for row in self.resource_types() {
            if let Some(rt) = self.resource_type(row.name)
                && !out.iter().any(|seen| std::ptr::eq(*seen, rt))
                && rt.matches_arn(arn)
            {
                out.push(rt);
            }
        }
        out
    }
}

impl PartialEq for ActionRef<'_> {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.action, other.action)
    }
}

impl Eq for ActionRef<'_> {}

impl Hash for ActionRef<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.service.prefix().hash(state);
        self.action.name.hash(state);
    }
}

impl fmt::Display for ActionRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.service.prefix(), self.action.name)
    }
}

impl fmt::Debug for ActionRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ActionRef({self})")
    }
}

/// Something that names an action: `"sagemaker:CreateTrainingJob"` (any case) or an
/// [`ActionRef`] already found. Lets [`Reference::resource_types_for`] and
/// [`Reference::action_supports_condition_key`] take either.
pub trait ActionName {
    /// The action in `reference`, if it has it.
    fn find_in<'r>(&self, reference: &'r Reference) -> Option<ActionRef<'r>>;
}

impl ActionName for str {
    fn find_in<'r>(&self, reference: &'r Reference) -> Option<ActionRef<'r>> {
        reference.action(self)
    }
}

impl ActionName for String {
    fn find_in<'r>(&self, reference: &'r Reference) -> Option<ActionRef<'r>> {
        reference.action(self)
    }
}

impl ActionName for ActionRef<'_> {
    fn find_in<'r>(&self, reference: &'r Reference) -> Option<ActionRef<'r>> {
        reference
            .service(self.service_prefix())?
            .action(self.name())
    }
}

/// Finds an action in actions sorted by [`cmp_ignore_case`].
pub(crate) fn find_action<'a>(actions: &'a [Action], name: &str) -> Option<&'a Action> {
    actions
        .binary_search_by(|a| cmp_ignore_case(a.name, name))
        .ok()
        .and_then(|i| actions.get(i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_levels_use_aws_words_and_rank_by_power() {
        assert_eq!(
            AccessLevel::PermissionsManagement.as_str(),
            "Permissions management"
        );
        assert_eq!(AccessLevel::List.rank(), 0);
        assert_eq!(AccessLevel::PermissionsManagement.rank(), 4);
        assert!(AccessLevel::Read < AccessLevel::Write);
        assert_eq!(
            AccessLevel::from_aws("permissions management"),
            Some(AccessLevel::PermissionsManagement)
        );
        assert_eq!(AccessLevel::from_aws("Admin"), None);
        assert_eq!(AccessLevel::from_code("T"), Some(AccessLevel::Tagging));
        assert_eq!(AccessLevel::from_code("X"), None);
    }
}
