//! Test support: a throwaway PostgreSQL cluster for the tests of the PostgreSQL store.
//!
//! [`Cluster::start`] makes a cluster in a temporary directory from Debian's PostgreSQL
//! binaries (`/usr/lib/postgresql/<version>/bin`), started on a free loopback port with trust
//! authentication, and stops it when dropped. The server refuses to run as root, so when the
//! tests run as root (as CI does) every PostgreSQL command runs as the unprivileged `postgres`
//! user through `runuser`. `initdb` runs once per test binary; each cluster copies its result.
//!
//! When PostgreSQL is not installed, [`Cluster::start_or_skip`] says so loudly on standard error
//! and returns `None`, except under CI (`CI` set), where a missing PostgreSQL fails the test.

use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The unprivileged user PostgreSQL runs as when the tests run as root.
const PG_USER: &str = "postgres";

/// A running cluster, stopped (immediately) and removed when dropped.
#[derive(Debug)]
pub struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    as_user: bool,
    databases: std::sync::atomic::AtomicUsize,
}

/// Where Debian's PostgreSQL binaries are: the newest `/usr/lib/postgresql/<version>/bin`
/// with `initdb` and `pg_ctl`, or `PG_BIN` when set.
pub fn bin_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            (bin.join("initdb").exists() && bin.join("pg_ctl").exists()).then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    // The owner of a process's own /proc entry is the process's user.
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
    }
    #[cfg(not(unix))]
    {
        false
    }
}

/// The template cluster `initdb` made (its data directory), shared by the test binaries of one
/// machine: made once under the temporary directory, by a rename, so that binaries running at
/// the same time never see half of one.
fn template(bin: &Path, as_user: bool) -> Result<PathBuf, String> {
    static TEMPLATE: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    TEMPLATE
        .get_or_init(|| {
            let version = bin
                .parent()
                .and_then(|v| v.file_name())
                .and_then(|v| v.to_str())
                .unwrap_or("pg");
            let owner = if as_user { PG_USER } else { "self" };
            let shared =
                std::env::temp_dir().join(format!("rolewright-pg-template-{version}-{owner}"));
            if shared.join("PG_VERSION").exists() {
                return Ok(shared);
            }
            let dir = scratch_dir("template", as_user)?;
            let data = dir.join("data");
            run(
                bin,
                as_user,
                "initdb",
                &[
                    "-D",
                    path_str(&data)?,
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--no-sync",
                    "-E",
                    "UTF8",
                    "--locale=C",
                ],
            )?;
            if std::fs::rename(&data, &shared).is_err() && !shared.join("PG_VERSION").exists() {
                return Err(format!(
                    "cannot move the template cluster to {}",
                    shared.display()
                ));
            }
            let _ = std::fs::remove_dir_all(&dir);
            Ok(shared)
        })
        .clone()
}

fn path_str(path: &Path) -> Result<&str, String> {
    path.to_str()
        .ok_or_else(|| format!("{} is not UTF-8", path.display()))
}

/// A new empty directory under the temporary directory, owned by the PostgreSQL user when the
/// tests run as root.
fn scratch_dir(what: &str, as_user: bool) -> Result<PathBuf, String> {
    static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("rolewright-pg-{what}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    if as_user {
        chown(&dir)?;
    }
    Ok(dir)
}

fn chown(path: &Path) -> Result<(), String> {
    let status = Command::new("chown")
        .args(["-R", PG_USER])
        .arg(path)
        .status()
        .map_err(|e| format!("cannot run chown: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("chown -R {PG_USER} {} failed", path.display()))
    }
}

/// Runs a PostgreSQL program, as the PostgreSQL user when the tests run as root.
fn run(bin: &Path, as_user: bool, program: &str, args: &[&str]) -> Result<String, String> {
    let exe = bin.join(program);
    let mut command = if as_user {
        let mut c = Command::new("runuser");
        c.args(["-u", PG_USER, "--"]).arg(&exe);
        c
    } else {
        Command::new(&exe)
    };
    let output = command
        .args(args)
        .current_dir("/")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(format!(
            "{program} {} failed ({}): {}{}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

fn free_port() -> Result<u16, String> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("cannot find a free port: {e}"))
}

impl Cluster {
    /// Starts a new cluster on a free loopback port.
    pub fn start() -> Result<Cluster, String> {
        let bin = bin_dir().ok_or_else(|| {
            "PostgreSQL is not installed: no /usr/lib/postgresql/<version>/bin with initdb and \
             pg_ctl (apt-get install -y postgresql)"
                .to_string()
        })?;
        let as_user = is_root();
        let template = template(&bin, as_user)?;
        let dir = scratch_dir("cluster", as_user)?;
        let data = dir.join("data");
        let status = Command::new("cp")
            .arg("-a")
            .arg(&template)
            .arg(&data)
            .status()
            .map_err(|e| format!("cannot run cp: {e}"))?;
        if !status.success() {
            return Err(format!(
                "cannot copy the template cluster to {}",
                data.display()
            ));
        }
        let mut cluster = Cluster {
            bin,
            dir,
            port: 0,
            as_user,
            databases: Default::default(),
        };
        // A port found free can be taken before the server binds it: try another.
        let mut last = String::new();
        for _ in 0..5 {
            cluster.port = free_port()?;
            match cluster.pg_start() {
                Ok(()) => return Ok(cluster),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// [`Cluster::start`], or `None` with a loud message when PostgreSQL is not installed
    /// (outside CI; under CI, where `.ci/run` installs it, a missing PostgreSQL is a failure).
    pub fn start_or_skip(test: &str) -> Option<Cluster> {
        if bin_dir().is_none() && std::env::var_os("CI").is_none() {
            eprintln!(
                "\n*** SKIPPED {test}: PostgreSQL is not installed here \
                 (apt-get install -y postgresql); the PostgreSQL store is NOT tested ***\n"
            );
            return None;
        }
        match Cluster::start() {
            Ok(cluster) => Some(cluster),
            Err(e) => fail_test(test, &e),
        }
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn pg_start(&self) -> Result<(), String> {
        let data = self.data();
        let options = format!(
            "-c listen_addresses=127.0.0.1 -c port={} -c unix_socket_directories={} \
             -c fsync=off -c max_connections=200",
            self.port,
            path_str(&self.dir)?
        );
        let log = self.dir.join("log");
        run(
            &self.bin,
            self.as_user,
            "pg_ctl",
            &[
                "-D",
                path_str(&data)?,
                "-l",
                path_str(&log)?,
                "-o",
                &options,
                "-w",
                "-t",
                "30",
                "start",
            ],
        )
        .map(|_| ())
        .map_err(|e| {
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            format!("{e}\nserver log:\n{log}")
        })
    }

    /// Stops the server at once, as a crash would (`pg_ctl stop -m immediate`).
    pub fn stop(&self) -> Result<(), String> {
        run(
            &self.bin,
            self.as_user,
            "pg_ctl",
            &[
                "-D",
                path_str(&self.data())?,
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        )
        .map(|_| ())
    }

    /// The server's processes: the postmaster (the first line of `postmaster.pid`) and its
    /// children, found by their parent in `/proc`.
    fn processes(&self) -> Result<Vec<u32>, String> {
        let pid_file = self.data().join("postmaster.pid");
        let text = std::fs::read_to_string(&pid_file)
            .map_err(|e| format!("cannot read {}: {e}", pid_file.display()))?;
        let postmaster: u32 = text
            .lines()
            .next()
            .and_then(|l| l.trim().parse().ok())
            .ok_or_else(|| format!("{} names no process", pid_file.display()))?;
        let mut found = vec![postmaster];
        let entries = std::fs::read_dir("/proc").map_err(|e| format!("cannot read /proc: {e}"))?;
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            // `PID (COMMAND) STATE PPID ...`; the command may hold spaces and parentheses.
            let parent = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|p| p.parse::<u32>().ok());
            if parent == Some(postmaster) {
                found.push(pid);
            }
        }
        Ok(found)
    }

    fn signal(&self, signal: &str) -> Result<(), String> {
        let pids: Vec<String> = self.processes()?.iter().map(u32::to_string).collect();
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .args(&pids)
            .status()
            .map_err(|e| format!("cannot run kill: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("kill -{signal} {} failed", pids.join(" ")))
        }
    }

    /// Freezes the server (SIGSTOP to it and its children), as a network partition looks to its
    /// clients: connections open, nothing answers.
    pub fn freeze(&self) -> Result<(), String> {
        self.signal("STOP")
    }

    /// Lets a frozen server go on (SIGCONT).
    pub fn thaw(&self) -> Result<(), String> {
        self.signal("CONT")
    }

    /// Starts the server again on the same port.
    pub fn restart(&self) -> Result<(), String> {
        self.pg_start()
    }

    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Creates a new empty database and returns its URL.
    pub fn new_database(&self) -> Result<String, String> {
        let n = self
            .databases
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("rolewright_test_{n}");
        let port = self.port.to_string();
        run(
            &self.bin,
            self.as_user,
            "createdb",
            &["-h", "127.0.0.1", "-p", &port, "-U", "postgres", &name],
        )?;
        Ok(self.url(&name))
    }

    /// The URL of database `name` on this cluster.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Runs `psql -At -c SQL` on database `name` and returns its output.
    pub fn psql(&self, name: &str, sql: &str) -> Result<String, String> {
        let port = self.port.to_string();
        run(
            &self.bin,
            self.as_user,
            "psql",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "postgres",
                "-d",
                name,
                "-At",
                "-c",
                sql,
            ],
        )
    }

    /// `pg_dump` of database `name` (schema and data, as text).
    pub fn dump(&self, name: &str) -> Result<String, String> {
        let port = self.port.to_string();
        run(
            &self.bin,
            self.as_user,
            "pg_dump",
            &["-h", "127.0.0.1", "-p", &port, "-U", "postgres", name],
        )
    }

    /// Waits until the server accepts connections again, at most `limit`.
    pub fn wait_ready(&self, limit: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < limit {
            if std::net::TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).is_ok() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

/// Fails the calling test with the cause.
#[expect(
    clippy::panic,
    reason = "a test-support crate fails the test that asked for a cluster it cannot have"
)]
fn fail_test(test: &str, cause: &str) -> ! {
    panic!("{test}: cannot start a PostgreSQL cluster: {cause}")
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.thaw();
        let _ = self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
