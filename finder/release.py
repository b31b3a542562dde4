"""What a data release holds: each data file's SHA-256 and record count, kept in `manifest.json`
beside the sources (`files`, with the schema version). `store.publish` stamps them on every write
of data/, so the manifest always describes the files it was published with; `finder.doctor`
reads them back to tell an operator whether this copy is the one that was released."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Mapping

from finder.schema import MANIFEST_FILE, SCHEMA_VERSION
from finder.schema.documents import ManifestFile

FILES_KEY = "files"


def count_records(name: str, content: bytes) -> int | None:
    """Rows of a table, or the records of a JSON file (a file without a `records` list counts
    the entries of each table it holds, e.g. areas.json's districts, sub-ICBs and ICBs)."""
    if name.endswith(".parquet"):
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(io.BytesIO(content)).metadata.num_rows)
    if name.endswith(".json"):
        document = json.loads(content)
        if isinstance(document, dict) and isinstance(document.get("records"), list):
            return len(document["records"])
        if isinstance(document, dict):
            return sum(len(value) for value in document.values() if isinstance(value, list | dict))
        if isinstance(document, list):
            return len(document)
    return None


def describe(name: str, content: bytes, before: Mapping[str, object] | None) -> dict[str, object]:
    entry: dict[str, object] = {"sha256": hashlib.sha256(content).hexdigest()}
    records = count_records(name, content)
    if records is not None:
        entry["records"] = records
    if before and before.get("sha256") != entry["sha256"] and "records" in before:
        entry["records_before"] = before["records"]  # the last release's count, for the doctor
    elif before and "records_before" in before:
        entry["records_before"] = before["records_before"]
    return entry


def stamp(manifest: Mapping[str, object], published: Mapping[str, bytes], committed: object) -> dict:
    """`manifest` with the files of this publish described, the others kept as the manifest (or,
    without a description of its own, `committed`: the one on disk before) described them."""
    old = manifest.get(FILES_KEY)
    if not isinstance(old, dict):
        old = committed.get(FILES_KEY) if isinstance(committed, dict) else None
    files = dict(old) if isinstance(old, dict) else {}
    for name, content in published.items():
        if name != MANIFEST_FILE:
            files[name] = describe(name, content, files.get(name))
    stamped = {**manifest, "schema_version": SCHEMA_VERSION, FILES_KEY: dict(sorted(files.items()))}
    ManifestFile.model_validate(stamped)  # the one schema of data/ files (finder/schema/documents.py)
    return stamped
