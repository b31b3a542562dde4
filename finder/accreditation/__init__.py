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

This package holds the rules only, by what they do: `numbers` (registration number shapes),
`results` (statuses, entries, results and their shared words), `matching` (the name typed and a
register searched by name), `registers` (a number lookup, the local IPT UK copy) and `verdict`
(the overall answer and `check_therapist`). Each imports only those before it in that list, and
callers import from `finder.accreditation`. The live lookups are injected as `Checker` callables
by the composition root (`finder.cli.live`), so nothing here imports a scraper or touches the
network.
"""

from __future__ import annotations

from finder.accreditation.matching import (
    judge_incomplete_search,
    judge_name_search,
    parses,
    validate_name,
)
from finder.accreditation.numbers import (
    DIGITS_NUMBER_RE,
    HCPC_NUMBER_RE,
    HCPC_PREFIXES,
    MAX_NUMBER_LENGTH,
    NCPS_NUMBER_RE,
    RegistrationNumber,
    listed_registrations,
    parse_registration_number,
    same_number,
    same_register_number,
)
from finder.accreditation.registers import (
    ipt_entries_from_records,
    judge_number_lookup,
    local_ipt_check,
)
from finder.accreditation.results import (
    ALL_REGISTERS,
    AMBIGUOUS,
    BABCP,
    BACP,
    CHECK_FAILED,
    CONFIDENCE_HIGH,
    CONFIDENCE_LOW,
    CONFIDENCE_MEDIUM,
    CONFIDENCE_NONE,
    CORE_REGISTERS,
    CURRENT,
    CURRENT_WITH_CONDITIONS,
    HCPC,
    IPT_UK,
    LAPSED_OR_REMOVED,
    MANUAL_CHECK,
    METHOD_LIVE_NAME,
    METHOD_LIVE_NUMBER,
    METHOD_LOCAL,
    METHOD_MANUAL,
    NCPS,
    NOT_FOUND,
    REGISTER_CODES,
    REGISTERED_STATUSES,
    STATUSES,
    UKCP,
    Checker,
    CheckQuery,
    CheckResult,
    Overall,
    RegisterEntry,
    RegisterResult,
    candidate,
    failed_result,
    manual_result,
    not_found_note,
    status_from_text,
    status_note,
)
from finder.accreditation.verdict import (
    check_therapist,
    now_iso,
    overall_verdict,
)

__all__ = [
    "ALL_REGISTERS",
    "AMBIGUOUS",
    "BABCP",
    "BACP",
    "CHECK_FAILED",
    "CONFIDENCE_HIGH",
    "CONFIDENCE_LOW",
    "CONFIDENCE_MEDIUM",
    "CONFIDENCE_NONE",
    "CORE_REGISTERS",
    "CURRENT",
    "CURRENT_WITH_CONDITIONS",
    "DIGITS_NUMBER_RE",
    "HCPC",
    "HCPC_NUMBER_RE",
    "HCPC_PREFIXES",
    "IPT_UK",
    "LAPSED_OR_REMOVED",
    "MANUAL_CHECK",
    "MAX_NUMBER_LENGTH",
    "METHOD_LIVE_NAME",
    "METHOD_LIVE_NUMBER",
    "METHOD_LOCAL",
    "METHOD_MANUAL",
    "NCPS",
    "NCPS_NUMBER_RE",
    "NOT_FOUND",
    "REGISTERED_STATUSES",
    "REGISTER_CODES",
    "STATUSES",
    "UKCP",
    "CheckQuery",
    "CheckResult",
    "Checker",
    "Overall",
    "RegisterEntry",
    "RegisterResult",
    "RegistrationNumber",
    "candidate",
    "check_therapist",
    "failed_result",
    "ipt_entries_from_records",
    "judge_incomplete_search",
    "judge_name_search",
    "judge_number_lookup",
    "listed_registrations",
    "local_ipt_check",
    "manual_result",
    "not_found_note",
    "now_iso",
    "overall_verdict",
    "parse_registration_number",
    "parses",
    "same_number",
    "same_register_number",
    "status_from_text",
    "status_note",
    "validate_name",
]
