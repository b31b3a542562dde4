"""Validators for the vendored Open Referral schemas (tests/fixtures/openreferral/README.md).

HSDS 3.0 is checked as published; the UK profile with no unknown fields (every object schema
closed with additionalProperties: false). Formats are asserted (uuid, uri, email, date-time) with
jsonschema's FormatChecker, whose uri and date-time checks need the format extras installed
(`jsonschema[format-nongpl]` in requirements-dev.txt); `assert_formats_checked` proves they are.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

ROOT = Path(__file__).parent / "fixtures" / "openreferral"
HSDS = "hsds-3.0"
UK = "uk-profile"
BASE = "https://schemas.invalid/"  # a made-up base: every $ref resolves to a vendored file


def _closed(schema: object) -> object:
    """The schema with every object that lists its properties refusing any other."""
    if isinstance(schema, dict):
        schema = {key: _closed(value) for key, value in schema.items()}
        if isinstance(schema.get("properties"), dict):
            schema["additionalProperties"] = False
        return schema
    if isinstance(schema, list):
        return [_closed(item) for item in schema]
    return schema


@functools.cache
def _registry(folder: str, strict: bool) -> Registry:
    resources = []
    for path in sorted((ROOT / folder).rglob("*.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        if strict:
            contents = _closed(copy.deepcopy(contents))
        uri = BASE + folder + "/" + path.relative_to(ROOT / folder).as_posix()
        resources.append((uri, Resource.from_contents(contents, default_specification=DRAFT202012)))
    return Registry().with_resources(resources)


@functools.cache
def validator(folder: str, name: str, *, strict: bool) -> Draft202012Validator:
    """A validator for `name` (e.g. "service.json", "compiled/service.json") in `folder`."""
    return Draft202012Validator(
        {"$ref": BASE + folder + "/" + name},
        registry=_registry(folder, strict),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def errors(folder: str, name: str, instance: object, *, strict: bool) -> list[str]:
    found = validator(folder, name, strict=strict).iter_errors(instance)
    return [f"{name} {'/'.join(map(str, e.absolute_path))}: {e.message}" for e in found]


def table_errors(document: dict, table: str) -> list[str]:
    """Every row of an export table against HSDS 3.0 (as published) and the UK profile (closed)."""
    problems = []
    for row in document[table]:
        problems += errors(HSDS, f"{table}.json", row, strict=False)
        problems += errors(UK, f"{table}.json", row, strict=True)
    return problems


def assert_formats_checked() -> None:
    """The format extras are installed: a bad uri, date-time, uuid and email each fail."""
    bad = {
        "id": "not-a-uuid",
        "name": "x",
        "status": "active",
        "url": "not a uri",
        "email": "nobody",
        "last_modified": "2026-12-01",
    }
    found = {e.absolute_path[-1] for e in validator(HSDS, "service.json", strict=False).iter_errors(bad)}
    assert found == {"id", "url", "email", "last_modified"}, found


PROFILE_SCHEMA_URL = "https://raw.githubusercontent.com/openreferral/uk-profile/main/schema/"
# The profile's openapi.json answers GET /service_at_locations/{id} with compiled/service.json,
# whose required name and status a service_at_location does not have; the path's own description
# ("fully nested service_at_location") and the profile's compiled/service_at_location.json say what
# it returns, so that is the schema its answers are held to.
PROFILE_SLIPS = {("/service_at_locations/{id}", "compiled/service.json"): "compiled/service_at_location.json"}


def profile_openapi() -> dict:
    """The UK profile's openapi.json with each schema it links on GitHub read from the vendored
    copy (the tests run with no network)."""
    spec = json.loads((ROOT / UK / "openapi.json").read_text(encoding="utf-8"))

    def local(node: object, path: str) -> object:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(PROFILE_SCHEMA_URL):
                name = ref.removeprefix(PROFILE_SCHEMA_URL)
                name = PROFILE_SLIPS.get((path, name), name)
                return json.loads((ROOT / UK / name).read_text(encoding="utf-8"))
            return {key: local(value, path) for key, value in node.items()}
        if isinstance(node, list):
            return [local(item, path) for item in node]
        return node

    spec["paths"] = {path: local(item, path) for path, item in spec["paths"].items()}
    # start_time and end_time are declared with "type": "time", which is no JSON Schema type (no
    # client can build a request from it); read as the time-of-day string it means.
    for parameter in spec["components"]["parameters"].values():
        if parameter["schema"].get("type") == "time":
            parameter["schema"] = {"type": "string", "format": "time"}
    return spec
