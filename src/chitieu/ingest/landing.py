"""The landing area: where departments drop files, and what in it is a submission.

Two guards sit here, before any file is read:

- confinement: a submission is a file inside the landing root. A symlink to a file outside
  it, or a relative path with `..` or an absolute path handed to `ingest_one`, is refused:
  the ingest must never read, load or move anything outside the landing area.
- settling: a file still being copied in (its size or modification time changes between two
  looks a moment apart) is left for the next run rather than loaded half-written. The two
  looks are taken once per run for all files, and only when some file was modified in the
  last `settle_seconds` (writing a file keeps its mtime current).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from chitieu.exceptions import DataError
from chitieu.ingest.read import is_not_a_submission

OUTSIDE = "refused: it points outside the landing area"
BUSY = "still being written; will be picked up next run"


class LandingError(DataError):
    """The landing area cannot be used (missing, not a folder), or a path leaves it."""


@dataclass
class Discovery:
    root: Path
    submissions: list[str] = field(default_factory=list)  # paths relative to root, sorted
    # clearly not submissions (lock files, hidden and system files): listed, left alone
    ignored: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # links leading out of the landing area
    busy: list[str] = field(default_factory=list)  # still being written: left for next run


def _inside(root: Path, path: Path) -> bool:
    """Whether `path`, links followed, is under the resolved `root`."""
    return path.resolve().is_relative_to(root)


def submission_path(root: Path, rel_path: str) -> Path:
    """The file `rel_path` names in the landing area `root`; raises `LandingError` when the
    path is absolute, climbs out with `..`, or is (or passes through) a link leading out."""
    root = root.expanduser().resolve()
    rel = Path(rel_path)
    if rel.is_absolute() or ".." in rel.parts or not _inside(root, root / rel):
        raise LandingError(
            f"{rel_path!r}: {OUTSIDE} ({root}); only files under it are ingested,"
            " named by their path relative to it"
        )
    return root / rel


def _changed(looks: dict[str, tuple[int, int]], root: Path) -> list[str]:
    changed = []
    for rel, before in looks.items():
        try:
            stat = (root / rel).stat()
        except FileNotFoundError:
            changed.append(rel)  # moved away meanwhile: not ours to load this run
            continue
        if (stat.st_size, stat.st_mtime_ns) != before:
            changed.append(rel)
    return changed


def settle(root: Path, rels: list[str], seconds: float) -> list[str]:
    """The files of `rels` still being written: their size or mtime changed over `seconds`.
    Waits at most once, and not at all when every file is older than `seconds`."""
    if seconds <= 0 or not rels:
        return []
    looks = {}
    for rel in rels:
        stat = (root / rel).stat()
        looks[rel] = (stat.st_size, stat.st_mtime_ns)
    recent = time.time_ns() - int(seconds * 1e9)
    if all(mtime < recent for _size, mtime in looks.values()):
        return []
    time.sleep(seconds)
    return _changed(looks, root)


def discover(root: Path, settle_seconds: float = 0.0) -> Discovery:
    root = root.expanduser()
    if not root.exists():
        raise LandingError(
            f"Landing area {root} does not exist. Create it and drop submission files"
            " (.xlsx, .xls, .ods, .csv) into it, or pass --landing DIR."
        )
    if not root.is_dir():
        raise LandingError(f"Landing area {root} is not a folder.")
    found = Discovery(root.resolve())
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if any(part.startswith(".") for part in Path(rel).parts[:-1]):
            continue  # inside a hidden folder (.git, .spool): not part of the landing area
        if not _inside(found.root, path):
            found.refused.append(rel)
        elif is_not_a_submission(path.name):
            found.ignored.append(rel)
        else:
            # Every other file gets a ledger entry; one in a format the contract does not
            # read is rejected with a report saying which formats to use.
            found.submissions.append(rel)
    found.busy = settle(found.root, found.submissions, settle_seconds)
    if found.busy:
        busy = set(found.busy)
        found.submissions = [rel for rel in found.submissions if rel not in busy]
    return found


def describe(found: Discovery) -> list[str]:
    """One line per file left out of this run, and why."""
    return [f"  {OUTSIDE}: {rel}" for rel in found.refused] + [
        f"  {BUSY}: {rel}" for rel in found.busy
    ]
