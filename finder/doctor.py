"""Is this copy fit to serve? The checks an operator runs (`python -m finder doctor`): data/ is
the release its manifest describes (checksums, record counts, schema version) and how old each
source is. The live checks (is each source still reachable, does a known entry still parse) are
wired by the CLI (finder/cli/commands/doctor.py), the one place that knows the scrapers."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from finder import release, store
from finder.schema import MANIFEST_FILE, SCHEMA_VERSION
from finder.schema.documents import ManifestFile

# A source older than this is reported: the weekly refresh keeps the live ones younger than
# five weeks; the national files (postcodes, areas, statistics) are published yearly or so.
STALE_AFTER_DAYS = {"nhs-providers": 35, "service-links": 35, "practitioners": 35}
DEFAULT_STALE_AFTER_DAYS = 400
DATE_FIELDS = ("refreshed_at", "imported_at", "derived_at", "last_verified")


@dataclass(frozen=True)
class Check:
    name: str  # what was checked, as an operator knows it: "data/services.json", "source nhs"
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'}  {self.name}: {self.detail}"


def data_checks(directory: Path | None = None, today: dt.date | None = None) -> list[Check]:
    """The checks of data/ against its manifest; a missing or unreadable manifest is one failure."""
    directory = directory or store.data_dir()
    where = f"data/{MANIFEST_FILE}"
    try:
        manifest = json.loads((directory / MANIFEST_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return [Check(where, False, "missing: this is not a published data release")]
    except (OSError, ValueError) as error:
        return [Check(where, False, f"unreadable: {error}")]
    try:
        ManifestFile.model_validate(manifest)
    except ValidationError as error:
        first = error.errors()[0]
        at = ".".join(str(part) for part in first["loc"])
        return [Check(where, False, f"does not match its schema at {at or 'the top'}: {first['msg']}")]
    files = manifest.get(release.FILES_KEY)
    if not isinstance(files, dict) or not files:
        return [Check(where, False, "lists no files' checksums (record them: store.record_release())")]
    checks = [_schema_check(manifest, files, directory)]
    checks += [_file_check(directory, name, entry) for name, entry in files.items()]
    checks += [Check(f"data/{name}", False, "not in the manifest") for name in _unlisted(directory, files)]
    sources = manifest.get("sources") or {}
    checks += [_age_check(name, info, today or dt.date.today()) for name, info in sorted(sources.items())]
    return checks


def _schema_check(manifest: Mapping, files: Mapping, directory: Path) -> Check:
    if manifest.get("schema_version") != SCHEMA_VERSION:
        found = manifest.get("schema_version")
        return Check("schema version", False, f"the manifest says {found}, this code reads {SCHEMA_VERSION}")
    for name in files:
        if name.endswith(".json"):
            try:
                document = json.loads((directory / name).read_bytes())
            except (OSError, ValueError):
                continue  # the file's own check says what is wrong with it
            if (
                isinstance(document, dict)
                and document.get("schema_version", SCHEMA_VERSION) != SCHEMA_VERSION
            ):
                return Check("schema version", False, f"data/{name} is version {document['schema_version']}")
    return Check("schema version", True, f"{SCHEMA_VERSION}, as this code reads")


def _file_check(directory: Path, name: str, entry: object) -> Check:
    where = f"data/{name}"
    try:
        content = (directory / name).read_bytes()
    except FileNotFoundError:
        return Check(where, False, "missing (the manifest lists it)")
    except OSError as error:
        return Check(where, False, f"unreadable: {error}")
    expected = entry if isinstance(entry, dict) else {}
    if hashlib.sha256(content).hexdigest() != expected.get("sha256"):
        return Check(where, False, "checksum differs from the manifest")
    try:
        records = release.count_records(name, content)
    except Exception as error:  # a damaged table: named, not a traceback
        return Check(where, False, f"cannot be read: {type(error).__name__}")
    if records != expected.get("records"):
        return Check(where, False, f"{records} records, the manifest says {expected.get('records')}")
    if records is None:
        return Check(where, True, "checksum matches the manifest")
    before = expected.get("records_before")
    change = "" if before is None else f" (the release before: {before:,})"
    return Check(where, True, f"{records:,} records{change}, checksum matches the manifest")


def _unlisted(directory: Path, files: Mapping) -> list[str]:
    present = (p.name for p in directory.iterdir() if p.suffix in (".json", ".parquet"))
    return sorted(name for name in present if name != MANIFEST_FILE and name not in files)


def _age_check(name: str, info: object, today: dt.date) -> Check:
    where = f"source {name}"
    dates = [info.get(key) for key in DATE_FIELDS] if isinstance(info, dict) else []
    parsed = [_date(value) for value in dates if isinstance(value, str)]
    known = [day for day in parsed if day is not None]
    if not known:
        return Check(where, True, "no date in the manifest")
    newest = max(known)
    age = (today - newest).days
    limit = STALE_AFTER_DAYS.get(name, DEFAULT_STALE_AFTER_DAYS)
    detail = f"{age} days old ({newest.isoformat()})"
    if age > limit:
        return Check(where, False, f"{detail}: older than {limit} days, refresh it")
    return Check(where, True, detail)


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def report(checks: list[Check]) -> dict[str, object]:
    """The --json answer: {"ok": ..., "checks": [{"name", "ok", "detail"}]}."""
    return {
        "ok": all(check.ok for check in checks),
        "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in checks],
    }
