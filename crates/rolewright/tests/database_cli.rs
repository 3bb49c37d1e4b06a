//! `--database-url` as an operator meets it: `rolewright serve`, `admin credentials` and
//! `audit` name the database they cannot use, with the host, port and cause, and never the
//! password; a PostgreSQL database needs the master key file every replica shares; `--help`
//! explains the flag.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

mod common;

use common::{rolewright, scratch, stderr, stdout};

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn serve_help_explains_the_database_url() {
    let out = rolewright(&["serve", "--help"]);
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(text.contains("--database-url <URL>"), "{text}");
    assert!(
        text.contains("postgres://USER[:PASSWORD]@HOST:PORT/DATABASE"),
        "{text}"
    );
    assert!(text.contains("--master-key-file is required"), "{text}");
}

#[test]
fn a_postgres_database_without_a_master_key_file_is_refused_saying_why() {
    let dir = scratch("db-no-key");
    let out = rolewright(&[
        "serve",
        "--data-dir",
        dir.to_str().unwrap(),
        "--database-url",
        "postgres://rw:hunter2@127.0.0.1:5432/rw",
        "--listen",
        "127.0.0.1:0",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "error: postgres://rw:***@127.0.0.1:5432/rw is shared by every replica, so each must be \
         given the same master key: pass --master-key-file FILE (make one with `rolewright admin \
         new-master-key`)\n"
    );
}

#[test]
fn an_unreachable_database_is_named_with_host_port_and_cause_and_no_password() {
    let dir = scratch("db-unreachable");
    let key = dir.join("master.key");
    std::fs::create_dir_all(&dir).unwrap();
    let made = rolewright(&["admin", "new-master-key"]);
    std::fs::write(&key, stdout(&made)).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let port = closed_port();
    let url = format!("postgres://rw:hunter2@127.0.0.1:{port}/rw");
    let shown = format!("postgres://rw:***@127.0.0.1:{port}/rw");
    for args in [
        vec![
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            dir.to_str().unwrap(),
        ],
        vec!["admin", "credentials"],
    ] {
        let mut args = args;
        args.extend([
            "--database-url",
            &url,
            "--master-key-file",
            key.to_str().unwrap(),
        ]);
        let out = rolewright(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let text = stderr(&out);
        assert!(
            text.starts_with(&format!(
                "error: database {shown}: cannot connect to 127.0.0.1:{port}: "
            )),
            "{args:?}: {text}"
        );
        assert!(
            text.ends_with("Connection refused (os error 111)\n"),
            "{text}"
        );
        assert!(!text.contains("hunter2"), "{text}");
    }
    let out = rolewright(&["audit", "--database-url", &url]);
    assert_eq!(out.status.code(), Some(1));
    let text = stderr(&out);
    assert!(
        text.starts_with(&format!(
            "error: database {shown}: cannot connect to 127.0.0.1:{port}: "
        )),
        "{text}"
    );
}

#[test]
fn a_database_url_that_is_neither_sqlite_nor_postgres_is_refused() {
    let out = rolewright(&["serve", "--database-url", "mysql://root:pw@db/rw"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        stderr(&out),
        "error: --database-url `mysql://root:***@db/rw` is neither sqlite:DIR nor \
         postgres://USER@HOST:PORT/DATABASE\n"
    );
}

#[test]
fn sqlite_colon_dir_is_the_data_directory() {
    let dir = scratch("db-sqlite-url");
    let url = format!("sqlite:{}", dir.display());
    let out = rolewright(&["audit", "--database-url", &url]);
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(
            "no database here; start `rolewright serve --data-dir` on this directory first"
        ),
        "{text}"
    );
}
