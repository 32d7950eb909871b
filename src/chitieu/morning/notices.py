"""Notices to departments: for each unit with rejected files in a night, one bilingual
notice, plain text and HTML, listing its files and each error in the clerk's words, with
where it is (sheet, row, column) and what to change (the error's own message says it).

Written to `notices/<night>/<province>_<unit>/`; when SMTP settings are given
(`CHITIEU_SMTP_HOST`, see config.py) and the unit has recipients
(`CHITIEU_NOTICE_RECIPIENTS`), e-mailed with the error reports attached. Sending never fails
the night: an address that cannot be reached is logged and the notice stays on disk.
"""

from __future__ import annotations

import csv
import logging
import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import psycopg

from chitieu.config import Settings, Smtp
from chitieu.morning.page import environment
from chitieu.night import UNASSIGNED, FileLine, Night

log = logging.getLogger(__name__)

MAX_ERRORS_SHOWN = 50  # per file; the error report has them all
# What to change, for the rules whose message says what is wrong but not what to do.
HINTS: dict[str, tuple[str, str]] = {
    "unknown_province": ("Dùng mã tỉnh 2 chữ số của Tổng cục Thống kê", "Use the 2-digit GSO code"),
    "unknown_unit": ("Dùng mã đơn vị trong danh mục", "Use a unit code of the catalogue"),
    "unknown_indicator": (
        "Dùng mã chỉ tiêu trong danh mục",
        "Use an indicator code of the catalogue",
    ),
    "unit_not_allowed": (
        "Xoá dòng này: đơn vị không báo cáo chỉ tiêu này",
        "Remove the row: the unit does not report this indicator",
    ),
    "period_future": (
        "Chỉ gửi số liệu của kỳ đã kết thúc",
        "Send a period's figures once the period has ended",
    ),
    "duplicate_key": ("Giữ một dòng, xoá dòng lặp", "Keep one of the rows, remove the repeat"),
    "numerator_gt_denominator": ("Kiểm tra tử số và mẫu số", "Check numerator and denominator"),
    "rate_mismatch": (
        "Sửa tỷ lệ, hoặc tử số/mẫu số, cho khớp nhau",
        "Correct the rate, or numerator/denominator, so that they agree",
    ),
}


@dataclass(frozen=True)
class Shown:
    """An error (or a receipt line) as a notice shows it."""

    where: str
    vi: str
    en: str
    raw_value: str | None = None

    @classmethod
    def error(cls, where: str, rule: str, vi: str, en: str, raw: str | None) -> Shown:
        hint_vi, hint_en = HINTS.get(rule, ("", ""))
        return cls(
            where,
            f"{vi}. {hint_vi}" if hint_vi else vi,
            f"{en}. {hint_en}" if hint_en else en,
            raw,
        )


@dataclass
class FileNotice:
    file: FileLine
    errors: list[Shown]
    receipt: list[Shown]
    more: int = 0


@dataclass
class Notice:
    reporter: str  # 'province/unit'
    unit_name: str
    night: str
    files: list[FileNotice] = field(default_factory=list)
    text: str = ""
    html: str = ""
    written: list[Path] = field(default_factory=list)

    @property
    def subject(self) -> str:
        count = len(self.files)
        return (
            f"Đề án 06: {count} tệp báo cáo bị từ chối / {count} rejected report file(s)"
            f" – {self.reporter} – {self.night}"
        )

    @property
    def folder_name(self) -> str:
        return self.reporter.replace("/", "_").replace(UNASSIGNED, "chua_ro_don_vi")


def _where(sheet: str | None, row: int | None, column: str | None) -> str:
    parts = [f"sheet '{sheet}'"] if sheet else []
    parts += [f"dòng/row {row}"] if row is not None else []
    parts += [f"cột/column {column}"] if column else []
    return ", ".join(parts) or "cả tệp/whole file"


def _file_notice(conn: psycopg.Connection, line: FileLine) -> FileNotice:
    errors = [
        Shown.error(_where(sheet, row, column), rule, vi, en, raw)
        for sheet, row, column, rule, vi, en, raw in conn.execute(
            "select sheet, row_number, column_name, rule, message_vi, message_en, raw_value"
            " from audit.submission_error where submission_id = %s order by error_number"
            " limit %s",
            (line.submission_id, MAX_ERRORS_SHOWN),
        )
    ]
    receipt = [
        Shown(_where(sheet, row, None), vi, en)
        for sheet, row, vi, en in conn.execute(
            "select sheet, row_number, message_vi, message_en from audit.submission_receipt"
            " where submission_id = %s and kind <> 'header' order by line_number",
            (line.submission_id,),
        )
    ]
    return FileNotice(line, errors, receipt, max(line.errors - len(errors), 0))


def build_notices(url: str, night: Night) -> list[Notice]:
    """One notice per unit with rejected files in the night."""
    notices = []
    with psycopg.connect(url) as conn:
        names = dict(conn.execute("select unit_code, name_vi from reference.units").fetchall())
        for reporter, files in night.by_reporter().items():
            rejected = [f for f in files if f.outcome == "rejected"]
            if not rejected:
                continue
            unit = reporter.partition("/")[2]
            notice = Notice(reporter, names.get(unit, unit), night.date.isoformat())
            notice.files = [_file_notice(conn, line) for line in rejected]
            notices.append(notice)
    env = environment()
    for notice in notices:
        context = {
            "reporter": notice.reporter,
            "unit_name": notice.unit_name,
            "night": notice.night,
            "files": notice.files,
        }
        notice.text = env.get_template("notice.txt.j2").render(context)
        notice.html = env.get_template("notice.html.j2").render(context)
    return notices


def write_notices(notices: list[Notice], folder: Path, run_id: str) -> list[Path]:
    """Each notice as `<folder>/<night>/<province>_<unit>/thong_bao_<run>.txt` and `.html`."""
    written = []
    for notice in notices:
        target = folder / notice.night / notice.folder_name
        target.mkdir(parents=True, exist_ok=True)
        for suffix, body in ((".txt", notice.text), (".html", notice.html)):
            path = target / f"thong_bao_{run_id}{suffix}"
            path.write_text(body, encoding="utf-8")
            notice.written.append(path)
            written.append(path)
    return written


def recipients(path: Path | None) -> dict[str, list[str]]:
    """'province/unit' (or '*/unit') → addresses, from the recipients CSV."""
    found: dict[str, list[str]] = {}
    if path is None or not path.is_file():
        return found
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            province = row["province_code"].strip()
            province = province if province == "*" else province.zfill(2)
            key = f"{province}/{row['unit_code'].strip().upper()}"
            found.setdefault(key, []).append(row["email"].strip())
    return found


def _message(notice: Notice, smtp: Smtp, to: list[str]) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = notice.subject
    message["From"] = smtp.sender
    message["To"] = ", ".join(to)
    message.set_content(notice.text)
    message.add_alternative(notice.html, subtype="html")
    for item in notice.files:
        report = Path(item.file.report or "")
        if item.file.report and report.is_file():
            message.add_attachment(
                report.read_bytes(), maintype="text", subtype="csv", filename=report.name
            )
    return message


def send_notices(notices: list[Notice], settings: Settings) -> list[str]:
    """E-mail each notice to its unit's recipients; the addresses it reached."""
    smtp = settings.smtp
    if smtp is None or not notices:
        return []
    book = recipients(settings.notice_recipients)
    sent: list[str] = []
    for notice in notices:
        unit = notice.reporter.partition("/")[2]
        to = book.get(notice.reporter, []) + book.get(f"*/{unit}", [])
        if not to:
            log.warning("notice for %s: no recipient in the recipients file", notice.reporter)
            continue
        try:
            with smtplib.SMTP(smtp.host, smtp.port, timeout=30) as server:
                if smtp.user:
                    server.starttls()
                    server.login(smtp.user, smtp.password or "")
                server.send_message(_message(notice, smtp, to))
            sent += to
        except (OSError, smtplib.SMTPException) as exc:
            log.error("notice for %s: could not send it to %s: %s", notice.reporter, to, exc)
    return sent
