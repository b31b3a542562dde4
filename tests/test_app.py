"""The Streamlit app, driven through streamlit.testing.v1.AppTest (no browser, no network).

The records here are test-only (names start with "Test"), written to a temporary data directory
that shares the embedded postcode tables; their positions come from real postcodes. Nothing here
writes the committed data/.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sample_records import record
from streamlit.testing.v1 import AppTest

from finder import presentation as fmt
from finder import store, urgent_help
from finder.errors import FinderError, PostcodeError
from finder.presentation import GROUP_HEADINGS

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
TIMEOUT = 60

ENGLAND_2024_25 = {  # NHS England annual report 2024-25, England totals (see the fixture README)
    "recovery_pct": 50.5,
    "reliable_improvement_pct": 67.5,
    "within_6_weeks_pct": 91.6,
}
ENGLAND_2023_24 = {  # the same for 2023-24 (data/nhs_outcomes.json)
    "recovery_pct": 50.1,
    "reliable_improvement_pct": 66.8,
    "within_6_weeks_pct": 90.5,
}
THERAPY_2024_25 = [  # therapy-based outcomes 2024-25, England, Diagnosis Total
    ("Interpersonal Psycho therapy (IPT)", 6816, 48.7, 62.1),
    ("Cognitive Behaviour Therapy (CBT)", 233776, 45.0, 60.7),
    ("Counselling for Depression", 77602, 47.6, 59.3),
    ("Couples Therapy for Depression", 2825, 48.6, 43.3),
    ("Applied relaxation", 80, 50.7, 63.8),
]


def _test_services():
    """The NHS services of the app tests: one that covers Coventry, two elsewhere, and one whose
    fields try to inject HTML and links."""
    services = [
        record(
            "N-COV",
            "nhs",
            "CV1 1AH",
            offers_ipt=True,
            ipt_evidence="test evidence",
            self_referral_url="https://example.org/refer-cov",
            phone="024 7600 0000",
            # It takes people registered with a GP in Coventry, so it is the answer for CV1 1AH.
            areas_served=[
                {
                    "code": "E08000026",
                    "name": "Coventry",
                    "basis": "name",
                    "confidence": "high",
                    "evidence": "test",
                }
            ],
            role="lead",
            outcomes={"period": "2024-25", "recovery_pct": 55.0, "within_6_weeks_pct": 80.0},
        ),
        record(
            "N-BHAM", "nhs", "B1 2AY", offers_ipt=False, self_referral_url="https://example.org/refer-bham"
        ),
        record(
            "N-LEEDS",
            "nhs",
            "LS1 4AP",
            outcomes={"period": "2023-24", "recovery_pct": 51.0, "within_6_weeks_pct": 58.3},
        ),
        record(
            "N-EVIL",
            "nhs",
            "CV2 4DW",
            name="Test <b>bold</b> [click](javascript:alert(1))",
            self_referral_url="javascript:alert(1)",
            website="data:text/html,hi",
            # Bare addresses that Markdown would otherwise turn into links (one hides its host).
            catchment="see https://www.nhs.uk@evil.example/a or www.evil.example",
            email="help@evil.example",
        ),
    ]
    return services


def _test_practitioners():
    """Private practitioners: online, in person, and both."""
    practitioners = [
        record(
            "P-RUGBY",
            "private",
            "CV21 2AA",
            offers_ipt=True,
            ipt_evidence="IPT UK",
            works_online=True,
            town="Rugby",
            registrations=[{"register": "HCPC", "number": "PYL012345"}],
        ),
        record(
            "P-ONLINE",
            "private",
            "EX1 1AA",
            offers_ipt=True,
            ipt_evidence="IPT UK",
            works_online=True,
            works_in_person=False,
        ),
        record("P-INPERSON", "private", "CV3 5AA", offers_ipt=True, ipt_evidence="IPT UK"),
    ]
    return practitioners


def _test_outcomes():
    """England's published outcomes for two years, as the app compares against them."""
    outcomes = {
        "main": {
            "2023-24": {"england": ENGLAND_2023_24, "source": "annual_main_2023-24.csv"},
            "2024-25": {"england": ENGLAND_2024_25, "source": "annual_main_2024-25.csv"},
        },
        "therapy": {
            "2024-25": {
                "source": "therapy_based_outcomes_2024-25.csv",
                "england": [
                    {"therapy_type": t, "courses": c, "recovery_pct": r, "improvement_pct": i}
                    for t, c, r, i in THERAPY_2024_25
                ],
            }
        },
    }
    return outcomes


def build_app_data(directory: Path) -> Path:
    """Fill `directory` with test records and the real postcode tables (linked, not copied)."""
    # The postcode, place and GP tables and the area lookup are the real ones.
    for path in [*(ROOT / "data").glob("*.parquet"), ROOT / "data" / "areas.json"]:
        (directory / path.name).symlink_to(path)
    services, practitioners, outcomes = _test_services(), _test_practitioners(), _test_outcomes()
    manifest = store.read_json("manifest.json", ROOT / "data", default={}) or {}
    store.publish(
        {
            "services.json": store.json_bytes({"schema_version": 1, "records": services}),
            "practitioners.json": store.json_bytes({"schema_version": 1, "records": practitioners}),
            "nhs_outcomes.json": store.json_bytes(outcomes),
            "manifest.json": store.json_bytes(manifest),
        },
        directory=directory,
    )
    return directory


@pytest.fixture(scope="module")
def app_data(tmp_path_factory):
    directory = build_app_data(tmp_path_factory.mktemp("appdata"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(store.DATA_DIR_ENV, str(directory))
        patch.setenv("FINDER_OFFLINE_CHECKS", "1")
        yield directory


def open_page(page="find", **query):
    if page == "find":
        at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    else:
        at = AppTest.from_string(f"import app\napp.main(default={page!r})", default_timeout=TIMEOUT)
    at.query_params.update(query)
    return at.run()


def search(at, text, **options):
    at.text_input(key="fh_query").input(text)
    for key, value in options.items():
        widget = {"online": at.checkbox, "ipt": at.checkbox}.get(key)
        if widget is not None:
            widget(key=f"fh_{key}").check() if value else widget(key=f"fh_{key}").uncheck()
        elif key in ("kind", "mode"):
            at.radio(key=f"fh_{key}").set_value(value)
        elif key == "radius":
            at.select_slider(key="fh_radius").set_value(value)
    at.button(key="fh_search").click()
    return open_folded(at.run())


GROUP_KEYS = ("yours", "also", "national", "nearby", "private")


def open_folded(at):
    """Open every folded group of the answer, as a person clicking each one would (their cards
    are drawn only once opened)."""
    number = at.session_state["fh_new_search"] if "fh_new_search" in at.session_state else 0
    folded = [e for e in at.expander if e.label.rsplit(" (", 1)[0] in GROUP_HEADINGS]
    if not folded:
        return at
    for key in GROUP_KEYS:
        at.session_state[f"fh_group_{key}_{number}"] = True
    return at.run()


def result_names(at):
    return [plain(h.value) for h in at.subheader if h.value.startswith("Test")]


def distances(at):
    found = []
    for m in at.markdown:
        match = re.search(r"([\d.]+) miles? away \(straight line\)", m.value)
        if match:
            found.append(float(match.group(1)))
    return found


def all_text(at):
    parts = [m.value for m in at.markdown] + [m.value for m in at.caption]
    for kind in ("info", "warning", "error", "success"):
        parts += [m.value for m in getattr(at, kind)]
    return plain("\n".join(parts))


def plain(markdown):
    """What a reader sees of escaped Markdown: the backslashes are not shown."""
    return re.sub(r"\\(.)", r"\1", markdown)


def test_valid_postcode_lists_results_nearest_first_in_miles(app_data):
    at = search(open_page(), "CV1 1AH", radius=50)
    assert not at.exception
    names = result_names(at)
    assert names[0] == "Test nhs N-COV"
    assert "Test nhs N-BHAM" in names and "Test nhs N-LEEDS" not in names  # Leeds is ~100 miles away
    shown = distances(at)
    # The service covering Coventry first (its distance says nothing about whether it takes the
    # person, so none is shown), then other NHS services and private practitioners, nearest first.
    assert len(shown) == 5 and shown[:2] == sorted(shown[:2]) and shown[2:] == sorted(shown[2:])
    refer = [b for b in at.get("link_button") if b.proto.url == "https://example.org/refer-cov"]
    assert refer and refer[0].proto.label == "Refer yourself online"
    assert "[024 7600 0000](tel:02476000000)" in all_text(at)


def test_a_service_without_a_referral_link_points_to_the_nhs_finder(app_data):
    at = search(open_page(), "LS1 4AP", radius=5)
    buttons = [b.proto for b in at.get("link_button")]
    # No test service covers Leeds: the NHS finder comes first, and is the card's own action too.
    assert [b.label for b in buttons] == [
        "Find your service on the NHS website",
        "Find how to refer yourself on the NHS website",
    ]
    assert {b.url for b in buttons} == {
        "https://www.nhs.uk/service-search/mental-health/find-an-NHS-talking-therapies-service/"
    }


def test_private_practitioners_show_town_ways_of_working_and_registrations(app_data):
    text = all_text(search(open_page(), "CV21 2AA", radius=1))
    assert "Based in Rugby" in text and "Works in person, online" in text
    assert "Registered with: HCPC PYL012345" in text


def test_a_town_name_works_and_is_said_to_be_approximate(app_data):
    at = search(open_page(), "Coventry", radius=20)
    assert not at.exception
    assert "Test nhs N-COV" in result_names(at)
    assert "Approximate location" in all_text(at)


@pytest.mark.parametrize(
    ("postcode", "nation", "helpline"),
    [
        ("BT1 5GS", "Northern Ireland", "0808 808 8000"),
        ("CF10 1EP", "Wales", "press 2"),
        ("JE2 4WE", "the Channel Islands", "local emergency services"),
    ],
)
def test_other_nations_get_their_own_route(app_data, postcode, nation, helpline):
    at = search(open_page(), postcode, radius=10)
    assert not at.exception
    text = all_text(at)
    assert f"If you live in {nation}" in text and helpline in text and "GP" in text
    assert not [name for name in result_names(at) if "nhs" in name]


def test_long_lists_show_the_nearest_first_and_the_rest_on_request(app_data, monkeypatch):
    monkeypatch.setattr("app_pages.groups.RESULTS_SHOWN", 2)
    at = open_page()
    at = search(at, "CV1 1AH", radius=50)
    assert result_names(at) == ["Test nhs N-COV", "Test <b>bold</b> [click](javascript:alert(1))"]
    more = at.button(key="fh_more_nearby")
    assert more.label == "Show all results"
    more.click()
    assert len(result_names(at.run())) == 6
    assert not [b for b in at.button if (b.key or "").startswith("fh_more")]


def test_outcomes_are_compared_with_the_england_average(app_data):
    at = search(open_page(), "CV1 1AH", radius=5)
    text = all_text(at)
    assert (
        "In 2024-25, 55% recovered (England 50.5%: higher) and 80% started treatment within 6 weeks "
        "(England 91.6%: lower)." in text
    )


@pytest.mark.parametrize(
    "option",
    [
        {"online": True},
        {"ipt": True},
        {"kind": "nhs"},
        {"kind": "private"},
        {"mode": "online"},
        {"mode": "in_person"},
    ],
    ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()),
)
def test_each_filter_narrows_the_list(app_data, option):
    everything = set(result_names(search(open_page(), "CV1 1AH", radius=50)))
    narrowed = set(result_names(search(open_page(), "CV1 1AH", radius=50, **option)))
    assert narrowed and narrowed < everything


def test_invalid_postcode_gets_an_inline_message_and_no_traceback(app_data):
    at = search(open_page(), "CV1 1A1")
    assert not at.exception
    assert any("doesn't look like a UK postcode" in e.value for e in at.error)
    assert result_names(at) == []


def test_a_crafted_link_cannot_inject_markup(app_data):
    at = open_page(q="[x](javascript:alert(1))")
    assert not at.exception
    messages = [e.value for e in at.error]
    # The brackets are escaped, so Markdown shows them as typed instead of making a link.
    assert messages and all("\\[x\\]" in m and not re.search(r"(?<!\\)\]\(", m) for m in messages)


def test_empty_search_asks_for_a_postcode(app_data):
    at = search(open_page(), "   ")
    assert not at.exception
    assert any("Please type a postcode" in e.value for e in at.error)


def test_no_results_suggests_a_wider_radius_and_online_options(app_data):
    at = search(open_page(), "LS1 4AP", radius=1, kind="nhs", ipt=True)
    text = all_text(at)
    assert result_names(at) == []
    assert "wider" in text and "online" in text.lower()


def test_scottish_postcode_explains_the_nation_route_and_still_shows_private_options(app_data):
    at = search(open_page(), "EH1 1YZ", radius=10)
    assert not at.exception
    text = all_text(at)
    assert "If you live in Scotland" in text
    assert "does not cover Scotland" in text and "GP" in text
    assert "NHS 24" in text
    names = result_names(at)
    assert names and all("private" in name for name in names)  # online practitioners, no NHS service


def test_query_parameters_restore_a_search(app_data):
    at = open_page(q="CV1 1AH", r="50", ipt="1", kind="private")
    assert at.text_input(key="fh_query").value == "CV1 1AH"
    assert at.checkbox(key="fh_ipt").value is True
    assert at.radio(key="fh_kind").value == "private"
    restored = result_names(at)
    assert restored and all("private" in name for name in restored)
    typed = result_names(search(open_page(), "CV1 1AH", radius=50, ipt=True, kind="private"))
    assert restored == typed


def test_a_search_is_written_to_the_address_bar(app_data):
    at = search(open_page(), "CV1 1AH", radius=20, online=True)
    assert at.query_params["q"] == "CV1 1AH"
    assert at.query_params["r"] == "20"
    assert at.query_params["online"] == "1"


def test_unsafe_links_and_markup_from_data_are_not_rendered(app_data):
    at = search(open_page(), "CV2 4DW", radius=1)
    assert not any(b.proto.url.startswith(("javascript:", "data:")) for b in at.link_button)
    evil = [m.value for m in [*at.markdown, *at.subheader] if "bold" in m.value]
    assert evil and all("\\<b\\>" in value and "\\[click\\]" in value for value in evil)
    assert "javascript:" not in "".join(m.value for m in at.markdown if "](" in m.value)


def test_outcomes_from_an_earlier_year_are_compared_with_that_year_in_england(app_data):
    text = all_text(search(open_page(), "LS1 4AP", radius=1))
    assert "In 2023-24, 51% recovered (England 50.1%: about the same)" in text
    assert "58.3% started treatment within 6 weeks (England 90.5%: lower)" in text and "91.6%" not in text


@pytest.mark.parametrize("radius", ["inf", "-inf", "1e400", "nan", "many"])
def test_a_mangled_radius_in_a_shared_link_still_searches(app_data, radius):
    at = open_page(q="CV1 1AH", r=radius)
    assert not at.exception
    assert "Test nhs N-COV" in result_names(at)


def test_the_nation_route_is_said_once(app_data):
    text = all_text(search(open_page(), "EH1 1YZ", radius=10))
    assert text.count("does not cover Scotland") == 1
    assert "is for people in England" not in text  # the search's own notice would repeat it


def test_island_routes_read_naturally(app_data):
    text = all_text(search(open_page(), "IM1 1AA", radius=10))
    assert "If you live in the Isle of Man" in text and "does not cover the Isle of Man" in text


def test_nothing_within_the_distance_says_so_and_offers_next_steps(app_data):
    # Newcastle: nothing within 5 miles; only the practitioners who work online are listed.
    at = search(open_page(), "NE1 7RU", radius=5)
    names = result_names(at)
    assert names and all("private" in name for name in names)
    text = all_text(at)
    assert "Nothing matched within 5 miles" in text
    assert "find-an-NHS-talking-therapies-service" in text


def test_an_unexpected_failure_shows_a_calm_message_not_an_error_page(app_data, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("finder.search.search", broken)
    at = search(open_page(), "CV1 1AH")
    assert not at.exception
    assert any("Sorry, something went wrong" in e.value for e in at.error)
    assert "boom" not in all_text(at)
    assert "116 123" in all_text(at)  # urgent help is still there


@pytest.mark.parametrize(
    "failure",
    [
        FinderError("data/services.json is damaged (x); rebuild it with `python -m finder build`"),
        PostcodeError(
            "The postcode tables are missing from data/; build them with "
            "`python -m finder import postcodes PATH`.",
            "no_data",
        ),
    ],
    ids=["damaged-records", "no-postcode-tables"],
)
def test_data_that_cannot_be_read_gives_the_visitor_a_way_on_not_operator_instructions(
    app_data, monkeypatch, failure
):
    def broken(*args, **kwargs):
        raise failure

    monkeypatch.setattr("finder.search.search", broken)
    at = search(open_page(), "CV1 1AH")
    assert not at.exception
    messages = [e.value for e in at.error]
    assert len(messages) == 1 and "python -m" not in messages[0] and "data/" not in messages[0]
    assert "not working just now" in messages[0]
    assert "find-an-NHS-talking-therapies-service" in messages[0]


def test_csv_download_is_offered_with_results(app_data):
    at = search(open_page(), "CV1 1AH", radius=5)
    buttons = at.get("download_button")
    assert buttons and "CSV" in buttons[0].proto.label


def check(name, number=""):
    at = open_page("check")
    at.text_input(key="ck_name").input(name)
    at.text_input(key="ck_number").input(number)
    at.button(key="ck_submit").click()
    return at.run()


def test_check_page_says_could_not_check_when_the_registers_cannot_be_reached(app_data, monkeypatch):
    from helpers import StaticFetcher

    # A fetcher with no pages: every request fails as it would with the network down.
    monkeypatch.setenv("FINDER_OFFLINE_CHECKS", "0")
    monkeypatch.setattr("finder.cli.live.default_fetcher", lambda: StaticFetcher({}))
    at = check("Jane Example")
    assert not at.exception
    summary = plain(at.info[0].value)
    assert summary.startswith("We could not check IPT UK or HCPC automatically just now")
    assert "Not confirmed" not in all_text(at)  # no verdict from checks that did not happen
    assert "Check by hand here: [IPT UK](https://" in summary and "javascript:" not in summary
    warnings = [plain(w.value) for w in at.warning]
    assert any(w.startswith("Could not check") and "not the same as 'not found'" in w for w in warnings)


def test_check_page_offline_mode_gives_links_to_check_by_hand(app_data):
    at = check("Jane Example")  # FINDER_OFFLINE_CHECKS=1 in this module
    assert not at.exception
    assert "Check by hand" in all_text(at)
    assert "Could not check" not in all_text(at)


def test_a_register_left_to_check_by_hand_is_not_shown_as_checked(app_data):
    at = check("Jane Example")  # offline: every register is left to be checked by hand
    text = all_text(at)
    assert "Check by hand" in text and "Checked:" not in text
    assert not re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", text)


def test_check_page_rejects_bad_input_inline(app_data):
    at = check("<script>")
    assert not at.exception
    assert len(at.error) == 1
    assert "What each register said" not in all_text(at)  # one inline message, no register results


@pytest.mark.parametrize("page", ["find", "check", "ipt", "data"])
def test_urgent_help_is_on_every_page(app_data, page):
    at = open_page(page)
    assert not at.exception
    text = all_text(at)
    assert "not a crisis service" in text
    for number in ("999", "111", "116 123", "85258"):
        assert number in text, number
    # First on the page, and in the words and numbers of the reviewed list.
    assert at.markdown[0].value == fmt.crisis_line(urgent_help.CRISIS_LINES)


def test_about_ipt_shows_how_ipt_compares(app_data):
    at = open_page("ipt")
    text = all_text(at)
    assert "6,816 courses of IPT" in text and "48.7%" in text and "62.1%" in text
    charts = at.get("vega_lite_chart")
    assert charts  # the chart is drawn
    assert "Interpersonal Psycho therapy (IPT)" in str(charts[0].proto)
    assert "Applied relaxation" not in str(charts[0].proto)  # too few courses to compare


def test_about_ipt_still_explains_ipt_when_the_outcomes_cannot_be_read(app_data, monkeypatch):
    def damaged():
        raise ValueError("Expecting value: line 1 column 1 (char 0)")

    monkeypatch.setattr("finder.services.therapy_outcomes", damaged)
    at = open_page("ipt")
    assert not at.exception and not at.error
    text = all_text(at)
    assert "could not be read" in text and "How to get IPT" in text


def test_about_the_data_lists_sources_licences_and_how_to_report(app_data):
    at = open_page("data")
    text = all_text(at)
    assert "Open Government Licence" in str([t.proto for t in at.table])
    assert "3 private practitioners" in text and "4 NHS Talking Therapies services" in text
    assert "report it" in text


def test_results_follow_a_data_refresh_without_a_restart(tmp_path, monkeypatch):
    directory = build_app_data(tmp_path / "data" if (tmp_path / "data").mkdir() is None else tmp_path)
    monkeypatch.setenv(store.DATA_DIR_ENV, str(directory))
    at = search(open_page(), "LS1 4AP", radius=5, kind="nhs")
    assert result_names(at) == ["Test nhs N-LEEDS"]
    document = store.read_json("services.json", directory)
    document["records"].append(record("N-LEEDS2", "nhs", "LS2 9JT"))
    store.publish({"services.json": store.json_bytes(document)}, directory=directory)
    at.button(key="fh_search").click()
    assert result_names(open_folded(at.run())) == ["Test nhs N-LEEDS", "Test nhs N-LEEDS2"]


def test_no_usage_statistics_are_sent():
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["browser"]["gatherUsageStats"] is False
    assert config["client"]["showErrorDetails"] == "none"  # no tracebacks on screen, even by accident


# ---------------------------------------------------------------------------------------------
# Place input, nations, the check summary, the patient text, the private side (issue 10)


def test_a_pasted_address_is_searched_by_its_postcode(app_data):
    at = search(open_page(), "14 Headingley Lane, Leeds LS1 4AP")
    assert not at.exception and not at.error
    assert "We used the postcode LS1 4AP from what you typed." in all_text(at)
    assert "Test nhs N-LEEDS" in result_names(at)
    assert at.text_input(key="fh_query").value == "14 Headingley Lane, Leeds LS1 4AP"  # never emptied


def test_an_ambiguous_town_offers_choices_that_search_when_clicked(app_data):
    at = search(open_page(), "Newcastle")
    labels = [b.label for b in at.button if (b.key or "").startswith("place_choice")]
    assert "Newcastle Upon Tyne" in labels and "Newcastle-under-Lyme" in labels
    next(b for b in at.button if b.label == "Newcastle Upon Tyne").click()
    at = at.run()
    assert not at.exception
    assert at.header[0].value == "Results for Newcastle Upon Tyne"


def test_a_shared_town_name_asks_which_place_with_a_button_for_each(app_data):
    at = search(open_page(), "St Ives")
    labels = [b.label for b in at.button if (b.key or "").startswith("place_choice")]
    assert labels[:2] == ["St Ives, Cambridgeshire", "St Ives, Cornwall"]
    assert not [h for h in at.header if h.value.startswith("Results for")]  # no place picked for them
    next(b for b in at.button if b.label == "St Ives, Cornwall").click()
    at = at.run()
    assert not at.exception and at.header[0].value == "Results for St Ives, Cornwall"
    assert "We used St Ives, Cornwall." in all_text(at).replace("**", "")
    assert [b.label for b in at.button if (b.key or "").startswith("place_other")] == [
        "St Ives, Cambridgeshire"
    ]


def test_a_nation_after_a_town_picks_the_town_in_that_nation(app_data):
    text = all_text(search(open_page(), "Newport, Wales"))
    assert "If you live in Wales" in text


def test_a_misspelt_town_gets_suggestions(app_data):
    at = search(open_page(), "Manchestr")
    assert not at.exception
    suggested = [b.label for b in at.button if (b.key or "").startswith("place_suggestion")]
    assert suggested and suggested[0] == "Manchester"


def test_over_long_input_gets_a_message_and_keeps_the_text(app_data):
    long_text = "I would like to find some help for my anxiety near where I live please " * 2
    at = search(open_page(), long_text)
    assert any("longer than a postcode or a town name" in e.value for e in at.error)
    assert at.text_input(key="fh_query").value == long_text  # the box keeps what was typed


@pytest.mark.parametrize(
    ("postcode", "nation", "link"),
    [
        ("CF10 1EP", "Wales", "https://111.wales.nhs.uk/"),
        ("EH1 1YZ", "Scotland", "https://www.nhsinform.scot/"),
        ("BT1 5GS", "Northern Ireland", "https://www.nidirect.gov.uk/"),
        ("JE2 4WE", "the Channel Islands", "https://www.gov.je/"),
        ("IM1 1AA", "the Isle of Man", "https://www.gov.im/"),
    ],
)
def test_each_nation_gets_its_own_route_with_links_and_no_empty_result_notice(
    app_data, postcode, nation, link
):
    at = search(open_page(), postcode)
    text = all_text(at)
    assert f"If you live in {nation}" in text and f"]({link})" in text
    assert "We hold nothing that matches" not in text and "Nothing matched" not in text


def test_check_page_offline_summary_comes_first_and_names_the_number_register(app_data):
    at = check("Jane Example", "PYL012345")
    summary = plain(at.info[0].value).split("\n")
    assert len(summary) == 3
    assert summary[0].startswith("We could not check IPT UK or HCPC automatically just now")
    assert summary[1].startswith("Check by hand here: [IPT UK](")
    assert summary[2].strip() == "PYL012345 is an HCPC number (practitioner psychologist)."
    opened = {e.label.split(":")[0] for e in at.expander if e.proto.expanded}
    assert {"IPT UK", "HCPC"} <= opened and "NCPS" not in opened  # only the relevant registers open


def test_the_patient_text_has_the_service_and_the_crisis_lines(app_data):
    at = search(open_page(), "CV1 1AH")
    text = at.code[0].value
    assert text.startswith("Test nhs N-COV\nRefer yourself online: https://example.org/refer-cov")
    assert "116 123" in text and "999" in text and "85258" in text
    assert "[" not in text.split("\n")[0]  # plain text, not Markdown


def test_private_controls_are_hidden_when_no_practitioners_are_held(tmp_path, monkeypatch):
    directory = build_app_data(tmp_path)
    store.publish(
        {"practitioners.json": store.json_bytes({"schema_version": 1, "records": []})}, directory=directory
    )
    monkeypatch.setenv(store.DATA_DIR_ENV, str(directory))
    at = search(open_page(), "CV1 1AH")
    assert not at.exception
    assert not [r for r in at.radio if r.key in ("fh_kind", "fh_mode")]
    text = all_text(at)
    assert "IPT UK's directory" in text and "wider radius" not in text
    assert "Test nhs N-COV" in result_names(at)


@pytest.fixture
def committed_data(monkeypatch):
    """The app on the committed data/ (read only): real services, areas and GP practices."""
    monkeypatch.delenv(store.DATA_DIR_ENV, raising=False)
    if not (ROOT / "data" / "gp_practices.parquet").exists():
        pytest.skip("no GP practice table in data/")


def test_a_gp_surgery_in_the_box_offers_it_and_searches_from_it(committed_data):
    at = search(open_page(), "Densham Surgery")
    assert not at.exception
    choice = [b for b in at.button if b.key == "gp_choice_A81001"]
    assert choice and choice[0].label == "The Densham Surgery, Stockton-on-Tees"
    at = open_folded(choice[0].click().run())
    assert not at.exception
    assert at.query_params["gp"] in ("A81001", ["A81001"])  # in the address, so Back and sharing work
    headers = [h.value for h in at.header]
    assert "Services for people registered at The Densham Surgery, Stockton-on-Tees" in headers
    assert "Your NHS Talking Therapies service" in headers
    first = plain(at.subheader[0].value)
    assert "Teesside" in first  # the service covering Stockton-on-Tees
    # The shared link opens the same answer.
    shared = open_page(q="Densham Surgery", gp="A81001")
    assert "Services for people registered at The Densham Surgery, Stockton-on-Tees" in [
        h.value for h in shared.header
    ]


def test_a_practice_code_and_an_unknown_name_offer_gp_surgeries(committed_data):
    at = search(open_page(), "A81001")
    assert [b.key for b in at.button if b.key.startswith("gp_choice_")] == ["gp_choice_A81001"]
    at = search(open_page(), "Densham")  # not a place we know: perhaps a surgery
    assert "gp_choice_A81001" in [b.key for b in at.button]
    at = search(open_page(), "Leeds")  # a town is searched as a town
    assert not [b for b in at.button if b.key.startswith("gp_choice_")]


def test_without_a_covering_service_the_nhs_finder_is_the_next_step(committed_data):
    at = search(open_page(), "BN1 1AA")  # Brighton and Hove: no general service known to cover it
    assert not at.exception
    buttons = at.get("link_button")
    assert buttons[0].proto.label == "Find your service on the NHS website"
    assert "We don't know which NHS Talking Therapies service covers Brighton and Hove" in all_text(at)
    assert "Nothing matched within" not in all_text(at)  # services of its NHS area are listed


def test_cards_name_the_local_service_and_say_which_part_of_the_district(committed_data):
    at = search(open_page(), "M33 7XX")  # Trafford: GMMH's Trafford service, not its Wigan one
    assert not at.exception
    titles = [h.value for h in at.subheader]
    assert "Trafford Psychological Therapies (GMMH)" in titles
    assert "Run by Greater Manchester Mental Health NHS Foundation Trust" in all_text(at)
    # GMMH's links and phone were seen for its Wigan service: not offered as Trafford's way in.
    assert "Wigan Talking Therapies" not in all_text(at)
    first_button = at.get("link_button")[0].proto.label
    assert first_button == "Find how to refer yourself on the NHS website"
    at = search(open_page(), "GU51 3HA")  # Fleet, in Hart
    text = all_text(at).replace("\\", "")
    assert "Takes people registered at surgeries in Fleet, Church Crookham, Blackwater and Yateley" in text
