//! The YAML reader against serde_norway on the same texts: both must read the same value, with
//! CloudFormation's short forms taken as their long forms. The texts avoid what YAML 1.1 (which
//! CloudFormation and this reader follow) and YAML 1.2 (serde_norway) read differently:
//! `yes`/`no`/`on`/`off`, octal `012` and `1_000`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

use proptest::prelude::*;
use rolewright_cfn::read_document;
use serde_json::{Map, Value, json};

/// serde_norway's value as JSON, tags written as CloudFormation's long forms.
fn oracle(text: &str) -> Value {
    let value: serde_norway::Value = serde_norway::from_str(text).unwrap();
    to_json(value)
}

fn to_json(value: serde_norway::Value) -> Value {
    use serde_norway::Value as Y;
    match value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            serde_json::from_str(&n.to_string()).unwrap_or(Value::String(n.to_string()))
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(to_json).collect()),
        Y::Mapping(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                let key = match to_json(k) {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                out.insert(key, to_json(v));
            }
            Value::Object(out)
        }
        Y::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!').to_string();
            let mut inner = to_json(tagged.value);
            if inner.is_null() {
                inner = json!("");
            }
            if name == "GetAtt"
                && let Value::String(s) = &inner
                && let Some((a, b)) = s.split_once('.')
            {
                inner = json!([a, b]);
            }
            let key = if name == "Ref" || name == "Condition" {
                name
            } else {
                format!("Fn::{name}")
            };
            json!({ key: inner })
        }
    }
}

fn ours(text: &str) -> Value {
    match read_document(text) {
        Ok(node) => node.to_json(),
        Err(e) => panic!("{e}\n---\n{text}"),
    }
}

fn same(text: &str) {
    assert_eq!(ours(text), oracle(text), "\n---\n{text}");
}

#[test]
fn the_sample_templates_read_alike() {
    for name in ["studio_domain.yaml", "user_profile.yaml"] {
        let path = format!("{}/tests/templates/{name}", env!("CARGO_MANIFEST_DIR"));
        same(&std::fs::read_to_string(path).unwrap());
    }
}

#[test]
fn block_and_flow_forms_read_alike() {
    let cases = [
        "a: 1\nb: [1, 2, {c: d}]\n",
        "- a\n- - b\n  - c\n-\n  d: e\n- f: g\n  h: i\n",
        "key:\n- a\n- b\nother: 1\n",
        "a: !Sub 'x-${AWS::Region}'\nb: !Sub\n  - '${A}-${B}'\n  - A: 1\n    B: !Ref X\n",
        "a: !Select [0, !GetAZs '']\nb: !Select [0, !GetAZs ]\nc: !GetAZs\n",
        "a: !If [Cond, !Ref A, !Ref 'AWS::NoValue']\n",
        "a: !Join\n  - ','\n  - - !GetAtt R.Arn\n    - !GetAtt [R, Arn]\n",
        "a: !Equals [!Ref P, '']\nb: !Not [!Condition C]\nc: !And [!Condition A, !Or [!Condition B, !Condition C]]\n",
        "a: !FindInMap [M, !Ref 'AWS::Region', K]\nb: !Base64 text\nc: !ImportValue name\nd: !Cidr [10.0.0.0/16, 4, 8]\n",
        "a: |\n  line 1\n\n  line 3\n    indented\nb: >\n  folded\n  line\n\n  next\n    kept\n  end\nc: |-\n  strip\n\nd: |+\n  keep\n\n\ne: x\n",
        "a: >-\n\n  leading blank\nb: |2\n    two extra\nc: end\n",
        "a: \"multi\n  line\n\n  quoted\"\nb: 'single\n  line'\nc: \"esc\\\n  aped\"\n",
        "a: plain\n  multi line\n\n  text\nb: 2\n",
        "a: 1.5\nb: -2\nc: 1e3\nd: 0x10\ne: ~\nf: null\ng: true\nh: False\ni: 'true'\nj: 2010-09-09\n",
        "a: &anchor\n  x: 1\nb: *anchor\n",
        "# c\n---\na: 1 # c\n# c\n...\n",
        "Resources:\n  R:\n    Type: T\n    Properties:\n      P: \"a # not a comment\"\n      Q: a#b\n",
        "a: {b: [1, {c: [d, e]}], f: g}\nh: [\n  i,\n  j\n]\n",
        "\"quoted key\": 1\n'single key': 2\n",
        "a: 1\r\nb:\r\n  - x\r\n  - y\r\n",
        "\u{feff}a: 1\n",
        "a: b\t\nc:\t1\n",
        "list:\n  - a\n# a comment at column 0\n  - b\n    # indented comment\n  - c\n",
        "key  : value\nother:    # comment\n  nested: 1\nempty:\nnext: 2\n",
        "- # comment\n  a: 1\n-   b: 2\n    c: 3\n",
        "a: |2\n    two extra spaces\n   one extra\nb: >\n  folded\n    more indented\n  back\n",
        "'it''s': \"a \\\"q\\\"\"\n",
        "seq: &s [1, 2]\nuse: [*s, *s]\nmap: &m {a: 1}\nagain: *m\n",
        "- first item that\n  wraps over lines\n- second\n",
        "a: [\n  1, # one\n  2  # two\n]\n",
        "Outputs:\n  Arn:\n    Value: !GetAtt\n      - Role\n      - Arn\n    Export:\n      Name: !Sub \"${AWS::StackName}-arn\"\n",
        "a: !Sub\n  - |\n    #!/bin/bash\n    echo ${Name}\n  - Name: !Ref N\n",
        "a: 'multi\n\n  para'\nb: \"x\\n\\ty\"\n",
        "a:\n- b\n-\n- c\n",
        "top:\n    deep:\n        deeper: 1\n    back: 2\n",
        "a: -1.5e+3\nb: +12\nc: 0.5\n",
        "k: v # trailing\n# end\n",
    ];
    for text in cases {
        same(text);
    }
}

#[test]
fn the_catalog_emitter_reads_back() {
    let catalog = rolewright_catalog::Catalog::builtin();
    let persona = rolewright_catalog::PERSONAS
        .iter()
        .find(|p| p.id == "data-scientist")
        .unwrap();
    let mut spec = rolewright_catalog::RoleSpec::new(persona.id, "ds", "111122223333", "us-east-1");
    spec.set("S3Buckets", ["ml-data"]);
    spec.set(
        "ECRRepoArns",
        ["arn:aws:ecr:us-east-1:111122223333:repository/ml"],
    );
    let role = catalog.build(&spec).unwrap();
    let yaml = rolewright_catalog::emit::cloudformation_yaml(&role);
    same(&yaml);
    assert_eq!(
        ours(&yaml),
        rolewright_catalog::emit::cloudformation_template(&role)
    );
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|n| json!(n)),
        "[ -~]{0,12}".prop_map(Value::String),
        "[a-z:/*${}#'\"\\\\ .-]{0,10}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map("[A-Za-z][A-Za-z0-9:]{0,8}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn emitted_yaml_reads_back_as_the_same_value(value in json_value()) {
        let doc = json!({ "Root": value });
        let text = rolewright_catalog::emit::to_yaml(&doc);
        prop_assert_eq!(ours(&text), doc);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Any text, however broken, is read or refused with a position; never a panic.
    #[test]
    fn broken_texts_are_refused_not_panicked_on(text in "[ \t\na-z0-9:!&*'\"{}\\[\\],#|>~?%@`.-]{0,60}") {
        let _ = read_document(&text);
    }

    /// A sample template with one character removed or duplicated reads or fails cleanly.
    #[test]
    fn damaged_templates_are_refused_not_panicked_on(at in 0usize..1000, duplicate in any::<bool>()) {
        let path = format!("{}/tests/templates/studio_domain.yaml", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(path).unwrap();
        let chars: Vec<char> = text.chars().collect();
        let at = at % chars.len();
        let mut damaged: String = chars[..at].iter().collect();
        if duplicate {
            damaged.push(chars[at]);
            damaged.push(chars[at]);
        }
        damaged.extend(&chars[at + 1..]);
        if let Err(e) = rolewright_cfn::Template::parse(&damaged) {
            prop_assert!(e.first().location.line >= 1);
        }
    }
}
