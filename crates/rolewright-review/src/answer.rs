//! The answers of a review, as data: who can, with which statements and by which path. Their
//! serde form is the JSON that `rolewright who-can`, `can` and `access-review` print.

use serde::Serialize;

/// How one principal becomes another, or gains permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Via {
    /// `sts:AssumeRole`: the role's trust policy and the caller's policies allow it.
    AssumeRole,
    /// `iam:PassRole` to SageMaker with a SageMaker action that runs code as the role.
    PassRole,
    /// Writing permissions: an inline policy, an attachment, a policy version, a boundary.
    PolicyEdit,
    /// `iam:UpdateAssumeRolePolicy`, then `sts:AssumeRole`.
    TrustEdit,
    /// `iam:AddUserToGroup`: the user gains the group's policies.
    GroupMembership,
    /// New credentials for another user: an access key or a console password.
    Credentials,
}

impl Via {
    /// The name used in reports (`assume-role`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Via::AssumeRole => "assume-role",
            Via::PassRole => "pass-role",
            Via::PolicyEdit => "policy-edit",
            Via::TrustEdit => "trust-edit",
            Via::GroupMembership => "group-membership",
            Via::Credentials => "credentials",
        }
    }
}

/// One step of a path: the action taken and the resource it is taken on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Step {
    /// The kind of step.
    pub via: Via,
    /// The action that takes it (`sts:AssumeRole`, `sagemaker:CreateTrainingJob`, ...).
    pub action: String,
    /// What it is taken on: the role assumed or passed, the user or group or policy changed.
    pub resource: String,
}

/// A statement that grants a request.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct StatementRef {
    /// The policy: a managed policy's ARN; `ENTITY-ARN#NAME` for an inline policy;
    /// `RESOURCE-ARN#resource-policy` and `ROLE-ARN#trust-policy` for resource policies;
    /// [`WRITTEN_BY_PATH`] for the policy a `policy-edit` step writes.
    pub policy: String,
    /// The statement's `Sid`.
    pub sid: Option<String>,
    /// The statement's index in its policy (from 0).
    pub index: usize,
}

/// The name of the policy that a path's `policy-edit` step writes (or attaches): it allows
/// everything, limited only by the boundary and the `Deny` statements the principal has.
pub const WRITTEN_BY_PATH: &str = "(the policy written by the path's policy-edit step)";

/// One principal that can perform the request of a who-can.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Access {
    /// The principal: an IAM user or role ARN; for resource policies also an account
    /// (`arn:aws:iam::ACCOUNT:root`), a service principal or `*`.
    pub principal: String,
    /// Whether its own policies allow the request, without a path.
    pub direct: bool,
    /// The shortest path to a principal (or gained permissions) that can, empty when direct.
    pub path: Vec<Step>,
    /// The statements that grant the request at the end of the path.
    pub statements: Vec<StatementRef>,
}

/// The answer of `can`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CanAnswer {
    /// The principal asked about.
    pub principal: String,
    /// Whether it can, directly or by a path.
    pub can: bool,
    /// The shortest path, empty when direct or when it cannot.
    pub path: Vec<Step>,
    /// The statements that grant the request at the end of the path.
    pub statements: Vec<StatementRef>,
}

/// What the access review found about a principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    /// Already an administrator (see [`crate::AccessAnalysis::access_review`]).
    Administrator,
    /// Not an administrator, but a path makes it one.
    CanBecomeAdministrator,
}

impl FindingKind {
    /// The name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Administrator => "administrator",
            FindingKind::CanBecomeAdministrator => "can-become-administrator",
        }
    }
}

/// One finding of the access review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The principal's ARN.
    pub principal: String,
    /// What was found.
    pub finding: FindingKind,
    /// For `can-become-administrator`, the shortest path; empty for administrators.
    pub path: Vec<Step>,
}
