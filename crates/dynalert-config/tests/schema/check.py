"""Validates YAML config files against dynalert's JSON Schemas with a real validator.

Usage: check.py SCHEMA_DIR (valid|invalid) FILE...
A file whose name starts with `_` is checked against platform.schema.json, any other
against tenant.schema.json. Prints one line per file whose outcome differs from the
expected one and exits 1 if there is any; prints the count of files checked.
"""
import json
import os
import sys

import jsonschema
import yaml


def main():
    schema_dir, expect, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    schemas = {}
    for name in ("platform", "tenant"):
        with open(os.path.join(schema_dir, f"{name}.schema.json")) as f:
            schema = json.load(f)
        jsonschema.Draft7Validator.check_schema(schema)
        schemas[name] = jsonschema.Draft7Validator(schema)
    bad = []
    for path in files:
        with open(path) as f:
            doc = yaml.safe_load(f)
        kind = "platform" if os.path.basename(path).startswith("_") else "tenant"
        errors = list(schemas[kind].iter_errors(doc))
        if expect == "valid" and errors:
            bad.append(f"{path}: rejected: {errors[0].message} at {list(errors[0].absolute_path)}")
        if expect == "invalid" and not errors:
            bad.append(f"{path}: accepted, but it is invalid")
    for line in bad:
        print(line)
    print(f"checked {len(files)} files, {len(bad)} unexpected", file=sys.stderr)
    sys.exit(1 if bad else 0)


main()
