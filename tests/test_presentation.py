"""The words, links and numbers the app shows (finder.presentation, finder.about_ipt,
finder.urgent_help), tested without Streamlit."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace

import pytest

from finder import about_ipt, urgent_help
from finder import presentation as fmt


@pytest.mark.parametrize(
    ("miles", "expected"),
    [
        (2.3, "2.3 miles away (straight line)"),
        (2.349, "2.3 miles away (straight line)"),
        (1.0, "1.0 mile away (straight line)"),
        (0.04, "Less than 0.1 miles away (straight line)"),
        (12.0, "12.0 miles away (straight line)"),
    ],
)
def test_distance_wording(miles, expected):
    assert fmt.distance_text(miles) == expected


def test_records_without_a_location_are_described_not_given_a_distance():
    assert fmt.distance_text(None, works_online=True) == "Works online (no local address)"
    assert fmt.distance_text(None) == "Distance not known"
    assert fmt.distance_text(float("nan")) == "Distance not known"


def test_approximate_locations_are_said_so():
    assert fmt.location_note("postcode") is None
    assert fmt.location_note("sector") == "approximate location (postcode sector)"
    assert fmt.location_note("outcode") == "approximate location (postcode district)"


@pytest.mark.parametrize(
    ("mine", "england", "words"),
    [
        (55, 50.5, "higher than"),
        (45, 50.5, "lower than"),
        (51.0, 50.5, "about the same as"),
        (48.6, 50.5, "about the same as"),
    ],
)
def test_outcomes_are_compared_with_england(mine, england, words):
    assert fmt.compare_to_england(mine, england) == words


def test_outcome_lines_name_the_measure_the_average_and_the_period():
    lines = fmt.outcome_lines(
        {"period": "2024-25", "recovery_pct": 47.0, "within_6_weeks_pct": None},
        {"recovery_pct": 50.5, "within_6_weeks_pct": 91.6},
    )
    assert lines == [
        "Recovery: 47% (lower than the England average of 50.5%)",
        "NHS England figures for 2024-25",
    ]
    assert fmt.outcome_lines(None, {"recovery_pct": 50.5}) == []
    assert fmt.outcome_lines({"period": "2024-25", "recovery_pct": 47.0}, None) == [
        "Recovery: 47%",
        "NHS England figures for 2024-25",
    ]


def test_could_not_check_looks_and_reads_differently_from_not_found():
    failed, missing = fmt.status_words("check_failed"), fmt.status_words("not_found")
    assert "Could not check" in failed.words and "not the same as 'not found'" in failed.words
    assert missing.words == "Not found on this register"
    assert failed.icon != missing.icon and failed.tone != missing.tone
    every = [
        "current",
        "current_with_conditions",
        "lapsed_or_removed",
        "not_found",
        "ambiguous",
        "check_failed",
        "manual_check",
    ]
    assert len({fmt.status_words(s).words for s in every}) == len(every)


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "data:text/html,<script>",
        "vbscript:x",
        "ftp://example.org/",
        "//example.org/path",
        "/relative",
        "https://",
        "https://exa mple.org",
        "https://example.org/\nx",
        None,
        42,
    ],
)
def test_only_http_links_are_links(url):
    assert fmt.safe_url(url) is None
    assert "](" not in fmt.md_link("label", url)


def test_http_links_are_kept():
    assert (
        fmt.safe_url("https://www.cpft.nhs.uk/self-refer-here") == "https://www.cpft.nhs.uk/self-refer-here"
    )
    assert fmt.md_link("refer", "https://x.org/a(b)") == "[refer](https://x.org/a%28b%29)"


@pytest.mark.parametrize(
    ("phone", "link"),
    [
        ("0300 013 57 27", "tel:03000135727"),
        ("0191 295 2775", "tel:01912952775"),
        ("+44 (0)161 123 4567", "tel:+441611234567"),
        ("01942 764449 ext 12", "tel:01942764449"),
        ("0808-808-8000", "tel:08088088000"),
        ("call us", None),
        ("0300 javascript:1", None),
        ("", None),
        (None, None),
    ],
)
def test_phone_numbers_become_tel_links(phone, link):
    assert fmt.tel_url(phone) == link


def test_tel_links_only_from_digits():
    assert fmt.md_link("0300", "tel:0300123") == "[0300](tel:0300123)"
    assert fmt.md_link("x", "tel:0300);alert(1") == "x"


def test_markdown_from_data_is_inert():
    escaped = fmt.md_escape(
        "<img src=x onerror=alert(1)> [click](javascript:alert(1)) :red[hi] $x$ **b**\nnext"
    )
    # Every character Markdown would act on is escaped, so the text shows exactly as typed.
    assert re.findall(r"(?<!\\)[<>\[\]:$*]", escaped) == []
    assert escaped.startswith(r"\<img src=x") and r"\[click\]" in escaped
    assert "\n" not in escaped
    assert fmt.md_escape(None) == ""


def test_csv_has_a_header_and_neutralises_spreadsheet_formulas():
    data = fmt.results_csv(
        [
            {
                "name": '=HYPERLINK("http://x")',
                "kind": "nhs",
                "distance_miles": 2.34,
                "offers_ipt": True,
                "phone": "0300 013 57 27",
                "works_online": False,
                "outcomes": {"period": "2024-25", "recovery_pct": 47.0},
            },
            {"name": "Plain", "kind": "private", "distance_miles": None, "offers_ipt": None},
        ]
    )
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Name", "Type", "Distance in miles (straight line)"]
    assert rows[1][0].startswith("'=")
    assert rows[1][2] == "2.34" and rows[1][7] == "yes" and rows[1][8] == "no"
    assert rows[2][2] == "" and rows[2][7] == ""
    recovery = rows[0].index("Recovery % (NHS England figures)")
    assert rows[1][recovery] == "47.0" and rows[1][recovery + 2] == "2024-25" and rows[2][recovery] == ""


# --- urgent help -------------------------------------------------------------------------------


def test_crisis_lines_have_the_reviewed_numbers_and_a_check_date():
    text = " ".join(f"{h.how} {h.when}" for h in urgent_help.CRISIS_LINES)
    for words in ("999", "A&E", "111", "mental health option (option 2)", "116 123", "SHOUT to 85258"):
        assert words in text
    assert "not a crisis service" in urgent_help.NOT_A_CRISIS_SERVICE
    assert urgent_help.CHECKED_ON >= "2026-01-01"
    assert all(h.confirmed_by for h in urgent_help.CRISIS_LINES)
    assert all(link.startswith("https://") for h in urgent_help.CRISIS_LINES for link in h.confirmed_by)


@pytest.mark.parametrize(
    ("country", "words"),
    [
        ("Scotland", "NHS 24 on 111"),
        ("Wales", "press 2"),
        ("Northern Ireland", "0808 808 8000"),
        ("Channel Islands", "local emergency services"),
        ("Isle of Man", "local emergency services"),
    ],
)
def test_each_nation_outside_england_has_its_own_route(country, words):
    route = urgent_help.nation_route(country)
    assert route is not None and "GP" in route.summary
    text = route.summary + " ".join(h.how for h in route.helplines)
    assert words in text


def test_england_has_no_separate_nation_route():
    assert urgent_help.nation_route("England") is None
    assert urgent_help.nation_route(None) is None


def test_helpline_links():
    assert urgent_help.tel_link(urgent_help.SAMARITANS) == "tel:116123"
    assert urgent_help.tel_link(urgent_help.LIFELINE_NI) == "tel:08088088000"
    assert urgent_help.tel_link(urgent_help.SHOUT) == "sms:85258"


# --- about IPT ---------------------------------------------------------------------------------

THERAPY_ROWS = [  # NHS England therapy-based outcomes, England, Diagnosis Total
    {
        "period": "2023-24",
        "therapy_type": "Interpersonal Psycho therapy (IPT)",
        "courses": 7000,
        "recovery_pct": 47.0,
        "improvement_pct": 60.0,
    },
    {
        "period": "2024-25",
        "therapy_type": "Applied relaxation",
        "courses": 80,
        "recovery_pct": 50.7,
        "improvement_pct": 63.8,
    },
    {
        "period": "2024-25",
        "therapy_type": "Applied relaxation",
        "courses": 80,
        "recovery_pct": 50.7,
        "improvement_pct": 63.8,
    },
    {
        "period": "2024-25",
        "therapy_type": "Cognitive Behaviour Therapy (CBT)",
        "courses": 233776,
        "recovery_pct": 45.0,
        "improvement_pct": 60.7,
    },
    {
        "period": "2024-25",
        "therapy_type": "Interpersonal Psycho therapy (IPT)",
        "courses": 6816,
        "recovery_pct": 48.7,
        "improvement_pct": 62.1,
    },
    {
        "period": "2024-25",
        "therapy_type": "Counselling for Depression",
        "courses": 77602,
        "recovery_pct": 47.6,
        "improvement_pct": 59.3,
    },
    {
        "period": "2024-25",
        "therapy_type": "Mindfulness",
        "courses": 1007,
        "recovery_pct": None,
        "improvement_pct": 29.4,
    },
]


def test_chart_uses_the_latest_year_and_leaves_out_small_or_missing_rows():
    period, rows = about_ipt.chart_rows(THERAPY_ROWS)
    assert period == "2024-25"
    assert [r["therapy_type"] for r in rows] == [
        "Interpersonal Psycho therapy (IPT)",
        "Counselling for Depression",
        "Cognitive Behaviour Therapy (CBT)",
    ]
    assert rows[0]["is_ipt"] and not rows[1]["is_ipt"]
    assert about_ipt.chart_rows([]) == (None, [])


def test_ipt_summary_gives_courses_rates_and_rank():
    period, rows = about_ipt.chart_rows(THERAPY_ROWS)
    summary = about_ipt.ipt_summary(period, rows)
    assert "6,816 courses of IPT" in summary and "48.7%" in summary and "62.1%" in summary
    assert "1st of the 3 therapy types" in summary
    assert about_ipt.ipt_summary(period, rows[1:]) is None


def test_about_ipt_text_covers_what_who_and_how():
    assert "depression" in about_ipt.WHAT_IT_IS
    assert "NHS Talking Therapies" in about_ipt.WHO_IT_HELPS
    assert "refer yourself" in about_ipt.HOW_TO_GET_IT and "accredited" in about_ipt.HOW_TO_GET_IT


def test_check_times_are_shown_in_words_people_read():
    assert fmt.checked_text("2026-11-25T18:35:23Z") == "2026-11-25 18:35 UTC"
    assert fmt.checked_text("2026-11-25T18:35:23.123+00:00") == "2026-11-25 18:35 UTC"
    assert fmt.checked_text("2026-11-25") == "2026-11-25"
    assert fmt.checked_text(None) is None


def test_source_names_get_plain_titles():
    assert fmt.source_title("nhs-outcomes") == "Outcomes and waiting times (NHS England statistics)"
    assert fmt.source_title("new_source-x") == "New source x"


def test_result_card_escapes_record_text_and_keeps_only_safe_links():
    card = fmt.result_card(
        {
            "kind": "nhs",
            "id": "RXX",
            "name": "Trust <b>HQ</b>",
            "service_name": "Talking [Therapies](javascript:x)",
            "distance_miles": 2.34,
            "self_referral_url": "javascript:alert(1)",
            "website": "data:text/html,x",
            "phone": "0300 013 57 27",
            "min_age": 16,
            "offers_ipt": None,
            "location_precision": "sector",
            "provenance": {"location": {"source": "ods_providers.csv", "last_verified": "2026-11-25"}},
        },
        None,
        nhs_finder_url="https://www.nhs.uk/finder/",
    )
    assert card.title == "Talking \\[Therapies\\](javascript\\:x)"
    assert card.run_by == "Run by Trust \\<b\\>HQ\\</b\\>"
    assert card.distance == "2.3 miles away (straight line) (approximate location (postcode sector))"
    # No safe referral link, no self-referral line, no safe website: the NHS finder as the button.
    assert card.action == fmt.Action(
        label="Find how to refer yourself on the NHS website", url="https://www.nhs.uk/finder/"
    )
    assert card.contacts == ("Phone (general enquiries): [0300 013 57 27](tel:03000135727)",)
    assert card.who_for == "For people aged 16 and over."
    assert "not known" in card.ipt
    text = " ".join(card.sources)
    assert "register of organisations" in text and ".csv" not in text


def test_result_card_for_a_private_practitioner():
    card = fmt.result_card(
        {
            "kind": "private",
            "name": "A Therapist",
            "distance_miles": None,
            "works_online": True,
            "works_in_person": False,
            "works_by_phone": True,
            "offers_ipt": True,
            "phone": "0113 496 0000",
            "town": "Leeds",
            "registrations": [{"register": "HCPC", "number": "PYL012345"}],
        },
        None,
        nhs_finder_url="https://www.nhs.uk/finder/",
    )
    assert card.action == fmt.Action(label="Call 0113 496 0000", url="tel:01134960000")
    assert card.distance == "Works online (no local address)"
    assert "Works online, by phone" in card.details and "Based in Leeds" in card.details
    assert any(line.startswith("Registered with: HCPC PYL012345") for line in card.details)


def test_primary_action_order_and_only_a_self_referral_line_is_called():
    base = {"kind": "nhs", "name": "Test Talking Therapies"}
    finder = "https://www.nhs.uk/finder/"
    full = {
        **base,
        "self_referral_url": "https://example.org/refer",
        "self_referral_phone": "0300 555 0101",
        "phone": "0300 555 0199",
        "website": "https://example.org/",
    }
    assert fmt.primary_action(full, nhs_finder_url=finder).label == "Refer yourself online"
    no_form = {**full, "self_referral_url": None}
    assert fmt.primary_action(no_form, nhs_finder_url=finder) == fmt.Action(
        label="Call 0300 555 0101", url="tel:03005550101"
    )
    # A general or professionals' number is not offered as the way to refer yourself.
    general_only = {**no_form, "self_referral_phone": None}
    assert (
        fmt.primary_action(general_only, nhs_finder_url=finder).label
        == "Visit Test Talking Therapies's website"
    )
    assert fmt.primary_action(base, nhs_finder_url=finder).url == finder


def test_ipt_in_words_from_the_services_own_figures():
    record = {
        "outcomes": {"period": "2024-25", "ipt_courses": 105, "ipt_recovery_pct": 43.0},
        "offers_ipt": True,
        "ipt_basis": "official_latest",
    }
    assert (
        fmt.ipt_words(record)
        == "Delivered Interpersonal Therapy (IPT) to 105 people in 2024-25; 43% recovered."
    )
    assert fmt.ipt_words({"offers_ipt": None}).startswith("Interpersonal Therapy (IPT): not known")


def test_outcomes_in_one_line_against_england_of_the_same_year():
    line = fmt.outcomes_sentence(
        {"period": "2024-25", "recovery_pct": 55.0, "within_6_weeks_pct": 80.0},
        {"period": "2024-25", "recovery_pct": 50.5, "within_6_weeks_pct": 91.6},
    )
    assert (
        line.replace("\\", "")
        == "In 2024-25, 55% recovered (England 50.5%: higher) and 80% started treatment within 6 weeks (England 91.6%: lower)."
    )
    other_year = fmt.outcomes_sentence(
        {"period": "2023-24", "recovery_pct": 51.0}, {"period": "2024-25", "recovery_pct": 50.5}
    )
    assert other_year == "In 2023-24, 51% recovered."


def test_sources_are_written_for_people_without_file_names_or_pipeline_words():
    record = {
        "kind": "nhs",
        "id": "RY6",
        "outcomes": {"period": "2024-25"},
        "provenance": {
            "contacts": {
                "source": "service_links.csv",
                "last_verified": None,
                "note": "seen on public pages, date unknown; tied to this organisation only by inference (x)",
                "evidence_urls": ["https://example.org/a", "javascript:alert(1)"],
            },
            "outcomes": {"source": "annual_main_2024-25.csv", "last_verified": "2026-12-01"},
        },
    }
    lines = fmt.sources_for_people(record)
    text = " ".join(lines)
    assert ".csv" not in text and "inference" not in text and "javascript" not in text
    assert "we could not check the date" in text and "[page 1](https://example.org/a)" in text
    assert "NHS England's published statistics for 2024-25" in text


def _nhs(id_, **fields):
    return {"kind": "nhs", "id": id_, "name": f"Service {id_}", **fields}


def test_results_are_grouped_your_service_first():
    results = [
        _nhs("NEAR", coverage="same_icb", role="lead", distance_miles=1.0),
        _nhs(
            "SIGN",
            coverage="national",
            role="specialist",
            national=True,
            audience="Deaf people who use British Sign Language (BSL), aged 18+, anywhere in England",
        ),
        _nhs("LGBT", coverage="covers", role="specialist", audience="LGBT+ people"),
        _nhs("IESO", coverage="national", role="digital"),
        _nhs(
            "LEEDS", coverage="covers", role="lead", delivered_with=[{"id": "PART", "name": "Service PART"}]
        ),
        _nhs("PART", coverage="covers", role="partner", lead_id="LEEDS"),
        _nhs("NAT", coverage="national", role="lead", national=True),
        {"kind": "private", "id": "P1", "name": "A Therapist", "distance_miles": 3.0},
    ]
    groups = fmt.group_results(results)
    assert [g.heading for g in groups] == [
        fmt.GROUP_YOURS,
        fmt.GROUP_ALSO,
        fmt.GROUP_NATIONAL,
        fmt.GROUP_NEARBY,
        fmt.GROUP_PRIVATE,
    ]
    yours, also, national, nearby, private = groups
    assert [e.record["id"] for e in yours.entries] == ["LEEDS"]
    assert [p["id"] for p in yours.entries[0].partners] == ["PART"]  # the partner sits under its lead
    assert not yours.folded and all(g.folded for g in groups[1:])
    assert [e.record["id"] for e in also.entries] == ["LGBT"]
    assert [(e.record["id"], e.subheading) for e in national.entries] == [
        ("NAT", None),
        ("SIGN", fmt.BSL_HEADING),
        ("IESO", fmt.DIGITAL_HEADING),
    ]
    assert not yours.show_distance and nearby.show_distance and private.show_distance


def test_two_services_covering_an_area_both_show_and_the_person_may_choose():
    groups = fmt.group_results(
        [_nhs("A", coverage="covers", role="lead"), _nhs("B", coverage="covers", role="lead")]
    )
    assert len(groups[0].entries) == 2 and "choose" in groups[0].intro


def test_duplicates_are_merged():
    one = _nhs("A", coverage="covers", service_name="Talking Therapies X", website="https://x.example/")
    same = _nhs("B", coverage="covers", service_name="Talking therapies  X", website="https://x.example/")
    assert [e.record["id"] for e in fmt.group_results([one, same, dict(one)])[0].entries] == ["A"]


def test_results_without_coverage_are_all_near_you_and_open():
    groups = fmt.group_results([_nhs("A", distance_miles=1.0), _nhs("B", distance_miles=2.0)])
    assert [g.heading for g in groups] == [fmt.GROUP_NEARBY] and not groups[0].folded


def test_the_patient_text_is_plain_and_has_the_crisis_lines():
    from finder import urgent_help

    text = fmt.patient_text(
        {
            "kind": "nhs",
            "name": "Test *Service*",
            "self_referral_phone": "0300 555 0101",
            "website": "javascript:x",
        },
        urgent_help.CRISIS_LINES,
        not_a_crisis=urgent_help.NOT_A_CRISIS_SERVICE,
        nhs_finder_url=urgent_help.NHS_TALKING_THERAPIES_FINDER,
    )
    assert text.startswith("Test *Service*\nRefer yourself by phone: 0300 555 0101")
    assert "javascript" not in text and "116 123" in text and "999" in text


def test_check_summary_never_gives_a_negative_verdict_from_checks_that_failed():
    from finder.accreditation import parse_registration_number

    result = {
        "overall": {"ipt_accredited": False, "verdict": "Not confirmed as IPT accredited"},
        "registers": [
            {
                "register": "IPT UK",
                "status": "check_failed",
                "url": "https://www.iptuk.net/find-a-therapist.html",
            },
            {"register": "HCPC", "status": "check_failed", "url": "https://www.hcpc-uk.org/"},
            {"register": "BACP", "status": "manual_check", "url": "https://www.bacp.co.uk/"},
        ],
    }
    lines = fmt.check_summary(result, parse_registration_number("PYL012345"))
    assert len(lines) == 3 and "Not confirmed" not in " ".join(lines)
    assert lines[0].startswith("We could not check IPT UK or HCPC")
    assert lines[2] == "PYL012345 is an HCPC number (practitioner psychologist)."
    assert fmt.relevant_registers(result["registers"], "hcpc") == {"IPT UK", "HCPC"}


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("1. Leeds", "1\\. Leeds"),
        ("12) Leeds", "12\\) Leeds"),
        ("- dash", "\\- dash"),
        ("+ plus", "\\+ plus"),
        ("===", "\\==="),
        ("---", "\\---"),
        ("Ages 16-64", "Ages 16-64"),  # only a leading marker is escaped
        ("2.3 miles away", "2.3 miles away"),
        ("-5 and +5", "-5 and +5"),
    ],
)
def test_text_from_data_that_starts_like_a_list_or_heading_stays_text(text, escaped):
    # Markdown would turn "1. Leeds" into a numbered list showing only "Leeds".
    assert fmt.md_escape(text) == escaped


def test_outcomes_are_only_compared_with_the_england_average_of_the_same_year():
    england_2024_25 = {"period": "2024-25", "recovery_pct": 50.5, "within_6_weeks_pct": 91.6}
    assert fmt.outcome_lines({"period": "2023-24", "recovery_pct": 51.0}, england_2024_25) == [
        "Recovery: 51%",
        "NHS England figures for 2023-24",
    ]
    by_period = {"2023-24": {"period": "2023-24", "recovery_pct": 50.1}, "2024-25": england_2024_25}
    record = {"outcomes": {"period": "2023-24", "recovery_pct": 51.0}}
    assert fmt.england_for(record, by_period) == by_period["2023-24"]
    assert fmt.england_for({"outcomes": None}, by_period) is None
    assert fmt.england_for(record, None) is None


def test_csv_never_holds_a_link_that_is_not_http():
    data = fmt.results_csv(
        [{"name": "X", "self_referral_url": "javascript:alert(1)", "website": "https://ok.example/"}]
    )
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    refer, website = rows[0].index("Refer yourself online"), rows[0].index("Website")
    assert rows[1][refer] == "" and rows[1][website] == "https://ok.example/"


@pytest.mark.parametrize(
    ("country", "place"),
    [
        ("Scotland", "Scotland"),
        ("Wales", "Wales"),
        ("Northern Ireland", "Northern Ireland"),
        ("Channel Islands", "the Channel Islands"),
        ("Isle of Man", "the Isle of Man"),
    ],
)
def test_nation_routes_name_the_place_as_people_say_it(country, place):
    route = urgent_help.nation_route(country)
    assert route.place == place
    # Jersey, Guernsey, the Isle of Man and Northern Ireland (HSC) do not run "NHS" therapy.
    assert "NHS talking therapy" not in route.summary
    assert f"does not cover {place}" in route.summary and "GP" in route.summary


@pytest.mark.parametrize(
    "text",
    ["https://www.nhs.uk@evil.example/a", "see www.evil.example today", "write to help@evil.example"],
)
def test_bare_addresses_in_data_cannot_become_links(text):
    escaped = fmt.md_escape(text)
    assert "://" not in escaped.replace("\\", "") and "www." not in escaped.lower()
    assert not re.search(r"[\w.]@\w", escaped)
    # It still reads the same once the invisible breaks are removed.
    assert escaped.replace("\u200b", "").replace("\\", "") == text


def test_link_targets_cannot_break_out_with_a_backslash():
    assert fmt.md_link("site", "https://ok.example/\\") == "[site](https://ok.example/%5C)"


def test_a_covering_service_far_away_says_its_registered_office_not_a_clinic_distance():
    far = {"kind": "nhs", "name": "X", "coverage": "covers", "distance_miles": 79.5}
    card = fmt.result_card(far, None, show_distance=False)
    assert card.distance.startswith("Its registered office is 80 miles away")
    assert "straight line" not in card.distance
    near = fmt.result_card({**far, "distance_miles": 1.2}, None, show_distance=False)
    assert near.distance is None


def test_without_a_covering_service_no_group_opens_by_itself():
    groups = fmt.group_results(
        [
            {"id": "AM7", "kind": "nhs", "coverage": "national", "audience": "Deaf people who use BSL"},
            {"id": "X1", "kind": "nhs", "coverage": "same_icb"},
        ]
    )
    assert [g.folded for g in groups] == [True, True]
    covered = fmt.group_results(
        [
            {"id": "Y", "kind": "nhs", "coverage": "covers"},
            *[{"id": "AM7", "kind": "nhs", "coverage": "national"}],
        ]
    )
    assert [g.folded for g in covered] == [False, True]


def test_the_csv_carries_the_coverage_in_words():
    rows = (
        fmt.results_csv(
            [
                {
                    "name": "Leeds Community Healthcare NHS Trust",
                    "service_name": "Leeds Mental Wellbeing Service",
                    "kind": "nhs",
                    "coverage": "covers",
                    "coverage_basis": "name",
                    "coverage_confidence": "high",
                    "coverage_evidence": "Leeds in its name",
                }
            ]
        )
        .decode("utf-8-sig")
        .splitlines()
    )
    header, row = rows[0].split(","), rows[1]
    assert "Takes people from your area" in header and "How sure we are" in header
    assert "Covers your area" in row and "Leeds Mental Wellbeing Service" in row
    # Every column in words, as on the page: no codes of ours (nhs, name, high).
    assert "NHS Talking Therapies service" in row and "Its registered name names the area,Sure" in row
    assert not {"nhs", "name", "high"} & set(row.split(","))


def test_who_for_says_a_partly_covered_district_and_a_guess_as_a_guess():
    bradford = {
        "kind": "nhs",
        "areas_served": [
            {"code": "E08000032", "name": "Bradford", "confidence": "high", "evidence": "name", "part": None},
            {
                "code": "E06000065",
                "name": "North Yorkshire",
                "confidence": "medium",
                "evidence": 'https://x.example : "... - PARTIAL LAD: Craven area only of North Yorkshire"',
                "part": "Craven area",
            },
        ],
    }
    assert fmt.who_for(bradford).replace("\\", "") == (
        "For people registered with a GP in Bradford and North Yorkshire (Craven area)."
    )
    guessed = {"kind": "nhs", "coverage": "covers", "coverage_confidence": "low", "coverage_basis": "hq_area"}
    assert fmt.who_for(guessed).replace("\\", "").startswith("It is based in your area, so it probably")


def _covering(**fields):
    return {"kind": "nhs", "coverage": "covers", "coverage_district": "Hart", **fields}


def test_a_part_of_a_district_is_said_in_words_a_person_can_check():
    fleet = _covering(
        coverage_confidence="medium", coverage_part="Fleet, Church Crookham, Blackwater and Yateley surgeries"
    )
    assert fmt.coverage_words(fleet) == (
        "Takes people registered at surgeries in Fleet, Church Crookham, Blackwater and Yateley: check yours is one."
    )
    craven = _covering(
        coverage_confidence="high", coverage_part="Craven area", coverage_district="North Yorkshire"
    )
    assert fmt.coverage_words(craven) == (
        "Takes people registered with a GP in the Craven area (North Yorkshire): check yours is there."
    )
    assert fmt.coverage_words(_covering(coverage_confidence="high")) is None  # all of the district, surely


def test_words_follow_the_evidence_headquarters_old_page_or_indirect_page():
    hq = _covering(coverage_confidence="low", coverage_basis="hq_area", coverage_evidence="ODS HQ postcode")
    assert fmt.coverage_words(hq).startswith("It is based in your area")
    old = _covering(
        coverage_confidence="low",
        coverage_basis="public_page",
        coverage_district="Blackburn with Darwen",
        coverage_evidence="http://www.lancashiretelegraph.co.uk/news/health/11528414.Therapy/ (2014): commissioners",
    )
    assert fmt.coverage_words(old) == (
        "A public page (2014) says it takes people registered with a GP in Blackburn with Darwen: "
        "please check when you contact it."
    )
    undated = {
        **old,
        "coverage_evidence": "https://www.penninecare.nhs.uk/talkwelcome (undated): tabs",
        "coverage_district": "Bury",
    }
    assert fmt.coverage_words(undated) == (
        "Its public pages suggest it takes people registered with a GP in Bury: please check when you contact it."
    )
    assert "based in your area" not in fmt.who_for(old)


# ---------------------------------------------------------------------------------------------
# Words the app's pages used to build themselves (issue 20: pages draw, finder says)


def test_the_line_at_the_top_of_every_page_takes_its_numbers_from_the_reviewed_list():
    line = fmt.crisis_line(urgent_help.CRISIS_LINES)
    for helpline in urgent_help.CRISIS_LINES:
        assert f"[{helpline.short_link}]({urgent_help.tel_link(helpline)})" in line
    assert "[85258](sms:85258)" in line and "[999](tel:999)" in line
    assert line.endswith("Talking therapies are not a crisis service.")
    # A number changed in the reviewed list changes it at the top of every page too.
    moved = replace(urgent_help.SAMARITANS, dial="116000", short_link="116 000")
    changed = fmt.crisis_line((urgent_help.EMERGENCY, moved))
    assert "[116 000](tel:116000)" in changed and "116 123" not in changed


def test_helplines_to_call_are_links_and_text_services_stay_text():
    listed = fmt.helpline_list(urgent_help.CRISIS_LINES).splitlines()
    assert len(listed) == len(urgent_help.CRISIS_LINES)
    assert any("](tel:999)" in line for line in listed)
    shout = next(line for line in listed if "85258" in line)
    assert "sms:" not in shout and "](" not in shout  # a text number is not a link to call


def test_the_icb_line_says_when_the_area_was_worked_out_by_us():
    from finder.areas import Area

    leeds = Area(
        district_code="E08000035",
        district_name="Leeds",
        sub_icb_code="15F",
        sub_icb_name="Leeds",
        icb_code="QWO",
        icb_name="West Yorkshire",
        icb_inferred=False,
        found_by="postcode",
    )
    assert fmt.icb_words(leeds) == "Services based in your NHS area (West Yorkshire) come first."
    inferred = fmt.icb_words(replace(leeds, icb_inferred=True))
    assert "we worked out that Leeds" in inferred and "may be wrong" in inferred
    assert fmt.icb_words(replace(leeds, icb_name=None)) is None and fmt.icb_words(None) is None


def test_a_source_of_the_data_reads_as_rows_with_only_web_addresses_as_links():
    rows = fmt.source_rows(
        {
            "source": "https://digital.nhs.uk/ods",
            "licence": "Open Government Licence v3.0",
            "imported_at": "2026-12-07",
            "counts": {"records": 1200, "ok": True},
            "attribution": ["Contains OS data", "Crown copyright"],
        }
    )
    by_label = {row[""]: row[" "] for row in rows}
    assert by_label["What"].startswith("[https") and by_label["What"].endswith(
        "](https://digital.nhs.uk/ods)"
    )
    assert by_label["Licence"] == "Open Government Licence v3.0"
    assert by_label["Last refreshed"] == "2026-12-07"
    assert by_label["Counts"] == "records\\: 1,200"  # a yes/no flag is not a count
    assert by_label["Attribution"] == "Contains OS data; Crown copyright"
    local = fmt.source_rows({"source": "annual_main_2024-25.csv", "rows": 5})
    assert local == [
        {"": "What", " ": "annual\\_main\\_2024-25.csv"},
        {"": "Counts", " ": "rows\\: 5"},
    ]


def test_a_possible_match_from_a_register_is_one_line():
    match = {"name": "Jane Smith", "registration_number": "PYL012345", "location": None}
    assert fmt.candidate_text(match) == "Jane Smith, PYL012345"
    assert fmt.candidate_text("J Smith (Leeds)") == "J Smith (Leeds)"


def test_the_nhs_finder_is_the_next_step_only_without_a_service_that_takes_the_person():
    from types import SimpleNamespace

    elsewhere = [{"id": "X1", "kind": "nhs", "coverage": "same_icb"}]
    covered = [{"id": "Y", "kind": "nhs", "coverage": "covers"}, *elsewhere]
    private = [{"id": "P", "kind": "private"}]
    assert fmt.nhs_finder_is_next_step(fmt.group_results(elsewhere), [], elsewhere)
    assert not fmt.nhs_finder_is_next_step(fmt.group_results(covered), [], covered)
    unknown = [SimpleNamespace(code="no_covering_service")]
    assert fmt.nhs_finder_is_next_step(fmt.group_results(covered), unknown, covered)
    assert not fmt.nhs_finder_is_next_step(fmt.group_results(private), unknown, private)  # no NHS at all


def test_a_staging_copy_of_a_page_is_never_linked_from_a_card():
    # SignHealth's stored pages were read from staging.signhealth.org.uk: "Where this comes from"
    # linked a person to that pre-release copy of the site.
    import json
    from pathlib import Path

    records = json.loads((Path(__file__).resolve().parent.parent / "data" / "services.json").read_text())[
        "records"
    ]
    staged = [
        r
        for r in records
        if any("staging." in u for e in r["provenance"].values() if e for u in e.get("evidence_urls") or [])
    ]
    assert staged, "the committed data holds a service whose evidence is on a staging host"
    for record in staged:
        lines = " ".join(fmt.sources_for_people(record))
        assert "staging." not in lines
    assert fmt.md_link("page", "https://staging.example.org/x") == "page"
    assert fmt.md_link("page", "https://www.example.org/x").startswith("[page](")


def test_a_button_label_from_a_record_cannot_carry_markdown():
    # Streamlit draws button labels as Markdown: a name or phone with an image or a link in it
    # would show that image or link on the card's main button.
    phone = "0300 123 4567 ext ![x](https://e.example/p.png)"
    call = fmt.primary_action({"kind": "nhs", "self_referral_phone": phone})
    assert call is not None and call.url == "tel:03001234567"
    assert "![" not in call.label and "](" not in call.label.replace("\\]", "")
    visit = fmt.primary_action(
        {"kind": "nhs", "service_name": "[Evil](https://e.example)", "website": "https://nhs.example.org/"}
    )
    assert visit is not None and "[Evil]" not in visit.label


def test_every_source_of_the_data_has_a_title_for_people():
    import json
    from pathlib import Path

    manifest = json.loads((Path(__file__).resolve().parent.parent / "data" / "manifest.json").read_text())
    for name in manifest["sources"]:
        assert name in fmt.SOURCE_TITLES, f"'{name}' would be shown as '{fmt.source_title(name)}'"
