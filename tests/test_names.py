"""Name normalisation and matching, as a person checking a therapist would notice it."""

import pytest

from finder.names import NameIndex, compare, fold, match_names, parse_name


def test_fold_removes_case_and_accents():
    assert fold("JÁNE Ó’Brien") == "jane o'brien"


@pytest.mark.parametrize(
    "typed,listed",
    [("Lukasz Nowak", "Łukasz Nowak"), ("Soren Odegaard", "Søren Ødegaard"), ("Yildiz Kaya", "Yıldız Kaya")],
)
def test_letters_without_a_decomposed_accent_still_match_their_plain_spelling(typed, listed):
    # Unicode does not decompose ł, ø or dotless ı: folding must not drop them from the name.
    assert compare(parse_name(typed), parse_name(listed)).exact
    assert compare(parse_name(listed), parse_name(typed)).exact


@pytest.mark.parametrize(
    "written",
    [
        "Dr Jane A. Smith-Jones MBACP",
        "Jane Smith-Jones",
        "SMITH-JONES, Jane",
        "Mrs Jane Smith-Jones MBACP (Snr Accred)",
        "Prof. Jane Smith-Jones PhD, DClinPsy, CPsychol",
        "jáne smith-jones",
    ],
)
def test_titles_post_nominals_and_order_do_not_change_the_name(written):
    parsed = parse_name(written)
    assert parsed.first == "jane"
    assert parsed.surname == "smith-jones"


def test_each_part_of_a_hyphenated_surname_matches():
    query = parse_name("Dr Jane A. Smith-Jones MBACP")
    assert compare(query, parse_name("Jane Smith")).exact
    assert compare(query, parse_name("Jane Jones")).exact
    assert compare(parse_name("Jane Jones"), parse_name("Jane Smith-Jones")).exact


def test_middle_names_are_not_required_either_way():
    assert compare(parse_name("Jane A. Smith"), parse_name("Jane Smith")).exact
    assert compare(parse_name("Jane Smith"), parse_name("Jane Alice Smith")).exact


def test_similar_names_are_candidates_but_never_exact():
    query = parse_name("Jane Smith")
    for other in ("Janet Smith", "Jane Smyth", "J Smith"):
        match = compare(query, parse_name(other))
        assert not match.exact
        assert match.candidate, other


def test_different_people_are_not_candidates():
    assert not compare(parse_name("Jane Smith"), parse_name("Robert Brown")).candidate


def test_a_surname_that_looks_like_letters_is_kept():
    assert parse_name("Jane Ma").surname == "ma"
    assert parse_name("Jane Ma PhD").surname == "ma"


def test_a_name_made_only_of_titles_is_rejected():
    with pytest.raises(ValueError):
        parse_name("Dr MBACP PhD")


def test_index_finds_exact_and_close_names_best_first():
    names = ["Robert Brown", "Jane Smith", "Janet Smith", "Jane Smith-Jones", "Jane Smythe"]
    found = match_names("Dr Jane Smith", names)
    ranked = [names[i] for i, _ in found]
    assert ranked[:2] == ["Jane Smith", "Jane Smith-Jones"]
    assert "Robert Brown" not in ranked
    assert all(m.exact for _, m in found[:2]) and not any(m.exact for _, m in found[2:])


def test_index_skips_entries_without_a_name():
    index = NameIndex(["", "Dr", "Jane Smith"])
    assert [i for i, _ in index.matches(parse_name("Jane Smith"))] == [2]
