"""A real editor server and Debian's headless Chromium (driven by Playwright) for the browser tests.

The server runs in a thread of the test process on a free loopback port, over three simulated
months of events; Chromium is the system one (``casewatch stack install`` installs it) and is
never downloaded. A missing browser is a failure, not a skip. Screenshots of every step go to
``out/screenshots/board-editor/`` (ignored by git) for people to look at.
"""
from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest
import uvicorn

from services.board_editor.accounts import save_account
from services.board_editor.app import create_app
from services.board_editor.settings import EditorSettings
from services.simulator import SimulationSpec, simulate
from streams.core.timeutil import STOCKHOLM
from tests.markers import items_under

CHROMIUM = os.environ.get("CASEWATCH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = Path(__file__).resolve().parents[2] / "out" / "screenshots" / "board-editor"
PASSWORDS = {"anna": "anna-skriver-2024", "bertil": "bertil-skriver-2024", "rut": "rut-laser-2024"}


HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    for item, _path in items_under(items, HERE):
        item.add_marker(pytest.mark.browser)
        item.add_marker(pytest.mark.slow)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(root: Path, **overrides):
    """A running editor over three simulated months, with writers anna and bertil and reader rut."""
    events = root / "events.jsonl"
    spec = SimulationSpec(months=3, municipalities=1, population=20_000, seed=7, end=datetime(2024, 4, 1, tzinfo=STOCKHOLM))
    events.write_bytes(b"".join(simulate(spec)))
    users = root / "users.yaml"
    save_account(users, "anna", "writer", PASSWORDS["anna"])
    save_account(users, "bertil", "writer", PASSWORDS["bertil"])
    save_account(users, "rut", "reader", PASSWORDS["rut"])
    port = _free_port()
    settings = EditorSettings(host="127.0.0.1", port=port, events_file=events, data_dir=root / "data",
                              snapshots_dir=root / "snapshots", users_file=users, session_secret="test-secret",
                              **overrides)
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning",
                                           proxy_headers=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the board editor did not start", pytrace=False)
        time.sleep(0.05)
    yield {"url": f"http://127.0.0.1:{port}", "settings": settings}
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def editor(tmp_path_factory):
    """``{"url", "settings"}`` of a running editor that saves only on "Spara utkast" (the flow
    without JavaScript; autosave has its own editor below, so its timing cannot disturb these)."""
    yield from _serve(tmp_path_factory.mktemp("board"), autosave_seconds=0)


@pytest.fixture(scope="module")
def autosave_editor(tmp_path_factory):
    """An editor that saves the draft half a second after the last keystroke."""
    yield from _serve(tmp_path_factory.mktemp("board-autosave"), autosave_seconds=0.5)


@pytest.fixture(scope="module")  # its event loop must end before other tests run asyncio.run()
def browser():
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"no Chromium at {CHROMIUM}: run `casewatch stack install` (Debian package chromium)",
                    pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def shots():
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    counter = iter(range(1, 1000))

    def take(page, name: str) -> Path:
        path = SHOTS / f"{next(counter):02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def login(browser, editor):
    """``login(name[, server])`` → a page in a fresh browser context, logged in as ``name`` (on
    ``editor`` unless another server is given)."""
    contexts = []

    def open_as(name: str, server: dict | None = None):
        url = (server or editor)["url"]
        context = browser.new_context(base_url=url, locale="sv-SE", accept_downloads=True,
                                      viewport={"width": 1200, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.goto("/")
        page.get_by_label("Användarnamn").fill(name)
        page.get_by_label("Lösenord").fill(PASSWORDS[name])
        page.get_by_role("button", name="Logga in").click()
        page.wait_for_url(f"{url}/")
        return page

    yield open_as
    for context in contexts:
        context.close()


def axe_problems(page, within: list[str] | None = None) -> list[str]:
    """axe-core's violations of serious or critical impact on the page as it is now (or only
    within the elements matched by the ``within`` selectors: what changed since a full check)."""
    from axe_playwright_python.sync_playwright import Axe

    options = {"resultTypes": ["violations"],
               "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}}
    context = {"include": [[selector] for selector in within]} if within else None
    result = Axe().run(page, context=context, options=options)
    return [f"{v['id']} ({v['impact']}): {v['help']} – {[n['target'] for n in v['nodes']][:3]}"
            for v in result.response["violations"] if v["impact"] in ("serious", "critical")]
