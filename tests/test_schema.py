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


def _a_stored_service():
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "data" / "services.json"
    return json.loads(path.read_text(encoding="utf-8"))["records"][0]


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"min_age": "18"}, "min_age: input should be a valid integer"),  # "18" is not 18
        ({"national": 1}, "national: input should be a valid boolean"),  # 1 is not true
        ({"favourite_colour": "blue"}, "favourite_colour: extra inputs are not permitted"),
        ({"outcomes_by_period": {"2024-25": {}}}, "outcomes_by_period.2024-25.period: field required"),
        ({"areas_served": [{"code": "W06000015"}]}, "areas_served.0.code: string should match pattern"),
    ],
)
def test_a_service_is_checked_strictly_and_the_error_names_the_field(changes, says):
    from finder.schema import RecordError, validate_service

    record = _a_stored_service()
    validate_service(record)
    with pytest.raises(RecordError, match=f"^service {record['id']}: {says}"):
        validate_service({**record, **changes})


def test_checking_a_record_leaves_it_exactly_as_stored():
    import copy

    from finder.schema import validate

    record = {**_a_stored_service(), "lat": 51, "lon": 0}  # whole numbers stay whole numbers
    before = copy.deepcopy(record)
    validate([record], kind="nhs")
    assert record == before and type(record["lat"]) is int
