"""The rules of registration numbers: the shapes each register uses, one number read from what a
person typed, whether two written numbers are the same, and the numbers an IPT UK listing names."""

from __future__ import annotations

import re
from dataclasses import dataclass

from finder.errors import FinderError

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


def same_number(listed: str | None, number: str | None) -> bool:
    """Whether `number` is among the numbers an entry lists: one ("300001"), several from local
    data ("PYL012345, 300001") or with the register's name ("HCPC PYL012345")."""
    if not (listed and number):
        return False
    wanted = re.sub(r"\s", "", number).upper()
    return wanted == re.sub(r"\s", "", listed).upper() or wanted in re.findall(r"[A-Z0-9-]+", listed.upper())


def same_register_number(shown: str, asked: str) -> bool:
    """The number a register shows is the one asked about: same letters, same digits once leading
    zeros are set aside ("PYL012345" and "PYL12345")."""

    def key(text: str) -> tuple[str, str]:
        m = re.match(r"^([A-Z]*)(\d+)$", re.sub(r"[\s-]", "", text).upper())
        return (m[1], m[2].lstrip("0")) if m else (re.sub(r"\s", "", text).upper(), "")

    return key(shown) == key(asked)


# A registration named in an IPT UK listing: the register's short code, then its number.
_LISTED_RE = re.compile(r"\b(HCPC|BACP|UKCP|BABCP|NCPS)\b[\s:#-]*([A-Z]{0,3}\d[\d-]*)", re.IGNORECASE)


def listed_registrations(text: str | None) -> dict[str, set[str]]:
    """Registrations named in an IPT UK entry's text: 'HCPC PYL012345; BACP 300001' ->
    {'HCPC': {'PYL012345'}, 'BACP': {'300001'}}. Numbers without a register name are left out."""
    found: dict[str, set[str]] = {}
    for code, number in _LISTED_RE.findall(text or ""):
        found.setdefault(code.upper(), set()).add(number.upper())
    return found
