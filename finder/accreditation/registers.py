"""Judging per register: a registration number looked up (HCPC), and IPT UK from the local copy of
its directory (data/practitioners.json)."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from finder import names
from finder.accreditation.matching import judge_name_search, parses
from finder.accreditation.numbers import same_register_number
from finder.accreditation.results import (
    AMBIGUOUS,
    CHECK_FAILED,
    CONFIDENCE_HIGH,
    CONFIDENCE_LOW,
    IPT_UK,
    METHOD_LIVE_NUMBER,
    METHOD_LOCAL,
    NOT_FOUND,
    CheckQuery,
    RegisterEntry,
    RegisterResult,
    candidate,
    manual_result,
    not_found_note,
    status_from_text,
    status_note,
)


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
    match = names.compare(query.parsed, names.parse_name(entry.name)) if parses(entry.name) else None
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
    if number and entry.registration_number and not same_register_number(entry.registration_number, number):
        return result(
            register,
            AMBIGUOUS,
            confidence=CONFIDENCE_LOW,
            candidates=(candidate(entry, match),),
            note=f"{register} answered the number {number} with an entry numbered "
            f"{entry.registration_number}: check the number at the link.",
        )
    if match is None or not match.exact:
        return result(
            register,
            AMBIGUOUS,
            confidence=CONFIDENCE_LOW,
            candidates=(candidate(entry, match),),
            note=f"{number} is registered to {entry.name!r}, which is not exactly "
            f"{query.parsed.display!r}: check the number, or a change of name, at the link.",
        )
    return result(
        register,
        status,
        confidence=CONFIDENCE_HIGH,
        note=status_note(register, status, entry, query.date),
    )


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
