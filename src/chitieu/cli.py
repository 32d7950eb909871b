"""`chitieu`: the command line of the Đề án 06 warehouse."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from datetime import date, datetime
from pathlib import Path

from chitieu.config import load_settings

_EPILOG = """\
environment:
  CHITIEU_HOME         state folder (default: .chitieu in the repository)
  CHITIEU_DB_URL       use this PostgreSQL database instead of the embedded server
  CHITIEU_LANDING_DIR  landing area (default: $CHITIEU_HOME/landing)

examples:
  chitieu demo                      sample data through to published marts
  chitieu run --landing /srv/nop    ingest a folder, build, gate, publish
  psql "$(chitieu db url)" -c 'select * from marts.target_gap limit 5'
"""


def _say(message: str) -> None:
    print(message, flush=True)


def _landing(args: argparse.Namespace) -> Path | str | None:
    value = getattr(args, "landing", None)
    if not value:
        return None
    # An object-store URL (s3://bucket/prefix) stays a URL: Path would fold its "//".
    return value if "://" in value else Path(value).expanduser()


def cmd_status(args: argparse.Namespace) -> int:
    import json
    from datetime import date

    from chitieu import db
    from chitieu.night import night_status

    settings = load_settings()
    night = date.fromisoformat(args.night) if args.night else None
    found = night_status(db.warehouse_url(settings), settings, night)
    if found is None:
        what = f"on {night}" if night else "yet"
        _say(f"no run recorded {what} (chitieu run or the nightly DAG records its steps)")
        return 3
    if args.json:
        print(json.dumps(found.to_json(), default=str, ensure_ascii=False, indent=2))
    else:
        for line in found.lines():
            print(line)
    return 1 if found.needs_attention else 0


def cmd_metrics(args: argparse.Namespace) -> int:
    import csv

    from chitieu import db
    from chitieu.metrics import MetricsQuery, metrics_sql, query_metrics

    settings = load_settings()
    url = db.warehouse_url(settings)
    where = [
        *args.where,
        *(
            [f"{{{{ Dimension('period__period_type') }}}} = '{args.period_type}'"]
            if args.period_type
            else []
        ),
    ]
    query = MetricsQuery(args.metric, args.by, where, args.order)
    if args.sql:
        print(metrics_sql(settings, url, query))
        return 0
    result = query_metrics(settings, url, query)
    writer = csv.writer(sys.stdout)
    writer.writerow(result.columns)
    writer.writerows(result.rows)
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    from chitieu import db

    settings = load_settings()
    if args.action == "url":
        print(db.warehouse_url(settings))
    elif args.action == "env":
        import shlex

        from chitieu.transform import dbt_env

        url = db.lint_url(settings) if args.lint else db.warehouse_url(settings)
        for name, value in dbt_env(url).items():
            print(f"export {name}={shlex.quote(value)}")
    elif args.action == "up":
        url = db.warehouse_url(settings)
        db.airflow_url(settings)
        _say(f"warehouse database ready: {db.display_url(url)}")
    elif args.action == "down":
        if settings.db_url:
            _say("CHITIEU_DB_URL is set: an external server is in use, nothing to stop")
        elif db.stop_embedded(settings):
            _say(f"embedded PostgreSQL stopped ({settings.pgdata})")
        else:
            _say("embedded PostgreSQL was not running")
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    from chitieu.ingest.run import ingest_landing

    summary = ingest_landing(_landing(args), progress=_say, jobs=args.jobs)
    for line in summary.lines():
        _say(line)
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    from chitieu.pipeline import build

    summary = build(progress=_say, full_refresh=args.full_refresh)
    for line in summary.lines():
        _say(line)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from chitieu.pipeline import run

    started = time.monotonic()
    summary = run(_landing(args), progress=_say, full_refresh=args.full_refresh, jobs=args.jobs)
    _say("— summary —")
    for line in summary.lines():
        _say(line)
    _say(f"done in {time.monotonic() - started:.0f} s")
    return 0


def cmd_backfill(args: argparse.Namespace) -> int:
    from chitieu.pipeline import backfill

    started = time.monotonic()
    summary = backfill(args.first, args.last, progress=_say)
    for line in summary.lines():
        _say(line)
    _say(f"backfill of {args.first} … {args.last} done in {time.monotonic() - started:.0f} s")
    return 0


def cmd_manifest(args: argparse.Namespace) -> int:
    from chitieu.manifest import ensure_manifest, write_manifest

    path = write_manifest() if args.force else ensure_manifest()
    _say(f"dbt manifest for the nightly DAG: {path}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from chitieu.db import display_url, warehouse_url
    from chitieu.demo import write_demo_landing
    from chitieu.pipeline import run

    settings = load_settings()
    landing = _landing(args) or settings.landing_dir
    started = time.monotonic()
    files = write_demo_landing(landing)
    _say(f"demo: wrote {len(files)} sample files into {landing}")
    summary = run(landing, settings, progress=_say)
    _say("— summary —")
    for line in summary.lines():
        _say(line)
    url = warehouse_url(settings)
    _say(f"done in {time.monotonic() - started:.0f} s. Query the marts:")
    # Runnable as printed: the shell gets the URL from `chitieu db url`, so no password is
    # ever printed here.
    _say("  psql \"$(.venv/bin/chitieu db url)\" -c 'select * from marts.target_gap limit 5'")
    _say(f"  (the warehouse: {display_url(url)})")
    from chitieu.report.render import write_demo_brief

    write_demo_brief(url, settings, progress=_say)
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from chitieu.national import load_dataset, row_count, write_history, write_night

    settings = load_settings()
    out = Path(args.out)
    data = load_dataset(settings.seeds_dir, args.seed)
    files = write_history(out, data, args.scale)
    _say(f"history: {len(files)} files, {row_count(files):,} rows ({args.scale * 36} months)")
    for night in range(1, args.nights + 1):
        tonight = write_night(out, data, night)
        _say(f"night {night}: {len(tonight)} files, {row_count(tonight):,} rows")
    _say(f"written under {out}; load them with: chitieu run --landing {out}")
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    from chitieu.db import warehouse_url
    from chitieu.publish import publish, rollback

    url = warehouse_url()
    if args.rollback:
        rollback(url)
        _say("rolled back: the previous build is published again as schema marts")
    else:
        publish(url)
        _say("published the candidate marts as schema marts")
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    from chitieu.pipeline import generate_docs, serve_docs

    index = generate_docs(progress=_say)
    _say(f"dbt docs: {index}")
    if args.serve:
        _say(f"serving on http://localhost:{args.port} (Ctrl-C stops)")
        serve_docs(args.port)
    return 0


def cmd_template(args: argparse.Namespace) -> int:
    from chitieu.template import make_template

    path = make_template(
        args.unit,
        args.period,
        province=args.province,
        out=Path(args.out).expanduser() if args.out else None,
        all_indicators=args.all_indicators,
    )
    _say(f"template written: {path}")
    return 0


def _day(text: str) -> date:
    """A calendar day as ISO (2024-10-11) or as Vietnamese write it (11/10/2024)."""
    try:
        if "/" in text:
            return datetime.strptime(text.strip(), "%d/%m/%Y").date()
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a date: {text!r} (write 2024-10-11 or 11/10/2024)"
        ) from None


def cmd_report(args: argparse.Namespace) -> int:
    from chitieu.db import warehouse_url
    from chitieu.ingest.parse import ParseError, parse_period, parse_province_code
    from chitieu.report import ReportError, write_brief, write_briefs_for_period
    from chitieu.report.chromium import ChromiumFailed, ChromiumMissing, print_pdf, screenshot
    from chitieu.transform import TransformError

    settings = load_settings()
    try:
        period = parse_period(args.period)
        province = parse_province_code(args.province) if args.province else None
    except ParseError as exc:
        print(f"error: {exc.en}", file=sys.stderr)
        return 2
    out = Path(args.out).expanduser() if args.out else None
    url = warehouse_url(settings)
    when = {"as_of": args.as_of, "revisions_since": args.revisions_since}
    try:
        if province:
            paths = [
                write_brief(url, province, period, out, settings=settings, progress=_say, **when)
            ]
        else:
            paths = write_briefs_for_period(
                url, period, out, settings=settings, progress=_say, **when
            )
            if not paths:
                raise ReportError(f"no province reported anything for {period.code}")
        for path in paths:
            if province:  # write_briefs_for_period says so itself, through progress
                _say(f"brief written: {path}")
            if args.pdf:
                _say(f"  pdf: {print_pdf(path)}")
            if args.png:
                _say(f"  png: {screenshot(path)}")
    except (ReportError, TransformError, ChromiumMissing, ChromiumFailed) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_airflow(args: argparse.Namespace) -> int:
    from chitieu.airflow_env import prepare, run_airflow

    _say("airflow: migrating the metadata database (embedded PostgreSQL unless configured)")
    prepare()
    return run_airflow(args.airflow_args or ["--help"], check=False).returncode


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="chitieu",
        description="Đề án 06 indicator warehouse: ingest department reports, build "
        "target-gap marts, gate them with Great Expectations and publish them.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    db = sub.add_parser("db", help="the warehouse database (embedded PostgreSQL by default)")
    db.add_argument(
        "action",
        choices=["up", "down", "url", "env"],
        help="up: start it and create the databases; down: stop it; url: print the "
        "warehouse URL; env: print shell exports for dbt and sqlfluff "
        '(eval "$(chitieu db env)")',
    )
    db.add_argument(
        "--lint",
        action="store_true",
        help="with env: point at an empty database beside the warehouse (`<warehouse>_lint`,"
        " created anew), for the SQL lint (`make lint-sql`)",
    )
    db.set_defaults(func=cmd_db)

    status = sub.add_parser(
        "status",
        help="what the last night did (files per unit, gates, publication, alerts, steps)",
        description="What the last run (or the night of --night) did: files seen, accepted,"
        " rejected (with their reports), per province and unit; rows loaded; each gate's"
        " outcome; what was published and how each mart changed; alerts; how long each step"
        " took. Exit status 0: all well; 1: the night needs attention; 3: no run recorded.",
    )
    status.add_argument("--night", metavar="YYYY-MM-DD", help="the night of that local date")
    status.add_argument("--json", action="store_true", help="print it as JSON")
    status.set_defaults(func=cmd_status)

    for name, func, text in [
        (
            "ingest",
            cmd_ingest,
            "process the new files in the landing area (.xlsx, .xlsm, .xls, .ods, .csv; see"
            " docs/submission-contract.md): each is loaded whole or rejected with a report,"
            " and gets a receipt (audit.submission_receipt)",
        ),
        ("run", cmd_run, "ingest, then build: exactly what the nightly DAG does"),
        ("demo", cmd_demo, "write a realistic sample landing area and run it"),
    ]:
        command = sub.add_parser(name, help=text, description=text)
        command.add_argument(
            "--landing",
            metavar="DIR|URL",
            help="landing area, a folder or s3://bucket/prefix"
            " (default: $CHITIEU_LANDING_DIR or $CHITIEU_HOME/landing)",
        )
        command.set_defaults(func=func)

    for name in ("ingest", "run"):
        sub.choices[name].add_argument(
            "--jobs",
            type=int,
            metavar="N",
            help="files ingested at a time, each on its own connection "
            "(default: the number of CPUs, at most 4)",
        )

    build = sub.add_parser("build", help="dbt run and test, quality gates, publish")
    build.set_defaults(func=cmd_build)
    for command in (build, sub.choices["run"]):
        command.add_argument(
            "--full-refresh",
            action="store_true",
            help="rebuild the marts from all loaded data instead of updating the "
            "previous build incrementally (gives the same result, slower)",
        )

    backfill = sub.add_parser(
        "backfill",
        help="rebuild the marts for a range of months from the files already loaded",
        description="Rebuilds, from every file already loaded (nothing is ingested), the mart "
        "rows of the reporting periods ending within the months given (months, and quarters, "
        "halves and years ending in them), then gates and publishes the marts as `chitieu "
        "build` does. Other periods stay as they are; running it again changes nothing.",
    )
    backfill.add_argument("--from", dest="first", required=True, metavar="YYYY-MM")
    backfill.add_argument("--to", dest="last", required=True, metavar="YYYY-MM")
    backfill.set_defaults(func=cmd_backfill)

    manifest = sub.add_parser(
        "manifest",
        help="compile the dbt manifest the nightly DAG is rendered from (Cosmos)",
        description="Runs `dbt parse` and writes dbt_project/target/cosmos/manifest.json when "
        "it is missing or older than the dbt project; every `chitieu airflow` command does "
        "this first. Run it after changing the dbt project where the DAGs are parsed.",
    )
    manifest.add_argument("--force", action="store_true", help="rewrite it even when current")
    manifest.set_defaults(func=cmd_manifest)

    generate = sub.add_parser(
        "generate",
        help="write a generated national dataset (34 provinces, 36 x SCALE months)",
        description="Writes the national dataset the benchmarks load: 34 provinces x every "
        "unit x every indicator, monthly and quarterly, with realistic trends, missing "
        "reports, late reports and corrections, as one CSV per (province, quarter); then "
        "the files of NIGHTS nights after it. Same seed, same bytes.",
    )
    generate.add_argument("--out", required=True, metavar="DIR", help="where to write")
    generate.add_argument(
        "--scale", type=int, default=1, help="multiply the history's length (default 1)"
    )
    generate.add_argument("--nights", type=int, default=0, help="nights after it (default 0)")
    generate.add_argument("--seed", type=int, default=6, help="random seed (default 6)")
    generate.set_defaults(func=cmd_generate)

    docs = sub.add_parser(
        "docs", help="generate the dbt docs of the warehouse (models, columns, lineage)"
    )
    docs.add_argument("--serve", action="store_true", help="serve them on localhost")
    docs.add_argument("--port", type=int, default=8080, help="port for --serve (default 8080)")
    docs.set_defaults(func=cmd_docs)

    pub = sub.add_parser("publish", help="publish the candidate marts, or roll back")
    pub.add_argument(
        "--rollback", action="store_true", help="restore the previously published marts"
    )
    pub.set_defaults(func=cmd_publish)

    template = sub.add_parser(
        "template",
        help="write an XLSX report template for a unit and period",
        description="Writes the Excel file a department fills in: Vietnamese headers, one row "
        "per indicator the unit reports at the period's frequency, codes and period "
        "prefilled, data validation on the cells to fill, and a 'Hướng dẫn' sheet.",
    )
    template.add_argument("--unit", required=True, metavar="CODE", help="unit code, e.g. SYT")
    template.add_argument(
        "--period",
        required=True,
        metavar="PERIOD",
        help="2024-03, 2024-Q1, 2024-H1, 2024, or a Vietnamese form such as 'Tháng 3/2024'",
    )
    template.add_argument(
        "--province", metavar="CODE", help="prefill this province code (default: left blank)"
    )
    template.add_argument(
        "--out",
        metavar="PATH",
        help="file or folder to write (default: $CHITIEU_HOME/templates/<UNIT>_<period>.xlsx)",
    )
    template.add_argument(
        "--all-indicators",
        action="store_true",
        help="every indicator the unit may report, not only those due at the period's frequency",
    )
    template.set_defaults(func=cmd_template)

    report = sub.add_parser(
        "report",
        help="write the progress brief (meeting report) of a province for a period",
        description="Writes the Working Group's progress brief, generated from the published "
        "marts: a self-contained HTML file (Vietnamese with English alongside; no script, "
        "nothing fetched) with the headline figures, the targets not met by gap, units ranked "
        "by met share, a trend chart per at-risk target, submission completeness and the "
        "province's rank. A brief for P shows the rows whose period ends within P (see "
        "chitieu.report.queries). --pdf/--png print it with headless Chromium.",
    )
    report.add_argument(
        "--province",
        metavar="CODE",
        help="GSO province code, e.g. 40 (default: every province that reported in the period)",
    )
    report.add_argument(
        "--period",
        required=True,
        metavar="PERIOD",
        help="2024-10, 2024-Q4, 2024-H2, 2024, or a Vietnamese form such as 'Tháng 10/2024'",
    )
    report.add_argument(
        "--as-of",
        type=_day,
        metavar="DATE",
        help="the brief as it would have been written at the end of that day (2024-10-11 or "
        "11/10/2024), from the files submitted by then: the marts are rebuilt as of then in "
        "a schema of their own (dropped after); written as brief_<province>_<period>_as_of_<date>",
    )
    report.add_argument(
        "--revisions-since",
        type=_day,
        metavar="DATE",
        help="the last meeting's day: the brief lists the figures revised after it (default: "
        "the day the previous period's reports were due, its last day + CHITIEU_DUE_DAYS)",
    )
    report.add_argument("--pdf", action="store_true", help="also print it to PDF (Chromium)")
    report.add_argument("--png", action="store_true", help="also write a PNG of it (Chromium)")
    report.add_argument(
        "--out", metavar="DIR", help="folder to write to (default: $CHITIEU_HOME/reports)"
    )
    report.set_defaults(func=cmd_report)

    metrics = sub.add_parser(
        "metrics",
        help="query the semantic layer's metrics over the published marts (MetricFlow)",
        description="Queries the metrics defined once in dbt's semantic layer "
        "(dbt_project/models/semantic) over the published marts and prints CSV. Metrics: "
        "targets_met_share, targets_met, targets_applicable, targets_at_risk, average_gap_pp, "
        "completeness_pct, on_time_rate_pct, reports_expected, reports_submitted, "
        "reports_on_time. Group by province__name_vi, unit__name_vi, indicator__name_en, "
        "indicator__unit_of_measure, period__period_label, metric_time__month|quarter|year, ... "
        "Example: chitieu metrics targets_met_share --by unit__name_vi "
        "--by metric_time__quarter --period-type month --order metric_time__quarter",
    )
    metrics.add_argument("metric", nargs="+", help="metric names")
    metrics.add_argument(
        "--by", action="append", default=[], metavar="DIMENSION", help="group by (repeatable)"
    )
    metrics.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="FILTER",
        help="MetricFlow filter, e.g. \"{{ Dimension('province__name_vi') }} = 'Nghệ An'\"",
    )
    metrics.add_argument(
        "--period-type",
        choices=["month", "quarter", "half_year", "year"],
        help="only the reports of this period type (months, quarters... share each mart)",
    )
    metrics.add_argument(
        "--order", action="append", default=[], metavar="NAME", help="order by (- for desc)"
    )
    metrics.add_argument("--sql", action="store_true", help="print MetricFlow's SQL, run nothing")
    metrics.set_defaults(func=cmd_metrics)

    airflow = sub.add_parser(
        "airflow",
        help="run an airflow command against the project's database and DAGs",
        description="Runs `airflow ARGS` with AIRFLOW_HOME under $CHITIEU_HOME, metadata in "
        "the warehouse's PostgreSQL server and the repo's dags/ folder, e.g. "
        "`chitieu airflow dags test chitieu_nightly` or `chitieu airflow standalone`.",
    )
    airflow.add_argument("airflow_args", nargs=argparse.REMAINDER, metavar="ARGS")
    airflow.set_defaults(func=cmd_airflow)
    return top


def main(argv: list[str] | None = None) -> int:
    from psycopg import OperationalError

    from chitieu.exceptions import DataError

    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (ConnectionError, OperationalError) as exc:
        # Infrastructure, not data: every file and the publication are one transaction
        # each, so nothing partial was kept and running again is the whole fix.
        detail = " ".join(str(exc).split())  # one line, for logs and alerts
        print(f"error: lost the connection to the database ({detail}); run again", file=sys.stderr)
        return 75  # EX_TEMPFAIL
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
