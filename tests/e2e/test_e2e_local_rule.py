"""End to end: who is local is said by the person who starts the server, never by a browser.

A browser at 127.0.0.1 and at localhost is a visitor on a server started with nothing set; with
the README's start command (MNIST_STUDIO_ACCESS=local, listening on 127.0.0.1) it is local; the
same say-so on a server listening on every address is refused, in the terminal and the sidebar.
"""

import pytest
from playwright.sync_api import expect, sync_playwright

from bench.harness.server.browser import ROOT, launch_chromium, streamlit_server

pytestmark = pytest.mark.e2e
PUBLIC_NOTICE = "This is a shared public server"
HOW_TO_LIFT = "Running the app on your own machine? Start it with"
REFUSED = "MNIST_STUDIO_ACCESS=local is refused: this server listens on '0.0.0.0', so others can reach it"


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


def open_page(browser, url: str, headers: dict | None = None):
    page = browser.new_context(viewport={"width": 1400, "height": 1000}, extra_http_headers=headers or {}).new_page()
    page.set_default_timeout(30_000)
    page.goto(url + "/train")
    page.locator("h1").first.wait_for()
    page.wait_for_load_state("networkidle")
    return page


def is_visitor(page) -> bool:
    expect(page.get_by_text("Train a network")).to_be_visible()
    return page.get_by_text(PUBLIC_NOTICE).count() == 1 and page.get_by_text("CPU-minutes").count() == 1


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_with_nothing_set_a_browser_on_this_machine_is_a_visitor(browser, tmp_path, host, monkeypatch):
    monkeypatch.delenv("MNIST_STUDIO_ACCESS", raising=False)
    with streamlit_server(tmp_path / "store") as (url, _):
        page = open_page(browser, url.replace("127.0.0.1", host))
        assert is_visitor(page)
        expect(page.get_by_text(HOW_TO_LIFT)).to_be_visible()
        assert page.locator("[data-testid='stException']").count() == 0


def test_with_the_owners_say_so_it_is_local_but_never_through_a_proxy(browser, tmp_path):
    with streamlit_server(tmp_path / "store", env={"MNIST_STUDIO_ACCESS": "local"}) as (url, _):
        for host in ("127.0.0.1", "localhost"):
            assert not is_visitor(open_page(browser, url.replace("127.0.0.1", host)))
        assert is_visitor(open_page(browser, url, {"X-Forwarded-For": "203.0.113.7"}))


def test_the_say_so_on_a_server_others_can_reach_is_refused(browser, tmp_path):
    log = tmp_path / "server.log"
    with streamlit_server(tmp_path / "store", env={"MNIST_STUDIO_ACCESS": "local"}, address="0.0.0.0",
                          log=log) as (url, _):
        page = open_page(browser, url)
        assert is_visitor(page)
        expect(page.get_by_text(REFUSED)).to_be_visible()
        (ROOT / "test-artifacts").mkdir(exist_ok=True)
        page.screenshot(path=ROOT / "test-artifacts" / "local-say-so-refused.png", full_page=True)
    assert "mnist-studio: " + REFUSED in log.read_text()  # and in the terminal of whoever started it
