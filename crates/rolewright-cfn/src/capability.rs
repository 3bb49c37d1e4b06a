//! The capabilities a template needs before CloudFormation runs it: `CAPABILITY_IAM` for IAM
//! resources, `CAPABILITY_NAMED_IAM` when one of them has a custom name.

use crate::template::Template;

/// A capability a stack operation must acknowledge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Capability {
    /// `CAPABILITY_IAM`: the template creates IAM resources.
    Iam,
    /// `CAPABILITY_NAMED_IAM`: it creates IAM resources with custom names.
    NamedIam,
}

impl Capability {
    /// The name as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Iam => "CAPABILITY_IAM",
            Capability::NamedIam => "CAPABILITY_NAMED_IAM",
        }
    }

    /// Whether `granted` (the request's `Capabilities`) covers this one: `CAPABILITY_NAMED_IAM`
    /// covers `CAPABILITY_IAM` as well.
    pub fn granted_by<S: AsRef<str>>(self, granted: &[S]) -> bool {
        granted.iter().any(|g| {
            let g = g.as_ref();
            g == Capability::NamedIam.as_str()
                || (self == Capability::Iam && g == Capability::Iam.as_str())
        })
    }

    /// The `InsufficientCapabilities` message when it is missing (as the AWS CLI shows it:
    /// `Requires capabilities : [CAPABILITY_NAMED_IAM]`; not confirmed by a quoted source).
    pub fn missing_message(self) -> String {
        format!("Requires capabilities : [{}]", self.as_str())
    }
}

/// The IAM types and, for each, the property that gives the resource a custom name.
const IAM_TYPES: &[(&str, Option<&str>)] = &[
    ("AWS::IAM::AccessKey", None),
    ("AWS::IAM::Group", Some("GroupName")),
    ("AWS::IAM::InstanceProfile", Some("InstanceProfileName")),
    ("AWS::IAM::ManagedPolicy", Some("ManagedPolicyName")),
    ("AWS::IAM::Policy", None),
    ("AWS::IAM::Role", Some("RoleName")),
    ("AWS::IAM::User", Some("UserName")),
    ("AWS::IAM::UserToGroupAddition", None),
];

/// The capability a template needs, and the resource types that need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapabilityRequirement {
    /// The capability.
    pub capability: Capability,
    /// The resource types that need it, sorted (GetTemplateSummary's `CapabilitiesReason`:
    /// `The following resource(s) require capabilities: [AWS::IAM::Role]`).
    pub resource_types: Vec<String>,
}

impl CapabilityRequirement {
    /// `CapabilitiesReason` as GetTemplateSummary and ValidateTemplate give it.
    pub fn reason(&self) -> String {
        format!(
            "The following resource(s) require capabilities: [{}]",
            self.resource_types.join(", ")
        )
    }
}

impl Template {
    /// The capability the template needs, if any; resources count whatever their condition.
    pub fn required_capability(&self) -> Option<CapabilityRequirement> {
        let mut capability = None;
        let mut types = std::collections::BTreeSet::new();
        for resource in &self.resources {
            let Some((_, name_property)) = IAM_TYPES.iter().find(|(t, _)| *t == resource.type_name)
            else {
                continue;
            };
            let named =
                name_property.is_some_and(|p| resource.properties.iter().any(|(k, _)| k == p));
            let needed = if named {
                Capability::NamedIam
            } else {
                Capability::Iam
            };
            capability = capability.max(Some(needed));
            types.insert(resource.type_name.clone());
        }
        capability.map(|capability| CapabilityRequirement {
            capability,
            resource_types: types.into_iter().collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_iam_covers_iam() {
        assert!(Capability::Iam.granted_by(&["CAPABILITY_NAMED_IAM"]));
        assert!(!Capability::NamedIam.granted_by(&["CAPABILITY_IAM"]));
        assert!(!Capability::Iam.granted_by::<&str>(&[]));
    }
}
