"""Everything the progress brief shows, read from the published marts in one place.

The renderer only formats what `load_brief` returns: every number in the brief's text, tables
and charts comes from the `Brief` built here.

Which rows a brief for period P shows
-------------------------------------
P is a month, quarter, half-year or year (`2024-10`, `2024-Q4`, `2024-H2`, `2024`). A row of
a mart *belongs to P* when its period **ends within P** (P's first day ≤ period_end ≤ P's
last day). So the brief for `2024-12` shows the December rows and also the rows of
`2024-Q4`, `2024-H2` and `2024`, which end on 31/12/2024; the brief for `2024-10` shows the
October rows only (the quarter ends in December); the brief for `2024-Q4` shows the rows of
October, November, December and of the quarter.

Targets (`marts.target_gap`): of the rows of the province that belong to P, the brief keeps,
for each (unit, indicator, target) — a target being (issuer, comparator, target value,
deadline) — the **latest** one: the greatest period_end, and of two periods ending the same
day the shorter (the later period_start). That row's value, gap, status, risk and projection
are the target's state in the brief. The not-met table lists exactly the kept rows whose
status is `not_met`, sorted by gap (largest first), then unit and indicator.

A target whose deadline fell before P began has no row in P (target_gap stops at the
deadline). If it was missed at its deadline and the unit's latest value up to the end of P
still falls short, it is listed apart as *overdue* (quá hạn), with that latest value.

Units are ranked by their share of kept targets met (ties share a rank; a unit with no kept
target is listed, not ranked): for a brief whose rows are all of P's own period this equals
`marts.unit_scorecard` for P. Each at-risk target gets a trend: the unit's values of the
indicator for every period ending on or before the kept row's (the points the mart's least-
squares projection was fitted to) and the line to the deadline ending at the mart's
`projected_value`.

Submission completeness comes from `marts.submission_completeness` (expected reports whose
period belongs to P). The province's rank among provinces comes from `marts.province_ranking`
(latest period belonging to P for each indicator). Names come from `marts.dim_*`.

Figures revised since the last meeting come from `marts.fct_indicator_value_revision`: the
revisions of the province's values for periods ending on or before P's end, submitted after
the last meeting's day (by default the day the previous period's reports were due: the day
before P began plus the due days).

Every query reads one schema of marts, `marts` (the published ones) by default; a brief as
of a past date reads marts rebuilt from the files submitted by then (`chitieu.as_of`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import psycopg
from psycopg.rows import dict_row

from chitieu.exceptions import DataError
from chitieu.ingest.parse import Period, parse_period
from chitieu.vn_time import end_of_day, local_day

# SQL here is built with f-strings only from a schema name (`marts`, or the as-of schema
# chitieu.as_of names) and fixed fragments of this module (hence the `noqa: S608`s); every
# value from a caller goes as a %(name)s parameter.
MARTS = "marts"


# Indicators shown as "key figures" rather than against a rate target.
KEY_FIGURE_UNITS_OF_MEASURE = ("count", "vnd", "rank", "days", "milestone")


class ReportError(DataError):
    """The brief cannot be produced (marts not published, no data for the province and
    period): a data problem, so the nightly task does not retry it."""


# --- what the brief is made of -------------------------------------------------------------


@dataclass(frozen=True)
class Indicator:
    code: str
    name_vi: str
    name_en: str
    unit_of_measure: str  # percent | count | vnd | days | rank | milestone
    direction: str
    reporting_units: tuple[str, ...]
    frequency: str


@dataclass(frozen=True)
class Unit:
    code: str
    name_vi: str
    name_en: str
    unit_type: str = "department"


@dataclass(frozen=True)
class TargetRow:
    """One kept row of marts.target_gap (the target's state in the brief)."""

    unit: Unit
    indicator: Indicator
    period: Period
    value: Decimal | None
    numerator: int | None
    denominator: int | None
    issuer: str
    comparator: str
    target_value: Decimal
    deadline: date
    gap: Decimal | None
    attainment_pct: Decimal | None
    status: str
    risk: str
    projected_value: Decimal | None
    # Open SDG's progress category (marts.target_gap.progress_status); "" shows none.
    progress_status: str = ""

    @property
    def key(self) -> tuple[str, str, str, str, Decimal, date]:
        return (
            self.unit.code,
            self.indicator.code,
            self.issuer,
            self.comparator,
            self.target_value,
            self.deadline,
        )


@dataclass(frozen=True)
class TrendPoint:
    period: Period
    value: Decimal


@dataclass(frozen=True)
class Trend:
    """An at-risk target with the values its projection was fitted to."""

    target: TargetRow
    points: tuple[TrendPoint, ...]
    # The least-squares line from the first point's day to the deadline, where it reaches
    # the mart's projected_value: (day, value) at each end.
    fit: tuple[tuple[date, Decimal], tuple[date, Decimal]] | None


@dataclass(frozen=True)
class UnitScore:
    rank: int | None
    unit: Unit
    applicable: int
    met: int
    not_met: int
    met_share: Decimal | None
    at_risk: int = 0


@dataclass(frozen=True)
class LateReport:
    indicator: Indicator
    period: Period
    submitted_on: date
    due_date: date

    @property
    def days_late(self) -> int:
        return (self.submitted_on - self.due_date).days


@dataclass(frozen=True)
class UnitCompleteness:
    unit: Unit
    expected: int
    submitted: int
    on_time: int
    missing: tuple[tuple[Indicator, Period], ...]
    late: tuple[LateReport, ...]

    @property
    def late_count(self) -> int:
        return len(self.late)

    @property
    def max_days_late(self) -> int:
        return max((r.days_late for r in self.late), default=0)


@dataclass(frozen=True)
class ProvinceRank:
    indicator: Indicator
    period: Period
    value: Decimal | None
    rank: int
    provinces_ranked: int
    best_value: Decimal | None


@dataclass(frozen=True)
class KeyFigure:
    indicator: Indicator
    unit: Unit
    period: Period
    value: Decimal | None
    denominator: int | None
    previous_period: Period | None = None
    previous_value: Decimal | None = None
    previous_denominator: int | None = None


@dataclass(frozen=True)
class Overdue:
    """A target missed at its deadline (before P began) that the unit still falls short of."""

    at_deadline: TargetRow
    latest_period: Period | None
    latest_value: Decimal | None


@dataclass(frozen=True)
class SharedTarget:
    """A target several units are held to ("15/18 sở, ban, ngành chưa đạt 70%")."""

    indicator: Indicator
    issuer: str
    comparator: str
    target_value: Decimal
    deadline: date
    units_not_met: int
    units_assessed: int


@dataclass(frozen=True)
class Revision:
    """A figure of the province revised since the last meeting
    (marts.fct_indicator_value_revision)."""

    unit: Unit
    indicator: Indicator
    period: Period
    old_value: Decimal
    new_value: Decimal
    change: Decimal
    old_submitted: date
    new_submitted: date


@dataclass(frozen=True)
class Headline:
    targets_assessed: int
    targets_met: int
    targets_not_met: int
    by_risk: dict[str, int]
    units_expected: int
    units_reported: int
    reports_expected: int
    reports_submitted: int
    reports_on_time: int
    overdue: int

    @property
    def met_share(self) -> Decimal | None:
        if not self.targets_assessed:
            return None
        return Decimal(100 * self.targets_met) / Decimal(self.targets_assessed)


@dataclass(frozen=True)
class Brief:
    province_code: str
    province_vi: str
    province_en: str
    period: Period
    data_as_of: date | None
    targets: tuple[TargetRow, ...]
    not_met: tuple[TargetRow, ...]
    unit_scores: tuple[UnitScore, ...]
    trends: tuple[Trend, ...]
    completeness: tuple[UnitCompleteness, ...]
    province_ranks: tuple[ProvinceRank, ...]
    provinces_compared: int
    key_figures: tuple[KeyFigure, ...]
    overdue: tuple[Overdue, ...]
    shared_targets: tuple[SharedTarget, ...]
    headline: Headline
    due_days: int = 5
    sources: tuple[str, ...] = field(default=())
    # The day the brief is written as of (None: from the published marts, as they are now).
    as_of: date | None = None
    # The revisions submitted after the last meeting's day (`revisions_since`).
    revisions: tuple[Revision, ...] = ()
    revisions_since: date | None = None

    @property
    def highlights(self) -> tuple[TargetRow, ...]:
        """The largest gap of each indicator not met, five at most: the summary's examples."""
        seen: set[str] = set()
        out: list[TargetRow] = []
        for row in self.not_met:
            if row.indicator.code not in seen and len(out) < 5:
                seen.add(row.indicator.code)
                out.append(row)
        return tuple(out)

    @property
    def ranks_first(self) -> int:
        """Indicators on which the province ranks first among several provinces."""
        return sum(r.rank == 1 and r.provinces_ranked > 1 for r in self.province_ranks)

    @property
    def ranks_last(self) -> int:
        """Indicators on which the province ranks last (ties included) among several."""
        return sum(
            r.rank == r.provinces_ranked and r.provinces_ranked > 1 for r in self.province_ranks
        )

    @property
    def at_risk_count(self) -> int:
        return self.headline.by_risk.get("at_risk", 0)

    @property
    def missed_count(self) -> int:
        return self.headline.by_risk.get("missed", 0)


# --- helpers -------------------------------------------------------------------------------


def _exists(conn: psycopg.Connection, relation: str) -> bool:
    row = conn.execute("select to_regclass(%s) is not null", (relation,)).fetchone()
    return bool(row and row[0])


def _rows(conn: psycopg.Connection, query: str, params: dict[str, object]) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, params)  # type: ignore[arg-type]
        return cur.fetchall()


def _period(code: str) -> Period:
    return parse_period(code)


def _satisfies(value: Decimal | None, comparator: str, target: Decimal) -> bool:
    if value is None:
        return False
    return value >= target if comparator == ">=" else value <= target


def _least_squares_slope(points: Sequence[TrendPoint]) -> float | None:
    xs = [p.period.end.toordinal() for p in points]
    ys = [float(p.value) for p in points]
    if len(points) < 2:
        return None
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx) ** 2 for x in xs)
    if var == 0:
        return None
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var


def _competition_ranks(shares: Iterable[Decimal | None]) -> list[int | None]:
    """1, 1, 3 ranking by share, highest first; None is not ranked."""
    values = list(shares)
    ranked = sorted((v for v in values if v is not None), reverse=True)
    return [None if v is None else ranked.index(v) + 1 for v in values]


# --- reference names -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Names:
    units: dict[str, Unit]
    indicators: dict[str, Indicator]
    provinces: dict[str, tuple[str, str]]

    def unit(self, code: str) -> Unit:
        return self.units.get(code) or Unit(code, code, code)

    def indicator(self, code: str) -> Indicator:
        return self.indicators.get(code) or Indicator(
            code, code, code, "percent", "higher_better", ("*",), "monthly"
        )


def _load_names(conn: psycopg.Connection, marts: str) -> _Names:
    unit_rows = _rows(conn, f"select * from {marts}.dim_unit", {})  # noqa: S608 (schema name)
    ind_rows = _rows(conn, f"select * from {marts}.dim_indicator", {})  # noqa: S608 (schema name)
    prov_rows = _rows(
        conn,
        f"select province_code, name_vi, name_en from {marts}.dim_province",  # noqa: S608 (schema name)
        {},
    )
    return _Names(
        units={
            r["unit_code"]: Unit(
                r["unit_code"], r["name_vi"], r["name_en"], r.get("unit_type") or "department"
            )
            for r in unit_rows
        },
        indicators={
            r["indicator_code"]: Indicator(
                r["indicator_code"],
                r["name_vi"],
                r["name_en"],
                r["unit_of_measure"],
                r["direction"],
                tuple((r["reporting_units"] or "*").split(";")),
                r["frequency"],
            )
            for r in ind_rows
        },
        provinces={r["province_code"]: (r["name_vi"], r["name_en"]) for r in prov_rows},
    )


# --- the sections --------------------------------------------------------------------------


def _latest_per_target(marts: str, condition: str, keep: str = "true") -> str:
    """The latest target_gap row of each of the province's targets among the rows meeting
    `condition` (with the fact's period start and fraction), then filtered by `keep`."""
    return f"""
select * from (
    select
        g.unit_code, g.indicator_code, g.period, g.period_end, g.value,
        f.period_start, f.numerator, f.denominator,
        g.target_issuer, g.comparator, g.target_value, g.target_deadline,
        g.gap, g.attainment_pct, g.status, g.risk, g.projected_value, g.progress_status,
        row_number() over (
            partition by
                g.unit_code, g.indicator_code, g.target_issuer, g.comparator,
                g.target_value, g.target_deadline
            order by g.period_end desc, f.period_start desc
        ) as recency
    from {marts}.target_gap as g
    inner join {marts}.fct_indicator_value as f
        on
            f.province_code = g.province_code
            and f.unit_code = g.unit_code
            and f.indicator_code = g.indicator_code
            and f.period = g.period
    where g.province_code = %(province)s and {condition}
) as candidates
where recency = 1 and {keep}
"""  # noqa: S608 (schema name)


def _target_row(r: dict, names: _Names) -> TargetRow:
    return TargetRow(
        unit=names.unit(r["unit_code"]),
        indicator=names.indicator(r["indicator_code"]),
        period=_period(r["period"]),
        value=r["value"],
        numerator=r.get("numerator"),
        denominator=r.get("denominator"),
        issuer=r["target_issuer"],
        comparator=r["comparator"],
        target_value=r["target_value"],
        deadline=r["target_deadline"],
        gap=r["gap"],
        attainment_pct=r["attainment_pct"],
        status=r["status"],
        risk=r["risk"],
        projected_value=r["projected_value"],
        progress_status=r["progress_status"],
    )


def not_met_order(row: TargetRow) -> tuple:
    """Largest gap first; rows without a gap last; then unit and indicator names."""
    return (
        row.gap is None,
        -(row.gap or 0),
        row.unit.name_vi,
        row.indicator.name_vi,
        row.deadline,
    )


def _kept_targets(
    conn: psycopg.Connection, marts: str, names: _Names, province: str, period: Period
) -> list[TargetRow]:
    params = {"province": province, "start": period.start, "end": period.end}
    query = _latest_per_target(marts, "g.period_end between %(start)s and %(end)s")
    return [_target_row(r, names) for r in _rows(conn, query, params)]


def _unit_scores(
    targets: Sequence[TargetRow], reporting_units: Iterable[str], names: _Names
) -> list[UnitScore]:
    by_unit: dict[str, list[TargetRow]] = defaultdict(list)
    for row in targets:
        by_unit[row.unit.code].append(row)
    codes = sorted(set(by_unit) | set(reporting_units))
    shares: list[Decimal | None] = []
    for code in codes:
        rows = by_unit.get(code, [])
        met = sum(r.status == "met" for r in rows)
        shares.append(Decimal(100 * met) / Decimal(len(rows)) if rows else None)
    ranks = _competition_ranks(shares)
    scores = []
    for code, share, rank in zip(codes, shares, ranks, strict=True):
        rows = by_unit.get(code, [])
        met = sum(r.status == "met" for r in rows)
        scores.append(
            UnitScore(
                rank=rank,
                unit=names.unit(code),
                applicable=len(rows),
                met=met,
                not_met=len(rows) - met,
                met_share=share,
                at_risk=sum(r.risk == "at_risk" for r in rows),
            )
        )
    scores.sort(key=lambda s: (s.rank is None, s.rank or 0, s.unit.name_vi))
    return scores


def _trends(
    conn: psycopg.Connection, marts: str, names: _Names, province: str, rows: Sequence[TargetRow]
) -> list[Trend]:
    if not rows:
        return []
    pairs = sorted({f"{r.unit.code}|{r.indicator.code}" for r in rows})
    last = max(r.period.end for r in rows)
    history = _rows(
        conn,
        f"select unit_code, indicator_code, period, period_end, value"  # noqa: S608 (schema name)
        f" from {marts}.fct_indicator_value"
        f" where province_code = %(province)s and period_end <= %(last)s"
        f" and value is not null and unit_code || '|' || indicator_code = any(%(pairs)s)"
        f" order by period_end, period",
        {"province": province, "last": last, "pairs": pairs},
    )
    series: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for h in history:
        series[(h["unit_code"], h["indicator_code"])].append(h)
    trends = []
    for row in rows:
        points = tuple(
            TrendPoint(_period(h["period"]), h["value"])
            for h in series[(row.unit.code, row.indicator.code)]
            if h["period_end"] <= row.period.end
        )
        fit = None
        slope = _least_squares_slope(points)
        if slope is not None and row.projected_value is not None and points:
            first = points[0].period.end
            start_value = float(row.projected_value) - slope * (row.deadline - first).days
            fit = (
                (first, Decimal(str(round(start_value, 4)))),
                (row.deadline, row.projected_value),
            )
        trends.append(Trend(row, points, fit))
    return trends


def _completeness_rows(
    conn: psycopg.Connection, marts: str, province: str, period: Period
) -> list[dict]:
    """Expected reports whose period belongs to P."""
    return _rows(
        conn,
        f"select unit_code, indicator_code, period, period_end, submitted, submitted_at,"  # noqa: S608 (schema name)
        f" due_date, on_time from {marts}.submission_completeness"
        f" where province_code = %(province)s and period_end between %(start)s and %(end)s"
        f" and expected",
        {"province": province, "start": period.start, "end": period.end},
    )


def _completeness(rows: Sequence[dict], names: _Names) -> list[UnitCompleteness]:
    by_unit: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_unit[r["unit_code"]].append(r)
    out = []
    for code, items in by_unit.items():
        missing = tuple(
            sorted(
                (
                    (names.indicator(r["indicator_code"]), _period(r["period"]))
                    for r in items
                    if not r["submitted"]
                ),
                key=lambda pair: (pair[1].end, pair[0].name_vi),
            )
        )
        late = tuple(
            sorted(
                (
                    LateReport(
                        names.indicator(r["indicator_code"]),
                        _period(r["period"]),
                        local_day(r["submitted_at"]),
                        r["due_date"],
                    )
                    for r in items
                    if r["submitted"] and r["on_time"] is False
                ),
                key=lambda late: (late.period.end, late.indicator.name_vi),
            )
        )
        out.append(
            UnitCompleteness(
                unit=names.unit(code),
                expected=len(items),
                submitted=sum(bool(r["submitted"]) for r in items),
                on_time=sum(r["on_time"] is True for r in items),
                missing=missing,
                late=late,
            )
        )
    out.sort(key=lambda u: (-len(u.missing), -u.late_count, -u.max_days_late, u.unit.name_vi))
    return out


def _province_ranks(
    conn: psycopg.Connection, marts: str, names: _Names, province: str, period: Period
) -> tuple[list[ProvinceRank], int]:
    params = {"province": province, "start": period.start, "end": period.end}
    source = (
        f"select indicator_code, period, period_start, period_end, province_code, value,"  # noqa: S608 (schema name)
        f" rank from {marts}.province_ranking"
        f" where period_end between %(start)s and %(end)s"
    )
    rows = _rows(
        conn,
        f"""
        with ranking as ({source}),
        counted as (
            select
                ranking.*,
                count(*) over (partition by indicator_code, period) as provinces_ranked,
                first_value(value) over (
                    partition by indicator_code, period order by rank, province_code
                ) as best_value
            from ranking
        ),
        latest as (
            select
                counted.*,
                row_number() over (
                    partition by indicator_code order by period_end desc, period_start desc
                ) as recency
            from counted
            where province_code = %(province)s
        )
        select * from latest where recency = 1
        """,  # noqa: S608 (schema name)
        params,
    )
    compared = _rows(
        conn,
        f"with ranking as ({source}) select count(distinct province_code) as n from ranking",  # noqa: S608 (schema name)
        params,
    )
    ranks = [
        ProvinceRank(
            indicator=names.indicator(r["indicator_code"]),
            period=_period(r["period"]),
            value=r["value"],
            rank=int(r["rank"]),
            provinces_ranked=int(r["provinces_ranked"]),
            best_value=r["best_value"],
        )
        for r in rows
    ]
    ranks.sort(key=lambda r: (-(r.rank / max(r.provinces_ranked, 1)), r.indicator.name_vi))
    return ranks, int(compared[0]["n"] if compared else 0)


def _facts_up_to(
    conn: psycopg.Connection, marts: str, province: str, period: Period, codes: Sequence[str]
) -> list[dict]:
    if not codes:
        return []
    return _rows(
        conn,
        f"select unit_code, indicator_code, period, period_type, period_start, period_end,"  # noqa: S608 (schema name)
        f" value, numerator, denominator from {marts}.fct_indicator_value"
        f" where province_code = %(province)s and period_end <= %(end)s"
        f" and indicator_code = any(%(codes)s)"
        f" order by period_end, period_start",
        {"province": province, "end": period.end, "codes": list(codes)},
    )


def _key_figures(
    conn: psycopg.Connection, marts: str, names: _Names, province: str, period: Period
) -> list[KeyFigure]:
    codes = [
        i.code
        for i in names.indicators.values()
        if i.unit_of_measure in KEY_FIGURE_UNITS_OF_MEASURE
    ]
    facts = _facts_up_to(conn, marts, province, period, codes)
    by_indicator: dict[str, list[dict]] = defaultdict(list)
    for f in facts:
        by_indicator[f["indicator_code"]].append(f)
    figures = []
    for code in codes:
        indicator = names.indicator(code)
        rows = by_indicator.get(code, [])
        in_period = [f for f in rows if period.start <= f["period_end"] <= period.end]
        if not in_period:
            continue
        order = {u: i for i, u in enumerate(indicator.reporting_units)}
        latest_end = max(f["period_end"] for f in in_period)
        candidates = [f for f in in_period if f["period_end"] == latest_end]
        candidates.sort(
            key=lambda f: (order.get(f["unit_code"], 99), -f["period_start"].toordinal())
        )
        this = candidates[0]
        previous = [
            f
            for f in rows
            if f["unit_code"] == this["unit_code"]
            and f["period_type"] == this["period_type"]
            and f["period_end"] < this["period_start"]
        ]
        before = previous[-1] if previous else None
        figures.append(
            KeyFigure(
                indicator=indicator,
                unit=names.unit(this["unit_code"]),
                period=_period(this["period"]),
                value=this["value"],
                denominator=this["denominator"],
                previous_period=_period(before["period"]) if before else None,
                previous_value=before["value"] if before else None,
                previous_denominator=before["denominator"] if before else None,
            )
        )
    return figures


def _overdue(
    conn: psycopg.Connection, marts: str, names: _Names, province: str, period: Period
) -> list[Overdue]:
    rows = _rows(
        conn,
        _latest_per_target(marts, "g.target_deadline < %(start)s", keep="risk = 'missed'"),
        {"province": province, "start": period.start},
    )
    if not rows:
        return []
    facts = _facts_up_to(conn, marts, province, period, sorted({r["indicator_code"] for r in rows}))
    latest: dict[tuple[str, str], dict] = {}
    for f in facts:  # ordered by period_end: the last one wins
        latest[(f["unit_code"], f["indicator_code"])] = f
    out = []
    for r in rows:
        row = _target_row(r, names)
        last = latest.get((row.unit.code, row.indicator.code))
        last_value = last["value"] if last else None
        if last and _satisfies(last_value, row.comparator, row.target_value):
            continue  # caught up since the deadline
        out.append(Overdue(row, _period(last["period"]) if last else None, last_value))
    out.sort(key=lambda o: (o.at_deadline.deadline, not_met_order(o.at_deadline)))
    return out


def _shared_targets(targets: Sequence[TargetRow]) -> list[SharedTarget]:
    groups: dict[tuple, list[TargetRow]] = defaultdict(list)
    for row in targets:
        groups[
            (row.indicator.code, row.issuer, row.comparator, row.target_value, row.deadline)
        ].append(row)
    shared = [
        SharedTarget(
            indicator=rows[0].indicator,
            issuer=rows[0].issuer,
            comparator=rows[0].comparator,
            target_value=rows[0].target_value,
            deadline=rows[0].deadline,
            units_not_met=sum(r.status == "not_met" for r in rows),
            units_assessed=len(rows),
        )
        for rows in groups.values()
        if len(rows) > 1
    ]
    shared.sort(key=lambda s: (-s.units_not_met, s.deadline, s.indicator.name_vi))
    return shared


# --- the brief -----------------------------------------------------------------------------


def provinces_reporting(conn: psycopg.Connection, period: Period, marts: str = MARTS) -> list[str]:
    """Provinces with at least one fact whose period belongs to `period`."""
    rows = conn.execute(
        f"select distinct province_code from {marts}.fct_indicator_value"  # noqa: S608 (schema name)
        f" where period_end between %s and %s order by 1",
        (period.start, period.end),
    ).fetchall()
    return [r[0] for r in rows]


def last_meeting_day(period: Period, due_days: int) -> date:
    """The day of the meeting before the one `period`'s brief is for, by default: the day
    the previous period's reports were due (the previous period ends the day before
    `period` begins)."""
    return period.start - timedelta(days=1) + timedelta(days=due_days)


def _revisions(
    conn: psycopg.Connection,
    marts: str,
    names: _Names,
    province: str,
    period: Period,
    since: date,
) -> list[Revision]:
    """Revisions of the province's values for periods ending by P's end, submitted after
    the day `since` (Vietnam's calendar day), newest first."""
    after = end_of_day(since)
    rows = _rows(
        conn,
        f"select unit_code, indicator_code, period, old_value, new_value, change,"  # noqa: S608 (schema name)
        f" old_submitted_at, new_submitted_at from {marts}.fct_indicator_value_revision"
        f" where province_code = %(province)s and period_end <= %(end)s"
        f" and new_submitted_at >= %(after)s"
        f" order by new_submitted_at desc, unit_code, indicator_code, period_end, period_start",
        {"province": province, "end": period.end, "after": after},
    )
    return [
        Revision(
            unit=names.unit(r["unit_code"]),
            indicator=names.indicator(r["indicator_code"]),
            period=_period(r["period"]),
            old_value=r["old_value"],
            new_value=r["new_value"],
            change=r["change"],
            old_submitted=local_day(r["old_submitted_at"]),
            new_submitted=local_day(r["new_submitted_at"]),
        )
        for r in rows
    ]


def load_brief(
    conn: psycopg.Connection,
    province: str,
    period: Period | str,
    due_days: int = 5,
    *,
    marts: str = MARTS,
    as_of: date | None = None,
    revisions_since: date | None = None,
) -> Brief:
    """Read every section of the brief for `province` and `period` from the marts in schema
    `marts` (for a brief `as_of` a past day: the marts chitieu.as_of rebuilt as of then).
    The revisions section lists what was revised after `revisions_since` (default: the last
    meeting's day, `last_meeting_day`)."""
    period = period if isinstance(period, Period) else parse_period(period)
    if not _exists(conn, f"{marts}.target_gap"):
        raise ReportError("the marts are not published yet: run `chitieu run` or `chitieu demo`")
    names = _load_names(conn, marts)
    reported = _rows(
        conn,
        f"select distinct unit_code, max(submitted_at) over () as last_submitted"  # noqa: S608 (schema name)
        f" from {marts}.fct_indicator_value"
        f" where province_code = %(province)s and period_end between %(start)s and %(end)s",
        {"province": province, "start": period.start, "end": period.end},
    )
    if not reported:
        raise ReportError(
            f"no data for province {province} in period {period.code}: nothing was reported "
            f"for a period ending between {period.start} and {period.end}"
            + (f" in the files submitted by {as_of}" if as_of else "")
        )
    data_as_of = local_day(reported[0]["last_submitted"])
    targets = _kept_targets(conn, marts, names, province, period)
    not_met = sorted((t for t in targets if t.status == "not_met"), key=not_met_order)
    at_risk = [t for t in not_met if t.risk == "at_risk"]
    completeness = _completeness(_completeness_rows(conn, marts, province, period), names)
    ranks, compared = _province_ranks(conn, marts, names, province, period)
    overdue = _overdue(conn, marts, names, province, period)
    since = revisions_since or last_meeting_day(period, due_days)
    by_risk: dict[str, int] = defaultdict(int)
    for t in targets:
        by_risk[t.risk] += 1
    headline = Headline(
        targets_assessed=len(targets),
        targets_met=sum(t.status == "met" for t in targets),
        targets_not_met=len(not_met),
        by_risk=dict(by_risk),
        units_expected=len(completeness),
        units_reported=sum(u.submitted > 0 for u in completeness),
        reports_expected=sum(u.expected for u in completeness),
        reports_submitted=sum(u.submitted for u in completeness),
        reports_on_time=sum(u.on_time for u in completeness),
        overdue=len(overdue),
    )
    province_vi, province_en = names.provinces.get(province, (province, province))
    return Brief(
        province_code=province,
        province_vi=province_vi,
        province_en=province_en,
        period=period,
        data_as_of=data_as_of,
        targets=tuple(targets),
        not_met=tuple(not_met),
        unit_scores=tuple(_unit_scores(targets, {r["unit_code"] for r in reported}, names)),
        trends=tuple(_trends(conn, marts, names, province, at_risk)),
        completeness=tuple(completeness),
        province_ranks=tuple(ranks),
        provinces_compared=compared,
        key_figures=tuple(_key_figures(conn, marts, names, province, period)),
        overdue=tuple(overdue),
        shared_targets=tuple(_shared_targets(targets)),
        headline=headline,
        due_days=due_days,
        sources=tuple(
            f"{MARTS}.{name}"
            for name in (
                "target_gap",
                "fct_indicator_value",
                "submission_completeness",
                "province_ranking",
                "fct_indicator_value_revision",
            )
        ),
        as_of=as_of,
        revisions=tuple(_revisions(conn, marts, names, province, period, since)),
        revisions_since=since,
    )
