"""The verdict: "IPT accredited" only when IPT UK lists the person and a core register shows them
currently registered, and `check_therapist`, which asks every register and gives it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from finder.accreditation.matching import validate_name
from finder.accreditation.numbers import listed_registrations, parse_registration_number, same_register_number
from finder.accreditation.results import (
    AMBIGUOUS,
    CHECK_FAILED,
    CORE_REGISTERS,
    CURRENT,
    CURRENT_WITH_CONDITIONS,
    IPT_UK,
    LAPSED_OR_REMOVED,
    MANUAL_CHECK,
    METHOD_LIVE_NAME,
    NOT_FOUND,
    REGISTER_CODES,
    REGISTERED_STATUSES,
    Checker,
    CheckQuery,
    CheckResult,
    Overall,
    RegisterResult,
    failed_result,
)


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


def _other_person(result: RegisterResult, listed: Mapping[str, set[str]]) -> bool:
    """The IPT UK entry names its own number on this register and the register's entry has another:
    two people with one name, so this registration is not the IPT UK member's."""
    numbers = listed.get(REGISTER_CODES.get(result.register, ""))
    number = result.registration_number
    if not numbers or not number:
        return False
    return not any(same_register_number(number, n) for n in numbers)


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
