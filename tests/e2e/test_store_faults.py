"""The store's failure path (issue 9, item 3): while the database refuses commits, a write gets
AWS's ServiceFailure and nothing of it is visible to any reader, nor after a restart; the server
says in its log why; once the database takes writes again the server recovers on its own, and the
refused write can be made again as if it had never been tried.

The fault is real: another process holds SQLite's write lock (`BEGIN EXCLUSIVE`) on the server's
database, so that the server's commit fails with "database is locked" after its busy timeout.
"""

import json
import os
import sqlite3
import threading
import time

from harness import E2ETestCase, Server, skip_on_postgres, trust, unique

EC2_TRUST = json.dumps(trust({"Service": "ec2.amazonaws.com"}))


class WriteLock:
    """Holds the database's write lock from another connection until released."""

    def __init__(self, data_dir):
        self.conn = sqlite3.connect(os.path.join(data_dir, "rolewright.db"), isolation_level=None,
                                    timeout=30)
        self.conn.execute("BEGIN EXCLUSIVE")

    def release(self):
        self.conn.execute("ROLLBACK")
        self.conn.close()


class RefusedCommitTests(E2ETestCase):
    @classmethod
    def setUpClass(cls):
        skip_on_postgres("a write lock held on the SQLite file; test_replicas stops PostgreSQL")
        super().setUpClass()

    # Log collectors read one JSON object per line, each event with its request's id.
    server_args = {"extra_args": ["--log-format", "json"]}

    def log_events(self):
        with open(self.server.log_path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.startswith("{")]

    def role_names(self):
        return {r["RoleName"] for r in self.iam.get_paginator("list_roles").paginate()
                .build_full_result()["Roles"]}

    def test_a_refused_commit_leaves_nothing_visible_and_the_server_recovers(self):
        kept = unique("kept")
        self.iam.create_role(RoleName=kept, AssumeRolePolicyDocument=EC2_TRUST)
        refused, behind = unique("refused"), unique("behind")
        lock = WriteLock(self.server.data_dir)
        try:
            # A second write queued while the first waits on the lock is refused with it: it was
            # validated against a state that included the first.
            results = {}

            def create(name):
                try:
                    self.server.admin("iam").create_role(RoleName=name,
                                                         AssumeRolePolicyDocument=EC2_TRUST)
                    results[name] = "created"
                except Exception as e:  # noqa: BLE001 - the error is what is checked
                    results[name] = e

            first = threading.Thread(target=create, args=(refused,))
            first.start()
            time.sleep(0.5)
            # The refused role is not visible while its commit is pending, either.
            self.assertError(lambda: self.iam.get_role(RoleName=refused), "NoSuchEntity", 404)
            create(behind)
            first.join(timeout=60)
            for name in (refused, behind):
                error = results.get(name)
                self.assertNotEqual(error, "created", f"{name} was created under a held lock")
                self.assertEqual(error.response["Error"]["Code"], "ServiceFailure", str(error))
                self.assertEqual(error.response["ResponseMetadata"]["HTTPStatusCode"], 500)
                self.assertEqual(error.response["Error"]["Message"],
                                 "The request processing has failed because the change could "
                                 "not be stored.")
            # Readers see nothing of the refused writes, and the kept role is still there.
            for name in (refused, behind):
                self.assertError(lambda: self.iam.get_role(RoleName=name), "NoSuchEntity", 404)
            names = self.role_names()
            self.assertIn(kept, names)
            self.assertNotIn(refused, names)
            self.assertNotIn(behind, names)
        finally:
            lock.release()
        # The server recovers on its own, and the refused name is free.
        self.iam.create_role(RoleName=refused, AssumeRolePolicyDocument=EC2_TRUST)
        self.assertEqual(self.iam.get_role(RoleName=refused)["Role"]["RoleName"], refused)
        events = self.log_events()
        messages = [e.get("message", "") for e in events]
        self.assertIn("cannot commit to the database; the writes are refused and nothing of them "
                      "is visible", messages)
        cause = [e for e in events if e.get("message", "").startswith("cannot commit")][0]
        self.assertIn("database is locked", cause["error"])
        self.assertIn("the database takes writes again", messages)
        # The refused request's own events carry its request id, as its answer did.
        request_id = results[refused].response["ResponseMetadata"]["RequestId"]
        mine = [e for e in events if e.get("span", {}).get("request_id") == request_id]
        self.assertTrue(any(e["level"] == "ERROR" and "server fault" in e["message"] for e in mine),
                        f"no server-fault event with request id {request_id}: {mine}")
        with open(self.server.log_path, encoding="utf-8") as f:
            text = f.read()
        self.assertNotIn(self.server.admin_keys()[1], text, "a secret appears in the server log")

    def test_nothing_of_a_refused_write_is_there_after_a_restart(self):
        data_dir = self.server.data_dir
        server = Server(data_dir=data_dir)
        self.server.stop_and_check()
        try:
            server.start()
            iam = server.admin("iam")
            refused, later = unique("refused"), unique("later")
            lock = WriteLock(data_dir)
            try:
                self.assertError(lambda: iam.create_role(RoleName=refused,
                                                         AssumeRolePolicyDocument=EC2_TRUST),
                                 "ServiceFailure", 500)
            finally:
                lock.release()
            iam.create_role(RoleName=later, AssumeRolePolicyDocument=EC2_TRUST)
            server.stop_and_check()
            server.start()
            iam = server.admin("iam")
            self.assertEqual(iam.get_role(RoleName=later)["Role"]["RoleName"], later)
            self.assertError(lambda: iam.get_role(RoleName=refused), "NoSuchEntity", 404)
        finally:
            server.stop()
            # The class's server is restarted so that its tear-down finds it running.
            self.server.start()
            type(self).iam = self.server.admin("iam")


if __name__ == "__main__":
    import unittest
    unittest.main()
