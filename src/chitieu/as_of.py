"""The marts as of a past day: what the warehouse would have published from the files
submitted by then, for a brief "as it would have been written on that date".

The whole dbt project (staging, intermediate, marts) is built once more, from scratch, into
a schema of its own, with staging restricted to the submissions submitted before the end of
that day in Vietnam (macros/as_of.sql); every rule is the models' own, so the brief reads
the same marts it always reads, from that schema. Reference data (the catalog, the units,
the targets) is today's: it has no history. The schema is dropped afterwards.
`marts.fct_indicator_value_history` answers the same question for one value, with a filter.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import psycopg
from psycopg import sql

from chitieu.config import Settings
from chitieu.pipeline import Progress, marts_dbt_context
from chitieu.transform import dbt_target_dir, run_dbt
from chitieu.vn_time import end_of_day

# `chitieu report --as-of` drops its schema when done; one named so that outlived its
# process (killed mid-build) holds nothing the warehouse needs and may be dropped.
SCHEMA_PREFIX = "as_of_"


@contextmanager
def marts_as_of(
    settings: Settings, url: str, day: date, progress: Progress = print
) -> Iterator[str]:
    """Build the marts as of `day` and yield the schema holding them; drop it on exit."""
    schema = f"{SCHEMA_PREFIX}{day:%Y%m%d}_{uuid.uuid4().hex[:8]}"
    target = dbt_target_dir(settings).with_name(schema)  # apart from the nightly build's
    dbt = marts_dbt_context(settings, url)
    dbt_vars = {
        **dbt.vars,
        "marts_schema": schema,
        "as_of_schema": schema,
        # "as of 11/10/2024": every file submitted on or before that day
        "known_before": end_of_day(day).isoformat(),
    }
    progress(f"as of {day:%d/%m/%Y}: rebuilding the marts from the files submitted by then")
    try:
        run_dbt(
            settings,
            url,
            [
                "run",
                "--select",
                "staging",
                "intermediate",
                "marts",
                "--full-refresh",
                "--target-path",
                str(target),
            ],
            dbt_vars,
            dbt.role,
        )
        yield schema
    finally:
        _drop(url, schema)
        shutil.rmtree(target, ignore_errors=True)


def _drop(url: str, schema: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema)))
