"""A person sees their own service, by the name it uses where they live, once, and before any
service for one group of people (issue 17). Real places on the committed data/; the names
expected are read from data/service_areas.json (the shared `local_service_name` column), not
typed here."""

import csv
import io
import json
from pathlib import Path

import pytest

from finder.cli import main
from finder.search import search

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture(scope="module")
def local_names():
    """(org_code, district name) -> the service's local name there, where the source gives one."""
    rows = json.loads((DATA / "service_areas.json").read_text())["records"]
    return {(r["org_code"], r["name"]): r["local_service_name"] for r in rows if r["local_service_name"]}


def _records():
    return json.loads((DATA / "services.json").read_text())["records"]


def _yours(query=None, **options):
    response = search(query or "", kind="nhs", **options)
    return response, [r for r in response.results if r["coverage"] == "covers" and r["role"] != "specialist"]


@pytest.mark.parametrize(
    ("postcode", "district"),
    [
        ("RM17 6SL", "Thurrock"),  # Midlands Partnership: not its Staffordshire Wellbeing Service
        ("M33 7XX", "Trafford"),  # GMMH: not Wigan Talking Therapies
        ("CM1 1JE", "Chelmsford"),  # mid Essex: not HPFT's Hertfordshire Wellbeing Service
        ("TN34 1AA", "Hastings"),  # East Sussex
        ("BN21 4UG", "Eastbourne"),
        ("DL1 5QE", "Darlington"),
        ("BA1 1LZ", "Bath and North East Somerset"),
        ("SN1 1LL", "Swindon"),
    ],
)
def test_a_search_names_that_places_own_service(local_names, postcode, district):
    response, yours = _yours(postcode)
    assert response.query.area.district_name == district
    first = yours[0]
    assert first["service_name"] == local_names[(first["id"], district)]
    assert first is response.results[0]  # the person's own service comes first


def test_the_registered_provider_stays_in_run_by_and_other_places_contacts_are_not_offered(capsys):
    from finder import presentation

    _, yours = _yours("M33 7XX")
    trafford = yours[0]
    title, run_by = presentation.service_title(trafford)
    assert title == "Trafford Psychological Therapies (GMMH)"
    assert run_by == "Run by Greater Manchester Mental Health NHS Foundation Trust"
    # GMMH's links and phone are Wigan Talking Therapies': not offered as Trafford's way in.
    assert not any(trafford[key] for key in ("self_referral_url", "self_referral_phone", "phone", "website"))
    action = presentation.primary_action(trafford, nhs_finder_url="https://www.nhs.uk/talking")
    assert action.label == presentation.NHS_FINDER_LABEL
    assert main(["search", "M33 7XX", "--kind", "nhs"]) == 0
    out = capsys.readouterr().out
    assert "Trafford Psychological Therapies (GMMH)" in out and "wigan" not in out.lower()


@pytest.mark.parametrize(("postcode", "district"), [("RM17 6SL", "Thurrock"), ("M33 7XX", "Trafford")])
def test_under_a_local_name_the_card_says_whom_that_service_takes(local_names, postcode, district):
    # Midlands Partnership's card in Thurrock said "for people aged 16 and over registered with a
    # GP in Telford and Wrekin, Stoke-on-Trent, Shropshire...": its Staffordshire service's areas
    # and age, not Thurrock's.
    from finder import presentation

    _, yours = _yours(postcode)
    first = yours[0]
    record = next(r for r in _records() if r["id"] == first["id"])
    elsewhere = {
        a["name"] for a in record["areas_served"] if a.get("local_service_name") != first["service_name"]
    }
    words = presentation.who_for(first) or ""
    assert district in words
    assert not [name for name in elsewhere if name in words], words
    assert first["min_age"] is None or record["min_age"] is None


def test_a_gp_search_uses_the_name_in_the_surgerys_own_district(local_names):
    # North East London's sub-ICB holds Waltham Forest and Redbridge, where NELFT's service is
    # called differently: the surgery's own district decides.
    for code, district in (("F86001", "Waltham Forest"), ("F86022", "Redbridge")):
        _, yours = _yours(gp=code)
        nelft = next(r for r in yours if r["id"] == "RAT")
        public = next(r for r in _records() if r["id"] == "RAT")["service_name"]
        assert nelft["service_name"] == local_names.get(("RAT", district), public)
        assert nelft["service_name"] != public or district == "Redbridge"


def test_a_part_of_a_district_says_which_surgeries(capsys):
    _, yours = _yours("GU51 3HA")  # Fleet, in Hart
    talkplus = yours[0]
    assert talkplus["coverage_part"] == "Fleet, Church Crookham, Blackwater and Yateley surgeries"
    assert main(["search", "GU51 3HA", "--kind", "nhs"]) == 0
    assert (
        "Takes people registered at surgeries in Fleet, Church Crookham, Blackwater and Yateley: "
        "check yours is one." in capsys.readouterr().out
    )
    # A whole-district service is not partial.
    assert search("LS1 4AP", kind="nhs").results[0]["coverage_part"] is None


def test_oldham_shows_pennine_care_first():
    response, yours = _yours("OL1 1NL")
    assert response.results[0]["id"] == "RT2"
    assert response.results[0]["service_name"].startswith("Pennine Care NHS Talking Therapies")
    assert response.results[0]["coverage_part"] is None  # "only the Oldham tab" is not a part
    # The partner charity whose lead is unknown comes after it.
    assert [r["id"] for r in yours].index("8JJ53") > 0


def test_islington_shows_one_camden_and_islington_service(capsys):
    response, _ = _yours("N1 9GU")
    camden = [r for r in response.results if "Camden and Islington" in (r["service_name"] or "")]
    assert len(camden) == 1 and camden[0]["id"] == "G6V2S"
    assert "TAF87" in {item["id"] for item in camden[0]["delivered_with"]}  # its Islington site
    assert main(["search", "N1 9GU", "--kind", "nhs"]) == 0
    assert capsys.readouterr().out.count("Camden and Islington") == 1


def test_carlisle_lists_its_service_not_a_trust_code_or_a_hospital_trust():
    response, yours = _yours("CA3 8QG")
    shown = {r["id"] for r in response.results}
    assert [r["id"] for r in yours] == ["RX40C"]
    assert not shown & {"RX4", "RNN"}  # the trust code is a site of RX40C; RNN has probably ended


def test_blackburns_plain_text_puts_the_womens_service_under_also_for_you(capsys):
    assert main(["search", "BB1 7DJ", "--kind", "nhs"]) == 0
    out = capsys.readouterr().out
    yours, rest = out.split("Your area\n", 1)[1].split("Also for you if...\n", 1)
    assert "Mindsmatter" in yours and "women" not in yours
    also = rest.split("\n\n", 1)[0]
    assert "Lancashire Women" in also
    assert "A public page (2014) says it takes people registered with a GP in Blackburn with Darwen" in yours


def test_json_and_plain_text_agree_on_the_order(capsys):
    assert main(["search", "BB1 7DJ", "--kind", "nhs", "--json"]) == 0
    covering = [r for r in json.loads(capsys.readouterr().out)["results"] if r["coverage"] == "covers"]
    roles = [r["role"] for r in covering]
    assert roles[0] == "lead" and roles[-1] == "specialist"


@pytest.mark.parametrize(
    ("postcode", "provider"),
    [
        ("RM17 6SL", "Midlands Partnership University NHS Foundation Trust"),  # Thurrock
        ("M33 7XX", "Greater Manchester Mental Health NHS Foundation Trust"),  # Trafford
    ],
)
def test_under_a_local_name_the_figures_are_said_to_be_the_providers(postcode, provider, capsys):
    """NHS England publishes one set of figures per provider: under Thurrock's own name, the IPT
    and recovery figures of all Midlands Partnership's services are not said to be Thurrock's."""
    from finder import presentation
    from finder.oruk.mapping import service_description

    _, yours = _yours(postcode)
    first = yours[0]
    assert first["offers_ipt"] is True and first["service_name"] != first["public_service_name"]
    card = presentation.result_card(first, None)
    assert card.run_by == presentation.md_escape(f"Run by {provider}")  # "its provider", named above
    assert card.ipt.startswith("Its provider delivered Interpersonal Therapy (IPT) to")
    assert "across all its services" in card.ipt and "ask whether IPT is offered where you live" in card.ipt
    assert "across all its provider's services" in card.outcomes
    assert "across all its provider's services" in service_description(first)
    rows = list(csv.reader(io.StringIO(presentation.results_csv([first]).decode("utf-8-sig"))))
    assert dict(zip(*rows, strict=True))["The IPT and recovery figures are for"] == (
        f"All of {provider}'s services together"
    )
    main(["search", postcode, "--kind", "nhs", "--limit", "3"])
    assert "IPT: yes (its provider's figures, for all its services)" in capsys.readouterr().out


def test_a_provider_known_by_one_name_keeps_its_own_figures(capsys):
    _, yours = _yours("LS6 3QG")
    leeds = yours[0]
    from finder import presentation

    card = presentation.result_card(leeds, None)
    assert card.ipt.startswith("Delivered Interpersonal Therapy (IPT) to") and "provider" not in card.ipt
    assert "provider" not in (card.outcomes or "")
    rows = list(csv.reader(io.StringIO(presentation.results_csv([leeds]).decode("utf-8-sig"))))
    assert dict(zip(*rows, strict=True))["The IPT and recovery figures are for"] == ""
    main(["search", "LS6 3QG", "--kind", "nhs", "--limit", "3"])
    assert "its provider's figures" not in capsys.readouterr().out


def _covering_ids(query=None, **options):
    response, yours = _yours(query, **options)
    return response, [r["id"] for r in yours]


@pytest.mark.parametrize(
    ("postcode", "district", "yours", "not_yours"),
    [
        # North Yorkshire lies in four sub-ICBs: Bradford's service is for its Craven part only,
        # the Briary Unit (headquarters only) for the Harrogate part it stands in.
        ("HG1 1AA", "North Yorkshire", "RX3YE", "TAD"),
        ("BD23 1UD", "North Yorkshire", "TAD", "RX3YE"),
        # Hart lies in two: TalkPlus takes the Fleet surgeries, italk the Hook and Odiham ones.
        ("GU51 3HA", "Hart", "NCH", "RW1"),
        ("RG27 9HY", "Hart", "RW1", "NCH"),
    ],
)
def test_in_a_district_split_between_nhs_areas_a_service_for_the_other_part_is_not_yours(
    postcode, district, yours, not_yours
):
    response, ids = _covering_ids(postcode)
    assert response.query.area.district_name == district and response.query.area.sub_icb_code
    assert ids and ids[0] == yours
    assert not_yours not in ids


def test_where_the_part_is_not_known_both_parts_services_are_shown_with_their_parts():
    # RG29 1BA's ward lies in both of Hart's NHS areas: each service says which surgeries it takes.
    response, yours = _yours("RG29 1BA")
    assert response.query.area is None
    assert {"NCH", "RW1"} <= {r["id"] for r in yours}
    assert all(r["coverage_part"] for r in yours if r["id"] in ("NCH", "RW1"))


def test_a_surgery_in_cravens_part_of_north_yorkshire_is_not_given_harrogates_service():
    _, ids = _covering_ids(gp="B82053")  # Skipton, sub-ICB 36J
    assert ids[0] == "TAD" and "RX3YE" not in ids


def test_a_choice_is_offered_only_between_general_services():
    """Derby's equal providers are a real choice; in Trafford the general service comes first and
    a site known only by its headquarters follows it without the promise that it will take you."""
    from finder import presentation

    def yours(postcode):
        groups = presentation.group_results(search(postcode, kind="nhs").results)
        return next(g for g in groups if g.key == "yours")

    derby, trafford = yours("DE1 1AA"), yours("M33 7XX")
    assert sum(e.record["role"] == "lead" for e in derby.entries) > 1
    assert derby.intro == presentation.CHOOSE_INTRO
    assert [e.record["role"] == "lead" for e in trafford.entries][:2] == [True, False]
    assert trafford.intro == presentation.FIRST_INTRO and "choose" not in trafford.intro
