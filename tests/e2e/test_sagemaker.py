"""SageMaker Studio through boto3 (issue 10, part): domains and user profiles with execution roles
checked by iam:PassRole, tags, the Service Catalog portfolio switch, AWS's error codes, and
authorization of every call by the engine.
"""

import http.client
import json
import time
import urllib.parse

from harness import ACCOUNT, REGION, E2ETestCase, allow, policy, trust, unique

SAGEMAKER_TRUST = json.dumps(trust({"Service": "sagemaker.amazonaws.com"}))


def role_arn(name):
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


class StudioTests(E2ETestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sm = cls.server.admin("sagemaker")
        cls.compute = unique("SageMaker-compute")
        cls.scientist = unique("SageMaker-ds")
        for name in (cls.compute, cls.scientist):
            cls.iam.create_role(RoleName=name, AssumeRolePolicyDocument=SAGEMAKER_TRUST)

    def new_domain(self, **extra):
        answer = self.sm.create_domain(
            DomainName=unique("studio"), AuthMode="IAM",
            DefaultUserSettings={"ExecutionRole": role_arn(self.compute)},
            SubnetIds=["subnet-0123456789abcdef0"], VpcId="vpc-0123456789abcdef0", **extra)
        return answer

    def test_create_describe_and_list_a_domain(self):
        answer = self.new_domain(Tags=[{"Key": "team", "Value": "ml"}])
        domain_id = answer["DomainId"]
        self.assertRegex(domain_id, r"^d-[a-z0-9]{12}$")
        self.assertEqual(answer["DomainArn"],
                         f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:domain/{domain_id}")
        self.assertEqual(answer["Url"], f"https://{domain_id}.studio.{REGION}.sagemaker.aws")
        described = self.sm.describe_domain(DomainId=domain_id)
        self.assertIn(described["Status"], ("Pending", "InService"))
        self.assertEqual(described["AuthMode"], "IAM")
        self.assertEqual(described["DefaultUserSettings"]["ExecutionRole"], role_arn(self.compute))
        self.assertEqual(described["SubnetIds"], ["subnet-0123456789abcdef0"])
        deadline = time.time() + 10
        while self.sm.describe_domain(DomainId=domain_id)["Status"] != "InService":
            self.assertLess(time.time(), deadline, "the domain never became InService")
            time.sleep(0.2)
        listed = self.sm.get_paginator("list_domains").paginate().build_full_result()["Domains"]
        self.assertIn(domain_id, [d["DomainId"] for d in listed])
        tags = self.sm.list_tags(ResourceArn=answer["DomainArn"])["Tags"]
        self.assertEqual(tags, [{"Key": "team", "Value": "ml"}])

    def test_a_missing_domain_is_resource_not_found(self):
        self.assertError(lambda: self.sm.describe_domain(DomainId="d-000000000000"),
                         "ResourceNotFound", 400)

    def test_invalid_input_gets_awss_validation_text(self):
        self.assertError(
            lambda: self.sm.describe_user_profile(DomainId="d-000000000000",
                                                  UserProfileName="-bad"),
            "ValidationException", 400,
            message="1 validation error detected: Value '-bad' at 'userProfileName' failed to "
                    "satisfy constraint: Member must satisfy regular expression pattern: "
                    "^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")

    def test_user_profiles_take_an_execution_role_and_block_deleting_their_domain(self):
        domain_id = self.new_domain()["DomainId"]
        name = unique("alice")
        arn = self.sm.create_user_profile(
            DomainId=domain_id, UserProfileName=name,
            UserSettings={"ExecutionRole": role_arn(self.scientist),
                          "StudioWebPortalSettings": {"HiddenMlTools": ["JumpStart"]}},
        )["UserProfileArn"]
        self.assertEqual(arn, f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:user-profile/{domain_id}/{name}")
        got = self.sm.describe_user_profile(DomainId=domain_id, UserProfileName=name)
        self.assertEqual(got["UserSettings"]["ExecutionRole"], role_arn(self.scientist))
        self.assertEqual(got["Status"], "InService")
        self.assertError(lambda: self.sm.create_user_profile(DomainId=domain_id,
                                                             UserProfileName=name),
                         "ResourceInUse", 400)
        self.sm.update_user_profile(DomainId=domain_id, UserProfileName=name, UserSettings={
            "StudioWebPortalSettings": {"HiddenMlTools": []}})
        got = self.sm.describe_user_profile(DomainId=domain_id, UserProfileName=name)
        self.assertEqual(got["UserSettings"]["StudioWebPortalSettings"]["HiddenMlTools"], [])
        self.assertEqual(got["UserSettings"]["ExecutionRole"], role_arn(self.scientist),
                         "an update keeps the settings it does not name")
        listed = self.sm.list_user_profiles(DomainIdEquals=domain_id)["UserProfiles"]
        self.assertEqual([p["UserProfileName"] for p in listed], [name])
        self.assertError(lambda: self.sm.delete_domain(DomainId=domain_id), "ResourceInUse", 400)
        self.sm.delete_user_profile(DomainId=domain_id, UserProfileName=name)
        self.assertError(lambda: self.sm.describe_user_profile(DomainId=domain_id,
                                                               UserProfileName=name),
                         "ResourceNotFound", 400)
        self.sm.delete_domain(DomainId=domain_id)
        self.assertError(lambda: self.sm.describe_domain(DomainId=domain_id),
                         "ResourceNotFound", 400)

    def test_list_user_profiles_pages_in_creation_order(self):
        domain_id = self.new_domain()["DomainId"]
        names = [unique(f"p{i}") for i in range(5)]
        for name in names:
            self.sm.create_user_profile(DomainId=domain_id, UserProfileName=name)
            time.sleep(0.01)
        seen, token = [], None
        while True:
            kwargs = {"DomainIdEquals": domain_id, "MaxResults": 2}
            if token:
                kwargs["NextToken"] = token
            page = self.sm.list_user_profiles(**kwargs)
            self.assertLessEqual(len(page["UserProfiles"]), 2)
            seen += [p["UserProfileName"] for p in page["UserProfiles"]]
            token = page.get("NextToken")
            if not token:
                break
        self.assertEqual(seen, names)
        newest_first = self.sm.list_user_profiles(DomainIdEquals=domain_id, SortOrder="Descending",
                                                  MaxResults=3)["UserProfiles"]
        self.assertEqual([p["UserProfileName"] for p in newest_first], names[::-1][:3])

    def test_an_execution_role_that_does_not_exist_is_refused(self):
        self.assertError(lambda: self.sm.create_domain(
            DomainName=unique("studio"), AuthMode="IAM", SubnetIds=["subnet-1"], VpcId="vpc-1",
            DefaultUserSettings={"ExecutionRole": role_arn("nobody-here")}),
            "ValidationException", 400)

    def test_tags_and_the_portfolio_switch(self):
        domain_arn = self.new_domain()["DomainArn"]
        self.sm.add_tags(ResourceArn=domain_arn, Tags=[{"Key": "a", "Value": "1"},
                                                       {"Key": "b", "Value": "2"}])
        self.sm.delete_tags(ResourceArn=domain_arn, TagKeys=["a"])
        self.assertEqual(self.sm.list_tags(ResourceArn=domain_arn)["Tags"],
                         [{"Key": "b", "Value": "2"}])
        self.assertEqual(self.sm.get_sagemaker_servicecatalog_portfolio_status()["Status"],
                         "Disabled")
        self.sm.enable_sagemaker_servicecatalog_portfolio()
        self.assertEqual(self.sm.get_sagemaker_servicecatalog_portfolio_status()["Status"],
                         "Enabled")
        self.sm.disable_sagemaker_servicecatalog_portfolio()
        self.assertEqual(self.sm.get_sagemaker_servicecatalog_portfolio_status()["Status"],
                         "Disabled")


class AppsAndSpacesTests(E2ETestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sm = cls.server.admin("sagemaker")
        cls.role = unique("SageMaker-apps")
        cls.iam.create_role(RoleName=cls.role, AssumeRolePolicyDocument=SAGEMAKER_TRUST)

    def domain_with_user(self):
        domain = self.sm.create_domain(
            DomainName=unique("studio"), AuthMode="IAM", SubnetIds=["subnet-1"], VpcId="vpc-1",
            DefaultUserSettings={"ExecutionRole": role_arn(self.role)})
        user = unique("user")
        self.sm.create_user_profile(DomainId=domain["DomainId"], UserProfileName=user)
        return domain, user

    def wait_for(self, want, describe):
        deadline = time.time() + 10
        while True:
            status = describe()["Status"]
            if status == want:
                return
            self.assertLess(time.time(), deadline, f"still {status}, waiting for {want}")
            time.sleep(0.2)

    def test_apps_go_from_pending_to_in_service_and_stay_listed_once_deleted(self):
        domain, user = self.domain_with_user()
        domain_id = domain["DomainId"]
        arn = self.sm.create_app(DomainId=domain_id, UserProfileName=user,
                                 AppType="JupyterServer", AppName="default")["AppArn"]
        self.assertEqual(arn, f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:app/{domain_id}/{user}/"
                              "jupyterserver/default")
        describe = lambda: self.sm.describe_app(DomainId=domain_id, UserProfileName=user,  # noqa: E731
                                                AppType="JupyterServer", AppName="default")
        self.assertIn(describe()["Status"], ("Pending", "InService"))
        self.wait_for("InService", describe)
        self.assertError(lambda: self.sm.create_app(DomainId=domain_id, UserProfileName=user,
                                                    AppType="JupyterServer", AppName="default"),
                         "ResourceInUse", 400)
        profile_arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:user-profile/{domain_id}/{user}"
        self.assertError(
            lambda: self.sm.delete_user_profile(DomainId=domain_id, UserProfileName=user),
            "ResourceInUse", 400,
            message=f"Unable to delete UserProfile [{profile_arn}] because App(s) are associated "
                    "with it.")
        self.assertError(
            lambda: self.sm.update_domain(DomainId=domain_id, AppNetworkAccessType="VpcOnly"),
            "ValidationException", 400,
            message=f"Unable to update Domain [{domain['DomainArn']}] with InService App. Delete "
                    "all InService apps in the domain including shared Apps for [domain-shared] "
                    "User Profile, and try again.")
        self.sm.delete_app(DomainId=domain_id, UserProfileName=user, AppType="JupyterServer",
                           AppName="default")
        self.wait_for("Deleted", describe)
        listed = self.sm.list_apps(DomainIdEquals=domain_id)["Apps"]
        self.assertEqual([(a["AppName"], a["Status"]) for a in listed], [("default", "Deleted")])
        self.sm.update_domain(DomainId=domain_id, AppNetworkAccessType="VpcOnly")
        self.assertEqual(self.sm.describe_domain(DomainId=domain_id)["AppNetworkAccessType"],
                         "VpcOnly")
        self.sm.delete_user_profile(DomainId=domain_id, UserProfileName=user)

    def test_a_missing_app_is_a_validation_exception_naming_record_not_found(self):
        domain, user = self.domain_with_user()
        error = self.assertError(
            lambda: self.sm.describe_app(DomainId=domain["DomainId"], UserProfileName=user,
                                         AppType="KernelGateway", AppName="nothing"),
            "ValidationException", 400)
        self.assertIn("RecordNotFound", error.response["Error"]["Message"])

    def test_spaces_and_apps_take_tags_by_arn(self):
        domain, user = self.domain_with_user()
        domain_id = domain["DomainId"]
        space_arn = self.sm.create_space(DomainId=domain_id, SpaceName="tagged-space",
                                         Tags=[{"Key": "team", "Value": "a"}])["SpaceArn"]
        app_arn = self.sm.create_app(DomainId=domain_id, UserProfileName=user,
                                     AppType="JupyterLab", AppName="default")["AppArn"]
        for arn in (space_arn, app_arn):
            self.sm.add_tags(ResourceArn=arn, Tags=[{"Key": "team", "Value": "b"},
                                                    {"Key": "cost", "Value": "ml"}])
            tags = {t["Key"]: t["Value"] for t in self.sm.list_tags(ResourceArn=arn)["Tags"]}
            self.assertEqual(tags, {"team": "b", "cost": "ml"}, arn)
            # The model gives ListTags' MaxResults a minimum of 50 and no maximum.
            self.assertEqual(len(self.sm.list_tags(ResourceArn=arn, MaxResults=500)["Tags"]), 2)
            self.sm.delete_tags(ResourceArn=arn, TagKeys=["team"])
            self.assertEqual(self.sm.list_tags(ResourceArn=arn)["Tags"],
                             [{"Key": "cost", "Value": "ml"}], arn)
        self.assertError(
            lambda: self.sm.list_tags(ResourceArn=app_arn.replace("/default", "/nothing")),
            "ResourceNotFound", 400)

    def test_spaces(self):
        domain, _ = self.domain_with_user()
        domain_id = domain["DomainId"]
        arn = self.sm.create_space(DomainId=domain_id, SpaceName="team-space",
                                   SpaceDisplayName="Team")["SpaceArn"]
        self.assertEqual(arn, f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:space/{domain_id}/team-space")
        got = self.sm.describe_space(DomainId=domain_id, SpaceName="team-space")
        self.assertEqual(got["SpaceDisplayName"], "Team")
        self.sm.update_space(DomainId=domain_id, SpaceName="team-space", SpaceDisplayName="Team 2")
        listed = self.sm.list_spaces(DomainIdEquals=domain_id)["Spaces"]
        self.assertEqual([(s["SpaceName"], s["SpaceDisplayName"]) for s in listed],
                         [("team-space", "Team 2")])
        self.sm.create_app(DomainId=domain_id, SpaceName="team-space", AppType="JupyterLab",
                           AppName="default")
        self.assertError(lambda: self.sm.delete_space(DomainId=domain_id, SpaceName="team-space"),
                         "ResourceInUse", 400)
        self.sm.delete_app(DomainId=domain_id, SpaceName="team-space", AppType="JupyterLab",
                           AppName="default")
        time.sleep(1.1)
        self.sm.delete_space(DomainId=domain_id, SpaceName="team-space")
        self.assertError(lambda: self.sm.describe_space(DomainId=domain_id, SpaceName="team-space"),
                         "ResourceNotFound", 400)


class PresignedUrlTests(E2ETestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sm = cls.server.admin("sagemaker")
        cls.role = unique("SageMaker-url")
        cls.iam.create_role(RoleName=cls.role, AssumeRolePolicyDocument=SAGEMAKER_TRUST)
        cls.domain_id = cls.sm.create_domain(
            DomainName=unique("studio"), AuthMode="IAM", SubnetIds=["subnet-1"], VpcId="vpc-1",
            DefaultUserSettings={"ExecutionRole": role_arn(cls.role)})["DomainId"]
        cls.user = unique("dana")
        cls.sm.create_user_profile(DomainId=cls.domain_id, UserProfileName=cls.user)

    def get(self, url, cookie=None):
        parts = urllib.parse.urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        headers = {"Accept": "text/html"}
        if cookie:
            headers["Cookie"] = cookie
        conn.request("GET", parts.path + ("?" + parts.query if parts.query else ""),
                     headers=headers)
        resp = conn.getresponse()
        body = resp.read().decode("utf-8")
        out = resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
        conn.close()
        return out

    def test_a_presigned_url_opens_a_session_on_the_users_page(self):
        url = self.sm.create_presigned_domain_url(DomainId=self.domain_id,
                                                  UserProfileName=self.user)["AuthorizedUrl"]
        self.assertTrue(url.startswith(self.server.url + "/studio/open?token="), url)
        status, headers, _ = self.get(url)
        self.assertEqual(status, 303)
        self.assertEqual(headers["location"], "/studio/home")
        cookie = headers["set-cookie"]
        self.assertIn("HttpOnly", cookie)
        self.assertIn("SameSite=Strict", cookie)
        status, _, page = self.get(self.server.url + "/studio/home", cookie.split(";")[0])
        self.assertEqual(status, 200)
        self.assertIn(self.user, page)
        self.assertIn(role_arn(self.role), page, "the domain's execution role is the user's")
        self.assertIn("JumpStart and project templates: <strong>disabled</strong>", page)
        self.assertIn("SageMaker Service Catalog portfolio is disabled", page)

    def test_the_page_shows_jumpstart_enabled_once_the_seeds_conditions_hold(self):
        sc = self.server.admin("servicecatalog")
        for name in ("AmazonSageMakerServiceCatalogProductsLaunchRole",
                     "AmazonSageMakerServiceCatalogProductsUseRole"):
            try:
                self.iam.create_role(RoleName=name, Path="/service-role/",
                                     AssumeRolePolicyDocument=json.dumps(
                                         trust({"Service": "servicecatalog.amazonaws.com"})))
            except self.iam.exceptions.EntityAlreadyExistsException:
                pass
        self.sm.enable_sagemaker_servicecatalog_portfolio()
        try:
            shares = sc.list_accepted_portfolio_shares(PortfolioShareType="IMPORTED")
            portfolio = [p for p in shares["PortfolioDetails"]
                         if p["ProviderName"] == "Amazon SageMaker"][0]
            sc.associate_principal_with_portfolio(PortfolioId=portfolio["Id"],
                                                  PrincipalARN=role_arn(self.role),
                                                  PrincipalType="IAM")
            url = self.sm.create_presigned_domain_url(DomainId=self.domain_id,
                                                      UserProfileName=self.user)["AuthorizedUrl"]
            _, headers, _ = self.get(url)
            _, _, page = self.get(self.server.url + "/studio/home",
                                  headers["set-cookie"].split(";")[0])
            self.assertIn("JumpStart and project templates: <strong>enabled</strong>", page)
            sc.disassociate_principal_from_portfolio(PortfolioId=portfolio["Id"],
                                                     PrincipalARN=role_arn(self.role))
        finally:
            self.sm.disable_sagemaker_servicecatalog_portfolio()

    def test_an_expired_or_tampered_link_is_refused(self):
        url = self.sm.create_presigned_domain_url(DomainId=self.domain_id,
                                                  UserProfileName=self.user,
                                                  ExpiresInSeconds=5)["AuthorizedUrl"]
        tampered = url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")
        status, headers, page = self.get(tampered)
        self.assertEqual(status, 403)
        self.assertNotIn("set-cookie", headers)
        self.assertIn("the link is not valid", page)
        time.sleep(6)
        status, headers, page = self.get(url)
        self.assertEqual(status, 403)
        self.assertNotIn("set-cookie", headers)
        self.assertIn("the link expired at", page)
        status, _, page = self.get(self.server.url + "/studio/home")
        self.assertEqual(status, 403, "no session without the cookie")

    def test_expiry_outside_5_to_300_seconds_is_a_validation_error(self):
        self.assertError(
            lambda: self.sm.create_presigned_domain_url(DomainId=self.domain_id,
                                                        UserProfileName=self.user,
                                                        ExpiresInSeconds=301),
            "ValidationException", 400,
            message="1 validation error detected: Value '301' at 'expiresInSeconds' failed to "
                    "satisfy constraint: Member must have value less than or equal to 300")


class StudioAuthorizationTests(E2ETestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sm = cls.server.admin("sagemaker")
        cls.allowed_role, cls.other_role = unique("SageMaker-ok"), unique("SageMaker-other")
        for name in (cls.allowed_role, cls.other_role):
            cls.iam.create_role(RoleName=name, AssumeRolePolicyDocument=SAGEMAKER_TRUST)
        cls.domain_id = cls.sm.create_domain(
            DomainName=unique("studio"), AuthMode="IAM", SubnetIds=["subnet-1"], VpcId="vpc-1",
            DefaultUserSettings={"ExecutionRole": role_arn(cls.allowed_role)})["DomainId"]
        cls.user, cls.kid, cls.secret = cls.server.new_user(policy_doc=policy(
            allow(["sagemaker:CreateUserProfile", "sagemaker:DescribeUserProfile"]),
            allow("iam:PassRole", role_arn(cls.allowed_role),
                  Condition={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}})))
        cls.usm = cls.server.client("sagemaker", cls.kid, cls.secret)

    def test_a_role_the_caller_may_pass_is_accepted(self):
        name = unique("bob")
        self.usm.create_user_profile(DomainId=self.domain_id, UserProfileName=name,
                                     UserSettings={"ExecutionRole": role_arn(self.allowed_role)})
        self.assertEqual(self.usm.describe_user_profile(
            DomainId=self.domain_id, UserProfileName=name)["UserProfileName"], name)

    def test_another_role_is_denied_with_awss_text(self):
        name = unique("carol")
        self.assertError(
            lambda: self.usm.create_user_profile(
                DomainId=self.domain_id, UserProfileName=name,
                UserSettings={"ExecutionRole": role_arn(self.other_role)}),
            "AccessDeniedException", 400,
            message=(f"User: {self.user['Arn']} is not authorized to perform: iam:PassRole on "
                     f"resource: {role_arn(self.other_role)} because no identity-based policy "
                     "allows the iam:PassRole action"))
        self.assertError(lambda: self.sm.describe_user_profile(DomainId=self.domain_id,
                                                               UserProfileName=name),
                         "ResourceNotFound", 400)

    def test_actions_the_policy_does_not_grant_are_denied(self):
        self.assertError(
            lambda: self.usm.describe_domain(DomainId=self.domain_id), "AccessDeniedException", 400,
            message=(f"User: {self.user['Arn']} is not authorized to perform: "
                     f"sagemaker:DescribeDomain on resource: arn:aws:sagemaker:{REGION}:{ACCOUNT}:"
                     f"domain/{self.domain_id} because no identity-based policy allows the "
                     "sagemaker:DescribeDomain action"))
        self.assertError(lambda: self.usm.list_domains(), "AccessDeniedException", 400)
