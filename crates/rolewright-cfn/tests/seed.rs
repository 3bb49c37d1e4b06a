//! The templates of the flows rolewright serves read, validate and plan: seed 002's Studio
//! domain and user-profile products and the admin's launch template (written in the shape of
//! the public samples), and the CloudFormation `rolewright role new --format cloudformation`
//! and `cloudformation-yaml` write, built here through the catalog as the CLI builds it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

mod common;

use rolewright_catalog::{Catalog, PARAMETERS, PERSONAS, RoleSpec, emit};
use rolewright_cfn::{CreatedResources, Plan, Template, return_values};
use serde_json::{Value, json};

fn sample(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/templates/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// A resource's logical id and resolved properties.
type Resolved = (String, serde_json::Map<String, Value>);

/// Creates every resource in plan order, as a provider would, and returns their properties.
fn create_all(plan: &Plan) -> (CreatedResources, Vec<Resolved>) {
    let mut created = CreatedResources::new();
    let mut resolved = Vec::new();
    for r in &plan.resources {
        let properties = match plan.resolve(&r.logical_id, &created) {
            Ok(p) => p,
            Err(e) => panic!("{}: {e}", r.logical_id),
        };
        let physical_id = match r.type_name.as_str() {
            "AWS::IAM::ManagedPolicy" => {
                format!("arn:aws:iam::111122223333:policy/{}", r.logical_id)
            }
            "AWS::SageMaker::Domain" => "d-abc123".to_string(),
            _ => r.logical_id.clone(),
        };
        let attributes: Vec<(String, Value)> = return_values(&r.type_name)
            .unwrap()
            .attributes
            .iter()
            .map(|a| {
                let value = match *a {
                    "Arn" => json!(format!("arn:aws:iam::111122223333:role/{}", r.logical_id)),
                    other => json!(format!("{}-{other}", r.logical_id)),
                };
                (a.to_string(), value)
            })
            .collect();
        created.insert(&r.logical_id, &physical_id, attributes);
        resolved.push((r.logical_id.clone(), properties));
    }
    (created, resolved)
}

#[test]
fn the_studio_domain_product_plans() {
    let template = common::parse(&sample("studio_domain.yaml"));
    template.check_resources().unwrap();
    let missing = template
        .link(&common::stack(), &common::values(&[]))
        .unwrap_err();
    assert_eq!(
        missing.message(),
        "Parameters: [VpcId, Subnets] must have values"
    );

    let plan = common::link(
        &template,
        &[("VpcId", "vpc-0abc"), ("Subnets", "subnet-1,subnet-2")],
    );
    let order: Vec<&str> = plan
        .resources
        .iter()
        .map(|r| r.logical_id.as_str())
        .collect();
    assert_eq!(
        order,
        [
            "StudioReadOnlyPolicy",
            "TrainingJobRole",
            "StudioDeveloperPolicy",
            "StudioExecutionRole",
            "StudioDomain"
        ]
    );
    let (_, resolved) = create_all(&plan);
    let domain = &resolved[4].1;
    assert_eq!(
        Value::Object(domain.clone()),
        json!({
            "DomainName": "SageMaker-Domain",
            "VpcId": "vpc-0abc",
            "SubnetIds": ["subnet-1", "subnet-2"],
            "AuthMode": "IAM",
            "DefaultUserSettings": {"ExecutionRole": "arn:aws:iam::111122223333:role/StudioExecutionRole"}
        })
    );
    let role = &resolved[3].1;
    assert_eq!(
        role["ManagedPolicyArns"],
        json!([
            "arn:aws:iam::111122223333:policy/StudioReadOnlyPolicy",
            "arn:aws:iam::111122223333:policy/StudioDeveloperPolicy"
        ])
    );
}

#[test]
fn the_user_profile_product_plans() {
    let template = common::parse(&sample("user_profile.yaml"));
    let plan = common::link(
        &template,
        &[("DomainId", "d-abc123"), ("UserProfileName", "alice")],
    );
    let (_, resolved) = create_all(&plan);
    assert_eq!(
        Value::Object(resolved[0].1.clone()),
        json!({
            "UserProfileName": "alice",
            "DomainId": "d-abc123",
            "UserSettings": {"ExecutionRole": "arn:aws:iam::111122223333:role/SageMakerExecutionRole"},
            "Tags": [{"Key": "studiouserid", "Value": "alice"}]
        })
    );
}

#[test]
fn the_launch_template_plans() {
    let template = common::parse(&sample("launch.yaml"));
    assert_eq!(
        template
            .link(
                &common::stack(),
                &common::values(&[("LaunchPrincipal", "alice")])
            )
            .unwrap_err()
            .message(),
        "Parameter LaunchPrincipal failed to satisfy constraint: must be the ARN of an IAM user, group or role"
    );
    let plan = common::link(
        &template,
        &[(
            "LaunchPrincipal",
            "arn:aws:iam::111122223333:role/CloudAdmin",
        )],
    );
    let position = |id: &str| {
        plan.resources
            .iter()
            .position(|r| r.logical_id == id)
            .unwrap()
    };
    assert!(position("Portfolio") < position("DomainProductAssociation"));
    assert!(position("StudioDomainProduct") < position("DomainProductAssociation"));
    assert!(position("DomainProductAssociation") < position("DomainLaunchConstraint"));
    assert!(position("ProvisioningRole") < position("DomainLaunchConstraint"));
    let (created, resolved) = create_all(&plan);
    let product = &resolved
        .iter()
        .find(|(id, _)| id == "UserProfileProduct")
        .unwrap()
        .1;
    assert_eq!(
        product["ProvisioningArtifactParameters"][0]["Info"]["LoadTemplateFromURL"],
        "https://example-bucket.s3.us-west-2.amazonaws.com/user_profile.yaml"
    );
    let constraint = &resolved
        .iter()
        .find(|(id, _)| id == "DomainLaunchConstraint")
        .unwrap()
        .1;
    assert_eq!(
        constraint["RoleArn"],
        "arn:aws:iam::111122223333:role/ProvisioningRole"
    );
    let outputs = plan.output_values(&created).unwrap();
    assert_eq!(outputs[0].value, "Portfolio");
}

/// The role of `persona`; with `more`, with as many of the catalog's other activities added as
/// IAM's quotas let in (which needs customer-managed policies).
fn build(
    catalog: &Catalog,
    persona: &str,
    more: bool,
) -> Option<rolewright_catalog::RoleDefinition> {
    let mut spec = spec(persona);
    let mut role = catalog.build(&spec).ok()?;
    if more {
        for activity in catalog.activities() {
            spec.add_activities.push(activity.id.clone());
            match catalog.build(&spec) {
                Ok(bigger) => role = bigger,
                Err(_) => {
                    spec.add_activities.pop();
                }
            }
        }
    }
    Some(role)
}

/// A spec for `persona` with every parameter set, as `rolewright role new` takes them.
fn spec(persona: &str) -> RoleSpec {
    let mut spec = RoleSpec::new(persona, "team", "111122223333", "us-east-1");
    for p in PARAMETERS {
        let value = match p.placeholder {
            "ECRRepoArns" => "arn:aws:ecr:us-east-1:111122223333:repository/ml".to_string(),
            "PassRoles" => "arn:aws:iam::111122223333:role/ml-job".to_string(),
            "DataKmsKeys" | "VolumeKmsKeys" => {
                "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
                    .to_string()
            }
            "VpcSubnets" => "subnet-0abc".to_string(),
            "VpcSecurityGroups" => "sg-0abc".to_string(),
            other => format!("{}-value", other.to_lowercase()),
        };
        spec.set(p.placeholder, [value]);
    }
    spec.tags = vec![("team".into(), "ml".into())];
    spec.permissions_boundary = Some("arn:aws:iam::111122223333:policy/boundary".into());
    spec
}

#[test]
fn the_cloudformation_of_role_new_reads_validates_and_plans() {
    let catalog = Catalog::builtin();
    let mut built = 0;
    let mut with_managed_policies = 0;
    for persona in PERSONAS {
        for all in [false, true] {
            let Some(role) = build(&catalog, persona.id, all) else {
                continue;
            };
            built += 1;
            let json_text = emit::cloudformation_json(&role);
            let yaml_text = emit::cloudformation_yaml(&role);
            let from_json =
                Template::parse(&json_text).unwrap_or_else(|e| panic!("{}: {e}", persona.id));
            let from_yaml =
                Template::parse(&yaml_text).unwrap_or_else(|e| panic!("{}: {e}", persona.id));
            for template in [&from_json, &from_yaml] {
                template.check_resources().unwrap();
                let plan = common::link(template, &[]);
                // Customer-managed policies first, the role that attaches them last.
                assert_eq!(plan.resources.last().unwrap().type_name, "AWS::IAM::Role");
                let (created, resolved) = create_all(&plan);
                let (_, role_properties) = resolved.last().unwrap();
                assert_eq!(role_properties["RoleName"], json!(role.name));
                assert_eq!(
                    role_properties["AssumeRolePolicyDocument"],
                    role.trust_policy
                );
                assert_eq!(
                    role_properties["PermissionsBoundary"],
                    "arn:aws:iam::111122223333:policy/boundary"
                );
                if !role.managed_policies.is_empty() {
                    let arns = role_properties["ManagedPolicyArns"].as_array().unwrap();
                    assert!(arns.iter().any(|a| {
                        a.as_str()
                            .unwrap()
                            .starts_with("arn:aws:iam::111122223333:policy/")
                    }));
                }
                let outputs = plan.output_values(&created).unwrap();
                assert_eq!(outputs[0].name, "RoleArn");
                assert!(
                    outputs[0]
                        .value
                        .starts_with("arn:aws:iam::111122223333:role/")
                );
            }
            if !role.managed_policies.is_empty() {
                with_managed_policies += 1;
            }
            let json_plan = common::link(&from_json, &[]);
            let yaml_plan = common::link(&from_yaml, &[]);
            let created = create_all(&json_plan).0;
            for r in &json_plan.resources {
                assert_eq!(
                    json_plan.resolve(&r.logical_id, &created).unwrap(),
                    yaml_plan.resolve(&r.logical_id, &created).unwrap()
                );
            }
        }
    }
    assert!(built >= 8, "{built} roles built");
    assert!(
        with_managed_policies >= 1,
        "no role needed customer-managed policies"
    );
}

#[test]
fn a_role_with_one_more_activity_is_an_update_of_its_policies() {
    let catalog = Catalog::builtin();
    let mut before_spec = spec("data-scientist");
    before_spec.remove_activities = vec!["use-jumpstart-projects".into()];
    let mut after_spec = before_spec.clone();
    after_spec.remove_activities.clear();
    after_spec.add_activities = vec!["use-jumpstart-projects".into()];
    let before = catalog.build(&before_spec).unwrap();
    let after = catalog.build(&after_spec).unwrap();
    assert_ne!(before, after);
    let old_plan = common::link(&common::parse(&emit::cloudformation_yaml(&before)), &[]);
    let mut previous = Vec::new();
    let (created, resolved) = create_all(&old_plan);
    for ((id, properties), r) in resolved.into_iter().zip(&old_plan.resources) {
        previous.push(rolewright_cfn::PreviousResource {
            logical_id: id.clone(),
            type_name: r.type_name.clone(),
            physical_id: rolewright_cfn::ResourceValues::physical_id(&created, &id).unwrap(),
            properties,
            attributes: created.0[&id].attributes.clone(),
        });
    }
    let new_plan = common::link(&common::parse(&emit::cloudformation_yaml(&after)), &[]);
    let changes = new_plan.changes(&previous).unwrap();
    let role = changes
        .iter()
        .find(|c| c.type_name == "AWS::IAM::Role")
        .unwrap();
    assert_eq!(role.action, rolewright_cfn::ChangeAction::Update);
    assert!(
        role.details
            .iter()
            .any(|d| d.path == "Policies" || d.path == "ManagedPolicyArns"),
        "{:?}",
        role.details
    );
}

#[test]
fn iam_resources_need_their_capability() {
    let domain = common::parse(&sample("studio_domain.yaml"))
        .required_capability()
        .unwrap();
    assert_eq!(domain.capability.as_str(), "CAPABILITY_NAMED_IAM");
    assert_eq!(
        domain.reason(),
        "The following resource(s) require capabilities: [AWS::IAM::ManagedPolicy, AWS::IAM::Role]"
    );
    assert_eq!(
        domain.capability.missing_message(),
        "Requires capabilities : [CAPABILITY_NAMED_IAM]"
    );
    assert!(!domain.capability.granted_by(&["CAPABILITY_IAM"]));
    assert_eq!(
        common::parse(&sample("user_profile.yaml")).required_capability(),
        None
    );
    let unnamed = common::parse(
        "Resources:\n  R:\n    Type: AWS::IAM::Role\n    Properties:\n      AssumeRolePolicyDocument: {}\n",
    );
    assert_eq!(
        unnamed.required_capability().unwrap().capability.as_str(),
        "CAPABILITY_IAM"
    );
}
