"""The Open Referral UK export and API, held to the vendored HSDS 3.0 and UK profile schemas.

Expectations come from data/ itself (its services, its ended ones, its audiences), never from
hard-coded names, except the issue's fact that LS6 3QG is Leeds's.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import openreferral_schemas as schemas
import pytest
import requests
import schemathesis
import uvicorn
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
)

from finder import export, search, services, store
from finder.oruk import mapping, taxonomy
from finder.oruk.api import create_app

RECORDS = services.load_services()
FILE_NAME = re.compile(r"\b[\w-]+\.(?:csv|json|parquet|xlsx?)\b")


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app())


def _all_pages(client, path: str, **params) -> list[dict]:
    items, page = [], 1
    while True:
        answer = client.get(path, params={**params, "page": page, "per_page": 40})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        items += body["contents"]
        if body["last_page"]:
            return items
        page += 1


# --- The export ---------------------------------------------------------------------------------


def test_the_format_extras_really_check_formats():
    schemas.assert_formats_checked()


def test_export_validates_against_hsds_and_the_uk_profile(run_cli):
    done = run_cli("export", "--format", "openreferral", "-")
    document = json.loads(done.stdout)
    problems = [p for table in mapping.TABLES for p in schemas.table_errors(document, table)]
    assert problems == []
    assert len(document["service"]) == len(RECORDS)


def test_export_says_what_a_publisher_would():
    document = export.openreferral_document(RECORDS)
    ended = {taxonomy.stable_id("service", r["id"]) for r in RECORDS if r.get("probably_ended")}
    status = {s["id"]: s["status"] for s in document["service"]}
    assert {sid for sid, value in status.items() if value == "inactive"} == ended
    for service in document["service"]:
        assert "alternate_name" not in service and None not in service.values()
    assert FILE_NAME.findall(json.dumps(document)) == []  # no internal file name anywhere
    # Every ODS code is an identifier of its organisation, with the scheme named.
    identifiers = {i["identifier"]: i for i in document["organization_identifier"]}
    assert set(identifiers) == {r["id"] for r in RECORDS}
    assert {i["identifier_scheme"] for i in identifiers.values()} == {mapping.ODS_SCHEME}
    # Service areas: a GSS code and a name for each district served.
    for area in document["service_area"]:
        assert (
            re.fullmatch(r"E\d{8}", area["extent"]) and area["name"] and area["uri"].endswith(area["extent"])
        )
    served = sum(len(r.get("areas_served") or []) + bool(r.get("national")) for r in RECORDS)
    assert len(document["service_area"]) == served


def test_every_service_is_tagged_and_the_taxonomy_covers_ipt_and_groups():
    document = export.openreferral_document(RECORDS)
    terms = {t["id"]: t for t in document["taxonomy_term"]}
    tagged: dict[str, set[str]] = {}
    for link in document["attribute"]:
        assert link["taxonomy_term_id"] in terms
        tagged.setdefault(link["link_id"], set()).add(terms[link["taxonomy_term_id"]]["term"])
    for record in RECORDS:
        codes = tagged[taxonomy.stable_id("service", record["id"])]
        assert "nhs-talking-therapies" in codes
        assert ("self-referral-online" in codes) == bool(record.get("self_referral_url"))
        official_ipt = record.get("offers_ipt") is True and record.get("ipt_basis") != "website"
        assert ("delivers-ipt" in codes) == official_ipt
        if record.get("audience"):
            assert f"for-a-group/{record['audience']}" in codes


def test_ids_come_from_the_ods_code_and_stay_the_same():
    first, second = export.openreferral_document(RECORDS), export.openreferral_document(list(RECORDS))
    assert first == second
    some = RECORDS[0]["id"]
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/nhs-talking-therapies-ipt-finder")
    assert str(uuid.uuid5(namespace, f"service/{some}")) in {s["id"] for s in first["service"]}


# --- The API ------------------------------------------------------------------------------------


def test_root_says_version_profile_and_where_the_openapi_is(client):
    root = client.get("/").json()
    assert root["version"] == "HSDS-UK-3.0" and root["profile"].startswith("https://")
    openapi = client.get(root["openapi_url"].removeprefix("http://testserver"))
    assert "/service_at_locations" in openapi.json()["paths"]
    assert client.get("/health").json()["services"] == len(RECORDS)


def test_the_readme_lists_every_endpoint_and_its_parameters():
    """The README's endpoint table names every path the API serves (FastAPI's own pages for
    trying it aside) and every parameter a listing takes."""
    app = create_app()
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    rows = [line for line in readme.splitlines() if line.startswith("| `GET /")]
    listed = {path for row in rows for path in re.findall(r"`(?:GET )?(/[^`]*)`", row.split("|")[1])}
    served = {route.path for route in app.routes} - {"/docs/oauth2-redirect", "/redoc"}
    assert listed == served
    parameters = {p["name"] for p in app.openapi()["paths"]["/services"]["get"]["parameters"]}
    (services_row,) = [row for row in rows if row.startswith("| `GET /services` |")]
    said = set(re.findall(r"`(\w+)`", services_row.split("|")[2]))
    unmatched = {"maximum_age", "start_time", "end_time", "day"}  # said in the words below the table
    assert parameters - unmatched <= said and all(f"`{name}`" in readme for name in unmatched)


def test_under_a_proxy_prefix_links_carry_it():
    proxied = TestClient(create_app(), root_path="/oruk")
    assert proxied.get("/").json()["openapi_url"] == "http://testserver/oruk/openapi.json"
    assert proxied.get("/health").status_code == 200


def test_every_listing_and_object_passes_the_uk_profile(client):
    services_listed = _all_pages(client, "/services")
    assert len(services_listed) == len(RECORDS)
    links = _all_pages(client, "/service_at_locations")
    for item in services_listed:
        assert schemas.errors(schemas.UK, "compiled/service_list.json", item, strict=True) == []
        full = client.get(f"/services/{item['id']}").json()
        assert schemas.errors(schemas.UK, "compiled/service.json", full, strict=True) == []
    for link in links:
        assert schemas.errors(schemas.UK, "compiled/service_at_location_list.json", link, strict=True) == []
        full = client.get(f"/service_at_locations/{link['id']}").json()
        assert schemas.errors(schemas.UK, "compiled/service_at_location.json", full, strict=True) == []
    for found in _all_pages(client, "/taxonomies"):
        assert schemas.errors(schemas.UK, "taxonomy.json", found, strict=True) == []
        assert client.get(f"/taxonomies/{found['id']}").json() == found
    for term in _all_pages(client, "/taxonomy_terms"):
        assert schemas.errors(schemas.UK, "taxonomy_term.json", term, strict=True) == []
        assert client.get(f"/taxonomy_terms/{term['id']}").json() == term


def test_the_page_wrapper(client):
    body = client.get("/services", params={"per_page": 7, "page": 2}).json()
    assert set(body) == {
        "total_items",
        "total_pages",
        "page_number",
        "size",
        "first_page",
        "last_page",
        "empty",
        "contents",
    }
    assert body["total_items"] == len(RECORDS) and body["total_pages"] == -(-len(RECORDS) // 7)
    assert (body["page_number"], body["size"], body["first_page"], body["empty"]) == (2, 7, False, False)
    beyond = client.get("/services", params={"page": body["total_pages"] + 1}).json()
    assert beyond["empty"] and beyond["contents"] == []


def test_a_postcode_lists_who_covers_it_first_in_the_finders_order(client):
    body = client.get("/service_at_locations", params={"postcode": "LS6 3QG", "per_page": 100}).json()
    first = body["contents"][0]["service"]
    full = client.get(f"/services/{first['id']}").json()
    assert "Leeds" in {area["name"] for area in full["service_areas"]}  # the fact
    finder_order = [
        r["id"] for r in search.search("LS6 3QG", kind="nhs", radius_miles=0.001, limit=1000).results
    ]
    ids = {taxonomy.stable_id("service", code): code for code in finder_order}
    listed = [ids.get(item["service"]["id"]) for item in body["contents"]]
    assert listed[: len(finder_order)] == [code for code in finder_order if code in listed]
    ended = {taxonomy.stable_id("service", r["id"]) for r in RECORDS if r.get("probably_ended")}
    assert not ended & {item["service"]["id"] for item in body["contents"]}
    wider = client.get("/service_at_locations", params={"postcode": "LS6 3QG", "proximity": "30000"}).json()
    assert wider["total_items"] > body["total_items"]
    assert [i["id"] for i in wider["contents"][: len(body["contents"])]] == [
        i["id"] for i in body["contents"]
    ]


# Trafford, Thurrock and Chelmsford: places the issue (17) names whose service goes by another name there.
@pytest.mark.parametrize("postcode", ["M33 7XX", "RM17 6SL", "CM1 1AA"])
@pytest.mark.parametrize("path", ["/services", "/service_at_locations"])
def test_a_postcode_names_each_service_as_it_is_known_there(client, postcode, path):
    listed = client.get(path, params={"postcode": postcode}).json()["contents"]
    services_listed = [item.get("service", item) for item in listed]
    first = services_listed[0]
    everywhere = client.get(f"/services/{first['id']}").json()
    district = search.search(postcode, kind="nhs", radius_miles=0.001).results[0]["coverage_district"]
    (area,) = [a for a in everywhere["service_areas"] if a["name"] == district]
    # Listed everywhere by the provider's public name; for the postcode, by the name it has there,
    # which its service area for that district gives too.
    assert first["name"] != everywhere["name"]
    assert f"Known there as {first['name']}." in area["service_area"]
    schema = {"/services": "compiled/service_list.json"}.get(path, "compiled/service_at_location_list.json")
    assert [schemas.errors(schemas.UK, schema, item, strict=True) for item in listed] == [[]] * len(listed)


def test_a_part_of_a_district_is_named_where_the_data_has_one(client):
    """Fleet (Hart): the issue's place where a service takes people from some surgeries only."""
    (first, *_) = client.get("/services", params={"postcode": "GU51 4AA"}).json()["contents"]
    part = search.search("GU51 4AA", kind="nhs", radius_miles=0.001).results[0]["coverage_part"]
    assert part and "surgeries" in part
    assert "Takes people registered at surgeries in Fleet" in first["description"]
    areas = client.get(f"/services/{first['id']}").json()["service_areas"]
    assert any(
        a["name"] == f"Hart ({part})" and f"Only part of Hart: {part}." in a["service_area"] for a in areas
    )
    document = export.openreferral_document(RECORDS)
    partial = [(r["id"], a) for r in RECORDS for a in r.get("areas_served") or [] if a.get("part")]
    rows = {row["id"]: row for row in document["service_area"]}
    for code, area in partial:
        row = rows[taxonomy.stable_id("service_area", f"{code}/{area['code']}")]
        assert row["name"] == f"{area['name']} ({area['part']})"


def test_a_service_is_listed_once_for_a_postcode(client):
    """Islington: one Camden and Islington service, not its site's code as well (issue 17)."""
    listed = client.get("/service_at_locations", params={"postcode": "N1 1AA"}).json()["contents"]
    names = [item["service"]["name"] for item in listed]
    assert names.count("Camden and Islington NHS Talking Therapies") == 1
    assert len(set(names)) == len(names)
    # A place that spans districts, some of them covered in part, is answered too.
    wide = client.get("/services", params={"postcode": "BD23"})
    assert wide.status_code == 200 and wide.json()["contents"]


def test_filters_as_the_profile_defines_them(client):
    terms = {t["term"]: t["id"] for t in _all_pages(client, "/taxonomy_terms")}
    ipt = _all_pages(client, "/services", taxonomy_term_id=terms["delivers-ipt"])
    expected = {
        taxonomy.stable_id("service", r["id"])
        for r in RECORDS
        if r.get("offers_ipt") is True and r.get("ipt_basis") != "website"
    }
    assert {s["id"] for s in ipt} == expected and expected
    aged = _all_pages(client, "/services", minimum_age=17)
    expected_aged = {taxonomy.stable_id("service", r["id"]) for r in RECORDS if (r.get("min_age") or 0) >= 17}
    assert {s["id"] for s in aged} == expected_aged
    some = RECORDS[0]
    word = mapping.service(some)["name"].split()[0]
    found = _all_pages(client, "/services", search=word.lower())
    assert taxonomy.stable_id("service", some["id"]) in {s["id"] for s in found}
    assert _all_pages(client, "/services", search="zzqx nothing matches this") == []


@pytest.mark.parametrize(
    "path",
    [
        "/services?page=0",
        "/services?page=two",
        "/services?per_page=100000",
        "/services?minimum_age=old",
        "/service_at_locations?postcode=NOT A PLACE 123",
        "/service_at_locations?postcode=LS6 3QG&proximity=far",
        "/service_at_locations?proximity=1000",
        "/services?postcode=NOT A PLACE 123",
        "/services?proximity=1000",
    ],
)
def test_bad_parameters_are_400_with_a_message(client, path):
    answer = client.get(path)
    assert answer.status_code == 400 and answer.json()["message"]


@pytest.mark.parametrize("path", ["/services/", "/service_at_locations/", "/taxonomies/", "/taxonomy_terms/"])
def test_unknown_ids_are_404(client, path):
    answer = client.get(path + str(uuid.uuid4()))
    assert answer.status_code == 404 and "no " in answer.json()["message"]


def test_cors_and_caching_follow_the_data_version(client):
    answer = client.get("/services", headers={"Origin": "https://directory.example"})
    assert answer.headers["access-control-allow-origin"] == "*"
    assert "max-age" in answer.headers["cache-control"]
    again = client.get("/services", headers={"If-None-Match": answer.headers["etag"]})
    assert again.status_code == 304 and not again.content
    assert client.post("/services").status_code == 405


def test_a_publish_is_served_without_a_restart(data_copy):
    client = TestClient(create_app())
    before = client.get("/services")
    records = services.load_services(data_copy)
    document = json.loads((data_copy / "services.json").read_text())
    document["records"] = records[1:]
    store.publish({"services.json": store.json_bytes(document)}, directory=data_copy)
    after = client.get("/services")
    assert after.json()["total_items"] == before.json()["total_items"] - 1
    assert after.headers["etag"] != before.headers["etag"]
    assert client.get(f"/services/{taxonomy.stable_id('service', records[0]['id'])}").status_code == 404


def test_the_command_logs_nothing_anyone_searched(tmp_path):
    port = _free_port()
    log = tmp_path / "api.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "finder", "api", "--port", str(port)], stdout=out, stderr=subprocess.STDOUT
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_for(base + "/health")
            assert requests.get(base + "/services", params={"search": "secretword"}, timeout=10).ok
            assert requests.get(base + "/service_at_locations", params={"postcode": "LS6 3QG"}, timeout=30).ok
        finally:
            server.terminate()
            server.wait(timeout=10)
    text = log.read_text()
    assert "secretword" not in text and "LS6" not in text and "/services" not in text


# --- Schemathesis: the UK profile's openapi.json against the API on 127.0.0.1 -------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise AssertionError(f"{url} never answered")


@pytest.fixture(scope="module")
def live_api():
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(), host="127.0.0.1", port=port, access_log=False, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    _wait_for(base + "/health")
    yield base
    server.should_exit = True
    thread.join(timeout=10)


profile = schemathesis.openapi.from_dict(schemas.profile_openapi())


# Checks: no server error, the declared content type, every answer matching the profile's schema,
# and parameters of the wrong type refused. Not "only documented status codes": the profile
# documents 200 alone, while an unknown id must be 404 and an unusable parameter 400; nor "valid
# data accepted": a postcode the finder cannot place is a valid string, and is refused with 400.
@profile.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_the_uk_profile_openapi_passes(case, live_api):
    case.call_and_validate(
        base_url=live_api,
        checks=[
            not_a_server_error,
            content_type_conformance,
            response_schema_conformance,
            negative_data_rejection,
        ],
    )
