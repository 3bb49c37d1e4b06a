//! Compiled policies are never stale: after any sequence of policy edits committed through the
//! store (versions, default versions, deletion and re-creation under the same name, attach and
//! detach, group membership, inline policies, boundaries, tags), a decision from the server's
//! long-lived cache equals the decision from a cache built afresh.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

use std::path::PathBuf;

use proptest::prelude::*;
use rolewright_iam::Principal;
use rolewright_server::auth::{Caller, Identity};
use rolewright_server::authz::{PolicyCache, RequestFacts, base_context, decide};
use rolewright_server::master_key::MasterKey;
use rolewright_server::model::{
    Change, Group, InlinePolicy, ManagedPolicy, PolicyVersion, State, Tag, kind,
};
use rolewright_server::store::Store;

const ACCOUNT: &str = "111122223333";
const USER: &str = "alice";
const GROUP: &str = "team";

/// The documents edits choose from: grants, a deny, and a grant that depends on a tag.
const DOCUMENTS: [&str; 5] = [
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetRole","Resource":"*"}]}"#,
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListRoles","Resource":"*"}]}"#,
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}"#,
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:GetRole","Resource":"*"}]}"#,
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetRole","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"ml"}}}]}"#,
];

/// Two policy names, so that edits of one do not hide behind the other.
const POLICIES: [&str; 2] = ["first", "second"];

#[derive(Debug, Clone)]
enum Edit {
    CreatePolicy(usize, usize),
    DeletePolicy(usize),
    NewVersion(usize, usize, bool),
    SetDefault(usize, usize),
    DeleteVersion(usize, usize),
    AttachToUser(usize),
    DetachFromUser(usize),
    AttachToGroup(usize),
    DetachFromGroup(usize),
    JoinGroup,
    LeaveGroup,
    PutUserInline(usize),
    DeleteUserInline,
    PutGroupInline(usize),
    SetBoundary(usize),
    DeleteBoundary,
    TagTeam(bool),
}

fn edit() -> impl Strategy<Value = Edit> {
    let p = 0..POLICIES.len();
    let d = 0..DOCUMENTS.len();
    prop_oneof![
        (p.clone(), d.clone()).prop_map(|(p, d)| Edit::CreatePolicy(p, d)),
        p.clone().prop_map(Edit::DeletePolicy),
        (p.clone(), d.clone(), any::<bool>()).prop_map(|(p, d, s)| Edit::NewVersion(p, d, s)),
        (p.clone(), 0..5usize).prop_map(|(p, v)| Edit::SetDefault(p, v)),
        (p.clone(), 0..5usize).prop_map(|(p, v)| Edit::DeleteVersion(p, v)),
        p.clone().prop_map(Edit::AttachToUser),
        p.clone().prop_map(Edit::DetachFromUser),
        p.clone().prop_map(Edit::AttachToGroup),
        p.clone().prop_map(Edit::DetachFromGroup),
        Just(Edit::JoinGroup),
        Just(Edit::LeaveGroup),
        d.clone().prop_map(Edit::PutUserInline),
        Just(Edit::DeleteUserInline),
        d.prop_map(Edit::PutGroupInline),
        p.prop_map(Edit::SetBoundary),
        Just(Edit::DeleteBoundary),
        any::<bool>().prop_map(Edit::TagTeam),
    ]
}

fn arn(policy: usize) -> String {
    format!("arn:aws:iam::{ACCOUNT}:policy/{}", POLICIES[policy])
}

fn put_policy(policy: &ManagedPolicy) -> Change {
    Change::put(kind::POLICY, policy.arn.clone(), policy)
}

/// Applies one edit the way the IAM operations do (IAM's refusals become no-ops) and returns the
/// changes to store.
fn apply(state: &mut State, edit: &Edit) -> Vec<Change> {
    let mut changes = Vec::new();
    let user_key = USER.to_string();
    let group_key = GROUP.to_string();
    match edit {
        Edit::CreatePolicy(p, d) => {
            if let std::collections::btree_map::Entry::Vacant(slot) = state.policies.entry(arn(*p))
            {
                let policy = ManagedPolicy {
                    name: POLICIES[*p].into(),
                    path: "/".into(),
                    id: rolewright_server::ids::unique_id("ANPA"),
                    arn: arn(*p),
                    description: None,
                    created: 1,
                    updated: 1,
                    versions: vec![PolicyVersion {
                        id: "v1".into(),
                        document: DOCUMENTS[*d].into(),
                        created: 1,
                    }],
                    default_version: "v1".into(),
                    next_version: 2,
                    tags: Vec::new(),
                    aws_managed: false,
                };
                changes.push(put_policy(&policy));
                slot.insert(policy);
            }
        }
        Edit::DeletePolicy(p) => {
            // As a script does it: detach the policy everywhere, then delete it.
            let a = arn(*p);
            if state.policies.remove(&a).is_some() {
                let user = state.users.get_mut(&user_key).unwrap();
                user.attached.retain(|x| *x != a);
                if user.boundary.as_deref() == Some(a.as_str()) {
                    user.boundary = None;
                }
                changes.push(Change::put(kind::USER, user_key, user));
                let group = state.groups.get_mut(&group_key).unwrap();
                group.attached.retain(|x| *x != a);
                changes.push(Change::put(kind::GROUP, group_key, group));
                changes.push(Change::delete(kind::POLICY, a));
            }
        }
        Edit::NewVersion(p, d, set_default) => {
            if let Some(policy) = state.policies.get_mut(&arn(*p))
                && policy.versions.len() < 5
            {
                let id = format!("v{}", policy.next_version);
                policy.next_version += 1;
                policy.versions.push(PolicyVersion {
                    id: id.clone(),
                    document: DOCUMENTS[*d].into(),
                    created: 2,
                });
                if *set_default {
                    policy.default_version = id;
                }
                changes.push(put_policy(policy));
            }
        }
        Edit::SetDefault(p, v) => {
            if let Some(policy) = state.policies.get_mut(&arn(*p))
                && let Some(version) = policy.versions.get(*v)
            {
                policy.default_version = version.id.clone();
                changes.push(put_policy(policy));
            }
        }
        Edit::DeleteVersion(p, v) => {
            if let Some(policy) = state.policies.get_mut(&arn(*p))
                && policy
                    .versions
                    .get(*v)
                    .is_some_and(|version| version.id != policy.default_version)
            {
                policy.versions.remove(*v);
                changes.push(put_policy(policy));
            }
        }
        Edit::AttachToUser(p) | Edit::DetachFromUser(p) => {
            let attach = matches!(edit, Edit::AttachToUser(_));
            let a = arn(*p);
            if attach && !state.policies.contains_key(&a) {
                return changes;
            }
            let user = state.users.get_mut(&user_key).unwrap();
            user.attached.retain(|x| *x != a);
            if attach {
                user.attached.push(a);
            }
            changes.push(Change::put(kind::USER, user_key, user));
        }
        Edit::AttachToGroup(p) | Edit::DetachFromGroup(p) => {
            let attach = matches!(edit, Edit::AttachToGroup(_));
            let a = arn(*p);
            if attach && !state.policies.contains_key(&a) {
                return changes;
            }
            let group = state.groups.get_mut(&group_key).unwrap();
            group.attached.retain(|x| *x != a);
            if attach {
                group.attached.push(a);
            }
            changes.push(Change::put(kind::GROUP, group_key, group));
        }
        Edit::JoinGroup | Edit::LeaveGroup => {
            let group = state.groups.get_mut(&group_key).unwrap();
            group.members.retain(|m| m != USER);
            if matches!(edit, Edit::JoinGroup) {
                group.members.push(USER.into());
            }
            changes.push(Change::put(kind::GROUP, group_key, group));
        }
        Edit::PutUserInline(_) | Edit::DeleteUserInline => {
            let user = state.users.get_mut(&user_key).unwrap();
            match edit {
                Edit::PutUserInline(d) => {
                    user.inline.insert(
                        "inline".into(),
                        InlinePolicy {
                            name: "inline".into(),
                            document: DOCUMENTS[*d].into(),
                        },
                    );
                }
                _ => {
                    user.inline.remove("inline");
                }
            }
            changes.push(Change::put(kind::USER, user_key, user));
        }
        Edit::PutGroupInline(d) => {
            let group = state.groups.get_mut(&group_key).unwrap();
            group.inline.insert(
                "inline".into(),
                InlinePolicy {
                    name: "inline".into(),
                    document: DOCUMENTS[*d].into(),
                },
            );
            changes.push(Change::put(kind::GROUP, group_key, group));
        }
        Edit::SetBoundary(p) => {
            if state.policies.contains_key(&arn(*p)) {
                let user = state.users.get_mut(&user_key).unwrap();
                user.boundary = Some(arn(*p));
                changes.push(Change::put(kind::USER, user_key, user));
            }
        }
        Edit::DeleteBoundary => {
            let user = state.users.get_mut(&user_key).unwrap();
            user.boundary = None;
            changes.push(Change::put(kind::USER, user_key, user));
        }
        Edit::TagTeam(ml) => {
            let user = state.users.get_mut(&user_key).unwrap();
            user.tags = vec![Tag {
                key: "team".into(),
                value: if *ml { "ml" } else { "data" }.into(),
            }];
            changes.push(Change::put(kind::USER, user_key, user));
        }
    }
    changes
}

fn temp_dir() -> PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!(
        "rolewright-policy-cache-{}-{n}-{:?}",
        std::process::id(),
        std::time::SystemTime::now()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn caller() -> Caller {
    let arn = format!("arn:aws:iam::{ACCOUNT}:user/{USER}");
    Caller {
        principal: Principal::parse(&arn).unwrap(),
        arn,
        account: ACCOUNT.into(),
        user_id: "AIDAEXAMPLE".into(),
        access_key_id: "AKIAEXAMPLE".into(),
        identity: Identity::User(USER.into()),
    }
}

/// The decisions the cached and the fresh evaluation give, for the requests the documents speak
/// of.
fn decisions(cache: &PolicyCache, state: &State) -> Vec<String> {
    let caller = caller();
    let facts = RequestFacts {
        now: 1_700_000_000,
        source_ip: Some("127.0.0.1".into()),
        region: "us-east-1".into(),
    };
    let role = format!("arn:aws:iam::{ACCOUNT}:role/any");
    [
        ("iam:GetRole", role.as_str()),
        ("iam:ListRoles", "*"),
        ("iam:DeleteRole", role.as_str()),
    ]
    .iter()
    .map(|(action, resource)| {
        let context = base_context(state, &caller, &facts);
        let (decision, _) = decide(cache, state, &caller, action, resource, context, None);
        format!("{action}: {:?} {:?}", decision.outcome, decision.matched)
    })
    .collect()
}

fn run(edits: &[Edit]) -> Result<(), TestCaseError> {
    let dir = temp_dir();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let store = Store::open(&dir, ACCOUNT, MasterKey::generate().unwrap()).unwrap();
    runtime.block_on(async {
        store
            .write(None, |state| {
                let user = rolewright_server::iam::new_user(USER, "/", 1, Vec::new(), None);
                let group = Group {
                    name: GROUP.into(),
                    path: "/".into(),
                    id: "AGPAEXAMPLE".into(),
                    created: 1,
                    members: Vec::new(),
                    inline: Default::default(),
                    attached: Vec::new(),
                    tags: Vec::new(),
                    boundary: None,
                };
                let changes = vec![
                    Change::put(kind::USER, USER, &user),
                    Change::put(kind::GROUP, GROUP, &group),
                ];
                state.users.insert(USER.into(), user);
                state.groups.insert(GROUP.into(), group);
                Ok(((), changes))
            })
            .await
            .unwrap();
    });
    let long_lived = PolicyCache::default();
    for (step, edit) in edits.iter().enumerate() {
        runtime.block_on(async {
            store
                .write(None, |state| Ok(((), apply(state, edit))))
                .await
                .unwrap();
        });
        let state = store.read();
        let cached = decisions(&long_lived, &state);
        let fresh = decisions(&PolicyCache::default(), &state);
        prop_assert_eq!(
            cached,
            fresh,
            "after step {} ({:?}) of {:?}",
            step,
            edit,
            edits
        );
    }
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn a_cached_decision_equals_a_fresh_one_after_any_policy_edits(
        edits in proptest::collection::vec(edit(), 1..40)
    ) {
        run(&edits)?;
    }
}

/// The sequence of the bug report: a policy detached, deleted, and created again under its name
/// with another document.
#[test]
fn a_policy_recreated_under_its_name_is_compiled_anew() {
    run(&[
        Edit::CreatePolicy(0, 0),
        Edit::AttachToUser(0),
        Edit::DetachFromUser(0),
        Edit::DeletePolicy(0),
        Edit::CreatePolicy(0, 1),
        Edit::AttachToUser(0),
    ])
    .unwrap();
}

/// Tag edits and other changes no decision is cached on leave compiled policies in place.
#[test]
fn tag_edits_keep_the_permissions_generation() {
    let dir = temp_dir();
    let store = Store::open(&dir, ACCOUNT, MasterKey::generate().unwrap()).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let write = |edit: Edit| {
        runtime.block_on(async {
            store
                .write(None, |state| {
                    if state.users.is_empty() {
                        let user = rolewright_server::iam::new_user(USER, "/", 1, Vec::new(), None);
                        state.users.insert(USER.into(), user);
                    }
                    if state.groups.is_empty() {
                        state.groups.insert(
                            GROUP.into(),
                            Group {
                                name: GROUP.into(),
                                path: "/".into(),
                                id: "AGPAEXAMPLE".into(),
                                created: 1,
                                members: Vec::new(),
                                inline: Default::default(),
                                attached: Vec::new(),
                                tags: Vec::new(),
                                boundary: None,
                            },
                        );
                    }
                    let mut changes = vec![
                        Change::put(kind::USER, USER, &state.users[USER]),
                        Change::put(kind::GROUP, GROUP, &state.groups[GROUP]),
                    ];
                    changes.extend(apply(state, &edit));
                    Ok(((), changes))
                })
                .await
                .unwrap();
        });
        store.read().generation
    };
    let created = write(Edit::PutUserInline(0));
    assert_eq!(write(Edit::TagTeam(true)), created, "a tag edit");
    assert_eq!(write(Edit::TagTeam(false)), created, "another tag edit");
    assert!(
        write(Edit::PutUserInline(1)) > created,
        "an inline policy edit moves the generation"
    );
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}
