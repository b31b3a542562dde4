"""Name matching: the therapist's name as typed, and the answer of a register searched by name
(BACP, IPT UK): one exact name, several, only similar ones, or a number that is someone else's."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from finder import names
from finder.accreditation.numbers import same_number
from finder.accreditation.results import (
    AMBIGUOUS,
    CHECK_FAILED,
    CONFIDENCE_HIGH,
    CONFIDENCE_LOW,
    CONFIDENCE_MEDIUM,
    CONFIDENCE_NONE,
    METHOD_LIVE_NAME,
    NOT_FOUND,
    CheckQuery,
    RegisterEntry,
    RegisterResult,
    candidate,
    not_found_note,
    status_from_text,
    status_note,
)
from finder.errors import FinderError

_MARKUP_RE = re.compile(r"[<>{}\[\]\\|`$;=]|&#|&[a-z]+;|://", re.IGNORECASE)


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


def parses(name: str) -> bool:
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
        numbered = [(e, m) for e, m in exact if same_number(e.registration_number, number)]
        if numbered:
            exact = numbered
        else:
            # A number given but carried by a different name: the number does not confirm anyone.
            others = [e for e in entries if same_number(e.registration_number, number)]
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
        candidates=tuple(candidate(e) for e in others) + tuple(candidate(e, m) for e, m in exact),
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
        CONFIDENCE_HIGH if number and same_number(entry.registration_number, number) else CONFIDENCE_MEDIUM
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
        candidates=tuple(candidate(e, m) for e, m in close),
        note=status_note(register, status, entry, query.date),
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
            candidates=tuple(candidate(e, m) for e, m in exact + close),
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
            candidates=tuple(candidate(e, m) for e, m in close),
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
    if number and any(same_number(e.registration_number, number) for e in entries):
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
        candidates=tuple(candidate(entries[i], m) for i, m in index.matches(query.parsed)),
        note=f"{register} has more entries for {query.parsed.display} than we could read (we read "
        f"{len(entries)}), so we can't tell which, if any, is this person as of {query.date}: give a "
        "registration number, or search by hand at the link.",
    )
