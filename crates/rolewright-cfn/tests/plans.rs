//! Plans: resources in dependency order, each resolved once the resources it refers to exist;
//! outputs and exports; errors found when linking rather than when creating.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

mod common;

use common::{link, link_error, parse};
use rolewright_cfn::{CreatedResources, OutputValue, StackContext};
use serde_json::json;

const TEMPLATE: &str = "Parameters:
  Team:
    Type: String
Resources:
  Profile:
    Type: AWS::SageMaker::UserProfile
    Properties:
      DomainId: !Ref Domain
      UserProfileName: !Sub '${Team}-lead'
      UserSettings:
        ExecutionRole: !GetAtt ExecutionRole.Arn
  Domain:
    Type: AWS::SageMaker::Domain
    Properties:
      DomainName: !Sub '${Team}-domain'
      AuthMode: IAM
      VpcId: vpc-1
      SubnetIds: [subnet-1]
      DefaultUserSettings:
        ExecutionRole: !GetAtt ExecutionRole.Arn
  ExecutionRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: !Sub '${Team}-execution'
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal: {Service: sagemaker.amazonaws.com}
            Action: sts:AssumeRole
  Policy:
    Type: AWS::IAM::ManagedPolicy
    DependsOn: Profile
    Properties:
      PolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Action: sagemaker:CreatePresignedDomainUrl
            Resource: !GetAtt Profile.UserProfileArn
Outputs:
  DomainId:
    Description: !Sub 'Domain of ${Team}'
    Value: !Ref Domain
    Export:
      Name: !Sub '${AWS::StackName}-domain'
  Zones:
    Value: !GetAZs ''
";

#[test]
fn resources_come_after_what_they_refer_to() {
    let plan = link(&parse(TEMPLATE), &[("Team", "ml")]);
    let order: Vec<&str> = plan
        .resources
        .iter()
        .map(|r| r.logical_id.as_str())
        .collect();
    assert_eq!(order, ["ExecutionRole", "Domain", "Profile", "Policy"]);
    assert_eq!(
        plan.resource("Profile").unwrap().depends_on,
        ["ExecutionRole", "Domain"]
    );
    assert_eq!(plan.resource("Policy").unwrap().depends_on, ["Profile"]);
    assert_eq!(
        plan.exports().collect::<Vec<_>>(),
        [("DomainId", "test-stack-domain")]
    );
}

#[test]
fn each_resource_resolves_once_its_dependencies_exist() {
    let plan = link(&parse(TEMPLATE), &[("Team", "ml")]);
    let mut created = CreatedResources::new();
    let role = plan.resolve("ExecutionRole", &created).unwrap();
    assert_eq!(role["RoleName"], "ml-execution");
    // Too early: the provider must create the role first.
    assert_eq!(
        plan.resolve("Domain", &created).unwrap_err().to_string(),
        "Resources.Domain.Properties.DefaultUserSettings.ExecutionRole (line 20, column 24): Resource ExecutionRole has no attribute Arn yet: create it before the resources that refer to it"
    );
    created.insert(
        "ExecutionRole",
        "ml-execution",
        [(
            "Arn".to_string(),
            json!("arn:aws:iam::111122223333:role/ml-execution"),
        )],
    );
    let domain = plan.resolve("Domain", &created).unwrap();
    assert_eq!(
        serde_json::Value::Object(domain),
        json!({
            "DomainName": "ml-domain", "AuthMode": "IAM", "VpcId": "vpc-1", "SubnetIds": ["subnet-1"],
            "DefaultUserSettings": {"ExecutionRole": "arn:aws:iam::111122223333:role/ml-execution"}
        })
    );
    created.insert(
        "Domain",
        "d-abc123",
        [(
            "DomainArn".to_string(),
            json!("arn:aws:sagemaker:us-east-1:111122223333:domain/d-abc123"),
        )],
    );
    let profile = plan.resolve("Profile", &created).unwrap();
    assert_eq!(profile["DomainId"], "d-abc123");
    assert_eq!(profile["UserProfileName"], "ml-lead");
    created.insert(
        "Profile",
        "d-abc123|ml-lead",
        [(
            "UserProfileArn".to_string(),
            json!("arn:aws:sagemaker:us-east-1:111122223333:user-profile/d-abc123/ml-lead"),
        )],
    );
    let policy = plan.resolve("Policy", &created).unwrap();
    assert_eq!(
        policy["PolicyDocument"]["Statement"][0]["Resource"],
        "arn:aws:sagemaker:us-east-1:111122223333:user-profile/d-abc123/ml-lead"
    );
    assert_eq!(
        plan.output_values(&created).unwrap(),
        [
            OutputValue {
                name: "DomainId".into(),
                value: "d-abc123".into(),
                description: Some("Domain of ml".into()),
                export_name: Some("test-stack-domain".into()),
            },
            OutputValue {
                name: "Zones".into(),
                value: "us-east-1a,us-east-1b,us-east-1c".into(),
                description: None,
                export_name: None,
            },
        ]
    );
}

#[test]
fn errors_that_do_not_depend_on_resources_are_found_when_linking() {
    let t = parse(
        "Resources:\n  R:\n    Type: AWS::IAM::Role\n    Properties:\n      AssumeRolePolicyDocument: {}\n      Description: !Select [3, [a, b]]\n      RoleName: !Select [3, !Split [',', !GetAtt Other.Arn]]\n  Other:\n    Type: AWS::IAM::Role\n    Properties:\n      AssumeRolePolicyDocument: {}\n",
    );
    // The first Select fails now; the second depends on Other and waits.
    assert_eq!(
        link_error(&t, &[]),
        "Resources.R.Properties.Description (line 6, column 20): Template error: Fn::Select cannot select nonexistent value at index 3"
    );
}

#[test]
fn pseudo_parameters_follow_the_partition() {
    let t = parse(
        "Resources:\n  R:\n    Type: AWS::IAM::Role\n    Properties:\n      AssumeRolePolicyDocument: {}\n      Description: !Sub '${AWS::Partition} ${AWS::URLSuffix} ${AWS::StackId}'\n",
    );
    let stack = StackContext::new("111122223333", "cn-north-1", "s")
        .with_stack_id("arn:aws-cn:cloudformation:cn-north-1:111122223333:stack/s/1234");
    let plan = t.link(&stack, &common::values(&[])).unwrap();
    assert_eq!(
        plan.resolve("R", &CreatedResources::new()).unwrap()["Description"],
        "aws-cn amazonaws.com.cn arn:aws-cn:cloudformation:cn-north-1:111122223333:stack/s/1234"
    );
}
