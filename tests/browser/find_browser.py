"""Find (and with ``--install``, install) the Chromium the browser tests drive.

Search order: ``$RNNVIZ_CHROMIUM``, ``/usr/bin/chromium``, ``/usr/bin/chromium-browser``,
then the Chromium that ``playwright install chromium`` downloads. With ``--install`` and no
browser found: ``apt-get install chromium`` when root on Debian/Ubuntu, else
``python -m playwright install chromium``.

Usage::

    python tests/browser/find_browser.py            # print the path, or exit 1 with a message
    python tests/browser/find_browser.py --install  # find, else install, then print the path
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

SYSTEM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
HOW_TO = (
    "No Chromium found for the browser tests. Run `make browser` (root on Debian/Ubuntu: "
    "apt-get install chromium; otherwise: python -m playwright install chromium), or set "
    "RNNVIZ_CHROMIUM to a Chromium executable."
)
# Flags for a headless Chromium in containers and CI: no sandbox (root), no network chatter.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _executable(path: str | os.PathLike | None) -> str | None:
    if path and Path(path).is_file() and os.access(path, os.X_OK):
        return str(path)
    return None


def playwright_chromium() -> str | None:
    """Path of playwright's own downloaded Chromium, if it is there."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    try:
        with sync_playwright() as p:
            return _executable(p.chromium.executable_path)
    except Exception:  # driver missing or broken: no browser from playwright
        return None


def find_chromium() -> str | None:
    """Return the first Chromium found, or ``None``."""
    env = os.environ.get("RNNVIZ_CHROMIUM")
    if env:
        return _executable(env) or _executable(shutil.which(env))
    for path in SYSTEM_PATHS:
        if found := _executable(path):
            return found
    return playwright_chromium()


def _is_debian() -> bool:
    try:
        text = Path("/etc/os-release").read_text()
    except OSError:
        return False
    return any(word in text.lower() for word in ("debian", "ubuntu"))


def install() -> None:
    """Install a Chromium: Debian's package when root on Debian/Ubuntu, else playwright's."""
    if hasattr(os, "geteuid") and os.geteuid() == 0 and _is_debian() and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "chromium"], check=True, env=env)
    else:
        subprocess.run([sys.executable, "-m", "playwright", "install", "chromium"], check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Find the Chromium for the browser tests.")
    parser.add_argument("--install", action="store_true", help="install one when none is found")
    args = parser.parse_args(argv)
    env = os.environ.get("RNNVIZ_CHROMIUM")
    path = find_chromium()
    if env and path is None:  # an explicit choice: report it, do not install something else
        print(f"find_browser: RNNVIZ_CHROMIUM={env!r} is not an executable file", file=sys.stderr)
        return 1
    if path is None and args.install:
        try:
            install()
        except (OSError, subprocess.CalledProcessError) as err:
            print(f"find_browser: installing Chromium failed: {err}", file=sys.stderr)
        path = find_chromium()
    if path is None:
        print(f"find_browser: {HOW_TO}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
