"""Lesson notebooks keep their exercise solutions behind the ``%%solution`` magic.

A solution code cell (tagged ``solution``, or starting with ``# Solution``) must start with
``%%solution`` so Run All skips it until the student asks (``rnnviz/_solution.py``), and must
be collapsed (``"jupyter": {"source_hidden": true}``). No other cell may start with
``%%solution``. ``make test`` sets ``RNNVIZ_SOLUTIONS=1``, so nbval still runs and checks them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

LESSONS = sorted((Path(__file__).resolve().parent.parent / "lessons").glob("[0-9][0-9]_*.ipynb"))
MAGIC = "%%solution"


def _code_cells(path: Path) -> list[tuple[int, dict, str]]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [
        (i, cell, "".join(cell.get("source", [])))
        for i, cell in enumerate(nb["cells"])
        if cell.get("cell_type") == "code"
    ]


def _is_solution(cell: dict, source: str) -> bool:
    tags = cell.get("metadata", {}).get("tags", [])
    return "solution" in tags or source.lstrip().startswith("# Solution")


def _first_line(source: str) -> str:
    return source.lstrip().split("\n", 1)[0].strip()


def test_lessons_found():
    assert len(LESSONS) >= 6


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_solution_cells_use_the_magic(path: Path):
    problems = []
    for i, cell, source in _code_cells(path):
        if not _is_solution(cell, source):
            continue
        first = _first_line(source)
        if first == f"{MAGIC} run":
            problems.append(f"cell {i}: committed as '{MAGIC} run', so Run All would show it")
        elif first != MAGIC:
            problems.append(f"cell {i}: a solution must start with {MAGIC}, starts with {first!r}")
        if not cell.get("metadata", {}).get("jupyter", {}).get("source_hidden"):
            problems.append(f"cell {i}: a solution must be collapsed (jupyter.source_hidden)")
        if "solution" not in cell.get("metadata", {}).get("tags", []):
            problems.append(f"cell {i}: a solution cell needs the 'solution' tag")
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_only_solutions_use_the_magic(path: Path):
    wrong = [
        i
        for i, cell, source in _code_cells(path)
        if _first_line(source).startswith(MAGIC) and not _is_solution(cell, source)
    ]
    assert not wrong, f"{path.name}: cells {wrong} start with {MAGIC} but are not tagged 'solution'"
