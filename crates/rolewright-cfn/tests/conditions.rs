//! Conditions: evaluated once per link, conditional resources and outputs, and the errors of
//! undefined conditions, conditions that refer to resources, and conditions in a circle.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

mod common;

use common::{link, link_error, parse, parse_error};

const TEMPLATE: &str = "Parameters:
  Env:
    Type: String
    AllowedValues: [dev, prod]
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  IsDev: !Not [!Condition IsProd]
  UsEast: !Equals [!Ref 'AWS::Region', us-east-1]
  ProdInUsEast: !And [!Condition IsProd, !Condition UsEast]
  Either: !Or [!Condition IsDev, !Condition ProdInUsEast]
  Nested: !Equals [!If [IsProd, a, b], a]
Resources:
  Always:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {}
  ProdOnly:
    Type: AWS::IAM::Role
    Condition: IsProd
    Properties:
      AssumeRolePolicyDocument: {}
  DevOnly:
    Type: AWS::IAM::Policy
    Condition: IsDev
    Properties:
      PolicyName: dev
      PolicyDocument: {}
      Roles: [!Ref Always]
Outputs:
  ProdRole:
    Condition: IsProd
    Value: !GetAtt ProdOnly.Arn
  Chosen:
    Value: !If [IsProd, !Ref ProdOnly, !Ref DevOnly]
";

#[test]
fn conditions_are_evaluated_once_each() {
    let t = parse(TEMPLATE);
    let prod = link(&t, &[("Env", "prod")]);
    let shown: Vec<(&str, bool)> = prod
        .conditions
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    assert_eq!(
        shown,
        [
            ("Either", true),
            ("IsDev", false),
            ("IsProd", true),
            ("Nested", true),
            ("ProdInUsEast", true),
            ("UsEast", true)
        ]
    );
    let dev = link(&t, &[("Env", "dev")]);
    assert!(!dev.conditions["IsProd"]);
    assert!(dev.conditions["Either"]);
    assert!(!dev.conditions["Nested"]);
}

#[test]
fn conditional_resources_and_outputs_exist_only_when_their_condition_holds() {
    let t = parse(TEMPLATE);
    let ids = |plan: &rolewright_cfn::Plan| {
        plan.resources
            .iter()
            .map(|r| r.logical_id.clone())
            .collect::<Vec<_>>()
    };
    let outputs = |plan: &rolewright_cfn::Plan| {
        plan.outputs
            .iter()
            .map(|o| o.name.clone())
            .collect::<Vec<_>>()
    };
    let prod = link(&t, &[("Env", "prod")]);
    assert_eq!(ids(&prod), ["Always", "ProdOnly"]);
    assert_eq!(outputs(&prod), ["ProdRole", "Chosen"]);
    assert_eq!(prod.outputs[1].dependencies, ["ProdOnly"]);
    let dev = link(&t, &[("Env", "dev")]);
    assert_eq!(ids(&dev), ["Always", "DevOnly"]);
    assert_eq!(outputs(&dev), ["Chosen"]);
    assert_eq!(dev.resource("DevOnly").unwrap().depends_on, ["Always"]);
}

#[test]
fn a_reference_to_a_resource_whose_condition_is_false_is_unresolved() {
    let t = parse(
        "Parameters:
  Create:
    Type: String
    Default: 'false'
Conditions:
  CreateIt: !Equals [!Ref Create, 'true']
Resources:
  Maybe:
    Type: AWS::IAM::Role
    Condition: CreateIt
    Properties:
      AssumeRolePolicyDocument: {}
  User:
    Type: AWS::IAM::Role
    DependsOn: Maybe
    Properties:
      AssumeRolePolicyDocument: {}
      Description: !GetAtt Maybe.Arn
      RoleName: !If [CreateIt, !Ref Maybe, fine]
",
    );
    assert_eq!(
        link_error(&t, &[]),
        "Resources.User.Properties.Description (line 18, column 20): Template format error: Unresolved resource dependencies [Maybe] in the Resources block of the template"
    );
    assert_eq!(link(&t, &[("Create", "true")]).resources.len(), 2);
}

#[test]
fn undefined_conditions() {
    assert_eq!(
        parse_error(
            "Conditions:
  A: !Condition Nope
Resources:
  R:
    Type: AWS::IAM::Role
    Condition: Missing
    Properties:
      AssumeRolePolicyDocument: {}
      Description: !If [AlsoMissing, a, b]
"
        ),
        "Conditions.A (line 2, column 6): Template format error: Condition Nope is not defined.\n\
         Resources.R.Condition (line 6, column 16): Template format error: Condition Missing is not defined.\n\
         Resources.R.Properties.Description (line 9, column 20): Template format error: Condition AlsoMissing is not defined."
    );
}

#[test]
fn conditions_cannot_refer_to_resources() {
    assert_eq!(
        parse_error(
            "Conditions:
  C: !Equals [!Ref R, x]
  D: !Equals [!GetAtt R.Arn, !Ref Unknown]
Resources:
  R:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {}
"
        ),
        "Conditions.C.Fn::Equals[0] (line 2, column 15): Template format error: Unresolved dependencies [R, Unknown]. Cannot reference resources in the Conditions block of the template"
    );
}

#[test]
fn conditions_in_a_circle() {
    assert_eq!(
        parse_error(
            "Conditions:
  A: !Not [!Condition B]
  B: !And [!Condition A, !Condition C]
  C: !Equals [a, a]
Resources:
  R:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {}
"
        ),
        "Conditions.A (line 2, column 6): Template format error: Circular dependency between conditions: [A, B]"
    );
}

#[test]
fn conditions_in_json() {
    let t = parse(
        r#"{
  "Parameters": {"Env": {"Type": "String", "Default": "prod"}},
  "Conditions": {
    "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
    "NotProd": {"Fn::Not": [{"Condition": "IsProd"}]}
  },
  "Resources": {
    "R": {"Type": "AWS::IAM::Role", "Condition": "NotProd", "Properties": {"AssumeRolePolicyDocument": {}}},
    "S": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}, "Description": {"Fn::If": ["IsProd", "prod", "other"]}}}
  }
}"#,
    );
    let plan = link(&t, &[]);
    assert_eq!(plan.resources.len(), 1);
    let properties = plan
        .resolve("S", &rolewright_cfn::CreatedResources::new())
        .unwrap();
    assert_eq!(properties["Description"], "prod");
}
