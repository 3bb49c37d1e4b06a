#!/usr/bin/env python3
"""Synthesize one SageMaker Role Manager persona with the official CDK library, offline.

Reads a JSON spec on standard input and prints the CloudFormation template of the stack that holds
the persona's role on standard output. Run it with the Python of a venv where
`cdklabs.cdk-aws-sagemaker-role-manager`, `aws-cdk-lib` and `constructs` are installed (see
README.md); nothing here talks to AWS.

Spec (every list may be empty or absent unless the persona's activities require it):

    {"persona": "data-scientist" | "mlops" | "compute", "suffix": "X",
     "account": "111122223333", "region": "us-east-1",
     "s3Buckets": [names], "passRoles": [role ARNs], "ecrRepos": [repository ARNs],
     "subnets": [ids], "securityGroups": [ids], "dataKeys": [key ARNs], "volumeKeys": [key ARNs]}

`"persona": "custom"` with `"activities": [rolewright activity ids]` builds a Persona of those
activities instead (also supported: monitor-models, manage-glue-tables with `"glueDatabases"`),
to reach the fixes the three personas do not exercise.

The personas are the seeds' (rolewright's defaults, `rolewright personas`):

- data-scientist: run studio apps, manage experiments, manage jobs, manage models,
  manage pipelines, S3 bucket access
- mlops: run studio apps, manage models, manage endpoints, manage pipelines,
  search and visualize experiments
- compute: access AWS services
"""

import json
import sys
import tempfile

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from cdklabs.cdk_aws_sagemaker_role_manager import Activity, Persona

# The activities of each persona, by rolewright's activity ids (build_activity maps each to the
# library's builder).
PERSONAS = {
    "data-scientist": [
        "run-studio-apps",
        "manage-experiments",
        "manage-jobs",
        "manage-models",
        "manage-pipelines",
        "s3-bucket-access",
    ],
    "mlops": [
        "run-studio-apps",
        "manage-models",
        "manage-endpoints",
        "manage-pipelines",
        "visualize-experiments",
    ],
    "compute": ["access-aws-services"],
}


def build_activity(scope, activity_id, res):
    """The library's Activity for one rolewright activity id, with the imported resources."""
    cid = "Activity-" + activity_id
    if activity_id == "run-studio-apps":
        return Activity.run_studio_apps(scope, cid, roles_to_pass=res["roles"])
    if activity_id == "manage-jobs":
        return Activity.manage_jobs(scope, cid, roles_to_pass=res["roles"])
    if activity_id == "manage-models":
        return Activity.manage_models(scope, cid, roles_to_pass=res["roles"])
    if activity_id == "manage-pipelines":
        return Activity.manage_pipelines(scope, cid, roles_to_pass=res["roles"])
    if activity_id == "manage-endpoints":
        return Activity.manage_endpoints(scope, cid)
    if activity_id == "manage-experiments":
        return Activity.manage_experiments(scope, cid)
    if activity_id == "visualize-experiments":
        return Activity.visualize_experiments(scope, cid)
    if activity_id == "s3-bucket-access":
        return Activity.access_s3_buckets(scope, cid, s3_buckets=res["buckets"])
    if activity_id == "monitor-models":
        return Activity.monitor_models(scope, cid, roles_to_pass=res["roles"])
    if activity_id == "manage-glue-tables":
        return Activity.manage_glue_tables(
            scope, cid, glue_database_names=res["glueDatabases"], s3_buckets=res["buckets"]
        )
    if activity_id == "access-aws-services":
        return Activity.access_aws_services(
            scope, cid, ecr_repositories=res["repos"], s3_buckets=res["buckets"]
        )
    raise SystemExit(f"synth_personas: no CDK builder for activity {activity_id!r}")


def import_resources(stack, spec):
    """Imports every named resource of the spec into the stack, by name, id or ARN."""

    def each(key):
        return list(enumerate(spec.get(key) or []))

    return {
        "glueDatabases": list(spec.get("glueDatabases") or []),
        "buckets": [s3.Bucket.from_bucket_name(stack, f"Bucket{i}", v) for i, v in each("s3Buckets")],
        "roles": [
            iam.Role.from_role_arn(stack, f"PassRole{i}", v, mutable=False)
            for i, v in each("passRoles")
        ],
        "repos": [
            ecr.Repository.from_repository_arn(stack, f"Repo{i}", v) for i, v in each("ecrRepos")
        ],
        "subnets": [ec2.Subnet.from_subnet_id(stack, f"Subnet{i}", v) for i, v in each("subnets")],
        "securityGroups": [
            ec2.SecurityGroup.from_security_group_id(stack, f"SecurityGroup{i}", v)
            for i, v in each("securityGroups")
        ],
        "dataKeys": [kms.Key.from_key_arn(stack, f"DataKey{i}", v) for i, v in each("dataKeys")],
        "volumeKeys": [
            kms.Key.from_key_arn(stack, f"VolumeKey{i}", v) for i, v in each("volumeKeys")
        ],
    }


def synth(spec):
    """The CloudFormation template (a dict) of the persona's stack."""
    persona = spec["persona"]
    if persona == "custom":
        PERSONAS["custom"] = list(spec.get("activities") or [])
    if persona not in PERSONAS:
        raise SystemExit(f"synth_personas: unknown persona {persona!r} (one of {sorted(PERSONAS)})")
    with tempfile.TemporaryDirectory(prefix="rolewright-cdk-") as outdir:
        app = cdk.App(outdir=outdir)
        stack = cdk.Stack(
            app,
            "RoleManagerDiff",
            env=cdk.Environment(account=spec["account"], region=spec["region"]),
        )
        res = import_resources(stack, spec)
        activities = [build_activity(stack, a, res) for a in PERSONAS[persona]]
        options = {"activities": activities}
        # Only pass a customization that is given, as a user of the library would.
        if res["subnets"] or res["securityGroups"]:
            options["subnets"] = res["subnets"]
            options["security_groups"] = res["securityGroups"]
        if res["dataKeys"] or res["volumeKeys"]:
            options["data_keys"] = res["dataKeys"]
            options["volume_keys"] = res["volumeKeys"]
        p = Persona(stack, "Persona", **options)
        p.create_role(stack, "Role", spec.get("suffix") or persona, f"{persona} persona")
        assembly = app.synth()
        return assembly.get_stack_by_name(stack.stack_name).template


def main():
    spec = json.load(sys.stdin)
    json.dump(synth(spec), sys.stdout, indent=2, sort_keys=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
