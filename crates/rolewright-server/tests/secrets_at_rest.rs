//! Secrets at rest: what the store writes to SQLite holds no secret access key, session secret,
//! session token or Studio URL key, in the file's bytes or in `sqlite3 .dump`; the same master
//! key reads them back, another is refused; and a database written before sealing is sealed in
//! place at open without losing anything.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

use std::path::{Path, PathBuf};

use rolewright_server::master_key::MasterKey;
use rolewright_server::model::{AccessKey, Change, KeyStatus, Session, kind};
use rolewright_server::store::{DB_FILE, Store};

const ACCOUNT: &str = "111122223333";
const KEY_ID: &str = "AKIAKNOWNKEYID000001";
const SECRET: &str = "knownSecretAccessKey/SealMe+0123456789ab";
const SESSION_ID: &str = "ASIAKNOWNSESSION0001";
const SESSION_SECRET: &str = "knownSessionSecret/SealMe+0123456789abcd";
const SESSION_TOKEN: &str = "IQoJb3JpZ2luX2VjKNOWNSESSIONTOKENsealme";
const STUDIO_KEY: &str = "5ea15ea15ea15ea15ea15ea15ea15ea15ea15ea15ea15ea15ea15ea15ea15ea1";

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "rolewright-secrets-{name}-{}-{:?}",
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

fn key_a() -> MasterKey {
    MasterKey::from_hex(b"a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0\n")
        .unwrap()
}

fn key_b() -> MasterKey {
    MasterKey::from_hex(b"0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0")
        .unwrap()
}

fn access_key() -> AccessKey {
    AccessKey {
        id: KEY_ID.into(),
        secret: SECRET.into(),
        user: "alice".into(),
        status: KeyStatus::Active,
        created: 1,
    }
}

fn session() -> Session {
    Session {
        key_id: SESSION_ID.into(),
        secret: SESSION_SECRET.into(),
        token: SESSION_TOKEN.into(),
        expires: i64::MAX,
        issued: 1,
        role: "r".into(),
        role_id: "AROAEXAMPLE".into(),
        session_name: "s".into(),
        policy: None,
        policy_arns: Vec::new(),
        tags: Vec::new(),
        source_identity: None,
    }
}

/// The changes the server makes for an access key, a session and the Studio URL key.
fn secret_changes() -> Vec<Change> {
    vec![
        Change::put(kind::ACCESS_KEY, KEY_ID, &access_key()),
        Change::put(kind::SESSION, SESSION_ID, &session()),
        Change::Put {
            kind: kind::META,
            id: "studio_url_key".into(),
            body: STUDIO_KEY.into(),
        },
    ]
}

/// Every byte SQLite keeps for the database: the file, its write-ahead log and its index.
fn raw_bytes(dir: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        if let Ok(b) = std::fs::read(dir.join(format!("{DB_FILE}{suffix}"))) {
            bytes.extend(b);
        }
    }
    bytes
}

/// `sqlite3 DIR/rolewright.db .dump`.
fn dump(dir: &Path) -> String {
    let out = std::process::Command::new("sqlite3")
        .arg(dir.join(DB_FILE))
        .arg(".dump")
        .output()
        .expect("the sqlite3 command line tool runs (apt-get install sqlite3)");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Neither the database's bytes nor its dump reveal a secret; the dump does show the rows.
fn assert_no_secret_at_rest(dir: &Path) {
    let bytes = raw_bytes(dir);
    let text = dump(dir);
    assert!(
        text.contains(KEY_ID) && text.contains(SESSION_ID),
        "the dump holds the rows:\n{text}"
    );
    for (what, secret) in [
        ("secret access key", SECRET),
        ("session secret", SESSION_SECRET),
        ("session token", SESSION_TOKEN),
        ("Studio URL key", STUDIO_KEY),
    ] {
        assert!(
            !contains(&bytes, secret),
            "the {what} is in the database's bytes"
        );
        assert!(!text.contains(secret), "the {what} is in the dump:\n{text}");
    }
}

fn assert_secrets_read_back(store: &Store) {
    let state = store.read();
    assert_eq!(state.access_keys[KEY_ID], access_key());
    assert_eq!(state.sessions[SESSION_ID], session());
    assert_eq!(state.studio_url_key.as_deref(), Some(STUDIO_KEY));
}

#[test]
fn stored_secrets_are_sealed_in_the_file_and_the_dump_and_the_same_key_reads_them_back() {
    let dir = temp_dir("sealed");
    runtime().block_on(async {
        let store = Store::open(&dir, ACCOUNT, key_a()).unwrap();
        store
            .write(None, |state| {
                state.access_keys.insert(KEY_ID.into(), access_key());
                state.sessions.insert(SESSION_ID.into(), session());
                state.studio_url_key = Some(STUDIO_KEY.into());
                Ok(((), secret_changes()))
            })
            .await
            .unwrap();
        assert_secrets_read_back(&store);
        // While the server runs, the write sits in the write-ahead log.
        assert_no_secret_at_rest(&dir);
    });
    let reopened = Store::open(&dir, ACCOUNT, key_a()).unwrap();
    assert_secrets_read_back(&reopened);
    assert_no_secret_at_rest(&dir);
}

#[test]
fn a_database_sealed_under_another_key_is_refused() {
    let dir = temp_dir("wrong-key");
    drop(Store::open(&dir, ACCOUNT, key_a()).unwrap());
    let refused = Store::open(&dir, ACCOUNT, key_b()).err().unwrap();
    assert_eq!(
        refused.to_string(),
        format!(
            "database {}: its secrets are sealed under another master key",
            dir.join(DB_FILE).display()
        )
    );
    // The refusal changed nothing: the right key still opens it.
    Store::open(&dir, ACCOUNT, key_a()).unwrap();
}

/// Writes rows as the store did before sealing: the model's JSON, secrets in plaintext, and no
/// key check value. The first rows are checkpointed into the file itself.
fn write_plaintext_database(dir: &Path) {
    drop(Store::open(dir, ACCOUNT, key_a()).unwrap());
    let conn = rusqlite::Connection::open(dir.join(DB_FILE)).unwrap();
    conn.execute("DELETE FROM entities WHERE id = 'master_key_check'", [])
        .unwrap();
    let put = |change: &Change| {
        let Change::Put { kind, id, body } = change else {
            unreachable!()
        };
        conn.execute(
            "INSERT OR REPLACE INTO entities (kind, id, body) VALUES (?1, ?2, ?3)",
            rusqlite::params![kind, id, body],
        )
        .unwrap();
    };
    let changes = secret_changes();
    for change in &changes[..2] {
        put(change);
    }
    let _: i64 = conn
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))
        .unwrap();
    put(&changes[2]);
    drop(conn);
    let bytes = raw_bytes(dir);
    assert!(
        contains(&bytes, SECRET) && contains(&bytes, STUDIO_KEY),
        "the fixture holds plaintext secrets"
    );
    assert!(dump(dir).contains(SESSION_TOKEN));
}

#[test]
fn plaintext_secrets_of_an_earlier_version_are_sealed_in_place_at_open_and_nothing_is_lost() {
    let dir = temp_dir("migrate");
    write_plaintext_database(&dir);

    let migrated = Store::open(&dir, ACCOUNT, key_b()).unwrap();
    assert_secrets_read_back(&migrated);
    assert_no_secret_at_rest(&dir);
    drop(migrated);

    let reopened = Store::open(&dir, ACCOUNT, key_b()).unwrap();
    assert_secrets_read_back(&reopened);
    drop(reopened);
    assert!(
        Store::open(&dir, ACCOUNT, key_a()).is_err(),
        "once sealed, the database belongs to the key it was sealed under"
    );
}

#[test]
fn a_sealed_secret_copied_into_another_row_does_not_open() {
    let dir = temp_dir("swap");
    runtime().block_on(async {
        let store = Store::open(&dir, ACCOUNT, key_a()).unwrap();
        store
            .write(None, |_| Ok(((), secret_changes())))
            .await
            .unwrap();
    });
    let conn = rusqlite::Connection::open(dir.join(DB_FILE)).unwrap();
    conn.execute(
        "INSERT INTO entities (kind, id, body) \
         SELECT kind, 'AKIACOPIEDKEYID00002', replace(body, ?1, 'AKIACOPIEDKEYID00002') \
         FROM entities WHERE kind = 'access_key'",
        [KEY_ID],
    )
    .unwrap();
    drop(conn);
    let refused = Store::open(&dir, ACCOUNT, key_a()).err().unwrap();
    assert_eq!(
        refused.to_string(),
        format!(
            "database {}: stored access_key `AKIACOPIEDKEYID00002` is unreadable: its sealed \
             `secret` does not open with this master key (sealed under another key, or altered)",
            dir.join(DB_FILE).display()
        )
    );
}

#[test]
fn a_start_that_stopped_between_sealing_and_scrubbing_scrubs_the_file_at_the_next_open() {
    let dir = temp_dir("scrub");
    write_plaintext_database(&dir);
    // What the sealing transaction leaves: sealed rows, the check value and the mark, while the
    // old plaintext still sits in free pages and the log.
    let key = key_b();
    let conn = rusqlite::Connection::open(dir.join(DB_FILE)).unwrap();
    for change in secret_changes() {
        let Change::Put { kind, id, body } = change else {
            unreachable!()
        };
        let sealed = key.seal_row(kind, &id, &body).unwrap();
        conn.execute(
            "INSERT OR REPLACE INTO entities (kind, id, body) VALUES (?1, ?2, ?3)",
            rusqlite::params![kind, id, sealed.as_ref()],
        )
        .unwrap();
    }
    conn.execute(
        "INSERT INTO entities (kind, id, body) VALUES ('meta', 'master_key_check', ?1), \
         ('meta', 'plaintext_scrub_pending', 'true')",
        [key.check_value().unwrap()],
    )
    .unwrap();
    assert!(
        !dump(&dir).contains(SECRET) && contains(&raw_bytes(&dir), SECRET),
        "the fixture holds the old plaintext outside the live rows"
    );

    let store = Store::open(&dir, ACCOUNT, key_b()).unwrap();
    drop(conn);
    assert_secrets_read_back(&store);
    assert_no_secret_at_rest(&dir);
    assert!(
        !dump(&dir).contains("plaintext_scrub_pending"),
        "the mark is gone once the file is scrubbed"
    );
}
