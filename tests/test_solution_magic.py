"""The %%solution magic: skipped by default, run when asked, errors surface."""

from __future__ import annotations

import pytest
from IPython.core.interactiveshell import InteractiveShell

from rnnviz import _solution


@pytest.fixture()
def ip():
    shell = InteractiveShell.instance()
    _solution.load_ipython_extension(shell)
    return shell


def test_skipped_without_asking(ip, monkeypatch, capsys):
    monkeypatch.delenv(_solution.ENV, raising=False)
    ip.user_ns.pop("ran", None)
    ip.run_cell_magic("solution", "", "ran = 1")
    assert "ran" not in ip.user_ns
    assert "%%solution run" in capsys.readouterr().out


@pytest.mark.parametrize("line, env", [("run", ""), ("", "1"), (" run ", "0")])
def test_runs_when_asked(ip, monkeypatch, line, env):
    monkeypatch.setenv(_solution.ENV, env)
    ip.user_ns.pop("ran", None)
    ip.run_cell_magic("solution", line, "ran = 41 + 1")
    assert ip.user_ns["ran"] == 42


def test_error_in_solution_is_an_error(ip, monkeypatch):
    monkeypatch.setenv(_solution.ENV, "1")
    with pytest.raises(RuntimeError, match="solution"):
        ip.run_cell_magic("solution", "", "1 / 0")


def test_bad_argument(ip):
    with pytest.raises(ValueError, match="%%solution"):
        ip.run_cell_magic("solution", "now", "pass")
