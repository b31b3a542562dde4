"""The change report a person reads after each refresh (finder/changes.py)."""

from finder.changes import SourceReport, diff_records, prepend_run, render_markdown


def service(**fields):
    return {
        "id": "R1A",
        "name": "Herefordshire and Worcestershire Talking Therapies",
        "phone": "0300 013 5727",
        "last_verified": "2026-11-01",
        **fields,
    }


def test_nested_provenance_changes_are_named_by_path():
    old = [service(provenance={"contacts": {"source": "service_links.csv", "last_verified": None}})]
    new = [service(provenance={"contacts": {"source": "https://www.nhs.uk/x", "last_verified": None}})]
    (change,) = diff_records(old, new).changed
    assert [(f.field, f.before, f.after) for f in change.fields] == [
        ("provenance.contacts.source", "service_links.csv", "https://www.nhs.uk/x")
    ]


def test_report_puts_contact_changes_first_with_before_and_after():
    old = [service(evidence_urls=["https://a.example.org"])]
    new = [
        service(phone="0300 111 2222", evidence_urls=["https://b.example.org"], last_verified="2026-11-25")
    ]
    report = SourceReport("service-sites", "updated", "", diff_records(old, new))
    text = render_markdown("2026-11-25", [report])
    contact = text.index("Contact details changed")
    assert (
        text.index(
            "| R1A | `Herefordshire and Worcestershire Talking Therapies` | phone | `0300 013 5727` | "
            "`0300 111 2222` |"
        )
        > contact
    )
    assert "| R1A | evidence_urls | 1 items | `+ https://b.example.org; - https://a.example.org` |" in text
    assert "last_verified" not in text  # a date of checking is not a change of fact


def test_kept_source_says_why():
    report = SourceReport("iptuk", "kept", "page layout changed: no entries")
    text = render_markdown("2026-11-25", [report])
    assert "- iptuk: KEPT previous data: page layout changed: no entries" in text
    assert "### iptuk: previous data kept\n\nWhy: page layout changed: no entries" in text


def test_changes_file_keeps_the_newest_runs_first():
    text = None
    for day in range(1, 6):
        section = render_markdown(f"2026-12-0{day}", [SourceReport("ods", "unchanged", "")])
        text = prepend_run(text, section, keep_runs=3)
    assert text.startswith("# Data changes")
    runs = [line for line in text.splitlines() if line.startswith("## Refresh")]
    assert runs == ["## Refresh 2026-12-05", "## Refresh 2026-12-04", "## Refresh 2026-12-03"]


def test_scraped_text_in_the_report_is_never_markup():
    # CHANGES.md is read as rendered Markdown on GitHub, where raw HTML and links are live.
    old = [service(), {"id": "GONE", "name": "Old <b>Service</b>"}]
    new = [
        service(phone="0300 `111` 2222"),
        {
            "id": "NEW1",
            "name": '<img src="https://tracker.example.org/x.gif"> [Refer here](https://evil.example.org)',
        },
        {"id": "A|<b>x</b>", "name": "see https://www.nhs.uk@evil.example/ or www.evil.example"},
    ]
    text = render_markdown("2026-11-25", [SourceReport("nhs", "updated", "", diff_records(old, new))])
    assert "<img" not in text and "<b>" not in text and "[Refer here](" not in text
    assert "- NEW1: &lt;img src=" in text and "\\[Refer here\\](https:/\u200b/evil.example.org)" in text
    # Bare addresses GitHub would autolink (one showing a host it does not open) stay text.
    assert "https://www.nhs.uk@" not in text and " www.evil" not in text
    assert "<b>x</b>" not in text
    assert "- GONE: Old &lt;b&gt;Service&lt;/b&gt;" in text
    assert "| phone | `0300 013 5727` | `` 0300 `111` 2222 `` |" in text  # a backtick stays inside
