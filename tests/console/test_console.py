"""The duty-officer console in a real browser, on an escalation made by the real pipeline (ingest → triage → notify)."""

import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from devstack.demo_tokens import office_token
from devstack.stack import Stack
from tests.factories import tip
from tests.support import VILLAGE_TOKEN, http, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.broker("kafka")]
KRAGILAN = "36.04.11.2003"  # Kab. Serang: Polres Serang and Kanim Serang
CIRUAS = "36.04.09.2001"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}


def post_tip(stack: Stack, desa_code: str) -> None:
    body = tip(desa_code, description=f"Tawaran kerja admin di Kamboja {uuid.uuid4().hex[:8]}")
    assert http("POST", stack.url("ingest") + "/v1/tips", body, VILLAGE_TOKEN)[0] == 202


def escalation_in(stack: Stack, desa_code: str, office: str = "polres-serang") -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        _, listed = http("GET", stack.url("notify") + "/v1/escalations", token=office_token(office))
        return next((e for e in listed if e["desa_code"] == desa_code), None)

    return wait_for(found, timeout=60, what=f"an escalation for {desa_code} in the officer API")


def sign_in(browser: Browser, base: str, office: str, viewport: dict[str, int]) -> tuple[BrowserContext, Page]:
    context = browser.new_context(viewport=viewport)  # type: ignore[arg-type]
    page = context.new_page()
    page.goto(base + "/console")
    expect(page.get_by_role("heading", name="Masuk ke konsol")).to_be_visible()
    page.get_by_label("Token kantor").fill(office_token(office))
    page.get_by_role("button", name="Masuk").click()
    expect(page.get_by_role("heading", name="Eskalasi")).to_be_visible()
    return context, page


def no_horizontal_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]  # type: ignore[index]


def test_officer_sees_acknowledges_and_others_cannot_see(pipeline: Stack, browser: Browser, screenshots: Path) -> None:
    base = pipeline.url("notify")
    post_tip(pipeline, KRAGILAN)
    eid = escalation_in(pipeline, KRAGILAN)["escalation_id"]

    context, page = sign_in(browser, base, "polres-serang", DESKTOP)
    outside: list[str] = []
    context.on("request", lambda r: outside.append(r.url) if not r.url.startswith(base) else None)
    cookie = next(c for c in context.cookies() if c["name"] == "waspada_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and not cookie["secure"]  # plain HTTP here
    row = page.locator(f'li[data-id="{eid}"]')
    expect(row).to_contain_text("Kragilan")
    expect(row).to_contain_text("Terbuka")
    page.screenshot(path=screenshots / "list-desktop.png", full_page=True)

    # live update: a new escalation appears without a reload
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    post_tip(pipeline, CIRUAS)
    ciruas = escalation_in(pipeline, CIRUAS)["escalation_id"]
    expect(page.locator(f'li[data-id="{ciruas}"]')).to_be_visible(timeout=30_000)
    assert navigations == [], "the list reloaded instead of updating in place"

    # the detail, then the acknowledgement
    row.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Kragilan")
    for text in ("Kabupaten Serang", "Alasan penilaian", "Laporan warga × 1", "Polres Serang", "terkirim"):
        expect(page.locator("main")).to_contain_text(text)
    page.screenshot(path=screenshots / "detail-desktop.png", full_page=True)
    page.get_by_label("Catatan konfirmasi (opsional)").fill("Tim Reskrim meluncur")
    page.get_by_role("button", name="Konfirmasi diterima").click()
    expect(page.locator("#status")).to_have_text("Dikonfirmasi")
    expect(page.locator(".history")).to_contain_text("Tim Reskrim meluncur")

    # the officer API shows it at once, and the audit log has it
    status, record = http("GET", f"{base}/v1/escalations/{eid}", token=office_token("polres-serang"))
    assert status == 200
    assert (record["status"], record["acknowledged_by"]) == ("acknowledged", "polres-serang")
    _, log = http("GET", f"{base}/v1/audit", token=office_token("polres-serang"))
    acked = next(e for e in log if e["action"] == "acknowledge" and e.get("escalation_id") == eid)
    assert (acked["via"], acked["note"]) == ("console", "Tim Reskrim meluncur")
    assert any(e["action"] == "read" and e.get("escalation_id") == eid and e["via"] == "console" for e in log)

    # a form post without the CSRF token is refused
    forged = context.request.post(f"{base}/console/escalations/{eid}/resolve", form={"note": "x"}, max_redirects=0)
    assert forged.status == 403
    assert http("GET", f"{base}/v1/escalations/{eid}", token=office_token("polres-serang"))[1]["status"] == (
        "acknowledged"
    )

    # English, then sign-out
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Acknowledgement history")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to the console")).to_be_visible()
    page.goto(f"{base}/console/escalations/{eid}")
    expect(page.get_by_role("heading", name="Sign in to the console")).to_be_visible()
    assert outside == [], f"assets from elsewhere: {outside}"
    context.close()

    # another office's officer cannot see it
    other, other_page = sign_in(browser, base, "polres-bogor", DESKTOP)
    expect(other_page.locator(f'li[data-id="{eid}"]')).to_have_count(0)
    response = other_page.goto(f"{base}/console/escalations/{eid}")
    assert response is not None and response.status == 404
    expect(other_page.locator("main")).to_contain_text("tidak ditemukan")
    other.close()

    # on a phone
    phone, phone_page = sign_in(browser, base, "polres-serang", PHONE)
    expect(phone_page.locator(f'li[data-id="{eid}"]')).to_contain_text("Dikonfirmasi")
    no_horizontal_scroll(phone_page)
    phone_page.screenshot(path=screenshots / "list-phone.png", full_page=True)
    phone_page.locator(f'li[data-id="{eid}"]').get_by_role("link").click()
    expect(phone_page.get_by_role("button", name="Tandai selesai")).to_be_visible()
    no_horizontal_scroll(phone_page)
    phone_page.screenshot(path=screenshots / "detail-phone.png", full_page=True)
    phone.close()
