"""The NHS importers on real slices of the published files (tests/fixtures/nhs_stats/)."""

import hashlib
import json
import shutil
import zipfile

import pytest

from finder import cli, services
from finder.errors import SourceFormatError
from finder.imports import nhs


@pytest.fixture
def stats(fixtures):
    return fixtures / "nhs_stats"


def _records(data_dir):
    return {r["id"]: r for r in json.loads((data_dir / "services.json").read_text())["records"]}


def _import_all(stats):
    nhs.import_providers(stats / "ods_providers.csv")
    for name in (
        "annual_main_2023-24.csv",
        "therapy_based_outcomes_2023-24.csv",
        "annual_main_2024-25.csv",
        "therapy_based_outcomes_2024-25.csv",
    ):
        nhs.import_outcomes(stats / name)
    nhs.import_service_links(stats / "service_links.csv")


def _digest(directory):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


def test_providers_import_keeps_inactive_out_and_reports_them(data_copy, stats):
    lines = nhs.import_providers(stats / "ods_providers.csv")
    records = _records(data_copy)
    assert set(records) == {"8EJ83", "8HX13", "AM7", "R1A", "RTF61", "RV3AR", "RX40C", "TAF90"}
    report = "\n".join(lines)
    assert "3 inactive kept out" in report and "RTV North West Boroughs" in report
    wallsend = records["RTF61"]
    assert wallsend["postcode"] == "NE28 7PD" and wallsend["location_precision"] == "postcode"
    assert wallsend["lat"] == pytest.approx(54.996, abs=0.01) and wallsend["lon"] == pytest.approx(
        -1.53, abs=0.01
    )
    assert "clinics elsewhere" in wallsend["location_note"]
    assert wallsend["source"].startswith("ods_providers.csv")
    # The normalised source table keeps every organisation with its status.
    stored = json.loads((data_copy / "nhs_providers.json").read_text())
    assert len(stored["records"]) == 11
    manifest = json.loads((data_copy / "manifest.json").read_text())["sources"]
    assert manifest["nhs-providers"]["active"] == 8
    assert manifest["services"]["records"] == 8
    assert "postcodes" in manifest  # other entries are kept


def test_outcomes_match_the_published_figures(data_copy, stats):
    _import_all(stats)
    wallsend = _records(data_copy)["RTF61"]["outcomes"]
    # annual_main_2024-25.csv, RTF61 Total row and its "<6 weeks" / "<18 weeks" access bands.
    assert wallsend["period"] == "2024-25"
    assert wallsend["referrals"] == 5590 and wallsend["finished_treatment"] == 2790
    assert wallsend["recovery_pct"] == 57 and wallsend["reliable_improvement_pct"] == 73
    assert wallsend["within_6_weeks_pct"] == pytest.approx(100 * 2585 / 2790, abs=0.05)
    assert wallsend["within_18_weeks_pct"] == pytest.approx(100 * 2685 / 2790, abs=0.05)
    assert wallsend["ipt_courses"] == 105 and wallsend["ipt_recovery_pct"] == 48
    assert wallsend["mean_wait_days"] is None  # published as NULL
    england = services.england_outcomes()
    assert england["period"] == "2024-25"
    assert england["recovery_pct"] == 50.5 and england["referrals"] == 1813432
    assert england["within_6_weeks_pct"] == 91.6  # 614,104 of 670,419 finished courses


def test_every_period_is_kept(data_copy, stats):
    _import_all(stats)
    by_period = _records(data_copy)["RTF61"]["outcomes_by_period"]
    assert set(by_period) == {"2023-24", "2024-25"}
    rows = services.therapy_outcomes()
    ipt = [r for r in rows if r["therapy_type"] == "Interpersonal Psycho therapy (IPT)"]
    assert [r["period"] for r in ipt] == ["2023-24", "2024-25"]
    latest = ipt[-1]
    assert (latest["courses"], latest["recovery_pct"], latest["improvement_pct"]) == (6816, 48.7, 62.1)
    assert latest["source"] == "therapy_based_outcomes_2024-25.csv"


def test_suppressed_cells_are_missing_never_zero(data_copy, stats):
    _import_all(stats)
    records = _records(data_copy)
    acmhs = records["8HX13"]
    # IPT is "*" for 8HX13 in 2024-25: unknown, not "no IPT".
    assert acmhs["outcomes"]["ipt_courses"] is None
    assert acmhs["offers_ipt"] is None and acmhs["ipt_evidence"] is None
    stored = json.loads((data_copy / "nhs_outcomes.json").read_text())
    assert stored["therapy"]["2024-25"]["providers"]["8HX13"]["ipt"]["courses"] is None
    assert 0 not in [
        stored["therapy"]["2024-25"]["providers"]["8HX13"]["ipt"][k] for k in ("courses", "recovery_pct")
    ]


def test_ipt_evidence_and_dit_kept_apart(data_copy, stats):
    _import_all(stats)
    records = _records(data_copy)
    assert records["RTF61"]["offers_ipt"] is True
    assert records["RTF61"]["ipt_evidence"].startswith(
        "NHS England 2024-25: 105 courses of IPT, 48% recovery"
    )
    mill_house = records["RV3AR"]
    # IPT suppressed in the statistics, and listed only on a trust-wide page tied to this borough
    # service by inference (issue 13): a note, never this service's IPT claim.
    assert mill_house["offers_ipt"] is None and mill_house["ipt_basis"] is None
    assert "only by inference" in mill_house["ipt_evidence"] and "https://" in mill_house["ipt_evidence"]
    # 35 courses of brief psychodynamic psychotherapy (where DIT is recorded) are not IPT.
    assert mill_house["outcomes"]["dit_courses"] == 35
    assert mill_house["offers_dit"] is True and "psychodynamic" in mill_house["dit_evidence"]
    for record in records.values():
        assert record["offers_ipt"] is not True or record["ipt_evidence"]


def test_published_zero_ipt_courses_means_no(data_copy, stats, tmp_path):
    # No provider published exactly 0 IPT courses in the shared years; this copy changes
    # RTF61's 105 to 0 to check the rule: false only when the latest year published 0.
    zero = tmp_path / "therapy_based_outcomes_2024-25.csv"
    original = (stats / "therapy_based_outcomes_2024-25.csv").read_text()
    changed = original.replace(
        "WALLSEND HEALTH CENTRE,Total,Interpersonal Psycho therapy (IPT),165,105,",
        "WALLSEND HEALTH CENTRE,Total,Interpersonal Psycho therapy (IPT),165,0,",
    )
    assert changed != original
    zero.write_text(changed)
    nhs.import_providers(stats / "ods_providers.csv")
    nhs.import_outcomes(stats / "therapy_based_outcomes_2023-24.csv")
    nhs.import_outcomes(zero)
    wallsend = _records(data_copy)["RTF61"]
    assert wallsend["offers_ipt"] is False
    assert wallsend["ipt_evidence"] == "NHS England 2024-25: no courses of IPT published"
    # A public page tied to this service only by inference (this row's notes say so) saying IPT
    # is offered is a note, not a yes.
    links = tmp_path / "service_links.csv"
    original = (stats / "service_links.csv").read_text()
    changed = original.replace("0191 295 2775,17,,aged", "0191 295 2775,17,yes,aged")
    assert changed != original
    links.write_text(changed)
    nhs.import_service_links(links)
    wallsend = _records(data_copy)["RTF61"]
    assert wallsend["offers_ipt"] is False and wallsend["ipt_basis"] is None
    assert "only by inference" in wallsend["ipt_evidence"]
    # The service's own page (the notes no longer say "inferred") turns it to yes, basis website,
    # and the evidence says both.
    links.write_text(changed.replace("by location (inferred)", "by location"))
    nhs.import_service_links(links)
    wallsend = _records(data_copy)["RTF61"]
    assert wallsend["offers_ipt"] is True and wallsend["ipt_basis"] == "website"
    assert "own website mentions IPT" in wallsend["ipt_evidence"]
    assert "2024-25: no courses of IPT published" in wallsend["ipt_evidence"]


def test_service_links_fields_are_marked_as_seen(data_copy, stats):
    _import_all(stats)
    records = _records(data_copy)
    first_step = records["RX40C"]
    assert first_step["self_referral"] == "online"
    assert first_step["self_referral_url"].startswith("https://gateway.mayden.co.uk/referral")
    contacts = first_step["provenance"]["contacts"]
    assert contacts["note"] == "seen on public pages, date unknown" and contacts["last_verified"] is None
    assert all(url.startswith("https://") for url in contacts["evidence_urls"])
    hwhct = records["R1A"]
    assert hwhct["self_referral"] == "online" and hwhct["self_referral_phone"] == "0300 013 5727"
    assert hwhct["self_referral_url"] == "https://www.talkingtherapies.hwhct.nhs.uk/selfreferral"
    wallsend = records["RTF61"]
    assert wallsend["phone"] == "0191 295 2775"
    assert wallsend["min_age"] == 17 and wallsend["min_age_text"] == "17 years 9 months"
    assert records["R1A"]["catchment"].startswith("over 16 and registered with a GP in Herefordshire")
    # Sign Health's BSL service covers anywhere in England: it is marked as working online.
    assert records["AM7"]["works_online"] is True and records["R1A"]["works_online"] is False
    assert all(r["works_in_person"] for r in records.values())
    assert records["8HX13"]["self_referral"] == "unknown" and records["8HX13"]["self_referral_url"] is None


def test_duplicate_code_with_same_figures_is_kept_once(data_copy, stats):
    nhs.import_providers(stats / "ods_providers.csv")
    lines = nhs.import_outcomes(stats / "annual_main_2023-24.csv")
    assert any("TAF90" in line and "kept once" in line for line in lines)
    assert _records(data_copy)["TAF90"]["outcomes"]["referrals"] == 4245


def test_changed_header_is_refused_and_data_stays_byte_identical(data_copy, stats, tmp_path):
    _import_all(stats)
    before = _digest(data_copy)
    drifted = tmp_path / "annual_main_2024-25.csv"
    text = (stats / "annual_main_2024-25.csv").read_text()
    drifted.write_text(text.replace("Percentage_Recovery", "Percentage_Recovered", 1))
    with pytest.raises(SourceFormatError) as error:
        nhs.import_outcomes(drifted)
    message = str(error.value)
    assert "missing columns: Percentage_Recovery" in message
    assert "unexpected columns: Percentage_Recovered" in message
    assert _digest(data_copy) == before


def test_changed_provider_header_via_cli_is_one_line_exit_2(data_copy, stats, tmp_path, capsys):
    before = _digest(data_copy)
    drifted = tmp_path / "ods_providers.csv"
    drifted.write_text((stats / "ods_providers.csv").read_text().replace("postcode", "post_code", 1))
    assert cli.main(["import", "nhs-providers", str(drifted)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "missing columns: postcode" in err and "post_code" in err
    assert _digest(data_copy) == before


def test_bad_cell_value_is_refused(data_copy, stats, tmp_path):
    bad = tmp_path / "therapy_based_outcomes_2024-25.csv"
    bad.write_text((stats / "therapy_based_outcomes_2024-25.csv").read_text().replace(",6816,", ",n/a,", 1))
    with pytest.raises(SourceFormatError, match="Count_CoursesOfTherapy holds 'n/a'"):
        nhs.import_outcomes(bad)


def test_published_zip_is_accepted(data_copy, stats, tmp_path):
    nhs.import_providers(stats / "ods_providers.csv")
    archive = tmp_path / "nhs-talking-therapies-annual-2024-25.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(stats / "annual_main_2024-25.csv", "annual_main_2024-25.csv")
        zf.write(stats / "therapy_based_outcomes_2024-25.csv", "therapy_based_outcomes_2024-25.csv")
    lines = nhs.import_outcomes(archive)
    assert any("main measures" in line for line in lines)
    assert any("therapy-based outcomes" in line for line in lines)
    assert _records(data_copy)["RTF61"]["outcomes"]["ipt_courses"] == 105


def test_file_without_a_year_is_refused(data_copy, stats, tmp_path):
    unnamed = tmp_path / "main.csv"
    shutil.copy(stats / "annual_main_2024-25.csv", unnamed)
    with pytest.raises(SourceFormatError, match="cannot tell the reporting year"):
        nhs.import_outcomes(unnamed)


def test_non_http_links_are_refused(data_copy, stats, tmp_path):
    links = tmp_path / "service_links.csv"
    text = (stats / "service_links.csv").read_text()
    links.write_text(
        text.replace("https://www.talkingtherapies.hwhct.nhs.uk/selfreferral", "javascript:alert(1)", 1)
    )
    nhs.import_providers(stats / "ods_providers.csv")
    lines = nhs.import_service_links(links)
    assert any("non-http(s) links refused" in line for line in lines)
    record = _records(data_copy)["R1A"]
    assert record["self_referral_url"] is None and record["self_referral"] == "phone"


def test_build_command_rebuilds_from_a_shared_directory(data_copy, stats, tmp_path, capsys):
    shared = tmp_path / "shared"
    (shared / "nhs").mkdir(parents=True)
    (shared / "postcodes" / "outcode_towns").mkdir(parents=True)
    for path in stats.glob("*.csv"):
        shutil.copy(path, shared / "nhs" / path.name)
    shutil.copy(stats / "towns" / "outcodes_towns.csv", shared / "postcodes" / "outcode_towns")
    (data_copy / "practitioners.json").unlink(missing_ok=True)
    assert cli.main(["build", "--shared", str(shared), "--skip-postcodes"]) == 0
    out = capsys.readouterr().out
    assert "[nhs providers]" in out and "[outcomes therapy_based_outcomes_2024-25.csv]" in out
    assert json.loads((data_copy / "practitioners.json").read_text()) == {"schema_version": 1, "records": []}
    assert _records(data_copy)["RTF61"]["outcomes"]["period"] == "2024-25"


def test_build_with_a_missing_shared_directory_is_one_line(data_copy, tmp_path, capsys):
    assert cli.main(["build", "--shared", str(tmp_path / "nowhere"), "--skip-postcodes"]) == 2
    assert "no such directory" in capsys.readouterr().err


def _with_caveat_rows(stats, tmp_path):
    """The fixture providers and links plus the real rows whose notes qualify their facts."""
    merged = {}
    for name in ("ods_providers.csv", "service_links.csv"):
        base = (stats / name).read_text(encoding="utf-8")
        extra = (stats / "caveats" / name).read_text(encoding="utf-8").split("\n", 1)[1]
        merged[name] = tmp_path / name
        merged[name].write_text(base.rstrip("\n") + "\n" + extra, encoding="utf-8")
    nhs.import_providers(merged["ods_providers.csv"])
    return nhs.import_service_links(merged["service_links.csv"])


def test_general_and_professional_numbers_are_not_the_self_referral_route(data_copy, stats, tmp_path):
    lines = _with_caveat_rows(stats, tmp_path)
    records = _records(data_copy)
    # "0300 330 1354 is the charity's general local-rate number."
    women = records["AKR01"]
    assert women["phone"] == "0300 330 1354"  # still the organisation's number
    assert women["self_referral"] == "unknown" and women["self_referral_phone"] is None
    assert "general local-rate number" in women["provenance"]["contacts"]["note"]
    # "01865 901 222 is the general service contact number (FAQ), not explicitly labelled self-referral"
    oxford = records["RNUDT"]
    assert oxford["phone"] == "01865 901222"
    assert oxford["self_referral"] == "unknown" and oxford["self_referral_phone"] is None
    # "0800 073 2200 is general enquiries/day supervisor line; GHC depression page: refer yourself
    # to Let's Talk by calling 0800 073 2200": a page plainly gives it for referring yourself.
    gloucestershire = records["RTQ"]
    assert gloucestershire["self_referral"] == "phone"
    assert gloucestershire["self_referral_phone"] == "0800 073 2200"
    report = "\n".join(lines)
    assert "not shown as the way to refer yourself" in report and "AKR01" in report


def test_inferred_link_is_not_presented_as_the_self_referral_route(data_copy, stats):
    _import_all(stats)
    wallsend = _records(data_copy)["RTF61"]
    # "Wallsend Health Centre site; linked to North Tyneside Talking Therapies by location (inferred)."
    assert wallsend["self_referral"] == "unknown"
    assert wallsend["self_referral_url"] is None and wallsend["self_referral_phone"] is None
    note = wallsend["provenance"]["contacts"]["note"]
    assert "only by inference" in note and "by location (inferred)" in note
    assert "not shown as its way to refer yourself" in note


def test_uncertain_service_name_is_not_shown_as_the_name(data_copy, stats, tmp_path):
    _with_caveat_rows(stats, tmp_path)
    records = _records(data_copy)
    # service_links.csv: "Forward Thinking Birmingham (0-25 mental health service) - uncertain"
    assert records["ALR02"]["service_name"] is None
    assert records["ALR02"]["name"] == "BMHC-FTB"


def test_half_year_age_is_kept(data_copy, stats, tmp_path):
    _with_caveat_rows(stats, tmp_path)
    islington = _records(data_copy)["TAF87"]  # "adults over 17.5 years (no upper limit)"
    assert islington["min_age"] == 17 and islington["min_age_text"] == "17 years 6 months"


def test_link_with_a_user_name_before_the_host_is_refused(data_copy, stats, tmp_path):
    lines = _with_caveat_rows(stats, tmp_path)
    merton = _records(data_copy)["RQYMI"]
    # "https://mertonupliftreferrals@swlstg.nhs.uk/merton-gpprofessionals": a mangled address.
    assert merton["website"] is None
    assert any("RQYMI" in line and "links refused" in line for line in lines)


def test_build_without_service_links_says_the_old_links_are_kept(data_copy, stats, tmp_path, capsys):
    shared = tmp_path / "shared"
    (shared / "nhs").mkdir(parents=True)
    (shared / "postcodes" / "outcode_towns").mkdir(parents=True)
    for path in stats.glob("*.csv"):
        if path.name != "service_links.csv":
            shutil.copy(path, shared / "nhs" / path.name)
    shutil.copy(stats / "towns" / "outcodes_towns.csv", shared / "postcodes" / "outcode_towns")
    assert cli.main(["build", "--shared", str(shared), "--skip-postcodes"]) == 0
    assert "service_links.csv absent: kept data/service_links.json as it was" in capsys.readouterr().out


def test_a_truncated_statistics_file_is_refused_and_keeps_the_figures(data_copy, stats, tmp_path):
    _import_all(stats)
    before = _digest(data_copy)
    text = (stats / "annual_main_2024-25.csv").read_text()
    cut = tmp_path / "annual_main_2024-25.csv"
    cut.write_text(text[: len(text) // 2].rsplit(",", 3)[0] + "\n")  # a download cut mid-row
    with pytest.raises(SourceFormatError, match="fewer cells than the header"):
        nhs.import_outcomes(cut)
    header_and_england = tmp_path / "annual_main_2024-25_head.csv"
    header_and_england.write_text("\n".join(text.splitlines()[:3]) + "\n")
    with pytest.raises(SourceFormatError, match="no provider rows"):
        nhs.import_outcomes(header_and_england)
    assert _digest(data_copy) == before


@pytest.mark.parametrize("value", ["nan", "inf", "1e309", "-5"])
def test_impossible_counts_are_refused(data_copy, stats, tmp_path, value):
    bad = tmp_path / "annual_main_2024-25.csv"
    bad.write_text((stats / "annual_main_2024-25.csv").read_text().replace(",1813432,", f",{value},", 1))
    with pytest.raises(SourceFormatError, match="not a count"):
        nhs.import_outcomes(bad)


def test_a_provider_list_far_shorter_than_ours_is_refused_from_the_cli(data_copy, stats, tmp_path, capsys):
    _import_all(stats)
    before = _digest(data_copy)
    lines = (stats / "ods_providers.csv").read_text().splitlines()
    partial = tmp_path / "ods_providers.csv"
    partial.write_text("\n".join(lines[:3]) + "\n")  # the header and two organisations
    assert cli.main(["import", "nhs-providers", str(partial)]) == 2
    assert "refusing to drop" in capsys.readouterr().err
    assert _digest(data_copy) == before
    assert cli.main(["import", "nhs-providers", str(partial), "--allow-shrink"]) == 0


def test_stored_links_mapped_again_are_stored_unchanged(data_copy, stats):
    """The refresh edits stored link records and maps them again without a CSV: a record nobody
    changed must come back exactly as the file import stored it."""
    _import_all(stats)
    stored = json.loads((data_copy / "service_links.json").read_text())["records"]
    rows = nhs.source_rows([nhs.link_row(r) for r in stored], nhs.LINK_COLUMNS, "service_links.csv")
    mapped = nhs.link_records(rows, "service_links.csv")
    assert mapped.records == stored
    assert mapped.refused_urls == [] and mapped.non_public == []


def test_rows_without_a_file_are_refused_with_a_control_character(data_copy, stats):
    _import_all(stats)
    providers = json.loads((data_copy / "nhs_providers.json").read_text())["records"]
    broken = [*providers[:1], {**providers[1], "org_name": "Talking\x00Therapies"}]
    with pytest.raises(SourceFormatError, match=r"ods: row 3, column org_name holds a control character"):
        nhs.source_rows(broken, nhs.PROVIDER_COLUMNS, "ods")
