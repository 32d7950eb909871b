"""What a night did, from the run journal, the ledger and the audit tables: the data behind
`chitieu status`, the night report page and the notices to departments.

A night is one run of the pipeline (`chitieu run`, or a run of the nightly DAG): its steps
in `audit.run_step`; the files the ledger first saw while it ran; the gates' outcomes
(`audit.validation_result`) and the alerts (`audit.alert`) of that time; the build it
published, compared with the build published before it (`marts_previous`).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any

import psycopg
import yaml
from psycopg import sql

from chitieu.config import Settings
from chitieu.ingest.load import report_of
from chitieu.publish import PREVIOUS, PUBLISHED, build_info
from chitieu.vn_time import VN_TZ

UNASSIGNED = "?"
# Rows of a night's runs found by time: the ledger's and the audit tables' own clocks.
_SLACK = timedelta(seconds=1)


@dataclass
class FileLine:
    submission_id: int
    path: str
    outcome: str
    rows: int
    errors: int
    reporters: list[str]  # 'province/unit'
    report: str | None = None


@dataclass
class GateLine:
    run_id: str
    suite: str
    asset: str
    success: bool
    failed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class StepLine:
    step: str
    started_at: datetime
    seconds: float
    outcome: str
    error: str | None = None


@dataclass
class MartLine:
    mart: str
    rows: int
    added: int | None = None
    changed: int | None = None
    removed: int | None = None


@dataclass
class Night:
    run_id: str
    started_at: datetime
    finished_at: datetime
    steps: list[StepLine] = field(default_factory=list)
    files: list[FileLine] = field(default_factory=list)
    left_out: dict[str, list[str]] = field(default_factory=dict)
    gates: list[GateLine] = field(default_factory=list)
    build_id: str | None = None
    published_at: datetime | None = None
    marts: list[MartLine] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    unchanged: str | None = None  # the night had nothing to build: why

    @property
    def date(self) -> date:
        return self.started_at.astimezone(VN_TZ).date()

    @property
    def failed(self) -> bool:
        return any(step.outcome == "failed" for step in self.steps)

    @property
    def published(self) -> bool:
        return self.build_id is not None

    def count(self, outcome: str) -> int:
        return sum(1 for f in self.files if f.outcome == outcome)

    @property
    def attention(self) -> list[str]:
        """Why the night needs attention: a step failed, a file was rejected, a gate failed
        or warned, an alert was raised, or nothing was published. Empty: all well."""
        reasons = [f"step {s.step} failed" for s in self.steps if s.outcome == "failed"]
        if self.count("rejected"):
            reasons.append(f"{self.count('rejected')} file(s) rejected")
        reasons += [f"gate {g.suite} failed" for g in self.gates if not g.success]
        reasons += [f"gate {g.suite} warned" for g in self.gates if g.warnings]
        reasons += [f"{len(self.alerts)} alert(s)"] if self.alerts else []
        if not self.published and not self.unchanged:
            reasons.append("nothing published")
        return reasons

    @property
    def needs_attention(self) -> bool:
        return bool(self.attention)

    def by_reporter(self) -> dict[str, list[FileLine]]:
        """The night's files by 'province/unit' (a file of several units under each)."""
        found: dict[str, list[FileLine]] = {}
        for line in self.files:
            for reporter in line.reporters or [UNASSIGNED]:
                found.setdefault(reporter, []).append(line)
        return dict(sorted(found.items()))

    def lines(self) -> list[str]:
        """The night for a terminal."""
        local = self.started_at.astimezone(VN_TZ)
        verdict = f"needs attention ({'; '.join(self.attention)})" if self.attention else "all well"
        out = [f"night of {self.date} (run {self.run_id}, started {local:%H:%M:%S}): {verdict}"]
        counts = ", ".join(
            f"{self.count(o)} {o}" for o in ("accepted", "rejected", "duplicate") if self.count(o)
        )
        out.append(f"files: {len(self.files)} seen ({counts or 'none new'})")
        for reason, paths in self.left_out.items():
            out.append(f"  {len(paths)} {reason}: {', '.join(paths[:5])}")
        out.append(f"rows loaded: {sum(f.rows for f in self.files if f.outcome == 'accepted')}")
        units = self.by_reporter()
        troubled = {r: files for r, files in units.items() if self._rejected(files)}
        out.append(
            f"units (province/unit): {len(units)} sent files, {len(troubled)} with rejected ones"
            + (" (--json lists them all)" if units else "")
        )
        for reporter, files in troubled.items():
            rejected = self._rejected(files)
            out.append(f"  {reporter}: {len(files)} file(s), {len(rejected)} rejected")
            out += [f"    {f.path} ({f.errors} error(s)): {f.report}" for f in rejected]
        for gate in self.gates:
            state = "passed" if gate.success else "FAILED"
            out.append(f"gate {gate.suite} on {gate.asset}: {state}")
            out += [f"  failed: {text}" for text in gate.failed]
            out += [f"  warning: {text}" for text in gate.warnings]
        if self.published:
            when = self.published_at.astimezone(VN_TZ) if self.published_at else None
            out.append(f"published build {self.build_id} at {when:%Y-%m-%d %H:%M:%S}")
            for mart in self.marts:
                diff = (
                    ""
                    if mart.added is None
                    else f" (+{mart.added} / ~{mart.changed} / -{mart.removed})"
                )
                out.append(f"  {mart.mart}: {mart.rows} rows{diff}")
        elif self.unchanged:
            out.append(f"published: nothing to publish, {self.unchanged}")
        else:
            out.append("published: nothing (the published marts are an earlier build)")
        out += [f"alert: {alert}" for alert in self.alerts]
        for step in self.steps:
            failed = f" FAILED: {step.error}" if step.outcome == "failed" else ""
            out.append(f"step {step.step}: {step.seconds:.1f} s{failed}")
        return out

    @staticmethod
    def _rejected(files: list[FileLine]) -> list[FileLine]:
        return [f for f in files if f.outcome == "rejected"]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["date"] = self.date.isoformat()
        data["needs_attention"] = self.needs_attention
        data["attention"] = self.attention
        return data


# --- what a night is ----------------------------------------------------------------------


def _run_window(
    conn: psycopg.Connection, night: date | None, run_id: str | None = None
) -> tuple[str, datetime, datetime] | None:
    """The run id and time window of run `run_id`, or of the last run (of `night`, a local
    date)."""
    where, params = "", ()
    if run_id is not None:
        where, params = "having run_id = %s", (run_id,)
    elif night is not None:
        start = datetime.combine(night, datetime.min.time(), VN_TZ)
        where, params = (
            "having min(started_at) >= %s and min(started_at) < %s",
            (
                start,
                start + timedelta(days=1),
            ),
        )
    row = conn.execute(
        "select run_id, min(started_at), max(finished_at) from audit.run_step"  # noqa: S608
        f" group by run_id {where} order by min(started_at) desc limit 1",
        params,
    ).fetchone()
    return None if row is None else (row[0], row[1], row[2])


def _steps(conn: psycopg.Connection, run_id: str) -> list[StepLine]:
    return [
        StepLine(step, started, (finished - started).total_seconds(), outcome, error)
        for step, started, finished, outcome, error in conn.execute(
            "select step, started_at, finished_at, outcome, detail ->> 'error'"
            " from audit.run_step where run_id = %s order by started_at",
            (run_id,),
        )
    ]


def _left_out(conn: psycopg.Connection, run_id: str) -> dict[str, list[str]]:
    row = conn.execute(
        "select detail from audit.run_step where run_id = %s and step in ('ingest', 'discover')"
        " order by started_at desc limit 1",
        (run_id,),
    ).fetchone()
    detail = row[0] if row and isinstance(row[0], dict) else {}
    return {key: list(value) for key, value in detail.items() if key != "error" and value}


# --- the files ----------------------------------------------------------------------------

_CODE = re.compile(r"[A-Z][A-Z0-9_]*|[0-9]{2}")


def _unchanged(conn: psycopg.Connection, run_id: str) -> str | None:
    row = conn.execute(
        "select detail ->> 'unchanged' from audit.run_step"
        " where run_id = %s and step = 'anything_new' order by started_at desc limit 1",
        (run_id,),
    ).fetchone()
    return row[0] if row else None


def path_reporter(path: str, provinces: set[str], units: set[str]) -> str | None:
    """'province/unit' from a file's path when its folders or name carry both codes (the
    usual `<province>/<unit>/<unit>_<province>_….csv`), else None."""
    tokens = [t for part in PurePosixPath(path).parts for t in re.split(r"[/_.\- ]", part)]
    province = next((t for t in tokens if t in provinces), None)
    unit = next((t.upper() for t in tokens if t.upper() in units), None)
    return f"{province}/{unit}" if province and unit else None


def _files(conn: psycopg.Connection, start: datetime, end: datetime) -> list[FileLine]:
    rows = conn.execute(
        "select submission_id, path, outcome, row_count, error_count, reporters,"
        " quarantine_path from raw.submission_file where seen_at between %s and %s"
        " order by path, submission_id",
        (start - _SLACK, end + _SLACK),
    ).fetchall()
    ids = [row[0] for row in rows if row[2] == "accepted"]
    loaded: dict[int, list[str]] = {}
    for submission_id, reporter in conn.execute(
        "select distinct submission_id, province_code || '/' || unit_code"
        " from raw.submission_value where submission_id = any(%s) order by 1, 2",
        (ids,),
    ):
        loaded.setdefault(submission_id, []).append(reporter)
    provinces, units = set(), set()
    if _table_exists(conn, "reference", "units"):  # seeded by the first build
        provinces = {r[0] for r in conn.execute("select province_code from reference.provinces")}
        units = {r[0] for r in conn.execute("select unit_code from reference.units")}
    lines = []
    for submission_id, path, outcome, rows_, errors, reporters, quarantined in rows:
        who = loaded.get(submission_id) or (reporters.split(";") if reporters else [])
        if not who and (guess := path_reporter(path, provinces, units)):
            who = [guess]
        report = report_of(quarantined) if quarantined else None
        lines.append(FileLine(submission_id, path, outcome, rows_ or 0, errors or 0, who, report))
    return lines


# --- gates, alerts, publication -------------------------------------------------------------


def _gates(conn: psycopg.Connection, start: datetime, end: datetime) -> list[GateLine]:
    gates: dict[tuple[str, str], GateLine] = {}
    if not _table_exists(conn, "audit", "validation_result"):
        return []
    for run_id, suite, asset, expectation, kwargs, level, success, observed in conn.execute(
        "select run_id, suite, asset, expectation, kwargs, level, success, observed"
        " from audit.validation_result where validated_at between %s and %s"
        " order by validated_at, suite, expectation",
        (start - _SLACK, end + _SLACK),
    ):
        gate = gates.setdefault((suite, asset), GateLine(run_id, suite, asset, True))
        if success:
            continue
        column = kwargs.get("column") if isinstance(kwargs, dict) else None
        text = f"{expectation}{f' on {column}' if column else ''}"
        if isinstance(observed, dict) and observed.get("unexpected_count"):
            text += f": {observed['unexpected_count']} row(s)"
        if level == "warning":
            gate.warnings.append(text)
        else:
            gate.failed.append(text)
            gate.success = False
    return list(gates.values())


def _alerts(conn: psycopg.Connection, start: datetime, end: datetime) -> list[str]:
    exists = conn.execute("select to_regclass('audit.alert') is not null").fetchone()
    if not exists or not exists[0]:
        return []
    return [
        f"{task_id}: {message}"
        for task_id, message in conn.execute(
            "select task_id, message from audit.alert where raised_at between %s and %s"
            " order by raised_at",
            (start - _SLACK, end + timedelta(minutes=5)),
        )
    ]


def mart_keys(path: Path) -> dict[str, list[str]]:
    """Each mart's key, as its contract declares it (its `primary_key` constraint; for the
    view, its `unique_combination` test): the one statement of it, read here to compare
    builds."""
    keys: dict[str, list[str]] = {}
    # libyaml's loader where installed: the pure-Python one takes a third of a second here.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for model in yaml.load(path.read_text(encoding="utf-8"), Loader=loader).get("models", []):
        for constraint in model.get("constraints") or []:
            if constraint.get("type") == "primary_key":
                keys[model["name"]] = list(constraint["columns"])
        for test in model.get("data_tests") or []:
            if isinstance(test, dict) and "unique_combination" in test:
                keys.setdefault(
                    model["name"], list(test["unique_combination"]["arguments"]["columns"])
                )
    return keys


def _table_exists(conn: psycopg.Connection, schema: str, table: str) -> bool:
    found = conn.execute("select to_regclass(%s) is not null", (f"{schema}.{table}",)).fetchone()
    return bool(found and found[0])


def _mart_line(conn: psycopg.Connection, mart: str, key: list[str]) -> MartLine:
    new, old = sql.Identifier(PUBLISHED, mart), sql.Identifier(PREVIOUS, mart)
    rows = conn.execute(sql.SQL("select count(*) from {}").format(new)).fetchone()
    line = MartLine(mart, int(rows[0]) if rows else 0)
    if not _table_exists(conn, PREVIOUS, mart):
        return line
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in key)
    diff = sql.SQL(
        "select count(*) filter (where old.h is null), count(*) filter (where new.h <> old.h),"
        " count(*) filter (where new.h is null)"
        " from (select {cols}, md5(t::text) as h from {new} as t) as new"
        " full join (select {cols}, md5(t::text) as h from {old} as t) as old using ({cols})"
    ).format(cols=columns, new=new, old=old)
    found = conn.execute(diff).fetchone()
    if found:
        line.added, line.changed, line.removed = (int(v) for v in found)
    return line


def _publication(
    conn: psycopg.Connection, gate_runs: set[str], marts_yml: Path
) -> tuple[str | None, datetime | None, list[MartLine]]:
    published = build_info(conn, PUBLISHED)
    if published is None or published.build_id not in gate_runs:
        return None, None, []
    keys = mart_keys(marts_yml)
    marts = [
        _mart_line(conn, mart, keys[mart])
        for mart in sorted(keys)
        if _table_exists(conn, PUBLISHED, mart)
    ]
    return published.build_id, published.validated_at, marts


def night_status(
    url: str, settings: Settings, night: date | None = None, run_id: str | None = None
) -> Night | None:
    """Run `run_id`, or the last run (of local date `night`); None when the journal has
    none."""
    with psycopg.connect(url) as conn:
        if not _table_exists(conn, "audit", "run_step"):
            return None
        window = _run_window(conn, night, run_id)
        explicit = run_id is not None
        if window is None:
            return None
        run_id, start, end = window
        if explicit:  # the run asking is still going: all it did so far
            end = max(end, datetime.now(UTC))
        result = Night(run_id, start, end, _steps(conn, run_id), _files(conn, start, end))
        result.left_out = _left_out(conn, run_id)
        result.unchanged = _unchanged(conn, run_id)
        result.alerts = _alerts(conn, start, end)
        if result.unchanged:
            # No gate ran and nothing was published: the gates and the publication found in
            # the time window are the run's just before (a second apart, back to back).
            return result
        result.gates = _gates(conn, start, end)
        gate_runs = {gate.run_id for gate in result.gates}
        marts_yml = settings.dbt_project_dir / "models" / "marts" / "_marts__models.yml"
        published = _publication(conn, gate_runs, marts_yml)
        result.build_id, result.published_at, result.marts = published
    return result
