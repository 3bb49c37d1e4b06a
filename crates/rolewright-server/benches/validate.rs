//! Criterion benchmarks of model-driven input validation: a typical valid CreateUserProfile, the
//! same request with two failures (the message is built), and a ListUserProfiles page request.
#![allow(
    missing_docs,
    reason = "criterion's macros generate undocumented functions"
)]

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rolewright_server::service_model::ServiceModel;
use serde_json::json;

fn validate(c: &mut Criterion) {
    let started = Instant::now();
    let model = ServiceModel::sagemaker();
    let first = json!({"DomainId": "d-abc123def456", "UserProfileName": "warm-up"});
    let _ = model.validate_input("CreateUserProfile", &first);
    eprintln!(
        "first use (parse the model, compile the patterns met): {:?}",
        started.elapsed()
    );

    let valid = json!({
        "DomainId": "d-abc123def456",
        "UserProfileName": "alice-data-scientist",
        "Tags": [{"Key": "team", "Value": "ml"}, {"Key": "cost-centre", "Value": "4711"}],
        "UserSettings": {
            "ExecutionRole": "arn:aws:iam::123456789012:role/SageMakerDataScientist",
            "SecurityGroups": ["sg-0123456789abcdef0"],
            "StudioWebPortal": "ENABLED",
            "DefaultLandingUri": "studio::",
            "StudioWebPortalSettings": {"HiddenMlTools": ["JumpStart", "Projects"]}
        }
    });
    let invalid = json!({
        "DomainId": "d-abc123def456",
        "UserProfileName": "alice_data_scientist",
        "UserSettings": {"ExecutionRole": "arn:aws:iam::1:r"}
    });
    let list =
        json!({"DomainIdEquals": "d-abc123def456", "MaxResults": 50, "SortBy": "CreationTime"});

    let mut group = c.benchmark_group("validate_input");
    group.throughput(Throughput::Elements(1));
    group.bench_function("create_user_profile_valid", |b| {
        b.iter(|| model.validate_input("CreateUserProfile", black_box(&valid)))
    });
    group.bench_function("create_user_profile_3_failures", |b| {
        b.iter(|| model.validate_input("CreateUserProfile", black_box(&invalid)))
    });
    group.bench_function("list_user_profiles", |b| {
        b.iter(|| model.validate_input("ListUserProfiles", black_box(&list)))
    });
    group.finish();
}

criterion_group!(benches, validate);
criterion_main!(benches);
