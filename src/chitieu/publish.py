"""Publication: the validated candidate marts become `marts` in one transaction.

Three schemas rotate. Publishing renames `marts` → `marts_previous`, `marts_candidate` →
`marts`, and the old `marts_previous` → `marts_candidate`, so a query running during the
swap sees either the old or the new marts, never a missing table; the previous build stays
available for `chitieu publish --rollback`; and the next build starts from an older complete
build that dbt's incremental models bring up to date instead of rebuilding from nothing.
Only `marts` is readable by `bi_reader`.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from chitieu import roles

CANDIDATE = "marts_candidate"
PUBLISHED = "marts"
PREVIOUS = "marts_previous"
BI_ROLE = roles.BI_READER
_SPARE = "marts_rotating"  # only exists inside the publishing transaction


class PublishError(RuntimeError):
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


def drop_candidate(url: str) -> None:
    """Forget the candidate, so the next build is a full one."""
    with psycopg.connect(url) as conn:
        conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(CANDIDATE)))


def publish(url: str) -> None:
    """marts → marts_previous, marts_candidate → marts, old marts_previous → marts_candidate."""
    with psycopg.connect(url) as conn:
        if not _schema_exists(conn, CANDIDATE):
            raise PublishError("nothing to publish: no candidate marts (run `chitieu build`)")
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
