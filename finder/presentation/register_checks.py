"""Register checks in words: each register's status, the summary shown first, which registers
are worth opening."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from finder.presentation.text import md_escape, md_link
from finder.schema import public_url


@dataclass(frozen=True)
class StatusWords:
    words: str  # what the status means, in a sentence fragment a person understands
    icon: str  # a Streamlit material icon name, so each status also looks different
    tone: str  # success | warning | error | info | neutral


REGISTER_STATUS = {
    "current": StatusWords("Registered (current)", ":material/verified:", "success"),
    "current_with_conditions": StatusWords(
        "Registered, with conditions on practice", ":material/rule:", "warning"
    ),
    "lapsed_or_removed": StatusWords("No longer registered (lapsed or removed)", ":material/block:", "error"),
    "not_found": StatusWords("Not found on this register", ":material/person_off:", "neutral"),
    "ambiguous": StatusWords(
        "More than one possible match: compare the details below", ":material/help:", "warning"
    ),
    "check_failed": StatusWords(
        "Could not check: the register did not answer. This is not the same as 'not found'; "
        "try again later or use the link to check by hand",
        ":material/cloud_off:",
        "warning",
    ),
    "manual_check": StatusWords(
        "Check by hand: not checked automatically here; follow the link to the register's own search",
        ":material/open_in_new:",
        "info",
    ),
}


def checked_text(checked_at: object) -> str | None:
    """'2026-11-25 18:35 UTC' from an ISO timestamp ('2026-11-25T18:35:23Z'); dates pass through."""
    if not isinstance(checked_at, str) or not checked_at.strip():
        return None
    match = re.fullmatch(
        r"(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?(Z|[+-]00:?00)?)?", checked_at.strip()
    )
    if not match:
        return checked_at.strip()
    day, time_of_day, utc = match.groups()
    if not time_of_day:
        return day
    return f"{day} {time_of_day}" + (" UTC" if utc else "")


def status_words(status: str) -> StatusWords:
    return REGISTER_STATUS.get(
        status, StatusWords(f"Unknown status ({md_escape(status)})", ":material/help:", "neutral")
    )


# The HCPC's profession codes, the letters its registration numbers start with.
HCPC_PROFESSIONS = {
    "AS": "arts therapist",
    "BS": "biomedical scientist",
    "CH": "chiropodist or podiatrist",
    "CS": "clinical scientist",
    "DT": "dietitian",
    "HAD": "hearing aid dispenser",
    "OT": "occupational therapist",
    "ODP": "operating department practitioner",
    "OR": "orthoptist",
    "PA": "paramedic",
    "PH": "physiotherapist",
    "PYL": "practitioner psychologist",
    "PO": "prosthetist or orthotist",
    "RA": "radiographer",
    "SL": "speech and language therapist",
}
# Which registers a number of each shape can belong to (see finder.accreditation's number rules).
REGISTERS_BY_NUMBER = {
    "hcpc": ("HCPC",),
    "digits": ("BACP", "UKCP", "CBT Register UK (BABCP)"),
    "ncps": ("NCPS",),
}
_FAILED = ("check_failed", "manual_check")


def number_words(kind: str | None, text: str | None, prefix: str | None = None) -> str | None:
    """Which register a registration number belongs to, in words."""
    if kind == "hcpc":
        job = HCPC_PROFESSIONS.get(prefix or "")
        return f"{text} is an HCPC number" + (f" ({job})." if job else ".")
    if kind == "digits":
        return f"{text} looks like a BACP, UKCP or BABCP membership number."
    if kind == "ncps":
        return f"{text} is an NCPS number."
    return None


def relevant_registers(registers: Iterable[Mapping], number_kind: str | None) -> set[str]:
    """The registers worth opening: IPT UK, those the number can belong to (or HCPC and BACP, the
    most common, without a number), and any register that found something."""
    wanted = {"IPT UK", *REGISTERS_BY_NUMBER.get(number_kind or "", ("HCPC", "BACP"))}
    for register in registers:
        if register.get("status") not in (*_FAILED, "not_found"):
            wanted.add(str(register.get("register")))
    return wanted


def check_summary(result: Mapping, number: object = None) -> list[str]:
    """The three lines shown first on the check page, as Markdown. A register that could not be
    checked never turns into a negative verdict: it is named with a link to check by hand.
    `number` is the parsed registration number (finder.accreditation.RegistrationNumber) or None."""
    number_kind = getattr(number, "kind", None)
    overall = result.get("overall")
    if not isinstance(overall, Mapping):
        overall = {}
    registers = [r for r in result.get("registers") or [] if isinstance(r, Mapping)]
    relevant = relevant_registers(registers, number_kind)
    found = [r for r in registers if r.get("status") in ("current", "current_with_conditions")]
    gone = [r for r in registers if r.get("status") == "lapsed_or_removed"]
    unchecked = [r for r in registers if r.get("status") in _FAILED and r.get("register") in relevant]
    lines = []
    if overall.get("ipt_accredited"):
        lines.append(md_escape(overall.get("verdict") or "Accredited for IPT."))
    elif found or gone:
        parts = [f"on the {md_escape(r.get('register'))} register" for r in found]
        parts += [f"no longer registered with {md_escape(r.get('register'))}" for r in gone]
        lines.append("We found this name " + "; ".join(parts) + ".")
    else:
        names = " or ".join(md_escape(r.get("register")) for r in unchecked[:2]) or "the registers"
        lines.append(
            f"We could not check {names} automatically just now: that says nothing against the therapist."
        )
    if unchecked:
        links = " ".join(md_link(r.get("register"), r["url"]) for r in unchecked if public_url(r.get("url")))
        lines.append(
            f"Check by hand here: {links}" if links else "Check by hand on each register's own website."
        )
    else:
        lines.append("Every register relevant to what you typed answered.")
    words = number_words(number_kind, getattr(number, "text", None), getattr(number, "prefix", None))
    lines.append(
        md_escape(words) if words else "Add a registration number to check it against its own register."
    )
    return lines


def candidate_text(candidate: object) -> str:
    """A possible match a register gave: its name, number and place (plain text)."""
    if isinstance(candidate, dict):
        parts = [candidate.get("name"), candidate.get("registration_number"), candidate.get("location")]
        return ", ".join(str(p) for p in parts if p)
    return str(candidate)
