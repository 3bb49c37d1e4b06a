//! Every parameter rule, with CloudFormation's whole messages: declarations (type, attributes,
//! defaults) and values (missing and unknown together, AllowedValues, AllowedPattern,
//! Min/MaxLength, Min/MaxValue, numbers, lists, ConstraintDescription, NoEcho, SSM types).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

mod common;

use common::{link, link_error, parse, parse_error};
use rolewright_cfn::ParameterValue;

fn template(parameters: &str) -> String {
    format!(
        "Parameters:
{parameters}
Resources:
  R:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {{}}
"
    )
}

#[test]
fn missing_and_unknown_parameters_are_reported_together() {
    let t = parse(&template(
        "  A:\n    Type: String\n  B:\n    Type: String\n  C:\n    Type: String\n    Default: c",
    ));
    assert_eq!(
        link_error(&t, &[("Nope", "1"), ("Other", "2")]),
        "Parameters (line 2, column 3): Parameters: [Nope, Other] do not exist in the template\n\
         Parameters.A (line 2, column 3): Parameters: [A, B] must have values"
    );
    assert_eq!(
        link_error(&t, &[("A", "a")]),
        "Parameters.B (line 4, column 3): Parameters: [B] must have values"
    );
}

#[test]
fn values_for_a_template_without_parameters() {
    let t = parse(
        "Resources:\n  R:\n    Type: AWS::IAM::Role\n    Properties:\n      AssumeRolePolicyDocument: {}\n",
    );
    assert_eq!(
        link_error(&t, &[("A", "1")]),
        "template (line 1, column 1): Parameter values specified for a template which does not require them."
    );
}

#[test]
fn allowed_values() {
    let t = parse(&template(
        "  Env:\n    Type: String\n    AllowedValues: [dev, prod]\n    Default: dev",
    ));
    assert_eq!(
        link_error(&t, &[("Env", "test")]),
        "Parameters.Env (line 2, column 3): Parameter 'Env' must be one of AllowedValues"
    );
    assert_eq!(
        link(&t, &[("Env", "prod")]).parameters[0].value,
        ParameterValue::String("prod".into())
    );
    // YAML 1.1, as CloudFormation reads it: `Yes` and `No` are booleans (aws-amplify/amplify-cli#6224).
    let t = parse(&template(
        "  X:\n    Type: String\n    Default: No\n    AllowedValues: [Yes, No]",
    ));
    assert_eq!(link(&t, &[]).parameters[0].given, "false");
    assert_eq!(
        link_error(&t, &[("X", "Yes")]),
        "Parameters.X (line 2, column 3): Parameter 'X' must be one of AllowedValues"
    );
}

#[test]
fn allowed_pattern_and_lengths() {
    let t = parse(&template(
        "  Name:\n    Type: String\n    AllowedPattern: '[a-z]+'\n    MinLength: 3\n    MaxLength: 5",
    ));
    assert_eq!(
        link_error(&t, &[("Name", "Abc")]),
        "Parameters.Name (line 2, column 3): Parameter 'Name' must match pattern [a-z]+"
    );
    assert_eq!(
        link_error(&t, &[("Name", "ab")]),
        "Parameters.Name (line 2, column 3): Parameter 'Name' must contain at least 3 characters"
    );
    assert_eq!(
        link_error(&t, &[("Name", "abcdef")]),
        "Parameters.Name (line 2, column 3): Parameter 'Name' must contain at most 5 characters"
    );
    assert_eq!(link(&t, &[("Name", "abcd")]).parameters[0].given, "abcd");
    // The pattern must match the whole value.
    assert!(link_error(&t, &[("Name", "abc1")]).ends_with("must match pattern [a-z]+"));
}

#[test]
fn numbers_and_their_bounds() {
    let t = parse(&template(
        "  Size:\n    Type: Number\n    MinValue: 1\n    MaxValue: 10.5",
    ));
    assert_eq!(
        link_error(&t, &[("Size", "many")]),
        "Parameters.Size (line 2, column 3): Parameter 'Size' must be a number."
    );
    assert_eq!(
        link_error(&t, &[("Size", "0")]),
        "Parameters.Size (line 2, column 3): Parameter 'Size' must be a number not less than 1"
    );
    assert_eq!(
        link_error(&t, &[("Size", "11")]),
        "Parameters.Size (line 2, column 3): Parameter 'Size' must be a number not greater than 10.5"
    );
    assert_eq!(
        link(&t, &[("Size", "2.5")]).parameters[0].value,
        ParameterValue::String("2.5".into())
    );
}

#[test]
fn lists() {
    let t = parse(&template(
        "  Sizes:\n    Type: List<Number>\n    MaxValue: 5\n  Names:\n    Type: CommaDelimitedList\n    AllowedValues: [a, b, c]\n  Subnets:\n    Type: List<AWS::EC2::Subnet::Id>",
    ));
    let plan = link(
        &t,
        &[
            ("Sizes", "1, 2"),
            ("Names", "a,c"),
            ("Subnets", "subnet-1,subnet-2"),
        ],
    );
    assert_eq!(
        plan.parameters[0].value,
        ParameterValue::List(vec!["1".into(), "2".into()])
    );
    assert_eq!(
        plan.parameters[1].value,
        ParameterValue::List(vec!["a".into(), "c".into()])
    );
    assert_eq!(
        plan.parameters[2].value,
        ParameterValue::List(vec!["subnet-1".into(), "subnet-2".into()])
    );
    assert_eq!(
        link_error(&t, &[("Sizes", "1,x"), ("Names", "a,d"), ("Subnets", "s")]),
        "Parameters.Sizes (line 2, column 3): Parameter 'Sizes' must be a number.\n\
         Parameters.Names (line 5, column 3): Parameter 'Names' must be one of AllowedValues"
    );
    assert_eq!(
        link_error(&t, &[("Sizes", "1,6"), ("Names", "a"), ("Subnets", "s")]),
        "Parameters.Sizes (line 2, column 3): Parameter 'Sizes' must be a number not greater than 5"
    );
}

#[test]
fn constraint_description_replaces_the_reason() {
    let t = parse(&template(
        "  Flag:\n    Type: String\n    AllowedValues: ['true', 'false']\n    ConstraintDescription: Must specify 'true' or 'false'\n  Id:\n    Type: String\n    Default: abc\n    AllowedPattern: '\\w+'\n    ConstraintDescription: word characters only",
    ));
    assert_eq!(
        link_error(&t, &[("Flag", "maybe"), ("Id", "a b")]),
        "Parameters.Flag (line 2, column 3): Parameter Flag failed to satisfy constraint: Must specify 'true' or 'false'\n\
         Parameters.Id (line 6, column 3): Parameter Id failed to satisfy constraint: word characters only"
    );
}

#[test]
fn defaults_are_checked_when_the_template_is_read() {
    assert_eq!(
        parse_error(&template(
            "  Naming:\n    Type: String\n    Default: aws-ab-\n    MinLength: 12"
        )),
        "Parameters.Naming.Default (line 4, column 14): Parameter 'Naming' must contain at least 12 characters"
    );
}

#[test]
fn no_echo_values_are_masked_when_shown() {
    let t = parse(&template(
        "  Secret:\n    Type: String\n    NoEcho: true\n  Plain:\n    Type: String",
    ));
    let plan = link(&t, &[("Secret", "hunter2"), ("Plain", "visible")]);
    assert_eq!(plan.parameters[0].shown_value(), "****");
    assert_eq!(plan.parameters[0].given, "hunter2");
    assert_eq!(plan.parameters[1].shown_value(), "visible");
}

#[test]
fn declaration_errors() {
    assert_eq!(
        parse_error(&template("  A:\n    Description: no type")),
        "Parameters.A (line 2, column 3): Template format error: Every Parameters object must contain a Type member."
    );
    assert_eq!(
        parse_error(&template("  A:\n    Type: Integer")),
        "Parameters.A.Type (line 3, column 11): Template format error: Unrecognized parameter type: Integer"
    );
    assert_eq!(
        parse_error(&template("  A:\n    Type: String\n    Required: true")),
        "Parameters.A.Required (line 4, column 5): Template format error: Invalid template parameter property 'Required'"
    );
    assert_eq!(
        parse_error(&template(
            "  A:\n    Type: String\n    AllowedValues:\n      staging\n      prod"
        )),
        "Parameters.A.AllowedValues (line 5, column 7): Template format error: Every AllowedValues member must be a list."
    );
    assert_eq!(
        parse_error(&template("  my-param:\n    Type: String")),
        "Parameters.my-param (line 2, column 3): Template format error: Parameter name my-param is non alphanumeric."
    );
    assert_eq!(
        parse_error(&template(
            "  A:\n    Type: String\n    AllowedPattern: '[a-'"
        )),
        "Parameters.A.AllowedPattern (line 4, column 21): Template format error: AllowedPattern [a- of parameter A is not a valid regular expression; invalid character class range, the start must be <= the end"
    );
}

#[test]
fn aws_specific_and_ssm_types() {
    let t = parse(&template(
        "  Vpc:\n    Type: AWS::EC2::VPC::Id\n  Key:\n    Type: AWS::SSM::Parameter::Name\n  Ami:\n    Type: AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>\n    Default: /aws/service/ami",
    ));
    assert_eq!(
        link_error(&t, &[("Vpc", "vpc-1"), ("Key", "/my/key")]),
        "Parameters.Ami (line 6, column 3): Parameter 'Ami' has type AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>: rolewright has no Systems Manager Parameter Store to read it from; declare it as String and pass the value"
    );
    let t = parse(&template(
        "  Vpc:\n    Type: AWS::EC2::VPC::Id\n  Key:\n    Type: AWS::SSM::Parameter::Name",
    ));
    let plan = link(&t, &[("Vpc", "vpc-1"), ("Key", "/my/key")]);
    assert_eq!(
        plan.parameters[0].value,
        ParameterValue::String("vpc-1".into())
    );
    assert_eq!(
        plan.parameters[1].value,
        ParameterValue::String("/my/key".into())
    );
}
