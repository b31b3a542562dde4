"""HCPC "Check the Register": one registrant's detail page, looked up by registration number.

GET https://www.hcpc-uk.org/check-the-register/professional-registration-detail/?query=NUMBER&profession=PREFIX
answers HTTP 200 whatever happens, so the outcome is read from the body: a block of labelled rows
(Name, Registration number, Profession, Status, Period, Location...) and a "Data valid on" line for
a registrant, or the sentence "No results returned for NUMBER" when the number is unknown (also
when the profession code does not match the number): that sentence means "not on the register" only
on a page that is recognisably HCPC's own. A challenge page (Cloudflare's "Just a moment...", seen
in front of the register in 2023) or any other page is ParseError, so the check is `check_failed`,
never `not_found`.
robots.txt disallows the surname search (register-results), not this detail page, so this module
only ever looks numbers up.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from bs4 import BeautifulSoup

from finder.accreditation import RegisterEntry, RegistrationNumber
from finder.errors import ParseError

DETAIL_URL = "https://www.hcpc-uk.org/check-the-register/professional-registration-detail/"
SEARCH_PAGE = "https://www.hcpc-uk.org/check-the-register/"
NO_RESULTS_RE = re.compile(r"No results returned for", re.IGNORECASE)
# What makes a page HCPC's own: its name, its host in a link, or its "Check the Register" form.
HCPC_PAGE_RE = re.compile(
    r"Health\s+(?:and|&(?:amp;)?)\s+Care\s+Professions\s+Council|hcpc-uk\.org|\bThe HCPC\b"
)
# A bot check in front of the site (Cloudflare and the like) instead of the register's answer.
CHALLENGE_RE = re.compile(
    r"Just a moment\.\.\.|Checking your browser|Attention Required!|cf-challenge|challenge-platform|cf_chl_"
    r"|Enable JavaScript and cookies to continue|Verify you are human",
    re.IGNORECASE,
)

# Row labels as HCPC words them, folded to our field names.
_LABELS = {
    "name": "name",
    "registrant name": "name",
    "registration number": "number",
    "registration no": "number",
    "status": "status",
    "registration status": "status",
    "profession": "profession",
    "period": "period",
    "registered period": "period",
    "current registration period": "period",
    "location": "location",
    "modality": "modality",
    "modalities": "modality",
    "domain": "modality",
    # Fitness to practise outcomes, should HCPC show them in a row of their own rather than in the
    # status (not observed live): they are read together with the status, never dropped.
    "sanction": "sanction",
    "sanctions": "sanction",
    "annotation": "sanction",
    "annotations": "sanction",
    "restrictions": "sanction",
    "conditions": "sanction",
    "conditions of practice": "sanction",
    "caution": "sanction",
    "fitness to practise": "sanction",
}


def detail_params(number: RegistrationNumber) -> dict[str, str]:
    return {"query": number.text, "profession": number.prefix}


def detail_link(number: RegistrationNumber, url: str = DETAIL_URL) -> str:
    return f"{url}?{urlencode(detail_params(number))}"


def _label(text: str) -> str | None:
    key = re.sub(r"[^a-z ]", "", text.lower().replace(":", " ")).strip()
    key = re.sub(r"\s+", " ", key)
    return _LABELS.get(key)


def _rows(soup: BeautifulSoup) -> dict[str, str]:
    """Label/value pairs of the registrant: the first table or definition list that holds a Name
    and a Status or Registration number row (so another table on the page, such as a cookie list
    with its own "Name" column, is never read as the registrant), else every row on the page."""
    for container in soup.find_all(["table", "dl"]):
        fields = _fields(container)
        if "name" in fields and ("status" in fields or "number" in fields):
            return fields
    return _fields(soup)


def _fields(soup) -> dict[str, str]:
    """Label/value pairs from table rows (th or td label, td value) and definition lists."""
    fields: dict[str, str] = {}
    for row in soup.find_all("tr"):
        cells = row.find_all(["th", "td"])
        if len(cells) >= 2:
            label = _label(cells[0].get_text(" ", strip=True))
            if label and label not in fields:
                fields[label] = " ".join(cells[1].get_text(" ", strip=True).split())
    for term in soup.find_all("dt"):
        value = term.find_next_sibling("dd")
        label = _label(term.get_text(" ", strip=True))
        if value is not None and label and label not in fields:
            fields[label] = " ".join(value.get_text(" ", strip=True).split())
    return fields


def parse_detail(html: str, number: str) -> list[RegisterEntry]:
    """The registrant shown on a detail page: one entry, or none when HCPC says it has no result.
    Raises ParseError for a page that is neither (a changed layout, an error page)."""
    if not html or not html.strip():
        raise ParseError("HCPC returned an empty page for a registration lookup")
    if CHALLENGE_RE.search(html):
        raise ParseError(
            "HCPC's site answered with a challenge page (a bot check), not the register: not checked"
        )
    soup = BeautifulSoup(html, "lxml")
    text = " ".join(soup.get_text(" ").split())
    fields = _rows(soup)
    if "name" in fields and ("status" in fields or "number" in fields):
        period = fields.get("period")
        level = fields.get("profession") or None
        if fields.get("modality"):
            level = f"{level}: {fields['modality']}" if level else fields["modality"]
        status = fields.get("status")
        if status and period:
            status = f"{status} ({period})"
        sanction = fields.get("sanction", "")
        if status and sanction and sanction.strip(" .-").lower() not in ("", "none", "n/a", "no"):
            status = f"{status}; {sanction}"
        return [
            RegisterEntry(
                name=fields["name"],
                registration_number=fields.get("number") or number,
                status_text=status,
                level=level,
                location=fields.get("location") or None,
            )
        ]
    if re.search(NO_RESULTS_RE.pattern + r"\W*" + re.escape(number), text, re.IGNORECASE):
        if HCPC_PAGE_RE.search(html):
            return []  # only the sentence about this number: a leftover template is no answer
        raise ParseError(
            "a page saying 'No results returned' that is not recognisably HCPC's (no HCPC name or "
            "link): not taken as 'not on the register'"
        )
    raise ParseError(
        "HCPC's registration detail page has changed: it shows neither a registrant (Name, Status "
        "rows) nor 'No results returned'"
    )


def data_valid_on(html: str) -> str | None:
    """The 'Data valid on' timestamp HCPC prints under a result, as written."""
    m = re.search(r"Data valid on:?\s*([0-9][0-9/:. -]+[0-9])", BeautifulSoup(html, "lxml").get_text(" "))
    return m[1].strip() if m else None


def lookup(fetch, number: RegistrationNumber, *, url: str = DETAIL_URL) -> list[RegisterEntry]:
    """Fetch and parse the detail page for `number` (FetchError and ParseError propagate)."""
    response = fetch(url, params=detail_params(number))
    if response.status == 404:
        raise ParseError("HCPC's registration detail page is missing (HTTP 404): the site has changed")
    return parse_detail(response.text, number.text)
