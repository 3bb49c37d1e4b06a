"""Reads a Terraform file written by `rolewright role new --format terraform` with python-hcl2 (a
real HCL parser) and checks that every policy heredoc holds JSON. Exit 1 on any problem."""

import json
import sys

import hcl2


def main(path):
    with open(path, encoding="utf-8") as f:
        doc = hcl2.load(f)
    resources = doc.get("resource", [])
    policies = 0
    for resource in resources:
        for kind, blocks in resource.items():
            for name, body in blocks.items():
                for key in ("policy", "assume_role_policy"):
                    if key not in body:
                        continue
                    text = body[key].strip('"')
                    lines = text.split("\n")
                    if not lines[0].lstrip().startswith("<<"):
                        print(f"{kind}.{name}.{key} is not a heredoc", file=sys.stderr)
                        return 1
                    # Terraform keeps `$${` for a literal `${`; either way it is JSON text.
                    json.loads("\n".join(lines[1:-1]).replace("$${", "${").replace("%%{", "%{"))
                    policies += 1
    if not resources or not policies:
        print("no resources or policies found", file=sys.stderr)
        return 1
    print(f"terraform: {len(resources)} resources parsed by python-hcl2, {policies} policies are JSON")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
