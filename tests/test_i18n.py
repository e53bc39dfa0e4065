"""rnnviz speaks English and Russian: choosing the language, the gettext catalogue being
complete and compiled, symbols surviving translation, no unwrapped user-facing strings in
the converted modules, and the converted views drawn in each language."""

from __future__ import annotations

import fnmatch
import gettext
import re
import subprocess
import sys
import threading
import tomllib
import warnings

import numpy as np
import plotly.graph_objects as go
import pytest
import torch

import rnnviz
from rnnviz import i18n
from tests import i18n_catalogue as C

CYRILLIC = re.compile(r"[А-Яа-яЁё]")


@pytest.fixture(autouse=True)
def _fresh_language(monkeypatch):
    """Every test starts with no set_language choice and no RNNVIZ_LANG, and leaves none."""
    monkeypatch.delenv("RNNVIZ_LANG", raising=False)
    monkeypatch.setattr(i18n, "_chosen", None)
    monkeypatch.setattr(i18n, "_warned_env", set())
    yield
    assert i18n._override.get() is None


# ----------------------------------------------------------------------- choosing a language


def test_set_language_round_trip() -> None:
    assert rnnviz.get_language() == "en"
    rnnviz.set_language("ru")
    assert rnnviz.get_language() == "ru" and i18n._("output y") == "выход y"
    rnnviz.set_language("en")
    assert rnnviz.get_language() == "en" and i18n._("output y") == "output y"
    for spelling in ("RU", "ru_RU", "ru-RU", "ru_RU.UTF-8", " ru "):
        rnnviz.set_language(spelling)
        assert rnnviz.get_language() == "ru", spelling
    rnnviz.set_language(None)
    assert rnnviz.get_language() == "en"


def test_default_follows_rnnviz_lang(monkeypatch) -> None:
    monkeypatch.setenv("RNNVIZ_LANG", "ru_RU.UTF-8")
    assert rnnviz.get_language() == "ru"
    rnnviz.set_language("en")  # an explicit choice wins over the environment
    assert rnnviz.get_language() == "en"
    rnnviz.set_language(None)
    assert rnnviz.get_language() == "ru"
    monkeypatch.setenv("RNNVIZ_LANG", "")
    assert rnnviz.get_language() == "en"


def test_unknown_rnnviz_lang_warns_once_and_speaks_english(monkeypatch) -> None:
    monkeypatch.setenv("RNNVIZ_LANG", "fr")
    with pytest.warns(UserWarning, match="RNNVIZ_LANG='fr' is not a language rnnviz speaks"):
        assert rnnviz.get_language() == "en"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert rnnviz.get_language() == "en" and i18n._("unit") == "unit"


@pytest.mark.parametrize("bad", ["fr", "", "english", 5, ["ru"]])
def test_unknown_language_is_a_clear_error(bad) -> None:
    with pytest.raises(ValueError, match=r"^lang must be one of 'en', 'ru' .*got " + re.escape(repr(bad))):
        rnnviz.set_language(bad)
    with pytest.raises(ValueError, match=r"^lang must be one of 'en', 'ru'"):
        rnnviz.plot_task_shapes(lang=bad)
    assert rnnviz.get_language() == "en"


def test_the_error_is_in_the_language_in_force() -> None:
    rnnviz.set_language("ru")
    with pytest.raises(ValueError, match=r"^параметр lang должен быть одним из 'en', 'ru'.*'fr'"):
        rnnviz.set_language("fr")
    assert rnnviz.get_language() == "ru"


def test_language_block_overrides_and_restores() -> None:
    rnnviz.set_language("ru")
    with i18n.language("en") as lang:
        assert lang == "en" and rnnviz.get_language() == "en"
        with i18n.language(None):  # None changes nothing
            assert rnnviz.get_language() == "en"
        with i18n.language("ru"):
            assert rnnviz.get_language() == "ru"
        assert rnnviz.get_language() == "en"
    assert rnnviz.get_language() == "ru"
    with pytest.raises(KeyError), i18n.language("en"):
        raise KeyError  # restored on an error too
    assert rnnviz.get_language() == "ru"


def test_language_block_stays_in_its_thread() -> None:
    seen = []
    with i18n.language("ru"):
        t = threading.Thread(target=lambda: seen.append(rnnviz.get_language()))
        t.start()
        t.join()
    assert seen == ["en"]


def test_uses_language_needs_a_keyword_only_lang() -> None:
    with pytest.raises(TypeError, match="keyword-only 'lang'"):
        i18n.uses_language(lambda lang=None: lang)


def test_russian_plural_forms() -> None:
    t = i18n.translations("ru")
    assert isinstance(t, gettext.GNUTranslations)
    forms = {n: t.plural(n) for n in (1, 2, 4, 5, 11, 12, 14, 21, 22, 25, 101, 111)}
    assert forms == {1: 0, 2: 1, 4: 1, 5: 2, 11: 2, 12: 2, 14: 2, 21: 0, 22: 1, 25: 2, 101: 0,
                     111: 2}


def test_run_time_needs_only_the_standard_library() -> None:
    code = ("import sys, rnnviz; rnnviz.set_language('ru'); rnnviz.plot_task_shapes(); "
            "assert 'babel' not in sys.modules, 'babel imported at run time'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=C.ROOT)


# ----------------------------------------------------------------------------- the catalogue


def test_catalogue_is_complete_translated_and_compiled() -> None:
    """Every string wrapped in _() & co. anywhere in rnnviz/ (as Babel extracts it) is in
    the .pot and the .po, has a non-fuzzy Russian translation keeping its symbols and
    placeholders, the .po has nothing obsolete, and the .mo is compiled from the .po."""
    problems = C.check()
    assert not problems, "\n".join(problems)


def test_catalogue_is_shipped_as_package_data() -> None:
    config = tomllib.loads((C.ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["rnnviz"]
    files = [p.relative_to(C.PACKAGE).as_posix() for p in C.LOCALE_DIR.rglob("*") if p.is_file()]
    assert {"locale/rnnviz.pot", "locale/ru/LC_MESSAGES/rnnviz.po",
            "locale/ru/LC_MESSAGES/rnnviz.mo"} <= set(files)
    for f in files:
        assert any(fnmatch.fnmatch(f, p) for p in patterns), f"{f} is not package data"


@pytest.mark.parametrize(("msgid", "msgstr", "problems"), [
    ("input x", "вход x", []),
    ("input x", "вход х", ["'x' is missing"]),  # Cyrillic х
    ("hidden state h_t", "скрытое состояние h_t", []),
    ("hidden state h_t", "скрытое состояние h", ["'h_t' is missing"]),
    ("forget gate f: what to keep of c_{t-1}", "вентиль забывания f: что оставить от c_{t-1}", []),
    ("forget gate f", "вентиль забывания", ["'f' is missing"]),
    ("gates i, f, g, o", "вентили i, f, g, o", []),
    ("gates r, z and n", "вентили r, z и n", []),
    ("gates r, z and n", "вентили р, z и n", ["'r' is missing"]),
    ("set `hidden_size`", "задайте `hidden_size`", []),
    ("hidden_size must be positive", "размер hidden-size должен быть > 0", ["'hidden_size' is missing"]),
    ("RNN step h", "шаг РНС h", ["'RNN' is missing"]),
    ("Text coloured by {name}", "Текст: {имя}", ["'{name}' is missing", "'{имя}' is new"]),
    ("<b>one</b>", "один", ["'</b>' is missing", "'<b>' is missing"]),
    ("one<br>two", "один два", []),  # line breaks are the translator's to place
    ("one two", "один<br>два", []),
    ("a unit's value", "значение нейрона", []),  # 'a' and the s of unit's are words
    ("lower lr (e.g. lr=0.1), i.e. slower", "уменьшите lr (например, lr=0.1), то есть медленнее", []),
    ("gates (e.g. f)", "вентили (например, )", ["'f' is missing"]),
    ("{n} step(s) of x", "{n} шага x", []),
    ("gate(s) f", "вентиль", ["'f' is missing"]),
])
def test_symbols_survive_translation(msgid, msgstr, problems) -> None:
    assert C.symbol_problems(msgid, msgstr) == problems


# --------------------------------------------------------------- unwrapped user-facing strings


@pytest.mark.parametrize(("path", "rules"), C.SCANNED.items(), ids=list(C.SCANNED))
def test_user_facing_strings_are_wrapped(path, rules) -> None:
    """The modules in SCANNED show a student no string that is not wrapped for translation.
    SCANNED grows as modules are converted; when it is all of rnnviz/ with every rule,
    replace it with ``{str(p.relative_to(C.ROOT)): C.RULES for p in C.PACKAGE.rglob("*.py")}``
    (``python -m tests.i18n_catalogue --todo`` lists what is left)."""
    findings = C.scan(path, rules)
    assert not findings, "wrap these in _() (see rnnviz/i18n.py):\n" + "\n".join(map(str, findings))


def test_every_module_outside_the_views_is_scanned() -> None:
    """Everything but rnnviz/views/ and rnnviz/live/ is converted: a new module joins SCANNED."""
    modules = {str(p.relative_to(C.ROOT)) for p in C.PACKAGE.rglob("*.py")}
    left = sorted(m for m in modules - set(C.SCANNED)
                  if not m.startswith(("rnnviz/views/", "rnnviz/live/")))
    assert not left, f"add to SCANNED in tests/i18n_catalogue.py: {left}"
    assert all(C.SCANNED[m] == C.RULES for m in modules & set(C.SCANNED)
               if not m.startswith(("rnnviz/views/", "rnnviz/live/")))


SNIPPET = '''
fig.update_layout(title="Hidden state over time")                      # 2 flagged
fig.update_layout(title=_("Hidden state over time"))
fig.add_trace(go.Scatter(name=f"layer {l}", hovertemplate="%{y:.3f}"))  # 4 flagged
S.apply_theme(fig, theme, title=f"Gates of {cell}")                    # 5 flagged
notes.append({"text": f"<b>{label}</b>", "x": 0})
notes.append({"text": "forget gate: what to keep"})                    # 7 flagged
S.colorbar("h_t")
S.colorbar("activation")                                               # 9 flagged
go.Heatmap(colorbar=S.colorbar(_("{name} activation").format(name=n)), name="LSTM")
raise ValueError(f"wrap must be a positive int, got {wrap!r}")        # 11 flagged
raise ValueError(_("wrap must be a positive int, got {wrap!r}").format(wrap=wrap))
raise TypeError("bad " + kind)                                          # 13 flagged
widgets.Button(description="Train", tooltip=_("Start training"))        # 14 flagged
widgets.Label("Status: idle")                                           # 15 flagged
tqdm(total=n, desc="training")                                          # 16 flagged
print("done in", t)                                                     # 17 flagged
xaxis={"title": {"text": "time step t"}}                                # 18 flagged
fig.update_xaxes(ticktext=["x", "h_t", "c_t"])
fig.update_xaxes(ticktext=["input", "forget"])                          # 20 flagged
raise RuntimeError(f"internal: {x}")  # i18n-ignore
TASKS = (N_("one-to-one"),)
name = "unit" if unit is None else unit
fig.update_layout(title="a" if x else "Loss")                           # 24 flagged
'''


def test_scanner_flags_what_a_student_reads() -> None:
    found = C.scan_source(SNIPPET)
    expected = [i for i, line in enumerate(SNIPPET.splitlines(), start=1) if line.endswith("flagged")]
    assert [f.line for f in found] == expected
    rules = {f.line: f.rule for f in found}
    assert rules[11] == rules[13] == "error" and rules[14] == rules[16] == "widget"
    assert rules[17] == "print" and rules[2] == rules[9] == "plot"
    only_plot = C.scan_source(SNIPPET, rules=("plot",))
    assert {f.rule for f in only_plot} == {"plot"} and 11 not in {f.line for f in only_plot}


def test_has_words() -> None:
    for text in ("h_t", "x", "<b>h</b>", "%{z:.4f}<extra></extra>", "{name} = %{z}", "LSTM",
                 "W_hh @ h_{t-1}", "tanh", "", "→", "1e-3", "‖dL/dh_t‖"):
        assert not C.has_words(text), text
    for text in ("unit", "Loss", "скрытое состояние", "layer {l}", "step h"):
        assert C.has_words(text), text


# -------------------------------------------------------------------------- the two views


def _shown(fig) -> list[str]:
    """Every text a student reads in the figure: titles, legend names, annotations, hover."""
    keys = {"text", "name", "hovertemplate", "texttemplate"}
    out: list[str] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if isinstance(v, str) and k in keys:
                    out.append(v)
                else:
                    walk(v)
        elif isinstance(node, list | tuple):
            for v in node:
                if isinstance(v, dict):
                    walk(v)

    walk(fig.to_plotly_json())
    return out


def _english_words(texts: list[str]) -> list[str]:
    ascii_parts = [re.sub(r"[^\x00-\x7f]+", " ", t) for t in texts]
    return [t for t in ascii_parts if C.has_words(t)]


def _views(**kw):
    return {"plot_task_shapes": rnnviz.plot_task_shapes(**kw),
            "plot_text_activation": rnnviz.plot_text_activation("мама мыла раму\nhello",
                                                                [0.5] * 20, **kw)}


def test_views_speak_russian_and_english() -> None:
    english = _views()
    for name, fig in english.items():
        shown = _shown(fig)
        assert not any(CYRILLIC.search(s) for s in shown if "мама" not in s), name
    assert english["plot_task_shapes"].layout.title.text == "Five shapes of sequence task"
    text_fig = english["plot_text_activation"]
    assert text_fig.layout.title.text == "Text coloured by unit"  # English as before i18n
    assert text_fig.data[0].hovertemplate == ("'%{customdata[0]}' (character %{customdata[1]})"
                                              "<br>unit = %{z:.4f}<extra></extra>")
    assert text_fig.data[0].colorbar.title.text == "activation"
    rnnviz.set_language("ru")
    russian = _views()
    for name, fig in russian.items():
        shown = _shown(fig)
        assert _english_words(shown) == [], name
        assert CYRILLIC.search(fig.layout.title.text), name
    shapes = russian["plot_task_shapes"]
    assert shapes.layout.title.text == "Пять видов задач обработки последовательностей"
    assert [t.name for t in shapes.data[1:]] == ["вход x", "шаг RNN h", "выход y"]
    notes = [a.text for a in shapes.layout.annotations]
    assert "<b>многие ко многим</b>" in notes and "<b>h</b>" in notes and "<b>x</b>" in notes
    assert russian["plot_text_activation"].data[0].colorbar.title.text == "активация"
    assert russian["plot_text_activation"].data[0].hovertemplate == (
        "«%{customdata[0]}» (символ %{customdata[1]})<br>нейрон = %{z:.4f}<extra></extra>")


def test_lang_argument_is_one_figure_only() -> None:
    per_call = _views(lang="ru")
    assert rnnviz.get_language() == "en"
    rnnviz.set_language("ru")
    assert {k: f.to_json() for k, f in per_call.items()} == {k: f.to_json() for k, f in _views().items()}
    assert _views(lang="en")["plot_task_shapes"].layout.title.text == "Five shapes of sequence task"
    assert rnnviz.get_language() == "ru"


def test_a_students_unit_name_is_shown_as_given() -> None:
    fig = rnnviz.plot_text_activation("ab", [0.1, 0.2], unit_name="слой 0, нейрон 7", lang="ru")
    assert fig.layout.title.text == "Текст, раскрашенный по активации: слой 0, нейрон 7"
    assert fig.data[0].colorbar.title.text == "активация"
    assert fig.layout.width is None  # no fixed width: it fills its slot, long title and all
    fig = rnnviz.plot_text_activation("ab", [0.1, 0.2], unit_name="layer {0} unit 7")
    assert fig.layout.title.text == "Text coloured by layer {0} unit 7"  # braces are not fields


# ------------------------------------------------- the cell, connectivity and dilation views


def _read(fig) -> list[str]:
    """What a student reads in ``fig`` (its animation frames too): titles, axis and colour-bar
    titles, annotations, hover, and the names of traces in the legend (the names of hidden
    traces are identifiers, never shown). Equations are read as symbols: W<sub>if</sub> is
    W_if."""
    out: list[str] = []
    data = list(fig.data) + [d for fr in fig.frames for d in fr.data]
    for d in data:
        js = d.to_plotly_json()
        shown = js.get("showlegend") is not False and js.get("type") not in ("heatmap", None)
        out += [js["name"]] if shown and js.get("name") else []
        out += [v for k, v in js.items() if k in ("hovertemplate", "texttemplate")
                and isinstance(v, str)]
        text = js.get("text")
        if text is not None and not isinstance(text, str):
            out += [t for t in np.asarray(text, dtype=object).ravel() if isinstance(t, str)]
    out += _shown(go.Figure(layout=fig.layout))
    out += [fr.layout.title.text for fr in fig.frames if fr.layout.title.text]
    return [re.sub(r"<sub>(.*?)</sub>", r"_\1", t) for t in out]


def _converted_views(lang: str) -> dict:
    x = torch.randn(1, 5, 2, generator=torch.Generator().manual_seed(0))
    lstm = rnnviz.LSTM(2, 6, batch_first=True, seed=0)
    gru = rnnviz.GRU(2, 4, batch_first=True, bidirectional=True, seed=0)
    elman = rnnviz.Elman(2, 3, batch_first=True, seed=0)
    return {
        "plot_cell lstm": rnnviz.plot_cell(rnnviz.trace(lstm, x), t=3, lang=lang),
        "plot_cell elman unit": rnnviz.plot_cell(rnnviz.trace(elman, x), t=1, unit=2, lang=lang),
        "animate_cell gru reverse": rnnviz.animate_cell(rnnviz.trace(gru, x), direction=1,
                                                        unit=0, lang=lang),
        "plot_connectivity": rnnviz.plot_connectivity(
            torch.rand(1, 6, 6, generator=torch.Generator().manual_seed(0)), text="abc de",
            lang=lang),
        "plot_dilation": rnnviz.plot_dilation((1, 2), 8, strides=(1, 2), lang=lang),
        "plot_dilation never": rnnviz.plot_dilation((2,), 6, source=0, lang=lang),
    }


def test_cell_connectivity_and_dilation_views_speak_russian_and_english() -> None:
    english, russian = _converted_views("en"), _converted_views("ru")
    assert rnnviz.get_language() == "en"
    for name, fig in english.items():
        assert not [t for t in _read(fig) if CYRILLIC.search(t)], name
    for name, fig in russian.items():
        read = [t.replace("torch", " ") for t in _read(fig)]  # torch is a name
        assert _english_words(read) == [], (name, _english_words(read))
        assert CYRILLIC.search(fig.layout.title.text), name
        assert CYRILLIC.search(fig.layout.title.subtitle.text), name
    # the words change, the equations and symbols do not
    en = next(d for d in english["plot_cell lstm"].data if d.name == "f").hovertemplate
    ru = next(d for d in russian["plot_cell lstm"].data if d.name == "f").hovertemplate
    assert en.split(" — ")[0] == ru.split(" — ")[0] and ru.startswith("f<sub>t</sub> = σ(")
    assert "forget gate: what to keep" in en and "вентиль забывания: что сохранить" in ru
    gru = russian["animate_cell gru reverse"]
    assert gru.layout.title.text.startswith("Ячейка GRU при t = ")
    assert "обратное ←" in gru.layout.title.text and "нейрон 0" in gru.layout.title.text
    assert all(CYRILLIC.search(fr.layout.title.text) for fr in gru.frames)
    dil = russian["plot_dilation"]
    assert dil.layout.title.text == "Развёртка во времени — растяжения (1, 2), шаги (1, 2)"
    assert "рецептивное поле 8 из 8 шагов" in dil.layout.title.subtitle.text
    assert "x_0 никогда не достигает выхода" in russian["plot_dilation never"].layout.title.subtitle.text
    assert [d.name for d in russian["plot_dilation never"].data if d.showlegend is not False][-1] \
        == "не достигает выхода"
    assert russian["plot_connectivity"].layout.yaxis.title.text == "выходной шаг t (h_t)"


@pytest.mark.parametrize(("k", "form"), [(1, "1 рекуррентный шаг"), (3, "3 рекуррентных шага"),
                                         (5, "5 рекуррентных шагов")])
def test_dilation_path_length_takes_the_russian_plural(k: int, form: str) -> None:
    fig = rnnviz.plot_dilation((1,), k + 1, source=0, lang="ru")  # x_0 is k steps from the end
    assert f"x_0 достигает выхода за {form} (обычная RNN: {k})" in fig.layout.title.subtitle.text


def test_cell_and_connectivity_errors_speak_the_language_in_force() -> None:
    lstm = rnnviz.LSTM(2, 3, batch_first=True, seed=0)
    x = torch.zeros(2, 4, 2)
    tr = rnnviz.trace(lstm, x, lengths=[4, 2])
    rnnviz.set_language("ru")
    with pytest.raises(ValueError, match=r"^t должен быть настоящим шагом примера 1 \(его длина 2\)"):
        rnnviz.plot_cell(tr, t=3, sample=1)
    with pytest.raises(ValueError, match=r"^wrap должен быть положительным целым числом"):
        rnnviz.plot_connectivity(torch.rand(1, 3, 3), wrap=0)
    with pytest.raises(ValueError, match=r"^source должен быть целым числом из \[0, 4\)"):
        rnnviz.plot_dilation((1,), 4, source=9)
    rnnviz.set_language("en")
    with pytest.raises(ValueError, match=r"^t must be a real step of sample 1"):
        rnnviz.plot_cell(tr, t=3, sample=1)


# ------------------------------------------------------------------ the converted non-view modules


def _diverging_trainer():
    task = rnnviz.tasks.Echo(delay=1, seed=0)
    model = rnnviz.SequenceModel.from_task(task, cell="lstm", hidden_size=4, seed=0)
    return rnnviz.Trainer(model, task, optimizer="sgd", lr=1e38, batch_size=4, seed=0,
                          snapshot_every=0)


def test_trainer_messages_speak_the_language_in_force(capsys) -> None:
    trainer = _diverging_trainer()
    trainer.run(20, progress=False)
    english = trainer.message
    assert re.match(r"Training diverged: the loss at step \d+ was (inf|nan); weights restored to "
                    r"those that gave the last finite loss \(step \d+\)\. ", english)
    assert english.endswith("Lower the learning rate (lr=1e+38) or enable gradient clipping "
                            "(e.g. clip=1.0), then call reset() (or resume()).")
    rnnviz.set_language("ru")
    trainer = _diverging_trainer()
    trainer.run(20, progress=False)
    russian = trainer.message
    assert re.match(r"Обучение разошлось: на шаге обучения \d+ потери равны (inf|nan); веса "
                    r"возвращены к тем, что дали последнее конечное значение потерь \(шаг \d+\)\. ",
                    russian)
    assert "обрезку градиента" in russian and "lr=1e+38" in russian and "clip=1.0" in russian
    assert not _english_words([re.sub(r"\b(inf|nan|lr|clip|reset|resume)\b", "", russian)])
    assert "Обучение разошлось" in capsys.readouterr().out
    with pytest.raises(RuntimeError, match=r"step\(\) не продолжит обучение"):
        trainer.step()
    with pytest.raises(TypeError, match=r"^loss_fn должна быть функцией .*получено int"):
        trainer.loss_fn = 5
    with i18n.language("en"), pytest.raises(TypeError, match=r"^loss_fn must be callable"):
        trainer.loss_fn = 5


def test_argument_errors_speak_the_language_in_force() -> None:
    from rnnviz import _validate as V

    def message(check, *args, **kwargs) -> str:
        with pytest.raises((ValueError, TypeError)) as info:
            check(*args, **kwargs)
        return str(info.value)

    assert message(V.positive_int, "hidden_size", -1) == "hidden_size must be a positive int, got -1 (int)"
    assert message(V.at_most, "seq_len", 10**6, "max_steps").startswith(
        "seq_len must be at most 10_000 (rnnviz.limits.max_steps: each step is one Python iteration")
    rnnviz.set_language("ru")
    assert message(V.positive_int, "hidden_size", -1) == (
        "hidden_size должен быть положительным целым числом, получено -1 (int)")
    assert message(V.choice, "cell", "lstn", ["rnn", "lstm", "gru"]) == (
        "cell должен быть одним из ['rnn', 'lstm', 'gru'], получено 'lstn' (str)")
    assert message(V.tensor, "x", [1.0]) == "x должен быть тензором torch.Tensor, получено [1.0] (list)"
    assert message(V.finite, "x", torch.tensor([[0.0, float("nan")]])) == (
        "x должен быть конечным (без NaN и inf), получено nan в позиции (батч 0, шаг 1)")
    limit = message(V.at_most, "seq_len", 10**6, "max_steps")
    assert limit.startswith("seq_len должен быть не больше 10_000 (rnnviz.limits.max_steps: "
                            "каждый шаг — одна итерация Python")
    assert limit.endswith("rnnviz.limits.max_steps = 1000000")
    assert message(V.flag, "progress", 1) == (
        "progress должен быть bool (True или False), получено 1 (int)")
    task = rnnviz.tasks.Echo(delay=1, seed=0)
    model = rnnviz.SequenceModel.from_task(task, hidden_size=4)
    with pytest.raises(ValueError, match=r"^lr должен быть положительным конечным числом, "
                                         r"получено -1 \(int\)$"):
        rnnviz.Trainer(model, task, lr=-1)
    with i18n.language("en"), pytest.raises(ValueError, match=r"^lr must be a positive finite"):
        rnnviz.Trainer(model, task, lr=-1)


def test_tasks_describe_themselves_in_the_language_in_force() -> None:
    tasks = rnnviz.tasks
    echo, recall = tasks.Echo(delay=1, seed=0), tasks.DelayedRecall(lag=5, seed=0)
    english = (echo.describe(), echo.baseline().description, repr(echo), repr(recall))
    assert english[1] == ("A network without memory sees only x_t, which is independent of "
                          "x_(t-1): it can only guess, so accuracy 1/4 and loss ln 4.")
    assert english[2].endswith("# synced: output the symbol seen 1 step(s) earlier")
    assert english[3].endswith("# many_to_one: after 5 distractor step(s), name the first symbol")
    rnnviz.set_language("ru")
    assert echo.baseline().description == (
        "Сеть без памяти видит только x_t, а он не зависит от x_(t-1): ей остаётся угадывать, "
        "поэтому точность 1/4, потери ln 4.")
    assert repr(echo).endswith("# synced: выдать символ, увиденный 1 шаг назад")  # a task made in English
    assert repr(recall).endswith("после 5 отвлекающих шагов назвать первый символ")
    assert repr(tasks.Echo(delay=3, seed=0)).endswith("увиденный 3 шага назад")
    assert "3 шага назад" in tasks.Echo(delay=3, seed=0).describe()
    for name in tasks.names():
        task = tasks.get(name)
        for text in (task.describe(), task.baseline().description, task.summary):
            assert CYRILLIC.search(text), (name, text)
    with pytest.raises(ValueError, match=r"^неизвестная задача 'ecoh'.*Возможно, вы имели в виду 'echo'\?$"):
        tasks.get("ecoh")
    with pytest.raises(ValueError, match=r"^delay должен быть меньше seq_len=4, получено 5$"):
        tasks.Echo(delay=5, seq_len=4)
    rnnviz.set_language("en")
    assert (echo.describe(), echo.baseline().description, repr(echo), repr(recall)) == english


def test_model_and_sampling_errors_speak_the_language_in_force() -> None:
    task = rnnviz.tasks.Echo(delay=1, seed=0)
    wrong = rnnviz.SequenceModel(input_size=4, output_size=4, hidden_size=4, readout="last")
    rnnviz.set_language("ru")
    with pytest.raises(ValueError, match=r"^для задачи вида 'synced' readout модели должен быть "
                                         r"'per_step', получено 'last'; создайте модель через "
                                         r"SequenceModel\.from_task\(task\)$"):
        wrong.check_task(task)
    with pytest.raises(ValueError, match=r"^temperature должна быть конечным числом >= 0"):
        rnnviz.generate(rnnviz.SequenceModel.from_task(rnnviz.tasks.CharText(), hidden_size=4),
                        rnnviz.tasks.CharText(), "a", 5, temperature=-1.0)
    with i18n.language("en"), pytest.raises(ValueError, match=r"^model readout must be 'per_step'"):
        wrong.check_task(task)


# ------------------------------------------------------------- the views and the dashboard

SYMBOL_WORDS = {"dh", "ln"}  # dL/dh and ln 4: symbols, not English


def _visible(fig) -> list[str]:
    """The texts of a figure a student reads: titles and subtitles, axis titles and tick
    labels, annotations, colour-bar titles, hover templates, legend entries, and the
    animation's slider prefix and buttons (also in its frames' titles). Names of traces kept
    out of the legend are ids, never shown."""
    spec = fig.to_plotly_json()
    out: list[str] = []

    def title(t) -> None:
        if isinstance(t, dict):
            out.extend(v for v in (t.get("text"), (t.get("subtitle") or {}).get("text")) if v)
        elif isinstance(t, str):
            out.append(t)

    def layout(lay: dict) -> None:
        title(lay.get("title"))
        for key, ax in lay.items():
            if key.startswith(("xaxis", "yaxis")) and isinstance(ax, dict):
                title(ax.get("title"))
                out.extend(t for t in ax.get("ticktext") or [] if isinstance(t, str))
        out.extend(a["text"] for a in lay.get("annotations") or [] if a.get("text"))
        title((lay.get("legend") or {}).get("title"))
        for s in lay.get("sliders") or []:
            out.append((s.get("currentvalue") or {}).get("prefix", ""))
        for menu in lay.get("updatemenus") or []:
            out.extend(b.get("label", "") for b in menu.get("buttons") or [])

    layout(spec["layout"])
    for frame in spec.get("frames") or []:
        layout(frame.get("layout") or {})
    for tr in spec["data"]:
        if tr.get("hovertemplate"):
            out.append(tr["hovertemplate"])
        title((tr.get("colorbar") or {}).get("title"))
        if tr.get("name") and tr.get("showlegend") is not False and tr.get("type") != "heatmap":
            out.append(tr["name"])
    return [t for t in out if t]


def _english_left(texts: list[str]) -> list[str]:
    words = re.compile(r"\b(" + "|".join(SYMBOL_WORDS) + r")\b")
    return _english_words([words.sub(" ", t) for t in texts])


def _every_view():
    """One figure of every converted view: an LSTM (bidirectional, so directions are named)
    trained a few steps, and a GRU encoder-decoder with attention."""
    task = rnnviz.tasks.Echo(delay=1, seq_len=6, seed=0)
    model = rnnviz.SequenceModel.from_task(task, cell="lstm", hidden_size=4, seed=0,
                                           bidirectional=True)
    trainer = rnnviz.Trainer(model, task, lr=0.05, batch_size=4, seed=0, snapshot_every=2)
    trainer.run(4, progress=False)
    trace = trainer.probe_trace()
    x = torch.nn.functional.one_hot(trainer.probe.x, task.input_size).float()
    norms = rnnviz.jacobian_norms(model.core, x)
    s2s = rnnviz.tasks.Reverse(num_symbols=4, min_len=2, max_len=4, seed=0)
    translator = rnnviz.Trainer(rnnviz.Seq2Seq.from_task(s2s, cell="gru", hidden_size=4, seed=0,
                                                         attention="dot"), s2s, batch_size=4, seed=0)
    translator.run(1, progress=False)
    return {
        "plot_hidden": lambda **kw: rnnviz.plot_hidden(trace, **kw),
        "plot_gates": lambda **kw: rnnviz.plot_gates(trace, **kw),
        "plot_gate_saturation": lambda **kw: rnnviz.plot_gate_saturation(trace, **kw),
        "plot_grad_flow": lambda **kw: rnnviz.plot_grad_flow(trace, **kw),
        "plot_unrolled": lambda **kw: rnnviz.plot_unrolled(trace, step=1, backward=True, **kw),
        "plot_jacobian": lambda **kw: rnnviz.plot_jacobian({"a": norms, "b": norms}, **kw),
        "plot_history": lambda **kw: rnnviz.plot_history(trainer, **kw),
        "animate_unrolled": lambda **kw: rnnviz.animate_unrolled(trace, **kw),
        "animate_grad_flow": lambda **kw: rnnviz.animate_grad_flow(trace, **kw),
        "animate_training": lambda **kw: rnnviz.animate_training(trainer, "gates", **kw),
        "plot_seq2seq": lambda **kw: rnnviz.plot_seq2seq(translator.probe_trace(), **kw),
    }


def test_every_view_speaks_russian() -> None:
    views = _every_view()
    english = {name: draw() for name, draw in views.items()}
    for name, fig in english.items():
        assert not [t for t in _visible(fig) if CYRILLIC.search(t)], name
    assert english["plot_gates"].layout.annotations[1].text.endswith(
        "f — forget gate: what to keep")
    rnnviz.set_language("ru")
    for name, draw in views.items():
        fig = draw()
        assert CYRILLIC.search(fig.layout.title.text), (name, fig.layout.title.text)
        assert _english_left(_visible(fig)) == [], name
        if name == "plot_gates":
            notes = [a.text for a in fig.layout.annotations]
            assert notes[1].endswith("f — вентиль забывания: что сохранить"), notes
            assert any(n.endswith("o — выходной вентиль: что выдать") for n in notes)
            assert fig.layout.xaxis5.title.text == "временной шаг t"
            assert fig.data[0].colorbar.title.text == "вентиль (0 закрыт, 1 открыт)"
        if name == "plot_hidden":
            assert fig.layout.title.text.startswith("Скрытые состояния h_t — LSTM · пример 0")
            assert [a.text for a in fig.layout.annotations] == ["слой 0 · прямое →",
                                                                "слой 0 · обратное ←"]
        if name == "plot_history":
            assert [a.text for a in fig.layout.annotations][:3] == [
                "потери", "точность (чем выше, тем лучше)", "норма градиента (до обрезки)"]
        if name == "animate_training":
            assert fig.layout.updatemenus[0].buttons[0].label == "▶ пуск"
            assert fig.layout.sliders[0].currentvalue.prefix == "шаг обучения "
    with i18n.language("en"):  # the same figure, drawn again, is English again
        assert views["plot_hidden"]().layout.title.text.startswith("Hidden states h_t — LSTM")


def test_a_view_takes_lang_for_one_figure() -> None:
    views = _every_view()
    for name in ("plot_grad_flow", "plot_history", "plot_seq2seq", "animate_unrolled"):
        ru = views[name](lang="ru")
        assert CYRILLIC.search(ru.layout.title.text) and rnnviz.get_language() == "en", name
    rnnviz.set_language("ru")
    assert views["plot_jacobian"](lang="en").layout.title.text == "How far back can the gradient reach?"


def test_the_baseline_is_found_in_any_language() -> None:
    from rnnviz.views import history

    task = rnnviz.tasks.Echo(delay=1, seed=0)
    trainer = rnnviz.Trainer(rnnviz.SequenceModel.from_task(task, hidden_size=4, seed=0), task,
                             batch_size=4, seed=0)
    english = history.live_history(trainer, theme="auto")
    with i18n.language("ru"):
        russian = history.live_history(trainer, theme="auto")
    base = [k for k, tr in enumerate(english.figure.data) if tr.name == "chance / no memory"]
    assert len(base) == 2
    assert [russian.figure.data[k].name for k in base] == ["наугад / без памяти"] * 2
    trainer.run(2, progress=False)
    for view in (english, russian):
        moved = {c.trace for c in view.update(trainer) if c.key == "x" and c.value is not None}
        assert moved == set(base)


def _dashboard_trainer(cell: str = "lstm"):
    task = rnnviz.tasks.Echo(delay=1, seq_len=6, seed=0)
    model = rnnviz.SequenceModel.from_task(task, cell=cell, hidden_size=4, seed=0)
    return rnnviz.Trainer(model, task, batch_size=4, seed=0)


def test_the_dashboard_speaks_russian() -> None:
    from rnnviz.live import _labels, _status

    english = rnnviz.dashboard(_dashboard_trainer("elman"), views=("hidden", "gates"))
    assert english.labels["play"] == "▶ play" and english.labels["states"]["ready"] == "ready"
    assert english.title == "ELMAN · hidden 4 · 1 layer · task echo"
    rnnviz.set_language("ru")
    trainer = _dashboard_trainer("elman")
    dash = rnnviz.dashboard(trainer, views=("hidden", "gates"))
    labels = dash.labels
    assert set(labels) == set(english.labels) and set(labels["states"]) == set(_labels.STATES)

    def strings(value) -> list[str]:
        return [s for v in value.values() for s in strings(v)] if isinstance(value, dict) else [value]

    words = [s for s in strings(labels) if C.has_words(s) and s != "lr"]  # lr: torch's name
    assert words and all(CYRILLIC.search(s) for s in words), words
    assert labels["play"] == "▶ пуск" and labels["states"]["diverged"] == "разошлось"
    assert dash.title == "ELMAN · hidden_size 4 · 1 слой · задача echo"
    assert dash.metric_name == "точность" and "Элмана" in dash.note
    history = dash.figures["history"]["layout"]
    assert history["title"]["text"] == "История обучения"
    assert dash.figures["history"]["baselines"] == english.figures["history"]["baselines"] != []
    # the status and the readout keep the dashboard's language, whatever is set later
    rnnviz.set_language("en")
    trainer.run(2, progress=False)
    dash._sync_status()
    assert dash.status["state"] == "paused"
    with i18n.language("ru"):
        russian = _diverged_message()
        message = _status.for_the_controls(russian)
    assert message.startswith("Обучение остановлено: на шаге обучения 3 потери равны nan; ")
    assert message.endswith("нажмите ↺ сброс.") and "reset()" not in message
    assert _status.for_the_controls(_diverged_message()) == (
        "Training stopped: the loss at step 3 was nan; weights restored to those that gave the "
        "last finite loss (step 2). Lower the learning rate (lr) or tick clip, then press ↺ reset.")
    mixed = _status.for_the_controls(russian)  # a message made in Russian, read in English
    assert mixed.startswith("Training stopped: на шаге обучения 3") and "Уменьшите" not in mixed
    for d in (english, dash):
        d.close()


def _diverged_message() -> str:
    """The trainer's own divergence message, in the language in force."""
    task = rnnviz.tasks.Echo(delay=1, seed=0)
    model = rnnviz.SequenceModel.from_task(task, hidden_size=4, seed=0)
    trainer = rnnviz.Trainer(model, task, batch_size=4, seed=0, lr=0.1)
    trainer.run(2, progress=False)

    def nan_loss(out, y):
        return out.sum() * float("nan")

    trainer.loss_fn = nan_loss
    trainer.run(1, progress=False)
    assert trainer.state == "diverged"
    return trainer.message
