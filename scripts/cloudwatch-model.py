#!/usr/bin/env python3
"""Regenerate testkit/src/cbor_bridge/cloudwatch-model.json: the shapes of CloudWatch's service
model (structure members, list/map element types, scalar types) that the CBOR bridge needs to
turn moto's JSON answers into the CBOR the SDK expects (which numbers are timestamps, which
strings are blobs, doubles vs integers).

The source is the CloudWatch model botocore ships (the AWS service model that every SDK is
generated from; aws-sdk-cloudwatch is generated from the Smithy form of the same model). Run with
the emulator's venv:  .venv/bin/python scripts/cloudwatch-model.py
"""

import gzip
import json
import os
import sys

import botocore

SRC = os.path.join(os.path.dirname(botocore.__file__), "data", "cloudwatch", "2010-08-01")
OUT = os.path.join(os.path.dirname(__file__), "..", "testkit", "src", "cbor_bridge",
                   "cloudwatch-model.json")


def load():
    plain = os.path.join(SRC, "service-2.json")
    if os.path.exists(plain):
        with open(plain) as f:
            return json.load(f)
    with gzip.open(plain + ".gz") as f:
        return json.load(f)


def main():
    model = load()
    shapes = {}
    for name, shape in sorted(model["shapes"].items()):
        kind = shape["type"]
        out = {"type": kind}
        if kind == "structure":
            out["members"] = {m: ref["shape"] for m, ref in shape.get("members", {}).items()}
            if shape.get("exception"):
                out["error"] = True
        elif kind == "list":
            out["member"] = shape["member"]["shape"]
        elif kind == "map":
            out["key"] = shape["key"]["shape"]
            out["value"] = shape["value"]["shape"]
        shapes[name] = out
    operations = {}
    for name, op in sorted(model["operations"].items()):
        operations[name] = {
            k: op[k]["shape"] for k in ("input", "output") if k in op
        }
    meta = model["metadata"]
    doc = {
        "source": f"botocore {botocore.__version__} data/cloudwatch/2010-08-01/service-2.json",
        "targetPrefix": meta["targetPrefix"],
        "protocols": meta.get("protocols", [meta["protocol"]]),
        "operations": operations,
        "shapes": shapes,
    }
    with open(OUT, "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"{OUT}: {len(operations)} operations, {len(shapes)} shapes", file=sys.stderr)


if __name__ == "__main__":
    main()
