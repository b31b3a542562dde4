"""The searchable-record contract shared by every kind of record in data/ (NHS services in
services.json, private practitioners in practitioners.json), and the one rule for links."""

from __future__ import annotations

from urllib.parse import urlsplit

# Every record carries these keys; search, the app and the refresh job rely on them.
RECORD_KEYS = (
    "id",
    "kind",
    "name",
    "lat",
    "lon",
    "location_precision",
    "offers_ipt",
    "ipt_evidence",
    "self_referral_url",
    "phone",
    "website",
    "email",
    "source",
    "last_verified",
    "works_online",
    "works_in_person",
)


def is_http_url(url: object) -> bool:
    """Only plain http(s) links with a host are ever stored or shown: never javascript:, data:,
    mailto:, relative paths, a user name before the host, or spaces or control characters."""
    if not isinstance(url, str):
        return False
    text = url.strip()
    if not text or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in text):
        return False
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        return False
    # A user name before the host ("https://nhs.uk@evil.example/") hides where a link really goes.
    return parts.scheme.lower() in ("http", "https") and bool(host) and "@" not in parts.netloc


def safe_url(url: object) -> str | None:
    """The URL stripped of surrounding space if it is an http(s) link, else None."""
    return url.strip() if is_http_url(url) else None
