"""What changed between two versions of a source's records, and the report a person reads.

Pure functions over plain records (dicts with a stable `id`): no I/O. The refresh job compares the
records it just fetched with the ones in `data/` and writes `render_markdown()` into
`data/CHANGES.md` so every changed phone number or link can be checked by a person afterwards.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

# Fields that record *when* a fact was checked, not the fact itself: a record whose only change is
# one of these is "re-verified", not "changed".
BOOKKEEPING_FIELDS = frozenset({"last_verified", "verified", "fetched_at", "retrieved_at"})

# Fields a person uses to get help. Their changes are listed first and in full in the report.
CONTACT_FIELDS = ("phone", "self_referral_url", "website", "email")

MAX_LISTED = 50  # per section in the markdown report; the JSON report lists everything


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: object
    after: object


@dataclass(frozen=True)
class RecordChange:
    id: str
    name: str
    fields: tuple[FieldChange, ...]

    @property
    def contact_changes(self) -> tuple[FieldChange, ...]:
        return tuple(c for c in self.fields if c.field in CONTACT_FIELDS)


@dataclass(frozen=True)
class ChangeSet:
    """Differences for one source. `added` and `removed` hold (id, name) pairs."""

    before_count: int
    after_count: int
    added: tuple[tuple[str, str], ...] = ()
    removed: tuple[tuple[str, str], ...] = ()
    changed: tuple[RecordChange, ...] = ()
    reverified: int = 0  # records whose facts were re-checked and found unchanged
    notes: tuple[str, ...] = field(default_factory=tuple)

    # For tables too large to list (1.7 million postcodes): counts beyond the listed ids.
    unlisted_added: int = 0
    unlisted_removed: int = 0

    @property
    def added_count(self) -> int:
        return len(self.added) + self.unlisted_added

    @property
    def removed_count(self) -> int:
        return len(self.removed) + self.unlisted_removed

    @property
    def has_changes(self) -> bool:
        return bool(self.added_count or self.removed_count or self.changed)

    def changed_share(self, fields: Iterable[str]) -> float:
        """Share of the previous records whose `fields` (top-level names) changed in this run."""
        if self.before_count <= 0:
            return 0.0
        wanted = set(fields)
        hit = sum(1 for c in self.changed if any(f.field.split(".")[0] in wanted for f in c.fields))
        return hit / self.before_count

    @property
    def shrink(self) -> float:
        """Share of the previous records that would disappear (0.0 when there were none)."""
        if self.before_count <= 0:
            return 0.0
        return max(0, self.before_count - self.after_count) / self.before_count

    def summary(self) -> str:
        parts = [
            f"+{self.added_count} added",
            f"-{self.removed_count} removed",
            f"~{len(self.changed)} changed",
        ]
        contacts = sum(1 for c in self.changed if c.contact_changes)
        if contacts:
            parts.append(f"{contacts} with new contact details")
        return ", ".join(parts)

    def to_json(self) -> dict:
        return {
            "before_count": self.before_count,
            "after_count": self.after_count,
            "added": [{"id": i, "name": n} for i, n in self.added],
            "removed": [{"id": i, "name": n} for i, n in self.removed],
            "changed": [
                {
                    "id": c.id,
                    "name": c.name,
                    "fields": [{"field": f.field, "before": f.before, "after": f.after} for f in c.fields],
                }
                for c in self.changed
            ],
            "added_count": self.added_count,
            "removed_count": self.removed_count,
            "reverified": self.reverified,
            "notes": list(self.notes),
        }


def index_by_id(records: Iterable[Mapping]) -> dict[str, Mapping]:
    indexed: dict[str, Mapping] = {}
    for record in records:
        record_id = str(record["id"])
        if record_id in indexed:
            raise ValueError(f"two records share the id {record_id!r}")
        indexed[record_id] = record
    return indexed


def _name(record: Mapping) -> str:
    return str(record.get("name") or record.get("id"))


def diff_records(
    old: Iterable[Mapping] | None,
    new: Iterable[Mapping],
    *,
    ignore: frozenset[str] = BOOKKEEPING_FIELDS,
) -> ChangeSet:
    """Compare two versions of a source's records by their stable `id`."""
    before = index_by_id(old or ())
    after = index_by_id(new)
    added = tuple((i, _name(after[i])) for i in sorted(after.keys() - before.keys()))
    removed = tuple((i, _name(before[i])) for i in sorted(before.keys() - after.keys()))
    changed = []
    reverified = 0
    for record_id in sorted(before.keys() & after.keys()):
        old_record, new_record = before[record_id], after[record_id]
        fields = tuple(_field_changes("", old_record, new_record, ignore))
        if fields:
            changed.append(RecordChange(record_id, _name(new_record), fields))
        elif old_record != new_record:  # only bookkeeping (dates of checking) moved
            reverified += 1
    return ChangeSet(len(before), len(after), added, removed, tuple(changed), reverified)


def _field_changes(prefix: str, old: Mapping, new: Mapping, ignore: frozenset[str]):
    """Changed fields; nested objects (e.g. `provenance`) are compared key by key and named with
    a dotted path ("provenance.contacts.source") so the report shows what moved, not two blobs."""
    keys = (old.keys() | new.keys()) - ignore
    for key in _ordered(keys) if not prefix else sorted(keys):
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        if isinstance(before, Mapping) and isinstance(after, Mapping):
            yield from _field_changes(f"{prefix}{key}.", before, after, ignore)
        else:
            yield FieldChange(prefix + key, before, after)


def _ordered(keys: Iterable[str]) -> list[str]:
    """Contact fields first (what a person would dial or click), then the rest alphabetically."""
    keys = set(keys)
    return [k for k in CONTACT_FIELDS if k in keys] + sorted(keys - set(CONTACT_FIELDS))


def carry_last_verified(
    old: Iterable[Mapping] | None, new: Sequence[Mapping], rechecked_ids: Iterable[str] | None = None
) -> list[dict]:
    """Keep the previous `last_verified` for records that were not re-checked in this run.

    A record counts as re-checked when its id is in `rechecked_ids` (None: every record the source
    returned was re-checked). For the others the old date is kept, so "last verified" never moves
    forward for a fact nobody looked at again."""
    before = index_by_id(old or ())
    rechecked = None if rechecked_ids is None else set(rechecked_ids)
    result = []
    for record in new:
        record = dict(record)
        previous = before.get(str(record["id"]))
        if previous is not None and rechecked is not None and str(record["id"]) not in rechecked:
            if "last_verified" in previous:
                record["last_verified"] = previous["last_verified"]
        result.append(record)
    return result


# -- the report -----------------------------------------------------------------------------------


def _show_change(change: FieldChange) -> tuple[str, str]:
    """Before and after cells; for lists (evidence links) the items that came and went."""
    before, after = change.before, change.after
    if isinstance(before, list) and isinstance(after, list):
        gone = [item for item in before if item not in after]
        came = [item for item in after if item not in before]
        parts = [f"+ {item}" for item in came] + [f"- {item}" for item in gone]
        return f"{len(before)} items", _show("; ".join(str(p) for p in parts) or "reordered")
    return _show(before), _show(after)


def _show(value: object) -> str:
    """A value as a code span: nothing in it is read as HTML, a link or a table break."""
    if value is None or value == "":
        return "(none)"
    text = str(value).replace("|", "\\|").replace("\n", " ")
    if len(text) > 200:
        text = f"{text[:197]}..."
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence, pad = "`" * (longest + 1), " " if longest else ""  # a backtick inside stays inside
    return f"{fence}{pad}{text}{pad}{fence}"


def _plain(value: object) -> str:
    """Scraped text (names, reasons, notes) as plain Markdown text: CHANGES.md is read rendered
    on GitHub, where raw HTML would render and [text](url) would be a live link."""
    text = str(value).replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;")
    text = re.sub(r"([\\`\[\]|])", r"\\\1", text)
    # GitHub autolinks bare "https://", "www." and "name@host" (one can show a host it does not
    # open): a zero-width space inside each keeps the words and makes no link.
    return text.replace("//", "/\u200b/").replace("@", "\u200b@").replace("www.", "w\u200bww.")


# What a source found in one run, counted for the operator's report (`refresh --dry-run --json`).
FOUND_COUNTS = ("records", "self_referral_links", "phones", "with_areas")
# The report's statuses: the run's detailed status -> what the operator acts on.
OUTCOMES = {"updated": "ok", "unchanged": "ok", "dry-run": "ok", "skipped": "skipped", "kept": "failed"}


def found_in(records: Iterable[Mapping]) -> dict[str, int]:
    """The counts of FOUND_COUNTS over records of the service or practitioner layout."""
    rows = list(records)
    return {
        "records": len(rows),
        "self_referral_links": sum(1 for r in rows if r.get("self_referral_url")),
        "phones": sum(1 for r in rows if r.get("phone") or r.get("self_referral_phone")),
        "with_areas": sum(1 for r in rows if r.get("areas_covered") or r.get("areas_served")),
    }


@dataclass(frozen=True)
class SourceReport:
    """One source's outcome in one refresh run, as the report shows it."""

    name: str
    status: str  # "updated" | "unchanged" | "kept" | "skipped" | "dry-run"
    reason: str
    changes: ChangeSet | None = None
    requests: Mapping[str, int] = field(default_factory=dict)
    found: Mapping[str, int] | None = None  # FOUND_COUNTS of what was read (None: nothing read)
    held: bool = False  # kept because the change waits for a person's review (not a failure)

    @property
    def outcome(self) -> str:
        """ok, failed, held or skipped: what the operator has to do about this source."""
        return "held" if self.held else OUTCOMES.get(self.status, "failed")

    def notes(self) -> list[str]:
        """Why the source ended as it did, then what the source said about its run."""
        notes = [self.reason] if self.reason else []
        return notes + (list(self.changes.notes) if self.changes else [])

    def line(self) -> str:
        """The one summary line the CLI prints for this source."""
        if self.status == "kept":
            return f"{self.name}: KEPT previous data: {self.reason}"
        if self.status == "skipped":
            return f"{self.name}: skipped: {self.reason}"
        detail = self.changes.summary() if self.changes else ""
        count = f"{self.changes.after_count} records, " if self.changes else ""
        verb = {"updated": "updated", "unchanged": "unchanged", "dry-run": "would update"}.get(
            self.status, self.status
        )
        extra = f" ({self.reason})" if self.reason else ""
        return f"{self.name}: {verb}: {count}{detail}{extra}"

    def to_json(self) -> dict:
        return {
            "source": self.name,
            "status": self.status,
            "outcome": self.outcome,
            "reason": self.reason,
            "found": dict(self.found) if self.found is not None else None,
            "changes": self.changes.to_json() if self.changes else None,
            "requests": dict(self.requests),
        }

    def to_summary(self) -> dict:
        """The operator's report of this source: `refresh --json`."""
        changes = self.changes
        found = self.found or {}
        return {
            "name": self.name,
            "status": self.outcome,
            **{key: found.get(key) for key in FOUND_COUNTS},
            "changed": changes.added_count + changes.removed_count + len(changes.changed)
            if changes
            else None,
            "notes": self.notes(),
        }

    def in_words(self) -> list[str]:
        """The same report in sentences, for the plain output: the summary line, what was read,
        then the source's notes."""
        lines = [self.line()]
        found = self.found
        if found is not None:
            lines.append(
                f"  read {found['records']} records: {found['self_referral_links']} with a self-referral "
                f"link, {found['phones']} with a phone number, {found['with_areas']} with the areas they cover"
            )
        lines += [f"  {note}" for note in (self.changes.notes if self.changes else ())]
        return lines


def commit_message(run_date: str, reports: Sequence[SourceReport]) -> str:
    """A git commit message: one summary line, then a line per source."""
    updated = [r for r in reports if r.status == "updated"]
    kept = [r for r in reports if r.status == "kept"]
    title = f"Data refresh {run_date}: {len(updated)} source(s) updated"
    if kept:
        title += f", {len(kept)} kept previous data"
    return title + "\n\n" + "\n".join(r.line() for r in reports) + "\n"


def render_markdown(run_date: str, reports: Sequence[SourceReport], *, dry_run: bool = False) -> str:
    """One run's section of data/CHANGES.md."""
    lines = [f"## Refresh {run_date}" + (" (dry run: nothing written)" if dry_run else ""), ""]
    for report in reports:
        lines.append(f"- {_plain(report.line())}")
    for report in reports:
        changes = report.changes
        if report.status == "kept":
            lines += ["", f"### {report.name}: previous data kept", "", f"Why: {_plain(report.reason)}"]
            continue
        if not changes or not changes.has_changes:
            continue
        lines += _source_section(report.name, changes)
    return "\n".join(lines) + "\n"


def _source_section(name: str, changes: ChangeSet) -> list[str]:
    """The lines for one source that changed: counts, then contact changes first (a wrong phone
    number matters most), other fields, additions, removals and notes."""
    lines = ["", f"### {name}: {changes.summary()}", ""]
    lines.append(
        f"{changes.before_count} records before, {changes.after_count} after; "
        f"{changes.reverified} re-checked and unchanged."
    )
    lines += _contact_table(changes)
    lines += _other_fields_table(changes)
    for title, items in (("Added", changes.added), ("Removed", changes.removed)):
        if items:
            lines += ["", f"{title}:", ""]
            lines += [f"- {_plain(record_id)}: {_plain(name)}" for record_id, name in items[:MAX_LISTED]]
            if len(items) > MAX_LISTED:
                lines.append(f"- ... and {len(items) - MAX_LISTED} more")
    for note in changes.notes:
        lines += ["", _plain(note)]
    return lines


def _contact_table(changes: ChangeSet) -> list[str]:
    contact = [c for c in changes.changed if c.contact_changes]
    if not contact:
        return []
    lines = [
        "",
        "Contact details changed (check these first):",
        "",
        "| id | name | field | before | after |",
        "| --- | --- | --- | --- | --- |",
    ]
    for change in contact[:MAX_LISTED]:
        for f in change.contact_changes:
            lines.append(
                f"| {_plain(change.id)} | {_show(change.name)} | {f.field} | {' | '.join(_show_change(f))} |"
            )
    if len(contact) > MAX_LISTED:
        lines.append(f"\n... and {len(contact) - MAX_LISTED} more (see refresh-report.json)")
    return lines


def _other_fields_table(changes: ChangeSet) -> list[str]:
    other = [(c, f) for c in changes.changed for f in c.fields if f.field not in CONTACT_FIELDS]
    if not other:
        return []
    lines = [
        "",
        "Other changed fields:",
        "",
        "| id | field | before | after |",
        "| --- | --- | --- | --- |",
    ]
    for change, f in other[:MAX_LISTED]:
        lines.append(f"| {_plain(change.id)} | {f.field} | {' | '.join(_show_change(f))} |")
    if len(other) > MAX_LISTED:
        lines.append(f"\n... and {len(other) - MAX_LISTED} more (see refresh-report.json)")
    return lines


CHANGES_HEADER = (
    "# Data changes\n\n"
    'Written by `python -m finder refresh`, newest run first. "KEPT previous data" means the new\n'
    "fetch failed a check (empty, unparseable, or shrank too much) and the last good data was kept.\n"
)


def prepend_run(existing: str | None, section: str, *, keep_runs: int = 52) -> str:
    """Put a run's section at the top of CHANGES.md, keeping the newest `keep_runs` runs."""
    body = existing or ""
    if body.startswith("# Data changes"):
        cut = body.find("\n## ")
        body = body[cut + 1 :] if cut >= 0 else ""
    runs = [r for r in ("\n" + body).split("\n## ") if r.strip()]
    runs = ["## " + r.strip("\n") + "\n" for r in runs]
    kept = [section.rstrip("\n") + "\n", *runs][:keep_runs]
    return CHANGES_HEADER + "\n" + "\n".join(kept)
