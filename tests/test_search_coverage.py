"""The answer to "which service will take me?" on the committed data/: the services covering the
person's area come first, whatever the distance to their registered office.

Cases from the coverage issue, each one a person who was sent to the wrong service before."""

import json

import pytest

from finder.cli import main
from finder.search import search


def nhs(query, **options):
    return search(query, kind="nhs", radius_miles=options.pop("radius_miles", 10), limit=200, **options)


def ids_with(response, tier):
    found = set()
    for result in response.results:
        if result["coverage"] == tier:
            found.add(result["id"])
            found.update(item["id"] for item in result["delivered_with"])
    return found


def test_leeds_sees_the_leeds_service_first():
    response = nhs("LS1 4AP")
    assert response.results[0]["id"] == "RY6"
    assert response.results[0]["coverage"] == "covers"
    assert response.query.area.district_name == "Leeds"


def test_nottingham_city_service_covers_nottingham_though_registered_in_harrogate():
    assert "NDC08" in ids_with(nhs("NG1 5FS"), "covers")


def test_harrogate_is_not_told_that_nottingham_or_darlington_services_cover_it():
    covers = ids_with(nhs("HG1 1AA"), "covers")
    assert covers, "North Yorkshire has a covering service"
    assert not covers & {"NDC08", "NDC09", "NDC14"}


def test_derby_is_covered_by_vitaminds_whose_office_is_in_london():
    response = nhs("DE1 1AA")
    covering = [r for r in response.results if r["coverage"] == "covers"]
    assert "NWC11" in ids_with(response, "covers")
    assert any(r["distance_miles"] and r["distance_miles"] > 50 for r in covering)
    tiers = [r["coverage"] for r in response.results]
    assert tiers == sorted(tiers, key=["covers", "national", "same_icb", "elsewhere"].index)


def test_a_general_service_comes_before_specialists_in_manchester():
    response = nhs("M13 9PL")
    assert response.results[0]["role"] != "specialist"
    lgbt = [r for r in response.results if "LGBT" in r["name"]]
    assert lgbt and all(r["audience"] for r in lgbt)


def test_the_isles_of_scilly_get_the_cornwall_service_not_a_national_one():
    first = nhs("TR21 0JW").results[0]
    assert first["coverage"] == "covers"
    assert "Isles of Scilly" in first["coverage_evidence"] or first["id"] in ("RJ8", "AM5")
    assert first["id"] not in ("AM7", "AM601")


def test_a_service_that_has_probably_ended_is_never_offered():
    for query in ("DL1 1AA", "LS1 4AP", "NG1 5FS"):
        assert not [r for r in nhs(query, radius_miles=400).results if r["probably_ended"]]


def test_online_self_referral_only_for_services_that_take_the_person():
    response = search("M1 1AE", kind="nhs", radius_miles=100, self_referral_online=True, limit=100)
    assert all(r["coverage"] == "covers" for r in response.results)


def test_national_services_say_who_they_are_for_and_never_replace_a_local_one():
    for query in ("LS1 4AP", "TR21 0JW", "M13 9PL", "BA1 1AA"):
        response = nhs(query)
        national = [r for r in response.results if r["coverage"] == "national"]
        assert {r["id"] for r in national} >= {"AM7"}
        # SignHealth is for Deaf people who use BSL; ieso only where a local service offers it.
        assert all(
            r["role"] in ("specialist", "digital") and (r["audience"] or r["role"] == "digital")
            for r in national
        )
        if any(r["coverage"] == "covers" for r in response.results):
            assert response.results[0]["coverage"] == "covers"


def test_a_district_without_a_known_general_service_says_so():
    # Brighton and Hove: the shared README knows no general service; only a service whose role is
    # unclear is registered there, shown as one that may cover it.
    response = nhs("BN1 1AA")
    codes = {n.code for n in response.notices}
    assert "no_covering_service" in codes
    covering = [r for r in response.results if r["coverage"] == "covers"]
    assert covering and all(r["role"] not in ("lead", "specialist") for r in covering)
    assert "may cover it" in next(n for n in response.notices if n.code == "no_covering_service")


def test_hastings_now_names_east_sussexs_own_service():
    response = nhs("TN34 1AA")
    assert "no_covering_service" not in {n.code for n in response.notices}
    assert response.results[0]["service_name"] == "Health in Mind (East Sussex NHS Talking Therapies)"


def test_the_gp_route_searches_from_the_gps_area(capsys):
    assert main(["search", "--gp", "A81001", "--kind", "nhs", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    first = payload["results"][0]
    assert first["coverage"] == "covers"
    assert any(row["name"] == "Stockton-on-Tees" for row in first["areas_served"])
    assert payload["query"]["area"]["sub_icb_code"] == "16C"


def test_plain_text_groups_your_area_first(capsys):
    assert main(["search", "LS1 4AP", "--kind", "nhs"]) == 0
    out = capsys.readouterr().out
    assert out.index("Your area") < out.index("Anywhere in England")


@pytest.mark.parametrize("query", ["LS1 4AP", "NG1 5FS", "DE1 1AA", "M13 9PL"])
def test_one_entry_per_service(query):
    response = nhs(query, radius_miles=30)
    shown = [r["id"] for r in response.results]
    folded = [item["id"] for r in response.results for item in r["delivered_with"]]
    assert len(shown) == len(set(shown))
    assert not set(shown) & set(folded)


def test_a_postcode_in_a_split_ward_shows_both_nhs_areas_services_and_says_why():
    response = nhs("LE7 4ZF")  # Charnwood: its ward lies in two sub-ICB locations
    assert {a.sub_icb_code for a in response.query.area_candidates} == {"03W", "04V"}
    codes = {n.code for n in response.notices}
    assert "split_district" in codes and "area_approximate" not in codes
    assert any(r["coverage"] == "covers" for r in response.results)


def test_a_town_spanning_districts_says_the_area_is_approximate():
    response = nhs("Leeds")  # the town's postcode districts reach into neighbouring districts
    assert response.query.area is None and len({a.district_code for a in response.query.area_candidates}) > 1
    assert "area_approximate" in {n.code for n in response.notices}
    # Leeds's service serves part of the town only: listed for part of it, not as the person's own.
    assert "RY6" in ids_with(response, "covers_part") and "RY6" not in ids_with(response, "covers")


def test_plain_text_never_titles_a_service_by_a_bare_site_name(capsys):
    assert main(["search", "LS1 4AP", "--kind", "nhs", "--radius-miles", "15"]) == 0
    out = capsys.readouterr().out
    titles = [line for line in out.splitlines() if "[nhs;" in line]
    assert titles and not [t for t in titles if "  Fieldhead Hospital  [" in t]


def _postcode_in_every_english_district() -> list[str]:
    """One full postcode with a position in each English district of the embedded tables."""
    import numpy as np

    from finder import postcodes

    t = postcodes.tables()
    english = (t.country == postcodes.COUNTRIES.index("England")) & (t.lat_e6 != postcodes.MISSING_E6)
    rows = english.nonzero()[0]
    _, first = np.unique(t.district[rows], return_index=True)
    return [postcodes.decode_key(int(t.keys[rows[i]])) for i in first]


def test_the_first_search_in_every_district_is_the_answer_worked_out_afresh(monkeypatch):
    """What is worked out for each district when the data loads (the covering order, the local
    names) gives every district the same answer as working it out at the time of the search."""
    from finder import search as search_module
    from finder import store

    prepared = search_module._load_dataset(store.data_dir())
    fresh = search_module.Dataset(prepared.records, prepared.coverage.parts)
    queries = _postcode_in_every_english_district()
    assert len(queries) >= 296
    for query in queries:
        answers = []
        for data in (prepared, fresh):
            monkeypatch.setattr(search_module, "dataset", lambda data=data, **_: data)
            answers.append(
                [json.dumps(search(query, kind=kind, limit=50).to_json()) for kind in ("nhs", "all")]
            )
        assert answers[0] == answers[1], query
    assert prepared.coverage.tiers_cache and not set(fresh.coverage.tiers_cache) - set(
        prepared.coverage.tiers_cache
    )
