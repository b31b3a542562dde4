"""Words and links the app shows, as pure functions (no Streamlit), so they are tested directly.

Everything that turns a record into text for a person lives here, one module per subject:

- `text`: safe text and links (`md_escape` makes scraped or imported text inert before it goes
  into Markdown; only http(s) and tel: URLs become links)
- `places`: distances, approximate locations, ages, where each fact came from
- `outcomes`: a service's outcomes against England's figures for the same year
- `cards`: one search result (its title, the one next step, who it is for)
- `groups`: the answer in groups, the person's own service first
- `practices`: GP surgery names as people know them
- `for_patients`: the plain text to send to a patient
- `register_checks`: what each register said, and the summary of a check
- `sources`: the data's sources in plain words (the About the data page)
- `csv_export`: the results as a CSV file

Callers import from `finder.presentation` whatever module holds the words.
"""

from finder.presentation.cards import (
    FAR_OFFICE_MILES,
    KIND_NAMES,
    NHS_FINDER_LABEL,
    Action,
    ResultCard,
    coverage_words,
    evidence_year,
    ipt_words,
    local_names_words,
    primary_action,
    registered_office_text,
    result_card,
    service_title,
    sources_for_people,
    who_for,
)
from finder.presentation.csv_export import COVERAGE_WORDS, CSV_COLUMNS, results_csv
from finder.presentation.for_patients import patient_text
from finder.presentation.groups import (
    BSL_HEADING,
    CHOOSE_INTRO,
    DIGITAL_HEADING,
    FIRST_INTRO,
    GROUP_ALSO,
    GROUP_HEADINGS,
    GROUP_NATIONAL,
    GROUP_NEARBY,
    GROUP_PART,
    GROUP_PRIVATE,
    GROUP_YOURS,
    PART_INTRO,
    Entry,
    ResultGroup,
    group_key,
    group_results,
    icb_words,
    nhs_finder_is_next_step,
    partner_line,
)
from finder.presentation.outcomes import (
    compare_to_england,
    england_for,
    outcome_line,
    outcome_lines,
    outcomes_sentence,
)
from finder.presentation.places import distance_text, location_note, whole_number
from finder.presentation.practices import practice_label, tidy_name
from finder.presentation.register_checks import (
    HCPC_PROFESSIONS,
    REGISTER_STATUS,
    REGISTERS_BY_NUMBER,
    StatusWords,
    candidate_text,
    check_summary,
    checked_text,
    number_words,
    relevant_registers,
    status_words,
)
from finder.presentation.sources import SOURCE_TITLES, source_rows, source_title
from finder.presentation.text import crisis_line, helpline_list, md_escape, md_link, tel_url
from finder.schema import safe_url

__all__ = [
    "BSL_HEADING",
    "CHOOSE_INTRO",
    "COVERAGE_WORDS",
    "CSV_COLUMNS",
    "DIGITAL_HEADING",
    "FAR_OFFICE_MILES",
    "FIRST_INTRO",
    "GROUP_ALSO",
    "GROUP_HEADINGS",
    "GROUP_NATIONAL",
    "GROUP_NEARBY",
    "GROUP_PART",
    "GROUP_PRIVATE",
    "GROUP_YOURS",
    "HCPC_PROFESSIONS",
    "KIND_NAMES",
    "NHS_FINDER_LABEL",
    "PART_INTRO",
    "REGISTERS_BY_NUMBER",
    "REGISTER_STATUS",
    "SOURCE_TITLES",
    "Action",
    "Entry",
    "ResultCard",
    "ResultGroup",
    "StatusWords",
    "candidate_text",
    "check_summary",
    "checked_text",
    "compare_to_england",
    "coverage_words",
    "crisis_line",
    "distance_text",
    "england_for",
    "evidence_year",
    "group_key",
    "group_results",
    "helpline_list",
    "icb_words",
    "ipt_words",
    "local_names_words",
    "location_note",
    "md_escape",
    "md_link",
    "nhs_finder_is_next_step",
    "number_words",
    "outcome_line",
    "outcome_lines",
    "outcomes_sentence",
    "partner_line",
    "patient_text",
    "practice_label",
    "primary_action",
    "registered_office_text",
    "relevant_registers",
    "result_card",
    "results_csv",
    "safe_url",
    "service_title",
    "source_rows",
    "source_title",
    "sources_for_people",
    "status_words",
    "tel_url",
    "tidy_name",
    "who_for",
    "whole_number",
]
