"""No report goes unheard (CONTRACT §6): a village outside the directory reaches the national desks.

Unit tests of the chain, the notice and the counter, then one notify process (real broker, Valkey,
webhook receiver) fed an escalation from Kab. Kupang, NTT, which no Polres or Kanim of the
shipped directory holds.
"""

import json
import re
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from typing import Any

import pytest
from prometheus_client import REGISTRY
from standardwebhooks import Webhook

from devstack.demo_tokens import office_token
from schemas.escalation import Escalation
from services.common.config_files import read_config
from services.common.settings import CONFIG_DIR
from services.notify.adapters import metrics
from services.notify.core import payload
from services.notify.core.chain import Chain, from_json, resolve
from services.notify.core.directory import Directory
from tests.factories import escalation
from tests.notify.conftest import NotifyRig
from tests.support import http, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.broker("kafka")]

DESKS = {"polri": "bareskrim-ppa-ppo", "imigrasi": "ditjenim-wasdakim"}
BOKONUSAN = {
    "desa_code": "53.01.04.2003",
    "desa_name": "Bokonusan",
    "kecamatan": "Semau",
    "kabupaten": "KABUPATEN KUPANG",
    "provinsi": "NUSA TENGGARA TIMUR",
}
"""A village of Kab. Kupang, NTT (province 53, a main source province of migrant workers)."""


def ntt_escalation(**overrides: Any) -> dict[str, Any]:
    return escalation(**{**BOKONUSAN, **overrides})


def directory() -> Directory:
    return read_config(CONFIG_DIR / "directory.yaml", Directory)


# -- units ----------------------------------------------------------------------------------------
def test_the_chain_keeps_the_desks_apart_and_names_the_agencies_they_stand_in_for() -> None:
    chain = resolve(directory(), BOKONUSAN["desa_code"])
    assert chain.primary == () and chain.parents == () and chain.copies == ()
    assert chain.desks == (DESKS["imigrasi"], DESKS["polri"])
    assert chain.unrouted == ("imigrasi", "polri")
    assert chain.members() == [DESKS["imigrasi"], DESKS["polri"]]
    lontar = resolve(directory(), "36.04.13.2007")
    assert (lontar.primary, lontar.desks, lontar.unrouted) == (("kanim-serang", "polres-serang"), (), ())


def test_a_chain_stored_before_the_desks_reads_back_without_them() -> None:
    old = json.dumps({"primary": ["polres-serang"], "copies": [], "parents": ["polda-banten"], "uncertain": False})
    assert from_json(old) == Chain(primary=("polres-serang",), parents=("polda-banten",))


def test_the_desks_notice_says_why_in_the_webhook_and_the_email() -> None:
    esc = Escalation.model_validate(ntt_escalation())
    body = payload.content(esc, payload.Notice("fallback"), "https://waspada.example")
    desk = body["notice"]["national_desk"]
    assert body["notice"]["kind"] == "fallback" and desk["reason"] == "no_office_in_directory"
    assert "meja nasional" in desk["text"] and "Kabupaten Kupang, Nusa Tenggara Timur" in desk["text"]
    mail = payload.email(esc, payload.Notice("fallback"), "https://waspada.example", to="a@b.invalid",
                         sender="w@x.invalid", message_id="msg_1")  # fmt: skip
    assert desk["text"] in mail.get_content() and "(meja nasional)" in mail["Subject"]
    plain = payload.content(esc, payload.Notice("jurisdiction"), "https://waspada.example")
    assert "national_desk" not in plain["notice"], "an office holding jurisdiction gets the notice as before"


def _unrouted(agency: str) -> float:
    return REGISTRY.get_sample_value("waspada_notify_unrouted_total", {"agency": agency}) or 0.0


def test_the_counter_counts_a_first_sight_and_not_a_replay() -> None:
    before = {a: _unrouted(a) for a in DESKS}
    metrics.count_unrouted(("imigrasi", "polri"), first_sight=True)
    metrics.count_unrouted(("imigrasi", "polri"), first_sight=False)  # the same revision replayed
    metrics.count_unrouted(("imigrasi",), first_sight=True)
    assert {a: _unrouted(a) - before[a] for a in DESKS} == {"polri": 1.0, "imigrasi": 2.0}


# -- through real processes -----------------------------------------------------------------------
def _signed_to_both_desks(rig: NotifyRig, eid: str) -> list[dict[str, Any]]:
    got = rig.receiver.for_escalation(eid)
    return got if sorted(a["office_id"] for a in got) == sorted(DESKS.values()) else []


def _console_detail(rig: NotifyRig, office_id: str, eid: str) -> str:
    """The console's detail page as the office sees it, signed in with its demo token (plain HTTP)."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    with opener.open(f"{rig.api}/console/login", timeout=15) as response:
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', response.read().decode())
    assert csrf, "no CSRF token in the sign-in form"
    form = urllib.parse.urlencode({"token": office_token(office_id), "csrf_token": csrf.group(1)}).encode()
    with opener.open(f"{rig.api}/console/login", data=form, timeout=15) as response:
        assert response.url.endswith("/console/escalations"), response.url
    with opener.open(f"{rig.api}/console/escalations/{eid}", timeout=15) as response:
        return str(response.read().decode())


@pytest.mark.integration
def test_an_ntt_village_reaches_both_desks_signed_counted_once_and_explained(rig: NotifyRig) -> None:
    esc = ntt_escalation(severity="HIGH", score=70, ack_within_s=3600)
    eid = esc["escalation_id"]
    rig.publish(esc)
    received = wait_for(lambda: _signed_to_both_desks(rig, eid), timeout=30, what="a webhook to each national desk")
    for attempt in received:
        Webhook(rig.secret(attempt["office_id"])).verify(attempt["body"], attempt["headers"])
        notice = attempt["payload"]["notice"]
        assert notice["kind"] == "fallback" and notice["national_desk"]["reason"] == "no_office_in_directory"
    assert wait_for(lambda: rig.metric("waspada_notify_unrouted_total", agency="polri") == 1.0, timeout=10)
    assert rig.metric("waspada_notify_unrouted_total", agency="imigrasi") == 1.0

    # the same record again (a replay of the topic) and then a new incident of the same village
    follow = ntt_escalation()
    rig.publish(esc, follow)
    wait_for(lambda: _signed_to_both_desks(rig, follow["escalation_id"]), timeout=30, what="the second incident")
    time.sleep(1.0)  # the replay is handled beside the new incident: give a wrong count time to show
    assert {a: rig.metric("waspada_notify_unrouted_total", agency=a) for a in DESKS} == {"polri": 2.0, "imigrasi": 2.0}
    assert len(rig.receiver.for_escalation(eid)) == 2, "the replay paged a desk again"

    status, record = http("GET", f"{rig.api}/v1/escalations/{eid}", token=office_token(DESKS["polri"]))
    assert status == 200 and record["unrouted_agencies"] == ["imigrasi", "polri"]
    assert {d["kind"] for d in record["deliveries"]} == {"fallback"}
    page = _console_detail(rig, DESKS["polri"], eid)
    assert "Dikirim ke meja nasional: direktori belum memuat kantor Polri untuk Kabupaten Kupang." in page
    assert "Dikirim ke meja nasional: direktori belum memuat kantor Imigrasi untuk Kabupaten Kupang." in page
    assert "meja nasional" in page.split("Pemberitahuan terkirim", 1)[1], "the deliveries table names the kind"


@pytest.mark.integration
def test_desa_lontar_reaches_its_own_offices_and_no_desk(rig: NotifyRig) -> None:
    esc = escalation("36.04.13.2007")
    eid = esc["escalation_id"]
    before = {a: rig.metric("waspada_notify_unrouted_total", agency=a) for a in DESKS}
    rig.publish(esc)
    wait_for(lambda: len(rig.receiver.for_escalation(eid)) == 2, timeout=30, what="Lontar's two offices")
    assert sorted(a["office_id"] for a in rig.receiver.for_escalation(eid)) == ["kanim-serang", "polres-serang"]
    assert {a: rig.metric("waspada_notify_unrouted_total", agency=a) for a in DESKS} == before
    page = _console_detail(rig, "polres-serang", eid)
    assert "meja nasional" not in page
    assert http("GET", f"{rig.api}/v1/escalations/{eid}", token=office_token(DESKS["polri"]))[0] == 404
