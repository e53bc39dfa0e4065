"""The static-site builder's notebook edits (tests/site/build.py), without a kernel: both
editions (English into the site's root, Russian into ru/), their links and their pages' words.
The built site itself is checked in a browser by tests/browser/test_site_browser.py."""

from __future__ import annotations

import dataclasses
import json
import re

import nbformat
import plotly.graph_objects as go
import pytest

from tests.site import build


def _nb(*cells, widgets: dict | None = None):
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    if widgets is not None:
        nb.metadata["widgets"] = {build.WIDGET_STATE: {"state": widgets, "version_major": 2,
                                                       "version_minor": 0}}
    return nb


@pytest.mark.parametrize(("text", "want"), [
    ("see [lesson 04](04_vanishing_and_exploding.ipynb).",
     "see [lesson 04](04_vanishing_and_exploding.html)."),
    ("[x](./03_bptt.ipynb#3.-Truncated)", "[x](./03_bptt.html#3.-Truncated)"),
    ('<a href="05_lstm.ipynb">05</a>', '<a href="05_lstm.html">05</a>'),
    ("[all lessons](README.md)", "[all lessons](index.html)"),
    ("[contents](./README.md#rnnviz-lessons)", "[contents](index.html#rnnviz-lessons)"),
    ("[the project](../README.md)", None),
    ("a link to [nbviewer](https://nbviewer.org/x/01_a.ipynb) stays", None),
    ("`make lab` opens 01_sequences_and_tokens.ipynb", None),
])
def test_links_to_lessons_point_at_their_pages(text: str, want: str | None) -> None:
    assert build.rewrite_links(text) == (text if want is None else want)


RU = build.LESSONS / "ru"


@pytest.mark.parametrize(("folder", "text", "want"), [
    # a Russian lesson: its edition's lessons, the English page of one not translated yet,
    # its index, the English index and the glossary
    (RU, "[урок 03](03_bptt.ipynb)", "[урок 03](03_bptt.html)"),
    (RU, "[урок 05](../05_lstm.ipynb) (перевод готовится)", "[урок 05](../05_lstm.html) (перевод готовится)"),
    (RU, "[все уроки](README.md)", "[все уроки](index.html)"),
    (RU, "[English version](../README.md)", "[English version](../index.html)"),
    (RU, "[глоссарию](GLOSSARY.md)", "[глоссарию](GLOSSARY.html)"),
    (RU, '<a href="../04_vanishing_and_exploding.ipynb#x">',
     '<a href="../04_vanishing_and_exploding.html#x">'),
    # the English index links the Russian one; a link out of lessons/ stays
    (build.LESSONS, "[уроки на русском языке](ru/README.md)", "[уроки на русском языке](ru/index.html)"),
    (build.LESSONS, "[the project](../README.md)", None),
    (RU, "[the project](../../README.md)", None),
    (RU, "[a file that is not there](NOTES.md)", None),
])
def test_links_between_the_editions_point_at_their_pages(folder, text: str, want: str | None) -> None:
    assert build.rewrite_links(text, folder) == (text if want is None else want)


def test_both_editions_are_built_and_mirror_lessons() -> None:
    lessons = build.all_lessons()
    en = sorted(build.LESSONS.glob("[0-9][0-9]_*.ipynb"))
    ru = sorted(RU.glob("[0-9][0-9]_*.ipynb"))
    assert en and ru and lessons == en + ru
    assert build.page_path(en[0]) == f"{en[0].stem}.html"
    assert build.page_path(ru[0]) == f"ru/{ru[0].stem}.html"
    assert build.page_path(RU / "README.md") == "ru/index.html"
    assert build.page_path(build.LESSONS / "README.md") == "index.html"
    assert build.edition_of(ru[0]).lang == "ru" and build.edition_of(en[0]).lang == "en"
    with pytest.raises(ValueError, match="not in lessons"):
        build.edition_of(build.ROOT / "README.md")


@pytest.fixture
def half_translated(tmp_path, monkeypatch) -> list[str]:
    """A Russian edition with lessons 02 and 04 only (empty files will do: the navigation
    reads names, not notebooks); returns the English course's stems."""
    course = [p.stem for p in sorted(build.LESSONS.glob("[0-9][0-9]_*.ipynb"))]
    ru = tmp_path / "ru"
    ru.mkdir()
    for stem in (course[1], course[3]):
        (ru / f"{stem}.ipynb").write_text("{}")
    monkeypatch.setitem(build.EDITIONS, "ru", dataclasses.replace(build.EDITIONS["ru"], folder=ru))
    return course


def test_a_lesson_page_links_its_neighbours_and_the_other_edition(half_translated) -> None:
    course = half_translated
    ru = build.EDITIONS["ru"].folder
    nav = build._nav(ru / f"{course[1]}.ipynb", {})
    # the previous and next lessons are not translated: their English pages
    assert nav["prev"]["href"] == f"../{course[0]}.html", nav
    assert nav["next"]["href"] == f"../{course[2]}.html", nav
    assert nav["other"]["href"] == f"../{course[1]}.html" and nav["other"]["title"] == "English version"
    assert nav["source"] == f"lessons/ru/{course[1]}.ipynb"
    nav = build._nav(ru / f"{course[3]}.ipynb", {})
    assert nav["prev"]["href"] == f"../{course[2]}.html" and nav["next"]["href"] == f"../{course[4]}.html"
    # an English lesson links its Russian version when there is one, and its English neighbours
    nav = build._nav(build.LESSONS / f"{course[1]}.ipynb", {})
    assert nav["other"]["href"] == f"ru/{course[1]}.html" and nav["next"]["href"] == f"{course[2]}.html"
    assert nav["other"]["title"] == "Русская версия"
    assert not build._nav(build.LESSONS / f"{course[2]}.ipynb", {})["other"]


def test_a_russian_page_links_translated_neighbours_in_russian() -> None:
    course = [p.stem for p in sorted(build.LESSONS.glob("[0-9][0-9]_*.ipynb"))]
    translated = {p.stem for p in RU.glob("[0-9][0-9]_*.ipynb")}
    pairs = [(a, b) for a, b in zip(course, course[1:], strict=False) if {a, b} <= translated]
    assert pairs, "no two neighbouring lessons are translated"
    a, b = pairs[0]
    assert build._nav(RU / f"{a}.ipynb", {})["next"]["href"] == f"{b}.html"
    assert build._nav(RU / f"{b}.ipynb", {})["prev"]["href"] == f"{a}.html"


def test_the_indexes_link_each_other_and_drop_their_maintainer_sections() -> None:
    en = build.index_notebook("en").cells[0].source
    ru = build.index_notebook("ru").cells[0].source
    assert "ru/index.html" in en
    assert "../index.html" in ru and "GLOSSARY.html" in ru and ".ipynb" not in ru
    for stem in (p.stem for p in RU.glob("[0-9][0-9]_*.ipynb")):
        assert f"]({stem}.html)" in ru, stem
    assert "Для сопровождающих" not in ru and "статическая копия курса" in ru
    assert not re.search(r"Откройте уроки командой", ru)
    assert build._index_nav(RU / "README.md")["other"]["href"] == "../index.html"
    assert build._index_nav(build.LESSONS / "README.md")["other"]["href"] == "ru/index.html"


def test_a_russian_page_is_russian_and_finds_the_shared_assets() -> None:
    cell = nbformat.v4.new_code_cell("%%solution\nprint(1)")
    nb = build.prepare(_nb(nbformat.v4.new_markdown_cell("# Урок\n[дальше](03_bptt.ipynb)"),
                           cell), build.EDITIONS["ru"])
    nav = build._nav(RU / "02_elman_rnn.ipynb", {})
    html = build.render(nb, "02_elman_rnn", "Урок", nav, build.EDITIONS["ru"])
    assert '<html lang="ru">' in html
    assert 'src="../plotly.min.js"' in html and 'href="../site.css"' in html
    assert 'src="../mathjax/MathJax.js' in html
    assert "<summary>Решение</summary>" in html and "Курс rnnviz" in html
    assert "Статическая копия <code>lessons/ru/02_elman_rnn.ipynb</code>" in html
    assert 'href="03_bptt.html"' in html and 'href="../02_elman_rnn.html"' in html
    assert "Solution" not in html and "rnnviz course" not in html
    en = build.render(build.prepare(_nb(cell)), "x", "x", {"index": True})
    assert '<html lang="en">' in en and 'src="plotly.min.js"' in en


def test_solution_cells_are_found_by_magic_or_tag() -> None:
    by_magic = nbformat.v4.new_code_cell("%%solution\nprint(1)")
    by_tag = nbformat.v4.new_code_cell("print(2)", metadata={"tags": ["solution"]})
    plain = nbformat.v4.new_code_cell("print('solution')")
    md = nbformat.v4.new_markdown_cell("%%solution")
    nb = _nb(by_magic, by_tag, plain, md)
    assert build.mark_solutions(nb) == 2
    assert by_magic.metadata["tags"] == ["solution"] and by_tag.metadata["tags"] == ["solution"]
    assert "tags" not in plain.metadata


def test_plotly_outputs_become_html_that_draws_with_the_page_plotly_js() -> None:
    fig = go.Figure(go.Scatter(x=[0, 1], y=[1, 0]), frames=[go.Frame(name="a", data=[])])
    cell = nbformat.v4.new_code_cell("fig")
    cell.outputs = [nbformat.v4.new_output("display_data", data={
        build.PLOTLY_JSON: json.loads(fig.to_json()), "text/plain": "Figure(...)"})]
    nb = _nb(cell)
    assert build.plotly_to_html(nb) == 1
    data = cell.outputs[0]["data"]
    assert list(data) == ["text/html"]
    html = data["text/html"]
    assert 'id="figure-0-0"' in html and "Plotly.newPlot" in html and "addFrames" in html
    assert "<script src" not in html and "cdn" not in html.lower()


def test_widgets_become_what_they_drew_or_nothing() -> None:
    interact = nbformat.v4.new_code_cell("widgets.interact(f, n=3)")
    interact.outputs = [nbformat.v4.new_output("display_data", data={
        "text/plain": "interactive(...)", build.WIDGET_VIEW: {"model_id": "box"}})]
    bar = nbformat.v4.new_code_cell("trainer.run(10)")
    bar.outputs = [
        nbformat.v4.new_output("display_data", data={
            "text/plain": "training: 0%", build.WIDGET_VIEW: {"model_id": "bar"}}),
        nbformat.v4.new_output("stream", name="stdout", text="done\n")]
    state = {
        "box": {"model_name": "VBoxModel", "state": {"children": ["IPY_MODEL_slider",
                                                                  "IPY_MODEL_out"]}},
        "slider": {"model_name": "IntSliderModel", "state": {"description": "n", "value": 3}},
        "out": {"model_name": "OutputModel", "state": {"outputs": [
            {"output_type": "stream", "name": "stdout", "text": "n = 3\n"}]}},
        "bar": {"model_name": "HBoxModel", "state": {"children": []}},
    }
    nb = _nb(interact, bar, widgets=state)
    assert build.replace_widgets(nb) == 2
    note, shown = interact.outputs
    assert "need a running kernel" in note["data"]["text/markdown"]
    assert "Interactive: n." in note["data"]["text/markdown"]
    assert shown["text"] == "n = 3\n"
    assert [o["output_type"] for o in bar.outputs] == ["stream"]  # the bar is gone
    assert "widgets" not in nb.metadata  # no widget manager (from a CDN) on the page

    nb = _nb(interact, widgets=state)  # a Russian page says it in Russian
    interact.outputs = [nbformat.v4.new_output("display_data", data={
        build.WIDGET_VIEW: {"model_id": "box"}})]
    assert build.replace_widgets(nb, "ru") == 1
    note = interact.outputs[0]["data"]["text/markdown"]
    assert "Интерактивный вывод: n." in note and "работающее ядро" in note


def test_index_is_the_lessons_readme_with_page_links() -> None:
    text = build.index_notebook().cells[0].source
    assert "01_sequences_and_tokens.html" in text and ".ipynb" not in text
    assert "For maintainers" not in text


def test_a_figure_wider_than_the_page_is_fitted_to_it() -> None:
    cells = []
    for width in (600, 1500):
        cell = nbformat.v4.new_code_cell("fig")
        fig = go.Figure(go.Bar(y=[1]), layout={"width": width})
        cell.outputs = [nbformat.v4.new_output("display_data", data={
            build.PLOTLY_JSON: json.loads(fig.to_json())})]
        cells.append(cell)
    build.plotly_to_html(_nb(*cells))
    narrow, wide = (c.outputs[0]["data"]["text/html"] for c in cells)
    assert '"width":600' in narrow
    assert '"width":1500' not in wide and '"autosize":true' in wide
