"""The accreditation check: statuses, the overall verdict, bad input, and the CLI."""

import json
import os
import socket
from pathlib import Path

import pytest

from finder import accreditation as acc
from finder.errors import FinderError

ROOT = Path(__file__).resolve().parent.parent
NOW = "2026-11-25T12:00:00Z"
LINKS = {r: "https://example.org/search" for r in acc.ALL_REGISTERS}


def query(name="Dr Jane A. Smith-Jones MBACP", number=None):
    return acc.CheckQuery(name, acc.validate_name(name), acc.parse_registration_number(number), NOW)


def entry(name, number=None, status="Registered", level=None, location=None):
    return acc.RegisterEntry(name, number, status, level, location)


def fixed(register, status, **kw):
    return lambda q: acc.RegisterResult(register, status, "https://example.org/r", q.checked_at, "test", **kw)


def run(checkers, name="Jane Smith", number=None):
    return acc.check_therapist(name, number, checkers, links=LINKS, checked_at=NOW)


# --- input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "   ",
        "x" * 500,
        "<script>alert(1)</script>",
        "Jane\x00Smith",
        "https://evil.example/",
        "Dr PhD MBACP",
        "Smith",
        None,
        42,
    ],
)
def test_bad_names_are_refused_with_one_line(bad):
    with pytest.raises(FinderError) as error:
        acc.validate_name(bad)
    assert "\n" not in str(error.value)


def test_a_name_in_another_script_is_asked_for_in_latin_letters():
    with pytest.raises(FinderError, match="Latin letters"):
        acc.validate_name("王 小明")


@pytest.mark.parametrize("bad", ["XYZ123", "PYL", "PYL1234567", "12", "PYL-12-34", "<b>1</b>", "9" * 40])
def test_malformed_registration_numbers_are_refused(bad):
    with pytest.raises(FinderError):
        acc.parse_registration_number(bad)


def test_registration_numbers_are_normalised():
    number = acc.parse_registration_number(" pyl 012345 ")
    assert (number.text, number.kind, number.prefix) == ("PYL012345", "hcpc", "PYL")
    assert acc.parse_registration_number("300001").kind == "digits"
    assert acc.parse_registration_number("NCS14-01401").kind == "ncps"
    assert acc.parse_registration_number(None) is None


@pytest.mark.parametrize(
    "typed,text",
    [("BACP 300001", "300001"), ("HCPC: PYL012345", "PYL012345"), ("NCPS no. NCS14-01401", "NCS14-01401")],
)
def test_a_register_name_typed_before_the_number_is_not_part_of_it(typed, text):
    assert acc.parse_registration_number(typed).text == text


# --- number lookups (HCPC) -------------------------------------------------------------------------


def test_number_lookup_with_matching_name_is_current_with_high_confidence():
    result = acc.judge_number_lookup(
        "HCPC",
        query(number="PYL012345"),
        [entry("Jane Smith-Jones", "PYL012345")],
        url="https://example.org/d",
    )
    assert (result.status, result.confidence) == (acc.CURRENT, acc.CONFIDENCE_HIGH)
    assert result.name_on_register == "Jane Smith-Jones"


def test_number_registered_to_another_name_is_ambiguous_not_current():
    result = acc.judge_number_lookup(
        "HCPC", query(number="PYL012345"), [entry("Robert Brown", "PYL012345")], url="https://example.org/d"
    )
    assert result.status == acc.AMBIGUOUS
    assert result.candidates[0]["name"] == "Robert Brown"


def test_an_answer_for_another_number_is_never_current():
    result = acc.judge_number_lookup(
        "HCPC", query(number="PYL012345"), [entry("Jane Smith-Jones", "PYL012346")], url="https://x.org/"
    )
    assert result.status == acc.AMBIGUOUS and "PYL012346" in result.note
    same = acc.judge_number_lookup(
        "HCPC", query(number="PYL12345"), [entry("Jane Smith-Jones", "PYL012345")], url="https://x.org/"
    )
    assert same.status == acc.CURRENT  # leading zeros are the same number


def test_number_lookup_with_only_a_similar_name_is_never_current():
    result = acc.judge_number_lookup(
        "HCPC",
        query("Janet Smith-Jones", "PYL012345"),
        [entry("Jane Smith-Jones", "PYL012345")],
        url="https://example.org/d",
    )
    assert result.status == acc.AMBIGUOUS


@pytest.mark.parametrize(
    "words,status",
    [
        ("Lapsed", acc.LAPSED_OR_REMOVED),
        ("Struck off", acc.LAPSED_OR_REMOVED),
        ("Suspended", acc.LAPSED_OR_REMOVED),
        ("Not registered", acc.LAPSED_OR_REMOVED),
        ("Registered - conditions of practice apply", acc.CURRENT_WITH_CONDITIONS),
        ("Registered (01/07/2025 to 30/06/2027)", acc.CURRENT),
    ],
)
def test_register_status_words(words, status):
    result = acc.judge_number_lookup(
        "HCPC",
        query(number="PYL012345"),
        [entry("Jane Smith-Jones", "PYL012345", words)],
        url="https://example.org/d",
    )
    assert result.status == status


def test_unknown_status_words_are_a_failed_check_not_a_verdict():
    result = acc.judge_number_lookup(
        "HCPC",
        query(number="PYL012345"),
        [entry("Jane Smith-Jones", "PYL012345", "Pending review")],
        url="https://x.org/",
    )
    assert result.status == acc.CHECK_FAILED


def test_not_found_says_where_and_when_with_a_link():
    result = acc.judge_number_lookup("HCPC", query(number="PYL099999"), [], url="https://example.org/d")
    assert result.status == acc.NOT_FOUND
    assert "Not found on HCPC as of 2026-11-25" in result.note
    assert result.url.startswith("https://")


# --- name searches (BACP, IPT UK) ------------------------------------------------------------------


def test_one_exact_name_is_current_with_medium_confidence():
    result = acc.judge_name_search(
        "BACP",
        query(),
        [entry("Jane Smith-Jones", "300001", level="MBACP (Accred)"), entry("Robert Brown", "300009")],
        url="https://x.org/",
    )
    assert (result.status, result.confidence, result.level) == (
        acc.CURRENT,
        acc.CONFIDENCE_MEDIUM,
        "MBACP (Accred)",
    )


def test_several_people_with_the_name_are_ambiguous_with_every_candidate():
    entries = [entry("Jane Smith", "300002"), entry("Jane Smith", "300003"), entry("Janet Smith", "300004")]
    result = acc.judge_name_search("BACP", query("Jane Smith"), entries, url="https://x.org/")
    assert result.status == acc.AMBIGUOUS
    assert {c["registration_number"] for c in result.candidates} == {"300002", "300003", "300004"}


def test_a_number_picks_the_right_one_of_several():
    entries = [entry("Jane Smith", "300002"), entry("Jane Smith", "300003")]
    result = acc.judge_name_search("BACP", query("Jane Smith", "300003"), entries, url="https://x.org/")
    assert (result.status, result.registration_number, result.confidence) == (acc.CURRENT, "300003", "high")


def test_a_number_held_by_someone_else_is_ambiguous():
    entries = [entry("Jane Smith", "300002"), entry("Robert Brown", "300009")]
    result = acc.judge_name_search("BACP", query("Jane Smith", "300009"), entries, url="https://x.org/")
    assert result.status == acc.AMBIGUOUS
    assert "Robert Brown" in result.note


def test_only_similar_names_are_ambiguous_never_current():
    result = acc.judge_name_search(
        "BACP", query("Jane Smith"), [entry("Janet Smith", "300004")], url="https://x.org/"
    )
    assert result.status == acc.AMBIGUOUS


def test_no_match_is_not_found():
    result = acc.judge_name_search("BACP", query("Jane Smith"), [entry("Robert Brown")], url="https://x.org/")
    assert result.status == acc.NOT_FOUND and "as of 2026-11-25" in result.note


# --- local IPT UK data ---------------------------------------------------------------------------


RECORD = {
    "name": "Jane Smith-Jones",
    "ipt_level": "Level B IPT Practitioner",
    "town": "Leeds",
    "registrations": [{"register": "HCPC", "number": "PYL012345"}],
    "source": "export.csv",
    "last_verified": "2026-11-01",
}


def test_local_ipt_data_finds_a_listed_practitioner_with_level():
    result = acc.local_ipt_check([RECORD], query(), url="https://x.org/")
    assert (result.status, result.level, result.method) == (
        acc.CURRENT,
        "Level B IPT Practitioner",
        acc.METHOD_LOCAL,
    )
    assert "last verified on 2026-11-01" in result.note  # the date of our copy, not today's


def test_without_local_ipt_data_the_answer_is_a_manual_check_not_not_found():
    result = acc.local_ipt_check([], query(), url="https://www.iptuk.net/find-a-therapist.html")
    assert result.status == acc.MANUAL_CHECK


def test_a_number_picks_one_of_two_local_records_that_list_several_registrations():
    other = {**RECORD, "name": "Jane Smith", "registrations": [{"register": "BACP", "number": "300002"}]}
    mine = {
        **RECORD,
        "name": "Jane Smith",
        "ipt_level": "Level C IPT Practitioner",
        "registrations": [
            {"register": "BACP", "number": "300001"},
            {"register": "HCPC", "number": "PYL012345"},
        ],
    }
    result = acc.local_ipt_check([other, mine], query("Jane Smith", "300001"), url="https://x.org/")
    assert (result.status, result.level, result.confidence) == (
        acc.CURRENT,
        "Level C IPT Practitioner",
        acc.CONFIDENCE_HIGH,
    )


def test_a_number_shown_with_its_register_name_confirms_the_entry():
    entries = [entry("Jane Smith", "HCPC PYL012345"), entry("Jane Smith", "BACP 300002")]
    result = acc.judge_name_search("IPT UK", query("Jane Smith", "PYL012345"), entries, url="https://x.org/")
    assert (result.status, result.registration_number) == (acc.CURRENT, "HCPC PYL012345")


def test_local_not_found_gives_the_date_of_our_copy():
    result = acc.local_ipt_check([RECORD], query("Robert Brown"), url="https://x.org/")
    assert result.status == acc.NOT_FOUND and "2026-11-01" in result.note


# --- the overall verdict ---------------------------------------------------------------------------


def test_accredited_only_with_ipt_uk_and_a_current_core_register():
    result = run(
        [("IPT UK", fixed("IPT UK", acc.CURRENT, level="Level B")), ("HCPC", fixed("HCPC", acc.CURRENT))]
    )
    assert result.overall.ipt_accredited
    assert "Level B" in result.overall.verdict and "HCPC" in result.overall.verdict


def test_ipt_uk_alone_is_not_accredited_and_says_what_is_missing():
    result = run(
        [
            ("IPT UK", fixed("IPT UK", acc.CURRENT)),
            ("HCPC", fixed("HCPC", acc.LAPSED_OR_REMOVED)),
            ("BACP", fixed("BACP", acc.CHECK_FAILED)),
        ]
    )
    assert not result.overall.ipt_accredited
    assert len(result.overall.missing) == 1
    assert "HCPC: lapsed or removed" in result.overall.missing[0]
    assert "BACP: the check failed" in result.overall.missing[0]


def test_a_registration_of_another_person_with_the_same_name_does_not_make_an_accreditation():
    ipt = fixed("IPT UK", acc.CURRENT, level="Level B", registration_number="BACP 300005")
    other_jane = fixed("BACP", acc.CURRENT, registration_number="300002")
    result = run([("IPT UK", ipt), ("BACP", other_jane)])
    assert not result.overall.ipt_accredited
    assert "300002" in result.overall.missing[0] and "300005" in result.overall.missing[0]
    same_jane = fixed("BACP", acc.CURRENT, registration_number="300005")
    assert run([("IPT UK", ipt), ("BACP", same_jane)]).overall.ipt_accredited
    # A number IPT UK does not give for that register decides nothing.
    hcpc = fixed("HCPC", acc.CURRENT, registration_number="PYL012345")
    assert run([("IPT UK", ipt), ("HCPC", hcpc)]).overall.ipt_accredited


def test_local_ipt_data_carries_each_registration_with_its_register():
    [ipt_entry] = acc.ipt_entries_from_records([RECORD])
    assert acc.listed_registrations(ipt_entry.registration_number) == {"HCPC": {"PYL012345"}}


def test_core_registration_alone_is_not_accredited():
    result = run([("IPT UK", fixed("IPT UK", acc.AMBIGUOUS)), ("BACP", fixed("BACP", acc.CURRENT))])
    assert not result.overall.ipt_accredited
    assert result.overall.missing[0].startswith("IPT UK accreditation")


def test_a_checker_that_crashes_is_check_failed_never_not_found():
    def broken(q):
        raise RuntimeError("boom")

    result = run([("IPT UK", fixed("IPT UK", acc.CURRENT)), ("HCPC", broken)])
    hcpc = result.result_for("HCPC")
    assert hcpc.status == acc.CHECK_FAILED and hcpc.url.startswith("https://")
    assert not result.overall.ipt_accredited


def test_json_shape_is_the_contract():
    data = run([("HCPC", fixed("HCPC", acc.NOT_FOUND))], number="PYL012345").to_json()
    assert data["query"] == {"name": "Jane Smith", "registration_number": "PYL012345"}
    assert set(data["registers"][0]) == {
        "register",
        "status",
        "level",
        "registration_number",
        "name_on_register",
        "url",
        "checked_at",
        "method",
        "confidence",
        "candidates",
        "note",
    }
    assert set(data["overall"]) == {"ipt_accredited", "verdict", "missing"}
    json.dumps(data)


# --- the CLI -----------------------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def check_cli(run_cli, monkeypatch, tmp_path):
    """`python -m finder check ARGS`, in process, with HOME in tmp_path (where a disk cache would go)."""
    from finder.cli import live

    for name in [k for k in os.environ if k.lower() == "no_proxy"]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    live.default_fetcher.cache_clear()  # a fetcher made for this test's environment

    def run(*args, env_extra=None):
        return run_cli("check", *args, env=env_extra)

    yield run
    live.default_fetcher.cache_clear()


def _assert_no_network_answer(data):
    hcpc = next(r for r in data["registers"] if r["register"] == "HCPC")
    assert hcpc["status"] == "check_failed"
    assert hcpc["url"].startswith("https://www.hcpc-uk.org/") and "PYL012345" in hcpc["url"]
    assert hcpc["checked_at"].startswith("20") and hcpc["registration_number"] == "PYL012345"
    assert all(
        r["status"] not in ("current", "current_with_conditions", "not_found") for r in data["registers"]
    )
    assert all(r["url"].startswith("https://") for r in data["registers"])
    assert data["overall"]["ipt_accredited"] is False


def test_no_network_in_process_cli(monkeypatch, capsys):
    """The real Fetcher with every request sent to a proxy on a closed loopback port."""
    from finder.cli import live, main
    from scrapers.http import Fetcher

    proxy = f"http://127.0.0.1:{_closed_port()}"

    def closed_port_fetcher():
        fetcher = Fetcher(min_interval=0.0, timeout=2.0, retries=0, backoff=0.0, cache_path=None)
        fetcher.session.proxies = {"http": proxy, "https": proxy}  # no request can leave this machine
        return fetcher

    monkeypatch.setattr(live, "default_fetcher", closed_port_fetcher)
    code = main(["check", "Dr Jane A. Smith-Jones MBACP", "--reg", "PYL012345", "--json"])
    assert code == 0
    _assert_no_network_answer(json.loads(capsys.readouterr().out))


def test_no_network_gives_check_failed_with_link_and_never_current(check_cli, tmp_path):
    """End to end with the default fetcher: the environment's proxy settings send every request
    to a closed loopback port, as on a machine with no network."""
    import requests

    from scrapers.http import Fetcher

    if not (requests.Session().trust_env and Fetcher().session.trust_env):
        pytest.skip("the fetcher ignores proxy settings, so this test could reach the real sites")
    proxy = f"http://127.0.0.1:{_closed_port()}"
    env = {
        k: proxy for k in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
    }
    done = check_cli("Dr Jane A. Smith-Jones MBACP", "--reg", "PYL012345", "--json", env_extra=env)
    assert done.returncode == 0, done.stderr
    _assert_no_network_answer(json.loads(done.stdout))
    # What was looked up is never written to disk: no cache file, not in data/ either.
    assert list(tmp_path.rglob("*")) == []
    assert not any("cache" in p.name for p in (ROOT / "data").iterdir())


@pytest.mark.parametrize(
    "args",
    [
        [""],
        ["<img src=x onerror=alert(1)>"],
        ["x" * 5000],
        ["Jane Smith", "--reg", "ABC123"],
        ["Jane Smith", "--reg", "PYL12345678"],
    ],
)
def test_cli_bad_input_exits_2_with_one_line(check_cli, args):
    done = check_cli(*args, "--offline")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_cli_offline_gives_links_and_explains_empty_data(check_cli):
    done = check_cli("Jane Smith", "--offline")
    assert done.returncode == 0, done.stderr
    assert "IPT UK: check by hand" in done.stdout
    assert "import practitioners" in done.stdout
    assert "Not confirmed as IPT accredited" in done.stdout


def test_text_output_never_passes_control_characters_from_a_register_page(monkeypatch, capsys):
    from finder.cli import live, main

    hostile = acc.RegisterEntry("Janet\x1b[2J Smith", "300004", "Registered\x1b]0;x\x07", None, "Leeds\x9b1m")

    def fake_check(name, number=None, **_):
        def bacp(q):
            return acc.judge_name_search("BACP", q, [hostile], url="https://www.bacp.co.uk/search/Register")

        return run([("BACP", bacp)], name=name)

    monkeypatch.setattr(live, "check_therapist", fake_check)
    assert main(["check", "Jane Smith"]) == 0
    out = capsys.readouterr().out
    assert "candidate: Janet" in out and "Leeds" in out
    assert not any(ch in out for ch in "\x1b\x07\x9b")


@pytest.mark.parametrize("number", ["PYL１２３４５", "３０００01"])
def test_registration_numbers_in_other_digit_scripts_are_refused(number):
    with pytest.raises(FinderError, match="ordinary letters and digits"):
        acc.parse_registration_number(number)


@pytest.mark.parametrize(
    "name", ["Jane\u200b Smith", "Jane \udcffSmith", "Jane\x7f Smith", "Jane\u202e Smith"]
)
def test_invisible_or_broken_characters_in_a_name_are_refused(name):
    with pytest.raises(FinderError):
        acc.validate_name(name)
