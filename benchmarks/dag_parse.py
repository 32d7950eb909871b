"""How long Airflow takes to parse each DAG file (target: under 0.5 s each).

    .venv/bin/python benchmarks/dag_parse.py

Each file is parsed in a fresh interpreter that has imported Airflow already, as the
dag-processor has (`chitieu.dag_timing`): the first parse pays for what the file imports,
the best of the following ones is the file's own top-level work, paid on every re-parse.
The baseline of each figure is the target.
"""

from __future__ import annotations

import argparse
import os

from _common import embedded_home, entry, merge_results

TARGET_S = 0.5


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-results", action="store_true", help="do not write bench-results")
    args = parser.parse_args(argv)
    with embedded_home():
        from chitieu.airflow_env import airflow_environment
        from chitieu.config import load_settings
        from chitieu.dag_timing import dag_parse_seconds
        from chitieu.manifest import ensure_manifest

        settings = load_settings()
        ensure_manifest(settings)  # the nightly DAG renders its dbt task group from it
        env = {**os.environ, **airflow_environment(settings)}
        times = dag_parse_seconds(env=env)
    entries = []
    for name, parsed in times.items():
        if parsed.errors:
            raise SystemExit(f"{name} does not parse: {parsed.errors}")
        print(f"  {name:<28} first parse {parsed.first:5.2f} s, re-parse {parsed.best:5.3f} s "
              f"(CPU {parsed.best_cpu:5.3f} s; target < {TARGET_S} s)")  # fmt: skip
        stem = name.removesuffix(".py")
        entries.append(entry(f"dag_parse_s_{stem}", parsed.best, "s", TARGET_S))
        entries.append(entry(f"dag_first_parse_s_{stem}", parsed.first, "s", TARGET_S))
    if not args.no_results:
        merge_results(entries)


if __name__ == "__main__":
    main()
