"""A night with nothing new stops after the ingest; anything the marts depend on makes it
build (chitieu/freshness.py, docs/pipeline.md#a-night-with-nothing-new)."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

from chitieu.config import load_settings
from chitieu.freshness import inputs_fingerprint
from chitieu.night import night_status
from chitieu.pipeline import run
from tests.conftest import Warehouse
from tests.landing_files import INTAKE, at, write_submission
from tests.test_demo import mart_checksums


def _quiet(_line: str) -> None:
    pass


def test_the_fingerprint_follows_contents_not_places(tmp_path: Path) -> None:
    settings = load_settings()
    copy = replace(
        settings,
        dbt_project_dir=tmp_path / "dbt_project",
        expectations_dir=tmp_path / "expectations",
    )
    for source, target in (
        (settings.dbt_project_dir, copy.dbt_project_dir),
        (settings.expectations_dir, copy.expectations_dir),
    ):
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("target", "logs"))
    fingerprint = inputs_fingerprint(settings)
    assert inputs_fingerprint(copy) == fingerprint
    # The dbt project's build artifacts are not inputs.
    (copy.dbt_project_dir / "target").mkdir()
    (copy.dbt_project_dir / "target" / "run_results.json").write_text("{}")
    assert inputs_fingerprint(copy) == fingerprint

    changed = []
    for edited in (
        copy.dbt_project_dir / "seeds" / "targets.csv",
        copy.dbt_project_dir / "tests" / "marts" / "assert_fct_rates_match_their_fraction.sql",
        next(copy.expectations_dir.rglob("*.json")),
    ):
        original = edited.read_bytes()
        edited.write_bytes(original + b"\n")
        changed.append(inputs_fingerprint(copy))
        edited.write_bytes(original)
    assert inputs_fingerprint(replace(copy, due_days=copy.due_days + 1)) != fingerprint
    assert fingerprint not in changed and len(set(changed)) == len(changed)


def _published_build(wh: Warehouse) -> str:
    return str(wh.query("select build_id from marts.build_info")[0][0])


def test_a_night_with_nothing_new_stops_after_the_ingest(published: Warehouse) -> None:
    wh = published
    build, marts = _published_build(wh), mart_checksums(wh)

    # Nothing new: no build, and the morning is told so without alarm.
    quiet = run(wh.landing, wh.settings, progress=_quiet)
    assert quiet.build.unchanged and "nothing new" in quiet.build.unchanged
    assert (_published_build(wh), mart_checksums(wh)) == (build, marts)
    night = night_status(wh.url, wh.settings)
    assert night is not None and night.run_id == quiet.build.run_id
    assert night.unchanged == quiet.build.unchanged
    assert not night.needs_attention, night.attention
    assert (night.gates, night.published) == ([], False)  # not the gates of the run before
    assert "staging" not in {step.step for step in night.steps}

    # A rejected file changes no mart: still nothing to build (but the night needs attention).
    write_submission(wh.landing, "40/CA/CA_40_loi.csv", ["40,CA,2024-12,KHONG_CO,1,2,,"],
                     at("2024-12-20"))  # fmt: skip
    rejected = run(wh.landing, wh.settings, progress=_quiet)
    assert rejected.ingest.counts["rejected"] == 1 and rejected.build.unchanged
    assert _published_build(wh) == build

    # Each of these builds and publishes: a published build past the full-check age, other
    # vars (so another fingerprint), a full refresh, and a new accepted file.
    for settings, full_refresh in (
        (replace(wh.settings, full_check_days=0), False),
        (replace(wh.settings, due_days=wh.settings.due_days + 1), False),
        (wh.settings, True),
    ):
        built = run(wh.landing, settings, progress=_quiet, full_refresh=full_refresh)
        assert built.build.unchanged is None
        assert _published_build(wh) == built.build.run_id != build
        build = built.build.run_id
    write_submission(wh.landing, "40/CA/CA_40_2024-12.csv", [f"40,CA,2024-12,{INTAKE},700,1000,,"],
                     at("2025-01-03"))  # fmt: skip
    new_file = run(wh.landing, wh.settings, progress=_quiet)
    assert new_file.build.unchanged is None
    assert wh.query("select value from marts.fct_indicator_value where period = '2024-12'") == [
        (70,)
    ]
    assert run(wh.landing, wh.settings, progress=_quiet).build.unchanged
