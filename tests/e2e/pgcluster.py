"""A throwaway PostgreSQL cluster for the end-to-end tests of replicas sharing one database.

Debian's binaries (/usr/lib/postgresql/<version>/bin, or PG_BIN), a data directory under the
temporary directory, trust authentication, listening on 127.0.0.1 on a free port only. The
server refuses to run as root, so when the tests run as root (as CI does) every PostgreSQL
command runs as the `postgres` user through `runuser`. `stop()` (immediate, as a crash) and
`start()` restart it on the same port; `cleanup()` stops it and removes the directory.

`Cluster.available()` says whether PostgreSQL is installed; a test skips loudly when it is not,
except under CI (`CI` set), where `.ci/run` installs it and a missing PostgreSQL is a failure.
"""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time

PG_USER = "postgres"


def bin_dir():
    if os.environ.get("PG_BIN"):
        return os.environ["PG_BIN"]
    found = []
    for d in glob.glob("/usr/lib/postgresql/*/bin"):
        version = os.path.basename(os.path.dirname(d))
        if version.isdigit() and os.access(os.path.join(d, "initdb"), os.X_OK):
            found.append((int(version), d))
    return max(found)[1] if found else None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self):
        self.bin = bin_dir()
        if self.bin is None:
            raise RuntimeError("PostgreSQL is not installed (apt-get install -y postgresql)")
        self.as_user = os.geteuid() == 0
        self.dir = tempfile.mkdtemp(prefix="rolewright-e2e-pg-")
        os.chmod(self.dir, 0o755)
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        if self.as_user:
            shutil.chown(self.dir, PG_USER)
        self.run("initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "--no-sync",
                 "-E", "UTF8", "--locale=C")
        self.start()

    @staticmethod
    def available():
        return bin_dir() is not None

    def run(self, program, *args, check=True):
        command = [os.path.join(self.bin, program), *args]
        if self.as_user:
            command = ["runuser", "-u", PG_USER, "--", *command]
        done = subprocess.run(command, cwd="/", stdin=subprocess.DEVNULL, capture_output=True,
                              text=True)
        if check and done.returncode != 0:
            raise RuntimeError(f"{program} {' '.join(args)} failed ({done.returncode}): "
                               f"{done.stdout}{done.stderr}")
        return done.stdout

    def start(self):
        options = (f"-c listen_addresses=127.0.0.1 -c port={self.port} "
                   f"-c unix_socket_directories={self.dir} -c fsync=off -c max_connections=200")
        self.run("pg_ctl", "-D", self.data, "-l", os.path.join(self.dir, "log"), "-o", options,
                 "-w", "-t", "30", "start")

    def stop(self):
        """Stops the server at once, as a crash would."""
        self.run("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop", check=False)

    def create_database(self, name):
        self.run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def psql(self, database, sql):
        return self.run("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                        "-d", database, "-At", "-c", sql)

    def dump(self, database):
        return self.run("pg_dump", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                        database)

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def wait_until(check, timeout, interval=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if check():
            return True
        time.sleep(interval)
    return False
