"""The language rnnviz speaks: English (the source language) or Russian.

Every human-readable string rnnviz produces goes through :func:`_` (the gettext
convention) and is looked up in the gettext catalogue ``rnnviz/locale/<lang>/LC_MESSAGES/
rnnviz.mo``, compiled by Babel from the ``.po`` file next to it. At run time only the
standard library's :mod:`gettext` is used.

Choosing a language:
    >>> import rnnviz
    >>> rnnviz.set_language("ru")      # figures, widgets and messages in Russian
    >>> rnnviz.get_language()
    'ru'
    >>> rnnviz.set_language("en")      # and back
    >>> rnnviz.set_language(None)      # follow RNNVIZ_LANG again (English if unset)

One call only: views take ``lang=`` like ``theme=``, e.g. ``plot_task_shapes(lang="ru")``.

Writing translatable code (see ``tests/i18n_catalogue.py`` for the catalogue tooling):
    - ``_("Five shapes of sequence task")``: a whole phrase, never glued from pieces.
    - ``_("Text coloured by {name}").format(name=name)``: named placeholders, so a
      translation can move them; plotly's ``%{...}`` placeholders are passed in through
      ``.format`` too, so the catalogue holds no plotly syntax.
    - ``ngettext("{n} step", "{n} steps", n).format(n=n)``: plurals (Russian has three forms).
    - ``pgettext("legend", "input")``: a context for a short string that is ambiguous.
    - ``N_("one-to-one")``: marks a module-level constant for the catalogue without
      translating it; translate it where it is shown, ``_(title)``, so that it follows the
      language in force at that moment.
    - Symbols stay as they are in every language: h_t, c_t, x, y, the gate letters
      i, f, g, o, r, z, n, and torch's argument names (``hidden_size``).
    - A module that imports ``_`` must not use ``_`` as a throwaway variable (ruff reports
      a loop variable that shadows it; rename tuple-unpacking throwaways too).
"""

from __future__ import annotations

import contextlib
import functools
import gettext as _gettext
import inspect
import os
import re
import warnings
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["LANGUAGES", "set_language", "get_language", "language", "uses_language", "_",
           "gettext", "ngettext", "pgettext", "npgettext", "N_"]

DOMAIN = "rnnviz"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
#: The languages rnnviz speaks. English is the source language: the msgids are English.
LANGUAGES: tuple[str, ...] = ("en", "ru")
ENV_VAR = "RNNVIZ_LANG"

_chosen: str | None = None  # set by set_language; None: follow RNNVIZ_LANG
_override: ContextVar[str | None] = ContextVar("rnnviz_language", default=None)
_warned_env: set[str] = set()

F = TypeVar("F", bound=Callable[..., Any])


def _normalise(lang: object) -> str | None:
    """'ru', 'RU', 'ru_RU', 'ru-RU', 'ru_RU.UTF-8' -> 'ru'; None if rnnviz does not speak it."""
    if not isinstance(lang, str):
        return None
    code = re.split(r"[-_.@]", lang.strip().lower(), maxsplit=1)[0]
    return code if code in LANGUAGES else None


def _check(lang: object, arg: str = "lang") -> str:
    code = _normalise(lang)
    if code is None:
        choices = ", ".join(repr(x) for x in LANGUAGES)
        raise ValueError(_("{arg} must be one of {choices} (or None for the {env} default), "
                           "got {value!r}").format(arg=arg, choices=choices, env=ENV_VAR,
                                                   value=lang))
    return code


def _from_environment() -> str:
    value = os.environ.get(ENV_VAR, "").strip()
    if not value:
        return "en"
    code = _normalise(value)
    if code is None:
        if value not in _warned_env:  # once per value, not on every string
            _warned_env.add(value)
            # English on purpose: this only happens while rnnviz speaks English
            warnings.warn(f"{ENV_VAR}={value!r} is not a language rnnviz speaks "  # i18n-ignore
                          f"({', '.join(LANGUAGES)}); using English", stacklevel=3)
        return "en"
    return code


def set_language(lang: str | None) -> None:
    """Make rnnviz speak ``lang`` (``"en"`` or ``"ru"``) from now on: figure titles, axis
    labels, legends and hover text, task summaries, widgets, progress bars and error
    messages. ``None`` goes back to the default: the ``RNNVIZ_LANG`` environment variable,
    else English. Figures already drawn keep their language; draw them again.

    Raises:
        ValueError: ``lang`` is not a language rnnviz speaks.
    """
    global _chosen
    _chosen = None if lang is None else _check(lang)


def get_language() -> str:
    """The language in force: a ``lang=`` override, else :func:`set_language`'s choice,
    else ``RNNVIZ_LANG``, else ``"en"``."""
    return _override.get() or _chosen or _from_environment()


@contextlib.contextmanager
def language(lang: str | None) -> Iterator[str]:
    """``with language("ru"): ...`` speaks ``lang`` inside the block only (this thread or
    task); ``None`` changes nothing. Yields the language in force."""
    if lang is None:
        yield get_language()
        return
    token = _override.set(_check(lang))
    try:
        yield get_language()
    finally:
        _override.reset(token)


def uses_language(func: F) -> F:
    """Decorator for a function with a keyword-only ``lang: str | None = None`` parameter:
    the call runs in ``language(lang)``, so every ``_()`` inside it follows ``lang``."""
    param = inspect.signature(func).parameters.get("lang")
    if param is None or param.kind is not inspect.Parameter.KEYWORD_ONLY:
        # a programming error in rnnviz, not something a student causes
        raise TypeError(f"{func.__qualname__} needs a keyword-only 'lang' parameter")  # i18n-ignore

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with language(kwargs.get("lang")):
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@functools.cache
def translations(lang: str) -> _gettext.NullTranslations:
    """The gettext catalogue for ``lang`` (English: the identity)."""
    if lang == "en":
        return _gettext.NullTranslations()
    return _gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[lang])


def gettext(message: str) -> str:
    """``message`` (English) in the language in force."""
    return translations(get_language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of ``singular``/``plural`` for ``n``, in the language in force."""
    return translations(get_language()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """``message`` in the language in force, told apart from the same English by ``context``."""
    return translations(get_language()).pgettext(context, message)


def npgettext(context: str, singular: str, plural: str, n: int) -> str:
    return translations(get_language()).npgettext(context, singular, plural, n)


def N_(message: str) -> str:
    """Marks ``message`` for the catalogue and returns it untranslated (gettext_noop): for
    module-level constants, translated with ``_()`` where they are shown."""
    return message


_ = gettext
