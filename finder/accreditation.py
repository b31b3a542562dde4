"""Is this therapist an accredited IPT practitioner? One answer gathered from several registers.

IPT UK lists who is accredited in Interpersonal Psychotherapy, but it is not itself an accredited
register of the Professional Standards Authority; the core professional registration lives on HCPC,
BACP, UKCP, CBT Register UK (BABCP) or NCPS. So the overall verdict is "IPT accredited" only when
IPT UK lists the person AND at least one core register shows them currently registered.

Each register yields a `RegisterResult` whose status is one of `STATUSES`. The rules that keep the
answer honest:
- a network error, a timeout or a page whose layout changed is `check_failed`, never `not_found`;
- `not_found` always says "not found on X as of DATE" and carries the link to look again;
- a fuzzy name match alone is never `current` (it is `ambiguous`, with the candidates listed);
- a registration number whose register name differs from the name asked about is `ambiguous`;
- several entries with the same name are `ambiguous`, with every candidate listed.

This module holds the rules only. The live lookups are injected as `Checker` callables by the
composition root (`finder.cli.live`), so nothing here imports a scraper or touches the network.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime

from finder import names
from finder.errors import FinderError

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

# HCPC numbers are the profession's letters then up to six digits ("PYL012345"). These are the
# profession codes of the HCPC register; practitioner psychologists (PYL) and arts therapists (AS)
# are the ones who most often train in IPT.
HCPC_PREFIXES = (
    "AS",
    "BS",
    "CH",
    "CS",
    "DT",
    "HAD",
    "OT",
    "ODP",
    "OR",
    "PA",
    "PH",
    "PYL",
    "PO",
    "RA",
    "SL",
)
HCPC_NUMBER_RE = re.compile(r"^(" + "|".join(sorted(HCPC_PREFIXES, key=len, reverse=True)) + r")(\d{1,6})$")
# BACP membership numbers and UKCP/BABCP numbers are digits; NCPS numbers look like NCS14-01401.
DIGITS_NUMBER_RE = re.compile(r"^\d{3,9}$")
NCPS_NUMBER_RE = re.compile(r"^NCS\d{2}-\d{5}$")
MAX_NUMBER_LENGTH = 20
_REGISTER_WORD_RE = re.compile(
    r"^(?:HCPC|M?BACP|UKCP|BABCP|NCPS)(?:REG|REGISTRATION)?(?:NO\.?|NUMBER)?[:#.]*(?=\w)"
)
_MARKUP_RE = re.compile(r"[<>{}\[\]\\|`$;=]|&#|&[a-z]+;|://", re.IGNORECASE)


# ---------------------------------------------------------------------------------------------
# Input


@dataclass(frozen=True)
class RegistrationNumber:
    text: str  # normalised: upper case, no spaces
    kind: str  # "hcpc" | "digits" | "ncps"
    prefix: str = ""  # HCPC profession code


def parse_registration_number(number: object) -> RegistrationNumber | None:
    """Validate a registration number's shape; None for no number. Raises FinderError."""
    if number is None:
        return None
    if not isinstance(number, str):
        raise FinderError("The registration number must be text, like PYL012345.")
    text = re.sub(r"[\s]+", "", number).upper()
    if not text.isascii():
        # Registers number in ASCII: full-width or other scripts' digits ("PYL１２３") would build
        # a link to a number that does not exist.
        raise FinderError(
            "Please type the registration number with ordinary letters and digits, like PYL012345."
        )
    # "BACP 300001", "HCPC: PYL012345", "NCPS no. NCS14-01401": the register's name is not part of
    # the number.
    text = _REGISTER_WORD_RE.sub("", text)
    if not text:
        return None
    if len(text) > MAX_NUMBER_LENGTH:
        raise FinderError("That registration number is too long; numbers look like PYL012345 or 383010.")
    if m := HCPC_NUMBER_RE.match(text):
        return RegistrationNumber(text, "hcpc", m[1])
    if DIGITS_NUMBER_RE.match(text):
        return RegistrationNumber(text, "digits")
    if NCPS_NUMBER_RE.match(text):
        return RegistrationNumber(text, "ncps")
    shown = text if len(text) <= 20 else text[:19] + "…"
    if re.match(r"^[A-Z]+\d+$", text):
        raise FinderError(
            f"'{shown}' is not an HCPC registration number: HCPC numbers are a profession code "
            f"({', '.join(HCPC_PREFIXES)}) and up to six digits, like PYL012345."
        )
    raise FinderError(
        f"'{shown}' doesn't look like a registration number: use an HCPC number like PYL012345, "
        "a BACP, UKCP or BABCP membership number (digits), or an NCPS number like NCS14-01401."
    )


def validate_name(name: object) -> names.ParsedName:
    """The therapist's name as typed, parsed; raises FinderError with a one-line message."""
    if not isinstance(name, str) or not name.strip():
        raise FinderError('Please give the therapist\'s name, like "Jane Smith".')
    if len(name) > names.MAX_NAME_LENGTH:
        raise FinderError(f"That name is too long (at most {names.MAX_NAME_LENGTH} characters).")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in name) or _MARKUP_RE.search(
        name
    ):
        raise FinderError("Please type just the therapist's name, without markup or links.")
    if not re.search(r"[a-z]", names.fold(name)) and any(ch.isalpha() for ch in name):
        raise FinderError(
            'Please type the name in Latin letters, as the registers list it (like "Jane Smith").'
        )
    try:
        parsed = names.parse_name(name)
    except ValueError:
        raise FinderError(
            "That has no name left once titles and letters (Dr, MBACP, PhD...) are removed."
        ) from None
    if not parsed.first or not any(ch.isalpha() for ch in parsed.surname):
        raise FinderError('Please give the therapist\'s first name and surname, like "Jane Smith".')
    return parsed


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


# ---------------------------------------------------------------------------------------------
# Register entries and results


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


def _candidate(entry: RegisterEntry, match: names.NameMatch | None = None) -> dict[str, object]:
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


def _same_number(listed: str | None, number: str | None) -> bool:
    """Whether `number` is among the numbers an entry lists: one ("300001"), several from local
    data ("PYL012345, 300001") or with the register's name ("HCPC PYL012345")."""
    if not (listed and number):
        return False
    wanted = re.sub(r"\s", "", number).upper()
    return wanted == re.sub(r"\s", "", listed).upper() or wanted in re.findall(r"[A-Z0-9-]+", listed.upper())


def _same_register_number(shown: str, asked: str) -> bool:
    """The number a register shows is the one asked about: same letters, same digits once leading
    zeros are set aside ("PYL012345" and "PYL12345")."""

    def key(text: str) -> tuple[str, str]:
        m = re.match(r"^([A-Z]*)(\d+)$", re.sub(r"[\s-]", "", text).upper())
        return (m[1], m[2].lstrip("0")) if m else (re.sub(r"\s", "", text).upper(), "")

    return key(shown) == key(asked)


def judge_number_lookup(
    register: str,
    query: CheckQuery,
    entries: Sequence[RegisterEntry],
    *,
    url: str,
    default_status_text: str | None = None,
) -> RegisterResult:
    """The result of looking a registration number up (HCPC): `entries` is what the register showed
    for that number, empty when it said it has none."""
    number = query.registration_number.text if query.registration_number else None
    if not entries:
        return RegisterResult(
            register,
            NOT_FOUND,
            url,
            query.checked_at,
            METHOD_LIVE_NUMBER,
            registration_number=number,
            note=f"{not_found_note(register, query.date)} No entry has the number {number}; check the "
            "number and the profession.",
        )
    entry = entries[0]
    match = names.compare(query.parsed, names.parse_name(entry.name)) if _parses(entry.name) else None
    status = status_from_text(entry.status_text or default_status_text)
    # What every answer below says about the entry the register showed.
    result = functools.partial(
        RegisterResult,
        registration_number=entry.registration_number or number,
        name_on_register=entry.name,
        level=entry.level,
        url=entry.url or url,
        checked_at=query.checked_at,
        method=METHOD_LIVE_NUMBER,
    )
    if status is None:
        return result(
            register,
            CHECK_FAILED,
            note=f"{register} showed a status we don't recognise ({entry.status_text!r}); "
            "read it at the link.",
        )
    if number and entry.registration_number and not _same_register_number(entry.registration_number, number):
        return result(
            register,
            AMBIGUOUS,
            confidence=CONFIDENCE_LOW,
            candidates=(_candidate(entry, match),),
            note=f"{register} answered the number {number} with an entry numbered "
            f"{entry.registration_number}: check the number at the link.",
        )
    if match is None or not match.exact:
        return result(
            register,
            AMBIGUOUS,
            confidence=CONFIDENCE_LOW,
            candidates=(_candidate(entry, match),),
            note=f"{number} is registered to {entry.name!r}, which is not exactly "
            f"{query.parsed.display!r}: check the number, or a change of name, at the link.",
        )
    return result(
        register,
        status,
        confidence=CONFIDENCE_HIGH,
        note=_status_note(register, status, entry, query.date),
    )


def _status_note(register: str, status: str, entry: RegisterEntry, date: str) -> str:
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


def _parses(name: str) -> bool:
    try:
        names.parse_name(name)
    except ValueError:
        return False
    return True


# Register entries with how their name matched the query.
_Matched = list[tuple[RegisterEntry, names.NameMatch]]


def judge_name_search(
    register: str,
    query: CheckQuery,
    entries: Sequence[RegisterEntry],
    *,
    url: str,
    method: str = METHOD_LIVE_NAME,
    default_status_text: str | None = None,
) -> RegisterResult:
    """The result of searching a register by name (BACP, IPT UK): `entries` is every entry the
    search showed. Registers that only list current members pass `default_status_text`."""
    number = query.registration_number.text if query.registration_number else None
    index = names.NameIndex([e.name for e in entries])
    matches = index.matches(query.parsed)
    exact = [(entries[i], m) for i, m in matches if m.exact]
    close = [(entries[i], m) for i, m in matches if not m.exact]
    if any(m.whole_surname for _, m in exact):
        # "Jane Smith-Jones" listed in full outranks a "Jane Smith" who shares one part: the
        # part-only entries stay visible as candidates.
        close = [(e, m) for e, m in exact if not m.whole_surname] + close
        exact = [(e, m) for e, m in exact if m.whole_surname]
    if number:
        numbered = [(e, m) for e, m in exact if _same_number(e.registration_number, number)]
        if numbered:
            exact = numbered
        else:
            # A number given but carried by a different name: the number does not confirm anyone.
            others = [e for e in entries if _same_number(e.registration_number, number)]
            if others:
                return _number_of_someone_else(register, query, others, exact, url=url, method=method)
    if len(exact) == 1:
        entry, _match = exact[0]
        return _one_exact_match(
            register, query, entry, close, url=url, method=method, default_status_text=default_status_text
        )
    return _no_single_match(register, query, exact, close, url=url, method=method)


def _number_of_someone_else(
    register: str,
    query: CheckQuery,
    others: Sequence[RegisterEntry],
    exact: _Matched,
    *,
    url: str,
    method: str,
) -> RegisterResult:
    """The registration number given is listed, but under another name: ambiguous, never a match."""
    entry = others[0]
    number = query.registration_number.text if query.registration_number else None
    return RegisterResult(
        register,
        AMBIGUOUS,
        url,
        query.checked_at,
        method,
        CONFIDENCE_LOW,
        entry.level,
        entry.registration_number,
        entry.name,
        candidates=tuple(_candidate(e) for e in others) + tuple(_candidate(e, m) for e, m in exact),
        note=f"The number {number} belongs to {entry.name!r} on {register}, not to {query.parsed.display!r}.",
    )


def _one_exact_match(
    register: str,
    query: CheckQuery,
    entry: RegisterEntry,
    close: _Matched,
    *,
    url: str,
    method: str,
    default_status_text: str | None,
) -> RegisterResult:
    """One entry has exactly the name: its status counts, with high confidence only when the
    registration number given is its own."""
    number = query.registration_number.text if query.registration_number else None
    status = status_from_text(entry.status_text or default_status_text)
    confident = (
        CONFIDENCE_HIGH if number and _same_number(entry.registration_number, number) else CONFIDENCE_MEDIUM
    )
    if status is None:
        return RegisterResult(
            register,
            CHECK_FAILED,
            entry.url or url,
            query.checked_at,
            method,
            CONFIDENCE_NONE,
            entry.level,
            entry.registration_number,
            entry.name,
            note=f"{register} showed a status we don't recognise ({entry.status_text!r}).",
        )
    return RegisterResult(
        register,
        status,
        entry.url or url,
        query.checked_at,
        method,
        confident,
        entry.level,
        entry.registration_number,
        entry.name,
        candidates=tuple(_candidate(e, m) for e, m in close),
        note=_status_note(register, status, entry, query.date),
    )


def _no_single_match(
    register: str, query: CheckQuery, exact: _Matched, close: _Matched, *, url: str, method: str
) -> RegisterResult:
    """Several exact names, only similar names, or nobody: never a verdict on one person."""
    number = query.registration_number.text if query.registration_number else None
    if len(exact) > 1:
        return RegisterResult(
            register,
            AMBIGUOUS,
            url,
            query.checked_at,
            method,
            CONFIDENCE_LOW,
            candidates=tuple(_candidate(e, m) for e, m in exact + close),
            note=f"{len(exact)} entries on {register} match the name {query.parsed.display} ("
            + ", ".join(e.name for e, _ in exact)
            + "): give a registration number, or compare the candidates' locations at the link.",
        )
    if close:
        return RegisterResult(
            register,
            AMBIGUOUS,
            url,
            query.checked_at,
            method,
            CONFIDENCE_LOW,
            candidates=tuple(_candidate(e, m) for e, m in close),
            note=f"No entry on {register} is exactly {query.parsed.display}; similar names are listed "
            "as candidates (a similar name alone is not a match).",
        )
    return RegisterResult(
        register,
        NOT_FOUND,
        url,
        query.checked_at,
        method,
        registration_number=number,
        note=not_found_note(register, query.date),
    )


def judge_incomplete_search(
    register: str,
    query: CheckQuery,
    entries: Sequence[RegisterEntry],
    *,
    url: str,
    method: str = METHOD_LIVE_NAME,
    default_status_text: str | None = None,
) -> RegisterResult:
    """A name search whose results ran past what could be read: `entries` is only the start of the
    answer. Absence from it proves nothing and one exact name in it may not be the only one, so the
    answer is `ambiguous` with the close names read so far, unless the registration number asked
    about confirms one of them (a number belongs to one person however long the list)."""
    number = query.registration_number.text if query.registration_number else None
    if number and any(_same_number(e.registration_number, number) for e in entries):
        result = judge_name_search(
            register, query, entries, url=url, method=method, default_status_text=default_status_text
        )
        if result.confidence == CONFIDENCE_HIGH or result.status == AMBIGUOUS:
            return result
    index = names.NameIndex([e.name for e in entries])
    return RegisterResult(
        register,
        AMBIGUOUS,
        url,
        query.checked_at,
        method,
        CONFIDENCE_LOW,
        candidates=tuple(_candidate(entries[i], m) for i, m in index.matches(query.parsed)),
        note=f"{register} has more entries for {query.parsed.display} than we could read (we read "
        f"{len(entries)}), so we can't tell which, if any, is this person as of {query.date}: give a "
        "registration number, or search by hand at the link.",
    )


# ---------------------------------------------------------------------------------------------
# The local IPT UK data


def ipt_entries_from_records(records: Iterable[Mapping[str, object]]) -> list[RegisterEntry]:
    """Practitioner records (data/practitioners.json) as IPT UK entries: each record holds the IPT
    UK level exactly as IPT UK lists it."""
    entries = []
    for record in records:
        level = record.get("ipt_level")
        if not level:
            continue
        registrations = record.get("registrations")
        numbers = [
            f"{r.get('register')} {r.get('number')}".strip()
            for r in (registrations if isinstance(registrations, list | tuple) else ())
            if isinstance(r, Mapping) and r.get("number")
        ]
        source = record.get("source")
        place = record.get("town") or record.get("outcode")
        entries.append(
            RegisterEntry(
                name=str(record.get("name", "")),
                registration_number=", ".join(numbers) or None,
                status_text="Accredited",  # the IPT UK directory lists accredited members only
                level=str(level),
                location=str(place) if place else None,
                url=source
                if isinstance(source, str) and source.startswith(("https://", "http://"))
                else None,
                last_verified=str(record.get("last_verified") or "") or None,
            )
        )
    return entries


def local_ipt_check(
    records: Sequence[Mapping[str, object]], query: CheckQuery, *, url: str
) -> RegisterResult:
    """IPT UK accreditation from the local practitioner table. With no table imported there is
    nothing to compare, so the answer is a manual check, never 'not found'."""
    entries = ipt_entries_from_records(records)
    if not entries:
        return manual_result(
            IPT_UK,
            query,
            url,
            "We don't hold a copy of the IPT UK directory yet: please search it at the link.",
        )
    result = judge_name_search(IPT_UK, query, entries, url=url, method=METHOD_LOCAL)
    if result.status == NOT_FOUND:
        verified = sorted(str(r.get("last_verified", "")) for r in records if r.get("last_verified"))
        as_of = verified[-1] if verified else query.date
        result = replace(
            result,
            note=f"Not found on {IPT_UK} in the local copy of its directory (as of "
            f"{as_of}); it may be newer than ours, so check at the link.",
        )
    return result


# ---------------------------------------------------------------------------------------------
# The verdict


def overall_verdict(results: Sequence[RegisterResult]) -> Overall:
    """'IPT accredited' only when IPT UK lists the person and a core register shows them current."""
    by_register = {r.register: r for r in results}
    ipt = by_register.get(IPT_UK)
    ipt_listed = ipt if ipt is not None and ipt.status in REGISTERED_STATUSES else None
    core = [r for r in results if r.register in CORE_REGISTERS]
    listed = listed_registrations(ipt_listed.registration_number) if ipt_listed else {}
    core_ok = [r for r in core if r.status in REGISTERED_STATUSES and not _other_person(r, listed)]
    if ipt_listed is not None and core_ok:
        level = f" ({ipt_listed.level})" if ipt_listed.level else ""
        regs = ", ".join(
            r.register + (" with conditions" if r.status == CURRENT_WITH_CONDITIONS else "") for r in core_ok
        )
        return Overall(True, f"IPT accredited: listed by IPT UK{level} and currently registered with {regs}.")
    missing: list[str] = []
    short: list[str] = []
    if ipt_listed is None:
        missing.append(f"IPT UK accreditation ({_why(ipt) if ipt else 'not checked'})")
        short.append("IPT UK accreditation")
    if not core_ok:
        detail = "; ".join(f"{r.register}: {_why(r, listed)}" for r in core) or "none checked"
        missing.append(f"a current core registration ({detail})")
        short.append("a current core registration (" + ", ".join(CORE_REGISTERS) + ")")
    return Overall(
        # "could not confirm", not "missing": most often a register was simply not checked here.
        False,
        "Not confirmed as IPT accredited: we could not confirm " + " or ".join(short) + ".",
        tuple(missing),
    )


# The short codes registers go by in IPT UK listings and practitioner records.
REGISTER_CODES = {HCPC: "HCPC", BACP: "BACP", UKCP: "UKCP", BABCP: "BABCP", NCPS: "NCPS"}
_LISTED_RE = re.compile(r"\b(HCPC|BACP|UKCP|BABCP|NCPS)\b[\s:#-]*([A-Z]{0,3}\d[\d-]*)", re.IGNORECASE)


def listed_registrations(text: str | None) -> dict[str, set[str]]:
    """Registrations named in an IPT UK entry's text: 'HCPC PYL012345; BACP 300001' ->
    {'HCPC': {'PYL012345'}, 'BACP': {'300001'}}. Numbers without a register name are left out."""
    found: dict[str, set[str]] = {}
    for code, number in _LISTED_RE.findall(text or ""):
        found.setdefault(code.upper(), set()).add(number.upper())
    return found


def _other_person(result: RegisterResult, listed: Mapping[str, set[str]]) -> bool:
    """The IPT UK entry names its own number on this register and the register's entry has another:
    two people with one name, so this registration is not the IPT UK member's."""
    numbers = listed.get(REGISTER_CODES.get(result.register, ""))
    number = result.registration_number
    if not numbers or not number:
        return False
    return not any(_same_register_number(number, n) for n in numbers)


def _why(result: RegisterResult, listed: Mapping[str, set[str]] | None = None) -> str:
    if listed and result.status in REGISTERED_STATUSES and _other_person(result, listed):
        code = REGISTER_CODES[result.register]
        return (
            f"the entry found, {result.registration_number}, is not the {code} number IPT UK lists "
            f"({', '.join(sorted(listed[code]))}): another person with the same name?"
        )
    return {
        CURRENT: "current",
        CURRENT_WITH_CONDITIONS: "current with conditions",
        LAPSED_OR_REMOVED: "lapsed or removed",
        NOT_FOUND: "not found",
        AMBIGUOUS: "ambiguous: more than one possible entry or a name that differs",
        CHECK_FAILED: "the check failed",
        MANUAL_CHECK: "needs a check by hand",
    }[result.status]


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def check_therapist(
    name: str,
    registration_number: str | None,
    checkers: Sequence[tuple[str, Checker]],
    *,
    links: Mapping[str, str],
    checked_at: str | None = None,
) -> CheckResult:
    """Run every register's checker and combine them. Input is validated first (FinderError).
    A checker that raises is reported as `check_failed` for its register, never as not found;
    `links` gives each register's page to search by hand, shown with such a failure."""
    parsed = validate_name(name)
    number = parse_registration_number(registration_number)
    query = CheckQuery(" ".join(name.split()), parsed, number, checked_at or now_iso())
    results = []
    for register, checker in checkers:
        try:
            result = checker(query)
        except Exception as error:  # a broken checker must not turn into a verdict
            url = links[register]
            reason = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
            result = failed_result(register, query, url, reason, METHOD_LIVE_NAME)
        results.append(result)
    return CheckResult(
        query.name,
        number.text if number else None,
        tuple(results),
        overall_verdict(results),
        query.checked_at,
    )
