"""docs/schema/ holds the JSON Schema of every data/ JSON file, generated from finder/schema's
models: it must be what the models give now, and an independent validator must accept data/."""

import json
from pathlib import Path

import jsonschema
import pytest

from finder.schema import RecordError, validate_rows
from finder.schema.documents import FILES, SCHEMA_FOLDER, json_schemas, schema_file_name

ROOT = Path(__file__).resolve().parent.parent
REGENERATE = 'python -c "from finder.schema.documents import write_json_schemas as w; w()"'


def test_docs_schema_is_what_the_models_give():
    expected = json_schemas()
    held = {path.name: path.read_text(encoding="utf-8") for path in SCHEMA_FOLDER.glob("*.json")}
    stale = sorted(name for name in expected.keys() | held.keys() if expected.get(name) != held.get(name))
    assert stale == [], f"docs/schema/ is out of date ({', '.join(stale)}): run {REGENERATE}"


def test_every_data_json_file_has_a_schema_linked_from_the_data_readme():
    data_files = {path.name for path in (ROOT / "data").glob("*.json")}
    assert data_files == set(FILES)
    readme = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    for name in data_files:
        assert f"../docs/schema/{schema_file_name(name)}" in readme, name


@pytest.mark.parametrize("name", sorted(FILES))
def test_the_data_file_passes_its_json_schema_and_its_model(name):
    document = json.loads((ROOT / "data" / name).read_text(encoding="utf-8"))
    schema = json.loads((SCHEMA_FOLDER / schema_file_name(name)).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(document)
    FILES[name].model_validate(document)


def test_a_changed_file_fails_its_json_schema():
    # The schema says something: a number where a district name belongs, or an unknown key, is refused.
    document = json.loads((ROOT / "data" / "service_areas.json").read_text(encoding="utf-8"))
    schema = json.loads((SCHEMA_FOLDER / "service_areas.schema.json").read_text(encoding="utf-8"))
    for change in ({"name": 1}, {"favourite_colour": "blue"}, {"code": "W06000015"}):
        broken = {**document, "records": [{**document["records"][0], **change}]}
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, schema)


def test_a_bad_area_row_is_refused_naming_the_file_the_row_and_the_field():
    row = {
        "org_code": "RGD",
        "org_name": "Leeds and York Partnership",
        "code": "E08000035",
        "name": "Leeds",
        "basis": "name",
        "evidence": "its name",
        "confidence": "high",
        "part": "",
        "local_service_name": "",
    }
    validate_rows("service_areas.json", [row])
    with pytest.raises(RecordError, match=r"^service_areas\.json: record 2: confidence: input should be"):
        validate_rows("service_areas.json", [row, {**row, "confidence": "certain"}])
    with pytest.raises(RecordError, match=r"record 1: min_age: extra inputs are not permitted"):
        validate_rows("service_areas.json", [{**row, "min_age": "1"}])
