//! Property tests: random but valid policy trees and requests, checked against the laws the
//! engine must obey whatever the policy says.
//!
//! * writing a tree as JSON and reading it back gives the same tree;
//! * adding a `Deny` never grants anything, and a matching `Deny` always denies;
//! * an `Allow` whose actions cannot name the request's action never allows;
//! * evaluation is deterministic, and compiled policies can be shared between threads;
//! * a brief decision is the full one without its list of matched statements.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;

use rolewright_iam::ast::{
    ConditionBlock, ConditionEntry, ConditionOperator, Negatable, Principal as PrincipalElement,
    PrincipalKind, StringList,
};
use rolewright_iam::{
    CompiledPolicy, Decision, Effect, Outcome, PolicyDocument, PolicySet, Principal, Request,
    RequestContext, Statement, wire,
};

// ---------------------------------------------------------------------------------------------
// Vocabularies.
// ---------------------------------------------------------------------------------------------

const ACCOUNT: &str = "123456789012";
const OTHER_ACCOUNT: &str = "210987654321";

/// Action patterns a policy may name (including wildcards and odd case).
const POLICY_ACTIONS: &[&str] = &[
    "s3:GetObject",
    "s3:Get*",
    "s3:*",
    "s3:PutObject",
    "s3:List*",
    "S3:getobject",
    "sagemaker:CreateTrainingJob",
    "sagemaker:Describe*",
    "sagemaker:*",
    "sagemaker:Create?rainingJob",
    "iam:PassRole",
    "iam:*",
    "*",
];

/// Concrete actions a request may carry; none is `sts:GetCallerIdentity`, which AWS always allows.
const REQUEST_ACTIONS: &[&str] = &[
    "s3:GetObject",
    "s3:PutObject",
    "s3:ListBucket",
    "sagemaker:CreateTrainingJob",
    "SageMaker:createTrainingJob",
    "sagemaker:DescribeTrainingJob",
    "iam:PassRole",
    "iam:GetRole",
];

/// Allow-only vocabulary for the "non-matching Allow" law: named services only (no `*`, no
/// `NotAction`), some of them sharing action names with [`FOREIGN_ACTIONS`].
const NON_MATCHING_ACTIONS: &[&str] = &[
    "s3:GetObject",
    "s3:Get*",
    "s3:*",
    "s3:RunInstances",
    "s3:*Instances",
    "sagemaker:CreateTrainingJob",
    "sagemaker:Describe*",
    "sagemaker:*",
    "iam:PassRole",
    "iam:*",
];

/// Request actions of services that [`NON_MATCHING_ACTIONS`] never names.
const FOREIGN_ACTIONS: &[&str] = &[
    "ec2:RunInstances",
    "ec2:DescribeInstances",
    "EC2:runinstances",
    "lambda:InvokeFunction",
    "kms:Decrypt",
];

/// Resource patterns a policy may name.
const POLICY_RESOURCES: &[&str] = &[
    "*",
    "arn:aws:s3:::ml-data",
    "arn:aws:s3:::ml-data/*",
    "arn:aws:s3:::*",
    "arn:aws:s3:::home/${aws:username}/*",
    "arn:aws:sagemaker:*:123456789012:training-job/*",
    "arn:aws:sagemaker:us-east-1:123456789012:training-job/exp-?",
    "arn:aws:iam::123456789012:role/*",
    "arn:aws:iam::123456789012:role/ds",
    "arn:aws:*:*:123456789012:*",
    "arn:aws:iam::*:role/aws-reserved/*",
];

/// Resources a request may name: concrete ARNs, plus two patterns ("some resource like this").
const REQUEST_RESOURCES: &[&str] = &[
    "arn:aws:s3:::ml-data",
    "arn:aws:s3:::ml-data/train.csv",
    "arn:aws:s3:::home/alice/notes.txt",
    "arn:aws:s3:::home/bob/notes.txt",
    "arn:aws:sagemaker:us-east-1:123456789012:training-job/exp-1",
    "arn:aws:sagemaker:eu-west-1:210987654321:training-job/x",
    "arn:aws:iam::123456789012:role/ds",
    "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_x",
    "arn:aws:s3:::ml-data/*",
    "*",
];

const PRINCIPALS: &[&str] = &[
    "arn:aws:iam::123456789012:user/alice",
    "arn:aws:iam::123456789012:role/ds",
    "arn:aws:sts::123456789012:assumed-role/ds/alice",
];

/// Values of the `AWS` key of a resource policy's `Principal`.
const AWS_PRINCIPAL_IDS: &[&str] = &[
    "*",
    "123456789012",
    "210987654321",
    "arn:aws:iam::123456789012:root",
    "arn:aws:iam::123456789012:user/alice",
    "arn:aws:iam::123456789012:role/ds",
    "arn:aws:sts::123456789012:assumed-role/ds/alice",
];

const SERVICE_PRINCIPAL_IDS: &[&str] = &["sagemaker.amazonaws.com", "s3.amazonaws.com"];

const CONDITION_OPERATORS: &[&str] = &[
    "StringEquals",
    "StringNotEquals",
    "StringLike",
    "StringEqualsIgnoreCase",
    "StringEqualsIfExists",
    "ForAnyValue:StringEquals",
    "ForAllValues:StringLike",
    "NumericLessThan",
    "NumericGreaterThanEquals",
    "Bool",
    "BoolIfExists",
    "Null",
    "ArnLike",
];

const CONDITION_KEYS: &[&str] = &[
    "aws:username",
    "aws:PrincipalTag/team",
    "aws:SecureTransport",
    "aws:MultiFactorAuthAge",
    "aws:TagKeys",
    "aws:PrincipalArn",
];

const CONDITION_VALUES: &[&str] = &[
    "alice",
    "bob",
    "ALICE",
    "${aws:username}",
    "ml",
    "m*",
    "data",
    "team",
    "true",
    "false",
    "10",
    "3600",
    "-1.5",
    "arn:aws:iam::123456789012:role/*",
    "arn:aws:iam::123456789012:user/${aws:username}",
];

// ---------------------------------------------------------------------------------------------
// Strategies.
// ---------------------------------------------------------------------------------------------

/// What a generated statement may contain.
#[derive(Debug, Clone, Copy)]
struct Shape {
    /// Vocabulary of `Action` values.
    actions: &'static [&'static str],
    /// Whether `NotAction` may be used.
    not_action: bool,
    /// Whether `Action` and `Resource` may be absent.
    optional_elements: bool,
    /// Whether statements carry a `Principal` (`Some(true)`: always; `Some(false)`: maybe).
    principal: Option<bool>,
    /// Whether strings outside the vocabularies (any Unicode, quotes, control characters) may
    /// appear where the grammar allows any text.
    wild_strings: bool,
    /// A fixed effect, or `None` for either.
    effect: Option<Effect>,
}

const ROUND_TRIP: Shape = Shape {
    actions: POLICY_ACTIONS,
    not_action: true,
    optional_elements: true,
    principal: Some(false),
    wild_strings: true,
    effect: None,
};

const IDENTITY: Shape = Shape {
    actions: POLICY_ACTIONS,
    not_action: true,
    optional_elements: false,
    principal: None,
    wild_strings: false,
    effect: None,
};

/// `Allow` statements naming only [`NON_MATCHING_ACTIONS`].
const ALLOW_ELSEWHERE: Shape = Shape {
    actions: NON_MATCHING_ACTIONS,
    not_action: false,
    effect: Some(Effect::Allow),
    ..IDENTITY
};

const RESOURCE_POLICY: Shape = Shape {
    principal: Some(true),
    ..IDENTITY
};

fn pick(vocab: &'static [&'static str]) -> BoxedStrategy<String> {
    select(vocab).prop_map(str::to_string).boxed()
}

/// Any text: arbitrary Unicode scalar values, including quotes, backslashes and control characters.
fn wild_string() -> BoxedStrategy<String> {
    vec(any::<char>(), 0..8)
        .prop_map(|chars| chars.into_iter().collect())
        .boxed()
}

/// A vocabulary value, or (when `wild`) now and then arbitrary text.
fn text(vocab: &'static [&'static str], wild: bool) -> BoxedStrategy<String> {
    if wild {
        prop_oneof![4 => pick(vocab), 1 => wild_string()].boxed()
    } else {
        pick(vocab)
    }
}

/// A bare string (`"a"`) or an array (`["a", "b"]`, possibly empty).
fn string_list(values: BoxedStrategy<String>) -> BoxedStrategy<StringList> {
    prop_oneof![
        values.clone().prop_map(StringList::one),
        vec(values, 0..4).prop_map(StringList::many),
    ]
    .boxed()
}

/// A non-empty list, so that a plain `Action`/`Resource` can match at all.
fn non_empty_list(values: BoxedStrategy<String>) -> BoxedStrategy<StringList> {
    prop_oneof![
        values.clone().prop_map(StringList::one),
        vec(values, 1..4).prop_map(StringList::many),
    ]
    .boxed()
}

fn negatable<T: std::fmt::Debug + Clone + 'static>(
    value: BoxedStrategy<T>,
    may_negate: bool,
) -> BoxedStrategy<Negatable<T>> {
    let negated = if may_negate {
        prop_oneof![3 => Just(false), 1 => Just(true)].boxed()
    } else {
        Just(false).boxed()
    };
    (negated, value)
        .prop_map(|(negated, value)| Negatable { negated, value })
        .boxed()
}

/// Keeps the first occurrence of each key: JSON objects may not repeat a key.
fn dedup_by<T, K: PartialEq>(items: Vec<T>, key: impl Fn(&T) -> K) -> Vec<T> {
    let mut out: Vec<T> = Vec::with_capacity(items.len());
    for item in items {
        if !out.iter().any(|o| key(o) == key(&item)) {
            out.push(item);
        }
    }
    out
}

fn condition_entry(wild: bool) -> BoxedStrategy<ConditionEntry> {
    (
        text(CONDITION_KEYS, wild),
        string_list(text(CONDITION_VALUES, wild)),
    )
        .prop_map(|(key, values)| ConditionEntry { key, values })
        .boxed()
}

fn condition_block(wild: bool) -> BoxedStrategy<ConditionBlock> {
    (pick(CONDITION_OPERATORS), vec(condition_entry(wild), 0..3))
        .prop_map(|(operator_name, entries)| ConditionBlock {
            operator: ConditionOperator::parse(&operator_name).unwrap(),
            operator_name,
            entries: dedup_by(entries, |e| e.key.clone()),
        })
        .boxed()
}

fn condition(wild: bool) -> BoxedStrategy<Option<Vec<ConditionBlock>>> {
    option::weighted(
        0.4,
        vec(condition_block(wild), 0..3)
            .prop_map(|blocks| dedup_by(blocks, |b| b.operator_name.clone())),
    )
    .boxed()
}

fn principal_element() -> BoxedStrategy<PrincipalElement> {
    let aws = (
        Just(PrincipalKind::Aws),
        string_list(pick(AWS_PRINCIPAL_IDS)),
    );
    let service = (
        Just(PrincipalKind::Service),
        string_list(pick(SERVICE_PRINCIPAL_IDS)),
    );
    let federated = (
        Just(PrincipalKind::Federated),
        string_list(pick(&["cognito-identity.amazonaws.com", "*"])),
    );
    let kinds = vec(prop_oneof![aws, service, federated], 1..4)
        .prop_map(|ids| PrincipalElement::Identifiers(dedup_by(ids, |(k, _)| *k)));
    prop_oneof![
        1 => Just(PrincipalElement::Wildcard),
        1 => pick(&[ACCOUNT, OTHER_ACCOUNT, "arn:aws:iam::123456789012:root"])
            .prop_map(PrincipalElement::Bare),
        4 => kinds,
    ]
    .boxed()
}

fn effect(fixed: Option<Effect>) -> BoxedStrategy<Effect> {
    match fixed {
        Some(e) => Just(e).boxed(),
        None => prop_oneof![Just(Effect::Allow), Just(Effect::Deny)].boxed(),
    }
}

fn statement(shape: Shape) -> BoxedStrategy<Statement> {
    let sid = option::of("[A-Za-z0-9]{1,12}");
    let actions = if shape.optional_elements {
        string_list(pick(shape.actions))
    } else {
        non_empty_list(pick(shape.actions))
    };
    let action = negatable(actions, shape.not_action);
    let resources = if shape.optional_elements {
        string_list(text(POLICY_RESOURCES, shape.wild_strings))
    } else {
        non_empty_list(pick(POLICY_RESOURCES))
    };
    let resource = negatable(resources, true);
    let (action, resource) = if shape.optional_elements {
        (
            option::weighted(0.9, action).boxed(),
            option::weighted(0.9, resource).boxed(),
        )
    } else {
        (
            action.prop_map(Some).boxed(),
            resource.prop_map(Some).boxed(),
        )
    };
    let principal = match shape.principal {
        None => Just(None).boxed(),
        Some(true) => negatable(principal_element(), true).prop_map(Some).boxed(),
        Some(false) => option::weighted(0.3, negatable(principal_element(), true)).boxed(),
    };
    (
        sid,
        effect(shape.effect),
        principal,
        action,
        resource,
        condition(shape.wild_strings),
    )
        .prop_map(
            |(sid, effect, principal, action, resource, condition)| Statement {
                sid,
                effect,
                principal,
                action,
                resource,
                condition,
            },
        )
        .boxed()
}

fn document(shape: Shape) -> BoxedStrategy<PolicyDocument> {
    let version = option::weighted(0.9, pick(&["2012-10-17", "2008-10-17"]));
    let id = option::weighted(0.3, text(&["policy-1", "ml"], shape.wild_strings));
    (version, id, vec(statement(shape), 1..=5), any::<bool>())
        .prop_map(|(version, id, statements, as_object)| PolicyDocument {
            version,
            id,
            statement_is_object: as_object && statements.len() == 1,
            statements,
        })
        .boxed()
}

fn context() -> BoxedStrategy<RequestContext> {
    (
        option::of(pick(&["alice", "bob", "ALICE"])),
        option::of(pick(&["ml", "data", "ML"])),
        option::of(pick(&["true", "false"])),
        option::of(pick(&["10", "3600", "abc"])),
        option::of(vec(pick(&["team", "project", "cost"]), 0..3)),
    )
        .prop_map(|(user, team, secure, mfa_age, tag_keys)| {
            let mut ctx = RequestContext::new();
            if let Some(v) = user {
                ctx.set("aws:username", v);
            }
            if let Some(v) = team {
                ctx.set("aws:PrincipalTag/team", v);
            }
            if let Some(v) = secure {
                ctx.set("aws:SecureTransport", v);
            }
            if let Some(v) = mfa_age {
                ctx.set("aws:MultiFactorAuthAge", v);
            }
            if let Some(v) = tag_keys {
                ctx.set_multi("aws:TagKeys", v);
            }
            ctx
        })
        .boxed()
}

fn request(actions: &'static [&'static str]) -> BoxedStrategy<Request> {
    (
        pick(PRINCIPALS),
        pick(actions),
        pick(REQUEST_RESOURCES),
        option::of(pick(&[ACCOUNT, OTHER_ACCOUNT])),
        context(),
        prop_oneof![9 => Just(false), 1 => Just(true)],
    )
        .prop_map(
            |(principal, action, resource, account, context, wildcard_only)| {
                let mut principal_ctx = context;
                principal_ctx.set("aws:PrincipalArn", principal.clone());
                let principal = Principal::parse(&principal).unwrap();
                let mut req = Request::new(principal, &action, &resource)
                    .with_context(principal_ctx)
                    .with_wildcard_only_action(wildcard_only);
                if let Some(a) = account {
                    req = req.with_resource_account(a);
                }
                req
            },
        )
        .boxed()
}

/// The policies that bear on one request, as documents, so a law can change one and re-evaluate.
#[derive(Debug, Clone)]
struct Setup {
    identity: Vec<PolicyDocument>,
    resource: Option<PolicyDocument>,
    boundary: Option<PolicyDocument>,
    session: Option<PolicyDocument>,
    scp: Option<PolicyDocument>,
}

impl Setup {
    fn compile(&self) -> PolicySet {
        let mut set = PolicySet::new();
        for doc in &self.identity {
            set = set.with_identity(CompiledPolicy::new(doc));
        }
        if let Some(doc) = &self.resource {
            set = set.with_resource(CompiledPolicy::new(doc));
        }
        if let Some(doc) = &self.boundary {
            set = set.with_boundary(CompiledPolicy::new(doc));
        }
        if let Some(doc) = &self.session {
            set = set.with_session(CompiledPolicy::new(doc));
        }
        if let Some(doc) = &self.scp {
            set = set.with_scp_level(vec![CompiledPolicy::new(doc)]);
        }
        set
    }

    fn evaluate(&self, request: &Request) -> Decision {
        self.compile().evaluate(request)
    }

    /// The documents a statement may be added to, in a fixed order.
    fn slots(&mut self) -> Vec<&mut PolicyDocument> {
        let mut out: Vec<&mut PolicyDocument> = self.identity.iter_mut().collect();
        out.extend(self.resource.as_mut());
        out.extend(self.boundary.as_mut());
        out.extend(self.session.as_mut());
        out.extend(self.scp.as_mut());
        out
    }
}

/// Identity policies, and sometimes a resource policy, a boundary, a session policy and an SCP
/// (these three of shape `guard`).
fn setup(identity: Shape, resource: Shape, guard: Shape) -> BoxedStrategy<Setup> {
    (
        vec(document(identity), 1..3),
        option::weighted(0.3, document(resource)),
        option::weighted(0.2, document(guard)),
        option::weighted(0.1, document(guard)),
        option::weighted(0.1, document(guard)),
    )
        .prop_map(|(identity, resource, boundary, session, scp)| Setup {
            identity,
            resource,
            boundary,
            session,
            scp,
        })
        .boxed()
}

fn push_statement(doc: &mut PolicyDocument, at: usize, statement: Statement) {
    let at = at % (doc.statements.len() + 1);
    doc.statements.insert(at, statement);
    doc.statement_is_object = false;
}

// ---------------------------------------------------------------------------------------------
// Laws.
// ---------------------------------------------------------------------------------------------

/// Compile-time check: everything an application shares between threads is `Send + Sync`.
const fn assert_send_sync<T: Send + Sync>() {}
const _: () = {
    assert_send_sync::<CompiledPolicy>();
    assert_send_sync::<PolicySet>();
    assert_send_sync::<PolicyDocument>();
    assert_send_sync::<Request>();
    assert_send_sync::<Decision>();
};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// a. `parse ∘ serialize` is the identity on trees, through compact and pretty JSON.
    #[test]
    fn writing_then_reading_gives_the_same_tree(doc in document(ROUND_TRIP)) {
        let compact = wire::to_compact_json(&doc);
        prop_assert_eq!(
            PolicyDocument::parse(&compact).map_err(|e| e.to_string()),
            Ok(doc.clone()),
            "compact: {}", compact
        );
        let pretty = wire::to_pretty_json(&doc);
        prop_assert_eq!(
            PolicyDocument::parse(&pretty).map_err(|e| e.to_string()),
            Ok(doc.clone()),
            "pretty: {}", pretty
        );
        // Writing is a function of the tree alone, so the text is a fixed point too.
        prop_assert_eq!(wire::to_compact_json(&PolicyDocument::parse(&compact).unwrap()), compact);
    }

    /// b. A `Deny` of exactly the requested action on `*` always denies explicitly.
    #[test]
    fn a_matching_deny_always_denies(
        mut setup in setup(IDENTITY, RESOURCE_POLICY, IDENTITY),
        request in request(REQUEST_ACTIONS),
        at in any::<usize>(),
    ) {
        let mut deny = Statement::new(Effect::Deny);
        deny.action = Some(Negatable { negated: false, value: StringList::one(request.action()) });
        deny.resource = Some(Negatable { negated: false, value: StringList::one("*") });
        push_statement(&mut setup.identity[0], at, deny);
        let decision = setup.evaluate(&request);
        prop_assert_eq!(decision.outcome, Outcome::ExplicitlyDenied, "{:?}", decision);
    }

    /// b. Adding any `Deny`, to any policy of the set, leaves the outcome as it was or makes it
    /// an explicit deny: it never grants, and never lifts an explicit deny.
    #[test]
    fn adding_a_deny_never_grants(
        setup in setup(IDENTITY, RESOURCE_POLICY, IDENTITY),
        request in request(REQUEST_ACTIONS),
        deny in statement(Shape { effect: Some(Effect::Deny), principal: Some(false), ..IDENTITY }),
        slot in any::<usize>(),
        at in any::<usize>(),
    ) {
        let before = setup.evaluate(&request).outcome;
        let mut changed = setup.clone();
        let mut slots = changed.slots();
        let n = slots.len();
        push_statement(slots[slot % n], at, deny.clone());
        let after = changed.evaluate(&request).outcome;
        prop_assert!(
            after == before || after == Outcome::ExplicitlyDenied,
            "{:?} became {:?} after adding {}", before, after,
            wire::to_compact_json(&PolicyDocument {
                version: None, id: None, statements: vec![deny], statement_is_object: true,
            })
        );

        // The same through a separate identity policy that holds only the `Deny`.
        let mut extra = setup;
        extra.identity.push(PolicyDocument {
            version: Some("2012-10-17".into()),
            id: None,
            statements: vec![deny],
            statement_is_object: false,
        });
        let after = extra.evaluate(&request).outcome;
        prop_assert!(after == before || after == Outcome::ExplicitlyDenied);
    }

    /// c. `Allow` statements that only name other services never allow, and never even match.
    #[test]
    fn an_allow_for_other_actions_never_allows(
        setup in setup(ALLOW_ELSEWHERE, Shape { principal: Some(true), ..ALLOW_ELSEWHERE }, ALLOW_ELSEWHERE),
        request in request(FOREIGN_ACTIONS),
    ) {
        let decision = setup.evaluate(&request);
        prop_assert_ne!(decision.outcome, Outcome::Allowed);
        prop_assert!(decision.matched.is_empty(), "{:?}", decision.matched);
    }

    /// d. Evaluation is deterministic: the same set, a clone, a recompiled set and another
    /// thread all give the same decision.
    #[test]
    fn evaluation_is_deterministic(
        setup in setup(IDENTITY, RESOURCE_POLICY, IDENTITY),
        request in request(REQUEST_ACTIONS),
    ) {
        let set = setup.compile();
        let first = set.evaluate(&request);
        prop_assert_eq!(&set.evaluate(&request), &first);
        prop_assert_eq!(&set.clone().evaluate(&request), &first);
        prop_assert_eq!(&setup.compile().evaluate(&request), &first);
        let from_thread = std::thread::scope(|s| {
            s.spawn(|| set.evaluate(&request)).join().unwrap()
        });
        prop_assert_eq!(&from_thread, &first);
    }

    /// e. The brief decision is the full one without its list of matched statements.
    #[test]
    fn a_brief_decision_is_the_full_one_without_the_statements(
        setup in setup(IDENTITY, RESOURCE_POLICY, IDENTITY),
        request in request(REQUEST_ACTIONS),
    ) {
        let set = setup.compile();
        let brief = set.evaluate_brief(&request);
        prop_assert!(brief.matched.is_empty());
        let full = Decision { matched: Vec::new(), ..set.evaluate(&request) };
        prop_assert_eq!(brief, full);
    }
}

/// Guards against vacuous laws: the generators reach every outcome, and the round-trip
/// generator writes the tricky shapes (single statement objects, `Not...` elements, conditions).
#[test]
fn generators_reach_every_outcome() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    let mut runner = TestRunner::deterministic();
    let setups = setup(IDENTITY, RESOURCE_POLICY, IDENTITY);
    let requests = request(REQUEST_ACTIONS);
    let mut counts = [0usize; 3];
    for _ in 0..1000 {
        let s = setups.new_tree(&mut runner).unwrap().current();
        let r = requests.new_tree(&mut runner).unwrap().current();
        counts[s.evaluate(&r).outcome as usize] += 1;
    }
    eprintln!("outcomes (allowed, implicit, explicit): {counts:?}");
    assert!(
        counts.iter().all(|&c| c >= 20),
        "outcomes (allowed, implicit, explicit): {counts:?}"
    );

    let docs = document(ROUND_TRIP);
    let (mut object, mut negated, mut conditions) = (0, 0, 0);
    for _ in 0..300 {
        let d = docs.new_tree(&mut runner).unwrap().current();
        object += usize::from(d.statement_is_object);
        negated += usize::from(d.statements.iter().any(|s| {
            s.action.as_ref().is_some_and(|a| a.negated)
                || s.resource.as_ref().is_some_and(|r| r.negated)
        }));
        conditions += usize::from(d.statements.iter().any(|s| s.condition.is_some()));
    }
    assert!(
        object > 10 && negated > 10 && conditions > 10,
        "{object} {negated} {conditions}"
    );
}

/// Found by `adding_a_deny_never_grants`: a request on a set of resources is allowed only where
/// the grant and the boundary both reach. Here the identity policy reaches training jobs and the
/// boundary one bucket, so no resource of `*` is allowed by both; before the fix this was
/// `Allowed`, and turned `ImplicitlyDenied` once an unrelated `Deny` was added anywhere.
#[test]
fn a_set_of_resources_is_allowed_only_where_the_grant_and_the_boundary_meet() {
    let parse = |text: &str| PolicyDocument::parse(text).unwrap();
    let identity = parse(
        r#"{"Statement": [{"Effect": "Allow", "NotAction": "s3:GetObject",
            "Resource": "arn:aws:sagemaker:*:123456789012:training-job/*"}]}"#,
    );
    let boundary = parse(
        r#"{"Statement": [{"Effect": "Allow", "NotAction": "s3:GetObject",
            "Resource": "arn:aws:s3:::ml-data"}]}"#,
    );
    let alice = rolewright_iam::Principal::parse("arn:aws:iam::123456789012:user/alice").unwrap();
    let set = PolicySet::new()
        .with_identity(CompiledPolicy::new(&identity))
        .with_boundary(CompiledPolicy::new(&boundary));
    let on_all = Request::new(alice.clone(), "s3:PutObject", "*");
    assert_eq!(set.evaluate(&on_all).outcome, Outcome::ImplicitlyDenied);
    // Where both reach, it is allowed.
    let both =
        parse(r#"{"Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}]}"#);
    let set = PolicySet::new()
        .with_identity(CompiledPolicy::new(&both))
        .with_boundary(CompiledPolicy::new(&boundary));
    assert_eq!(set.evaluate(&on_all).outcome, Outcome::Allowed);
    let on_bucket = Request::new(alice, "s3:PutObject", "arn:aws:s3:::ml-data");
    assert_eq!(set.evaluate(&on_bucket).outcome, Outcome::Allowed);
}
