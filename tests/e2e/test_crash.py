"""Durability: every write the server acknowledged (HTTP 200) survives `kill -9`, and the SQLite file
passes `PRAGMA integrity_check` afterwards.

8 writer threads loop CreateRole + PutRolePolicy with their own boto3 clients (no retries, so an
acknowledgement is exactly one 200). After ~2 s the server is killed with SIGKILL, restarted on the
same data directory, and every acknowledged role and inline policy is read back.
"""

import json
import os
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
import unittest

from botocore.exceptions import BotoCoreError, ClientError

from harness import Server, allow, policy, skip_on_postgres, trust

WRITERS = 8
RUN_SECONDS = 2.0
EC2_TRUST = json.dumps(trust({"Service": "ec2.amazonaws.com"}))


def sqlite_files(data_dir):
    """Every SQLite database under `data_dir`, recognised by its header, not its name."""
    found = []
    for root, _dirs, files in os.walk(data_dir):
        for name in files:
            path = os.path.join(root, name)
            try:
                with open(path, "rb") as f:
                    if f.read(16) == b"SQLite format 3\x00":
                        found.append(path)
            except OSError:
                pass
    return found


def integrity(path):
    """`PRAGMA integrity_check` on a copy of the database and its -wal/-journal files, so the
    check (which may replay the WAL) does not touch the server's files."""
    tmp = tempfile.mkdtemp(prefix="rolewright-e2e-sqlite-")
    try:
        copy = os.path.join(tmp, os.path.basename(path))
        for suffix in ("", "-wal", "-journal"):
            if os.path.exists(path + suffix):
                shutil.copy2(path + suffix, copy + suffix)
        conn = sqlite3.connect(copy)
        try:
            return [row[0] for row in conn.execute("PRAGMA integrity_check")]
        finally:
            conn.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def writer(server, index, stop, acked, errors):
    kid, secret = server.admin_keys()
    iam = server.client("iam", kid, secret)
    i = 0
    while not stop.is_set():
        name = f"crash-{index}-{i}"
        doc = policy(allow("s3:GetObject", f"arn:aws:s3:::bucket-{index}-{i}/*"))
        i += 1
        try:
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=EC2_TRUST)
        except (ClientError, BotoCoreError, OSError) as e:
            errors.append(f"CreateRole {name}: {e}")
            continue
        acked.append(("role", name, None))
        try:
            iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(doc))
        except (ClientError, BotoCoreError, OSError) as e:
            errors.append(f"PutRolePolicy {name}: {e}")
            continue
        acked.append(("policy", name, doc))


class CrashTests(unittest.TestCase):
    def setUp(self):
        skip_on_postgres("the SQLite file's integrity after kill -9; test_replicas kills a replica")

    def test_acknowledged_writes_survive_kill_9(self):
        srv = Server().start()
        try:
            stop = threading.Event()
            acked, errors = [], []
            threads = [threading.Thread(target=writer, args=(srv, n, stop, acked, errors),
                                        daemon=True) for n in range(WRITERS)]
            for t in threads:
                t.start()
            time.sleep(RUN_SECONDS)
            srv.kill()
            stop.set()
            for t in threads:
                t.join(timeout=90)
            self.assertFalse(any(t.is_alive() for t in threads), "a writer hung after the kill")
            acked = list(acked)
            roles = [name for kind, name, _ in acked if kind == "role"]
            policies = [(name, doc) for kind, name, doc in acked if kind == "policy"]
            print(f"crash: {len(roles)} roles and {len(policies)} inline policies acknowledged "
                  f"before kill -9", file=sys.stderr)
            self.assertGreaterEqual(
                len(roles), 16,
                f"only {len(roles)} writes were acknowledged in {RUN_SECONDS} s; errors: "
                f"{errors[:3]}")

            dbs = sqlite_files(srv.data_dir)
            self.assertTrue(dbs, f"no SQLite database under {srv.data_dir}: "
                                 f"{sorted(os.listdir(srv.data_dir))}")
            for db in dbs:
                self.assertEqual(integrity(db), ["ok"], f"{db} right after kill -9")

            srv.start()
            iam = srv.admin()
            missing_roles = []
            for name in roles:
                try:
                    iam.get_role(RoleName=name)
                except ClientError as e:
                    missing_roles.append(f"{name} ({e.response['Error']['Code']})")
            wrong_policies = []
            for name, doc in policies:
                try:
                    got = iam.get_role_policy(RoleName=name, PolicyName="p")["PolicyDocument"]
                    if got != doc:
                        wrong_policies.append(f"{name}: {got}")
                except ClientError as e:
                    wrong_policies.append(f"{name} ({e.response['Error']['Code']})")
            self.assertEqual(missing_roles, [],
                             f"{len(missing_roles)} of {len(roles)} acknowledged roles are lost")
            self.assertEqual(wrong_policies, [],
                             f"{len(wrong_policies)} of {len(policies)} acknowledged inline "
                             "policies are lost or changed")
            # The data directory is usable for more writes after the crash.
            iam.create_role(RoleName="crash-after-restart", AssumeRolePolicyDocument=EC2_TRUST)
            srv.stop_and_check()
            for db in sqlite_files(srv.data_dir):
                self.assertEqual(integrity(db), ["ok"], f"{db} after the restart")
        finally:
            srv.cleanup()
