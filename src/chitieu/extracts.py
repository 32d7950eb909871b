"""CSV extracts of the published marts, for consumers that cannot query PostgreSQL
(a spreadsheet on a shared drive, a ministry's upload form). Written by the
`chitieu_bi_extract` DAG whenever the nightly run publishes new marts."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
from psycopg import sql

from chitieu.publish import PUBLISHED


def write_extract(url: str, table: str, out_dir: Path) -> Path:
    """`marts.<table>` as CSV (UTF-8 with BOM, so Excel shows Vietnamese correctly).

    Written to a temporary name and renamed, so a reader never sees half a file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{table}.csv"
    partial = out_dir / f".{table}.csv.partial"
    with psycopg.connect(url) as conn, partial.open("wb") as out:
        query = sql.SQL("copy (select * from {} order by {}) to stdout with csv header").format(
            sql.Identifier(PUBLISHED, table), sql.SQL(", ").join(_key_columns(conn, table))
        )
        out.write("\ufeff".encode())
        with conn.cursor().copy(query) as copy:
            for chunk in copy:
                out.write(chunk)
    os.replace(partial, target)
    return target


def _key_columns(conn: psycopg.Connection, table: str) -> list[sql.Composable]:
    """The columns of the mart's primary key, in order (the first column without one)."""
    rows = conn.execute(
        "select a.attname from pg_index as i"
        " cross join lateral unnest(i.indkey) with ordinality as k (attnum, position)"
        " inner join pg_attribute as a on a.attrelid = i.indrelid and a.attnum = k.attnum"
        " where i.indrelid = %s::regclass and i.indisprimary order by k.position",
        (f"{PUBLISHED}.{table}",),
    ).fetchall()
    return [sql.Identifier(name) for (name,) in rows] or [sql.SQL("1")]
