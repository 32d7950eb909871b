"""Headless Chromium: print a brief to PDF, screenshot it, or read its DOM after layout.

Debian's `chromium` package (`/usr/bin/chromium`) or any Chromium/Chrome named by
`CHITIEU_CHROMIUM`. Every run gets a fresh profile folder and the flags below: no GPU, no
sandbox (containers and root), and no background traffic, so printing a brief needs no
network at all.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from chitieu.config import load_settings
from chitieu.exceptions import DataError

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--mute-audio",
)
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_HINT = (
    "install Chromium with `sudo apt-get install -y chromium` (Debian/Ubuntu) or "
    "`make chromium`, or set CHITIEU_CHROMIUM to a Chromium or Chrome binary"
)


class ChromiumMissing(DataError):
    """No Chromium to print with (a setup problem retrying cannot fix); the message says how
    to install one."""


class ChromiumFailed(RuntimeError):
    """Chromium ran but did not produce its output."""


def find_chromium() -> str | None:
    configured = load_settings().chromium
    if configured:
        return configured if Path(configured).exists() else shutil.which(configured)
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def install_chromium() -> None:
    """`apt-get install -y chromium`, as root on Debian or Ubuntu; raises otherwise."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise ChromiumMissing(f"Chromium is not installed: {INSTALL_HINT}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        if result.returncode != 0:
            raise ChromiumMissing(
                f"`{' '.join(command)}` failed ({result.stderr.strip()[-300:]}): {INSTALL_HINT}"
            )


def ensure_chromium(install: bool = False) -> str:
    """The Chromium binary; with `install`, installs it first when missing (root, apt)."""
    found = find_chromium()
    if found:
        return found
    if install:
        install_chromium()
        found = find_chromium()
        if found:
            return found
    raise ChromiumMissing(f"Chromium is not installed: {INSTALL_HINT}")


def run_chromium(args: list[str], timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """Chromium with the project's flags and a fresh profile folder."""
    binary = ensure_chromium()
    with tempfile.TemporaryDirectory(prefix="chitieu-chromium-") as profile:
        command = [binary, *FLAGS, f"--user-data-dir={profile}", *args]
        try:
            return subprocess.run(
                command, capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise ChromiumFailed(f"Chromium did not finish in {timeout:.0f} s") from exc


# No network at all: every request but to local files fails, as on a machine with none.
OFFLINE_FLAGS = ["--proxy-server=http://127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND"]


def dump_dom(html: Path, width: int = 1000, offline: bool = False) -> str:
    """The page's DOM as Chromium serialises it after loading the file (and running its
    scripts for up to 5 s of virtual time); `offline`: with the network cut off."""
    flags = [f"--window-size={width},1000", "--virtual-time-budget=5000"]
    flags += OFFLINE_FLAGS if offline else []
    result = run_chromium([*flags, "--dump-dom", html.resolve().as_uri()])
    if result.returncode != 0 or "<html" not in result.stdout:
        raise ChromiumFailed(f"--dump-dom failed: {result.stderr.strip()[-500:]}")
    return result.stdout


def print_pdf(html: Path, pdf: Path | None = None) -> Path:
    """Print the page to PDF (A4, the page's print CSS), next to it unless `pdf` is given."""
    pdf = pdf or html.with_suffix(".pdf")
    pdf.unlink(missing_ok=True)
    result = run_chromium(
        ["--no-pdf-header-footer", f"--print-to-pdf={pdf.resolve()}", html.resolve().as_uri()]
    )
    if not pdf.exists() or pdf.stat().st_size == 0:
        raise ChromiumFailed(f"--print-to-pdf wrote nothing: {result.stderr.strip()[-500:]}")
    return pdf


_HEIGHT = re.compile(r"<title>chitieu-height:([0-9]+)</title>")


def page_height(html: Path, width: int) -> int:
    """The height of the laid-out page at `width`, measured on a copy with a tiny script
    (the brief itself has no script)."""
    text = html.read_text(encoding="utf-8")
    probe = (
        "<script>document.title = 'chitieu-height:' + "
        "Math.ceil(document.documentElement.scrollHeight);</script>"
    )
    with tempfile.TemporaryDirectory(prefix="chitieu-measure-") as folder:
        copy = Path(folder) / "measure.html"
        copy.write_text(text.replace("</body>", probe + "</body>", 1), encoding="utf-8")
        dom = dump_dom(copy, width)
    match = _HEIGHT.search(dom)
    if not match:
        raise ChromiumFailed("could not measure the page's height")
    return int(match.group(1))


def screenshot(html: Path, png: Path | None = None, width: int = 1000) -> Path:
    """A PNG of the whole page at `width` CSS pixels, next to it unless `png` is given."""
    png = png or html.with_suffix(".png")
    height = min(page_height(html, width), 30000)
    png.unlink(missing_ok=True)
    result = run_chromium(
        [
            f"--screenshot={png.resolve()}",
            f"--window-size={width},{height}",
            html.resolve().as_uri(),
        ]
    )
    if not png.exists() or png.stat().st_size == 0:
        raise ChromiumFailed(f"--screenshot wrote nothing: {result.stderr.strip()[-500:]}")
    return png
