"""The ``%%solution`` cell magic: exercise solutions that wait until the student asks.

A lesson's solution cell starts with ``%%solution``. Run All and Shift+Enter skip it and say
how to run it, so no answer appears under its question before the student has tried. The cell
runs when its first line reads ``%%solution run``, or when the environment variable
``RNNVIZ_SOLUTIONS=1`` is set: ``make test`` sets it, so nbval still checks every solution
where it sits, after the cells above it.

Example (in a notebook, after ``import rnnviz``)::

    %%solution run
    print(2 + 2)
"""

from __future__ import annotations

import os
import sys
from typing import Any

from rnnviz.i18n import N_, _

ENV = "RNNVIZ_SOLUTIONS"
SKIPPED = N_(  # translated where printed
    "Solution not run: try the exercise first. To see the code, click the '…' of this cell; "
    "to run it, change its first line to  %%solution run"
)


def runs(line: str) -> bool:
    """Whether a ``%%solution`` cell with this first-line argument runs its body."""
    return line.strip() == "run" or os.environ.get(ENV, "") == "1"


def solution(line: str, cell: str) -> None:
    """Cell magic: run ``cell`` only when asked (see the module docstring)."""
    arg = line.strip()
    if arg not in ("", "run"):
        raise ValueError(_("%%solution takes no argument or 'run', got {value!r}").format(value=arg))
    if not runs(line):
        print(_(SKIPPED))
        return
    from IPython import get_ipython

    result = get_ipython().run_cell(cell)
    if not result.success:
        raise RuntimeError(_("the solution above raised an error (its traceback is printed above)"))


def load_ipython_extension(ipython: Any) -> None:
    """Register ``%%solution`` (``%load_ext rnnviz`` or ``import rnnviz`` in IPython)."""
    ipython.register_magic_function(solution, magic_kind="cell", magic_name="solution")


def register_if_ipython() -> None:
    """Register the magic when running inside IPython; never import IPython otherwise."""
    if "IPython" not in sys.modules:
        return
    from IPython import get_ipython

    ipython = get_ipython()
    if ipython is not None:
        load_ipython_extension(ipython)
