//! Criterion benchmark: building the seeds' personas with every VPC/KMS combination, and every
//! activity alone in every variant.
#![allow(
    missing_docs,
    reason = "criterion's macros generate undocumented functions"
)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use rolewright_catalog::{Catalog, PERSONAS, PersonaOrigin, RoleSpec};

fn spec(persona: &str, vpc: bool, kms: bool) -> RoleSpec {
    let account = "111122223333";
    let mut spec = RoleSpec::new(persona, persona, account, "us-east-1");
    spec.set("S3Buckets", ["ml-data", "ml-artifacts"]);
    spec.set(
        "ECRRepoArns",
        [format!("arn:aws:ecr:us-east-1:{account}:repository/ml")],
    );
    spec.set(
        "PassRoles",
        [format!("arn:aws:iam::{account}:role/SageMaker-compute")],
    );
    spec.set("WorkGroupNames", ["primary"]);
    spec.set("GlueDbNames", ["ml_db"]);
    spec.set("KendraIndexIds", ["0123456789abcdef0123456789abcdef"]);
    spec.set("MlflowTrackingServers", ["mlflow-1"]);
    if vpc {
        spec.set("VpcSubnets", ["subnet-0abc", "subnet-0def"]);
        spec.set("VpcSecurityGroups", ["sg-0abc"]);
    }
    if kms {
        spec.set(
            "DataKmsKeys",
            [format!("arn:aws:kms:us-east-1:{account}:key/data")],
        );
        spec.set(
            "VolumeKmsKeys",
            [format!("arn:aws:kms:us-east-1:{account}:key/volume")],
        );
    }
    spec
}

/// The seeds' three personas (not custom, not the console variants, so the count stays that of
/// BENCHMARKS.md) and every activity alone, each in the 4 VPC/KMS combinations.
fn all_specs(catalog: &Catalog) -> Vec<RoleSpec> {
    let mut specs = Vec::new();
    for (vpc, kms) in [(false, false), (true, false), (false, true), (true, true)] {
        for p in PERSONAS
            .iter()
            .filter(|p| p.id != "custom" && p.origin == PersonaOrigin::Seeds)
        {
            specs.push(spec(p.id, vpc, kms));
        }
        for a in catalog.activities() {
            let mut s = spec("custom", vpc, kms);
            s.name_suffix = a.id.clone();
            s.add_activities.push(a.id.clone());
            specs.push(s);
        }
    }
    specs
}

fn bench(c: &mut Criterion) {
    let catalog = Catalog::builtin();
    let specs = all_specs(&catalog);
    let name = format!("build_all_{}_roles", specs.len());
    c.bench_function(&name, |b| {
        b.iter(|| {
            for s in &specs {
                let _ = black_box(catalog.build(black_box(s)));
            }
        })
    });
    c.bench_function("load_builtin_catalog", |b| b.iter(Catalog::builtin));
}

criterion_group!(benches, bench);
criterion_main!(benches);
