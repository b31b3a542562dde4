"""Service areas, roles, public names and the IPT basis, on real rows (tests/fixtures/service_areas/)."""

import hashlib
import json

import pytest
from helpers import RedirectAll

from finder import areas_served, export, presentation, search
from finder.cli import main
from finder.errors import SourceFormatError
from finder.imports import nhs, nhs_coverage
from finder.schema import RecordError, non_public_host, public_url, validate_services


@pytest.fixture
def real(fixtures, data_copy):
    for name in (
        "service_areas.json",
        "service_roles.json",
        "nhs_outcomes.json",
    ):  # each test imports its own
        (data_copy / name).unlink(missing_ok=True)
    return fixtures / "service_areas"


def _records(data_dir):
    return {r["id"]: r for r in json.loads((data_dir / "services.json").read_text())["records"]}


def _digest(directory):
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir()) if p.is_file()
    }


def _import(real, *, years=("2023-24", "2024-25"), areas=True, roles=True):
    lines = nhs.import_providers(real / "ods_providers.csv")
    for year in years:
        lines += nhs.import_outcomes(real / f"therapy_based_outcomes_{year}.csv")
    lines += nhs.import_service_links(real / "service_links.csv")
    if areas:
        lines += nhs_coverage.import_service_areas(real / "service_areas.csv")
    if roles:
        lines += nhs_coverage.import_service_roles(real / "service_roles.csv")
    return "\n".join(lines)


def test_areas_and_roles_join_the_records(data_copy, real):
    report = _import(real)
    assert "Imported 32 area rows for 12 providers" in report
    assert "lead 8, partner 1, specialist 1, unclear 2 (1 marked probably ended)" in report
    records = _records(data_copy)
    leeds = records["RY6"]["areas_served"]
    assert [(a["code"], a["name"], a["basis"], a["confidence"]) for a in leeds] == [
        ("E08000035", "Leeds", "name", "high")
    ]
    # A partial district keeps its evidence word for word.
    north_yorkshire = next(a for a in records["TAD"]["areas_served"] if a["code"] == "E06000065")
    assert "Craven area only" in north_yorkshire["evidence"]
    # SignHealth is national and for Deaf BSL users; England is not a district in its areas.
    signhealth = records["AM7"]
    assert signhealth["national"] is True and signhealth["areas_served"] == []
    assert signhealth["role"] == "specialist" and "British Sign Language" in signhealth["audience"]
    assert records["RY6"]["national"] is False
    assert records["NDC08"]["role"] == "partner" and records["NDC08"]["lead_id"] == "S5F7C"
    assert records["8J766"]["probably_ended"] is True and records["RY6"]["probably_ended"] is False
    assert records["8J766"]["role_evidence"].startswith("probably ended:")
    stored = json.loads((data_copy / "service_areas.json").read_text())
    assert len(stored["records"]) == 32
    assert json.loads((data_copy / "manifest.json").read_text())["sources"]["service-areas"]["rows"] == 32


def test_a_later_providers_import_keeps_the_areas_and_roles(data_copy, real):
    _import(real)
    nhs.import_providers(real / "ods_providers.csv")
    record = _records(data_copy)["NDC08"]
    assert record["lead_id"] == "S5F7C" and record["areas_served"]


@pytest.mark.parametrize(
    ("importer", "name", "old", "new"),
    [
        (nhs_coverage.import_service_areas, "service_areas.csv", "lad24_code", "lad_code"),
        (nhs_coverage.import_service_roles, "service_roles.csv", "lead_org_code", "lead_code"),
    ],
)
def test_a_drifted_header_is_refused_and_data_is_unchanged(
    data_copy, real, tmp_path, importer, name, old, new
):
    _import(real)
    before = _digest(data_copy)
    drifted = tmp_path / name
    text = (real / name).read_text()
    drifted.write_text(text.replace(old, new, 1))
    with pytest.raises(SourceFormatError) as error:
        importer(drifted)
    assert f"missing columns: {old}" in str(error.value) and f"unexpected columns: {new}" in str(error.value)
    assert _digest(data_copy) == before


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        (",E08000035,Leeds,name,", ",W06000015,Leeds,name,", "not an English district code"),
        (",E08000035,Leeds,name,", ",E08000035,Leeds,guess,", "basis 'guess'"),
        ('Healthcare NHS Trust""",high', 'Healthcare NHS Trust""",certain', "confidence 'certain'"),
        (",E08000035,Leeds,name,", ",ENGLAND,Leeds,name,", "goes with basis national"),
        # Well formed, but no district of the area tables: nobody's search would ever find it.
        (
            ",E08000035,Leeds,name,",
            ",E08000999,Leeds,name,",
            "row 13: RY6's lad24_code E08000999 is not a district",
        ),
        # What is shown to people must be plain text: no markup, link or control character.
        (",medium,Craven area,", ",medium,<b>Craven</b>,", "row 15: part '<b>Craven</b>' is not plain text"),
        (
            'Leeds Community Healthcare NHS Trust""",high,,',
            'Leeds Community Healthcare NHS Trust""",high,,[Leeds](https://evil.example)',
            "row 13: local_service_name .* is not plain text",
        ),
        (",medium,Craven area,", ",medium,Craven\x07area,", "line 15, column 8 holds a control character"),
    ],
)
def test_bad_area_values_are_refused(data_copy, real, tmp_path, old, new, says):
    _import(real)
    before = _digest(data_copy)
    bad = tmp_path / "service_areas.csv"
    text = (real / "service_areas.csv").read_text()
    assert old in text
    bad.write_text(text.replace(old, new, 1))
    with pytest.raises(SourceFormatError, match=says):
        nhs_coverage.import_service_areas(bad)
    assert _digest(data_copy) == before


def test_a_much_smaller_areas_file_is_refused_unless_allowed(data_copy, real, tmp_path, capsys):
    _import(real)
    before = _digest(data_copy)
    short = tmp_path / "service_areas.csv"
    short.write_text("\n".join((real / "service_areas.csv").read_text().splitlines()[:4]) + "\n")
    assert main(["import", "service-areas", str(short)]) == 2
    assert "refusing to drop more than 20%" in capsys.readouterr().err
    assert _digest(data_copy) == before
    main(["import", "service-areas", str(short), "--allow-shrink"])
    assert len(json.loads((data_copy / "service_areas.json").read_text())["records"]) == 3


def test_a_lead_that_is_not_a_held_service_is_refused(data_copy, real, tmp_path):
    _import(real, roles=False)
    bad = tmp_path / "service_roles.csv"
    bad.write_text((real / "service_roles.csv").read_text().replace(",partner,,S5F7C,", ",partner,,RHA,"))
    with pytest.raises(SourceFormatError, match="not a service we hold: NDC08 -> RHA"):
        nhs_coverage.import_service_roles(bad)
    records = list(_records(data_copy).values())
    records[0] = {**records[0], "lead_id": "RHA"}
    with pytest.raises(RecordError, match="not a service we hold"):
        validate_services(records)


def test_ipt_basis_from_both_statistics_years(data_copy, real):
    _import(real)
    records = _records(data_copy)
    # 10 courses in 2023-24, `*` in 2024-25: the earlier year counts and both are said.
    for code in ("AMJ", "RPG"):
        assert records[code]["ipt_basis"] == "official_earlier" and records[code]["offers_ipt"] is True
        assert records[code]["ipt_evidence"] == (
            "NHS England figures: 10 people had IPT here in 2023-24; 2024-25 figure too small to publish"
        )
    assert records["RY6"]["ipt_basis"] == "official_latest"
    assert records["RY6"]["ipt_evidence"].startswith("NHS England 2024-25: 90 courses of IPT")
    # Pages tied to the service only by inference are a note, never its claim.
    for code in ("NWC11", "RV3AR"):
        assert records[code]["ipt_basis"] is None and records[code]["offers_ipt"] is None
        assert "only by inference" in records[code]["ipt_evidence"]
    # The service's own website, nothing in the figures.
    assert records["RXE"]["ipt_basis"] == "website"
    assert "interpersonal-psychotherapy" in records["RXE"]["ipt_evidence"]
    for record in records.values():
        if record["offers_ipt"] is True:
            assert record["ipt_basis"] and record["ipt_evidence"], record["id"]


def test_a_new_statistics_year_makes_the_year_before_earlier(data_copy, real):
    _import(real, years=("2023-24",))
    assert _records(data_copy)["RPG"]["ipt_basis"] == "official_latest"
    nhs.import_outcomes(real / "therapy_based_outcomes_2024-25.csv")
    assert _records(data_copy)["RPG"]["ipt_basis"] == "official_earlier"


def test_the_refresh_keeps_the_rules_when_a_new_year_arrives(data_copy, real, local_server):
    from scrapers import refresh
    from scrapers.http import Fetcher

    _import(real, years=("2023-24",))
    annual = (
        "/data-and-information/publications/statistical/"
        "nhs-talking-therapies-for-anxiety-and-depression-annual-reports"
    )
    local_server.route(
        f"{annual}/2024-25",
        body="<html><body><a href='/files/therapy_based_outcomes_2024-25.csv'>Therapy-based outcomes</a></body></html>",
    )
    local_server.route(
        "/files/therapy_based_outcomes_2024-25.csv",
        body=(real / "therapy_based_outcomes_2024-25.csv").read_bytes(),
        content_type="text/csv",
    )
    fetcher = RedirectAll(Fetcher(min_interval=0, retries=0, timeout=10), local_server.url(""))
    options = refresh.RefreshOptions(today="2026-11-25")
    [report] = refresh.run_refresh([refresh.NhsStatisticsSource()], fetcher, options)
    assert report.status == "updated"
    records = _records(data_copy)
    assert records["RPG"]["ipt_basis"] == "official_earlier"
    assert "2024-25 figure too small to publish" in records["RPG"]["ipt_evidence"]
    assert records["RY6"]["ipt_basis"] == "official_latest" and "2024-25" in records["RY6"]["ipt_evidence"]
    # The staged refresh keeps the areas and roles imported before it.
    assert records["NDC08"]["lead_id"] == "S5F7C" and records["AM7"]["national"] is True


def test_a_staging_host_is_never_a_website_or_referral_link(data_copy, real):
    report = _import(real)
    assert "AM7: https://staging.signhealth.org.uk/" in report
    signhealth = _records(data_copy)["AM7"]
    assert signhealth["website"] is None and signhealth["self_referral_url"] is None
    # The evidence still says where the facts were read.
    assert any("staging.signhealth" in url for url in signhealth["provenance"]["contacts"]["evidence_urls"])
    for url in (
        "https://staging.signhealth.org.uk/x",
        "http://localhost:8501/",
        "http://10.0.0.7/form",
        "https://uat.talking.example.nhs.uk/",
        "https://test.service.org.uk",
        "http://[::1]/",
    ):
        assert non_public_host(url) and public_url(url) is None, url
    for url in ("https://www.signhealth.org.uk/", "https://dev.to/x", "https://testvalley.gov.uk/"):
        assert not non_public_host(url) and public_url(url) == url, url


def test_titles_are_names_people_recognise(data_copy, real):
    _import(real)
    records = _records(data_copy)
    assert presentation.service_title(records["RY6"]) == (
        "Leeds Mental Wellbeing Service (LMWS) Talking Therapies",
        "Run by Leeds Community Healthcare NHS Trust",
    )
    assert records["RY6"]["name"] == "Leeds Community Healthcare NHS Trust"  # the registered name stays
    title, run_by = presentation.service_title(records["RXG10"])
    assert title != "Fieldhead Hospital" and "Fieldhead Hospital" in title and run_by is None
    card = presentation.result_card({**records["RXG10"], "distance_miles": 1.0}, None)
    assert card.title.startswith("NHS Talking Therapies service based at")


def test_the_public_name_rule_on_real_names():
    from finder.textrules import public_name_problem

    assert public_name_problem("Leeds Mental Wellbeing Service (LMWS) Talking Therapies") is None
    assert public_name_problem("CNWL Talking Therapies - Harrow") is None
    assert public_name_problem("Blackpool Teaching Hospitals (BTH) IAPT service") is None
    assert public_name_problem("Fieldhead Hospital") == "a site or building name"
    assert public_name_problem("Oxleas NHS Foundation Trust") == "a trust name"
    assert public_name_problem("Lets-Talk.co IAPT (Barnet, Enfield and Haringey) - historical")
    assert public_name_problem("Access Sefton (Sefton IAPT) - match uncertain") == "uncertain match"


def test_ipt_search_keeps_official_bases_and_counts_website_mentions(data_copy, real):
    _import(real)
    response = search.search("DN1 1AA", kind="nhs", ipt=True, radius_miles=400, limit=1000)
    ids = {r["id"] for r in response.results}
    assert {"AMJ", "RPG", "RY6"} <= ids and "RXE" not in ids and "NWC11" not in ids
    notice = next(n for n in response.notices if n.code == "ipt_website_mentions")
    assert notice.startswith("1 more NHS service mentions IPT on its own website")
    wider = search.search(
        "DN1 1AA", kind="nhs", ipt=True, ipt_include_website=True, radius_miles=400, limit=1000
    )
    assert "RXE" in {r["id"] for r in wider.results}
    assert not [n for n in wider.notices if n.code == "ipt_website_mentions"]


def test_ipt_words_follow_the_basis(data_copy, real):
    _import(real)
    records = _records(data_copy)
    assert presentation.ipt_words(records["RY6"]).startswith("Delivered Interpersonal Therapy (IPT) to")
    assert "had IPT here in 2023-24" in presentation.ipt_words(records["RPG"])
    assert presentation.ipt_words(records["RXE"]).startswith("Its own website mentions Interpersonal Therapy")
    assert presentation.ipt_words(records["NWC11"]).startswith("Interpersonal Therapy (IPT): not known")


def test_export_has_service_areas_and_role_columns(data_copy, real):
    _import(real)
    records = sorted(_records(data_copy).values(), key=lambda r: r["id"])
    document = export.openreferral_document(records)
    areas = document["service_area"]
    assert len(areas) == 32  # 31 districts and England for SignHealth
    craven = next(a for a in areas if a["extent"] == "E06000065")
    assert craven["uri"].endswith("/E06000065") and "a public page says" in craven["service_area"]
    assert any(a["name"] == "England" and "anywhere in England" in a["service_area"] for a in areas)
    header, *rows = export.csv_text(records).splitlines()
    for column in ("areas_served", "national", "role", "lead_id", "probably_ended", "ipt_basis"):
        assert column in header.split(",")
    assert any("Leeds (E08000035; name, high)" in row for row in rows)


# --- The NHS directory seam ------------------------------------------------------------------


NORTH_YORKSHIRE_SUB_ICBS = ("42D", "03Q", "36J", "01K")


def _fake_districts(code):
    """A small stand-in for the refresh's districts_of_sub_icb (real codes and names): North
    Yorkshire lies in four sub-ICBs, Bradford's (36J) taking in only its Craven part."""
    north_yorkshire = ("E06000065", "North Yorkshire", NORTH_YORKSHIRE_SUB_ICBS)
    return {
        "15F": [("E08000035", "Leeds", ("15F",))],
        "36J": [("E08000032", "Bradford", ("36J",)), north_yorkshire],
        "42D": [north_yorkshire],
        "03Q": [north_yorkshire],
        "01K": [north_yorkshire],
    }.get(code, [])


def test_directory_codes_become_the_strongest_area_rows():
    rows, unknown = areas_served.directory_area_rows(
        "TAD",
        "Bradford District Care NHS Foundation Trust",
        ["36J", "36j", "99X"],
        _fake_districts,
        source="https://api.service.nhs.uk/service-search-api/",
    )
    assert unknown == ["99X"]
    assert [(r["code"], r["basis"], r["confidence"], r["part"]) for r in rows] == [
        ("E06000065", "nhs_directory", "high", "part of North Yorkshire"),  # only 36J's part of it
        ("E08000032", "nhs_directory", "high", ""),
    ]
    held = [
        {
            "org_code": "TAD",
            "org_name": "Bradford",
            "code": "E06000065",
            "name": "North Yorkshire",
            "basis": "public_page",
            "evidence": "Craven area only of North Yorkshire",
            "confidence": "medium",
        },
        {
            "org_code": "TAD",
            "org_name": "Bradford",
            "code": "E08000017",
            "name": "Doncaster",
            "basis": "hq_area",
            "evidence": "HQ",
            "confidence": "low",
        },
        {
            "org_code": "RY6",
            "org_name": "Leeds",
            "code": "E08000035",
            "name": "Leeds",
            "basis": "name",
            "evidence": "ODS name",
            "confidence": "high",
        },
    ]
    merged = areas_served.merge_directory_areas(held, rows)
    assert [(r["org_code"], r["code"], r["basis"]) for r in merged] == [
        ("RY6", "E08000035", "name"),
        ("TAD", "E06000065", "nhs_directory"),
        ("TAD", "E08000032", "nhs_directory"),
    ]
    assert "Craven area only" in merged[1]["evidence"]  # the partial district is not lost
    before = [
        {
            "id": "TAD",
            "name": "Bradford",
            "areas_served": [
                {"code": r["code"], "name": r["name"], "basis": r["basis"], "confidence": r["confidence"]}
                for r in held[:2]
            ],
        }
    ]
    after = [
        {
            "id": "TAD",
            "name": "Bradford",
            "areas_served": [
                {"code": r["code"], "name": r["name"], "basis": r["basis"], "confidence": r["confidence"]}
                for r in merged[1:]
            ],
        }
    ]
    assert areas_served.area_change_lines(before, after) == [
        "TAD Bradford: now Bradford (nhs_directory); no longer Doncaster; "
        "basis changed: North Yorkshire public_page -> nhs_directory"
    ]


def test_the_weekly_refresh_reads_the_directorys_areas_through_the_area_tables():
    from scrapers import refresh

    """The NHS directory lists the sub-ICB (CCG) codes a service takes people from; the refresh
    turns them into districts with the committed area tables (Leeds is sub-ICB 15F)."""
    source = next(s for s in refresh.default_sources() if isinstance(s, refresh.NhsDirectorySource))
    assert ("E08000035", "Leeds", ("15F",)) in source.districts_of_sub_icb("15F")
    assert source.districts_of_sub_icb("NOT-A-CODE") == []
    # A split district comes with every sub-ICB it lies in, so a service listed for one of them
    # is not taken to cover all of it.
    (north_yorkshire,) = [d for d in source.districts_of_sub_icb("36J") if d[1] == "North Yorkshire"]
    assert "36J" in north_yorkshire[2] and len(north_yorkshire[2]) > 1


def test_a_service_the_directory_lists_for_one_part_of_a_split_district_is_said_to_take_only_part():
    """Bradford's sub-ICB takes in Craven: a person elsewhere in North Yorkshire must not be told
    that Bradford's service is theirs as surely as their own district's service."""
    from finder import coverage
    from finder import presentation as fmt

    part_rows, _ = areas_served.directory_area_rows("TAD", "Bradford", ["36J"], _fake_districts, source="x")
    whole_rows, _ = areas_served.directory_area_rows(
        "RTX", "North Yorkshire", NORTH_YORKSHIRE_SUB_ICBS, _fake_districts, source="x"
    )
    (part,) = [r for r in part_rows if r["name"] == "North Yorkshire"]
    (whole,) = [r for r in whole_rows if r["name"] == "North Yorkshire"]
    assert part["part"] == "part of North Yorkshire" and whole["part"] == ""
    assert coverage.evidence_rank(part) > coverage.evidence_rank(whole)  # one step less sure
    card = {
        "coverage": "covers",
        "coverage_part": part["part"],
        "coverage_district": part["name"],
        "coverage_confidence": part["confidence"],
    }
    assert fmt.coverage_words(card) == (
        "Takes people registered with a GP in part of North Yorkshire: check yours is there."
    )
    # Earlier evidence that says which part is kept over the directory's "part of".
    held = [{**part, "basis": "public_page", "part": "Craven area", "evidence": "Craven only"}]
    (merged,) = [
        r for r in areas_served.merge_directory_areas(held, part_rows) if r["name"] == "North Yorkshire"
    ]
    assert merged["part"] == "Craven area"
