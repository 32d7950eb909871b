"""A landing area in an object store: `s3://bucket/prefix` on AWS or any S3-compatible
service, so that workers on several machines ingest the same submissions.

Through fsspec (s3fs) directly, not Airflow's object storage layer (which is fsspec too),
because `chitieu ingest` runs without Airflow. Credentials and endpoint come from the
standard AWS settings every S3 client reads: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
`AWS_ENDPOINT_URL` (MinIO, Ceph, a cloud's S3 API), `AWS_REGION`, `AWS_PROFILE`, instance roles.

Each object is copied to a local temporary file whose modification time is the object's
LastModified, and that file goes through the same `load.ingest_file` as a local one: the
ledger's `submitted_at` is the object's LastModified, and re-runs recognise it as before.
A rejected object moves to the quarantine prefix with its `<file>.errors.csv` beside it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from chitieu.config import Settings
from chitieu.ingest.landing import LandingError
from chitieu.ingest.load import (
    FileResult,
    FileStat,
    Quarantine,
    already_loaded,
    ingest_file,
    quarantine_target,
    report_of,
)
from chitieu.ingest.read import is_not_a_submission
from chitieu.reference import Reference, load_reference

if TYPE_CHECKING:
    from chitieu.ingest.run import IngestSummary

Progress = Callable[[str], None]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def is_remote(location: Path | str | None) -> bool:
    """Whether a landing location is an object-store URL rather than a local folder."""
    return isinstance(location, str) and "://" in location and not location.startswith("file:")


def default_quarantine(landing_url: str) -> str:
    """The quarantine beside an S3 landing prefix: s3://b/in/landing → s3://b/in/quarantine.
    At a bucket's root it is the hidden prefix `.quarantine`, which discovery skips."""
    scheme, _, path = landing_url.partition("://")
    bucket, _, prefix = path.strip("/").partition("/")
    parent = PurePosixPath(prefix).parent.as_posix() if prefix else ""
    name = "quarantine" if prefix else ".quarantine"
    return f"{scheme}://{bucket}/" + (f"{parent}/{name}" if parent not in ("", ".") else name)


def _filesystem(url: str) -> Any:
    import fsspec

    # Listings are never cached: files arrive and leave between two looks.
    fs, _ = fsspec.core.url_to_fs(url, use_listings_cache=False, skip_instance_cache=True)
    return fs


def _ns(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1) * 1000


def _rel_key(rel_path: str) -> str:
    """`rel_path` checked like a local one: no absolute path, no `..` out of the prefix."""
    rel = PurePosixPath(rel_path)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        raise LandingError(f"{rel_path!r}: refused: it points outside the landing area")
    return rel.as_posix()


@dataclass
class RemoteDiscovery:
    root: str
    submissions: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    # (size, LastModified in ns) of each submission, as the ledger records a downloaded copy
    stats: dict[str, FileStat] = field(default_factory=dict)


class RemoteLanding:
    """The landing area at `url` and its quarantine at `quarantine_url`."""

    def __init__(self, url: str, quarantine_url: str | None = None) -> None:
        self.url = url.rstrip("/")
        self.quarantine_url = (quarantine_url or default_quarantine(self.url)).rstrip("/")
        self.fs = _filesystem(self.url)
        self._root = self.fs._strip_protocol(self.url).rstrip("/")
        self._quarantine_root = self.fs._strip_protocol(self.quarantine_url).rstrip("/")

    @classmethod
    def of(cls, settings: Settings, url: str | None = None) -> RemoteLanding:
        location = url or settings.landing_url
        if not location:
            raise LandingError("no object-store landing area configured")
        return cls(location, settings.quarantine_url)

    def key(self, rel_path: str) -> str:
        return f"{self._root}/{_rel_key(rel_path)}"

    def discover(self) -> RemoteDiscovery:
        """The same rules as a local folder: lock, hidden and system files are listed as
        ignored, every other object is a submission. Objects are written whole, so none is
        ever half-uploaded: no settling wait."""
        if not self.fs.exists(self._root):
            raise LandingError(f"Landing area {self.url} does not exist (or is not readable).")
        found = RemoteDiscovery(self.url)
        quarantine = self._quarantine_root + "/"
        objects = self.fs.find(self._root, detail=True)
        for key in sorted(objects):
            if key.startswith(quarantine) or not key.startswith(self._root + "/"):
                continue
            rel = PurePosixPath(key[len(self._root) + 1 :])
            if any(part.startswith(".") for part in rel.parts[:-1]):
                continue
            if is_not_a_submission(rel.name):
                found.ignored.append(rel.as_posix())
            else:
                found.submissions.append(rel.as_posix())
                info = objects[key]
                found.stats[rel.as_posix()] = (info["size"], _ns(info["LastModified"]))
        return found

    def last_modified(self, rel_path: str) -> datetime:
        return self.fs.info(self.key(rel_path))["LastModified"]

    def download(self, rel_path: str, dest: Path) -> Path:
        """A local copy of the object, stamped with its LastModified (its submitted_at)."""
        key = self.key(rel_path)
        stamp = _ns(self.fs.info(key)["LastModified"])
        dest.parent.mkdir(parents=True, exist_ok=True)
        self.fs.get_file(key, str(dest))
        os.utime(dest, ns=(stamp, stamp))
        return dest

    def ingest(self, url: str, rel_path: str, reference: Reference) -> FileResult:
        """Ingest one object through `load.ingest_file`, as a local file would be."""
        with tempfile.TemporaryDirectory(prefix="chitieu-s3-") as tmp:
            root = Path(tmp) / "landing"
            self.download(rel_path, root / _rel_key(rel_path))
            quarantine = RemoteQuarantine(self, rel_path, Path(tmp) / "scratch")
            return ingest_file(url, root, rel_path, reference, quarantine)


class RemoteQuarantine(Quarantine):
    """Quarantine in the object store: the report is uploaded beside the target, then the
    object moves there (a server-side copy and delete). The local folder only holds the
    error spools and the report on its way up."""

    def __init__(self, landing: RemoteLanding, rel_path: str, scratch: Path) -> None:
        super().__init__(scratch)
        self.landing = landing
        self.source = landing.key(rel_path)

    def target(self, rel_path: str, submission_id: int) -> str:
        moved = quarantine_target(Path(), rel_path, submission_id).as_posix()
        return f"{self.landing.quarantine_url}/{moved}"

    def report(self, target: str) -> str:
        return report_of(target)

    def move(self, path: Path, target: str, write: Callable[[Path], None]) -> None:
        fs = self.landing.fs
        local_report = self.folder / "report.errors.csv"
        local_report.parent.mkdir(parents=True, exist_ok=True)
        write(local_report)
        fs.put_file(str(local_report), fs._strip_protocol(self.report(target)))
        if fs.exists(self.source):  # a re-run finishing an interrupted move finds it gone
            fs.mv(self.source, fs._strip_protocol(target))


def ingest_remote_one(rel_path: str, url: str, settings: Settings, location: str) -> FileResult:
    """One object of the landing area `location` (the DAG maps this over the submissions)."""
    landing = RemoteLanding.of(settings, location)
    return landing.ingest(url, rel_path, load_reference(settings.seeds_dir))


def ingest_remote(
    location: str, settings: Settings, url: str, progress: Progress, jobs: int
) -> IngestSummary:
    """Every new or changed object of the landing area `location`, `jobs` at a time (the
    others are recognised from their listing, without a download)."""
    from chitieu.ingest.run import IngestSummary

    landing = RemoteLanding.of(settings, location)
    found = landing.discover()
    summary = IngestSummary(landing.url, landing.quarantine_url, ignored=found.ignored)
    if not found.submissions:
        progress(f"no submission files in {landing.url}")
        return summary
    todo, by_path = already_loaded(url, found.submissions, found.stats.get)
    if by_path:
        progress(f"{len(by_path)} object(s) already loaded and unchanged: skipped")
    reference = load_reference(settings.seeds_dir)
    total = len(todo)
    jobs = max(1, min(jobs, total))
    if todo:
        progress(f"ingesting {total} file(s) from {landing.url} ({jobs} at a time)")
    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="ingest-s3") as pool:
        results = pool.map(lambda rel: landing.ingest(url, rel, reference), todo)
        for number, result in enumerate(results, start=1):
            by_path[result.path] = result
            if result.outcome != "unchanged":
                progress(f"  [{number}/{total}] {result.outcome:<9} {result.path}")
    summary.results = [by_path[rel] for rel in found.submissions]
    for rel in found.ignored:
        progress(f"  ignored (not a submission): {rel}")
    return summary
