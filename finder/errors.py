"""Errors that carry a message meant for a person, not a traceback."""

from __future__ import annotations


class FinderError(Exception):
    """A problem the user or operator can fix; the CLI prints it on one line and exits 2."""


class PostcodeError(FinderError):
    """A postcode or place that cannot be resolved. `reason` is a stable machine-readable code."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


class SourceFormatError(FinderError):
    """A source file whose layout is not the one the importer knows (format drift)."""


class ParseError(FinderError):
    """A fetched page or API response whose structure changed: never treated as 'no results'."""


class RecordError(FinderError):
    """A record that breaks the schema (finder/schema/): nothing is written. `field` names the
    field when known."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.detail = message

    @classmethod
    def at(cls, field: str, message: str) -> RecordError:
        return cls(message, field=field)
