"""The static-site builder's notebook edits (tests/site/build.py), without a kernel.
The built site itself is checked in a browser by tests/browser/test_site_browser.py."""

from __future__ import annotations

import json

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
