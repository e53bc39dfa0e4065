"""Fixtures for the browser tests: one JupyterLab server and one Chromium for this package.
(Package scope: playwright's event loop is closed before the other tests run.)

``run_notebook_in_lab(path) -> NotebookRun`` (a fixture returning a function) opens a notebook
in that server, runs all cells and reports figures, widgets, error outputs and JavaScript
console errors; see tests/browser/lab.py. With no Chromium the fixtures FAIL with the
message that says how to install one (``make browser``): a browser test never skips.
The server and its kernels are shut down even when a test fails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.lab import (
    BrowserMissing,
    LabServer,
    NotebookRun,
    launch_chromium,
)
from tests.browser.lab import (
    run_notebook_in_lab as _run,
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="package")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        try:
            browser = launch_chromium(p)
        except BrowserMissing as err:
            pytest.fail(str(err), pytrace=False)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="package")
def lab_server() -> Iterator[LabServer]:
    server = LabServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def run_notebook_in_lab(
    lab_server: LabServer, chromium: Any
) -> Iterator[Callable[..., NotebookRun]]:
    runs: list[NotebookRun] = []

    def run(path: str | Path, **kwargs: Any) -> NotebookRun:
        result = _run(lab_server, chromium, path, **kwargs)
        runs.append(result)
        return result

    yield run
    for result in runs:  # close the pages and shut their kernels down
        try:
            result.page.close()
        except Exception:
            pass
    lab_server.shutdown_kernels()
