"""Real browser: every page in the sidebar opens and shows no exception."""

from __future__ import annotations

import pytest

from tests.support.browser import BROWSER
from tools.browser import IDLE, chromium, open_page, streamlit_server

pytestmark = BROWSER


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def app(tmp_path_factory, browser):
    store = tmp_path_factory.mktemp("store") / "drawings.sqlite"
    with streamlit_server(env={"MNIST_KNN_STORE": str(store)}) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        open_page(page, url)
        yield page
        page.close()


def test_every_page_opens_without_an_exception(app):
    page = app
    links = page.locator('[data-testid="stSidebarNav"] a')
    links.first.wait_for()
    # A link's text is its icon's name (or emoji), then its title.
    targets = []
    for i in range(links.count()):
        link = links.nth(i)
        targets.append((link.inner_text().split("\n")[-1].strip(), link.get_attribute("href")))
    assert len(targets) >= 10, targets
    seen = []
    for title, href in targets:
        page.goto(href)
        page.wait_for_selector(IDLE, timeout=180_000)
        # A page that builds something on first view shows a status, then reruns.
        page.wait_for_load_state("networkidle")
        page.wait_for_selector(IDLE, timeout=180_000)
        assert page.locator('[data-testid="stException"]').count() == 0, title
        body = page.locator('[data-testid="stMain"]').inner_text()
        assert "Traceback" not in body, title
        assert body.strip(), f"{title} is empty"
        seen.append(title)
    assert "Draw" in seen and "Metrics" in seen and "Class drawings" in seen


def test_a_deep_link_on_a_fresh_server_runs_the_router(browser):
    """The first visit a new server gets may be a shared link straight to a page.

    Streamlit 1.67 runs a *pages/* folder beside the entry point as an old-style
    multipage app until st.navigation has run once; the pages live in app_pages/
    so that a deep link always goes through the router (layout, shared sidebar).
    """
    with streamlit_server() as url:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        open_page(page, f"{url}/metrics")
        page.get_by_text("Model preset").wait_for(timeout=60_000)
        assert page.locator('[data-testid="stSidebarNav"] a').count() >= 10
        assert page.locator('[data-testid="stException"]').count() == 0
        page.close()
