"""The landing area: where departments drop files, and what in it is a submission."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from chitieu.exceptions import DataError
from chitieu.ingest.read import file_format


class LandingError(DataError):
    """The landing area cannot be used (missing, not a folder)."""


@dataclass
class Discovery:
    root: Path
    submissions: list[str] = field(default_factory=list)  # paths relative to root, sorted
    ignored: list[str] = field(default_factory=list)  # other files, reported and left alone


def _is_scratch(path: Path) -> bool:
    # Office lock files (~$report.xlsx) and hidden files are never submissions.
    return path.name.startswith(("~$", "."))


def discover(root: Path) -> Discovery:
    root = root.expanduser()
    if not root.exists():
        raise LandingError(
            f"Landing area {root} does not exist. Create it and drop submission files"
            " (.csv, .xlsx) into it, or pass --landing DIR."
        )
    if not root.is_dir():
        raise LandingError(f"Landing area {root} is not a folder.")
    found = Discovery(root.resolve())
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if any(part.startswith(".") for part in Path(rel).parts) or _is_scratch(path):
            continue
        (found.submissions if file_format(path) else found.ignored).append(rel)
    return found
