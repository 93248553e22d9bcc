"""Liveness, readiness and the Prometheus exposition."""

import contextlib

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services.notify.adapters import metrics
from services.notify.api.deps import ReadinessDep

router = APIRouter()


@router.get("/healthz", summary="Liveness: the process answers")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: Valkey answers and the process is not shutting down",
    responses={503: {"description": "not ready, with the reason"}},
)
async def readyz(readiness: ReadinessDep) -> JSONResponse:
    problems = readiness.problems() if readiness else ["starting"]
    if problems:
        return JSONResponse({"status": "not ready", "detail": "; ".join(problems)}, status_code=503)
    return JSONResponse({"status": "ready"})


@router.get("/metrics")
async def prometheus_metrics(request: Request) -> Response:
    with contextlib.suppress(Exception):  # Valkey away (or not yet connected): the gauge keeps its last value
        await metrics.refresh_unacknowledged(request.app.state.redis)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
