//! Fuzzes the policy reader for every policy type, and checks on every document it accepts that
//! writing it back and reading it again gives the same tree, and that it compiles and evaluates
//! without panicking.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rolewright_iam::{
    CompiledPolicy, PolicySet, PolicyType, Principal, Request, parse_policy, wire,
};

/// One fixed request, with condition keys that the usual operators look at.
fn request() -> Request {
    let alice = Principal::parse("arn:aws:iam::123456789012:user/alice").unwrap();
    let mut request = Request::new(
        alice,
        "s3:GetObject",
        "arn:aws:s3:::ml-data/home/alice/train.csv",
    )
    .with_resource_account("123456789012");
    let ctx = request.context_mut();
    ctx.set("aws:username", "alice");
    ctx.set("aws:PrincipalArn", "arn:aws:iam::123456789012:user/alice");
    ctx.set("aws:PrincipalTag/team", "ml");
    ctx.set("aws:SecureTransport", "true");
    ctx.set("aws:MultiFactorAuthAge", "300");
    ctx.set("aws:SourceIp", "10.1.2.3");
    ctx.set("aws:CurrentTime", "2024-05-01T12:00:00Z");
    ctx.set_multi("aws:TagKeys", ["team", "project"]);
    request
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let request = request();
    for &policy_type in PolicyType::ALL {
        let outcome = parse_policy(text, policy_type);
        let Some(doc) = outcome.document else {
            continue;
        };

        // Writing then reading gives the same tree, under the same placement rules.
        let compact = wire::to_compact_json(&doc);
        let again = parse_policy(&compact, policy_type);
        assert_eq!(
            again.document.as_ref(),
            Some(&doc),
            "round trip changed the document ({policy_type}): {compact}\n{:?}",
            again.diagnostics
        );
        assert_eq!(wire::to_compact_json(&doc), compact);

        // Compile and evaluate, with the policy where its type puts it.
        let policy = CompiledPolicy::new(&doc);
        let set = match policy_type {
            PolicyType::Generic | PolicyType::Identity => PolicySet::new().with_identity(policy),
            PolicyType::Resource | PolicyType::Trust => PolicySet::new().with_resource(policy),
            PolicyType::Boundary => PolicySet::new()
                .with_identity(policy.clone())
                .with_boundary(policy),
            PolicyType::Session => PolicySet::new()
                .with_identity(policy.clone())
                .with_session(policy),
            PolicyType::ServiceControl => PolicySet::new()
                .with_identity(policy.clone())
                .with_scp_level(vec![policy]),
            PolicyType::ResourceControl => PolicySet::new().with_rcp_level(vec![policy]),
            PolicyType::Endpoint => PolicySet::new().with_endpoint(policy),
        };
        let first = set.evaluate(&request);
        assert_eq!(
            set.evaluate(&request),
            first,
            "evaluation is not deterministic"
        );
        let _ = first.access_denied_message(&request);
    }
});
