//! Every intrinsic function, in JSON and as YAML's short form, evaluated through linking and
//! resolution, and their errors with whole messages.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

mod common;

use common::{json_with, value_of, yaml_with};
use serde_json::{Value, json};

const PARAMETERS_YAML: &str = "Parameters:
  Name:
    Type: String
    Default: alice
  Subnets:
    Type: CommaDelimitedList
    Default: subnet-1,subnet-2
  Count:
    Type: Number
    Default: 3
Mappings:
  RegionMap:
    us-east-1:
      Ami: ami-east
      Zones: [a, b]
    eu-west-1:
      Ami: ami-west
Conditions:
  IsAlice: !Equals [!Ref Name, alice]
  IsBob: !Equals [!Ref Name, bob]";

const PARAMETERS_JSON: &str = r#""Parameters": {
    "Name": {"Type": "String", "Default": "alice"},
    "Subnets": {"Type": "CommaDelimitedList", "Default": "subnet-1,subnet-2"},
    "Count": {"Type": "Number", "Default": "3"}
  },
  "Mappings": {"RegionMap": {"us-east-1": {"Ami": "ami-east", "Zones": ["a", "b"]}, "eu-west-1": {"Ami": "ami-west"}}},
  "Conditions": {
    "IsAlice": {"Fn::Equals": [{"Ref": "Name"}, "alice"]},
    "IsBob": {"Fn::Equals": [{"Ref": "Name"}, "bob"]}
  },"#;

/// Evaluates the YAML short form and the JSON long form; both must give `expected`.
fn both(yaml: &str, json: &str, expected: Value) {
    assert_eq!(
        value_of(&yaml_with(PARAMETERS_YAML, yaml), &[]),
        Ok(expected.clone()),
        "YAML {yaml}"
    );
    assert_eq!(
        value_of(&json_with(PARAMETERS_JSON, json), &[]),
        Ok(expected),
        "JSON {json}"
    );
}

#[test]
fn ref_of_parameters_pseudo_parameters_and_resources() {
    both("!Ref Name", r#"{"Ref": "Name"}"#, json!("alice"));
    both(
        "!Ref Subnets",
        r#"{"Ref": "Subnets"}"#,
        json!(["subnet-1", "subnet-2"]),
    );
    // CloudFormation passes numbers as strings.
    both("!Ref Count", r#"{"Ref": "Count"}"#, json!("3"));
    both("!Ref Other", r#"{"Ref": "Other"}"#, json!("other-role"));
    both(
        "!Ref AWS::AccountId",
        r#"{"Ref": "AWS::AccountId"}"#,
        json!("111122223333"),
    );
    both(
        "!Ref AWS::Region",
        r#"{"Ref": "AWS::Region"}"#,
        json!("us-east-1"),
    );
    both(
        "!Ref AWS::Partition",
        r#"{"Ref": "AWS::Partition"}"#,
        json!("aws"),
    );
    both(
        "!Ref AWS::StackName",
        r#"{"Ref": "AWS::StackName"}"#,
        json!("test-stack"),
    );
    both(
        "!Ref AWS::StackId",
        r#"{"Ref": "AWS::StackId"}"#,
        json!(
            "arn:aws:cloudformation:us-east-1:111122223333:stack/test-stack/00000000-0000-0000-0000-000000000000"
        ),
    );
    both(
        "!Ref AWS::URLSuffix",
        r#"{"Ref": "AWS::URLSuffix"}"#,
        json!("amazonaws.com"),
    );
    both(
        "!Ref AWS::NotificationARNs",
        r#"{"Ref": "AWS::NotificationARNs"}"#,
        json!([]),
    );
}

#[test]
fn getatt_in_both_forms() {
    let arn = json!("arn:aws:iam::111122223333:role/other-role");
    both(
        "!GetAtt Other.Arn",
        r#"{"Fn::GetAtt": ["Other", "Arn"]}"#,
        arn.clone(),
    );
    both(
        "!GetAtt [Other, Arn]",
        r#"{"Fn::GetAtt": "Other.Arn"}"#,
        arn,
    );
}

#[test]
fn sub_in_both_forms_with_escapes() {
    both(
        "!Sub 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${Name}'",
        r#"{"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${Name}"}"#,
        json!("arn:aws:iam::111122223333:role/alice"),
    );
    both(
        "!Sub '${Other}/${Other.Arn}'",
        r#"{"Fn::Sub": "${Other}/${Other.Arn}"}"#,
        json!("other-role/arn:aws:iam::111122223333:role/other-role"),
    );
    both(
        "!Sub ['${Greeting}, ${Name}: ${!Literal} and ${!AWS::Region}', {Greeting: !Join ['', [hel, lo]]}]",
        r#"{"Fn::Sub": ["${Greeting}, ${Name}: ${!Literal} and ${!AWS::Region}", {"Greeting": {"Fn::Join": ["", ["hel", "lo"]]}}]}"#,
        json!("hello, alice: ${Literal} and ${AWS::Region}"),
    );
    // A variable of the map wins over a parameter of the same name.
    both(
        "!Sub ['${Name}', {Name: bob}]",
        r#"{"Fn::Sub": ["${Name}", {"Name": "bob"}]}"#,
        json!("bob"),
    );
}

#[test]
fn join_split_select() {
    both(
        "!Join [',', !Ref Subnets]",
        r#"{"Fn::Join": [",", {"Ref": "Subnets"}]}"#,
        json!("subnet-1,subnet-2"),
    );
    both(
        "!Join ['', [a, 1, true]]",
        r#"{"Fn::Join": ["", ["a", 1, true]]}"#,
        json!("a1true"),
    );
    both(
        "!Split [',', 'a,b,,c']",
        r#"{"Fn::Split": [",", "a,b,,c"]}"#,
        json!(["a", "b", "", "c"]),
    );
    both(
        "!Select [1, !Ref Subnets]",
        r#"{"Fn::Select": ["1", {"Ref": "Subnets"}]}"#,
        json!("subnet-2"),
    );
    both(
        "!Select [0, !Split ['/', !GetAtt Other.Arn]]",
        r#"{"Fn::Select": [0, {"Fn::Split": ["/", {"Fn::GetAtt": ["Other", "Arn"]}]}]}"#,
        json!("arn:aws:iam::111122223333:role"),
    );
}

#[test]
fn conditions_and_if() {
    both(
        "!If [IsAlice, yes-alice, not-alice]",
        r#"{"Fn::If": ["IsAlice", "yes-alice", "not-alice"]}"#,
        json!("yes-alice"),
    );
    both(
        "!If [IsBob, yes-bob, not-bob]",
        r#"{"Fn::If": ["IsBob", "yes-bob", "not-bob"]}"#,
        json!("not-bob"),
    );
    // The branch not taken is not evaluated: its missing mapping key is no error.
    both(
        "!If [IsAlice, kept, !FindInMap [RegionMap, nowhere, Ami]]",
        r#"{"Fn::If": ["IsAlice", "kept", {"Fn::FindInMap": ["RegionMap", "nowhere", "Ami"]}]}"#,
        json!("kept"),
    );
}

#[test]
fn equals_not_and_or_condition_in_conditions() {
    let yaml = |condition: &str| {
        yaml_with(
            &format!("{PARAMETERS_YAML}\n  Tested: {condition}"),
            "!If [Tested, 'true', 'false']",
        )
    };
    let json = |condition: &str| {
        json_with(
            &PARAMETERS_JSON.replace(
                r#""IsBob": {"Fn::Equals": [{"Ref": "Name"}, "bob"]}"#,
                &format!(r#""IsBob": {{"Fn::Equals": [{{"Ref": "Name"}}, "bob"]}}, "Tested": {condition}"#),
            ),
            r#"{"Fn::If": ["Tested", "true", "false"]}"#,
        )
    };
    let cases = [
        (
            "!Equals [!Ref Count, 3]",
            r#"{"Fn::Equals": [{"Ref": "Count"}, 3]}"#,
            "true",
        ),
        (
            "!Not [!Condition IsBob]",
            r#"{"Fn::Not": [{"Condition": "IsBob"}]}"#,
            "true",
        ),
        (
            "!And [!Condition IsAlice, !Condition IsBob]",
            r#"{"Fn::And": [{"Condition": "IsAlice"}, {"Condition": "IsBob"}]}"#,
            "false",
        ),
        (
            "!Or [!Condition IsAlice, !Condition IsBob]",
            r#"{"Fn::Or": [{"Condition": "IsAlice"}, {"Condition": "IsBob"}]}"#,
            "true",
        ),
        (
            "!Equals [!FindInMap [RegionMap, !Ref 'AWS::Region', Ami], ami-east]",
            r#"{"Fn::Equals": [{"Fn::FindInMap": ["RegionMap", {"Ref": "AWS::Region"}, "Ami"]}, "ami-east"]}"#,
            "true",
        ),
        (
            "!Equals [!Select [1, !Ref Subnets], subnet-2]",
            r#"{"Fn::Equals": [{"Fn::Select": [1, {"Ref": "Subnets"}]}, "subnet-2"]}"#,
            "true",
        ),
    ];
    for (y, j, expected) in cases {
        assert_eq!(value_of(&yaml(y), &[]), Ok(json!(expected)), "{y}");
        assert_eq!(value_of(&json(j), &[]), Ok(json!(expected)), "{j}");
    }
}

#[test]
fn find_in_map_base64_getazs_import_value_cidr() {
    both(
        "!FindInMap [RegionMap, !Ref 'AWS::Region', Ami]",
        r#"{"Fn::FindInMap": ["RegionMap", {"Ref": "AWS::Region"}, "Ami"]}"#,
        json!("ami-east"),
    );
    both(
        "!FindInMap [RegionMap, us-east-1, Zones]",
        r#"{"Fn::FindInMap": ["RegionMap", "us-east-1", "Zones"]}"#,
        json!(["a", "b"]),
    );
    both(
        "!Base64 hello",
        r#"{"Fn::Base64": "hello"}"#,
        json!("aGVsbG8="),
    );
    both(
        "!GetAZs ''",
        r#"{"Fn::GetAZs": ""}"#,
        json!(["us-east-1a", "us-east-1b", "us-east-1c"]),
    );
    both(
        "!GetAZs eu-west-1",
        r#"{"Fn::GetAZs": "eu-west-1"}"#,
        json!(["eu-west-1a", "eu-west-1b", "eu-west-1c"]),
    );
    both(
        "!Select [0, !GetAZs ]",
        r#"{"Fn::Select": [0, {"Fn::GetAZs": {"Ref": "AWS::Region"}}]}"#,
        json!("us-east-1a"),
    );
    both(
        "!Cidr [10.0.0.0/16, 2, 8]",
        r#"{"Fn::Cidr": ["10.0.0.0/16", "2", "8"]}"#,
        json!(["10.0.0.0/24", "10.0.1.0/24"]),
    );

    let mut stack = common::stack();
    stack.exports.insert(
        "shared-vpc".into(),
        rolewright_cfn::Export {
            value: "vpc-123".into(),
            stack_name: "network".into(),
        },
    );
    for text in [
        yaml_with("", "!ImportValue shared-vpc"),
        json_with("", r#"{"Fn::ImportValue": "shared-vpc"}"#),
    ] {
        let template = common::parse(&text);
        let plan = template.link(&stack, &common::values(&[])).unwrap();
        let properties = plan.resolve("R", &common::other_role()).unwrap();
        assert_eq!(properties["AssumeRolePolicyDocument"]["X"], "vpc-123");
    }
}

#[test]
fn no_value_removes_a_property_and_a_list_item() {
    let text = format!(
        "{PARAMETERS_YAML}
Resources:
  R:
    Type: AWS::IAM::Role
    Properties:
      RoleName: !If [IsBob, bob-role, !Ref 'AWS::NoValue']
      Description: !If [IsAlice, !Ref 'AWS::NoValue', described]
      AssumeRolePolicyDocument: {{}}
      ManagedPolicyArns:
        - arn:aws:iam::aws:policy/A
        - !If [IsBob, arn:aws:iam::aws:policy/B, !Ref 'AWS::NoValue']
"
    );
    let plan = common::link(&common::parse(&text), &[]);
    let properties = plan.resolve("R", &common::other_role()).unwrap();
    assert_eq!(
        serde_json::Value::Object(properties),
        json!({"AssumeRolePolicyDocument": {}, "ManagedPolicyArns": ["arn:aws:iam::aws:policy/A"]})
    );
}

fn yaml_error(expression: &str) -> String {
    value_of(&yaml_with(PARAMETERS_YAML, expression), &[]).unwrap_err()
}

#[test]
fn shape_errors_name_the_function_with_aws_texts() {
    let at = "Resources.R.Properties.AssumeRolePolicyDocument.X (line 31, column 12)";
    let cases = [
        (
            "!GetAtt Other",
            "Template error: every Fn::GetAtt object requires two non-empty parameters, the resource name and the resource attribute",
        ),
        (
            "!If [IsAlice, a]",
            "Template error: Fn::If requires a list argument with the first element being a condition",
        ),
        (
            "!FindInMap [RegionMap, a]",
            "Template error: every Fn::FindInMap object requires three parameters, the map name, map key and the attribute for return value",
        ),
        (
            "!Sub [a, b, c]",
            "Template error: One or more Fn::Sub intrinsic functions don't specify expected arguments. Specify a string as first argument, and an optional second argument to specify a mapping of values to replace in the string",
        ),
        (
            "!Sub '${not valid}'",
            "Template error: variable names in Fn::Sub syntax must contain only alphanumeric characters, underscores, periods, and colons",
        ),
        (
            "!Join [',']",
            "Template error: every Fn::Join object requires two parameters, (1) a string delimiter and (2) a list of strings to be joined or a function that returns a list of strings (such as Fn::GetAZs) to be joined.",
        ),
        (
            "!Split [',']",
            "Template error: every Fn::Split object requires two parameters, (1) a string delimiter and (2) a string to be split or a function that returns a string to be split.",
        ),
        (
            "!Select [0]",
            "Template error: Fn::Select requires a list argument with two elements: an integer index and a list",
        ),
        (
            "!Equals [a]",
            "Template error: every Fn::Equals object requires a list of 2 string parameters.",
        ),
        (
            "!Cidr [10.0.0.0/16]",
            "Template error: every Fn::Cidr object requires three parameters, an IPv4 CIDR block, a count of subnets and the number of subnet bits",
        ),
        (
            "{'Fn::Nope': 1}",
            "Template format error: Encountered unsupported function: Fn::Nope Supported functions are: [Fn::Base64, Fn::GetAtt, Fn::GetAZs, Fn::ImportValue, Fn::Join, Fn::Split, Fn::FindInMap, Fn::Select, Ref, Fn::Equals, Fn::If, Fn::Not, Condition, Fn::And, Fn::Or, Fn::Sub, Fn::Cidr]",
        ),
    ];
    for (expression, message) in cases {
        assert_eq!(
            yaml_error(expression),
            format!("{at}: {message}"),
            "{expression}"
        );
    }
    assert_eq!(
        yaml_error("!Length [a]"),
        format!(
            "{at}: Template format error: Encountered unsupported function: Fn::Length Supported functions are: [Fn::Base64, Fn::GetAtt, Fn::GetAZs, Fn::ImportValue, Fn::Join, Fn::Split, Fn::FindInMap, Fn::Select, Ref, Fn::Equals, Fn::If, Fn::Not, Condition, Fn::And, Fn::Or, Fn::Sub, Fn::Cidr]; `Fn::Length` cannot be used here: it needs the AWS::LanguageExtensions transform, which rolewright does not run"
        )
    );
}

#[test]
fn evaluation_errors_with_aws_texts() {
    let at = "Resources.R.Properties.AssumeRolePolicyDocument.X (line 31, column 12)";
    let cases = [
        (
            "!Select [5, !Ref Subnets]",
            "Template error: Fn::Select cannot select nonexistent value at index 5",
        ),
        (
            "!FindInMap [RegionMap, !Ref 'AWS::Region', Nothing]",
            "Template error: Unable to get mapping for RegionMap::us-east-1::Nothing",
        ),
        (
            "!FindInMap [NoMap, a, b]",
            "Template error: Mapping named 'NoMap' is not present in the 'Mappings' section of template",
        ),
        (
            "!Sub '${Subnets}'",
            "Template error: variable Subnets in Fn::Sub expression does not resolve to a string",
        ),
        (
            "!ImportValue missing-export",
            "No export named missing-export found.",
        ),
    ];
    for (expression, message) in cases {
        assert_eq!(
            yaml_error(expression),
            format!("{at}: {message}"),
            "{expression}"
        );
    }
}
