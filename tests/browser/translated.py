"""What of rnnviz is translated into Russian today, for the browser tests of the Russian
edition (tests/browser/test_ru_browser.py in JupyterLab, test_site_browser.py on the static
site).

rnnviz is being translated module by module (``rnnviz.i18n``). When a view's module or a part
of the dashboard is converted, add it to ``TRANSLATED_VIEWS`` / ``TRANSLATED_DASHBOARD``: both
tests then require its words to be Cyrillic on every Russian page. A figure is attributed to
the last ``rnnviz.<view>(`` call of the cell that drew it.
"""

from __future__ import annotations

import re

CYRILLIC = re.compile("[А-Яа-яЁё]")

# Views whose figure texts (titles, axis titles, annotations, legends) rnnviz translates.
# "dashboard" stands for the dashboard's figures (live, or replayed on the static site).
TRANSLATED_VIEWS: list[str] = [
    "plot_task_shapes", "plot_text_activation",
    "plot_cell", "animate_cell", "plot_connectivity", "plot_dilation",
    "plot_unrolled", "plot_hidden", "plot_gates", "plot_gate_saturation", "plot_grad_flow",
    "plot_jacobian", "plot_history", "plot_seq2seq",
    "animate_unrolled", "animate_hidden", "animate_gates", "animate_grad_flow", "animate_training",
    "dashboard",
]
# Parts of the dashboard that rnnviz translates, by the keys of test_ru_browser's
# _CONTROLS_JS: "title", "status", "buttons", "labels", "options", "tooltips", "banner".
TRANSLATED_DASHBOARD: list[str] = ["title", "status", "buttons", "labels", "options", "tooltips",
                                   "banner"]

# Words (3+ Latin letters) that need no translation: symbols and names. A text made only of
# these, numbers and symbols (h_t, ‖W‖, "LSTM", "t = 3") is not English prose.
KEEP = {"RNN", "RNNs", "LSTM", "GRU", "ELMAN", "Elman", "BPTT", "MLP", "CNN", "tanh", "sigmoid",
        "softmax", "torch", "exp", "log", "max", "min", "norm", "PyTorch",
        "seed",  # seed: torch's and rnnviz's argument name, kept in the Russian lessons
        "relu", "Adam", "RMSprop"}  # torch's names of a nonlinearity and of optimizers


_TOKEN = re.compile(r"[A-Za-z_][\w.]*(?:\([^)]*\))?")
_CODE = re.compile(r"[_.(]|[a-z][A-Z]")  # h_t, nn.RNN, Lookahead(ahead=3), NeighbourXor


def wordy(text: str) -> bool:
    """Whether ``text`` has words a reader must read (not only symbols, numbers, names and
    code: ``Lookahead(ahead=3)``, ``nn.RNN``, ``hidden_size``)."""
    return any(len(t) >= 3 and t.isalpha() and not t.isupper() and t not in KEEP
               for t in _TOKEN.findall(text) if not _CODE.search(t))  # SGD, TBPTT: acronyms


def english(texts: list[str]) -> list[str]:
    """The texts with words to read and not a Cyrillic letter."""
    return [t for t in texts if wordy(t) and not CYRILLIC.search(t)]


def view_of(code: str) -> str | None:
    """The rnnviz view a cell's figure comes from (``plot_hidden``, ``animate_gates``,
    ``dashboard``), or None for the lesson's own figure."""
    calls = re.findall(r"rnnviz\.((?:plot|animate)_\w+|dashboard)\(", code)
    return calls[-1] if calls else None
