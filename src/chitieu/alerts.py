"""Alerts: what a failed nightly task leaves behind for the people on call.

Every alert is logged at ERROR, stored as a row of `audit.alert`, and, when
`CHITIEU_ALERT_WEBHOOK` is set, POSTed there as JSON (Slack/Teams/Zalo-bot style
webhooks accept `{"text": ...}`). Delivering an alert never raises: a broken webhook must
not hide the failure it reports.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from dataclasses import asdict, dataclass

import psycopg

from chitieu.config import load_settings

log = logging.getLogger(__name__)

_DDL = """
create schema if not exists audit;
create table if not exists audit.alert (
    alert_id bigint generated always as identity primary key,
    raised_at timestamptz not null default now(),
    dag_id text not null,
    task_id text not null,
    run_id text not null,
    try_number integer,
    message text not null
);
comment on table audit.alert is 'Failed pipeline tasks, one row per failure (see chitieu.alerts).';
"""


@dataclass(frozen=True)
class Alert:
    dag_id: str
    task_id: str
    run_id: str
    try_number: int | None
    message: str

    @property
    def text(self) -> str:
        return f"[chitieu] {self.dag_id}.{self.task_id} failed ({self.run_id}): {self.message}"


def store(url: str, alert: Alert) -> None:
    with psycopg.connect(url) as conn:
        conn.execute(_DDL)
        conn.execute(
            "insert into audit.alert (dag_id, task_id, run_id, try_number, message)"
            " values (%s, %s, %s, %s, %s)",
            (alert.dag_id, alert.task_id, alert.run_id, alert.try_number, alert.message),
        )


def post(webhook: str, alert: Alert, timeout: float = 10.0) -> None:
    body = json.dumps({"text": alert.text, **asdict(alert)}, ensure_ascii=False).encode()
    request = urllib.request.Request(
        webhook, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        response.read()


def raise_alert(alert: Alert, url: str | None = None) -> None:
    """Log, store and (optionally) post an alert; never raises."""
    log.error("%s", alert.text)
    try:
        from chitieu.db import warehouse_url

        store(url or warehouse_url(), alert)
    except Exception:
        log.exception("could not store the alert in audit.alert")
    webhook = load_settings().alert_webhook
    if webhook:
        try:
            post(webhook, alert)
        except Exception:
            log.exception("could not post the alert to CHITIEU_ALERT_WEBHOOK")


def from_airflow_context(context: dict) -> Alert:
    """The alert for a task failure callback's context."""
    ti = context.get("ti") or context.get("task_instance")
    exception = context.get("exception")
    first_line = str(exception).strip().splitlines()[0] if exception else "task failed"
    return Alert(
        dag_id=str(getattr(ti, "dag_id", "?")),
        task_id=str(getattr(ti, "task_id", "?")),
        run_id=str(getattr(ti, "run_id", "?")),
        try_number=getattr(ti, "try_number", None),
        message=first_line[:2000],
    )
