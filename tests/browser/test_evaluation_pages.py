"""The evaluation pages in a real Chromium: every page renders, and a confusion cell click works."""

import pytest

from app_pages import in_section
from tests.support.browser import BROWSER
from tools.browser import IDLE, chromium, open_page, streamlit_server

pytestmark = BROWSER
PAGES = {page.name: page.heading for page in in_section("Evaluation")}


@pytest.fixture(scope="module")
def app(small_mnist):
    pytest.importorskip("playwright")
    with streamlit_server() as url, chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        open_page(page, url)
        yield url, page


@pytest.mark.parametrize("name", PAGES)
def test_page_renders_in_chromium(app, name):
    url, page = app
    open_page(page, f"{url}/{name}")
    from playwright.sync_api import expect

    page.get_by_role("heading", name=PAGES[name]).wait_for()
    assert page.locator('[data-testid="stException"]').count() == 0
    # the shared sidebar: grouped navigation and the preset choice (on the longest
    # pages the sidebar's widgets can show a moment after the page's heading)
    expect(page.get_by_text("Evaluation", exact=True)).to_have_count(1)
    expect(page.get_by_text("Model preset")).to_have_count(1)


def cell_position(page, true: int, pred: int) -> tuple[float, float]:
    """Where cell (true, pred) of the confusion heatmap is on the screen."""
    return page.evaluate(
        """([t, p]) => {
            const gd = document.querySelector('.js-plotly-plot');
            const L = gd._fullLayout, box = gd.getBoundingClientRect();
            return [box.left + L.xaxis._offset + L.xaxis.d2p(p),
                    box.top + L.yaxis._offset + L.yaxis.d2p(t)];
        }""",
        [true, pred],
    )


def test_clicking_a_confusion_cell_shows_its_digits(app):
    url, page = app
    open_page(page, f"{url}/confusion")
    page.wait_for_selector(".js-plotly-plot .nsewdrag")
    for true, pred in [(3, 3), (8, 8)]:
        x, y = cell_position(page, true, pred)
        page.mouse.move(x, y)
        page.mouse.click(x, y)
        page.get_by_text(f"true {true}, predicted {pred}").wait_for()
        page.wait_for_selector(IDLE)
    assert page.locator('[data-testid="stException"]').count() == 0


def test_why_button_shows_the_neighbours(app):
    url, page = app
    open_page(page, f"{url}/misclassified")
    heading = page.locator("h3").filter(has_text="Test digit #")
    first = heading.inner_text()
    page.get_by_role("button", name="Why?").nth(1).click()
    page.wait_for_function(
        "(first) => [...document.querySelectorAll('h3')].some("
        "h => h.innerText.startsWith('Test digit #') && h.innerText !== first)",
        arg=first,
    )
    assert page.get_by_text("outvoting the truth").count() == 1
