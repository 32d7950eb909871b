"""Whether a night has anything to build.

The marts depend on the accepted submissions and on everything else the build reads: the
dbt project (models, macros, seeds, tests), the Great Expectations suites and the vars the
models read. `inputs_fingerprint` is the md5 of that everything-else; the incremental state a
build commits (macros/incremental_state.sql) records it beside the newest submission the
build saw, and the state travels with the schema when publication renames it. So when the
published schema's state has today's fingerprint and no file was accepted after its
submission, a build would rebuild, test, gate and publish the same marts: the night says so
and stops instead.

What such a night skips is the checking too: the dbt tests and the gates. A change the
ledger does not show (a row edited by hand under an old submission) is caught at the latest
by the first night after the published build turns `CHITIEU_FULL_CHECK_DAYS` old (7 by
default), which builds, tests and gates everything whatever arrived.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg

from chitieu.config import Settings
from chitieu.manifest import files_under, project_sources
from chitieu.publish import PUBLISHED, build_info

# What commit_incremental_build writes after the state's prefix.
_STATE = re.compile(r"fingerprint=([0-9a-f]{32}) through_submission_id=([0-9]+)")


def inputs_fingerprint(settings: Settings) -> str:
    """md5 of the marts' inputs besides the submissions (file contents, not times: a fresh
    checkout of the same commit has the same fingerprint)."""
    digest = hashlib.md5(usedforsecurity=False)
    roots = (settings.dbt_project_dir, settings.expectations_dir)
    sources = project_sources(settings.dbt_project_dir) + files_under(settings.expectations_dir)
    for path in sources:
        root = next(r for r in roots if path.is_relative_to(r))
        digest.update(f"{root.name}/{path.relative_to(root).as_posix()}\0".encode())
        digest.update(path.read_bytes())
        digest.update(b"\0")
    digest.update(json.dumps({"due_days": settings.due_days}, sort_keys=True).encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class BuildState:
    """What a schema's marts were built from."""

    fingerprint: str
    through_submission_id: int


def build_state(conn: psycopg.Connection, schema: str = PUBLISHED) -> BuildState | None:
    """The committed incremental state of `schema`, None when it has none."""
    row = conn.execute(
        "select obj_description(oid, 'pg_namespace') from pg_namespace where nspname = %s",
        (schema,),
    ).fetchone()
    found = _STATE.search(row[0] or "") if row else None
    return BuildState(found[1], int(found[2])) if found else None


def _accepted_after(conn: psycopg.Connection, submission_id: int) -> bool:
    row = conn.execute(
        "select exists (select 1 from raw.submission_file"
        " where outcome = 'accepted' and submission_id > %s)",
        (submission_id,),
    ).fetchone()
    return bool(row and row[0])


def nothing_new(settings: Settings, url: str) -> str | None:
    """Why the published marts are already what a build would give (a sentence for the
    log), or None when a build is needed."""
    with psycopg.connect(url) as conn:
        state = build_state(conn)
        if state is None or state.fingerprint != inputs_fingerprint(settings):
            return None
        if _accepted_after(conn, state.through_submission_id):
            return None
        published = build_info(conn)
        if published is None:
            return None
        age = datetime.now(UTC) - published.built_at
        if age >= timedelta(days=settings.full_check_days):
            return None
    return (
        f"nothing new since the published build: no file accepted after submission "
        f"{state.through_submission_id}, and the models, seeds, tests and expectations are "
        f"unchanged; the marts stay as they are"
    )
