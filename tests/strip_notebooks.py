"""Strip lesson notebooks for commit: keep only the small outputs that nbval checks.

A cell keeps its outputs (and execution count) only when its source contains
``# NBVAL_CHECK_OUTPUT``. Widget state and run metadata are removed everywhere.

Usage::

    python -m tests.strip_notebooks lessons/*.ipynb        # rewrite in place
    python -m tests.strip_notebooks --check lessons/*.ipynb  # exit 1 if any would change
    python -m tests.strip_notebooks --execute lessons/*.ipynb  # run, then strip (refresh outputs)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

CHECK_MARK = "# NBVAL_CHECK_OUTPUT"
MAX_NOTEBOOK_BYTES = 100_000


def strip(nb: dict) -> dict:
    """Return ``nb`` with outputs kept only in checked cells and no widget state."""
    nb = json.loads(json.dumps(nb))  # deep copy
    nb.get("metadata", {}).pop("widgets", None)
    for cell in nb.get("cells", []):
        meta = cell.get("metadata", {})
        for key in ("execution", "collapsed", "scrolled", "ExecuteTime"):
            meta.pop(key, None)
        if cell.get("cell_type") != "code":
            continue
        source = "".join(cell.get("source", []))
        if CHECK_MARK not in source:
            cell["outputs"] = []
            cell["execution_count"] = None
        else:
            cell["outputs"] = [o for o in cell.get("outputs", []) if not _is_widget(o)]
    return nb


def _is_widget(output: dict) -> bool:
    data = output.get("data", {})
    return "application/vnd.jupyter.widget-view+json" in data


def dumps(nb: dict) -> str:
    return json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def execute(nb: dict, cwd: Path, timeout: int = 120) -> dict:
    """Run every cell of ``nb`` in a fresh kernel (cwd = the notebook's folder)."""
    import os

    import nbclient
    import nbformat

    os.environ["RNNVIZ_SOLUTIONS"] = "1"  # run the %%solution cells, as nbval does in make test

    node = nbformat.reads(json.dumps(nb), as_version=4)
    client = nbclient.NotebookClient(
        node, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    )
    client.execute()
    return json.loads(nbformat.writes(node))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--check", action="store_true", help="report, do not rewrite")
    parser.add_argument("--execute", action="store_true", help="run the notebook first")
    args = parser.parse_args(argv)
    dirty = []
    for path in args.paths:
        text = path.read_text(encoding="utf-8")
        nb = json.loads(text)
        if args.execute:
            nb = execute(nb, path.resolve().parent)
        new = dumps(strip(nb))
        if new != text:
            dirty.append(path)
            if not args.check:
                path.write_text(new, encoding="utf-8")
    if args.check and dirty:
        print("not stripped: " + ", ".join(str(p) for p in dirty), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
