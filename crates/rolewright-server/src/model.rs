//! The control plane's state: IAM users, access keys, roles, managed policies and STS sessions,
//! held in memory and persisted entity by entity (see `store`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A tag on an IAM entity, in the order the caller gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    /// Tag key.
    pub key: String,
    /// Tag value (may be empty).
    pub value: String,
}

/// `existing` with `new` written over it, as every service's tagging does: a key already there
/// takes the new value in its place, a new key goes last. Limits are the caller's.
pub fn merge_tags(existing: &[Tag], new: &[Tag]) -> Vec<Tag> {
    let mut merged = existing.to_vec();
    for t in new {
        match merged.iter_mut().find(|m| m.key == t.key) {
            Some(m) => m.value.clone_from(&t.value),
            None => merged.push(t.clone()),
        }
    }
    merged
}

/// An inline policy: its name and the document text exactly as submitted.
pub type InlinePolicies = BTreeMap<String, InlinePolicy>;

/// One inline policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InlinePolicy {
    /// The name as given (lookups ignore case).
    pub name: String,
    /// The document text as submitted.
    pub document: String,
}

/// An IAM user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Name as given.
    pub name: String,
    /// `/` or `/a/b/`.
    pub path: String,
    /// `AIDA...`.
    pub id: String,
    /// Unix seconds.
    pub created: i64,
    /// Tags.
    pub tags: Vec<Tag>,
    /// Permissions boundary policy ARN.
    pub boundary: Option<String>,
    /// Inline policies keyed by lowercase name.
    pub inline: InlinePolicies,
    /// Attached managed policy ARNs, in attachment order.
    pub attached: Vec<String>,
    /// The console password's profile, when one was set. The password itself is never stored:
    /// rolewright has no console to sign in to.
    #[serde(default)]
    pub login_profile: Option<LoginProfile>,
}

/// That a user has a console password, and whether it must be reset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginProfile {
    /// Unix seconds.
    pub created: i64,
    /// Whether the user must choose a new password at the next sign-in.
    pub reset_required: bool,
}

/// An IAM role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    /// Name as given.
    pub name: String,
    /// `/` or `/a/b/`.
    pub path: String,
    /// `AROA...`.
    pub id: String,
    /// Unix seconds.
    pub created: i64,
    /// Trust policy text as submitted.
    pub trust_policy: String,
    /// Description.
    pub description: Option<String>,
    /// Seconds, 3600..=43200.
    pub max_session_duration: u32,
    /// Tags.
    pub tags: Vec<Tag>,
    /// Permissions boundary policy ARN.
    pub boundary: Option<String>,
    /// Inline policies keyed by lowercase name.
    pub inline: InlinePolicies,
    /// Attached managed policy ARNs, in attachment order.
    pub attached: Vec<String>,
    /// When the role was last used by an authorized call (unix seconds) and in which region.
    #[serde(default)]
    pub last_used: Option<(i64, String)>,
}

/// An IAM group: its users get its policies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// Name as given.
    pub name: String,
    /// `/` or `/a/b/`.
    pub path: String,
    /// `AGPA...`.
    pub id: String,
    /// Unix seconds.
    pub created: i64,
    /// Member user names, in the order they were added.
    pub members: Vec<String>,
    /// Inline policies keyed by lowercase name.
    pub inline: InlinePolicies,
    /// Attached managed policy ARNs, in attachment order.
    pub attached: Vec<String>,
    /// Groups carry no tags in IAM; kept empty so that the shared policy operations can treat
    /// users, groups and roles alike.
    #[serde(default, skip_serializing)]
    pub tags: Vec<Tag>,
    /// Groups have no permissions boundary in IAM; always `None`.
    #[serde(default, skip_serializing)]
    pub boundary: Option<String>,
}

/// An instance profile: a container for one role, for EC2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceProfile {
    /// Name as given.
    pub name: String,
    /// `/` or `/a/b/`.
    pub path: String,
    /// `AIPA...`.
    pub id: String,
    /// Unix seconds.
    pub created: i64,
    /// Role names (at most one).
    pub roles: Vec<String>,
    /// Tags.
    pub tags: Vec<Tag>,
}

/// One version of a managed policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyVersion {
    /// `v1`, `v2`, ...
    pub id: String,
    /// The document text.
    pub document: String,
    /// Unix seconds.
    pub created: i64,
}

/// A managed policy, customer managed or AWS managed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedPolicy {
    /// Name.
    pub name: String,
    /// `/` or `/service-role/`.
    pub path: String,
    /// `ANPA...`.
    pub id: String,
    /// The ARN.
    pub arn: String,
    /// Description.
    pub description: Option<String>,
    /// Unix seconds.
    pub created: i64,
    /// Unix seconds of the last version change.
    pub updated: i64,
    /// Versions, oldest first.
    pub versions: Vec<PolicyVersion>,
    /// The default version id.
    pub default_version: String,
    /// The next version number to hand out.
    pub next_version: u32,
    /// Tags.
    pub tags: Vec<Tag>,
    /// AWS managed (read-only, not persisted).
    #[serde(default)]
    pub aws_managed: bool,
}

impl ManagedPolicy {
    /// The default version's document.
    pub fn default_document(&self) -> &str {
        self.versions
            .iter()
            .find(|v| v.id == self.default_version)
            .map_or("", |v| v.document.as_str())
    }
}

/// Whether an access key can be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyStatus {
    /// Usable.
    Active,
    /// Refused.
    Inactive,
}

impl KeyStatus {
    /// AWS's word.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "Active",
            KeyStatus::Inactive => "Inactive",
        }
    }
}

/// A long-term access key of a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessKey {
    /// `AKIA...`.
    pub id: String,
    /// The secret (stored in the database, which only its owner can read).
    pub secret: String,
    /// Owning user's name.
    pub user: String,
    /// Active or Inactive.
    pub status: KeyStatus,
    /// Unix seconds.
    pub created: i64,
}

/// Temporary credentials issued by `sts:AssumeRole`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// `ASIA...`.
    pub key_id: String,
    /// The secret.
    pub secret: String,
    /// The session token the caller must send as `X-Amz-Security-Token`.
    pub token: String,
    /// Unix seconds after which the credentials are refused.
    pub expires: i64,
    /// Unix seconds when issued.
    pub issued: i64,
    /// The assumed role's name.
    pub role: String,
    /// The role's id (for `AROA...:session`).
    pub role_id: String,
    /// The session name.
    pub session_name: String,
    /// The inline session policy, if any.
    pub policy: Option<String>,
    /// Managed session policy ARNs.
    pub policy_arns: Vec<String>,
    /// Session tags.
    pub tags: Vec<Tag>,
    /// Source identity.
    pub source_identity: Option<String>,
}

/// Everything the server knows, in memory. Maps are keyed by lowercase name (IAM names are
/// unique regardless of case) or by ARN / key id.
#[derive(Debug, Clone, Default)]
pub struct State {
    /// The account id.
    pub account: String,
    /// Users by lowercase name.
    pub users: BTreeMap<String, User>,
    /// Roles by lowercase name.
    pub roles: BTreeMap<String, Role>,
    /// Groups by lowercase name.
    pub groups: BTreeMap<String, Group>,
    /// Instance profiles by lowercase name.
    pub instance_profiles: BTreeMap<String, InstanceProfile>,
    /// Customer managed and AWS managed policies by ARN.
    pub policies: BTreeMap<String, ManagedPolicy>,
    /// Access keys by id.
    pub access_keys: BTreeMap<String, AccessKey>,
    /// STS sessions by access key id.
    pub sessions: BTreeMap<String, Session>,
    /// Whether the bootstrap administrator was created.
    pub bootstrapped: bool,
    /// The account alias, if one was set.
    pub account_alias: Option<String>,
    /// SageMaker Studio domains by id (`d-...`).
    pub domains: BTreeMap<String, Domain>,
    /// SageMaker user profiles by `DOMAIN_ID/NAME`.
    pub user_profiles: BTreeMap<String, UserProfile>,
    /// Whether the account's SageMaker Service Catalog portfolio is enabled.
    pub sagemaker_portfolio: bool,
    /// The key presigned Studio URLs are signed with (hex), made on first start.
    pub studio_url_key: Option<String>,
    /// SageMaker shared spaces by `DOMAIN_ID/NAME`.
    pub spaces: BTreeMap<String, Space>,
    /// SageMaker apps by `DOMAIN_ID/OWNER/TYPE/NAME` (owner: a user profile or a space); deleted
    /// apps stay, as AWS keeps listing them.
    pub apps: BTreeMap<String, App>,
    /// Moves whenever a committed change can alter a decision (a policy document, an attachment,
    /// a boundary, a group membership, an entity deleted or recreated); cached policy sets carry
    /// the generation they were built at. Tag edits, sessions, access keys and last-used times
    /// leave it where it is: those are read afresh for every request.
    pub generation: u64,
    /// Service Catalog portfolios by id (`port-...`), the imported SageMaker one included.
    pub portfolios: BTreeMap<String, Portfolio>,
    /// Service Catalog products by id (`prod-...`).
    pub products: BTreeMap<String, Product>,
    /// Service Catalog constraints by id (`cons-...`).
    pub constraints: BTreeMap<String, CatalogConstraint>,
    /// The first answer of each Service Catalog creation, by `OPERATION/IdempotencyToken`.
    pub catalog_tokens: BTreeMap<String, serde_json::Value>,
    /// CloudFormation stacks by stack id (the stack ARN), deleted ones included.
    pub stacks: BTreeMap<String, crate::cloudformation::Stack>,
    /// Service Catalog provisioned products by id (`pp-...`), until terminated.
    pub provisioned_products: BTreeMap<String, ProvisionedProduct>,
    /// Service Catalog records by id (`rec-...`): every provisioning, update and termination.
    pub records: BTreeMap<String, CatalogRecord>,
}

/// A SageMaker Studio domain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Domain {
    /// `d-` and 12 lowercase letters and digits.
    pub id: String,
    /// The name given.
    pub name: String,
    /// The region it was created in.
    pub region: String,
    /// `IAM` or `SSO`.
    pub auth_mode: String,
    /// Unix milliseconds.
    pub created_ms: i64,
    /// Unix milliseconds of the last change.
    pub modified_ms: i64,
    /// The settings as given (`DefaultUserSettings`, `DomainSettings`, `SubnetIds`, `VpcId`,
    /// `AppNetworkAccessType`, `KmsKeyId`, `DefaultSpaceSettings`, ...), returned by
    /// DescribeDomain as they were set.
    pub settings: serde_json::Map<String, serde_json::Value>,
    /// The home EFS file system id AWS would create.
    pub home_efs: String,
    /// Tags.
    pub tags: Vec<Tag>,
}

/// A SageMaker Studio user profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserProfile {
    /// The domain's id.
    pub domain_id: String,
    /// The name given.
    pub name: String,
    /// Unix milliseconds.
    pub created_ms: i64,
    /// Unix milliseconds of the last change.
    pub modified_ms: i64,
    /// `UserSettings` as given (the execution role, `StudioWebPortalSettings`, ...).
    pub settings: serde_json::Map<String, serde_json::Value>,
    /// The POSIX uid of the user's home directory.
    pub home_uid: String,
    /// `SingleSignOnUserIdentifier` and `SingleSignOnUserValue`, for SSO domains.
    pub single_sign_on: Option<(String, String)>,
    /// Tags.
    pub tags: Vec<Tag>,
}

/// A SageMaker Studio shared space.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Space {
    /// The domain's id.
    pub domain_id: String,
    /// The name given.
    pub name: String,
    /// Unix milliseconds.
    pub created_ms: i64,
    /// Unix milliseconds of the last change.
    pub modified_ms: i64,
    /// `SpaceSettings`, `OwnershipSettings`, `SpaceSharingSettings` and `SpaceDisplayName` as
    /// given.
    pub settings: serde_json::Map<String, serde_json::Value>,
    /// Tags.
    pub tags: Vec<Tag>,
}

/// A SageMaker Studio app of a user profile or a space.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct App {
    /// The domain's id.
    pub domain_id: String,
    /// The user profile that owns it, if any.
    pub user_profile: Option<String>,
    /// The space that owns it, if any.
    pub space: Option<String>,
    /// `JupyterServer`, `KernelGateway`, `JupyterLab`, ...
    pub app_type: String,
    /// The name given (`default` for a JupyterServer).
    pub name: String,
    /// Unix milliseconds.
    pub created_ms: i64,
    /// Unix milliseconds when it was deleted.
    pub deleted_ms: Option<i64>,
    /// `ResourceSpec` as given.
    pub resource_spec: Option<serde_json::Value>,
    /// Tags.
    pub tags: Vec<Tag>,
}

/// A Service Catalog portfolio, or the AWS-owned SageMaker portfolio the switch imports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Portfolio {
    /// `port-` and 13 lowercase letters and digits.
    pub id: String,
    /// The region it was created (or imported) in.
    pub region: String,
    /// `DisplayName`.
    pub display_name: String,
    /// `Description`.
    pub description: Option<String>,
    /// `ProviderName`.
    pub provider_name: String,
    /// Unix milliseconds.
    pub created_ms: i64,
    /// Tags.
    pub tags: Vec<Tag>,
    /// Associated principals, in association order.
    pub principals: Vec<PortfolioPrincipal>,
    /// Associated products, each with the launch path it opens.
    pub products: Vec<PortfolioProduct>,
    /// The AWS-owned SageMaker portfolio (shown only while the switch is on).
    #[serde(default)]
    pub imported: bool,
}

/// A principal associated with a portfolio.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortfolioPrincipal {
    /// An IAM ARN, or an account-less pattern for `IAM_PATTERN`.
    pub arn: String,
    /// `IAM` or `IAM_PATTERN`.
    pub principal_type: String,
}

/// A product associated with a portfolio.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortfolioProduct {
    /// `prod-...`.
    pub product_id: String,
    /// The launch path id (`lpv3-...`).
    pub path_id: String,
}

/// A Service Catalog product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Product {
    /// `prod-...`.
    pub id: String,
    /// `prodview-...`.
    pub view_id: String,
    /// The region it was created in.
    pub region: String,
    /// `Name`.
    pub name: String,
    /// `Owner`.
    pub owner: String,
    /// `Description` (the view's `ShortDescription`).
    pub description: Option<String>,
    /// `Distributor`.
    pub distributor: Option<String>,
    /// `SupportDescription`.
    pub support_description: Option<String>,
    /// `SupportEmail`.
    pub support_email: Option<String>,
    /// `SupportUrl`.
    pub support_url: Option<String>,
    /// `CLOUD_FORMATION_TEMPLATE`.
    pub product_type: String,
    /// Unix milliseconds.
    pub created_ms: i64,
    /// Tags.
    pub tags: Vec<Tag>,
    /// Its versions, oldest first.
    pub artifacts: Vec<ProvisioningArtifact>,
}

/// A version of a product: its template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProvisioningArtifact {
    /// `pa-...`.
    pub id: String,
    /// `Name`.
    pub name: Option<String>,
    /// `Description`.
    pub description: Option<String>,
    /// `CLOUD_FORMATION_TEMPLATE`.
    pub artifact_type: String,
    /// Unix milliseconds.
    pub created_ms: i64,
    /// The template text as read.
    pub template: String,
    /// `Info.LoadTemplateFromURL` as given, answered as `Info.TemplateUrl`.
    #[serde(default)]
    pub template_url: Option<String>,
    /// `Active`: whether end users may launch it (true unless an administrator said otherwise).
    #[serde(default = "artifact_active")]
    pub active: bool,
    /// `Guidance`: `DEFAULT` or `DEPRECATED`.
    #[serde(default = "artifact_guidance")]
    pub guidance: String,
}

fn artifact_active() -> bool {
    true
}

fn artifact_guidance() -> String {
    "DEFAULT".into()
}

/// A Service Catalog constraint on a product in a portfolio.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogConstraint {
    /// `cons-...`.
    pub id: String,
    /// `LAUNCH`, `NOTIFICATION`, `RESOURCE_UPDATE`, `STACKSET` or `TEMPLATE`.
    pub constraint_type: String,
    /// `Description`.
    pub description: Option<String>,
    /// `port-...`.
    pub portfolio_id: String,
    /// `prod-...`.
    pub product_id: String,
    /// `Parameters` as given (JSON text).
    pub parameters: String,
    /// Unix milliseconds.
    pub created_ms: i64,
}

/// A product provisioned through Service Catalog: a `CFN_STACK`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProvisionedProduct {
    /// `pp-` and 13 lowercase letters and digits.
    pub id: String,
    /// `ProvisionedProductName`, unique in the account and region.
    pub name: String,
    /// The region it was provisioned in.
    pub region: String,
    /// `AVAILABLE`, `UNDER_CHANGE`, `TAINTED`, `ERROR` or `PLAN_IN_PROGRESS`.
    pub status: String,
    /// Why it is `ERROR` or `TAINTED`.
    pub status_message: Option<String>,
    /// Unix milliseconds.
    pub created_ms: i64,
    /// The `ProvisionToken` it was provisioned with.
    pub idempotency_token: String,
    /// The last record of any type.
    pub last_record_id: String,
    /// The last provisioning or update record.
    pub last_provisioning_record_id: String,
    /// The last provisioning or update record that succeeded.
    pub last_successful_provisioning_record_id: Option<String>,
    /// `prod-...`.
    pub product_id: String,
    /// `pa-...`: the version provisioned.
    pub artifact_id: String,
    /// The launch path it was provisioned through.
    pub path_id: String,
    /// The launch role of the path's LAUNCH constraint, if any.
    pub launch_role_arn: Option<String>,
    /// The stack's id, once it exists.
    pub stack_id: Option<String>,
    /// The stack's name, `SC-<account>-<pp id>`.
    pub stack_name: String,
    /// Tags of the request (and of the stack).
    pub tags: Vec<Tag>,
    /// The provisioning principal: a user's or a role's ARN (`UserArn`).
    pub user_arn: String,
    /// The caller's own ARN, a session's included (`UserArnSession`).
    pub user_arn_session: String,
    /// The parameter values it was last provisioned with, for `UsePreviousValue`.
    pub parameters: BTreeMap<String, String>,
}

/// A Service Catalog record: one provisioning, update or termination of a provisioned product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogRecord {
    /// `rec-` and 13 lowercase letters and digits.
    pub id: String,
    /// `PROVISION_PRODUCT`, `UPDATE_PROVISIONED_PRODUCT` or `TERMINATE_PROVISIONED_PRODUCT`.
    pub record_type: String,
    /// `CREATED`, `IN_PROGRESS`, `IN_PROGRESS_IN_ERROR`, `SUCCEEDED` or `FAILED`.
    pub status: String,
    /// `pp-...`.
    pub provisioned_product_id: String,
    /// Its name.
    pub provisioned_product_name: String,
    /// The region.
    pub region: String,
    /// Unix milliseconds.
    pub created_ms: i64,
    /// Unix milliseconds.
    pub updated_ms: i64,
    /// `prod-...`.
    pub product_id: String,
    /// `pa-...`.
    pub artifact_id: String,
    /// The launch path.
    pub path_id: String,
    /// The launch role it ran as, if any.
    pub launch_role_arn: Option<String>,
    /// `RecordErrors`: code and description.
    pub errors: Vec<(String, String)>,
    /// `RecordTags`.
    pub tags: Vec<Tag>,
    /// `RecordOutputs`: key, value, description.
    pub outputs: Vec<(String, String, Option<String>)>,
    /// Who asked for it: a user's or a role's ARN.
    pub user_arn: String,
    /// Who asked for it: a user's or a session's ARN.
    pub user_arn_session: String,
    /// The id of the request that asked for it, which the audit records of its calls carry.
    pub request_id: String,
}

/// What a user's, role's or group's permissions are made of; equal parts mean equal decisions.
type Grants<'s> = (
    &'s str,
    &'s InlinePolicies,
    &'s [String],
    Option<&'s str>,
    &'s [String],
);

fn user_grants(u: &User) -> Grants<'_> {
    (&u.id, &u.inline, &u.attached, u.boundary.as_deref(), &[])
}

fn role_grants(r: &Role) -> Grants<'_> {
    (&r.id, &r.inline, &r.attached, r.boundary.as_deref(), &[])
}

fn group_grants(g: &Group) -> Grants<'_> {
    (&g.id, &g.inline, &g.attached, None, &g.members)
}

fn policy_grants(p: &ManagedPolicy) -> (&str, &str, &str) {
    (&p.id, &p.default_version, p.default_document())
}

/// Inserts or removes one entity of a map, saying whether the permissions it confers changed.
fn replace<T: serde::de::DeserializeOwned>(
    map: &mut BTreeMap<String, T>,
    id: &str,
    body: Option<&str>,
    same_grants: impl Fn(&T, &T) -> bool,
) -> Result<bool, String> {
    match body {
        Some(body) => {
            let new: T = serde_json::from_str(body).map_err(|e| e.to_string())?;
            Ok(match map.insert(id.to_string(), new) {
                Some(old) => map.get(id).is_none_or(|new| !same_grants(&old, new)),
                None => true,
            })
        }
        None => Ok(map.remove(id).is_some()),
    }
}

impl State {
    /// Applies one stored change (as read back from the database, or just committed) and says
    /// whether it can alter a decision. Unknown kinds are ignored, so that an older binary reads
    /// a newer database's entities it knows.
    pub fn apply_change(&mut self, change: &Change) -> Result<bool, String> {
        let (kind, id, body) = match change {
            Change::Put { kind, id, body } => (*kind, id.as_str(), Some(body.as_str())),
            Change::Delete { kind, id } => (*kind, id.as_str(), None),
        };
        self.apply_stored(kind, id, body)
    }

    /// [`State::apply_change`] on a stored row: its kind, id, and body (`None` for a deletion).
    pub fn apply_stored(
        &mut self,
        entity_kind: &str,
        id: &str,
        body: Option<&str>,
    ) -> Result<bool, String> {
        match entity_kind {
            kind::META => {
                match (id, body) {
                    ("account", Some(b)) => self.account = b.to_string(),
                    ("bootstrapped", b) => self.bootstrapped = b.is_some(),
                    ("account_alias", b) => self.account_alias = b.map(str::to_string),
                    ("sagemaker_portfolio", b) => self.sagemaker_portfolio = b == Some("true"),
                    ("studio_url_key", b) => self.studio_url_key = b.map(str::to_string),
                    _ => {}
                }
                Ok(false)
            }
            kind::USER => replace(&mut self.users, id, body, |a, b| {
                user_grants(a) == user_grants(b)
            }),
            kind::ROLE => replace(&mut self.roles, id, body, |a, b| {
                role_grants(a) == role_grants(b)
            }),
            kind::GROUP => replace(&mut self.groups, id, body, |a, b| {
                group_grants(a) == group_grants(b)
            }),
            kind::POLICY => replace(&mut self.policies, id, body, |a, b| {
                policy_grants(a) == policy_grants(b)
            }),
            // Read afresh for every request: no cached decision depends on them.
            kind::ACCESS_KEY => {
                replace(&mut self.access_keys, id, body, |_, _| true).map(|_| false)
            }
            kind::SESSION => replace(&mut self.sessions, id, body, |_, _| true).map(|_| false),
            kind::INSTANCE_PROFILE => {
                replace(&mut self.instance_profiles, id, body, |_, _| true).map(|_| false)
            }
            // SageMaker resources: their tags and settings are read per request.
            kind::DOMAIN => replace(&mut self.domains, id, body, |_, _| true).map(|_| false),
            kind::USER_PROFILE => {
                replace(&mut self.user_profiles, id, body, |_, _| true).map(|_| false)
            }
            kind::SPACE => replace(&mut self.spaces, id, body, |_, _| true).map(|_| false),
            kind::APP => replace(&mut self.apps, id, body, |_, _| true).map(|_| false),
            // Service Catalog: portfolio access is decided per request, not by policies.
            kind::CATALOG_PORTFOLIO => {
                replace(&mut self.portfolios, id, body, |_, _| true).map(|_| false)
            }
            kind::CATALOG_PRODUCT => {
                replace(&mut self.products, id, body, |_, _| true).map(|_| false)
            }
            kind::CATALOG_CONSTRAINT => {
                replace(&mut self.constraints, id, body, |_, _| true).map(|_| false)
            }
            kind::CATALOG_TOKEN => {
                replace(&mut self.catalog_tokens, id, body, |_, _| true).map(|_| false)
            }
            // Stacks are records of what was created: the entities they made carry the grants.
            kind::STACK => replace(&mut self.stacks, id, body, |_, _| true).map(|_| false),
            kind::PROVISIONED_PRODUCT => {
                replace(&mut self.provisioned_products, id, body, |_, _| true).map(|_| false)
            }
            kind::CATALOG_RECORD => {
                replace(&mut self.records, id, body, |_, _| true).map(|_| false)
            }
            _ => Ok(false),
        }
    }
}

impl State {
    /// The ARN of a user.
    pub fn user_arn(&self, user: &User) -> String {
        format!(
            "arn:aws:iam::{}:user{}{}",
            self.account, user.path, user.name
        )
    }

    /// The ARN of a role.
    pub fn role_arn(&self, role: &Role) -> String {
        format!(
            "arn:aws:iam::{}:role{}{}",
            self.account, role.path, role.name
        )
    }

    /// The ARN of a group.
    pub fn group_arn(&self, group: &Group) -> String {
        format!(
            "arn:aws:iam::{}:group{}{}",
            self.account, group.path, group.name
        )
    }

    /// The ARN of an instance profile.
    pub fn instance_profile_arn(&self, profile: &InstanceProfile) -> String {
        format!(
            "arn:aws:iam::{}:instance-profile{}{}",
            self.account, profile.path, profile.name
        )
    }

    /// A group by name, ignoring case.
    pub fn group(&self, name: &str) -> Option<&Group> {
        self.groups.get(&name.to_ascii_lowercase())
    }

    /// The groups a user belongs to.
    pub fn groups_of<'s>(&'s self, user: &'s str) -> impl Iterator<Item = &'s Group> + 's {
        self.groups
            .values()
            .filter(move |g| g.members.iter().any(|m| m.eq_ignore_ascii_case(user)))
    }

    /// A user by name, ignoring case.
    pub fn user(&self, name: &str) -> Option<&User> {
        self.users.get(&name.to_ascii_lowercase())
    }

    /// A role by name, ignoring case.
    pub fn role(&self, name: &str) -> Option<&Role> {
        self.roles.get(&name.to_ascii_lowercase())
    }

    /// How many users, groups and roles a managed policy is attached to.
    pub fn attachment_count(&self, arn: &str) -> usize {
        let attached = |list: &[String]| list.iter().any(|a| a == arn);
        let users = self.users.values().filter(|u| attached(&u.attached));
        let groups = self.groups.values().filter(|g| attached(&g.attached));
        let roles = self.roles.values().filter(|r| attached(&r.attached));
        users.count() + groups.count() + roles.count()
    }

    /// How many users and roles use a managed policy as their permissions boundary.
    pub fn boundary_count(&self, arn: &str) -> usize {
        let users = self
            .users
            .values()
            .filter(|u| u.boundary.as_deref() == Some(arn));
        let roles = self
            .roles
            .values()
            .filter(|r| r.boundary.as_deref() == Some(arn));
        users.count() + roles.count()
    }
}

/// A persisted change: the store writes these in one transaction per batch.
#[derive(Debug, Clone)]
pub enum Change {
    /// Insert or replace an entity.
    Put {
        /// Entity kind: `user`, `role`, `policy`, `access_key`, `session`, `meta`.
        kind: &'static str,
        /// Its key within the kind.
        id: String,
        /// Its JSON.
        body: String,
    },
    /// Delete an entity.
    Delete {
        /// Entity kind.
        kind: &'static str,
        /// Its key within the kind.
        id: String,
    },
}

impl Change {
    /// A put of a serializable entity.
    pub fn put<T: Serialize>(kind: &'static str, id: impl Into<String>, value: &T) -> Change {
        Change::Put {
            kind,
            id: id.into(),
            body: serde_json::to_string(value).unwrap_or_default(),
        }
    }

    /// A delete.
    pub fn delete(kind: &'static str, id: impl Into<String>) -> Change {
        Change::Delete {
            kind,
            id: id.into(),
        }
    }
}

/// Entity kinds as stored.
pub mod kind {
    /// IAM users.
    pub const USER: &str = "user";
    /// IAM roles.
    pub const ROLE: &str = "role";
    /// Customer managed policies.
    pub const POLICY: &str = "policy";
    /// Access keys.
    pub const ACCESS_KEY: &str = "access_key";
    /// STS sessions.
    pub const SESSION: &str = "session";
    /// IAM groups.
    pub const GROUP: &str = "group";
    /// Instance profiles.
    pub const INSTANCE_PROFILE: &str = "instance_profile";
    /// Account metadata.
    pub const META: &str = "meta";
    /// SageMaker domains.
    pub const DOMAIN: &str = "sagemaker_domain";
    /// SageMaker user profiles.
    pub const USER_PROFILE: &str = "sagemaker_user_profile";
    /// SageMaker spaces.
    pub const SPACE: &str = "sagemaker_space";
    /// SageMaker apps.
    pub const APP: &str = "sagemaker_app";
    /// Service Catalog portfolios.
    pub const CATALOG_PORTFOLIO: &str = "servicecatalog_portfolio";
    /// Service Catalog products.
    pub const CATALOG_PRODUCT: &str = "servicecatalog_product";
    /// Service Catalog constraints.
    pub const CATALOG_CONSTRAINT: &str = "servicecatalog_constraint";
    /// First answers of Service Catalog creations by idempotency token.
    pub const CATALOG_TOKEN: &str = "servicecatalog_token";
    /// CloudFormation stacks.
    pub const STACK: &str = "cloudformation_stack";
    /// Service Catalog provisioned products.
    pub const PROVISIONED_PRODUCT: &str = "servicecatalog_provisioned_product";
    /// Service Catalog records.
    pub const CATALOG_RECORD: &str = "servicecatalog_record";
}
