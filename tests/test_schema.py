"""The one link rule every stored and shown URL passes."""

import pytest

from finder.schema import is_http_url, safe_url


@pytest.mark.parametrize(
    "url",
    [
        "https://www.nhs.uk/service-search/",
        "http://example.org/a?b=c",
        " https://talkingtherapies.nhs.uk/refer ",
    ],
)
def test_plain_web_links_pass(url):
    assert is_http_url(url)
    assert safe_url(url) == url.strip()


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "data:text/html,<b>x</b>",
        "mailto:someone@nhs.net",
        "tel:01234567890",
        "//example.org/x",
        "/relative",
        "https://",
        "https://exa mple.org",
        "https://example.org/\nx",
        "https://mertonupliftreferrals@swlstg.nhs.uk/referral",
        "https://www.nhs.uk@evil.example/",
        "https://[::1",
        None,
        42,
    ],
)
def test_anything_else_is_refused(url):
    assert not is_http_url(url)
    assert safe_url(url) is None
