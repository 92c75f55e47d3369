"""schemas/fly.schema.json is a well-formed draft-07 schema that editors can use."""

from __future__ import annotations

import json

import jsonschema
import pytest

from flyconf._resources import resource_dir

SCHEMA = json.loads((resource_dir("schemas") / "fly.schema.json").read_text())


def walk(node, path="#"):
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk(value, f"{path}/{i}")


def test_schema_is_valid_draft_07():
    assert SCHEMA["$schema"] == "http://json-schema.org/draft-07/schema#"
    jsonschema.Draft7Validator.check_schema(SCHEMA)


def test_every_property_has_a_one_line_description():
    missing = []
    for path, node in walk(SCHEMA):
        properties = node.get("properties")
        if not isinstance(properties, dict) or path.endswith("/properties"):
            continue  # a property *named* "properties" is not a properties keyword
        for name, prop in properties.items():
            if not isinstance(prop, dict) or not prop.get("description") or "\n" in prop["description"]:
                missing.append(f"{path}/properties/{name}")
    assert missing == []


def test_every_fixed_object_rejects_unknown_keys():
    open_objects = [
        path for path, node in walk(SCHEMA)
        if node.get("type") == "object" and "properties" in node and node.get("additionalProperties") is not False
    ]
    assert open_objects == []


def test_alternatives_use_any_of_with_typed_branches():
    assert not [p for p, n in walk(SCHEMA) if "oneOf" in n]
    untyped = []
    for path, node in walk(SCHEMA):
        for i, branch in enumerate(node.get("anyOf") or ()):
            target = branch
            if "$ref" in branch:
                target = SCHEMA
                for part in branch["$ref"][2:].split("/"):
                    target = target[part]
            if "type" not in target and "anyOf" not in target:
                untyped.append(f"{path}/anyOf/{i}")
    assert untyped == []


def test_patterns_carry_a_message():
    assert [p for p, n in walk(SCHEMA) if "pattern" in n and "x-flyconf-message" not in n] == []


@pytest.mark.parametrize("key", ["app", "primary_region", "kill_signal", "kill_timeout", "env", "processes", "build",
                                 "deploy", "http_service", "services", "checks", "mounts", "vm", "metrics", "files",
                                 "statics", "restart", "machine_checks", "experimental", "swap_size_mb",
                                 "console_command", "machine_config", "container", "host_dedication_id"])
def test_top_level_keys_are_known(key):
    assert key in SCHEMA["properties"]
