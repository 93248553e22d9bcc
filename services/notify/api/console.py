"""The duty-officer console at ``/console``: server-rendered Jinja2 pages and a little vanilla JS.

- Sign-in with the office token; the session lives in Valkey (``adapters/valkey/sessions.py``)
  behind a random id in a cookie that is HttpOnly, SameSite=Strict, Path=/console and Secure when
  the request came over TLS.
- Every form carries a CSRF token: the session's for signed-in forms, a double-submit cookie for
  the sign-in form itself.
- Strict Content-Security-Policy (``api/pages.py``).
- Reads, acknowledgements, resolutions and redeliveries go through :class:`Officers`, the same code
  as the officer API, so they are audited and visible through the API at once.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from schemas.escalation import Severity
from services.notify.adapters.valkey import sessions
from services.notify.api.deps import DirectoryDep, OfficersDep, RedisDep
from services.notify.api.pages import HERE, LANG_COOKIE, STATUSES, Pages, form, set_cookie
from services.notify.core.directory import Office
from services.notify.core.errors import Conflict, SignInRequired
from services.notify.core.i18n import LANGS

SESSION_COOKIE = "waspada_session"
LOGIN_CSRF_COOKIE = "waspada_login_csrf"
router = APIRouter(prefix="/console", include_in_schema=False)


@dataclass(frozen=True)
class SignedIn:
    office: Office
    session: dict[str, Any]

    def csrf_ok(self, submitted: dict[str, str]) -> bool:
        return hmac.compare_digest(self.session["csrf"], submitted.get("csrf_token", ""))


def pages(request: Request) -> Pages:
    found: Pages = request.app.state.pages
    return found


async def signed_in(request: Request, redis: RedisDep, directory: DirectoryDep) -> SignedIn:
    """The session's office, or SignInRequired (a redirect to the sign-in form)."""
    data = await sessions.get(redis, request.cookies.get(SESSION_COOKIE, ""))
    if data is None or directory.get(data["office_id"]) is None:
        raise SignInRequired()
    return SignedIn(directory.office(data["office_id"]), data)


PagesDep = Annotated[Pages, Depends(pages)]
SignedInDep = Annotated[SignedIn, Depends(signed_in)]


def latest_per_incident(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The newest revision of each incident, most severe first, then newest first."""
    newest: dict[str, dict[str, Any]] = {}
    for record in records:
        current = newest.get(record["incident_id"])
        if current is None or record["revision"] > current["revision"]:
            newest[record["incident_id"]] = record
    rows = sorted(newest.values(), key=lambda r: r["created_at"], reverse=True)
    return sorted(rows, key=lambda r: Severity(r["severity"]).rank, reverse=True)


def _filters(request: Request) -> dict[str, str]:
    severity = request.query_params.get("severity", "")
    status = request.query_params.get("status", "")
    return {
        "severity": severity if severity in Severity.__members__ else "",
        "status": status if status in STATUSES else "",
    }


def _apply(rows: list[dict[str, Any]], filters: dict[str, str]) -> list[dict[str, Any]]:
    return [
        r
        for r in rows
        if (not filters["severity"] or r["severity"] == filters["severity"])
        and (not filters["status"] or r["status"] == filters["status"])
    ]


def mount(app: FastAPI, pages: Pages) -> None:
    """Register the console's routes and static files on ``app``."""
    app.state.pages = pages
    app.mount("/console/static", StaticFiles(directory=HERE / "static"), name="console-static")
    app.include_router(router)


@router.get("")
async def root() -> Response:
    return RedirectResponse("/console/escalations", status_code=303)


def _login_page(request: Request, pages: Pages, status: int = 200, error: str | None = None) -> Response:
    token = secrets.token_urlsafe(32)
    response: Response = pages.page(request, "login.html", status, csrf=token, error=error)
    set_cookie(response, request, LOGIN_CSRF_COOKIE, token, 3600, True)
    return response


@router.get("/login")
async def login_form(request: Request, pages: PagesDep) -> Response:
    return _login_page(request, pages)


@router.post("/login")
async def login(request: Request, pages: PagesDep, redis: RedisDep, svc: OfficersDep) -> Response:
    submitted = await form(request)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, submitted.get("csrf_token", "")):
        return pages.error(request, 403, "forbidden")
    tokens: dict[str, Office] = request.app.state.tokens
    office = tokens.get(hashlib.sha256(submitted.get("token", "").strip().encode()).hexdigest())
    if office is None:
        return _login_page(request, pages, 401, pages.t(request)("bad_token"))
    sid = await sessions.start(redis, office.id)
    await svc.note(office, "sign_in")
    response = RedirectResponse("/console/escalations", status_code=303)
    set_cookie(response, request, SESSION_COOKIE, sid, sessions.SESSION_TTL_S, True)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/console")
    return response


@router.post("/logout")
async def logout(request: Request, who: SignedInDep, pages: PagesDep, redis: RedisDep, svc: OfficersDep) -> Response:
    if not who.csrf_ok(await form(request)):
        return pages.error(request, 403, "forbidden")
    await sessions.end(redis, request.cookies.get(SESSION_COOKIE, ""))
    await svc.note(who.office, "sign_out")
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/console")
    return response


@router.get("/lang/{lang}")
async def set_lang(request: Request, lang: str) -> Response:
    back = request.query_params.get("next", "/console/escalations")
    response: Response = RedirectResponse(back if back.startswith("/console") else "/console", status_code=303)
    set_cookie(response, request, LANG_COOKIE, lang if lang in LANGS else "id", 365 * 86400, False)
    return response


async def _rows(
    request: Request, svc: OfficersDep, office: Office, audit: bool
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    records = await svc.list(office, "console", audit=audit)
    filters = _filters(request)
    return _apply(latest_per_incident(records), filters), filters


@router.get("/escalations")
async def list_page(request: Request, who: SignedInDep, pages: PagesDep, svc: OfficersDep) -> Response:
    rows, filters = await _rows(request, svc, who.office, audit=True)
    query = urlencode({k: v for k, v in filters.items() if v})
    csrf = who.session["csrf"]
    return pages.page(request, "list.html", office=who.office, csrf=csrf, rows=rows, filters=filters, query=query)


@router.get("/escalations/rows")
async def list_rows(request: Request, who: SignedInDep, pages: PagesDep, svc: OfficersDep) -> Response:
    """The list body alone, polled by console.js for live updates (audited when its content changes)."""
    rows, _ = await _rows(request, svc, who.office, audit=False)
    await svc.note_list_change(who.office, [r["escalation_id"] for r in rows])
    return pages.page(request, "rows.html", rows=rows)


@router.get("/escalations/{escalation_id}")
async def detail_page(
    request: Request, escalation_id: str, who: SignedInDep, pages: PagesDep, svc: OfficersDep, directory: DirectoryDep
) -> Response:
    record = await svc.read(who.office, escalation_id, "console")
    if record is None:
        return pages.error(request, 404, "not_found", office=who.office, csrf=who.session["csrf"])
    names = {o.id: o.name for o in directory.offices}
    return pages.page(request, "detail.html", office=who.office, csrf=who.session["csrf"], e=record, names=names)


async def _change(
    request: Request,
    escalation_id: str,
    action: Literal["acknowledge", "resolve"],
    who: SignedIn,
    pages: Pages,
    svc: OfficersDep,
) -> Response:
    submitted = await form(request)
    if not who.csrf_ok(submitted):
        return pages.error(request, 403, "forbidden")
    note = submitted.get("note", "").strip()[:500] or None
    try:
        record = await svc.change(who.office, escalation_id, action, "console", note)
    except Conflict:
        record = {}
    if record is None:
        return pages.error(request, 404, "not_found")
    return RedirectResponse(f"/console/escalations/{escalation_id}", status_code=303)


@router.post("/escalations/{escalation_id}/ack")
async def acknowledge(
    request: Request, escalation_id: str, who: SignedInDep, pages: PagesDep, svc: OfficersDep
) -> Response:
    return await _change(request, escalation_id, "acknowledge", who, pages, svc)


@router.post("/escalations/{escalation_id}/resolve")
async def resolve(
    request: Request, escalation_id: str, who: SignedInDep, pages: PagesDep, svc: OfficersDep
) -> Response:
    return await _change(request, escalation_id, "resolve", who, pages, svc)


@router.post("/deliveries/{delivery_id}/redeliver")
async def redeliver(
    request: Request, delivery_id: str, who: SignedInDep, pages: PagesDep, svc: OfficersDep
) -> Response:
    """The button beside a dead-lettered delivery: back to the escalation, where the row says "retrying"."""
    if not who.csrf_ok(await form(request)):
        return pages.error(request, 403, "forbidden")
    done = await svc.redeliver(who.office, delivery_id, "console")
    if done is None:
        return pages.error(request, 404, "not_found")
    return RedirectResponse(f"/console/escalations/{done.delivery.escalation.escalation_id}", status_code=303)
