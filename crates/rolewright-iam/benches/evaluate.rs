//! Criterion benchmarks of the engine: parse + compile of a Data Scientist role, decisions on
//! that role, and decisions on the Strict cases of the iam-simulate corpus (when it is present).
#![allow(
    missing_docs,
    reason = "criterion's macros generate undocumented functions"
)]

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rolewright_iam::case::parse_cases;
use rolewright_iam::{CompiledPolicy, PolicyDocument, PolicySet, sample};

fn role_set(texts: &[String]) -> PolicySet {
    texts.iter().fold(PolicySet::new(), |set, text| {
        match PolicyDocument::parse(text) {
            Ok(doc) => set.with_identity(CompiledPolicy::new(&doc)),
            Err(_) => set,
        }
    })
}

fn data_scientist(c: &mut Criterion) {
    let texts = sample::data_scientist_policy_texts();
    let mut group = c.benchmark_group("data_scientist_role");
    group.throughput(Throughput::Elements(1));
    group.bench_function("parse_and_compile", |b| {
        b.iter(|| role_set(black_box(&texts)))
    });
    let set = role_set(&texts);
    let requests = sample::data_scientist_requests();
    group.throughput(Throughput::Elements(requests.len() as u64));
    group.bench_function("evaluate_10_requests", |b| {
        b.iter(|| {
            for r in &requests {
                black_box(set.evaluate(black_box(r)));
            }
        })
    });
    group.finish();
}

fn corpus(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/conformance/iam-simulate/engine");
    let mut prepared = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            eprintln!(
                "corpus not found at {}: skipping the corpus benchmark",
                dir.display()
            );
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(text) = std::fs::read_to_string(&path)
                && let Ok(cases) = parse_cases(&text)
            {
                prepared.extend(
                    cases
                        .iter()
                        .filter(|c| !c.is_discovery())
                        .filter_map(|c| c.prepare().ok()),
                );
            }
        }
    }
    if prepared.is_empty() {
        return;
    }
    let mut group = c.benchmark_group("iam_simulate_corpus");
    group.throughput(Throughput::Elements(prepared.len() as u64));
    group.bench_function("evaluate_strict_cases", |b| {
        b.iter(|| {
            for (set, request) in &prepared {
                black_box(set.evaluate(black_box(request)));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, data_scientist, corpus);
criterion_main!(benches);
