"""The teaching pages in a real Chromium: each renders, a step switch, a map click, a build."""

import pytest

from app_pages import in_section
from mnist_knn import load_mnist
from mnist_knn.evaluation import digit_map
from tests.support.browser import BROWSER
from tools.browser import IDLE, chromium, open_page, streamlit_server

pytestmark = BROWSER
PAGES = {page.name: page.heading for page in in_section("Learn")}


@pytest.fixture(scope="module")
def app(small_mnist, tmp_path_factory):
    pytest.importorskip("playwright")
    folder = tmp_path_factory.mktemp("teaching-models")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MNIST_KNN_MODELS_DIR", str(folder))
        # A small map, so the server does not spend minutes on t-SNE.
        digit_map.load_map(load_mnist(download=False), per_class=20, max_iter=300)
        with streamlit_server() as url, chromium() as browser:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            open_page(page, url)  # the entry point first (deep links need st.navigation)
            yield url, page


def no_exception(page) -> bool:
    return page.locator('[data-testid="stException"]').count() == 0


@pytest.mark.parametrize("name", PAGES)
def test_page_renders_in_chromium(app, name):
    url, page = app
    open_page(page, f"{url}/{name}")
    page.get_by_role("heading", name=PAGES[name]).wait_for()
    assert no_exception(page)
    assert page.get_by_text("Learn", exact=True).count() == 1


def metric_value(page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]').filter(has_text=label)
    return box.locator('[data-testid="stMetricValue"]').inner_text()


def test_switching_crop_off_and_stepping_to_it(app):
    url, page = app
    open_page(page, f"{url}/how_it_works")
    page.get_by_role("heading", name="How it works").wait_for()
    assert metric_value(page, "With the steps switched as above") == metric_value(
        page, "Prediction with every step"
    )
    toggle = page.locator('[data-testid="stCheckbox"]').first  # the first switch: crop
    toggle.click()
    page.wait_for_selector(IDLE)
    assert toggle.locator("input").is_checked() is False
    slider = page.get_by_role("slider").first  # "Step through": canvas, ink, crop…
    slider.focus()
    for _ in range(2):
        slider.press("ArrowRight")
        page.wait_for_selector(IDLE)
    page.get_by_text("Switched off: The whole canvas is kept").wait_for()
    assert no_exception(page)


def test_clicking_a_point_on_the_map_shows_its_digit(app):
    url, page = app
    open_page(page, f"{url}/digit_map")
    page.wait_for_selector(".js-plotly-plot .nsewdrag")
    page.get_by_text("Click a point to see its digit here.").wait_for()
    x, y, label = page.evaluate(
        """() => {
            const gd = document.querySelector('.js-plotly-plot');
            const L = gd._fullLayout, box = gd.getBoundingClientRect();
            const trace = gd._fullData.find(t => t.type === 'scattergl' && t.name === '0');
            return [box.left + L.xaxis._offset + L.xaxis.d2p(trace.x[0]),
                    box.top + L.yaxis._offset + L.yaxis.d2p(trace.y[0]), trace.name];
        }"""
    )
    page.mouse.move(x, y)
    page.mouse.click(x, y)
    page.get_by_text(f"Clicked: a {label}").wait_for()
    assert no_exception(page)


def test_compare_page_builds_the_comparison_on_request(app):
    url, page = app
    open_page(page, f"{url}/compare_models")
    page.get_by_text("python -m mnist_knn compare").wait_for()
    page.get_by_role("button", name="Build it now").click()
    page.get_by_text("Each model reads the same drawing").wait_for(timeout=600_000)
    page.wait_for_selector(IDLE, timeout=600_000)
    assert page.get_by_text("Random forest").count() >= 1
    assert no_exception(page)
