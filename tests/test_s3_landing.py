"""The landing area as an S3 URL, against a real S3-compatible server (moto, on loopback).

The DAG's functions and the CLI ingest `s3://bucket/landing`: accepted objects are loaded
with `submitted_at` = their LastModified, a bad object moves to the quarantine prefix with
its report and loads nothing, and a second run loads nothing twice.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

import pytest

from chitieu.config import load_settings
from chitieu.ingest.report import RECEIPT_KINDS
from chitieu.ingest.storage import RemoteLanding, default_quarantine, is_remote
from tests.conftest import Warehouse
from tests.landing_files import HEADER, INTAKE

BUCKET = "chitieu-test"
LANDING = f"s3://{BUCKET}/landing"
GOOD = {
    "40/CA/CA_40_2024-10.csv": [f"40,CA,2024-10,{INTAKE},600,1000,,"],
    "40/SYT/2024/SYT_40_2024-11.csv": [f"40,SYT,2024-11,{INTAKE},700,1000,,"],
}
BAD = "40/STP/STP_40_2024-11.csv"  # an indicator code that does not exist


@dataclass(frozen=True)
class S3:
    endpoint: str
    client: object  # boto3's S3 client, for setting up and checking behind chitieu's back

    def put(self, key: str, body: bytes) -> None:
        self.client.put_object(Bucket=BUCKET, Key=key, Body=body)  # type: ignore[attr-defined]

    def keys(self, prefix: str) -> list[str]:
        listed = self.client.list_objects_v2(Bucket=BUCKET, Prefix=prefix)  # type: ignore[attr-defined]
        return sorted(item["Key"] for item in listed.get("Contents", []))

    def get(self, key: str) -> bytes:
        return self.client.get_object(Bucket=BUCKET, Key=key)["Body"].read()  # type: ignore[attr-defined]

    def last_modified(self, key: str) -> object:
        return self.client.head_object(Bucket=BUCKET, Key=key)["LastModified"]  # type: ignore[attr-defined]


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[S3]:
    """A moto S3 server on a free loopback port, reached through the standard AWS settings
    every S3 client (boto3, s3fs, the CLI in a subprocess) reads."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    # moto keeps its buckets per process, not per server: start from an empty store.
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"))
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    try:
        yield S3(endpoint, client)
    finally:
        server.stop()


def _csv(rows: list[str]) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode()


def test_landing_urls_and_their_default_quarantine() -> None:
    assert is_remote("s3://b/landing") and not is_remote(Path("/srv/landing"))
    assert not is_remote("/srv/landing") and not is_remote("file:///srv/landing")
    assert default_quarantine("s3://b/landing") == "s3://b/quarantine"
    assert default_quarantine("s3://b/de-an-06/landing/") == "s3://b/de-an-06/quarantine"
    assert default_quarantine("s3://b") == "s3://b/.quarantine"


def test_discovery_follows_the_local_rules(s3: S3, monkeypatch: pytest.MonkeyPatch) -> None:
    keys = ("a.csv", "sub/b.xlsx", "notes.txt", ".hidden/c.csv", "sub/~$b.xlsx", "Thumbs.db")
    for key in keys:
        s3.put(f"landing/{key}", b"x")
    s3.put("landing/quarantine/old.1.csv", b"x")  # a quarantine inside the landing prefix
    s3.put("landing-other/d.csv", b"x")  # a sibling prefix sharing the name's start
    found = RemoteLanding(LANDING, f"{LANDING}/quarantine").discover()
    # Every file but the clearly-not-submissions gets a ledger entry (notes.txt: rejected).
    assert found.submissions == ["a.csv", "notes.txt", "sub/b.xlsx"]
    assert found.ignored == ["Thumbs.db", "sub/~$b.xlsx"]


def test_ingest_from_s3_with_quarantine_and_rerun(
    warehouse: Warehouse, s3: S3, monkeypatch: pytest.MonkeyPatch
) -> None:
    for rel, rows in GOOD.items():
        s3.put(f"landing/{rel}", _csv(rows))
    bad_body = _csv(["40,STP,2024-11,KHONG_CO,1,2,,"])
    s3.put(f"landing/{BAD}", bad_body)
    s3.put("landing/40/Thumbs.db", b"not a submission")
    stamps = {rel: s3.last_modified(f"landing/{rel}") for rel in [*GOOD, BAD]}
    monkeypatch.setenv("CHITIEU_LANDING_DIR", LANDING)
    settings = load_settings()
    assert settings.landing == LANDING and settings.landing_dir == warehouse.landing

    # The nightly DAG's path: discover, then one mapped ingest per object.
    from chitieu import orchestration

    submissions = orchestration.discover_files()
    assert submissions == sorted([*GOOD, BAD])
    outcomes = {rel: orchestration.ingest_file(rel) for rel in submissions}
    assert {rel: r["outcome"] for rel, r in outcomes.items()} == {
        **dict.fromkeys(GOOD, "accepted"),
        BAD: "rejected",
    }

    ledger = warehouse.query(
        "select path, outcome, submitted_at, quarantine_path, submission_id"
        " from raw.submission_file order by path"
    )
    assert [(p, o) for p, o, *_ in ledger] == sorted(
        [*((rel, "accepted") for rel in GOOD), (BAD, "rejected")]
    )
    for path, _outcome, submitted_at, _q, _id in ledger:
        assert submitted_at == stamps[path].astimezone(UTC), path  # type: ignore[attr-defined]

    # The bad object moved to the quarantine prefix, its report beside it; nothing loaded.
    (bad_id, quarantined) = next((i, q) for p, _o, _s, q, i in ledger if p == BAD)
    moved_key = f"quarantine/40/STP/STP_40_2024-11.{bad_id}.csv"
    assert quarantined == f"s3://{BUCKET}/{moved_key}"
    assert outcomes[BAD]["report"] == f"s3://{BUCKET}/{moved_key}.errors.csv"
    assert s3.keys("quarantine/") == [moved_key, f"{moved_key}.errors.csv"]
    assert s3.get(moved_key) == bad_body
    report = [
        line
        for line in csv.DictReader(
            io.StringIO(s3.get(f"{moved_key}.errors.csv").decode("utf-8-sig"))
        )
        if line["rule"] not in RECEIPT_KINDS
    ]
    assert [(r["file"], r["rule"], r["value"]) for r in report] == [
        (BAD, "unknown_indicator", "KHONG_CO")
    ]
    assert f"landing/{BAD}" not in s3.keys("landing/")
    assert warehouse.query("select error_count from raw.submission_file where path = %s", (BAD,))
    loaded = warehouse.query(
        "select unit_code, period, value from raw.submission_value order by unit_code"
    )
    assert [(u, p) for u, p, _v in loaded] == [("CA", "2024-10"), ("SYT", "2024-11")]
    assert s3.keys("landing/") == sorted(
        [*(f"landing/{rel}" for rel in GOOD), "landing/40/Thumbs.db"]
    )
    # The next night maps no task for the objects the ledger has seen as they are now.
    assert orchestration.discover_files() == []

    # Again, from the command line (no Airflow), on the URL given as --landing: nothing new.
    monkeypatch.delenv("CHITIEU_LANDING_DIR")
    again = subprocess.run(
        [str(Path(sys.executable).with_name("chitieu")), "ingest", "--landing", LANDING],
        env=dict(os.environ), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert again.returncode == 0, again.stdout + again.stderr
    assert "files: 0 accepted, 0 rejected, 0 duplicate, 2 already seen, 1 ignored" in again.stdout
    # recognised from the listing (size and LastModified against the ledger), not downloaded
    assert "2 object(s) already loaded and unchanged: skipped" in again.stdout
    assert warehouse.query("select count(*) from raw.submission_file") == [(3,)]
    assert warehouse.query("select count(*) from raw.submission_value") == [(2,)]
