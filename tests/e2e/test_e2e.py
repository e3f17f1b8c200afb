"""End to end: `streamlit run` driven by headless Chromium, as a person uses the app.

Screenshots of every page land in test-artifacts/ for a human to look at.
"""

import re

import pytest
from playwright.sync_api import expect, sync_playwright

from bench.harness.server.browser import (ROOT, draw_stroke, launch_chromium, seven_strokes, streamlit_server,
                                   stroke_label, touch_stroke)
from mnist_core import personal
from tests.support.data import draw_digit, mnist_file
from tests.support.apptest import BUNDLED

pytestmark = [pytest.mark.e2e, pytest.mark.mnist]

SHOTS = ROOT / "test-artifacts"
# Each page's path and a text it shows once it has run (the figures are the bundled model's).
PAGES = {"home": ("/", "100 test digits ship with the app"),
         "draw": ("/draw", "Draw a digit in the black box"),
         "train": ("/train", "Start training"),
         "explore": ("/explore", f"{BUNDLED.errors} mistakes in 10,000 test images"),
         "models": ("/models", "Select a row to make it active")}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app as the README starts it on one's own machine: its person is local (no limits)."""
    env = {"MNIST_PATH": str(mnist_file()), "MNIST_STUDIO_ACCESS": "local"}
    with streamlit_server(tmp_path_factory.mktemp("store"), env=env) as (url, _):
        yield url


@pytest.fixture(scope="module")
def playwright():
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="module")
def browser(playwright):
    chromium = launch_chromium(playwright)
    yield chromium
    chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1500})
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


def test_on_a_phone_the_answer_stays_in_view_while_drawing(playwright, browser, server):
    """Pixel 7 emulation, drawn with touch events: the columns stack, and the digit and its
    confidence show above the canvas, inside the screen, with no scrolling."""
    phone = playwright.devices["Pixel 7"]
    context = browser.new_context(**phone)
    page = context.new_page()
    open_page(page, server, "/draw")
    for stroke in seven_strokes():
        touch_stroke(page, stroke)
    answer = page.get_by_test_id("answer-on-a-phone")
    expect(answer).to_have_text("Reads 7 · 100% sure", timeout=30_000)
    canvas, shown = page.locator("canvas.upper-canvas").bounding_box(), answer.bounding_box()
    assert shown["y"] + shown["height"] <= canvas["y"] and canvas["y"] + canvas["height"] <= phone["viewport"]["height"]
    assert page.evaluate("document.querySelector('[data-testid=stMain]').scrollTop") == 0
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SHOTS / "draw-phone.png")
    context.close()


def test_on_a_phone_the_canvas_stays_under_the_finger(playwright, browser, server):
    """A 7 in two touch strokes, the second drawn where the finger saw the canvas before the first:
    the answer appearing after the first stroke must not push the canvas down."""
    context = browser.new_context(**playwright.devices["Pixel 7"])
    page = context.new_page()
    open_page(page, server, "/draw")
    canvas = page.locator("canvas.upper-canvas")
    before = canvas.bounding_box()
    bar, diagonal = [(80 + 6 * i, 30) for i in range(21)], [(200 - 4 * i, 30 + 11 * i) for i in range(21)]
    touch_stroke(page, bar, box=before)
    expect(page.get_by_test_id("answer-on-a-phone")).not_to_have_text("Draw a digit below", timeout=30_000)
    assert canvas.bounding_box() == before
    touch_stroke(page, diagonal, box=before)
    expect(page.get_by_text(stroke_label(2))).to_be_attached(timeout=30_000)
    assert canvas.bounding_box() == before
    inked = canvas.evaluate("""(upper, points) => {
        // fabric.js draws finished strokes on the canvas beside the one that takes the touches
        const drawn = [...upper.parentElement.querySelectorAll('canvas')].find(c => c !== upper);
        const ratio = drawn.width / drawn.clientWidth, context = drawn.getContext('2d');
        return points.map(([x, y]) => context.getImageData(Math.round(x * ratio), Math.round(y * ratio), 1, 1).data[3]);
    }""", [bar[10], diagonal[10], bar[0], diagonal[-1]])
    assert all(alpha > 0 for alpha in inked), inked  # both strokes, start to end, are on the canvas
    context.close()


def test_a_letter_is_answered_honestly(page, server):
    """A drawing that is no digit gets "That doesn't look like a digit", the closest digit small."""
    open_page(page, server, "/draw")
    page.locator("canvas.upper-canvas").first.wait_for()
    for stroke in W_STROKES:
        draw_stroke(page, stroke)
    expect(page.get_by_test_id("not-a-digit")).to_have_text("That doesn't look like a digit", timeout=15_000)
    expect(page.get_by_text("Closest digit:")).to_be_visible()
    expect(page.get_by_text("It is a digit: it's a …")).to_be_visible()  # teaching it otherwise stays possible
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SHOTS / "draw-not-a-digit.png", full_page=True)


W_STROKES = [[(40 + 5 * i, 50 + 9 * i) for i in range(20)] + [(140 + 3 * i, 230 - 9 * i) for i in range(14)]
             + [(182 + 3 * i, 104 + 9 * i) for i in range(14)] + [(224 + 2 * i, 230 - 9 * i) for i in range(20)]]


def open_page(page, server, path):
    page.goto(server + path)
    page.locator("h1").first.wait_for()
    page.wait_for_load_state("networkidle")


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_opens_with_its_content(page, server, name):
    path, text = PAGES[name]
    open_page(page, server, path)
    expect(page.get_by_text("Active model", exact=True)).to_be_visible()
    expect(page.get_by_text(text)).to_be_visible()
    assert page.locator("[data-testid='stException']").count() == 0
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}.png", full_page=True)


def test_a_deep_link_as_the_first_request_gets_the_whole_app(page, tmp_path):
    """Before st.navigation first runs, Streamlit serves a `pages/` folder as a legacy multipage
    app: without ui/deep_link.py, /explore on a fresh server would open with no sidebar."""
    with streamlit_server(tmp_path / "store") as (url, _):
        open_page(page, url, "/explore")
        expect(page.get_by_text("Active model", exact=True)).to_be_visible()
        expect(page.get_by_role("heading", name="Explore the mistakes")).to_be_visible()
        assert page.url == url + "/explore"


def test_draw_predict_and_clear(page, server):
    open_page(page, server, "/draw")
    expect(page.get_by_text("Draw a digit in the black box")).to_be_visible()
    page.locator("canvas.upper-canvas").first.wait_for()
    for stroke in seven_strokes():
        draw_stroke(page, stroke)
    digit = page.locator("[data-testid='predicted-digit']")
    expect(digit).to_have_text("7", timeout=15_000)
    expect(page.get_by_text("Confidence")).to_be_visible()
    page.screenshot(path=SHOTS / "draw-seven.png", full_page=True)
    page.get_by_role("button", name="Clear").click()
    expect(page.get_by_text("Draw a digit in the black box")).to_be_visible()
    expect(digit).to_have_count(0)


def test_a_stroke_may_start_in_the_top_right_corner(page, server):
    """The canvas's hidden toolbar used to lie over the top-right corner until the pointer had
    rested on the canvas, so the top bar of a big 7 or 5, drawn at once, was lost."""
    open_page(page, server, "/draw")
    page.locator("canvas.upper-canvas").first.wait_for()
    page.mouse.move(0, 0)  # the pointer comes from outside the canvas, as a hand does
    draw_stroke(page, [(262, 12), (230, 80), (200, 150), (170, 262)])  # the stem, from the corner
    expect(page.get_by_text(stroke_label(1))).to_be_visible(timeout=15_000)
    page.mouse.move(0, 0)
    draw_stroke(page, [(255, 12), (200, 12), (150, 12), (110, 14)])  # the bar, from the corner
    expect(page.get_by_text(stroke_label(2))).to_be_visible(timeout=15_000)
    expect(page.locator("[data-testid='predicted-digit']")).to_have_text("7")


def test_click_a_confusion_cell_opens_its_gallery(page, server):
    open_page(page, server, "/explore")
    page.locator(".js-plotly-plot .xtick text").first.wait_for()
    x = page.locator(".js-plotly-plot .xtick text", has_text="7").bounding_box()
    y = page.locator(".js-plotly-plot .ytick text", has_text="2").bounding_box()
    page.mouse.click(x["x"] + x["width"] / 2, y["y"] + y["height"] / 2)
    expect(page.get_by_text(re.compile(r"\d+ test images? of a 2 read as 7"))).to_be_visible(timeout=15_000)
    assert page.locator("[data-testid='stImage']").count() >= 1
    page.screenshot(path=SHOTS / "explore-cell.png", full_page=True)


@pytest.mark.slow
def test_start_and_stop_a_training(page, browser, server):
    """The one training through the UI end to end (the Train page's texts: test_sharing)."""
    first_tab = browser.new_page()
    open_page(first_tab, server, "/train")
    first_tab.get_by_role("spinbutton", name="Training images (0 = all)", exact=True).fill("20000")
    first_tab.get_by_label("Epochs", exact=True).fill("200")  # far more than the test lasts: Stop ends it
    first_tab.get_by_label("Run name").fill("e2e-stopped")
    first_tab.get_by_role("button", name="Start training").click()
    expect(first_tab.get_by_text("Epoch 1/200")).to_be_visible(timeout=60_000)
    first_tab.close()  # the person closes the tab: the training goes on
    open_page(page, server, "/train")
    expect(page.get_by_text("loss per batch").last).to_be_visible(timeout=30_000)
    open_page(page, server, "/draw")  # leave the page and come back: the run is still going
    open_page(page, server, "/train")
    expect(page.get_by_text("Run e2e-stopped · seed-mlp · running")).to_be_visible()
    page.get_by_role("button", name="Stop", exact=True).click()
    expect(page.get_by_text("Saved e2e-stopped (stopped)")).to_be_visible(timeout=180_000)  # saving maps the test set
    page.screenshot(path=SHOTS / "train-stopped.png", full_page=True)
    open_page(page, server, "/models")
    compared = page.get_by_test_id("stMultiSelect")  # the Models page compares the first two runs
    expect(compared.get_by_text("e2e-stopped", exact=True)).to_be_visible(timeout=20_000)
    expect(compared.get_by_text("default", exact=True)).to_be_visible()


def test_an_upload_is_predicted_and_a_bad_one_gets_a_message(page, server, tmp_path):
    """Through the browser's file input (which files are refused, and why: test_preprocess, test_hostile_clients)."""
    seven, notes = tmp_path / "seven.jpg", tmp_path / "notes.png"
    draw_digit(ink=0, background=255).convert("RGB").save(seven)
    notes.write_bytes(b"this is not an image")
    open_page(page, server, "/draw")
    picture = page.get_by_role("region", name="…or upload a picture of a digit").locator("input[type='file']")
    picture.set_input_files(str(seven))
    digit = page.locator("[data-testid='predicted-digit']")
    expect(digit).to_have_text("7", timeout=15_000)
    picture.set_input_files(str(notes))
    expect(page.get_by_text("Cannot read notes.png: not a readable image")).to_be_visible(timeout=15_000)
    expect(digit).to_have_count(0)


@pytest.mark.slow
def test_teach_it_your_handwriting(page, tmp_path):
    """Right and No, it's a … under the answer, a second press that adds nothing, Undo, the count,
    the digits kept in the store on one's own machine, then a fine-tune that becomes the active model."""
    store = tmp_path / "store"
    with streamlit_server(store, env={"MNIST_PATH": str(mnist_file()), "MNIST_STUDIO_ACCESS": "local"}) as (url, _):
        open_page(page, url, "/draw")  # the README's start command: this machine's own person
        labels = []
        for i in range(11):
            page.locator("canvas.upper-canvas").first.wait_for()
            page.wait_for_timeout(500)  # the new canvas of the last round is ready for the mouse
            draw_stroke(page, [(120 + 4 * i, 40), (140, 140), (135 + 2 * i, 240)])
            right = page.get_by_role("button", name=re.compile(r"^Right, it's a \d"))
            if i % 4 == 3:
                page.get_by_role("radio", name="7", exact=True).click()  # a one read as … no: a seven
                labels.append(7)
            else:
                labels.append(int(right.inner_text()[-1]))
                right.dblclick()  # pressed twice: the drawing is added once
            expect(page.get_by_text(re.compile(rf"^{len(labels)} digits? \(at most"))).to_be_visible()
            expect(page.get_by_text("Draw a digit in the black box")).to_be_visible()  # a clean canvas
        page.get_by_role("button", name="Undo the last").click()
        labels.pop()
        expect(page.get_by_text("10 digits (at most")).to_be_visible()
        kept = personal.load(store / "personal.npz")
        assert kept.y.tolist() == labels and kept.counts()[7] == labels.count(7)
        page.screenshot(path=SHOTS / "draw-teach.png", full_page=True)

        page.get_by_role("button", name=re.compile("^Fine-tune default on my digits")).click()
        expect(page.get_by_text("is now your active model")).to_be_visible(timeout=180_000)
        expect(page.get_by_text(re.compile(r"of your \d+ held-out digits it reads \d+ → \d+"))).to_be_visible()
        expect(page.get_by_role("button", name=re.compile("^Fine-tune mine-"))).to_be_visible()  # the new one is active
        page.screenshot(path=SHOTS / "draw-taught.png", full_page=True)


def test_a_visitors_digits_stay_in_their_session(page, tmp_path):
    store = tmp_path / "store"
    with streamlit_server(store, env={"MNIST_STUDIO_ACCESS": "public"}) as (url, _):
        open_page(page, url, "/draw")
        page.locator("canvas.upper-canvas").first.wait_for()
        draw_stroke(page, [(140, 40), (145, 140), (140, 240)])
        page.get_by_role("button", name=re.compile(r"^Right, it's a \d")).click()
        expect(page.get_by_text("1 digit (at most 500). They are kept only while this tab is open")).to_be_visible()
        with page.expect_download() as download:
            page.get_by_role("button", name="Download (.npz)").click()
        kept = tmp_path / "my-digits.npz"
        download.value.save_as(kept)
        assert len(personal.load(kept)) == 1
        assert not (store / "personal.npz").exists()
        digits_file = page.get_by_role("region", name="Add digits from a file you downloaded here")
        digits_file.locator("input[type='file']").set_input_files(str(kept))
        expect(page.get_by_text("Added 0 of the 1 digits in my-digits.npz (the others were in your set "
                                "already).")).to_be_visible()
        (tmp_path / "junk.npz").write_bytes(b"not a set of digits")
        digits_file.locator("input[type='file']").set_input_files(str(tmp_path / "junk.npz"))
        expect(page.get_by_text("Not added: junk.npz is not an .npz file")).to_be_visible()
