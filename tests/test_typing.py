"""What people type: place names several places share, and the ways a postcode arrives from a
keyboard or a paste. Expectations come from the embedded place table (data/), not a list here."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from finder import gp, place_input, postcodes
from finder.errors import PostcodeError
from finder.postcodes import lookup


def shared_names() -> list[str]:
    """Every name the place table says several places share."""
    t = postcodes.tables()
    return sorted(str(row["name"]) for row in t.places.values() if row.get("same_name_elsewhere"))


def variants_of(name: str) -> list[dict]:
    return postcodes.tables().place_variants[postcodes.place_key(name)]


def test_the_table_holds_shared_names_to_test():
    assert len(shared_names()) >= 20


@pytest.mark.parametrize("name", shared_names())
def test_a_shared_name_lists_its_places_instead_of_picking_one(name):
    told_apart = postcodes.shared_name_places(name, postcodes.tables())
    if len(told_apart) == 1:  # "New Quay" and "Newquay": the spelling says which
        assert lookup(name).postcode == told_apart[0]["name"]
        return
    with pytest.raises(PostcodeError) as caught:
        lookup(name)
    assert caught.value.reason == "ambiguous"
    for place in variants_of(name):
        assert f"{place['name']} ({place['country']})" in str(caught.value)


def test_alford_in_lincolnshire_is_never_told_it_is_in_scotland(run_cli):
    done = run_cli("search", "Alford")
    assert done.returncode == 2
    assert (
        "Alford, Lincolnshire (England)" in done.stderr and "Alford, Aberdeenshire (Scotland)" in done.stderr
    )
    assert "Traceback" not in done.stderr


def test_new_quay_and_newquay_are_told_apart():
    welsh, cornish = lookup("New Quay"), lookup("Newquay")
    assert (welsh.country, cornish.country) == ("Wales", "England")
    assert "Cornwall" in cornish.postcode and "Ceredigion" in welsh.postcode
    assert lookup("NEWQUAY").postcode == cornish.postcode and lookup("new quay").postcode == welsh.postcode


@pytest.mark.parametrize("name", shared_names())
def test_each_listed_place_can_be_searched_by_its_listed_name(name):
    for place in variants_of(name):
        found = lookup(str(place["name"]))
        assert (found.lat, found.lon) == (place["lat"], place["lon"])


def test_the_app_choices_are_the_places_of_the_name():
    t = postcodes.tables()
    labels = [c.label for c in place_input.choices("St Ives", t)]
    assert labels[:2] == [postcodes.place_label(v) for v in variants_of("St Ives")]
    assert [c.label for c in place_input.choices("Newquay", t)] == ["Newquay, Cornwall"]


def test_kingston_upon_hull_finds_hull():
    assert lookup("Kingston upon Hull").postcode == lookup("Hull").postcode


# --- a postcode as people type or paste it ------------------------------------------------------

WAYS_OF_TYPING = [
    "LS6 3QG.",
    "(LS6 3QG)",
    "'LS6 3QG'",
    '"LS6 3QG"',
    "LS6-3QG",
    "ls6–3qg",
    "LS6 3QG, Leeds",
    "14 Headingley Lane, LS6 3QG",
    "ＬＳ６ ３ＱＧ",
    "\ufeffLS6 3QG",
    "LS6\u00ad 3QG",
    "LS6\u200b3QG",
    "LS6 3QG\u200b",
]


@pytest.mark.parametrize("typed", WAYS_OF_TYPING)
def test_ordinary_typing_gives_the_postcode(typed):
    assert lookup(typed).postcode == "LS6 3QG"
    assert str(place_input.prepare(typed).query).upper().replace(" ", "") == "LS63QG"


_FULL_WIDTH = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}


@settings(max_examples=200, deadline=None)
@given(
    postcode=st.sampled_from(["LS6 3QG", "SW1A 1AA", "M1 1AE", "TS18 1HU"]),
    before=st.sampled_from(["", "(", "'", '"', "\ufeff", "\u200b", " ", "“"]),
    after=st.sampled_from(["", ")", "'", '"', ".", ",", "\u200b", " ", "”", ", Leeds", ", England"]),
    join=st.sampled_from([" ", "", "-", "\u00ad ", "\u200b", "  "]),
    wide=st.booleans(),
    lower=st.booleans(),
)
def test_any_wrapping_of_a_postcode_reads_as_that_postcode(postcode, before, after, join, wide, lower):
    outward, inward = postcode.split()
    typed = f"{before}{outward}{join}{inward}{after}"
    typed = typed.lower() if lower else typed
    typed = "".join(_FULL_WIDTH.get(ch, ch) for ch in typed) if wide else typed
    parsed = postcodes.parse_query(typed)
    assert (parsed.kind, parsed.text) == ("postcode", postcode)


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(["Leeds", "King's Lynn", "Hull", "Berwick-upon-Tweed", "St Ives, Cornwall"]))
def test_a_town_in_quotes_or_brackets_is_the_town(name):
    expected = lookup(name).postcode
    for typed in (f"({name})", f"'{name}'", f"{name}.", f"\ufeff{name}", f"“{name}”"):
        assert lookup(typed).postcode == expected


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(shared_names()), st.sampled_from(["", ".", " ", "  "]), st.booleans())
def test_a_shared_name_never_resolves_to_one_place_by_accident(name, tail, upper):
    typed = (name.upper() if upper else name) + tail
    told_apart = postcodes.shared_name_places(typed, postcodes.tables())
    try:
        found = lookup(typed)
    except PostcodeError as error:
        assert error.reason == "ambiguous"
    else:
        assert len(told_apart) == 1 and found.postcode == told_apart[0]["name"]


@pytest.mark.parametrize("typed", ["W1", "ZZ9 9ZZ", "ZZ9"])
def test_a_refusal_never_suggests_what_was_typed(typed):
    with pytest.raises(PostcodeError) as caught:
        lookup(typed)
    message = str(caught.value)
    assert f"({postcodes.parse_query(typed).text})" not in message and "first half" not in message


@pytest.mark.parametrize("typed", ["a", "x", "!!! a", ". , -", "a b c", "- x -"])
def test_gp_search_ignores_lone_letters_and_punctuation(typed):
    assert gp.find_practices(typed) == []
