"""Project-level checks: set-up files agree, the package is typed, lessons are committed small."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

import rnnviz

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))

# PyPI name -> conda-forge name, where they differ.
CONDA_NAMES = {"torch": "pytorch-cpu"}
LANGUAGE_PACK = "jupyterlab-language-pack-ru-ru"


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement.strip(), maxsplit=1)[0].lower()


def _environment_deps() -> tuple[set[str], list[str]]:
    conda, pip, in_pip = set(), [], False
    text = (ROOT / "environment.yml").read_text()
    for line in text.split("\ndependencies:", 1)[1].splitlines():
        stripped = line.split("#", 1)[0].rstrip()
        if re.match(r"^\s{2}- pip:", stripped):
            in_pip = True
            continue
        m = re.match(r"^(\s+)- (.+)$", stripped)
        if not m:
            continue
        if in_pip and len(m.group(1)) > 2:
            pip.append(m.group(2).strip())
        else:
            in_pip = False
            conda.add(_name(m.group(2)))
    return conda, pip


def test_environment_yml_lists_the_same_dependencies_as_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {CONDA_NAMES.get(_name(d), _name(d)) for d in project["dependencies"]}
    conda, pip = _environment_deps()
    listed = conda | {_name(p) for p in pip if not p.startswith("-")}
    assert wanted <= listed, f"missing in environment.yml: {sorted(wanted - listed)}"
    extra = conda - wanted - {"python", "pip"}
    assert not extra, f"environment.yml has dependencies pyproject.toml lacks: {sorted(extra)}"
    assert "-e ." in pip or "." in pip, "environment.yml must pip-install rnnviz from the repo"


def test_torch_is_pinned_for_setup() -> None:
    pins = (ROOT / "constraints.txt").read_text().splitlines()
    assert "torch==2.13.0" in pins
    makefile = (ROOT / "Makefile").read_text()
    assert "-c constraints.txt" in makefile and '"torch==2.13.0"' in makefile


def test_russian_jupyterlab_language_pack_is_installed_and_seen_by_jupyterlab() -> None:
    """The Russian edition's students can switch JupyterLab itself to Russian (README:
    Settings → Language → Русский): the pack is a declared, pinned dependency, and the
    server side of ``jupyter lab`` (jupyterlab_server's translation API, which lists the
    packs for the Language menu and serves their strings) finds it and translates with it."""
    from jupyterlab_server.translation_utils import get_language_pack, get_language_packs

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert LANGUAGE_PACK in {_name(d) for d in deps}, f"{LANGUAGE_PACK} is not a dependency"
    pins = [p for p in (ROOT / "constraints.txt").read_text().splitlines()
            if _name(p) == LANGUAGE_PACK]
    assert len(pins) == 1 and "==" in pins[0], f"{LANGUAGE_PACK} is not pinned once: {pins}"

    packs, message = get_language_packs("en")
    assert "ru_RU" in packs, f"jupyter lab does not see the Russian pack ({message}): {list(packs)}"
    assert re.search("[А-Яа-я]", packs["ru_RU"]["nativeName"]), packs["ru_RU"]
    strings, message = get_language_pack("ru_RU")
    lab = strings.get("jupyterlab", {})
    for msgid in ("Settings", "Run All Cells"):
        assert re.search("[А-Яа-я]", " ".join(lab.get(msgid, []))), \
            f"the Russian pack does not translate {msgid!r} ({message})"


def test_package_is_typed_and_exports_resolve() -> None:
    assert (ROOT / "rnnviz" / "py.typed").exists()
    for name in rnnviz.__all__:
        assert getattr(rnnviz, name) is not None, name


def test_unknown_attribute_is_a_clear_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        rnnviz.nope  # noqa: B018


def test_lessons_exist() -> None:
    assert LESSONS, "no lessons found in lessons/"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_lesson_is_committed_small_and_stripped(path: Path) -> None:
    from tests.strip_notebooks import MAX_NOTEBOOK_BYTES, dumps, strip

    text = path.read_text(encoding="utf-8")
    assert len(text.encode()) < MAX_NOTEBOOK_BYTES, f"{path.name} is over 100 KB"
    nb = json.loads(text)
    assert "widgets" not in nb.get("metadata", {}), f"{path.name} carries widget state"
    assert dumps(strip(nb)) == text, f"{path.name} is not stripped: run python -m tests.strip_notebooks"
