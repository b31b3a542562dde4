"""Links to search a register by hand, for registers this project cannot read itself (UKCP,
CBT Register UK, NCPS), for IPT UK when its site fails, and for any register in offline mode.

Only search pages are linked. Where a register's search page takes the query in its URL in a way
we have seen documented (BACP `?q=`, HCPC's detail page, NCPS member pages), the link carries it;
otherwise it is the register's search page and the note says what to type.
"""

from __future__ import annotations

from urllib.parse import quote

from finder.accreditation import (
    BABCP,
    BACP,
    HCPC,
    IPT_UK,
    NCPS,
    UKCP,
    RegistrationNumber,
)
from scrapers import bacp, hcpc, iptuk

SEARCH_PAGES = {
    IPT_UK: iptuk.DIRECTORY_URL,
    HCPC: hcpc.SEARCH_PAGE,
    BACP: bacp.SEARCH_URL,
    UKCP: "https://www.psychotherapy.org.uk/find-a-therapist/",
    BABCP: "https://www.cbtregisteruk.com/",
    NCPS: "https://www.search-ncps.com/search/FindaTherapist",
}


def manual_link(register: str, name: str | None = None, number: RegistrationNumber | None = None) -> str:
    """The https page where a person can check `register` by hand, pre-filled where the register
    allows it."""
    if register == HCPC and number is not None and number.kind == "hcpc":
        return hcpc.detail_link(number)
    if register == BACP and name:
        return bacp.search_link(name)
    if register == NCPS and number is not None and number.kind == "ncps":
        return f"{SEARCH_PAGES[NCPS]}/{quote(number.text)}"
    return SEARCH_PAGES[register]


def search_hint(register: str, name: str, number: RegistrationNumber | None = None) -> str:
    """What to type on the register's page."""
    if register == HCPC:
        return (
            "HCPC is checked by registration number (profession code and digits, like PYL012345); "
            f"choose the profession and search for {name}'s surname or number."
        )
    what = ""
    if number is not None and (number.kind == "digits" or (number.kind == "ncps" and register == NCPS)):
        what = f"the number {number.text} or "  # a number this register itself lists
    return f"Search {register} for {what}the name {name}."
