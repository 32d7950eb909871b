"""Configuration, read from the environment in one place.

| variable | default | meaning |
|---|---|---|
| `CHITIEU_HOME` | `<repo>/.chitieu` | state: embedded database, landing, quarantine, reports |
| `CHITIEU_DB_URL` | unset | an external PostgreSQL database; unset starts an embedded one |
| `CHITIEU_AIRFLOW_DB_URL` | derived | Airflow metadata database (`<warehouse db>_airflow`) |
| `CHITIEU_LANDING_DIR` | `$CHITIEU_HOME/landing` | where departments drop files (or s3://…) |
| `CHITIEU_QUARANTINE_DIR` | `$CHITIEU_HOME/quarantine` | where rejected files go, with reports |

Both may be object-store URLs (`s3://bucket/prefix`, see `chitieu.ingest.storage`); an S3
landing area's quarantine defaults to its sibling prefix `quarantine`.
| `CHITIEU_DUE_DAYS` | `5` | days after a period's end by which its report is due |
| `CHITIEU_SETTLE_SECONDS` | `2` | a file still changing over this long waits for next run |
| `CHITIEU_FULL_CHECK_DAYS` | `7` | a night with nothing new builds all the same past this age |
| `CHITIEU_SMTP_HOST` | unset | SMTP server for the notices to departments (unset: not sent) |
| `CHITIEU_SMTP_PORT` | `25` | its port |
| `CHITIEU_SMTP_USER`, `_PASSWORD` | unset | login, when the server wants one (STARTTLS) |
| `CHITIEU_SMTP_FROM` | `chitieu@localhost` | the notices' sender |
| `CHITIEU_NOTICE_RECIPIENTS` | `$CHITIEU_HOME/notice_recipients.csv` | who is told |
| `CHITIEU_ALERT_WEBHOOK` | unset | URL a failed task's alert is also posted to (JSON) |
| `CHITIEU_CHROMIUM` | found on PATH | the Chromium or Chrome binary that prints the briefs |
| `CHITIEU_DBT_PROJECT_DIR` | `<repo>/dbt_project` | the dbt project (another copy: tests) |
| `CHITIEU_EXPECTATIONS_DIR` | `<repo>/expectations` | the Great Expectations suites and queries |

The recipients file is a CSV with the columns `province_code,unit_code,email` (one row per
address; `*` as province_code: that unit in every province).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
WAREHOUSE_DB = "chitieu"
AIRFLOW_DB = "airflow"


@dataclass(frozen=True)
class Smtp:
    host: str
    port: int = 25
    user: str | None = None
    password: str | None = None
    sender: str = "chitieu@localhost"


@dataclass(frozen=True)
class Settings:
    home: Path
    db_url: str | None
    airflow_db_url: str | None
    landing_dir: Path
    quarantine_dir: Path
    due_days: int
    full_check_days: float
    dbt_project_dir: Path
    expectations_dir: Path
    settle_seconds: float = 2.0
    # Set when CHITIEU_LANDING_DIR / CHITIEU_QUARANTINE_DIR are object-store URLs
    # (s3://bucket/prefix); landing_dir and quarantine_dir then keep their local defaults.
    landing_url: str | None = None
    quarantine_url: str | None = None
    smtp: Smtp | None = None
    notice_recipients: Path | None = None
    alert_webhook: str | None = None
    chromium: str | None = None

    @property
    def landing(self) -> Path | str:
        """The landing area: a local folder, or an object-store URL."""
        return self.landing_url or self.landing_dir

    @property
    def pgdata(self) -> Path:
        return self.home / "pg"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    @property
    def notices_dir(self) -> Path:
        return self.home / "notices"

    @property
    def airflow_home(self) -> Path:
        return self.home / "airflow"

    @property
    def seeds_dir(self) -> Path:
        return self.dbt_project_dir / "seeds"


def _path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


def _url(name: str) -> str | None:
    """The value of `name` when it is an object-store URL (`s3://bucket/prefix`), else None."""
    value = os.environ.get(name, "")
    return value.rstrip("/") if "://" in value and not value.startswith("file://") else None


def load_settings() -> Settings:
    home = _path("CHITIEU_HOME", REPO_ROOT / ".chitieu")
    landing_url, quarantine_url = _url("CHITIEU_LANDING_DIR"), _url("CHITIEU_QUARANTINE_DIR")
    return Settings(
        home=home,
        db_url=os.environ.get("CHITIEU_DB_URL") or None,
        airflow_db_url=os.environ.get("CHITIEU_AIRFLOW_DB_URL") or None,
        landing_dir=home / "landing"
        if landing_url
        else _path("CHITIEU_LANDING_DIR", home / "landing"),
        quarantine_dir=(
            home / "quarantine"
            if quarantine_url
            else _path("CHITIEU_QUARANTINE_DIR", home / "quarantine")
        ),
        due_days=int(os.environ.get("CHITIEU_DUE_DAYS", "5")),
        full_check_days=float(os.environ.get("CHITIEU_FULL_CHECK_DAYS", "7")),
        dbt_project_dir=_path("CHITIEU_DBT_PROJECT_DIR", REPO_ROOT / "dbt_project"),
        expectations_dir=_path("CHITIEU_EXPECTATIONS_DIR", REPO_ROOT / "expectations"),
        settle_seconds=float(os.environ.get("CHITIEU_SETTLE_SECONDS", "2")),
        landing_url=landing_url,
        quarantine_url=quarantine_url,
        smtp=_smtp(),
        notice_recipients=_path("CHITIEU_NOTICE_RECIPIENTS", home / "notice_recipients.csv"),
        alert_webhook=os.environ.get("CHITIEU_ALERT_WEBHOOK") or None,
        chromium=os.environ.get("CHITIEU_CHROMIUM") or None,
    )


def _smtp() -> Smtp | None:
    host = os.environ.get("CHITIEU_SMTP_HOST")
    if not host:
        return None
    return Smtp(
        host=host,
        port=int(os.environ.get("CHITIEU_SMTP_PORT", "25")),
        user=os.environ.get("CHITIEU_SMTP_USER") or None,
        password=os.environ.get("CHITIEU_SMTP_PASSWORD") or None,
        sender=os.environ.get("CHITIEU_SMTP_FROM", "chitieu@localhost"),
    )
