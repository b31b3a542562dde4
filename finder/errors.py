"""Errors that carry a message meant for a person, not a traceback."""


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
