"""The read-only Open Referral UK API over data/ (FastAPI; every answer from finder.oruk.catalogue).

The paths and parameters are the UK profile's openapi.json; answers are rebuilt when a publish
changes data/ (store.data_version), and their ETag is that version, so a client revalidates
cheaply. GET only, open to every origin (CORS). Nothing a caller asks for is logged: the server is
started with its access log off, and no handler logs.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from finder import store
from finder.oruk import catalogue as oruk
from finder.oruk import mapping

HEALTH_PATH = "/health"
CACHE_CONTROL = "public, max-age=300"


class ApiInfo(BaseModel):
    version: str
    profile: str
    openapi_url: str


class Message(BaseModel):
    message: str


class PageWrapper(BaseModel):
    total_items: int
    total_pages: int
    page_number: int
    size: int
    first_page: bool
    last_page: bool
    empty: bool
    contents: list[dict[str, Any]]


PageNumber = Annotated[int | None, Query(description="Page number, from 1.")]
PerPage = Annotated[int | None, Query(description=f"Results a page, 1 to {oruk.MAX_PER_PAGE}.")]
UNKNOWN = "Not known for any service: nothing matches."


class ServiceFilters(BaseModel):
    """The profile's filters on a listing of services (pydantic checks each one's type: 400)."""

    search: str | None = Field(None, description="Words that must all appear in the service.")
    page: int | None = Field(None, description="Page number, from 1.")
    per_page: int | None = Field(None, description=f"Results a page, 1 to {oruk.MAX_PER_PAGE}.")
    taxonomy_term_id: str | None = Field(None, description="Only services tagged with this taxonomy term.")
    taxonomy_id: str | None = Field(None, description="Only services with a term of this taxonomy.")
    minimum_age: float | None = Field(None, description="Services whose minimum age is at least this.")
    maximum_age: float | None = Field(None, description=f"Maximum age. {UNKNOWN}")
    start_time: datetime.time | None = Field(None, description=f"Opening time. {UNKNOWN}")
    end_time: datetime.time | None = Field(None, description=f"Closing time. {UNKNOWN}")
    day: str | None = Field(None, description=f"Opening day. {UNKNOWN}")
    postcode: str | None = Field(
        None,
        description="Services for people who live at this postcode, in the finder's order, each by "
        "the name it goes by there. On /services this is this API's own addition to the profile.",
    )
    proximity: str | None = Field(
        None, description="With postcode: also services based within this many metres."
    )

    def matching(self, found: oruk.Catalogue) -> list[tuple[str, Mapping | None]]:
        """The services kept, in listing order: each id with the record to name it from for the
        postcode (None: the service as listed everywhere). Maximum ages, opening times and days
        are held for no service: a filter on them keeps none."""
        if any(value is not None for value in (self.maximum_age, self.start_time, self.end_time, self.day)):
            return []
        query = oruk.ServiceQuery(
            search=self.search,
            taxonomy_term_id=self.taxonomy_term_id,
            taxonomy_id=self.taxonomy_id,
            minimum_age=self.minimum_age,
        )
        kept = found.matching(query)
        if self.postcode is None:
            if self.proximity is not None:
                raise oruk.BadQuery("proximity needs a postcode")
            return [(sid, None) for sid in kept]
        wanted = set(kept)
        near = oruk.near_postcode(found, self.postcode, self.proximity)
        return [(sid, named) for sid, named in near.items() if sid in wanted]


NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Message}, 400: {"model": Message}}
LISTING: dict[int | str, dict[str, Any]] = {200: {"model": PageWrapper}, 400: {"model": Message}}


def _etag() -> str:
    return '"' + hashlib.sha256(repr(store.data_version()).encode()).hexdigest()[:32] + '"'


def _answer(request: Request, body: object, status: int = 200) -> Response:
    """JSON with the data version as its ETag (a matching If-None-Match gets 304, no body)."""
    etag = _etag()
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if status == 200 and request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(content, status_code=status, media_type="application/json", headers=headers)


def _message(status: int, text: str) -> JSONResponse:
    return JSONResponse({"message": text}, status_code=status)


def create_app() -> FastAPI:
    """The API. Behind a proxy that serves it under a path prefix (e.g. /oruk) and strips it, the
    server is given the prefix as its root path (`python -m finder api --root-path /oruk`), so the
    links it gives carry it."""
    app = FastAPI(
        title="NHS Talking Therapies and IPT finder: Open Referral UK API",
        version=mapping.API_VERSION,
        description="Read-only Open Referral UK (HSDS 3.0, UK profile) feed of NHS Talking Therapies services.",
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET"],
        allow_headers=["*"],
        expose_headers=["ETag"],
    )
    _errors(app)
    _meta_routes(app)
    _service_routes(app)
    _taxonomy_routes(app)
    return app


def _errors(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def bad_parameter(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = [f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in error.errors()]
        return _message(400, "; ".join(problems) or "bad request")

    @app.exception_handler(oruk.BadQuery)
    async def bad_query(request: Request, error: oruk.BadQuery) -> JSONResponse:
        return _message(400, str(error))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        return _message(error.status_code, str(error.detail))


def _meta_routes(app: FastAPI) -> None:
    @app.get("/", response_model=ApiInfo, summary="This API and its relationship with HSDS")
    def info(request: Request) -> Response:
        return _answer(
            request,
            {
                "version": mapping.API_VERSION,
                "profile": mapping.PROFILE_URL,
                "openapi_url": str(request.base_url) + "openapi.json",
            },
        )

    @app.get(HEALTH_PATH, summary="Ready: the directory is loaded", responses={503: {"model": Message}})
    def health() -> JSONResponse:
        services = len(oruk.catalogue().records)
        if not services:
            return _message(503, "no services loaded")
        return JSONResponse({"status": "ok", "services": services}, headers={"Cache-Control": "no-store"})


def _service_routes(app: FastAPI) -> None:
    @app.get("/services", responses=LISTING, response_model=None)
    def services(request: Request, filters: Annotated[ServiceFilters, Query()]) -> Response:
        found = oruk.catalogue()
        listed = found.listed(filters.matching(found), at_locations=False)
        return _answer(request, oruk.page_of(listed, filters.page, filters.per_page).to_json())

    @app.get("/services/{id}", responses=NOT_FOUND, response_model=None)
    def service(request: Request, id: str) -> Response:
        full = oruk.catalogue().service(id)
        return _answer(request, full) if full else _message(404, f"no service with id {id!r}")

    @app.get("/service_at_locations", responses=LISTING, response_model=None)
    def service_at_locations(request: Request, filters: Annotated[ServiceFilters, Query()]) -> Response:
        found = oruk.catalogue()
        listed = found.listed(filters.matching(found), at_locations=True)
        return _answer(request, oruk.page_of(listed, filters.page, filters.per_page).to_json())

    @app.get("/service_at_locations/{id}", responses=NOT_FOUND, response_model=None)
    def service_at_location(request: Request, id: str) -> Response:
        full = oruk.catalogue().service_at_location(id)
        return _answer(request, full) if full else _message(404, f"no service_at_location with id {id!r}")


def _taxonomy_routes(app: FastAPI) -> None:
    @app.get("/taxonomies", responses=LISTING, response_model=None)
    def taxonomies(request: Request, page: PageNumber = None, per_page: PerPage = None) -> Response:
        return _answer(request, oruk.page_of([oruk.catalogue().taxonomy], page, per_page).to_json())

    @app.get("/taxonomies/{id}", responses=NOT_FOUND, response_model=None)
    def taxonomy(request: Request, id: str) -> Response:
        found = oruk.catalogue().taxonomy
        return _answer(request, found) if id == found["id"] else _message(404, f"no taxonomy with id {id!r}")

    @app.get("/taxonomy_terms", responses=LISTING, response_model=None)
    def taxonomy_terms(request: Request, page: PageNumber = None, per_page: PerPage = None) -> Response:
        terms = list(oruk.catalogue().terms.values())
        return _answer(request, oruk.page_of(terms, page, per_page).to_json())

    @app.get("/taxonomy_terms/{id}", responses=NOT_FOUND, response_model=None)
    def taxonomy_term(request: Request, id: str) -> Response:
        term = oruk.catalogue().terms.get(id)
        return _answer(request, term) if term else _message(404, f"no taxonomy term with id {id!r}")
