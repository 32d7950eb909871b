"""The morning after a night with rejected files: `chitieu status`, the night report page
(rendered offline in Chromium), the notices to departments and their e-mail (to a loopback
SMTP server, never a real one).

The night: the demo warehouse, then a second night in which one unit corrects a report
and another sends a broken one (`_second_night`): every part has something to show.
"""

from __future__ import annotations

import contextlib
import email.policy
import json
import re
import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import pytest

from chitieu import cli
from chitieu.config import Smtp
from chitieu.morning.notices import build_notices, send_notices
from chitieu.morning.page import night_report_path
from chitieu.night import night_status
from chitieu.pipeline import run
from tests.conftest import Templates, Warehouse, _run_demo
from tests.landing_files import at, write_submission
from tests.test_report import chromium_binary  # noqa: F401 (a fixture)

pytestmark = pytest.mark.slow

RATE = "DVC_ONLINE_INTAKE_RATE"
CORRECTED = "40/SYT/SYT_40_2025-03_dieuchinh.csv"
BROKEN = "49/STP/STP_49_2025-03.csv"


def _second_night(wh: Warehouse) -> None:
    _run_demo(wh)
    late = at("2025-06-30")  # after the demo's own March report: it supersedes it
    write_submission(wh.landing, CORRECTED, [f"40,SYT,2025-03,{RATE},900,1000,,"], late)
    write_submission(
        wh.landing, BROKEN, [f"49,STP,2025-03,{RATE},10,5,,", "49,STP,2025-03,KHONG_CO,1,2,,"], late
    )
    run(wh.landing, wh.settings, progress=lambda _line: None)


@pytest.fixture(scope="module")
def night(templates: Templates, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    home = tmp_path_factory.mktemp("night") / "home"
    with pytest.MonkeyPatch.context() as mp:
        yield templates.copy(mp, "two_demo_nights", _second_night, home, "night")


def test_status_tells_the_night(night: Warehouse, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["status"]) == 1  # a rejected file: the night needs attention
    out = capsys.readouterr().out
    assert "files: 2 seen (1 accepted, 1 rejected)" in out, out
    assert "49/STP: 1 file(s), 1 rejected" in out, out
    assert re.search(rf"{re.escape(BROKEN)} \(2 error\(s\)\): .*\.errors\.csv", out), out
    assert "gate stg_raw__submission_values on staging.stg_raw__submission_values: passed" in out
    assert re.search(r"fct_indicator_value: \d+ rows \(\+[01] / ~[01] / -0\)", out), out
    assert re.search(r"step publish: \d+\.\d s", out), out

    assert cli.main(["status", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["needs_attention"] is True and data["build_id"]
    by_path = {f["path"]: f for f in data["files"]}
    assert by_path[BROKEN]["reporters"] == ["49/STP"]
    assert by_path[CORRECTED]["reporters"] == ["40/SYT"]
    assert by_path[CORRECTED]["rows"] == 1
    marts = {m["mart"]: m for m in data["marts"]}
    assert marts["fct_indicator_value"]["added"] + marts["fct_indicator_value"]["changed"] == 1

    assert cli.main(["status", "--night", "2000-01-01"]) == 3
    assert "no run recorded on 2000-01-01" in capsys.readouterr().out


def test_the_night_report_renders_offline_with_its_tables(
    night: Warehouse,
    chromium_binary: str,  # noqa: F811
) -> None:
    from chitieu.report.chromium import dump_dom

    found = night_status(night.url, night.settings)
    assert found is not None
    page = night_report_path(night.settings.reports_dir, found)
    html = page.read_text(encoding="utf-8")
    assert "<script" not in html and not re.search(r"""(src|href)=["']?https?:""", html)
    dom = dump_dom(page, offline=True)
    for table in ("files-summary", "units", "rejected", "gates", "marts", "steps"):
        body = re.search(rf'<table id="{table}">(.*?)</table>', dom, re.S)
        assert body and body.group(1).count("<tr") >= 2, table  # a header and rows
    assert BROKEN in dom and "49/STP" in dom


def test_gx_data_docs_render_offline(
    night: Warehouse,
    chromium_binary: str,  # noqa: F811
) -> None:
    """Every script and stylesheet of the Data Docs is a local copy: with the network cut
    off, bootstrap-table still lays out the validation tables, which have rows."""
    from chitieu.report.chromium import dump_dom

    site = night.settings.home / "gx" / "uncommitted" / "data_docs" / "local_site"
    pages = [site / "index.html", *sorted(site.glob("validations/**/*.html"))[-1:]]
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert not re.search(r"""<(script|link|img)[^>]*(src|href)=["']https?:""", html), page
        dom = dump_dom(page, offline=True)
        assert "fixed-table-container" in dom, page  # bootstrap-table, from the local copy
        rows = re.findall(r"<tbody>(.*?)</tbody>", dom, re.S)
        assert sum(body.count("<tr") for body in rows) >= 1, page


def test_a_notice_per_unit_with_rejections(night: Warehouse) -> None:
    found = night_status(night.url, night.settings)
    assert found is not None
    folder = night.settings.notices_dir / found.date.isoformat()
    # The demo's own night (the same day) told its four units; this night, only 49/STP.
    this_night = sorted(p.parent.name for p in folder.glob(f"*/thong_bao_{found.run_id}.txt"))
    assert this_night == ["49_STP"]
    text = (folder / "49_STP" / f"thong_bao_{found.run_id}.txt").read_text(encoding="utf-8")
    assert BROKEN in text
    assert "dòng/row 2, cột/column numerator" in text  # 10 of 5
    assert "Unknown indicator code: KHONG_CO. Use an indicator code of the catalogue" in text
    html = (folder / "49_STP" / f"thong_bao_{found.run_id}.html").read_text(encoding="utf-8")
    assert "<script" not in html and "KHONG_CO" in html


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        content = envelope.content  # type: ignore[attr-defined]
        self.messages.append(message_from_bytes(content, policy=email.policy.default))
        return "250 OK"


@contextlib.contextmanager
def loopback_smtp() -> Iterator[tuple[_Inbox, int]]:
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:  # a free port on the loopback
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def test_notices_reach_a_loopback_smtp_server(night: Warehouse, tmp_path: Path) -> None:
    from dataclasses import replace

    found = night_status(night.url, night.settings)
    assert found is not None
    book = tmp_path / "recipients.csv"
    book.write_text("province_code,unit_code,email\n49,STP,stp@quangnam.example\n")
    with loopback_smtp() as (inbox, port):
        settings = replace(night.settings, smtp=Smtp("127.0.0.1", port), notice_recipients=book)
        sent = send_notices(build_notices(night.url, found), settings)
    assert sent == ["stp@quangnam.example"]
    (message,) = inbox.messages
    assert message["To"] == "stp@quangnam.example"
    assert "49/STP" in message["Subject"] and "rejected report file" in message["Subject"]
    parts = {part.get_content_type(): part for part in message.walk()}
    assert BROKEN in parts["text/plain"].get_payload(decode=True).decode("utf-8")
    assert "text/html" in parts
    report = parts["text/csv"]
    assert report.get_filename().endswith(".errors.csv")
    assert "KHONG_CO" in report.get_payload(decode=True).decode("utf-8-sig")
