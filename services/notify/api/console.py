"""The duty-officer console at ``/console``: server-rendered Jinja2 pages and a little vanilla JS.

- Sign-in with the office token; the session lives in Valkey (any replica can serve it, a restart
  keeps it) behind a random id in a cookie that is HttpOnly, SameSite=Strict, Path=/console and
  Secure when the request came over TLS.
- Every form carries a CSRF token: the session's for signed-in forms, a double-submit cookie for
  the sign-in form itself.
- Strict Content-Security-Policy: every asset is served from here (no CDN, no web font, no
  inline script).
- Reads, acknowledgements, resolutions and redeliveries go through :class:`Officers`, the same code
  as the officer API, so they are audited and visible through the API at once.
"""

import hashlib
import hmac
import json
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from redis.asyncio import Redis

from schemas.escalation import Severity
from services.common import valkey_keys
from services.notify.core.directory import Directory, Office
from services.notify.core.i18n import LANGS, Translate, translator
from services.notify.flows.officers import Conflict, Officers

HERE = Path(__file__).resolve().parent.parent
"""services/notify: its templates/ and static/ sit beside the layers that use them."""
SESSION_COOKIE = "waspada_session"
LOGIN_CSRF_COOKIE = "waspada_login_csrf"
LANG_COOKIE = "waspada_lang"
SESSION_TTL_S = 12 * 3600
"""One duty shift."""
STATUSES = ("open", "acknowledged", "resolved")
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

_env = Environment(loader=FileSystemLoader(HERE / "templates" / "console"), autoescape=select_autoescape())


class SignInRequired(Exception):
    """No valid session: the page redirects to the sign-in form."""


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


def _cookie(response: Response, request: Request, name: str, value: str, max_age: int | None, http_only: bool) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/console",
        httponly=http_only,
        samesite="strict",
        secure=_secure(request),
    )


def since(created_at: str, t: Translate, now: datetime | None = None) -> str:
    """ "12 mnt lalu": the time since an escalation was raised, in the officer's language."""
    seconds = ((now or datetime.now(UTC)) - datetime.fromisoformat(created_at)).total_seconds()
    if seconds < 60:
        return t("ago_s")
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return t(f"ago_{unit}", n=int(seconds // size))
    return t("ago_s")


def latest_per_incident(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The newest revision of each incident, most severe first, then newest first."""
    newest: dict[str, dict[str, Any]] = {}
    for record in records:
        current = newest.get(record["incident_id"])
        if current is None or record["revision"] > current["revision"]:
            newest[record["incident_id"]] = record
    rows = sorted(newest.values(), key=lambda r: r["created_at"], reverse=True)
    return sorted(rows, key=lambda r: Severity(r["severity"]).rank, reverse=True)


class Console:
    """Session handling and page rendering; routes are registered by :func:`mount`."""

    def __init__(self, directory: Directory, tokens: dict[str, Office]) -> None:
        self.directory = directory
        self.tokens = tokens

    @staticmethod
    def redis(request: Request) -> Redis:
        found: Redis = request.app.state.redis
        return found

    @staticmethod
    def officers(request: Request) -> Officers:
        found: Officers = request.app.state.officers
        return found

    @staticmethod
    def t(request: Request) -> Translate:
        return translator(request.cookies.get(LANG_COOKIE, "id"))

    # -- sessions -----------------------------------------------------------------------------
    async def session(self, request: Request) -> dict[str, Any]:
        sid = request.cookies.get(SESSION_COOKIE, "")
        raw = await self.redis(request).get(valkey_keys.session(sid)) if sid else None
        data: dict[str, Any] | None = json.loads(raw) if raw else None
        if data is None or self.directory.get(data["office_id"]) is None:
            raise SignInRequired()
        return data

    async def office(self, request: Request) -> tuple[Office, dict[str, Any]]:
        data = await self.session(request)
        return self.directory.office(data["office_id"]), data

    async def start_session(self, request: Request, office: Office) -> str:
        sid = secrets.token_urlsafe(32)
        data = {"office_id": office.id, "csrf": secrets.token_urlsafe(32), "since": datetime.now(UTC).isoformat()}
        await self.redis(request).set(valkey_keys.session(sid), json.dumps(data), ex=SESSION_TTL_S)
        return sid

    async def end_session(self, request: Request) -> None:
        sid = request.cookies.get(SESSION_COOKIE, "")
        await self.redis(request).delete(valkey_keys.session(sid))

    @staticmethod
    async def form(request: Request) -> dict[str, str]:
        """The urlencoded form body (no multipart needed: the console sends none)."""
        body = (await request.body())[:65536].decode(errors="replace")
        return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}

    # -- rendering ----------------------------------------------------------------------------
    def page(self, request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        t = self.t(request)
        html = _env.get_template(template).render(
            t=t,
            lang=t.lang,
            langs=LANGS,
            path=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
            severities=[s.value for s in reversed(Severity)],
            statuses=STATUSES,
            since=lambda created: since(created, t),
            **context,
        )
        return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


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


def mount(app: FastAPI, directory: Directory, tokens: dict[str, Office]) -> Console:
    """Register the console's routes and static files on ``app``; returns the page renderer."""
    console = Console(directory, tokens)
    router = APIRouter(prefix="/console", include_in_schema=False)
    app.mount("/console/static", StaticFiles(directory=HERE / "static"), name="console-static")

    @app.exception_handler(SignInRequired)
    async def to_sign_in(request: Request, _: SignInRequired) -> Response:
        if request.url.path.endswith("/rows"):
            return Response(status_code=401)
        return RedirectResponse("/console/login", status_code=303)

    @router.get("")
    async def root() -> Response:
        return RedirectResponse("/console/escalations", status_code=303)

    @router.get("/login")
    async def login_form(request: Request) -> Response:
        token = secrets.token_urlsafe(32)
        response: Response = console.page(request, "login.html", csrf=token, error=None)
        _cookie(response, request, LOGIN_CSRF_COOKIE, token, 3600, True)
        return response

    @router.post("/login")
    async def login(request: Request) -> Response:
        form = await console.form(request)
        expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        if not expected or not hmac.compare_digest(expected, form.get("csrf_token", "")):
            return console.page(request, "error.html", 403, message=console.t(request)("forbidden"))
        office = tokens.get(hashlib.sha256(form.get("token", "").strip().encode()).hexdigest())
        if office is None:
            token = secrets.token_urlsafe(32)
            failed = console.page(request, "login.html", 401, csrf=token, error=console.t(request)("bad_token"))
            _cookie(failed, request, LOGIN_CSRF_COOKIE, token, 3600, True)
            return failed
        sid = await console.start_session(request, office)
        await console.officers(request).note(office, "sign_in")
        response = RedirectResponse("/console/escalations", status_code=303)
        _cookie(response, request, SESSION_COOKIE, sid, SESSION_TTL_S, True)
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/console")
        return response

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        office, session = await console.office(request)
        form = await console.form(request)
        if not hmac.compare_digest(session["csrf"], form.get("csrf_token", "")):
            return console.page(request, "error.html", 403, message=console.t(request)("forbidden"))
        await console.end_session(request)
        await console.officers(request).note(office, "sign_out")
        response = RedirectResponse("/console/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/console")
        return response

    @router.get("/lang/{lang}")
    async def set_lang(request: Request, lang: str) -> Response:
        back = request.query_params.get("next", "/console/escalations")
        response: Response = RedirectResponse(back if back.startswith("/console") else "/console", status_code=303)
        _cookie(response, request, LANG_COOKIE, lang if lang in LANGS else "id", 365 * 86400, False)
        return response

    async def rows_for(request: Request, office: Office, audit: bool) -> tuple[list[dict[str, Any]], dict[str, str]]:
        records = await console.officers(request).list(office, "console", audit=audit)
        filters = _filters(request)
        return _apply(latest_per_incident(records), filters), filters

    @router.get("/escalations")
    async def list_page(request: Request) -> Response:
        office, session = await console.office(request)
        rows, filters = await rows_for(request, office, audit=True)
        query = urlencode({k: v for k, v in filters.items() if v})
        return console.page(
            request, "list.html", office=office, csrf=session["csrf"], rows=rows, filters=filters, query=query
        )

    @router.get("/escalations/rows")
    async def list_rows(request: Request) -> Response:
        """The list body alone, polled by console.js for live updates (audited when its content changes)."""
        office, _ = await console.office(request)
        rows, _ = await rows_for(request, office, audit=False)
        await console.officers(request).note_list_change(office, [r["escalation_id"] for r in rows])
        return console.page(request, "rows.html", rows=rows)

    @router.get("/escalations/{escalation_id}")
    async def detail_page(request: Request, escalation_id: str) -> Response:
        office, session = await console.office(request)
        record = await console.officers(request).read(office, escalation_id, "console")
        if record is None:
            return console.page(request, "error.html", 404, message=console.t(request)("not_found"), office=office,
                                csrf=session["csrf"])  # fmt: skip
        names = {o.id: o.name for o in directory.offices}
        return console.page(request, "detail.html", office=office, csrf=session["csrf"], e=record, names=names)

    async def change(request: Request, escalation_id: str, action: Any) -> Response:
        office, session = await console.office(request)
        form = await console.form(request)
        if not hmac.compare_digest(session["csrf"], form.get("csrf_token", "")):
            return console.page(request, "error.html", 403, message=console.t(request)("forbidden"))
        note = form.get("note", "").strip()[:500] or None
        try:
            record = await console.officers(request).change(office, escalation_id, action, "console", note)
        except Conflict:
            record = {}
        if record is None:
            return console.page(request, "error.html", 404, message=console.t(request)("not_found"))
        return RedirectResponse(f"/console/escalations/{escalation_id}", status_code=303)

    @router.post("/escalations/{escalation_id}/ack")
    async def acknowledge(request: Request, escalation_id: str) -> Response:
        return await change(request, escalation_id, "acknowledge")

    @router.post("/escalations/{escalation_id}/resolve")
    async def resolve(request: Request, escalation_id: str) -> Response:
        return await change(request, escalation_id, "resolve")

    @router.post("/deliveries/{delivery_id}/redeliver")
    async def redeliver(request: Request, delivery_id: str) -> Response:
        """The button beside a dead-lettered delivery: back to the escalation, where the row says "retrying"."""
        office, session = await console.office(request)
        form = await console.form(request)
        if not hmac.compare_digest(session["csrf"], form.get("csrf_token", "")):
            return console.page(request, "error.html", 403, message=console.t(request)("forbidden"))
        done = await console.officers(request).redeliver(office, delivery_id, "console")
        if done is None:
            return console.page(request, "error.html", 404, message=console.t(request)("not_found"))
        return RedirectResponse(f"/console/escalations/{done.delivery.escalation.escalation_id}", status_code=303)

    app.include_router(router)
    return console
