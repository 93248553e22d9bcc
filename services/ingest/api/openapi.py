"""What ``/openapi.json`` and ``/docs`` say about each route: request schemas, every status, examples.

Descriptions and examples are in Bahasa Indonesia and English: the channels' operators read the
former, integrators often the latter. The routes read their bodies by hand (to tell 400, 413
and 415 apart), so the request schema is declared here through ``openapi_extra``.
"""

from typing import Any, Literal

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

from schemas.events import DepartureAnomaly, Event, RecruiterSighting, Tip

EVENT_ID = "0b8e4f0e-3c4f-4f52-9a43-2f4a8f1a7c11"


class Accepted(BaseModel):
    """202 of a single-event route."""

    event_id: str
    status: Literal["accepted", "duplicate"]


class ItemResult(BaseModel):
    """One event's outcome in a batch, in input order."""

    event_id: str | None = Field(description="null when the item had no valid UUID event_id")
    status: Literal["accepted", "duplicate", "rejected"]
    errors: list[dict[str, Any]] | None = Field(default=None, description="Only for rejected items")


class BatchResults(BaseModel):
    """202 of the batch route."""

    results: list[ItemResult]


class BatchRequest(BaseModel):
    """Body of ``POST /v1/events:batch``: each item carries its ``type``."""

    events: list[Event] = Field(min_length=1, max_length=1000)


class Problem(BaseModel):
    """Every answer other than 202 and 422."""

    detail: str


class ValidationProblem(BaseModel):
    """422: FastAPI's ``detail`` list, one entry per failing field."""

    detail: list[dict[str, Any]]


def _examples(id_text: str, en_text: str, id_body: Any, en_body: Any = None) -> dict[str, Any]:
    return {
        "id": {"summary": id_text, "value": id_body},
        "en": {"summary": en_text, "value": en_body if en_body is not None else id_body},
    }


def _response(model: type[BaseModel], description: str, examples: dict[str, Any]) -> dict[str, Any]:
    return {"model": model, "description": description, "content": {"application/json": {"examples": examples}}}


UNKNOWN_VILLAGE = {
    "type": "value_error",
    "loc": ["body", "desa_code"],
    "msg": "Value error, unknown village code '36.04.13.9999': not in the Kemendagri region table",
    "input": "36.04.13.9999",
}
RETRY_HEADER = {"Retry-After": {"description": "Detik / seconds", "schema": {"type": "integer"}}}

COMMON_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _response(
        Problem,
        "JSON tidak dapat diurai / Unparseable JSON",
        _examples(
            "Badan permintaan bukan JSON yang sah",
            "The body is not valid JSON",
            {"detail": "unparseable JSON: unexpected end of data: line 1 column 12 (char 11)"},
        ),
    ),
    401: _response(
        Problem,
        "Token tidak ada atau tidak dikenal / Missing or unknown bearer token",
        _examples("Token kanal salah", "Wrong channel token", {"detail": "missing or unknown bearer token"}),
    ),
    403: _response(
        Problem,
        "Jenis atau wilayah tidak diizinkan untuk kanal ini / Type or region not allowed for the channel",
        _examples(
            "Kanal BP3MI Banten mengirim desa di Kalimantan Tengah",
            "The BP3MI Banten channel sends a village in Central Kalimantan",
            {"detail": "channel demo-bp3mi-banten may not send events for village 62.71.01.1003"},
        ),
    ),
    413: _response(
        Problem,
        "Badan permintaan melebihi 1 MiB (juga setelah dekompresi gzip) / Body over 1 MiB (also once un-gzipped)",
        _examples("Terlalu besar", "Too large", {"detail": "body over 1 MiB"}),
    ),
    415: _response(
        Problem,
        "Bukan application/json, atau Content-Encoding selain gzip / Not JSON, or an encoding other than gzip",
        _examples("Dikirim sebagai formulir", "Sent as a form", {"detail": "body must be application/json"}),
    ),
    422: _response(
        ValidationProblem,
        "Validasi gagal: setiap kolom disebut, nilainya bila bukan data pribadi / "
        "Validation failed: each field is named, with its value unless it is personal data",
        _examples("Kode desa tidak dikenal", "Unknown village code", {"detail": [UNKNOWN_VILLAGE]}),
    ),
    429: {
        **_response(
            Problem,
            "Melewati batas laju kanal; coba lagi setelah Retry-After / "
            "Past the channel's rate; retry after Retry-After",
            _examples(
                "Batas per menit terlampaui",
                "Per-minute rate exceeded",
                {"detail": "channel demo-village is past its rate of 600 events per minute"},
            ),
        ),
        "headers": RETRY_HEADER,
    },
    503: {
        **_response(
            Problem,
            "Kafka (atau Redis) tidak dapat menerima peristiwa; tidak diambil, kirim ulang dengan event_id yang sama / "
            "Kafka (or Redis) cannot take the event; it was not taken, retry with the same event_id",
            _examples(
                "Broker lambat atau mati",
                "Broker slow or down",
                {"detail": "Kafka cannot take the event now; retry later with the same event_id"},
            ),
        ),
        "headers": RETRY_HEADER,
    },
}


def single_responses() -> dict[int | str, dict[str, Any]]:
    """Every status of a single-event route."""
    accepted = _examples(
        "Diterima setelah Kafka mengakui (acks=all)",
        "Accepted once Kafka acknowledged (acks=all)",
        {"event_id": EVENT_ID, "status": "accepted"},
    )
    accepted["duplicate"] = {
        "summary": "event_id yang sama lagi: tidak diterbitkan dua kali / the same event_id again: not published twice",
        "value": {"event_id": EVENT_ID, "status": "duplicate"},
    }
    return {202: _response(Accepted, "Diterima / Accepted", accepted), **COMMON_ERRORS}


def batch_responses() -> dict[int | str, dict[str, Any]]:
    """Every status of the batch route (403 does not occur: a forbidden item is rejected alone)."""
    body = {
        "results": [
            {"event_id": EVENT_ID, "status": "accepted"},
            {
                "event_id": "5d7c1f0a-8a53-4b0e-9c43-0d1f7c5e2b90",
                "status": "rejected",
                "errors": [{**UNKNOWN_VILLAGE, "loc": ["body", "events", 1, "desa_code"]}],
            },
        ]
    }
    examples = _examples(
        "Batch campuran: yang sah diterima, yang tidak sah ditolak dengan alasannya",
        "Mixed batch: valid events accepted, invalid ones rejected with their errors",
        body,
    )
    errors = {code: spec for code, spec in COMMON_ERRORS.items() if code != 403}
    return {
        202: _response(BatchResults, "Hasil per peristiwa, urutan masukan / Per-event results, input order", examples),
        **errors,
    }


TIP_EXAMPLE = {
    "event_id": EVENT_ID,
    "occurred_at": "2025-11-12T09:30:00+07:00",
    "desa_code": "36.04.13.2007",
    "category": "online_scam_job",
    "persons_involved": 3,
    "minors_involved": True,
    "destination_country": "KH",
    "description": "Tawaran kerja admin di Kamboja untuk remaja desa, tiket dibayar sponsor",
    "reporter": {"name": "Ibu Siti", "phone": "0812-3456-7890"},
}
DEPARTURE_EXAMPLE = {
    "event_id": "4a1e2d3c-5b6a-4798-8a9b-0c1d2e3f4a5b",
    "occurred_at": "2025-11-12T21:05:00+07:00",
    "desa_code": "36.04.13.2007",
    "checkpoint": "TPI-SOETTA",
    "traveller": "C1234567",
    "age": 17,
    "sex": "F",
    "declared_purpose": "umrah",
    "destination_country": "SA",
    "indicators": ["sponsor_accompanied", "one_way_ticket"],
    "action": "delayed",
}
SIGHTING_EXAMPLE = {
    "event_id": "7f6e5d4c-3b2a-4190-8f7e-6d5c4b3a2910",
    "occurred_at": "2025-11-10T16:00:00+07:00",
    "desa_code": "62.71.01.1003",
    "recruiter": "0813-9999-0000",
    "activity": ["door_to_door", "document_collection"],
    "persons_approached": 6,
    "promised_destination": "MY",
    "promised_job": "pekerja kebun sawit",
    "licensed_agency": False,
}
EXAMPLES: dict[type[BaseModel], dict[str, Any]] = {
    Tip: TIP_EXAMPLE,
    DepartureAnomaly: DEPARTURE_EXAMPLE,
    RecruiterSighting: SIGHTING_EXAMPLE,
}


def request_body(schema_name: str, example: Any) -> dict[str, Any]:
    """``openapi_extra`` declaring the JSON body the route reads by hand."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}, "example": example}
            },
        },
        "security": [{"bearer": []}],
    }


def component_schemas() -> dict[str, Any]:
    """JSON Schemas of the request bodies, with their nested definitions, for ``components.schemas``."""
    out: dict[str, Any] = {}
    for model in (Tip, DepartureAnomaly, RecruiterSighting, BatchRequest):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        out.update(schema.pop("$defs", {}))
        out[model.__name__] = schema
    return out


def batch_example() -> dict[str, Any]:
    return {"events": [{"type": "tip", **TIP_EXAMPLE}, {"type": "recruiter_sighting", **SIGHTING_EXAMPLE}]}


EXAMPLES_BY_NAME: dict[str, Any] = {model.__name__: example for model, example in EXAMPLES.items()}


def install_openapi(app: FastAPI) -> None:
    """FastAPI's document plus the request schemas and the bearer scheme the routes declare."""

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            components = doc.setdefault("components", {})
            components.setdefault("schemas", {}).update(component_schemas())
            components["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]


DESCRIPTION = """
Pintu masuk Waspada untuk kanal pelaporan (desa binaan, TPI, kantor paspor, BP3MI).
Waspada's front door for reporting channels (villages, checkpoints, passport offices, BP3MI).

* `202` hanya setelah Kafka mengakui peristiwa (acks=all) / only after Kafka acknowledged the event (acks=all).
* `event_id` adalah kunci idempotensi: kirim ulang dengan id yang sama aman /
  `event_id` is the idempotency key: retrying with the same id is safe (`duplicate`).
* Data pribadi (pelapor, pelaku perjalanan, perekrut) dipseudonimkan di sini /
  personal identifiers (reporter, traveller, recruiter) are pseudonymised here, never echoed back.
"""
