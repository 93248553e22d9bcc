"""The officer API's and the console's FastAPI dependencies, as ``Annotated`` aliases.

What they hand out is built once by the composition root (``app.py``) and kept on ``app.state``.
"""

from typing import Annotated

from fastapi import Depends, Request
from redis.asyncio import Redis

from services.notify.core.directory import Directory, Office
from services.notify.core.errors import Unauthorized
from services.notify.core.tokens import office_for_token
from services.notify.flows.officers import Officers
from services.notify.flows.readiness import Readiness


def office_of(request: Request) -> Office:
    """The office of the request's bearer token, or 401."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    office = office_for_token(request.app.state.tokens, token) if scheme.lower() == "bearer" else None
    if office is None:
        raise Unauthorized()
    return office


def officers(request: Request) -> Officers:
    found: Officers = request.app.state.officers
    return found


def readiness(request: Request) -> Readiness | None:
    found: Readiness | None = getattr(request.app.state, "readiness", None)
    return found


def redis(request: Request) -> Redis:
    found: Redis = request.app.state.redis
    return found


def directory(request: Request) -> Directory:
    found: Directory = request.app.state.directory
    return found


CurrentOffice = Annotated[Office, Depends(office_of)]
OfficersDep = Annotated[Officers, Depends(officers)]
ReadinessDep = Annotated[Readiness | None, Depends(readiness)]
RedisDep = Annotated[Redis, Depends(redis)]
DirectoryDep = Annotated[Directory, Depends(directory)]
