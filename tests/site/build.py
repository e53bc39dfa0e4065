"""Build the course as a static site that works offline, with no kernel: ``make site``.

Every lesson is executed (nbclient's ``NotebookClient``) with ``RNNVIZ_SOLUTIONS=1`` (solutions
run) and ``RNNVIZ_STATIC_SITE=1`` (``rnnviz.dashboard`` returns a recorded replay
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
- links to ``NN_topic.ipynb`` become links to ``NN_topic.html``, to ``README.md`` ``index.html``
  (and to another markdown page of the lessons, ``ru/GLOSSARY.md``, ``GLOSSARY.html``).

Both editions are built: the English lessons ``lessons/NN_*.ipynb`` into the site's root with
``lessons/README.md`` as ``index.html``, the Russian ones ``lessons/ru/NN_*.ipynb`` into
``ru/`` with ``lessons/ru/README.md`` as ``ru/index.html`` (and ``ru/GLOSSARY.html``). The
site mirrors ``lessons/``, so every relative link between the editions keeps working; Russian
pages are ``lang="ru"``, their kernels run with ``RNNVIZ_LANG=ru`` (rnnviz's figures in
Russian), and the page's own words (navigation, notes) are Russian. Each lesson page links
to the same lesson in the other edition when there is one.

MathJax 2 comes from the installed ``jupyter-server-mathjax`` package, copied into the site.
Nothing on a page loads from the network.

Usage::

    python -m tests.site.build                  # both editions into site/
    python -m tests.site.build --out /tmp/site lessons/02_elman_rnn.ipynb lessons/ru/02_elman_rnn.ipynb
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


@dataclass(frozen=True)
class Edition:
    """One language edition of the course: where its notebooks are, where its pages go, and
    the words the site itself puts on its pages."""

    lang: str
    folder: Path  # lessons/ or lessons/ru/
    prefix: str  # where its pages go in the site: "" or "ru/"
    maintainers: str  # the heading of the README section that the site leaves out
    make_lab: str  # the README's "open them with make lab" sentence (a regex) ...
    static_copy: str  # ... and what the site says instead
    words: dict[str, str]

    @property
    def root(self) -> str:
        """From one of its pages back to the site's root (where the shared assets are)."""
        return "../" * self.prefix.count("/")

    def lessons(self) -> list[Path]:
        return sorted(self.folder.glob("[0-9][0-9]_*.ipynb"))


EDITIONS: dict[str, Edition] = {
    "en": Edition(
        lang="en", folder=LESSONS, prefix="", maintainers="For maintainers",
        make_lab=r"Open them with `make lab` from the repository root\.",
        static_copy="This is the static copy of the course: read it here, or clone the repository "
                    "and run `make lab` to train the models yourself.",
        words={"course": "rnnviz course", "solution": "Solution", "title": "rnnviz lessons",
               "other": "Русская версия", "other_lang": "ru",
               "static": "A static copy of <code>{source}</code>: every output was recorded when "
                         "this page was built, and the live dashboard appears as a recorded "
                         "replay. To run the code and train live, clone the repository and run "
                         "<code>make lab</code>.",
               "interactive": "Interactive: {controls}. ",
               "kernel": "The controls need a running kernel: open this lesson in JupyterLab to "
                         "use them. Shown here at their starting values."}),
    "ru": Edition(
        lang="ru", folder=LESSONS / "ru", prefix="ru/", maintainers="Для сопровождающих",
        make_lab=r"Откройте уроки командой `make lab` из\s+корня репозитория\.",
        static_copy="Это статическая копия курса: читайте её здесь или клонируйте репозиторий и "
                    "выполните `make lab`, чтобы обучать модели самостоятельно.",
        words={"course": "Курс rnnviz", "solution": "Решение", "title": "Уроки rnnviz",
               "other": "English version", "other_lang": "en",
               "static": "Статическая копия <code>{source}</code>: все выводы записаны при сборке "
                         "этой страницы, а живая панель показана записанным повтором. Чтобы "
                         "запускать код и обучать модели вживую, клонируйте репозиторий и "
                         "выполните <code>make lab</code>.",
               "interactive": "Интерактивный вывод: {controls}. ",
               "kernel": "Элементам управления нужно работающее ядро: откройте урок в "
                         "JupyterLab, чтобы ими пользоваться. Здесь они показаны в начальном "
                         "положении."}),
}


def edition_of(path: Path) -> Edition:
    """The edition a notebook or markdown file of ``lessons/`` belongs to."""
    folder = path.resolve().parent
    for edition in EDITIONS.values():
        if folder == edition.folder:
            return edition
    raise ValueError(f"{path} is not in lessons/ or lessons/ru/")


def page_path(path: Path) -> str:
    """Where the page of a lesson (or markdown file) of ``lessons/`` goes, relative to the site."""
    edition = edition_of(path)
    name = "index" if path.name == "README.md" else path.stem
    return f"{edition.prefix}{name}.html"


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


_LINK = re.compile(r"(\]\(\s*<?|href\s*=\s*[\"'])([^\s()<>\"'#]+)(?=[#)>\"'\s])")


def _page_target(target: str, folder: Path) -> str | None:
    """The page a relative link ``target`` (written in a file of ``folder``) becomes, or None
    when it leaves the course: lessons and markdown files of ``lessons/`` (and ``lessons/ru/``)
    become their pages, at the same relative place."""
    if re.match(r"[a-zA-Z][\w+.-]*:|/", target):
        return None
    resolved = (folder / target).resolve()
    if not resolved.is_relative_to(LESSONS):
        return None
    head, _, name = target.rpartition("/")
    head = f"{head}/" if head else ""
    if name.endswith(".ipynb"):
        return f"{head}{name[:-len('.ipynb')]}.html"
    if name == "README.md":
        return f"{'' if head == './' else head}index.html"
    if name.endswith(".md") and resolved.is_file():
        return f"{head}{name[:-len('.md')]}.html"
    return None


def rewrite_links(text: str, folder: Path = LESSONS) -> str:
    """Relative links to ``x.ipynb`` become links to ``x.html``, the lessons' README (each
    edition's contents) ``index.html``, another markdown file of the lessons ``x.html``
    (markdown and HTML links). ``folder`` is where the text is written: links that leave
    ``lessons/`` (``../README.md`` from an English lesson) stay as they are."""
    def sub(m: re.Match) -> str:
        page = _page_target(m.group(2), folder)
        return m.group(0) if page is None else f"{m.group(1)}{page}"

    return _LINK.sub(sub, text)


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


def replace_widgets(nb: Any, lang: str = "en") -> int:
    """Widget outputs become what their Output widgets showed, or disappear; returns how many.

    The page loads no widget manager (it would come from a CDN): a control without a kernel
    does nothing, so it is replaced by a note, and the figures it drew at its starting value
    are kept.
    """
    import nbformat

    words = EDITIONS[lang].words
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
                what = words["interactive"].format(controls=", ".join(controls)) if controls \
                    else ""
                outs.append(nbformat.v4.new_output(
                    "display_data", data={"text/markdown": f"*{what}{words['kernel']}*"}))
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
    """Run every cell of the lesson at ``path`` in a fresh kernel (cwd = its folder), with
    ``RNNVIZ_LANG`` set to its edition's language."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute(env={**os.environ, "RNNVIZ_LANG": edition_of(path).lang})  # its own kernel
    return nb


def prepare(nb: Any, edition: Edition | None = None) -> Any:
    """The notebook edits above, in order (for a notebook of ``edition``, English if None)."""
    edition = edition or EDITIONS["en"]
    replace_widgets(nb, edition.lang)
    plotly_to_html(nb)
    mark_solutions(nb)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = rewrite_links(cell.source, edition.folder)
    return nb


def exporter(edition: Edition) -> Any:
    from nbconvert import HTMLExporter

    return HTMLExporter(template_name="rnnviz", extra_template_basedirs=[str(TEMPLATES)],
                        mathjax_url=edition.root + MATHJAX_URL, require_js_url="", theme="light",
                        language_code=edition.lang)


def render(nb: Any, name: str, title: str, nav: dict[str, Any],
           edition: Edition | None = None) -> str:
    """The page of ``nb``; ``nav`` (see the template) gets the edition's words and root."""
    edition = edition or EDITIONS["en"]
    nb.metadata["title"] = title
    nav = {**nav, "root": edition.root, "words": edition.words}
    if nav.get("source"):
        nav["static_note"] = edition.words["static"].format(source=nav["source"])
    resources = {"metadata": {"name": name}, "rnnviz": nav}
    html, _ = exporter(edition).from_notebook_node(nb, resources=resources)
    return html


def markdown_notebook(path: Path) -> Any:
    """A markdown file of the lessons (an edition's README, the glossary) as a one-cell
    notebook with page links; a README loses its section for maintainers, and its "open them
    with make lab" becomes a word on the static copy."""
    import nbformat

    edition = edition_of(path)
    text = path.read_text(encoding="utf-8")
    if path.name == "README.md":
        text = re.split(rf"^## {re.escape(edition.maintainers)}\s*$", text, maxsplit=1,
                        flags=re.M)[0].rstrip()
        text = re.sub(edition.make_lab, edition.static_copy, text)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(rewrite_links(text, edition.folder))]
    return nb


def index_notebook(lang: str = "en") -> Any:
    """An edition's README (``lessons/README.md``, ``lessons/ru/README.md``) as its index."""
    return markdown_notebook(EDITIONS[lang].folder / "README.md")


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


def _nav(path: Path, titles: dict[Path, str]) -> dict[str, Any]:
    """A lesson page's navigation: previous and next lesson in the course's order (a Russian
    page falls back to the English page of a lesson not translated yet), the notebook it
    comes from, and the same lesson in the other edition when there is one."""
    edition = edition_of(path)
    course = EDITIONS["en"].lessons()
    stems = [p.stem for p in course]
    k = stems.index(path.stem) if path.stem in stems else -1
    here = Path(page_path(path)).parent

    def link(stem: str) -> dict[str, str]:
        own = edition.folder / f"{stem}.ipynb"
        target = own if own.is_file() else LESSONS / f"{stem}.ipynb"
        return {"href": os.path.relpath(page_path(target), here),
                "title": titles.get(target.resolve(), stem)}

    other = EDITIONS[edition.words["other_lang"]].folder / path.name
    return {"prev": link(stems[k - 1]) if k > 0 else None,
            "next": link(stems[k + 1]) if 0 <= k < len(stems) - 1 else None,
            "source": f"lessons/{edition.prefix}{path.name}",
            "other": other.is_file() and {"href": os.path.relpath(page_path(other), here),
                                          "title": edition.words["other"]}}


def _index_nav(path: Path) -> dict[str, Any]:
    """A markdown page's navigation: the other edition's index, from an edition's index."""
    edition = edition_of(path)
    other = EDITIONS[edition.words["other_lang"]].folder / "README.md"
    here = Path(page_path(path)).parent
    return {"index": True,
            "other": path.name == "README.md" and other.is_file() and {
                "href": os.path.relpath(page_path(other), here),
                "title": edition.words["other"]}}


def build(out: Path, lessons: list[Path], jobs: int = 1, log=print) -> list[Path]:
    """Execute and render ``lessons`` (English and Russian) into ``out``; returns the pages
    written (each edition's index and markdown pages first)."""
    _env()
    out.mkdir(parents=True, exist_ok=True)
    copy_assets(out)
    lessons = sorted((p.resolve() for p in lessons), key=lambda p: (edition_of(p).prefix, p.name))

    def run(path: Path) -> tuple[Path, Any, float]:
        start = time.perf_counter()
        nb = execute(path)
        return path, nb, time.perf_counter() - start

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        done = {}
        for path, nb, seconds in pool.map(run, lessons):
            log(f"executed {path.relative_to(LESSONS)} in {seconds:.1f} s")
            done[path] = prepare(nb, edition_of(path))

    titles = {}
    for path, nb in done.items():
        titles[path] = lesson_title(nb, path.stem)
    written = []
    for edition in EDITIONS.values():  # the indexes, and the glossary, whatever was executed
        for md in sorted(edition.folder.glob("*.md")):
            page = out / page_path(md)
            page.parent.mkdir(parents=True, exist_ok=True)
            nb = markdown_notebook(md)
            title = edition.words["title"] if md.name == "README.md" else lesson_title(nb, md.stem)
            page.write_text(render(nb, page.stem, title, _index_nav(md), edition),
                            encoding="utf-8")
            written.append(page)
    for path, nb in done.items():
        page = out / page_path(path)
        page.write_text(render(nb, path.stem, titles[path], _nav(path, titles), edition_of(path)),
                        encoding="utf-8")
        written.append(page)
    (out / ".nojekyll").write_text("")  # GitHub Pages: serve the files as they are
    return written


def all_lessons() -> list[Path]:
    """Every lesson of both editions."""
    return [p for edition in EDITIONS.values() for p in edition.lessons()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lessons", nargs="*", type=Path,
                        help="lesson notebooks (default: every lessons/NN_*.ipynb and "
                             "lessons/ru/NN_*.ipynb)")
    parser.add_argument("--out", type=Path, default=ROOT / "site", help="output folder")
    parser.add_argument("--jobs", type=int, default=1, help="lessons executed at a time")
    args = parser.parse_args(argv)
    lessons = args.lessons or all_lessons()
    start = time.perf_counter()
    pages = build(args.out, lessons, jobs=args.jobs)
    print(f"wrote {len(pages)} pages to {args.out} in {time.perf_counter() - start:.0f} s; "
          f"open {args.out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
