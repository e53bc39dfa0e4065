"""After every notebook cell, the live dashboards whose trainer moved (``trainer.run(n)`` in
a cell) show its new state."""

from __future__ import annotations

import weakref
from typing import Any

LIVE: weakref.WeakSet[Any] = weakref.WeakSet()  # every open dashboard
_HOOKED = False


def after_cell(*_args: Any) -> None:
    """IPython's ``post_run_cell``: dashboards whose trainer moved refresh (on their home loop)."""
    for dash in list(LIVE):
        dash._at_home(dash._refresh_if_changed)


def watch(dash: Any) -> None:
    """Refresh ``dash`` after every cell until it is closed (see :func:`forget`)."""
    LIVE.add(dash)
    _hook_cells()


def forget(dash: Any) -> None:
    LIVE.discard(dash)


def _hook_cells() -> None:
    global _HOOKED
    if _HOOKED:
        return
    try:
        from IPython import get_ipython
    except ImportError:
        return
    ip = get_ipython()
    if ip is not None:
        ip.events.register("post_run_cell", after_cell)
        _HOOKED = True
