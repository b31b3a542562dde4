"""A text to send to a patient: plain, never Markdown, with the crisis lines."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from finder.presentation.cards import coverage_words, local_names_words
from finder.presentation.text import tel_url
from finder.schema import public_url


def patient_text(record: Mapping, crisis_lines: Iterable, *, not_a_crisis: str, nhs_finder_url: str) -> str:
    """Plain text a GP or support worker can paste into a message or print: the service, how to
    refer, phone and link, and the crisis lines. Never Markdown: it is shown in a code box."""

    def clean(value: object) -> str:
        return " ".join(str(value).split())

    name = clean(record.get("service_name") or record.get("name") or "NHS Talking Therapies")
    lines = [name]
    for words in (coverage_words(record), local_names_words(record)):
        if words:
            lines.append(clean(words))
    referral = public_url(record.get("self_referral_url"))
    if referral:
        lines.append(f"Refer yourself online: {referral}")
    if tel_url(record.get("self_referral_phone")):
        lines.append(f"Refer yourself by phone: {clean(record['self_referral_phone'])}")
    if tel_url(record.get("phone")) and record.get("phone") != record.get("self_referral_phone"):
        lines.append(f"Phone: {clean(record['phone'])}")
    if public_url(record.get("website")):
        lines.append(f"Website: {public_url(record.get('website'))}")
    if not referral and not tel_url(record.get("self_referral_phone")) and record.get("kind") == "nhs":
        lines.append(f"How to refer yourself: {nhs_finder_url}")
    lines += ["", not_a_crisis]
    for line in crisis_lines:
        lines.append(f"- {line.how}: {line.when}.")
    return "\n".join(lines)
