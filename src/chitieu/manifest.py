"""The dbt manifest the nightly DAG renders its Cosmos task group from.

Parsing the dbt project takes seconds and needs dbt; parsing a DAG file must take well under
one. So the DAG reads a manifest compiled ahead of time (Cosmos `LoadMode.DBT_MANIFEST`),
written by `chitieu manifest` and by every `chitieu airflow …` command before Airflow starts.
It is kept apart from the artifacts dbt commands write (each rewrites its manifest in
place) and replaced atomically, so a DAG parse never reads a half-written file. This module
imports nothing heavy: the DAG file imports it.
"""

from __future__ import annotations

from pathlib import Path

from chitieu.config import Settings, load_settings

# Relative to the dbt project, so the path is the same in a checkout and in the image.
MANIFEST_RELPATH = Path("target") / "cosmos" / "manifest.json"
# What a change to makes the manifest stale: the graph Cosmos renders comes from these.
_SOURCES = ("models", "seeds", "tests", "macros", "dbt_project.yml")


def manifest_path(settings: Settings | None = None) -> Path:
    settings = settings or load_settings()
    return settings.dbt_project_dir / MANIFEST_RELPATH


def files_under(root: Path) -> list[Path]:
    """`root` itself when it is a file, else the files below it, in a stable order."""
    if root.is_file():
        return [root]
    return sorted(path for path in root.rglob("*") if path.is_file())


def project_sources(project: Path) -> list[Path]:
    """The files the project's graph comes from, in a stable order."""
    return [path for name in _SOURCES for path in files_under(project / name)]


def newest_source(project: Path) -> float:
    """The latest modification time of the files the project's graph comes from."""
    return max((path.stat().st_mtime for path in project_sources(project)), default=0.0)


def manifest_is_current(settings: Settings | None = None) -> bool:
    settings = settings or load_settings()
    path = manifest_path(settings)
    return path.exists() and path.stat().st_mtime >= newest_source(settings.dbt_project_dir)


def write_manifest(settings: Settings | None = None) -> Path:
    """`dbt parse` into a scratch target, then move the manifest into place atomically."""
    import os
    import tempfile

    from chitieu.transform import dbt_env, run_dbt_parse

    settings = settings or load_settings()
    path = manifest_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as scratch:
        # dbt parse reads the profile but never connects: any well-formed URL will do.
        run_dbt_parse(settings, scratch, dbt_env("postgresql://localhost/chitieu"))
        os.replace(Path(scratch) / "manifest.json", path)
    return path


def ensure_manifest(settings: Settings | None = None) -> Path:
    settings = settings or load_settings()
    if manifest_is_current(settings):
        return manifest_path(settings)
    return write_manifest(settings)
