"""Mapping the service-links table (pure: reads and writes nothing): websites, self-referral
routes, age limits and IPT mentions seen on public pages. Dates unknown: recorded as "seen", never
as "verified". Only http(s) links on hosts for the public are kept as a link a person is sent to.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from finder.errors import SourceFormatError
from finder.schema import non_public_host, safe_url
from finder.textrules import all_uk_phones


def link_row(record: Mapping[str, Any]) -> dict[str, str]:
    """A stored service_links.json record back in the service-links layout (LINK_COLUMNS), so a
    refresh can change stored rows and map them again with `link_records`."""
    known: dict[object, str] = {True: "yes", False: "no"}
    offers = known.get(record.get("offers_ipt"), "")
    return {
        "org_code": record["org_code"],
        "org_name": record.get("org_name") or "",
        "service_name": record.get("service_name") or "",
        "website": record.get("website") or "",
        "self_referral_url": record.get("self_referral_url") or "",
        "self_referral_phone": record.get("self_referral_phone_text") or "",
        "min_age": "" if record.get("min_age") is None else str(record["min_age"]),
        "offers_ipt": offers,
        "catchment": record.get("catchment") or "",
        "evidence_urls": " | ".join(record.get("evidence_urls") or []),
        "notes": record.get("notes") or "",
    }


@dataclass(frozen=True, kw_only=True)
class LinkRecords:
    """Checked service-link records, with the links refused on the way (for the report)."""

    records: list[dict[str, Any]]
    refused_urls: list[str]  # "CODE: url": not http(s), or a user name before the host
    non_public: list[str]  # "CODE: url": on a host not for the public, kept only as evidence


class _LinkChecker:
    """The link rules of one service-links table, collecting what they refuse."""

    def __init__(self) -> None:
        self.refused_urls: list[str] = []
        self.non_public: list[str] = []

    def url(self, value: str, code: str) -> str | None:
        if not value:
            return None
        safe = safe_url(value)
        if safe is not None and urlsplit(safe).username is not None:
            # "https://name@host/...": a mangled address, and the shape of a phishing link.
            safe = None
        if safe is None:
            self.refused_urls.append(f"{code}: {value[:60]}")
        return safe

    def link(self, value: str, code: str) -> str | None:
        # A website or self-referral link a person is sent to: never on a host not for the public
        # (a staging copy of the site); the evidence URLs keep it as where it was read.
        safe = self.url(value, code)
        if safe is not None and non_public_host(safe):
            self.non_public.append(f"{code}: {safe}")
            return None
        return safe


def _link_record(row: Mapping[str, str], code: str, where: str, links: _LinkChecker) -> dict[str, Any]:
    evidence = [u for u in (links.url(part.strip(), code) for part in row["evidence_urls"].split("|")) if u]
    offers = row["offers_ipt"].strip().lower()
    if offers not in ("", "yes", "no"):
        raise SourceFormatError(f"{where}: offers_ipt {row['offers_ipt']!r} is not yes, no or empty")
    min_age = row["min_age"]
    if min_age and not re.fullmatch(r"\d{1,2}", min_age):
        raise SourceFormatError(f"{where}: min_age {min_age!r} is not a whole number")
    return {
        "org_code": code,
        "org_name": row["org_name"] or None,
        "service_name": row["service_name"] or None,
        "website": links.link(row["website"], code),
        "self_referral_url": links.link(row["self_referral_url"], code),
        "self_referral_phone_text": row["self_referral_phone"] or None,
        "self_referral_phones": all_uk_phones(row["self_referral_phone"]),
        "min_age": int(min_age) if min_age else None,
        "offers_ipt": {"yes": True, "no": False}.get(offers),
        "catchment": row["catchment"] or None,
        "evidence_urls": evidence,
        "notes": row["notes"] or None,
    }


def link_records(rows: Iterable[Mapping[str, str]], name: str) -> LinkRecords:
    """The checked records of rows in the service-links layout (LINK_COLUMNS), in their order;
    links that are not http(s), or not for the public, are left out and listed. Pure."""
    records = []
    seen = set()
    links = _LinkChecker()
    for line, row in enumerate(rows, start=2):
        code = row["org_code"].upper()
        if not code:
            raise SourceFormatError(f"{name}: row {line} has no org_code")
        if code in seen:
            raise SourceFormatError(f"{name}: row {line}: organisation {code} appears twice")
        seen.add(code)
        records.append(_link_record(row, code, f"{name}: row {line}", links))
    return LinkRecords(records=records, refused_urls=links.refused_urls, non_public=links.non_public)
