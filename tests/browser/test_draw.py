"""Real browser: draw a "1" and a "0" on the canvas with the mouse; the Prediction follows.

The server inherits MNIST_DIR and MNIST_KNN_MODELS_DIR from the conftest
fixture, so it reads the small 3,000-digit subset and builds its model there.
"""

from __future__ import annotations

import pytest

from mnist_knn.synthetic import ONE, ZERO
from tests.support.browser import BROWSER
from tools.browser import (
    PREDICTION,
    chromium,
    draw_stroke,
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


def test_draw_a_one_with_a_finger(app, draw_page):
    """Touch events (a phone or a tablet) draw as the mouse does."""
    from playwright.sync_api import expect

    url, browser = app
    context = browser.new_context(
        viewport={"width": 420, "height": 900}, has_touch=True, is_mobile=True
    )
    try:
        page = context.new_page()
        open_page(page, f"{url}/draw")  # the draw_page fixture has been through home
        page.get_by_text(PROMPT).wait_for(timeout=TIMEOUT)
        wait_for_canvas(page)
        box = page.locator("canvas").last.bounding_box()
        cdp = context.new_cdp_session(page)

        def touch(kind, points):
            cdp.send(
                "Input.dispatchTouchEvent",
                {
                    "type": kind,
                    "touchPoints": [
                        {"x": box["x"] + x * box["width"], "y": box["y"] + y * box["height"]}
                        for x, y in points
                    ],
                },
            )

        touch("touchStart", ONE[:1])
        for i in range(1, 21):
            touch("touchMove", [(0.5, 0.2 + 0.6 * i / 20)])
        touch("touchEnd", [])
        expect(page.locator(PREDICTION)).to_have_text("1", timeout=TIMEOUT)
    finally:
        context.close()
