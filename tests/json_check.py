#!/usr/bin/env python3
"""Validates ahead's -o json output against docs/schema/ahead.schema.json.

  json_check.py SCHEMA DEF FILE      FILE holds one JSON document of shape DEF
  json_check.py SCHEMA --lines FILE  each non-empty line of FILE (stderr) is
                                     an {"error": ...} or {"warning": ...}
Exits 1 with the first violation's path and message."""
import json
import sys

try:
    import jsonschema
except ImportError:
    sys.exit("json_check: the jsonschema module is missing (Debian: python3-jsonschema; scripts/install-deps.sh)")


def validator(schema, name):
    sub = {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": "#/$defs/" + name}
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(sub)


def check(v, doc, what):
    errs = sorted(v.iter_errors(doc), key=lambda e: list(e.absolute_path))
    if errs:
        e = errs[0]
        sys.exit("%s: at %s: %s" % (what, "/".join(str(p) for p in e.absolute_path) or "(top)", e.message[:300]))


def main():
    schema = json.load(open(sys.argv[1]))
    if sys.argv[2] == "--lines":
        ev, wv = validator(schema, "error"), validator(schema, "warning")
        for n, line in enumerate(open(sys.argv[3], encoding="utf-8"), 1):
            if not line.strip():
                continue
            doc = json.loads(line)
            check(wv if "warning" in doc else ev, doc, "%s:%d" % (sys.argv[3], n))
        return
    with open(sys.argv[3], encoding="utf-8") as f:
        doc = json.load(f)
    check(validator(schema, sys.argv[2]), doc, sys.argv[3])


main()
