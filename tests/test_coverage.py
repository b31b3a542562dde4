"""Which services will take a person: tiers, order of evidence, and partners folded into leads.

These tests use small made-up records in the shape of data/services.json; the real-data checks
(Leeds, Derby, Harrogate, the Isles of Scilly, every English district) are in test_search.py and
test_nhs_dataset.py."""

import numpy as np

from finder import coverage


def service(code, *, areas=(), national=False, icb="QWO", role="lead", lead=None, ended=False, **extra):
    return {
        "id": code,
        "kind": "nhs",
        "name": f"Registered {code}",
        "service_name": extra.pop("service_name", None),
        "icb_code": icb,
        "national": national,
        "role": role,
        "lead_id": lead,
        "probably_ended": ended,
        "areas_served": [
            {
                "code": d,
                "name": d,
                "basis": basis,
                "confidence": conf,
                "evidence": f"{code} serves {d}",
                "part": None,
                "local_service_name": None,
            }
            for d, basis, conf in areas
        ],
        **extra,
    }


LEEDS, BRADFORD, YORK = "E08000035", "E08000032", "E06000014"


def tiers_for(records, districts, icbs=("QWO",)):
    index = coverage.CoverageIndex(records)
    person = coverage.PersonArea(districts=frozenset(districts), icbs=frozenset(icbs))
    result = coverage.classify(index, person, np.ones(len(records), dtype=bool))
    return {r["id"]: coverage.TIERS[t] for r, t in zip(records, result.tier, strict=True)}, result


def test_a_service_serving_the_district_covers_whatever_its_headquarters():
    records = [
        service("RY6", areas=[(LEEDS, "name", "high")]),
        service("NDC08", areas=[("E06000018", "name", "high")], icb="QT1"),  # Nottingham, far away
    ]
    tiers, result = tiers_for(records, {LEEDS})
    assert tiers == {"RY6": "covers", "NDC08": "elsewhere"}
    assert result.covering_rows[0]["evidence"] == "RY6 serves E08000035"


def test_national_services_and_same_icb_services_with_unknown_areas():
    records = [
        service("RY6", areas=[(LEEDS, "name", "high")]),
        service("AM7", national=True, role="specialist", icb="QF7"),
        service("HQONLY", areas=[(BRADFORD, "hq_area", "low")]),
        service("KNOWN", areas=[(BRADFORD, "name", "high")]),
    ]
    tiers, _ = tiers_for(records, {LEEDS})
    # The same ICB's service whose areas are known (Bradford's) is not for a Leeds person.
    assert tiers == {"RY6": "covers", "AM7": "national", "HQONLY": "same_icb", "KNOWN": "elsewhere"}


def test_with_no_covering_service_every_service_in_the_icb_is_the_lead():
    records = [service("KNOWN", areas=[(BRADFORD, "name", "high")]), service("OTHER", icb="QOQ")]
    tiers, result = tiers_for(records, {YORK})
    assert not result.any_covering
    assert tiers == {"KNOWN": "same_icb", "OTHER": "elsewhere"}


def test_the_surest_evidence_row_is_the_one_reported():
    records = [service("X", areas=[(LEEDS, "hq_area", "low"), (BRADFORD, "catchment", "medium")])]
    _, result = tiers_for(records, {LEEDS, BRADFORD})
    assert result.covering_rows[0]["basis"] == "catchment"
    assert coverage.evidence_rank(result.covering_rows[0]) == coverage.CONFIDENCE_RANK["medium"]


def test_an_ineligible_service_never_covers():
    records = [service("OLD", areas=[(LEEDS, "name", "high")], ended=True)]
    index = coverage.CoverageIndex(records)
    person = coverage.PersonArea(districts=frozenset({LEEDS}), icbs=frozenset({"QWO"}))
    result = coverage.classify(index, person, ~index.ended)
    assert not result.any_covering


def _result(record, tier="covers"):
    return {**record, **coverage.coverage_fields(coverage.TIERS.index(tier), record["areas_served"][0])}


def test_partners_fold_into_their_lead_which_takes_the_partners_place():
    lead = service("LEAD", areas=[(YORK, "name", "high")], service_name="York Talking Therapies")
    partner = service("P1", areas=[(LEEDS, "catchment", "high")], role="partner", lead="LEAD")
    site = service("S1", areas=[(LEEDS, "name", "high")], role="site", lead="LEAD", service_name="Site")
    other = service("OTHER", areas=[(LEEDS, "name", "high")])
    folded = coverage.fold_into_leads(
        [_result(partner), _result(other), _result(site), _result(lead, "elsewhere")],
        lambda code: {**lead, "distance_miles": 20.0} if code == "LEAD" else None,
    )
    assert [r["id"] for r in folded] == ["LEAD", "OTHER"]
    assert folded[0]["coverage"] == "covers"
    assert folded[0]["coverage_evidence"].startswith("Through Registered P1:")
    assert folded[0]["delivered_with"] == [
        {"id": "P1", "name": "Registered P1", "role": "partner"},
        {"id": "S1", "name": "Site", "role": "site"},
    ]
    assert folded[0]["distance_miles"] == 20.0  # the lead's own distance, not its partner's


def test_a_partner_whose_lead_is_not_held_stays_itself():
    partner = service("P1", areas=[(LEEDS, "catchment", "high")], role="partner", lead="GONE")
    folded = coverage.fold_into_leads([_result(partner)], lambda code: None)
    assert [r["id"] for r in folded] == ["P1"]
    assert folded[0]["delivered_with"] == []


def test_a_service_for_only_part_of_the_district_counts_as_less_sure():
    whole = {"code": LEEDS, "basis": "hq_area", "confidence": "low", "part": None}
    part = {"code": LEEDS, "basis": "public_page", "confidence": "medium", "part": "Craven area"}
    assert coverage.evidence_rank(part) == coverage.evidence_rank(whole)  # medium, one step down
    records = [
        service("PART", areas=[(LEEDS, "public_page", "medium")]),
        service("SURE", areas=[(LEEDS, "catchment", "medium")]),
    ]
    records[0]["areas_served"][0]["part"] = "Craven area"
    _, result = tiers_for(records, {LEEDS})
    assert result.rank[0] > result.rank[1]


def test_the_word_only_in_the_evidence_no_longer_makes_a_row_partial():
    # Pennine Care's Oldham evidence: "only the Oldham tab is evidenced" is about the page.
    records = [
        service("RT2", areas=[(LEEDS, "catchment", "high")]),
        service("MIND", areas=[(LEEDS, "name", "high")], role="partner"),
    ]
    records[0]["areas_served"][0]["evidence"] = "Oldham service ...; only the Oldham tab is evidenced"
    _, result = tiers_for(records, {LEEDS})
    assert result.covering.order == (0, 1)


def test_general_services_come_first_then_unclear_ones_then_specialists():
    records = [
        service("SPEC", areas=[(LEEDS, "name", "high")], role="specialist", audience="women"),
        service("UNCLEAR", areas=[(LEEDS, "name", "high")], role="unclear"),
        service("ORPHAN", areas=[(LEEDS, "name", "high")], role="partner", lead=None),
        service("LEAD", areas=[(LEEDS, "hq_area", "low")]),
        service("SITE", areas=[(LEEDS, "name", "high")], role="site", lead="LEAD"),
    ]
    _, result = tiers_for(records, {LEEDS})
    shown = [records[i]["id"] for i in result.covering.order]
    # The lead (and its site, shown as the lead) first even on weaker evidence; the specialist last.
    assert shown[:2] == ["SITE", "LEAD"] and set(shown[2:4]) == {"UNCLEAR", "ORPHAN"} and shown[4] == "SPEC"


def test_the_local_name_is_the_one_used_in_the_persons_district():
    record = service("RXV", areas=[(LEEDS, "name", "high"), (YORK, "name", "high")], service_name="Wigan TT")
    record["areas_served"][0]["local_service_name"] = "Trafford Psychological Therapies"
    rows = record["areas_served"]
    one = coverage.PersonArea(districts=frozenset({LEEDS}), icbs=frozenset())
    assert (
        coverage.local_name_fields(record, rows[:1], one)["service_name"]
        == "Trafford Psychological Therapies"
    )
    both = coverage.PersonArea(districts=frozenset({LEEDS, YORK}), icbs=frozenset())
    assert coverage.local_name_fields(record, rows, both) == {
        "service_name": "Wigan TT",
        "public_service_name": "Wigan TT",
        "local_service_names": ["Trafford Psychological Therapies", "Wigan TT"],
    }
    # From a GP surgery in York, York's name applies, though the sub-ICB also holds Leeds.
    gp = coverage.PersonArea(
        districts=frozenset({LEEDS, YORK}), icbs=frozenset(), own_districts=frozenset({YORK})
    )
    assert coverage.local_name_fields(record, rows, gp)["service_name"] == "Wigan TT"


def test_harrogate_sees_a_partly_covering_service_no_sooner_than_an_equally_sure_one():
    from finder.search import search

    covering = [r for r in search("HG1 1AA", kind="nhs").results if r["coverage"] == "covers"]
    ranks = [
        coverage.evidence_rank({"confidence": r["coverage_confidence"], "part": r["coverage_part"]})
        for r in covering
        if r.get("role") != "specialist"
    ]
    assert covering and ranks == sorted(ranks)


def test_a_row_for_part_of_a_split_district_is_placed_in_the_part_the_evidence_says():
    """Bradford's service covers Bradford (all in sub-ICB 36J) and 'Craven area' of North
    Yorkshire (four sub-ICBs): its Craven row is for 36J's part. A headquarters-only row is for
    the part its headquarters is in; a row for the whole district, and a part that cannot be
    placed, stay for the whole district."""
    split = {"NY": ("42D", "03Q", "36J", "01K"), "BRAD": ("36J",), "LEEDS": ("15F",)}
    records = [
        service("TAD", areas=[("BRAD", "name", "high"), ("NY", "public_page", "medium")]),
        service("HQ", areas=[("NY", "hq_area", "low")]),
        service("WHOLE", areas=[("NY", "name", "high")]),
        service("NOWHERE", areas=[("LEEDS", "name", "high"), ("NY", "public_page", "medium")]),
    ]
    records[0]["areas_served"][1]["part"] = "Craven area"
    records[3]["areas_served"][1]["part"] = "somewhere"
    parts = coverage.part_sub_icbs(
        records, lambda code: split.get(code, ()), lambda record: "42D" if record["id"] == "HQ" else None
    )
    assert parts == {(0, "NY"): frozenset({"36J"}), (1, "NY"): frozenset({"42D"})}
    index = coverage.CoverageIndex(records, parts)
    harrogate = coverage.PersonArea(
        districts=frozenset({"NY"}), icbs=frozenset(), sub_icbs=frozenset({"42D"})
    )
    craven = coverage.PersonArea(districts=frozenset({"NY"}), icbs=frozenset(), sub_icbs=frozenset({"36J"}))
    unknown = coverage.PersonArea(districts=frozenset({"NY"}), icbs=frozenset())

    def ids(person):
        return {records[i]["id"] for i in index.covering(person.districts, person.sub_icbs).order}

    assert ids(harrogate) == {"HQ", "WHOLE", "NOWHERE"}
    assert ids(craven) == {"TAD", "WHOLE", "NOWHERE"}
    assert ids(unknown) == {"TAD", "HQ", "WHOLE", "NOWHERE"}
