"""The Russian edition (``lessons/ru/NN_topic.ipynb``) cannot drift from the English one.

For every Russian lesson, its English twin ``lessons/NN_topic.ipynb`` (same file name) is
found and compared:

- **code**: the same code cells in the same order, and per cell the same Python tokens once
  comments and blank lines are dropped and every string literal's text is replaced by a
  placeholder (its prefix ``f``/``r``/``b`` stays). Only comments and string literals may be
  translated. Besides, an f-string keeps its ``{...}`` fields (same expressions and format
  specs, in any order), and a literal without spaces (a mode, a key, an einsum spec such as
  ``"grad_flow"`` or ``"bti,btj->tij"``) stays as it is unless it was translated into
  Russian. The one extra statement allowed is ``rnnviz.set_language("ru")`` in the first
  code cell (the set-up cell), exactly once. IPython magic lines (``%%solution``) are
  compared as text, and so are the cells' ``tags`` and ``jupyter`` metadata;
- **checked outputs**: a cell marked ``# NBVAL_CHECK_OUTPUT`` in one edition is marked in
  the other, and the numbers in its committed outputs are the same, in the same order
  (a translated sentence must keep its numbers in the English order);
- **prose**: every markdown cell with some prose is mostly Russian: at least
  ``MIN_CYRILLIC`` of its letters, outside code, maths, link targets and HTML tags, are
  Cyrillic;
- **links**: relative links resolve from ``lessons/ru/``, and a link to a lesson points to
  the Russian version when it exists (``03_bptt.ipynb``), else to the English one
  (``../03_bptt.ipynb``). The index ``lessons/ru/README.md`` links to every lesson that way
  and back to ``../README.md``.

Adding a Russian lesson: copy the English notebook, translate markdown, comments and printed
strings, add ``rnnviz.set_language("ru")`` to the set-up cell, then refresh its outputs with
``python -m tests.strip_notebooks --execute lessons/ru/NN_topic.ipynb``.
"""

from __future__ import annotations

import ast
import io
import json
import re
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EN_DIR = ROOT / "lessons"
RU_DIR = EN_DIR / "ru"
LESSON_GLOB = "[0-9][0-9]_*.ipynb"
RU_LESSONS = sorted(RU_DIR.glob(LESSON_GLOB))
EN_LESSONS = sorted(EN_DIR.glob(LESSON_GLOB))

CHECK_MARK = "# NBVAL_CHECK_OUTPUT"
SET_LANGUAGE = 'rnnviz.set_language("ru")'
MIN_CYRILLIC = 0.6  # share of Cyrillic letters in a markdown cell's prose
MIN_LETTERS = 30  # cells with fewer letters of prose (a formula, a rule) are not judged

# A number as printed: 3, -0.25, 1e-06, 6e-10, 41% (not the 32 of float32 or the 0 of h_0).
NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
CYRILLIC = re.compile(r"[\u0400-\u04ff]")
LATIN = re.compile(r"[A-Za-z]")
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _ids(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def code_cells(nb: dict) -> list[dict]:
    """The code cells, each with ``_where``: its place in the notebook, for messages."""
    cells = []
    for i, c in enumerate(nb["cells"]):
        if c["cell_type"] == "code":
            cells.append({**c, "_where": f"cell {i + 1} (code cell {len(cells) + 1}, starting "
                                        f"{source(c).strip()[:40]!r})"})
    return cells


def markdown_cells(nb: dict) -> list[tuple[int, str]]:
    return [(i, source(c)) for i, c in enumerate(nb["cells"]) if c["cell_type"] == "markdown"]


def twin(ru: Path) -> Path:
    return EN_DIR / ru.name


# ---------------------------------------------------------------------------- code tokens


def split_magics(src: str) -> tuple[list[str], str]:
    """IPython magic and shell lines (``%%solution``, ``%time``, ``!ls``), and the source with
    them blanked out so that the rest tokenizes as Python."""
    magics, lines = [], []
    for line in src.split("\n"):
        if line.lstrip().startswith(("%", "!")):
            magics.append(line.strip())
            lines.append("")
        else:
            lines.append(line)
    return magics, "\n".join(lines)


def string_fields(text: str) -> list[str]:
    """The ``{...}`` fields of an f-string literal, as normalised source, sorted."""
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:  # pragma: no cover - tokenize accepted it, so this is unexpected
        return [text]
    fields = []
    for part in ast.walk(node):
        if isinstance(part, ast.FormattedValue):
            spec = ast.unparse(part.format_spec) if part.format_spec is not None else ""
            fields.append(f"{ast.unparse(part.value)}!{part.conversion}:{spec}")
    return sorted(fields)


def string_prefix(text: str) -> str:
    return re.match(r"[A-Za-z]*", text).group(0).lower()


def string_value(text: str) -> str:
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):  # f-strings
        return text
    return value if isinstance(value, str) else text


def tokens(src: str) -> list[tuple]:
    """Python tokens of a code cell: comments and blank lines dropped, strings kept as
    ``("STRING", prefix, text)`` so that the caller can compare them loosely."""
    out = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(src + "\n").readline):
            if tok.type in (tokenize.COMMENT, tokenize.NL, tokenize.ENCODING):
                continue
            if tok.type == tokenize.STRING:
                out.append(("STRING", string_prefix(tok.string), tok.string, tok.start[0]))
            elif tok.type in (tokenize.NEWLINE, tokenize.DEDENT, tokenize.ENDMARKER):
                out.append((tokenize.tok_name[tok.type], "", "", tok.start[0]))
            else:
                out.append((tokenize.tok_name[tok.type], tok.string, "", tok.start[0]))
    except (tokenize.TokenError, IndentationError, SyntaxError) as err:
        raise AssertionError(f"cannot tokenize:\n{src}\n{err}") from err
    return out


def drop_set_language(toks: list[tuple]) -> tuple[list[tuple], int]:
    """Remove every ``rnnviz.set_language("ru")`` statement; return the rest and the count."""
    pattern = [("NAME", "rnnviz"), ("OP", "."), ("NAME", "set_language"), ("OP", "(")]
    out, count, i = [], 0, 0
    while i < len(toks):
        head = [(t[0], t[1]) for t in toks[i:i + 4]]
        at_statement_start = i == 0 or toks[i - 1][0] in ("NEWLINE", "INDENT", "DEDENT")
        if head == pattern and at_statement_start:
            rest = toks[i + 4:i + 7]
            if (len(rest) == 3 and rest[0][0] == "STRING" and string_value(rest[0][2]) == "ru"
                    and rest[1][:2] == ("OP", ")") and rest[2][0] == "NEWLINE"):
                count += 1
                i += 7
                continue
        out.append(toks[i])
        i += 1
    return out, count


def describe(tok: tuple) -> str:
    kind, text, raw, line = tok
    return f"{raw if kind == 'STRING' else (text or kind)!s} (line {line})"


def compare_cell(en_src: str, ru_src: str, where: str, setup: bool) -> list[str]:
    problems = []
    en_magics, en_code = split_magics(en_src)
    ru_magics, ru_code = split_magics(ru_src)
    if en_magics != ru_magics:
        problems.append(f"{where}: magic lines differ: English {en_magics}, Russian {ru_magics}")
    en_toks, ru_toks = tokens(en_code), tokens(ru_code)
    ru_toks, n_set = drop_set_language(ru_toks)
    if setup and n_set != 1:
        problems.append(f"{where} (the set-up cell) must contain {SET_LANGUAGE} exactly once "
                        f"as a statement of its own; found {n_set}")
    if not setup and n_set:
        problems.append(f"{where}: {SET_LANGUAGE} belongs in the set-up cell (the first code "
                        "cell) only")
    for k, (e, r) in enumerate(zip(en_toks, ru_toks, strict=False)):
        if e[0] != r[0] or e[1] != r[1]:
            problems.append(f"{where}: code differs at token {k}: English {describe(e)}, "
                            f"Russian {describe(r)} (only comments and string literals may "
                            "be translated)")
            return problems
        if e[0] != "STRING":
            continue
        if "f" in e[1] and string_fields(e[2]) != string_fields(r[2]):
            problems.append(f"{where}: the f-string on line {r[3]} has other {{...}} fields "
                            f"than the English one:\n  English {e[2]}\n  Russian {r[2]}")
        ev, rv = string_value(e[2]), string_value(r[2])
        if ev != rv and not re.search(r"\s", ev) and not CYRILLIC.search(rv):
            problems.append(f"{where}: the literal {e[2]} (line {e[3]}) looks like a key or a "
                            f"mode, not a sentence, and was changed to {r[2]} (line {r[3]})")
    if len(en_toks) != len(ru_toks):
        longer, name = (en_toks, "English") if len(en_toks) > len(ru_toks) else (ru_toks, "Russian")
        extra = longer[min(len(en_toks), len(ru_toks))]
        problems.append(f"{where}: the {name} cell has more code, from {describe(extra)}")
    return problems


@pytest.mark.parametrize("ru", RU_LESSONS, ids=_ids(RU_LESSONS))
def test_code_is_the_english_code(ru: Path) -> None:
    en = twin(ru)
    assert en.exists(), f"{ru.name}: no English twin lessons/{ru.name} (same file name)"
    en_cells, ru_cells = code_cells(load(en)), code_cells(load(ru))
    assert len(en_cells) == len(ru_cells), (
        f"{ru.name}: {len(ru_cells)} code cells, the English lesson has {len(en_cells)}; code "
        "cells must be the same, in the same order")
    problems = []
    for k, (e, r) in enumerate(zip(en_cells, ru_cells, strict=True)):
        where = f"{ru.name}, {r['_where']}"
        problems += compare_cell(source(e), source(r), where, setup=k == 0)
        for key in ("tags", "jupyter"):
            if e["metadata"].get(key) != r["metadata"].get(key):
                problems.append(f"{where}: metadata {key!r} differs: English "
                                f"{e['metadata'].get(key)}, Russian {r['metadata'].get(key)}")
    assert not problems, "\n".join(problems)


# -------------------------------------------------------------------------- checked outputs


def output_text(cell: dict) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if "text" in out:
            parts.append(source({"source": out["text"]}))
        data = out.get("data", {})
        if "text/plain" in data:
            parts.append(source({"source": data["text/plain"]}))
        if out.get("output_type") == "error":
            parts.append(f"{out.get('ename')}: {out.get('evalue')}")
    return "\n".join(parts)


@pytest.mark.parametrize("ru", RU_LESSONS, ids=_ids(RU_LESSONS))
def test_checked_outputs_carry_the_same_numbers(ru: Path) -> None:
    en = twin(ru)
    assert en.exists(), f"{ru.name}: no English twin lessons/{ru.name}"
    en_cells, ru_cells = code_cells(load(en)), code_cells(load(ru))
    if len(en_cells) != len(ru_cells):
        pytest.skip(f"{ru.name}: the code cells do not pair up (test_code_is_the_english_code)")
    problems = []
    for e, r in zip(en_cells, ru_cells, strict=True):
        where = f"{ru.name}, {r['_where']}"
        en_checked, ru_checked = CHECK_MARK in source(e), CHECK_MARK in source(r)
        if en_checked != ru_checked:
            problems.append(f"{where}: {CHECK_MARK} is in the "
                            f"{'English' if en_checked else 'Russian'} cell only")
            continue
        if not en_checked:
            continue
        en_text, ru_text = output_text(e), output_text(r)
        if en_text.strip() and not ru_text.strip():
            problems.append(f"{where}: the English cell has checked outputs, the Russian one "
                            "none (run python -m tests.strip_notebooks --execute on it)")
            continue
        en_nums, ru_nums = NUMBER.findall(en_text), NUMBER.findall(ru_text)
        if en_nums != ru_nums:
            first = next((i for i, (a, b) in enumerate(zip(en_nums, ru_nums, strict=False)) if a != b),
                         min(len(en_nums), len(ru_nums)))
            problems.append(f"{where}: the checked output's numbers differ (first at number "
                            f"{first + 1}):\n  English {en_nums}\n  Russian {ru_nums}\n"
                            f"  English output:\n{en_text}\n  Russian output:\n{ru_text}")
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------------------------ prose


def prose(markdown: str) -> str:
    """Markdown without code, maths, HTML tags and link targets: the words a student reads."""
    text = re.sub(r"```.*?```", " ", markdown, flags=re.S)
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)
    text = re.sub(r"\$[^$]*\$", " ", text)
    text = re.sub(r"<[^>]*>", " ", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    return re.sub(r"https?://\S+", " ", text)


def cyrillic_share(markdown: str) -> tuple[float, int]:
    text = prose(markdown)
    cyr, lat = len(CYRILLIC.findall(text)), len(LATIN.findall(text))
    return (cyr / (cyr + lat) if cyr + lat else 1.0), cyr + lat


@pytest.mark.parametrize("ru", RU_LESSONS, ids=_ids(RU_LESSONS))
def test_prose_is_russian(ru: Path) -> None:
    problems = []
    for i, text in markdown_cells(load(ru)):
        share, letters = cyrillic_share(text)
        if letters >= MIN_LETTERS and share < MIN_CYRILLIC:
            problems.append(f"{ru.name}, cell {i + 1} (markdown, starting "
                            f"{text.strip()[:50]!r}): only {share:.0%} of its letters are "
                            f"Cyrillic (at least {MIN_CYRILLIC:.0%} expected): not translated?")
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------------------------ links


def link_problems(text: str, where: str) -> list[str]:
    problems = []
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        path = target.split("#")[0]
        if not (RU_DIR / path).resolve().exists():
            problems.append(f"{where}: the link {target} leads nowhere from lessons/ru/")
            continue
        name = Path(path).name
        if re.fullmatch(r"\d\d_.*\.ipynb", name):
            if path.startswith("../") and (RU_DIR / name).exists():
                problems.append(f"{where}: the link {target} goes to the English lesson; the "
                                f"Russian one exists, link to {name}")
    return problems


@pytest.mark.parametrize("ru", RU_LESSONS, ids=_ids(RU_LESSONS))
def test_links_lead_to_the_russian_edition(ru: Path) -> None:
    problems = []
    for i, text in markdown_cells(load(ru)):
        problems += link_problems(text, f"{ru.name}, cell {i + 1}")
    assert not problems, "\n".join(problems)


def test_index_lists_every_lesson() -> None:
    index = RU_DIR / "README.md"
    assert index.exists(), "lessons/ru/README.md (the Russian index) is missing"
    text = index.read_text(encoding="utf-8")
    problems = link_problems(text, "lessons/ru/README.md")
    targets = set(LINK.findall(text))
    for en in EN_LESSONS:
        want = en.name if (RU_DIR / en.name).exists() else f"../{en.name}"
        if want not in targets:
            problems.append(f"lessons/ru/README.md: no link to lesson {en.name[:2]}: expected "
                            f"({want})")
    if "../README.md" not in targets:
        problems.append("lessons/ru/README.md: no link back to the English index ../README.md")
    assert not problems, "\n".join(problems)


def test_russian_lessons_found() -> None:
    assert RU_LESSONS, "no lessons/ru/NN_*.ipynb found"
