"""Publication: the validated candidate marts become `marts` in one transaction.

Three schemas rotate. Publishing renames `marts` → `marts_previous`, `marts_candidate` →
`marts`, and the old `marts_previous` → `marts_candidate`, so a query running during the
swap sees either the old or the new marts, never a missing table; the previous build stays
available for `chitieu publish --rollback`; and the next build starts from an older complete
build that dbt's incremental models bring up to date instead of rebuilding from nothing.
Only `marts` is readable by `bi_reader`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg import sql

from chitieu import roles
from chitieu.exceptions import DataError

CANDIDATE = "marts_candidate"
PUBLISHED = "marts"
PREVIOUS = "marts_previous"
BI_ROLE = roles.BI_READER
_SPARE = "marts_rotating"  # only exists inside the publishing transaction
# A small table in each marts schema says which build it holds and when the gates passed
# it: publish refuses a candidate that was not validated, and a retried publish of a build
# already published does nothing (a second rotation would publish an older build).
BUILD_INFO = "build_info"
_PUBLISH_LOCK = 6_008
# docs/marts-contract.md, `marts.build_info`; BI tools show these as descriptions.
_BUILD_INFO_COMMENTS: dict[str | None, str] = {
    None: "The build these marts hold (one row): when it was built and when it passed the "
    "quality gates.",
    "build_id": "Identifier of the build (the run that built it).",
    "built_at": "When the build's models were built.",
    "validated_at": "When the build passed the quality gates (NULL: not yet validated; only a "
    "validated build is published).",
}


class PublishError(DataError):
    pass


def _schema_exists(conn: psycopg.Connection, name: str) -> bool:
    found = conn.execute("select 1 from pg_namespace where nspname = %s", (name,)).fetchone()
    return found is not None


def ensure_bi_role(conn: psycopg.Connection) -> None:
    exists = conn.execute("select 1 from pg_roles where rolname = %s", (BI_ROLE,)).fetchone()
    if not exists:
        conn.execute(sql.SQL("create role {} nologin").format(sql.Identifier(BI_ROLE)))


def _grant_bi(conn: psycopg.Connection, schema: str) -> None:
    ident = sql.Identifier(schema)
    role = sql.Identifier(BI_ROLE)
    conn.execute(sql.SQL("grant usage on schema {} to {}").format(ident, role))
    conn.execute(sql.SQL("grant select on all tables in schema {} to {}").format(ident, role))


def _revoke_bi(conn: psycopg.Connection, schema: str) -> None:
    conn.execute(
        sql.SQL("revoke usage on schema {} from {}").format(
            sql.Identifier(schema), sql.Identifier(BI_ROLE)
        )
    )


def _rename(conn: psycopg.Connection, old: str, new: str) -> None:
    conn.execute(
        sql.SQL("alter schema {} rename to {}").format(sql.Identifier(old), sql.Identifier(new))
    )


def stamp_build(url: str, build_id: str) -> None:
    """Record that the candidate now holds build `build_id`, not yet validated."""
    table = sql.Identifier(CANDIDATE, BUILD_INFO)
    with psycopg.connect(url) as conn:
        conn.execute(sql.SQL("drop table if exists {}").format(table))
        conn.execute(
            sql.SQL(
                "create table {} (build_id text not null, built_at timestamptz not null"
                " default now(), validated_at timestamptz)"
            ).format(table)
        )
        for column, comment in _BUILD_INFO_COMMENTS.items():
            target = (
                sql.SQL("table {}").format(table)
                if column is None
                else (sql.SQL("column {}").format(sql.Identifier(CANDIDATE, BUILD_INFO, column)))
            )
            conn.execute(sql.SQL("comment on {} is {}").format(target, sql.Literal(comment)))
        conn.execute(sql.SQL("insert into {} (build_id) values (%s)").format(table), (build_id,))


def mark_validated(url: str, build_id: str) -> None:
    """Record that build `build_id` in the candidate passed the gates."""
    with psycopg.connect(url) as conn:
        updated = conn.execute(
            sql.SQL("update {} set validated_at = now() where build_id = %s").format(
                sql.Identifier(CANDIDATE, BUILD_INFO)
            ),
            (build_id,),
        ).rowcount
    if updated != 1:
        raise PublishError(f"the candidate marts do not hold build {build_id}")


@dataclass(frozen=True)
class BuildInfo:
    """A marts schema's `build_info` row."""

    build_id: str
    built_at: datetime
    validated_at: datetime | None


def build_info(conn: psycopg.Connection, schema: str = PUBLISHED) -> BuildInfo | None:
    """The build `schema` holds; None when it holds none."""
    exists = conn.execute("select to_regclass(%s)", (f"{schema}.{BUILD_INFO}",)).fetchone()
    if not exists or exists[0] is None:
        return None
    row = conn.execute(
        sql.SQL("select build_id, built_at, validated_at from {}").format(
            sql.Identifier(schema, BUILD_INFO)
        )
    ).fetchone()
    return BuildInfo(*row) if row else None


def drop_candidate(url: str) -> None:
    """Forget the candidate, so the next build is a full one."""
    with psycopg.connect(url) as conn:
        conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(CANDIDATE)))


def publish(url: str, build_id: str | None = None) -> bool:
    """marts → marts_previous, marts_candidate → marts, old marts_previous → marts_candidate.

    Only a candidate that passed the gates is published (and, with `build_id`, only that
    build). Returns False when that build is already the published one (a retried task)."""
    with psycopg.connect(url) as conn:
        conn.execute("select pg_advisory_xact_lock(%s)", (_PUBLISH_LOCK,))
        published = build_info(conn, PUBLISHED)
        if build_id and published and published.build_id == build_id:
            return False
        if not _schema_exists(conn, CANDIDATE):
            raise PublishError("nothing to publish: no candidate marts (run `chitieu build`)")
        candidate = build_info(conn, CANDIDATE)
        if candidate is None or candidate.validated_at is None:
            raise PublishError(
                "the candidate marts have not passed the quality gates: not publishing them "
                "(run `chitieu build`)"
            )
        if build_id and candidate.build_id != build_id:
            raise PublishError(
                f"the candidate marts hold build {candidate.build_id}, not {build_id}"
            )
        ensure_bi_role(conn)
        _grant_bi(conn, CANDIDATE)
        had_previous = _schema_exists(conn, PREVIOUS)
        if had_previous:
            _rename(conn, PREVIOUS, _SPARE)
        if _schema_exists(conn, PUBLISHED):
            _revoke_bi(conn, PUBLISHED)
            _rename(conn, PUBLISHED, PREVIOUS)
        _rename(conn, CANDIDATE, PUBLISHED)
        if had_previous:
            _rename(conn, _SPARE, CANDIDATE)
    return True


def rollback(url: str) -> None:
    """Restore the previous build: marts ↔ marts_previous."""
    with psycopg.connect(url) as conn:
        if not _schema_exists(conn, PREVIOUS):
            raise PublishError("no previous build to roll back to (marts_previous is missing)")
        ensure_bi_role(conn)
        _grant_bi(conn, PREVIOUS)
        _revoke_bi(conn, PUBLISHED)
        _rename(conn, PUBLISHED, _SPARE)
        _rename(conn, PREVIOUS, PUBLISHED)
        _rename(conn, _SPARE, PREVIOUS)
