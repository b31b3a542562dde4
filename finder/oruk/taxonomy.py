"""The Open Referral UK taxonomy of what a person filters on, and the stable ids every ORUK object
carries: NHS Talking Therapies; delivers IPT (by the basis of the evidence); self-referral online;
for a particular group (and which). Pure, like finder.oruk.mapping, which tags services with it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from finder.schema import is_http_url

ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/nhs-talking-therapies-ipt-finder")


def stable_id(kind: str, key: str) -> str:
    """The same UUID for the same thing in every export and every release."""
    return str(uuid.uuid5(ID_NAMESPACE, f"{kind}/{key}"))


# --- The taxonomy ---------------------------------------------------------------------------------------

TAXONOMY_NAME = "NHS Talking Therapies and IPT finder"
TAXONOMY_ID = stable_id("taxonomy", TAXONOMY_NAME)


@dataclass(frozen=True, kw_only=True)
class Term:
    code: str
    name: str
    description: str
    parent: str | None = None
    link_type: str = "service_type"

    @property
    def id(self) -> str:
        return stable_id("taxonomy_term", self.code)


NHS_TALKING_THERAPIES = Term(
    code="nhs-talking-therapies",
    name="NHS Talking Therapies",
    description="An NHS Talking Therapies service: free NHS psychological therapy for adults in England.",
)
DELIVERS_IPT = Term(
    code="delivers-ipt",
    name="Delivers Interpersonal Therapy (IPT)",
    description="NHS England's published figures show people finishing a course of IPT at this service.",
)
IPT_BASIS_TERMS = {
    "official_latest": Term(
        code="delivers-ipt/latest-year",
        name="IPT in NHS England's latest year of figures",
        description="NHS England's figures for the latest year show courses of IPT here.",
        parent=DELIVERS_IPT.code,
    ),
    "official_earlier": Term(
        code="delivers-ipt/earlier-year",
        name="IPT in an earlier year of NHS England's figures",
        description="NHS England's figures show courses of IPT here in an earlier year, not the latest.",
        parent=DELIVERS_IPT.code,
    ),
}
IPT_ON_WEBSITE = Term(
    code="ipt-on-own-website",
    name="IPT mentioned on the service's own website",
    description="The service's own website mentions IPT; NHS England's figures do not show it.",
)
SELF_REFERRAL_ONLINE = Term(
    code="self-referral-online",
    name="Self-referral online",
    description="People can refer themselves through the service's online form.",
    link_type="referral",
)
FOR_A_GROUP = Term(
    code="for-a-group",
    name="For a particular group of people",
    description="The service is for a particular group; its narrower term says who.",
    link_type="audience",
)
FIXED_TERMS = (
    NHS_TALKING_THERAPIES,
    DELIVERS_IPT,
    *IPT_BASIS_TERMS.values(),
    IPT_ON_WEBSITE,
    SELF_REFERRAL_ONLINE,
    FOR_A_GROUP,
)


def audience_term(audience: str) -> Term:
    return Term(
        code=f"for-a-group/{audience}",
        name=f"For {audience}",
        description=f"The service is for {audience}.",
        parent=FOR_A_GROUP.code,
        link_type="audience",
    )


def service_terms(record: Mapping) -> list[Term]:
    """The terms a person filters on that this service carries (a narrower term with its parent)."""
    terms = [NHS_TALKING_THERAPIES] if record.get("kind", "nhs") == "nhs" else []
    if record.get("offers_ipt") is True:
        basis = record.get("ipt_basis")
        if basis == "website":
            terms.append(IPT_ON_WEBSITE)
        else:
            terms.append(DELIVERS_IPT)
            if basis in IPT_BASIS_TERMS:
                terms.append(IPT_BASIS_TERMS[basis])
    if is_http_url(record.get("self_referral_url")):
        terms.append(SELF_REFERRAL_ONLINE)
    if record.get("audience"):
        terms += [FOR_A_GROUP, audience_term(record["audience"])]
    return terms


def all_terms(records: Iterable[Mapping]) -> list[Term]:
    """The fixed terms, then one narrower term per audience the directory holds."""
    audiences = sorted({r["audience"] for r in records if r.get("audience")})
    return [*FIXED_TERMS, *(audience_term(a) for a in audiences)]


def taxonomy_term(term: Term) -> dict:
    row = {
        "id": term.id,
        "name": term.name,
        "description": term.description,
        "taxonomy": TAXONOMY_NAME,
        "taxonomy_id": TAXONOMY_ID,
        "term": term.code,
    }
    if term.parent:
        row["parent_id"] = stable_id("taxonomy_term", term.parent)
    return row


def taxonomy(terms: Iterable[Term] | None = None) -> dict:
    """The taxonomy; with `terms`, nested as the profile's taxonomy object carries them."""
    row: dict = {
        "id": TAXONOMY_ID,
        "name": TAXONOMY_NAME,
        "description": "What a person looking for NHS Talking Therapies or Interpersonal Therapy (IPT) "
        "filters on: IPT and the evidence for it, self-referral online, and services for a group.",
        "version": "1",
    }
    if terms is not None:
        row["taxonomy_terms"] = [taxonomy_term(t) for t in terms]
    return row


def attributes(record: Mapping, *, nested: bool) -> list[dict]:
    """The links from a service to its taxonomy terms (with each term itself when nested)."""
    service_id = stable_id("service", record["id"])
    rows = []
    for term in service_terms(record):
        row: dict = {
            "id": stable_id("attribute", f"{record['id']}/{term.code}"),
            "link_id": service_id,
            "taxonomy_term_id": term.id,
            "link_type": term.link_type,
        }
        if nested:
            row["taxonomy_term"] = taxonomy_term(term)
        rows.append(row)
    return rows
