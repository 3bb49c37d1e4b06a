#!/usr/bin/env python3
"""Anchor for crates/rolewright-server/benches/validate.rs: botocore's own client-side input
validation (`botocore.validate.validate_parameters`) on the same CreateUserProfile input.

botocore checks less than the server does (required members, JSON types, minimum lengths and
values; no maximum and no pattern), so it is an anchor of scale, not of equal work.

Usage: target/ci-venv/bin/python bench/anchors/botocore-validate.py [SECONDS]
"""

import sys
import time

import botocore
import botocore.session
from botocore.validate import validate_parameters

VALID = {
    "DomainId": "d-abc123def456",
    "UserProfileName": "alice-data-scientist",
    "Tags": [{"Key": "team", "Value": "ml"}, {"Key": "cost-centre", "Value": "4711"}],
    "UserSettings": {
        "ExecutionRole": "arn:aws:iam::123456789012:role/SageMakerDataScientist",
        "SecurityGroups": ["sg-0123456789abcdef0"],
        "StudioWebPortal": "ENABLED",
        "DefaultLandingUri": "studio::",
        "StudioWebPortalSettings": {"HiddenMlTools": ["JumpStart", "Projects"]},
    },
}


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
    model = botocore.session.get_session().get_service_model("sagemaker")
    shape = model.operation_model("CreateUserProfile").input_shape
    validate_parameters(VALID, shape)
    n = 0
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        for _ in range(100):
            validate_parameters(VALID, shape)
        n += 100
    elapsed = time.perf_counter() - start
    print(f"botocore {botocore.__version__} validate_parameters(CreateUserProfile): "
          f"{elapsed / n * 1e6:.2f} µs per call ({n} calls in {elapsed:.1f} s)")


if __name__ == "__main__":
    main()
