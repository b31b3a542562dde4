"""What one search asks, whoever asks it: the app's address bar (a link's query parameters) or
the CLI's options. The defaults and the checks of each value live here, so both ask the same
question; finder.search answers it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from finder.errors import FinderError

KINDS = ("all", "nhs", "private")
MODES = ("any", "online", "in_person")
MAX_RADIUS_MILES = 1000.0
MAX_LIMIT = 100_000


def _check_options(radius_miles: object, kind: object, mode: object, limit: object) -> None:
    if kind not in KINDS:
        raise FinderError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if mode not in MODES:
        raise FinderError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if (
        isinstance(radius_miles, bool)
        or not isinstance(radius_miles, int | float)
        or not 0 < radius_miles <= MAX_RADIUS_MILES
    ):
        raise FinderError(f"radius must be more than 0 and at most {MAX_RADIUS_MILES:g} miles")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise FinderError(f"limit must be a whole number from 1 to {MAX_LIMIT:,}")


DEFAULT_RADIUS_MILES = 10.0
DEFAULT_LIMIT = 50
# As much as the app's search box takes: a pasted address is read for its postcode, so a shared
# link carries all of it.
MAX_QUERY_CHARS = 300
# A GP practice's code in NHS England's list (ODS): a letter and five digits, "A81001".
GP_CODE = re.compile(r"[A-Z]\d{5}")


@dataclass(frozen=True, kw_only=True)
class SearchRequest:
    """Everything one search takes, whoever asks (the app's address bar, the CLI's options).
    The defaults and the checks of each value live here, so both ask the same question."""

    query: str = ""
    gp: str | None = None  # search from this GP surgery (its practice code) instead of the query
    radius_miles: float = DEFAULT_RADIUS_MILES
    kind: str = "all"
    mode: str = "any"  # how private practitioners work: any, online, in_person
    ipt: bool = False
    ipt_include_website: bool = False
    self_referral_online: bool = False
    limit: int = DEFAULT_LIMIT

    def __post_init__(self) -> None:
        # Spaces around what was typed mean nothing; a practice code is read in capitals.
        object.__setattr__(self, "query", str(self.query).strip())
        object.__setattr__(self, "gp", str(self.gp).strip().upper() or None if self.gp is not None else None)
        _check_options(self.radius_miles, self.kind, self.mode, self.limit)
        if len(self.query) > MAX_QUERY_CHARS:
            raise FinderError(f"type a postcode, town or GP surgery of at most {MAX_QUERY_CHARS} characters")
        if self.gp is not None and not GP_CODE.fullmatch(self.gp):
            raise FinderError(
                f"{self.gp[:12]!r} is not a GP practice code (a letter and five digits, like A81001)"
            )

    @classmethod
    def from_query_params(cls, params: Mapping[str, str | list[str]]) -> SearchRequest:
        """The search a link's query parameters describe. A value that cannot be used raises
        FinderError with one plain line saying which and why."""
        values, problems = _read_params(params)
        if problems:
            raise FinderError(problems[0])
        return cls(**values)

    @classmethod
    def from_shared_link(cls, params: Mapping[str, str | list[str]]) -> SearchRequest:
        """As from_query_params, but a value that cannot be used is left at its default: a link
        mangled on its way (cut short, retyped) still searches for what it can."""
        values, _ = _read_params(params)
        return cls(**values)

    def to_query_params(self) -> dict[str, str]:
        """The query parameters from_query_params reads back; defaults are left out, so a shared
        link stays short."""
        params: dict[str, str] = {}
        for name, spec in _PARAMS.items():
            value = getattr(self, spec.field)
            if value != _DEFAULTS[spec.field]:
                params[name] = spec.write(value)
        return params


@dataclass(frozen=True, kw_only=True)
class _Param:
    """How one query parameter maps to a SearchRequest field: `read` returns the value or raises
    ValueError with the plain words that follow the parameter's description."""

    field: str
    what: str
    read: Callable[[str], object]
    write: Callable[[Any], str] = str


def _read_radius(text: str) -> float:
    try:
        radius = float(text)
    except ValueError:
        raise ValueError(f"must be a number of miles, not {text!r}") from None
    if not 0 < radius <= MAX_RADIUS_MILES:  # also refuses nan and inf
        raise ValueError(f"must be more than 0 and at most {MAX_RADIUS_MILES:g} miles, not {text!r}")
    return radius


def _write_number(value: float) -> str:
    short = f"{value:g}"  # "20", not "20.0"
    return short if float(short) == value else repr(float(value))


def _read_limit(text: str) -> int:
    if not text.strip().isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise ValueError(f"must be a whole number from 1 to {MAX_LIMIT:,}, not {text!r}")
    return int(text)


def _read_choice(choices: tuple[str, ...]) -> Callable[[str], str]:
    def read(text: str) -> str:
        if text not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}, not {text!r}")
        return text

    return read


def _read_flag(text: str) -> bool:
    if text not in ("0", "1"):
        raise ValueError(f"must be 1 (yes) or 0 (no), not {text!r}")
    return text == "1"


def _read_gp(text: str) -> str:
    code = text.strip().upper()
    if not GP_CODE.fullmatch(code):
        raise ValueError(f"must be a GP practice code like A81001, not {text!r}")
    return code


_PARAMS = {
    "q": _Param(field="query", what="The place", read=lambda text: text[:MAX_QUERY_CHARS].strip()),
    "gp": _Param(field="gp", what="The GP surgery", read=_read_gp),
    "r": _Param(field="radius_miles", what="The distance", read=_read_radius, write=_write_number),
    "kind": _Param(field="kind", what="What to show", read=_read_choice(KINDS)),
    "mode": _Param(field="mode", what="Online or in person", read=_read_choice(MODES)),
    "ipt": _Param(field="ipt", what="Delivers IPT", read=_read_flag, write=lambda on: "1"),
    "iptweb": _Param(
        field="ipt_include_website", what="IPT on a service's website", read=_read_flag, write=lambda on: "1"
    ),
    "online": _Param(
        field="self_referral_online", what="Refer online", read=_read_flag, write=lambda on: "1"
    ),
    "limit": _Param(field="limit", what="How many results", read=_read_limit),
}
_DEFAULTS = {f.name: f.default for f in fields(SearchRequest)}


def _read_params(params: Mapping[str, str | list[str]]) -> tuple[dict[str, Any], list[str]]:
    """The fields the parameters give (unknown parameters are ignored, as a link may carry other
    things), and a plain line for each value that cannot be used. Each value has its field's type
    (its reader made it); SearchRequest checks them again."""
    values: dict[str, Any] = {}
    problems: list[str] = []
    for name, spec in _PARAMS.items():
        raw = params.get(name)
        if isinstance(raw, list):  # a parameter given twice: the last one, as browsers do
            raw = raw[-1] if raw else None
        if raw is None:
            continue
        try:
            values[spec.field] = spec.read(raw)
        except ValueError as error:
            problems.append(f"{spec.what} in the link ({name}) {error}.")
    return values, problems
