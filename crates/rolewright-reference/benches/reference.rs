//! Loading the embedded snapshot and looking actions up in it.
#![allow(
    missing_docs,
    reason = "criterion's macros generate undocumented functions"
)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rolewright_reference::Reference;

const SNAPSHOT: &str = include_str!("../data/services.txt");

fn load(c: &mut Criterion) {
    let mut group = c.benchmark_group("load");
    group.throughput(Throughput::Bytes(SNAPSHOT.len() as u64));
    group.sample_size(30);
    // Every service, as `Reference::parse` reads them; `Reference::embedded` reads only the
    // service lines at first and each service when it is first used.
    group.bench_function("parse snapshot", |b| {
        b.iter_with_large_drop(|| Reference::parse(black_box(SNAPSHOT)))
    });
    group.finish();
}

fn lookup(c: &mut Criterion) {
    let reference = Reference::embedded();
    let mut group = c.benchmark_group("lookup");
    group.throughput(Throughput::Elements(1));
    group.bench_function("action sagemaker:createtrainingjob", |b| {
        b.iter(|| reference.action(black_box("sagemaker:createtrainingjob")))
    });
    group.bench_function("expand sagemaker:*", |b| {
        b.iter(|| reference.expand(black_box("sagemaker:*")))
    });
    group.bench_function("expand s3:Get*Acl", |b| {
        b.iter(|| reference.expand(black_box("s3:Get*Acl")))
    });
    group.bench_function("expand *", |b| b.iter(|| reference.expand(black_box("*"))));
    group.bench_function("condition_key aws:RequestTag/team", |b| {
        b.iter(|| reference.condition_key(black_box("aws:RequestTag/team")))
    });
    group.bench_function("resource_types_for kms:Decrypt key ARN", |b| {
        b.iter(|| {
            reference.resource_types_for(
                black_box("kms:Decrypt"),
                black_box(
                    "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                ),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, load, lookup);
criterion_main!(benches);
