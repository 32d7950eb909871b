"""Print bench-results.json as a table, with the machine it ran on.

.venv/bin/python benchmarks/table.py [--markdown]
"""

from __future__ import annotations

import argparse
import json
import os
import platform

from _common import RESULTS


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if "model name" in line)
    except (OSError, StopIteration):
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB, Python {platform.python_version()}"


def _number(value: object) -> str:
    if value is None:
        return ""
    number = float(value)  # type: ignore[arg-type]
    return f"{number:,.0f}" if abs(number) >= 1000 else f"{number:.3g}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--markdown", action="store_true", help="a Markdown table (README)")
    args = parser.parse_args(argv)
    entries = json.loads(RESULTS.read_text(encoding="utf-8"))
    rows = [(e["name"], _number(e["value"]), e["unit"], _number(e["baseline"]),
             _number(e["ratio"])) for e in sorted(entries, key=lambda e: e["name"])]  # fmt: skip
    header = ("figure", "value", "unit", "baseline", "ratio")
    print(f"machine: {machine()}")
    if args.markdown:
        print("| " + " | ".join(header) + " |\n|" + "---|" * len(header))
        for row in rows:
            print("| " + " | ".join(row) + " |")
        return
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    for row in (header, *rows):
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


if __name__ == "__main__":
    main()
