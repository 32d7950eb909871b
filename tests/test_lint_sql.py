"""`make lint-sql` does not depend on what the warehouse holds, and lints both branches of
every incremental model.

Once, it compiled the project against the user's warehouse: after a third build (or a
backfill) left a candidate behind, `is_incremental()` turned true and the lint checked, and
failed on, branches CI never linted. It now lints against an empty database
(`chitieu db env --lint`), in two passes: as a first build compiles the models, then, for
the incremental models, as an incremental build does (`.sqlfluff-incremental`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from chitieu.publish import CANDIDATE
from tests.conftest import Warehouse
from tests.test_backfill import _run_each_night

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]


def lint(wh: Warehouse, dbt_dir: Path) -> subprocess.CompletedProcess[str]:
    """`make lint-sql` on the project at `dbt_dir`, the warehouse being `wh`'s."""
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(REPO), "lint-sql", f"DBT_DIR={dbt_dir}"],
        env={**os.environ, "CHITIEU_HOME": str(wh.settings.home), "CHITIEU_DB_URL": wh.url},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def test_the_sql_lint_passes_after_a_third_build_and_sees_both_branches(
    warehouse_from: Callable[..., Warehouse], tmp_path: Path
) -> None:
    wh = warehouse_from("three_nights", _run_each_night)
    # Three builds: the candidate is an older build with its incremental state, so that
    # compiled against this warehouse, `is_incremental()` would be true.
    assert wh.query(f"select to_regclass('{CANDIDATE}.target_gap') is not null") == [(True,)]

    clean = lint(wh, REPO / "dbt_project")
    assert clean.returncode == 0, clean.stdout[-3000:] + clean.stderr[-3000:]

    # The same project with one line of target_gap's incremental branch mis-indented.
    broken = tmp_path / "dbt_project"
    shutil.copytree(REPO / "dbt_project", broken, ignore=shutil.ignore_patterns("target", "logs"))
    model = broken / "models" / "marts" / "target_gap.sql"
    text = model.read_text(encoding="utf-8")
    branch = text.index("{% if is_incremental() %}")
    line = text.index("\n        new_values.unit_code,", branch)
    model.write_text(text[:line] + "\n     new_values.unit_code," + text[line + 30 :])
    failed = lint(wh, broken)
    assert failed.returncode != 0, failed.stdout[-3000:]
    assert "target_gap.sql" in failed.stdout and "LT02" in failed.stdout, failed.stdout[-3000:]
