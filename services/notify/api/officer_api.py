"""The officer API (CONTRACT §6): escalations in the office's jurisdiction, acknowledgements, resolutions,
redeliveries, the audit log. Thin: each route is one call into ``flows/officers.py``; its errors are
``NotifyError``s that ``api/problems.py`` answers."""

from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from services.notify.api.deps import CurrentOffice, OfficersDep
from services.notify.core.errors import NotFound
from services.notify.flows.redelivery import Status

router = APIRouter()


class NoteBody(BaseModel):
    """Optional body of an acknowledgement or resolution."""

    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=500)


@router.get("/v1/escalations")
async def list_escalations(office: CurrentOffice, svc: OfficersDep) -> list[dict[str, Any]]:
    return await svc.list(office, "api")


@router.get("/v1/escalations/{escalation_id}")
async def get_escalation(office: CurrentOffice, svc: OfficersDep, escalation_id: str) -> dict[str, Any]:
    record = await svc.read(office, escalation_id, "api")
    if not record:
        raise NotFound()
    return record


async def _change(
    office: CurrentOffice,
    svc: OfficersDep,
    escalation_id: str,
    action: Literal["acknowledge", "resolve"],
    body: NoteBody | None,
) -> dict[str, Any]:
    record = await svc.change(office, escalation_id, action, "api", body.note if body else None)
    if not record:
        raise NotFound()
    return record


@router.post("/v1/escalations/{escalation_id}/ack")
async def acknowledge(
    office: CurrentOffice, svc: OfficersDep, escalation_id: str, body: NoteBody | None = None
) -> dict[str, Any]:
    return await _change(office, svc, escalation_id, "acknowledge", body)


@router.post("/v1/escalations/{escalation_id}/resolve")
async def resolve(
    office: CurrentOffice, svc: OfficersDep, escalation_id: str, body: NoteBody | None = None
) -> dict[str, Any]:
    return await _change(office, svc, escalation_id, "resolve", body)


@router.post(
    "/v1/deliveries/{delivery_id}/redeliver",
    status_code=202,
    responses={
        200: {"description": "delivered already (by an earlier redelivery): nothing sent"},
        404: {"description": "no dead-lettered delivery of this id for this office or the offices below it"},
    },
)
async def redeliver(office: CurrentOffice, svc: OfficersDep, delivery_id: str) -> JSONResponse:
    """Send a dead-lettered delivery again, under the same webhook-id: 202 with its new status (retrying)."""
    done = await svc.redeliver(office, delivery_id, "api")
    if done is None:
        raise NotFound("no dead-lettered delivery of this id in your jurisdiction")
    return JSONResponse(done.answer(), status_code=200 if done.status is Status.DELIVERED else 202)


@router.get("/v1/audit")
async def audit_log(office: CurrentOffice, svc: OfficersDep) -> list[dict[str, Any]]:
    """The newest audit entries of this office and the offices below it."""
    return await svc.audit_log(office)
