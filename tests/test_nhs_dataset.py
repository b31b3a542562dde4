"""Checks on the committed NHS directory in data/ (built by `python -m finder build` from the shared
files). The expected figures below are copied from the published NHS England and ODS rows."""

import json
from pathlib import Path

import pytest

from finder import schema, services
from finder.schema import is_http_url, validate_services

DATA = Path(__file__).resolve().parent.parent / "data"
ENGLAND_RECOVERY_2023_24 = 50.1  # annual_main_2023-24.csv, England Total row, Percentage_Recovery


@pytest.fixture(scope="module")
def records():
    document = json.loads((DATA / "services.json").read_text(encoding="utf-8"))
    assert document["schema_version"] == 1
    return {r["id"]: r for r in document["records"]}


def test_every_active_provider_is_present_with_coordinates(records):
    providers = json.loads((DATA / "nhs_providers.json").read_text())["records"]
    active = {p["org_code"] for p in providers if p["status"] == "Active"}
    inactive = {p["org_code"] for p in providers if p["status"] != "Active"}
    # 233 organisations, 220 active in the ODS list this data was built from; a refresh may
    # legitimately change both, so the test holds what must stay true.
    assert len(active) >= 200
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
    if code not in records:
        pytest.skip(f"{code} is no longer an active provider")
    outcomes = records[code]["outcomes_by_period"]["2024-25"]
    assert outcomes["period"] == "2024-25"
    assert outcomes["referrals"] == referrals
    assert outcomes["recovery_pct"] == recovery
    assert outcomes["reliable_improvement_pct"] == improvement


@pytest.mark.parametrize(
    ("code", "courses", "recovery"),
    [("RXT", 110, 61), ("S5F7C", 480, 50), ("TAD", 20, 58), ("RTF61", 105, 48)],
)
def test_ipt_evidence_quotes_the_published_courses(records, code, courses, recovery):
    if code not in records:
        pytest.skip(f"{code} is no longer an active provider")
    record = records[code]
    published = record["outcomes_by_period"]["2024-25"]
    assert (published["ipt_courses"], published["ipt_recovery_pct"]) == (courses, recovery)
    assert record["offers_ipt"] is True
    latest = record["outcomes"]
    assert (
        f"NHS England {latest['period']}: {latest['ipt_courses']:,} courses of IPT" in record["ipt_evidence"]
    )


def test_outcomes_shown_are_the_latest_published_year(records):
    for record in records.values():
        by_period = record.get("outcomes_by_period") or {}
        if by_period:
            assert record["outcomes"] == by_period[max(by_period)]


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
    held = json.loads((DATA / "services.json").read_text())["records"]
    assert sources["services"]["records"] == len(held)
    assert {"2023-24", "2024-25"} <= set(sources["nhs-outcomes"]["main_periods"])
    assert sources["service-links"]["note"] == "seen on public pages, date unknown"


# --- Audit of every fact against the shared source files (skipped where they are absent) -----

SHARED_NHS = DATA.parent.parent / "shared" / "data" / "nhs"
needs_shared = pytest.mark.skipif(not SHARED_NHS.is_dir(), reason="the shared source files are not here")


AUDITED_SOURCES = (
    "nhs-providers",
    "nhs-outcomes",
    "service-links",
    "service-areas",
    "service-roles",
    "areas",
    "gp-practices",
    "postcodes",
)
STALE_DATA = "data/ was built from older source files: run `python -m finder build`"


@pytest.fixture(scope="module")
def data_built_from_shared():
    """The audit compares data/ with ../shared cell by cell; when ../shared holds newer files
    than data/ was built from (the sha256 each import recorded in the manifest), say that in one
    line instead of failing field by field."""
    from finder.imports.guard import sha256_file

    sources = json.loads((DATA / "manifest.json").read_text())["sources"]
    for name in AUDITED_SOURCES:
        recorded = sources.get(name, {}).get("source_sha256") or {}
        if not recorded:
            pytest.fail(STALE_DATA, pytrace=False)  # built before checksums were recorded
        for file_name, digest in recorded.items():
            # Each source file sits in its own folder of ../shared/data (nhs/, areas/, gp/, ...).
            for shared in SHARED_NHS.parent.rglob(file_name):
                if sha256_file(shared) != digest:
                    pytest.fail(STALE_DATA, pytrace=False)


def audited(test):
    """Skipped without ../shared; with it, first checked to be built from those very files."""
    return needs_shared(pytest.mark.usefixtures("data_built_from_shared")(test))


def _shared_rows(name):
    import csv

    with open(SHARED_NHS / name, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _cell(value):
    return None if value in ("*", "NULL", "") else float(value)


def _digits(text):
    return "".join(ch for ch in text or "" if ch.isdigit())


@audited
def test_every_contact_fact_traces_to_that_organisations_row(records):
    ods = {r["org_code"]: r for r in _shared_rows("ods_providers.csv")}
    links = {r["org_code"]: r for r in _shared_rows("service_links.csv")}
    for code, record in records.items():
        organisation = ods[code]
        assert (record["name"], record["postcode"], record["town"]) == (
            organisation["org_name"],
            organisation["postcode"],
            organisation["town"],
        ), code
        row = links.get(code, {})
        assert record["email"] is None, code  # no source gives an email address
        for key in ("phone", "self_referral_phone"):
            if record[key]:
                assert _digits(record[key]) in _digits(row.get("self_referral_phone")), (code, key)
        for key in ("website", "self_referral_url"):
            if record[key]:
                assert record[key] == row.get(key, "").strip(), (code, key)
        if record["min_age"] is not None:
            assert str(record["min_age"]) == row.get("min_age"), code
        if record["catchment"]:
            assert record["catchment"] == row.get("catchment"), code
        if record["service_name"]:
            assert record["service_name"] == row.get("service_name"), code
            assert "uncertain" not in record["service_name"].lower(), code
        if record["offers_ipt"] is True and "public pages" in record["ipt_evidence"]:
            assert row.get("offers_ipt") == "yes", code


@audited
@pytest.mark.parametrize(
    ("code", "why"),
    [
        ("AKR01", "0300 330 1354 is the charity's general local-rate number"),
        ("RNUDT", "the general service contact number (FAQ), not explicitly labelled self-referral"),
        ("RV5CG", "0203 228 2194 is health-professional line"),
        ("RTF61", "linked to North Tyneside Talking Therapies by location (inferred)"),
        ("RMY", "self-refer online or 0300 123 1503 (provider not named)"),
        ("NDC17", "provider at that time not named"),
    ],
)
def test_qualified_facts_are_not_shown_as_the_self_referral_route(records, code, why):
    record = records[code]
    assert record["self_referral"] == "unknown", code
    assert record["self_referral_url"] is None and record["self_referral_phone"] is None
    assert why in record["provenance"]["contacts"]["note"]


def _published_cells(period):
    """The provider rows of one year's statistics: totals, waiting-time bands, therapy rows."""
    totals, bands, therapies = {}, {}, {}
    for row in _shared_rows(f"annual_main_{period}.csv"):
        if row["OrgType"] != "Provider":
            continue
        if row["VariableType"] == "Total":
            totals[row["OrgCode"]] = row
        elif row["VariableA"] == "Accessing services":
            bands.setdefault(row["OrgCode"], {})[row["VariableB"]] = row["Count_FinishedCourseTreatment"]
    for row in _shared_rows(f"therapy_based_outcomes_{period}.csv"):
        if row["OrganisationType"] == "Provider" and row["Diagnosis"] == "Total":
            therapies.setdefault(row["OrganisationCode"], {})[row["TherapyType"]] = row
    return totals, bands, therapies


def _assert_totals_match(code, period, outcomes, total, bands):
    for key, column in (
        ("referrals", "Count_ReferralsReceived"),
        ("finished_treatment", "Count_FinishedCourseTreatment"),
        ("recovery_pct", "Percentage_Recovery"),
        ("reliable_improvement_pct", "Percentage_Improvement"),
        ("reliable_recovery_pct", "Percentage_ReliableRecovery"),
    ):
        assert outcomes[key] == _cell(total[column]), (code, period, key)
    finished = _cell(total["Count_FinishedCourseTreatment"])
    for key, band in (("within_6_weeks_pct", "<6 weeks"), ("within_18_weeks_pct", "<18 weeks")):
        count = _cell(bands.get(code, {}).get(band, "*"))
        expected = round(100 * count / finished, 1) if count is not None and finished else None
        assert outcomes[key] == expected, (code, period, key)


def _assert_therapies_match(code, period, outcomes, therapies):
    for prefix, therapy in (
        ("ipt", "Interpersonal Psycho therapy (IPT)"),
        ("dit", "Brief psychodynamic psychotherapy"),
    ):
        row = therapies.get(code, {}).get(therapy)
        for key, column in (
            ("courses", "Count_CoursesOfTherapy"),
            ("recovery_pct", "Percentage_TherRecovery"),
        ):
            expected = _cell(row[column]) if row else None
            assert outcomes[f"{prefix}_{key}"] == expected, (code, period, prefix, key)


@audited
def test_every_outcome_equals_the_published_cell(records):
    for period in ("2023-24", "2024-25"):
        totals, bands, therapies = _published_cells(period)
        checked = 0
        for code, record in records.items():
            outcomes = record["outcomes_by_period"].get(period)
            if code not in totals and code not in therapies:
                assert outcomes is None, (code, period)
                continue
            assert outcomes is not None, (code, period)
            total = totals.get(code)
            if total:
                _assert_totals_match(code, period, outcomes, total, bands)
            _assert_therapies_match(code, period, outcomes, therapies)
            checked += 1
        assert checked >= 140, period


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"self_referral": "phone", "self_referral_phone": None}, "needs self_referral_phone"),
        ({"website": "https://mertonupliftreferrals@swlstg.nhs.uk/merton-gpprofessionals"}, "plain http"),
        ({"offers_ipt": True, "ipt_evidence": None}, "without ipt_evidence"),
    ],
)
def test_schema_refuses_a_record_that_would_mislead(records, changes, message):
    record = dict(records["R1A"], **changes)
    with pytest.raises(schema.RecordError, match=message):
        schema.validate_service(record)


def test_england_figures_are_held_for_every_published_year():
    # NHS England annual reports, England totals: recovery 2023-24 and 2024-25 as published.
    from finder.services import england_outcomes_by_period

    by_period = england_outcomes_by_period()
    assert by_period["2024-25"]["recovery_pct"] == 50.5
    assert by_period["2023-24"]["recovery_pct"] == ENGLAND_RECOVERY_2023_24
    assert by_period["2024-25"]["within_6_weeks_pct"] == 91.6
