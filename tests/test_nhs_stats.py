"""NHS England's annual report pages: the years the refresh looks for and the files it takes."""

import pytest
from helpers import StaticFetcher

from finder.errors import ParseError
from scrapers import nhs_stats

PAGE = "https://digital.nhs.uk/data-and-information/publications/statistical/reports/2024-25"


@pytest.mark.parametrize(
    ("today", "known", "expected"),
    [
        ("2026-05-10", {"2023-24"}, ["2024-25", "2025-26"]),  # 2025-26 ended on 31 March 2026
        ("2026-03-10", {"2023-24"}, ["2024-25"]),  # 2025-26 has not ended yet
        ("2026-05-10", {"2023-24", "2025-26"}, []),  # nothing newer than the newest held
    ],
)
def test_expected_periods_are_the_ended_years_newer_than_those_held(today, known, expected):
    assert nhs_stats.expected_periods(today, known) == expected


def test_publication_files_are_the_http_csv_and_zip_links_once():
    html = (
        "<a href='/files/annual_main_2024-25.csv'>Main measures</a>"
        "<a href='https://files.digital.nhs.uk/therapy_2024-25.zip'>Therapy outcomes</a>"
        "<a href='/files/annual_main_2024-25.csv'>Main measures again</a>"
        "<a href='/files/metadata.xlsx'>Metadata</a>"
        "<a href='javascript:alert(1)//x.csv'>Not a link</a>"
    )
    assert nhs_stats.parse_publication_files(html, PAGE) == [
        "https://digital.nhs.uk/files/annual_main_2024-25.csv",
        "https://files.digital.nhs.uk/therapy_2024-25.zip",
    ]


def test_scrape_notes_a_year_not_published_and_takes_a_published_one():
    base = nhs_stats.ANNUAL_REPORTS_URL
    fetch = StaticFetcher(
        {f"{base}/2024-25": "<a href='/files/main_2024-25.csv'>CSV</a>", f"{base}/2025-26": (404, "")}
    )
    files, notes = nhs_stats.scrape(fetch, "2026-05-10", {"2023-24"})
    assert files == ["https://digital.nhs.uk/files/main_2024-25.csv"]
    assert notes == ["2025-26 annual report not published yet"]


def test_a_published_page_without_files_is_a_changed_layout():
    fetch = StaticFetcher({f"{nhs_stats.ANNUAL_REPORTS_URL}/2024-25": "<p>Coming soon</p>"})
    with pytest.raises(ParseError, match="links no CSV or zip file"):
        nhs_stats.scrape(fetch, "2025-05-10", {"2023-24"})
