"""The link rule: which web addresses are ever stored or shown (the record models declare their
link fields with it, in finder/schema/base.py)."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from finder.errors import RecordError


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
    return url.strip() if isinstance(url, str) and is_http_url(url) else None


# Hosts that are not for the public: a pre-release copy of a site (staging., test., dev., uat.),
# this machine, or a bare IP address. A person must never be sent there, even when a stored page
# was read from one: such a link is never kept as a website or a self-referral link (the evidence
# that mentions it may keep the URL, to say where a fact was read).
_NON_PUBLIC_LABEL = re.compile(
    r"^(?:staging|stage|test|testing|dev|develop|development|uat|preprod|pre-prod)\d*$"
)


def non_public_host(url: object) -> bool:
    """Whether an http(s) link points at a host that is not for the public (see above)."""
    if not is_http_url(url):
        return False
    host = (urlsplit(str(url).strip()).hostname or "").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    labels = host.split(".")
    # Only the labels before the registered domain: "test.example.org" is a test host, but
    # "dev.to" or "uat.co.uk" name a public domain.
    return any(_NON_PUBLIC_LABEL.match(label) for label in labels[:-2])


def public_url(url: object) -> str | None:
    """A link a person may be sent to: an http(s) link (see `is_http_url`) on a public host."""
    safe = safe_url(url)
    return safe if safe is not None and not non_public_host(safe) else None


def http_url(value: object, field: str, *, public: bool = True) -> str | None:
    """The stored form of a link field: None when blank, else an http(s) link (on a public host
    unless `public` is False); anything else raises RecordError naming the field."""
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    if not is_http_url(text):
        raise RecordError.at(field, f"{_short(text)!r} is not an http(s) web address")
    if public and non_public_host(text):
        # A staging, test or local copy of a site is not somewhere to send a person.
        raise RecordError.at(
            field, f"{_short(text)!r} is on a host not for the public (staging, test or local)"
        )
    return text


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
