"""The console's page rendering: Jinja2 templates in the officer's language, the security headers, the form body.

Every asset is served from here (no CDN, no web font, no inline script), so the
Content-Security-Policy can be strict.
"""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from schemas.escalation import Severity
from services.notify.core.i18n import LANGS, Translate, translator

HERE = Path(__file__).resolve().parent.parent
"""services/notify: its templates/ and static/ sit beside the layers that use them."""
LANG_COOKIE = "waspada_lang"
STATUSES = ("open", "acknowledged", "resolved")
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

_env = Environment(loader=FileSystemLoader(HERE / "templates" / "console"), autoescape=select_autoescape())


def secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


def set_cookie(
    response: Response, request: Request, name: str, value: str, max_age: int | None, http_only: bool
) -> None:
    """A console cookie: Path=/console, SameSite=Strict, Secure when the request came over TLS."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/console",
        httponly=http_only,
        samesite="strict",
        secure=secure(request),
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


async def form(request: Request) -> dict[str, str]:
    """The urlencoded form body (no multipart needed: the console sends none)."""
    body = (await request.body())[:65536].decode(errors="replace")
    return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}


class Pages:
    """Renders a console template for a request, in the language of its cookie."""

    @staticmethod
    def t(request: Request) -> Translate:
        return translator(request.cookies.get(LANG_COOKIE, "id"))

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

    def error(self, request: Request, status: int, key: str, **context: Any) -> HTMLResponse:
        """The error page, its message the translation of ``key``."""
        return self.page(request, "error.html", status, message=self.t(request)(key), **context)
