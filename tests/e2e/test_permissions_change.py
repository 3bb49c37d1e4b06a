"""Permissions change the moment the stored state does (issue 9, items 1 and 2), seen through boto3:
a managed policy deleted and created again under the same name grants only its new document; new
versions, SetDefaultPolicyVersion and DeletePolicyVersion take effect at once; attach and detach,
group membership, group policies, inline policies, boundaries and tags used in conditions change
the next decision; a session of a deleted and recreated role is refused. Policies attached to groups
are counted and listed wherever attachments are.
"""

import json
import unittest

from harness import ACCOUNT, E2ETestCase, allow, policy, trust, unique

EC2_TRUST = trust({"Service": "ec2.amazonaws.com"})


def role_arn(name):
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


class StalePermissionTests(E2ETestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.target = unique("target")
        cls.iam.create_role(RoleName=cls.target, AssumeRolePolicyDocument=json.dumps(EC2_TRUST))

    def can_get_role(self, client):
        try:
            client.get_role(RoleName=self.target)
            return True
        except client.exceptions.ClientError as e:
            self.assertEqual(e.response["Error"]["Code"], "AccessDenied")
            return False

    def can_list_roles(self, client):
        try:
            client.list_roles(MaxItems=1)
            return True
        except client.exceptions.ClientError as e:
            self.assertEqual(e.response["Error"]["Code"], "AccessDenied")
            return False

    def test_a_policy_deleted_and_recreated_under_its_name_grants_only_its_new_document(self):
        user, uiam, _ = self.server.user_clients()
        name = unique("recreated")
        arn = self.iam.create_policy(
            PolicyName=name, PolicyDocument=json.dumps(policy(allow("iam:GetRole"))))["Policy"]["Arn"]
        self.iam.attach_user_policy(UserName=user["UserName"], PolicyArn=arn)
        self.assertTrue(self.can_get_role(uiam))
        self.iam.detach_user_policy(UserName=user["UserName"], PolicyArn=arn)
        self.assertFalse(self.can_get_role(uiam), "a detached policy must stop granting")
        self.iam.delete_policy(PolicyArn=arn)
        again = self.iam.create_policy(
            PolicyName=name, PolicyDocument=json.dumps(policy(allow("iam:ListRoles"))))["Policy"]
        self.assertEqual(again["Arn"], arn)
        self.iam.attach_user_policy(UserName=user["UserName"], PolicyArn=arn)
        self.assertTrue(self.can_list_roles(uiam))
        self.assertFalse(self.can_get_role(uiam),
                         "the recreated policy allows only iam:ListRoles; the old document must be gone")

    def test_new_default_versions_and_deleted_versions_take_effect_at_once(self):
        user, uiam, _ = self.server.user_clients()
        arn = self.iam.create_policy(
            PolicyName=unique("versions"),
            PolicyDocument=json.dumps(policy(allow("iam:GetRole"))))["Policy"]["Arn"]
        self.iam.attach_user_policy(UserName=user["UserName"], PolicyArn=arn)
        self.assertTrue(self.can_get_role(uiam))
        self.iam.create_policy_version(PolicyArn=arn, SetAsDefault=True,
                                       PolicyDocument=json.dumps(policy(allow("iam:ListRoles"))))
        self.assertFalse(self.can_get_role(uiam), "v2 (default) no longer allows GetRole")
        self.assertTrue(self.can_list_roles(uiam))
        self.iam.set_default_policy_version(PolicyArn=arn, VersionId="v1")
        self.assertTrue(self.can_get_role(uiam), "v1 is the default again")
        self.assertFalse(self.can_list_roles(uiam))
        self.iam.set_default_policy_version(PolicyArn=arn, VersionId="v2")
        self.iam.delete_policy_version(PolicyArn=arn, VersionId="v1")
        self.iam.create_policy_version(PolicyArn=arn, SetAsDefault=True,
                                       PolicyDocument=json.dumps(policy(allow("iam:GetRole"))))
        self.assertTrue(self.can_get_role(uiam), "v3 allows GetRole")
        self.assertFalse(self.can_list_roles(uiam))

    def test_a_user_removed_from_a_group_loses_the_groups_permissions(self):
        user, uiam, _ = self.server.user_clients()
        group = unique("group")
        self.iam.create_group(GroupName=group)
        arn = self.iam.create_policy(
            PolicyName=unique("group-policy"),
            PolicyDocument=json.dumps(policy(allow("iam:GetRole"))))["Policy"]["Arn"]
        self.iam.attach_group_policy(GroupName=group, PolicyArn=arn)
        self.iam.put_group_policy(GroupName=group, PolicyName="inline",
                                  PolicyDocument=json.dumps(policy(allow("iam:ListRoles"))))
        self.assertFalse(self.can_get_role(uiam))
        self.iam.add_user_to_group(GroupName=group, UserName=user["UserName"])
        self.assertTrue(self.can_get_role(uiam))
        self.assertTrue(self.can_list_roles(uiam))
        self.iam.remove_user_from_group(GroupName=group, UserName=user["UserName"])
        self.assertFalse(self.can_get_role(uiam), "the group's managed policy must stop granting")
        self.assertFalse(self.can_list_roles(uiam), "the group's inline policy must stop granting")
        self.iam.add_user_to_group(GroupName=group, UserName=user["UserName"])
        self.iam.detach_group_policy(GroupName=group, PolicyArn=arn)
        self.iam.delete_group_policy(GroupName=group, PolicyName="inline")
        self.assertFalse(self.can_get_role(uiam))
        self.assertFalse(self.can_list_roles(uiam))

    def test_a_group_deleted_and_recreated_does_not_bring_back_its_members(self):
        user, uiam, _ = self.server.user_clients()
        group = unique("regroup")
        self.iam.create_group(GroupName=group)
        self.iam.put_group_policy(GroupName=group, PolicyName="inline",
                                  PolicyDocument=json.dumps(policy(allow("iam:GetRole"))))
        self.iam.add_user_to_group(GroupName=group, UserName=user["UserName"])
        self.assertTrue(self.can_get_role(uiam))
        self.iam.remove_user_from_group(GroupName=group, UserName=user["UserName"])
        self.iam.delete_group_policy(GroupName=group, PolicyName="inline")
        self.iam.delete_group(GroupName=group)
        self.iam.create_group(GroupName=group)
        self.iam.put_group_policy(GroupName=group, PolicyName="inline",
                                  PolicyDocument=json.dumps(policy(allow("iam:GetRole"))))
        self.assertEqual(self.iam.get_group(GroupName=group)["Users"], [])
        self.assertFalse(self.can_get_role(uiam))

    def test_inline_policy_edits_and_boundaries_take_effect_at_once(self):
        user, uiam, _ = self.server.user_clients(policy_doc=policy(allow("iam:GetRole")))
        self.assertTrue(self.can_get_role(uiam))
        self.iam.put_user_policy(UserName=user["UserName"], PolicyName="inline",
                                 PolicyDocument=json.dumps(policy(allow("iam:ListRoles"))))
        self.assertFalse(self.can_get_role(uiam))
        self.iam.put_user_policy(UserName=user["UserName"], PolicyName="inline",
                                 PolicyDocument=json.dumps(policy(allow(["iam:GetRole", "iam:ListRoles"]))))
        boundary = self.iam.create_policy(
            PolicyName=unique("boundary"),
            PolicyDocument=json.dumps(policy(allow("iam:ListRoles"))))["Policy"]["Arn"]
        self.iam.put_user_permissions_boundary(UserName=user["UserName"], PermissionsBoundary=boundary)
        self.assertFalse(self.can_get_role(uiam), "the boundary does not allow GetRole")
        self.assertTrue(self.can_list_roles(uiam))
        self.iam.create_policy_version(PolicyArn=boundary, SetAsDefault=True,
                                       PolicyDocument=json.dumps(policy(allow("iam:GetRole"))))
        self.assertTrue(self.can_get_role(uiam), "the boundary's new version allows GetRole")
        self.assertFalse(self.can_list_roles(uiam))
        self.iam.delete_user_permissions_boundary(UserName=user["UserName"])
        self.assertTrue(self.can_get_role(uiam))
        self.assertTrue(self.can_list_roles(uiam))
        self.iam.delete_user_policy(UserName=user["UserName"], PolicyName="inline")
        self.assertFalse(self.can_get_role(uiam))

    def test_tags_used_in_conditions_take_effect_at_once(self):
        user, uiam, _ = self.server.user_clients(policy_doc=policy(
            allow("iam:GetRole", Condition={"StringEquals": {"aws:PrincipalTag/team": "ml"}})))
        self.assertFalse(self.can_get_role(uiam))
        self.iam.tag_user(UserName=user["UserName"], Tags=[{"Key": "team", "Value": "ml"}])
        self.assertTrue(self.can_get_role(uiam))
        self.iam.untag_user(UserName=user["UserName"], TagKeys=["team"])
        self.assertFalse(self.can_get_role(uiam))

    def test_a_session_of_a_deleted_and_recreated_role_is_refused(self):
        name = unique("session-role")
        caller, _, usts = self.server.user_clients(policy_doc=policy(allow("sts:AssumeRole")))
        trusting = trust({"AWS": caller["Arn"]})
        self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trusting))
        self.iam.put_role_policy(RoleName=name, PolicyName="read",
                                 PolicyDocument=json.dumps(policy(allow("iam:GetRole"))))
        creds = usts.assume_role(RoleArn=role_arn(name), RoleSessionName="stale")["Credentials"]
        session_iam = self.server.client_from_credentials("iam", creds)
        self.assertTrue(self.can_get_role(session_iam))
        self.iam.delete_role_policy(RoleName=name, PolicyName="read")
        self.assertFalse(self.can_get_role(session_iam), "the role's policy was deleted")
        self.iam.delete_role(RoleName=name)
        self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trusting))
        self.iam.put_role_policy(RoleName=name, PolicyName="read",
                                 PolicyDocument=json.dumps(policy(allow("iam:GetRole"))))
        self.assertError(lambda: session_iam.get_role(RoleName=self.target),
                         "InvalidClientTokenId", 403,
                         message="The security token included in the request is invalid.")


class GroupAttachmentTests(E2ETestCase):
    def test_a_policy_attached_only_to_a_group_is_counted_and_cannot_be_deleted(self):
        group = unique("counted")
        self.iam.create_group(GroupName=group)
        arn = self.iam.create_policy(
            PolicyName=unique("group-only"),
            PolicyDocument=json.dumps(policy(allow("iam:GetRole"))))["Policy"]["Arn"]
        self.iam.attach_group_policy(GroupName=group, PolicyArn=arn)
        self.assertEqual(self.iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"], 1)
        self.assertError(lambda: self.iam.delete_policy(PolicyArn=arn), "DeleteConflict", 409,
                         message="Cannot delete a policy attached to entities.")
        attached_only = [p["Arn"] for p in self.iam.get_paginator("list_policies").paginate(
            Scope="Local", OnlyAttached=True).build_full_result()["Policies"]]
        self.assertIn(arn, attached_only)
        entities = self.iam.list_entities_for_policy(PolicyArn=arn)
        self.assertEqual([g["GroupName"] for g in entities["PolicyGroups"]], [group])
        self.assertEqual(entities["PolicyUsers"], [])
        self.assertEqual(entities["PolicyRoles"], [])
        self.iam.detach_group_policy(GroupName=group, PolicyArn=arn)
        self.assertEqual(self.iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"], 0)
        self.iam.delete_policy(PolicyArn=arn)

    def test_an_aws_managed_policy_attached_only_to_a_group_is_in_the_authorization_details(self):
        group = unique("aws-managed")
        self.iam.create_group(GroupName=group)
        arn = "arn:aws:iam::aws:policy/AmazonSageMakerReadOnly"
        self.iam.attach_group_policy(GroupName=group, PolicyArn=arn)
        details = self.iam.get_paginator("get_account_authorization_details").paginate(
            Filter=["AWSManagedPolicy"]).build_full_result()
        listed = {p["Arn"]: p for p in details["Policies"]}
        self.assertIn(arn, listed)
        self.assertGreaterEqual(listed[arn]["AttachmentCount"], 1)
        unfiltered = self.iam.get_paginator("get_account_authorization_details").paginate(
            ).build_full_result()
        self.assertIn(arn, [p["Arn"] for p in unfiltered["Policies"]])
        self.iam.detach_group_policy(GroupName=group, PolicyArn=arn)

    def test_list_entities_for_policy_filters_and_pages(self):
        arn = self.iam.create_policy(
            PolicyName=unique("entities"),
            PolicyDocument=json.dumps(policy(allow("iam:GetRole"))))["Policy"]["Arn"]
        group, role = unique("eg"), unique("er")
        users = sorted(unique("eu") for _ in range(3))
        self.iam.create_group(GroupName=group, Path="/team/")
        self.iam.attach_group_policy(GroupName=group, PolicyArn=arn)
        self.iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(EC2_TRUST))
        self.iam.put_role_permissions_boundary(RoleName=role, PermissionsBoundary=arn)
        for u in users:
            self.iam.create_user(UserName=u)
            self.iam.attach_user_policy(UserName=u, PolicyArn=arn)
        everything = self.iam.list_entities_for_policy(PolicyArn=arn)
        self.assertEqual([g["GroupName"] for g in everything["PolicyGroups"]], [group])
        self.assertEqual([u["UserName"] for u in everything["PolicyUsers"]], users)
        self.assertEqual([r["RoleName"] for r in everything["PolicyRoles"]], [role],
                         "without PolicyUsageFilter, boundary uses are listed too")
        only_roles = self.iam.list_entities_for_policy(PolicyArn=arn, EntityFilter="Role")
        self.assertEqual(only_roles["PolicyGroups"] + only_roles["PolicyUsers"], [])
        self.assertEqual(len(only_roles["PolicyRoles"]), 1)
        permissions = self.iam.list_entities_for_policy(
            PolicyArn=arn, PolicyUsageFilter="PermissionsPolicy")
        self.assertEqual(permissions["PolicyRoles"], [])
        boundaries = self.iam.list_entities_for_policy(
            PolicyArn=arn, PolicyUsageFilter="PermissionsBoundary")
        self.assertEqual([r["RoleName"] for r in boundaries["PolicyRoles"]], [role])
        self.assertEqual(boundaries["PolicyUsers"] + boundaries["PolicyGroups"], [])
        by_path = self.iam.list_entities_for_policy(PolicyArn=arn, PathPrefix="/team/")
        self.assertEqual([g["GroupName"] for g in by_path["PolicyGroups"]], [group])
        self.assertEqual(by_path["PolicyUsers"] + by_path["PolicyRoles"], [])
        first = self.iam.list_entities_for_policy(PolicyArn=arn, EntityFilter="User", MaxItems=2)
        self.assertTrue(first["IsTruncated"])
        rest = self.iam.list_entities_for_policy(PolicyArn=arn, EntityFilter="User",
                                                 Marker=first["Marker"])
        self.assertEqual([u["UserName"] for u in first["PolicyUsers"] + rest["PolicyUsers"]], users)
        self.assertFalse(rest["IsTruncated"])
        self.assertError(lambda: self.iam.list_entities_for_policy(PolicyArn=arn,
                                                                   EntityFilter="Nobody"),
                         "ValidationError", 400,
                         message="1 validation error detected: Value 'Nobody' at 'entityFilter' "
                                 "failed to satisfy constraint: Member must satisfy enum value set: "
                                 "[User, Role, LocalManagedPolicy, Group, AWSManagedPolicy]")


if __name__ == "__main__":
    unittest.main()
