"""The API's own documentation pages work offline, in real headless Chromium.

``/docs`` (Swagger UI) and ``/redoc`` are served from assets packaged with the application:
a browser with no way off the machine still renders every operation.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.api_server import ServedApi
from tests.e2e.conftest import ARTIFACTS, OfflinePage

pytestmark = pytest.mark.browser


def test_swagger_ui_renders_every_operation_offline(
    api: ServedApi, offline_page: Callable[[], OfflinePage]
) -> None:
    with api.client(None) as client:
        paths = client.get("/openapi.json").json()["paths"]
    opened = offline_page()
    opened.page.goto(f"{api.url}/docs")
    opened.page.wait_for_selector(".opblock", timeout=15_000)
    shown = opened.page.locator(".opblock").count()
    assert shown == sum(len(methods) for methods in paths.values())
    assert opened.left_the_machine == []
    assert opened.console_errors == []
    ARTIFACTS.mkdir(exist_ok=True)
    opened.page.screenshot(path=str(ARTIFACTS / "api-docs.png"))


def test_redoc_renders_every_operation_offline(
    api: ServedApi, offline_page: Callable[[], OfflinePage]
) -> None:
    with api.client(None) as client:
        paths = client.get("/openapi.json").json()["paths"]
    opened = offline_page()
    opened.page.goto(f"{api.url}/redoc")
    opened.page.wait_for_selector("h1", timeout=15_000)
    assert "graphfraud" in opened.page.inner_text("h1")
    operations = opened.page.locator("[data-section-id^='operation/']").count()
    assert operations == sum(len(methods) for methods in paths.values())
    # ReDoc's bundle asks for its maker's logo from a CDN and hides it when that fails: the
    # only request that tries to leave, and nothing on the page depends on it.
    assert all(url.endswith("/redoc/logo-mini.svg") for url in opened.left_the_machine)
