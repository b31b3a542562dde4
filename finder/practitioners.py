"""Private IPT practitioners: the record schema, its validation, and data/practitioners.json.

A practitioner record follows the searchable-record contract shared with NHS services (see
`RECORD_KEYS`) with kind "private", plus what is specific to a therapist:
- `ipt_level`: the IPT UK accreditation exactly as IPT UK shows it ("Level B IPT Practitioner",
  "Level D IPT Supervisor and Trainer", "IPT-A"...), with flags read from it for filtering;
- `registrations`: core professional registrations, [{"register": "HCPC", "number": "PYL012345"}];
- `town` and `outcode` only: a private therapist's full postcode is often their home, so the
  record never holds a street address or a full postcode, and its position is the outcode centre
  (`location_precision` "outcode");
- ways of working: `works_in_person`, `works_online`, `works_by_phone`;
- published contacts only (`website`, `email`, `phone`), `source` and `last_verified`.

The committed data/ holds no invented practitioners: until a real register export is imported
the table is empty, and `EMPTY_TABLE_HELP` says how to add one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Literal, overload

from finder import names, postcodes, store
from finder.accreditation import parse_registration_number
from finder.errors import FinderError, PostcodeError
from finder.schema import (
    MANIFEST_FILE,
    PRACTITIONER_KIND,
    PRACTITIONERS_FILE,
    REGISTERS,
    RecordError,
    document_records,
    http_url,
    records_document,
    validate,
    validate_practitioner,
)

FILE_NAME = PRACTITIONERS_FILE
MANIFEST_SOURCE = "practitioners"
KIND = PRACTITIONER_KIND

# Core registers a practitioner's registration can be on, by the short code used in records.
CORE_REGISTER_CODES = REGISTERS
_REGISTER_ALIASES = {
    "hcpc": "HCPC",
    "bacp": "BACP",
    "ukcp": "UKCP",
    "babcp": "BABCP",
    "cbt register uk": "BABCP",
    "cbtregisteruk": "BABCP",
    "ncps": "NCPS",
}
# Which number shapes each register uses (see finder.accreditation.parse_registration_number).
_NUMBER_KINDS = {
    "HCPC": {"hcpc"},
    "BACP": {"digits"},
    "UKCP": {"digits"},
    "BABCP": {"digits"},
    "NCPS": {"ncps", "digits"},
}
# IPT UK's accreditation levels: A to D, supervisor and trainer status, IPT-A for adolescents.
IPT_LEVEL_RE = re.compile(r"\blevel\s*[a-d]\b|\bsupervisor\b|\btrainer\b|\bipt-a\b", re.IGNORECASE)
# Therapies with similar names that are not IPT: Dynamic Interpersonal Therapy (DIT, psychodynamic)
# and Interpersonal Counselling (IPC, a brief intervention IPT UK also trains). "Level B DIT
# Practitioner" or "IPC Supervisor" is no IPT accreditation.
NOT_IPT_RE = re.compile(r"\bdit\b|dynamic interpersonal|\bipc\b|interpersonal counsel", re.IGNORECASE)
_NAMES_IPT_RE = re.compile(r"\bipt\b|\bipt-a\b|interpersonal psychotherapy", re.IGNORECASE)


def ipt_part(level: str) -> str:
    """The parts of an accreditation text that are about IPT: a part (between ; , / or |) that names
    DIT or IPC and not IPT is dropped, so 'Level B IPT Practitioner; DIT Supervisor' gives 'Level B
    IPT Practitioner' and 'Level B DIT Practitioner' gives ''."""
    parts = re.split(r"[;,/|\n]", level)
    return "; ".join(
        p.strip() for p in parts if p.strip() and (not NOT_IPT_RE.search(p) or _NAMES_IPT_RE.search(p))
    )


EMAIL_RE = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[A-Za-z]{2,}$")
PHONE_RE = re.compile(r"^[+(]?[0-9][0-9 ()-]{6,18}[0-9]$")  # "(0113) 496 0000" as UK numbers are written
MAX_TEXT = 200

EMPTY_TABLE_HELP = (
    "No private IPT practitioners are listed yet: the project does not invent therapists. To add "
    "real ones, import a register export with `python -m finder import practitioners PATH` "
    "(CSV template: docs/practitioners_template.csv)."
)


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@overload
def _plain_text(value: object, field: str, *, required: Literal[True]) -> str: ...


@overload
def _plain_text(value: object, field: str, *, required: bool = False) -> str | None: ...


def _plain_text(value: object, field: str, *, required: bool = False) -> str | None:
    text = " ".join(str(value or "").split())
    if not text:
        if required:
            raise RecordError.at(field, "is required")
        return None
    if len(text) > MAX_TEXT:
        raise RecordError.at(field, f"is too long (at most {MAX_TEXT} characters)")
    if re.search(r"[<>]|javascript:|data:", text, re.IGNORECASE):
        raise RecordError.at(field, "must be plain text (no markup or scripts)")
    return text


def normalise_registrations(value: object) -> list[dict[str, str]]:
    """'HCPC:PYL012345; BACP:300001' (or a list of {register, number}) -> sorted registrations."""
    registrations = {}
    for register_text, number_text in _registration_pairs(value):
        registration = _registration(register_text, number_text)
        registrations[(registration["register"], registration["number"])] = registration
    return [registrations[key] for key in sorted(registrations)]


def _registration_pairs(value: object) -> list[tuple[str, str]]:
    """The (register, number) texts as written, from 'REG:NUMBER; ...' or a list of mappings."""
    items: list[tuple[str, str]] = []
    if isinstance(value, str):
        for part in re.split(r"[;\n]", value):
            if not part.strip():
                continue
            if ":" not in part:
                raise RecordError.at(
                    "registrations",
                    f"{_short(part.strip())!r} should look like REGISTER:NUMBER, e.g. HCPC:PYL012345",
                )
            register, number = part.split(":", 1)
            items.append((register, number))
    elif isinstance(value, Iterable):
        for item in value:
            if not isinstance(item, Mapping):
                raise RecordError.at("registrations", "each registration needs a register and a number")
            items.append((str(item.get("register", "")), str(item.get("number", ""))))
    return items


def _registration(register_text: str, number_text: str) -> dict[str, str]:
    """One registration on a core register, its number checked against that register's format."""
    code = _REGISTER_ALIASES.get(" ".join(register_text.lower().split()))
    if code is None:
        raise RecordError.at(
            "registrations",
            f"unknown register {_short(register_text.strip())!r} "
            f"(use one of {', '.join(CORE_REGISTER_CODES)})",
        )
    try:
        number = parse_registration_number(number_text)
    except FinderError as error:
        raise RecordError.at("registrations", str(error)) from None
    if number is None:
        raise RecordError.at("registrations", f"{code} needs a registration number")
    if number.kind not in _NUMBER_KINDS[code]:
        raise RecordError.at("registrations", f"{number.text} is not a {code} number")
    return {"register": code, "number": number.text}


def _outcode(value: object) -> str:
    text = " ".join(str(value or "").split()).upper()
    if not text:
        raise RecordError.at("outcode", "is required (the first half of the postcode, like LS6)")
    try:
        parsed = postcodes.parse_query(text)
    except PostcodeError:
        raise RecordError.at("outcode", f"{_short(text)!r} is not a postcode outcode like LS6") from None
    if parsed.kind != "outcode":
        raise RecordError.at(
            "outcode",
            f"give only the first half of the postcode ({parsed.outcode or text}), "
            "never a full postcode or address",
        )
    return parsed.outcode


def locate_outcode(outcode: str) -> tuple[float | None, float | None, str | None]:
    """The outcode's centre from the embedded postcode tables, with its precision."""
    try:
        location = postcodes.lookup(outcode)
    except PostcodeError as error:
        if error.reason == "no_data":
            raise
        raise RecordError.at("outcode", f"{outcode} is not a known outcode") from None
    if location.lat is None or location.lon is None:  # has_coordinates
        return None, None, None
    return round(location.lat, 5), round(location.lon, 5), location.precision


def _bool(value: object, field: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value or "").strip().lower()
    if text in ("", "no", "n", "false", "0"):
        return False
    if text in ("yes", "y", "true", "1"):
        return True
    raise RecordError.at(field, f"{_short(text)!r} should be yes or no")


def _iso_date(value: object) -> str:
    text = str(value or "").strip()
    try:
        parsed = date.fromisoformat(text)
    except ValueError:
        raise RecordError.at("last_verified", f"{_short(text)!r} should be a date like 2026-11-25") from None
    if parsed > date.today():
        raise RecordError.at("last_verified", f"{text} is in the future")
    return parsed.isoformat()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", names.fold(text)).strip("-")


def record_id(name: str, registrations: Sequence[Mapping[str, str]], outcode: str) -> str:
    """Stable id: from the first registration when there is one (it survives a change of name or
    address), else from the name and outcode."""
    if registrations:
        first = registrations[0]
        return f"prac-{first['register'].lower()}-{first['number'].lower()}"
    return f"prac-{_slug(name)}-{outcode.lower()}"


def build_record(fields: Mapping[str, object], *, locate=locate_outcode) -> dict:
    """A validated practitioner record from loose fields (a CSV row, a scraped listing).
    Raises RecordError naming the first bad field."""
    name = _plain_text(fields.get("name"), "name", required=True)
    try:
        names.parse_name(name)
    except ValueError:
        raise RecordError.at(
            "name", f"{_short(name)!r} has no name left once titles and letters are removed"
        ) from None
    level = _plain_text(fields.get("ipt_level"), "ipt_level", required=True)
    ipt = ipt_part(level)
    if not IPT_LEVEL_RE.search(ipt):
        if NOT_IPT_RE.search(level):
            raise RecordError.at(
                "ipt_level",
                f"{_short(level)!r} is Dynamic Interpersonal Therapy (DIT) or Interpersonal "
                "Counselling (IPC), not an IPT accreditation",
            )
        raise RecordError.at(
            "ipt_level",
            f"{_short(level)!r} is not an IPT UK level (Level A to D, "
            "Supervisor, Trainer or IPT-A), written as IPT UK shows it",
        )
    registrations = normalise_registrations(fields.get("registrations") or "")
    town = _plain_text(fields.get("town"), "town", required=True)
    if re.search(r"\d", town):
        raise RecordError.at(
            "town", f"{_short(town)!r}: give only the town, never a street address or postcode"
        )
    outcode = _outcode(fields.get("outcode"))
    lat, lon, precision = locate(outcode)
    email = _plain_text(fields.get("email"), "email")
    if email and not EMAIL_RE.match(email):
        raise RecordError.at("email", f"{_short(email)!r} is not an email address")
    phone = _plain_text(fields.get("phone"), "phone")
    if phone and not PHONE_RE.match(phone):
        raise RecordError.at("phone", f"{_short(phone)!r} is not a phone number")
    website = http_url(fields.get("website"), "website")
    source_text = _plain_text(fields.get("source"), "source", required=True)
    # Evidence: where it was read; a link there is checked as a link (any host, http(s) only).
    source = http_url(source_text, "source", public=False) if "://" in source_text else source_text
    works_online = _bool(fields.get("works_online"), "works_online")
    works_in_person = _bool(fields.get("works_in_person"), "works_in_person")
    works_by_phone = _bool(fields.get("works_by_phone"), "works_by_phone")
    if not (works_online or works_in_person or works_by_phone):
        raise RecordError.at(
            "works_in_person", "at least one of works_in_person, works_online, works_by_phone must be yes"
        )
    record = {
        "id": record_id(name, registrations, outcode),
        "kind": KIND,
        "name": name,
        "lat": lat,
        "lon": lon,
        "location_precision": precision,
        "offers_ipt": True,
        "ipt_evidence": f"IPT UK accreditation: {level}",
        "self_referral_url": None,
        "phone": phone,
        "website": website,
        "email": email,
        "source": source,
        "last_verified": _iso_date(fields.get("last_verified")),
        "works_online": works_online,
        "works_in_person": works_in_person,
        "ipt_level": level,
        "ipt_supervisor": bool(re.search(r"\bsupervisor\b", ipt, re.IGNORECASE)),
        "ipt_trainer": bool(re.search(r"\btrainer\b", ipt, re.IGNORECASE)),
        "ipt_adolescents": bool(re.search(r"\bipt-a\b|adolescent", ipt, re.IGNORECASE)),
        "registrations": registrations,
        "town": town,
        "outcode": outcode,
        "works_by_phone": works_by_phone,
    }
    validate_practitioner(record)
    return record


def merge_duplicates(records: Sequence[dict]) -> tuple[list[dict], int]:
    """Records that share a registration number (or, without one, the same name and outcode) are
    one person: merge them (registrations united, ways of working combined, the most recently
    verified record's other fields kept, its gaps filled from the others). Returns (records,
    number of rows merged away)."""
    merged: list[dict] = []
    owner: dict[tuple[str, str], int] = {}
    merged_rows = 0
    for record in records:
        keys = [(r["register"], r["number"]) for r in record["registrations"]]
        if not keys:  # no registration: the same name in the same outcode is the same listing
            keys = [("id", record_id(record["name"], [], record["outcode"]))]
        targets = sorted({owner[k] for k in keys if k in owner})
        if not targets:
            merged.append(dict(record))
            index = len(merged) - 1
        else:
            index = targets[0]
            merged[index] = _merge(merged[index], record)
            merged_rows += 1
            for other in targets[1:]:  # this row links two earlier records: fold them together
                merged[index] = _merge(merged[index], merged[other])
                merged[other] = {}
                merged_rows += 1
                for key, held_by in owner.items():
                    if held_by == other:
                        owner[key] = index
        for key in keys:
            owner[key] = index
        for reg in merged[index]["registrations"]:
            owner[(reg["register"], reg["number"])] = index
    result = [r for r in merged if r]
    for record in result:
        record["id"] = record_id(record["name"], record["registrations"], record["outcode"])
    return result, merged_rows


_LOCATION_KEYS = frozenset({"lat", "lon", "location_precision"})


def _merge(a: dict, b: dict) -> dict:
    newer, older = (b, a) if b["last_verified"] > a["last_verified"] else (a, b)
    out = dict(newer)
    for key, value in older.items():
        if key in _LOCATION_KEYS:
            continue  # the position belongs with the newer record's own outcode, even when unknown
        if out.get(key) in (None, "") and value not in (None, ""):
            out[key] = value
    regs = {(r["register"], r["number"]): r for r in [*a["registrations"], *b["registrations"]]}
    out["registrations"] = [regs[k] for k in sorted(regs)]
    for key in ("works_online", "works_in_person", "works_by_phone"):
        out[key] = bool(a[key] or b[key])
    return out


def load_practitioners(directory: Path | None = None) -> list[dict]:
    """The records of data/practitioners.json ([] when the file is absent or empty)."""
    data = store.read_json(FILE_NAME, directory, default=None)
    if data is None:
        return []
    return list(document_records(data, FILE_NAME))


def practitioners_bytes(records: Sequence[dict]) -> bytes:
    return store.json_bytes(records_document(records))


def publish_practitioners(
    records: Sequence[dict], info: Mapping[str, object], directory: Path | None = None
) -> None:
    """Validate and atomically replace data/practitioners.json together with its manifest entry."""
    validate(records, kind=KIND)  # the practitioner model and the search contract, ids unique
    manifest = store.update_manifest(MANIFEST_SOURCE, {**info, "records": len(records)}, directory)

    def check(paths: Mapping[str, Path]) -> None:
        import json

        data = json.loads(paths[FILE_NAME].read_text(encoding="utf-8"))
        if len(data["records"]) != len(records):
            raise FinderError(f"{FILE_NAME} did not round-trip; nothing was changed")

    store.publish(
        {FILE_NAME: practitioners_bytes(records), MANIFEST_FILE: manifest},
        validate=check,
        directory=directory,
    )
