"""Checks on the committed NHS directory in data/ (built by `python -m finder build` from the shared
files). The expected figures below are copied from the published NHS England and ODS rows."""

import json
from pathlib import Path

import pytest

from finder import services
from finder.services import validate_services
from finder.textrules import is_http_url

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture(scope="module")
def records():
    document = json.loads((DATA / "services.json").read_text(encoding="utf-8"))
    assert document["schema_version"] == 1
    return {r["id"]: r for r in document["records"]}


def test_every_active_provider_is_present_with_coordinates(records):
    providers = json.loads((DATA / "nhs_providers.json").read_text())["records"]
    active = {p["org_code"] for p in providers if p["status"] == "Active"}
    inactive = {p["org_code"] for p in providers if p["status"] != "Active"}
    assert len(providers) == 233 and len(active) == 220  # the ODS list
    assert set(records) == active and not (set(records) & inactive)
    located = [r for r in records.values() if r["lat"] is not None]
    assert len(located) >= 200
    for record in located:
        assert 49.8 < record["lat"] < 55.9 and -6.5 < record["lon"] < 1.8  # inside England


def test_records_follow_the_declared_schema(records):
    validate_services(sorted(records.values(), key=lambda r: r["id"]))
    for record in records.values():
        assert record["kind"] == "nhs" and record["source"] and record["last_verified"]
        assert record["works_in_person"] is True


@pytest.mark.parametrize(
    ("code", "referrals", "recovery", "improvement"),
    [
        # annual_main_2024-25.csv, VariableType Total rows
        ("RYG", 29365, 52, 72),  # Coventry and Warwickshire Partnership NHS Trust
        ("R1A", 17870, 50, 70),  # Herefordshire and Worcestershire Health and Care NHS Trust
        ("RXT", 22595, 47, 61),  # Birmingham and Solihull Mental Health NHS FT
        ("RTF61", 5590, 57, 73),  # Wallsend Health Centre
    ],
)
def test_outcomes_equal_the_published_figures(records, code, referrals, recovery, improvement):
    outcomes = records[code]["outcomes"]
    assert outcomes["period"] == "2024-25"
    assert outcomes["referrals"] == referrals
    assert outcomes["recovery_pct"] == recovery
    assert outcomes["reliable_improvement_pct"] == improvement


@pytest.mark.parametrize(
    ("code", "courses", "recovery"),
    [("RXT", 110, 61), ("S5F7C", 480, 50), ("TAD", 20, 58), ("RTF61", 105, 48)],
)
def test_ipt_evidence_quotes_the_published_courses(records, code, courses, recovery):
    record = records[code]
    assert record["offers_ipt"] is True
    assert f"NHS England 2024-25: {courses:,} courses of IPT, {recovery}% recovery" in record["ipt_evidence"]


def test_suppressed_ipt_is_unknown_not_no(records):
    # 8KJ43 (Pure Innovations) published "*" IPT courses in 2024-25 and no page mentions IPT.
    assert records["8KJ43"]["offers_ipt"] is None


def test_every_ipt_yes_has_evidence(records):
    yes = [r for r in records.values() if r["offers_ipt"] is True]
    assert len(yes) >= 86  # 86 providers published IPT courses > 0 in 2024-25
    assert all(r["ipt_evidence"] for r in yes)
    assert all(
        r["offers_ipt"] is True
        for r in records.values()
        if r["ipt_evidence"] and "courses of IPT," in r["ipt_evidence"]
    )


def _strings(value, key=""):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v, key)
    elif isinstance(value, str):
        yield key, value


def test_no_link_is_anything_but_http(records):
    for record in records.values():
        for key, value in _strings(record):
            if key in ("website", "self_referral_url", "evidence_urls") or value.lower().startswith(
                ("javascript:", "data:", "vbscript:", "file:")
            ):
                assert is_http_url(value), (record["id"], key, value)


def test_england_figures_for_the_app():
    england = services.england_outcomes(DATA)
    assert england["period"] == "2024-25"
    assert (england["recovery_pct"], england["within_6_weeks_pct"]) == (50.5, 91.6)
    ipt = [
        r
        for r in services.therapy_outcomes(DATA)
        if r["period"] == "2024-25" and r["therapy_type"] == "Interpersonal Psycho therapy (IPT)"
    ]
    assert [(r["courses"], r["recovery_pct"], r["improvement_pct"]) for r in ipt] == [(6816, 48.7, 62.1)]


def test_manifest_describes_the_nhs_sources():
    sources = json.loads((DATA / "manifest.json").read_text())["sources"]
    assert sources["services"]["records"] == 220
    assert sources["nhs-outcomes"]["main_periods"] == ["2023-24", "2024-25"]
    assert sources["service-links"]["note"] == "seen on public pages, date unknown"
