"""Importers: each reads one kind of source file, checks its layout and publishes to data/."""

from finder.errors import SourceFormatError

# An import that would drop more than this share of what we hold is refused unless asked for:
# a truncated or partial file must not silently replace the postcodes, towns or directory.
MAX_SHRINK = 0.2


def refuse_shrink(source: str, what: str, new: int, held: int, max_shrink: float | None) -> None:
    """Raise when `new` is under (1 - max_shrink) of `held`; None means no check."""
    if max_shrink is not None and held and new < held * (1 - max_shrink):
        raise SourceFormatError(
            f"{source}: {new:,} {what}, we hold {held:,}; refusing to drop more than {max_shrink:.0%} "
            "(a truncated or partial file?). Use --allow-shrink if this is intended."
        )
