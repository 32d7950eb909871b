"""GX Data Docs that render with no network, as many provincial networks have none.

The Data Docs pages GX writes load Bootstrap, jQuery, bootstrap-table, popper, Font
Awesome, bootstrap-datepicker and Vega from public CDNs. Those are npm packages: their
published tarballs, pinned by version and checked against the registry's sha512, are
fetched once when the project is installed (`make install` runs `python -m
chitieu.gx_offline`) into the environment; after every Data Docs build they are copied
beside the site (`static/offline/`) and the pages are made to reference the copies.

Without the packages (an install that could not reach the npm registry), the pages keep
the CDN addresses and a warning says how to fetch them.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import os
import re
import shutil
import sys
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

REGISTRY = "https://registry.npmjs.org"
ASSETS = Path(sys.prefix) / "share" / "chitieu" / "npm"
OFFLINE = Path("static") / "offline"  # inside the Data Docs site


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    integrity: str  # the registry's dist.integrity (sha512)

    @property
    def folder(self) -> str:
        return f"{self.name.replace('/', '+')}-{self.version}"

    @property
    def tarball(self) -> str:
        return f"{REGISTRY}/{self.name}/-/{self.name.split('/')[-1]}-{self.version}.tgz"


PACKAGES = {
    "jquery": Package(
        "jquery",
        "3.7.1",
        "sha512-m4avr8yL8kmFN8psrbFFFmB/If14iN5o9nw/NgnnM+kybDJpRsAynV2BsfpTYrTRysYUdADVD7CkUUizgkpLfg==",
    ),
    "bootstrap": Package(
        "bootstrap",
        "4.3.1",
        "sha512-rXqOmH1VilAt2DyPzluTi2blhk17bO7ef+zLLPlWvG494pDxcM234pJ8wTc/6R40UWizAIIMgxjvxZg5kmsbag==",
    ),
    "popper": Package(
        "popper.js",
        "1.12.9",
        "sha512-s0EEi9xiSCdqz9lV4IiVH5yIZnDX/U1t0tCjB+0jXx9jW8lrR7kOpVupiUg175ogqVoudpDXHF1p6dKATCHMeg==",
    ),
    "bootstrap-table": Package(
        "bootstrap-table",
        "1.19.1",
        "sha512-WvV+l1AI/C+zThaKmfHmi/IuayVNB0qdFyEhFx1jyZhO0oLtNJNANkCR3rvJf6Dkh72dsLElxpE/bzK9seEQLA==",
    ),
    "fontawesome": Package(
        "@fortawesome/fontawesome-free",
        "6.6.0",
        "sha512-60G28ke/sXdtS9KZCpZSHHkCbdsOGEhIUGlwq6yhY74UpTiToIh8np7A8yphhM4BWsvNFtIvLpi4co+h9Mr9Ow==",
    ),
    "datepicker": Package(
        "bootstrap-datepicker",
        "1.9.0",
        "sha512-9rYYbaVOheGYxjOr/+bJCmRPihfy+LkLSg4fIFMT9Od8WwWB/MB50w0JO1eBgKUMbb7PFHQD5uAfI3ArAxZRXA==",
    ),
    "vega": Package(
        "vega",
        "5.33.1",
        "sha512-1fArfVDUqVbb5z8n+/nVQb+VNBzx8svY6CrsyTK4Ujm4yrd9I1auoKxBAPXLCavY1LcrbHUskQbGUP8gXOzyQw==",
    ),
    "vega-lite": Package(
        "vega-lite",
        "5.23.0",
        "sha512-l4J6+AWE3DIjvovEoHl2LdtCUkfm4zs8Xxx7INwZEAv+XVb6kR6vIN1gt3t2gN2gs/y4DYTs/RPoTeYAuEg6mA==",
    ),
    "vega-embed": Package(
        "vega-embed",
        "6.29.0",
        "sha512-PmlshTLtLFLgWtF/b23T1OwX53AugJ9RZ3qPE2c01VFAbgt3/GSNI/etzA/GzdrkceXFma+FDHNXUppKuM0U6Q==",
    ),
    "bootstrap-dark": Package(
        "@forevolve/bootstrap-dark",
        "1.1.0",
        "sha512-A3ucpEpxPoTVO490lZZCfjPXxv832l7mm1IxX3bXyxvgwnPGXDLyh7dWrphXKO8YBAu3EswbBEu3VSW8NRMW3A==",
    ),
}

# An address the pages load → (package, the file in it; None: a file of the site itself).
LINKS: list[tuple[re.Pattern[str], str | None, str]] = [
    (re.compile(r"https://code\.jquery\.com/jquery-3\.7\.1\.min\.js"), "jquery", "dist/jquery.min.js"),  # noqa: E501
    (
        re.compile(r"https://(?:maxcdn|stackpath)\.bootstrapcdn\.com/bootstrap/4\.3\.1/(css|js)/(bootstrap\.min\.(?:css|js))"),
        "bootstrap",
        r"dist/\1/\2",
    ),
    (
        re.compile(r"https://cdnjs\.cloudflare\.com/ajax/libs/popper\.js/1\.12\.9/umd/popper\.min\.js"),
        "popper",
        "dist/umd/popper.min.js",
    ),
    (re.compile(r"https://unpkg\.com/bootstrap-table@1\.19\.[01]/(dist/[\w./-]+)"), "bootstrap-table", r"\1"),  # noqa: E501
    (
        re.compile(r"https://cdnjs\.cloudflare\.com/ajax/libs/font-awesome/6\.6\.0/css/all\.min\.css"),
        "fontawesome",
        "css/all.min.css",
    ),
    (
        re.compile(r"https://cdnjs\.cloudflare\.com/ajax/libs/bootstrap-datepicker/1\.9\.0/(css|js)/([\w.-]+)"),
        "datepicker",
        r"dist/\1/\2",
    ),
    (re.compile(r"https://cdn\.jsdelivr\.net/npm/vega@5"), "vega", "build/vega.min.js"),
    (re.compile(r"https://cdn\.jsdelivr\.net/npm/vega-lite@5"), "vega-lite", "build/vega-lite.min.js"),  # noqa: E501
    (re.compile(r"https://cdn\.jsdelivr\.net/npm/vega-embed@6"), "vega-embed", "build/vega-embed.min.js"),  # noqa: E501
    (
        re.compile(r"https://cdn\.jsdelivr\.net/npm/@forevolve/bootstrap-dark@1\.1\.0/(dist/css/[\w.-]+)"),
        "bootstrap-dark",
        r"\1",
    ),
    (
        re.compile(r"https://great-expectations-web-assets\.s3[\w.-]*\.amazonaws\.com/[\w.-]+\.png[^\"'\s)]*"),
        None,
        "static/images/logo-long.png",
    ),
]  # fmt: skip


# --- fetching, at install time ----------------------------------------------------------------


def _verified(package: Package, data: bytes) -> bytes:
    algorithm, _, expected = package.integrity.partition("-")
    digest = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if digest != expected:
        raise ValueError(f"{package.name}@{package.version}: the tarball's {algorithm} differs")
    return data


def fetch(package: Package, into: Path = ASSETS) -> Path:
    """The package's files (source maps aside) under `into`, downloaded and checked once."""
    target = into / package.folder
    if (target / "package.json").is_file():
        return target
    with urllib.request.urlopen(package.tarball, timeout=60) as response:
        data = _verified(package, response.read())
    staging = target.with_name(target.name + ".part")
    shutil.rmtree(staging, ignore_errors=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        members = [
            m
            for m in archive.getmembers()
            if m.isfile() and m.name.startswith("package/") and not m.name.endswith(".map")
        ]
        for member in members:
            member.name = member.name.removeprefix("package/")
        archive.extractall(staging, members=members, filter="data")
    staging.replace(target)
    return target


def fetch_all(into: Path = ASSETS) -> list[Path]:
    return [fetch(package, into) for package in PACKAGES.values()]


# --- the site -----------------------------------------------------------------------------


def _available(into: Path) -> bool:
    return all((into / p.folder / "package.json").is_file() for p in PACKAGES.values())


# Files a copied file needs beside it (Font Awesome's CSS loads ../webfonts/*).
NEEDS = {"fontawesome": ["webfonts"]}


def make_offline(site: Path, assets: Path = ASSETS) -> bool:
    """Point the pages of the Data Docs site at `site` to copies of what they load, made
    beside them. False (and a warning) when the packages were never fetched."""
    if not _available(assets):
        log.warning(
            "GX Data Docs keep their CDN links: the npm packages are not installed"
            " (run `%s -m chitieu.gx_offline` where the npm registry is reachable)",
            sys.executable,
        )
        return False
    used: set[tuple[str, str]] = set()
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        local = _localized(text, os.path.relpath(site, page.parent), used)
        if local != text:
            page.write_text(local, encoding="utf-8")
    for key, path in used:
        package = PACKAGES[key]
        for needed in [path, *(str(Path(path).parent.parent / n) for n in NEEDS.get(key, []))]:
            source = assets / package.folder / needed
            target = site / OFFLINE / package.folder / needed
            if target.exists() or not source.exists():
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, target)
            else:
                shutil.copy2(source, target)
    return True


def _localized(text: str, to_site: str, used: set[tuple[str, str]]) -> str:
    """`text` with each address of LINKS replaced by its copy's path (from the page's
    folder, `to_site` being the site's root); the (package, file) pairs used go to `used`."""

    def local(match: re.Match[str], key: str | None, path: str) -> str:
        file = match.expand(path)
        if key is None:
            return f"{to_site}/{file}"
        used.add((key, file))
        return f"{to_site}/{OFFLINE.as_posix()}/{PACKAGES[key].folder}/{file}"

    for pattern, key, path in LINKS:
        text = pattern.sub(lambda m, k=key, p=path: local(m, k, p), text)
    return text


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    for folder in fetch_all():
        print(f"GX Data Docs assets: {folder}")
