"""Times Service Catalog provisioning against `rolewright serve` (driven by
bench/server/provisioning.sh): ProvisionProduct of seed 002's user-profile product, from the call
to the record's SUCCEEDED as DescribeRecord shows it, and TerminateProvisionedProduct of the same,
from the call to SUCCEEDED. The product runs as the launch role of its LAUNCH constraint, as in
the seed. Setup is not timed: the execution and launch roles, a Studio domain, a portfolio with
the caller as its principal, the product and its constraint. Each round checks, untimed, that
the profile exists after provisioning and is gone after termination, and fails otherwise.

Prints the median, p90, min and max in ms of each series, as a table or as JSON lines.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

import boto3
from botocore.config import Config

REGION = "us-east-1"
PROFILE_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Description: A user profile in a SageMaker Studio domain
Parameters:
  DomainId:
    Type: String
  UserProfileName:
    Type: String
Resources:
  UserProfile:
    Type: AWS::SageMaker::UserProfile
    Properties:
      UserProfileName: !Ref UserProfileName
      DomainId: !Ref DomainId
      UserSettings:
        ExecutionRole: !Join ["", ["arn:aws:iam::", !Ref "AWS::AccountId", ":role/SageMakerExecutionRole"]]
      Tags:
        - Key: studiouserid
          Value: !Ref UserProfileName
Outputs:
  UserProfileArn:
    Value: !GetAtt UserProfile.UserProfileArn
"""


def trust(principal):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]})


def clients(args):
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = args.credentials
    session = boto3.Session(profile_name=args.profile, region_name=REGION)
    config = Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30)
    make = lambda name: session.client(name, endpoint_url=args.url, config=config)  # noqa: E731
    return make("iam"), make("sagemaker"), make("servicecatalog"), make("sts")


def setup(iam, sm, sc, sts, workdir):
    account = sts.get_caller_identity()["Account"]
    iam.create_role(RoleName="SageMakerExecutionRole",
                    AssumeRolePolicyDocument=trust({"Service": "sagemaker.amazonaws.com"}))
    iam.create_role(RoleName="SageMakerProvisioningRole",
                    AssumeRolePolicyDocument=trust({"Service": "servicecatalog.amazonaws.com"}))
    iam.put_role_policy(RoleName="SageMakerProvisioningRole", PolicyName="provisioning",
                        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                            {"Effect": "Allow", "Action": [
                                "cloudformation:CreateStack", "cloudformation:DeleteStack",
                                "cloudformation:UpdateStack", "cloudformation:DescribeStacks"],
                             "Resource": "arn:aws:cloudformation:*:*:stack/SC-*"},
                            {"Effect": "Allow", "Action": [
                                "sagemaker:CreateUserProfile", "sagemaker:DescribeUserProfile",
                                "sagemaker:DeleteUserProfile", "sagemaker:AddTags"],
                             "Resource": "*"},
                            {"Effect": "Allow", "Action": "iam:PassRole",
                             "Resource": f"arn:aws:iam::{account}:role/SageMakerExecutionRole"}]}))
    domain = sm.create_domain(
        DomainName="bench", AuthMode="IAM", VpcId="vpc-0123456789abcdef0",
        SubnetIds=["subnet-0123456789abcdef0"],
        DefaultUserSettings={"ExecutionRole":
                             f"arn:aws:iam::{account}:role/SageMakerExecutionRole"})["DomainId"]
    portfolio = sc.create_portfolio(DisplayName="Bench", ProviderName="bench")[
        "PortfolioDetail"]["Id"]
    sc.associate_principal_with_portfolio(PortfolioId=portfolio, PrincipalType="IAM",
                                          PrincipalARN=sts.get_caller_identity()["Arn"])
    path = os.path.join(workdir, "profile.yaml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(PROFILE_TEMPLATE)
    created = sc.create_product(
        Name="Studio user profile", Owner="bench", ProductType="CLOUD_FORMATION_TEMPLATE",
        ProvisioningArtifactParameters={"Name": "v1", "Type": "CLOUD_FORMATION_TEMPLATE",
                                        "Info": {"LoadTemplateFromURL": f"file://{path}"}})
    product = created["ProductViewDetail"]["ProductViewSummary"]["ProductId"]
    artifact = created["ProvisioningArtifactDetail"]["Id"]
    sc.associate_product_with_portfolio(ProductId=product, PortfolioId=portfolio)
    sc.create_constraint(PortfolioId=portfolio, ProductId=product, Type="LAUNCH",
                         Parameters=json.dumps({"RoleArn": f"arn:aws:iam::{account}:role/"
                                                          "SageMakerProvisioningRole"}))
    return domain, product, artifact


def until_done(sc, record_id, timeout):
    """Polls DescribeRecord until the record ends; gives its detail."""
    deadline = time.perf_counter() + timeout
    while True:
        detail = sc.describe_record(Id=record_id)["RecordDetail"]
        if detail["Status"] in ("SUCCEEDED", "FAILED"):
            return detail
        if time.perf_counter() > deadline:
            raise SystemExit(f"error: record {record_id} still {detail['Status']} after "
                             f"{timeout} s")
        time.sleep(0.0005)


def profile_exists(sm, domain, name):
    try:
        sm.describe_user_profile(DomainId=domain, UserProfileName=name)
        return True
    except sm.exceptions.ResourceNotFound:
        return False


def summary(name, values):
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    return {"series": name, "rounds": len(values), "median_ms": round(statistics.median(values), 2),
            "p90_ms": round(p90, 2), "min_ms": round(ordered[0], 2),
            "max_ms": round(ordered[-1], 2)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--credentials", required=True)
    parser.add_argument("--profile", default="rolewright")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("--format", choices=["table", "json"], default="table")
    args = parser.parse_args()
    iam, sm, sc, sts = clients(args)
    with tempfile.TemporaryDirectory(prefix="rolewright-bench-provisioning-") as workdir:
        domain, product, artifact = setup(iam, sm, sc, sts, workdir)
        provision, terminate = [], []
        for i in range(args.warmup + args.rounds):
            user = f"user-{i}"
            started = time.perf_counter()
            record = sc.provision_product(
                ProductId=product, ProvisioningArtifactId=artifact,
                ProvisionedProductName=f"profile-{i}", ProvisionToken=f"token-{i}",
                ProvisioningParameters=[{"Key": "DomainId", "Value": domain},
                                        {"Key": "UserProfileName", "Value": user}])["RecordDetail"]
            detail = until_done(sc, record["RecordId"], args.timeout)
            provisioned = (time.perf_counter() - started) * 1000
            if detail["Status"] != "SUCCEEDED" or not profile_exists(sm, domain, user):
                raise SystemExit(f"error: round {i} did not provision: {detail}")
            started = time.perf_counter()
            ended = sc.terminate_provisioned_product(
                ProvisionedProductId=record["ProvisionedProductId"],
                TerminateToken=f"end-{i}")["RecordDetail"]
            detail = until_done(sc, ended["RecordId"], args.timeout)
            terminated = (time.perf_counter() - started) * 1000
            if detail["Status"] != "SUCCEEDED" or profile_exists(sm, domain, user):
                raise SystemExit(f"error: round {i} did not terminate: {detail}")
            if i >= args.warmup:
                provision.append(provisioned)
                terminate.append(terminated)
    rows = [summary("rolewright ProvisionProduct to SUCCEEDED", provision),
            summary("rolewright TerminateProvisionedProduct to SUCCEEDED", terminate)]
    if args.format == "json":
        for row in rows:
            print(json.dumps(row))
        return
    print(f"{'series':<55} {'median':>9} {'p90':>9} {'min':>9} {'max':>9}")
    for row in rows:
        print(f"{row['series']:<55} {row['median_ms']:>7.2f}ms {row['p90_ms']:>7.2f}ms "
              f"{row['min_ms']:>7.2f}ms {row['max_ms']:>7.2f}ms")


if __name__ == "__main__":
    sys.exit(main())
