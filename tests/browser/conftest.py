"""The browser journeys' world (one per test module): the live app, localstripe, Chromium.

Skips with the reason when Debian's Chromium is not installed (CI installs it). When a test fails, the
screenshot of every step it took is written to ``test-artifacts/browser/<test>/`` and the folder is named
in the failure report.
"""
from __future__ import annotations

import pytest

from tests.browser.live import CHROMIUM, CHROMIUM_ARGS, LiveApp, chromium_missing
from tests.browser.world import World
from tests.stripe_fixtures import localstripe_url  # noqa: F401  (the session's emulator)


@pytest.fixture(scope="module")
def world(request, tmp_path_factory):
    reason = chromium_missing()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    stripe_url = request.getfixturevalue("localstripe_url")
    live = LiveApp.start(tmp_path_factory.mktemp("journeys"), stripe_url)
    playwright = sync_playwright().start()
    browser = None
    the_world = None
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        the_world = World(live, browser, stripe_url)
        yield the_world
    finally:
        if the_world is not None:
            the_world.close()
        if browser is not None:
            browser.close()
        playwright.stop()
        live.stop()


@pytest.fixture(autouse=True)
def _one_test_at_a_time(request):
    """Screenshots and error lists start afresh with each test."""
    if "world" in request.fixturenames:
        request.getfixturevalue("world").start_test()
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    the_world = getattr(item, "funcargs", {}).get("world")
    if report.when == "call" and report.failed and isinstance(the_world, World):
        folder = the_world.save_shots(item.name)
        report.sections.append(("browser screenshots", f"one screenshot per step in {folder}"))
        print(f"\nbrowser screenshots of {item.name}: {folder}")
