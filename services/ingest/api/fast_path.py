"""ASGI middleware that answers the four POST routes without FastAPI's routing machinery.

FastAPI's middleware, routing and dependency layers cost about 175 µs of CPU per request on
this project's 2-core machine: more than validating, pseudonymising and publishing an event.
The POST routes take no parameters FastAPI would resolve, so the very same endpoint function
is called directly; FastAPI still serves and documents everything (its routes answer alike).
"""

from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from services.ingest.api.problems import Answer

Endpoint = Callable[[Scope, Receive], Awaitable[Answer]]


class FastPath:
    """Sends the answer of ``app.state.fast_routes[path]`` for a POST to one of them; passes the rest on."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.routes: dict[str, Endpoint] = app.state.fast_routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = self.routes.get(scope["path"]) if scope["type"] == "http" and scope["method"] == "POST" else None
        if endpoint is None:
            await self.app(scope, receive, send)
            return
        status, body, headers = await endpoint(scope, receive)
        headers = [*headers, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
