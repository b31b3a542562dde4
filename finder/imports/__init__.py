"""Importers: each reads one kind of source file, checks its layout and publishes to data/.

Every importer opens its source through `finder.imports.guard` (regular files only, bounded zip
reading, no control characters, whole rows only) and checks the result against what data/ holds
with `guard.check_shrink`."""

from pathlib import Path
from typing import Any

from finder import store
from finder.imports.guard import MAX_SHRINK, check_shrink

__all__ = ["MAX_SHRINK", "check_shrink", "held_document", "refuse_shrink"]


def held_document(name: str, directory: Path | None = None) -> dict[str, Any]:
    """The JSON table `name` as data/ holds it now; {} when there is none yet."""
    document = store.read_json(name, directory, default=None)
    return document if isinstance(document, dict) else {}


def refuse_shrink(source: str, what: str, new: int, held: int, max_shrink: float | None) -> str | None:
    """Raise when `new` is under (1 - max_shrink) of `held`; None means no check (the shrink, if
    any, is returned as a report line)."""
    return check_shrink(source, what, new, held, max_shrink)
