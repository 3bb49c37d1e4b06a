//! Updates: each resource classified as create, update, replace, delete or unchanged from the
//! schemas' create-only properties, with values that depend on replaced resources counted as
//! changed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

mod common;

use common::{link, parse};
use rolewright_cfn::{
    ChangeAction, CreatedResources, Plan, PreviousResource, Replacement, return_values,
};
use serde_json::json;

/// Creates every resource of `plan` as a provider would: the physical id is the logical id in
/// lowercase, each attribute `<id>-<attribute>`.
fn deploy(plan: &Plan) -> Vec<PreviousResource> {
    let mut created = CreatedResources::new();
    let mut out = Vec::new();
    for r in &plan.resources {
        let properties = plan.resolve(&r.logical_id, &created).unwrap();
        let physical_id = r.logical_id.to_lowercase();
        let attributes: Vec<(String, serde_json::Value)> = return_values(&r.type_name)
            .unwrap()
            .attributes
            .iter()
            .map(|a| (a.to_string(), json!(format!("{physical_id}-{a}"))))
            .collect();
        created.insert(&r.logical_id, &physical_id, attributes.clone());
        out.push(PreviousResource {
            logical_id: r.logical_id.clone(),
            type_name: r.type_name.clone(),
            physical_id,
            properties,
            attributes: attributes.into_iter().collect(),
        });
    }
    out
}

fn template(
    role_name: &str,
    description: &str,
    domain_name: &str,
    vpc: &str,
    rstudio_spec: &str,
    extra: &str,
) -> String {
    format!(
        "Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      RoleName: {role_name}
      Description: {description}
      MaxSessionDuration: 3600
      AssumeRolePolicyDocument: {{Version: '2012-10-17', Statement: []}}
  Inline:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: inline
      PolicyDocument: {{Version: '2012-10-17', Statement: []}}
      Roles: [!Ref Role]
  Domain:
    Type: AWS::SageMaker::Domain
    Properties:
      DomainName: {domain_name}
      AuthMode: IAM
      VpcId: {vpc}
      SubnetIds: [subnet-1]
      DefaultUserSettings:
        ExecutionRole: !GetAtt Role.Arn
      DomainSettings:
        RStudioServerProDomainSettings:
          DomainExecutionRoleArn: arn:aws:iam::111122223333:role/rstudio
          DefaultResourceSpec:
            InstanceType: {rstudio_spec}
  Profile:
    Type: AWS::SageMaker::UserProfile
    Properties:
      DomainId: !Ref Domain
      UserProfileName: alice
{extra}"
    )
}

fn base() -> String {
    template("ds-role", "v1", "studio", "vpc-1", "system", "")
}

fn actions(old: &str, new: &str) -> Vec<(String, ChangeAction, Option<Replacement>)> {
    let previous = deploy(&link(&parse(old), &[]));
    let plan = link(&parse(new), &[]);
    plan.changes(&previous)
        .unwrap()
        .into_iter()
        .map(|c| (c.logical_id, c.action, c.replacement))
        .collect()
}

fn row(
    id: &str,
    action: ChangeAction,
    replacement: Option<Replacement>,
) -> (String, ChangeAction, Option<Replacement>) {
    (id.to_string(), action, replacement)
}

#[test]
fn the_same_template_changes_nothing() {
    assert_eq!(
        actions(
            &base(),
            &base().replace("MaxSessionDuration: 3600", "MaxSessionDuration: '3600'")
        ),
        [
            row("Role", ChangeAction::Unchanged, None),
            row("Inline", ChangeAction::Unchanged, None),
            row("Domain", ChangeAction::Unchanged, None),
            row("Profile", ChangeAction::Unchanged, None),
        ]
    );
}

#[test]
fn a_mutable_property_updates_in_place() {
    let previous = deploy(&link(&parse(&base()), &[]));
    let plan = link(
        &parse(&template("ds-role", "v2", "studio", "vpc-1", "system", "")),
        &[],
    );
    let changes = plan.changes(&previous).unwrap();
    assert_eq!(changes[0].action, ChangeAction::Update);
    assert_eq!(changes[0].replacement, Some(Replacement::Never));
    assert_eq!(changes[0].physical_id.as_deref(), Some("role"));
    let detail = &changes[0].details[0];
    assert_eq!(
        (detail.path.as_str(), detail.replacement, detail.dynamic),
        ("Description", Replacement::Never, false)
    );
    assert_eq!(
        (detail.before.clone(), detail.after.clone()),
        (Some(json!("v1")), Some(json!("v2")))
    );
    assert!(
        changes[1..]
            .iter()
            .all(|c| c.action == ChangeAction::Unchanged)
    );
}

#[test]
fn a_create_only_property_replaces_and_its_dependents_follow() {
    // A new role name replaces the role; the policy that names it updates (its Roles is not
    // create-only) and the domain that uses its ARN updates too.
    assert_eq!(
        actions(
            &base(),
            &template("ds-role-2", "v1", "studio", "vpc-1", "system", "")
        ),
        [
            row("Role", ChangeAction::Replace, Some(Replacement::Always)),
            row("Inline", ChangeAction::Update, Some(Replacement::Never)),
            row("Domain", ChangeAction::Update, Some(Replacement::Never)),
            row("Profile", ChangeAction::Unchanged, None),
        ]
    );
    // A new domain name replaces the domain, and the profile, whose DomainId is create-only
    // and refers to it, is replaced as well.
    let previous = deploy(&link(&parse(&base()), &[]));
    let plan = link(
        &parse(&template(
            "ds-role", "v1", "studio-2", "vpc-1", "system", "",
        )),
        &[],
    );
    let changes = plan.changes(&previous).unwrap();
    assert_eq!(changes[2].action, ChangeAction::Replace);
    assert_eq!(changes[3].action, ChangeAction::Replace);
    let detail = &changes[3].details[0];
    assert_eq!(
        (detail.path.as_str(), detail.dynamic, detail.after.clone()),
        ("DomainId", true, None)
    );
}

#[test]
fn nested_and_conditional_create_only_properties() {
    // DomainSettings/RStudioServerProDomainSettings/DefaultResourceSpec is create-only.
    let previous = deploy(&link(&parse(&base()), &[]));
    let plan = link(
        &parse(&template(
            "ds-role",
            "v1",
            "studio",
            "vpc-1",
            "ml.t3.medium",
            "",
        )),
        &[],
    );
    let domain = plan.changes(&previous).unwrap().remove(2);
    assert_eq!(
        (domain.action, domain.replacement),
        (ChangeAction::Replace, Some(Replacement::Always))
    );
    assert_eq!(
        domain.details[0].path,
        "DomainSettings/RStudioServerProDomainSettings/DefaultResourceSpec"
    );
    // Another nested setting of DomainSettings is not.
    let changed = base().replace(
        "arn:aws:iam::111122223333:role/rstudio",
        "arn:aws:iam::111122223333:role/other",
    );
    assert_eq!(
        actions(&base(), &changed)[2],
        row("Domain", ChangeAction::Update, Some(Replacement::Never))
    );
    // VpcId is conditionally create-only: CloudFormation's "Replacement: Conditional".
    assert_eq!(
        actions(
            &base(),
            &template("ds-role", "v1", "studio", "vpc-2", "system", "")
        )[2],
        row(
            "Domain",
            ChangeAction::Update,
            Some(Replacement::Conditionally)
        )
    );
}

#[test]
fn added_and_removed_resources() {
    let extra = "  Reader:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument: {Version: '2012-10-17', Statement: []}
      Roles: [!Ref Role]
";
    let with_reader = template("ds-role", "v1", "studio", "vpc-1", "system", extra);
    assert_eq!(
        actions(&base(), &with_reader)[4],
        row("Reader", ChangeAction::Create, None)
    );
    let without_profile = r#"Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      RoleName: ds-role
      Description: v1
      MaxSessionDuration: 3600
      AssumeRolePolicyDocument: {Version: '2012-10-17', Statement: []}
"#;
    assert_eq!(
        actions(&base(), without_profile),
        [
            row("Role", ChangeAction::Unchanged, None),
            row("Profile", ChangeAction::Delete, None),
            row("Domain", ChangeAction::Delete, None),
            row("Inline", ChangeAction::Delete, None),
        ]
    );
}

#[test]
fn a_changed_resource_type_is_refused() {
    let previous = deploy(&link(&parse(&base()), &[]));
    let retyped = base().replace(
        "  Inline:\n    Type: AWS::IAM::Policy\n    Properties:\n      PolicyName: inline\n",
        "  Inline:\n    Type: AWS::IAM::ManagedPolicy\n    Properties:\n",
    );
    let plan = link(&parse(&retyped), &[]);
    assert_eq!(
        plan.changes(&previous).unwrap_err().to_string(),
        "Resources.Inline.Type (line 10, column 11): Update of resource type is not permitted. The new template modifies resource type of the following resources: [Inline]"
    );
}

#[test]
fn a_replacement_that_keeps_a_custom_name_conflicts() {
    let previous = deploy(&link(&parse(&base()), &[]));
    let moved = base().replace(
        "      RoleName: ds-role\n",
        "      RoleName: ds-role\n      Path: /ml/\n",
    );
    let plan = link(&parse(&moved), &[]);
    let role = plan.changes(&previous).unwrap().remove(0);
    assert_eq!(role.action, ChangeAction::Replace);
    assert_eq!(role.kept_name.as_deref(), Some("ds-role"));
    assert_eq!(
        role.conflict().unwrap().to_string(),
        "CloudFormation cannot update a stack when a custom-named resource requires replacing. Rename ds-role and update the stack again."
    );
    // A new name is no conflict, nor is a replaced domain (its identifier is the service's).
    let plan = link(
        &parse(&template(
            "ds-role-2",
            "v1",
            "studio-2",
            "vpc-1",
            "system",
            "",
        )),
        &[],
    );
    assert!(
        plan.changes(&previous)
            .unwrap()
            .iter()
            .all(|c| c.kept_name.is_none())
    );
}
