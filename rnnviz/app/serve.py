"""``make present``: the Playground as a code-free lecture app, served by Voila on this machine.

Picks the port (``PORT``, default 8866, or the next free one), prints the one URL that works,
then runs Voila on ``lessons/playground.ipynb`` with the ``rnnviz`` template (Voila's lab
template without its CDN fonts): no code, no tracebacks, nothing fetched from the internet;
the widgets' JavaScript and plotly.js come from the installed packages.

    python -m rnnviz.app.serve [--port 8866] [--notebook lessons/playground.ipynb]
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path

from rnnviz.i18n import _

ROOT = Path(__file__).resolve().parents[2]  # the repository: lessons/ and assets/
HOST = "127.0.0.1"


def free_port(start: int, tries: int = 50) -> int:
    """``start`` if nobody listens there, else the next free port after it."""
    for port in range(start, start + tries):
        with socket.socket() as s:
            try:
                s.bind((HOST, port))
            except OSError:
                continue
            return port
    raise SystemExit(f"no free port in {start}..{start + tries - 1}")  # i18n-ignore


def command(notebook: Path, port: int) -> list[str]:
    """The Voila command line (tests start the same server)."""
    return [
        sys.executable, "-m", "voila", str(notebook),
        "--template=rnnviz", "--no-browser",
        f"--port={port}", "--Voila.ip=" + HOST, "--Voila.port_retries=0",
        "--show_tracebacks=False",
    ]  # fmt: skip


def environment() -> dict[str, str]:
    """Voila finds the ``rnnviz`` template in assets/voila/ (JUPYTER_PATH); threads as ``make test``."""
    env = dict(os.environ)
    paths = (str(ROOT / "assets"), env.get("JUPYTER_PATH", ""))  # assets/voila/templates/rnnviz
    env["JUPYTER_PATH"] = os.pathsep.join(p for p in paths if p)
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 8866))
    parser.add_argument("--notebook", type=Path, default=ROOT / "lessons" / "playground.ipynb")
    args = parser.parse_args()
    port = free_port(args.port)
    print(_("rnnviz Playground: open {url} in a browser (no token needed; only this computer "
            "can connect). Ctrl+C stops it.").format(url=f"http://{HOST}:{port}/"), flush=True)
    cmd = command(args.notebook, port)
    os.execve(cmd[0], cmd, environment())


if __name__ == "__main__":
    main()
