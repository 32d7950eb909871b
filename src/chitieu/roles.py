"""Database roles: who may do what in the warehouse.

- `chitieu_loader`: writes the ledger and loaded rows (`raw`) and the ingest audit
  (`audit`); nothing else.
- `chitieu_transformer`: reads `raw`/`audit`; owns and writes the dbt schemas (reference,
  staging, intermediate and the three marts schemas).
- `bi_reader`: reads `marts`, nothing else (granted at publish time).

The roles are NOLOGIN groups: the pipeline's connection switches to them with SET ROLE for
each step, so a bug in one step cannot touch another's data, and a DBA grants them to real
login roles (`grant bi_reader to metabase`). Creating them needs CREATEROLE (the embedded
server's user has it); where the connecting user lacks it, a DBA creates the three roles
and grants them to that user, or the pipeline runs as that user without switching.
"""

from __future__ import annotations

import logging

import psycopg
from psycopg import errors as pg_errors
from psycopg import sql

log = logging.getLogger(__name__)

LOADER = "chitieu_loader"
TRANSFORMER = "chitieu_transformer"
BI_READER = "bi_reader"

LOADED_SCHEMAS = ("raw", "audit")
# Schemas dbt builds (and publish rotates); the transformer owns them and what is in them.
DBT_SCHEMAS = (
    "reference",
    "staging",
    "intermediate",
    "marts_candidate",
    "marts",
    "marts_previous",
)


def _ident(name: str) -> sql.Identifier:
    return sql.Identifier(name)


def _role_exists(conn: psycopg.Connection, role: str) -> bool:
    row = conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone()
    return row is not None


def can_manage_roles(conn: psycopg.Connection) -> bool:
    row = conn.execute(
        "select rolsuper or rolcreaterole from pg_roles where rolname = current_user"
    ).fetchone()
    return bool(row and row[0])


def can_switch_to(conn: psycopg.Connection, role: str) -> bool:
    row = conn.execute(
        "select exists (select 1 from pg_roles where rolname = %s)"
        " and pg_has_role(current_user, %s, 'member')",
        (role, role),
    ).fetchone()
    return bool(row and row[0])


def _grant_loader(conn: psycopg.Connection) -> None:
    loader = _ident(LOADER)
    for schema in LOADED_SCHEMAS:
        conn.execute(sql.SQL("grant usage on schema {} to {}").format(_ident(schema), loader))
        conn.execute(
            sql.SQL("grant select, insert, update, delete on all tables in schema {} to {}").format(
                _ident(schema), loader
            )
        )
        conn.execute(
            sql.SQL("grant usage on all sequences in schema {} to {}").format(
                _ident(schema), loader
            )
        )


def _grant_transformer(conn: psycopg.Connection) -> None:
    transformer = _ident(TRANSFORMER)
    database = conn.execute("select current_database()").fetchone()[0]  # type: ignore[index]
    conn.execute(
        sql.SQL("grant create, connect on database {} to {}").format(_ident(database), transformer)
    )
    for schema in LOADED_SCHEMAS:
        conn.execute(sql.SQL("grant usage on schema {} to {}").format(_ident(schema), transformer))
        conn.execute(
            sql.SQL("grant select on all tables in schema {} to {}").format(
                _ident(schema), transformer
            )
        )


def _own_dbt_schemas(conn: psycopg.Connection) -> None:
    """Hand dbt's schemas and their relations to the transformer (objects built before the
    roles existed belong to whoever built them, and dbt must be able to replace them)."""
    owned = conn.execute(
        "select n.nspname, c.relname, c.relkind from pg_class c"
        " join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = any(%s) and c.relkind in ('r', 'v', 'm', 'p')"
        " and pg_get_userbyid(c.relowner) <> %s",
        (list(DBT_SCHEMAS), TRANSFORMER),
    ).fetchall()
    schemas = conn.execute(
        "select nspname from pg_namespace where nspname = any(%s)"
        " and pg_get_userbyid(nspowner) <> %s",
        (list(DBT_SCHEMAS), TRANSFORMER),
    ).fetchall()
    for (schema,) in schemas:
        conn.execute(
            sql.SQL("alter schema {} owner to {}").format(_ident(schema), _ident(TRANSFORMER))
        )
    kinds = {"r": "table", "p": "table", "v": "view", "m": "materialized view"}
    for schema, name, kind in owned:
        conn.execute(
            sql.SQL("alter {} {} owner to {}").format(
                sql.SQL(kinds[kind]), sql.Identifier(schema, name), _ident(TRANSFORMER)
            )
        )


def _create_role(conn: psycopg.Connection, role: str) -> None:
    """Roles belong to the server, advisory locks to one database: a warehouse in another
    database of the same server may create the role first, which is as good."""
    try:
        with conn.transaction():
            conn.execute(sql.SQL("create role {} nologin").format(_ident(role)))
    except (pg_errors.DuplicateObject, pg_errors.UniqueViolation):
        pass


def ensure_roles(url: str) -> bool:
    """Create the roles and their grants (idempotent). False when this user cannot."""
    with psycopg.connect(url) as conn:
        if not can_manage_roles(conn):
            missing = [r for r in (LOADER, TRANSFORMER, BI_READER) if not _role_exists(conn, r)]
            if missing:
                log.warning(
                    "the database user cannot create roles; missing: %s (ask a DBA)", missing
                )
            return False
        # Serialise with concurrent ingest workers doing the same.
        conn.execute("select pg_advisory_xact_lock(6007)")
        for role in (LOADER, TRANSFORMER, BI_READER):
            if not _role_exists(conn, role):
                _create_role(conn, role)
        for role in (LOADER, TRANSFORMER):
            if not can_switch_to(conn, role):
                # PostgreSQL 16+ does not make a CREATEROLE user a member of what it creates.
                conn.execute(sql.SQL("grant {} to current_user").format(_ident(role)))
        _grant_loader(conn)
        _grant_transformer(conn)
        _own_dbt_schemas(conn)
    return True


def set_role(conn: psycopg.Connection, role: str) -> None:
    """Act as `role` on this connection when allowed (see the module docstring)."""
    if can_switch_to(conn, role):
        conn.execute(sql.SQL("set role {}").format(_ident(role)))


def usable(url: str, role: str) -> str:
    """`role` if this connection's user may act as it, else "" (run as the user itself)."""
    with psycopg.connect(url) as conn:
        return role if can_switch_to(conn, role) else ""
