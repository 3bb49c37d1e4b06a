//! The store: an acknowledged write is on disk, survives a reopen, and a refused change leaves
//! nothing behind; the database is readable by its owner only.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

use std::path::PathBuf;

use rolewright_server::error::ApiError;
use rolewright_server::master_key::MasterKey;
use rolewright_server::model::{Change, InlinePolicy, kind};
use rolewright_server::store::{DB_FILE, Durability, Store};

/// The same master key for every open of a test's data directory.
fn key() -> MasterKey {
    MasterKey::from_hex(b"8f3a5c7e9b1d2f4a6c8e0b2d4f6a8c0e1f3b5d7a9c2e4f6b8d0a1c3e5f7b9d2a")
        .unwrap()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "rolewright-store-{name}-{}-{:?}",
        std::process::id(),
        std::time::SystemTime::now()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn acknowledged_writes_are_read_back_after_reopening() {
    let dir = temp_dir("reopen");
    runtime().block_on(async {
        let store = Store::open(&dir, "111122223333", key()).unwrap();
        for i in 0..50 {
            let name = format!("user-{i}");
            store
                .write(None, |state| {
                    let mut user =
                        rolewright_server::iam::new_user(&name, "/", 1, Vec::new(), None);
                    user.inline.insert(
                        "p".into(),
                        InlinePolicy {
                            name: "p".into(),
                            document: "{}".into(),
                        },
                    );
                    let change = Change::put(kind::USER, name.clone(), &user);
                    state.users.insert(name.clone(), user);
                    Ok(((), vec![change]))
                })
                .await
                .unwrap();
        }
    });
    let reopened = Store::open(&dir, "999999999999", key()).unwrap();
    let state = reopened.read();
    assert_eq!(
        state.account, "111122223333",
        "the account of a data directory never changes"
    );
    assert_eq!(state.users.len(), 50);
    assert_eq!(state.users["user-49"].inline["p"].document, "{}");
}

#[test]
fn relaxed_writes_are_seen_at_once_and_kept_in_order_with_the_synced_write_after_them() {
    let dir = temp_dir("relaxed");
    runtime().block_on(async {
        let store = Store::open(&dir, "111122223333", key()).unwrap();
        for (i, durability) in [Durability::Relaxed, Durability::Relaxed, Durability::Sync]
            .into_iter()
            .enumerate()
        {
            let name = format!("step-{i}");
            store
                .write_as(durability, None, |state| {
                    let user = rolewright_server::iam::new_user(&name, "/", 1, Vec::new(), None);
                    let change = Change::put(kind::USER, name.clone(), &user);
                    state.users.insert(name.clone(), user);
                    Ok(((), vec![change]))
                })
                .await
                .unwrap();
            assert!(
                store.read().users.contains_key(&name),
                "a {durability:?} write is visible once acknowledged"
            );
        }
    });
    let reopened = Store::open(&dir, "111122223333", key()).unwrap();
    let names: Vec<String> = reopened.read().users.keys().cloned().collect();
    assert_eq!(names, ["step-0", "step-1", "step-2"]);
}

#[test]
fn a_refused_change_is_not_stored() {
    let dir = temp_dir("refused");
    runtime().block_on(async {
        let store = Store::open(&dir, "111122223333", key()).unwrap();
        let refused: Result<(), ApiError> = store
            .write(None, |_| {
                Err(ApiError::already_exists("Role with name r already exists."))
            })
            .await;
        assert_eq!(refused.unwrap_err().code, "EntityAlreadyExists");
        store.flush().await.unwrap();
    });
    let reopened = Store::open(&dir, "111122223333", key()).unwrap();
    assert!(reopened.read().users.is_empty());
}

#[cfg(unix)]
#[test]
fn the_database_is_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("mode");
    let _store = Store::open(&dir, "111122223333", key()).unwrap();
    let mode = std::fs::metadata(dir.join(DB_FILE))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the database holds secret keys");
}

#[test]
fn every_decision_of_a_request_reads_back_from_the_audit_log_one_or_several() {
    use rolewright_server::audit::{AuditDecision, AuditQuery, AuditRecord, query};
    let dir = temp_dir("decisions");
    let decision = |action: &str, decision: &str| AuditDecision {
        action: action.into(),
        resource: "arn:aws:iam::111122223333:role/r".into(),
        decision: decision.into(),
        reason: format!("{decision} by a policy"),
    };
    let record = |id: &str, decisions: Vec<AuditDecision>, reason: &str| {
        let headline = decisions.last().cloned().unwrap_or_default();
        AuditRecord {
            time_ms: 1,
            request_id: id.into(),
            action: Some(headline.action),
            resource: Some(headline.resource),
            decision: headline.decision,
            reason: Some(reason.into()),
            status: 200,
            decisions,
            ..AuditRecord::default()
        }
    };
    let lone = record(
        "lone",
        vec![decision("iam:GetRole", "allowed")],
        "allowed by a policy",
    );
    // One decision, but the line's reason is the error that followed it: stored apart.
    let then_failed = record(
        "then-failed",
        vec![decision("iam:GetRole", "allowed")],
        "The role with name r cannot be found.",
    );
    let several = record(
        "several",
        vec![
            decision("iam:CreateRole", "allowed"),
            decision("iam:PutRolePermissionsBoundary", "denied"),
        ],
        "denied by a policy",
    );
    let unauthenticated = AuditRecord {
        request_id: "unauthenticated".into(),
        decision: "error".into(),
        status: 403,
        ..AuditRecord::default()
    };
    let written = [lone, then_failed, several, unauthenticated];
    runtime().block_on(async {
        let store = Store::open(&dir, "111122223333", key()).unwrap();
        for r in &written {
            store.audit(r.clone());
        }
        store.flush().await.unwrap();
    });
    let read = query(
        &dir,
        &AuditQuery {
            limit: 10,
            ..AuditQuery::default()
        },
    )
    .unwrap();
    let ids: Vec<&str> = read.iter().map(|r| r.request_id.as_str()).collect();
    assert_eq!(ids, ["lone", "then-failed", "several", "unauthenticated"]);
    for (got, want) in read.iter().zip(&written) {
        assert_eq!(got.decisions, want.decisions, "{}", want.request_id);
    }
}
