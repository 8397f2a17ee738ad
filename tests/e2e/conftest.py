"""Real headless Chromium for the browser tests, kept on this machine.

``browser`` launches Debian's Chromium once per module; ``offline_page`` opens a page whose
every request is routed through the test: anything not addressed to 127.0.0.1 is refused and
recorded, so a page that reaches for a CDN fails its test. Console errors are recorded too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Route, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Screenshots the browser tests write, for a person to look at.
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@dataclass
class OfflinePage:
    """A browser page, and what it tried while the test drove it."""

    page: Page
    console_errors: list[str] = field(default_factory=list)
    left_the_machine: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def offline_page(browser: Browser) -> Iterator[Callable[[], OfflinePage]]:
    """Opens pages that may only reach 127.0.0.1; all are closed with the module."""
    contexts = []

    def open_page() -> OfflinePage:
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        contexts.append(context)
        opened = OfflinePage(context.new_page())

        def only_local(route: Route) -> None:
            if urlsplit(route.request.url).hostname == "127.0.0.1":
                route.continue_()
            else:
                opened.left_the_machine.append(route.request.url)
                route.abort()

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                opened.console_errors.append(message.text)

        context.route("**/*", only_local)
        opened.page.on("console", on_console)
        opened.page.on("pageerror", lambda error: opened.console_errors.append(str(error)))
        return opened

    yield open_page
    for context in contexts:
        context.close()
