"""What every declared record shares: the model settings, the value and link shapes used across
files, and the translation of a model's complaint into one short line that names the field. The
one module (with records.py and documents.py) that imports pydantic."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError

from finder.schema.links import is_http_url, non_public_host
from finder.schema.values import DISTRICT_PATTERN


class Model(BaseModel):
    """A declared record or file. Records travel as the JSON dicts they are stored as: a model
    checks a dict and is never written back, so validating changes no byte of data/. An unknown
    key is refused, and so is a value of the wrong JSON type: "1" is not the number 1, 1 is not
    true (a float field takes an integer, as JSON does)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)


# The rules a model states in words (its own checks) raise this error type; pydantic's own type and
# shape errors keep theirs.
RULE = "rule"


def rule(message: str) -> PydanticCustomError:
    """A broken domain rule, said in the words a maintainer reads in the refusal."""
    return PydanticCustomError(RULE, message)


# --- value shapes -------------------------------------------------------------------------------


def _not_blank(value: str) -> str:
    if not value.strip():
        raise rule("must not be blank")
    return value


Text = Annotated[str, AfterValidator(_not_blank), Field(json_schema_extra={"pattern": r"\S"})]  # not blank
IsoDate = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")]
Period = Annotated[str, Field(pattern=r"^\d{4}-\d{2}$")]  # a financial year, e.g. 2024-25
Percent = Annotated[float, Field(ge=0, le=100)]
OdsCode = Annotated[str, Field(pattern=r"^[A-Z0-9]{3,6}$")]  # an NHS organisation (ODS) code
DistrictCode = Annotated[str, Field(pattern=DISTRICT_PATTERN)]


@dataclass(frozen=True)
class Problem:
    """One way a record breaks its model. `field` is a dotted path ("outcomes.recovery_pct"), ""
    for a rule about the whole record; a rule's complaint is written to follow the field's name."""

    field: str
    complaint: str
    is_rule: bool

    def __str__(self) -> str:
        if not self.field:
            return self.complaint
        return f"{self.field} {self.complaint}" if self.is_rule else f"{self.field}: {self.complaint}"


def problems(model: type[Model], data: Mapping[str, object]) -> list[Problem]:
    """Each way `data` breaks `model`, in the model's order (empty when it is fine)."""
    try:
        model.model_validate(data)
    except ValidationError as error:
        return [
            Problem(
                field=".".join(str(part) for part in detail["loc"]),
                complaint=detail["msg"]
                if detail["type"] == RULE
                else detail["msg"][:1].lower() + detail["msg"][1:],
                is_rule=detail["type"] == RULE,
            )
            for detail in error.errors(include_url=False)
        ]
    return []


# --- links (the link rule is finder/schema/links.py) ----------------------------------------------


def _link(value: str) -> str:
    if not is_http_url(value):
        raise rule(f"{value[:60]!r} is not an http(s) link")
    return value


def _public_link(value: str) -> str:
    if not is_http_url(value):
        raise rule(f"is not a plain http(s) URL: {value!r}")
    if non_public_host(value):
        raise rule(f"is on a host not for the public: {value!r}")
    return value


# A link kept as evidence of where a fact was read (any host), and a link a person may be sent to.
HttpLink = Annotated[str, AfterValidator(_link)]
PublicLink = Annotated[str, AfterValidator(_public_link)]
