"""The text rules on the phrases NHS Talking Therapies services really publish."""

import pytest

from finder import textrules


@pytest.mark.parametrize(
    ("phrase", "years", "months"),
    [
        ("Our service is for adults aged 16 and over.", 16, 0),
        ("You must be over 18 to use this service.", 18, 0),
        ("people aged 17 years and 9 months or older who are registered with a North Tyneside GP", 17, 9),
        ("GP page: age 18 years and upwards", 18, 0),
        ("If you're over 16 and registered with a GP in Herefordshire or Worcestershire", 16, 0),
        ("helps people aged 17 and over who are experiencing anxiety", 17, 0),
        ("Text says 'over the age of 17'", 17, 0),
        ("adults 18+ registered with a Leeds GP", 18, 0),
    ],
)
def test_minimum_age_from_real_phrases(phrase, years, months):
    age = textrules.minimum_age(phrase)
    assert age is not None
    assert (age.years, age.months) == (years, months)


def test_minimum_age_ignores_other_numbers():
    assert textrules.minimum_age("Screening appointments are available within 2-3 weeks") is None
    assert textrules.minimum_age("Call 0300 013 57 27 between 9 and 5") is None


def test_months_label_is_kept():
    assert textrules.minimum_age("17 years and 9 months or older").label() == "17 years 9 months"


@pytest.mark.parametrize(
    ("text", "area"),
    [
        (
            "If you're over 16 and registered with a GP in Herefordshire or Worcestershire, you can refer yourself",
            "Herefordshire or Worcestershire",
        ),
        (
            "aged 18+ and registered with a GP in Nottingham and Nottinghamshire.",
            "Nottingham and Nottinghamshire",
        ),
        ("aged 17+ and registered with a Leeds-based GP", "Leeds-based"),
        ("registered with a Berkshire GP", "Berkshire"),
    ],
)
def test_catchment(text, area):
    assert textrules.catchment(text) == area


def test_no_catchment_when_none_stated():
    assert textrules.catchment("We offer CBT and counselling.") is None


def test_dit_is_never_counted_as_ipt():
    dit_only = textrules.therapy_mentions("Step 3: Counselling, Dynamic Interpersonal Therapy (DIT), Groups")
    assert dit_only.dit and not dit_only.ipt
    both = textrules.therapy_mentions("Dynamic Interpersonal Therapy and Interpersonal Therapy are offered")
    assert both.dit and both.ipt
    ipt = textrules.therapy_mentions("Sutton Uplift offers Interpersonal Psychotherapy (IPT) for depression")
    assert ipt.ipt and not ipt.dit
    assert "Interpersonal Psychotherapy" in ipt.ipt_phrase


def test_lowercase_ipt_inside_words_is_not_ipt():
    assert not textrules.therapy_mentions("Please keep your receipt and script").ipt


@pytest.mark.parametrize(
    ("text", "href", "kind"),
    [
        ("Refer yourself online", "https://www.talkingtherapies.hwhct.nhs.uk/selfreferral", "self_referral"),
        ("Make a self-referral", "https://lincolnshiretalkingtherapies.nhs.uk/form", "self_referral"),
        (
            "Start here",
            "https://gateway.mayden.co.uk/referral-v2/e2d1595a-1a63-4796-8acf-de4bc9ec80a2",
            "platform",
        ),
        ("Online form", "https://www.iaptportal.co.uk/ServiceUser/SelfReferral.aspx?ID=1", "platform"),
        ("Information for GPs: referral form", "https://example.nhs.uk/self-referral", None),
        ("Refer yourself", "javascript:openForm()", None),
        ("About us", "https://example.nhs.uk/about", None),
        # The platform company's own site, or a link that only mentions a platform, is not a form.
        ("Powered by Limbic", "https://limbic.ai/blog/class-ii-a", None),
        ("Share", "https://social.example/share?u=https://gateway.mayden.co.uk/referral-v2/e2d1", None),
        ("Log in", "https://gateway.mayden.co.uk/login", None),
    ],
)
def test_self_referral_links(text, href, kind):
    assert textrules.self_referral_link(text, href) == kind


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("0300 013 57 27", "0300 013 5727"),
        ("+44 (0)191 295 2775", "0191 295 2775"),
        ("02032282194", "020 3228 2194"),
        ("Liverpool 0151 228 2300; Knowsley 0151 351 8600", "0151 228 2300"),
        ("01865 901 222", "01865 901222"),
        ("0800 073 2200", "0800 073 2200"),
        ("07808 844 488", "07808 844488"),
        ("call 12345", None),
    ],
)
def test_uk_phone_numbers(raw, normalised):
    assert textrules.normalise_uk_phone(raw) == normalised


def test_all_phones_and_crisis_lines():
    text = "Liverpool 0151 228 2300; Knowsley 0151 351 8600 (option 1); St Helens 01744 415 650"
    assert textrules.all_uk_phones(text) == ["0151 228 2300", "0151 351 8600", "01744 415650"]
    page = "Call us on 0300 013 57 27. Our Crisis Line, which is open 24 hours a day: 0800 0234 650"
    assert textrules.service_phones(page) == ["0300 013 5727"]


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://www.cpft.nhs.uk/self-refer-here", True),
        ("http://www.familyrefugeesupportproject.btck.co.uk/Referrals", True),
        ("javascript:alert(1)", False),
        ("data:text/html,<script>", False),
        ("mailto:someone@nhs.net", False),
        ("ftp://files.nhs.uk/a", False),
        ("https://", False),
        ("https://exa mple.com", False),
        (None, False),
    ],
)
def test_only_http_urls(url, ok):
    assert textrules.is_http_url(url) is ok


def test_national_or_online_services():
    assert textrules.national_or_online("Deaf BSL users aged over 18 living anywhere in England")
    assert textrules.national_or_online("Ieso Digital Health (UK) Ltd provides online CBT under contracts")
    assert textrules.national_or_online("registered with a GP in Nottingham and Nottinghamshire") is None


@pytest.mark.parametrize(
    ("phrase", "label"),
    [
        ("adults over 17.5 years (no upper limit)", "17 years 6 months"),  # iCope Camden and Islington
        (
            "Islington IAPT is part of ... per NCL ICB page; age over 17.5; Formerly iCope Islington",
            "17 years 6 months",
        ),
        ("the clinic is 17.5 miles from Leeds", None),
    ],
)
def test_half_year_minimum_age(phrase, label):
    age = textrules.minimum_age(phrase)
    assert (age.label() if age else None) == label


# The notes recorded with service_links.csv rows (copied from the shared file).
AKR01_NOTES = (
    "FAQ: self-referral into nearly all programmes incl. therapeutic services via online form (URL not "
    "seen); offers CBT, counselling, couple therapy, high intensity therapy. 0300 330 1354 is the "
    "charity's general local-rate number. 'ELTT' meaning not confirmed"
)
RTQ_NOTES = (
    "Gloucestershire Health and Care NHS FT IAPT service 'Let's Talk'; many patients self-refer "
    "(self-referral URL not seen). 0800 073 2200 is general enquiries/day supervisor line; GHC depression "
    "page: refer yourself to Let's Talk by calling 0800 073 2200 or via self-referral form (form URL not "
    "seen); GHC also calls it 'Gloucestershire Talking Therapies'"
)
RV5CG_NOTES = (
    "Service page: adults 18+, 17-year-olds case by case; third-party penroseportal (checked Jan 2024) says "
    "16+ and lists IPT and DIT. 0203 228 2194 is health-professional line; SLaM page (c.2020): Southwark "
    "IAPT self-referral phone 020 3228 2194 (same number given as health-professionals line on Southwark page)"
)
RV5CK_NOTES = (
    "GP page says patients can self-refer on the website (self-referral page URL not seen); SLaM page "
    "(c.2020): Lambeth IAPT self-referral phone 020 3228 6747"
)


def test_numbers_the_notes_call_general_or_professional_lines():
    assert set(textrules.numbers_not_for_self_referral(AKR01_NOTES)) == {"0300 330 1354"}
    # Another page plainly says to refer yourself on it: kept as a self-referral line.
    assert textrules.numbers_not_for_self_referral(RTQ_NOTES) == {}
    # Called a professionals' line, and only mentioned as self-referral in the same breath.
    assert set(textrules.numbers_not_for_self_referral(RV5CG_NOTES)) == {"020 3228 2194"}
    assert textrules.numbers_not_for_self_referral(RV5CK_NOTES) == {}
    assert textrules.numbers_not_for_self_referral(None) == {}


@pytest.mark.parametrize(
    ("service_name", "notes", "caveat"),
    [
        (
            "North Tyneside Talking Therapies (Northumbria Healthcare NHS FT)",
            "Wallsend Health Centre site; linked to North Tyneside Talking Therapies by location (inferred). "
            "Age limit is 17 years 9 months.",
            "linked to North Tyneside Talking Therapies by location (inferred)",
        ),
        (
            "Haringey Talking Therapies (Whittington Health) - uncertain",
            "",
            "Haringey Talking Therapies (Whittington Health) - uncertain",
        ),
        (
            "NHS Wirral Talking Therapies",
            "Feb 2019 Wirral Life magazine (Wirral CCG message): self-refer, no GP referral needed, call 0151 "
            "649 1859. Phone/age may be outdated; provider at that time not named. Everyturn link (NDC code) "
            "not confirmed",
            "provider at that time not named",
        ),
        (
            "Herefordshire and Worcestershire Talking Therapies",
            "Formerly 'Healthy Minds' (old page gave Herefordshire 01432 220507). Current page says over 16",
            None,
        ),
    ],
)
def test_attribution_caveats_from_real_notes(service_name, notes, caveat):
    assert textrules.attribution_caveat(service_name, notes) == caveat
