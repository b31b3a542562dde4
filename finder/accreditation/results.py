"""What a register check says: the statuses, how a result was obtained and how sure it is, the
registers, a register's entry, one register's result, and the words every judging shares."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass

from finder import names
from finder.accreditation.numbers import RegistrationNumber

CURRENT = "current"
CURRENT_WITH_CONDITIONS = "current_with_conditions"
LAPSED_OR_REMOVED = "lapsed_or_removed"
NOT_FOUND = "not_found"
AMBIGUOUS = "ambiguous"
CHECK_FAILED = "check_failed"
MANUAL_CHECK = "manual_check"
STATUSES = (
    CURRENT,
    CURRENT_WITH_CONDITIONS,
    LAPSED_OR_REMOVED,
    NOT_FOUND,
    AMBIGUOUS,
    CHECK_FAILED,
    MANUAL_CHECK,
)
# Statuses that count as holding a registration (conditions of practice still allow practice).
REGISTERED_STATUSES = frozenset({CURRENT, CURRENT_WITH_CONDITIONS})

# How a result was obtained.
METHOD_LIVE_NUMBER = "live: registration number lookup"
METHOD_LIVE_NAME = "live: name search"
METHOD_LOCAL = "local data"
METHOD_MANUAL = "manual: search by hand at the link"

# How sure a result is about the identity of the person.
CONFIDENCE_HIGH = "high"  # exact name and the registration number asked about
CONFIDENCE_MEDIUM = "medium"  # exact name, one entry, no number to confirm it
CONFIDENCE_LOW = "low"  # a similar name only, or a number whose name differs
CONFIDENCE_NONE = "none"  # nothing was compared (failed, manual, not found)

IPT_UK = "IPT UK"
HCPC = "HCPC"
BACP = "BACP"
UKCP = "UKCP"
BABCP = "CBT Register UK (BABCP)"
NCPS = "NCPS"
CORE_REGISTERS = (HCPC, BACP, UKCP, BABCP, NCPS)
ALL_REGISTERS = (IPT_UK, *CORE_REGISTERS)
# The short codes registers go by in IPT UK listings and practitioner records.
REGISTER_CODES = {HCPC: "HCPC", BACP: "BACP", UKCP: "UKCP", BABCP: "BABCP", NCPS: "NCPS"}


@dataclass(frozen=True)
class CheckQuery:
    """What a checker is asked: the name as typed, parsed, and the registration number if any."""

    name: str
    parsed: names.ParsedName
    registration_number: RegistrationNumber | None
    checked_at: str  # ISO 8601 UTC, the moment of this check

    @property
    def date(self) -> str:
        return self.checked_at[:10]


@dataclass(frozen=True)
class RegisterEntry:
    """One entry as a register shows it (parsed from its page or from local data)."""

    name: str
    registration_number: str | None = None
    status_text: str | None = None  # the register's own words: "Registered", "Suspended"...
    level: str | None = None  # "MBACP (Accred)", "Level B", "Practitioner psychologist"...
    location: str | None = None
    url: str | None = None  # the entry's own page, when it has one
    last_verified: str | None = None  # for local data: when the entry was last checked at source


@dataclass(frozen=True)
class RegisterResult:
    register: str
    status: str
    url: str
    checked_at: str
    method: str
    confidence: str = CONFIDENCE_NONE
    level: str | None = None
    registration_number: str | None = None
    name_on_register: str | None = None
    candidates: tuple[Mapping[str, object], ...] = ()
    note: str = ""

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")
        if not self.url.startswith("https://") and not self.url.startswith("http://"):
            raise ValueError(f"register links must be http(s): {self.url!r}")

    def to_json(self) -> dict:
        data = asdict(self)
        data["candidates"] = [dict(c) for c in self.candidates]
        return {
            key: data[key]
            for key in (
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
            )
        }


@dataclass(frozen=True)
class Overall:
    ipt_accredited: bool
    verdict: str
    missing: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {"ipt_accredited": self.ipt_accredited, "verdict": self.verdict, "missing": list(self.missing)}


@dataclass(frozen=True)
class CheckResult:
    name: str
    registration_number: str | None
    registers: tuple[RegisterResult, ...]
    overall: Overall
    checked_at: str = ""

    def result_for(self, register: str) -> RegisterResult | None:
        return next((r for r in self.registers if r.register == register), None)

    def to_json(self) -> dict:
        return {
            "query": {"name": self.name, "registration_number": self.registration_number},
            "registers": [r.to_json() for r in self.registers],
            "overall": self.overall.to_json(),
        }


Checker = Callable[[CheckQuery], RegisterResult]


def status_from_text(text: str | None) -> str | None:
    """A register's own status words mapped onto our statuses; None when the words are unknown
    (an unknown status is a changed page, not a verdict)."""
    if not text:
        return None
    t = names.fold(text)
    if re.search(
        r"\b(not registered|suspend|struck|strike|removed|lapsed|expired|deregistered"
        r"|de registered|withdrawn|erased|resigned|voluntar|ceased|revoked)",
        t,
    ):
        return LAPSED_OR_REMOVED
    if re.search(r"\b(condition|caution|restrict|interim order)", t):
        return CURRENT_WITH_CONDITIONS
    if re.search(r"\b(registered|current|active|accredited|member)\b", t):
        return CURRENT
    return None


def not_found_note(register: str, date: str) -> str:
    return f"Not found on {register} as of {date}."


def failed_result(
    register: str,
    query: CheckQuery,
    url: str,
    reason: str,
    method: str,
    registration_number: str | None = None,
) -> RegisterResult:
    """A check that could not be completed: never read as 'not on the register'."""
    return RegisterResult(
        register,
        CHECK_FAILED,
        url,
        query.checked_at,
        method,
        registration_number=registration_number,
        note=f"Could not check {register} as of {query.date} ({reason}); this is not a 'not found'. "
        "Try again later or search by hand at the link.",
    )


def manual_result(register: str, query: CheckQuery, url: str, why: str) -> RegisterResult:
    return RegisterResult(
        register,
        MANUAL_CHECK,
        url,
        query.checked_at,
        METHOD_MANUAL,
        note=f"{why} Search by hand at the link.",
    )


def candidate(entry: RegisterEntry, match: names.NameMatch | None = None) -> dict[str, object]:
    row: dict[str, object] = {
        "name": entry.name,
        "registration_number": entry.registration_number,
        "status": entry.status_text,
        "level": entry.level,
        "location": entry.location,
    }
    if entry.url:
        row["url"] = entry.url
    if match is not None:
        row["score"] = match.score
    return row


def status_note(register: str, status: str, entry: RegisterEntry, date: str) -> str:
    said = f" ({entry.status_text})" if entry.status_text else ""
    when = f"as last verified on {entry.last_verified}" if entry.last_verified else f"as of {date}"
    if register == IPT_UK:
        # IPT UK is a membership body's directory, not a statutory or accredited register.
        level = f" at {entry.level}" if entry.level else ""
        return f"Listed in IPT UK's directory{level} {when}."
    if status == CURRENT:
        return f"On the {register} register{said} {when}."
    if status == CURRENT_WITH_CONDITIONS:
        return f"On the {register} register with conditions or a caution{said} {when}: read them at the link."
    return f"Listed by {register} but not currently registered{said} {when}."
