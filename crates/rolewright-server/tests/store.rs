//! The store, on SQLite and on PostgreSQL alike: an acknowledged write is durable, survives a
//! reopen, and a refused change leaves nothing behind; the audit log reads back; a wrong master
//! key and a newer schema are refused with messages naming the database. Then what is
//! particular to each backend: the SQLite file is owner-only; an unreachable PostgreSQL is
//! named with its host, port and cause.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

mod backend;

use backend::{Db, runtime};
use rolewright_server::error::ApiError;
use rolewright_server::master_key::MasterKey;
use rolewright_server::model::{Change, InlinePolicy, Tag, kind};
use rolewright_server::store::{DB_FILE, Durability, Store};

/// The same master key for every open of a test's database.
fn key() -> MasterKey {
    MasterKey::from_hex(b"8f3a5c7e9b1d2f4a6c8e0b2d4f6a8c0e1f3b5d7a9c2e4f6b8d0a1c3e5f7b9d2a")
        .unwrap()
}

fn other_key() -> MasterKey {
    MasterKey::from_hex(b"0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0")
        .unwrap()
}

/// Creates user `name` with an inline policy, refusing a name taken (as IAM does).
async fn create_user(store: &Store, name: &str) -> Result<(), ApiError> {
    store
        .write(None, |state| {
            if state.users.contains_key(name) {
                return Err(ApiError::already_exists(format!(
                    "User with name {name} already exists."
                )));
            }
            let mut user = rolewright_server::iam::new_user(name, "/", 1, Vec::new(), None);
            user.inline.insert(
                "p".into(),
                InlinePolicy {
                    name: "p".into(),
                    document: "{}".into(),
                },
            );
            let change = Change::put(kind::USER, name, &user);
            state.users.insert(name.to_string(), user);
            Ok(((), vec![change]))
        })
        .await
}

on_both_backends!(
    acknowledged_writes_are_read_back_after_reopening,
    relaxed_writes_are_seen_at_once_and_kept_in_order_with_the_synced_write_after_them,
    a_refused_change_is_not_stored,
    a_deletion_is_read_back_after_reopening,
    every_decision_of_a_request_reads_back_from_the_audit_log_one_or_several,
    a_database_sealed_under_another_key_is_refused_naming_it,
    a_database_of_a_newer_schema_is_refused_saying_so,
    the_change_position_moves_with_each_committed_write_and_not_with_a_refused_one,
);

fn acknowledged_writes_are_read_back_after_reopening(db: Db) {
    let rt = runtime();
    rt.block_on(async {
        let store = db.open("111122223333", key()).await.unwrap();
        for i in 0..50 {
            create_user(&store, &format!("user-{i}")).await.unwrap();
        }
    });
    rt.block_on(async {
        let reopened = db.open("999999999999", key()).await.unwrap();
        let state = reopened.read();
        assert_eq!(
            state.account, "111122223333",
            "the account of a database never changes"
        );
        assert_eq!(state.users.len(), 50);
        assert_eq!(state.users["user-49"].inline["p"].document, "{}");
    });
}

fn relaxed_writes_are_seen_at_once_and_kept_in_order_with_the_synced_write_after_them(db: Db) {
    let rt = runtime();
    rt.block_on(async {
        let store = db.open("111122223333", key()).await.unwrap();
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
    rt.block_on(async {
        let reopened = db.open("111122223333", key()).await.unwrap();
        let names: Vec<String> = reopened.read().users.keys().cloned().collect();
        assert_eq!(names, ["step-0", "step-1", "step-2"]);
    });
}

fn a_refused_change_is_not_stored(db: Db) {
    let rt = runtime();
    rt.block_on(async {
        let store = db.open("111122223333", key()).await.unwrap();
        create_user(&store, "taken").await.unwrap();
        let refused = create_user(&store, "taken").await.unwrap_err();
        assert_eq!(refused.code, "EntityAlreadyExists");
        assert_eq!(refused.message, "User with name taken already exists.");
        let refused: Result<(), ApiError> = store
            .write(None, |_| {
                Err(ApiError::already_exists("Role with name r already exists."))
            })
            .await;
        assert_eq!(refused.unwrap_err().code, "EntityAlreadyExists");
        store.flush().await.unwrap();
    });
    rt.block_on(async {
        let reopened = db.open("111122223333", key()).await.unwrap();
        let names: Vec<String> = reopened.read().users.keys().cloned().collect();
        assert_eq!(names, ["taken"]);
    });
}

fn the_change_position_moves_with_each_committed_write_and_not_with_a_refused_one(db: Db) {
    let rt = runtime();
    rt.block_on(async {
        let store = db.open("111122223333", key()).await.unwrap();
        let opened = store.change_position();
        assert_eq!(store.change_position(), opened, "reading moves nothing");
        create_user(&store, "first").await.unwrap();
        let first = store.change_position();
        assert!(first > opened, "a write moves it: {opened} then {first}");
        create_user(&store, "first").await.unwrap_err();
        let refused: Result<(), ApiError> = store
            .write(None, |_| Err(ApiError::already_exists("taken")))
            .await;
        refused.unwrap_err();
        store.flush().await.unwrap();
        assert_eq!(
            store.change_position(),
            first,
            "refused writes and audit records leave it"
        );
        // A change no decision depends on (the permissions generation stays) moves it too.
        let generation = store.read().generation;
        store
            .write(None, |state| {
                let user = state.users.get_mut("first").unwrap();
                user.tags.push(Tag {
                    key: "team".into(),
                    value: "ml".into(),
                });
                let change = Change::put(kind::USER, "first", &*user);
                Ok(((), vec![change]))
            })
            .await
            .unwrap();
        assert_eq!(store.read().generation, generation);
        assert!(store.change_position() > first, "a tag edit moves it");
    });
}

fn a_deletion_is_read_back_after_reopening(db: Db) {
    let rt = runtime();
    rt.block_on(async {
        let store = db.open("111122223333", key()).await.unwrap();
        create_user(&store, "kept").await.unwrap();
        create_user(&store, "gone").await.unwrap();
        store
            .write(None, |state| {
                state.users.remove("gone");
                Ok(((), vec![Change::delete(kind::USER, "gone")]))
            })
            .await
            .unwrap();
    });
    rt.block_on(async {
        let reopened = db.open("111122223333", key()).await.unwrap();
        let names: Vec<String> = reopened.read().users.keys().cloned().collect();
        assert_eq!(names, ["kept"]);
    });
}

fn every_decision_of_a_request_reads_back_from_the_audit_log_one_or_several(db: Db) {
    use rolewright_server::audit::{AuditDecision, AuditQuery, AuditRecord};
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
        let store = db.open("111122223333", key()).await.unwrap();
        for r in &written {
            store.audit(r.clone());
        }
        store.flush().await.unwrap();
        let all = AuditQuery {
            limit: 10,
            ..AuditQuery::default()
        };
        let read = store.query_audit(&all).await.unwrap();
        let ids: Vec<&str> = read.iter().map(|r| r.request_id.as_str()).collect();
        assert_eq!(ids, ["lone", "then-failed", "several", "unauthenticated"]);
        for (got, want) in read.iter().zip(&written) {
            assert_eq!(got.decisions, want.decisions, "{}", want.request_id);
        }
        // A request is found by any action it authorized, not only its operation's.
        let boundary = AuditQuery {
            action: Some("IAM:putrolepermissionsboundary".into()),
            limit: 10,
            ..AuditQuery::default()
        };
        let found = store.query_audit(&boundary).await.unwrap();
        let ids: Vec<&str> = found.iter().map(|r| r.request_id.as_str()).collect();
        assert_eq!(ids, ["several"]);
        let errors = AuditQuery {
            decision: Some("error".into()),
            limit: 10,
            ..AuditQuery::default()
        };
        let found = store.query_audit(&errors).await.unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].status, 403);
    });
}

fn a_database_sealed_under_another_key_is_refused_naming_it(db: Db) {
    let rt = runtime();
    rt.block_on(async {
        drop(db.open("111122223333", key()).await.unwrap());
        let refused = db.open("111122223333", other_key()).await.err().unwrap();
        assert_eq!(
            refused.to_string(),
            format!(
                "database {}: its secrets are sealed under another master key",
                db.shown()
            )
        );
        // The refusal changed nothing: the right key still opens it.
        db.open("111122223333", key()).await.unwrap();
    });
}

fn a_database_of_a_newer_schema_is_refused_saying_so(db: Db) {
    let rt = runtime();
    rt.block_on(async {
        drop(db.open("111122223333", key()).await.unwrap());
    });
    match &db {
        Db::Sqlite(dir) => {
            let conn = rusqlite::Connection::open(dir.join(DB_FILE)).unwrap();
            conn.pragma_update(None, "user_version", 7).unwrap();
        }
        Db::Postgres { cluster, name, .. } => {
            cluster
                .psql(name, "UPDATE rolewright_schema SET version = 7")
                .unwrap();
        }
    }
    let refused = rt.block_on(db.open("111122223333", key())).err().unwrap();
    let known = match &db {
        Db::Sqlite(_) => rolewright_server::store::sqlite::SCHEMA_VERSION,
        #[cfg(feature = "postgres")]
        Db::Postgres { .. } => rolewright_server::store::postgres::SCHEMA_VERSION,
        #[cfg(not(feature = "postgres"))]
        Db::Postgres { .. } => unreachable!(),
    };
    assert_eq!(
        refused.to_string(),
        format!(
            "database {}: its schema is version 7, newer than the {known} this rolewright \
             knows; a newer rolewright migrated it, so run that version (or newer)",
            db.shown()
        )
    );
}

#[cfg(unix)]
#[test]
fn the_sqlite_database_is_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let Db::Sqlite(dir) = backend::sqlite("mode") else {
        unreachable!()
    };
    let _store = Store::open(&dir, "111122223333", key()).unwrap();
    let mode = std::fs::metadata(dir.join(DB_FILE))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the database holds secret keys");
}

#[cfg(feature = "postgres")]
#[test]
fn an_unreachable_postgres_is_named_with_its_host_port_and_cause() {
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://rolewright:hunter2@127.0.0.1:{port}/rw");
    let database = rolewright_server::store::Database::parse(&url).unwrap();
    let refused = runtime()
        .block_on(Store::open_database(&database, "111122223333", key()))
        .err()
        .unwrap()
        .to_string();
    let prefix = format!(
        "database postgres://rolewright:***@127.0.0.1:{port}/rw: cannot connect to \
         127.0.0.1:{port}: "
    );
    assert!(refused.starts_with(&prefix), "{refused}");
    assert!(refused.contains("Connection refused"), "{refused}");
    assert!(!refused.contains("hunter2"), "the password is never shown");
}

#[cfg(not(feature = "postgres"))]
#[test]
fn without_the_postgres_feature_a_postgres_url_is_refused_saying_so() {
    let database =
        rolewright_server::store::Database::parse("postgres://u:pw@127.0.0.1:5432/rw").unwrap();
    let refused = runtime()
        .block_on(Store::open_database(&database, "111122223333", key()))
        .err()
        .unwrap();
    assert_eq!(
        refused.to_string(),
        "database postgres://u:***@127.0.0.1:5432/rw: this rolewright was built without \
         PostgreSQL support (cargo feature `postgres`)"
    );
}
