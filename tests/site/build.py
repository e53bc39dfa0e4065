"""Build the course as a static site that works offline, with no kernel: ``make site``.

Every lesson is executed (nbconvert's ``ExecutePreprocessor``) with ``RNNVIZ_SOLUTIONS=1``
(solutions run) and ``RNNVIZ_STATIC_SITE=1`` (``rnnviz.dashboard`` returns a recorded replay
instead of a live widget), then exported with nbconvert's ``HTMLExporter`` and the small
template in ``tests/site/templates/rnnviz`` (the ``lab`` template without require.js or CDN
URLs). Between the two, plain functions on the notebook:

- plotly outputs (``application/vnd.plotly.v1+json``, which nbconvert drops) become HTML
  through ``plotly.io.to_html`` without plotly.js; each page loads the ``plotly.min.js``
  copied once from the installed plotly package; a figure wider than the page is fitted to it;
- widget outputs (``interact``, ``interactive_output``, progress bars) become what their
  ``Output`` widgets captured when the cell ran, with a note that the controls need a
  kernel; widgets with nothing to show are dropped, never left as an empty output;
- solution cells (``%%solution`` or the ``solution`` tag) are collapsed in ``<details>``;
- links to ``NN_topic.ipynb`` become links to ``NN_topic.html``, to ``README.md`` ``index.html``.

MathJax 2 comes from the installed ``jupyter-server-mathjax`` package, copied into the site.
``lessons/README.md`` becomes ``index.html``. Nothing on a page loads from the network.

Usage::

    python -m tests.site.build                  # all lessons into site/
    python -m tests.site.build --out /tmp/site lessons/02_elman_rnn.ipynb
    python -m tests.site.build --jobs 2         # two kernels at a time
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
LESSONS = ROOT / "lessons"
TEMPLATES = Path(__file__).resolve().parent / "templates"
MATHJAX_URL = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"
PLOTLY_CONFIG = {"responsive": True, "displaylogo": False}
MAX_FIGURE_WIDTH = 1100  # px: about the output area of a page at 1280 px (site.css: 1200 max)
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
PLOTLY_JSON = "application/vnd.plotly.v1+json"
CELL_TIMEOUT = 600  # seconds per cell


@dataclass
class Page:
    """One lesson: its notebook, the page it becomes and its title."""

    source: Path
    html: str
    title: str


# ----------------------------------------------------------------------------- notebook edits


def is_solution(cell: dict) -> bool:
    """A lesson's solution cell: ``%%solution`` first line or the ``solution`` tag."""
    if cell.get("cell_type") != "code":
        return False
    tags = cell.get("metadata", {}).get("tags", [])
    return "solution" in tags or cell.get("source", "").lstrip().startswith("%%solution")


def mark_solutions(nb: Any) -> int:
    """Tag every solution cell ``solution`` (the template collapses those); returns how many."""
    n = 0
    for cell in nb.cells:
        if is_solution(cell):
            tags = cell.setdefault("metadata", {}).setdefault("tags", [])
            if "solution" not in tags:
                tags.append("solution")
            n += 1
    return n


_LINK = re.compile(r"(\]\(\s*<?|href\s*=\s*[\"'])((?:\./)?[\w.-]+)\.ipynb(?=[#)>\"'\s])")


_README = re.compile(r"(\]\(\s*<?|href\s*=\s*[\"'])(?:\./)?README\.md(?=[#)>\"'\s])")


def rewrite_links(text: str) -> str:
    """Relative links to ``x.ipynb`` become links to ``x.html``, and the lessons' README
    (the course's contents) becomes ``index.html`` (markdown and HTML links)."""
    text = _LINK.sub(lambda m: f"{m.group(1)}{m.group(2)}.html", text)
    return _README.sub(lambda m: f"{m.group(1)}index.html", text)


def plotly_to_html(nb: Any) -> int:
    """Give every plotly output an HTML form (plotly.js itself is loaded once per page)."""
    import plotly.io as pio

    n = 0
    for i, cell in enumerate(nb.cells):
        for k, out in enumerate(cell.get("outputs", [])):
            data = out.get("data", {})
            if PLOTLY_JSON not in data:
                continue
            fig = data.pop(PLOTLY_JSON)
            fig = json.loads(fig) if isinstance(fig, str) else dict(fig)
            layout = fig.setdefault("layout", {})
            if (layout.get("width") or 0) > MAX_FIGURE_WIDTH:  # fit it to the page instead
                layout.pop("width")
                layout["autosize"] = True
            data["text/html"] = pio.to_html(
                fig, include_plotlyjs=False, include_mathjax=False, full_html=False,
                div_id=f"figure-{i}-{k}", auto_play=False, validate=False, config=PLOTLY_CONFIG)
            data.pop("text/plain", None)
            n += 1
    return n


def _captured(model_id: str, state: dict, seen: set[str]) -> tuple[list[dict], list[str]]:
    """Outputs captured by the Output widgets under ``model_id``, and the controls' labels."""
    if model_id in seen or model_id not in state:
        return [], []
    seen.add(model_id)
    model = state[model_id]
    st = model.get("state", {})
    outputs = copy.deepcopy(st.get("outputs", [])) if model.get("model_name") == "OutputModel" \
        else []
    controls = []
    if model.get("model_name") not in ("OutputModel", "LayoutModel") and "Style" not in \
            model.get("model_name", "") and "children" not in st and st.get("description"):
        controls.append(str(st["description"]))
    for child in st.get("children", []):
        if isinstance(child, str) and child.startswith("IPY_MODEL_"):
            more, names = _captured(child[len("IPY_MODEL_"):], state, seen)
            outputs += more
            controls += names
    return outputs, controls


def replace_widgets(nb: Any) -> int:
    """Widget outputs become what their Output widgets showed, or disappear; returns how many.

    The page loads no widget manager (it would come from a CDN): a control without a kernel
    does nothing, so it is replaced by a note, and the figures it drew at its starting value
    are kept.
    """
    import nbformat

    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    n = 0
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        outs = []
        for out in cell.get("outputs", []):
            view = out.get("data", {}).get(WIDGET_VIEW)
            if view is None:
                outs.append(out)
                continue
            n += 1
            captured, controls = _captured(str(view.get("model_id", "")), state, set())
            if captured:
                what = f"Interactive: {', '.join(controls)}. " if controls else ""
                outs.append(nbformat.v4.new_output(
                    "display_data", data={"text/markdown": (
                        f"*{what}The controls need a running kernel: open this lesson in "
                        "JupyterLab to use them. Shown here at their starting values.*")}))
                outs += [nbformat.from_dict(o) for o in captured]
        cell.outputs = outs
    nb.metadata.pop("widgets", None)
    return n


def lesson_title(nb: Any, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = re.search(r"^#\s+(.+)$", cell.source, re.M)
            if m:
                return m.group(1).strip()
    return fallback


# ----------------------------------------------------------------------------- steps


def execute(path: Path) -> Any:
    """Run every cell of the lesson at ``path`` in a fresh kernel (cwd = lessons/)."""
    import nbformat
    from nbconvert.preprocessors import ExecutePreprocessor

    nb = nbformat.read(path, as_version=4)
    ep = ExecutePreprocessor(timeout=CELL_TIMEOUT, kernel_name="python3")
    ep.preprocess(nb, {"metadata": {"path": str(path.parent)}})
    return nb


def prepare(nb: Any) -> Any:
    """The notebook edits above, in order."""
    replace_widgets(nb)
    plotly_to_html(nb)
    mark_solutions(nb)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = rewrite_links(cell.source)
    return nb


def exporter() -> Any:
    from nbconvert import HTMLExporter

    return HTMLExporter(template_name="rnnviz", extra_template_basedirs=[str(TEMPLATES)],
                        mathjax_url=MATHJAX_URL, require_js_url="", theme="light")


def render(nb: Any, name: str, title: str, nav: dict[str, Any]) -> str:
    nb.metadata["title"] = title
    resources = {"metadata": {"name": name}, "rnnviz": nav}
    html, _ = exporter().from_notebook_node(nb, resources=resources)
    return html


def index_notebook() -> Any:
    """``lessons/README.md`` as a one-cell notebook, without its section for maintainers."""
    import nbformat

    text = (LESSONS / "README.md").read_text(encoding="utf-8")
    text = re.split(r"^## For maintainers\s*$", text, maxsplit=1, flags=re.M)[0].rstrip()
    text = text.replace("Open them with `make lab` from the repository root.",
                        "This is the static copy of the course: read it here, or clone the "
                        "repository and run `make lab` to train the models yourself.")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(rewrite_links(text))]
    return nb


def copy_assets(out: Path) -> None:
    """plotly.min.js and MathJax, from installed packages, into the site (once)."""
    import jupyter_server_mathjax
    import plotly

    shutil.copyfile(Path(plotly.__file__).parent / "package_data" / "plotly.min.js",
                    out / "plotly.min.js")
    mathjax = Path(jupyter_server_mathjax.__file__).parent / "static"
    if not (mathjax / "MathJax.js").is_file():
        raise FileNotFoundError(f"MathJax.js not found in {mathjax}")
    shutil.rmtree(out / "mathjax", ignore_errors=True)
    shutil.copytree(mathjax, out / "mathjax")
    shutil.copyfile(TEMPLATES / "rnnviz" / "static" / "site.css", out / "site.css")


def _env() -> None:
    """What the kernels inherit: solutions run, dashboards replay, this checkout's rnnviz."""
    os.environ["RNNVIZ_SOLUTIONS"] = "1"
    os.environ["RNNVIZ_STATIC_SITE"] = "1"
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    path = os.environ.get("PYTHONPATH", "")
    if str(ROOT) not in path.split(os.pathsep):
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), path) if p)


def build(out: Path, lessons: list[Path], jobs: int = 1, log=print) -> list[Path]:
    """Execute and render ``lessons`` into ``out``; returns the pages written (index first)."""
    _env()
    out.mkdir(parents=True, exist_ok=True)
    copy_assets(out)
    all_lessons = sorted(LESSONS.glob("[0-9][0-9]_*.ipynb"))
    lessons = sorted(p.resolve() for p in lessons)

    def run(path: Path) -> tuple[Path, Any, float]:
        start = time.perf_counter()
        nb = execute(path)
        return path, nb, time.perf_counter() - start

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        done = {}
        for path, nb, seconds in pool.map(run, lessons):
            log(f"executed {path.name} in {seconds:.1f} s")
            done[path] = prepare(nb)

    titles = {p: p.stem for p in all_lessons}
    for path, nb in done.items():
        titles[path] = lesson_title(nb, path.stem)
    written = []
    index = out / "index.html"
    index.write_text(render(index_notebook(), "index", "rnnviz lessons", {"index": True}),
                     encoding="utf-8")
    written.append(index)
    for path, nb in done.items():
        k = all_lessons.index(path) if path in all_lessons else -1
        prev = all_lessons[k - 1] if k > 0 else None
        nxt = all_lessons[k + 1] if 0 <= k < len(all_lessons) - 1 else None
        nav = {"prev": prev and {"href": prev.stem + ".html", "title": titles[prev]},
               "next": nxt and {"href": nxt.stem + ".html", "title": titles[nxt]},
               "source": f"lessons/{path.name}"}
        page = out / f"{path.stem}.html"
        page.write_text(render(nb, path.stem, titles[path], nav), encoding="utf-8")
        written.append(page)
    (out / ".nojekyll").write_text("")  # GitHub Pages: serve the files as they are
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lessons", nargs="*", type=Path,
                        help="lesson notebooks (default: every lessons/NN_*.ipynb)")
    parser.add_argument("--out", type=Path, default=ROOT / "site", help="output folder")
    parser.add_argument("--jobs", type=int, default=1, help="lessons executed at a time")
    args = parser.parse_args(argv)
    lessons = args.lessons or sorted(LESSONS.glob("[0-9][0-9]_*.ipynb"))
    start = time.perf_counter()
    pages = build(args.out, lessons, jobs=args.jobs)
    print(f"wrote {len(pages)} pages to {args.out} in {time.perf_counter() - start:.0f} s; "
          f"open {args.out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
