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
    query = sql.SQL("copy (select * from {} order by 1, 2, 3, 4) to stdout with csv header").format(
        sql.Identifier(PUBLISHED, table)
    )
    with psycopg.connect(url) as conn, partial.open("wb") as out:
        out.write("\ufeff".encode())
        with conn.cursor().copy(query) as copy:
            for chunk in copy:
                out.write(chunk)
    os.replace(partial, target)
    return target
