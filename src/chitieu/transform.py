"""dbt, run in-process against the warehouse (the same project Cosmos renders in Airflow)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from psycopg.conninfo import conninfo_to_dict

from chitieu.config import Settings
from chitieu.exceptions import DataError


class TransformError(DataError):
    """dbt failed: a model did not build or a dbt test did not pass."""


def dbt_env(url: str, role: str = "") -> dict[str, str]:
    """The environment the project's profiles.yml reads its connection from (and, with
    `role`, the role dbt switches to): `chitieu` and the Airflow tasks Cosmos runs both
    invoke dbt with exactly this."""
    info = conninfo_to_dict(url)
    return {
        "CHITIEU_PGHOST": str(info.get("host") or "localhost"),
        "CHITIEU_PGPORT": str(info.get("port") or "5432"),
        "CHITIEU_PGUSER": str(info.get("user") or "postgres"),
        "CHITIEU_PGPASSWORD": str(info.get("password") or ""),
        "CHITIEU_PGDATABASE": str(info.get("dbname") or "postgres"),
        "CHITIEU_PGROLE": role,
        # Plain text: the output lands in Airflow task logs and in error messages.
        "DBT_USE_COLORS": "false",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def dbt_target_dir(settings: Settings) -> Path:
    """dbt's target folder (compiled SQL, artifacts, docs, partial parse), under
    CHITIEU_HOME: warehouses (and test databases) never share or overwrite each other's."""
    return settings.home / "dbt" / "target"


def dbt_args(settings: Settings, args: Sequence[str], dbt_vars: dict[str, object]) -> list[str]:
    project = str(settings.dbt_project_dir)
    if "--target-path" not in args:
        args = [*args, "--target-path", str(dbt_target_dir(settings))]
    return [
        *args,
        "--project-dir",
        project,
        "--profiles-dir",
        project,
        "--log-path",
        str(settings.home / "logs" / "dbt"),
        "--vars",
        json.dumps(dbt_vars),
    ]


_CONNECTION_TROUBLE = (
    "could not connect",
    "connection refused",
    "server closed the connection",
    "terminating connection",
    "the database system is",
    "failedtoconnect",
    # libpq, when the server vanished between two statements (socket gone, or no answer)
    "is the server running",
    "connection already closed",
    "no connection to the server",
    "consuming input failed",
)


def _lost_connection(detail: str) -> bool:
    lowered = detail.lower()
    return any(sign in lowered for sign in _CONNECTION_TROUBLE)


def run_dbt(
    settings: Settings,
    url: str,
    args: Sequence[str],
    dbt_vars: dict[str, object] | None = None,
    role: str = "",
) -> Any:
    """Invoke dbt (as `role` when given) and return its dbtRunnerResult; raises
    `TransformError` naming what failed."""
    from dbt.cli.main import dbtRunner

    env = dbt_env(url, role)
    os.environ.update(env)
    dbt_vars = dbt_vars or {}
    manifest = _parsed_manifest(settings, env, dbt_vars) if args[0] in _USE_MANIFEST else None
    result = dbtRunner(manifest=manifest).invoke(dbt_args(settings, args, dbt_vars))
    if not result.success:
        raise_for_failure(result, args[:1])
    return result


# Commands that take a parsed project; `docs` reads dbt's own artifacts and parses itself.
_USE_MANIFEST = frozenset({"build", "run", "test", "seed", "run-operation", "compile"})
_manifests: dict[str, Any] = {}


def _parsed_manifest(settings: Settings, env: dict[str, str], dbt_vars: dict[str, object]) -> Any:
    """The project parsed once per connection, vars and project files, for this process.

    A nightly run invokes dbt four times (staging, the incremental state's two
    run-operations, the marts) and each invocation would parse the whole project again:
    dbt's partial parsing starts over whenever the connection differs from the last
    parse's, so every database (each test's, each warehouse) paid the full parse. dbt takes
    a parsed manifest to skip it (`dbtRunner(manifest=...)`). The key holds what parsing
    reads: the connection (nodes carry their database), the vars (schemas come from them)
    and the project's files (a changed seed or model must be parsed again)."""
    from chitieu.manifest import newest_source

    key = json.dumps(
        [env, dbt_vars, str(settings.dbt_project_dir), newest_source(settings.dbt_project_dir)],
        sort_keys=True,
        default=str,
    )
    manifest = _manifests.get(key)
    if manifest is None:
        from dbt.cli.main import dbtRunner

        result = dbtRunner().invoke(dbt_args(settings, ["parse"], dbt_vars))
        if not result.success:
            raise_for_failure(result, ["parse"])
        manifest = result.result
        _manifests.clear()  # one project at a time: a manifest is megabytes
        _foreign_key_targets.clear()
        _manifests[key] = manifest
        _foreign_key_targets[key] = _constraint_targets(manifest)
    _restore_constraint_targets(manifest, _foreign_key_targets[key])
    return manifest


_foreign_key_targets: dict[str, dict[tuple[str, int], str]] = {}


def _constraint_targets(manifest: Any) -> dict[tuple[str, int], str]:
    """The `to` of every model-level constraint (`ref('dim_unit')`), as parsed."""
    return {
        (unique_id, index): constraint.to
        for unique_id, node in manifest.nodes.items()
        for index, constraint in enumerate(getattr(node, "constraints", None) or [])
        if getattr(constraint, "to", None)
    }


def _restore_constraint_targets(manifest: Any, targets: dict[tuple[str, int], str]) -> None:
    """dbt's compilation renders a foreign key's `to` in place (`ref('dim_unit')` becomes
    the relation's name) and refuses that rendered form when the same manifest is compiled
    again: put the parsed form back before each invocation that reuses the manifest."""
    for (unique_id, index), target in targets.items():
        manifest.nodes[unique_id].constraints[index].to = target


def raise_for_failure(result: Any, what: Sequence[str]) -> None:
    """Turn a failed dbtRunnerResult into the error the orchestrator acts on: a lost
    connection is retried, anything else (a model or test that failed) is a data error."""
    failures: list[str] = []
    for node_result in getattr(result.result, "results", None) or []:
        status = str(getattr(node_result, "status", ""))
        if status.lower() in {"error", "fail"}:
            node = getattr(node_result, "node", None)
            name = getattr(node, "unique_id", "?")
            failures.append(f"{name}: {status} {getattr(node_result, 'message', '') or ''}".strip())
    detail = "; ".join(failures) or str(result.exception or "see the dbt log")
    if _lost_connection(detail):
        # Infrastructure, not data: let the orchestrator retry it.
        raise ConnectionError(f"dbt {' '.join(what)} lost the database: {detail}")
    raise TransformError(f"dbt {' '.join(what)} failed: {detail}")


def run_dbt_parse(settings: Settings, target_path: str, env: dict[str, str]) -> None:
    """`dbt parse` writing its manifest into `target_path` (no database needed)."""
    from dbt.cli.main import dbtRunner

    os.environ.update(env)
    args = ["parse", "--target-path", target_path, "--no-partial-parse"]
    result = dbtRunner().invoke(dbt_args(settings, args, {}))
    if not result.success:
        raise_for_failure(result, ["parse"])
