"""The layout of every JSON file in data/, as models, and their JSON Schemas in docs/schema/.

`FILES` maps each file name to its model. `json_schemas()` gives each file's JSON Schema and
`write_json_schemas(folder)` writes them (tests/test_schema_docs.py fails when docs/schema/ is not
what they give): `python -c "from finder.schema.documents import write_json_schemas as w; w()"`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from finder.schema.base import HttpLink, IsoDate, Model, OdsCode, Percent, Period, Text
from finder.schema.files import (
    AREAS_FILE,
    LINKS_FILE,
    MANIFEST_FILE,
    OUTCOMES_FILE,
    PRACTITIONERS_FILE,
    PROVIDERS_FILE,
    ROLES_FILE,
    SERVICE_AREAS_FILE,
    SERVICES_FILE,
)
from finder.schema.records import AreaRow, PractitionerRecord, RoleRow, ServiceRecord

SCHEMA_FOLDER = Path(__file__).resolve().parents[2] / "docs" / "schema"
Version = Literal[1]  # finder.schema.base.SCHEMA_VERSION


class ServicesFile(Model):
    """services.json: the NHS services the finder searches, sorted by id."""

    schema_version: Version
    records: list[ServiceRecord]


class PractitionersFile(Model):
    """practitioners.json: private IPT practitioners, sorted by id."""

    schema_version: Version
    records: list[PractitionerRecord]


class ImportedTable(Model):
    """A source table as imported: which file, when."""

    schema_version: Version
    source: Text = Field(description="the file it was imported from")
    imported_at: IsoDate


class ProviderRow(Model):
    org_code: OdsCode
    org_name: Text
    postcode: str
    town: str
    status: Literal["Active", "Inactive"]
    start_date: IsoDate
    end_date: IsoDate | None
    icb_code: str | None
    icb_name: str | None
    region_code: str | None
    region_name: str | None


class ProvidersFile(ImportedTable):
    """nhs_providers.json: the organisations that deliver NHS Talking Therapies (ODS)."""

    source_description: str
    records: list[ProviderRow]


class LinkRow(Model):
    org_code: OdsCode
    org_name: str
    service_name: str | None
    website: HttpLink | None
    self_referral_url: HttpLink | None
    self_referral_phones: list[str]
    self_referral_phone_text: str | None
    min_age: int | None
    catchment: str | None
    offers_ipt: bool | None
    evidence_urls: list[HttpLink]
    notes: str


class LinksFile(ImportedTable):
    """service_links.json: facts seen on public pages: websites, self-referral, phones, IPT mentions."""

    seen: str = Field(description="when the pages were seen, in words")
    records: list[LinkRow]


class AreaRowsFile(ImportedTable):
    """service_areas.json: which districts each service takes people from."""

    records: list[AreaRow]


class RoleRowsFile(ImportedTable):
    """service_roles.json: what each provider is to the public."""

    records: list[RoleRow]


class MainFigures(Model):
    name: str
    referrals: int | None
    finished_treatment: int | None
    recovery_pct: Percent | None
    reliable_improvement_pct: Percent | None
    reliable_recovery_pct: Percent | None
    within_6_weeks_pct: Percent | None
    within_18_weeks_pct: Percent | None
    mean_wait_days: float | None


class MainYear(Model):
    source: str
    imported_at: IsoDate
    england: MainFigures
    icbs: dict[str, MainFigures]
    providers: dict[str, MainFigures]


class TherapyFigures(Model):
    courses: int | None
    recovery_pct: Percent | None
    improvement_pct: Percent | None
    reliable_recovery_pct: Percent | None


class EnglandTherapy(TherapyFigures):
    therapy_type: str


class ProviderTherapies(Model):
    name: str
    ipt: TherapyFigures
    dit: TherapyFigures


class TherapyYear(Model):
    source: str
    imported_at: IsoDate
    england: list[EnglandTherapy]
    providers: dict[str, ProviderTherapies]


class OutcomesFile(Model):
    """nhs_outcomes.json: NHS England's annual figures by year: main measures and by therapy."""

    schema_version: Version
    main: dict[Period, MainYear]
    therapy: dict[Period, TherapyYear]


class DistrictPart(Model):
    sub_icb: str
    icb: str
    icb_inferred: bool = Field(description="the April 2026 ICB is inferred from geography")
    lsoas: int
    share: float


class District(Model):
    name: Text
    parts: list[DistrictPart]


class SubIcb(Model):
    name: Text
    gss: str
    icb: str


class Icb(Model):
    name: Text
    gss: str


class AreasFile(Model):
    """areas.json: district -> sub-ICB location -> ICB, the wards of split districts, old codes."""

    aliases: dict[str, str] = Field(description="an older district code -> the current one")
    districts: dict[str, District]
    sub_icbs: dict[str, SubIcb]
    icbs: dict[str, Icb]
    wards: dict[str, list[str]] = Field(description="a ward of a split district -> its sub-ICB codes")


class ReleasedFile(Model):
    """One data file as it was published (stamped by store.publish, checked by `finder doctor`)."""

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the file's bytes")
    records: int | None = Field(default=None, ge=0, description="its records or table rows")
    records_before: int | None = Field(
        default=None, ge=0, description="its records in the release before, when it changed"
    )


class ManifestFile(Model):
    """manifest.json: per source, where it came from, when, its counts and checksums (each source
    writes its own entry; the keys vary by source); per data file, its checksum and record count
    as published, and the schema version they were written with."""

    sources: dict[str, dict[str, Any]]
    schema_version: int | None = Field(default=None, description="the records' schema version")
    files: dict[str, ReleasedFile] = Field(default_factory=dict, description="data file name -> as published")


FILES: dict[str, type[Model]] = {
    SERVICES_FILE: ServicesFile,
    PRACTITIONERS_FILE: PractitionersFile,
    PROVIDERS_FILE: ProvidersFile,
    OUTCOMES_FILE: OutcomesFile,
    LINKS_FILE: LinksFile,
    SERVICE_AREAS_FILE: AreaRowsFile,
    ROLES_FILE: RoleRowsFile,
    AREAS_FILE: AreasFile,
    MANIFEST_FILE: ManifestFile,
}


def schema_file_name(data_file: str) -> str:
    return data_file.removesuffix(".json") + ".schema.json"


def json_schemas() -> dict[str, str]:
    """docs/schema/ file name -> its text: the JSON Schema of each data/ JSON file."""
    return {
        schema_file_name(name): json.dumps(
            {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "$id": f"docs/schema/{schema_file_name(name)}",
                **model.model_json_schema(),
            },
            indent=2,
            ensure_ascii=False,
        )
        + "\n"
        for name, model in sorted(FILES.items())
    }


def write_json_schemas(folder: Path = SCHEMA_FOLDER) -> list[Path]:
    """Write every data/ file's JSON Schema into `folder`; returns the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in json_schemas().items():
        (folder / name).write_text(text, encoding="utf-8")
        written.append(folder / name)
    return written
