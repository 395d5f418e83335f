"""Writes schema.json: OCSF's Detection Finding class, compiled by the OCSF project's own compiler,
with every object and type it reaches and nothing else (descriptions left out).

How schema.json was made (not run by CI; the result is committed):
    git clone https://github.com/ocsf/ocsf-schema && git -C ocsf-schema checkout v1.2.0
    pip install ocsf-lib==0.10.4
    python3 -m ocsf.compile ocsf-schema > compiled.json
    python3 scripts/ocsf/trim.py compiled.json > scripts/ocsf/schema.json
The OCSF schema is Apache-2.0 (LICENSE-ocsf-schema beside this file).
"""
import json
import sys

KEEP = ("type", "requirement", "is_array", "enum", "profile", "object_type")

compiled = json.load(open(sys.argv[1]))


def attributes(attrs):
    out = {}
    for name, attr in attrs.items():
        kept = {k: attr[k] for k in KEEP if attr.get(k) is not None}
        if "enum" in kept:
            kept["enum"] = sorted(kept["enum"])
        out[name] = kept
    return out


class_ = compiled["classes"]["detection_finding"]
objects = {}
todo = [a["type"] for a in class_["attributes"].values()]
while todo:
    name = todo.pop()
    if name in objects or name not in compiled["objects"]:
        continue
    obj = compiled["objects"][name]
    objects[name] = {"attributes": attributes(obj["attributes"]), "constraints": obj.get("constraints")}
    todo.extend(a["type"] for a in obj["attributes"].values())
types = {name: {k: t[k] for k in ("type", "regex", "max_len", "range") if t.get(k) is not None}
         for name, t in compiled["types"].items()}
json.dump({
    "version": compiled["version"],
    "class": {"uid": class_["uid"], "name": class_["name"], "category_uid": 2,
              "attributes": attributes(class_["attributes"]), "constraints": class_.get("constraints")},
    "objects": dict(sorted(objects.items())),
    "types": types,
}, sys.stdout, indent=0, sort_keys=True)
