//! The `use-jumpstart-projects` activity (Use JumpStart and Projects): what a Studio user's role
//! built from it may and may not do, decided by the engine; its exact action list; a linter
//! with nothing to say about it in any partition; and every emitter carrying it.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests fail by panicking")]

use std::collections::BTreeSet;

use rolewright_catalog::check::{RolePolicies, persona_test};
use rolewright_catalog::{Catalog, PERSONAS, RoleDefinition, RoleSpec, emit};
use rolewright_iam::{
    CompiledPolicy, Outcome, PolicyDocument, PolicySet, PolicyType, Principal, Request,
};
use rolewright_lint::{LintType, lint};
use rolewright_reference::Reference;
use serde_json::Value;

const ID: &str = "use-jumpstart-projects";
const ACCOUNT: &str = "111122223333";
const OTHER_ACCOUNT: &str = "444455556666";
const REGION: &str = "us-east-1";

fn spec(persona: &str, partition: &str) -> RoleSpec {
    let mut spec = RoleSpec::new(persona, "studio", ACCOUNT, REGION);
    spec.partition = partition.to_string();
    spec.add_activities.push(ID.to_string());
    spec
}

fn role(partition: &str) -> RoleDefinition {
    Catalog::builtin()
        .build(&spec("custom", partition))
        .unwrap()
}

/// The role's permission policies as one engine policy set.
fn policy_set(role: &RoleDefinition) -> PolicySet {
    let mut set = PolicySet::new();
    for p in role.inline_policies.iter().chain(&role.managed_policies) {
        set = set.with_identity(CompiledPolicy::new(
            &PolicyDocument::parse(&p.document.to_string()).unwrap(),
        ));
    }
    set
}

/// Decides `action` on `resource` for a Studio session of the role. `owner` is the account
/// that owns the resource. The tests pass the caller's, so that a refusal comes from the role's
/// policy alone; AWS's public hub and JumpStart bucket are AWS's, open to every account's
/// identity policies, so the caller's account stands for them too.
fn decide(
    set: &PolicySet,
    action: &str,
    resource: &str,
    owner: &str,
    ctx: &[(&str, &str)],
) -> Outcome {
    let me = Principal::parse(&format!(
        "arn:aws:sts::{ACCOUNT}:assumed-role/SageMaker-studio/SageMaker"
    ))
    .unwrap();
    let mut request = Request::new(me, action, resource).with_resource_account(owner);
    for (k, v) in ctx {
        request.context_mut().set(k, *v);
    }
    set.evaluate(&request).outcome
}

#[test]
fn a_studio_role_creates_and_manages_projects_only_in_its_account_and_region() {
    let set = policy_set(&role("aws"));
    let project = |region: &str, account: &str| {
        format!("arn:aws:sagemaker:{region}:{account}:project/churn-mlops")
    };
    let own = project(REGION, ACCOUNT);
    for action in [
        "sagemaker:CreateProject",
        "sagemaker:DescribeProject",
        "sagemaker:UpdateProject",
        "sagemaker:DeleteProject",
        "sagemaker:AddTags",
        "sagemaker:ListTags",
    ] {
        assert_eq!(
            decide(&set, action, &own, ACCOUNT, &[]),
            Outcome::Allowed,
            "{action}"
        );
    }
    // Evaluated as if the caller owned them, so that only the policy's Resource can refuse:
    // another account's project is refused by the ARN, not by the cross-account rule.
    for arn in [
        project(REGION, OTHER_ACCOUNT),
        project("eu-west-1", ACCOUNT),
    ] {
        for action in ["sagemaker:CreateProject", "sagemaker:DeleteProject"] {
            assert_eq!(
                decide(&set, action, &arn, ACCOUNT, &[]),
                Outcome::ImplicitlyDenied,
                "{action} {arn}"
            );
        }
    }
    assert_eq!(
        decide(&set, "sagemaker:ListProjects", "*", ACCOUNT, &[]),
        Outcome::Allowed
    );
    // Tags go on projects only, not on the account's other SageMaker resources.
    assert_eq!(
        decide(
            &set,
            "sagemaker:AddTags",
            &format!("arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/prod"),
            ACCOUNT,
            &[]
        ),
        Outcome::ImplicitlyDenied
    );
}

#[test]
fn a_studio_role_browses_and_launches_portfolio_products_of_its_region() {
    let set = policy_set(&role("aws"));
    let product =
        |region: &str| format!("arn:aws:catalog:{region}:{ACCOUNT}:product/prod-abcdefghijklm");
    for action in [
        "servicecatalog:DescribeProduct",
        "servicecatalog:ListLaunchPaths",
        "servicecatalog:DescribeProvisioningParameters",
        "servicecatalog:ProvisionProduct",
    ] {
        assert_eq!(
            decide(&set, action, &product(REGION), ACCOUNT, &[]),
            Outcome::Allowed,
            "{action}"
        );
    }
    assert_eq!(
        decide(
            &set,
            "servicecatalog:ProvisionProduct",
            &product("eu-west-1"),
            ACCOUNT,
            &[]
        ),
        Outcome::ImplicitlyDenied
    );
    for action in [
        "servicecatalog:SearchProducts",
        "servicecatalog:DescribeProductView",
    ] {
        assert_eq!(
            decide(&set, action, "*", ACCOUNT, &[]),
            Outcome::Allowed,
            "{action}"
        );
    }
    // What it launched it follows, updates and terminates, at the user level that Service
    // Catalog's end-user policies grant; another user's provisioned products (account level)
    // stay out of reach.
    for action in [
        "servicecatalog:DescribeProvisionedProduct",
        "servicecatalog:DescribeRecord",
        "servicecatalog:SearchProvisionedProducts",
        "servicecatalog:UpdateProvisionedProduct",
        "servicecatalog:TerminateProvisionedProduct",
    ] {
        assert_eq!(
            decide(
                &set,
                action,
                "*",
                ACCOUNT,
                &[("servicecatalog:userLevel", "self")]
            ),
            Outcome::Allowed,
            "{action}"
        );
        assert_eq!(
            decide(
                &set,
                action,
                "*",
                ACCOUNT,
                &[("servicecatalog:accountLevel", "self")]
            ),
            Outcome::ImplicitlyDenied,
            "{action}"
        );
    }
    // The stacks Service Catalog launches (`SC-...`) are readable for the project's status.
    let stack = format!(
        "arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/SC-{ACCOUNT}-pp-abcdefghijklm/0a1b2c3d-0000-0000-0000-000000000000"
    );
    for action in [
        "cloudformation:DescribeStacks",
        "cloudformation:DescribeStackEvents",
        "cloudformation:ListStackResources",
    ] {
        assert_eq!(
            decide(&set, action, &stack, ACCOUNT, &[]),
            Outcome::Allowed,
            "{action}"
        );
    }
    assert_eq!(
        decide(
            &set,
            "cloudformation:DescribeStacks",
            &format!("arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/network/0a1b"),
            ACCOUNT,
            &[]
        ),
        Outcome::ImplicitlyDenied
    );
    for action in ["cloudformation:DeleteStack", "cloudformation:UpdateStack"] {
        assert_eq!(
            decide(&set, action, &stack, ACCOUNT, &[]),
            Outcome::ImplicitlyDenied,
            "{action}"
        );
    }
}

#[test]
fn a_studio_role_browses_jumpstart_of_its_region_only() {
    let set = policy_set(&role("aws"));
    let hub = format!("arn:aws:sagemaker:{REGION}:aws:hub/SageMakerPublicHub");
    let model = format!(
        "arn:aws:sagemaker:{REGION}:aws:hub-content/SageMakerPublicHub/Model/huggingface-llm-falcon-7b"
    );
    assert_eq!(
        decide(&set, "sagemaker:ListHubContents", &hub, ACCOUNT, &[]),
        Outcome::Allowed
    );
    assert_eq!(
        decide(&set, "sagemaker:DescribeHub", &hub, ACCOUNT, &[]),
        Outcome::Allowed
    );
    for action in [
        "sagemaker:DescribeHubContent",
        "sagemaker:ListHubContentVersions",
    ] {
        assert_eq!(
            decide(&set, action, &model, ACCOUNT, &[]),
            Outcome::Allowed,
            "{action}"
        );
    }
    assert_eq!(
        decide(&set, "sagemaker:ListHubs", "*", ACCOUNT, &[]),
        Outcome::Allowed
    );
    // The account's own (private) hubs and any change to hubs are not part of browsing.
    let private = format!("arn:aws:sagemaker:{REGION}:{ACCOUNT}:hub/team-models");
    assert_eq!(
        decide(&set, "sagemaker:ListHubContents", &private, ACCOUNT, &[]),
        Outcome::ImplicitlyDenied
    );
    assert_eq!(
        decide(&set, "sagemaker:DeleteHubContent", &model, ACCOUNT, &[]),
        Outcome::ImplicitlyDenied
    );

    let bucket = format!("arn:aws:s3:::jumpstart-cache-prod-{REGION}");
    assert_eq!(
        decide(&set, "s3:ListBucket", &bucket, ACCOUNT, &[]),
        Outcome::Allowed
    );
    assert_eq!(
        decide(
            &set,
            "s3:GetObject",
            &format!("{bucket}/models_manifest.json"),
            ACCOUNT,
            &[]
        ),
        Outcome::Allowed
    );
    for (action, resource) in [
        ("s3:PutObject", format!("{bucket}/models_manifest.json")),
        (
            "s3:GetObject",
            "arn:aws:s3:::jumpstart-cache-prod-eu-west-1/models_manifest.json".to_string(),
        ),
        ("s3:GetObject", "arn:aws:s3:::ml-data/train.csv".to_string()),
    ] {
        assert_eq!(
            decide(&set, action, &resource, ACCOUNT, &[]),
            Outcome::ImplicitlyDenied,
            "{action} {resource}"
        );
    }
}

/// The admin side belongs to `rolewright jumpstart enable`, not to the Studio user's role.
#[test]
fn a_studio_role_cannot_administer_the_portfolio_or_pass_the_launch_role() {
    let set = policy_set(&role("aws"));
    let portfolio = format!("arn:aws:catalog:{REGION}:{ACCOUNT}:portfolio/port-abcdefghijklm");
    let product = format!("arn:aws:catalog:{REGION}:{ACCOUNT}:product/prod-abcdefghijklm");
    let launch_role = format!(
        "arn:aws:iam::{ACCOUNT}:role/service-role/AmazonSageMakerServiceCatalogProductsLaunchRole"
    );
    let denied = [
        ("servicecatalog:AcceptPortfolioShare", portfolio.as_str()),
        (
            "servicecatalog:AssociatePrincipalWithPortfolio",
            portfolio.as_str(),
        ),
        (
            "servicecatalog:DisassociatePrincipalFromPortfolio",
            portfolio.as_str(),
        ),
        (
            "servicecatalog:ListPrincipalsForPortfolio",
            portfolio.as_str(),
        ),
        ("servicecatalog:ListAcceptedPortfolioShares", "*"),
        ("servicecatalog:CreatePortfolio", portfolio.as_str()),
        ("servicecatalog:CreateConstraint", "*"),
        ("servicecatalog:SearchProductsAsAdmin", "*"),
        ("servicecatalog:DescribeProductAsAdmin", product.as_str()),
        ("servicecatalog:UpdateProduct", product.as_str()),
        ("servicecatalog:DeleteProduct", product.as_str()),
        ("sagemaker:EnableSagemakerServicecatalogPortfolio", "*"),
        ("sagemaker:DisableSagemakerServicecatalogPortfolio", "*"),
        ("iam:PassRole", launch_role.as_str()),
    ];
    for (action, resource) in denied {
        let ctx: &[(&str, &str)] = if action == "iam:PassRole" {
            &[("iam:PassedToService", "servicecatalog.amazonaws.com")]
        } else {
            &[]
        };
        assert_eq!(
            decide(&set, action, resource, ACCOUNT, ctx),
            Outcome::ImplicitlyDenied,
            "{action}"
        );
    }
    // Reading whether the switch is on is what Studio does before it shows the templates.
    assert_eq!(
        decide(
            &set,
            "sagemaker:GetSagemakerServicecatalogPortfolioStatus",
            "*",
            ACCOUNT,
            &[]
        ),
        Outcome::Allowed
    );
}

/// Every action the activity grants, so that a change to the list is a change to this test.
#[test]
fn the_activity_grants_exactly_these_actions_and_all_exist() {
    let activity = Catalog::builtin().activity(ID).cloned().unwrap();
    let mut granted = BTreeSet::new();
    for s in activity.variants.base["Statement"].as_array().unwrap() {
        assert_eq!(s["Effect"], "Allow");
        match &s["Action"] {
            Value::String(a) => {
                granted.insert(a.clone());
            }
            Value::Array(list) => {
                granted.extend(list.iter().map(|a| a.as_str().unwrap().to_string()))
            }
            other => panic!("{other}"),
        }
    }
    let expected: BTreeSet<String> = [
        "cloudformation:DescribeStackEvents",
        "cloudformation:DescribeStacks",
        "cloudformation:ListStackResources",
        "s3:GetObject",
        "s3:ListBucket",
        "sagemaker:AddTags",
        "sagemaker:CreateProject",
        "sagemaker:DeleteProject",
        "sagemaker:DescribeHub",
        "sagemaker:DescribeHubContent",
        "sagemaker:DescribeProject",
        "sagemaker:GetSagemakerServicecatalogPortfolioStatus",
        "sagemaker:ListHubContentVersions",
        "sagemaker:ListHubContents",
        "sagemaker:ListHubs",
        "sagemaker:ListProjects",
        "sagemaker:ListTags",
        "sagemaker:UpdateProject",
        "servicecatalog:DescribeProduct",
        "servicecatalog:DescribeProductView",
        "servicecatalog:DescribeProvisionedProduct",
        "servicecatalog:DescribeProvisioningParameters",
        "servicecatalog:DescribeRecord",
        "servicecatalog:ListLaunchPaths",
        "servicecatalog:ProvisionProduct",
        "servicecatalog:SearchProducts",
        "servicecatalog:SearchProvisionedProducts",
        "servicecatalog:TerminateProvisionedProduct",
        "servicecatalog:UpdateProvisionedProduct",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(granted, expected);
    let reference = Reference::embedded();
    for action in &granted {
        let found = reference
            .action(action)
            .unwrap_or_else(|| panic!("`{action}` is not in the service data"));
        // The name is spelled as AWS spells it, not only matched ignoring case.
        assert_eq!(&found.full_name(), action);
        assert_ne!(
            found.access_level().as_str(),
            "Permissions management",
            "{action}"
        );
    }
    assert!(activity.parameters.is_empty() && !activity.supports_vpc && !activity.supports_kms);
    assert!(activity.managed_policies.is_empty());
}

/// `*` only for actions without resource types, and every other resource fits a resource type
/// of every action beside it (no statement leans on one of its ARNs for some actions and on
/// another for the rest, which the linter accepts statement by statement).
#[test]
fn every_resource_fits_every_action_of_its_statement() {
    let role = role("aws");
    let reference = Reference::embedded();
    let strings = |v: &Value| -> Vec<String> {
        match v {
            Value::String(s) => vec![s.clone()],
            Value::Array(list) => list
                .iter()
                .map(|s| s.as_str().unwrap().to_string())
                .collect(),
            other => panic!("{other}"),
        }
    };
    for s in role.inline_policies[0].document["Statement"]
        .as_array()
        .unwrap()
    {
        let resources = strings(&s["Resource"]);
        for action in strings(&s["Action"]) {
            let found = reference.action(&action).unwrap();
            if found.is_wildcard_only() {
                assert_eq!(resources, ["*"], "{action}");
                continue;
            }
            for arn in &resources {
                assert!(
                    !found.resource_types_for(arn).is_empty(),
                    "{action} does not take {arn}"
                );
            }
        }
    }
}

#[test]
fn the_linter_has_nothing_to_say_in_any_partition() {
    for partition in ["aws", "aws-cn", "aws-us-gov"] {
        let role = role(partition);
        assert_eq!(role.warnings, Vec::<String>::new());
        let names: Vec<&str> = role
            .inline_policies
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(names, ["SageMaker-studio-use-jumpstart-projects"]);
        let text = role.inline_policies[0].document.to_string();
        assert!(!text.contains("{{") && !text.contains("[["), "{text}");
        assert!(text.contains(&format!(
            "arn:{partition}:sagemaker:{REGION}:{ACCOUNT}:project/*"
        )));
        let findings: Vec<String> = lint(
            &text,
            LintType::Type(PolicyType::Identity),
            Reference::embedded(),
        )
        .into_iter()
        .map(|f| format!("{:?} {} {} {}", f.severity, f.code, f.path, f.message))
        .collect();
        assert_eq!(findings, Vec::<String>::new(), "{partition}");
        PolicyDocument::parse_as(&role.trust_policy.to_string(), PolicyType::Trust).unwrap();
    }
}

/// The persona test that `rolewright role new` runs before writing a role holds for a Data
/// Scientist who adds the activity, and no persona preselects it (AWS's lists do not have it).
#[test]
fn a_data_scientist_adds_it_and_passes_the_persona_test() {
    assert!(PERSONAS.iter().all(|p| !p.activities.contains(&ID)));
    let mut spec = spec("data-scientist", "aws");
    spec.set("S3Buckets", ["ml-data"]);
    spec.set(
        "PassRoles",
        [format!("arn:aws:iam::{ACCOUNT}:role/SageMaker-compute")],
    );
    let role = Catalog::builtin().build(&spec).unwrap();
    assert_eq!(role.activities.last().map(String::as_str), Some(ID));
    let policies = RolePolicies::from_json(&role.to_json()).unwrap();
    let rows = persona_test(&policies, ACCOUNT).unwrap();
    let failed: Vec<_> = rows.iter().filter(|r| !r.holds()).collect();
    assert!(failed.is_empty(), "{failed:#?}");
    // Adding it gives the Data Scientist projects without endpoints or PassRole to Service
    // Catalog.
    let set = policy_set(&role);
    assert_eq!(
        decide(
            &set,
            "sagemaker:CreateProject",
            &format!("arn:aws:sagemaker:{REGION}:{ACCOUNT}:project/p"),
            ACCOUNT,
            &[]
        ),
        Outcome::Allowed
    );
    assert_eq!(
        decide(
            &set,
            "iam:PassRole",
            &format!("arn:aws:iam::{ACCOUNT}:role/SageMaker-compute"),
            ACCOUNT,
            &[("iam:PassedToService", "servicecatalog.amazonaws.com")]
        ),
        Outcome::ImplicitlyDenied
    );
}

/// CloudFormation (JSON and YAML), Terraform and the CLI script all carry the activity's policy.
#[test]
fn every_emitter_carries_the_policy() {
    let role = role("aws");
    let policy = &role.inline_policies[0];

    let template: Value = serde_json::from_str(&emit::cloudformation_json(&role)).unwrap();
    let props = &template["Resources"]["SageMakerStudioRole"]["Properties"];
    assert_eq!(props["Policies"][0]["PolicyName"], policy.name.as_str());
    assert_eq!(props["Policies"][0]["PolicyDocument"], policy.document);

    let yaml = emit::cloudformation_yaml(&role);
    assert!(yaml.contains(&policy.name), "{yaml}");
    assert!(yaml.contains("servicecatalog:ProvisionProduct"), "{yaml}");

    let terraform = emit::terraform(&role);
    assert!(
        terraform.contains("resource \"aws_iam_role_policy\""),
        "{terraform}"
    );
    assert!(terraform.contains(&policy.name), "{terraform}");
    assert!(terraform.contains("sagemaker:CreateProject"), "{terraform}");

    let script = emit::aws_cli(&role, "aws", ACCOUNT);
    assert!(script.contains("put-role-policy"), "{script}");
    assert!(script.contains(&policy.name), "{script}");
    assert!(
        script.contains("servicecatalog:TerminateProvisionedProduct"),
        "{script}"
    );

    // Read back as `rolewright role test` reads a template.
    let from_template = RolePolicies::from_json(&template).unwrap();
    assert_eq!(from_template.documents, vec![policy.document.clone()]);
}
