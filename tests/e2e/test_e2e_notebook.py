"""End to end: the network from a person's own MNIST notebook, uploaded on the Models page, on every page.

The classic notebook's network (Flatten on 28x28 inputs, Dense 128, Dense 10 softmax, Adam) is
trained with plain Keras and saved with model.save, uploaded through Chromium's file input,
imported in the background, made the active model, and then drawn on, explored and shown.
Screenshots land in test-artifacts/.
"""

import re

import pytest
from playwright.sync_api import expect, sync_playwright

from bench.harness.server.browser import ROOT, draw_stroke, launch_chromium, seven_strokes, streamlit_server
from bench.harness.notebooks import train_notebook
from mnist_core.data import load_arrays
from tests.support.data import mnist_file

pytestmark = [pytest.mark.e2e, pytest.mark.mnist, pytest.mark.slow]  # the import takes a minute or two
SHOTS = ROOT / "test-artifacts"


def open_page(page, server, path):
    page.goto(server + path)
    page.locator("h1").first.wait_for()
    page.wait_for_load_state("networkidle")


def go_to(page, name):
    """Another page of the same session (a new URL would start a new one, with the default active)."""
    page.get_by_test_id("stSidebarNav").get_by_text(name, exact=True).click()
    page.locator("h1").first.wait_for()
    page.wait_for_load_state("networkidle")


def test_a_notebooks_network_uploaded_on_the_models_page_works_on_every_page(tmp_path):
    model, keras_accuracy = train_notebook("mlp-28x28", dict(load_arrays(mnist_file())[0]), epochs=2)
    model.save(tmp_path / "mine.keras")
    env = {"MNIST_PATH": str(mnist_file()), "MNIST_STUDIO_ACCESS": "local"}
    with sync_playwright() as playwright, streamlit_server(tmp_path / "store", env=env) as (url, _):
        browser = launch_chromium(playwright)
        page = browser.new_context(viewport={"width": 1400, "height": 1500}).new_page()
        page.set_default_timeout(30_000)
        open_page(page, url, "/models")
        expect(page.get_by_text('saved in a notebook with model.save("mine.keras")')).to_be_visible()
        page.get_by_test_id("stForm").locator("input[type='file']").set_input_files(str(tmp_path / "mine.keras"))
        page.get_by_label("Run name").fill("notebook")
        page.get_by_role("button", name="Import").click()
        expect(page.get_by_text("Importing notebook: follow it on the Train page.")).to_be_visible()

        open_page(page, url, "/train")
        saved = page.get_by_text(re.compile(r"Saved notebook \(imported\): test accuracy ([\d.]+)%"))
        expect(saved).to_be_visible(timeout=600_000)
        shown = float(re.search(r"test accuracy ([\d.]+)%", saved.inner_text()).group(1))
        assert abs(shown - 100 * keras_accuracy) <= 0.3  # the app reads it as Keras does

        page.get_by_role("combobox", name="Active model").click()
        page.get_by_role("option", name=re.compile("^notebook")).click()
        go_to(page, "Explore")
        mistakes = page.get_by_text(re.compile(r"[\d,]+ mistakes in 10,000 test images"))
        expect(mistakes).to_be_visible()
        errors = int(re.search(r"([\d,]+) mistakes", mistakes.inner_text()).group(1).replace(",", ""))
        assert abs(errors - (1 - keras_accuracy) * 10_000) <= 30  # its own confusion matrix, not the default's
        page.locator(".js-plotly-plot .xtick text").first.wait_for()
        page.screenshot(path=SHOTS / "explore-notebook.png", full_page=True)

        go_to(page, "Draw")
        for stroke in seven_strokes():
            draw_stroke(page, stroke)
        expect(page.locator("[data-testid='predicted-digit']")).to_have_text("7", timeout=15_000)
        page.get_by_text("Inside the network").click()
        expect(page.get_by_text("notebook has no convolutions to show")).to_be_visible()
        page.screenshot(path=SHOTS / "draw-notebook.png", full_page=True)

        go_to(page, "Home")
        expect(page.get_by_text("Imported network: Flatten → Dense(128, relu) → Dense(10, softmax)")).to_be_visible()
        page.screenshot(path=SHOTS / "home-notebook.png", full_page=True)
        browser.close()
