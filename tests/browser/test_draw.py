"""Real browser: draw on the canvas with the mouse or a finger; the Prediction follows, at
every common screen size, from every corner of the canvas; the drawing on screen is the one
read, across Upload and other pages.

The server inherits MNIST_DIR and MNIST_KNN_MODELS_DIR from the conftest
fixture, so it reads the small 3,000-digit subset and builds its model there.
"""

from __future__ import annotations

import re

import pytest

from mnist_knn.synthetic import CORNER_DIGITS, ONE, ZERO
from tests.support.browser import BROWSER
from tools.browser import (
    CANVAS_INKED,
    CANVAS_STATE,
    PREDICTION,
    chromium,
    draw_stroke,
    draw_strokes,
    open_page,
    streamlit_server,
    wait_for_canvas,
)

pytestmark = BROWSER

PROMPT = "in the white box"
TIMEOUT = 60_000  # ms; the first page view builds the small model


@pytest.fixture(scope="module")
def app():
    with streamlit_server() as url, chromium() as browser:
        yield url, browser


@pytest.fixture(scope="module")
def draw_page(app):
    url, browser = app
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    # In through the home page, as people come.
    open_page(page, url)
    page.get_by_role("link", name="Draw", exact=True).click()
    # The model is ready once the blank canvas's prompt shows.
    page.get_by_text(PROMPT).wait_for(timeout=TIMEOUT)
    wait_for_canvas(page)
    yield page
    page.close()


def test_blank_canvas_prompts_without_a_prediction(draw_page):
    from playwright.sync_api import expect

    expect(draw_page.get_by_text(PROMPT)).to_be_visible()
    expect(draw_page.locator(PREDICTION)).to_have_count(0)
    expect(draw_page.get_by_role("button", name="Clear")).to_be_visible()


def test_draw_a_one_then_clear_and_draw_a_zero(draw_page):
    from playwright.sync_api import expect

    draw_stroke(draw_page, ONE)
    expect(draw_page.locator(PREDICTION)).to_have_text("1", timeout=TIMEOUT)
    # The neighbours that voted are shown with their labels.
    expect(draw_page.get_by_text("training digits closest to yours")).to_be_visible()

    draw_page.get_by_role("button", name="Clear").click()
    expect(draw_page.locator(PREDICTION)).to_have_count(0, timeout=TIMEOUT)
    expect(draw_page.get_by_text(PROMPT)).to_be_visible()

    wait_for_canvas(draw_page)
    draw_stroke(draw_page, ZERO)
    expect(draw_page.locator(PREDICTION)).to_have_text("0", timeout=TIMEOUT)


# Phone (touch), iPad portrait, small laptop, projector, desktop.
SIZES = [
    pytest.param(390, 844, True, id="phone-390x844-touch"),
    pytest.param(820, 1180, False, id="ipad-820x1180"),
    pytest.param(1024, 768, False, id="1024x768"),
    pytest.param(1280, 720, False, id="projector-1280x720"),
    pytest.param(1400, 900, False, id="1400x900"),
]
# The element under each corner of the canvas (4 px in), looked up in the canvas's shadow
# root: the drawing layer, when nothing lies over it.
UNDER_CORNERS = """() => {
  for (const host of document.querySelectorAll('*')) {
    const root = host.shadowRoot;
    const upper = root && root.querySelector('canvas.upper-canvas');
    if (!upper) continue;
    const r = upper.getBoundingClientRect();
    return [[4, 4], [r.width - 4, 4], [4, r.height - 4], [r.width - 4, r.height - 4]].map(
      ([x, y]) => root.elementFromPoint(r.left + x, r.top + y) === upper);
  }
  return [];
}"""


# A 7 in two strokes: the stem alone reads 1.
STEM, BAR = [(0.7, 0.25), (0.45, 0.8)], [(0.3, 0.25), (0.7, 0.25)]


def ink(page) -> int:
    """Dark pixels on the page's one canvas."""
    return page.evaluate(CANVAS_STATE)[0][1]


@pytest.mark.parametrize(("width", "height", "touch"), SIZES)
def test_digits_drawn_from_every_corner_read_right_at_every_size(app, width, height, touch):
    """The whole 280 px canvas is on screen and takes strokes from each corner; the
    controls are above the fold and the predicted digit is big."""
    from playwright.sync_api import expect

    url, browser = app
    context = browser.new_context(
        viewport={"width": width, "height": height}, has_touch=touch, is_mobile=touch
    )
    try:
        page = context.new_page()
        open_page(page, f"{url}/draw")
        page.get_by_text(PROMPT).wait_for(timeout=TIMEOUT)
        wait_for_canvas(page)
        box = page.locator("canvas").last.bounding_box()
        assert (box["width"], box["height"]) == (280, 280)
        assert box["x"] >= 0 and box["x"] + box["width"] <= width
        assert box["y"] >= 0 and box["y"] + box["height"] <= height
        assert page.evaluate(UNDER_CORNERS) == [True] * 4
        main = page.get_by_test_id("stMain")
        expect(main.get_by_role("radio", name="Upload", exact=True)).to_be_in_viewport()
        expect(main.get_by_text("Brush width (px)", exact=True)).to_be_in_viewport()
        if width >= 700:  # a phone shows the canvas and the answer first, the vote under them
            for label in ("k: neighbours that vote", "Vote weights"):
                expect(main.get_by_text(label, exact=True)).to_be_in_viewport()
        for _, digit, points in CORNER_DIGITS:
            draw_strokes(page, [points], touch=touch)
            expect(page.locator(PREDICTION)).to_have_text(str(digit), timeout=TIMEOUT)
            expect(page.locator(PREDICTION)).to_be_in_viewport()  # without scrolling
            size = page.locator(PREDICTION).evaluate("e => getComputedStyle(e).fontSize")
            assert size == "160px"
            page.get_by_role("button", name="Clear").click()
            expect(page.locator(PREDICTION)).to_have_count(0, timeout=TIMEOUT)
            wait_for_canvas(page)
    finally:
        context.close()


def test_upload_and_back_to_draw_reads_the_drawing_on_screen(app):
    """Draw -> Upload -> Draw: no answer without its picture; back on Draw the canvas
    shows the drawing again and the answer is about it."""
    from playwright.sync_api import expect

    url, browser = app
    page = browser.new_page(viewport={"width": 1024, "height": 768})
    try:
        open_page(page, f"{url}/draw")
        wait_for_canvas(page)
        draw_strokes(page, [CORNER_DIGITS[0][2]])
        expect(page.locator(PREDICTION)).to_have_text("7", timeout=TIMEOUT)

        page.get_by_role("radio", name="Upload", exact=True).click()
        expect(page.get_by_text("Upload a picture")).to_be_visible(timeout=TIMEOUT)
        expect(page.locator(PREDICTION)).to_have_count(0)
        expect(page.get_by_role("button", name=re.compile("Yes, it's"))).to_have_count(0)

        page.get_by_role("radio", name="Draw", exact=True).click()
        page.wait_for_function(CANVAS_INKED, polling=100, timeout=TIMEOUT)
        expect(page.locator(PREDICTION)).to_have_text("7", timeout=TIMEOUT)
        # The restored drawing is a drawing like any other: Clear empties it.
        page.get_by_role("button", name="Clear").click()
        expect(page.locator(PREDICTION)).to_have_count(0, timeout=TIMEOUT)
        wait_for_canvas(page)
    finally:
        page.close()


def test_a_drawing_survives_a_visit_to_another_page_and_undo_takes_a_stroke(app):
    """Draw -> Home -> Draw keeps the drawing; Undo stroke works on it and on new strokes."""
    from playwright.sync_api import expect

    url, browser = app
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    try:
        open_page(page, f"{url}/draw")
        wait_for_canvas(page)
        draw_strokes(page, [CORNER_DIGITS[2][2]])
        expect(page.locator(PREDICTION)).to_have_text("2", timeout=TIMEOUT)
        page.wait_for_function(CANVAS_INKED, polling=100, timeout=TIMEOUT)
        two = ink(page)

        page.get_by_role("link", name="Home", exact=True).click()
        expect(page.locator(PREDICTION)).to_have_count(0, timeout=TIMEOUT)
        page.get_by_role("link", name="Draw", exact=True).click()
        page.wait_for_function(CANVAS_INKED, polling=100, timeout=TIMEOUT)
        expect(page.locator(PREDICTION)).to_have_text("2", timeout=TIMEOUT)
        assert ink(page) == two

        # Undo stroke on the restored drawing takes its one stroke: nothing left to read.
        page.get_by_role("button", name="Undo stroke").click()
        expect(page.locator(PREDICTION)).to_have_count(0, timeout=TIMEOUT)
        wait_for_canvas(page)

        # A stem reads 1, a bar on it makes a 7, Undo stroke takes the bar: a 1 again.
        draw_strokes(page, [STEM])
        expect(page.locator(PREDICTION)).to_have_text("1", timeout=TIMEOUT)
        one = ink(page)
        draw_strokes(page, [BAR])
        expect(page.locator(PREDICTION)).to_have_text("7", timeout=TIMEOUT)
        page.get_by_role("button", name="Undo stroke").click()
        expect(page.locator(PREDICTION)).to_have_text("1", timeout=TIMEOUT)
        page.wait_for_function(f"() => ({CANVAS_STATE})()[0][1] === {one}", timeout=TIMEOUT)
    finally:
        page.close()


def test_presenter_view_on_a_projector(app):
    """/draw?presenter=1 at 1280x720: no sidebar, the big canvas whole on screen and taking
    strokes from its corners, the answer at 280 px and its neighbours without scrolling;
    the switch brings the normal page back."""
    from playwright.sync_api import expect

    url, browser = app
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    try:
        open_page(page, f"{url}/draw?presenter=1")
        wait_for_canvas(page)
        expect(page.get_by_test_id("stSidebar")).to_be_hidden()
        box = page.locator("canvas").last.bounding_box()
        assert (box["width"], box["height"]) == (440, 440)
        assert box["x"] >= 0 and box["x"] + box["width"] <= 1280
        assert box["y"] >= 0 and box["y"] + box["height"] <= 720
        assert page.evaluate(UNDER_CORNERS) == [True] * 4
        for _, digit, points in CORNER_DIGITS[:2]:
            draw_strokes(page, [points])
            expect(page.locator(PREDICTION)).to_have_text(str(digit), timeout=TIMEOUT)
            expect(page.locator(PREDICTION)).to_be_in_viewport()
            size = page.locator(PREDICTION).evaluate("e => getComputedStyle(e).fontSize")
            assert size == "280px"
            neighbours = page.locator('[data-testid="stMain"] [data-testid="stImage"] img')
            expect(neighbours).to_have_count(4)  # k = 4, the default preset's
            expect(neighbours.last).to_be_in_viewport()
            page.get_by_role("button", name="Clear").click()
            expect(page.locator(PREDICTION)).to_have_count(0, timeout=TIMEOUT)
            wait_for_canvas(page)

        page.get_by_text("Presenter view", exact=True).click()
        expect(page.get_by_text("k: neighbours that vote", exact=True)).to_be_visible()
        expect(page.get_by_test_id("stSidebar")).to_be_visible()
        assert "presenter" not in page.url
    finally:
        page.close()
