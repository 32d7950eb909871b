"""Configuration, read from the environment in one place.

| variable | default | meaning |
|---|---|---|
| `CHITIEU_HOME` | `<repo>/.chitieu` | state: embedded database, landing, quarantine, reports |
| `CHITIEU_DB_URL` | unset | an external PostgreSQL database; unset starts an embedded one |
| `CHITIEU_AIRFLOW_DB_URL` | derived | Airflow metadata database (`<warehouse db>_airflow`) |
| `CHITIEU_LANDING_DIR` | `$CHITIEU_HOME/landing` | where departments drop their files |
| `CHITIEU_QUARANTINE_DIR` | `$CHITIEU_HOME/quarantine` | where rejected files go, with reports |
| `CHITIEU_DUE_DAYS` | `5` | days after a period's end by which its report is due |
| `CHITIEU_SETTLE_SECONDS` | `2` | a file still changing over this long waits for next run |
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
WAREHOUSE_DB = "chitieu"
AIRFLOW_DB = "airflow"


@dataclass(frozen=True)
class Settings:
    home: Path
    db_url: str | None
    airflow_db_url: str | None
    landing_dir: Path
    quarantine_dir: Path
    due_days: int
    dbt_project_dir: Path
    expectations_dir: Path
    settle_seconds: float = 2.0

    @property
    def pgdata(self) -> Path:
        return self.home / "pg"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    @property
    def airflow_home(self) -> Path:
        return self.home / "airflow"

    @property
    def seeds_dir(self) -> Path:
        return self.dbt_project_dir / "seeds"


def _path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


def load_settings() -> Settings:
    home = _path("CHITIEU_HOME", REPO_ROOT / ".chitieu")
    return Settings(
        home=home,
        db_url=os.environ.get("CHITIEU_DB_URL") or None,
        airflow_db_url=os.environ.get("CHITIEU_AIRFLOW_DB_URL") or None,
        landing_dir=_path("CHITIEU_LANDING_DIR", home / "landing"),
        quarantine_dir=_path("CHITIEU_QUARANTINE_DIR", home / "quarantine"),
        due_days=int(os.environ.get("CHITIEU_DUE_DAYS", "5")),
        dbt_project_dir=_path("CHITIEU_DBT_PROJECT_DIR", REPO_ROOT / "dbt_project"),
        expectations_dir=_path("CHITIEU_EXPECTATIONS_DIR", REPO_ROOT / "expectations"),
        settle_seconds=float(os.environ.get("CHITIEU_SETTLE_SECONDS", "2")),
    )
