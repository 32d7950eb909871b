"""Alerts reach the table and the webhook; the DAGs' retry policy tells data errors apart."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import psycopg
import pytest
from airflow.sdk import RetryAction

from chitieu.alerts import Alert, raise_alert
from chitieu.gates import GateFailed, GateResult
from chitieu.transform import TransformError
from tests.conftest import Warehouse

ALERT = Alert("chitieu_nightly", "gate_marts", "manual__1", 1, "quality gate target_gap failed")


def test_alert_is_stored_and_posted(warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    received: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("CHITIEU_ALERT_WEBHOOK", f"http://127.0.0.1:{server.server_port}/hook")
    try:
        raise_alert(ALERT, warehouse.url)
    finally:
        server.shutdown()
    assert warehouse.query("select task_id, message from audit.alert") == [
        ("gate_marts", "quality gate target_gap failed")
    ]
    assert received[0]["text"].startswith("[chitieu] chitieu_nightly.gate_marts failed")
    assert received[0]["run_id"] == "manual__1"


def test_a_dead_webhook_does_not_hide_the_alert(
    warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHITIEU_ALERT_WEBHOOK", "http://127.0.0.1:9/nobody-listens")
    raise_alert(ALERT, warehouse.url)
    assert warehouse.query("select count(*) from audit.alert") == [(1,)]


def test_retry_policy_fails_data_errors_and_retries_the_rest() -> None:
    import runpy

    from chitieu.config import REPO_ROOT, load_settings
    from chitieu.manifest import ensure_manifest

    ensure_manifest(load_settings())  # the DAG file renders its dbt task group from it
    policy = runpy.run_path(str(REPO_ROOT / "dags" / "chitieu_nightly.py"))["RETRY_POLICY"]
    for data_error in (GateFailed(GateResult("s", "a")), TransformError("dbt test failed")):
        assert policy.evaluate(data_error, 1, 4).action == RetryAction.FAIL
    lost = psycopg.OperationalError("server closed the connection unexpectedly")
    assert policy.evaluate(lost, 1, 4).action == RetryAction.DEFAULT


class _DbtResult:
    """A failed dbtRunnerResult with no node results, as dbt gives when it cannot connect."""

    def __init__(self, message: str) -> None:
        self.result = None
        self.exception = RuntimeError(message)


@pytest.mark.parametrize(
    "message",
    [
        'Database Error\n  connection to server on socket "/x/.s.PGSQL.5432" failed: No such file'
        " or directory\n\tIs the server running locally and accepting connections on that"
        " socket?",
        "Database Error\n  server closed the connection unexpectedly",
        "Database Error\n  connection already closed",
        "Database Error\n  FATAL:  the database system is starting up",
    ],
)
def test_dbt_losing_the_server_is_infrastructure_not_data(message: str) -> None:
    from chitieu.transform import raise_for_failure

    with pytest.raises(ConnectionError):
        raise_for_failure(_DbtResult(message), ["build"])


def test_a_failed_dbt_test_is_a_data_error() -> None:
    from chitieu.transform import raise_for_failure

    with pytest.raises(TransformError):
        raise_for_failure(_DbtResult("Got 3 results, configured to fail if != 0"), ["build"])
