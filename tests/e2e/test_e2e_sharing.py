"""End to end: strangers sharing one `streamlit run` server, each in their own Chromium context.

The server is started as the README says a person starts it on their own machine
(MNIST_STUDIO_ACCESS=local, listening on 127.0.0.1), so a context without proxy headers is that
person: local. A context that sends X-Forwarded-For is what a visitor behind a proxy looks like
(Community Cloud's proxy adds that header): a visitor, whose client is the address it names. The
deployment's owner password comes from a secrets file, as on Cloud.
"""

import numpy as np
import pytest
from playwright.sync_api import expect, sync_playwright

from bench.harness.server.browser import ROOT, launch_chromium, streamlit_server
from tests.support.data import tiny_arrays

pytestmark = [pytest.mark.e2e, pytest.mark.slow]  # two visitors train, one after the other
PASSWORD = "correct horse battery staple"
PUBLIC_NOTICE = "This is a shared public server"
SHOTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")  # Streamlit reads ~/.streamlit/secrets.toml
    (home / ".streamlit").mkdir()
    (home / ".streamlit" / "secrets.toml").write_text(f'owner_password = "{PASSWORD}"\n')
    data = tmp_path_factory.mktemp("data") / "tiny.npz"
    np.savez(data, **tiny_arrays())
    env = {"HOME": str(home), "MNIST_PATH": str(data), "MNIST_STUDIO_ACCESS": "local"}
    with streamlit_server(tmp_path_factory.mktemp("store"), env=env) as (url, _):
        yield url


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


def person(browser, server, path, forwarded_for=None):
    """A new browser context (a new person) on `path`; a visitor when `forwarded_for` is given."""
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    page = browser.new_context(viewport={"width": 1400, "height": 1500}, extra_http_headers=headers).new_page()
    page.set_default_timeout(30_000)
    page.goto(server + path)
    page.locator("h1").first.wait_for()
    page.wait_for_load_state("networkidle")
    return page


def start_training(page, name):
    field = lambda label: page.get_by_role("spinbutton", name=label, exact=True)  # noqa: E731 - not its Help button
    field("Epochs").fill("300")  # far more than the test lasts: Stop ends it
    field("Batch size").fill("10")
    field("Validation images").fill("100")
    field("Training images (0 = all)").fill("500")
    page.get_by_label("Run name").fill(name)
    page.get_by_role("button", name="Start training").click()


def test_strangers_share_one_server(browser, server):
    local = person(browser, server, "/train")
    a = person(browser, server, "/train", forwarded_for="203.0.113.7")
    expect(a.get_by_text(PUBLIC_NOTICE)).to_be_visible()
    expect(a.get_by_text("a training here may use about 5 CPU-minutes")).to_be_visible()
    assert local.get_by_text(PUBLIC_NOTICE).count() == 0 and local.get_by_text("CPU-minutes").count() == 0

    start_training(a, "a-run")
    expect(a.get_by_text("Run a-run · seed-mlp · running")).to_be_visible()
    expect(a.get_by_role("button", name="Stop", exact=True)).to_be_visible()
    a_again = person(browser, server, "/train", forwarded_for="203.0.113.7")  # the same person, another browser
    start_training(a_again, "a-second")
    expect(a_again.get_by_text("Not started: your address already has 1 job running or waiting (from another tab "
                               "or browser)")).to_be_visible()
    assert a_again.get_by_text("is number 1 in the queue").count() == 0

    b = person(browser, server, "/train", forwarded_for="203.0.113.8")
    expect(b.get_by_text("Run a-run · seed-mlp · running")).to_be_visible()
    expect(b.get_by_text("Only the session that started it, or the deployment's owner, can stop it.")).to_be_visible()
    assert b.get_by_role("button", name="Stop", exact=True).count() == 0
    start_training(b, "b-run")
    expect(b.get_by_text("Your training b-run is number 1 in the queue, behind a-run (running")).to_be_visible()
    SHOTS.mkdir(exist_ok=True)
    b.screenshot(path=SHOTS / "train-queued-visitor.png", full_page=True)
    local.reload()  # it polls only while a job runs; it opened before this one started
    expect(local.get_by_role("button", name="Stop", exact=True)).to_be_visible()  # the person whose machine it is may stop it

    a.get_by_role("button", name="Stop", exact=True).click()
    expect(a.get_by_text("Saved a-run (stopped)")).to_be_visible(timeout=60_000)
    expect(b.get_by_text("Run b-run · seed-mlp · running")).to_be_visible(timeout=30_000)  # its turn came by itself

    owner = person(browser, server, "/", forwarded_for="198.51.100.9")
    owner.get_by_text("Owner sign-in").click()
    owner.get_by_label("Owner password").fill(PASSWORD)
    owner.get_by_role("button", name="Sign in").click()
    expect(owner.get_by_text("Signed in as this deployment's owner")).to_be_visible()
    owner.get_by_role("link", name="Train").click()
    expect(owner.get_by_text("Run b-run · seed-mlp · running")).to_be_visible()
    owner.get_by_role("button", name="Stop", exact=True).click()
    expect(b.get_by_text("Saved b-run (stopped)")).to_be_visible(timeout=60_000)
    for page in (local, a, b, owner):
        assert page.locator("[data-testid='stException']").count() == 0
