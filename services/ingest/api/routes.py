"""Ingest's routes (CONTRACT §3), thin over ``flows.intake.Intake``.

Bodies are read by hand (``api/body.py``) so that each failure gets the contract's status:
415 not JSON, 413 too large, 400 unparseable, 422 invalid; their schemas are declared for
``/docs`` through ``openapi_extra``. Each POST route is one function of (scope, receive) that the
fast path calls directly and FastAPI's route wraps, so both answer alike.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.types import Receive, Scope

from services.ingest.adapters import metrics
from services.ingest.api import openapi
from services.ingest.api.auth import authenticate
from services.ingest.api.body import Headers, read_json
from services.ingest.api.fast_path import Endpoint
from services.ingest.api.problems import Answer, answer, json_response, problem, to_response
from services.ingest.core.channels import Channel, ChannelRegistry
from services.ingest.core.errors import Refusal
from services.ingest.flows.intake import Intake
from services.ingest.flows.readiness import Readiness

SINGLE_ROUTES = {
    "/v1/tips": ("tip", "Tip"),
    "/v1/departure-anomalies": ("departure_anomaly", "DepartureAnomaly"),
    "/v1/recruiter-sightings": ("recruiter_sighting", "RecruiterSighting"),
}
BATCH_ROUTE = "/v1/events:batch"
ROUTES = frozenset({*SINGLE_ROUTES, BATCH_ROUTE, "/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"})
COUNTED = (400, 401, 413, 415)
"""Refusals counted here; the intake counts the ones it makes (403, 422, 429, 503)."""
Handler = Callable[[Intake, Channel, Any], Awaitable[dict[str, Any]]]


def readiness(request: Request) -> Readiness | None:
    found: Readiness | None = getattr(request.app.state, "readiness", None)
    return found


ReadinessDep = Annotated[Readiness | None, Depends(readiness)]


class Posts:
    """The POST routes' one body: authenticate, read, hand to the intake, answer (``api/problems.py``)."""

    def __init__(self, registry: ChannelRegistry, retry_after_s: int) -> None:
        self.registry = registry
        self.retry_after_s = retry_after_s
        self.known: dict[bytes, Channel] = {}
        self.intake: Intake | None = None
        """Set by the lifespan once Kafka and Valkey are connected."""

    async def answer(self, scope: Scope, receive: Receive, event_type: str, handle: Handler) -> Answer:
        channel_id = "unknown"
        try:
            headers: Headers = dict(scope["headers"])
            channel = authenticate(self.registry, headers, self.known)
            channel_id = channel.id
            assert self.intake is not None
            return answer(202, await handle(self.intake, channel, await read_json(headers, receive)))
        except Exception as exc:
            if isinstance(exc, Refusal) and exc.status in COUNTED:
                metrics.count(event_type, channel_id, "unauthorized" if exc.status == 401 else "rejected")
            return problem(exc, self.retry_after_s)

    def single(self, event_type: str) -> Endpoint:
        async def handle(intake: Intake, channel: Channel, body: Any) -> dict[str, Any]:
            return (await intake.one(channel, event_type, body)).body()

        async def fast(scope: Scope, receive: Receive) -> Answer:
            return await self.answer(scope, receive, event_type, handle)

        return fast

    async def batch(self, scope: Scope, receive: Receive) -> Answer:
        async def handle(intake: Intake, channel: Channel, body: Any) -> dict[str, Any]:
            return {"results": [r.body() for r in await intake.batch(channel, body)]}

        return await self.answer(scope, receive, "unknown", handle)


def install(app: FastAPI, posts: Posts) -> None:
    """Every route on ``app``; the POST routes also in ``app.state.fast_routes`` for the fast path."""
    app.state.fast_routes = fast_routes = {path: posts.single(t) for path, (t, _) in SINGLE_ROUTES.items()}
    fast_routes[BATCH_ROUTE] = posts.batch
    for path, (event_type, schema) in SINGLE_ROUTES.items():
        app.post(
            path,
            status_code=202,
            name=f"post_{event_type}",
            summary=f"Kirim satu / send one {schema}",
            responses=openapi.single_responses(),
            openapi_extra=openapi.request_body(schema, openapi.EXAMPLES_BY_NAME[schema]),
        )(_wrapped(fast_routes[path]))
    app.post(
        BATCH_ROUTE,
        status_code=202,
        name="post_batch",
        summary="Kirim hingga 1000 peristiwa / send up to 1000 events",
        responses=openapi.batch_responses(),
        openapi_extra=openapi.request_body("BatchRequest", openapi.batch_example()),
    )(_wrapped(posts.batch))
    app.get("/healthz", summary="Liveness: the process answers")(healthz)
    app.get(
        "/readyz",
        summary="Readiness: Kafka and Redis answer in time",
        responses={503: {"description": "Tidak siap / not ready", "model": openapi.Problem}},
    )(readyz)
    app.get("/metrics", summary="Prometheus metrics")(prometheus_metrics)


def _wrapped(fast: Endpoint) -> Callable[[Request], Awaitable[Response]]:
    """The FastAPI route of a fast-path endpoint: the same function, its answer as a Response."""

    async def endpoint(request: Request) -> Response:
        return to_response(await fast(request.scope, request.receive))

    return endpoint


async def healthz() -> dict[str, str]:
    return {"status": "ok"}


async def readyz(found: ReadinessDep) -> Response:
    problems = found.problems() if found is not None else ["starting"]
    if problems:
        return json_response(503, {"status": "not ready", "detail": "; ".join(problems)})
    return json_response(200, {"status": "ready"})


async def prometheus_metrics() -> Response:
    return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
