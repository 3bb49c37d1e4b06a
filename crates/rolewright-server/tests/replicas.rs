//! Replicas sharing one PostgreSQL database (a throwaway cluster per test): they agree. Two
//! replicas creating the same entity at once give one success and one `EntityAlreadyExists`;
//! a write acknowledged by one is seen by the other within a second (the delay is measured);
//! replicas starting together make one administrator; a session from `AssumeRole` on one is
//! accepted by the other at once; a database dump holds no secret; and while the database is
//! down, writes get `ServiceUnavailable` quickly, reads from memory go on, `/health` says
//! `degraded`, and everything recovers by itself when it is back.
#![cfg(feature = "postgres")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

mod backend;

use std::time::{Duration, Instant};

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use backend::Db;
use rolewright_server::error::ApiError;
use rolewright_server::master_key::MasterKey;
use rolewright_server::model::{AccessKey, Change, KeyStatus, kind};
use rolewright_server::store::Store;
use rolewright_server::{Config, Server};
use tower::ServiceExt as _;

const ACCOUNT: &str = "111122223333";
const KEY_HEX: &str = "8f3a5c7e9b1d2f4a6c8e0b2d4f6a8c0e1f3b5d7a9c2e4f6b8d0a1c3e5f7b9d2a";

fn key() -> MasterKey {
    MasterKey::from_hex(KEY_HEX.as_bytes()).unwrap()
}

fn multi_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

async fn create_user(store: &Store, name: &str) -> Result<(), ApiError> {
    store
        .write(None, |state| {
            if state.users.contains_key(name) {
                return Err(ApiError::already_exists(format!(
                    "User with name {name} already exists."
                )));
            }
            let user = rolewright_server::iam::new_user(name, "/", 1, Vec::new(), None);
            let change = Change::put(kind::USER, name, &user);
            state.users.insert(name.to_string(), user);
            Ok(((), vec![change]))
        })
        .await
}

/// Waits until `check` holds on `store`, at most `limit`; returns how long it took.
async fn until(store: &Store, limit: Duration, check: impl Fn(&Store) -> bool) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if check(store) {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
    None
}

#[test]
fn two_replicas_creating_the_same_user_at_once_give_one_success_and_one_entity_already_exists() {
    let Some(db) = backend::postgres("same_user_at_once") else {
        return;
    };
    multi_thread().block_on(async {
        let a = db.open(ACCOUNT, key()).await.unwrap();
        let b = db.open(ACCOUNT, key()).await.unwrap();
        for i in 0..100 {
            let name = format!("raced-{i}");
            let (on_a, on_b) = tokio::join!(create_user(&a, &name), create_user(&b, &name));
            let outcomes = [on_a, on_b];
            let ok = outcomes.iter().filter(|o| o.is_ok()).count();
            assert_eq!(ok, 1, "round {i}: exactly one replica creates `{name}`");
            let refused = outcomes.into_iter().find_map(Result::err).unwrap();
            assert_eq!(refused.code, "EntityAlreadyExists");
            assert_eq!(
                refused.message,
                format!("User with name {name} already exists.")
            );
        }
        for store in [&a, &b] {
            let seen = until(store, Duration::from_secs(2), |s| {
                s.read().users.len() == 100
            })
            .await;
            assert!(seen.is_some(), "both replicas hold the 100 users");
        }
    });
}

#[test]
fn a_write_acknowledged_by_one_replica_is_visible_on_the_other_within_a_second() {
    let Some(db) = backend::postgres("visible_within_a_second") else {
        return;
    };
    multi_thread().block_on(async {
        let a = db.open(ACCOUNT, key()).await.unwrap();
        let b = db.open(ACCOUNT, key()).await.unwrap();
        let mut delays = Vec::new();
        for i in 0..200 {
            let name = format!("seen-{i}");
            create_user(&a, &name).await.unwrap();
            let delay = until(&b, Duration::from_secs(5), |s| {
                s.read().users.contains_key(&name)
            })
            .await
            .unwrap_or_else(|| panic!("`{name}` never reached the other replica"));
            delays.push(delay);
        }
        delays.sort();
        let median = delays[delays.len() / 2];
        let p99 = delays[delays.len() * 99 / 100];
        eprintln!(
            "replication delay over {} writes: median {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            delays.len(),
            median.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3,
            delays[delays.len() - 1].as_secs_f64() * 1e3
        );
        assert!(p99 < Duration::from_secs(1), "p99 {p99:?}");
        assert_eq!(b.health().applied_seq, a.health().applied_seq);
    });
}

#[test]
fn a_replicas_change_position_moves_when_it_applies_another_replicas_write() {
    let Some(db) = backend::postgres("change_position_follows") else {
        return;
    };
    multi_thread().block_on(async {
        let a = db.open(ACCOUNT, key()).await.unwrap();
        let b = db.open(ACCOUNT, key()).await.unwrap();
        let before = b.change_position();
        create_user(&a, "written-on-a").await.unwrap();
        until(&b, Duration::from_secs(5), |s| {
            s.read().users.contains_key("written-on-a")
        })
        .await
        .unwrap();
        assert!(
            b.change_position() > before,
            "the position of the replica that applied the change moved"
        );
        let applied = b.change_position();
        create_user(&b, "written-on-b").await.unwrap();
        assert!(b.change_position() > applied, "its own write moves it too");
    });
}

#[test]
fn concurrent_writes_through_two_replicas_are_all_on_both() {
    let Some(db) = backend::postgres("concurrent_writes") else {
        return;
    };
    multi_thread().block_on(async {
        let a = std::sync::Arc::new(db.open(ACCOUNT, key()).await.unwrap());
        let b = std::sync::Arc::new(db.open(ACCOUNT, key()).await.unwrap());
        let start = Instant::now();
        let run = Duration::from_secs(2);
        let mut writers = Vec::new();
        for w in 0..8 {
            let store = if w % 2 == 0 { a.clone() } else { b.clone() };
            writers.push(tokio::spawn(async move {
                let mut written = 0;
                while start.elapsed() < run {
                    create_user(&store, &format!("w{w}-{written}"))
                        .await
                        .unwrap();
                    written += 1;
                }
                written
            }));
        }
        let mut total = 0;
        for writer in writers {
            total += writer.await.unwrap();
        }
        let elapsed = start.elapsed().as_secs_f64();
        eprintln!(
            "durable writes through two replicas, 8 writers: {total} in {elapsed:.2} s, {:.0}/s",
            f64::from(total) / elapsed
        );
        for store in [&a, &b] {
            let all = until(store, Duration::from_secs(2), |s| {
                s.read().users.len() == total as usize
            })
            .await;
            assert!(
                all.is_some(),
                "every acknowledged write is on both replicas"
            );
        }
    });
}

#[test]
fn a_postgres_dump_holds_no_secret_and_the_other_replica_opens_them() {
    let Some(db) = backend::postgres("dump_holds_no_secret") else {
        return;
    };
    const SECRET: &str = "knownSecretAccessKey/SealMe+0123456789ab";
    multi_thread().block_on(async {
        let a = db.open(ACCOUNT, key()).await.unwrap();
        let b = db.open(ACCOUNT, key()).await.unwrap();
        let access_key = AccessKey {
            id: "AKIAKNOWNKEYID000001".into(),
            secret: SECRET.into(),
            user: "alice".into(),
            status: KeyStatus::Active,
            created: 1,
        };
        a.write(None, |state| {
            let change = Change::put(kind::ACCESS_KEY, access_key.id.clone(), &access_key);
            state
                .access_keys
                .insert(access_key.id.clone(), access_key.clone());
            Ok(((), vec![change]))
        })
        .await
        .unwrap();
        // Acknowledged once the other replica has applied it (or catches up now).
        b.catch_up().await.unwrap();
        assert_eq!(b.read().access_keys["AKIAKNOWNKEYID000001"].secret, SECRET);
    });
    let Db::Postgres { cluster, name, .. } = &db else {
        unreachable!()
    };
    let dump = cluster.dump(name).unwrap();
    assert!(
        dump.contains("AKIAKNOWNKEYID000001"),
        "the dump has the key's row"
    );
    assert!(dump.contains("secret_sealed"), "its secret is sealed");
    assert!(
        !dump.contains(SECRET),
        "no secret in entities or change_log"
    );
}

/// A server on the test's database with its own data directory (for its credentials file).
async fn replica(db: &Db, dir: &std::path::Path, key_file: &std::path::Path) -> Server {
    let mut config = Config::new(dir);
    config.account_id = ACCOUNT.into();
    config.database = Some(db.database());
    config.master_key_file = Some(key_file.to_path_buf());
    config.listen = "127.0.0.1:0".parse().unwrap();
    Server::open(config).await.unwrap()
}

fn key_file(dir: &std::path::Path) -> std::path::PathBuf {
    let file = dir.join("master.key");
    std::fs::write(&file, format!("{KEY_HEX}\n")).unwrap();
    file
}

fn credentials(text: &str) -> rolewright_sigv4::Credentials {
    let value = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim_start_matches([' ', '=']).trim().to_string())
            .unwrap()
    };
    rolewright_sigv4::Credentials::new(value("aws_access_key_id"), value("aws_secret_access_key"))
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Sends a signed query-protocol call to `server` and returns its status and body.
async fn call(
    server: &Server,
    creds: &rolewright_sigv4::Credentials,
    service: &str,
    body: &str,
) -> (StatusCode, String) {
    let form = ("content-type", "application/x-www-form-urlencoded");
    let headers: Vec<(&str, &[u8])> = vec![("host", b"127.0.0.1"), (form.0, form.1.as_bytes())];
    let unsigned = rolewright_sigv4::Request {
        method: "POST",
        path: "/",
        query: "",
        headers: &headers,
        body: body.as_bytes(),
    };
    let added = rolewright_sigv4::sign(&unsigned, creds, "us-east-1", service, now());
    let mut request = Request::post("/")
        .header("host", "127.0.0.1")
        .header(form.0, form.1);
    for (k, v) in &added {
        request = request.header(k.as_str(), v.as_str());
    }
    let request = request.body(Body::from(body.to_string())).unwrap();
    let response = server.router().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

async fn health(server: &Server) -> (StatusCode, serde_json::Value) {
    let request = Request::get("/health").body(Body::empty()).unwrap();
    let response = server.router().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap())
}

fn between<'t>(text: &'t str, open: &str, close: &str) -> &'t str {
    let start = text.find(open).unwrap() + open.len();
    let end = text[start..].find(close).unwrap() + start;
    &text[start..end]
}

const TRUST: &str = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22AWS%22%3A%22arn%3Aaws%3Aiam%3A%3A111122223333%3Aroot%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D";

#[test]
fn replicas_starting_together_make_one_administrator_and_share_sessions() {
    let Some(db) = backend::postgres("start_together") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let key_file = key_file(dir.path());
    let (dir_a, dir_b) = (dir.path().join("a"), dir.path().join("b"));
    multi_thread().block_on(async {
        let (a, b) = tokio::join!(
            replica(&db, &dir_a, &key_file),
            replica(&db, &dir_b, &key_file)
        );
        assert_eq!(
            [a.created(), b.created()].iter().filter(|c| **c).count(),
            1,
            "exactly one replica creates the administrator"
        );
        let (creator, other, creator_dir, other_dir) = if a.created() {
            (&a, &b, &dir_a, &dir_b)
        } else {
            (&b, &a, &dir_b, &dir_a)
        };
        assert!(
            !other_dir.join("credentials").exists(),
            "only the creator writes the credentials file"
        );
        let text = std::fs::read_to_string(creator_dir.join("credentials")).unwrap();
        let admin = credentials(&text);
        let printed = rolewright_server::admin_credentials_of(&db.database(), Some(&key_file))
            .await
            .unwrap();
        assert_eq!(printed, text, "admin credentials prints the creator's file");

        // The administrator's key works on the replica that did not create it.
        let (status, body) = call(other, &admin, "sts", "Action=GetCallerIdentity&Version=2011-06-15").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.contains(":user/admin</Arn>"), "{body}");

        let (status, body) = call(
            creator,
            &admin,
            "iam",
            &format!("Action=CreateRole&Version=2010-05-08&RoleName=shared&AssumeRolePolicyDocument={TRUST}"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        // At once, on the other replica, the role exists and its name is taken.
        let (status, body) = call(
            other,
            &admin,
            "iam",
            &format!("Action=CreateRole&Version=2010-05-08&RoleName=shared&AssumeRolePolicyDocument={TRUST}"),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert!(body.contains("<Code>EntityAlreadyExists</Code>"), "{body}");
        assert!(body.contains("Role with name shared already exists."), "{body}");

        let (status, body) = call(
            creator,
            &admin,
            "sts",
            "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2Fshared&RoleSessionName=s1",
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let session = rolewright_sigv4::Credentials::new(
            between(&body, "<AccessKeyId>", "</AccessKeyId>"),
            between(&body, "<SecretAccessKey>", "</SecretAccessKey>"),
        )
        .with_session_token(between(&body, "<SessionToken>", "</SessionToken>"));
        // At once on the other replica: a session it has not seen makes it catch up.
        let (status, body) = call(other, &session, "sts", "Action=GetCallerIdentity&Version=2011-06-15").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(
            body.contains("<Arn>arn:aws:sts::111122223333:assumed-role/shared/s1</Arn>"),
            "{body}"
        );
        // An unknown key is still refused after the catch-up finds nothing.
        let stranger = rolewright_sigv4::Credentials::new("AKIAUNKNOWNKEY000000", "x");
        let (status, body) = call(other, &stranger, "sts", "Action=GetCallerIdentity&Version=2011-06-15").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert!(body.contains("<Code>InvalidClientTokenId</Code>"), "{body}");
    });
}

#[test]
fn while_postgres_is_down_writes_are_refused_quickly_reads_go_on_and_it_recovers() {
    let Some(db) = backend::postgres("postgres_down") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let key_file = key_file(dir.path());
    let data = dir.path().join("data");
    multi_thread().block_on(async {
        let server = replica(&db, &data, &key_file).await;
        let admin = credentials(&std::fs::read_to_string(data.join("credentials")).unwrap());
        let (status, report) = health(&server).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(report["status"], "ok");
        assert_eq!(report["database"], "up");
        assert!(report["applied_seq"].as_i64().unwrap() > 0, "{report}");
        let create = |name: &str| {
            format!("Action=CreateRole&Version=2010-05-08&RoleName={name}&AssumeRolePolicyDocument={TRUST}")
        };
        let (status, body) = call(&server, &admin, "iam", &create("before")).await;
        assert_eq!(status, StatusCode::OK, "{body}");

        db.cluster().unwrap().stop().unwrap();
        let start = Instant::now();
        let (status, body) = call(&server, &admin, "iam", &create("during")).await;
        assert!(start.elapsed() < Duration::from_secs(10), "took {:?}", start.elapsed());
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert!(body.contains("<Code>ServiceUnavailable</Code>"), "{body}");
        let (status, body) =
            call(&server, &admin, "iam", "Action=GetRole&Version=2010-05-08&RoleName=before").await;
        assert_eq!(status, StatusCode::OK, "reads from memory go on: {body}");
        // Not in memory, and the database cannot say whether another replica made it: not
        // "no such role", which might be wrong, but ServiceUnavailable.
        let (status, body) =
            call(&server, &admin, "iam", "Action=GetRole&Version=2010-05-08&RoleName=during").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert!(body.contains("<Code>ServiceUnavailable</Code>"), "{body}");
        let (status, report) = health(&server).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(report["status"], "degraded");
        assert_eq!(report["database"], "down");
        // A key the replica has not seen needs the database: ServiceUnavailable, not a refusal.
        let stranger = rolewright_sigv4::Credentials::new("AKIAUNKNOWNKEY000000", "x");
        let start = Instant::now();
        let (status, body) = call(&server, &stranger, "sts", "Action=GetCallerIdentity&Version=2011-06-15").await;
        assert!(start.elapsed() < Duration::from_secs(10), "took {:?}", start.elapsed());
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");

        db.cluster().unwrap().restart().unwrap();
        let start = Instant::now();
        loop {
            let (status, _) = call(&server, &admin, "iam", &create("after")).await;
            if status == StatusCode::OK {
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(15), "no recovery: {status}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let start = Instant::now();
        while health(&server).await.0 != StatusCode::OK {
            assert!(start.elapsed() < Duration::from_secs(5), "health stays degraded");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let (_, report) = health(&server).await;
        assert_eq!(report["database"], "up");
        let (status, body) =
            call(&server, &admin, "iam", "Action=GetRole&Version=2010-05-08&RoleName=during").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "the refused write was never stored: {body}");
    });
}

#[test]
fn a_replica_started_later_loads_every_earlier_write() {
    let Some(db) = backend::postgres("late_replica") else {
        return;
    };
    multi_thread().block_on(async {
        let a = db.open(ACCOUNT, key()).await.unwrap();
        for i in 0..10 {
            create_user(&a, &format!("early-{i}")).await.unwrap();
        }
        let late = db.open(ACCOUNT, key()).await.unwrap();
        assert_eq!(late.read().users.len(), 10);
        assert_eq!(late.health().applied_seq, a.health().applied_seq);
    });
}

#[test]
fn a_replica_cut_off_from_a_database_that_does_not_answer_refuses_writes_within_ten_seconds() {
    let Some(db) = backend::postgres("partitioned") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let key_file = key_file(dir.path());
    let data = dir.path().join("data");
    multi_thread().block_on(async {
        let server = replica(&db, &data, &key_file).await;
        let admin = credentials(&std::fs::read_to_string(data.join("credentials")).unwrap());
        let create = |name: &str| {
            format!(
                "Action=CreateRole&Version=2010-05-08&RoleName={name}&AssumeRolePolicyDocument={TRUST}"
            )
        };
        let (status, body) = call(&server, &admin, "iam", &create("before")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let cluster = db.cluster().unwrap();
        cluster.freeze().unwrap();
        let start = Instant::now();
        let (status, body) = call(&server, &admin, "iam", &create("during")).await;
        let took = start.elapsed();
        let (read, read_body) =
            call(&server, &admin, "iam", "Action=GetRole&Version=2010-05-08&RoleName=before").await;
        let report = health(&server).await;
        cluster.thaw().unwrap();
        assert!(took < Duration::from_secs(10), "the write waited {took:?}");
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert!(body.contains("<Code>ServiceUnavailable</Code>"), "{body}");
        assert_eq!(read, StatusCode::OK, "reads from memory go on: {read_body}");
        assert_eq!(report.0, StatusCode::SERVICE_UNAVAILABLE, "{}", report.1);
        assert_eq!(report.1["database"], "down");
        let start = Instant::now();
        loop {
            let (status, _) = call(&server, &admin, "iam", &create("after")).await;
            if status == StatusCode::OK {
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(20), "no recovery: {status}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let (status, body) =
            call(&server, &admin, "iam", "Action=GetRole&Version=2010-05-08&RoleName=during").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "the refused write never appears: {body}");
    });
}

#[test]
fn the_change_log_is_pruned_and_a_replica_behind_its_horizon_reloads_everything() {
    let Some(db) = backend::postgres("pruned_log") else {
        return;
    };
    let Db::Postgres { cluster, name, .. } = &db else {
        unreachable!()
    };
    multi_thread().block_on(async {
        let a = db.open(ACCOUNT, key()).await.unwrap();
        let b = db.open(ACCOUNT, key()).await.unwrap();
        let managed = rolewright_server::managed::all();
        let example = managed[0].arn.clone();
        b.setup(|state| {
            state
                .policies
                .insert(managed[0].arn.clone(), managed[0].clone());
        });
        for i in 0..5 {
            create_user(&a, &format!("user-{i}")).await.unwrap();
        }
        let pruned = a.prune_log(Duration::ZERO).await.unwrap();
        assert!(pruned >= 4, "all but the newest entry go: {pruned}");
        assert_eq!(
            cluster
                .psql(name, "SELECT count(*) FROM change_log")
                .unwrap()
                .trim(),
            "1"
        );
        // B had applied everything before the pruning: it goes on from the log.
        create_user(&a, "after-pruning").await.unwrap();
        let seen = until(&b, Duration::from_secs(2), |s| {
            s.read().users.contains_key("after-pruning")
        })
        .await;
        assert!(seen.is_some());
        // An entity B never saw in the log, behind a horizon B has not reached: B reloads.
        cluster
            .psql(
                name,
                "INSERT INTO entities (kind, id, body) SELECT kind, 'ghost', \
                 replace(body, '\"user-0\"', '\"ghost\"') FROM entities \
                 WHERE kind = 'user' AND id = 'user-0'; \
                 UPDATE rolewright_log_horizon SET pruned_through = 1000000",
            )
            .unwrap();
        b.catch_up().await.unwrap();
        let state = b.read();
        assert!(
            state.users.contains_key("ghost"),
            "reloaded from the entities"
        );
        assert_eq!(state.users.len(), 7);
        assert!(
            state.policies.contains_key(&example),
            "AWS managed policies (set up in memory, not stored) survive a reload"
        );
    });
}

#[test]
fn a_database_of_the_first_schema_is_migrated_at_start() {
    let Some(db) = backend::postgres("migrated") else {
        return;
    };
    let Db::Postgres { cluster, name, .. } = &db else {
        unreachable!()
    };
    multi_thread().block_on(async {
        let a = db.open(ACCOUNT, key()).await.unwrap();
        create_user(&a, "kept").await.unwrap();
    });
    cluster
        .psql(
            name,
            "DROP TABLE rolewright_log_horizon; DROP INDEX change_log_time; \
             UPDATE rolewright_schema SET version = 1",
        )
        .unwrap();
    multi_thread().block_on(async {
        let reopened = db.open(ACCOUNT, key()).await.unwrap();
        assert!(reopened.read().users.contains_key("kept"));
        create_user(&reopened, "after").await.unwrap();
    });
    assert_eq!(
        cluster
            .psql(name, "SELECT version FROM rolewright_schema")
            .unwrap()
            .trim(),
        "2"
    );
    assert_eq!(
        cluster
            .psql(name, "SELECT pruned_through FROM rolewright_log_horizon")
            .unwrap()
            .trim(),
        "0"
    );
}
