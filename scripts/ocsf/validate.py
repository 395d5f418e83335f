"""Validates OCSF Detection Finding events (JSON lines on standard input) against schema.json
(OCSF 1.2.0, compiled by the OCSF project's compiler; see trim.py).

Checked, per event and nested object: every required attribute present (a profile's only when
metadata.profiles names the profile), no attribute the schema does not define (`unmapped` and
`json_t` hold anything), every value of its type (strings, integers, longs, floats, booleans,
objects, arrays exactly where `is_array`), enumerated ids among the schema's values, the
at_least_one/just_one constraints, and the class's uid arithmetic (type_uid = class_uid * 100 +
activity_id). Prints one line per error (`line N: path: what`) and exits 1 if any.
"""
import json
import sys

schema = json.load(open(sys.argv[1]))
TYPES = schema["types"]
OBJECTS = schema["objects"]
errors = []


def base_type(name):
    seen = set()
    while name in TYPES and TYPES[name].get("type") and name not in seen:
        seen.add(name)
        name = TYPES[name]["type"]
    return name


def check_scalar(value, type_name, path):
    kind = base_type(type_name)
    ok = {
        "string_t": isinstance(value, str),
        "integer_t": isinstance(value, int) and not isinstance(value, bool) and -2**31 <= value < 2**31,
        "long_t": isinstance(value, int) and not isinstance(value, bool) and -2**63 <= value < 2**63,
        "float_t": isinstance(value, (int, float)) and not isinstance(value, bool),
        "boolean_t": isinstance(value, bool),
        "json_t": True,
        "object": isinstance(value, dict),
    }.get(kind)
    if ok is None:
        errors.append(f"{path}: unknown type {type_name}")
    elif not ok:
        errors.append(f"{path}: {value!r} is not of type {type_name} ({kind})")


def check_object(value, attributes, constraints, profiles, path):
    if not isinstance(value, dict):
        errors.append(f"{path}: expected an object, got {value!r}")
        return
    for name, attr in attributes.items():
        profile = attr.get("profile")
        if attr.get("requirement") == "required" and name not in value:
            if profile is None or profile in profiles:
                errors.append(f"{path}.{name}: required attribute missing")
    for name, item in value.items():
        attr = attributes.get(name)
        if attr is None:
            errors.append(f"{path}.{name}: not an attribute of this object")
            continue
        if attr.get("profile") and attr["profile"] not in profiles:
            errors.append(f"{path}.{name}: belongs to profile {attr['profile']}, not in metadata.profiles")
        if attr.get("is_array"):
            if not isinstance(item, list):
                errors.append(f"{path}.{name}: expected an array")
                continue
            for i, element in enumerate(item):
                check_value(element, attr, profiles, f"{path}.{name}[{i}]")
        else:
            check_value(item, attr, profiles, f"{path}.{name}")
    for rule, names in (constraints or {}).items():
        present = [n for n in names if n in value]
        if rule == "at_least_one" and not present:
            errors.append(f"{path}: needs at least one of {names}")
        if rule == "just_one" and len(present) != 1:
            errors.append(f"{path}: needs exactly one of {names}")


def check_value(value, attr, profiles, path):
    type_name = attr["type"]
    if type_name == "object":
        # OCSF's generic object (`unmapped`, `data`): any attributes.
        if not isinstance(value, dict):
            errors.append(f"{path}: expected an object, got {value!r}")
        return
    if type_name in OBJECTS:
        obj = OBJECTS[type_name]
        check_object(value, obj["attributes"], obj.get("constraints"), profiles, path)
        return
    check_scalar(value, type_name, path)
    enum = attr.get("enum")
    if enum and str(value) not in enum:
        errors.append(f"{path}: {value!r} is not one of {enum}")


count = 0
for number, line in enumerate(sys.stdin, 1):
    if not line.strip():
        continue
    count += 1
    before = len(errors)
    try:
        event = json.loads(line)
    except json.JSONDecodeError as e:
        errors.append(f"not JSON: {e}")
    else:
        profiles = set((event.get("metadata") or {}).get("profiles") or [])
        cls = schema["class"]
        check_object(event, cls["attributes"], cls.get("constraints"), profiles, "event")
        if event.get("class_uid") != cls["uid"]:
            errors.append(f"event.class_uid: {event.get('class_uid')!r} is not {cls['uid']}")
        if event.get("category_uid") != cls["category_uid"]:
            errors.append(f"event.category_uid: {event.get('category_uid')!r} is not {cls['category_uid']}")
        if isinstance(event.get("activity_id"), int) and event.get("type_uid") != cls["uid"] * 100 + event["activity_id"]:
            errors.append(f"event.type_uid: {event.get('type_uid')!r} is not class_uid * 100 + activity_id")
    for i in range(before, len(errors)):
        errors[i] = f"line {number}: {errors[i]}"
for error in errors[:200]:
    print(error)
print(f"{count} event(s), {len(errors)} error(s) (OCSF {schema['version']} {schema['class']['name']})", file=sys.stderr)
sys.exit(1 if errors or count == 0 else 0)
