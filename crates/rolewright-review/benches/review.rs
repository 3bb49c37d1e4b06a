//! who-can and access-review on a generated account of 1,000 roles and 300 users, end to end
//! from the text of an `aws iam get-account-authorization-details` export: reading it,
//! compiling every policy and building the graph, then answering. Medians of repeated runs.
//!
//! The roles are built by the catalog from its personas' activities, as `rolewright role new`
//! builds them: 400 SageMaker compute roles (Access Required AWS Services, for their team's
//! bucket and repository), 400 data scientist roles (passing their team's compute roles; every
//! other one with VPC subnets and security groups, every third with KMS keys) and 200 MLOps
//! roles. Data scientist and MLOps roles also trust the account, and each of the 300 users may
//! assume three roles of its team and is in its team's group (20 teams, each a group with a
//! customer managed policy). A few principals carry the risks a review must find: three
//! administrators, a user who may write its own policy, one who may create access keys for any
//! user, one who may pass any role to SageMaker (and a platform role with AdministratorAccess
//! that SageMaker may assume), and a role that may attach policies to itself.
//!
//! `cargo bench -p rolewright-review --bench review` prints the figures;
//! `-- --write FILE` also writes the account, for timing the CLI on it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    reason = "a benchmark program"
)]

use std::time::{Duration, Instant};

use rolewright_catalog::{Catalog, RoleSpec};
use rolewright_iam::RequestContext;
use rolewright_review::{AccessAnalysis, AccountSnapshot, FindingKind, Query};
use serde_json::{Value, json};

const ACCOUNT: &str = "123456789012";
const TEAMS: usize = 20;
const RUNS: usize = 5;

fn arn(kind: &str, name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:{kind}/{name}")
}

fn doc(statements: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn inline(name: &str, document: Value) -> Value {
    json!({"PolicyName": name, "PolicyDocument": document})
}

fn attached(arn: &str) -> Value {
    json!({"PolicyName": arn.rsplit('/').next().unwrap(), "PolicyArn": arn})
}

fn managed(arn: &str, document: Value) -> Value {
    json!({"PolicyName": arn.rsplit('/').next().unwrap(), "Arn": arn, "Path": "/",
        "DefaultVersionId": "v1", "AttachmentCount": 1, "IsAttachable": true,
        "PolicyVersionList": [{"Document": document, "VersionId": "v1", "IsDefaultVersion": true}]})
}

/// The account, as the AWS CLI prints it.
fn account() -> Value {
    let catalog = Catalog::builtin();
    let mut roles = Vec::new();
    let mut policies: Vec<Value> = Vec::new();
    let mut aws_managed: Vec<String> = Vec::new();
    let bucket = |team: usize| format!("team-{team}-data");
    let compute = |i: usize| format!("SageMaker-compute-{i}");
    let mut role_json = |spec: &RoleSpec, trust_account: bool| {
        let role = catalog
            .build(spec)
            .unwrap_or_else(|e| panic!("{}: {e}", spec.name_suffix));
        let mut trust = role.trust_policy.clone();
        if trust_account {
            trust["Statement"].as_array_mut().unwrap().push(json!({
                "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
                "Action": "sts:AssumeRole"}));
        }
        let mut attached_list: Vec<Value> = Vec::new();
        for p in &role.managed_policies {
            let policy_arn = format!("arn:aws:iam::{ACCOUNT}:policy/{}", p.name);
            policies.push(managed(&policy_arn, p.document.clone()));
            attached_list.push(attached(&policy_arn));
        }
        for a in &role.attached_policy_arns {
            if !aws_managed.contains(a) {
                aws_managed.push(a.clone());
            }
            attached_list.push(attached(a));
        }
        roles.push(json!({
            "Path": "/", "RoleName": role.name, "RoleId": format!("AROA{}", roles.len()),
            "Arn": arn("role", &role.name), "AssumeRolePolicyDocument": trust,
            "RolePolicyList": role.inline_policies.iter()
                .map(|p| inline(&p.name, p.document.clone())).collect::<Vec<_>>(),
            "AttachedManagedPolicies": attached_list,
            "Tags": role.tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect::<Vec<_>>(),
        }));
    };
    for i in 0..400 {
        let team = i % TEAMS;
        let mut spec = RoleSpec::new("compute", &format!("compute-{i}"), ACCOUNT, "us-east-1");
        spec.set("S3Buckets", [bucket(team)]);
        spec.set(
            "ECRRepoArns",
            [format!(
                "arn:aws:ecr:us-east-1:{ACCOUNT}:repository/team-{team}"
            )],
        );
        role_json(&spec, false);
    }
    for i in 0..600 {
        let team = i % TEAMS;
        let (persona, suffix) = if i < 400 {
            ("data-scientist", format!("ds-{i}"))
        } else {
            ("mlops", format!("mlops-{i}"))
        };
        let mut spec = RoleSpec::new(persona, &suffix, ACCOUNT, "us-east-1");
        spec.set(
            "PassRoles",
            [
                arn("role", &compute(team)),
                arn("role", &compute(team + TEAMS)),
            ],
        );
        spec.set("S3Buckets", [bucket(team)]);
        if i % 2 == 0 {
            spec.set(
                "VpcSubnets",
                [format!("subnet-{team:08x}a"), format!("subnet-{team:08x}b")],
            );
            spec.set("VpcSecurityGroups", [format!("sg-{team:08x}")]);
        }
        if i % 3 == 0 {
            let key = format!(
                "arn:aws:kms:us-east-1:{ACCOUNT}:key/{team:08x}-0000-0000-0000-000000000000"
            );
            spec.set("DataKmsKeys", [key.clone()]);
            spec.set("VolumeKmsKeys", [key]);
        }
        role_json(&spec, true);
    }
    // The risks.
    let admin = "arn:aws:iam::aws:policy/AdministratorAccess";
    roles.push(json!({
        "RoleName": "platform-admin", "Arn": arn("role", "platform-admin"),
        "AssumeRolePolicyDocument": doc(json!([{"Effect": "Allow",
            "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}])),
        "AttachedManagedPolicies": [attached(admin)]}));
    roles.push(json!({
        "RoleName": "self-attacher", "Arn": arn("role", "self-attacher"),
        "AssumeRolePolicyDocument": doc(json!([{"Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}])),
        "RolePolicyList": [inline("attach", doc(json!([{"Effect": "Allow",
            "Action": "iam:AttachRolePolicy", "Resource": arn("role", "self-attacher")}])))]}));
    let mut groups = Vec::new();
    for team in 0..TEAMS {
        let policy_arn = format!("arn:aws:iam::{ACCOUNT}:policy/team-{team}-read");
        policies.push(managed(
            &policy_arn,
            doc(
                json!([{"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetObject"],
                "Resource": [format!("arn:aws:s3:::{}", bucket(team)),
                    format!("arn:aws:s3:::{}/*", bucket(team))]}]),
            ),
        ));
        groups.push(json!({"GroupName": format!("team-{team}"), "Arn": arn("group", &format!("team-{team}")),
            "GroupPolicyList": [], "AttachedManagedPolicies": [attached(&policy_arn)]}));
    }
    let mut users = Vec::new();
    for j in 0..300 {
        let team = j % TEAMS;
        let name = format!("user-{j}");
        let team_roles: Vec<String> = (0..3)
            .map(|k| {
                let i = team + TEAMS * ((j / TEAMS + k) % 30);
                if i < 400 {
                    arn("role", &format!("SageMaker-ds-{i}"))
                } else {
                    arn("role", &format!("SageMaker-mlops-{i}"))
                }
            })
            .collect();
        let mut statements = vec![json!({"Sid": "AssumeTeamRoles", "Effect": "Allow",
            "Action": "sts:AssumeRole", "Resource": team_roles})];
        let mut attached_list = Vec::new();
        match j {
            0..=2 => attached_list.push(attached(admin)),
            3 => statements.push(json!({"Effect": "Allow", "Action": "iam:PutUserPolicy",
                "Resource": arn("user", &name)})),
            4 => statements.push(json!({"Effect": "Allow", "Action": "iam:CreateAccessKey",
                "Resource": arn("user", "*")})),
            5 => statements.push(json!({"Effect": "Allow",
                "Action": ["iam:PassRole", "sagemaker:CreateTrainingJob"], "Resource": "*"})),
            _ => {}
        }
        users.push(json!({"UserName": name, "Arn": arn("user", &name),
            "UserPolicyList": [inline("team", doc(Value::Array(statements)))],
            "GroupList": [format!("team-{team}")], "AttachedManagedPolicies": attached_list}));
    }
    if !aws_managed.iter().any(|a| a == admin) {
        aws_managed.push(admin.to_string());
    }
    for a in &aws_managed {
        let document = if a == admin {
            doc(json!([{"Effect": "Allow", "Action": "*", "Resource": "*"}]))
        } else {
            // The benchmark has no copy of other AWS managed policies: a read-only stand-in.
            doc(
                json!([{"Effect": "Allow", "Action": ["sagemaker:Describe*", "sagemaker:List*"], "Resource": "*"}]),
            )
        };
        policies.push(managed(a, document));
    }
    json!({"UserDetailList": users, "GroupDetailList": groups, "RoleDetailList": roles,
        "Policies": policies, "IsTruncated": false})
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let text = account().to_string();
    if let Some(at) = args.iter().position(|a| a == "--write") {
        let path = args.get(at + 1).expect("--write FILE");
        std::fs::write(path, &text).unwrap();
        println!("wrote {path} ({} bytes)", text.len());
    }
    let queries = [
        Query::new("s3:GetObject", Some("arn:aws:s3:::team-3-data/train.csv")).unwrap(),
        Query::new("sagemaker:CreateTrainingJob", None).unwrap(),
        Query::new("iam:PassRole", Some(&arn("role", "SageMaker-compute-7"))).unwrap(),
    ];
    let (mut read, mut build) = (Vec::new(), Vec::new());
    let mut who: Vec<Vec<Duration>> = vec![Vec::new(); queries.len()];
    let mut review = Vec::new();
    let mut who_total: Vec<Vec<Duration>> = vec![Vec::new(); queries.len()];
    let mut review_total = Vec::new();
    let mut last = None;
    for _ in 0..RUNS {
        let start = Instant::now();
        let snapshot = AccountSnapshot::from_json(&text).unwrap();
        let t_read = start.elapsed();
        let analysis = AccessAnalysis::new(&snapshot, &RequestContext::new());
        let t_build = start.elapsed() - t_read;
        read.push(t_read);
        build.push(t_build);
        for (i, q) in queries.iter().enumerate() {
            let s = Instant::now();
            let answer = analysis.who_can(q);
            who[i].push(s.elapsed());
            who_total[i].push(t_read + t_build + s.elapsed());
            std::hint::black_box(answer);
        }
        let s = Instant::now();
        let findings = analysis.access_review();
        review.push(s.elapsed());
        review_total.push(t_read + t_build + s.elapsed());
        last = Some((snapshot, analysis, findings));
    }
    let (snapshot, analysis, findings) = last.unwrap();
    let (nodes, edges) = analysis.graph_size();
    println!(
        "account: {} users, {} groups, {} roles, {} managed policies, {} bytes; graph: {nodes} nodes, {edges} edges",
        snapshot.users.len(),
        snapshot.groups.len(),
        snapshot.roles.len(),
        snapshot.policies.len(),
        text.len()
    );
    println!(
        "medians of {RUNS} runs: read {}, compile and build the graph {}",
        ms(median(read)),
        ms(median(build))
    );
    for (i, q) in queries.iter().enumerate() {
        let answer = analysis.who_can(q);
        let direct = answer.iter().filter(|a| a.direct).count();
        println!(
            "who-can {} on {}: {} principals ({direct} direct): answer {}, end to end {}",
            q.action,
            q.resource,
            answer.len(),
            ms(median(who[i].clone())),
            ms(median(who_total[i].clone()))
        );
    }
    let admins = findings
        .iter()
        .filter(|f| f.finding == FindingKind::Administrator)
        .count();
    println!(
        "access-review: {admins} administrators, {} can become one: answer {}, end to end {}",
        findings.len() - admins,
        ms(median(review)),
        ms(median(review_total))
    );
}
