"""GP surgeries as people know them: names from the NHS list in capitals, written as words."""

from __future__ import annotations

_SMALL_WORDS = frozenset({"and", "at", "by", "in", "of", "on", "the", "upon", "under", "with", "le", "en"})


def tidy_name(text: object) -> str:
    """The NHS list writes names in capitals: "THE DENSHAM SURGERY" -> "The Densham Surgery",
    "STOCKTON-ON-TEES" -> "Stockton-on-Tees". Plain text (escape before Markdown)."""

    def word(piece: str, first: bool) -> str:
        lower = piece.lower()
        if not first and lower in _SMALL_WORDS:
            return lower
        return lower[:1].upper() + lower[1:]

    words = []
    for i, token in enumerate(str(text or "").split()):
        parts = token.split("-")
        words.append("-".join(word(part, i == 0 and j == 0) for j, part in enumerate(parts)))
    return " ".join(words)


def practice_label(practice: object) -> str:
    """ "The Densham Surgery, Stockton-on-Tees" for a finder.gp.Practice (plain text)."""
    name, town = tidy_name(getattr(practice, "name", "")), tidy_name(getattr(practice, "town", ""))
    return f"{name}, {town}" if town else name
