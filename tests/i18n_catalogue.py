"""rnnviz's gettext catalogue: extract, update, compile and check it with Babel, and find
strings a student reads that are not yet wrapped for translation.

    python -m tests.i18n_catalogue --update  # after changing strings: .pot, .po, .mo
    python -m tests.i18n_catalogue --check   # what tests/test_i18n.py checks; exit 1 if not
    python -m tests.i18n_catalogue --todo    # unwrapped strings in all of rnnviz/, not just
                                             # the modules in SCANNED

``--update`` is ``pybabel extract`` + ``pybabel update`` (or ``init``) + ``pybabel compile``
with the settings below, written through Babel's API so that the test uses the very same
settings. New strings arrive in the ``.po`` untranslated and changed ones fuzzy: translate
them (and clear ``#, fuzzy``) in ``rnnviz/locale/ru/LC_MESSAGES/rnnviz.po``, then run
``--update`` again to compile the ``.mo``. Files are rewritten only when their messages
change (not for a new date), and hold no line numbers, so that a moved line does not touch
the catalogue and parallel branches merge cleanly.
"""

from __future__ import annotations

import argparse
import ast
import io
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po, write_po

from rnnviz import __version__
from rnnviz.i18n import DOMAIN, LANGUAGES, LOCALE_DIR

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "rnnviz"
POT = LOCALE_DIR / f"{DOMAIN}.pot"
TRANSLATED = tuple(lang for lang in LANGUAGES if lang != "en")  # English is the source
KEYWORDS = DEFAULT_KEYWORDS  # _, gettext, ngettext, pgettext, npgettext, N_, ...
COMMENT_TAGS = ("TRANSLATORS:",)
WIDTH = 96


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(lang: str) -> Path:
    return po_path(lang).with_suffix(".mo")


# --------------------------------------------------------------------------- the catalogue


def _new_catalog(locale: str | None = None) -> Catalog:
    return Catalog(locale=locale, domain=DOMAIN, project="rnnviz", version=__version__,
                   copyright_holder="rnnviz contributors",
                   msgid_bugs_address="https://github.com/rnnviz/rnnviz/issues",
                   last_translator="rnnviz contributors",
                   language_team="rnnviz contributors", charset="utf-8", fuzzy=False)


def extract() -> Catalog:
    """Every translatable string in rnnviz/ (``pybabel extract`` over ``**.py``)."""
    template = _new_catalog()
    for filename, lineno, message, comments, context in extract_from_dir(
            str(PACKAGE), method_map=[("**.py", "python")], keywords=KEYWORDS,
            comment_tags=COMMENT_TAGS, strip_comment_tags=True):
        template.add(message, None, [(f"rnnviz/{filename}", lineno)], auto_comments=comments,
                     context=context)
    return template


def _key(message: Message) -> tuple[str | None, object]:
    return message.context, message.id


def _messages(catalog: Catalog) -> dict[tuple[str | None, object], Message]:
    return {_key(m): m for m in catalog if m.id}  # the header has id ""


def _read_po(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale=locale, domain=DOMAIN)


def _po_bytes(catalog: Catalog) -> bytes:
    buf = io.BytesIO()
    write_po(buf, catalog, width=WIDTH, sort_by_file=True, ignore_obsolete=True,
             include_lineno=False)
    return buf.getvalue()


_DATES = re.compile(rb'^"(POT-Creation-Date|PO-Revision-Date): .*\n', re.MULTILINE)


def _write_if_changed(path: Path, data: bytes, *, ignore_dates: bool = False) -> bool:
    old = path.read_bytes() if path.exists() else None
    same = (old is not None and (_DATES.sub(b"", old) == _DATES.sub(b"", data) if ignore_dates
                                 else old == data))
    if not same:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        print(f"wrote {path.relative_to(ROOT)}")
    return not same


def update() -> None:
    """Extract to the template, merge it into every language's .po, compile the .mo."""
    template = extract()
    _write_if_changed(POT, _po_bytes(template), ignore_dates=True)
    for lang in TRANSLATED:
        po = po_path(lang)
        catalog = _read_po(po, lang) if po.exists() else _new_catalog(lang)
        catalog.update(template)  # new strings empty, changed ones fuzzy, gone ones obsolete
        _write_if_changed(po, _po_bytes(catalog), ignore_dates=True)
        compiled = io.BytesIO()
        write_mo(compiled, _read_po(po, lang), use_fuzzy=False)  # from the file as it is
        _write_if_changed(mo_path(lang), compiled.getvalue())


# ----------------------------------------------------------------- symbols and placeholders

_PLACEHOLDER = re.compile(r"\{[^{}]*\}")  # str.format fields: {name}, {value!r}
_TAG = re.compile(r"<(?!br>)[^<>]+>")  # <b>, </b>; line breaks (<br>) are the translator's choice
_CODE = re.compile(r"`[^`]+`")
_SYMBOL = re.compile(
    r"(?<![\w'’])(?:"
    r"[A-Za-z][A-Za-z0-9]*(?:_\{?[A-Za-z0-9+\-]+\}?)+"  # h_t, c_t, h_{t-1}, W_hh, hidden_size
    r"|[A-Z]{2,}[0-9]*"  # RNN, LSTM, GRU, BPTT
    r"|[b-zB-HJ-Z]"  # a lone letter (not the words a, A, I): x, y, h, C, i, f, g, o, r, z, n
    r")(?![\w'’])")

# words, not symbols: "e.g.", "i.e." (a translation says «например»), the plural mark of "step(s)"
_LATIN = re.compile(r"(?<![\w.])(?:e\.g|i\.e)\.|(?<=[A-Za-z])\(s\)", re.IGNORECASE)


def symbols(text: str) -> list[str]:
    """The things a translation must carry over unchanged: format placeholders, HTML tags
    other than <br>, code spans, and symbols (h_t, c_t, gate letters, torch argument names, RNN/LSTM/GRU)."""
    found = _PLACEHOLDER.findall(text) + _TAG.findall(text) + _CODE.findall(text)
    rest = _CODE.sub(" ", re.sub(r"<[^<>]+>", " ", _PLACEHOLDER.sub(" ", text)))
    rest = _LATIN.sub(" ", rest)
    return sorted(found + _SYMBOL.findall(rest))


def symbol_problems(msgid: str, msgstr: str) -> list[str]:
    """How ``msgstr`` fails to keep ``msgid``'s symbols and placeholders ([] if it does)."""
    want, got = Counter(symbols(msgid)), Counter(symbols(msgstr))
    problems = [f"{s!r} is missing" for s in sorted(want - got)]
    placeholders = set(_PLACEHOLDER.findall(msgstr)) | set(_TAG.findall(msgstr))
    problems += [f"{s!r} is new" for s in sorted((got - want).keys() & placeholders)]
    return problems


# ------------------------------------------------------------------------------ the check


def check() -> list[str]:
    """Every problem with the catalogue, as sentences ([] if there is none)."""
    problems: list[str] = []
    fix = "run `python -m tests.i18n_catalogue --update`"
    wanted = _messages(extract())
    if not POT.exists():
        return [f"{POT.relative_to(ROOT)} is missing: {fix}"]
    pot = _messages(_read_po(POT))
    if pot.keys() != wanted.keys():
        problems.append(f"{POT.relative_to(ROOT)} is out of date ({len(wanted.keys() - pot.keys())} "
                        f"new, {len(pot.keys() - wanted.keys())} gone): {fix}")
    for lang in TRANSLATED:
        po, mo = po_path(lang), mo_path(lang)
        where = str(po.relative_to(ROOT))
        if not po.exists():
            problems.append(f"{where} is missing: {fix}")
            continue
        catalog = _read_po(po, lang)
        have = _messages(catalog)
        problems += [f"{where}: not in the catalogue: {k[1]!r}"
                     + (f" (context {k[0]!r})" if k[0] else "") + f": {fix}"
                     for k in wanted.keys() - have.keys()]
        problems += [f"{where}: no longer in the code: {k[1]!r}: {fix}"
                     for k in have.keys() - wanted.keys()]
        problems += [f"{where}: obsolete entry {m.id!r}: {fix}" for m in catalog.obsolete.values()]
        nplurals = catalog.num_plurals
        for m in have.values():
            ids = list(m.id) if isinstance(m.id, tuple | list) else [m.id]
            strs = list(m.string) if isinstance(m.string, tuple | list) else [m.string]
            if m.fuzzy:
                problems.append(f"{where}: fuzzy (check it, then delete '#, fuzzy'): {m.id!r}")
            if not all(strs) or (m.pluralizable and len(strs) != nplurals):
                problems.append(f"{where}: no {lang} translation of {m.id!r}")
                continue
            for i, s in enumerate(strs):
                for p in symbol_problems(ids[min(i, len(ids) - 1)], s):
                    problems.append(f"{where}: {m.id!r} -> {s!r}: {p}")
        for message, errors in catalog.check():
            problems += [f"{where}: {message.id!r}: {e}" for e in errors]
        if not mo.exists():
            problems.append(f"{mo.relative_to(ROOT)} is missing: {fix}")
            continue
        with mo.open("rb") as f:
            compiled = {(m.context, tuple(m.id) if isinstance(m.id, list) else m.id): m.string
                        for m in read_mo(f) if m.id}
        source = {k: m.string for k, m in have.items() if not m.fuzzy and m.string}
        if _normal(compiled) != _normal(source):
            problems.append(f"{mo.relative_to(ROOT)} is not compiled from the .po: {fix}")
    return problems


def _normal(messages: dict) -> dict:
    return {k: tuple(v) if isinstance(v, list | tuple) else v for k, v in messages.items()}


# -------------------------------------------------------- unwrapped user-facing strings (AST)

# What the scan flags: a string literal or f-string with words in it, not wrapped in _()
# or friends, in a place a student reads.
RULES = ("plot", "widget", "error", "print")
# keyword arguments and dict keys whose value is shown (plotly and helpers; ipywidgets; tqdm)
KEYS = {
    "plot": {"title", "title_text", "text", "name", "hovertemplate", "hovertext", "texttemplate",
             "ticktext", "legendgrouptitle_text", "legend_title_text", "xaxis_title",
             "yaxis_title", "xaxis_title_text", "yaxis_title_text", "label"},
    "widget": {"description", "tooltip", "placeholder", "desc", "unit", "postfix"},
}
# functions whose positional arguments are shown: name -> rule
CALLS = {"colorbar": "plot", "Label": "widget", "HTML": "widget", "HTMLMath": "widget",
         "set_description": "widget", "set_description_str": "widget",
         "set_postfix_str": "widget", "warn": "error", "print": "print"}
TRANSLATORS = {"_", "gettext", "ngettext", "pgettext", "npgettext", "N_"}
# lower-case words that are symbols, not English
NOT_WORDS = {"tanh", "exp", "log", "softmax", "argmax", "max", "min", "px", "dL"}  # dL/dh_t
IGNORE = "# i18n-ignore"  # on a line whose message is for developers, not students

# The modules whose user-facing strings are all translated, and which rules hold in them.
# Grows module by module; at the end it is every .py under rnnviz/ with every rule (see
# test_i18n.py::test_user_facing_strings_are_wrapped).
SCANNED: dict[str, tuple[str, ...]] = {
    "rnnviz/i18n.py": RULES,
    "rnnviz/views/shapes.py": RULES,
    # its argument checks wait for the rnnviz/_validate.py rewrite (another branch)
    "rnnviz/views/text.py": ("plot", "widget", "print"),
    "rnnviz/views/cell.py": RULES,
    "rnnviz/views/connectivity.py": RULES,
    "rnnviz/views/dilation.py": RULES,
    # every module outside views/ and live/
    "rnnviz/__init__.py": RULES,
    "rnnviz/_bptt.py": RULES,
    "rnnviz/_preset.py": RULES,
    "rnnviz/_preset_tasks.py": RULES,
    "rnnviz/app/__init__.py": RULES,
    "rnnviz/app/_controls.py": RULES,
    "rnnviz/app/serve.py": RULES,
    "rnnviz/_solution.py": RULES,
    "rnnviz/_types.py": RULES,
    "rnnviz/_validate.py": RULES,
    "rnnviz/cells.py": RULES,
    "rnnviz/checkpoints.py": RULES,
    "rnnviz/dilation.py": RULES,
    "rnnviz/evaluation.py": RULES,
    "rnnviz/initialization.py": RULES,
    "rnnviz/models.py": RULES,
    "rnnviz/presets.py": RULES,
    "rnnviz/sampling.py": RULES,
    "rnnviz/sensitivity.py": RULES,
    "rnnviz/seq2seq.py": RULES,
    "rnnviz/sequence_model.py": RULES,
    "rnnviz/tasks/__init__.py": RULES,
    "rnnviz/tasks/_base.py": RULES,
    "rnnviz/tasks/context.py": RULES,
    "rnnviz/tasks/counting.py": RULES,
    "rnnviz/tasks/generation.py": RULES,
    "rnnviz/tasks/lengths.py": RULES,
    "rnnviz/tasks/lstm1997.py": RULES,
    "rnnviz/tasks/memory.py": RULES,
    "rnnviz/tasks/sentiment.py": RULES,
    "rnnviz/tasks/signals.py": RULES,
    "rnnviz/tasks/text.py": RULES,
    "rnnviz/tasks/translation.py": RULES,
    "rnnviz/tokens.py": RULES,
    "rnnviz/tracing.py": RULES,
    "rnnviz/trainer.py": RULES,
    "rnnviz/units.py": RULES,
    "rnnviz/live/_registry.py": RULES,
    # the views and the dashboard (views/cell.py, connectivity.py, dilation.py are above)
    "rnnviz/views/_data.py": RULES,
    "rnnviz/views/_live.py": RULES,
    "rnnviz/views/_style.py": RULES,
    "rnnviz/views/animate.py": RULES,
    "rnnviz/views/export.py": RULES,
    "rnnviz/views/gradients.py": RULES,
    "rnnviz/views/heatmaps.py": RULES,
    "rnnviz/views/history.py": RULES,
    "rnnviz/views/seq2seq.py": RULES,
    "rnnviz/views/unrolled.py": RULES,
    "rnnviz/views/__init__.py": RULES,
    "rnnviz/live/__init__.py": RULES,
    "rnnviz/live/_assets.py": RULES,
    "rnnviz/live/_controls.py": RULES,
    "rnnviz/live/_describe.py": RULES,
    "rnnviz/live/_figures.py": RULES,
    "rnnviz/live/_hooks.py": RULES,
    "rnnviz/live/_labels.py": RULES,
    "rnnviz/live/_loop.py": RULES,
    "rnnviz/live/_replay.py": RULES,
    "rnnviz/live/_sender.py": RULES,
    "rnnviz/live/_status.py": RULES,
    "rnnviz/live/_widget.py": RULES,
    "rnnviz/live/_wire.py": RULES,
}

_TOKEN = re.compile(r"[^\W\d_][\w'’]*")


def has_words(text: str) -> bool:
    """True if ``text`` has a word a student reads, beyond symbols, placeholders and markup."""
    text = re.sub(r"%\{[^}]*\}|\{[^{}]*\}|<[^<>]*>|&#?\w+;", " ", text)
    for token in _TOKEN.findall(text):
        if "_" in token or any(ch.isdigit() for ch in token) or len(token) < 2:
            continue  # h_t, W_hh, hidden_size, x, h
        if token.isupper() or token in NOT_WORDS:
            continue  # RNN, LSTM
        return True
    return False


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    rule: str
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: [{self.rule}] {self.text}"


def _name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _literal_text(node: ast.expr | None) -> str | None:
    """The words of a string-valued expression that is not wrapped for translation (None if
    it is wrapped, or is not a literal: a variable, a call)."""
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else " {} " for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        parts = [_literal_text(node.left), _literal_text(node.right)]
        return " ".join(p for p in parts if p) or None
    if isinstance(node, ast.IfExp):
        parts = [_literal_text(node.body), _literal_text(node.orelse)]
        return " ".join(p for p in parts if p) or None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
            and node.func.attr == "format":
        return _literal_text(node.func.value)  # "…{x}".format(x=…), but _("…").format() is fine
    if isinstance(node, ast.List | ast.Tuple):
        parts = [_literal_text(e) for e in node.elts]
        return " ".join(p for p in parts if p) or None
    return None  # a name, a call (_() included), ...


def scan_source(source: str, path: str = "<string>",
                rules: tuple[str, ...] = RULES) -> list[Finding]:
    """String literals with words that reach a student unwrapped, by the rules given."""
    tree = ast.parse(source)
    lines = source.splitlines()
    found: list[Finding] = []

    def flag(rule: str, node: ast.expr | None) -> None:
        if rule not in rules or node is None:
            return
        text = _literal_text(node)
        if text is None or not has_words(text):
            return
        span = lines[node.lineno - 1: (node.end_lineno or node.lineno)]
        if any(IGNORE in line for line in span):
            return
        found.append(Finding(path, node.lineno, rule, ast.get_source_segment(source, node)
                             or text))

    def key_rule(key: str) -> str | None:
        return next((rule for rule, keys in KEYS.items() if key in keys), None)

    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            name = _name(node.exc.func) or ""
            if name.endswith(("Error", "Exception", "Warning")) and node.exc.args:
                flag("error", node.exc.args[0])
        elif isinstance(node, ast.Call):
            name = _name(node.func)
            if name in TRANSLATORS:
                continue
            if name in CALLS:
                for arg in node.args[:None if name == "print" else 1]:
                    flag(CALLS[name], arg)
            for kw in node.keywords:
                rule = key_rule(kw.arg or "")
                if rule:
                    flag(rule, kw.value)
        elif isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values, strict=True):
                if isinstance(k, ast.Constant) and isinstance(k.value, str):
                    rule = key_rule(k.value)
                    if rule:
                        flag(rule, v)
    return sorted(found, key=lambda f: f.line)


def scan(path: str, rules: tuple[str, ...] = RULES) -> list[Finding]:
    return scan_source((ROOT / path).read_text(encoding="utf-8"), path, rules)


def todo() -> list[Finding]:
    """Every finding in rnnviz/ with every rule: what is left to convert."""
    return [f for p in sorted(PACKAGE.rglob("*.py"))
            for f in scan(str(p.relative_to(ROOT)), RULES)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.i18n_catalogue", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--update", action="store_true", help="extract, merge, compile")
    what.add_argument("--check", action="store_true", help="report catalogue problems")
    what.add_argument("--todo", action="store_true", help="unwrapped strings in all of rnnviz/")
    args = parser.parse_args(argv)
    if args.update:
        update()
        args.check = True
    if args.check:
        problems = check() + [str(f) for p, rules in SCANNED.items() for f in scan(p, rules)]
        print("\n".join(problems) or "the catalogue is complete")
        return 1 if problems else 0
    findings = todo()
    for f in findings:
        print(f)
    files = len({f.path for f in findings})
    print(f"{len(findings)} unwrapped user-facing strings in {files} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
