"""The record models: the search contract both kinds share, the NHS service with its outcomes, the
private practitioner, and the rows of the two coverage tables (service areas and roles).

One declaration per field: its JSON type, whether null is allowed and what it means (the
description goes into docs/schema/). A new field is one line here; the key lists the code reads
(`RECORD_KEYS`, `AREA_ROW_KEYS`, the CSV columns) follow from the models.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from finder.schema.base import (
    DistrictCode,
    HttpLink,
    IsoDate,
    Model,
    OdsCode,
    Percent,
    Period,
    PublicLink,
    Text,
    rule,
)
from finder.schema.values import (
    AREA_ROW_KEYS,
    DISTRICT_PATTERN,
    NATIONAL_CODE,
    RECORD_KEYS,
    ROLE_ROW_KEYS,
    AreaBasis,
    Confidence,
    IptBasis,
    Kind,
    LocationPrecision,
    ProvenanceGroup,
    Register,
    Role,
    SelfReferral,
)

# --- the search contract ------------------------------------------------------------------------

Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]


class SearchRecord(Model):
    """What search, the app and the refresh rely on in every record, NHS service or practitioner."""

    id: Text = Field(description="stable id: the NHS organisation (ODS) code, or prac-... for a practitioner")
    kind: Kind = Field(description="nhs | private")
    name: Text = Field(description="the name as its source gives it")
    lat: Latitude | None = Field(description="WGS84 latitude of `location_precision`'s point")
    lon: Longitude | None = Field(description="WGS84 longitude")
    location_precision: LocationPrecision | None = Field(description="what the position is the centre of")
    offers_ipt: bool | None = Field(description="true / false / null = unknown")
    ipt_evidence: str | None = Field(description="why offers_ipt is what it is")
    self_referral_url: HttpLink | None = Field(description="online self-referral form, http(s) only")
    phone: str | None = Field(description="published phone number")
    website: HttpLink | None = Field(description="http(s) only")
    email: str | None = Field(description="published email address")
    source: Text = Field(description="main source")
    last_verified: IsoDate = Field(description="ISO date the main source was read")
    works_online: bool = Field(description="true only when a source says national/online")
    works_in_person: bool = Field(description="sees people in person")


# --- the NHS service record ---------------------------------------------------------------------


class Outcomes(Model):
    """NHS England's published figures for one service and one financial year."""

    period: Period = Field(description="financial year, e.g. 2024-25")
    referrals: int | None = Field(description="referrals received")
    finished_treatment: int | None = Field(description="referrals that finished a course of treatment")
    recovery_pct: Percent | None = Field(description="Percentage_Recovery as published")
    reliable_improvement_pct: Percent | None = Field(description="Percentage_Improvement as published")
    reliable_recovery_pct: Percent | None = Field(description="Percentage_ReliableRecovery as published")
    within_6_weeks_pct: Percent | None = Field(
        description="finished courses that started treatment within 6 weeks"
    )
    within_18_weeks_pct: Percent | None = Field(description="... within 18 weeks")
    mean_wait_days: float | None = Field(description="mean wait to start treatment, where published")
    ipt_courses: int | None = Field(
        description="courses of IPT in the same year (null: suppressed or absent)"
    )
    ipt_recovery_pct: Percent | None = Field(description="recovery after a course of IPT")
    dit_courses: int | None = Field(
        description="courses of brief psychodynamic psychotherapy (where DIT is recorded)"
    )
    dit_recovery_pct: Percent | None = Field(description="recovery after a course of DIT")
    source: str = Field(description="the statistics file(s)")


class Provenance(Model):
    """Where one group of a service's facts came from."""

    source: Text
    last_verified: IsoDate | None = None
    note: str | None = None
    evidence_urls: list[HttpLink] = Field(default_factory=list)


class AreaServed(Model):
    """One district a service takes people from, with how we know."""

    code: DistrictCode = Field(description="ONS district (LAD 2024) code")
    name: Text = Field(description="district name")
    basis: AreaBasis = Field(description="how we know, strongest first: nhs_directory ... hq_area")
    confidence: Confidence
    evidence: Text = Field(description="the words or page that say so")
    part: Text | None = Field(description="the part of the district it covers; null: all of it")
    local_service_name: Text | None = Field(
        description="the service's public name in this district; null: the provider's public name"
    )


class ServiceRecord(SearchRecord):
    """One NHS Talking Therapies service as searched (services.json), derived from the NHS tables."""

    kind: Literal["nhs"] = Field(description='"nhs"')
    provider: str = Field(description="the organisation that runs the service (ODS name)")
    service_name: str | None = Field(description="the public name of the service where a source shows it")
    address: str | None = Field(description="street address where a source gives one")
    postcode: str | None = Field(description="headquarters postcode (ODS)")
    town: str | None = Field(description="headquarters town (ODS)")
    location_note: str = Field(description="says the service may run clinics elsewhere")
    icb_code: str | None = Field(description="Integrated Care Board code")
    icb_name: str | None = Field(description="Integrated Care Board name")
    region_name: str | None = Field(description="NHS England region")
    status: str = Field(description="ODS status: only Active services are in the directory")
    website: PublicLink | None = Field(description="http(s) on a public host only")
    self_referral: SelfReferral = Field(description="online | phone | unknown")
    self_referral_url: PublicLink | None = Field(description="online self-referral form, public http(s) only")
    self_referral_phone: str | None = Field(description="phone number a source gives for self-referral")
    min_age: int | None = Field(description="minimum age in years where a source states one")
    min_age_text: str | None = Field(description="the age rule as stated, e.g. '17 years 9 months'")
    catchment: str | None = Field(description="catchment wording as seen")
    areas_covered: list[str] = Field(description="area (CCG/ICB sub-location) codes covered, where known")
    areas_served: list[AreaServed] = Field(description="the districts it takes people from")
    national: bool = Field(description="open to people anywhere in England")
    role: Role | None = Field(description="what it is to the public")
    audience: str | None = Field(description="who a specialist service is for")
    lead_id: str | None = Field(description="the lead service's ODS code (partners, sites)")
    role_evidence: str | None = Field(description="why the role is what it is")
    role_confidence: Confidence | None = Field(description="how sure the role is")
    probably_ended: bool = Field(description="the role evidence judges the service probably ended")
    ipt_basis: IptBasis | None = Field(description="the strongest source saying it offers IPT")
    offers_dit: bool | None = Field(description="Dynamic Interpersonal Therapy, a different therapy from IPT")
    dit_evidence: str | None = Field(description="why offers_dit is what it is")
    outcomes: Outcomes | None = Field(description="latest published year")
    outcomes_by_period: dict[str, Outcomes] = Field(
        description="every published year held: period -> outcomes"
    )
    links_note: str | None = Field(description="caveats recorded with the public-page facts")
    provenance: dict[ProvenanceGroup, Provenance] = Field(description="where each group of facts came from")
    works_online_evidence: str | None = Field(description="the phrase that says it works online")

    @model_validator(mode="after")
    def _rules(self) -> ServiceRecord:
        if self.self_referral == "online" and not self.self_referral_url:
            raise rule("self_referral 'online' needs self_referral_url")
        if self.self_referral == "phone" and not self.self_referral_phone:
            raise rule("self_referral 'phone' needs self_referral_phone")
        if (self.lat is None) != (self.lon is None):
            raise rule("lat and lon must both be set or both be null")
        if self.offers_ipt is True and not self.ipt_evidence:
            raise rule("offers_ipt is true without ipt_evidence")
        if (self.offers_ipt is True) != (self.ipt_basis is not None):
            raise rule("offers_ipt is true exactly when there is an ipt_basis")
        if self.lead_id is not None and self.lead_id == self.id:
            raise rule("a service cannot be its own lead")
        if self.offers_dit is True and not self.dit_evidence:
            raise rule("offers_dit is true without dit_evidence")
        return self


SERVICE_FIELD_NAMES = tuple(ServiceRecord.model_fields)
AREA_KEYS = tuple(AreaServed.model_fields)

# --- the practitioner record --------------------------------------------------------------------


def _real_date(value: str) -> str:
    try:
        date.fromisoformat(value)
    except ValueError:
        raise rule(f"{value[:40]!r} is not a date") from None
    return value


class Registration(Model):
    # "register" is a method of every model class, so the field is held under another name.
    register_: Register = Field(alias="register", description="a core professional register")
    number: Text = Field(description="the number in the register's own format")


class PractitionerRecord(SearchRecord):
    """A private IPT practitioner (practitioners.json): an IPT UK listing with a core registration."""

    kind: Literal["private"] = Field(description='"private"')
    location_precision: Literal["sector", "outcode"] | None = Field(
        description="never a full postcode: a private therapist's postcode is often their home"
    )
    offers_ipt: bool = Field(description="true: every listed practitioner is IPT UK accredited")
    website: PublicLink | None = Field(description="http(s) on a public host only")
    self_referral_url: PublicLink | None = Field(description="http(s) on a public host only")
    last_verified: Annotated[str, AfterValidator(_real_date)] = Field(description="ISO date")
    ipt_level: Text = Field(description="the IPT UK accreditation exactly as IPT UK shows it")
    ipt_supervisor: bool = Field(description="an IPT supervisor")
    ipt_trainer: bool = Field(description="an IPT trainer")
    ipt_adolescents: bool = Field(description="accredited for IPT with adolescents (IPT-A)")
    registrations: list[Registration] = Field(description="core professional registrations")
    town: Text = Field(description="the town where they work")
    outcode: Text = Field(description="the first half of the postcode only")
    works_by_phone: bool = Field(description="works by phone")

    @field_validator("location_precision", mode="before")
    @classmethod
    def _never_a_postcode(cls, value: object) -> object:
        if value == "postcode":
            raise rule("a practitioner is never located to a full postcode")
        return value


PRACTITIONER_KEYS = tuple(key for key in PractitionerRecord.model_fields if key not in RECORD_KEYS)

# --- the coverage tables ------------------------------------------------------------------------


class AreaRow(Model):
    """One row of service_areas.json: a service and one district it takes people from (or ENGLAND
    with basis "national" for a service open to all of England). Read from service_areas.csv,
    whose columns are these fields, `code` and `name` as lad24_code and lad24_name."""

    org_code: OdsCode = Field(description="the provider's ODS code")
    org_name: str = Field(description="the provider's name as the table gives it")
    code: Annotated[str, Field(pattern=f"{DISTRICT_PATTERN}|^{NATIONAL_CODE}$")] = Field(
        description=f"ONS district (LAD 2024) code, or {NATIONAL_CODE}"
    )
    name: Text = Field(description="district name")
    basis: AreaBasis | Literal["national"] = Field(description="how we know, strongest first")
    evidence: Text = Field(description="the words or page that say so")
    confidence: Confidence
    part: str = Field(description='the part of the district it covers ("Craven area"); "": all of it')
    local_service_name: str = Field(
        description="the service's public name in this district; \"\": the provider's public name"
    )


class RoleRow(Model):
    """One row of service_roles.json: what a provider is to the public."""

    org_code: OdsCode = Field(description="the provider's ODS code")
    org_name: str = Field(description="the provider's name as the table gives it")
    role: Role
    audience: str | None = Field(description="who a specialist service is for")
    lead_org_code: OdsCode | None = Field(description="the service it is part of (partners, sites)")
    evidence: str | None = Field(description="why the role is what it is")
    confidence: Confidence


for _model, _keys in ((SearchRecord, RECORD_KEYS), (AreaRow, AREA_ROW_KEYS), (RoleRow, ROLE_ROW_KEYS)):
    if tuple(_model.model_fields) != _keys:
        raise TypeError(f"finder/schema/values.py must list {_model.__name__}'s fields, in order")
