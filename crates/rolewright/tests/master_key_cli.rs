//! The master key as an operator meets it, with real `rolewright serve` processes on real
//! SQLite: the key file made in the data directory, `--master-key-file`, `rolewright admin
//! new-master-key` and `rolewright admin credentials`; no secret in the database's bytes or in
//! `sqlite3 .dump`; a wrong or malformed key refused with a message that says what to do; and a
//! data directory written before sealing sealed on its first start, its keys still working.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::time::{Duration, Instant};

use rolewright_client::{
    AwsClient, Environment, IAM_VERSION, Overrides, STS_VERSION, resolve, xml,
};

use common::{rolewright, scratch, stderr, stdout};

/// A running `rolewright serve`, killed on drop.
struct Server {
    child: Child,
    _stdout: BufReader<ChildStdout>,
    url: String,
}

impl Server {
    fn start(dir: &Path, extra: &[&str]) -> Server {
        let mut child = serve_command(dir, extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("rolewright serve starts");
        let mut out = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("`rolewright serve` did not start: `{line}`"))
            .to_string();
        Server {
            child,
            _stdout: out,
            url,
        }
    }

    /// A client with these keys.
    fn client(&self, key_id: &str, secret: &str, token: Option<&str>) -> AwsClient {
        let mut pairs = vec![
            ("AWS_ENDPOINT_URL", self.url.clone()),
            ("AWS_ACCESS_KEY_ID", key_id.to_string()),
            ("AWS_SECRET_ACCESS_KEY", secret.to_string()),
            ("AWS_REGION", "us-east-1".to_string()),
            ("HOME", "/nonexistent".to_string()),
        ];
        if let Some(token) = token {
            pairs.push(("AWS_SESSION_TOKEN", token.to_string()));
        }
        let env = Environment::from_pairs(pairs);
        AwsClient::new(resolve(&Overrides::default(), &env).unwrap(), 2)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve_command(dir: &Path, extra: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rolewright"));
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .args(extra)
        .env("NO_COLOR", "1");
    command
}

/// Runs `rolewright serve` that must refuse to start; its output.
fn serve_refused(dir: &Path, extra: &[&str]) -> Output {
    let mut child = serve_command(dir, extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("`rolewright serve` started where it must refuse to");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// (key id, secret) of a profile in a shared-credentials text.
fn keys_of(credentials: &str) -> (String, String) {
    let value = |name: &str| {
        credentials
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim_start_matches([' ', '=']).trim().to_string())
            .unwrap_or_else(|| panic!("no {name} in {credentials}"))
    };
    (value("aws_access_key_id"), value("aws_secret_access_key"))
}

fn caller_arn(client: &AwsClient) -> String {
    let body = client
        .query_call("sts", "GetCallerIdentity", STS_VERSION, &[])
        .unwrap_or_else(|e| panic!("{e}"));
    xml::first_text(&body, "Arn").unwrap()
}

fn iam(client: &AwsClient, action: &str, params: &[(&str, &str)]) -> String {
    client
        .query_call("iam", action, IAM_VERSION, params)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Every byte SQLite keeps for the database of `dir`.
fn database_bytes(dir: &Path) -> Vec<u8> {
    ["rolewright.db", "rolewright.db-wal", "rolewright.db-shm"]
        .iter()
        .filter_map(|name| std::fs::read(dir.join(name)).ok())
        .flatten()
        .collect()
}

fn sqlite3(dir: &Path, command: &str) -> String {
    let out = Command::new("sqlite3")
        .arg(dir.join("rolewright.db"))
        .arg(command)
        .output()
        .expect("the sqlite3 command line tool runs (apt-get install sqlite3)");
    assert!(out.status.success(), "sqlite3 {command}: {}", stderr(&out));
    stdout(&out)
}

/// Neither the database's bytes nor `sqlite3 .dump` hold any of `secrets`.
fn assert_not_at_rest(dir: &Path, secrets: &[(&str, &str)]) {
    let bytes = database_bytes(dir);
    let dump = sqlite3(dir, ".dump");
    assert!(dump.contains("INSERT INTO entities"), "{dump}");
    for (what, secret) in secrets {
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "the {what} is in the bytes of {}/rolewright.db",
            dir.display()
        );
        assert!(!dump.contains(secret), "the {what} is in the dump");
    }
}

fn is_key_file(text: &str) -> bool {
    text.len() == 65
        && text.ends_with('\n')
        && text[..64]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[test]
fn serve_seals_what_it_stores_and_admin_credentials_prints_the_administrators_keys_again() {
    let dir = scratch("master-key-sealed");
    let server = Server::start(&dir, &[]);

    let key_file = dir.join("master.key");
    let key_text = std::fs::read_to_string(&key_file).unwrap();
    assert!(is_key_file(&key_text), "master.key holds 64 hex digits");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the master key is its owner's only");
    }

    let credentials = std::fs::read_to_string(dir.join("credentials")).unwrap();
    let (admin_id, admin_secret) = keys_of(&credentials);
    let admin = server.client(&admin_id, &admin_secret, None);
    iam(&admin, "CreateUser", &[("UserName", "alice")]);
    let created = iam(&admin, "CreateAccessKey", &[("UserName", "alice")]);
    let alice_id = xml::first_text(&created, "AccessKeyId").unwrap();
    let alice_secret = xml::first_text(&created, "SecretAccessKey").unwrap();
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#;
    iam(
        &admin,
        "CreateRole",
        &[("RoleName", "ds"), ("AssumeRolePolicyDocument", trust)],
    );
    let assumed = admin
        .query_call(
            "sts",
            "AssumeRole",
            STS_VERSION,
            &[
                ("RoleArn", "arn:aws:iam::123456789012:role/ds"),
                ("RoleSessionName", "sealed-session"),
            ],
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let session_id = xml::first_text(&assumed, "AccessKeyId").unwrap();
    let session_secret = xml::first_text(&assumed, "SecretAccessKey").unwrap();
    let session_token = xml::first_text(&assumed, "SessionToken").unwrap();

    let secrets = [
        ("administrator's secret access key", admin_secret.as_str()),
        ("user's secret access key", alice_secret.as_str()),
        ("session secret", session_secret.as_str()),
        ("session token", session_token.as_str()),
        ("master key", key_text.trim_end()),
    ];
    assert_not_at_rest(&dir, &secrets);

    // Beside the running server, for an operator who lost the credentials file.
    let printed = rolewright(&["admin", "credentials", "--data-dir", dir.to_str().unwrap()]);
    assert_eq!(stderr(&printed), "");
    assert_eq!(printed.status.code(), Some(0));
    assert_eq!(
        stdout(&printed),
        credentials,
        "the same text as DATA_DIR/credentials"
    );

    // A restart opens the sealed secrets with the key file it made.
    drop(server);
    let server = Server::start(&dir, &[]);
    assert_eq!(
        std::fs::read_to_string(&key_file).unwrap(),
        key_text,
        "a later start uses the key file, it does not make a new one"
    );
    assert_eq!(
        caller_arn(&server.client(&admin_id, &admin_secret, None)),
        "arn:aws:iam::123456789012:user/admin"
    );
    assert_eq!(
        caller_arn(&server.client(&alice_id, &alice_secret, None)),
        "arn:aws:iam::123456789012:user/alice"
    );
    assert_eq!(
        caller_arn(&server.client(&session_id, &session_secret, Some(&session_token))),
        "arn:aws:sts::123456789012:assumed-role/ds/sealed-session"
    );
    assert_not_at_rest(&dir, &secrets);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_key_from_admin_new_master_key_serves_and_any_other_key_is_refused() {
    let dir = scratch("master-key-wrong");
    let data = dir.join("data");
    let new_key = |name: &str| {
        let out = rolewright(&["admin", "new-master-key"]);
        assert_eq!(out.status.code(), Some(0));
        let text = stdout(&out);
        assert!(is_key_file(&text), "64 hex digits and a newline: `{text}`");
        let path = dir.join(name);
        std::fs::write(&path, &text).unwrap();
        (path, text)
    };
    let private = |path: &Path| {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
    };
    let (right, right_text) = new_key("right.key");
    let (wrong, wrong_text) = new_key("wrong.key");
    private(&right);
    assert_ne!(right_text, wrong_text, "every key is new");

    let server = Server::start(&data, &["--master-key-file", right.to_str().unwrap()]);
    drop(server);
    assert!(
        !data.join("master.key").exists(),
        "a given key is not copied into the data directory"
    );
    let db = data.join("rolewright.db");

    // The wrong key file was written with the default umask, and is readable by others.
    let out = serve_refused(&data, &["--master-key-file", wrong.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let log = stderr(&out);
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 2, "{log}");
    assert!(
        lines[0].ends_with(&format!(
            "WARN the master key file can be read by other users; `chmod 600` it file={}",
            wrong.display()
        )),
        "{log}"
    );
    assert_eq!(
        lines[1],
        format!(
            "error: the master key in {} does not open {}: its secrets were sealed under another \
             master key; pass the --master-key-file they were sealed with",
            wrong.display(),
            db.display()
        )
    );

    let out = serve_refused(&data, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!(
            "error: {} holds secrets sealed under a master key, but {} is missing; pass the key \
             they were sealed with as --master-key-file FILE, or put it back in {}\n",
            db.display(),
            data.join("master.key").display(),
            data.join("master.key").display()
        )
    );
    assert!(
        !data.join("master.key").exists(),
        "a key that opens nothing is not left behind for the next start"
    );

    let data_arg = data.to_str().unwrap();
    let out = rolewright(&[
        "admin",
        "credentials",
        "--data-dir",
        data_arg,
        "--master-key-file",
        wrong.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with(&format!("error: the master key in {}", wrong.display())),
        "{}",
        stderr(&out)
    );
    assert_eq!(stdout(&out), "", "nothing of a secret is printed");

    let out = rolewright(&["admin", "credentials", "--data-dir", data_arg]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("holds secrets sealed under a master key"),
        "{}",
        stderr(&out)
    );

    let out = rolewright(&[
        "admin",
        "credentials",
        "--data-dir",
        data_arg,
        "--master-key-file",
        right.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        std::fs::read_to_string(data.join("credentials")).unwrap()
    );

    // The right key still serves after the refusals.
    let server = Server::start(&data, &["--master-key-file", right.to_str().unwrap()]);
    let (id, secret) = keys_of(&stdout(&out));
    assert_eq!(
        caller_arn(&server.client(&id, &secret, None)),
        "arn:aws:iam::123456789012:user/admin"
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_malformed_master_key_file_is_refused_naming_the_file_and_what_is_wrong() {
    let dir = scratch("master-key-malformed");
    let key = "0123456789abcdef".repeat(4);
    let cases: [(&str, String, &str); 6] = [
        ("empty", String::new(), "it is empty"),
        (
            "short",
            key[..63].to_string(),
            "it holds 63 hexadecimal characters, not 64",
        ),
        (
            "long",
            format!("{key}00\n"),
            "it holds 66 hexadecimal characters, not 64",
        ),
        (
            "two-lines",
            format!("{key}\n\n"),
            "character 65 is a line break, not a hexadecimal digit",
        ),
        (
            "not-hex",
            format!("{}xy\n", &key[..62]),
            "character 63 is not a hexadecimal digit",
        ),
        (
            "binary",
            "\u{0}".repeat(32),
            "character 1 is not a hexadecimal digit",
        ),
    ];
    for (name, content, problem) in &cases {
        let file = dir.join(format!("{name}.key"));
        std::fs::write(&file, content).unwrap();
        let out = serve_refused(
            &dir.join(format!("data-{name}")),
            &["--master-key-file", file.to_str().unwrap()],
        );
        assert_eq!(out.status.code(), Some(1), "{name}");
        assert_eq!(
            stderr(&out),
            format!(
                "error: master key file {}: {problem}; it must hold the 64 hexadecimal characters \
                 (32 bytes) that `rolewright admin new-master-key` prints, optionally followed by \
                 a newline\n",
                file.display()
            ),
            "{name}"
        );
    }

    let missing = dir.join("missing.key");
    let out = serve_refused(
        &dir.join("data-missing"),
        &["--master-key-file", missing.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!(
            "error: master key file {}: cannot read it: No such file or directory (os error 2)\n",
            missing.display()
        )
    );

    // The key a trailing newline follows, or none, is a key.
    for (name, content) in [("bare", key.clone()), ("newline", format!("{key}\n"))] {
        let file = dir.join(format!("{name}.key"));
        std::fs::write(&file, content).unwrap();
        drop(Server::start(
            &dir.join(format!("data-{name}")),
            &["--master-key-file", file.to_str().unwrap()],
        ));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_data_directory_written_before_sealing_is_sealed_on_first_start_and_its_keys_still_work() {
    let dir = scratch("master-key-legacy");
    let data = dir.join("data");
    // A data directory as earlier versions leave it: the same tables, the secrets in plaintext
    // in the model's JSON, no key check value and no master key.
    let key_file = dir.join("setup.key");
    std::fs::write(&key_file, format!("{}\n", "7e".repeat(32))).unwrap();
    drop(Server::start(
        &data,
        &["--master-key-file", key_file.to_str().unwrap()],
    ));
    let legacy_id = "AKIALEGACYADMINKEY01";
    let legacy_secret = "legacyPlaintextSecret/0123456789+abcdefg";
    let legacy_session_secret = "legacyPlaintextSessionSecret/0123456+abc";
    let legacy_token = "IQoJb3JpZ2luX2VjLEGACYPLAINTEXTTOKEN";
    let key_body = serde_json::to_string(&rolewright_server::model::AccessKey {
        id: legacy_id.into(),
        secret: legacy_secret.into(),
        user: "admin".into(),
        status: rolewright_server::model::KeyStatus::Active,
        created: 1,
    })
    .unwrap();
    let session_body = serde_json::to_string(&rolewright_server::model::Session {
        key_id: "ASIALEGACYSESSION001".into(),
        secret: legacy_session_secret.into(),
        token: legacy_token.into(),
        expires: 4_102_444_800,
        issued: 1,
        role: "gone".into(),
        role_id: "AROAGONE".into(),
        session_name: "s".into(),
        policy: None,
        policy_arns: Vec::new(),
        tags: Vec::new(),
        source_identity: None,
    })
    .unwrap();
    sqlite3(
        &data,
        &format!(
            "DELETE FROM entities WHERE kind = 'access_key' OR id = 'master_key_check';\
             INSERT OR REPLACE INTO entities VALUES ('access_key', '{legacy_id}', '{key_body}');\
             INSERT OR REPLACE INTO entities VALUES ('session', 'ASIALEGACYSESSION001', '{session_body}');\
             INSERT OR REPLACE INTO entities VALUES ('meta', 'studio_url_key', '{}');",
            "ab".repeat(32)
        ),
    );
    std::fs::remove_file(data.join("credentials")).unwrap();
    assert!(sqlite3(&data, ".dump").contains(legacy_secret));

    let server = Server::start(&data, &[]);
    assert!(is_key_file(
        &std::fs::read_to_string(data.join("master.key")).unwrap()
    ));
    assert_eq!(
        caller_arn(&server.client(legacy_id, legacy_secret, None)),
        "arn:aws:iam::123456789012:user/admin",
        "the key stored in plaintext still signs"
    );
    let credentials = std::fs::read_to_string(data.join("credentials")).unwrap();
    assert_eq!(
        keys_of(&credentials),
        (legacy_id.to_string(), legacy_secret.to_string())
    );
    assert_not_at_rest(
        &data,
        &[
            ("secret access key", legacy_secret),
            ("session secret", legacy_session_secret),
            ("session token", legacy_token),
            ("Studio URL key", &"ab".repeat(32)),
        ],
    );
    let rows = sqlite3(
        &data,
        "SELECT count(*) FROM entities WHERE kind IN ('access_key', 'session') \
         AND body LIKE '%\"secret_sealed\":\"sealed:v1:%'",
    );
    assert_eq!(rows.trim(), "2", "both rows are kept, sealed");
    let printed = rolewright(&["admin", "credentials", "--data-dir", data.to_str().unwrap()]);
    assert_eq!(stdout(&printed), credentials);
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn help_explains_the_master_key() {
    let serve = stdout(&rolewright(&["serve", "--help"]));
    assert!(serve.contains("--master-key-file <FILE>"), "{serve}");
    assert!(
        serve.contains("rolewright admin new-master-key"),
        "serve --help says where a key comes from:\n{serve}"
    );
    let admin = stdout(&rolewright(&["admin", "--help"]));
    assert!(
        admin.contains("new-master-key") && admin.contains("credentials"),
        "{admin}"
    );
    let new_key = stdout(&rolewright(&["admin", "new-master-key", "--help"]));
    assert!(
        new_key.contains("(umask 077; rolewright admin new-master-key > master.key)"),
        "{new_key}"
    );
}
