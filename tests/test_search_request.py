"""SearchRequest: the one description of a search, read from a shared link or the CLI's options."""

import argparse

import pytest
from hypothesis import given
from hypothesis import strategies as st

from finder import cli
from finder.errors import FinderError
from finder.search import KINDS, MAX_QUERY_CHARS, MAX_RADIUS_MILES, MODES, SearchRequest

requests = st.builds(
    SearchRequest,
    query=st.text(max_size=MAX_QUERY_CHARS).map(str.strip),
    gp=st.none() | st.from_regex(r"[A-Z][0-9]{5}", fullmatch=True),
    radius_miles=st.floats(min_value=0.01, max_value=MAX_RADIUS_MILES) | st.sampled_from([1, 10, 50]),
    kind=st.sampled_from(KINDS),
    mode=st.sampled_from(MODES),
    ipt=st.booleans(),
    ipt_include_website=st.booleans(),
    self_referral_online=st.booleans(),
    limit=st.integers(min_value=1, max_value=500),
)


@given(requests)
def test_a_request_survives_the_trip_through_a_link(request):
    params = request.to_query_params()
    assert all(isinstance(value, str) for value in params.values())
    assert SearchRequest.from_query_params(params) == request


def test_defaults_are_left_out_of_the_link():
    assert SearchRequest(query="CV1 1AH").to_query_params() == {"q": "CV1 1AH"}
    assert SearchRequest().to_query_params() == {}
    link = SearchRequest(query="Leeds", radius_miles=20, ipt=True, mode="online").to_query_params()
    assert link == {"q": "Leeds", "r": "20", "ipt": "1", "mode": "online"}


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"q": "CV1 1AH", "r": "many"}, "The distance in the link (r) must be a number of miles"),
        ({"q": "CV1 1AH", "r": "nan"}, "The distance in the link (r) must be more than 0"),
        ({"q": "CV1 1AH", "r": "-5"}, "The distance in the link (r) must be more than 0"),
        (
            {"q": "CV1 1AH", "kind": "nhsx"},
            "What to show in the link (kind) must be one of all, nhs, private",
        ),
        ({"q": "CV1 1AH", "ipt": "yes"}, "Delivers IPT in the link (ipt) must be 1 (yes) or 0 (no)"),
        ({"q": "x", "gp": "surgery"}, "The GP surgery in the link (gp) must be a GP practice code"),
        ({"q": "x", "limit": "2.5"}, "How many results in the link (limit) must be a whole number"),
    ],
)
def test_a_bad_value_in_a_link_is_one_plain_line(params, words):
    with pytest.raises(FinderError) as raised:
        SearchRequest.from_query_params(params)
    message = str(raised.value)
    assert message.startswith(words)
    assert "\n" not in message


def test_a_mangled_link_still_gives_what_it_can():
    request = SearchRequest.from_shared_link({"q": " CV1 1AH ", "r": "inf", "ipt": "1", "kind": "?"})
    assert request == SearchRequest(query="CV1 1AH", ipt=True)


def test_a_parameter_given_twice_counts_once_as_browsers_do():
    assert SearchRequest.from_query_params({"q": ["Leeds", "York"], "r": ["5"]}) == SearchRequest(
        query="York", radius_miles=5
    )


@pytest.mark.parametrize(
    "fields",
    [{"radius_miles": 0}, {"radius_miles": 5000}, {"kind": "x"}, {"mode": "x"}, {"limit": 0}, {"gp": "12"}],
)
def test_a_request_checks_its_own_values(fields):
    with pytest.raises(FinderError):
        SearchRequest(query="CV1 1AH", **fields)


def test_a_practice_code_is_read_in_capitals():
    assert SearchRequest(gp=" a81001 ").gp == "A81001"


def test_the_cli_refuses_a_bad_radius_in_one_line(capsys):
    assert cli.main(["search", "CV1 1AH", "--radius-miles", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert "radius must be more than 0" in err and "\n" not in err


def test_the_cli_uses_the_request_defaults():
    from finder.cli.commands import search as command

    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    assert command.request_from(parser.parse_args(["CV1 1AH"])) == SearchRequest(query="CV1 1AH")
