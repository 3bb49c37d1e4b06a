//! Reading and checking templates: structure, references, resource types and properties,
//! cycles, with CloudFormation's whole messages and their locations.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

mod common;

use common::{link_error, parse, parse_error};
use rolewright_cfn::{ErrorKind, Template, TemplateFormat};

const ROLE: &str =
    "    Type: AWS::IAM::Role\n    Properties:\n      AssumeRolePolicyDocument: {}\n";

#[test]
fn json_and_yaml_read_to_the_same_template() {
    let yaml = parse(
        "Resources:\n  R:\n    Type: AWS::IAM::Role\n    Properties:\n      RoleName: !Sub '${AWS::StackName}-r'\n      AssumeRolePolicyDocument: {}\n",
    );
    let json = parse(
        r#"{"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": {"Fn::Sub": "${AWS::StackName}-r"}, "AssumeRolePolicyDocument": {}}}}}"#,
    );
    assert_eq!(yaml.format, TemplateFormat::Yaml);
    assert_eq!(json.format, TemplateFormat::Json);
    let plan = common::link(&yaml, &[]);
    let other = common::link(&json, &[]);
    let created = rolewright_cfn::CreatedResources::new();
    assert_eq!(
        plan.resolve("R", &created).unwrap(),
        other.resolve("R", &created).unwrap()
    );
}

#[test]
fn syntax_errors_carry_line_and_column() {
    assert_eq!(
        parse_error("{\n  \"Resources\": {\n    \"R\": {\"Type\": \"AWS::IAM::Role\",}\n  }\n}"),
        "template (line 3, column 36): Template format error: JSON not well-formed. (line 3, column 36); expected a string key in object"
    );
    assert_eq!(
        parse_error("Resources:\n  R:\n    Type: AWS::IAM::Role\n   Properties: {}\n"),
        "Resources (line 4, column 4): Template format error: YAML not well-formed. (line 4, column 4); bad indentation of a mapping entry"
    );
    assert_eq!(
        parse_error("Resources:\n  R:\n    Type: !Foo x\n"),
        "Resources.R.Type (line 3, column 11): Template format error: YAML not well-formed. (line 3, column 11); unknown tag `!Foo`: CloudFormation's short forms are `!Ref`, `!Sub`, `!GetAtt`, `!Join`, ..."
    );
}

#[test]
fn structure_errors() {
    assert_eq!(
        parse_error("- a\n- b\n"),
        "template (line 1, column 1): Template format error: unsupported structure."
    );
    assert_eq!(
        parse_error("Description: x\n"),
        "template (line 1, column 1): Template format error: At least one Resources member must be defined."
    );
    assert_eq!(
        parse_error(&format!(
            "Resource:\n  R:\n{ROLE}Resources:\n  R:\n{ROLE}Output: {{}}\n"
        )),
        "template (line 1, column 1): Template format error: Invalid template property or properties [Resource, Output]"
    );
    assert_eq!(
        parse_error("Resources:\n  R:\n    Properties: {}\n"),
        "Resources.R (line 2, column 3): Template format error: Every Resources object must contain a Type member."
    );
    assert_eq!(
        parse_error("Resources:\n  R: [a]\n"),
        "Resources.R (line 2, column 3): Template format error: Every Resources member must be an object."
    );
    assert_eq!(
        parse_error(&format!("Resources:\n  my_role:\n{ROLE}")),
        "Resources.my_role (line 2, column 3): Template format error: Resource name my_role is non alphanumeric."
    );
    assert_eq!(
        parse_error(&format!("Resources:\n  R:\n{ROLE}    Propertes: {{}}\n")),
        "Resources.R.Propertes (line 6, column 5): Invalid template resource property 'Propertes'"
    );
    assert_eq!(
        parse_error(&format!(
            "AWSTemplateFormatVersion: 2012-01-01\nResources:\n  R:\n{ROLE}"
        )),
        "AWSTemplateFormatVersion (line 1, column 27): Template format error: '2012-01-01' is not a supported AWSTemplateFormatVersion"
    );
    assert_eq!(
        parse_error(&format!(
            "Transform: AWS::Serverless-2016-10-31\nResources:\n  R:\n{ROLE}"
        )),
        "Transform (line 1, column 12): Template format error: Transform AWS::Serverless-2016-10-31 is not supported: rolewright runs templates without macros; expand the template before deploying it"
    );
    // An empty transform list is no transform.
    parse(&format!(
        "AWSTemplateFormatVersion: 2010-09-09\nTransform: []\nResources:\n  R:\n{ROLE}"
    ));
    assert_eq!(
        parse_error(&format!(
            "Resources:\n  R:\n{ROLE}    DeletionPolicy: Keep\n"
        )),
        "Resources.R.DeletionPolicy (line 6, column 21): Template format error: Unrecognized DeletionPolicy Keep; valid values are [Delete, Retain, RetainExceptOnCreate, Snapshot]"
    );
}

#[test]
fn unresolved_references_are_reported_together() {
    let text = "Resources:
  A:
    Type: AWS::IAM::Role
    DependsOn: [Missing1]
    Properties:
      RoleName: !Ref Missing2
      Description: !Sub '${Missing3}-${AWS::Region}'
      AssumeRolePolicyDocument: {}
Outputs:
  O:
    Value: !Ref Nowhere
";
    assert_eq!(
        parse_error(text),
        "Resources.A.DependsOn (line 4, column 16): Template format error: Unresolved resource dependencies [Missing1, Missing2, Missing3] in the Resources block of the template\n\
         Outputs.O.Value (line 11, column 12): Template format error: Unresolved resource dependencies [Nowhere] in the Outputs block of the template"
    );
}

#[test]
fn getatt_of_an_undefined_resource_and_an_unknown_attribute() {
    let text = "Resources:
  A:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {}
      Description: !GetAtt B.Arn
  C:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {}
      Description: !GetAtt A.Name
  D:
    Type: AWS::SageMaker::UserProfile
    Properties:
      DomainId: !GetAtt [Domain, DomainArn]
      UserProfileName: !Sub '${A.RoleId}'
  Domain:
    Type: AWS::ServiceCatalog::PortfolioProductAssociation
";
    assert_eq!(
        parse_error(text),
        "Resources.A.Properties.Description (line 6, column 20): Template error: instance of Fn::GetAtt references undefined resource B\n\
         Resources.C.Properties.Description (line 11, column 20): Template error: resource A does not support attribute type Name in Fn::GetAtt; AWS::IAM::Role has Arn, RoleId\n\
         Resources.D.Properties.DomainId (line 15, column 17): Template error: resource Domain does not support attribute type DomainArn in Fn::GetAtt; AWS::ServiceCatalog::PortfolioProductAssociation has no attributes"
    );
}

#[test]
fn cycles_are_named_by_their_members() {
    let text = "Resources:
  First:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {}
  A:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {}
      Description: !Ref B
  B:
    Type: AWS::IAM::Policy
    DependsOn: C
    Properties:
      PolicyName: p
      PolicyDocument: {}
  C:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {}
      RoleName: !Ref A
  After:
    Type: AWS::IAM::Role
    DependsOn: A
    Properties:
      AssumeRolePolicyDocument: {}
";
    assert_eq!(
        parse_error(text),
        "Resources.A (line 6, column 3): Circular dependency between resources: [A, B, C]"
    );
    assert_eq!(
        parse_error(
            "Resources:\n  Self:\n    Type: AWS::IAM::Role\n    Properties:\n      AssumeRolePolicyDocument: {}\n      RoleName: !Ref Self\n"
        ),
        "Resources.Self (line 2, column 3): Circular dependency between resources: [Self]"
    );
}

#[test]
fn unknown_resource_types_name_the_type_and_the_logical_id() {
    let t = parse(&format!(
        "Resources:\n  Fn:\n    Type: AWS::Lambda::Function\n    Properties:\n      Handler: index.handler\n  R:\n{ROLE}  Custom:\n    Type: Custom::StudioDomain\n"
    ));
    let errors = t.check_resource_types().unwrap_err();
    assert_eq!(errors.len(), 2);
    assert_eq!(
        errors.message(),
        "Template format error: Unrecognized resource types: [AWS::Lambda::Function] (resource Fn)"
    );
    let first = errors.first();
    assert_eq!(first.path.to_string(), "Resources.Fn.Type");
    assert_eq!((first.location.line, first.location.column), (3, 11));
    assert!(
        matches!(&first.kind, ErrorKind::UnsupportedResourceType { logical_id, type_name } if logical_id == "Fn" && type_name == "AWS::Lambda::Function")
    );
    assert_eq!(
        first.help.as_deref(),
        Some(
            "rolewright provisions AWS::IAM::{AccessKey, Group, InstanceProfile, ManagedPolicy, Policy, Role, User}, AWS::SageMaker::{App, Domain, Space, UserProfile}, AWS::ServiceCatalog::{AcceptedPortfolioShare, CloudFormationProduct, LaunchRoleConstraint, Portfolio, PortfolioPrincipalAssociation, PortfolioProductAssociation}"
        )
    );
    // Linking refuses them too, before anything is planned.
    assert_eq!(
        link_error(&t, &[])
            .lines()
            .map(|l| l.split("; ").next().unwrap())
            .collect::<Vec<_>>(),
        [
            "Resources.Fn.Type (line 3, column 11): Template format error: Unrecognized resource types: [AWS::Lambda::Function] (resource Fn)",
            "Resources.Custom.Type (line 11, column 11): Template format error: Unrecognized resource types: [Custom::StudioDomain] (resource Custom)",
        ]
    );
}

#[test]
fn unknown_properties_name_the_type_and_the_logical_id() {
    let t = parse(
        "Resources:\n  R:\n    Type: AWS::IAM::Role\n    Properties:\n      AssumeRolePolicyDocument: {}\n      RoleNmae: r\n      Arn: x\n",
    );
    assert_eq!(
        t.check_resources().unwrap_err().to_string(),
        "Resources.R.Properties.RoleNmae (line 6, column 17): Encountered unsupported property RoleNmae; AWS::IAM::Role has no property RoleNmae; did you mean RoleName?\n\
         Resources.R.Properties.Arn (line 7, column 12): Encountered unsupported property Arn; Arn of AWS::IAM::Role is set by the service; read it with Fn::GetAtt"
    );
    // When the resource is resolved (created), the same errors fail it.
    let plan = common::link(&t, &[]);
    let errors = plan
        .resolve("R", &rolewright_cfn::CreatedResources::new())
        .unwrap_err();
    assert!(
        matches!(&errors.first().kind, ErrorKind::UnsupportedProperty { logical_id, type_name, property } if logical_id == "R" && type_name == "AWS::IAM::Role" && property == "RoleNmae")
    );
}

#[test]
fn required_properties_are_checked_once_resolved() {
    let t = parse(
        "Parameters:\n  WithDocument:\n    Type: String\n    Default: 'no'\nConditions:\n  Has: !Equals [!Ref WithDocument, 'yes']\nResources:\n  R:\n    Type: AWS::IAM::Role\n    Properties:\n      AssumeRolePolicyDocument: !If [Has, {}, !Ref 'AWS::NoValue']\n",
    );
    let plan = common::link(&t, &[]);
    assert_eq!(
        plan.resolve("R", &rolewright_cfn::CreatedResources::new())
            .unwrap_err()
            .to_string(),
        "Resources.R.Properties (line 8, column 3): Properties validation failed for resource R with message: #: required key [AssumeRolePolicyDocument] not found"
    );
}

#[test]
fn outputs_and_exports() {
    assert_eq!(
        parse_error(&format!(
            "Resources:\n  R:\n{ROLE}Outputs:\n  O:\n    Description: no value\n"
        )),
        "Outputs.O (line 7, column 3): Template format error: Every Outputs member must contain a Value object"
    );
    assert_eq!(
        parse_error(&format!(
            "Resources:\n  R:\n{ROLE}Outputs:\n  O:\n    Value: x\n    Export:\n      Name: !Sub '${{R}}-name'\n"
        )),
        "Outputs.O.Export.Name (line 10, column 13): Template format error: Output O is malformed.  The Name field of Export must not depend on any resources, imported values, or Fn::GetAZs."
    );
    assert_eq!(
        parse_error(&format!(
            "Resources:\n  R:\n{ROLE}Outputs:\n  A:\n    Value: x\n    Export: {{Name: shared}}\n  B:\n    Value: y\n    Export: {{Name: shared}}\n"
        )),
        "Outputs.B.Export (line 10, column 3): Template format error: Duplicate Export names found: [shared]"
    );
    let t = parse(&format!(
        "Resources:\n  R:\n{ROLE}Outputs:\n  A:\n    Value: !GetAtt R.Arn\n    Export:\n      Name: !Sub '${{AWS::StackName}}-role'\n"
    ));
    let mut stack = common::stack();
    stack.exports.insert(
        "test-stack-role".into(),
        rolewright_cfn::Export {
            value: "x".into(),
            stack_name: "another".into(),
        },
    );
    assert_eq!(
        t.link(&stack, &common::values(&[]))
            .unwrap_err()
            .to_string(),
        "Outputs.A.Export.Name (line 10, column 13): Export with name test-stack-role is already exported by stack another"
    );
}

#[test]
fn rules_metadata_and_descriptions_are_kept() {
    let t = Template::parse(&format!(
        "Description: a product\nMetadata:\n  AWS::CloudFormation::Interface:\n    ParameterGroups: []\nRules:\n  R1:\n    Assertions: []\nResources:\n  R:\n{ROLE}    Metadata: {{Note: x}}\n    DeletionPolicy: Retain\n"
    ))
    .unwrap();
    assert_eq!(t.description.as_deref(), Some("a product"));
    assert!(t.metadata.is_some() && t.rules.is_some());
    let plan = common::link(&t, &[]);
    assert_eq!(
        plan.resources[0].metadata,
        Some(serde_json::json!({"Note": "x"}))
    );
    assert!(plan.resources[0].retained_on_delete());
}
