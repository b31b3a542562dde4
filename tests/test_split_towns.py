"""A town (or outcode) whose postcodes lie in several districts: a service for one of those
districts is never presented as the person's own; it is a service for part of the place, and the
person is asked for a postcode or GP surgery. Expectations come from data/ (the area tables and the
services' areas), not from names written here."""

from __future__ import annotations

import numpy as np
import pytest

from finder import coverage, postcodes
from finder import presentation as fmt
from finder import search as finder_search


def served_districts(result: dict) -> set[str]:
    return {row["code"] for row in result.get("areas_served") or ()}


@pytest.mark.parametrize("town", ["Hastings", "York"])
def test_a_split_town_never_puts_one_districts_service_under_your_area(town, run_cli):
    where = postcodes.lookup(town)
    districts = {a.district_code for a in where.area_candidates}
    assert where.area is None and len(districts) > 1  # the data still splits this town
    response = finder_search.search(town, kind="nhs", limit=50)
    for result in response.results:
        if result.get("coverage") == "covers":  # only a service for every part of the town
            assert districts <= served_districts(result), result["name"]
    part = [r for r in response.results if r.get("coverage") == "covers_part"]
    assert part, "the services for parts of the town are still shown"
    groups = {g.key: g for g in fmt.group_results(response.results)}
    assert "part" in groups and not groups["part"].folded
    assert "postcode" in (groups["part"].intro or "") and "GP surgery" in (groups["part"].intro or "")
    for entry in groups.get("yours", fmt.ResultGroup(key="", heading="", entries=(), folded=True)).entries:
        assert districts <= served_districts(dict(entry.record))
    assert "Parts of this place" in run_cli("search", town, "--kind", "nhs").stdout


def test_a_postcode_in_the_town_is_not_told_about_parts():
    response = finder_search.search("TN34 1AA", kind="nhs", limit=50)
    assert not [r for r in response.results if r.get("coverage") == "covers_part"]


def test_a_service_for_every_district_of_the_place_is_still_the_persons():
    records = [
        {"id": "all", "kind": "nhs", "areas_served": [{"code": "A", "confidence": "high"}, {"code": "B"}]},
        {"id": "one", "kind": "nhs", "areas_served": [{"code": "A", "confidence": "high"}]},
    ]
    index = coverage.CoverageIndex(records)
    person = coverage.PersonArea(districts=frozenset({"A", "B"}), icbs=frozenset(), settled=False)
    tiers = coverage.classify(index, person, eligible=np.ones(2, dtype=bool))
    assert tiers.partial == frozenset({1})
    settled = coverage.classify(
        index,
        coverage.PersonArea(districts=frozenset({"A", "B"}), icbs=frozenset()),
        np.ones(2, dtype=bool),
    )
    assert settled.partial == frozenset()


@pytest.mark.parametrize("town", ["Oldham", "Fleet"])
def test_a_split_town_shows_its_parts_services_before_those_for_one_group(town, run_cli):
    """Oldham (the town) lies in Oldham, Rochdale and Salford: a Greater Manchester service for
    male survivors of sexual abuse covers all three, the boroughs' own services each one part. The
    boroughs' services come first, in the JSON, the app's groups and the plain text alike, and
    the person is not told that no service is known: each part has one."""
    response = finder_search.search(town, kind="nhs", limit=50)
    assert response.query.area is None and len(response.query.area_candidates) > 1
    covering = [r for r in response.results if r["coverage"] in ("covers", "covers_part")]
    kinds = [r["role"] == "specialist" for r in covering]
    assert kinds == sorted(kinds), [r["name"] for r in covering]  # one group's services last
    assert "no_covering_service" not in {n.code for n in response.notices}
    keys = [g.key for g in fmt.group_results(response.results)]
    assert "part" in keys
    if "also" in keys:
        assert keys.index("part") < keys.index("also")
    text = run_cli("search", town, "--kind", "nhs").stdout
    headings = [line for line in text.splitlines() if line and not line.startswith((" ", "note:", "Near"))]
    assert headings == list(dict.fromkeys(headings)), headings  # each group once
    assert headings[0].startswith("Parts of this place")
    if "also" in keys:
        assert headings.index(fmt.GROUP_ALSO) > 0
